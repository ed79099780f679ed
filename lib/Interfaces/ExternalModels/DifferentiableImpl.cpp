//===- DifferentiableImpl.cpp - adjoints of upstream ops ------------------===//
//
// DifferentiableOpInterface for the upstream ops the importers put between
// layers: relu (arith.maximumf / maxnumf with a zero constant, or a
// linalg.generic computing it), arith.addf (a residual add), the flatten
// tensor.collapse_shape and linalg.pooling_nchw_max with non-overlapping
// windows. Other forms of these ops are refused, naming the op.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Interfaces/DifferentiableOpInterface.h"
#include "sparsenn/Interfaces/ExternalModels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

bool isZeroSplat(Value v) { return matchPattern(v, m_AnyZeroFloat()); }

/// The input of a relu written as max(x, 0), if `op` is one.
Value reluInput(Operation *op) {
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op)) {
    if (isZeroSplat(op->getOperand(1)))
      return op->getOperand(0);
    if (isZeroSplat(op->getOperand(0)))
      return op->getOperand(1);
    return {};
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return {};
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return {};
  Operation *max = &body.front();
  if (!isa<arith::MaximumFOp, arith::MaxNumFOp>(max) ||
      body.getTerminator()->getOperand(0) != max->getResult(0))
    return {};
  Value arg = body.getArgument(0);
  if ((max->getOperand(0) == arg && isZeroSplat(max->getOperand(1))) ||
      (max->getOperand(1) == arg && isZeroSplat(max->getOperand(0))))
    return generic.getDpsInputs()[0];
  return {};
}

LogicalResult refuse(Operation *op) {
  return op->emitError("train-step generation: no backward rule for '")
         << op->getName() << "'";
}

/// dy where `ref` is positive (relu), zero elsewhere.
Value gate(AdjointBuilder &tb, Value dy, Value ref) {
  return tb.ewise({dy, ref}, [&](OpBuilder &nb, Location nl,
                                 ValueRange a) -> Value {
    Value zero =
        arith::ConstantOp::create(nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
    Value keep =
        arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, a[1], zero);
    return arith::SelectOp::create(nb, nl, keep, a[0], zero);
  });
}

/// relu written as max(x, 0) (an arith op or a linalg.generic); anything
/// else this op computes is refused.
template <typename OpTy>
LogicalResult backwardRelu(AdjointBuilder &tb, OpTy op, Value dy) {
  Value x = reluInput(op);
  if (!x)
    return refuse(op);
  tb.addGradient(x, gate(tb, dy, x));
  return success();
}

/// arith.addf has one type for operands and result: no broadcast.
LogicalResult backwardAddF(AdjointBuilder &tb, arith::AddFOp add, Value dy) {
  tb.addGradient(add.getLhs(), dy);
  tb.addGradient(add.getRhs(), dy);
  return success();
}

/// The flatten's adjoint is the inverse reshape.
LogicalResult backwardCollapse(AdjointBuilder &tb,
                               tensor::CollapseShapeOp collapse, Value dy) {
  tb.addGradient(collapse.getSrc(),
                 tensor::ExpandShapeOp::create(
                     tb.getBuilder(), tb.getLoc(), collapse.getSrcType(), dy,
                     collapse.getReassociationIndices()));
  return success();
}

/// Max pooling with non-overlapping windows (kernel = stride, dilation
/// 1): each input element receives its window's gradient where it equals
/// the window's maximum (ties all receive it).
LogicalResult
backwardMaxPool(AdjointBuilder &tb, linalg::PoolingNchwMaxOp pool, Value dy) {
  OpBuilder &b = tb.getBuilder();
  Value x = pool.getDpsInputs()[0], window = pool.getDpsInputs()[1];
  auto xType = cast<RankedTensorType>(x.getType());
  auto winShape = cast<RankedTensorType>(window.getType()).getShape();
  SmallVector<int64_t> strides, dilations;
  for (const APInt &v : pool.getStrides().getValues<APInt>())
    strides.push_back(v.getSExtValue());
  for (const APInt &v : pool.getDilations().getValues<APInt>())
    dilations.push_back(v.getSExtValue());
  auto yShape = cast<RankedTensorType>(dy.getType()).getShape();
  if (strides[0] != winShape[0] || strides[1] != winShape[1] ||
      dilations[0] != 1 || dilations[1] != 1 ||
      yShape[2] * strides[0] != xType.getDimSize(2) ||
      yShape[3] * strides[1] != xType.getDimSize(3))
    return pool.emitError("train-step generation: max-pooling backward "
                          "needs non-overlapping windows (kernel = stride) "
                          "that tile the input");
  auto d = [&](unsigned i) { return b.getAffineDimExpr(i); };
  AffineMap id = b.getMultiDimIdentityMap(4);
  AffineMap down = AffineMap::get(
      4, 0, {d(0), d(1), d(2).floorDiv(strides[0]), d(3).floorDiv(strides[1])},
      b.getContext());
  Value y = pool->getResult(0);
  auto par = utils::IteratorType::parallel;
  tb.addGradient(x, tb.generic({x, y, dy}, xType, {id, down, down, id},
                           {par, par, par, par},
                           [](OpBuilder &nb, Location nl,
                              ValueRange a) -> Value {
                             Value hit = arith::CmpFOp::create(
                                 nb, nl, arith::CmpFPredicate::OEQ, a[0],
                                 a[1]);
                             Value zero = arith::ConstantOp::create(
                                 nb, nl, nb.getFloatAttr(a[0].getType(), 0.0));
                             return arith::SelectOp::create(nb, nl, hit,
                                                            a[2], zero);
                           }));
  return success();
}


} // namespace

void mlir::sparsenn::registerDifferentiableExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::AddFOp::attachInterface<
        AdjointFunctionModel<arith::AddFOp, backwardAddF>>(*ctx);
    arith::MaximumFOp::attachInterface<AdjointFunctionModel<
        arith::MaximumFOp, backwardRelu<arith::MaximumFOp>>>(*ctx);
    arith::MaxNumFOp::attachInterface<AdjointFunctionModel<
        arith::MaxNumFOp, backwardRelu<arith::MaxNumFOp>>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    linalg::GenericOp::attachInterface<AdjointFunctionModel<
        linalg::GenericOp, backwardRelu<linalg::GenericOp>>>(*ctx);
    linalg::PoolingNchwMaxOp::attachInterface<
        AdjointFunctionModel<linalg::PoolingNchwMaxOp, backwardMaxPool>>(*ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::CollapseShapeOp::attachInterface<
        AdjointFunctionModel<tensor::CollapseShapeOp, backwardCollapse>>(*ctx);
  });
}
