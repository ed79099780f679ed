//===- RaiseLinalg.cpp - linalg layers to sparsenn --------------------- ===//
//
// linalg on tensors (torch-mlir, IREE) to sparsenn layers in the PyTorch
// layouts the dialect uses: contractions to sparsenn.linear, NCHW / NHWC
// (depthwise) convolutions to sparsenn.conv2d (NHWC ones between
// transposes that the transpose sinking patterns then cancel), relu as a
// select to max, NHWC max pooling to NCHW, and per-feature adds after a
// layer into its bias. Every rewrite is exact.
//
//===----------------------------------------------------------------------===//

#include "ImportUtils.h"

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Transforms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::sparsenn;
using namespace mlir::sparsenn::import;

namespace {

//===----------------------------------------------------------------------===//
// linalg contractions → sparsenn.linear
//===----------------------------------------------------------------------===//


struct RaiseContraction : OpInterfaceRewritePattern<linalg::LinalgOp> {
  RaiseContraction(MLIRContext *ctx, bool verbose)
      : OpInterfaceRewritePattern(ctx), verbose(verbose) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
      return failure();
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (failed(dims) || dims->k.size() != 1 || dims->n.size() != 1)
      return rewriter.notifyMatchFailure(op, "not a single-k, single-n "
                                             "contraction");
    Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    Type resultType = op->getResult(0).getType();
    if (!isStaticFloatTensor(a.getType()) ||
        !isStaticFloatTensor(b.getType()) || !isStaticFloatTensor(resultType))
      return failure();
    auto elt = cast<FloatType>(cast<RankedTensorType>(resultType).getElementType());
    if (getElementTypeOrSelf(a.getType()) != elt ||
        getElementTypeOrSelf(b.getType()) != elt)
      return rewriter.notifyMatchFailure(op, "mixed element types");
    DenseElementsAttr weights = getFloatConstant(b);
    if (!weights)
      return rewriter.notifyMatchFailure(op, "right operand is not constant");

    auto maps = op.getIndexingMapsArray();
    if (!llvm::all_of(maps, [](AffineMap m) { return m.isProjectedPermutation(); }))
      return failure();
    unsigned k = dims->k[0], n = dims->n[0];
    SmallVector<unsigned> aDims = mapDims(maps[0]), bDims = mapDims(maps[1]),
                          cDims = mapDims(maps[2]);
    // sparsenn.linear contracts the last axis of its input and produces the
    // features last, with the leading axes shared and in the same order.
    if (cDims.empty() || cDims.back() != n)
      return rewriter.notifyMatchFailure(op, "features are not the last axis");
    SmallVector<unsigned> expectedA(cDims.begin(), cDims.end() - 1);
    expectedA.push_back(k);
    if (aDims != expectedA)
      return rewriter.notifyMatchFailure(op, "input is not [..., in]");

    // Gather W[n][k]; batch axes of the weights must repeat one matrix.
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t inF = ranges[k], outF = ranges[n];
    auto bType = cast<RankedTensorType>(b.getType());
    SmallVector<APFloat> values(weights.getValues<APFloat>());
    SmallVector<int64_t> strides = computeStrides(bType.getShape());
    SmallVector<APFloat> w(outF * inF, values.front());
    SmallVector<bool> seen(outF * inF, false);
    for (int64_t linear = 0, e = values.size(); linear < e; ++linear) {
      SmallVector<int64_t> idx = delinearize(linear, strides);
      int64_t kk = 0, nn = 0;
      for (auto [pos, dim] : llvm::enumerate(bDims)) {
        if (dim == k)
          kk = idx[pos];
        else if (dim == n)
          nn = idx[pos];
      }
      int64_t at = nn * inF + kk;
      if (!seen[at]) {
        w[at] = values[linear];
        seen[at] = true;
      } else if (w[at].bitwiseIsEqual(values[linear]) == false) {
        return rewriter.notifyMatchFailure(op, "weights differ across batch");
      }
    }

    Location loc = op.getLoc();
    Value bias;
    if (failed(matchPerChannel(rewriter, loc, init, cDims.size() - 1, outF,
                               bias)))
      return rewriter.notifyMatchFailure(op, "init is not a per-feature bias");
    auto wType = RankedTensorType::get({outF, inF}, elt);
    Value weight = arith::ConstantOp::create(rewriter, loc,
                                             DenseElementsAttr::get(wType, w));
    auto linear = LinearOp::create(rewriter, loc, resultType, a, weight, bias,
                                   /*sparsity=*/nullptr, /*kernel=*/nullptr);
    importRemark(verbose, op, "raised to sparsenn.linear");
    rewriter.replaceOp(op, linear.getResult());
    return success();
  }

  bool verbose;
};

//===----------------------------------------------------------------------===//
// linalg convolutions → sparsenn.conv2d
//===----------------------------------------------------------------------===//

struct ConvForm {
  bool nhwc;
  bool depthwise;
  SmallVector<int64_t> filterPerm; // to OIHW, or to CHW when depthwise
};

SmallVector<int64_t> toI64(DenseIntElementsAttr attr, int64_t dflt) {
  if (!attr)
    return {dflt, dflt};
  return llvm::to_vector(
      llvm::map_range(attr.getValues<APInt>(),
                      [](const APInt &v) { return v.getSExtValue(); }));
}

template <typename ConvOp>
struct RaiseLinalgConv : OpRewritePattern<ConvOp> {
  RaiseLinalgConv(MLIRContext *ctx, ConvForm form, bool verbose)
      : OpRewritePattern<ConvOp>(ctx), form(std::move(form)),
        verbose(verbose) {}

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value input = op.getDpsInputs()[0], filter = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!isStaticFloatTensor(input.getType()) ||
        !isStaticFloatTensor(filter.getType()) || !resultType ||
        !isStaticFloatTensor(resultType) ||
        getElementTypeOrSelf(input.getType()) != resultType.getElementType() ||
        getElementTypeOrSelf(filter.getType()) != resultType.getElementType())
      return failure();
    Location loc = op.getLoc();
    int64_t channelDim = form.nhwc ? 3 : 1;
    int64_t outC = resultType.getDimSize(channelDim);
    Value bias;
    if (failed(matchPerChannel(rewriter, loc, init, channelDim, outC, bias)))
      return rewriter.notifyMatchFailure(op, "init is not a per-channel bias");

    Value weight = permute(rewriter, loc, filter, form.filterPerm);
    int64_t groups = 1;
    if (form.depthwise) {
      auto chw = cast<RankedTensorType>(weight.getType()).getShape();
      weight = reshapeWeight(rewriter, loc, weight, {chw[0], 1, chw[1], chw[2]});
      groups = chw[0];
    }
    Value y = buildConv(rewriter, loc, input, weight, bias, resultType,
                        form.nhwc, toI64(op.getStrides(), 1), {0, 0, 0, 0},
                        toI64(op.getDilations(), 1), groups);
    importRemark(verbose, op, "raised to sparsenn.conv2d");
    rewriter.replaceOp(op, y);
    return success();
  }

  ConvForm form;
  bool verbose;
};

/// `depthwise_conv_2d_nhwc_hwcm` (what tosa-to-linalg-named emits for
/// tosa.depthwise_conv2d): result [N, OH, OW, C, M], filter [KH, KW, C, M].
/// Output channel c·M + m of the grouped conv is group c, as in TOSA.
struct RaiseDepthwiseHwcm
    : OpRewritePattern<linalg::DepthwiseConv2DNhwcHwcmOp> {
  RaiseDepthwiseHwcm(MLIRContext *ctx, bool verbose)
      : OpRewritePattern(ctx), verbose(verbose) {}

  LogicalResult matchAndRewrite(linalg::DepthwiseConv2DNhwcHwcmOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value input = op.getDpsInputs()[0], filter = op.getDpsInputs()[1];
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!isStaticFloatTensor(input.getType()) || !getFloatConstant(filter) ||
        !resultType || !isStaticFloatTensor(resultType) ||
        getElementTypeOrSelf(input.getType()) != resultType.getElementType() ||
        getElementTypeOrSelf(filter.getType()) != resultType.getElementType())
      return failure();
    auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    if (!fill)
      return rewriter.notifyMatchFailure(op, "init is not a fill");
    auto shape = resultType.getShape();
    int64_t channels = shape[3] * shape[4];
    Location loc = op.getLoc();
    auto nhwcType = RankedTensorType::get(
        {shape[0], shape[1], shape[2], channels}, resultType.getElementType());
    Value bias;
    if (failed(matchPerChannel(rewriter, loc, fill.getResult(0), 3, channels,
                               bias)))
      return failure();
    // [KH, KW, C, M] → [C, M, KH, KW] → [C·M, 1, KH, KW].
    auto fShape = cast<RankedTensorType>(filter.getType()).getShape();
    Value weight = permute(rewriter, loc, filter, {2, 3, 0, 1});
    weight = reshapeWeight(rewriter, loc, weight,
                           {channels, 1, fShape[0], fShape[1]});
    Value y = buildConv(rewriter, loc, input, weight, bias, nhwcType,
                        /*nhwc=*/true, toI64(op.getStrides(), 1), {0, 0, 0, 0},
                        toI64(op.getDilations(), 1), /*groups=*/shape[3]);
    importRemark(verbose, op, "raised to sparsenn.conv2d");
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, resultType, y, SmallVector<ReassociationIndices>{{0}, {1}, {2}, {3, 4}});
    return success();
  }

  bool verbose;
};

//===----------------------------------------------------------------------===//
// relu and pooling
//===----------------------------------------------------------------------===//

/// `select(cmpf(ugt|uge, x, 0), x, 0)` (torch-mlir's relu) is
/// `maximumf(x, 0)` (NaN propagates in both); the ordered predicates give
/// `maxnumf` (NaN → 0 in both). The channel analysis reads max/min forms.
struct ReluSelectToMax : OpRewritePattern<arith::SelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::SelectOp op,
                                PatternRewriter &rewriter) const override {
    auto cmp = op.getCondition().getDefiningOp<arith::CmpFOp>();
    if (!cmp || !isa<FloatType>(op.getType()))
      return failure();
    Value x = op.getTrueValue(), zero = op.getFalseValue();
    if (cmp.getLhs() != x || !matchPattern(zero, m_AnyZeroFloat()) ||
        !matchPattern(cmp.getRhs(), m_AnyZeroFloat()))
      return failure();
    switch (cmp.getPredicate()) {
    case arith::CmpFPredicate::UGT:
    case arith::CmpFPredicate::UGE:
      rewriter.replaceOpWithNewOp<arith::MaximumFOp>(op, x, zero);
      return success();
    case arith::CmpFPredicate::OGT:
    case arith::CmpFPredicate::OGE:
      rewriter.replaceOpWithNewOp<arith::MaxNumFOp>(op, x, zero);
      return success();
    default:
      return failure();
    }
  }
};

/// The init of an NCHW pooling made from the NHWC one.
Value nchwInit(PatternRewriter &rewriter, Location loc, Value init) {
  static constexpr int64_t toNCHW[] = {0, 3, 1, 2};
  auto type = cast<RankedTensorType>(init.getType());
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    Value empty = tensor::EmptyOp::create(
        rewriter, loc, applyPermutation(type.getShape(), toNCHW),
        type.getElementType());
    return linalg::FillOp::create(rewriter, loc, fill.getInputs()[0], empty)
        ->getResult(0);
  }
  return permute(rewriter, loc, init, toNCHW);
}

struct NhwcMaxPoolToNchw : OpRewritePattern<linalg::PoolingNhwcMaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::PoolingNhwcMaxOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() ||
        !isStaticFloatTensor(op->getResult(0).getType()))
      return failure();
    static constexpr int64_t toNCHW[] = {0, 3, 1, 2};
    static constexpr int64_t toNHWC[] = {0, 2, 3, 1};
    Location loc = op.getLoc();
    Value x = permute(rewriter, loc, op.getDpsInputs()[0], toNCHW);
    Value init = nchwInit(rewriter, loc, op.getDpsInits()[0]);
    Value y = buildNchwMaxPool(rewriter, loc, x, op.getDpsInputs()[1], init,
                               toI64(op.getStrides(), 1),
                               toI64(op.getDilations(), 1));
    rewriter.replaceOp(op, permute(rewriter, loc, y, toNHWC));
    return success();
  }
};

/// A per-feature add after a layer (`linalg.generic` addf with a broadcast
/// rank-1 operand, `linalg.add` or `arith.addf` with a broadcast or
/// per-channel constant) becomes the layer's bias.
template <typename LayerOp>
struct FoldBiasAdd : OpRewritePattern<LayerOp> {
  using OpRewritePattern<LayerOp>::OpRewritePattern;

  LogicalResult matchAndRewrite(LayerOp op,
                                PatternRewriter &rewriter) const override {
    Value y = op.getResult();
    if (!y.hasOneUse() || isa<SPGC8Type>(op.getWeight().getType()))
      return failure();
    auto type = cast<RankedTensorType>(y.getType());
    int64_t channelDim = std::is_same_v<LayerOp, LinearOp> ? type.getRank() - 1
                                                           : 1;
    int64_t channels = type.getDimSize(channelDim);
    Operation *user = *y.getUsers().begin();
    if (user->getNumResults() != 1 || user->getResult(0).getType() != type)
      return failure();
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(user);
    Value extra;
    if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
      if (failed(matchGenericAdd(generic, y, channelDim, extra)))
        return failure();
    } else if (isa<arith::AddFOp, linalg::AddOp>(user)) {
      // Only the two summands (linalg.add's third operand is its init).
      Value lhs = user->getOperand(0), rhs = user->getOperand(1);
      if ((lhs == y) == (rhs == y))
        return failure();
      Value other = lhs == y ? rhs : lhs;
      if (failed(matchPerChannel(rewriter, loc, other, channelDim, channels,
                                 extra)))
        return failure();
    } else {
      return failure();
    }
    // The new layer goes where the add was: everything it reads dominates
    // that point.
    Value bias = addBiases(rewriter, loc, op.getBias(), extra);
    auto layer = cast<LayerOp>(rewriter.clone(*op));
    if (bias)
      layer.getBiasMutable().assign(bias);
    rewriter.replaceOp(user, layer.getResult());
    rewriter.eraseOp(op);
    return success();
  }

  static LogicalResult matchGenericAdd(linalg::GenericOp generic, Value y,
                                       int64_t channelDim, Value &extra) {
    if (!generic.hasPureTensorSemantics() || generic.getNumDpsInputs() != 2 ||
        generic.getNumDpsInits() != 1 ||
        generic.getNumLoops() != generic.getNumParallelLoops())
      return failure();
    auto maps = generic.getIndexingMapsArray();
    int64_t yPos = generic.getDpsInputs()[0] == y ? 0 : 1;
    Value other = generic.getDpsInputs()[1 - yPos];
    auto otherType = dyn_cast<RankedTensorType>(other.getType());
    if (generic.getDpsInputs()[yPos] != y || !maps[yPos].isIdentity() ||
        !maps[2].isIdentity() || !otherType || otherType.getRank() != 1 ||
        maps[1 - yPos].getNumResults() != 1 ||
        maps[1 - yPos].getResult(0) !=
            getAffineDimExpr(channelDim, generic.getContext()))
      return failure();
    Block &body = generic.getRegion().front();
    if (body.getOperations().size() != 2)
      return failure();
    auto add = dyn_cast<arith::AddFOp>(&body.front());
    if (!add || body.getTerminator()->getOperand(0) != add.getResult())
      return failure();
    Value a = body.getArgument(0), b = body.getArgument(1);
    if (!((add.getLhs() == a && add.getRhs() == b) ||
          (add.getLhs() == b && add.getRhs() == a)))
      return failure();
    extra = matchPattern(other, m_AnyZeroFloat()) ? Value() : other;
    return success();
  }
};

} // namespace

void mlir::sparsenn::populateLinalgRaisingPatterns(RewritePatternSet &patterns,
                                                   bool verbose) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<RaiseContraction>(ctx, verbose);
  patterns.add<RaiseLinalgConv<linalg::Conv2DNchwFchwOp>>(
      ctx, ConvForm{false, false, {0, 1, 2, 3}}, verbose);
  patterns.add<RaiseLinalgConv<linalg::Conv2DNhwcHwcfOp>>(
      ctx, ConvForm{true, false, {3, 2, 0, 1}}, verbose);
  patterns.add<RaiseLinalgConv<linalg::Conv2DNhwcFhwcOp>>(
      ctx, ConvForm{true, false, {0, 3, 1, 2}}, verbose);
  patterns.add<RaiseLinalgConv<linalg::DepthwiseConv2DNchwChwOp>>(
      ctx, ConvForm{false, true, {0, 1, 2}}, verbose);
  patterns.add<RaiseLinalgConv<linalg::DepthwiseConv2DNhwcHwcOp>>(
      ctx, ConvForm{true, true, {2, 0, 1}}, verbose);
  patterns.add<RaiseDepthwiseHwcm>(ctx, verbose);
  patterns.add<ReluSelectToMax, NhwcMaxPoolToNchw, FoldBiasAdd<LinearOp>,
               FoldBiasAdd<Conv2DOp>>(ctx);
}
