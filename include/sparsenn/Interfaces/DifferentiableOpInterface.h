//===- DifferentiableOpInterface.h - adjoints for the train step -*- C++
//-*-===//
//
// See DifferentiableOpInterface.td. `AdjointBuilder` is what an op's
// `buildAdjoint` receives: the gradient of its results, a way to add the
// gradients of its operands, the train step's options, and small builders
// for the tensor computations adjoints are made of (linalg.generic on
// tensors, transposes, the GEMM form of a contraction).
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_H
#define SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_H

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>

namespace mlir {
namespace sparsenn {

/// Options of the generated train step that adjoints read.
struct AdjointOptions {
  /// Temperature T of the differentiable pruners' sigmoid relaxation
  /// (EP 21216321.6 eq. 3-4, 7-10).
  double temperature = 1.0;
};

/// The state of the reverse pass, and builders for adjoints.
class AdjointBuilder {
public:
  using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

  AdjointBuilder(OpBuilder &builder, Location loc, AdjointOptions options,
                 const DenseSet<Value> &active)
      : builder(builder), loc(loc), options(options), active(active) {}

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() const { return loc; }
  const AdjointOptions &getOptions() const { return options; }

  /// dL/d`result`, or null when no gradient reaches it.
  Value getGradient(Value result) const { return grads.lookup(result); }
  /// dL/d(result `i` of the op being differentiated), or null.
  Value getResultGradient(unsigned i) const;
  /// True when `v` depends on a trainable argument (its gradient is used).
  bool needsGradient(Value v) const { return active.contains(v); }
  /// Adds `g` to dL/d`v` (ignored when `v` needs no gradient).
  void addGradient(Value v, Value g);

  //===--------------------------------------------------------------------===//
  // Tensor builders (at the builder's insertion point)
  //===--------------------------------------------------------------------===//

  /// A tensor of `type` filled with `v`.
  Value filled(RankedTensorType type, double v);
  /// A linalg.generic with `maps` (the result's last) and `iterators` whose
  /// body is `fn` of the inputs' and the init's elements; the init is filled
  /// with `init`, or a tensor.empty without it.
  Value generic(ValueRange ins, RankedTensorType resultType,
                ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators, BodyFn fn,
                std::optional<double> init = std::nullopt);
  /// Element-wise `fn` of same-shaped tensors (the result has their type).
  Value ewise(ValueRange ins, BodyFn fn);
  /// The affine map of `dims` dimensions selecting `results`.
  AffineMap map(unsigned dims, ArrayRef<unsigned> results);
  /// The constant 0 of a float type.
  Value zero(Type t);
  /// `in` with its dimensions permuted (result dim i = input dim perm[i]).
  Value transpose(Value in, ArrayRef<int64_t> perm);
  /// op(a) · op(b) as a linalg.matmul whose indexing maps transpose a
  /// (stored [K, M]) and/or b (stored [N, K]): no transpose is
  /// materialised.
  Value matmul(Value a, Value b, bool transposeA, bool transposeB);
  /// tensor.collapse_shape with `groups`.
  Value collapse(Value v, ArrayRef<ReassociationIndices> groups);

  /// The generator sets the op being differentiated and the gradients.
  void setCurrentOp(Operation *op) { current = op; }
  DenseMap<Value, Value> &getGradients() { return grads; }

private:
  OpBuilder &builder;
  Location loc;
  AdjointOptions options;
  const DenseSet<Value> &active;
  DenseMap<Value, Value> grads;
  Operation *current = nullptr;
};

} // namespace sparsenn
} // namespace mlir

#include "sparsenn/Interfaces/DifferentiableOpInterface.h.inc"

namespace mlir {
namespace sparsenn {

/// The gradient rule `Rule(adjoint, op, dL/dresult0)` of `OpTy` as an
/// external model (called only when the op's first result has a gradient):
///   MyOp::attachInterface<AdjointFunctionModel<MyOp, myAdjoint>>(*ctx);
template <typename OpTy, LogicalResult (*Rule)(AdjointBuilder &, OpTy, Value)>
struct AdjointFunctionModel : public DifferentiableOpInterface::ExternalModel<
                                  AdjointFunctionModel<OpTy, Rule>, OpTy> {
  LogicalResult buildAdjoint(Operation *op, AdjointBuilder &adjoint) const {
    Value dy = adjoint.getResultGradient(0);
    return dy ? Rule(adjoint, cast<OpTy>(op), dy) : success();
  }
};

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_H
