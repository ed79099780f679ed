//===- SparseNNAdjoints.cpp - adjoints of the sparsenn ops ----------------===//
//
// DifferentiableOpInterface of sparsenn.linear, sparsenn.conv2d,
// sparsenn.kwinners and sparsenn.prune: the backward rules of the generated
// train step (US 2025/0252312 A1 [0053]-[0067]; EP 21216321.6 [0063],
// [0194]-[0219]). The backward contractions are linalg.matmul with
// transposed operand maps (linear: dX = dY·W, dW = dYᵀ·X) and the conv2d
// gradient ops (conv: im2col + GEMM for dW, GEMM + col2im for dX), which
// the lowering runs on the runtime's GEMM without materialising any
// transpose.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Interfaces/DifferentiableOpInterface.h"
#include "sparsenn/Interfaces/ExternalModels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

#include "TrainingMath.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

/// Up to this weight density, dX of a sparse-tap convolution runs on the
/// sparse-tap kernel (measured on US 2025/0252312 A1's CNN: at 10 % it
/// beats the GEMM + col2im form by about 2x, at 25-40 % it loses).
constexpr double kSparseInputGradDensity = 0.2;

/// What backwardPrune computed for a Gumbel pruner over groups.
struct GroupGumbel {
  ArrayRef<int64_t> group;
  Value mu, centred, reduced; // μ, r = |w − μ| (f64), R per group (f64)
  Value t, scale, dtdp, dsPhi, rMean, slope;
  function_ref<Value(training::Scalar &, Value)> sigmaPrimeAt, sign;
};

LogicalResult backwardGroupGumbel(AdjointBuilder &tb, PruneOp prune, Value dy,
                                  const GroupGumbel &g);

Value scalarTensor(OpBuilder &b, Location loc, Value f64, Type elt) {
  training::Scalar sc{b, loc};
  return tensor::FromElementsOp::create(b, loc, RankedTensorType::get({}, elt),
                                        ValueRange{sc.fromF64(f64, elt)});
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
LogicalResult backwardPrune(AdjointBuilder &tb, PruneOp prune, Value dy) {
  OpBuilder &b = tb.getBuilder();
  Location loc = tb.getLoc();
  Value w = prune.getWeights(), mask = prune.getMask();
  auto wType = prune.getWeights().getType();
  if (!wType.hasStaticShape())
    return prune.emitError("train-step generation: 'sparsenn.prune' needs "
                           "static weights");
  if (prune.getMethod() == PruneMethod::quantile) {
    tb.addGradient(
        w, tb.ewise({dy, mask},
                    [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      Value zero = arith::ConstantOp::create(
                          nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
                      return arith::SelectOp::create(nb, nl, a[1], a[0], zero);
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
  Value raw = sc.toF64(
      tensor::ExtractOp::create(b, loc, prune.getSparsity(), ValueRange{}));
  Value sPhiRaw = sc.normalize(prune.getNormalization(), raw);
  Value inside = arith::AndIOp::create(
      b, loc, sc.cmp(arith::CmpFPredicate::OGE, sPhiRaw, sc.c(eps)),
      sc.cmp(arith::CmpFPredicate::OLE, sPhiRaw, sc.c(1.0 - eps)));
  Value sPhi = sc.min(sc.max(sPhiRaw, sc.c(eps)), sc.c(1.0 - eps));
  Value dsPhi = sc.select(
      inside, sc.normalizeDerivative(prune.getNormalization(), raw), sc.c(0.0));

  // The threshold, the scale and dτ/ds^φ; for Gumbel also the statistics
  // of r and the coefficient (√6/π)(γ + ℓ).
  const double tiny = std::numeric_limits<double>::min();
  const double gumbelK = std::sqrt(6.0) / M_PI;
  const double gamma = 0.5772156649015329;
  Value t, scale, dtdp, e, rMean, rStd, slope, centredW, reduced;
  if (!gumbel) {
    e = sc.erfinv(sPhi);
    t = sc.mul(sc.mul(psi, sc.c(std::sqrt(2.0))), e);
    scale = sc.mul(sc.c(tb.getOptions().temperature), sc.max(psi, sc.c(tiny)));
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
    scale = sc.mul(sc.c(tb.getOptions().temperature), sc.max(beta, sc.c(tiny)));
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
    return backwardGroupGumbel(tb, prune, dy,
                               {group, mu, centredW, reduced, t, scale, dtdp,
                                dsPhi, rMean, slope, sigmaPrimeAt, sign});
  // Gumbel: c_j = dτ/dr_j.
  auto gumbelC = [&](training::Scalar &ns, Value x) {
    return ns.sub(ns.c(1.0 / n), ns.mul(slope, ns.sub(centred(ns, x), rMean)));
  };
  // σ' per weight, once (stored in the weights' type, the relaxation's
  // precision in pruning.prune_ste): the two sums below and the gradient
  // read it instead of evaluating the sigmoid three times per weight.
  Value sigmaW =
      tb.ewise({w}, [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        training::Scalar ns{nb, nl};
        return ns.fromF64(sigmaPrime(ns, ns.toF64(a[0])), a[0].getType());
      });
  // ΣGσ'·sgn and ΣGσ' in one pass (f64).
  auto scalarType = RankedTensorType::get({}, b.getF64Type());
  SmallVector<AffineMap> sumMaps(3, b.getMultiDimIdentityMap(rank));
  sumMaps.append(2, AffineMap::get(rank, 0, b.getContext()));
  auto sums = linalg::GenericOp::create(
      b, loc, TypeRange{scalarType, scalarType}, ValueRange{dy, w, sigmaW},
      ValueRange{tb.filled(scalarType, 0.0), tb.filled(scalarType, 0.0)},
      sumMaps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        training::Scalar ns{nb, nl};
        Value x = ns.toF64(a[1]);
        Value g = ns.mul(ns.mul(ns.toF64(a[0]), x), ns.toF64(a[2]));
        linalg::YieldOp::create(
            nb, nl,
            ValueRange{ns.add(ns.mul(g, sign(ns, x)), a[3]), ns.add(g, a[4])});
      });
  Value sumGS =
            tensor::ExtractOp::create(b, loc, sums.getResult(0), ValueRange{}),
        sumG =
            tensor::ExtractOp::create(b, loc, sums.getResult(1), ValueRange{});
  Value coefA = sc.div(sumG, scale);
  Value meanGS = sc.div(sumGS, sc.c(n));
  // Σc·sgn/N (Gumbel), a reduction over w only.
  Value meanCS;
  if (gumbel)
    meanCS =
        sc.div(training::reduceSum(b, loc, w,
                                   [&](training::Scalar &ns, Value x) {
                                     return ns.mul(gumbelC(ns, x), sign(ns, x));
                                   }),
               sc.c(n));
  Value coefB =
      gumbel ? Value()
             : sc.div(sc.mul(sc.c(std::sqrt(2.0)), e), sc.mul(sc.c(n), psi));
  tb.addGradient(
      w, tb.ewise({dy, w, mask, sigmaW},
                  [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                    training::Scalar ns{nb, nl};
                    Value g = ns.toF64(a[0]), x = ns.toF64(a[1]);
                    Value hard = ns.select(a[2], g, ns.c(0.0));
                    Value local = ns.mul(ns.mul(g, x),
                                         ns.mul(ns.toF64(a[3]), sign(ns, x)));
                    Value dtdw =
                        gumbel ? ns.sub(ns.mul(gumbelC(ns, x), sign(ns, x)),
                                        meanCS)
                               : ns.mul(coefB, ns.sub(x, mu));
                    Value soft = ns.sub(ns.div(ns.sub(local, meanGS), scale),
                                        ns.mul(coefA, dtdw));
                    return ns.fromF64(ns.add(hard, soft), a[0].getType());
                  }));
  // ds: through τ only.
  Value ds = sc.mul(sc.mul(sc.sub(sc.c(0.0), coefA), dtdp), dsPhi);
  tb.addGradient(prune.getSparsity(), scalarTensor(b, loc, ds, elt));
  return success();
}

/// The Gumbel pruner over groups (FIG. 7d, eq. 7-10) as pruning.py's
/// prune_ste: soft_g = σ((R_g − τ)/S̄) per group, expanded to its
/// coefficients. With G_g = Σ_{i∈g} dP_i·w_i, A = ΣG σ'/S̄ and
/// c_g = dτ/dR_g = 1/|G| − (√6/π)(γ + ℓ)(R_g − m)/(|G|·d):
///   dL/dR_g = G_g σ'_g/S̄ − A·c_g;
///   e_i = dL/dR_g·dR_g/dr_i: 1/|g| for mean (padded zeros count), for
///         max [r_i = R_g]/#ties (the gradient of amax);
///   dw_i = dP_i·hard_i + sgn_i·e_i − Σ sgn·e/N (through μ);
///   ds = −A·dτ/ds^φ·ds^φ/ds.
LogicalResult backwardGroupGumbel(AdjointBuilder &tb, PruneOp prune, Value dy,
                                  const GroupGumbel &g) {
  OpBuilder &b = tb.getBuilder();
  Location loc = tb.getLoc();
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
  Value gg =
      training::groupReduce(b, loc, prod, g.group, training::GroupCombine::Sum);
  Value q = mapF64(b, loc, {gg, g.reduced}, {},
                   [&](training::Scalar &ns, ValueRange a) {
                     return ns.mul(a[0], g.sigmaPrimeAt(ns, a[1]));
                   });
  Value coefA = sc.div(training::reduceSum(b, loc, q, identity), g.scale);
  Value dR = mapF64(b, loc, {q, g.reduced}, {},
                    [&](training::Scalar &ns, ValueRange a) {
                      Value c = ns.sub(ns.c(1.0 / numGroups),
                                       ns.mul(g.slope, ns.sub(a[1], g.rMean)));
                      return ns.sub(ns.div(a[0], g.scale), ns.mul(coefA, c));
                    });
  // e_i, then sgn_i·e_i.
  Value e;
  if (prune.getReduction() == Reduction::max) {
    Value hit =
        mapF64(b, loc, {g.centred, g.reduced}, {id, toGroup},
               [](training::Scalar &ns, ValueRange a) {
                 return ns.select(ns.cmp(arith::CmpFPredicate::OEQ, a[0], a[1]),
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
  tb.addGradient(
      w, tb.ewise({dy, se, prune.getMask()},
                  [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                    training::Scalar ns{nb, nl};
                    Value hard = ns.select(a[2], ns.toF64(a[0]), ns.c(0.0));
                    Value r = ns.add(hard, ns.sub(a[1], meanSE));
                    return ns.fromF64(r, a[0].getType());
                  }));
  Value ds = sc.mul(sc.mul(sc.sub(sc.c(0.0), coefA), g.dtdp), g.dsPhi);
  tb.addGradient(prune.getSparsity(), scalarTensor(b, loc, ds, elt));
  return success();
}

/// Conv2d (groups 1; any stride, padding and dilation), on the native
/// kernels:
///  - dW: sparsenn.conv2d_backward_weight (im2col + GEMM in the runtime);
///    for a fixed fan-in layer (a `sparsity` fact, US 2025/0252312 A1
///    [0057]) masked by the weights themselves, so that only the non-zero
///    taps' gradient is computed;
///  - dX: sparsenn.conv2d_backward_input (GEMM + col2im in the runtime); for
///    a sparse-tap convolution of low density, a correlation with the
///    flipped filters on the sparse-tap kernel.
LogicalResult backwardConv(AdjointBuilder &tb, Conv2DOp conv, Value dy) {
  OpBuilder &b = tb.getBuilder();
  Location loc = tb.getLoc();
  auto wType = dyn_cast<RankedTensorType>(conv.getWeight().getType());
  if (!wType || conv.getGroups() != 1)
    return conv.emitError("train-step generation: 'sparsenn.conv2d' "
                          "backward needs float weights and groups 1");
  Value x = conv.getInput(), w = conv.getWeight();
  auto xType = conv.getInput().getType();
  Type elt = xType.getElementType();
  ArrayRef<int64_t> pad = conv.getPadding(); // top, bottom, left, right
  int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
  int64_t c = xType.getDimSize(1);
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  auto i64s = [&](ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); };
  bool fixedFanIn = static_cast<bool>(conv.getSparsity());

  tb.addGradient(w, Conv2DBackwardWeightOp::create(
                        b, loc, wType, x, dy, fixedFanIn ? w : Value(),
                        conv.getStridesAttr(), conv.getPaddingAttr(),
                        conv.getDilationsAttr()));
  // Bias gradient: Σ over n, y, x.
  if (Value bias = conv.getBias()) {
    auto bType = cast<RankedTensorType>(bias.getType());
    tb.addGradient(
        bias,
        tb.generic(
            {dy}, bType,
            {AffineMap::get(4, 0, {d(1), d(0), d(2), d(3)}, b.getContext()),
             AffineMap::get(4, 0, {d(0)}, b.getContext())},
            {par, red, red, red},
            [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
              return arith::AddFOp::create(nb, nl, a[0], a[1]);
            },
            0.0));
  }
  // Input gradient of a convolution with a fixed, low density (at most
  // kSparseInputGradDensity), stride 1 and dilation 1: a correlation of dY
  // with the flipped, transposed filters W'[c, o, i, j] = W[o, c, KH−1−i,
  // KW−1−j] padded by KH−1−pad, on the sparse-tap kernel (W' has W's
  // zeros). The padded correlation costs (H+KH−1)/OH times the forward's
  // taps, so denser (e.g. learned) filters, and paddings beyond KH−1, take
  // the GEMM + col2im kernel below.
  SmallVector<int64_t> full = {kh - 1 - pad[0], kh - 1 - pad[1],
                               kw - 1 - pad[2], kw - 1 - pad[3]};
  auto ones = [](ArrayRef<int64_t> v) {
    return llvm::all_of(v, [](int64_t e) { return e == 1; });
  };
  if (conv.getKernel() == KernelFormat::ell && conv.getSparsity() &&
      conv.getSparsity()->getDensity().convertToDouble() <=
          kSparseInputGradDensity &&
      ones(conv.getStrides()) && ones(conv.getDilations()) &&
      llvm::all_of(full, [](int64_t v) { return v >= 0; })) {
    auto flippedType =
        RankedTensorType::get({c, wType.getDimSize(0), kh, kw}, elt);
    Value flipped = tb.generic(
        {w}, flippedType,
        {AffineMap::get(4, 0, {d(1), d(0), (kh - 1) - d(2), (kw - 1) - d(3)},
                        b.getContext()),
         b.getMultiDimIdentityMap(4)},
        SmallVector<utils::IteratorType>(4, par),
        [](OpBuilder &, Location, ValueRange a) -> Value { return a[0]; });
    tb.addGradient(
        x, Conv2DOp::create(
               b, loc, xType, dy, flipped, /*bias=*/Value(), i64s({1, 1}),
               i64s(full), i64s({1, 1}), b.getI64IntegerAttr(1),
               /*sparsity=*/nullptr,
               KernelFormatAttr::get(b.getContext(), KernelFormat::ell)));
    return success();
  }
  tb.addGradient(x, Conv2DBackwardInputOp::create(
                        b, loc, xType, dy, w, conv.getStridesAttr(),
                        conv.getPaddingAttr(), conv.getDilationsAttr()));
  return success();
}

/// Linear (rank 2): dX[b, i] = Σ_o dY[b, o]·W[o, i];
/// dW[o, i] = Σ_b dYᵀ[o, b]·Xᵀ[i, b]: two more linear layers on transposed
/// operands; db = Σ_b dY.
LogicalResult backwardLinear(AdjointBuilder &tb, LinearOp linear, Value dy) {
  Operation *op = linear;
  Value x = linear.getInput(), w = linear.getWeight();
  auto xType = cast<RankedTensorType>(x.getType());
  auto wType = dyn_cast<RankedTensorType>(w.getType());
  if (xType.getRank() != 2 || !wType)
    return op->emitError("train-step generation: 'sparsenn.linear' "
                         "needs a [B, in] input and float weights");
  tb.addGradient(x, tb.matmul(dy, w, /*transposeA=*/false,
                              /*transposeB=*/false));
  tb.addGradient(w, tb.matmul(dy, x, /*transposeA=*/true,
                              /*transposeB=*/false));
  if (Value bias = linear.getBias()) {
    auto bType = cast<RankedTensorType>(bias.getType());
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    tb.addGradient(
        bias, tb.generic(
                  {dy}, bType, {tb.map(2, {1, 0}), tb.map(2, {0})}, {par, red},
                  [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                    return arith::AddFOp::create(nb, nl, a[0], a[1]);
                  },
                  0.0));
  }
  return success();
}

/// Batch normalisation, with x̂ = (x − m)·r, r = 1/√(v + ε), M elements
/// per channel and sums over every axis but 1:
///   dβ = Σ dY, dγ = Σ dY·x̂,
///   dX = γ·r·(dY − dβ/M − x̂·dγ/M)  (training: m, v the batch's own),
///   dX = γ·r·dY                    (running statistics: constants).
LogicalResult backwardBatchNorm(AdjointBuilder &tb, BatchNormOp bn, Value dy) {
  OpBuilder &b = tb.getBuilder();
  Location loc = tb.getLoc();
  auto type = bn.getInput().getType();
  if (!type.hasStaticShape())
    return bn.emitError("train-step generation: 'sparsenn.batch_norm' needs "
                        "a static input shape");
  Type elt = type.getElementType();
  double eps = bn.getEpsilon().convertToDouble();
  Value x = bn.getInput(), gamma = bn.getGamma();
  double m = double(type.getNumElements()) / double(type.getDimSize(1));
  auto [mean, invStd] =
      training::normStats(b, loc, x, bn.getRunningMean(), bn.getRunningVar(),
                          bn.getTraining(), eps);
  SmallVector<bool> full = {false, false, true, true};
  Value sumDy = training::channelSum(
      b, loc, {dy}, {false},
      [](training::Scalar &, ValueRange a) { return a[0]; });
  Value sumDyXhat = training::channelSum(
      b, loc, {dy, x, mean, invStd}, full,
      [](training::Scalar &ns, ValueRange a) {
        return ns.mul(a[0], ns.mul(ns.sub(a[1], a[2]), a[3]));
      });
  auto narrow = [&](Value f64) {
    return training::mapChannels(
        b, loc, {f64}, [](training::Scalar &, ValueRange a) { return a[0]; },
        elt);
  };
  tb.addGradient(bn.getBeta(), narrow(sumDy));
  tb.addGradient(gamma, narrow(sumDyXhat));
  bool training = bn.getTraining();
  tb.addGradient(x, training::channelMap(
                        b, loc, {dy, x, mean, invStd, gamma, sumDy, sumDyXhat},
                        {false, false, true, true, true, true, true}, elt,
                        [&](training::Scalar &ns, ValueRange a) {
                          Value scale = ns.mul(a[4], a[3]);
                          if (!training)
                            return ns.mul(scale, a[0]);
                          Value xhat = ns.mul(ns.sub(a[1], a[2]), a[3]);
                          Value centred =
                              ns.sub(ns.sub(a[0], ns.div(a[5], ns.c(m))),
                                     ns.mul(xhat, ns.div(a[6], ns.c(m))));
                          return ns.mul(scale, centred);
                        }));
  return success();
}

/// k-winners: only the winners pass their gradient (US 2025/0252312 A1
/// [0047]).
LogicalResult backwardKWinners(AdjointBuilder &tb, KWinnersOp kw, Value dy) {
  tb.addGradient(
      kw.getInput(),
      tb.ewise({dy, kw.getResult()},
               [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                 Value zero = arith::ConstantOp::create(
                     nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
                 Value keep = arith::CmpFOp::create(
                     nb, nl, arith::CmpFPredicate::UNE, a[1], zero);
                 return arith::SelectOp::create(nb, nl, keep, a[0], zero);
               }));
  return success();
}

} // namespace

void mlir::sparsenn::registerSparseNNAdjointModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, SparseNNDialect *) {
    LinearOp::attachInterface<AdjointFunctionModel<LinearOp, backwardLinear>>(
        *ctx);
    Conv2DOp::attachInterface<AdjointFunctionModel<Conv2DOp, backwardConv>>(
        *ctx);
    KWinnersOp::attachInterface<
        AdjointFunctionModel<KWinnersOp, backwardKWinners>>(*ctx);
    BatchNormOp::attachInterface<
        AdjointFunctionModel<BatchNormOp, backwardBatchNorm>>(*ctx);
    // Gradients flow from the pruned weights (the mask has none).
    PruneOp::attachInterface<AdjointFunctionModel<PruneOp, backwardPrune>>(
        *ctx);
  });
}
