//===- PropagateChannelPruning.cpp - remove unused data channels ----------===//
//
// Channel pruning of EP 21216321.6 [0176]-[0193]: the pass drives
// ChannelAnalysis (sparsenn/Interfaces/ChannelPropagationOpInterface.h) over
// every function and writes the report. Layers are read through
// LayerOpInterface; the ops between them through
// ChannelPropagationOpInterface (sparsenn ops in the dialect, upstream ops
// through the external models, host ops through the models their compiler
// attaches). Refused, with a remark on the op where the analysis stops:
// function returns and calls, ops without a model, k-winners <group> whose
// groups split channels, k-winners <global>/<local>/<group> without relu,
// duty cycles that are not constants, weights that are not float constants
// (an unevaluated sparsenn.prune, SPGC8-compressed weights).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/ChannelPropagationOpInterface.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNPROPAGATECHANNELPRUNINGPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

struct SparseNNPropagateChannelPruningPass
    : public sparsenn::impl::SparseNNPropagateChannelPruningPassBase<
          SparseNNPropagateChannelPruningPass> {
  using Base::Base;

  void runOnOperation() override {
    std::vector<ChannelAnalysis::LayerReport> reports;
    getOperation().walk([&](FunctionOpInterface func) {
      if (!func.isExternal())
        ChannelAnalysis(func, verbose).run(reports);
    });
    if (!report.empty() && failed(writeReport(reports)))
      return signalPassFailure();
  }

  LogicalResult
  writeReport(const std::vector<ChannelAnalysis::LayerReport> &reports) {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(report, &error);
    if (!file)
      return getOperation().emitError("cannot open report file '")
             << report << "': " << error;
    llvm::raw_ostream &os = file->os();
    os << "channel pruning (seed 003 [0176]-[0193])\n";
    os << "layer | in channels | out channels | params | MACs\n";
    int64_t pb = 0, pa = 0, mb = 0, ma = 0;
    for (const ChannelAnalysis::LayerReport &r : reports) {
      os << r.name << " | " << r.inBefore << " -> " << r.inAfter << " | "
         << r.outBefore << " -> " << r.outAfter << " | " << r.paramsBefore
         << " -> " << r.paramsAfter << " | " << r.macsBefore << " -> "
         << r.macsAfter << "\n";
      pb += r.paramsBefore;
      pa += r.paramsAfter;
      mb += r.macsBefore;
      ma += r.macsAfter;
    }
    os << "total params " << pb << " -> " << pa << ", MACs " << mb << " -> "
       << ma << "\n";
    file->keep();
    return success();
  }
};

} // namespace
