//===- ChannelPropagationOpInterface.td - channels through ops -*- tablegen -*-===//
//
// How an op's channels map from its operands to its results, how a channel
// that holds a constant folds through it, and how to shrink it to the kept
// channels: what `sparsenn-propagate-channel-pruning` (EP 21216321.6
// [0176]-[0193]) needs to follow channels through the "further processing
// logic" between layers ([0177], [0188]). Layers themselves are read
// through LayerOpInterface; every other op the analysis meets must
// implement this interface, or it is a boundary that keeps the channels it
// reads.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_TD
#define SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def SparseNN_ChannelPropagationOpInterface
    : OpInterface<"ChannelPropagationOpInterface"> {
  let description = [{
    The analysis (`ChannelAnalysis`, ChannelPropagationOpInterface.h) walks a
    function in program order and calls `propagateChannels` on every op that
    has an operand whose channels it follows. The op then either

    - records the channel layout of its result and ties each result channel
      to the operand channels it is computed from (`mapElementwise` does both
      for an op that works channel by channel; `track` and `tie` for others,
      e.g. a concatenation, which maps index ranges), and the channels that
      hold a known constant; or
    - blocks the channels it cannot follow, with the reason a remark shows
      (`block`).

    A channel (a class of tied channels) is removed only when nothing
    outside the analysed graph sees it and every layer reading it ignores it
    or reads a constant that folds into the layer's bias. After the decision
    `shrinkToKeptChannels` rewrites each op: its tracked operands already
    have their shrunk types; it must produce the kept channels of its
    results (`getKeptChannels`, `getShrunkType`).
  }];
  let cppNamespace = "::mlir::sparsenn";

  let methods = [
    InterfaceMethod<[{
        Records how the result channels follow from the operands' (or blocks
        them, with a reason). Called once, in program order, when at least
        one operand is followed.
      }], "void", "propagateChannels",
      (ins "::mlir::sparsenn::ChannelAnalysis &":$analysis)>,
    InterfaceMethod<[{
        The value of a result channel when the corresponding operand
        channels hold `operands` (one entry per operand; `std::nullopt` where
        that channel is not a known constant), or `std::nullopt` when it is
        not a known constant. `ChannelAnalysis::mapElementwise` asks it.
      }], "std::optional<double>", "foldChannelConstant",
      (ins "::llvm::ArrayRef<std::optional<double>>":$operands), [{}],
      [{ return std::nullopt; }]>,
    InterfaceMethod<[{
        Rewrites the op for the kept channels of its results. The default
        slices constant operands along the channel axis, rebuilds the inits
        of destination-style ops and sets the result types, which is all an
        element-wise op needs.
      }], "::mlir::LogicalResult", "shrinkToKeptChannels",
      (ins "::mlir::sparsenn::ChannelAnalysis &":$analysis), [{}],
      [{ return analysis.shrinkElementwise($_op); }]>,
  ];
}

#endif // SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_TD
