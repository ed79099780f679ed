//===- ChannelPropagationOpInterface.h - channels through ops ---*- C++ -*-===//
//
// See ChannelPropagationOpInterface.td. `ChannelAnalysis` is the channel
// pruning analysis of EP 21216321.6 [0176]-[0193] over one function: the
// state every op's model reads and records into, the decision which
// channels go, and the rewrite. The pass
// `sparsenn-propagate-channel-pruning` only drives it.
//
// Every followed tensor value has a channel layout: the axis that holds
// its channels, the number of consecutive positions along that axis per
// channel (a flattened [B, C*H*W] value has blocks of H*W), and the channel
// count. Each (value, channel) is one node of a union-find; ops tie their
// operand and result channels, so a class is a dependency group (a residual
// add ties both branches, a concatenation maps index ranges, a depthwise
// convolution ties its input to its output). Nodes may hold a known
// constant (an all-zero filter makes its channel the bias value), which
// ops transform (`foldChannelConstant`) and layers fold into their bias.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_H
#define SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace sparsenn {

class LayerOpInterface;

/// Channel pruning across one function (see the file comment).
class ChannelAnalysis {
public:
  /// How the channels of a followed value are laid out.
  struct Layout {
    int64_t axis = 1;
    int64_t block = 1;
    int64_t channels = 0;
    int64_t base = 0; // first union-find node
  };

  /// What the rewrite did to one layer (for the pass's report).
  struct LayerReport {
    std::string name;
    int64_t inBefore = 0, inAfter = 0, outBefore = 0, outAfter = 0;
    int64_t paramsBefore = 0, paramsAfter = 0, macsBefore = 0, macsAfter = 0;
  };

  explicit ChannelAnalysis(FunctionOpInterface func, bool verbose = false)
      : func(func), verbose(verbose) {}

  /// Analyses, decides and rewrites the function; appends one report per
  /// layer.
  void run(std::vector<LayerReport> &reports);

  //===--------------------------------------------------------------------===//
  // For models: queries
  //===--------------------------------------------------------------------===//

  /// The layout of `v`, or null when its channels are not followed.
  const Layout *getLayout(Value v) const;
  /// The known constant of channel `c` of a followed value.
  std::optional<double> getConstant(Value v, int64_t c) const;

  //===--------------------------------------------------------------------===//
  // For models: recording (in propagateChannels)
  //===--------------------------------------------------------------------===//

  /// Follows `result` (of the op being analysed) with this layout; its
  /// channels start untied and unknown.
  const Layout &track(Value result, int64_t axis, int64_t block,
                      int64_t channels);
  /// Ties channel `ca` of `a` to channel `cb` of `b` (both followed).
  void tie(Value a, int64_t ca, Value b, int64_t cb);
  /// Records the constant of channel `c` of a followed value.
  void setConstant(Value v, int64_t c, std::optional<double> value);
  /// Channel c of the followed value `from` is channel `offset` + c of the
  /// followed `to` (a reshape, a transpose, a concatenation): each pair is
  /// tied and `to` carries `from`'s constants.
  void forwardChannels(Value from, Value to, int64_t offset = 0);
  /// Keeps every channel of `v` (if followed), naming `op` and the reason.
  void block(Value v, Operation *op, const Twine &why);
  /// Keeps channel `c` of the followed value `v`.
  void blockChannel(Value v, int64_t c, Operation *op, const Twine &why);
  /// Keeps every channel of every followed operand of `op`.
  void blockOperands(Operation *op, const Twine &why);
  /// Channel `c` of `v` may go only if it is a constant <= 0 (an op that
  /// ranks values across channels, such as k-winners over a whole sample).
  void requireNonPositive(Value v, int64_t c);
  /// A per-op value the model wants back in shrinkToKeptChannels (read
  /// from the op before any operand shrank).
  void setRewriteState(Operation *op, Attribute state) {
    rewriteState[op] = state;
  }
  Attribute getRewriteState(Operation *op) const {
    return rewriteState.lookup(op);
  }

  /// The element-wise case: `op`'s single result gets the layout of its
  /// followed operands (which must agree) and each of its channels is tied
  /// to the same channel of every followed operand; constants come from
  /// the op's `foldChannelConstant`, fed with the followed operands'
  /// constants and the per-channel values of constant operands (a constant
  /// whose channel is not uniform gives std::nullopt). Other operands must
  /// be float constants or, for destination-style ops, rebuildable inits;
  /// otherwise the channels are blocked. Returns failure when blocked.
  LogicalResult mapElementwise(Operation *op);

  //===--------------------------------------------------------------------===//
  // For models: the rewrite (in shrinkToKeptChannels)
  //===--------------------------------------------------------------------===//

  /// The kept channels of a followed value (all of them before decide).
  ArrayRef<int64_t> getKeptChannels(Value v) const;
  /// The type of the followed value `v` with its kept channels only.
  RankedTensorType getShrunkType(Value v) const;
  /// The element-wise rewrite: slices constant operands along the channel
  /// axis (through the indexing maps of a linalg op), rebuilds inits and
  /// sets the result type.
  LogicalResult shrinkElementwise(Operation *op);
  /// A new constant with the channels `keep` of constant `v` along `dim`.
  Value sliceConstant(OpBuilder &b, Location loc, Value v, int64_t dim,
                      int64_t block, ArrayRef<int64_t> keep);

  //===--------------------------------------------------------------------===//
  // Helpers for models
  //===--------------------------------------------------------------------===//

  /// A statically shaped float constant, or null.
  static DenseElementsAttr getFloatConstant(Value value);
  /// The single value of channel `c` of a constant (dimension `dim`, `block`
  /// positions per channel; dim < 0: the whole constant), if it is uniform.
  static std::optional<double> uniformChannelValue(DenseElementsAttr attr,
                                                   int64_t dim, int64_t block,
                                                   int64_t c);
  /// The value of a scalar float constant.
  static std::optional<double> scalarConstant(Value v);
  /// The fill value of a linalg.fill init, a splat constant's value.
  static std::optional<double> initValue(Value init);
  /// True when a destination-style init can be rebuilt with fewer channels
  /// (tensor.empty, a fill of one, a splat constant).
  static bool isRebuildableInit(Value init);
  /// `init` rebuilt with `type`.
  static Value rebuildInit(OpBuilder &b, Location loc, Value init,
                           RankedTensorType type);

private:
  void analyzeOp(Operation *op);
  void analyzeLayer(LayerOpInterface layer);
  void decide();
  void rewriteLayer(LayerOpInterface layer, std::vector<LayerReport> &reports);
  int64_t node(Value v, int64_t c) const { return getLayout(v)->base + c; }
  void blockNode(int64_t node, Operation *op, const Twine &why);

  /// A layer reading channel `channel` of its input.
  struct ConsumerUse {
    Operation *layer;
    int64_t node;
    int64_t channel;
    bool dead; // all coefficients of the channel are zero
  };
  struct Blocker {
    Operation *op;
    std::string why;
  };

  FunctionOpInterface func;
  bool verbose;
  Operation *current = nullptr; // the op being analysed
  llvm::MapVector<Value, Layout> layouts;
  std::vector<std::optional<double>> constants; // per node
  llvm::EquivalenceClasses<int64_t> classes;
  std::map<int64_t, Blocker> blockers; // node -> first blocker
  std::vector<ConsumerUse> consumers;
  std::vector<int64_t> mustBeNonPositive;
  std::vector<std::pair<int64_t, Operation *>> foldRefusals;
  DenseMap<Operation *, Attribute> rewriteState;
  DenseSet<Operation *> understood;
  DenseMap<Value, SmallVector<int64_t>> kept;
  int64_t numNodes = 0;
};

} // namespace sparsenn
} // namespace mlir

#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h.inc"

#endif // SPARSENN_INTERFACES_CHANNELPROPAGATIONOPINTERFACE_H
