//===- PrintSummary.cpp - table of sparse layers and their sparsity -------===//
//
// Prints one line per sparsenn layer with the facts a user wants first: shape,
// parameters, measured weight density, fan-in per output unit (seed 000
// [0041]: fixed fan-in shows as one number) and multiply-accumulates per
// sample, dense and after skipping zero weights.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Dialect/SparseNN/IR/SparseNNOps.h"
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h"
#include "sparsenn/Interfaces/LayerOpInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ToolOutputFile.h"

namespace mlir {
namespace sparsenn {
#define GEN_PASS_DEF_SPARSENNPRINTSUMMARYPASS
#include "sparsenn/Dialect/SparseNN/Transforms/Passes.h.inc"
} // namespace sparsenn
} // namespace mlir

using namespace mlir;
using namespace mlir::sparsenn;

namespace {

/// Non-zero structure of a weight tensor, per output unit (dimension 0).
struct WeightStats {
  bool known = false;
  int64_t nonZeros = 0;
  int64_t minFanIn = 0;
  int64_t maxFanIn = 0;
};

WeightStats measureWeights(Value weight) {
  WeightStats stats;
  DenseElementsAttr attr;
  if (!matchPattern(weight, m_Constant(&attr)))
    return stats;
  auto type = cast<ShapedType>(attr.getType());
  if (!isa<FloatType>(type.getElementType()) || type.getRank() < 1)
    return stats;
  int64_t units = type.getDimSize(0);
  int64_t perUnit = type.getNumElements() / std::max<int64_t>(units, 1);
  stats.known = true;
  stats.minFanIn = std::numeric_limits<int64_t>::max();
  auto it = attr.value_begin<APFloat>();
  for (int64_t u = 0; u < units; ++u) {
    int64_t fanIn = 0;
    for (int64_t i = 0; i < perUnit; ++i, ++it)
      fanIn += !(*it).isZero();
    stats.nonZeros += fanIn;
    stats.minFanIn = std::min(stats.minFanIn, fanIn);
    stats.maxFanIn = std::max(stats.maxFanIn, fanIn);
  }
  if (units == 0)
    stats.minFanIn = 0;
  return stats;
}

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

struct Totals {
  int64_t params = 0, nonZeros = 0, denseMacs = 0, sparseMacs = 0;
};

struct SparseNNPrintSummaryPass
    : public sparsenn::impl::SparseNNPrintSummaryPassBase<
          SparseNNPrintSummaryPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file =
        openOutputFile(outputFile, &error);
    if (!file) {
      getOperation().emitError("cannot open summary output: ") << error;
      return signalPassFailure();
    }
    raw_ostream &os = file->os();
    getOperation().walk([&](func::FuncOp func) { summarize(func, os); });
    file->keep();
  }

  void printLayer(raw_ostream &os, int index, StringRef kind,
                  ArrayRef<int64_t> wShape, Value weight,
                  std::optional<SparsityAttr> declared, int64_t positions,
                  int64_t bias, Totals &totals) {
    int64_t params = 1;
    for (int64_t d : wShape)
      params *= d;
    WeightStats stats = measureWeights(weight);
    std::string density = "?", fanIn = "?", note;
    int64_t nonZeros = params;
    if (stats.known) {
      nonZeros = stats.nonZeros;
      density =
          llvm::formatv("{0:F3}", params ? double(nonZeros) / params : 0).str();
      fanIn =
          stats.minFanIn == stats.maxFanIn
              ? std::to_string(stats.minFanIn) + " (fixed)"
              : llvm::formatv("{0}..{1}", stats.minFanIn, stats.maxFanIn).str();
    } else if (declared) {
      double d = declared->getDensityValue();
      nonZeros = static_cast<int64_t>(d * params + 0.5);
      density = llvm::formatv("{0:F3}*", d).str();
      if (declared->getFanIn())
        fanIn = std::to_string(*declared->getFanIn()) + "*";
    }
    if (auto c = dyn_cast<SPGC8Type>(weight.getType()))
      note = llvm::formatv("spgc8 {0}-bit", c.getBits()).str();
    totals.params += params + bias;
    totals.nonZeros += nonZeros + bias;
    totals.denseMacs += params * positions;
    totals.sparseMacs += nonZeros * positions;
    os << llvm::formatv("  {0,2}  {1,-9} {2,-16} {3,10} {4,8}  {5,-12} {6,12} "
                        "{7,12} {8}\n",
                        index, kind, shapeString(wShape), params + bias,
                        density, fanIn, params * positions,
                        nonZeros * positions, note);
  }

  void summarize(func::FuncOp func, raw_ostream &os) {
    os << "sparsenn summary of @" << func.getSymName() << "\n";
    os << llvm::formatv("  {0,2}  {1,-9} {2,-16} {3,10} {4,8}  {5,-12} {6,12} "
                        "{7,12}\n",
                        "#", "layer", "weights", "params", "density", "fan-in",
                        "MACs dense", "MACs sparse");
    Totals totals;
    int index = 0;
    func.walk([&](Operation *op) {
      if (auto layer = dyn_cast<LayerOpInterface>(op)) {
        // Any layer, the host's included (LayerOpInterface).
        SmallVector<int64_t> w = layer.getLayerWeightShape();
        Value bias = layer.getLayerBias();
        std::optional<SparsityAttr> declared;
        if (SparsityAttr facts = layer.getLayerSparsity())
          declared = facts;
        printLayer(os, index++, op->getName().stripDialect(), w,
                   layer.getLayerWeight(), declared,
                   layer.getPositionsPerSample(),
                   bias ? cast<ShapedType>(bias.getType()).getNumElements() : 0,
                   totals);
      } else if (auto kw = dyn_cast<KWinnersOp>(op)) {
        os << llvm::formatv("  {0,2}  {1,-9} {2,-16} mode={3} k={4}/{5} "
                            "({6:F3}) boost={7}{8}\n",
                            index++, "kwinners",
                            shapeString(kw.getInput().getType().getShape()),
                            stringifyKWinnersMode(kw.getMode()),
                            kw.getEffectiveK(), kw.getDomainSize(),
                            kw.getTargetDensity(), kw.getBoostStrengthOrZero(),
                            kw.getRelu() ? " relu" : "");
      } else if (auto prune = dyn_cast<PruneOp>(op)) {
        os << llvm::formatv(
            "  {0,2}  {1,-9} {2,-16} method={3} "
            "granularity={4}\n",
            index++, "prune",
            shapeString(prune.getWeights().getType().getShape()),
            stringifyPruneMethod(prune.getMethod()),
            stringifyPruneGranularity(prune.getGranularity()));
      }
    });
    double density =
        totals.params ? double(totals.nonZeros) / totals.params : 0.0;
    double macRatio =
        totals.sparseMacs ? double(totals.denseMacs) / totals.sparseMacs : 0.0;
    os << llvm::formatv("  total: {0} parameters, {1} non-zero (density "
                        "{2:F3}); {3} MACs/sample dense, {4} sparse ({5:F2}x "
                        "fewer)\n",
                        totals.params, totals.nonZeros, density,
                        totals.denseMacs, totals.sparseMacs, macRatio);
  }
};

} // namespace
