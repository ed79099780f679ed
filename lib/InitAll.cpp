//===- InitAll.cpp - one registration point for every tool ----------------===//

#include "sparsenn/InitAll.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void mlir::sparsenn::registerSparseNNDialect(DialectRegistry &registry) {
  registry.insert<SparseNNDialect>();
}

void mlir::sparsenn::registerAllDialects(DialectRegistry &registry) {
  registerSparseNNDialect(registry);
  registry.insert<affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, gpu::GPUDialect, index::IndexDialect,
                  LLVM::LLVMDialect, NVVM::NVVMDialect, linalg::LinalgDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect, tosa::TosaDialect, ub::UBDialect,
                  vector::VectorDialect>();
  // Interface implementations (bufferization, inlining, LLVM translation)
  // attach lazily when their dialects load.
  mlir::registerAllExtensions(registry);
}

void mlir::sparsenn::registerSparseNNPassesAndPipelines() {
  registerSparseNNPasses();
}

void mlir::sparsenn::registerAllPasses() {
  mlir::registerAllPasses();
  registerSparseNNPassesAndPipelines();
}
