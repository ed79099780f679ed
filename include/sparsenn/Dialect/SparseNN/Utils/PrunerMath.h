//===- PrunerMath.h - the pruner logic of seed 003 on host arrays -*- C++
//-*-===//
//
// Computes keep-masks with the pruner semantics of `sparsenn.prune` (seed 003
// FIG. 7a-7d, eq. 1-10; docs/semantics.md §4) on plain arrays, for passes
// that prune constant weights at compile time.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_DIALECT_SPARSENN_UTILS_PRUNERMATH_H
#define SPARSENN_DIALECT_SPARSENN_UTILS_PRUNERMATH_H

#include "sparsenn/Dialect/SparseNN/IR/SparseNNDialect.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace mlir {
namespace sparsenn {

/// Inverse error function, accurate to ~1e-15 on (-1, 1); ±inf at ±1.
double erfinv(double x);

/// The SPGC8-aligned group shape: 1x16 along the input-channel axis
/// (`[1, 16]` for linear `[out, in]`, `[1, 16, 1, 1]` for conv weights).
llvm::SmallVector<int64_t> getSPGC8AlignedGroupShape(int64_t rank);

/// Keep-mask (true = keep) of `weights` (row-major, `shape`) pruned with the
/// normalised sparsity `sparsity` ∈ [0, 1]:
///  - quantile: prune exactly round_half_even(s·G) of the G groups with the
///    smallest saliency = reduction(|w|), ties to the lower group index;
///  - gaussian (groups of one element): keep |w − μ| > Ψ·√2·erfinv(s);
///  - gumbel: keep groups whose reduction(|w − μ|) > φ − β·log(log(1/s)),
///    β = std·√6/π, φ = mean − β·γ over the group reductions.
/// μ and Ψ are the mean and population standard deviation. Remainder groups
/// are zero-padded for the reduction: a mean divides by the full group size.
std::vector<bool> computePruneMask(llvm::ArrayRef<double> weights,
                                   llvm::ArrayRef<int64_t> shape,
                                   llvm::ArrayRef<int64_t> groupShape,
                                   PruneMethod method, Reduction reduction,
                                   double sparsity);

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_DIALECT_SPARSENN_UTILS_PRUNERMATH_H
