//===- PruneWeights.cpp - pruner logic on constant layer weights ----------===//
//
// Seed 003 FIG. 7a-7d, eq. 1-10 applied at compile time; the SPGC8-aligned
// preset prunes 1x16 input-channel groups ([0135]-[0175]).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"
#include "sparsenn/Dialect/SparseNN/Utils/PrunerMath.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNPRUNEWEIGHTSPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

constexpr llvm::StringLiteral kTargetSparsityAttr = "sparsenn.target_sparsity";

/// Float constant values as doubles, or nullopt when `value` is not a
/// statically shaped float constant.
std::optional<std::vector<double>> getConstantValues(Value value,
                                                     DenseElementsAttr &attr) {
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<ShapedType>(attr.getType());
  if (!isa<FloatType>(type.getElementType()) || !type.hasStaticShape())
    return std::nullopt;
  std::vector<double> values;
  values.reserve(type.getNumElements());
  for (APFloat v : attr.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

/// A dense float constant of `type` holding `values` where `keep`, else 0.
DenseElementsAttr buildPruned(ShapedType type, DenseElementsAttr original,
                              const std::vector<bool> &keep) {
  auto floatType = cast<FloatType>(type.getElementType());
  APFloat zero = APFloat::getZero(floatType.getFloatSemantics());
  SmallVector<APFloat> values;
  values.reserve(keep.size());
  size_t i = 0;
  for (APFloat v : original.getValues<APFloat>())
    values.push_back(keep[i++] ? v : zero);
  return DenseElementsAttr::get(type, values);
}

/// Density and fixed fan-in (if every output unit agrees) of a mask.
SparsityAttr measureSparsity(MLIRContext *ctx, ArrayRef<int64_t> shape,
                             const std::vector<double> &values) {
  int64_t units = shape.front();
  int64_t perUnit = values.size() / std::max<int64_t>(units, 1);
  int64_t total = 0;
  std::optional<int64_t> fanIn;
  bool fixed = true;
  for (int64_t u = 0; u < units; ++u) {
    int64_t nnz = 0;
    for (int64_t i = 0; i < perUnit; ++i)
      nnz += values[u * perUnit + i] != 0.0;
    total += nnz;
    if (u == 0)
      fanIn = nnz;
    else if (fanIn != nnz)
      fixed = false;
  }
  double density = values.empty() ? 0.0 : double(total) / values.size();
  return SparsityAttr::get(ctx, APFloat(density), fixed ? fanIn : std::nullopt);
}

/// Removes a constant that lost its last use.
void eraseIfDead(Operation *op) {
  if (op && op->use_empty() && isa<arith::ConstantOp>(op))
    op->erase();
}

struct SparseNNPruneWeightsPass
    : public sparsenn::impl::SparseNNPruneWeightsPassBase<
          SparseNNPruneWeightsPass> {
  using Base::Base;

  PruneMethod methodValue = PruneMethod::quantile;
  PruneGranularity granularityValue = PruneGranularity::element;
  Reduction reductionValue = Reduction::max;

  LogicalResult parseOptions() {
    ModuleOp module = getOperation();
    if (sparsity > 1.0)
      return module.emitError("sparsenn-prune-weights: sparsity must be in "
                              "[0, 1], got ")
             << static_cast<double>(sparsity);
    methodValue = method;
    granularityValue = granularity;
    reductionValue = reduction;
    if (spgc8Aligned) {
      methodValue = PruneMethod::quantile;
      granularityValue = PruneGranularity::group;
      reductionValue = Reduction::max;
    }
    if (granularityValue == PruneGranularity::group && !spgc8Aligned &&
        groupShape.empty())
      return module.emitError("sparsenn-prune-weights: granularity=group "
                              "needs group-shape (or spgc8-aligned)");
    if (methodValue == PruneMethod::gaussian &&
        granularityValue != PruneGranularity::element)
      return module.emitError("sparsenn-prune-weights: the gaussian pruner "
                              "(FIG. 7c) works on elements only");
    if (llvm::any_of(groupShape, [](int64_t g) { return g < 1; }))
      return module.emitError("sparsenn-prune-weights: group-shape entries "
                              "must be positive");
    return success();
  }

  /// The group shape this pass uses for weights of `shape`.
  FailureOr<SmallVector<int64_t>> groupShapeFor(Operation *layer,
                                                ArrayRef<int64_t> shape) {
    if (spgc8Aligned)
      return getSPGC8AlignedGroupShape(shape.size());
    SmallVector<int64_t> group(groupShape.begin(), groupShape.end());
    if (granularityValue == PruneGranularity::group) {
      if (group.size() > shape.size())
        return layer->emitError("group-shape has ")
               << group.size() << " entries, the weights have rank "
               << shape.size();
      group.resize(shape.size(), 1);
    }
    if ((granularityValue == PruneGranularity::input_channel ||
         granularityValue == PruneGranularity::output_filter) &&
        shape.size() < 2)
      return layer->emitError("channel and filter granularity need weights "
                              "of rank >= 2");
    return getPruneGroupShape(granularityValue, shape, group);
  }

  LogicalResult pruneLayer(Operation *layer, OpOperand &weightOperand,
                           std::optional<double> layerTarget) {
    std::optional<double> target;
    if (layerTarget)
      target = *layerTarget >= 0.0 ? layerTarget : std::nullopt;
    else if (auto attr = layer->getAttrOfType<FloatAttr>(kTargetSparsityAttr))
      target = attr.getValueAsDouble();
    else if (sparsity >= 0.0)
      target = sparsity;
    if (!target)
      return success();
    if (!(*target >= 0.0 && *target <= 1.0))
      return layer->emitError(kTargetSparsityAttr)
             << " must be in [0, 1], got " << *target;
    DenseElementsAttr attr;
    std::optional<std::vector<double>> values =
        getConstantValues(weightOperand.get(), attr);
    if (!values) {
      layer->emitRemark("weights are not a float constant: not pruned");
      return success();
    }
    auto type = cast<ShapedType>(attr.getType());
    FailureOr<SmallVector<int64_t>> group =
        groupShapeFor(layer, type.getShape());
    if (failed(group))
      return failure();
    std::vector<bool> keep = computePruneMask(
        *values, type.getShape(), *group, methodValue, reductionValue, *target);
    int64_t zeroed = 0;
    for (size_t i = 0; i < keep.size(); ++i) {
      if (!keep[i] && (*values)[i] != 0.0)
        ++zeroed;
      if (!keep[i])
        (*values)[i] = 0.0;
    }
    OpBuilder builder(layer);
    auto pruned = arith::ConstantOp::create(builder, layer->getLoc(),
                                            buildPruned(type, attr, keep));
    Operation *attrOwner = weightOperand.get().getDefiningOp();
    weightOperand.set(pruned);
    SparsityAttr sparsityAttr =
        measureSparsity(layer->getContext(), type.getShape(), *values);
    layer->setAttr("sparsity", sparsityAttr);
    layer->removeAttr(kTargetSparsityAttr);
    eraseIfDead(attrOwner);
    if (verbose)
      layer->emitRemark() << "pruned " << zeroed << " non-zero weights; "
                          << "density now " << sparsityAttr.getDensityValue();
    return success();
  }

  LogicalResult evaluatePruneOp(PruneOp op) {
    DenseElementsAttr weightsAttr, sAttr;
    std::optional<std::vector<double>> values =
        getConstantValues(op.getWeights(), weightsAttr);
    if (!values || !matchPattern(op.getSparsity(), m_Constant(&sAttr)))
      return success();
    double raw = (*sAttr.getValues<APFloat>().begin()).convertToDouble();
    double s = normalizeSparsity(op.getNormalization(), raw);
    auto type = op.getWeights().getType();
    SmallVector<int64_t> group = op.getEffectiveGroupShape();
    std::vector<bool> keep = computePruneMask(
        *values, type.getShape(), group, op.getMethod(), op.getReduction(), s);
    OpBuilder builder(op);
    auto pruned = arith::ConstantOp::create(
        builder, op.getLoc(), buildPruned(type, weightsAttr, keep));
    SmallVector<bool> maskBits(keep.begin(), keep.end());
    auto mask = arith::ConstantOp::create(
        builder, op.getLoc(),
        DenseElementsAttr::get(op.getMask().getType(),
                               ArrayRef<bool>(maskBits)));
    op.getPruned().replaceAllUsesWith(pruned.getResult());
    op.getMask().replaceAllUsesWith(mask.getResult());
    Operation *weightsOwner = op.getWeights().getDefiningOp();
    op.erase();
    eraseIfDead(weightsOwner);
    return success();
  }

  void runOnOperation() override {
    if (failed(parseOptions()))
      return signalPassFailure();
    SmallVector<Operation *> layers;
    SmallVector<PruneOp> pruneOps;
    getOperation().walk([&](Operation *op) {
      if (isa<LayerOpInterface>(op))
        layers.push_back(op);
      else if (auto prune = dyn_cast<PruneOp>(op))
        pruneOps.push_back(prune);
    });
    for (PruneOp op : pruneOps)
      if (failed(evaluatePruneOp(op)))
        return signalPassFailure();
    if (!layerSparsity.empty() && layerSparsity.size() != layers.size()) {
      getOperation().emitError("sparsenn-prune-weights: layer-sparsity has ")
          << layerSparsity.size() << " entries, the module has "
          << layers.size() << " sparsenn.linear / sparsenn.conv2d layers";
      return signalPassFailure();
    }
    for (auto [i, layer] : llvm::enumerate(layers)) {
      std::optional<double> layerTarget;
      if (!layerSparsity.empty())
        layerTarget = layerSparsity[i];
      if (failed(pruneLayer(layer,
                            cast<LayerOpInterface>(layer).getLayerWeightOperand(),
                            layerTarget)))
        return signalPassFailure();
    }
  }
};

} // namespace
