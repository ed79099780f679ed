//===- ChannelPropagationOpInterface.cpp - channel pruning analysis -------===//
//
// Channel pruning of EP 21216321.6 [0176]-[0193] (FIG. 11a, 11b, 12). A
// target coefficient channel of a layer (all-zero input channel of its
// weights, [0182]) names a target data channel of the layer's input
// ([0184]); the runtime network then omits the filter of the preceding
// layer producing it and the coefficient channel itself ([0185]-[0186],
// [0192]), which saves weight and activation bandwidth and MACs ([0193]).
// Fully connected layers are handled the same way ([0187]-[0191]); "further
// processing logic" between the layers ([0177], [0188]) is followed through
// ChannelPropagationOpInterface.
//
// A class of tied channels is removed when nothing outside the model sees
// it and every consuming layer either ignores it (zero coefficients) or
// reads a known constant that is folded into its bias: k times the sum of
// the channel's coefficients, exact when LayerOpInterface says so
// (`constantInputFoldsIntoBias`: linear layers, convolutions without
// padding). Grouped layers tie channel j of every group together (each
// group keeps the same number of channels). The outputs never change
// ([0185]: the runtime network computes the same).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::sparsenn;

#include "sparsenn/Interfaces/ChannelPropagationOpInterface.cpp.inc"

namespace {

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

bool isZero(std::optional<double> v) { return v && *v == 0.0; }

std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "'" << op->getName() << "'";
  return s;
}

int64_t product(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

/// All multiply-accumulates of a layer over its whole result (every
/// sample), dense.
int64_t layerMacs(LayerOpInterface layer) {
  auto out = cast<RankedTensorType>(layer->getResult(0).getType());
  return out.getDimSize(0) * layer.getMacsPerSample();
}

/// A depthwise layer: one input channel per group and one filter per group.
bool isDepthwise(LayerOpInterface layer, ArrayRef<int64_t> weightShape) {
  int64_t groups = layer.getLayerGroups();
  return groups > 1 && weightShape[1] == 1 && weightShape[0] == groups;
}

} // namespace

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

DenseElementsAttr ChannelAnalysis::getFloatConstant(Value value) {
  DenseElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return {};
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || !type.hasStaticShape() || !isa<FloatType>(type.getElementType()))
    return {};
  return attr;
}

std::optional<double>
ChannelAnalysis::uniformChannelValue(DenseElementsAttr attr, int64_t dim,
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

std::optional<double> ChannelAnalysis::scalarConstant(Value v) {
  FloatAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    return attr.getValueAsDouble();
  return std::nullopt;
}

std::optional<double> ChannelAnalysis::initValue(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return scalarConstant(fill.getInputs()[0]);
  if (DenseElementsAttr attr = getFloatConstant(init))
    if (attr.isSplat())
      return attr.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

bool ChannelAnalysis::isRebuildableInit(Value init) {
  if (init.getDefiningOp<tensor::EmptyOp>())
    return true;
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() != nullptr;
  if (DenseElementsAttr attr = getFloatConstant(init))
    return attr.isSplat();
  return false;
}

Value ChannelAnalysis::rebuildInit(OpBuilder &b, Location loc, Value init,
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

Value ChannelAnalysis::sliceConstant(OpBuilder &b, Location loc, Value v,
                                     int64_t dim, int64_t block,
                                     ArrayRef<int64_t> keep) {
  DenseElementsAttr attr = getFloatConstant(v);
  return arith::ConstantOp::create(b, loc, sliceAttr(attr, dim, block, keep));
}

//===----------------------------------------------------------------------===//
// State
//===----------------------------------------------------------------------===//

const ChannelAnalysis::Layout *ChannelAnalysis::getLayout(Value v) const {
  if (!v)
    return nullptr;
  auto it = layouts.find(v);
  return it == layouts.end() ? nullptr : &it->second;
}

std::optional<double> ChannelAnalysis::getConstant(Value v, int64_t c) const {
  return constants[node(v, c)];
}

const ChannelAnalysis::Layout &ChannelAnalysis::track(Value result,
                                                      int64_t axis,
                                                      int64_t block,
                                                      int64_t channels) {
  Layout l{axis, block, channels, numNodes};
  numNodes += channels;
  constants.resize(numNodes);
  for (int64_t i = 0; i < channels; ++i)
    classes.insert(l.base + i);
  if (current)
    understood.insert(current);
  return layouts[result] = l;
}

void ChannelAnalysis::tie(Value a, int64_t ca, Value b, int64_t cb) {
  classes.unionSets(node(a, ca), node(b, cb));
}

void ChannelAnalysis::setConstant(Value v, int64_t c,
                                  std::optional<double> value) {
  constants[node(v, c)] = value;
}

void ChannelAnalysis::forwardChannels(Value from, Value to, int64_t offset) {
  for (int64_t c = 0, n = getLayout(from)->channels; c < n; ++c) {
    tie(from, c, to, offset + c);
    setConstant(to, offset + c, getConstant(from, c));
  }
}

void ChannelAnalysis::blockNode(int64_t n, Operation *op, const Twine &why) {
  blockers.emplace(n, Blocker{op, why.str()});
}

void ChannelAnalysis::blockChannel(Value v, int64_t c, Operation *op,
                                   const Twine &why) {
  blockNode(node(v, c), op, why);
}

void ChannelAnalysis::block(Value v, Operation *op, const Twine &why) {
  if (const Layout *l = getLayout(v))
    for (int64_t c = 0; c < l->channels; ++c)
      blockNode(l->base + c, op, why);
}

void ChannelAnalysis::blockOperands(Operation *op, const Twine &why) {
  for (Value v : op->getOperands())
    block(v, op, why);
}

void ChannelAnalysis::requireNonPositive(Value v, int64_t c) {
  mustBeNonPositive.push_back(node(v, c));
}

ArrayRef<int64_t> ChannelAnalysis::getKeptChannels(Value v) const {
  auto it = kept.find(v);
  return it == kept.end() ? ArrayRef<int64_t>() : ArrayRef<int64_t>(it->second);
}

RankedTensorType ChannelAnalysis::getShrunkType(Value v) const {
  const Layout &l = *getLayout(v);
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[l.axis] = int64_t(getKeptChannels(v).size()) * l.block;
  return RankedTensorType::get(shape, type.getElementType());
}

//===----------------------------------------------------------------------===//
// Element-wise ops
//===----------------------------------------------------------------------===//

LogicalResult ChannelAnalysis::mapElementwise(Operation *op) {
  SmallVector<Value> followed;
  for (Value v : op->getOperands())
    if (getLayout(v))
      followed.push_back(v);
  if (followed.empty() || op->getNumResults() != 1)
    return failure();
  const Layout l = *getLayout(followed.front());
  if (llvm::any_of(followed, [&](Value v) {
        const Layout *o = getLayout(v);
        return o->axis != l.axis || o->block != l.block ||
               o->channels != l.channels;
      })) {
    blockOperands(op, "operands with different channel layouts");
    return failure();
  }
  auto dps = dyn_cast<DestinationStyleOpInterface>(op);
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  Value result = op->getResult(0);
  if (!dps) {
    // Every operand followed or a constant of the result's shape.
    if (!llvm::all_of(op->getOperands(), [&](Value v) {
          return v.getType() == followed.front().getType() &&
                 (getLayout(v) || getFloatConstant(v));
        })) {
      blockOperands(op, "an operand is neither a tracked channel value nor a "
                        "constant (e.g. a function argument)");
      return failure();
    }
  } else {
    for (OpOperand &init : dps.getDpsInitsMutable())
      if (!getLayout(init.get()) && !isRebuildableInit(init.get())) {
        blockOperands(op, Twine(describe(op)) + " whose init cannot be "
                                                "rebuilt");
        return failure();
      }
  }

  const Layout &out = track(result, l.axis, l.block, l.channels);
  int64_t outBase = out.base;
  for (Value v : followed)
    for (int64_t c = 0; c < l.channels; ++c)
      classes.unionSets(node(v, c), outBase + c);

  auto iface = dyn_cast<ChannelPropagationOpInterface>(op);
  SmallVector<AffineMap> maps;
  if (linalgOp)
    maps = linalgOp.getIndexingMapsArray();
  for (int64_t c = 0; c < l.channels; ++c) {
    SmallVector<std::optional<double>> values;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (getLayout(v)) {
        values.push_back(constants[node(v, c)]);
        continue;
      }
      DenseElementsAttr attr = getFloatConstant(v);
      if (!attr) {
        // An init (a fill's value), a pooling window, a scalar.
        values.push_back(dps && dps.isDpsInit(&operand) ? initValue(v)
                                                        : std::nullopt);
        continue;
      }
      int64_t dim = l.axis;
      if (linalgOp) {
        std::optional<unsigned> pos =
            maps[operand.getOperandNumber()].getResultPosition(
                getAffineDimExpr(l.axis, op->getContext()));
        dim = pos ? int64_t(*pos) : -1;
      }
      values.push_back(uniformChannelValue(attr, dim, l.block, c));
    }
    std::optional<double> r;
    if (iface)
      r = iface.foldChannelConstant(values);
    if (r && !std::isfinite(*r))
      r = std::nullopt;
    constants[outBase + c] = r;
  }
  return success();
}

LogicalResult ChannelAnalysis::shrinkElementwise(Operation *op) {
  if (op->getNumResults() != 1 || !getLayout(op->getResult(0)))
    return success();
  Value result = op->getResult(0);
  const Layout &out = *getLayout(result);
  ArrayRef<int64_t> keep = getKeptChannels(result);
  if (int64_t(keep.size()) == out.channels)
    return success();
  OpBuilder b(op);
  Location loc = op->getLoc();
  RankedTensorType newType = getShrunkType(result);
  auto dps = dyn_cast<DestinationStyleOpInterface>(op);
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  SmallVector<AffineMap> maps;
  if (linalgOp)
    maps = linalgOp.getIndexingMapsArray();
  for (OpOperand &operand : op->getOpOperands()) {
    Value v = operand.get();
    if (getLayout(v))
      continue;
    if (dps && dps.isDpsInit(&operand)) {
      operand.set(rebuildInit(b, loc, v, newType));
      continue;
    }
    DenseElementsAttr attr = getFloatConstant(v);
    if (!attr)
      continue; // pooling window, scalars
    if (linalgOp) {
      std::optional<unsigned> pos =
          maps[operand.getOperandNumber()].getResultPosition(
              getAffineDimExpr(out.axis, op->getContext()));
      if (!pos)
        continue;
      operand.set(sliceConstant(b, loc, v, *pos, out.block, keep));
    } else {
      operand.set(sliceConstant(b, loc, v, out.axis, out.block, keep));
    }
  }
  result.setType(newType);
  return success();
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

void ChannelAnalysis::analyzeLayer(LayerOpInterface layer) {
  Operation *op = layer;
  Value input = layer.getLayerInput();
  Value weightValue = layer.getLayerWeight();
  DenseElementsAttr weight = getFloatConstant(weightValue);
  Value biasValue = layer.getLayerBias();
  DenseElementsAttr bias =
      biasValue ? getFloatConstant(biasValue) : DenseElementsAttr();
  int64_t outAxis = layer.getOutputChannelAxis();
  int64_t groups = layer.getLayerGroups();
  SmallVector<int64_t> wType = layer.getLayerWeightShape();
  int64_t cout = wType[0];
  bool depthwise = isDepthwise(layer, wType);
  bool foldsExactly = layer.constantInputFoldsIntoBias();

  for (Value v : op->getOperands())
    if (v != input)
      block(v, op, "used as weights or bias");
  understood.insert(op);
  // Copy: track() may reallocate the layout table.
  std::optional<Layout> in;
  if (const Layout *l = getLayout(input))
    in = *l;
  if (!weight) {
    std::string why = layer.describeOpaqueWeights();
    if (!why.empty())
      op->emitRemark(why);
  }
  Value result = op->getResult(0);
  Layout out = track(result, outAxis, 1, cout);
  std::vector<double> w = weight ? toDoubles(weight) : std::vector<double>();
  std::vector<double> b = bias ? toDoubles(bias) : std::vector<double>();
  int64_t perFilter = weight ? weight.getNumElements() / cout : 0;

  // Output side: each filter produces one channel ([0180]).
  if (!weight || (biasValue && !bias)) {
    for (int64_t o = 0; o < cout; ++o)
      blockNode(out.base + o, op, "weights or bias are not float constants");
  } else {
    // Grouped (not depthwise): every group must keep the same number of
    // filters, so filter j of each group goes with filter j of the others
    // (tied channels; a dependency group across the groups).
    if (groups > 1 && !depthwise)
      for (int64_t o = 0; o < cout; ++o)
        classes.unionSets(out.base + o % (cout / groups), out.base + o);
    for (int64_t o = 0; o < cout; ++o) {
      bool zeroFilter = true;
      for (int64_t i = 0; i < perFilter && zeroFilter; ++i)
        zeroFilter = w[o * perFilter + i] == 0.0;
      double bo = bias ? b[o] : 0.0;
      if (zeroFilter)
        constants[out.base + o] = bo;
      else if (depthwise && in && constants[in->base + o] &&
               (foldsExactly || isZero(constants[in->base + o]))) {
        double sum = 0.0;
        for (int64_t i = 0; i < perFilter; ++i)
          sum += w[o * perFilter + i];
        constants[out.base + o] = bo + *constants[in->base + o] * sum;
      }
    }
  }

  // Input side. Coefficient channel c: columns [c*block, (c+1)*block) of a
  // linear weight, the slice w[:, c] of a conv weight ([0179], [0190]);
  // with groups, w[o, c % (C_in/groups)] for the filters o of c's group.
  auto inType = cast<RankedTensorType>(input.getType());
  int64_t inAxis = layer.getInputChannelAxis();
  int64_t inBlock = in ? in->block : 1;
  int64_t channels = in ? in->channels : inType.getDimSize(inAxis) / inBlock;
  int64_t inner = product(ArrayRef<int64_t>(wType).drop_front(2));
  int64_t cols = wType[1];
  int64_t perGroup = std::max<int64_t>(cols / inBlock, 1);
  int64_t coutPerGroup = cout / groups;
  auto isDead = [&](int64_t c) {
    int64_t g = c / perGroup, local = c % perGroup;
    for (int64_t o = g * coutPerGroup; o < (g + 1) * coutPerGroup; ++o)
      for (int64_t j = local * inBlock * inner;
           j < (local + 1) * inBlock * inner; ++j)
        if (w[o * cols * inner + j] != 0.0)
          return false;
    return true;
  };
  if (!in && depthwise) {
    // Tied channels whose input side cannot shrink.
    for (int64_t o = 0; o < cout; ++o)
      blockNode(out.base + o, op,
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
    op->emitRemark() << dead
                     << " unused input channel(s) kept: the input comes from "
                     << (def ? describe(def)
                             : std::string("a function argument"))
                     << ", which channel pruning does not follow";
    return;
  }
  if (depthwise) {
    // Tied channels: input channel c feeds exactly filter c.
    for (int64_t c = 0; c < in->channels; ++c)
      classes.unionSets(in->base + c, out.base + c);
    return;
  }
  if (!weight) {
    block(input, op, "weights are not a float constant");
    return;
  }
  if (in->axis != inAxis) {
    block(input, op, "channels are not on the feature axis");
    return;
  }
  for (int64_t c = 0; c < in->channels; ++c) {
    bool dead = isDead(c);
    consumers.push_back({op, in->base + c, c, dead});
    std::optional<double> k = constants[in->base + c];
    if (!dead && k && *k != 0.0 && !foldsExactly)
      foldRefusals.push_back({in->base + c, op});
  }
  // Grouped: input channel j of each group goes with channel j of the
  // others, so that every group keeps C_in/groups channels.
  if (groups > 1)
    for (int64_t c = 0; c < in->channels; ++c)
      classes.unionSets(in->base + c % perGroup, in->base + c);
}

void ChannelAnalysis::rewriteLayer(LayerOpInterface layer,
                                   std::vector<LayerReport> &reports) {
  Operation *op = layer;
  Value input = layer.getLayerInput();
  Value result = op->getResult(0);
  const Layout *in = getLayout(input);
  const Layout &out = *getLayout(result);
  SmallVector<int64_t> wType = layer.getLayerWeightShape();
  int64_t groups = layer.getLayerGroups();
  bool depthwise = isDepthwise(layer, wType);
  SmallVector<int64_t> keepOut(getKeptChannels(result));
  SmallVector<int64_t> keepIn =
      in ? SmallVector<int64_t>(getKeptChannels(input))
         : SmallVector<int64_t>();
  bool shrinkIn = in && !depthwise && int64_t(keepIn.size()) != in->channels;
  bool shrinkOut = int64_t(keepOut.size()) != out.channels;

  LayerReport report;
  {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << op->getName();
    if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
      os << " at " << loc.getLine() << ":" << loc.getColumn();
    report.name = s;
  }
  auto inType = cast<RankedTensorType>(input.getType());
  int64_t inAxis = layer.getInputChannelAxis();
  report.inBefore = in ? in->channels : inType.getDimSize(inAxis);
  report.outBefore = out.channels;
  report.paramsBefore = layer.getNumParameters();
  report.macsBefore = layerMacs(layer);
  report.inAfter =
      in ? (depthwise ? keepOut.size() : keepIn.size()) : report.inBefore;
  report.outAfter = keepOut.size();

  if (shrinkIn || shrinkOut) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    DenseElementsAttr weight = getFloatConstant(layer.getLayerWeight());
    std::vector<double> w = toDoubles(weight);
    int64_t cout = wType[0];
    int64_t cols = wType[1];
    int64_t inner = product(ArrayRef<int64_t>(wType).drop_front(2));
    // Fold constant removed channels into the bias ([0185] keeps outputs).
    std::vector<double> bias(cout, 0.0);
    Value oldBias = layer.getLayerBias();
    if (oldBias)
      bias = toDoubles(getFloatConstant(oldBias));
    bool folded = false;
    // Groups: channel c is column c % inPerGroup of the filters of group
    // c / inPerGroup (one group for linear layers).
    int64_t inPerGroup = in ? in->channels / groups : 0;
    int64_t outPerGroup = cout / groups;
    if (shrinkIn) {
      std::set<int64_t> keptSet(keepIn.begin(), keepIn.end());
      for (int64_t c = 0; c < in->channels; ++c) {
        std::optional<double> k = constants[in->base + c];
        if (keptSet.count(c) || !k || *k == 0.0)
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
    // Old constants are erased by run() once unused.
    layer.getLayerWeightOperand().set(
        arith::ConstantOp::create(b, loc, newWeight));
    if (oldBias || folded) {
      auto biasType = RankedTensorType::get(
          {cout}, cast<RankedTensorType>(weight.getType()).getElementType());
      DenseElementsAttr newBias = fromDoubles(biasType, bias);
      if (oldBias && !folded)
        newBias = getFloatConstant(oldBias);
      if (shrinkOut)
        newBias = sliceAttr(newBias, 0, 1, keepOut);
      layer.setLayerBias(arith::ConstantOp::create(b, loc, newBias));
    }
    if (shrinkOut)
      result.setType(getShrunkType(result));
    if (depthwise && shrinkOut)
      (void)layer.setLayerGroups(keepOut.size());
    if (layer.getLayerSparsity())
      layer.setLayerSparsity(nullptr); // density facts no longer hold
    if (verbose)
      op->emitRemark() << "removed " << report.inBefore - report.inAfter
                       << " input channel(s) and "
                       << report.outBefore - report.outAfter
                       << " output filter(s)"
                       << (folded ? ", constants folded into the bias" : "");
  }
  report.paramsAfter = layer.getNumParameters();
  report.macsAfter = layerMacs(layer);
  reports.push_back(report);
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

void ChannelAnalysis::analyzeOp(Operation *op) {
  if (auto layer = dyn_cast<LayerOpInterface>(op))
    return analyzeLayer(layer);
  if (llvm::none_of(op->getOperands(),
                    [&](Value v) { return getLayout(v) != nullptr; }))
    return;
  // Ops without the interface are boundaries (see run()).
  if (auto iface = dyn_cast<ChannelPropagationOpInterface>(op)) {
    current = op;
    iface.propagateChannels(*this);
    current = nullptr;
  }
}

void ChannelAnalysis::decide() {
  // Per class: can it go, ignoring blockers? Only classes with evidence are
  // candidates: a consumer ignoring the channel ([0182] target coefficient
  // channel) or a known constant value (an all-zero filter).
  std::map<int64_t, bool> candidate;
  auto leader = [&](int64_t n) { return classes.getLeaderValue(n); };
  for (int64_t n = 0; n < numNodes; ++n)
    if (constants[n])
      candidate.emplace(leader(n), true);
  for (const ConsumerUse &u : consumers)
    if (u.dead)
      candidate.emplace(leader(u.node), true);
  std::map<int64_t, const Blocker *> blockedBy;
  for (auto &[n, blocker] : blockers)
    blockedBy.emplace(leader(n), &blocker);
  auto isCandidate = [&](int64_t n) {
    auto it = candidate.find(leader(n));
    return it != candidate.end() && it->second;
  };
  for (const ConsumerUse &u : consumers) {
    std::optional<double> k = constants[u.node];
    if (!u.dead && !k && isCandidate(u.node))
      candidate[leader(u.node)] = false;
  }
  for (auto [n, layer] : foldRefusals) {
    if (!isCandidate(n))
      continue;
    if (!blockedBy.count(leader(n)))
      layer->emitRemark("channel ")
          << n - getLayout(cast<LayerOpInterface>(layer).getLayerInput())->base
          << " of the input is the constant " << *constants[n]
          << " but the layer pads with zeros: its contribution depends on "
             "the position, channel kept";
    candidate[leader(n)] = false;
  }
  for (int64_t n : mustBeNonPositive)
    if (!(constants[n] && *constants[n] <= 0.0) && isCandidate(n))
      candidate[leader(n)] = false;

  std::set<int64_t> removed;
  for (auto [root, ok] : candidate)
    if (ok && !blockedBy.count(root))
      removed.insert(root);

  // Never remove every channel of a value: keep its first channel.
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto &[v, l] : layouts) {
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

  for (auto &[v, l] : layouts) {
    SmallVector<int64_t> keep;
    for (int64_t c = 0; c < l.channels; ++c)
      if (!removed.count(leader(l.base + c)))
        keep.push_back(c);
    kept[v] = keep;
  }
}

void ChannelAnalysis::run(std::vector<LayerReport> &reports) {
  SmallVector<Operation *> ops;
  for (Block &block : func.getFunctionBody())
    for (Operation &op : block)
      ops.push_back(&op);
  for (Operation *op : ops)
    analyzeOp(op);
  // Every other user of a followed value is a boundary (a return, a call,
  // an op in a nested region, an op without a model).
  for (auto &entry : layouts) {
    Value v = entry.first;
    for (Operation *user : v.getUsers())
      if (!understood.contains(user))
        block(v, user,
              user->hasTrait<OpTrait::IsTerminator>() ||
                      isa<CallOpInterface>(user)
                  ? "function boundary"
                  : "not understood by the analysis");
  }
  decide();
  for (Operation *op : ops) {
    if (auto layer = dyn_cast<LayerOpInterface>(op)) {
      rewriteLayer(layer, reports);
      continue;
    }
    if (!understood.contains(op))
      continue;
    if (auto iface = dyn_cast<ChannelPropagationOpInterface>(op))
      (void)iface.shrinkToKeptChannels(*this);
  }
  // Constants left without users by the rewrite.
  for (Operation *op : llvm::reverse(ops))
    if (isa<arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(op) &&
        op->use_empty())
      op->erase();
}
