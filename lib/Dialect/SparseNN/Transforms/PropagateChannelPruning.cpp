//===- PropagateChannelPruning.cpp - remove unused data channels ----------===//
//
// Channel pruning of seed 003 [0176]-[0193] (FIG. 11a, 11b, 12). A target
// coefficient channel of a layer (all-zero input channel of its weights,
// [0182]) names a target data channel of the layer's input ([0184]); the
// runtime network then omits the filter of the preceding layer producing it
// and the coefficient channel itself ([0185]-[0186], [0192]), which saves
// weight and activation bandwidth and MACs ([0193]). Fully connected layers
// are handled the same way ([0187]-[0191]); "further processing logic"
// between the layers ([0177], [0188]) is followed when it is per-channel.
//
// Analysis: every tracked tensor value carries a channel layout (axis, block
// size: a flattened NCHW value has blocks of H*W columns per channel, and a
// channel count). One union-find node per (value, channel); per-channel ops
// unite their operand and result channels, so a class is a dependency group
// (a residual add ties the channels of both branches, a concat maps indices,
// a depthwise convolution ties its input and output channel). A class is
// removed when nothing outside the model sees it and every consuming layer
// either ignores it (zero coefficients) or reads a known constant that is
// folded into its bias. Constants are tracked per (value, channel): an
// all-zero filter makes its channel the bias value, which element-wise ops,
// pooling, padding and k-winners transform. Folding a constant k into a
// consumer adds k times the sum of the channel's coefficients to its bias:
// exact for linear layers and for convolutions without padding (with zero
// padding the border positions see fewer copies of k, so the channel stays).
// The outputs never change ([0185]: the runtime network computes the same).
//
// Grouped convolutions tie channel j of every group together (each group
// keeps the same number of channels). Refused, with a remark on the op where
// the analysis stops: function returns and calls, ops it does not model,
// k-winners <group> whose groups split channels, k-winners
// <global>/<local>/<group> without relu,
// duty cycles that are not constants, weights that are not float constants
// (an unevaluated sparsenn.prune, SPGC8-compressed weights).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNPROPAGATECHANNELPRUNINGPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// A statically shaped float constant, or null.
DenseElementsAttr getFloatConstant(Value value) {
  DenseElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return {};
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || !type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
    return {};
  return attr;
}

std::vector<double> toDoubles(DenseElementsAttr attr) {
  std::vector<double> values;
  if (attr.isSplat()) {
    values.assign(attr.getNumElements(),
                  attr.getSplatValue<APFloat>().convertToDouble());
    return values;
  }
  values.reserve(attr.getNumElements());
  for (APFloat v : attr.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

/// The elements of `values` (shape `shape`) at positions `c*block .. c*block +
/// block - 1` of dimension `dim` for every channel c in `keep`.
template <typename T>
std::vector<T> sliceChannels(const std::vector<T> &values,
                             ArrayRef<int64_t> shape, int64_t dim,
                             int64_t block, ArrayRef<int64_t> keep) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i)
    outer *= shape[i];
  for (int64_t i = dim + 1, e = shape.size(); i < e; ++i)
    inner *= shape[i];
  int64_t size = shape[dim];
  std::vector<T> result;
  result.reserve(outer * keep.size() * block * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c : keep)
      for (int64_t b = 0; b < block; ++b) {
        const T *row = &values[(o * size + c * block + b) * inner];
        result.insert(result.end(), row, row + inner);
      }
  return result;
}

/// Slices a constant along `dim` (see sliceChannels).
DenseElementsAttr sliceAttr(DenseElementsAttr attr, int64_t dim, int64_t block,
                            ArrayRef<int64_t> keep) {
  auto type = cast<RankedTensorType>(attr.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = keep.size() * block;
  auto newType = RankedTensorType::get(shape, type.getElementType());
  if (attr.isSplat())
    return DenseElementsAttr::get(newType, attr.getSplatValue<Attribute>());
  std::vector<APFloat> values(attr.getValues<APFloat>().begin(),
                              attr.getValues<APFloat>().end());
  std::vector<APFloat> sliced =
      sliceChannels(values, type.getShape(), dim, block, keep);
  return DenseElementsAttr::get(newType, sliced);
}

DenseElementsAttr fromDoubles(RankedTensorType type,
                              const std::vector<double> &values) {
  auto floatType = cast<FloatType>(type.getElementType());
  SmallVector<APFloat> result;
  result.reserve(values.size());
  for (double v : values) {
    APFloat f(v);
    bool lost;
    f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &lost);
    result.push_back(f);
  }
  return DenseElementsAttr::get(type, result);
}

/// The single value of channel `c` of a constant (dimension `dim`, `block`
/// positions per channel; dim < 0: the whole constant), if it is uniform.
std::optional<double> uniformChannelValue(DenseElementsAttr attr, int64_t dim,
                                          int64_t block, int64_t c) {
  if (attr.isSplat())
    return attr.getSplatValue<APFloat>().convertToDouble();
  std::vector<double> values = toDoubles(attr);
  if (dim >= 0) {
    auto shape = cast<RankedTensorType>(attr.getType()).getShape();
    values = sliceChannels(values, shape, dim, block, {c});
  }
  if (values.empty())
    return std::nullopt;
  for (double v : values)
    if (v != values.front())
      return std::nullopt;
  return values.front();
}

//===----------------------------------------------------------------------===//
// Analysis state
//===----------------------------------------------------------------------===//

/// How the channels of a tracked value are laid out.
struct Layout {
  int64_t axis = 1;
  int64_t block = 1;
  int64_t channels = 0;
  int64_t base = 0; // first union-find node
};

/// A layer reading channel `channel` of its input.
struct ConsumerUse {
  Operation *layer;
  int64_t node;
  int64_t channel;
  bool dead; // all coefficients of the channel are zero
};

/// Why a class must stay.
struct Blocker {
  Operation *op;
  std::string why;
};

struct FunctionAnalysis {
  llvm::MapVector<Value, Layout> layouts;
  std::vector<std::optional<double>> constant; // value of each node, if known
  llvm::EquivalenceClasses<int64_t> classes;
  std::map<int64_t, Blocker> blockers; // node -> first blocker
  std::vector<ConsumerUse> consumers;
  // Inputs of k-winners that rank across channels: removable only when <= 0.
  std::vector<int64_t> mustBeNonPositive;
  std::vector<std::pair<int64_t, Operation *>> foldRefusals;
  DenseMap<Operation *, int64_t> originalK; // k-winners k before the rewrite
  DenseSet<Operation *> understood;
  int64_t numNodes = 0;

  Layout &track(Value v, int64_t axis, int64_t block, int64_t channels) {
    Layout l{axis, block, channels, numNodes};
    numNodes += channels;
    constant.resize(numNodes);
    for (int64_t i = 0; i < channels; ++i)
      classes.insert(l.base + i);
    return layouts[v] = l;
  }
  const Layout *get(Value v) const {
    auto it = layouts.find(v);
    return it == layouts.end() ? nullptr : &it->second;
  }
  void unite(int64_t a, int64_t b) { classes.unionSets(a, b); }
  void block(int64_t node, Operation *op, const Twine &why) {
    blockers.emplace(node, Blocker{op, why.str()});
  }
  void blockValue(Value v, Operation *op, const Twine &why) {
    if (const Layout *l = get(v))
      for (int64_t c = 0; c < l->channels; ++c)
        block(l->base + c, op, why);
  }
};

bool isZero(std::optional<double> v) { return v && *v == 0.0; }

/// Scalar evaluation of an element-wise linalg.generic body.
std::optional<double> evalBody(Block &body,
                               ArrayRef<std::optional<double>> args) {
  DenseMap<Value, double> env;
  for (auto [arg, v] : llvm::zip(body.getArguments(), args))
    if (v)
      env[arg] = *v;
  auto get = [&](Value v) -> std::optional<double> {
    auto it = env.find(v);
    if (it != env.end())
      return it->second;
    // Scalars captured from above the region (e.g. relu's zero).
    FloatAttr attr;
    if (matchPattern(v, m_Constant(&attr)))
      return attr.getValueAsDouble();
    return std::nullopt;
  };
  for (Operation &op : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op))
      return yield.getNumOperands() == 1 ? get(yield.getOperand(0))
                                         : std::nullopt;
    std::optional<double> r;
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      if (auto f = dyn_cast<FloatAttr>(c.getValue()))
        r = f.getValueAsDouble();
    } else if (op.getNumOperands() == 1 && isa<arith::NegFOp>(op)) {
      if (auto a = get(op.getOperand(0)))
        r = -*a;
    } else if (op.getNumOperands() == 2) {
      auto a = get(op.getOperand(0)), b = get(op.getOperand(1));
      if (a && b) {
        if (isa<arith::AddFOp>(op))
          r = *a + *b;
        else if (isa<arith::SubFOp>(op))
          r = *a - *b;
        else if (isa<arith::MulFOp>(op))
          r = *a * *b;
        else if (isa<arith::DivFOp>(op) && *b != 0.0)
          r = *a / *b;
        else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
          r = std::max(*a, *b);
        else if (isa<arith::MinimumFOp, arith::MinNumFOp>(op))
          r = std::min(*a, *b);
      }
    }
    if (!r)
      return std::nullopt;
    env[op.getResult(0)] = *r;
  }
  return std::nullopt;
}

/// Float value of a scalar constant.
std::optional<double> scalarConstant(Value v) {
  FloatAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    return attr.getValueAsDouble();
  return std::nullopt;
}

/// The fill value of a linalg.fill init, if it is one.
std::optional<double> fillValue(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return scalarConstant(fill.getInputs()[0]);
  return std::nullopt;
}

/// True when `init` can be rebuilt with a smaller shape.
bool isRebuildableInit(Value init) {
  if (init.getDefiningOp<tensor::EmptyOp>())
    return true;
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() != nullptr;
  if (DenseElementsAttr attr = getFloatConstant(init))
    return attr.isSplat();
  return false;
}

Value rebuildInit(OpBuilder &b, Location loc, Value init,
                  RankedTensorType type) {
  if (init.getDefiningOp<tensor::EmptyOp>())
    return tensor::EmptyOp::create(b, loc, type.getShape(),
                                   type.getElementType());
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    Value empty =
        tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
    return fill.getNumResults() == 1
               ? linalg::FillOp::create(b, loc, fill.getInputs()[0], empty)
                     .getResult(0)
               : Value();
  }
  DenseElementsAttr attr = getFloatConstant(init);
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, attr.getSplatValue<Attribute>()));
}

/// The (logical) shape of layer weights: a tensor or SPGC8 weights.
SmallVector<int64_t> weightShape(Value weight) {
  if (auto t = dyn_cast<RankedTensorType>(weight.getType()))
    return SmallVector<int64_t>(t.getShape());
  if (auto t = dyn_cast<SPGC8Type>(weight.getType()))
    return SmallVector<int64_t>(t.getShape());
  return {};
}

std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op->getName() << "'";
  return s;
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct LayerReport {
  std::string name;
  int64_t inBefore = 0, inAfter = 0, outBefore = 0, outAfter = 0;
  int64_t paramsBefore = 0, paramsAfter = 0, macsBefore = 0, macsAfter = 0;
};

int64_t layerParams(Operation *layer) {
  int64_t n = 0;
  for (Value v : layer->getOperands().drop_front()) {
    int64_t elements = 1;
    for (int64_t d : weightShape(v))
      elements *= d;
    n += elements;
  }
  return n;
}

int64_t layerMacs(Operation *layer) {
  auto out = cast<RankedTensorType>(layer->getResult(0).getType());
  SmallVector<int64_t> w = weightShape(layer->getOperand(1));
  int64_t perOutput = 1;
  for (int64_t d : ArrayRef<int64_t>(w).drop_front())
    perOutput *= d;
  return out.getNumElements() * perOutput;
}

struct SparseNNPropagateChannelPruningPass
    : public sparsenn::impl::SparseNNPropagateChannelPruningPassBase<
          SparseNNPropagateChannelPruningPass> {
  using Base::Base;

  std::vector<LayerReport> reports;

  //===--------------------------------------------------------------------===//
  // Analysis: one forward walk over the function body.
  //===--------------------------------------------------------------------===//

  /// Records a layer (linear / conv2d) as consumer of its input and producer
  /// of its result.
  void analyzeLayer(FunctionAnalysis &fa, Operation *layer) {
    Value input = layer->getOperand(0);
    DenseElementsAttr weight = getFloatConstant(layer->getOperand(1));
    Value biasValue =
        layer->getNumOperands() > 2 ? layer->getOperand(2) : Value();
    DenseElementsAttr bias =
        biasValue ? getFloatConstant(biasValue) : DenseElementsAttr();
    auto conv = dyn_cast<Conv2DOp>(layer);
    auto outType = cast<RankedTensorType>(layer->getResult(0).getType());
    int64_t outAxis = conv ? 1 : outType.getRank() - 1;
    int64_t groups = conv ? conv.getGroups() : 1;
    SmallVector<int64_t> wType = weightShape(layer->getOperand(1));
    int64_t cout = wType[0];
    bool depthwise = conv && groups > 1 && wType[1] == 1 && cout == groups;
    bool zeroPadding = !conv || llvm::all_of(conv.getPadding(),
                                             [](int64_t p) { return p == 0; });

    for (Value v : layer->getOperands().drop_front())
      fa.blockValue(v, layer, "used as weights or bias");
    fa.understood.insert(layer);
    // Copy: track() may reallocate the layout table.
    std::optional<Layout> in;
    if (const Layout *l = fa.get(input))
      in = *l;
    if (isa<SPGC8Type>(layer->getOperand(1).getType()))
      layer->emitRemark("weights are SPGC8-compressed: channel pruning "
                        "leaves this layer alone (run it before "
                        "--sparsenn-compress-weights)");
    if (!weight && layer->getOperand(1).getDefiningOp<PruneOp>())
      layer->emitRemark("weights come from a 'sparsenn.prune' that is not "
                        "evaluated: run --sparsenn-prune-weights first so "
                        "that its channel mask becomes removable channels");
    Layout out = fa.track(layer->getResult(0), outAxis, 1, cout);
    std::vector<double> w = weight ? toDoubles(weight) : std::vector<double>();
    std::vector<double> b = bias ? toDoubles(bias) : std::vector<double>();
    int64_t perFilter = weight ? weight.getNumElements() / cout : 0;

    // Output side: each filter produces one channel ([0180]).
    if (!weight || (biasValue && !bias)) {
      for (int64_t o = 0; o < cout; ++o)
        fa.block(out.base + o, layer,
                 "weights or bias are not float constants");
    } else {
      // Grouped (not depthwise): every group must keep the same number of
      // filters, so filter j of each group goes with filter j of the others
      // (tied channels; a dependency group across the groups).
      if (groups > 1 && !depthwise)
        for (int64_t o = 0; o < cout; ++o)
          fa.unite(out.base + o % (cout / groups), out.base + o);
      for (int64_t o = 0; o < cout; ++o) {
        bool zeroFilter = true;
        for (int64_t i = 0; i < perFilter && zeroFilter; ++i)
          zeroFilter = w[o * perFilter + i] == 0.0;
        double bo = bias ? b[o] : 0.0;
        if (zeroFilter)
          fa.constant[out.base + o] = bo;
        else if (depthwise && in && fa.constant[in->base + o] &&
                 (zeroPadding || isZero(fa.constant[in->base + o]))) {
          double sum = 0.0;
          for (int64_t i = 0; i < perFilter; ++i)
            sum += w[o * perFilter + i];
          fa.constant[out.base + o] = bo + *fa.constant[in->base + o] * sum;
        }
      }
    }

    // Input side. Coefficient channel c: columns [c*block, (c+1)*block) of a
    // linear weight, the slice w[:, c] of a conv weight ([0179], [0190]);
    // with groups, w[o, c % (C_in/groups)] for the filters o of c's group.
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t inAxis = conv ? 1 : inType.getRank() - 1;
    int64_t block = in ? in->block : 1;
    int64_t channels = in ? in->channels : inType.getDimSize(inAxis) / block;
    int64_t inner = conv ? wType[2] * wType[3] : 1;
    int64_t cols = wType[1];
    int64_t perGroup = std::max<int64_t>(cols / block, 1);
    int64_t coutPerGroup = cout / groups;
    auto isDead = [&](int64_t c) {
      int64_t g = c / perGroup, local = c % perGroup;
      for (int64_t o = g * coutPerGroup; o < (g + 1) * coutPerGroup; ++o)
        for (int64_t j = local * block * inner; j < (local + 1) * block * inner;
             ++j)
          if (w[o * cols * inner + j] != 0.0)
            return false;
      return true;
    };
    if (!in && depthwise) {
      // Tied channels whose input side cannot shrink.
      for (int64_t o = 0; o < cout; ++o)
        fa.block(out.base + o, layer,
                 "depthwise convolution whose input is not followed: its "
                 "channels are tied to the input's");
      return;
    }
    if (!in) {
      // The input is not followed (a function argument or an op the
      // analysis does not model): say so when channels were unused.
      if (!weight || depthwise)
        return;
      int64_t dead = 0;
      for (int64_t c = 0; c < channels; ++c)
        dead += isDead(c);
      if (dead == 0)
        return;
      Operation *def = input.getDefiningOp();
      layer->emitRemark()
          << dead << " unused input channel(s) kept: the input comes from "
          << (def ? describe(def) : std::string("a function argument"))
          << ", which channel pruning does not follow";
      return;
    }
    if (depthwise) {
      // Tied channels: input channel c feeds exactly filter c.
      for (int64_t c = 0; c < in->channels; ++c)
        fa.unite(in->base + c, out.base + c);
      return;
    }
    if (!weight) {
      fa.blockValue(input, layer, "weights are not a float constant");
      return;
    }
    if (in->axis != inAxis) {
      fa.blockValue(input, layer, "channels are not on the feature axis");
      return;
    }
    for (int64_t c = 0; c < in->channels; ++c) {
      bool dead = isDead(c);
      fa.consumers.push_back({layer, in->base + c, c, dead});
      std::optional<double> k = fa.constant[in->base + c];
      if (!dead && k && *k != 0.0 && !zeroPadding)
        fa.foldRefusals.push_back({in->base + c, layer});
    }
    // Grouped: input channel j of each group goes with channel j of the
    // others, so that every group keeps C_in/groups channels.
    if (groups > 1)
      for (int64_t c = 0; c < in->channels; ++c)
        fa.unite(in->base + c % perGroup, in->base + c);
  }

  /// Unites operand and result channels of an element-wise op and computes
  /// the result constants; `constOperands` are sliced along the channel.
  void analyzeElementwise(FunctionAnalysis &fa, Operation *op,
                          const Layout &l) {
    Value result = op->getResult(0);
    fa.understood.insert(op);
    Layout out = fa.track(result, l.axis, l.block, l.channels);
    for (int64_t c = 0; c < l.channels; ++c)
      fa.unite(l.base + c, out.base + c);
    for (Value operand : op->getOperands())
      if (const Layout *ol = fa.get(operand))
        for (int64_t c = 0; c < l.channels; ++c)
          fa.unite(ol->base + c, out.base + c);
  }

  void analyzeOp(FunctionAnalysis &fa, Operation *op) {
    if (isa<LinearOp, Conv2DOp>(op))
      return analyzeLayer(fa, op);

    // The tracked operands.
    SmallVector<Value> tracked;
    for (Value v : op->getOperands())
      if (fa.get(v))
        tracked.push_back(v);
    if (tracked.empty())
      return;
    const Layout l = *fa.get(tracked.front());
    auto sameShape = [&](Value v) {
      return v.getType() == tracked.front().getType();
    };
    if (!isa<tensor::ConcatOp>(op) && llvm::any_of(tracked, [&](Value v) {
          const Layout *o = fa.get(v);
          return o->axis != l.axis || o->block != l.block ||
                 o->channels != l.channels;
        })) {
      for (Value v : tracked)
        fa.blockValue(v, op, "operands with different channel layouts");
      return;
    }

    // Binary and unary arith element-wise ops.
    bool isArith = isa<arith::AddFOp, arith::SubFOp, arith::MulFOp,
                       arith::DivFOp, arith::MaximumFOp, arith::MinimumFOp,
                       arith::MaxNumFOp, arith::MinNumFOp, arith::NegFOp>(op);
    if (isArith && !llvm::all_of(op->getOperands(), [&](Value v) {
          return sameShape(v) && (fa.get(v) || getFloatConstant(v));
        })) {
      for (Value v : tracked)
        fa.blockValue(v, op,
                      "an operand is neither a tracked channel value nor a "
                      "constant (e.g. a function argument)");
      return;
    }
    if (isArith) {
      analyzeElementwise(fa, op, l);
      const Layout &out = *fa.get(op->getResult(0));
      for (int64_t c = 0; c < l.channels; ++c) {
        SmallVector<std::optional<double>> vals;
        for (Value v : op->getOperands()) {
          if (const Layout *ol = fa.get(v))
            vals.push_back(fa.constant[ol->base + c]);
          else
            vals.push_back(
                uniformChannelValue(getFloatConstant(v), l.axis, l.block, c));
        }
        std::optional<double> r;
        if (llvm::all_of(vals, [](auto v) { return v.has_value(); })) {
          double a = *vals[0], b = vals.size() > 1 ? *vals[1] : 0.0;
          if (isa<arith::AddFOp>(op))
            r = a + b;
          else if (isa<arith::SubFOp>(op))
            r = a - b;
          else if (isa<arith::MulFOp>(op))
            r = a * b;
          else if (isa<arith::DivFOp>(op)) {
            if (b != 0.0)
              r = a / b;
          } else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
            r = std::max(a, b);
          else if (isa<arith::MinimumFOp, arith::MinNumFOp>(op))
            r = std::min(a, b);
          else if (isa<arith::NegFOp>(op))
            r = -a;
        } else if (isa<arith::MulFOp>(op) &&
                   llvm::any_of(vals, [](auto v) { return isZero(v); })) {
          r = 0.0;
        }
        fa.constant[out.base + c] = r;
      }
      return;
    }

    if (auto threshold = dyn_cast<ThresholdOp>(op)) {
      analyzeElementwise(fa, op, l);
      const Layout &out = *fa.get(op->getResult(0));
      double t = threshold.getThreshold().convertToDouble();
      for (int64_t c = 0; c < l.channels; ++c)
        if (auto k = fa.constant[l.base + c])
          fa.constant[out.base + c] = *k > t ? *k : 0.0;
      return;
    }

    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      return analyzeGeneric(fa, generic, l);

    if (isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op)) {
      auto pool = cast<linalg::LinalgOp>(op);
      Value input = pool.getDpsInputs()[0];
      Value init = pool.getDpsInits()[0];
      if (!fa.get(input) || fa.get(pool.getDpsInputs()[1]) || l.axis != 1 ||
          l.block != 1 || !isRebuildableInit(init)) {
        for (Value v : tracked)
          fa.blockValue(v, op, "pooling whose init cannot be rebuilt");
        return;
      }
      analyzeElementwise(fa, op, l);
      const Layout &out = *fa.get(op->getResult(0));
      std::optional<double> initValue = fillValue(init);
      if (DenseElementsAttr a = getFloatConstant(init))
        initValue = a.getSplatValue<APFloat>().convertToDouble();
      auto window = cast<ShapedType>(pool.getDpsInputs()[1].getType());
      for (int64_t c = 0; c < l.channels; ++c) {
        auto k = fa.constant[l.base + c];
        if (!k || !initValue)
          continue;
        fa.constant[out.base + c] =
            isa<linalg::PoolingNchwMaxOp>(op)
                ? std::max(*initValue, *k)
                : *initValue + *k * double(window.getNumElements());
      }
      return;
    }

    if (auto pad = dyn_cast<tensor::PadOp>(op)) {
      std::optional<double> padValue;
      if (Value cst = pad.getConstantPaddingValue())
        padValue = scalarConstant(cst);
      bool channelPadded =
          pad.getStaticLow()[l.axis] != 0 || pad.getStaticHigh()[l.axis] != 0;
      if (!padValue || channelPadded || l.block != 1) {
        fa.blockValue(pad.getSource(), op,
                      "padding that is not constant or pads the channel axis");
        return;
      }
      analyzeElementwise(fa, op, l);
      const Layout &out = *fa.get(op->getResult(0));
      for (int64_t c = 0; c < l.channels; ++c)
        if (auto k = fa.constant[l.base + c]; k && *k == *padValue)
          fa.constant[out.base + c] = k;
      return;
    }

    if (auto kw = dyn_cast<KWinnersOp>(op))
      return analyzeKWinners(fa, kw, l);

    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      auto srcType = collapse.getSrcType();
      auto reassoc = collapse.getReassociationIndices();
      bool flatten = srcType.getRank() == 4 && l.axis == 1 &&
                     reassoc.size() == 2 && reassoc[0].size() == 1 &&
                     reassoc[1].size() == 3;
      if (!flatten) {
        fa.blockValue(collapse.getSrc(), op,
                      "reshape other than [B, C, H, W] -> [B, C*H*W]");
        return;
      }
      // A channel becomes a block of H*W columns.
      int64_t hw = srcType.getDimSize(2) * srcType.getDimSize(3);
      fa.understood.insert(op);
      Layout out = fa.track(collapse.getResult(), 1, l.block * hw, l.channels);
      for (int64_t c = 0; c < l.channels; ++c) {
        fa.unite(l.base + c, out.base + c);
        fa.constant[out.base + c] = fa.constant[l.base + c];
      }
      return;
    }

    if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      int64_t dim = concat.getDim();
      bool ok = dim == l.axis;
      for (Value v : concat.getInputs()) {
        const Layout *ol = fa.get(v);
        int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(dim);
        ok &= ol ? (ol->axis == l.axis && ol->block == l.block)
                 : size % l.block == 0;
      }
      if (!ok) {
        for (Value v : tracked)
          fa.blockValue(v, op, "concatenation along another axis");
        return;
      }
      int64_t total = concat.getResultType().getDimSize(dim) / l.block;
      fa.understood.insert(op);
      Layout out = fa.track(concat.getResult(), l.axis, l.block, total);
      int64_t offset = 0;
      for (Value v : concat.getInputs()) {
        const Layout *ol = fa.get(v);
        int64_t n =
            cast<RankedTensorType>(v.getType()).getDimSize(dim) / l.block;
        for (int64_t c = 0; c < n; ++c) {
          if (ol) {
            fa.unite(ol->base + c, out.base + offset + c);
            fa.constant[out.base + offset + c] = fa.constant[ol->base + c];
          } else {
            fa.block(out.base + offset + c, op,
                     "operand comes from outside the analysed graph");
          }
        }
        offset += n;
      }
      return;
    }

    // Anything else is a boundary (see runOnFunction).
  }

  void analyzeGeneric(FunctionAnalysis &fa, linalg::GenericOp generic,
                      const Layout &l) {
    Operation *op = generic;
    auto blockAll = [&](const Twine &why) {
      for (Value v : op->getOperands())
        fa.blockValue(v, op, why);
    };
    if (generic.getNumDpsInits() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops() ||
        generic.hasIndexSemantics()) {
      return blockAll("not an element-wise linalg.generic");
    }
    auto resultType = cast<RankedTensorType>(generic.getResult(0).getType());
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    // Tracked inputs and the init use the identity map; constants use a
    // projected permutation (broadcast per-channel constants).
    for (OpOperand &operand : generic->getOpOperands()) {
      AffineMap map = maps[operand.getOperandNumber()];
      Value v = operand.get();
      bool isInit = generic.isDpsInit(&operand);
      if (fa.get(v) || isInit) {
        if (!map.isIdentity() || v.getType() != resultType)
          return blockAll("not an element-wise linalg.generic");
        if (isInit && !fa.get(v) && !isRebuildableInit(v))
          return blockAll("linalg.generic whose init cannot be rebuilt");
        continue;
      }
      if (!getFloatConstant(v) || !map.isProjectedPermutation())
        return blockAll("linalg.generic operand that is neither tracked nor "
                        "a constant");
    }
    if (fa.get(generic.getDpsInits()[0]) &&
        generic.getMatchingBlockArgument(&generic.getDpsInitsMutable()[0])
                .use_empty() == false)
      return blockAll("linalg.generic reading its init");
    analyzeElementwise(fa, op, l);
    const Layout &out = *fa.get(op->getResult(0));
    Block &body = generic.getRegion().front();
    for (int64_t c = 0; c < l.channels; ++c) {
      SmallVector<std::optional<double>> args;
      for (OpOperand &operand : generic->getOpOperands()) {
        Value v = operand.get();
        if (const Layout *ol = fa.get(v)) {
          args.push_back(fa.constant[ol->base + c]);
          continue;
        }
        DenseElementsAttr attr = getFloatConstant(v);
        if (!attr) {
          args.push_back(fillValue(v));
          continue;
        }
        AffineMap map = maps[operand.getOperandNumber()];
        std::optional<unsigned> pos =
            map.getResultPosition(getAffineDimExpr(l.axis, v.getContext()));
        args.push_back(
            uniformChannelValue(attr, pos ? int64_t(*pos) : -1, l.block, c));
      }
      fa.constant[out.base + c] = evalBody(body, args);
    }
  }

  void analyzeKWinners(FunctionAnalysis &fa, KWinnersOp kw, const Layout &l) {
    Operation *op = kw;
    if (fa.get(kw.getDutyCycle()) || l.axis != 1) {
      fa.blockValue(kw.getInput(), op, "k-winners layout not understood");
      fa.blockValue(kw.getDutyCycle(), op, "k-winners layout not understood");
      return;
    }
    KWinnersMode mode = kw.getMode();
    int64_t channelsPerGroup = 0;
    if (mode == KWinnersMode::group) {
      // Groups of whole channels only; channel j of every group is then tied
      // to channel j of the others, so that all groups keep the same size.
      int64_t spatial = 1;
      for (int64_t d : kw.getInput().getType().getShape().drop_front(2))
        spatial *= d;
      int64_t groupSize = *kw.getGroupSize();
      if (l.block != 1 || groupSize % spatial != 0) {
        fa.blockValue(kw.getInput(), op,
                      "k-winners <group> whose groups split channels: "
                      "removing a channel would shift the group boundaries");
        return;
      }
      channelsPerGroup = groupSize / spatial;
    }
    if (mode != KWinnersMode::channel && !kw.getRelu()) {
      fa.blockValue(kw.getInput(), op,
                    Twine("k-winners <") + stringifyKWinnersMode(mode) +
                        "> without relu: a removed channel could change the "
                        "winners");
      return;
    }
    if (Value duty = kw.getDutyCycle(); duty && !getFloatConstant(duty)) {
      fa.blockValue(kw.getInput(), op,
                    "k-winners duty cycle is not a constant (shrinking "
                    "state would change the function signature)");
      return;
    }
    fa.originalK[op] = kw.getEffectiveK();
    // One channel per group: removing it removes a whole group, which
    // leaves the others as they are (no tie needed).
    if (channelsPerGroup > 1)
      for (int64_t c = 0; c < l.channels; ++c)
        fa.unite(l.base + c % channelsPerGroup, l.base + c);
    analyzeElementwise(fa, op, l);
    const Layout &out = *fa.get(op->getResult(0));
    for (int64_t c = 0; c < l.channels; ++c) {
      if (mode != KWinnersMode::channel)
        fa.mustBeNonPositive.push_back(l.base + c);
      std::optional<double> k = fa.constant[l.base + c];
      if (isZero(k) || (k && *k <= 0.0 && kw.getRelu()))
        fa.constant[out.base + c] = 0.0;
      // <channel> without break_ties: a uniform channel ties everywhere (its
      // boost factor is per channel), so every position wins.
      else if (k && mode == KWinnersMode::channel && !kw.getBreakTies())
        fa.constant[out.base + c] = (*k > 0.0 || !kw.getRelu()) ? *k : 0.0;
    }
  }

  //===--------------------------------------------------------------------===//
  // Decision
  //===--------------------------------------------------------------------===//

  /// The kept channels of every tracked value.
  DenseMap<Value, SmallVector<int64_t>> decide(FunctionAnalysis &fa) {
    // Per class: can it go, ignoring blockers?
    // Only classes with evidence are candidates: a consumer ignoring the
    // channel ([0182] target coefficient channel) or a known constant value
    // (an all-zero filter).
    std::map<int64_t, bool> candidate;
    auto leader = [&](int64_t n) { return fa.classes.getLeaderValue(n); };
    for (int64_t n = 0; n < fa.numNodes; ++n)
      if (fa.constant[n])
        candidate.emplace(leader(n), true);
    for (const ConsumerUse &u : fa.consumers)
      if (u.dead)
        candidate.emplace(leader(u.node), true);
    std::map<int64_t, const Blocker *> blockedBy;
    for (auto &[node, blocker] : fa.blockers)
      blockedBy.emplace(leader(node), &blocker);
    auto isCandidate = [&](int64_t node) {
      auto it = candidate.find(leader(node));
      return it != candidate.end() && it->second;
    };
    for (const ConsumerUse &u : fa.consumers) {
      std::optional<double> k = fa.constant[u.node];
      if (!u.dead && !k && isCandidate(u.node))
        candidate[leader(u.node)] = false;
    }
    for (auto [node, layer] : fa.foldRefusals) {
      if (!isCandidate(node))
        continue;
      if (!blockedBy.count(leader(node)))
        layer->emitRemark("channel ")
            << node - fa.get(layer->getOperand(0))->base
            << " of the input is the constant " << *fa.constant[node]
            << " but the layer pads with zeros: its contribution depends on "
               "the position, channel kept";
      candidate[leader(node)] = false;
    }
    for (int64_t n : fa.mustBeNonPositive)
      if (!(fa.constant[n] && *fa.constant[n] <= 0.0) && isCandidate(n))
        candidate[leader(n)] = false;

    std::set<int64_t> removed;
    for (auto [root, ok] : candidate)
      if (ok && !blockedBy.count(root))
        removed.insert(root);

    // Never remove every channel of a value: keep its first channel.
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto &[v, l] : fa.layouts) {
        bool all = true;
        for (int64_t c = 0; c < l.channels && all; ++c)
          all = removed.count(leader(l.base + c));
        if (all && l.channels > 0) {
          removed.erase(leader(l.base));
          changed = true;
        }
      }
    }

    // Remarks at the blocking ops, one per op and reason.
    std::map<std::pair<Operation *, std::string>, std::set<int64_t>> refused;
    for (auto [root, ok] : candidate)
      if (ok && blockedBy.count(root)) {
        const Blocker *b = blockedBy[root];
        refused[{b->op, b->why}].insert(root);
      }
    for (auto &[key, roots] : refused)
      key.first->emitRemark("channel pruning stops at ")
          << describe(key.first) << ": " << key.second << "; " << roots.size()
          << " removable channel(s) kept";

    DenseMap<Value, SmallVector<int64_t>> keep;
    for (auto &[v, l] : fa.layouts) {
      SmallVector<int64_t> kept;
      for (int64_t c = 0; c < l.channels; ++c)
        if (!removed.count(leader(l.base + c)))
          kept.push_back(c);
      keep[v] = kept;
    }
    return keep;
  }

  //===--------------------------------------------------------------------===//
  // Rewrite
  //===--------------------------------------------------------------------===//

  RankedTensorType shrunkType(Value v, const Layout &l, size_t kept) {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[l.axis] = kept * l.block;
    return RankedTensorType::get(shape, type.getElementType());
  }

  Value sliceConstant(OpBuilder &b, Location loc, Value v, int64_t dim,
                      int64_t block, ArrayRef<int64_t> keep) {
    DenseElementsAttr attr = getFloatConstant(v);
    return arith::ConstantOp::create(b, loc, sliceAttr(attr, dim, block, keep));
  }

  void rewriteLayer(FunctionAnalysis &fa, Operation *layer,
                    DenseMap<Value, SmallVector<int64_t>> &keep) {
    Value input = layer->getOperand(0);
    Value result = layer->getResult(0);
    const Layout *in = fa.get(input);
    const Layout &out = *fa.get(result);
    auto conv = dyn_cast<Conv2DOp>(layer);
    SmallVector<int64_t> wType = weightShape(layer->getOperand(1));
    bool depthwise = conv && conv.getGroups() > 1 && wType[1] == 1 &&
                     wType[0] == int64_t(conv.getGroups());
    SmallVector<int64_t> keepOut = keep[result];
    SmallVector<int64_t> keepIn = in ? keep[input] : SmallVector<int64_t>();
    bool shrinkIn = in && !depthwise && int64_t(keepIn.size()) != in->channels;
    bool shrinkOut = int64_t(keepOut.size()) != out.channels;

    LayerReport report;
    {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << layer->getName();
      if (auto loc = dyn_cast<FileLineColLoc>(layer->getLoc()))
        os << " at " << loc.getLine() << ":" << loc.getColumn();
      report.name = s;
    }
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t inAxis = conv ? 1 : inType.getRank() - 1;
    report.inBefore = in ? in->channels : inType.getDimSize(inAxis);
    report.outBefore = out.channels;
    report.paramsBefore = layerParams(layer);
    report.macsBefore = layerMacs(layer);
    report.inAfter =
        in ? (depthwise ? keepOut.size() : keepIn.size()) : report.inBefore;
    report.outAfter = keepOut.size();

    if (shrinkIn || shrinkOut) {
      OpBuilder b(layer);
      Location loc = layer->getLoc();
      DenseElementsAttr weight = getFloatConstant(layer->getOperand(1));
      auto weightShape = cast<RankedTensorType>(weight.getType()).getShape();
      std::vector<double> w = toDoubles(weight);
      int64_t cout = weightShape[0];
      int64_t cols = weightShape[1];
      int64_t inner = conv ? weightShape[2] * weightShape[3] : 1;
      // Fold constant removed channels into the bias ([0185] keeps outputs).
      std::vector<double> bias(cout, 0.0);
      bool hasBias = layer->getNumOperands() > 2;
      if (hasBias)
        bias = toDoubles(getFloatConstant(layer->getOperand(2)));
      bool folded = false;
      // Groups: channel c is column c % inPerGroup of the filters of group
      // c / inPerGroup (one group for linear layers).
      int64_t groups = conv ? conv.getGroups() : 1;
      int64_t inPerGroup = in ? in->channels / groups : 0;
      int64_t outPerGroup = cout / groups;
      if (shrinkIn) {
        std::set<int64_t> kept(keepIn.begin(), keepIn.end());
        for (int64_t c = 0; c < in->channels; ++c) {
          std::optional<double> k = fa.constant[in->base + c];
          if (kept.count(c) || !k || *k == 0.0)
            continue;
          int64_t g = c / inPerGroup, local = c % inPerGroup;
          for (int64_t o = g * outPerGroup; o < (g + 1) * outPerGroup; ++o) {
            double sum = 0.0;
            for (int64_t j = local * in->block * inner;
                 j < (local + 1) * in->block * inner; ++j)
              sum += w[o * cols * inner + j];
            if (sum != 0.0) {
              bias[o] += *k * sum;
              folded = true;
            }
          }
        }
      }
      // Weights: filters along dimension 0, coefficient channels along 1.
      DenseElementsAttr newWeight = weight;
      if (shrinkOut)
        newWeight = sliceAttr(newWeight, 0, 1, keepOut);
      if (shrinkIn) {
        // Tied across groups: the kept local columns are those of group 0.
        SmallVector<int64_t> keepLocal;
        for (int64_t c : keepIn)
          if (c < inPerGroup)
            keepLocal.push_back(c);
        newWeight = sliceAttr(newWeight, 1, in->block, keepLocal);
      }
      // Old constants are erased by runOnFunction once unused.
      layer->setOperand(1, arith::ConstantOp::create(b, loc, newWeight));
      if (hasBias || folded) {
        auto biasType = RankedTensorType::get(
            {cout}, cast<RankedTensorType>(weight.getType()).getElementType());
        DenseElementsAttr newBias = fromDoubles(biasType, bias);
        if (hasBias && !folded)
          newBias = getFloatConstant(layer->getOperand(2));
        if (shrinkOut)
          newBias = sliceAttr(newBias, 0, 1, keepOut);
        Value biasValue = arith::ConstantOp::create(b, loc, newBias);
        if (hasBias) {
          layer->setOperand(2, biasValue);
        } else {
          layer->insertOperands(2, biasValue);
        }
      }
      if (shrinkOut)
        result.setType(shrunkType(result, out, keepOut.size()));
      if (depthwise && shrinkOut)
        conv.setGroups(keepOut.size());
      if (layer->hasAttr("sparsity"))
        layer->removeAttr("sparsity"); // density facts no longer hold
      if (verbose)
        layer->emitRemark()
            << "removed " << report.inBefore - report.inAfter
            << " input channel(s) and " << report.outBefore - report.outAfter
            << " output filter(s)"
            << (folded ? ", constants folded into the bias" : "");
    }
    report.paramsAfter = layerParams(layer);
    report.macsAfter = layerMacs(layer);
    reports.push_back(report);
  }

  LogicalResult rewriteOp(FunctionAnalysis &fa, Operation *op,
                          DenseMap<Value, SmallVector<int64_t>> &keep) {
    if (isa<LinearOp, Conv2DOp>(op)) {
      rewriteLayer(fa, op, keep);
      return success();
    }
    if (op->getNumResults() != 1 || !fa.get(op->getResult(0)))
      return success();
    Value result = op->getResult(0);
    const Layout &out = *fa.get(result);
    SmallVector<int64_t> &kept = keep[result];
    if (int64_t(kept.size()) == out.channels)
      return success();
    OpBuilder b(op);
    Location loc = op->getLoc();
    RankedTensorType newType = shrunkType(result, out, kept.size());

    if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      // Operands are tracked (they shrank already) or fully kept.
      result.setType(newType);
      return success();
    }
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      result.setType(newType);
      return success();
    }
    if (auto pad = dyn_cast<tensor::PadOp>(op)) {
      result.setType(newType);
      return success();
    }
    if (auto kw = dyn_cast<KWinnersOp>(op)) {
      // k-winners and the removed channels (seed 000 [0045]-[0047]):
      // - <channel>: the domain is H*W of one channel, k is unchanged;
      // - <global>, <local> (relu only): the removed channels were <= 0 and
      //   never won, nor did they move the k-th largest value, so the same
      //   winners remain with the same count: k becomes the original
      //   effective k written explicitly (a `density` would rescale with the
      //   smaller domain), clamped to the new domain size n. The boost
      //   target density k/n changes, but it multiplies every unit of a
      //   domain by the same exp(beta * k/n), so the ranking does not;
      // - <group> (relu only, groups of whole channels): channel j of each
      //   group went with channel j of the others, so every group lost the
      //   same channels; as for <global>, k stays the original count,
      //   clamped to the new group size.
      // Duty cycles (per channel) must be constants and are sliced; one
      // that is a function argument is state owned by the caller, and
      // shrinking it would change the signature, so the analysis refuses.
      int64_t k = fa.originalK.lookup(op);
      if (Value duty = kw.getDutyCycle())
        kw.getDutyCycleMutable().assign(
            sliceConstant(b, loc, duty, 0, out.block, kept));
      result.setType(newType);
      int64_t spatial = 1;
      for (int64_t d : kw.getInput().getType().getShape().drop_front(2))
        spatial *= d;
      if (kw.getMode() == KWinnersMode::group &&
          static_cast<int64_t>(*kw.getGroupSize()) != spatial) {
        // Every group kept the same channels: the size scales with them.
        int64_t oldSize = *kw.getGroupSize();
        kw.setGroupSizeAttr(b.getI64IntegerAttr(
            oldSize * int64_t(kept.size()) / out.channels));
      }
      if (kw.getMode() != KWinnersMode::channel) {
        int64_t n = kw.getDomainSize();
        kw.setKAttr(b.getI64IntegerAttr(std::min(k, n)));
        kw.removeDensityAttr();
      }
      return success();
    }
    // Element-wise ops: slice constant operands, rebuild inits.
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    SmallVector<AffineMap> maps;
    if (linalgOp)
      maps = linalgOp.getIndexingMapsArray();
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (fa.get(v))
        continue;
      if (linalgOp && linalgOp.isDpsInit(&operand)) {
        operand.set(rebuildInit(b, loc, v, newType));
        continue;
      }
      DenseElementsAttr attr = getFloatConstant(v);
      if (!attr)
        continue; // pooling window, scalars
      if (linalgOp) {
        AffineMap map = maps[operand.getOperandNumber()];
        std::optional<unsigned> pos =
            map.getResultPosition(getAffineDimExpr(out.axis, op->getContext()));
        if (!pos)
          continue;
        operand.set(sliceConstant(b, loc, v, *pos, out.block, kept));
      } else {
        operand.set(sliceConstant(b, loc, v, out.axis, out.block, kept));
      }
    }
    result.setType(newType);
    return success();
  }

  void runOnFunction(func::FuncOp func) {
    FunctionAnalysis fa;
    SmallVector<Operation *> ops;
    for (Block &block : func.getBody())
      for (Operation &op : block)
        ops.push_back(&op);
    for (Operation *op : ops)
      analyzeOp(fa, op);
    // Every other user of a tracked value is a boundary (a return, a call,
    // an op in a nested region, an op that mixes channels).
    for (auto &entry : fa.layouts) {
      Value v = entry.first;
      for (Operation *user : v.getUsers())
        if (!fa.understood.contains(user))
          fa.blockValue(v, user,
                        isa<func::ReturnOp, func::CallOp>(user)
                            ? "function boundary"
                            : "not understood by the analysis");
    }
    DenseMap<Value, SmallVector<int64_t>> keep = decide(fa);
    for (Operation *op : ops)
      (void)rewriteOp(fa, op, keep);
    // Constants left without users by the rewrite.
    for (Operation *op : llvm::reverse(ops))
      if (isa<arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(op) &&
          op->use_empty())
        op->erase();
  }

  void runOnOperation() override {
    reports.clear();
    getOperation().walk([&](func::FuncOp func) {
      if (!func.isExternal())
        runOnFunction(func);
    });
    if (report.empty())
      return;
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(report, &error);
    if (!file) {
      getOperation().emitError("cannot open report file '")
          << report << "': " << error;
      return signalPassFailure();
    }
    llvm::raw_ostream &os = file->os();
    os << "channel pruning (seed 003 [0176]-[0193])\n";
    os << "layer | in channels | out channels | params | MACs\n";
    int64_t pb = 0, pa = 0, mb = 0, ma = 0;
    for (const LayerReport &r : reports) {
      os << r.name << " | " << r.inBefore << " -> " << r.inAfter << " | "
         << r.outBefore << " -> " << r.outAfter << " | " << r.paramsBefore
         << " -> " << r.paramsAfter << " | " << r.macsBefore << " -> "
         << r.macsAfter << "\n";
      pb += r.paramsBefore;
      pa += r.paramsAfter;
      mb += r.macsBefore;
      ma += r.macsAfter;
    }
    os << "total params " << pb << " -> " << pa << ", MACs " << mb << " -> "
       << ma << "\n";
    file->keep();
  }
};

} // namespace
