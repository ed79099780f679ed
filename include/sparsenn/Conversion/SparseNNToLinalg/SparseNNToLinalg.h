//===- SparseNNToLinalg.h - sparsenn to linalg patterns ---------*- C++ -*-===//

#ifndef SPARSENN_CONVERSION_SPARSENNTOLINALG_SPARSENNTOLINALG_H
#define SPARSENN_CONVERSION_SPARSENNTOLINALG_SPARSENNTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace sparsenn {

/// Patterns lowering sparsenn inference ops to linalg/tensor and runtime
/// calls (for hosts that assemble their own conversion).
/// `runtimeWeightKernels`: lower linear and conv2d layers whose f32 weights
/// are run-time values to the runtime's dense kernels (else linalg loops).
/// `fuseEpilogues`: a conv2d lowered to a runtime kernel takes the residual
/// add and ReLU that follow it into the same call (one pass over memory).
void populateSparseNNToLinalgPatterns(RewritePatternSet &patterns,
                                      bool runtimeWeightKernels = true,
                                      bool fuseEpilogues = true);

/// Name of the runtime k-winners entry point (C ABI wrapper
/// `_mlir_ciface_sparsenn_rt_kwinners_f32` in runtime/lib/MemRefABI.cpp).
constexpr const char *kKWinnersRuntimeFunc = "sparsenn_rt_kwinners_f32";

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_CONVERSION_SPARSENNTOLINALG_SPARSENNTOLINALG_H
