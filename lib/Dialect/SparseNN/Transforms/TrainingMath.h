//===- TrainingMath.h - scalar and reduction builders for training -*- C++
//-*-===//
//
// Shared by the training-op lowering and the train-step generation: f64
// scalar arithmetic (normalisation of the sparsity parameter, erfinv),
// whole-tensor reductions (mean, population std) and group reductions
// (seed 003 FIG. 7b/7d) built as linalg.generic.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_LIB_DIALECT_SPARSENN_TRANSFORMS_TRAININGMATH_H
#define SPARSENN_LIB_DIALECT_SPARSENN_TRANSFORMS_TRAININGMATH_H

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir {
namespace sparsenn {
namespace training {

/// Scalar f64 arithmetic with a builder and a location.
struct Scalar {
  OpBuilder &b;
  Location loc;

  Type f64() { return b.getF64Type(); }
  Value c(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }
  Value log(Value x) { return math::LogOp::create(b, loc, x); }
  Value sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }
  Value abs(Value x) { return math::AbsFOp::create(b, loc, x); }
  Value max(Value x, Value y) {
    return arith::MaximumFOp::create(b, loc, x, y);
  }
  Value min(Value x, Value y) {
    return arith::MinimumFOp::create(b, loc, x, y);
  }
  Value cmp(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value toF64(Value x) {
    if (x.getType().isF64())
      return x;
    return arith::ExtFOp::create(b, loc, f64(), x);
  }
  Value fromF64(Value x, Type t) {
    if (t.isF64())
      return x;
    return arith::TruncFOp::create(b, loc, t, x);
  }
  Value clamp01(Value x) { return min(max(x, c(0.0)), c(1.0)); }

  /// s^φ from the raw parameter (SparseNNOps.cpp normalizeSparsity).
  Value normalize(Normalization n, Value raw) {
    switch (n) {
    case Normalization::sigmoid:
      return div(c(1.0), add(c(1.0), exp(sub(c(0.0), raw))));
    case Normalization::hard_sigmoid:
      return clamp01(add(div(raw, c(6.0)), c(0.5)));
    case Normalization::none:
      return raw;
    }
    llvm_unreachable("unknown normalization");
  }

  /// d s^φ / d s (the clamp of hard_sigmoid passes no gradient outside).
  Value normalizeDerivative(Normalization n, Value raw) {
    switch (n) {
    case Normalization::sigmoid: {
      Value p = normalize(n, raw);
      return mul(p, sub(c(1.0), p));
    }
    case Normalization::hard_sigmoid: {
      Value u = add(div(raw, c(6.0)), c(0.5));
      Value inside = arith::AndIOp::create(
          b, loc, cmp(arith::CmpFPredicate::OGT, u, c(0.0)),
          cmp(arith::CmpFPredicate::OLT, u, c(1.0)));
      return select(inside, c(1.0 / 6.0), c(0.0));
    }
    case Normalization::none:
      return c(1.0);
    }
    llvm_unreachable("unknown normalization");
  }

  /// erfinv(x) for x in [0, 1]: Giles' approximation (as PrunerMath's
  /// start value), +∞ at 1.
  Value erfinv(Value x) {
    Value w = sub(c(0.0), log(mul(sub(c(1.0), x), add(c(1.0), x))));
    auto poly = [&](Value t, ArrayRef<double> coeffs) {
      Value p = c(coeffs.front());
      for (double k : coeffs.drop_front())
        p = add(c(k), mul(p, t));
      return p;
    };
    Value central =
        poly(sub(w, c(2.5)), {2.81022636e-08, 3.43273939e-07, -3.5233877e-06,
                              -4.39150654e-06, 0.00021858087, -0.00125372503,
                              -0.00417768164, 0.246640727, 1.50140941});
    Value tail = poly(sub(sqrt(w), c(3.0)),
                      {-0.000200214257, 0.000100950558, 0.00134934322,
                       -0.00367342844, 0.00573950773, -0.0076224613,
                       0.00943887047, 1.00167406, 2.83297682});
    Value p = select(cmp(arith::CmpFPredicate::OLT, w, c(5.0)), central, tail);
    return select(cmp(arith::CmpFPredicate::OGE, x, c(1.0)),
                  c(std::numeric_limits<double>::infinity()), mul(p, x));
  }
};

inline SmallVector<utils::IteratorType> iterators(int64_t rank,
                                                  utils::IteratorType kind) {
  return SmallVector<utils::IteratorType>(rank, kind);
}

/// Σ f(w) over every element of `w`, in f64; `f` maps the element (already
/// f64) inside the reduction body.
inline Value reduceSum(OpBuilder &b, Location loc, Value w,
                       function_ref<Value(Scalar &, Value)> f) {
  auto type = cast<RankedTensorType>(w.getType());
  int64_t rank = type.getRank();
  Scalar s{b, loc};
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, s.f64());
  Value init = linalg::FillOp::create(b, loc, s.c(0.0), empty)->getResult(0);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, ctx)};
  Value sum =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ValueRange{w}, ValueRange{init},
          maps, iterators(rank, utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Scalar ns{nb, nl};
            Value v = f(ns, ns.toF64(args[0]));
            linalg::YieldOp::create(nb, nl, ns.add(v, args[1]));
          })
          .getResult(0);
  return tensor::ExtractOp::create(b, loc, sum, ValueRange{});
}

/// Mean and population standard deviation of f(w).
inline std::pair<Value, Value> meanStd(OpBuilder &b, Location loc, Value w,
                                       function_ref<Value(Scalar &, Value)> f) {
  Scalar s{b, loc};
  double n = double(cast<RankedTensorType>(w.getType()).getNumElements());
  Value mean = s.div(reduceSum(b, loc, w, f), s.c(n));
  Value var = s.div(reduceSum(b, loc, w,
                              [&](Scalar &ns, Value x) {
                                Value d = ns.sub(f(ns, x), mean);
                                return ns.mul(d, d);
                              }),
                    s.c(n));
  return {mean, s.sqrt(var)};
}

/// How groupReduce combines the elements of a group.
enum class GroupCombine {
  MaxAbs,  ///< max |x|, in the type of x
  MeanAbs, ///< Σ|x| in f64, divided by the full group size
  Sum,     ///< Σx in f64
};

/// The group grid ceil(shape / group).
inline SmallVector<int64_t> groupGrid(ArrayRef<int64_t> shape,
                                      ArrayRef<int64_t> group) {
  SmallVector<int64_t> grid;
  for (auto [s, g] : llvm::zip(shape, group))
    grid.push_back(llvm::divideCeil(s, g));
  return grid;
}

/// The map from a coefficient to its group: (d_i) -> (d_i floordiv g_i).
inline AffineMap groupMap(MLIRContext *ctx, ArrayRef<int64_t> group) {
  SmallVector<AffineExpr> exprs;
  for (auto [d, g] : llvm::enumerate(group)) {
    AffineExpr e = getAffineDimExpr(d, ctx);
    exprs.push_back(g == 1 ? e : e.floorDiv(g));
  }
  return AffineMap::get(group.size(), 0, exprs, ctx);
}

/// `src` reduced over groups of shape `group` (one entry per dimension)
/// onto the grid ceil(shape / group), as python/sparsenn/pruning.py's
/// group_reduce (seed 003 [0142]-[0143], [0169]): remainder groups are
/// zero-padded for the reduction only, so the padded zeros count in the
/// mean's divisor. The padded tensor is viewed as [n0, g0, n1, g1, ...] and
/// reduced by one linalg.generic.
inline Value groupReduce(OpBuilder &b, Location loc, Value src,
                         ArrayRef<int64_t> group, GroupCombine combine) {
  auto type = cast<RankedTensorType>(src.getType());
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> grid = groupGrid(type.getShape(), group);
  SmallVector<int64_t> padded, split;
  SmallVector<OpFoldResult> low, high;
  SmallVector<ReassociationIndices> pairs;
  for (int64_t d = 0; d < rank; ++d) {
    padded.push_back(grid[d] * group[d]);
    split.append({grid[d], group[d]});
    low.push_back(b.getIndexAttr(0));
    high.push_back(b.getIndexAttr(padded[d] - type.getDimSize(d)));
    pairs.push_back({2 * d, 2 * d + 1});
  }
  if (ArrayRef<int64_t>(padded) != type.getShape()) {
    Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(elt, 0.0));
    src = tensor::PadOp::create(b, loc, RankedTensorType::get(padded, elt), src,
                                low, high, zero);
  }
  src = tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(split, elt),
                                      src, pairs);

  bool inF64 = combine != GroupCombine::MaxAbs;
  Type accElt = inF64 ? b.getF64Type() : elt;
  auto accType = RankedTensorType::get(grid, accElt);
  Value empty = tensor::EmptyOp::create(b, loc, grid, accElt);
  Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(accElt, 0.0));
  Value init = linalg::FillOp::create(b, loc, zero, empty)->getResult(0);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> outer;
  SmallVector<utils::IteratorType> iters;
  for (int64_t d = 0; d < rank; ++d) {
    outer.push_back(getAffineDimExpr(2 * d, ctx));
    iters.append(
        {utils::IteratorType::parallel, utils::IteratorType::reduction});
  }
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(2 * rank, ctx),
      AffineMap::get(2 * rank, 0, outer, ctx)};
  Value reduced = linalg::GenericOp::create(
                      b, loc, TypeRange{accType}, ValueRange{src},
                      ValueRange{init}, maps, iters,
                      [&](OpBuilder &nb, Location nl, ValueRange args) {
                        Scalar ns{nb, nl};
                        Value r;
                        switch (combine) {
                        case GroupCombine::MaxAbs:
                          r = ns.max(ns.abs(args[0]), args[1]);
                          break;
                        case GroupCombine::MeanAbs:
                          r = ns.add(ns.abs(ns.toF64(args[0])), args[1]);
                          break;
                        case GroupCombine::Sum:
                          r = ns.add(ns.toF64(args[0]), args[1]);
                          break;
                        }
                        linalg::YieldOp::create(nb, nl, r);
                      })
                      .getResult(0);
  if (combine != GroupCombine::MeanAbs)
    return reduced;
  double size = 1.0;
  for (int64_t g : group)
    size *= double(g);
  auto id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  return linalg::GenericOp::create(
             b, loc, TypeRange{accType}, ValueRange{reduced},
             ValueRange{tensor::EmptyOp::create(b, loc, grid, accElt)},
             SmallVector<AffineMap>(2, id),
             iterators(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Scalar ns{nb, nl};
               linalg::YieldOp::create(nb, nl, ns.div(args[0], ns.c(size)));
             })
      .getResult(0);
}

/// out[...] = f(ins[...]) element-wise in f64, the first input giving the
/// shape; `maps` (one per input, identity when empty) read the others.
inline Value mapF64(OpBuilder &b, Location loc, ValueRange ins,
                    ArrayRef<AffineMap> maps,
                    function_ref<Value(Scalar &, ValueRange)> f) {
  auto type = cast<RankedTensorType>(ins.front().getType());
  int64_t rank = type.getRank();
  auto outType = RankedTensorType::get(type.getShape(), b.getF64Type());
  auto id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  SmallVector<AffineMap> all(maps);
  if (all.empty())
    all.assign(ins.size(), id);
  all.push_back(id);
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ins,
             ValueRange{tensor::EmptyOp::create(b, loc, type.getShape(),
                                                b.getF64Type())},
             all, iterators(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Scalar ns{nb, nl};
               linalg::YieldOp::create(nb, nl, f(ns, args.drop_back()));
             })
      .getResult(0);
}

/// Batch normalisation's per-channel arithmetic (channels on axis 1 of a
/// rank-2 or rank-4 tensor). `ins` are x-shaped tensors or [C] tensors
/// (`perChannel`), read by one linalg.generic over x's shape; the body gets
/// the elements in f64.
inline SmallVector<AffineMap> channelMaps(MLIRContext *ctx, int64_t rank,
                                          ArrayRef<bool> perChannel) {
  SmallVector<AffineMap> maps;
  for (bool c : perChannel)
    maps.push_back(c ? AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx)
                     : AffineMap::getMultiDimIdentityMap(rank, ctx));
  return maps;
}

/// Σ over every axis but 1 of f(ins), per channel: an f64 [C] tensor.
inline Value channelSum(OpBuilder &b, Location loc, ValueRange ins,
                        ArrayRef<bool> perChannel,
                        function_ref<Value(Scalar &, ValueRange)> f) {
  auto type = cast<RankedTensorType>(ins.front().getType());
  int64_t rank = type.getRank(), channels = type.getDimSize(1);
  MLIRContext *ctx = b.getContext();
  Scalar s{b, loc};
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{channels}, s.f64());
  Value init = linalg::FillOp::create(b, loc, s.c(0.0), empty)->getResult(0);
  SmallVector<AffineMap> maps = channelMaps(ctx, rank, perChannel);
  maps.push_back(AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
  iters[1] = utils::IteratorType::parallel;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps,
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Scalar ns{nb, nl};
               SmallVector<Value> in;
               for (Value a : args.drop_back())
                 in.push_back(ns.toF64(a));
               linalg::YieldOp::create(nb, nl, ns.add(f(ns, in), args.back()));
             })
      .getResult(0);
}

/// f(ins) over x's shape, in `elt` (the body computes in f64).
inline Value channelMap(OpBuilder &b, Location loc, ValueRange ins,
                        ArrayRef<bool> perChannel, Type elt,
                        function_ref<Value(Scalar &, ValueRange)> f) {
  auto type = cast<RankedTensorType>(ins.front().getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = channelMaps(ctx, rank, perChannel);
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  return linalg::GenericOp::create(
             b, loc, TypeRange{RankedTensorType::get(type.getShape(), elt)},
             ins,
             ValueRange{tensor::EmptyOp::create(b, loc, type.getShape(), elt)},
             maps, iterators(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Scalar ns{nb, nl};
               SmallVector<Value> in;
               for (Value a : args.drop_back())
                 in.push_back(ns.toF64(a));
               linalg::YieldOp::create(nb, nl, ns.fromF64(f(ns, in), elt));
             })
      .getResult(0);
}

/// f(ins) element by element over [C] tensors (the body computes in f64):
/// a [C] tensor of `elt`, f64 when null.
inline Value mapChannels(OpBuilder &b, Location loc, ValueRange ins,
                         function_ref<Value(Scalar &, ValueRange)> f,
                         Type elt = {}) {
  if (!elt)
    elt = b.getF64Type();
  auto cType = cast<RankedTensorType>(ins.front().getType());
  auto id = AffineMap::getMultiDimIdentityMap(1, b.getContext());
  SmallVector<AffineMap> maps(ins.size() + 1, id);
  return linalg::GenericOp::create(
             b, loc, TypeRange{RankedTensorType::get(cType.getShape(), elt)},
             ins,
             ValueRange{tensor::EmptyOp::create(b, loc, cType.getShape(), elt)},
             maps, iterators(1, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Scalar ns{nb, nl};
               SmallVector<Value> in;
               for (Value a : args.drop_back())
                 in.push_back(ns.toF64(a));
               linalg::YieldOp::create(nb, nl, ns.fromF64(f(ns, in), elt));
             })
      .getResult(0);
}

/// The batch statistics of x per channel (f64 [C]): mean and population
/// variance over every axis but 1 (two passes), and 1/√(var + ε).
struct ChannelStats {
  Value mean, var, invStd;
  double count; ///< elements per channel
};
inline ChannelStats channelStats(OpBuilder &b, Location loc, Value x,
                                 double epsilon) {
  auto type = cast<RankedTensorType>(x.getType());
  double m = double(type.getNumElements()) / double(type.getDimSize(1));
  auto perC = [&](Value v, function_ref<Value(Scalar &, Value)> f) {
    return mapChannels(b, loc, {v},
                       [&](Scalar &ns, ValueRange a) { return f(ns, a[0]); });
  };
  Value mean = perC(channelSum(b, loc, {x}, {false},
                               [](Scalar &, ValueRange a) { return a[0]; }),
                    [&](Scalar &ns, Value v) { return ns.div(v, ns.c(m)); });
  Value var = perC(channelSum(b, loc, {x, mean}, {false, true},
                              [](Scalar &ns, ValueRange a) {
                                Value d = ns.sub(a[0], a[1]);
                                return ns.mul(d, d);
                              }),
                   [&](Scalar &ns, Value v) { return ns.div(v, ns.c(m)); });
  Value invStd = perC(var, [&](Scalar &ns, Value v) {
    return ns.div(ns.c(1.0), ns.sqrt(ns.add(v, ns.c(epsilon))));
  });
  return {mean, var, invStd, m};
}

/// The per-channel mean and 1/√(v + ε) (f64 [C]) a batch norm uses: the
/// batch's (`training`) or the running statistics.
inline std::pair<Value, Value> normStats(OpBuilder &b, Location loc, Value x,
                                         Value runningMean, Value runningVar,
                                         bool training, double epsilon) {
  if (training) {
    ChannelStats st = channelStats(b, loc, x, epsilon);
    return {st.mean, st.invStd};
  }
  Value invStd =
      mapChannels(b, loc, {runningVar}, [&](Scalar &ns, ValueRange a) {
        return ns.div(ns.c(1.0), ns.sqrt(ns.add(a[0], ns.c(epsilon))));
      });
  return {runningMean, invStd};
}

} // namespace training
} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_LIB_DIALECT_SPARSENN_TRANSFORMS_TRAININGMATH_H
