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

/// Patterns lowering `linalg.pooling_nchw_max` / `linalg.pooling_nchw_sum`
/// on static f32 tensors, with an init filled by a constant, to the
/// runtime's vectorised, threaded `sparsenn_rt_pool2d_f32`; a `tensor.pad`
/// of the input by a constant folds into the call. Other poolings are left
/// as they are (linalg loops).
void populatePoolingToRuntimePatterns(RewritePatternSet &patterns);

/// Patterns lowering `linalg.matmul` on static f32 tensors with the plain
/// operand maps or A and/or B transposed to the runtime's threaded GEMM
/// (`sparsenn_rt_gemm_f32`, the dense library's sgemm). Other matmuls are
/// left as they are.
void populateMatmulToRuntimePatterns(RewritePatternSet &patterns);

/// Name of the runtime pooling entry point
/// (`_mlir_ciface_sparsenn_rt_pool2d_f32`).
constexpr const char *kPool2DRuntimeFunc = "sparsenn_rt_pool2d_f32";

/// Name of the runtime k-winners entry point (C ABI wrapper
/// `_mlir_ciface_sparsenn_rt_kwinners_f32` in runtime/lib/MemRefABI.cpp).
constexpr const char *kKWinnersRuntimeFunc = "sparsenn_rt_kwinners_f32";

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_CONVERSION_SPARSENNTOLINALG_SPARSENNTOLINALG_H
