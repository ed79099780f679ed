//===- SparseNNOps.h - sparsenn operations ----------------------*- C++ -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_H
#define SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"
#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h"
#include "sparsenn/Interfaces/DifferentiableOpInterface.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"

#include <vector>

#define GET_OP_CLASSES
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h.inc"

namespace mlir {
namespace sparsenn {

/// Logical shape of a layer's weight operand (float tensor or SPGC8 type).
llvm::ArrayRef<int64_t> getWeightShape(Type weightType);

/// Group shape of a pruning granularity for weights of `shape` (one entry
/// per dimension): element → all ones; input_channel → every dimension but
/// 1; output_filter → every dimension but 0; group → `groupShape`.
llvm::SmallVector<int64_t>
getPruneGroupShape(PruneGranularity granularity, llvm::ArrayRef<int64_t> shape,
                   llvm::ArrayRef<int64_t> groupShape);

/// Decodes a compressed constant into a dense constant of `resultType`
/// (dequantised for a float element type, raw coefficients for an integer
/// one); null if the stream does not decode.
DenseElementsAttr decodeCompressedConstant(CompressedConstantOp source,
                                           RankedTensorType resultType);

/// The raw SPGC8 stream of a compressed constant: its bytes without a copy
/// for the usual dense storage, else copied into `storage`.
llvm::ArrayRef<uint8_t> getCompressedBytes(CompressedConstantOp source,
                                           std::vector<uint8_t> &storage);

/// The dequantised weights q · scale[o] of a compressed constant in logical
/// row-major order, computed in float exactly as `decompress` folds them,
/// without building an attribute; failure if the stream does not decode or
/// its padding values are not zero.
LogicalResult decodeCompressedWeights(CompressedConstantOp source,
                                      std::vector<float> &values);

/// Normalised sparsity s^phi for a raw parameter (seed 003 [0200]).
double normalizeSparsity(Normalization normalization, double raw);

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_DIALECT_SPARSENN_IR_SPARSENNOPS_H
