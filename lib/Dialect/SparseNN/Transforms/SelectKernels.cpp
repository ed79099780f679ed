//===- SelectKernels.cpp - choose the native kernel format of layers ------===//
//
// Seed 000 [0035], [0044], [0047]: sparse weights and sparse activations exist
// to skip work; which kernel skips the most depends on the measured weight
// structure and on the activation density a k-winners producer guarantees.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/IR/Matchers.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNSELECTKERNELSPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

struct WeightStructure {
  double density = 1.0;
  double blockFill = 0.0; // non-zeros / (16 · non-empty 1x16 blocks)
};

WeightStructure measure(DenseElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  std::vector<float> w(attr.getValues<float>().begin(),
                       attr.getValues<float>().end());
  int64_t nnz = 0, blocks = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols; b += 16) {
      int64_t inBlock = 0;
      for (int64_t c = b; c < std::min(cols, b + 16); ++c)
        inBlock += w[r * cols + c] != 0.0f;
      nnz += inBlock;
      blocks += inBlock > 0;
    }
  WeightStructure s;
  s.density = w.empty() ? 0.0 : double(nnz) / w.size();
  s.blockFill = blocks ? double(nnz) / (16.0 * blocks) : 1.0;
  return s;
}

struct SparseNNSelectKernelsPass
    : public sparsenn::impl::SparseNNSelectKernelsPassBase<
          SparseNNSelectKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<KernelFormat> forced;
    if (force != "auto") {
      forced = symbolizeKernelFormat(force);
      if (!forced || *forced == KernelFormat::spgc8) {
        getOperation().emitError("sparsenn-select-kernels: force must be "
                                 "auto, dense, ell, block16 or "
                                 "sparse_sparse, got '")
            << force << "'";
        return signalPassFailure();
      }
    }
    getOperation().walk([&](LinearOp op) {
      DenseElementsAttr attr;
      auto inType = op.getInput().getType();
      // A format chosen earlier (by the user or a previous run) stays unless
      // `force` overrides it.
      if (op.getKernel() && !forced)
        return;
      if (!matchPattern(op.getWeight(), m_Constant(&attr)) ||
          !attr.getElementType().isF32() || !inType.getElementType().isF32() ||
          !inType.hasStaticShape())
        return;
      KernelFormat format = forced ? *forced : choose(op, attr);
      if (format == KernelFormat::ell &&
          cast<ShapedType>(attr.getType()).getDimSize(1) > 65536)
        format = KernelFormat::block16; // 16-bit column indices
      op.setKernelAttr(KernelFormatAttr::get(op.getContext(), format));
    });
    getOperation().walk([&](Conv2DOp op) { selectConv(op, forced); });
  }

  /// Convolutions: sparse taps (`ell`) below `dense-above`, else dense.
  void selectConv(Conv2DOp op, std::optional<KernelFormat> forced) {
    DenseElementsAttr attr;
    auto inType = op.getInput().getType();
    if ((op.getKernel() && !forced) ||
        !matchPattern(op.getWeight(), m_Constant(&attr)) ||
        !attr.getElementType().isF32() || !inType.getElementType().isF32() ||
        !inType.hasStaticShape())
      return;
    KernelFormat format;
    if (forced)
      format = *forced == KernelFormat::dense ? KernelFormat::dense
                                              : KernelFormat::ell;
    else {
      int64_t nnz = 0;
      for (float v : attr.getValues<float>())
        nnz += v != 0.0f;
      double density = double(nnz) / attr.getNumElements();
      format = density > denseAbove ? KernelFormat::dense : KernelFormat::ell;
    }
    op.setKernelAttr(KernelFormatAttr::get(op.getContext(), format));
  }

  KernelFormat choose(LinearOp op, DenseElementsAttr attr) {
    WeightStructure s = measure(attr);
    if (s.density > denseAbove)
      return KernelFormat::dense;
    if (auto kw = op.getInput().getDefiningOp<KWinnersOp>())
      if (kw.getTargetDensity() <= sparseInputBelow)
        return KernelFormat::sparse_sparse;
    if (s.blockFill >= blockFill)
      return KernelFormat::block16;
    return KernelFormat::ell;
  }
};

} // namespace
