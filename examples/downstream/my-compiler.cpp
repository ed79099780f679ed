//===- my-compiler.cpp - a host compiler with sparsenn embedded -----------===//
//
// A downstream MLIR compiler: its own dialect registry, plus the sparsenn
// dialect, passes and pipelines through the entry points of
// sparsenn/InitAll.h. MlirOptMain gives it mlir-opt's command line, so a
// registered pass is a flag and a pipeline is a string:
//
//   my-compiler model.mlir --sparsenn-prune-weights=sparsity=0.5
//   my-compiler model.mlir \
//     --pass-pipeline='builtin.module(sparsenn-prune-weights{sparsity=0.5})'
//
// It also has ops of its own (the `host` dialect, HostOps.td) and teaches
// sparsenn's passes about them through sparsenn's op interfaces, attached
// from here (HostInterfaceModels.cpp): channel pruning, train-step
// generation, pruning and the summary then work through host.dense and
// host.leaky_relu (test/*.mlir).
//
//===----------------------------------------------------------------------===//

#include "HostDialect.h"

#include "sparsenn/InitAll.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;

  // The host compiler's own dialects (a real one inserts its own here).
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::tensor::TensorDialect, host::HostDialect>();
  // ... and what sparsenn's passes need to know about them.
  host::registerHostInterfaceModels(registry);

  // sparsenn: the dialect (with the interface models it attaches to
  // upstream ops, registerSparseNNExternalModels), then its passes and
  // pipelines
  // (--sparsenn-import, --sparsenn-prune-weights, --sparsenn-sparsify, ...)
  // with the upstream passes the pipelines are made of.
  mlir::sparsenn::registerSparseNNDialect(registry);
  mlir::sparsenn::registerSparseNNPassesAndPipelines();

  // The lowering pipeline (--sparsenn-lower-to-llvm) also needs the upstream
  // dialects' interface models (bufferization, ...). A host that does not
  // register those itself calls these instead of the two above, and gets
  // everything sparse-opt has:
  //   mlir::sparsenn::registerAllDialects(registry);
  //   mlir::sparsenn::registerAllPasses();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "my-compiler: a host compiler with sparsenn embedded\n",
      registry));
}
