//===- SparseNNInterfaces.cpp - interface models of sparsenn ops ----------===//
//
// LayerOpInterface of sparsenn.linear and sparsenn.conv2d, and
// ChannelPropagationOpInterface of the activations between layers
// (sparsenn.kwinners, sparsenn.threshold). The adjoints
// (DifferentiableOpInterface) build linalg code and are attached from the
// transforms library (registerSparseNNAdjointModels).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::sparsenn;

//===----------------------------------------------------------------------===//
// LayerOpInterface
//===----------------------------------------------------------------------===//

/// Why a layer's weights cannot be read as a float constant.
static std::string describeOpaqueLayerWeights(Value weight) {
  if (isa<SPGC8Type>(weight.getType()))
    return "weights are SPGC8-compressed: channel pruning leaves this layer "
           "alone (run it before --sparsenn-compress-weights)";
  if (weight.getDefiningOp<PruneOp>())
    return "weights come from a 'sparsenn.prune' that is not evaluated: run "
           "--sparsenn-prune-weights first so that its channel mask becomes "
           "removable channels";
  return std::string();
}

Value LinearOp::getLayerInput() { return getInput(); }
OpOperand &LinearOp::getLayerWeightOperand() { return getWeightMutable(); }
SmallVector<int64_t> LinearOp::getLayerWeightShape() {
  return SmallVector<int64_t>(getWeightShape(getWeight().getType()));
}
Value LinearOp::getLayerBias() { return getBias(); }
void LinearOp::setLayerBias(Value bias) { getBiasMutable().assign(bias); }
int64_t LinearOp::getInputChannelAxis() {
  return getInput().getType().getRank() - 1;
}
int64_t LinearOp::getOutputChannelAxis() {
  return getOutput().getType().getRank() - 1;
}
bool LinearOp::constantInputFoldsIntoBias() { return true; }
int64_t LinearOp::getPositionsPerSample() {
  int64_t rows = 1;
  for (int64_t d : getInput().getType().getShape().drop_front().drop_back())
    rows *= ShapedType::isDynamic(d) ? 1 : d;
  return rows;
}
std::string LinearOp::describeOpaqueWeights() {
  return describeOpaqueLayerWeights(getWeight());
}

Value Conv2DOp::getLayerInput() { return getInput(); }
OpOperand &Conv2DOp::getLayerWeightOperand() { return getWeightMutable(); }
SmallVector<int64_t> Conv2DOp::getLayerWeightShape() {
  return SmallVector<int64_t>(getWeightShape(getWeight().getType()));
}
Value Conv2DOp::getLayerBias() { return getBias(); }
void Conv2DOp::setLayerBias(Value bias) { getBiasMutable().assign(bias); }
int64_t Conv2DOp::getInputChannelAxis() { return 1; }
int64_t Conv2DOp::getOutputChannelAxis() { return 1; }
int64_t Conv2DOp::getLayerGroups() { return getGroups(); }
LogicalResult Conv2DOp::setLayerGroups(int64_t groups) {
  if (groups < 1)
    return failure();
  setGroups(groups);
  return success();
}
bool Conv2DOp::constantInputFoldsIntoBias() {
  return llvm::all_of(getPadding(), [](int64_t p) { return p == 0; });
}
int64_t Conv2DOp::getPositionsPerSample() {
  auto out = getOutput().getType();
  return out.getDimSize(2) * out.getDimSize(3);
}
std::string Conv2DOp::describeOpaqueWeights() {
  return describeOpaqueLayerWeights(getWeight());
}

//===----------------------------------------------------------------------===//
// ChannelPropagationOpInterface
//===----------------------------------------------------------------------===//

std::optional<double>
ThresholdOp::foldChannelConstant(ArrayRef<std::optional<double>> operands) {
  double t = getThreshold().convertToDouble();
  if (!operands[0])
    return std::nullopt;
  return *operands[0] > t ? *operands[0] : 0.0;
}

void ThresholdOp::propagateChannels(ChannelAnalysis &analysis) {
  (void)analysis.mapElementwise(*this);
}

/// k-winners (US 2025/0252312 A1 [0045]-[0047]) keeps the channels of its
/// input. Which removed channels leave the winners unchanged depends on the
/// mode: <channel> ranks within a channel (any channel may go); <global>,
/// <local> and <group> rank across channels, so a channel may go only when
/// it is a constant <= 0 and relu is on (it never wins nor moves the k-th
/// value); <group> needs groups of whole channels, channel j of every group
/// tied to channel j of the others so that the groups keep one size.
void KWinnersOp::propagateChannels(ChannelAnalysis &analysis) {
  Operation *op = *this;
  const ChannelAnalysis::Layout *in = analysis.getLayout(getInput());
  if (!in || analysis.getLayout(getDutyCycle()) || in->axis != 1) {
    analysis.block(getInput(), op, "k-winners layout not understood");
    analysis.block(getDutyCycle(), op, "k-winners layout not understood");
    return;
  }
  const ChannelAnalysis::Layout l = *in;
  KWinnersMode mode = getMode();
  int64_t channelsPerGroup = 0;
  if (mode == KWinnersMode::group) {
    int64_t spatial = 1;
    for (int64_t d : getInput().getType().getShape().drop_front(2))
      spatial *= d;
    int64_t groupSize = *getGroupSize();
    if (l.block != 1 || groupSize % spatial != 0) {
      analysis.block(getInput(), op,
                     "k-winners <group> whose groups split channels: "
                     "removing a channel would shift the group boundaries");
      return;
    }
    channelsPerGroup = groupSize / spatial;
  }
  if (mode != KWinnersMode::channel && !getRelu()) {
    analysis.block(getInput(), op,
                   Twine("k-winners <") + stringifyKWinnersMode(mode) +
                       "> without relu: a removed channel could change the "
                       "winners");
    return;
  }
  if (Value duty = getDutyCycle();
      duty && !ChannelAnalysis::getFloatConstant(duty)) {
    analysis.block(getInput(), op,
                   "k-winners duty cycle is not a constant (shrinking "
                   "state would change the function signature)");
    return;
  }
  Builder b(getContext());
  analysis.setRewriteState(op, b.getI64IntegerAttr(getEffectiveK()));
  // One channel per group: removing it removes a whole group, which leaves
  // the others as they are (no tie needed).
  if (channelsPerGroup > 1)
    for (int64_t c = 0; c < l.channels; ++c)
      analysis.tie(getInput(), c % channelsPerGroup, getInput(), c);
  Value result = getResult();
  analysis.track(result, l.axis, l.block, l.channels);
  for (int64_t c = 0; c < l.channels; ++c) {
    analysis.tie(getInput(), c, result, c);
    if (mode != KWinnersMode::channel)
      analysis.requireNonPositive(getInput(), c);
    std::optional<double> k = analysis.getConstant(getInput(), c);
    std::optional<double> r;
    if ((k && *k == 0.0) || (k && *k <= 0.0 && getRelu()))
      r = 0.0;
    // <channel> without break_ties: a uniform channel ties everywhere (its
    // boost factor is per channel), so every position wins.
    else if (k && mode == KWinnersMode::channel && !getBreakTies())
      r = (*k > 0.0 || !getRelu()) ? *k : 0.0;
    analysis.setConstant(result, c, r);
  }
}

/// The removed channels and k (US 2025/0252312 A1 [0045]-[0047]):
/// - <channel>: the domain is H*W of one channel, k is unchanged;
/// - <global>, <local> (relu only): the removed channels were <= 0 and never
///   won, nor did they move the k-th largest value, so the same winners
///   remain with the same count: k becomes the original effective k written
///   explicitly (a `density` would rescale with the smaller domain), clamped
///   to the new domain size n. The boost target density k/n changes, but it
///   multiplies every unit of a domain by the same exp(beta * k/n), so the
///   ranking does not;
/// - <group> (relu only, groups of whole channels): every group lost the
///   same channels; as for <global>, k stays the original count, clamped to
///   the new group size.
/// Duty cycles (per channel) are constants and are sliced.
LogicalResult KWinnersOp::shrinkToKeptChannels(ChannelAnalysis &analysis) {
  Value result = getResult();
  const ChannelAnalysis::Layout &out = *analysis.getLayout(result);
  ArrayRef<int64_t> kept = analysis.getKeptChannels(result);
  if (int64_t(kept.size()) == out.channels)
    return success();
  OpBuilder b(*this);
  int64_t k = cast<IntegerAttr>(analysis.getRewriteState(*this)).getInt();
  if (Value duty = getDutyCycle())
    getDutyCycleMutable().assign(
        analysis.sliceConstant(b, getLoc(), duty, 0, out.block, kept));
  result.setType(analysis.getShrunkType(result));
  int64_t spatial = 1;
  for (int64_t d : getInput().getType().getShape().drop_front(2))
    spatial *= d;
  if (getMode() == KWinnersMode::group &&
      static_cast<int64_t>(*getGroupSize()) != spatial) {
    // Every group kept the same channels: the size scales with them.
    int64_t oldSize = *getGroupSize();
    setGroupSizeAttr(
        b.getI64IntegerAttr(oldSize * int64_t(kept.size()) / out.channels));
  }
  if (getMode() != KWinnersMode::channel) {
    int64_t n = getDomainSize();
    setKAttr(b.getI64IntegerAttr(std::min(k, n)));
    removeDensityAttr();
  }
  return success();
}
