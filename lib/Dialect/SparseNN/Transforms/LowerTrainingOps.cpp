//===- LowerTrainingOps.cpp - learnable pruning and the sparsity loss -----===//
//
// Seed 003 [0194]-[0219]: during training the sparsity parameter s_j of a
// layer is a value, not a constant, so `sparsenn.prune` and
// `sparsenn.sparsity_loss` must be computed at run time. This pass lowers
// them to linalg / arith / math on tensors (statistics in f64):
//
//  * prune <gaussian> (FIG. 7c, eq. 3-4): μ, Ψ = mean and population std of
//    w; keep |w − μ| > Ψ·√2·erfinv(s^φ);
//  * prune <gumbel> with element granularity (FIG. 7d, eq. 7-10): on
//    r = |w − μ|, β = std(r)·√6/π, φ = mean(r) − β·γ,
//    τ = φ − β·log(log(1/s^φ)) (−∞ at s^φ = 0, +∞ at 1); keep r > τ;
//  * sparsity_loss (eq. 13-15): c = Σ s^φ_j·|w_j| / Σ |w_j| (÷ θ),
//    L = −α·L_ce·log(1 − c) − (1 − α)·log(c).
//
// Quantile pruners (FIG. 7a/7b) rank the coefficients, and group Gumbel
// pruners reduce over groups: those are refused with a diagnostic (the
// training step updates their s directly, [0214], and evaluates the mask
// with a constant s through --sparsenn-prune-weights).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

#include "TrainingMath.h"

#include <cmath>

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNLOWERTRAININGOPSPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;
using namespace mlir::sparsenn::training;

namespace {

struct LowerPrune : OpRewritePattern<PruneOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PruneOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getWeights().getType());
    if (!type.hasStaticShape() || type.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "dynamic or empty weights");
    Location loc = op.getLoc();
    Scalar s{rewriter, loc};
    Value raw = s.toF64(tensor::ExtractOp::create(
        rewriter, loc, op.getSparsity(), ValueRange{}));
    Value sPhi = s.clamp01(s.normalize(op.getNormalization(), raw));
    auto identity = [](Scalar &, Value x) { return x; };
    auto [mu, psi] = meanStd(rewriter, loc, op.getWeights(), identity);

    // The statistic each coefficient is compared with, and the threshold.
    Value threshold;
    if (op.getMethod() == PruneMethod::gaussian) {
      threshold = s.mul(s.mul(psi, s.c(std::sqrt(2.0))), s.erfinv(sPhi));
    } else {
      auto centred = [&](Scalar &ns, Value x) { return ns.abs(ns.sub(x, mu)); };
      auto [rMean, rStd] = meanStd(rewriter, loc, op.getWeights(), centred);
      const double gamma = 0.5772156649015329;
      Value beta = s.mul(rStd, s.c(std::sqrt(6.0) / M_PI));
      Value phi = s.sub(rMean, s.mul(beta, s.c(gamma)));
      // Clamped away from 0 and 1 so that the unused branch stays finite.
      Value inner = s.min(s.max(sPhi, s.c(1e-300)), s.c(1.0 - 1e-16));
      Value tau = s.sub(phi, s.mul(beta, s.log(s.log(s.div(s.c(1.0), inner)))));
      double inf = std::numeric_limits<double>::infinity();
      tau = s.select(s.cmp(arith::CmpFPredicate::OLE, sPhi, s.c(0.0)),
                     s.c(-inf), tau);
      threshold =
          s.select(s.cmp(arith::CmpFPredicate::OGE, sPhi, s.c(1.0)), s.c(inf),
                   tau);
    }

    // keep = |w − μ| > threshold; pruned = keep ? w : 0.
    int64_t rank = type.getRank();
    Value emptyW = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           type.getElementType());
    Value emptyM = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           rewriter.getI1Type());
    auto id = AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{emptyW.getType(), emptyM.getType()},
        ValueRange{op.getWeights()}, ValueRange{emptyW, emptyM},
        SmallVector<AffineMap>(3, id),
        iterators(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Scalar ns{nb, nl};
          Value r = ns.abs(ns.sub(ns.toF64(args[0]), mu));
          Value keep = ns.cmp(arith::CmpFPredicate::OGT, r, threshold);
          Value zero = arith::ConstantOp::create(
              nb, nl, nb.getFloatAttr(args[0].getType(), 0.0));
          linalg::YieldOp::create(
              nb, nl, ValueRange{ns.select(keep, args[0], zero), keep});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct LowerSparsityLoss : OpRewritePattern<SparsityLossOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparsityLossOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Scalar s{rewriter, loc};
    // Eq. 14: the coefficient-weighted mean of the normalised parameters.
    Value weighted = s.c(0.0);
    double total = 0.0;
    for (auto [param, count] :
         llvm::zip(op.getSparsities(), op.getCounts())) {
      Value raw = s.toF64(
          tensor::ExtractOp::create(rewriter, loc, param, ValueRange{}));
      Value sPhi = s.normalize(op.getNormalization(), raw);
      weighted = s.add(weighted, s.mul(sPhi, s.c(double(count))));
      total += double(count);
    }
    Value c = s.div(weighted, s.c(total));
    if (std::optional<APFloat> theta = op.getTheta())
      c = s.div(c, s.c(theta->convertToDouble())); // eq. 15
    double alpha = op.getAlpha().convertToDouble();
    // L = a·L_ce + b with a = −α·log(1 − c), b = −(1 − α)·log(c) (eq. 13).
    Value a = s.mul(s.c(-alpha), s.log(s.sub(s.c(1.0), c)));
    Value b = s.mul(s.c(-(1.0 - alpha)), s.log(c));

    auto type = cast<RankedTensorType>(op.getCrossEntropy().getType());
    int64_t rank = type.getRank();
    auto id = AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext());
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{op.getCrossEntropy()},
        ValueRange{empty}, SmallVector<AffineMap>(2, id),
        iterators(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Scalar ns{nb, nl};
          Value l = ns.add(ns.mul(a, ns.toF64(args[0])), b);
          linalg::YieldOp::create(nb, nl,
                                  ns.fromF64(l, args[0].getType()));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct SparseNNLowerTrainingOpsPass
    : public sparsenn::impl::SparseNNLowerTrainingOpsPassBase<
          SparseNNLowerTrainingOpsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Refuse what has no lowering before rewriting anything.
    WalkResult refused = getOperation()->walk([&](PruneOp op) {
      if (op.getMethod() == PruneMethod::quantile) {
        op.emitOpError("quantile pruning (FIG. 7a/7b) with a learned "
                       "sparsity is not lowered: it ranks the coefficients; "
                       "use the direct update of [0214] and evaluate the mask "
                       "with a constant s (--sparsenn-prune-weights)");
        return WalkResult::interrupt();
      }
      if (op.getMethod() == PruneMethod::gumbel &&
          op.getGranularity() != PruneGranularity::element) {
        op.emitOpError("gumbel pruning over groups is not lowered (element "
                       "granularity only)");
        return WalkResult::interrupt();
      }
      if (!op.getWeights().getType().hasStaticShape()) {
        op.emitOpError("needs statically shaped weights");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (refused.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerPrune, LowerSparsityLoss>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
