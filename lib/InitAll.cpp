//===- InitAll.cpp - one registration point for every tool ----------------===//

#include "sparsenn/InitAll.h"
#include "sparsenn/Conversion/Passes.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/ExternalModels.h"
#include "sparsenn/Pipelines/GPUPipeline.h"
#include "sparsenn/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::sparsenn::registerSparseNNDialect(DialectRegistry &registry) {
  registry.insert<SparseNNDialect>();
  // The interface models of upstream ops and the sparsenn adjoints: every
  // registration of the dialect brings them.
  registerSparseNNExternalModels(registry);
}

void mlir::sparsenn::registerAllDialects(DialectRegistry &registry) {
  registerSparseNNDialect(registry);
  // Upstream's registration also attaches the external interface models
  // (bufferization of arith/tensor/linalg/scf, inlining, ...) that the
  // lowering pipelines need, so it is used whole rather than dialect by
  // dialect.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary (sparsenn-lower-to-nvvm) translates device code to
  // LLVM IR inside the pass: it needs the translation interfaces.
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::sparsenn::registerSparseNNPassesAndPipelines() {
  // Registration is idempotent per process: tools and hosts may call this
  // more than once.
  static bool registered = [] {
    registerSparseNNPasses();
    registerSparseNNConversionPasses();
    registerSparseNNPipelines();
    registerSparseNNGPUPipelines();
    return true;
  }();
  (void)registered;
}

void mlir::sparsenn::registerAllPasses() {
  mlir::registerAllPasses();
  registerSparseNNPassesAndPipelines();
}
