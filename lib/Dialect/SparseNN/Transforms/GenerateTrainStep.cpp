//===- GenerateTrainStep.cpp - a compiled SGD training step ---------------===//
//
// Seed 000 [0053]-[0067] (training sparse networks, boosting, eq. 1-4) and
// seed 003 [0194]-[0219]: from a forward function whose trainable weights
// and duty cycles are marked, generate a functional training step
//
//   @<f>_train_step(<f's arguments>..., %targets, %momenta...)
//       -> (%loss, %new_weights..., %new_momenta..., %new_duty_cycles...)
//
// with the forward pass, the loss (softmax cross-entropy against the targets
// [B, C], rows summing to 1, averaged over the batch; plus l1·Σ|W|), an
// analytic backward pass and SGD with momentum (v' = μ·v + g,
// w' = w − lr·v'). Weights read by a layer with a `sparsity` fact keep their
// zeros (fixed fan-in, seed 000 [0057]). Duty cycles of k-winners are
// updated with eq. 1 from the batch's outputs.
//
// Marks: argument attribute `sparsenn.trainable` (weights, biases) and
// `sparsenn.duty_cycle` (k-winners state). Backward rules: sparsenn.linear
// (rank 2), sparsenn.conv2d (groups 1, stride 1, dilation 1, any padding),
// relu (arith.maximumf / maxnumf with a zero constant, or a linalg.generic
// computing it), sparsenn.kwinners (gradient only through the winners),
// linalg.pooling_nchw_max with non-overlapping windows, flatten
// (tensor.collapse_shape), arith.addf, and sparsenn.prune with a learnable
// sparsity parameter (seed 003 [0063], [0214]): straight-through for the
// kept weights; for the Gaussian (eq. 3-4) and Gumbel (eq. 7-10)
// pruners also the gradient of a sigmoid relaxation through their
// differentiable threshold to w and s; quantile pruners update s directly
// from the sparsity loss (eq. 13-15) only. Any other op on the gradient path
// is refused with an error naming it.
//
// The backward contractions are themselves sparsenn.linear layers on
// transposed operands (linear: dX = dY·W, dW = dYᵀ·X; conv: im2col + GEMM
// for dW, GEMM + col2im for dX), so the lowering runs them on the same native
// GEMM as the forward pass (convert-sparsenn-to-linalg's run-time-weight
// kernels) instead of naive loops.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

#include "TrainingMath.h"

#include <cmath>
#include <limits>

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNGENERATETRAINSTEPPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

constexpr StringLiteral kTrainable = "sparsenn.trainable";
constexpr StringLiteral kDutyCycle = "sparsenn.duty_cycle";
/// Up to this weight density, dX of a sparse-tap convolution runs on the
/// sparse-tap kernel (measured on seed 000's CNN: at 10 % it beats the
/// GEMM + col2im form by about 2x, at 25-40 % it loses).
constexpr double kSparseInputGradDensity = 0.2;

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// Builds tensors with linalg.generic.
struct TensorBuilder {
  OpBuilder &b;
  Location loc;

  Value filled(RankedTensorType type, double v) {
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                          type.getElementType());
    Value c = arith::ConstantOp::create(
        b, loc, b.getFloatAttr(type.getElementType(), v));
    return linalg::FillOp::create(b, loc, c, empty)->getResult(0);
  }

  /// out[...] = fn(ins[...]) with the given maps (out map last).
  Value generic(ValueRange ins, RankedTensorType outType,
                ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators, BodyFn fn,
                std::optional<double> init = std::nullopt) {
    Value out = init ? filled(outType, *init)
                     : tensor::EmptyOp::create(b, loc, outType.getShape(),
                                               outType.getElementType())
                           .getResult();
    return linalg::GenericOp::create(
               b, loc, TypeRange{outType}, ins, ValueRange{out}, maps,
               iterators,
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 linalg::YieldOp::create(nb, nl, fn(nb, nl, args));
               })
        .getResult(0);
  }

  /// Element-wise over values of one shape.
  Value ewise(ValueRange ins, BodyFn fn) {
    auto type = cast<RankedTensorType>(ins.front().getType());
    auto id = b.getMultiDimIdentityMap(type.getRank());
    SmallVector<AffineMap> maps(ins.size() + 1, id);
    return generic(ins, type, maps,
                   SmallVector<utils::IteratorType>(
                       type.getRank(), utils::IteratorType::parallel),
                   fn);
  }

  AffineMap map(unsigned dims, ArrayRef<unsigned> results) {
    SmallVector<AffineExpr> exprs;
    for (unsigned r : results)
      exprs.push_back(b.getAffineDimExpr(r));
    return AffineMap::get(dims, 0, exprs, b.getContext());
  }

  Value zero(Type t) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, 0.0));
  }

  /// out = in with its dimensions permuted: out[d...] = in[perm⁻¹(d)...],
  /// i.e. out dimension i is in dimension perm[i].
  Value transpose(Value in, ArrayRef<int64_t> perm) {
    auto type = cast<RankedTensorType>(in.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(type.getDimSize(p));
    Value init =
        tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    return linalg::TransposeOp::create(b, loc, in, init, perm)->getResult(0);
  }

  /// y[r, o] = Σ_i x[r, i]·w[o, i]: a sparsenn.linear, so that the backward
  /// pass runs on the same native GEMM as the forward pass (run-time weights
  /// lower to the runtime's dense kernel).
  Value matmulTransposed(Value x, Value w) {
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    auto type = RankedTensorType::get(
        {xType.getDimSize(0), wType.getDimSize(0)}, xType.getElementType());
    return LinearOp::create(b, loc, type, x, w, /*bias=*/Value(),
                            /*sparsity=*/nullptr, /*kernel=*/nullptr);
  }

  Value collapse(Value v, ArrayRef<ReassociationIndices> groups) {
    return tensor::CollapseShapeOp::create(b, loc, v, groups);
  }
};

bool isZeroSplat(Value v) { return matchPattern(v, m_AnyZeroFloat()); }

/// The input of a relu written as max(x, 0), if `op` is one.
Value reluInput(Operation *op) {
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op)) {
    if (isZeroSplat(op->getOperand(1)))
      return op->getOperand(0);
    if (isZeroSplat(op->getOperand(0)))
      return op->getOperand(1);
    return {};
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return {};
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return {};
  Operation *max = &body.front();
  if (!isa<arith::MaximumFOp, arith::MaxNumFOp>(max) ||
      body.getTerminator()->getOperand(0) != max->getResult(0))
    return {};
  Value arg = body.getArgument(0);
  if ((max->getOperand(0) == arg && isZeroSplat(max->getOperand(1))) ||
      (max->getOperand(1) == arg && isZeroSplat(max->getOperand(0))))
    return generic.getDpsInputs()[0];
  return {};
}

struct SparseNNGenerateTrainStepPass
    : public sparsenn::impl::SparseNNGenerateTrainStepPassBase<
          SparseNNGenerateTrainStepPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(function);
    if (!forward) {
      module.emitError("sparsenn-generate-train-step: no function '")
          << function << "'";
      return signalPassFailure();
    }
    if (failed(generate(forward)))
      return signalPassFailure();
  }

  LogicalResult generate(func::FuncOp forward) {
    FunctionType fType = forward.getFunctionType();
    if (fType.getNumResults() != 1 || !forward.getBody().hasOneBlock())
      return forward.emitError("train-step generation expects one block and "
                               "one result (the logits)");
    auto logitsType = dyn_cast<RankedTensorType>(fType.getResult(0));
    if (!logitsType || logitsType.getRank() != 2 ||
        !logitsType.hasStaticShape() ||
        !isa<FloatType>(logitsType.getElementType()))
      return forward.emitError("the logits must be a static [B, C] float "
                               "tensor");
    SmallVector<unsigned> trainable, duty;
    for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
      if (forward.getArgAttr(i, kTrainable))
        trainable.push_back(i);
      if (forward.getArgAttr(i, kDutyCycle))
        duty.push_back(i);
    }
    if (trainable.empty())
      return forward.emitError("no argument is marked '")
             << kTrainable << "'";

    // Signature: forward's arguments, the targets, one momentum each.
    SmallVector<Type> inputs(fType.getInputs());
    inputs.push_back(logitsType);
    for (unsigned i : trainable)
      inputs.push_back(fType.getInput(i));
    SmallVector<Type> results = {
        RankedTensorType::get({}, logitsType.getElementType())};
    for (unsigned i : trainable)
      results.push_back(fType.getInput(i));
    for (unsigned i : trainable)
      results.push_back(fType.getInput(i));
    for (unsigned i : duty)
      results.push_back(fType.getInput(i));

    OpBuilder mb(forward->getContext());
    mb.setInsertionPointAfter(forward);
    Location loc = forward.getLoc();
    auto step = func::FuncOp::create(
        mb, loc, (forward.getSymName() + "_train_step").str(),
        mb.getFunctionType(inputs, results));
    Block *entry = step.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    TensorBuilder tb{b, loc};

    // Forward, cloned.
    IRMapping map;
    for (unsigned i = 0; i < forward.getNumArguments(); ++i)
      map.map(forward.getArgument(i), entry->getArgument(i));
    Block &body = forward.getBody().front();
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(b.clone(op, map));
    // Convolutions whose weights are sparse while they train (a fixed fan-in
    // `sparsity` fact, seed 000 [0057], or the output of a learnable prune,
    // seed 003) run on the sparse-tap kernel, packed at each call: their
    // zero taps are skipped in the forward pass (and in dX at low fixed
    // densities, see backwardConv).
    for (Operation *op : ops)
      if (auto conv = dyn_cast<Conv2DOp>(op))
        if (!conv.getKernel() &&
            (conv.getSparsity() || conv.getWeight().getDefiningOp<PruneOp>()))
          conv.setKernelAttr(
              KernelFormatAttr::get(conv.getContext(), KernelFormat::ell));
    Value logits = map.lookup(body.getTerminator()->getOperand(0));
    Value targets = entry->getArgument(forward.getNumArguments());

    // Values that depend on a trainable argument need gradients.
    DenseSet<Value> active;
    for (unsigned i : trainable)
      active.insert(entry->getArgument(i));
    for (Operation *op : ops)
      if (llvm::any_of(op->getOperands(),
                       [&](Value v) { return active.contains(v); }))
        for (Value r : op->getResults())
          active.insert(r);

    // Loss: mean over the batch of logsumexp(z) − Σ_c y·z.
    int64_t batch = logitsType.getDimSize(0);
    Type elt = logitsType.getElementType();
    auto rowType = RankedTensorType::get({batch}, elt);
    auto scalarType = RankedTensorType::get({}, elt);
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    AffineMap zm = tb.map(2, {0, 1}), rm = tb.map(2, {0});
    Value rowMax = tb.generic(
        {logits}, rowType, {zm, rm}, {par, red},
        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          return arith::MaximumFOp::create(nb, nl, a[0], a[1]);
        },
        -std::numeric_limits<double>::infinity());
    Value sumExp = tb.generic(
        {logits, rowMax}, rowType, {zm, rm, rm}, {par, red},
        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
          Value e = math::ExpOp::create(nb, nl, d);
          return arith::AddFOp::create(nb, nl, e, a[2]);
        },
        0.0);
    Value lse = tb.ewise({rowMax, sumExp},
                         [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                           Value l = math::LogOp::create(nb, nl, a[1]);
                           return arith::AddFOp::create(nb, nl, a[0], l);
                         });
    Value yz = tb.generic(
        {logits, targets}, rowType, {zm, zm, rm}, {par, red},
        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value m = arith::MulFOp::create(nb, nl, a[0], a[1]);
          return arith::AddFOp::create(nb, nl, m, a[2]);
        },
        0.0);
    Value invB = arith::ConstantOp::create(
        b, loc, b.getFloatAttr(elt, 1.0 / double(batch)));
    Value loss = tb.generic(
        {lse, yz}, scalarType, {tb.map(1, {0}), tb.map(1, {0}), tb.map(1, {})},
        {red},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
          Value s = arith::MulFOp::create(nb, nl, d, invB);
          return arith::AddFOp::create(nb, nl, s, a[2]);
        },
        0.0);
    // Learnable sparsity parameters: trainable arguments read as the
    // sparsity of a sparsenn.prune, with the pruned coefficient counts.
    struct SparsityParam {
      Value s;
      int64_t count;
      Normalization normalization;
    };
    SmallVector<SparsityParam> sparsityParams;
    for (Operation *op : ops)
      if (auto prune = dyn_cast<PruneOp>(op))
        if (auto arg = dyn_cast<BlockArgument>(prune.getSparsity());
            arg && arg.getOwner() == entry &&
            llvm::is_contained(trainable, arg.getArgNumber())) {
          // The sparsity loss and the parameter's update are computed in
          // the logits' type.
          Type sElt = cast<ShapedType>(arg.getType()).getElementType();
          if (sElt != prune.getWeights().getType().getElementType() ||
              sElt != logitsType.getElementType())
            return prune.emitError("train-step generation: a trainable "
                                   "sparsity parameter must have the element "
                                   "type of its weights and of the logits");
          sparsityParams.push_back({arg, prune.getWeights().getType().getNumElements(),
                                    prune.getNormalization()});
        }

    // Sparsity loss (eq. 13-15) on the batch-mean cross-entropy:
    // total = L_ce·(1 − α·log(1 − c')) − (1 − α)·log(c'), c' = c/θ.
    Value ceScale = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, 1.0));
    SmallVector<std::pair<Value, Value>> lossGradS; // (s, dL/ds as f64)
    if (alpha >= 0.0 && !sparsityParams.empty()) {
      training::Scalar sc{b, loc};
      Value weighted = sc.c(0.0);
      double total = 0.0;
      SmallVector<Value> raws;
      for (const SparsityParam &p : sparsityParams) {
        Value raw = sc.toF64(tensor::ExtractOp::create(b, loc, p.s, ValueRange{}));
        raws.push_back(raw);
        weighted = sc.add(weighted, sc.mul(sc.normalize(p.normalization, raw),
                                           sc.c(double(p.count))));
        total += double(p.count);
      }
      double th = theta > 0.0 ? double(theta) : 1.0;
      Value cPrime = sc.div(sc.div(weighted, sc.c(total)), sc.c(th));
      Value ce = sc.toF64(tensor::ExtractOp::create(b, loc, loss, ValueRange{}));
      Value logOneMinus = sc.log(sc.sub(sc.c(1.0), cPrime));
      Value scale = sc.sub(sc.c(1.0), sc.mul(sc.c(alpha), logOneMinus));
      Value totalLoss = sc.sub(sc.mul(ce, scale),
                               sc.mul(sc.c(1.0 - alpha), sc.log(cPrime)));
      loss = tensor::FromElementsOp::create(b, loc, scalarType,
                                            ValueRange{sc.fromF64(totalLoss, elt)});
      ceScale = sc.fromF64(scale, elt);
      // dL/dc' = α·L_ce/(1 − c') − (1 − α)/c'; dc'/ds_j = n_j/(N·θ)·ds^φ/ds.
      Value dLdc = sc.sub(sc.div(sc.mul(sc.c(alpha), ce), sc.sub(sc.c(1.0), cPrime)),
                          sc.div(sc.c(1.0 - alpha), cPrime));
      for (auto [p, raw] : llvm::zip(sparsityParams, raws))
        lossGradS.push_back(
            {p.s, sc.mul(sc.mul(dLdc, sc.c(double(p.count) / (total * th))),
                         sc.normalizeDerivative(p.normalization, raw))});
    }

    // dL/dz = (softmax(z) − y) / B, times the sparsity loss's factor.
    Value dLogits = tb.generic(
        {logits, lse, targets}, logitsType, {zm, rm, zm, zm}, {par, par},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
          Value d = arith::SubFOp::create(nb, nl, a[0], a[1]);
          Value p = math::ExpOp::create(nb, nl, d);
          Value g = arith::SubFOp::create(nb, nl, p, a[2]);
          Value gb = arith::MulFOp::create(nb, nl, g, invB);
          return arith::MulFOp::create(nb, nl, gb, ceScale);
        });

    // Backward.
    DenseMap<Value, Value> grads;
    auto accumulate = [&](Value v, Value g) {
      if (!active.contains(v))
        return;
      auto it = grads.find(v);
      if (it == grads.end())
        grads[v] = g;
      else
        it->second = arith::AddFOp::create(b, loc, it->second, g);
    };
    accumulate(logits, dLogits);
    for (auto [sArg, g] : lossGradS)
      accumulate(sArg, scalarTensor(b, loc, g, elt));
    DenseSet<Value> fixedMask;
    SmallVector<std::pair<Value, Value>> dutyUpdates; // (duty arg, output)
    for (Operation *op : llvm::reverse(ops)) {
      if (auto kw = dyn_cast<KWinnersOp>(op))
        if (Value d = kw.getDutyCycle())
          if (auto arg = dyn_cast<BlockArgument>(d);
              arg && arg.getOwner() == entry &&
              llvm::is_contained(duty, arg.getArgNumber()))
            dutyUpdates.push_back({d, kw.getResult()});
      // Fixed fan-in layers (seed 000 [0057]): their zeros stay zero.
      if (auto linear = dyn_cast<LinearOp>(op))
        if (linear.getSparsity())
          fixedMask.insert(linear.getWeight());
      if (auto conv = dyn_cast<Conv2DOp>(op))
        if (conv.getSparsity())
          fixedMask.insert(conv.getWeight());
      // Gradients flow from the first result (a prune's mask has none).
      if (op->getNumResults() == 0 || !grads.count(op->getResult(0)))
        continue;
      Value dy = grads[op->getResult(0)];
      if (failed(backward(tb, op, dy, accumulate)))
        return failure();
    }

    // L1 on weights of rank >= 2 (eq. 11): loss += l1·Σ|W|, g += l1·sign(W).
    SmallVector<Value> newWeights, newMomenta;
    unsigned momentumBase = forward.getNumArguments() + 1;
    for (auto [n, i] : llvm::enumerate(trainable)) {
      Value w = entry->getArgument(i);
      Value v = entry->getArgument(momentumBase + n);
      auto wType = cast<RankedTensorType>(w.getType());
      Value g = grads.lookup(w);
      if (!g)
        g = tb.filled(wType, 0.0);
      if (l1 != 0.0 && wType.getRank() >= 2) {
        double lambda = l1;
        int64_t rank = wType.getRank();
        SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                       AffineMap::get(rank, 0, b.getContext())};
        Value absSum = tb.generic(
            {w}, scalarType, maps,
            SmallVector<utils::IteratorType>(rank, red),
            [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
              Value abs = math::AbsFOp::create(nb, nl, a[0]);
              return arith::AddFOp::create(nb, nl, abs, a[1]);
            },
            0.0);
        Value lam = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, lambda));
        loss = tb.ewise({loss, absSum},
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value s = arith::MulFOp::create(nb, nl, a[1], lam);
                          return arith::AddFOp::create(nb, nl, a[0], s);
                        });
        g = tb.ewise({g, w}, [&](OpBuilder &nb, Location nl,
                                 ValueRange a) -> Value {
          Value sign = math::CopySignOp::create(
              nb, nl, arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 1.0)),
              a[1]);
          Value isZero = arith::CmpFOp::create(
              nb, nl, arith::CmpFPredicate::OEQ, a[1],
              arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0)));
          Value s = arith::SelectOp::create(
              nb, nl, isZero,
              arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0)), sign);
          Value ls = arith::MulFOp::create(nb, nl, s, lam);
          return arith::AddFOp::create(nb, nl, a[0], ls);
        });
      }
      // SGD with momentum; fixed fan-in weights keep their zeros.
      bool keepZeros = fixedMask.contains(w);
      Value mu = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, momentum));
      Value eta = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, lr));
      // r where the weight is non-zero, 0 where a fixed mask zeroed it.
      auto masked = [&](OpBuilder &nb, Location nl, Value weight,
                        Value r) -> Value {
        if (!keepZeros)
          return r;
        Value zero = arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0));
        Value nz = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNE,
                                         weight, zero);
        return arith::SelectOp::create(nb, nl, nz, r, zero);
      };
      Value newV = tb.ewise({v, g, w}, [&](OpBuilder &nb, Location nl,
                                           ValueRange a) -> Value {
        Value m = arith::MulFOp::create(nb, nl, a[0], mu);
        return masked(nb, nl, a[2], arith::AddFOp::create(nb, nl, m, a[1]));
      });
      Value newW = tb.ewise({w, newV}, [&](OpBuilder &nb, Location nl,
                                           ValueRange a) -> Value {
        Value s = arith::MulFOp::create(nb, nl, a[1], eta);
        return masked(nb, nl, a[0], arith::SubFOp::create(nb, nl, a[0], s));
      });
      newWeights.push_back(newW);
      newMomenta.push_back(newV);
    }

    // Duty cycles (eq. 1) from this batch's k-winners outputs.
    SmallVector<Value> newDuty;
    for (unsigned i : duty) {
      Value d = entry->getArgument(i);
      Value updated = d;
      for (auto [arg, y] : dutyUpdates)
        if (arg == d)
          updated = DutyCycleUpdateOp::create(
                        b, loc, d.getType(), /*new_seen=*/Type(), updated, y,
                        /*seen=*/Value(), b.getF64FloatAttr(dutyAlpha),
                        /*period=*/IntegerAttr())
                        .getNewDutyCycle();
      newDuty.push_back(updated);
    }

    SmallVector<Value> rets = {loss};
    llvm::append_range(rets, newWeights);
    llvm::append_range(rets, newMomenta);
    llvm::append_range(rets, newDuty);
    func::ReturnOp::create(b, loc, rets);
    return success();
  }

  static Value scalarTensor(OpBuilder &b, Location loc, Value f64, Type elt) {
    training::Scalar sc{b, loc};
    return tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({}, elt), ValueRange{sc.fromF64(f64, elt)});
  }

  /// Pruning with a learnable s (seed 003 [0063], [0214]); the forward
  /// value is the hard mask (python/sparsenn/pruning.py prune_ste).
  ///
  /// Quantile (FIG. 7a/7b): w gets the masked (straight-through) gradient;
  /// s gets none from the pruner - its mask is not differentiable, so s is
  /// updated "directly by the sparsity learning logic" ([0214]), i.e. by the
  /// gradient of the sparsity loss (eq. 13-15) alone.
  ///
  /// Gaussian (FIG. 7c, eq. 3-4) and Gumbel (FIG. 7d, eq. 7-10) on elements:
  /// straight-through on the relaxation soft = σ((r − τ)/S̄) with
  /// r = |w − μ|, S̄ the scale T·Ψ (Gaussian) or T·β (Gumbel) held constant,
  /// and the differentiable threshold τ(w, s^φ), s^φ clamped to
  /// [ε, 1 − ε] (ε of the parameter's type). With G = dP·w, σ' the
  /// derivative of the sigmoid, sgn = sign(w − μ) (0 at 0) and
  /// A = ΣGσ'/S̄ (= −dL/dτ):
  ///   dw_i = dP_i·hard_i + (G_iσ'_i·sgn_i − ΣGσ'sgn/N)/S̄ − A·dτ/dw_i,
  ///   ds   = −A·dτ/ds^φ·ds^φ/ds (0 where the clamp is active).
  /// Gaussian: τ = Ψ·√2·erfinv(s^φ) (Ψ the population std of w):
  ///   dτ/dw_i = √2·erfinv(s^φ)·(w_i − μ)/(N·Ψ),
  ///   dτ/ds^φ = Ψ·√2·(√π/2)·exp(erfinv(s^φ)²).
  /// Gumbel: τ = m − β·(γ + ℓ), β = d·√6/π, m, d = mean and population std
  /// of r, ℓ = log(log(1/s^φ)): with c_j = dτ/dr_j = 1/N −
  /// (√6/π)(γ + ℓ)(r_j − m)/(N·d) and r_j = |w_j − μ|,
  ///   dτ/dw_i = c_i·sgn_i − Σc·sgn/N,
  ///   dτ/ds^φ = β/(s^φ·log(1/s^φ)).
  /// Gumbel over groups (granularity other than element):
  /// backwardGroupGumbel.
  LogicalResult backwardPrune(TensorBuilder &tb, PruneOp prune, Value dy,
                              function_ref<void(Value, Value)> accumulate) {
    OpBuilder &b = tb.b;
    Location loc = tb.loc;
    Value w = prune.getWeights(), mask = prune.getMask();
    auto wType = prune.getWeights().getType();
    if (!wType.hasStaticShape())
      return prune.emitError("train-step generation: 'sparsenn.prune' needs "
                             "static weights");
    if (prune.getMethod() == PruneMethod::quantile) {
      accumulate(
          w, tb.ewise({dy, mask},
                      [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                        Value zero = arith::ConstantOp::create(
                            nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
                        return arith::SelectOp::create(nb, nl, a[1], a[0],
                                                       zero);
                      }));
      return success();
    }
    bool gumbel = prune.getMethod() == PruneMethod::gumbel;
    SmallVector<int64_t> group = prune.getEffectiveGroupShape();
    bool groups = llvm::any_of(group, [](int64_t g) { return g != 1; });
    training::Scalar sc{b, loc};
    Type elt = wType.getElementType();
    double n = double(wType.getNumElements());
    int64_t rank = wType.getRank();
    auto identity = [](training::Scalar &, Value x) { return x; };
    Value mu, psi; // Ψ: Gaussian only
    if (gumbel)
      mu = sc.div(training::reduceSum(b, loc, w, identity), sc.c(n));
    else
      std::tie(mu, psi) = training::meanStd(b, loc, w, identity);
    auto centred = [&](training::Scalar &ns, Value x) {
      return ns.abs(ns.sub(x, mu));
    };

    // s^φ clamped to [ε, 1 − ε] as pruning.py's _safe_s_phi, and whether
    // the clamp lets the gradient through.
    Type sElt = prune.getSparsity().getType().getElementType();
    double eps =
        std::ldexp(1.0, 1 - int(APFloat::semanticsPrecision(
                                cast<FloatType>(sElt).getFloatSemantics())));
    Value raw = sc.toF64(tensor::ExtractOp::create(b, loc, prune.getSparsity(),
                                                   ValueRange{}));
    Value sPhiRaw = sc.normalize(prune.getNormalization(), raw);
    Value inside = arith::AndIOp::create(
        b, loc, sc.cmp(arith::CmpFPredicate::OGE, sPhiRaw, sc.c(eps)),
        sc.cmp(arith::CmpFPredicate::OLE, sPhiRaw, sc.c(1.0 - eps)));
    Value sPhi = sc.min(sc.max(sPhiRaw, sc.c(eps)), sc.c(1.0 - eps));
    Value dsPhi =
        sc.select(inside, sc.normalizeDerivative(prune.getNormalization(), raw),
                  sc.c(0.0));

    // The threshold, the scale and dτ/ds^φ; for Gumbel also the statistics
    // of r and the coefficient (√6/π)(γ + ℓ).
    const double tiny = std::numeric_limits<double>::min();
    const double gumbelK = std::sqrt(6.0) / M_PI;
    const double gamma = 0.5772156649015329;
    Value t, scale, dtdp, e, rMean, rStd, slope, centredW, reduced;
    if (!gumbel) {
      e = sc.erfinv(sPhi);
      t = sc.mul(sc.mul(psi, sc.c(std::sqrt(2.0))), e);
      scale = sc.mul(sc.c(temperature), sc.max(psi, sc.c(tiny)));
      const double halfSqrtPi = 0.8862269254527580;
      dtdp = sc.mul(sc.mul(psi, sc.c(std::sqrt(2.0) * halfSqrtPi)),
                    sc.exp(sc.mul(e, e)));
    } else {
      // The statistics of r = |w − μ| per element, or of the groups'
      // reductions R of r (zero-padded) over groups.
      double count = n;
      if (!groups) {
        std::tie(rMean, rStd) = training::meanStd(b, loc, w, centred);
      } else {
        centredW = training::mapF64(b, loc, w, {},
                                    [&](training::Scalar &ns, ValueRange a) {
                                      return centred(ns, ns.toF64(a[0]));
                                    });
        reduced = training::groupReduce(b, loc, centredW, group,
                                        prune.getReduction() == Reduction::max
                                            ? training::GroupCombine::MaxAbs
                                            : training::GroupCombine::MeanAbs);
        std::tie(rMean, rStd) = training::meanStd(b, loc, reduced, identity);
        count =
            double(cast<RankedTensorType>(reduced.getType()).getNumElements());
      }
      Value beta = sc.mul(rStd, sc.c(gumbelK));
      Value logInv = sc.log(sc.div(sc.c(1.0), sPhi));
      Value ell = sc.log(logInv);
      Value gPlusL = sc.add(sc.c(gamma), ell);
      t = sc.sub(rMean, sc.mul(beta, gPlusL));
      scale = sc.mul(sc.c(temperature), sc.max(beta, sc.c(tiny)));
      dtdp = sc.div(beta, sc.mul(sPhi, logInv));
      slope = sc.div(sc.mul(sc.c(gumbelK), gPlusL),
                     sc.mul(sc.c(count), sc.max(rStd, sc.c(tiny))));
    }

    // σ' of the relaxation at a score (|w − μ|, or a group's R), and
    // sgn(w − μ) (0 at 0, as |x|' in PyTorch).
    auto sigmaPrimeAt = [&](training::Scalar &ns, Value score) {
      Value u = ns.div(ns.sub(score, t), scale);
      Value sig =
          ns.div(ns.c(1.0), ns.add(ns.c(1.0), ns.exp(ns.sub(ns.c(0.0), u))));
      return ns.mul(sig, ns.sub(ns.c(1.0), sig));
    };
    auto sigmaPrime = [&](training::Scalar &ns, Value x) {
      return sigmaPrimeAt(ns, centred(ns, x));
    };
    auto sign = [&](training::Scalar &ns, Value x) {
      Value d = ns.sub(x, mu);
      Value pos = ns.select(ns.cmp(arith::CmpFPredicate::OGT, d, ns.c(0.0)),
                            ns.c(1.0), ns.c(0.0));
      return ns.select(ns.cmp(arith::CmpFPredicate::OLT, d, ns.c(0.0)),
                       ns.c(-1.0), pos);
    };
    if (reduced)
      return backwardGroupGumbel(tb, prune, dy, accumulate,
                                 {group, mu, centredW, reduced, t, scale, dtdp,
                                  dsPhi, rMean, slope, sigmaPrimeAt, sign});
    // Gumbel: c_j = dτ/dr_j.
    auto gumbelC = [&](training::Scalar &ns, Value x) {
      return ns.sub(ns.c(1.0 / n),
                    ns.mul(slope, ns.sub(centred(ns, x), rMean)));
    };
    auto reduce2 = [&](bool withSign) {
      auto type = RankedTensorType::get({}, b.getF64Type());
      SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
      maps.push_back(AffineMap::get(rank, 0, b.getContext()));
      Value sum = tb.generic(
          {dy, w}, type, maps,
          SmallVector<utils::IteratorType>(rank,
                                           utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
            training::Scalar ns{nb, nl};
            Value x = ns.toF64(a[1]);
            Value g = ns.mul(ns.mul(ns.toF64(a[0]), x), sigmaPrime(ns, x));
            if (withSign)
              g = ns.mul(g, sign(ns, x));
            return ns.add(g, a[2]);
          },
          0.0);
      return tensor::ExtractOp::create(b, loc, sum, ValueRange{}).getResult();
    };
    Value sumGS = reduce2(true), sumG = reduce2(false);
    Value coefA = sc.div(sumG, scale);
    Value meanGS = sc.div(sumGS, sc.c(n));
    // Σc·sgn/N (Gumbel), a reduction over w only.
    Value meanCS;
    if (gumbel)
      meanCS = sc.div(training::reduceSum(b, loc, w,
                                          [&](training::Scalar &ns, Value x) {
                                            return ns.mul(gumbelC(ns, x),
                                                          sign(ns, x));
                                          }),
                      sc.c(n));
    Value coefB =
        gumbel ? Value()
               : sc.div(sc.mul(sc.c(std::sqrt(2.0)), e), sc.mul(sc.c(n), psi));
    accumulate(w, tb.ewise({dy, w, mask}, [&](OpBuilder &nb, Location nl,
                                              ValueRange a) -> Value {
      training::Scalar ns{nb, nl};
      Value g = ns.toF64(a[0]), x = ns.toF64(a[1]);
      Value hard = ns.select(a[2], g, ns.c(0.0));
      Value local =
          ns.mul(ns.mul(g, x), ns.mul(sigmaPrime(ns, x), sign(ns, x)));
      Value dtdw = gumbel ? ns.sub(ns.mul(gumbelC(ns, x), sign(ns, x)), meanCS)
                          : ns.mul(coefB, ns.sub(x, mu));
      Value soft =
          ns.sub(ns.div(ns.sub(local, meanGS), scale), ns.mul(coefA, dtdw));
      return ns.fromF64(ns.add(hard, soft), a[0].getType());
    }));
    // ds: through τ only.
    Value ds = sc.mul(sc.mul(sc.sub(sc.c(0.0), coefA), dtdp), dsPhi);
    accumulate(prune.getSparsity(), scalarTensor(b, loc, ds, elt));
    return success();
  }

  /// What backwardPrune computed for a Gumbel pruner over groups.
  struct GroupGumbel {
    ArrayRef<int64_t> group;
    Value mu, centred, reduced; // μ, r = |w − μ| (f64), R per group (f64)
    Value t, scale, dtdp, dsPhi, rMean, slope;
    function_ref<Value(training::Scalar &, Value)> sigmaPrimeAt, sign;
  };

  /// The Gumbel pruner over groups (FIG. 7d, eq. 7-10) as pruning.py's
  /// prune_ste: soft_g = σ((R_g − τ)/S̄) per group, expanded to its
  /// coefficients. With G_g = Σ_{i∈g} dP_i·w_i, A = ΣG σ'/S̄ and
  /// c_g = dτ/dR_g = 1/|G| − (√6/π)(γ + ℓ)(R_g − m)/(|G|·d):
  ///   dL/dR_g = G_g σ'_g/S̄ − A·c_g;
  ///   e_i = dL/dR_g·dR_g/dr_i: 1/|g| for mean (padded zeros count), for
  ///         max [r_i = R_g]/#ties (the gradient of amax);
  ///   dw_i = dP_i·hard_i + sgn_i·e_i − Σ sgn·e/N (through μ);
  ///   ds = −A·dτ/ds^φ·ds^φ/ds.
  LogicalResult backwardGroupGumbel(TensorBuilder &tb, PruneOp prune, Value dy,
                                    function_ref<void(Value, Value)> accumulate,
                                    const GroupGumbel &g) {
    OpBuilder &b = tb.b;
    Location loc = tb.loc;
    training::Scalar sc{b, loc};
    Value w = prune.getWeights();
    auto wType = prune.getWeights().getType();
    Type elt = wType.getElementType();
    double n = double(wType.getNumElements());
    double numGroups =
        double(cast<RankedTensorType>(g.reduced.getType()).getNumElements());
    double size = 1.0;
    for (int64_t e : g.group)
      size *= double(e);
    AffineMap id = b.getMultiDimIdentityMap(wType.getRank());
    AffineMap toGroup = training::groupMap(b.getContext(), g.group);
    auto identity = [](training::Scalar &, Value x) { return x; };
    using training::mapF64;

    // q_g = G_g·σ'_g; A = Σq/S̄.
    Value prod =
        mapF64(b, loc, {dy, w}, {}, [](training::Scalar &ns, ValueRange a) {
          return ns.mul(ns.toF64(a[0]), ns.toF64(a[1]));
        });
    Value gg = training::groupReduce(b, loc, prod, g.group,
                                     training::GroupCombine::Sum);
    Value q = mapF64(b, loc, {gg, g.reduced}, {},
                     [&](training::Scalar &ns, ValueRange a) {
                       return ns.mul(a[0], g.sigmaPrimeAt(ns, a[1]));
                     });
    Value coefA = sc.div(training::reduceSum(b, loc, q, identity), g.scale);
    Value dR = mapF64(
        b, loc, {q, g.reduced}, {}, [&](training::Scalar &ns, ValueRange a) {
          Value c = ns.sub(ns.c(1.0 / numGroups),
                           ns.mul(g.slope, ns.sub(a[1], g.rMean)));
          return ns.sub(ns.div(a[0], g.scale), ns.mul(coefA, c));
        });
    // e_i, then sgn_i·e_i.
    Value e;
    if (prune.getReduction() == Reduction::max) {
      Value hit = mapF64(b, loc, {g.centred, g.reduced}, {id, toGroup},
                         [](training::Scalar &ns, ValueRange a) {
                           return ns.select(
                               ns.cmp(arith::CmpFPredicate::OEQ, a[0], a[1]),
                               ns.c(1.0), ns.c(0.0));
                         });
      Value ties = training::groupReduce(b, loc, hit, g.group,
                                         training::GroupCombine::Sum);
      e = mapF64(b, loc, {hit, dR, ties}, {id, toGroup, toGroup},
                 [](training::Scalar &ns, ValueRange a) {
                   return ns.div(ns.mul(a[0], a[1]), a[2]);
                 });
    } else {
      e = mapF64(b, loc, {g.centred, dR}, {id, toGroup},
                 [&](training::Scalar &ns, ValueRange a) {
                   return ns.mul(a[1], ns.c(1.0 / size));
                 });
    }
    Value se =
        mapF64(b, loc, {w, e}, {}, [&](training::Scalar &ns, ValueRange a) {
          return ns.mul(g.sign(ns, ns.toF64(a[0])), a[1]);
        });
    Value meanSE = sc.div(training::reduceSum(b, loc, se, identity), sc.c(n));
    accumulate(
        w, tb.ewise({dy, se, prune.getMask()},
                    [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      training::Scalar ns{nb, nl};
                      Value hard = ns.select(a[2], ns.toF64(a[0]), ns.c(0.0));
                      Value r = ns.add(hard, ns.sub(a[1], meanSE));
                      return ns.fromF64(r, a[0].getType());
                    }));
    Value ds = sc.mul(sc.mul(sc.sub(sc.c(0.0), coefA), g.dtdp), g.dsPhi);
    accumulate(prune.getSparsity(), scalarTensor(b, loc, ds, elt));
    return success();
  }

  /// Conv2d (groups 1, dilation 1, stride 1), on the native kernels, with
  /// Xp the zero-padded input:
  ///  - dW[o, (c,i,j)] = Σ_(n,y,x) dYᵀ[o, (n,y,x)]·col[(c,i,j), (n,y,x)] with
  ///    col = im2col(Xp) = Xp[n, c, y+i, x+j]: one linear layer (GEMM);
  ///  - dX: dcol = Wᵀ·dY (a GEMM over the output channels), then col2im
  ///    (one shifted accumulation per filter tap) and a crop of the padding;
  ///    for a sparse-tap convolution, a correlation with the flipped filters
  ///    on the sparse-tap kernel.
  LogicalResult backwardConv(TensorBuilder &tb, Conv2DOp conv, Value dy,
                             function_ref<void(Value, Value)> accumulate) {
    OpBuilder &b = tb.b;
    Location loc = tb.loc;
    auto wType = dyn_cast<RankedTensorType>(conv.getWeight().getType());
    if (!wType || conv.getGroups() != 1 ||
        llvm::any_of(conv.getStrides(), [](int64_t v) { return v != 1; }) ||
        llvm::any_of(conv.getDilations(), [](int64_t v) { return v != 1; }))
      return conv.emitError("train-step generation: 'sparsenn.conv2d' "
                            "backward needs float weights, groups 1, stride 1 "
                            "and dilation 1");
    Value x = conv.getInput(), w = conv.getWeight();
    auto xType = conv.getInput().getType();
    auto dyType = cast<RankedTensorType>(dy.getType());
    Type elt = xType.getElementType();
    ArrayRef<int64_t> pad = conv.getPadding(); // top, bottom, left, right
    int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
    int64_t n = dyType.getDimSize(0),
            oh = dyType.getDimSize(2), ow = dyType.getDimSize(3);
    int64_t c = xType.getDimSize(1);
    auto padded = [&](Value v, ArrayRef<int64_t> p) -> Value {
      if (llvm::all_of(p, [](int64_t q) { return q == 0; }))
        return v;
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(t.getShape());
      shape[2] += p[0] + p[1];
      shape[3] += p[2] + p[3];
      SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(p[0]),
                                       b.getIndexAttr(p[2])};
      SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(0),
                                        b.getIndexAttr(p[1]),
                                        b.getIndexAttr(p[3])};
      return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, elt),
                                   v, low, high, tb.zero(elt));
    };
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };

    // Weight gradient: im2col over loops (c, i, j, n, y, x), then a GEMM.
    Value xp = padded(x, pad);
    auto colType = RankedTensorType::get({c, kh, kw, n, oh, ow}, elt);
    Value col = tb.generic(
        {xp}, colType,
        {AffineMap::get(6, 0, {d(3), d(0), d(4) + d(1), d(5) + d(2)},
                        b.getContext()),
         b.getMultiDimIdentityMap(6)},
        SmallVector<utils::IteratorType>(6, par),
        [](OpBuilder &, Location, ValueRange a) -> Value { return a[0]; });
    Value cols = tb.collapse(col, {{0, 1, 2}, {3, 4, 5}});
    Value dyT = tb.collapse(tb.transpose(dy, {1, 0, 2, 3}), {{0}, {1, 2, 3}});
    Value dw = tb.matmulTransposed(dyT, cols); // [O, C·KH·KW]
    accumulate(w, tensor::ExpandShapeOp::create(b, loc, wType, dw,
                                                ArrayRef<ReassociationIndices>{
                                                    {0}, {1, 2, 3}}));
    // Bias gradient: Σ over n, y, x.
    if (Value bias = conv.getBias()) {
      auto bType = cast<RankedTensorType>(bias.getType());
      accumulate(bias,
                 tb.generic({dy}, bType,
                            {AffineMap::get(4, 0, {d(1), d(0), d(2), d(3)},
                                            b.getContext()),
                             AffineMap::get(4, 0, {d(0)}, b.getContext())},
                            {par, red, red, red},
                            [](OpBuilder &nb, Location nl,
                               ValueRange a) -> Value {
                              return arith::AddFOp::create(nb, nl, a[0], a[1]);
                            },
                            0.0));
    }
    // Input gradient of a convolution with a fixed, low density (at most
    // kSparseInputGradDensity): a correlation of dY with the flipped,
    // transposed filters W'[c, o, i, j] = W[o, c, KH−1−i, KW−1−j] padded by
    // KH−1−pad, on the sparse-tap kernel (W' has W's zeros). The padded
    // correlation costs (H+KH−1)/OH times the forward's taps, so denser
    // (e.g. learned) filters, and paddings beyond KH−1, take the GEMM form
    // below.
    SmallVector<int64_t> full = {kh - 1 - pad[0], kh - 1 - pad[1],
                                 kw - 1 - pad[2], kw - 1 - pad[3]};
    if (conv.getKernel() == KernelFormat::ell && conv.getSparsity() &&
        conv.getSparsity()->getDensity().convertToDouble() <=
            kSparseInputGradDensity &&
        llvm::all_of(full, [](int64_t v) { return v >= 0; })) {
      auto flippedType =
          RankedTensorType::get({c, wType.getDimSize(0), kh, kw}, elt);
      Value flipped = tb.generic(
          {w}, flippedType,
          {AffineMap::get(4, 0,
                          {d(1), d(0), (kh - 1) - d(2), (kw - 1) - d(3)},
                          b.getContext()),
           b.getMultiDimIdentityMap(4)},
          SmallVector<utils::IteratorType>(4, par),
          [](OpBuilder &, Location, ValueRange a) -> Value { return a[0]; });
      auto i64s = [&](ArrayRef<int64_t> v) {
        return b.getDenseI64ArrayAttr(v);
      };
      accumulate(x, Conv2DOp::create(
                        b, loc, xType, dy, flipped, /*bias=*/Value(),
                        i64s({1, 1}), i64s(full), i64s({1, 1}),
                        b.getI64IntegerAttr(1), /*sparsity=*/nullptr,
                        KernelFormatAttr::get(b.getContext(),
                                              KernelFormat::ell)));
      return success();
    }
    // Otherwise dcol[(c,i,j), (n,y,x)] = Σ_o Wᵀ[(c,i,j), o]·dY[(n,y,x), o]
    // (a GEMM), then col2im: dXp[n, c, y+i, x+j] += dcol[c, i, j, n, y, x],
    // one shifted slice per tap, and a crop of the padding.
    auto xpType = cast<RankedTensorType>(xp.getType());
    Value wT = tb.transpose(tb.collapse(w, {{0}, {1, 2, 3}}), {1, 0});
    Value dyRows =
        tb.collapse(tb.transpose(dy, {0, 2, 3, 1}), {{0, 1, 2}, {3}});
    Value dcol = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({c, kh, kw, n, oh, ow}, elt),
        tb.matmulTransposed(wT, dyRows),
        ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
    Value dxp = tb.filled(xpType, 0.0);
    auto sliceType = RankedTensorType::get({n, c, oh, ow}, elt);
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(n), b.getIndexAttr(c),
                                       b.getIndexAttr(oh), b.getIndexAttr(ow)};
    SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
    AffineMap id4 = b.getMultiDimIdentityMap(4);
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) {
        SmallVector<OpFoldResult> at = {b.getIndexAttr(0), b.getIndexAttr(0),
                                        b.getIndexAttr(i), b.getIndexAttr(j)};
        Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, dxp,
                                                     at, sizes, ones);
        AffineMap tap = AffineMap::get(
            4, 0,
            {d(1), b.getAffineConstantExpr(i), b.getAffineConstantExpr(j),
             d(0), d(2), d(3)},
            b.getContext());
        Value sum =
            linalg::GenericOp::create(
                b, loc, TypeRange{sliceType}, ValueRange{dcol},
                ValueRange{slice}, ArrayRef<AffineMap>{tap, id4},
                SmallVector<utils::IteratorType>(4, par),
                [](OpBuilder &nb, Location nl, ValueRange a) {
                  linalg::YieldOp::create(
                      nb, nl, arith::AddFOp::create(nb, nl, a[0], a[1])
                                  .getResult());
                })
                .getResult(0);
        dxp = tensor::InsertSliceOp::create(b, loc, sum, dxp, at, sizes, ones);
      }
    Value dx = dxp;
    if (xp != x) {
      SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                           b.getIndexAttr(pad[0]),
                                           b.getIndexAttr(pad[2])};
      SmallVector<OpFoldResult> xSizes;
      for (int64_t v : xType.getShape())
        xSizes.push_back(b.getIndexAttr(v));
      dx = tensor::ExtractSliceOp::create(b, loc, xType, dxp, offsets, xSizes,
                                          ones);
    }
    accumulate(x, dx);
    return success();
  }

  /// Max pooling with non-overlapping windows (kernel = stride, dilation
  /// 1): each input element receives its window's gradient where it equals
  /// the window's maximum (ties all receive it).
  LogicalResult
  backwardMaxPool(TensorBuilder &tb, linalg::PoolingNchwMaxOp pool, Value dy,
                  function_ref<void(Value, Value)> accumulate) {
    OpBuilder &b = tb.b;
    Value x = pool.getDpsInputs()[0], window = pool.getDpsInputs()[1];
    auto xType = cast<RankedTensorType>(x.getType());
    auto winShape = cast<RankedTensorType>(window.getType()).getShape();
    SmallVector<int64_t> strides, dilations;
    for (const APInt &v : pool.getStrides().getValues<APInt>())
      strides.push_back(v.getSExtValue());
    for (const APInt &v : pool.getDilations().getValues<APInt>())
      dilations.push_back(v.getSExtValue());
    auto yShape = cast<RankedTensorType>(dy.getType()).getShape();
    if (strides[0] != winShape[0] || strides[1] != winShape[1] ||
        dilations[0] != 1 || dilations[1] != 1 ||
        yShape[2] * strides[0] != xType.getDimSize(2) ||
        yShape[3] * strides[1] != xType.getDimSize(3))
      return pool.emitError("train-step generation: max-pooling backward "
                            "needs non-overlapping windows (kernel = stride) "
                            "that tile the input");
    auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
    AffineMap id = b.getMultiDimIdentityMap(4);
    AffineMap down = AffineMap::get(
        4, 0, {d(0), d(1), d(2).floorDiv(strides[0]), d(3).floorDiv(strides[1])},
        b.getContext());
    Value y = pool->getResult(0);
    auto par = utils::IteratorType::parallel;
    accumulate(x, tb.generic({x, y, dy}, xType, {id, down, down, id},
                             {par, par, par, par},
                             [](OpBuilder &nb, Location nl,
                                ValueRange a) -> Value {
                               Value hit = arith::CmpFOp::create(
                                   nb, nl, arith::CmpFPredicate::OEQ, a[0],
                                   a[1]);
                               Value zero = arith::ConstantOp::create(
                                   nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
                               return arith::SelectOp::create(nb, nl, hit,
                                                              a[2], zero);
                             }));
    return success();
  }

  LogicalResult backward(TensorBuilder &tb, Operation *op, Value dy,
                         function_ref<void(Value, Value)> accumulate) {
    if (auto linear = dyn_cast<LinearOp>(op)) {
      Value x = linear.getInput(), w = linear.getWeight();
      auto xType = cast<RankedTensorType>(x.getType());
      auto wType = dyn_cast<RankedTensorType>(w.getType());
      if (xType.getRank() != 2 || !wType)
        return op->emitError("train-step generation: 'sparsenn.linear' "
                             "needs a [B, in] input and float weights");
      // dX[b, i] = Σ_o dY[b, o]·Wᵀ[i, o]; dW[o, i] = Σ_b dYᵀ[o, b]·Xᵀ[i, b]:
      // two more linear layers on transposed operands.
      accumulate(x, tb.matmulTransposed(dy, tb.transpose(w, {1, 0})));
      accumulate(w, tb.matmulTransposed(tb.transpose(dy, {1, 0}),
                                        tb.transpose(x, {1, 0})));
      if (Value bias = linear.getBias()) {
        auto bType = cast<RankedTensorType>(bias.getType());
        auto par = utils::IteratorType::parallel;
        auto red = utils::IteratorType::reduction;
        accumulate(bias, tb.generic(
                             {dy}, bType, {tb.map(2, {1, 0}), tb.map(2, {0})},
                             {par, red},
                             [](OpBuilder &nb, Location nl,
                                ValueRange a) -> Value {
                               return arith::AddFOp::create(nb, nl, a[0], a[1]);
                             },
                             0.0));
      }
      return success();
    }
    if (auto prune = dyn_cast<PruneOp>(op))
      return backwardPrune(tb, prune, dy, accumulate);
    if (auto conv = dyn_cast<Conv2DOp>(op))
      return backwardConv(tb, conv, dy, accumulate);
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      accumulate(collapse.getSrc(),
                 tensor::ExpandShapeOp::create(
                     tb.b, tb.loc, collapse.getSrcType(), dy,
                     collapse.getReassociationIndices()));
      return success();
    }
    if (auto pool = dyn_cast<linalg::PoolingNchwMaxOp>(op))
      return backwardMaxPool(tb, pool, dy, accumulate);
    // Gradient only where a reference value is positive / non-zero.
    auto gate = [&](Value ref, arith::CmpFPredicate pred) {
      return tb.ewise({dy, ref}, [&](OpBuilder &nb, Location nl,
                                     ValueRange a) -> Value {
        Value zero =
            arith::ConstantOp::create(nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
        Value keep = arith::CmpFOp::create(nb, nl, pred, a[1], zero);
        return arith::SelectOp::create(nb, nl, keep, a[0], zero);
      });
    };
    if (Value x = reluInput(op)) {
      accumulate(x, gate(x, arith::CmpFPredicate::OGT));
      return success();
    }
    if (auto kw = dyn_cast<KWinnersOp>(op)) {
      // Only the winners pass their gradient (seed 000 [0047]).
      accumulate(kw.getInput(),
                 gate(kw.getResult(), arith::CmpFPredicate::UNE));
      return success();
    }
    if (auto add = dyn_cast<arith::AddFOp>(op)) {
      // arith.addf has one type for operands and result: no broadcast.
      accumulate(add.getLhs(), dy);
      accumulate(add.getRhs(), dy);
      return success();
    }
    return op->emitError("train-step generation: no backward rule for '")
           << op->getName() << "'";
  }
};

} // namespace
