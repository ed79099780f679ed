//===- Pipelines.h - sparsenn pass pipelines --------------------*- C++ -*-===//

#ifndef SPARSENN_PIPELINES_PIPELINES_H
#define SPARSENN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir {
namespace sparsenn {

/// The textual form of `sparsenn-lower-to-llvm` (documented in
/// docs/architecture.md): sparsenn on tensors → linalg + runtime calls →
/// bufferized loops → LLVM dialect. Passes for a module pass manager,
/// without the `builtin.module(...)` anchor.
std::string getLowerToLLVMPipeline();

/// Appends `sparsenn-lower-to-llvm` to a module-level pass manager.
LogicalResult buildLowerToLLVMPipeline(OpPassManager &pm);

/// Registers the pipelines with the global pass registry.
void registerSparseNNPipelines();

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_PIPELINES_PIPELINES_H
