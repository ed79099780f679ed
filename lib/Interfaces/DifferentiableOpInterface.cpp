//===- DifferentiableOpInterface.cpp - adjoints for the train step --------===//

#include "sparsenn/Interfaces/DifferentiableOpInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::sparsenn;

#include "sparsenn/Interfaces/DifferentiableOpInterface.cpp.inc"

Value AdjointBuilder::getResultGradient(unsigned i) const {
  if (!current || i >= current->getNumResults())
    return Value();
  return grads.lookup(current->getResult(i));
}

void AdjointBuilder::addGradient(Value v, Value g) {
  if (!active.contains(v))
    return;
  auto it = grads.find(v);
  if (it == grads.end())
    grads[v] = g;
  else
    it->second = arith::AddFOp::create(builder, loc, it->second, g);
}

Value AdjointBuilder::filled(RankedTensorType type, double v) {
  Value empty = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                        type.getElementType());
  Value c = arith::ConstantOp::create(
      builder, loc, builder.getFloatAttr(type.getElementType(), v));
  return linalg::FillOp::create(builder, loc, c, empty)->getResult(0);
}

Value AdjointBuilder::generic(ValueRange ins, RankedTensorType outType,
                              ArrayRef<AffineMap> maps,
                              ArrayRef<utils::IteratorType> iterators,
                              BodyFn fn, std::optional<double> init) {
  Value out = init ? filled(outType, *init)
                   : tensor::EmptyOp::create(builder, loc, outType.getShape(),
                                             outType.getElementType())
                         .getResult();
  return linalg::GenericOp::create(
             builder, loc, TypeRange{outType}, ins, ValueRange{out}, maps,
             iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args));
             })
      .getResult(0);
}

Value AdjointBuilder::ewise(ValueRange ins, BodyFn fn) {
  auto type = cast<RankedTensorType>(ins.front().getType());
  auto id = builder.getMultiDimIdentityMap(type.getRank());
  SmallVector<AffineMap> maps(ins.size() + 1, id);
  return generic(ins, type, maps,
                 SmallVector<utils::IteratorType>(
                     type.getRank(), utils::IteratorType::parallel),
                 fn);
}

AffineMap AdjointBuilder::map(unsigned dims, ArrayRef<unsigned> results) {
  SmallVector<AffineExpr> exprs;
  for (unsigned r : results)
    exprs.push_back(builder.getAffineDimExpr(r));
  return AffineMap::get(dims, 0, exprs, builder.getContext());
}

Value AdjointBuilder::zero(Type t) {
  return arith::ConstantOp::create(builder, loc, builder.getFloatAttr(t, 0.0));
}

Value AdjointBuilder::transpose(Value in, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(in.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init =
      tensor::EmptyOp::create(builder, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(builder, loc, in, init, perm)
      ->getResult(0);
}

Value AdjointBuilder::matmul(Value a, Value b, bool transposeA,
                             bool transposeB) {
  auto aType = cast<RankedTensorType>(a.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  int64_t m = aType.getDimSize(transposeA ? 1 : 0);
  int64_t n = bType.getDimSize(transposeB ? 0 : 1);
  auto type = RankedTensorType::get({m, n}, aType.getElementType());
  MLIRContext *ctx = builder.getContext();
  AffineExpr i = builder.getAffineDimExpr(0), j = builder.getAffineDimExpr(1),
             k = builder.getAffineDimExpr(2);
  auto map = [&](AffineExpr r, AffineExpr c) {
    return AffineMapAttr::get(AffineMap::get(3, 0, {r, c}, ctx));
  };
  ArrayAttr maps =
      builder.getArrayAttr({transposeA ? map(k, i) : map(i, k),
                            transposeB ? map(j, k) : map(k, j), map(i, j)});
  return linalg::MatmulOp::create(builder, loc, TypeRange{type},
                                  ValueRange{a, b},
                                  ValueRange{filled(type, 0.0)},
                                  {builder.getNamedAttr("indexing_maps", maps)})
      ->getResult(0);
}

Value AdjointBuilder::collapse(Value v, ArrayRef<ReassociationIndices> groups) {
  return tensor::CollapseShapeOp::create(builder, loc, v, groups);
}
