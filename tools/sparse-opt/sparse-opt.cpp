//===- sparse-opt.cpp - the mlir-opt of sparse-opt ------------------------===//
//
// mlir-opt conventions (--pass-pipeline, -split-input-file,
// -verify-diagnostics, --mlir-pass-statistics) with the sparsenn dialect and
// the upstream dialects and passes a sparse-model pipeline uses.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::sparsenn::registerAllDialects(registry);
  mlir::sparsenn::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "sparse-opt: MLIR optimizer for sparse neural networks\n",
      registry));
}
