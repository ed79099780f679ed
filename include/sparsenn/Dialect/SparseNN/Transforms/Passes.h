//===- Passes.h - sparsenn transformation passes ----------------*- C++ -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H
#define SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

namespace mlir {
namespace sparsenn {

/// `sparsenn-select-kernels{force=...}`: `automatic` chooses per layer, the
/// others are the KernelFormat every layer gets (same values).
enum class ForcedKernel : int32_t {
  automatic = -1,
  dense = static_cast<int32_t>(KernelFormat::dense),
  ell = static_cast<int32_t>(KernelFormat::ell),
  block16 = static_cast<int32_t>(KernelFormat::block16),
  sparse_sparse = static_cast<int32_t>(KernelFormat::sparse_sparse),
  spgc8 = static_cast<int32_t>(KernelFormat::spgc8),
};

#define GEN_PASS_DECL
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H
