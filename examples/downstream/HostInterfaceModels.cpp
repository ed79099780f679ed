//===- HostInterfaceModels.cpp - sparsenn's interfaces on host ops --------===//
//
// How a host compiler teaches sparsenn's passes about its own ops, without
// a change to sparsenn: one external model per interface and op.
//
//  - host.dense is a layer (LayerOpInterface): weight pruning, SPGC8
//    compression, the summary and channel pruning read it as they read
//    sparsenn.linear;
//  - host.leaky_relu works channel by channel
//    (ChannelPropagationOpInterface): channel pruning follows channels
//    through it and folds constant channels through its scalar function;
//  - both have adjoints (DifferentiableOpInterface), so
//    sparsenn-generate-train-step differentiates through them.
//
//===----------------------------------------------------------------------===//

#include "HostDialect.h"

#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h"
#include "sparsenn/Interfaces/DifferentiableOpInterface.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

//===----------------------------------------------------------------------===//
// host.dense
//===----------------------------------------------------------------------===//

struct DenseLayerModel
    : public LayerOpInterface::ExternalModel<DenseLayerModel, host::DenseOp> {
  Value getLayerInput(Operation *op) const {
    return cast<host::DenseOp>(op).getInput();
  }
  OpOperand &getLayerWeightOperand(Operation *op) const {
    return cast<host::DenseOp>(op).getWeightMutable();
  }
  SmallVector<int64_t> getLayerWeightShape(Operation *op) const {
    return SmallVector<int64_t>(
        cast<host::DenseOp>(op).getWeight().getType().getShape());
  }
  Value getLayerBias(Operation *op) const {
    return cast<host::DenseOp>(op).getBias();
  }
  void setLayerBias(Operation *op, Value bias) const {
    cast<host::DenseOp>(op).getBiasMutable().assign(bias);
  }
  int64_t getInputChannelAxis(Operation *) const { return 1; }
  int64_t getOutputChannelAxis(Operation *) const { return 1; }
  bool constantInputFoldsIntoBias(Operation *) const { return true; }
  int64_t getPositionsPerSample(Operation *) const { return 1; }
};

/// dX = dY·W, dW = dYᵀ·X (matmuls with transposed operand maps, which
/// lower to the runtime's GEMM), db = Σ_b dY.
LogicalResult denseAdjoint(AdjointBuilder &adjoint, host::DenseOp dense,
                           Value dy) {
  Value x = dense.getInput(), w = dense.getWeight();
  adjoint.addGradient(x, adjoint.matmul(dy, w, /*transposeA=*/false,
                                        /*transposeB=*/false));
  adjoint.addGradient(w, adjoint.matmul(dy, x, /*transposeA=*/true,
                                        /*transposeB=*/false));
  if (Value bias = dense.getBias()) {
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    adjoint.addGradient(
        bias, adjoint.generic(
                  {dy}, cast<RankedTensorType>(bias.getType()),
                  {adjoint.map(2, {1, 0}), adjoint.map(2, {0})}, {par, red},
                  [](OpBuilder &b, Location loc, ValueRange a) -> Value {
                    return arith::AddFOp::create(b, loc, a[0], a[1]);
                  },
                  0.0));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// host.leaky_relu
//===----------------------------------------------------------------------===//

struct LeakyReluChannelModel
    : public ChannelPropagationOpInterface::ExternalModel<
          LeakyReluChannelModel, host::LeakyReluOp> {
  void propagateChannels(Operation *op, ChannelAnalysis &analysis) const {
    (void)analysis.mapElementwise(op);
  }
  std::optional<double>
  foldChannelConstant(Operation *op,
                      ArrayRef<std::optional<double>> operands) const {
    if (!operands[0])
      return std::nullopt;
    double alpha = cast<host::LeakyReluOp>(op).getAlpha().convertToDouble();
    return *operands[0] > 0.0 ? *operands[0] : alpha * *operands[0];
  }
  // shrinkToKeptChannels: the default (element-wise) rewrite.
};

/// dX = dY where x > 0, alpha·dY elsewhere.
LogicalResult leakyReluAdjoint(AdjointBuilder &adjoint, host::LeakyReluOp relu,
                               Value dy) {
  double alpha = relu.getAlpha().convertToDouble();
  adjoint.addGradient(
      relu.getInput(),
      adjoint.ewise({dy, relu.getInput()},
                    [&](OpBuilder &b, Location loc, ValueRange a) -> Value {
                      Type t = a[0].getType();
                      Value zero =
                          arith::ConstantOp::create(b, loc, b.getFloatAttr(t, 0.0));
                      Value slope = arith::ConstantOp::create(
                          b, loc, b.getFloatAttr(t, alpha));
                      Value positive = arith::CmpFOp::create(
                          b, loc, arith::CmpFPredicate::OGT, a[1], zero);
                      Value scaled = arith::MulFOp::create(b, loc, a[0], slope);
                      return arith::SelectOp::create(b, loc, positive, a[0],
                                                     scaled);
                    }));
  return success();
}

} // namespace

void host::registerHostInterfaceModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, host::HostDialect *) {
    host::DenseOp::attachInterface<
        DenseLayerModel, AdjointFunctionModel<host::DenseOp, denseAdjoint>>(
        *ctx);
    host::LeakyReluOp::attachInterface<
        LeakyReluChannelModel,
        AdjointFunctionModel<host::LeakyReluOp, leakyReluAdjoint>>(*ctx);
  });
}
