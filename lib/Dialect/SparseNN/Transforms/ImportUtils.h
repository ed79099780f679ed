//===- ImportUtils.h - helpers of the import patterns -----------*- C++ -*-===//
//
// Constants, permutations and per-channel matching shared by the linalg and
// TOSA raising and the transpose sinking patterns (RaiseLinalg.cpp,
// RaiseTosa.cpp, SinkTransposes.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_LIB_TRANSFORMS_IMPORTUTILS_H
#define SPARSENN_LIB_TRANSFORMS_IMPORTUTILS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace sparsenn {
namespace import {

/// The dense float constant `v` is, or null.
DenseElementsAttr getFloatConstant(Value v);

bool isStaticFloatTensor(Type t);

bool isIdentity(ArrayRef<int64_t> perm);

DenseElementsAttr permuteConstant(DenseElementsAttr attr,
                                  ArrayRef<int64_t> perm);

/// `v` permuted like `linalg.transpose` with `perm` (constants permuted at
/// compile time, transposes of transposes composed).
Value permute(PatternRewriter &rewriter, Location loc, Value v,
              ArrayRef<int64_t> perm);

Value reshapeWeight(PatternRewriter &rewriter, Location loc, Value v,
                    ArrayRef<int64_t> shape);

Value makeVector(PatternRewriter &rewriter, Location loc, FloatType elt,
                 ArrayRef<APFloat> values);

/// Matches a value that only varies along `channelDim` (a fill, a constant,
/// a broadcast of a rank-1 tensor); `perChannel` is that rank-1 value (null
/// when all zeros).
LogicalResult matchPerChannel(PatternRewriter &rewriter, Location loc,
                              Value v, int64_t channelDim, int64_t channels,
                              Value &perChannel);

Value addBiases(PatternRewriter &rewriter, Location loc, Value a, Value b);

/// A remark on `op` when `verbose`.
void importRemark(bool verbose, Operation *op, StringRef what);

/// The NCHW sparsenn.conv2d for an NCHW or NHWC convolution whose input,
/// filter and bias are given in their original layouts (a zero tensor.pad
/// over H and W becomes the conv's padding); the result in the original
/// layout.
Value buildConv(PatternRewriter &rewriter, Location loc, Value input,
                Value filterOIHW, Value bias, RankedTensorType resultType,
                bool nhwc, ArrayRef<int64_t> strides,
                SmallVector<int64_t> padding, ArrayRef<int64_t> dilations,
                int64_t groups);

/// An NCHW max pooling of `xNCHW` into `initNCHW`.
Value buildNchwMaxPool(PatternRewriter &rewriter, Location loc, Value xNCHW,
                       Value window, Value initNCHW, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> dilations);

/// The dimension positions of a projected permutation map.
SmallVector<unsigned> mapDims(AffineMap map);

} // namespace import
} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_LIB_TRANSFORMS_IMPORTUTILS_H
