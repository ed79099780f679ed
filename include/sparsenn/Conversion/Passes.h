//===- Passes.h - sparsenn conversion passes --------------------*- C++ -*-===//

#ifndef SPARSENN_CONVERSION_PASSES_H
#define SPARSENN_CONVERSION_PASSES_H

#include "sparsenn/Conversion/SparseNNToGPU/SparseNNToGPU.h"
#include "sparsenn/Conversion/SparseNNToLinalg/SparseNNToLinalg.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace sparsenn {

#define GEN_PASS_DECL
#include "sparsenn/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sparsenn/Conversion/Passes.h.inc"

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_CONVERSION_PASSES_H
