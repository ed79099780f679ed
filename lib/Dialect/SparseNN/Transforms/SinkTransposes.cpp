//===- SinkTransposes.cpp - move transposes down and cancel them ------ ===//
//
// NHWC layers raised to NCHW sparsenn layers sit between transposes; these
// patterns fold transposes of constants, compose transposes, move them
// through element-wise ops, linalg.generic and padding, and absorb them into
// a following sparsenn.linear, so that a chain of NHWC layers keeps a
// transpose only where the data enters and leaves.
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

} // namespace

void mlir::sparsenn::populateTransposeSinkingPatterns(
    RewritePatternSet &patterns) {
  patterns.add<FoldGenericTransposeOfConstant,
               FoldTransposeOfConstantOrTranspose,
               SinkTransposeThroughElementwise, SinkTransposeThroughGeneric,
               SinkTransposeThroughPad, AbsorbTransposeIntoLinear>(
      patterns.getContext());
}
