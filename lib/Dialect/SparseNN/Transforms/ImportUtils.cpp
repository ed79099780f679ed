//===- ImportUtils.cpp - helpers of the import patterns -------------------===//

#include "ImportUtils.h"

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace mlir {
namespace sparsenn {
namespace import {

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

void importRemark(bool verbose, Operation *op, StringRef what) {
  if (verbose)
    op->emitRemark() << "sparsenn-import: " << what;
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

/// An NCHW max pooling of `xNCHW` into `initNCHW`.
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

SmallVector<unsigned> mapDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults())
    dims.push_back(cast<AffineDimExpr>(e).getPosition());
  return dims;
}

} // namespace import
} // namespace sparsenn
} // namespace mlir
