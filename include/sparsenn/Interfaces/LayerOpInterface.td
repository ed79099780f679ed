//===- LayerOpInterface.td - layers with weights -----------*- tablegen -*-===//
//
// What a pass needs to know about a layer (a fully connected layer, a
// convolution, or a host compiler's own layer op) without knowing the op:
// where its input, weights and bias are, which axes hold channels, how its
// weights are grouped, and its parameter and MAC counts. Pruning, weight
// compression, the summary, channel propagation and train-step generation
// read layers through it instead of by operand position.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_LAYEROPINTERFACE_TD
#define SPARSENN_INTERFACES_LAYEROPINTERFACE_TD

include "mlir/IR/OpBase.td"

def SparseNN_LayerOpInterface : OpInterface<"LayerOpInterface"> {
  let description = [{
    A layer computes, for every output channel `o` (a *filter*, dimension 0
    of the weights) and every output position, a sum of products of its
    weights with input values, plus an optional per-channel bias `[C_out]`.

    Weight layout contract: dimension 0 of the weights indexes the output
    channels, dimension 1 the input channels of one group, the remaining
    dimensions (if any) the receptive field of a filter. With `groups` = g,
    input channel `c` is column `c mod (C_in/g)` of the filters of group
    `c / (C_in/g)`. A fully connected layer is the case of one group and no
    receptive field; a depthwise convolution has `C_in/g` = 1.

    The weights may be any type whose logical shape `getLayerWeightShape`
    returns (a float tensor, SPGC8-compressed weights); only float constants
    can be rewritten by the weight-changing passes.
  }];
  let cppNamespace = "::mlir::sparsenn";

  let methods = [
    InterfaceMethod<"The activation the layer reads.", "::mlir::Value",
      "getLayerInput">,
    InterfaceMethod<"The weights operand (dimension 0: output channels).",
      "::mlir::OpOperand &", "getLayerWeightOperand">,
    InterfaceMethod<[{
        The logical shape of the weights, `[C_out, C_in/groups, field...]`,
        whatever their type (a float tensor, SPGC8-compressed weights).
      }], "::llvm::SmallVector<int64_t>", "getLayerWeightShape">,
    InterfaceMethod<"The per-output-channel bias, or null.", "::mlir::Value",
      "getLayerBias">,
    InterfaceMethod<[{
        Sets the bias to `bias` (`[C_out]`), adding the operand when the
        layer has none.
      }], "void", "setLayerBias", (ins "::mlir::Value":$bias)>,
    InterfaceMethod<"The axis of the input that holds its channels.",
      "int64_t", "getInputChannelAxis">,
    InterfaceMethod<"The axis of the result that holds its channels.",
      "int64_t", "getOutputChannelAxis">,
    InterfaceMethod<"Number of groups the input channels are split into.",
      "int64_t", "getLayerGroups", (ins), [{}], [{ return 1; }]>,
    InterfaceMethod<[{
        Changes the number of groups (a depthwise layer that loses channels
        keeps one group per channel); failure when the layer cannot.
      }], "::mlir::LogicalResult", "setLayerGroups", (ins "int64_t":$groups),
      [{}], [{ return ::mlir::success(groups == 1); }]>,
    InterfaceMethod<[{
        True when an input channel that holds the constant `k` everywhere
        contributes `k` times the sum of its coefficients to every output of
        a filter, so that it folds into the bias (a fully connected layer, a
        convolution without padding; not one that pads with zeros, whose
        border outputs see fewer copies of `k`).
      }], "bool", "constantInputFoldsIntoBias">,
    InterfaceMethod<[{
        Output positions per sample at which every filter is applied (a
        convolution: H_out * W_out; a fully connected layer: the product of
        the input's dimensions between the batch and the feature axis).
      }], "int64_t", "getPositionsPerSample">,
    InterfaceMethod<"The declared weight sparsity facts, if any.",
      "::mlir::sparsenn::SparsityAttr", "getLayerSparsity", (ins), [{}],
      [{ return $_op->template getAttrOfType<::mlir::sparsenn::SparsityAttr>(
             "sparsity"); }]>,
    InterfaceMethod<"Sets (or, with null, removes) the sparsity facts.",
      "void", "setLayerSparsity", (ins "::mlir::sparsenn::SparsityAttr":$facts),
      [{}], [{
        if (facts)
          $_op->setAttr("sparsity", facts);
        else
          $_op->removeAttr("sparsity");
      }]>,
    InterfaceMethod<[{
        When the weights are not a float constant, why, in words a remark
        can show (e.g. "weights are SPGC8-compressed: ..."); empty for the
        generic "weights are not a float constant".
      }], "std::string", "describeOpaqueWeights", (ins), [{}],
      [{ return std::string(); }]>,
  ];

  let extraClassDeclaration = [{
    /// The weights value.
    ::mlir::Value getLayerWeight() { return getLayerWeightOperand().get(); }
    /// Number of output channels (filters).
    int64_t getNumFilters() { return getLayerWeightShape().front(); }
    /// Weights plus bias elements.
    int64_t getNumParameters();
    /// Multiply-accumulates per sample, dense (every weight at every
    /// position).
    int64_t getMacsPerSample();
  }];
}

#endif // SPARSENN_INTERFACES_LAYEROPINTERFACE_TD
