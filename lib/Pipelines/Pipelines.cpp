//===- Pipelines.cpp - sparsenn pass pipelines ----------------------------===//

#include "sparsenn/Pipelines/Pipelines.h"

#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

std::string mlir::sparsenn::getLowerToLLVMPipeline() {
  // Fold compressed constants and trivial k-winners first; element-wise
  // arith/math on tensors (e.g. relu as arith.maximumf) become linalg so
  // that they bufferize.
  return "canonicalize,"
         // Learnable pruning and the sparsity loss (training graphs).
         "func.func(sparsenn-lower-training-ops,sparsenn-select-kernels),"
         // A train step recomputes the forward's statistics (a prune's mean
         // and std of the weights) in its backward: one pass each.
         "cse,"
         "convert-sparsenn-to-linalg,"
         // TOSA left over from imported models goes through upstream's
         // conversions.
         "func.func(tosa-to-linalg-named,tosa-to-linalg),"
         "tosa-to-arith,"
         "tosa-to-tensor,"
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

void mlir::sparsenn::buildSparsifyPipeline(OpPassManager &pm,
                                           const SparsifyOptions &options) {
  if (options.import)
    pm.addNestedPass<func::FuncOp>(createSparseNNImportPass());
  pm.addPass(createCanonicalizerPass());

  SparseNNPruneWeightsPassOptions prune;
  prune.sparsity = options.sparsity;
  prune.layerSparsity.assign(options.layerSparsity.begin(),
                             options.layerSparsity.end());
  prune.method = options.method;
  prune.granularity = options.granularity;
  prune.groupShape.assign(options.groupShape.begin(),
                          options.groupShape.end());
  prune.reduction = options.reduction;
  prune.spgc8Aligned = options.spgc8Aligned;
  pm.addPass(createSparseNNPruneWeightsPass(prune));

  if (options.propagateChannels) {
    pm.addPass(createSparseNNPropagateChannelPruningPass());
    pm.addPass(createCanonicalizerPass());
  }
  // Kernels are chosen on the float weights; compression then replaces the
  // weights and keeps the chosen format (the lowering decodes at load).
  pm.addNestedPass<func::FuncOp>(createSparseNNSelectKernelsPass());
  if (options.compress) {
    SparseNNCompressWeightsPassOptions compress;
    compress.bits = options.bits;
    pm.addPass(createSparseNNCompressWeightsPass(compress));
  }
}

void mlir::sparsenn::registerSparseNNPipelines() {
  // The pipelines are built from pass names: make sure a host that
  // registers only sparsenn's passes can still parse them (registering an
  // upstream pass a second time is harmless).
  registerTransformsPasses();
  registerConversionPasses();
  registerLinalgPasses();
  memref::registerMemRefPasses();
  bufferization::registerBufferizationPasses();
  bufferization::registerBufferizationPipelines();

  PassPipelineRegistration<SparsifyOptions>(
      "sparsenn-sparsify",
      "Model IR (linalg / TOSA / sparsenn) to sparse sparsenn IR: import, "
      "pruning, channel propagation, kernel selection, SPGC8 compression",
      buildSparsifyPipeline);
  PassPipelineRegistration<SparsifyOptions>(
      "sparsenn-sparsify-to-llvm",
      "sparsenn-sparsify followed by sparsenn-lower-to-llvm",
      [](OpPassManager &pm, const SparsifyOptions &options) {
        buildSparsifyPipeline(pm, options);
        if (failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("invalid sparsenn-lower-to-llvm pipeline");
      });
  PassPipelineRegistration<>(
      "sparsenn-lower-to-llvm",
      "Lower sparsenn (and linalg/tensor) IR on tensors to the LLVM dialect: "
      "convert-sparsenn-to-linalg, one-shot bufferization, loops, LLVM",
      [](OpPassManager &pm) {
        if (failed(buildLowerToLLVMPipeline(pm)))
          llvm::report_fatal_error("invalid sparsenn-lower-to-llvm pipeline");
      });
}
