//===- DifferentiableOpInterface.td - adjoints for the train step -*- tablegen -*-===//
//
// Reverse-mode differentiation, one op at a time: what
// `sparsenn-generate-train-step` (US 2025/0252312 A1 [0053]-[0067],
// EP 21216321.6 [0194]-[0219]) asks of every op on the path from a
// trainable argument to the loss.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD
#define SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def SparseNN_DifferentiableOpInterface
    : OpInterface<"DifferentiableOpInterface"> {
  let description = [{
    The train-step generator clones the forward function, then visits its
    ops in reverse. For an op whose first result has a gradient (dL/dresult),
    it calls `buildAdjoint`, which builds, at the builder's insertion point,
    the gradient of the loss with respect to each operand that needs one and
    adds it with `AdjointBuilder::addGradient` (gradients of one value from
    several users are summed). An op on the gradient path without this
    interface is refused with an error naming it.
  }];
  let cppNamespace = "::mlir::sparsenn";

  let methods = [
    InterfaceMethod<[{
        Builds the adjoint of the op. `adjoint.getResultGradient(0)` is
        dL/dresult 0; failure (after an error on the op) when the op is in a
        form this rule does not differentiate.
      }], "::mlir::LogicalResult", "buildAdjoint",
      (ins "::mlir::sparsenn::AdjointBuilder &":$adjoint)>,
  ];
}

#endif // SPARSENN_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD
