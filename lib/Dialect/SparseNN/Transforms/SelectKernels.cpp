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

/// Non-zero structure of dense [rows, cols] weights.
struct WeightStructure {
  int64_t cols = 0;
  double density = 1.0;
  double blockFill = 0.0; // non-zeros / (16 · non-empty 1x16 blocks)
};

WeightStructure measure(ArrayRef<float> w, int64_t rows, int64_t cols) {
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
  s.cols = cols;
  s.density = w.empty() ? 0.0 : double(nnz) / w.size();
  s.blockFill = blocks ? double(nnz) / (16.0 * blocks) : 1.0;
  return s;
}

/// A linear layer whose weights are known at compile time: an f32 constant
/// or an SPGC8 compressed constant (decoded here only to measure it).
struct LinearCandidate {
  LinearOp op;
  CompressedConstantOp compressed; // null for f32 weights
  WeightStructure structure;
  int64_t rows = 0; // samples: every dimension of the input but the last
};

struct SparseNNSelectKernelsPass
    : public sparsenn::impl::SparseNNSelectKernelsPassBase<
          SparseNNSelectKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<KernelFormat> forced;
    if (force != ForcedKernel::automatic)
      forced = static_cast<KernelFormat>(static_cast<ForcedKernel>(force));
    WalkResult walk = getOperation().walk([&](LinearOp op) {
      // A format chosen earlier (by the user or a previous run) stays unless
      // `force` overrides it.
      if (op.getKernel() && !forced)
        return WalkResult::advance();
      std::optional<LinearCandidate> c = analyse(op);
      if (!c)
        return WalkResult::advance();
      if (!c->op)
        return WalkResult::interrupt();
      KernelFormat format;
      if (forced == KernelFormat::spgc8)
        format = c->compressed ? KernelFormat::spgc8 : chooseDecoded(*c);
      else if (forced)
        format = *forced;
      else
        format = choose(*c);
      if (format == KernelFormat::ell && c->structure.cols > 65536)
        format = KernelFormat::block16; // 16-bit column indices
      op.setKernelAttr(KernelFormatAttr::get(op.getContext(), format));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    getOperation().walk([&](Conv2DOp op) { selectConv(op, forced); });
  }

  /// std::nullopt: not a candidate; a candidate with a null op: error.
  std::optional<LinearCandidate> analyse(LinearOp op) {
    auto inType = op.getInput().getType();
    if (!inType.getElementType().isF32() || !inType.hasStaticShape())
      return std::nullopt;
    LinearCandidate c;
    c.op = op;
    std::vector<float> w;
    ArrayRef<int64_t> shape;
    DenseElementsAttr attr;
    if (matchPattern(op.getWeight(), m_Constant(&attr))) {
      if (!attr.getElementType().isF32())
        return std::nullopt;
      w.assign(attr.getValues<float>().begin(), attr.getValues<float>().end());
      shape = cast<ShapedType>(attr.getType()).getShape();
    } else if (auto source =
                   op.getWeight().getDefiningOp<CompressedConstantOp>()) {
      c.compressed = source;
      shape = source.getOutput().getType().getShape();
      if (failed(decodeCompressedWeights(source, w))) {
        op.emitError("compressed weights do not decode (corrupt SPGC8 "
                     "stream)");
        return LinearCandidate{};
      }
    } else {
      return std::nullopt;
    }
    c.structure = measure(w, shape[0], shape[1]);
    c.rows = shape[1] ? inType.getNumElements() / shape[1] : 0;
    return c;
  }

  /// Convolutions: sparse taps (`ell`) below `dense-above`, else dense
  /// (`force=spgc8` concerns linear layers only).
  void selectConv(Conv2DOp op, std::optional<KernelFormat> forced) {
    bool isForced = forced && *forced != KernelFormat::spgc8;
    bool forceDense = isForced && *forced == KernelFormat::dense;
    DenseElementsAttr attr;
    auto inType = op.getInput().getType();
    if ((op.getKernel() && !isForced) ||
        !matchPattern(op.getWeight(), m_Constant(&attr)) ||
        !attr.getElementType().isF32() || !inType.getElementType().isF32() ||
        !inType.hasStaticShape())
      return;
    KernelFormat format;
    if (isForced) {
      format = forceDense ? KernelFormat::dense : KernelFormat::ell;
    } else {
      int64_t nnz = 0;
      for (float v : attr.getValues<float>())
        nnz += v != 0.0f;
      double density = double(nnz) / attr.getNumElements();
      format = density > denseAbove ? KernelFormat::dense : KernelFormat::ell;
    }
    op.setKernelAttr(KernelFormatAttr::get(op.getContext(), format));
  }

  /// The format for the weights decoded at load (compile) time.
  KernelFormat chooseDecoded(LinearCandidate &c) {
    const WeightStructure &s = c.structure;
    if (s.density > denseAbove)
      return KernelFormat::dense;
    if (auto kw = c.op.getInput().getDefiningOp<KWinnersOp>())
      if (kw.getTargetDensity() <= sparseInputBelow)
        return KernelFormat::sparse_sparse;
    if (s.blockFill >= blockFill)
      return KernelFormat::block16;
    return KernelFormat::ell;
  }

  /// Decode at load unless the fused SPGC8 kernel measured at least as
  /// fast: D = 8 weights whose decoded format would be block16 or ELL, and
  /// at least `spgc8-min-batch` samples (docs/performance.md, "SPGC8
  /// weights: fused tile kernel vs decode at load": at 4096 x 4096 with 90 %
  /// aligned sparsity it matches block16 from batch 32 with warm weights and
  /// is 1.04-1.13x faster at batch 32-64, reading 2.9x fewer weight bytes;
  /// at batch 1 it is 1.6-2.2x slower, at batch 8 warm 1.27x).
  KernelFormat choose(LinearCandidate &c) {
    KernelFormat decoded = chooseDecoded(c);
    if (c.compressed && c.compressed.getOutput().getType().getBits() == 8 &&
        (decoded == KernelFormat::block16 || decoded == KernelFormat::ell) &&
        c.rows >= static_cast<int64_t>(spgc8MinBatch))
      return KernelFormat::spgc8;
    return decoded;
  }
};

} // namespace
