//===- Import.cpp - raise linalg / TOSA model IR to sparsenn layers -------===//
//
// Users run sparse-opt on the IR their own compilers emit (linalg on tensors
// from torch-mlir / IREE, TOSA from TFLite / ONNX front ends). The sparsity
// passes work on `sparsenn.linear` and `sparsenn.conv2d`, so this pass
// recognises the dense layers of that IR and rewrites them into sparsenn
// layers in the PyTorch layouts the dialect uses ([out, in] weights, NCHW /
// OIHW convolutions). NHWC layers are wrapped in transposes that are then
// moved through element-wise ops, padding and pooling and cancelled in
// inverse pairs, so that a chain of NHWC layers ends up in NCHW with a
// transpose only where the data enters and leaves. Every rewrite is exact:
// the function computes the same values before and after.
//
// The pass only drives three pattern libraries (Transforms.h), which a host
// compiler can also add to its own pattern sets: linalg raising
// (RaiseLinalg.cpp), TOSA raising (RaiseTosa.cpp) and transpose sinking
// (SinkTransposes.cpp).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Transforms.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNIMPORTPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

struct SparseNNImportPass
    : public sparsenn::impl::SparseNNImportPassBase<SparseNNImportPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateLinalgRaisingPatterns(patterns, verbose);
    populateTosaRaisingPatterns(patterns, verbose);
    populateTransposeSinkingPatterns(patterns);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      getOperation()->emitWarning()
          << "sparsenn-import: rewriting did not converge";
  }
};

} // namespace
