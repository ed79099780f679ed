//===- LowerTrainingOps.cpp - learnable pruning and the sparsity loss -----===//
//
// Seed 003 [0194]-[0219]: during training the sparsity parameter s_j of a
// layer is a value, not a constant, so `sparsenn.prune` and
// `sparsenn.sparsity_loss` must be computed at run time. This pass lowers
// them to linalg / arith / math / scf on tensors (statistics in f64):
//
//  * prune <quantile> (FIG. 7a/7b, eq. 1/5-6): the saliency of each group
//    is Reduction(|w|) (|w| itself for elements); exactly
//    k = round_half_even(s^φ·G) of the G groups with the smallest saliency
//    are pruned, ties to the lower row-major group index (the stable sort of
//    python/sparsenn/pruning.py). No sort: the k-th smallest saliency is
//    found by bisection over the IEEE bit pattern of the (non-negative)
//    saliency, whose integer order is the value order - one counting
//    reduction per bit in an scf.for - and, when several groups tie at it,
//    the last pruned one by a second bisection over the group index;
//  * prune <gaussian> (FIG. 7c, eq. 3-4): μ, Ψ = mean and population std of
//    w; keep |w − μ| > Ψ·√2·erfinv(s^φ);
//  * prune <gumbel> (FIG. 7d, eq. 7-10): on r = |w − μ| per element, or on
//    its group reductions R = Reduction(r) over the zero-padded groups,
//    β = std·√6/π, φ = mean − β·γ, τ = φ − β·log(log(1/s^φ)) (−∞ at
//    s^φ = 0, +∞ at 1); keep the coefficients (groups) above τ;
//  * sparsity_loss (eq. 13-15): c = Σ s^φ_j·|w_j| / Σ |w_j| (÷ θ),
//    L = −α·L_ce·log(1 − c) − (1 − α)·log(c);
//  * batch_norm: per-channel statistics of the batch (training) or the
//    running ones, y = (x − m)/√(v + ε)·γ + β, in f64.
//
// Quantile pruners on weights other than f16, bf16, f32, f64 are refused
// with a diagnostic.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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
    if (op.getMethod() == PruneMethod::quantile)
      return failure();
    auto type = cast<RankedTensorType>(op.getWeights().getType());
    if (!type.hasStaticShape() || type.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "dynamic or empty weights");
    Location loc = op.getLoc();
    Scalar s{rewriter, loc};
    Value raw = s.toF64(tensor::ExtractOp::create(
        rewriter, loc, op.getSparsity(), ValueRange{}));
    Value sPhi = s.clamp01(s.normalize(op.getNormalization(), raw));
    auto identity = [](Scalar &, Value x) { return x; };
    Value mu, psi;
    std::tie(mu, psi) = meanStd(rewriter, loc, op.getWeights(), identity);
    SmallVector<int64_t> group = op.getEffectiveGroupShape();
    bool element = llvm::all_of(group, [](int64_t g) { return g == 1; });

    // The statistic each coefficient is compared with (|w − μ|, or for a
    // Gumbel pruner over groups its group's reduction R), and the threshold.
    Value threshold, reduced;
    if (op.getMethod() == PruneMethod::gaussian) {
      threshold = s.mul(s.mul(psi, s.c(std::sqrt(2.0))), s.erfinv(sPhi));
    } else {
      auto centred = [&](Scalar &ns, Value x) { return ns.abs(ns.sub(x, mu)); };
      Value rMean, rStd;
      if (element) {
        std::tie(rMean, rStd) =
            meanStd(rewriter, loc, op.getWeights(), centred);
      } else {
        // R = Reduction(|w − μ|) over the zero-padded groups, in f64.
        Value centredW = mapF64(rewriter, loc, op.getWeights(), {},
                                [&](Scalar &ns, ValueRange a) {
                                  return centred(ns, ns.toF64(a[0]));
                                });
        reduced = groupReduce(rewriter, loc, centredW, group,
                              op.getReduction() == Reduction::max
                                  ? GroupCombine::MaxAbs
                                  : GroupCombine::MeanAbs);
        std::tie(rMean, rStd) = meanStd(rewriter, loc, reduced, identity);
      }
      const double gamma = 0.5772156649015329;
      Value beta = s.mul(rStd, s.c(std::sqrt(6.0) / M_PI));
      Value phi = s.sub(rMean, s.mul(beta, s.c(gamma)));
      // Clamped away from 0 and 1 so that the unused branch stays finite.
      Value inner = s.min(s.max(sPhi, s.c(1e-300)), s.c(1.0 - 1e-16));
      Value tau = s.sub(phi, s.mul(beta, s.log(s.log(s.div(s.c(1.0), inner)))));
      double inf = std::numeric_limits<double>::infinity();
      tau = s.select(s.cmp(arith::CmpFPredicate::OLE, sPhi, s.c(0.0)),
                     s.c(-inf), tau);
      threshold = s.select(s.cmp(arith::CmpFPredicate::OGE, sPhi, s.c(1.0)),
                           s.c(inf), tau);
    }

    // keep = statistic > threshold; pruned = keep ? w : 0.
    int64_t rank = type.getRank();
    Value emptyW = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           type.getElementType());
    Value emptyM = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           rewriter.getI1Type());
    MLIRContext *ctx = rewriter.getContext();
    auto id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<Value> ins = {op.getWeights()};
    SmallVector<AffineMap> maps = {id};
    if (reduced) {
      ins.push_back(reduced);
      maps.push_back(groupMap(ctx, group));
    }
    maps.append({id, id});
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{emptyW.getType(), emptyM.getType()}, ins,
        ValueRange{emptyW, emptyM}, maps,
        iterators(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Scalar ns{nb, nl};
          Value r = reduced ? args[1] : ns.abs(ns.sub(ns.toF64(args[0]), mu));
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

//===----------------------------------------------------------------------===//
// Quantile pruning with a run-time sparsity parameter
//===----------------------------------------------------------------------===//

Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

/// The IEEE bit pattern of |x| as an i64: for non-negative floats the
/// integer order of the encodings is the order of the values (+0 and −0
/// both map to 0).
Value magnitudeKey(OpBuilder &b, Location loc, Value x) {
  unsigned width = cast<FloatType>(x.getType()).getWidth();
  Type intType = b.getIntegerType(width);
  Value bits = arith::BitcastOp::create(b, loc, intType, x);
  Value noSign = arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(intType, APInt::getSignedMaxValue(width)));
  bits = arith::AndIOp::create(b, loc, bits, noSign);
  if (width < 64)
    bits = arith::ExtUIOp::create(b, loc, b.getI64Type(), bits);
  return bits;
}

/// Inside a linalg.generic: the row-major index (i64) of the current point
/// in `grid`, whose dimension d is loop d divided by `divisors[d]`.
Value gridIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> grid,
                ArrayRef<int64_t> divisors) {
  Value idx = arith::ConstantIndexOp::create(b, loc, 0);
  for (auto [d, n] : llvm::enumerate(grid)) {
    Value i = linalg::IndexOp::create(b, loc, static_cast<uint64_t>(d));
    if (divisors[d] != 1)
      i = arith::DivUIOp::create(
          b, loc, i, arith::ConstantIndexOp::create(b, loc, divisors[d]));
    Value scaled = arith::MulIOp::create(
        b, loc, idx, arith::ConstantIndexOp::create(b, loc, n));
    idx = arith::AddIOp::create(b, loc, scaled, i);
  }
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), idx);
}

using KeyPredicate =
    function_ref<Value(OpBuilder &, Location, Value key, Value index)>;

/// The number (i64) of elements of `saliency` whose key (and row-major
/// index, when `withIndex`) satisfy `pred`: one reduction.
Value countIf(OpBuilder &b, Location loc, Value saliency, bool withIndex,
              KeyPredicate pred) {
  auto type = cast<RankedTensorType>(saliency.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getI64Type());
  Value init =
      linalg::FillOp::create(b, loc, i64Const(b, loc, 0), empty)->getResult(0);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, ctx)};
  SmallVector<int64_t> ones(rank, 1);
  Value count =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ValueRange{saliency},
          ValueRange{init}, maps,
          iterators(rank, utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value index =
                withIndex ? gridIndex(nb, nl, type.getShape(), ones) : Value();
            Value hit = pred(nb, nl, magnitudeKey(nb, nl, args[0]), index);
            Value one = arith::ExtUIOp::create(nb, nl, nb.getI64Type(), hit);
            linalg::YieldOp::create(
                nb, nl,
                arith::AddIOp::create(nb, nl, args[1], one).getResult());
          })
          .getResult(0);
  return tensor::ExtractOp::create(b, loc, count, ValueRange{});
}

/// The largest v < 2^bits (i64) with count(v) < target, for a count that
/// does not decrease with v, and count(v) (0 when v = 0): one bit at a time
/// from the top, one counting reduction per bit, in an scf.for.
std::pair<Value, Value>
bisect(OpBuilder &b, Location loc, unsigned bits, Value target,
       function_ref<Value(OpBuilder &, Location, Value)> count) {
  Value lb = arith::ConstantIndexOp::create(b, loc, 0);
  Value ub = arith::ConstantIndexOp::create(b, loc, bits);
  Value step = arith::ConstantIndexOp::create(b, loc, 1);
  Value zero = i64Const(b, loc, 0);
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, step, ValueRange{zero, zero},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange iter) {
        Value i = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), iv);
        Value bit =
            arith::SubIOp::create(nb, nl, i64Const(nb, nl, bits - 1), i);
        Value candidate = arith::OrIOp::create(
            nb, nl, iter[0],
            arith::ShLIOp::create(nb, nl, i64Const(nb, nl, 1), bit));
        Value n = count(nb, nl, candidate);
        Value below =
            arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, n, target);
        scf::YieldOp::create(
            nb, nl,
            ValueRange{
                arith::SelectOp::create(nb, nl, below, candidate, iter[0]),
                arith::SelectOp::create(nb, nl, below, n, iter[1])});
      });
  return {loop.getResult(0), loop.getResult(1)};
}

/// prune <quantile> (FIG. 7a/7b) with a run-time s: prune exactly
/// k = round_half_even(s^φ·G) of the G groups, those with the smallest
/// saliency, ties to the lower row-major group index (pruning.py's stable
/// sort). With t the k-th smallest saliency key (bisection over the bit
/// pattern) and J the position of the last tie to prune (bisection over
/// the group index, only when the groups at t are not all pruned), a group
/// is pruned iff k > 0 and (key < t or (key = t and index ≤ J)).
struct LowerQuantilePrune : OpRewritePattern<PruneOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PruneOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getMethod() != PruneMethod::quantile)
      return failure();
    auto type = cast<RankedTensorType>(op.getWeights().getType());
    if (!type.hasStaticShape() || type.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "dynamic or empty weights");
    Location loc = op.getLoc();
    Scalar s{rewriter, loc};
    int64_t rank = type.getRank();
    SmallVector<int64_t> group = op.getEffectiveGroupShape();
    SmallVector<int64_t> grid = groupGrid(type.getShape(), group);
    bool element = llvm::all_of(group, [](int64_t g) { return g == 1; });
    // The saliency: |w| itself for elements, else Reduction(|w|) per group
    // (max in the weights' type, mean in f64).
    Value saliency = element
                         ? op.getWeights()
                         : groupReduce(rewriter, loc, op.getWeights(), group,
                                       op.getReduction() == Reduction::max
                                           ? GroupCombine::MaxAbs
                                           : GroupCombine::MeanAbs);
    auto salType = cast<RankedTensorType>(saliency.getType());
    int64_t numGroups = salType.getNumElements();
    unsigned keyBits = salType.getElementType().getIntOrFloatBitWidth() - 1;

    // k = round_half_even(clamp(s^φ, 0, 1)·G).
    Value raw = s.toF64(tensor::ExtractOp::create(
        rewriter, loc, op.getSparsity(), ValueRange{}));
    Value sPhi = s.clamp01(s.normalize(op.getNormalization(), raw));
    Value k = arith::FPToSIOp::create(
        rewriter, loc, rewriter.getI64Type(),
        math::RoundEvenOp::create(rewriter, loc,
                                  s.mul(sPhi, s.c(double(numGroups)))));

    // t: the largest key with fewer than k keys below it; `below` of them.
    Value t, below;
    std::tie(t, below) = bisect(
        rewriter, loc, keyBits, k,
        [&](OpBuilder &nb, Location nl, Value candidate) {
          return countIf(
              nb, nl, saliency, /*withIndex=*/false,
              [&](OpBuilder &cb, Location cl, Value key, Value) -> Value {
                return arith::CmpIOp::create(cb, cl, arith::CmpIPredicate::slt,
                                             key, candidate);
              });
        });
    Value atMost =
        countIf(rewriter, loc, saliency, /*withIndex=*/false,
                [&](OpBuilder &cb, Location cl, Value key, Value) -> Value {
                  return arith::CmpIOp::create(
                      cb, cl, arith::CmpIPredicate::sle, key, t);
                });
    // J: every tie when they are all pruned (or k = 0), else the largest J
    // with fewer than k − below ties at an index < J.
    Value allTies = arith::OrIOp::create(
        rewriter, loc,
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, atMost,
                              k),
        arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, k,
                              i64Const(rewriter, loc, 0)));
    unsigned indexBits = llvm::Log2_64_Ceil(uint64_t(numGroups));
    auto lastTie = scf::IfOp::create(
        rewriter, loc, allTies,
        [&](OpBuilder &nb, Location nl) {
          scf::YieldOp::create(nb, nl,
                               ValueRange{i64Const(nb, nl, numGroups - 1)});
        },
        [&](OpBuilder &nb, Location nl) {
          Value needed = arith::SubIOp::create(nb, nl, k, below);
          Value j =
              bisect(nb, nl, indexBits, needed,
                     [&](OpBuilder &cb, Location cl, Value candidate) {
                       return countIf(
                           cb, cl, saliency, /*withIndex=*/true,
                           [&](OpBuilder &pb, Location pl, Value key,
                               Value index) -> Value {
                             return arith::AndIOp::create(
                                 pb, pl,
                                 arith::CmpIOp::create(
                                     pb, pl, arith::CmpIPredicate::eq, key, t),
                                 arith::CmpIOp::create(
                                     pb, pl, arith::CmpIPredicate::slt, index,
                                     candidate));
                           });
                     })
                  .first;
          scf::YieldOp::create(nb, nl, ValueRange{j});
        });
    Value last = lastTie.getResult(0);
    Value any = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt,
                                      k, i64Const(rewriter, loc, 0));

    // The mask over the weights, each coefficient reading its group.
    MLIRContext *ctx = rewriter.getContext();
    auto id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    SmallVector<AffineMap> maps = {id, groupMap(ctx, group), id, id};
    Value emptyW = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           type.getElementType());
    Value emptyM = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           rewriter.getI1Type());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{emptyW.getType(), emptyM.getType()},
        ValueRange{op.getWeights(), saliency}, ValueRange{emptyW, emptyM}, maps,
        iterators(rank, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value key = magnitudeKey(nb, nl, args[1]);
          Value index = gridIndex(nb, nl, grid, group);
          Value less =
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, key, t);
          Value tie = arith::AndIOp::create(
              nb, nl,
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, key, t),
              arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sle, index,
                                    last));
          Value pruned = arith::AndIOp::create(
              nb, nl, any, arith::OrIOp::create(nb, nl, less, tie));
          Value keep = arith::XOrIOp::create(
              nb, nl, pruned,
              arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true)));
          Value zero = arith::ConstantOp::create(
              nb, nl, nb.getFloatAttr(args[0].getType(), 0.0));
          Value out = arith::SelectOp::create(nb, nl, keep, args[0], zero);
          linalg::YieldOp::create(nb, nl, ValueRange{out, keep});
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

/// batch_norm, per channel in f64: y = (x − m)·(1/√(v + ε))·γ + β with the
/// batch's statistics (`training`) or the running ones.
struct LowerBatchNorm : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getInput().getType();
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    Location loc = op.getLoc();
    double eps = op.getEpsilon().convertToDouble();
    auto [mean, invStd] =
        normStats(rewriter, loc, op.getInput(), op.getRunningMean(),
                  op.getRunningVar(), op.getTraining(), eps);
    rewriter.replaceOp(
        op, channelMap(rewriter, loc,
                       {op.getInput(), mean, invStd, op.getGamma(),
                        op.getBeta()},
                       {false, true, true, true, true}, type.getElementType(),
                       [](Scalar &ns, ValueRange a) {
                         return ns.add(
                             ns.mul(ns.mul(ns.sub(a[0], a[1]), a[2]), a[3]),
                             a[4]);
                       }));
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
      if (op.getMethod() == PruneMethod::quantile &&
          !isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(
              op.getWeights().getType().getElementType())) {
        op.emitOpError("quantile pruning with a run-time sparsity needs f16, "
                       "bf16, f32 or f64 weights (it ranks their IEEE bit "
                       "patterns)");
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
    patterns.add<LowerPrune, LowerQuantilePrune, LowerSparsityLoss,
                 LowerBatchNorm>(
        &getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
