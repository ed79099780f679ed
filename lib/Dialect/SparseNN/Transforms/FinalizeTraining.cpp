//===- FinalizeTraining.cpp - trained parameters into inference IR --------===//
//
// Seed 003 step 1014 (FIG. 10): once training has learned the weights and the
// per-layer sparsity parameters, the network is finalised: the learned
// sparsity becomes constant masks and the training state goes. This pass
// binds the trained values (one .npy file per marked argument, as a
// training driver writes them) into the forward function as constants,
// removes those arguments and the generated `<function>_train_step`, and
// evaluates the now-constant `sparsenn.prune` ops into pruned constant
// weights (the sparsenn-prune-weights evaluation), so that the result is
// inference IR ready for group pruning, compression and channel
// propagation. Batch normalisation takes its running statistics (inference
// form) and, after a layer with constant weights that feeds only it, folds
// into that layer: W'[c] = W[c]·s_c, b'_c = (b_c − m_c)·s_c + β_c with
// s_c = γ_c/√(v_c + ε) (a zero weight stays zero: fixed fan-in and learned
// masks survive).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"
#include "sparsenn/Support/Npy.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/BitVector.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNFINALIZETRAININGPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

/// The f32 values of a constant, or nothing.
std::optional<SmallVector<float>> constantValues(Value v) {
  DenseElementsAttr attr;
  if (!v || !matchPattern(v, m_Constant(&attr)) ||
      !attr.getElementType().isF32())
    return std::nullopt;
  return SmallVector<float>(attr.getValues<float>());
}

/// Folds an inference-form batch_norm with constant parameters into the
/// layer (LayerOpInterface, output channels on axis 1) with constant f32
/// weights that produces its only input use; true when it did.
bool foldIntoLayer(BatchNormOp bn) {
  auto layer = bn.getInput().getDefiningOp<LayerOpInterface>();
  if (!layer || !bn.getInput().hasOneUse() || layer.getOutputChannelAxis() != 1)
    return false;
  OpOperand &wOperand = layer.getLayerWeightOperand();
  auto wType = dyn_cast<RankedTensorType>(wOperand.get().getType());
  auto gamma = constantValues(bn.getGamma()), beta = constantValues(bn.getBeta()),
       mean = constantValues(bn.getRunningMean()),
       var = constantValues(bn.getRunningVar()),
       weights = constantValues(wOperand.get());
  if (!wType || !gamma || !beta || !mean || !var || !weights)
    return false;
  std::optional<SmallVector<float>> bias;
  if (Value b = layer.getLayerBias()) {
    bias = constantValues(b);
    if (!bias)
      return false;
  }
  int64_t channels = wType.getDimSize(0);
  if (static_cast<int64_t>(gamma->size()) != channels)
    return false;
  int64_t per = wType.getNumElements() / channels;
  double eps = bn.getEpsilon().convertToDouble();
  SmallVector<float> newBias(channels);
  for (int64_t c = 0; c < channels; ++c) {
    double scale = (*gamma)[c] / std::sqrt(double((*var)[c]) + eps);
    for (int64_t i = 0; i < per; ++i)
      (*weights)[c * per + i] = float((*weights)[c * per + i] * scale);
    double b = bias ? (*bias)[c] : 0.0;
    newBias[c] = float((b - (*mean)[c]) * scale + (*beta)[c]);
  }
  OpBuilder b(layer);
  Location loc = bn.getLoc();
  wOperand.set(arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wType, ArrayRef<float>(*weights))));
  layer.setLayerBias(arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({channels}, b.getF32Type()),
          ArrayRef<float>(newBias))));
  bn.getOutput().replaceAllUsesWith(bn.getInput());
  bn.erase();
  return true;
}

struct SparseNNFinalizeTrainingPass
    : public mlir::sparsenn::impl::SparseNNFinalizeTrainingPassBase<
          SparseNNFinalizeTrainingPass> {
  using Base::Base;

  /// The trained value of argument `i`, from `<params>/arg<i>.npy`.
  FailureOr<DenseElementsAttr> load(func::FuncOp f, unsigned i) {
    auto type = dyn_cast<RankedTensorType>(f.getArgument(i).getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return f.emitError("sparsenn-finalize-training: argument #")
             << i << " must be a static f32 tensor, got "
             << f.getArgument(i).getType();
    std::string path = params + "/arg" + std::to_string(i) + ".npy";
    ::sparsenn::npy::Array array;
    std::string error;
    if (!::sparsenn::npy::read(path, array, error))
      return f.emitError("sparsenn-finalize-training: argument #")
             << i << ": " << error;
    if (array.dtype != ::sparsenn::npy::DType::F32 ||
        ArrayRef<int64_t>(array.shape) != type.getShape()) {
      std::string shape;
      for (int64_t d : array.shape)
        shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      return f.emitError("sparsenn-finalize-training: '")
             << path << "' holds " << ::sparsenn::npy::name(array.dtype)
             << " of shape (" << shape << "), argument #" << i << " is "
             << type;
    }
    ArrayRef<float> values(array.as<float>(), array.numElements());
    return DenseElementsAttr::get(type, values);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto f = module.lookupSymbol<func::FuncOp>(function);
    if (!f) {
      module.emitError("sparsenn-finalize-training: no function '")
          << function << "'";
      return signalPassFailure();
    }
    if (f.isExternal()) {
      f.emitError("sparsenn-finalize-training: the function has no body");
      return signalPassFailure();
    }
    // Bind the trained values and drop the arguments.
    OpBuilder b = OpBuilder::atBlockBegin(&f.getBody().front());
    llvm::BitVector erase(f.getNumArguments());
    for (unsigned i = 0; i < f.getNumArguments(); ++i) {
      if (!f.getArgAttr(i, "sparsenn.trainable") &&
          !f.getArgAttr(i, "sparsenn.duty_cycle") &&
          !f.getArgAttr(i, "sparsenn.running_stat"))
        continue;
      FailureOr<DenseElementsAttr> value = load(f, i);
      if (failed(value))
        return signalPassFailure();
      Value c = arith::ConstantOp::create(b, f.getLoc(), *value);
      f.getArgument(i).replaceAllUsesWith(c);
      erase.set(i);
    }
    if (failed(f.eraseArguments(erase)))
      return signalPassFailure();
    // Training state goes.
    if (auto step = module.lookupSymbol<func::FuncOp>(function + "_train_step"))
      step.erase();
    // The learned sparsity becomes constant masks.
    OpPassManager pm(ModuleOp::getOperationName());
    pm.addPass(createSparseNNPruneWeightsPass());
    pm.addPass(createCanonicalizerPass());
    if (failed(runPipeline(pm, module)))
      return signalPassFailure();
    // Batch normalisation: running statistics from now on, folded into the
    // layer before it where that layer's weights are constant.
    SmallVector<BatchNormOp> norms;
    f.walk([&](BatchNormOp bn) { norms.push_back(bn); });
    bool folded = false;
    for (BatchNormOp bn : norms) {
      bn.setTraining(false);
      folded |= foldIntoLayer(bn);
    }
    // The unfolded weights and statistics are dead now.
    OpPassManager cleanup(ModuleOp::getOperationName());
    cleanup.addPass(createCanonicalizerPass());
    if (folded && failed(runPipeline(cleanup, module)))
      return signalPassFailure();
  }
};

} // namespace
