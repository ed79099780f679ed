//===- Passes.h - sparsenn transformation passes ----------------*- C++ -*-===//

#ifndef SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H
#define SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

namespace mlir {
namespace sparsenn {

#define GEN_PASS_DECL
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_DIALECT_SPARSENN_TRANSFORMS_PASSES_H
