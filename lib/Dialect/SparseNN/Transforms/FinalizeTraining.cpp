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
// propagation.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Support/Npy.h"

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
          !f.getArgAttr(i, "sparsenn.duty_cycle"))
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
  }
};

} // namespace
