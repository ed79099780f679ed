//===- GenerateTrainStep.cpp - a compiled SGD training step ---------------===//
//
// Seed 000 [0053]-[0067] (training sparse networks, boosting, eq. 1-4) and
// seed 003 [0194]-[0219]: from a forward function whose trainable weights
// and duty cycles are marked, generate a functional training step
//
//   @<f>_train_step(<f's arguments>..., %targets, %momenta...)
//       -> (%loss, %new_weights..., %new_momenta..., %new_duty_cycles...,
//           %new_running_stats...)
//
// with the forward pass, the loss (softmax cross-entropy against the targets
// [B, C], rows summing to 1, averaged over the batch; plus l1·Σ|W|), an
// analytic backward pass and SGD with momentum (v' = μ·v + g,
// w' = w − lr·v'). Weights read by a layer with a `sparsity` fact keep their
// zeros (fixed fan-in, seed 000 [0057]). Duty cycles of k-winners are
// updated with eq. 1 from the batch's outputs; the running mean and
// variance of a training-mode batch_norm with PyTorch's momentum update
// (m ← (1 − μ)m + μ·mean, v ← (1 − μ)v + μ·var·M/(M − 1)).
//
// Marks: argument attribute `sparsenn.trainable` (weights, biases) and
// `sparsenn.duty_cycle` (k-winners state), `sparsenn.running_stat` (a
// batch_norm's running mean or variance). The backward pass is a
// traversal: each op on the gradient path builds its own adjoint through
// DifferentiableOpInterface (sparsenn ops: SparseNNAdjoints.cpp; relu,
// arith.addf, flatten and max pooling: the external models of
// lib/Interfaces/ExternalModels/DifferentiableImpl.cpp; a host compiler
// attaches models to its own ops). An op on the gradient path without one is
// refused with an error naming it. Layers with a `sparsity` fact
// (LayerOpInterface) keep their zeros.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/DifferentiableOpInterface.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"

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
constexpr StringLiteral kRunningStat = "sparsenn.running_stat";

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
    SmallVector<unsigned> trainable, duty, running;
    for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
      if (forward.getArgAttr(i, kTrainable))
        trainable.push_back(i);
      if (forward.getArgAttr(i, kDutyCycle))
        duty.push_back(i);
      if (forward.getArgAttr(i, kRunningStat))
        running.push_back(i);
    }
    if (trainable.empty())
      return forward.emitError("no argument is marked '") << kTrainable << "'";

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
    for (unsigned i : running)
      results.push_back(fType.getInput(i));

    OpBuilder mb(forward->getContext());
    mb.setInsertionPointAfter(forward);
    Location loc = forward.getLoc();
    auto step = func::FuncOp::create(
        mb, loc, (forward.getSymName() + "_train_step").str(),
        mb.getFunctionType(inputs, results));
    Block *entry = step.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    // Values that depend on a trainable argument need gradients (filled
    // once the forward pass is cloned).
    DenseSet<Value> active;
    AdjointOptions options;
    options.temperature = temperature;
    AdjointBuilder tb(b, loc, options, active);

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
          sparsityParams.push_back(
              {arg, prune.getWeights().getType().getNumElements(),
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
        Value raw =
            sc.toF64(tensor::ExtractOp::create(b, loc, p.s, ValueRange{}));
        raws.push_back(raw);
        weighted = sc.add(weighted, sc.mul(sc.normalize(p.normalization, raw),
                                           sc.c(double(p.count))));
        total += double(p.count);
      }
      double th = theta > 0.0 ? double(theta) : 1.0;
      Value cPrime = sc.div(sc.div(weighted, sc.c(total)), sc.c(th));
      Value ce =
          sc.toF64(tensor::ExtractOp::create(b, loc, loss, ValueRange{}));
      Value logOneMinus = sc.log(sc.sub(sc.c(1.0), cPrime));
      Value scale = sc.sub(sc.c(1.0), sc.mul(sc.c(alpha), logOneMinus));
      Value totalLoss =
          sc.sub(sc.mul(ce, scale), sc.mul(sc.c(1.0 - alpha), sc.log(cPrime)));
      loss = tensor::FromElementsOp::create(
          b, loc, scalarType, ValueRange{sc.fromF64(totalLoss, elt)});
      ceScale = sc.fromF64(scale, elt);
      // dL/dc' = α·L_ce/(1 − c') − (1 − α)/c'; dc'/ds_j = n_j/(N·θ)·ds^φ/ds.
      Value dLdc =
          sc.sub(sc.div(sc.mul(sc.c(alpha), ce), sc.sub(sc.c(1.0), cPrime)),
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

    // Backward: each op on the gradient path builds its adjoint
    // (DifferentiableOpInterface).
    tb.addGradient(logits, dLogits);
    for (auto [sArg, g] : lossGradS)
      tb.addGradient(sArg, scalarTensor(b, loc, g, elt));
    DenseSet<Value> fixedMask;
    SmallVector<std::pair<Value, Value>> dutyUpdates; // (duty arg, output)
    SmallVector<BatchNormOp> norms; // training-mode batch norms
    for (Operation *op : llvm::reverse(ops)) {
      if (auto bn = dyn_cast<BatchNormOp>(op); bn && bn.getTraining())
        norms.push_back(bn);
      if (auto kw = dyn_cast<KWinnersOp>(op))
        if (Value d = kw.getDutyCycle())
          if (auto arg = dyn_cast<BlockArgument>(d);
              arg && arg.getOwner() == entry &&
              llvm::is_contained(duty, arg.getArgNumber()))
            dutyUpdates.push_back({d, kw.getResult()});
      // Fixed fan-in layers (seed 000 [0057]): their zeros stay zero.
      if (auto layer = dyn_cast<LayerOpInterface>(op))
        if (layer.getLayerSparsity())
          fixedMask.insert(layer.getLayerWeight());
      // Gradients flow from the first result (a prune's mask has none).
      if (op->getNumResults() == 0 || !tb.getGradient(op->getResult(0)))
        continue;
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      if (!differentiable)
        return op->emitError("train-step generation: no backward rule for '")
               << op->getName() << "'";
      tb.setCurrentOp(op);
      if (failed(differentiable.buildAdjoint(tb)))
        return failure();
    }
    tb.setCurrentOp(nullptr);

    // L1 on weights of rank >= 2 (eq. 11): loss += l1·Σ|W|, g += l1·sign(W).
    SmallVector<Value> newWeights, newMomenta;
    unsigned momentumBase = forward.getNumArguments() + 1;
    for (auto [n, i] : llvm::enumerate(trainable)) {
      Value w = entry->getArgument(i);
      Value v = entry->getArgument(momentumBase + n);
      auto wType = cast<RankedTensorType>(w.getType());
      Value g = tb.getGradient(w);
      if (!g)
        g = tb.filled(wType, 0.0);
      if (l1 != 0.0 && wType.getRank() >= 2) {
        double lambda = l1;
        int64_t rank = wType.getRank();
        SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                       AffineMap::get(rank, 0, b.getContext())};
        Value absSum = tb.generic(
            {w}, scalarType, maps, SmallVector<utils::IteratorType>(rank, red),
            [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
              Value abs = math::AbsFOp::create(nb, nl, a[0]);
              return arith::AddFOp::create(nb, nl, abs, a[1]);
            },
            0.0);
        Value lam =
            arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, lambda));
        loss = tb.ewise({loss, absSum},
                        [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          Value s = arith::MulFOp::create(nb, nl, a[1], lam);
                          return arith::AddFOp::create(nb, nl, a[0], s);
                        });
        g = tb.ewise(
            {g, w}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
              Value sign = math::CopySignOp::create(
                  nb, nl,
                  arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 1.0)),
                  a[1]);
              Value isZero = arith::CmpFOp::create(
                  nb, nl, arith::CmpFPredicate::OEQ, a[1],
                  arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0)));
              Value s = arith::SelectOp::create(
                  nb, nl, isZero,
                  arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0)),
                  sign);
              Value ls = arith::MulFOp::create(nb, nl, s, lam);
              return arith::AddFOp::create(nb, nl, a[0], ls);
            });
      }
      // SGD with momentum; fixed fan-in weights keep their zeros.
      bool keepZeros = fixedMask.contains(w);
      Value mu =
          arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, momentum));
      Value eta = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, lr));
      // r where the weight is non-zero, 0 where a fixed mask zeroed it.
      auto masked = [&](OpBuilder &nb, Location nl, Value weight,
                        Value r) -> Value {
        if (!keepZeros)
          return r;
        Value zero =
            arith::ConstantOp::create(nb, nl, nb.getFloatAttr(elt, 0.0));
        Value nz = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::UNE,
                                         weight, zero);
        return arith::SelectOp::create(nb, nl, nz, r, zero);
      };
      Value newV = tb.ewise(
          {v, g, w}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
            Value m = arith::MulFOp::create(nb, nl, a[0], mu);
            return masked(nb, nl, a[2], arith::AddFOp::create(nb, nl, m, a[1]));
          });
      Value newW = tb.ewise(
          {w, newV}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
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

    // Running statistics of the training-mode batch norms that read them,
    // from each one's batch statistics (computed once per batch norm).
    DenseMap<Value, Value> updatedStat;
    for (BatchNormOp bn : norms) {
      Value mean = bn.getRunningMean(), var = bn.getRunningVar();
      bool readsMean = llvm::is_contained(running, argNumber(mean, entry)),
           readsVar = llvm::is_contained(running, argNumber(var, entry));
      if (!readsMean && !readsVar)
        continue;
      auto xType = bn.getInput().getType();
      double m = double(xType.getNumElements()) / double(xType.getDimSize(1));
      if (m < 2)
        return bn.emitError("train-step generation: a training "
                            "batch_norm needs more than one value per "
                            "channel for its running variance");
      training::ChannelStats st = training::channelStats(
          b, loc, bn.getInput(), bn.getEpsilon().convertToDouble());
      double mu = bn.getMomentum().convertToDouble();
      auto update = [&](Value stat, Value batch, double batchScale) {
        Value &slot = updatedStat[stat];
        Value prev = slot ? slot : stat;
        slot = training::mapChannels(
            b, loc, {prev, batch},
            [&](training::Scalar &ns, ValueRange a) {
              return ns.add(ns.mul(ns.c(1.0 - mu), a[0]),
                            ns.mul(ns.c(batchScale), a[1]));
            },
            cast<RankedTensorType>(stat.getType()).getElementType());
      };
      if (readsMean)
        update(mean, st.mean, mu);
      if (readsVar)
        update(var, st.var, mu * m / (m - 1));
    }
    SmallVector<Value> newRunning;
    for (unsigned i : running) {
      Value arg = entry->getArgument(i);
      newRunning.push_back(updatedStat.lookup(arg) ? updatedStat.lookup(arg)
                                                   : arg);
    }

    SmallVector<Value> rets = {loss};
    llvm::append_range(rets, newWeights);
    llvm::append_range(rets, newMomenta);
    llvm::append_range(rets, newDuty);
    llvm::append_range(rets, newRunning);
    func::ReturnOp::create(b, loc, rets);
    return success();
  }

  /// The argument number of `v` if it is an argument of `entry`, else -1.
  static int64_t argNumber(Value v, Block *entry) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == entry ? arg.getArgNumber() : -1;
  }

  static Value scalarTensor(OpBuilder &b, Location loc, Value f64, Type elt) {
    training::Scalar sc{b, loc};
    return tensor::FromElementsOp::create(b, loc,
                                          RankedTensorType::get({}, elt),
                                          ValueRange{sc.fromF64(f64, elt)});
  }
};

} // namespace
