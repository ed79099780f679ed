//===- ChannelPropagationImpl.cpp - channels through upstream ops ---------===//
//
// ChannelPropagationOpInterface for the upstream ops between layers that
// the importers produce: arith element-wise ops (one generic model, with
// the op's scalar function), element-wise linalg.generic (its body
// evaluated op by op through the same models), NCHW max/sum pooling,
// linalg.transpose, tensor.pad, tensor.concat along the channel axis, the
// flatten tensor.collapse_shape [B, C, H, W] -> [B, C*H*W] and the
// tensor.expand_shape that adds unit axes or unflattens.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h"
#include "sparsenn/Interfaces/ExternalModels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

//===----------------------------------------------------------------------===//
// Element-wise arith ops: one model, the scalar function a parameter
//===----------------------------------------------------------------------===//

/// A channel-wise element-wise op computing `Fn` of its operands' scalars.
/// `ZeroAbsorbs`: a zero operand makes the result zero whatever the other
/// (multiplication; the analysis treats the model's values as finite).
template <typename OpTy, typename Fn, bool ZeroAbsorbs = false>
struct ElementwiseModel : public ChannelPropagationOpInterface::ExternalModel<
                              ElementwiseModel<OpTy, Fn, ZeroAbsorbs>, OpTy> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    (void)analysis.mapElementwise(op);
  }
  std::optional<double>
  foldChannelConstant(Operation *op,
                      ArrayRef<std::optional<double>> operands) const {
    if (ZeroAbsorbs && llvm::any_of(operands, [](std::optional<double> v) {
          return v && *v == 0.0;
        }))
      return 0.0;
    SmallVector<double, 2> values;
    for (std::optional<double> v : operands) {
      if (!v)
        return std::nullopt;
      values.push_back(*v);
    }
    return Fn()(values);
  }
};

struct AddFn {
  std::optional<double> operator()(ArrayRef<double> v) { return v[0] + v[1]; }
};
struct SubFn {
  std::optional<double> operator()(ArrayRef<double> v) { return v[0] - v[1]; }
};
struct MulFn {
  std::optional<double> operator()(ArrayRef<double> v) { return v[0] * v[1]; }
};
struct DivFn {
  std::optional<double> operator()(ArrayRef<double> v) {
    if (v[1] == 0.0)
      return std::nullopt;
    return v[0] / v[1];
  }
};
struct MaxFn {
  std::optional<double> operator()(ArrayRef<double> v) {
    return std::max(v[0], v[1]);
  }
};
struct MinFn {
  std::optional<double> operator()(ArrayRef<double> v) {
    return std::min(v[0], v[1]);
  }
};
struct NegFn {
  std::optional<double> operator()(ArrayRef<double> v) { return -v[0]; }
};

//===----------------------------------------------------------------------===//
// linalg
//===----------------------------------------------------------------------===//

/// Scalar evaluation of an element-wise body, op by op through the ops'
/// own foldChannelConstant.
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
    return ChannelAnalysis::scalarConstant(v);
  };
  for (Operation &op : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op))
      return yield.getNumOperands() == 1 ? get(yield.getOperand(0))
                                         : std::nullopt;
    std::optional<double> r;
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      if (auto f = dyn_cast<FloatAttr>(c.getValue()))
        r = f.getValueAsDouble();
    } else if (auto iface = dyn_cast<ChannelPropagationOpInterface>(op);
               iface && op.getNumResults() == 1) {
      SmallVector<std::optional<double>> values;
      for (Value v : op.getOperands())
        values.push_back(get(v));
      r = iface.foldChannelConstant(values);
    }
    if (!r)
      return std::nullopt;
    env[op.getResult(0)] = *r;
  }
  return std::nullopt;
}

struct GenericModel
    : public ChannelPropagationOpInterface::ExternalModel<GenericModel,
                                                          linalg::GenericOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto generic = cast<linalg::GenericOp>(op);
    auto blockAll = [&](const Twine &why) { analysis.blockOperands(op, why); };
    if (generic.getNumDpsInits() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops() ||
        generic.hasIndexSemantics())
      return blockAll("not an element-wise linalg.generic");
    auto resultType = cast<RankedTensorType>(generic.getResult(0).getType());
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    // Followed inputs and the init use the identity map; constants use a
    // projected permutation (broadcast per-channel constants).
    for (OpOperand &operand : generic->getOpOperands()) {
      AffineMap map = maps[operand.getOperandNumber()];
      Value v = operand.get();
      bool isInit = generic.isDpsInit(&operand);
      if (analysis.getLayout(v) || isInit) {
        if (!map.isIdentity() || v.getType() != resultType)
          return blockAll("not an element-wise linalg.generic");
        if (isInit && !analysis.getLayout(v) &&
            !ChannelAnalysis::isRebuildableInit(v))
          return blockAll("linalg.generic whose init cannot be rebuilt");
        continue;
      }
      if (!ChannelAnalysis::getFloatConstant(v) ||
          !map.isProjectedPermutation())
        return blockAll("linalg.generic operand that is neither tracked nor "
                        "a constant");
    }
    if (analysis.getLayout(generic.getDpsInits()[0]) &&
        !generic.getMatchingBlockArgument(&generic.getDpsInitsMutable()[0])
             .use_empty())
      return blockAll("linalg.generic reading its init");
    (void)analysis.mapElementwise(op);
  }
  std::optional<double>
  foldChannelConstant(Operation *op,
                      ArrayRef<std::optional<double>> operands) const {
    return evalBody(cast<linalg::GenericOp>(op).getRegion().front(), operands);
  }
};

/// NCHW pooling: a channel stays a channel; a constant k becomes
/// max(init, k) or init + k * window size.
template <typename OpTy, bool IsMax>
struct PoolingModel : public ChannelPropagationOpInterface::ExternalModel<
                          PoolingModel<OpTy, IsMax>, OpTy> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto pool = cast<linalg::LinalgOp>(op);
    Value input = pool.getDpsInputs()[0];
    Value init = pool.getDpsInits()[0];
    const ChannelAnalysis::Layout *l = analysis.getLayout(input);
    if (!l || analysis.getLayout(pool.getDpsInputs()[1]) || l->axis != 1 ||
        l->block != 1 || !ChannelAnalysis::isRebuildableInit(init)) {
      analysis.blockOperands(op, "pooling whose init cannot be rebuilt");
      return;
    }
    (void)analysis.mapElementwise(op);
  }
  std::optional<double>
  foldChannelConstant(Operation *op,
                      ArrayRef<std::optional<double>> operands) const {
    // Operands: input, window, init.
    std::optional<double> k = operands[0], init = operands[2];
    if (!k || !init)
      return std::nullopt;
    auto window = cast<ShapedType>(
        cast<linalg::LinalgOp>(op).getDpsInputs()[1].getType());
    return IsMax ? std::max(*init, *k)
                 : *init + *k * double(window.getNumElements());
  }
};

//===----------------------------------------------------------------------===//
// tensor
//===----------------------------------------------------------------------===//

/// Constant padding of the spatial axes: a channel equal to the padding
/// value stays that constant.
struct PadModel
    : public ChannelPropagationOpInterface::ExternalModel<PadModel,
                                                          tensor::PadOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto pad = cast<tensor::PadOp>(op);
    const ChannelAnalysis::Layout *l = analysis.getLayout(pad.getSource());
    std::optional<double> padValue;
    if (Value cst = pad.getConstantPaddingValue())
      padValue = ChannelAnalysis::scalarConstant(cst);
    if (!l || !padValue || pad.getStaticLow()[l->axis] != 0 ||
        pad.getStaticHigh()[l->axis] != 0 || l->block != 1) {
      analysis.block(pad.getSource(), op,
                     "padding that is not constant or pads the channel axis");
      return;
    }
    (void)analysis.mapElementwise(op);
  }
  std::optional<double>
  foldChannelConstant(Operation *op,
                      ArrayRef<std::optional<double>> operands) const {
    auto pad = cast<tensor::PadOp>(op);
    std::optional<double> padValue =
        ChannelAnalysis::scalarConstant(pad.getConstantPaddingValue());
    if (operands[0] && padValue && *operands[0] == *padValue)
      return operands[0];
    return std::nullopt;
  }
};

/// The flatten [B, C, H, W] -> [B, C*H*W]: a channel becomes a block of H*W
/// columns.
struct CollapseShapeModel : public ChannelPropagationOpInterface::ExternalModel<
                                CollapseShapeModel, tensor::CollapseShapeOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto collapse = cast<tensor::CollapseShapeOp>(op);
    const ChannelAnalysis::Layout l = *analysis.getLayout(collapse.getSrc());
    auto srcType = collapse.getSrcType();
    auto reassoc = collapse.getReassociationIndices();
    bool flatten = srcType.getRank() == 4 && l.axis == 1 &&
                   reassoc.size() == 2 && reassoc[0].size() == 1 &&
                   reassoc[1].size() == 3;
    if (!flatten) {
      analysis.block(collapse.getSrc(), op,
                     "reshape other than [B, C, H, W] -> [B, C*H*W]");
      return;
    }
    int64_t hw = srcType.getDimSize(2) * srcType.getDimSize(3);
    Value result = collapse.getResult();
    analysis.track(result, 1, l.block * hw, l.channels);
    analysis.forwardChannels(collapse.getSrc(), result);
  }
  LogicalResult shrinkToKeptChannels(Operation *op,
                                     ChannelAnalysis &analysis) const {
    Value result = op->getResult(0);
    result.setType(analysis.getShrunkType(result));
    return success();
  }
};

/// tensor.expand_shape keeping the channels on one axis: unit dimensions
/// added around a channel axis ([B, C] -> [B, C, 1, 1], the gate of a
/// squeeze-and-excitation block) or the unflatten [B, C*H*W] -> [B, C, H, W]
/// of a flattened value (a block of H*W columns per channel).
struct ExpandShapeModel : public ChannelPropagationOpInterface::ExternalModel<
                              ExpandShapeModel, tensor::ExpandShapeOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    const ChannelAnalysis::Layout l = *analysis.getLayout(expand.getSrc());
    RankedTensorType resultType = expand.getResultType();
    SmallVector<ReassociationIndices> reassoc =
        expand.getReassociationIndices();
    // The group of the channel axis: its first dimension whose size is
    // not 1 carries the channels, the rest must make up exactly the block.
    std::optional<int64_t> axis;
    if (l.axis < static_cast<int64_t>(reassoc.size()) &&
        resultType.hasStaticShape()) {
      const ReassociationIndices &group = reassoc[l.axis];
      int64_t at = group.front();
      for (int64_t d : group)
        if (resultType.getDimSize(d) != 1) {
          at = d;
          break;
        }
      int64_t rest = 1;
      for (int64_t d : group)
        if (d > at)
          rest *= resultType.getDimSize(d);
      if (resultType.getDimSize(at) == l.channels && rest == l.block)
        axis = at;
    }
    if (!axis) {
      analysis.block(expand.getSrc(), op,
                     "reshape that splits the channel axis");
      return;
    }
    Value result = expand.getResult();
    analysis.track(result, *axis, 1, l.channels);
    analysis.forwardChannels(expand.getSrc(), result);
  }
  LogicalResult shrinkToKeptChannels(Operation *op,
                                     ChannelAnalysis &analysis) const {
    // The static output shape is part of the op: it follows the type.
    auto expand = cast<tensor::ExpandShapeOp>(op);
    RankedTensorType shrunk = analysis.getShrunkType(expand.getResult());
    expand.getResult().setType(shrunk);
    expand.setStaticOutputShape(shrunk.getShape());
    return success();
  }
};

/// linalg.transpose: the channels move to the result axis whose input
/// dimension is the channel axis (one position per channel along it).
struct TransposeModel
    : public ChannelPropagationOpInterface::ExternalModel<TransposeModel,
                                                          linalg::TransposeOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto transpose = cast<linalg::TransposeOp>(op);
    Value input = transpose.getInput();
    const ChannelAnalysis::Layout *in = analysis.getLayout(input);
    if (!in || in->block != 1 || transpose->getNumResults() != 1 ||
        analysis.getLayout(transpose.getInit()) ||
        !ChannelAnalysis::isRebuildableInit(transpose.getInit())) {
      analysis.blockOperands(op, "transpose of a flattened value or with an "
                                 "init that cannot be rebuilt");
      return;
    }
    const ChannelAnalysis::Layout l = *in;
    ArrayRef<int64_t> perm = transpose.getPermutation();
    const int64_t axis = llvm::find(perm, l.axis) - perm.begin();
    Value result = transpose->getResult(0);
    analysis.track(result, axis, 1, l.channels);
    analysis.forwardChannels(input, result);
  }
  // shrinkToKeptChannels: the default rewrite (rebuilt init, result type).
};

/// Concatenation along the channel axis: the result's channels are the
/// operands' in order; an operand that is not followed keeps its channels.
struct ConcatModel
    : public ChannelPropagationOpInterface::ExternalModel<ConcatModel,
                                                          tensor::ConcatOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    auto concat = cast<tensor::ConcatOp>(op);
    int64_t dim = concat.getDim();
    const ChannelAnalysis::Layout *first = nullptr;
    for (Value v : concat.getInputs())
      if ((first = analysis.getLayout(v)))
        break;
    const ChannelAnalysis::Layout l = *first;
    bool ok = dim == l.axis;
    for (Value v : concat.getInputs()) {
      const ChannelAnalysis::Layout *ol = analysis.getLayout(v);
      int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(dim);
      ok &= ol ? (ol->axis == l.axis && ol->block == l.block)
               : size % l.block == 0;
    }
    if (!ok) {
      analysis.blockOperands(op, "concatenation along another axis");
      return;
    }
    int64_t total = concat.getResultType().getDimSize(dim) / l.block;
    Value result = concat.getResult();
    analysis.track(result, l.axis, l.block, total);
    int64_t offset = 0;
    for (Value v : concat.getInputs()) {
      int64_t n = cast<RankedTensorType>(v.getType()).getDimSize(dim) / l.block;
      if (analysis.getLayout(v))
        analysis.forwardChannels(v, result, offset);
      else
        for (int64_t c = 0; c < n; ++c)
          analysis.blockChannel(result, offset + c, op,
                                "operand comes from outside the analysed "
                                "graph");
      offset += n;
    }
  }
  LogicalResult shrinkToKeptChannels(Operation *op,
                                     ChannelAnalysis &analysis) const {
    // Operands are followed (they shrank already) or fully kept.
    Value result = op->getResult(0);
    result.setType(analysis.getShrunkType(result));
    return success();
  }
};

} // namespace

void mlir::sparsenn::registerChannelPropagationExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::AddFOp::attachInterface<ElementwiseModel<arith::AddFOp, AddFn>>(
        *ctx);
    arith::SubFOp::attachInterface<ElementwiseModel<arith::SubFOp, SubFn>>(
        *ctx);
    arith::MulFOp::attachInterface<
        ElementwiseModel<arith::MulFOp, MulFn, /*ZeroAbsorbs=*/true>>(*ctx);
    arith::DivFOp::attachInterface<ElementwiseModel<arith::DivFOp, DivFn>>(
        *ctx);
    arith::MaximumFOp::attachInterface<
        ElementwiseModel<arith::MaximumFOp, MaxFn>>(*ctx);
    arith::MaxNumFOp::attachInterface<
        ElementwiseModel<arith::MaxNumFOp, MaxFn>>(*ctx);
    arith::MinimumFOp::attachInterface<
        ElementwiseModel<arith::MinimumFOp, MinFn>>(*ctx);
    arith::MinNumFOp::attachInterface<
        ElementwiseModel<arith::MinNumFOp, MinFn>>(*ctx);
    arith::NegFOp::attachInterface<ElementwiseModel<arith::NegFOp, NegFn>>(
        *ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    linalg::GenericOp::attachInterface<GenericModel>(*ctx);
    linalg::TransposeOp::attachInterface<TransposeModel>(*ctx);
    linalg::PoolingNchwMaxOp::attachInterface<
        PoolingModel<linalg::PoolingNchwMaxOp, /*IsMax=*/true>>(*ctx);
    linalg::PoolingNchwSumOp::attachInterface<
        PoolingModel<linalg::PoolingNchwSumOp, /*IsMax=*/false>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::PadOp::attachInterface<PadModel>(*ctx);
    tensor::CollapseShapeOp::attachInterface<CollapseShapeModel>(*ctx);
    tensor::ExpandShapeOp::attachInterface<ExpandShapeModel>(*ctx);
    tensor::ConcatOp::attachInterface<ConcatModel>(*ctx);
  });
}
