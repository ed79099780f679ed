//===- Pipelines.h - sparsenn pass pipelines --------------------*- C++ -*-===//

#ifndef SPARSENN_PIPELINES_PIPELINES_H
#define SPARSENN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"

namespace mlir {
namespace sparsenn {

/// The textual form of `sparsenn-lower-to-llvm` (documented in
/// docs/architecture.md): sparsenn on tensors → linalg + runtime calls →
/// bufferized loops → LLVM dialect. Passes for a module pass manager,
/// without the `builtin.module(...)` anchor.
std::string getLowerToLLVMPipeline();

/// Appends `sparsenn-lower-to-llvm` to a module-level pass manager.
LogicalResult buildLowerToLLVMPipeline(OpPassManager &pm);

/// Options of `sparsenn-sparsify`: the one-flag pipeline that takes model IR
/// (linalg / TOSA / sparsenn) to sparse, compressed, kernel-selected
/// sparsenn IR.
struct SparsifyOptions : public PassPipelineOptions<SparsifyOptions> {
  Option<bool> import{*this, "import",
                      llvm::cl::desc("Raise linalg / TOSA layers first "
                                     "(sparsenn-import)"),
                      llvm::cl::init(true)};
  Option<double> sparsity{
      *this, "sparsity",
      llvm::cl::desc("Global target sparsity in [0, 1] (negative: only "
                     "layers with sparsenn.target_sparsity are pruned)"),
      llvm::cl::init(-1.0)};
  ListOption<double> layerSparsity{
      *this, "layer-sparsity",
      llvm::cl::desc("Per-layer target sparsity, in module order (negative: "
                     "leave the layer alone)")};
  Option<PruneMethod> method{
      *this, "method", llvm::cl::desc("Pruner"),
      llvm::cl::init(PruneMethod::quantile),
      llvm::cl::values(
          clEnumValN(PruneMethod::quantile, "quantile", "quantile of |w|"),
          clEnumValN(PruneMethod::gaussian, "gaussian", "Gaussian threshold"),
          clEnumValN(PruneMethod::gumbel, "gumbel", "Gumbel threshold"))};
  Option<PruneGranularity> granularity{
      *this, "granularity", llvm::cl::desc("What is pruned as one unit"),
      llvm::cl::init(PruneGranularity::element),
      llvm::cl::values(
          clEnumValN(PruneGranularity::element, "element", "coefficients"),
          clEnumValN(PruneGranularity::group, "group", "groups of group-shape"),
          clEnumValN(PruneGranularity::input_channel, "input_channel",
                     "input channels"),
          clEnumValN(PruneGranularity::output_filter, "output_filter",
                     "output filters"))};
  ListOption<int64_t> groupShape{
      *this, "group-shape",
      llvm::cl::desc("Group shape for granularity=group")};
  Option<Reduction> reduction{
      *this, "reduction", llvm::cl::desc("Group saliency reduction"),
      llvm::cl::init(Reduction::max),
      llvm::cl::values(clEnumValN(Reduction::max, "max", "largest |w|"),
                       clEnumValN(Reduction::mean, "mean", "mean |w|"))};
  Option<bool> spgc8Aligned{
      *this, "spgc8-aligned",
      llvm::cl::desc("Prune SPGC8-aligned 1x16 input-channel groups"),
      llvm::cl::init(false)};
  Option<bool> propagateChannels{
      *this, "propagate-channels",
      llvm::cl::desc("Remove unused channels (sparsenn-propagate-channel-"
                     "pruning)"),
      llvm::cl::init(true)};
  Option<bool> compress{
      *this, "compress",
      llvm::cl::desc("SPGC8-compress the weights (lossy: quantises)"),
      llvm::cl::init(false)};
  Option<unsigned> bits{*this, "bits",
                        llvm::cl::desc("SPGC8 coefficient width: 8 or 16"),
                        llvm::cl::init(8)};
};

/// Appends `sparsenn-sparsify`: import → prune → channel propagation →
/// compression → kernel selection (canonicalising in between).
void buildSparsifyPipeline(OpPassManager &pm, const SparsifyOptions &options);

/// Registers the pipelines with the global pass registry.
void registerSparseNNPipelines();

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_PIPELINES_PIPELINES_H
