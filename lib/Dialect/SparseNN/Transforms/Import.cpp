//===- Import.cpp - raise linalg / TOSA model IR to sparsenn layers -------===//
//
// Users run sparse-opt on the IR their own compilers emit (linalg on tensors
// from torch-mlir / IREE, TOSA from TFLite / ONNX front ends). The sparsity
// passes work on `sparsenn.linear` and `sparsenn.conv2d`, so this pass
// recognises the dense layers of that IR and rewrites them into sparsenn
// layers in the PyTorch layouts the dialect uses ([out, in] weights, NCHW /
// OIHW convolutions). NHWC layers are wrapped in transposes that are then
// moved through element-wise ops, padding and pooling and cancelled in
// inverse pairs, so that a chain of NHWC layers ends up in NCHW with a
// transpose only where the data enters and leaves. Every rewrite is exact:
// the function computes the same values before and after.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNIMPORTPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

//===----------------------------------------------------------------------===//
// Constants and layout helpers
//===----------------------------------------------------------------------===//

/// The dense float constant `v` is, or null.
DenseElementsAttr getFloatConstant(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return {};
  if (!isa<FloatType>(attr.getElementType()))
    return {};
  return attr;
}

bool isStaticFloatTensor(Type t) {
  auto type = dyn_cast<RankedTensorType>(t);
  return type && type.hasStaticShape() && isa<FloatType>(type.getElementType());
}

bool isIdentity(ArrayRef<int64_t> perm) {
  for (auto [i, p] : llvm::enumerate(perm))
    if (p != static_cast<int64_t>(i))
      return false;
  return true;
}

/// `linalg.transpose` semantics: result dim i is input dim perm[i].
DenseElementsAttr permuteConstant(DenseElementsAttr attr,
                                  ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(attr.getType());
  auto shape = applyPermutation(type.getShape(), perm);
  auto newType = RankedTensorType::get(shape, type.getElementType());
  if (attr.isSplat())
    return attr.resizeSplat(newType);
  SmallVector<APFloat> in(attr.getValues<APFloat>());
  SmallVector<int64_t> inStrides = computeStrides(type.getShape());
  SmallVector<int64_t> outStrides = computeStrides(shape);
  SmallVector<APFloat> out(in.size(), in.front());
  for (int64_t linear = 0, e = in.size(); linear < e; ++linear) {
    SmallVector<int64_t> outIdx = delinearize(linear, outStrides);
    int64_t src = 0;
    for (auto [i, p] : llvm::enumerate(perm))
      src += outIdx[i] * inStrides[p];
    out[linear] = in[src];
  }
  return DenseElementsAttr::get(newType, out);
}

/// `v` permuted like `linalg.transpose` with `perm`: constants are permuted
/// at compile time and a transpose of a transpose is composed, so that
/// inverse pairs vanish as they are created.
Value permute(PatternRewriter &rewriter, Location loc, Value v,
              ArrayRef<int64_t> perm) {
  if (isIdentity(perm))
    return v;
  if (DenseElementsAttr attr = getFloatConstant(v))
    return arith::ConstantOp::create(rewriter, loc, permuteConstant(attr, perm));
  if (auto inner = v.getDefiningOp<linalg::TransposeOp>()) {
    // transpose(transpose(x, Q), P)[i] = x dim Q[P[i]].
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(inner.getPermutation()[p]);
    return permute(rewriter, loc, inner.getInput(), composed);
  }
  auto type = cast<RankedTensorType>(v.getType());
  Value init = tensor::EmptyOp::create(
      rewriter, loc, applyPermutation(type.getShape(), perm),
      type.getElementType());
  return linalg::TransposeOp::create(rewriter, loc, v, init, perm)
      ->getResult(0);
}

/// Reshapes a weight to `shape` (same number of elements): constants at
/// compile time, others through a collapse to 1-D and an expand.
Value reshapeWeight(PatternRewriter &rewriter, Location loc, Value v,
                    ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  auto newType = RankedTensorType::get(shape, type.getElementType());
  if (DenseElementsAttr attr = getFloatConstant(v))
    return arith::ConstantOp::create(rewriter, loc, attr.reshape(newType));
  auto reassoc =
      getReassociationIndicesForReshape(type, newType);
  if (!reassoc)
    return {};
  if (type.getRank() > newType.getRank())
    return tensor::CollapseShapeOp::create(rewriter, loc, newType, v, *reassoc);
  return tensor::ExpandShapeOp::create(rewriter, loc, newType, v, *reassoc);
}

/// A rank-1 float constant of `values`.
Value makeVector(PatternRewriter &rewriter, Location loc, FloatType elt,
                 ArrayRef<APFloat> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())}, elt);
  return arith::ConstantOp::create(rewriter, loc,
                                   DenseElementsAttr::get(type, values));
}

/// Matches a value that only varies along `channelDim` of a tensor whose
/// shape has `channels` there: a fill, a constant, a `linalg.broadcast` or a
/// broadcasting `linalg.generic` of a rank-1 tensor. On success `perChannel`
/// is the rank-1 value (null when it is all zeros).
LogicalResult matchPerChannel(PatternRewriter &rewriter, Location loc,
                              Value v, int64_t channelDim, int64_t channels,
                              Value &perChannel) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return failure();
  auto elt = cast<FloatType>(type.getElementType());
  int64_t rank = type.getRank();

  auto fromScalar = [&](Value scalar) -> LogicalResult {
    if (matchPattern(scalar, m_AnyZeroFloat())) {
      perChannel = nullptr;
      return success();
    }
    FloatAttr f;
    if (!matchPattern(scalar, m_Constant(&f)))
      return failure();
    perChannel = makeVector(rewriter, loc, elt,
                            SmallVector<APFloat>(channels, f.getValue()));
    return success();
  };

  if (auto fill = v.getDefiningOp<linalg::FillOp>())
    return fromScalar(fill.getInputs()[0]);

  if (DenseElementsAttr attr = getFloatConstant(v)) {
    if (attr.isSplat() && attr.getSplatValue<APFloat>().isZero()) {
      perChannel = nullptr;
      return success();
    }
    SmallVector<APFloat> values(attr.getValues<APFloat>());
    SmallVector<int64_t> strides = computeStrides(type.getShape());
    // The value at index 0 of every other axis, then a check that the
    // others repeat it.
    int64_t stride = strides[channelDim];
    SmallVector<APFloat> channel;
    for (int64_t c = 0; c < channels; ++c)
      channel.push_back(values[c * stride]);
    for (int64_t i = 0, e = values.size(); i < e; ++i)
      if (!values[i].bitwiseIsEqual(channel[(i / stride) % channels]))
        return failure();
    perChannel = makeVector(rewriter, loc, elt, channel);
    return success();
  }

  if (auto bcast = v.getDefiningOp<linalg::BroadcastOp>()) {
    // `dimensions` lists the added dims; the one kept must be the channel.
    auto input = bcast.getInput();
    if (cast<RankedTensorType>(input.getType()).getRank() != 1 ||
        bcast.getDimensions().size() != static_cast<size_t>(rank - 1) ||
        llvm::is_contained(bcast.getDimensions(), channelDim))
      return failure();
    perChannel = input;
    return success();
  }

  if (auto generic = v.getDefiningOp<linalg::GenericOp>()) {
    if (generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
        generic.getNumLoops() != generic.getNumParallelLoops())
      return failure();
    Value input = generic.getDpsInputs()[0];
    auto inType = dyn_cast<RankedTensorType>(input.getType());
    auto maps = generic.getIndexingMapsArray();
    if (!inType || inType.getRank() != 1 || !maps[1].isIdentity() ||
        maps[0].getNumResults() != 1 ||
        maps[0].getResult(0) != getAffineDimExpr(channelDim, v.getContext()))
      return failure();
    Block &body = generic.getRegion().front();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    if (body.getOperations().size() != 1 ||
        yield.getOperand(0) != body.getArgument(0))
      return failure();
    perChannel = input;
    return success();
  }
  return failure();
}

/// Adds two optional rank-1 biases.
Value addBiases(PatternRewriter &rewriter, Location loc, Value a, Value b) {
  if (!a)
    return b;
  if (!b)
    return a;
  return arith::AddFOp::create(rewriter, loc, a, b);
}

void remark(bool verbose, Operation *op, StringRef what) {
  if (verbose)
    op->emitRemark() << "sparsenn-import: " << what;
}

//===----------------------------------------------------------------------===//
// linalg contractions → sparsenn.linear
//===----------------------------------------------------------------------===//

SmallVector<unsigned> mapDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults())
    dims.push_back(cast<AffineDimExpr>(e).getPosition());
  return dims;
}

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
    remark(verbose, op, "raised to sparsenn.linear");
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

/// Builds the NCHW sparsenn.conv2d for an NCHW or NHWC convolution whose
/// input, filter and bias are given in their original layouts; returns the
/// result in the original layout.
Value buildConv(PatternRewriter &rewriter, Location loc, Value input,
                Value filterOIHW, Value bias, RankedTensorType resultType,
                bool nhwc, ArrayRef<int64_t> strides,
                SmallVector<int64_t> padding, ArrayRef<int64_t> dilations,
                int64_t groups) {
  // A zero tensor.pad over H and W only becomes the conv's own padding.
  if (auto pad = input.getDefiningOp<tensor::PadOp>()) {
    Value padValue = pad.getConstantPaddingValue();
    auto low = pad.getStaticLow(), high = pad.getStaticHigh();
    int64_t h = nhwc ? 1 : 2, w = nhwc ? 2 : 3, c = nhwc ? 3 : 1;
    if (padValue && matchPattern(padValue, m_AnyZeroFloat()) &&
        !ShapedType::isDynamicShape(low) && !ShapedType::isDynamicShape(high) &&
        low[0] == 0 && high[0] == 0 && low[c] == 0 && high[c] == 0) {
      padding = {padding[0] + low[h], padding[1] + high[h],
                 padding[2] + low[w], padding[3] + high[w]};
      input = pad.getSource();
    }
  }
  static constexpr int64_t toNCHW[] = {0, 3, 1, 2};
  static constexpr int64_t toNHWC[] = {0, 2, 3, 1};
  Value x = nhwc ? permute(rewriter, loc, input, toNCHW) : input;
  auto outType = nhwc ? RankedTensorType::get(
                            applyPermutation(resultType.getShape(), toNCHW),
                            resultType.getElementType())
                      : resultType;
  Value y = Conv2DOp::create(rewriter, loc, outType, x, filterOIHW, bias,
                             strides, padding, dilations, groups,
                             /*sparsity=*/nullptr, /*kernel=*/nullptr);
  return nhwc ? permute(rewriter, loc, y, toNHWC) : y;
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
    remark(verbose, op, "raised to sparsenn.conv2d");
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
    remark(verbose, op, "raised to sparsenn.conv2d");
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

Value buildNchwMaxPool(PatternRewriter &rewriter, Location loc, Value xNCHW,
                       Value window, Value initNCHW, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> dilations) {
  SmallVector<NamedAttribute> attrs = {
      rewriter.getNamedAttr("strides", rewriter.getI64TensorAttr(strides)),
      rewriter.getNamedAttr("dilations", rewriter.getI64TensorAttr(dilations))};
  return linalg::PoolingNchwMaxOp::create(rewriter, loc,
                                          TypeRange{initNCHW.getType()},
                                          ValueRange{xNCHW, window},
                                          ValueRange{initNCHW}, attrs)
      ->getResult(0);
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

//===----------------------------------------------------------------------===//
// Layout: move transposes down and cancel them
//===----------------------------------------------------------------------===//

struct FoldTransposeOfConstantOrTranspose
    : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value input = op.getInput();
    if (!getFloatConstant(input) && !input.getDefiningOp<linalg::TransposeOp>())
      return failure();
    rewriter.replaceOp(op, permute(rewriter, op.getLoc(), input,
                                   op.getPermutation()));
    return success();
  }
};

/// A `linalg.generic` that only transposes a constant (torch-mlir's weight
/// transposes) is a constant.
struct FoldGenericTransposeOfConstant : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 1 ||
        op.getNumDpsInits() != 1 ||
        op.getNumLoops() != op.getNumParallelLoops())
      return failure();
    DenseElementsAttr attr = getFloatConstant(op.getDpsInputs()[0]);
    auto maps = op.getIndexingMapsArray();
    Block &body = op.getRegion().front();
    if (!attr || !maps[0].isPermutation() || !maps[1].isIdentity() ||
        body.getOperations().size() != 1 ||
        body.getTerminator()->getOperand(0) != body.getArgument(0) ||
        op.getResult(0).getType() != op.getDpsInits()[0].getType())
      return failure();
    // in[j] with j_r = i_{q_r}: result dim q_r is input dim r.
    SmallVector<int64_t> q;
    for (unsigned d : mapDims(maps[0]))
      q.push_back(d);
    rewriter.replaceOp(op, permute(rewriter, op.getLoc(), op.getDpsInputs()[0],
                                   invertPermutationVector(q)));
    return success();
  }
};

/// The permutation of the transpose producing `v`, if any.
std::optional<SmallVector<int64_t>> transposeOf(Value v) {
  if (auto t = v.getDefiningOp<linalg::TransposeOp>())
    if (t.hasPureTensorSemantics())
      return llvm::to_vector(t.getPermutation());
  return std::nullopt;
}

/// elementwise(transpose(x, P), ...) → transpose(elementwise(x, ...), P) for
/// `ElementwiseMappable` ops on tensors (arith, math); other operands must
/// be transposes by P too, or constants (permuted back at compile time).
struct SinkTransposeThroughElementwise : RewritePattern {
  SinkTransposeThroughElementwise(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!op->hasTrait<OpTrait::Elementwise>() || op->getNumResults() != 1 ||
        op->getNumRegions() != 0 ||
        !isa<RankedTensorType>(op->getResult(0).getType()))
      return failure();
    std::optional<SmallVector<int64_t>> perm;
    for (Value operand : op->getOperands())
      if ((perm = transposeOf(operand)))
        break;
    if (!perm)
      return failure();
    SmallVector<int64_t> inverse = invertPermutationVector(*perm);
    Location loc = op->getLoc();
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      if (transposeOf(operand) == perm)
        operands.push_back(operand.getDefiningOp<linalg::TransposeOp>().getInput());
      else if (getFloatConstant(operand))
        operands.push_back(permute(rewriter, loc, operand, inverse));
      else
        return failure();
    }
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    Type newType = RankedTensorType::get(
        applyPermutation(type.getShape(), inverse), type.getElementType());
    OperationState state(loc, op->getName(), operands, TypeRange(newType),
                         op->getAttrs());
    Operation *newOp = rewriter.create(state);
    rewriter.replaceOp(op, permute(rewriter, loc, newOp->getResult(0), *perm));
    return success();
  }
};

/// The same for an all-parallel `linalg.generic` whose output is indexed by
/// the identity: transposed operands indexed by the identity are replaced by
/// the transposes' inputs and every other operand's map is re-expressed in
/// the untransposed iteration space.
struct SinkTransposeThroughGeneric : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
        op.getNumLoops() != op.getNumParallelLoops())
      return failure();
    auto maps = op.getIndexingMapsArray();
    if (!maps.back().isIdentity())
      return failure();
    std::optional<SmallVector<int64_t>> perm;
    for (OpOperand *in : op.getDpsInputOperands())
      if (op.getMatchingIndexingMap(in).isIdentity() &&
          (perm = transposeOf(in->get())))
        break;
    if (!perm)
      return failure();
    MLIRContext *ctx = op.getContext();
    SmallVector<int64_t> inverse = invertPermutationVector(*perm);
    // Old loop i is new loop perm[i].
    SmallVector<unsigned> permU(perm->begin(), perm->end());
    AffineMap oldToNew = AffineMap::getPermutationMap(permU, ctx);
    Location loc = op.getLoc();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> newMaps;
    for (OpOperand *in : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(in);
      if (map.isIdentity() && transposeOf(in->get()) == perm) {
        inputs.push_back(in->get().getDefiningOp<linalg::TransposeOp>().getInput());
        newMaps.push_back(map);
      } else {
        inputs.push_back(in->get());
        newMaps.push_back(map.compose(oldToNew));
      }
    }
    Value init = op.getDpsInits()[0];
    auto type = cast<RankedTensorType>(init.getType());
    auto newShape = applyPermutation(type.getShape(), inverse);
    Value newInit;
    if (init.getDefiningOp<tensor::EmptyOp>())
      newInit = tensor::EmptyOp::create(rewriter, loc, newShape,
                                        type.getElementType());
    else
      newInit = permute(rewriter, loc, init, inverse);
    newMaps.push_back(maps.back());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{newInit.getType()}, inputs, ValueRange{newInit},
        newMaps, op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op.getRegion(), generic.getRegion(),
                                generic.getRegion().end());
    rewriter.replaceOp(op, permute(rewriter, loc, generic.getResult(0), *perm));
    return success();
  }
};

/// pad(transpose(x, P)) → transpose(pad(x), P) for constant padding values.
struct SinkTransposeThroughPad : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallVector<int64_t>> perm = transposeOf(op.getSource());
    Value padValue = op.getConstantPaddingValue();
    auto low = op.getStaticLow(), high = op.getStaticHigh();
    if (!perm || !padValue || ShapedType::isDynamicShape(low) ||
        ShapedType::isDynamicShape(high) || !op.getResultType().hasStaticShape())
      return failure();
    // Result dim i is source dim perm[i].
    SmallVector<OpFoldResult> newLow(low.size()), newHigh(high.size());
    for (auto [i, p] : llvm::enumerate(*perm)) {
      newLow[p] = rewriter.getIndexAttr(low[i]);
      newHigh[p] = rewriter.getIndexAttr(high[i]);
    }
    Location loc = op.getLoc();
    Value x = op.getSource().getDefiningOp<linalg::TransposeOp>().getInput();
    auto type = op.getResultType();
    auto newType = RankedTensorType::get(
        applyPermutation(type.getShape(), invertPermutationVector(*perm)),
        type.getElementType());
    Value padded = tensor::PadOp::create(rewriter, loc, newType, x, newLow,
                                         newHigh, padValue, op.getNofold());
    rewriter.replaceOp(op, permute(rewriter, loc, padded, *perm));
    return success();
  }
};

/// linear(collapse(transpose(x)), W) → linear(collapse(x), W') with the
/// weight columns permuted, when the batch axis stays first: a flatten of
/// NHWC data read by a linear layer becomes a flatten of NCHW data, which
/// channel propagation understands (a channel is a block of H·W columns).
struct AbsorbTransposeIntoLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto collapse = op.getInput().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse)
      return failure();
    std::optional<SmallVector<int64_t>> perm = transposeOf(collapse.getSrc());
    DenseElementsAttr weights = getFloatConstant(op.getWeight());
    auto reassoc = collapse.getReassociationIndices();
    auto srcType = collapse.getSrcType();
    int64_t rank = srcType.getRank();
    if (!perm || !weights || (*perm)[0] != 0 || reassoc.size() != 2 ||
        reassoc[0].size() != 1 || !srcType.hasStaticShape())
      return failure();
    Value x = collapse.getSrc().getDefiningOp<linalg::TransposeOp>().getInput();
    auto xType = cast<RankedTensorType>(x.getType());
    // Column f of the transposed flatten reads x at index j with
    // j[perm[i]] = idx_i; new column g (x's flatten) takes the old column.
    auto yShape = srcType.getShape();
    SmallVector<int64_t> yTail(yShape.begin() + 1, yShape.end());
    SmallVector<int64_t> xTail(xType.getShape().begin() + 1,
                               xType.getShape().end());
    SmallVector<int64_t> yStrides = computeStrides(yTail),
                         xStrides = computeStrides(xTail);
    auto wType = cast<RankedTensorType>(weights.getType());
    int64_t outF = wType.getDimSize(0), inF = wType.getDimSize(1);
    SmallVector<APFloat> w(weights.getValues<APFloat>());
    SmallVector<APFloat> newW(w.size(), w.front());
    for (int64_t f = 0; f < inF; ++f) {
      SmallVector<int64_t> yIdx = delinearize(f, yStrides);
      int64_t g = 0;
      for (int64_t i = 1; i < rank; ++i)
        g += yIdx[i - 1] * xStrides[(*perm)[i] - 1];
      for (int64_t o = 0; o < outF; ++o)
        newW[o * inF + g] = w[o * inF + f];
    }
    Location loc = op.getLoc();
    auto newCollapseType = RankedTensorType::get(
        {xType.getDimSize(0), inF}, xType.getElementType());
    Value flat = tensor::CollapseShapeOp::create(rewriter, loc, newCollapseType,
                                                 x, reassoc);
    Value weight = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(wType, newW));
    rewriter.modifyOpInPlace(op, [&] {
      op.getInputMutable().assign(flat);
      op.getWeightMutable().assign(weight);
    });
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
    remark(verbose, op, "raised to sparsenn.conv2d");
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
    remark(verbose, op, "raised to sparsenn.linear");
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

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct SparseNNImportPass
    : public sparsenn::impl::SparseNNImportPassBase<SparseNNImportPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
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
    patterns.add<RaiseTosaConv<tosa::Conv2DOp>,
                 RaiseTosaConv<tosa::DepthwiseConv2DOp>, RaiseTosaMatmul>(
        ctx, verbose);
    patterns.add<RaiseDepthwiseHwcm>(ctx, verbose);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    patterns.add<ReluSelectToMax, NhwcMaxPoolToNchw,
                 FoldGenericTransposeOfConstant,
                 FoldTransposeOfConstantOrTranspose,
                 SinkTransposeThroughElementwise, SinkTransposeThroughGeneric,
                 SinkTransposeThroughPad, AbsorbTransposeIntoLinear,
                 HoistExpandOverLinear,
                 FoldBiasAdd<LinearOp>, FoldBiasAdd<Conv2DOp>, TosaClampToRelu,
                 RaiseTosaMaxPool, RaiseTosaReshape, RaiseTosaTranspose>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      getOperation()->emitWarning()
          << "sparsenn-import: rewriting did not converge";
  }
};

} // namespace
