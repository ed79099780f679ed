//===- RaiseTosa.cpp - TOSA layers to sparsenn ------------------------ ===//
//
// TOSA (TFLite / ONNX front ends) to sparsenn layers: conv2d and
// depthwise_conv2d (NHWC, between transposes), matmul, clamp as relu, max
// pooling, reshapes that flatten and transposes; the [N, K] -> [1, N, K]
// expansion TOSA puts around matmul is hoisted over the layer.
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
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::sparsenn;
using namespace mlir::sparsenn::import;

namespace {

//===----------------------------------------------------------------------===//
// TOSA
//===----------------------------------------------------------------------===//

bool isZeroPoint(Value zp) { return !zp || matchPattern(zp, m_AnyZeroFloat()); }

/// TOSA's rank-1 bias, broadcast from [1] when needed; null when zero.
LogicalResult tosaBias(PatternRewriter &rewriter, Location loc, Value bias,
                       int64_t channels, Value &out) {
  auto type = cast<RankedTensorType>(bias.getType());
  if (matchPattern(bias, m_AnyZeroFloat())) {
    out = nullptr;
    return success();
  }
  if (type.getDimSize(0) == channels) {
    out = bias;
    return success();
  }
  DenseElementsAttr attr = getFloatConstant(bias);
  if (!attr || !attr.isSplat())
    return failure();
  out = makeVector(rewriter, loc, cast<FloatType>(type.getElementType()),
                   SmallVector<APFloat>(channels, attr.getSplatValue<APFloat>()));
  return success();
}

template <typename TosaConvOp>
struct RaiseTosaConv : OpRewritePattern<TosaConvOp> {
  RaiseTosaConv(MLIRContext *ctx, bool verbose)
      : OpRewritePattern<TosaConvOp>(ctx), verbose(verbose) {}

  LogicalResult matchAndRewrite(TosaConvOp op,
                                PatternRewriter &rewriter) const override {
    constexpr bool depthwise =
        std::is_same_v<TosaConvOp, tosa::DepthwiseConv2DOp>;
    auto resultType = dyn_cast<RankedTensorType>(op.getType());
    if (!isStaticFloatTensor(op.getInput().getType()) ||
        !isStaticFloatTensor(op.getWeight().getType()) || !resultType ||
        !isStaticFloatTensor(resultType) ||
        !isZeroPoint(op.getInputZp()) || !isZeroPoint(op.getWeightZp()) ||
        getElementTypeOrSelf(op.getInput().getType()) !=
            resultType.getElementType())
      return failure();
    Location loc = op.getLoc();
    Value bias;
    if (failed(tosaBias(rewriter, loc, op.getBias(), resultType.getDimSize(3),
                        bias)))
      return rewriter.notifyMatchFailure(op, "unsupported bias");
    if (depthwise && !getFloatConstant(op.getWeight()))
      return rewriter.notifyMatchFailure(op, "depthwise weights not constant");
    Value weight;
    int64_t groups = 1;
    if constexpr (depthwise) {
      // [KH, KW, C, M] → [C, M, KH, KW] → [C·M, 1, KH, KW], group c.
      weight = permute(rewriter, loc, op.getWeight(), {2, 3, 0, 1});
      auto s = cast<RankedTensorType>(weight.getType()).getShape();
      weight = reshapeWeight(rewriter, loc, weight, {s[0] * s[1], 1, s[2], s[3]});
      groups = s[0];
    } else {
      // OHWI → OIHW.
      weight = permute(rewriter, loc, op.getWeight(), {0, 3, 1, 2});
    }
    Value y = buildConv(rewriter, loc, op.getInput(), weight, bias, resultType,
                        /*nhwc=*/true, op.getStride(),
                        llvm::to_vector(op.getPad()), op.getDilation(), groups);
    importRemark(verbose, op, "raised to sparsenn.conv2d");
    rewriter.replaceOp(op, y);
    return success();
  }

  bool verbose;
};

struct RaiseTosaMatmul : OpRewritePattern<tosa::MatMulOp> {
  RaiseTosaMatmul(MLIRContext *ctx, bool verbose)
      : OpRewritePattern(ctx), verbose(verbose) {}

  LogicalResult matchAndRewrite(tosa::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    DenseElementsAttr b = getFloatConstant(op.getB());
    if (!b || !isStaticFloatTensor(op.getA().getType()) ||
        !isStaticFloatTensor(resultType) || !isZeroPoint(op.getAZp()) ||
        !isZeroPoint(op.getBZp()) ||
        b.getElementType() != resultType.getElementType() ||
        getElementTypeOrSelf(op.getA().getType()) != resultType.getElementType())
      return failure();
    // b is [N, C, W]: every batch must hold the same matrix.
    auto shape = cast<RankedTensorType>(b.getType()).getShape();
    int64_t batch = shape[0], inF = shape[1], outF = shape[2];
    SmallVector<APFloat> v(b.getValues<APFloat>());
    for (int64_t i = inF * outF, e = v.size(); i < e; ++i)
      if (!v[i].bitwiseIsEqual(v[i % (inF * outF)]))
        return rewriter.notifyMatchFailure(op, "weights differ across batch");
    (void)batch;
    SmallVector<APFloat> w(inF * outF, v.front());
    for (int64_t c = 0; c < inF; ++c)
      for (int64_t o = 0; o < outF; ++o)
        w[o * inF + c] = v[c * outF + o];
    Location loc = op.getLoc();
    auto wType = RankedTensorType::get({outF, inF}, resultType.getElementType());
    Value weight = arith::ConstantOp::create(rewriter, loc,
                                             DenseElementsAttr::get(wType, w));
    auto linear = LinearOp::create(rewriter, loc, resultType, op.getA(), weight,
                                   /*bias=*/nullptr, nullptr, nullptr);
    importRemark(verbose, op, "raised to sparsenn.linear");
    rewriter.replaceOp(op, linear.getResult());
    return success();
  }

  bool verbose;
};

/// clamp(x, 0, +max) is relu.
struct TosaClampToRelu : OpRewritePattern<tosa::ClampOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::ClampOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    auto minAttr = dyn_cast<FloatAttr>(op.getMinValAttr());
    auto maxAttr = dyn_cast<FloatAttr>(op.getMaxValAttr());
    if (!type || !minAttr || !maxAttr || !minAttr.getValue().isZero())
      return failure();
    APFloat max = maxAttr.getValue();
    if (!max.isInfinity() && !max.isLargest())
      return failure();
    Location loc = op.getLoc();
    Value zero = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(type, rewriter.getFloatAttr(
                                                        type.getElementType(),
                                                        0.0)));
    if (op.getNanMode() == tosa::NanPropagationMode::IGNORE)
      rewriter.replaceOpWithNewOp<arith::MaxNumFOp>(op, op.getInput(), zero);
    else
      rewriter.replaceOpWithNewOp<arith::MaximumFOp>(op, op.getInput(), zero);
    return success();
  }
};

struct RaiseTosaMaxPool : OpRewritePattern<tosa::MaxPool2dOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MaxPool2dOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getType());
    if (!type || !isStaticFloatTensor(type) ||
        !isStaticFloatTensor(op.getInput().getType()))
      return failure();
    static constexpr int64_t toNCHW[] = {0, 3, 1, 2};
    static constexpr int64_t toNHWC[] = {0, 2, 3, 1};
    Location loc = op.getLoc();
    auto elt = cast<FloatType>(type.getElementType());
    // Padding never wins: it is the lowest finite value, as in upstream's
    // tosa-to-linalg.
    Value lowest = arith::ConstantOp::create(
        rewriter, loc,
        rewriter.getFloatAttr(elt, APFloat::getLargest(elt.getFloatSemantics(),
                                                       /*Negative=*/true)));
    Value x = permute(rewriter, loc, op.getInput(), toNCHW);
    auto pad = op.getPad(); // top, bottom, left, right
    if (llvm::any_of(pad, [](int64_t p) { return p != 0; })) {
      auto s = cast<RankedTensorType>(x.getType()).getShape();
      auto paddedType = RankedTensorType::get(
          {s[0], s[1], s[2] + pad[0] + pad[1], s[3] + pad[2] + pad[3]}, elt);
      SmallVector<OpFoldResult> low = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(pad[0]), rewriter.getIndexAttr(pad[2])};
      SmallVector<OpFoldResult> high = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(pad[1]), rewriter.getIndexAttr(pad[3])};
      x = tensor::PadOp::create(rewriter, loc, paddedType, x, low, high, lowest);
    }
    auto kernel = op.getKernel();
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, elt);
    Value empty = tensor::EmptyOp::create(
        rewriter, loc, applyPermutation(type.getShape(), toNCHW), elt);
    Value init =
        linalg::FillOp::create(rewriter, loc, lowest, empty)->getResult(0);
    Value y = buildNchwMaxPool(rewriter, loc, x, window, init, op.getStride(),
                               {1, 1});
    rewriter.replaceOp(op, permute(rewriter, loc, y, toNHWC));
    return success();
  }
};

struct RaiseTosaReshape : OpRewritePattern<tosa::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto src = dyn_cast<RankedTensorType>(op.getInput1().getType());
    auto dst = dyn_cast<RankedTensorType>(op.getType());
    if (!src || !dst || !src.hasStaticShape() || !dst.hasStaticShape())
      return failure();
    if (src == dst) {
      rewriter.replaceOp(op, op.getInput1());
      return success();
    }
    if (src.getRank() > dst.getRank()) {
      if (auto reassoc = getReassociationIndicesForReshape(src, dst)) {
        rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
            op, dst, op.getInput1(), *reassoc);
        return success();
      }
    }
    if (src.getRank() < dst.getRank()) {
      if (auto reassoc = getReassociationIndicesForReshape(src, dst)) {
        rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
            op, dst, op.getInput1(), *reassoc);
        return success();
      }
    }
    // Otherwise collapse, then expand, through the result's non-unit axes
    // (keeping its first axis when that works), as upstream's
    // tosa-to-tensor does.
    SmallVector<int64_t> nonUnit;
    for (int64_t d : dst.getShape().drop_front())
      if (d != 1)
        nonUnit.push_back(d);
    SmallVector<SmallVector<int64_t>> candidates;
    candidates.push_back(SmallVector<int64_t>{dst.getDimSize(0)});
    llvm::append_range(candidates.back(), nonUnit);
    candidates.push_back({});
    if (dst.getDimSize(0) != 1)
      candidates.back().push_back(dst.getDimSize(0));
    llvm::append_range(candidates.back(), nonUnit);
    if (candidates.back().empty())
      candidates.back().push_back(1);
    for (ArrayRef<int64_t> mid : candidates) {
      auto midType = RankedTensorType::get(mid, dst.getElementType());
      if (midType.getRank() > src.getRank() ||
          midType.getRank() > dst.getRank())
        continue;
      auto collapse = midType.getRank() < src.getRank()
                          ? getReassociationIndicesForReshape(src, midType)
                          : std::nullopt;
      auto expand = midType.getRank() < dst.getRank()
                        ? getReassociationIndicesForReshape(midType, dst)
                        : std::nullopt;
      bool collapseOk = midType.getRank() < src.getRank() ? bool(collapse)
                                                          : midType == src;
      bool expandOk = midType.getRank() < dst.getRank() ? bool(expand)
                                                        : midType == dst;
      if (!collapseOk || !expandOk)
        continue;
      Value v = op.getInput1();
      if (collapse)
        v = tensor::CollapseShapeOp::create(rewriter, op.getLoc(), midType, v,
                                            *collapse);
      if (expand)
        v = tensor::ExpandShapeOp::create(rewriter, op.getLoc(), dst, v,
                                          *expand);
      rewriter.replaceOp(op, v);
      return success();
    }
    return failure();
  }
};

struct RaiseTosaTranspose : OpRewritePattern<tosa::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getInput1().getType());
    if (!type || !type.hasStaticShape())
      return failure();
    SmallVector<int64_t> perm(op.getPerms().begin(), op.getPerms().end());
    rewriter.replaceOp(op, permute(rewriter, op.getLoc(), op.getInput1(), perm));
    return success();
  }
};

/// linear(expand_shape(v)) → expand_shape(linear(v)) when the expansion only
/// adds unit axes before the feature axis (TOSA's [N, K] → [1, N, K] around
/// tosa.matmul), so that the layer reads the flatten directly.
struct HoistExpandOverLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto expand = op.getInput().getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || !expand.getResultType().hasStaticShape())
      return failure();
    auto reassoc = expand.getReassociationIndices();
    auto outShape = expand.getResultType().getShape();
    const ReassociationIndices &last = reassoc.back();
    for (int64_t d : ArrayRef<int64_t>(last).drop_back())
      if (outShape[d] != 1)
        return failure();
    auto src = expand.getSrcType();
    auto resultType = op.getResult().getType();
    int64_t outF = resultType.getShape().back();
    SmallVector<int64_t> innerShape(src.getShape());
    innerShape.back() = outF;
    Location loc = op.getLoc();
    auto innerType = RankedTensorType::get(innerShape, resultType.getElementType());
    auto linear = LinearOp::create(rewriter, loc, innerType, expand.getSrc(),
                                   op.getWeight(), op.getBias(),
                                   op.getSparsityAttr(), op.getKernelAttr());
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, resultType, linear,
                                                       reassoc);
    return success();
  }
};

} // namespace

void mlir::sparsenn::populateTosaRaisingPatterns(RewritePatternSet &patterns,
                                                 bool verbose) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<RaiseTosaConv<tosa::Conv2DOp>,
               RaiseTosaConv<tosa::DepthwiseConv2DOp>, RaiseTosaMatmul>(
      ctx, verbose);
  patterns.add<HoistExpandOverLinear, TosaClampToRelu, RaiseTosaMaxPool,
               RaiseTosaReshape, RaiseTosaTranspose>(ctx);
}
