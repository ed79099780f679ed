//===- Pipelines.cpp - sparsenn pass pipelines ----------------------------===//

#include "sparsenn/Pipelines/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

std::string mlir::sparsenn::getLowerToLLVMPipeline() {
  // Fold compressed constants and trivial k-winners first; element-wise
  // arith/math on tensors (e.g. relu as arith.maximumf) become linalg so
  // that they bufferize.
  return "canonicalize,"
         "sparsenn-select-kernels,"
         "convert-sparsenn-to-linalg,"
         "func.func(convert-elementwise-to-linalg),"
         "canonicalize,"
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "buffer-deallocation-pipeline,"
         // bufferization.clone (e.g. returning an argument) → alloc + copy.
         "convert-bufferization-to-memref,"
         "func.func(convert-linalg-to-loops),"
         "expand-strided-metadata,"
         "lower-affine,"
         "convert-scf-to-cf,"
         "convert-math-to-llvm,"
         "finalize-memref-to-llvm,"
         "convert-arith-to-llvm,"
         "convert-func-to-llvm,"
         "convert-cf-to-llvm,"
         "convert-index-to-llvm,"
         "reconcile-unrealized-casts";
}

LogicalResult mlir::sparsenn::buildLowerToLLVMPipeline(OpPassManager &pm) {
  // The pipeline text has no anchor: it is added to `pm` (a module pass
  // manager) as is.
  return parsePassPipeline(getLowerToLLVMPipeline(), pm);
}

void mlir::sparsenn::registerSparseNNPipelines() {
  PassPipelineRegistration<>(
      "sparsenn-lower-to-llvm",
      "Lower sparsenn (and linalg/tensor) IR on tensors to the LLVM dialect: "
      "convert-sparsenn-to-linalg, one-shot bufferization, loops, LLVM",
      [](OpPassManager &pm) {
        if (failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("invalid sparsenn-lower-to-llvm pipeline");
      });
}
