//===- SparseNNToGPU.h - sparsenn to hand-written GPU kernels ---*- C++ -*-===//
//
// The GPU path (docs/architecture.md, "The GPU path"): convert-sparsenn-to-
// gpu writes the sparse layers and k-winners as gpu.launch kernels on
// buffers, sparsenn-tile-gpu-loops and upstream's loop mapping turn the
// remaining (dense) linalg into kernels, sparsenn-place-gpu-buffers puts the
// buffers in device memory, and `sparsenn-lower-to-nvvm` goes on to NVVM,
// PTX and the host calls of runtime/include/sparsenn/Runtime/GPU.h.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_CONVERSION_SPARSENNTOGPU_SPARSENNTOGPU_H
#define SPARSENN_CONVERSION_SPARSENNTOGPU_SPARSENNTOGPU_H

#include <cstdint>

namespace mlir {
class RewritePatternSet;
namespace sparsenn {

/// The patterns of convert-sparsenn-to-gpu: sparsenn.linear with a GPU
/// kernel format (ell, block16, sparse_sparse, spgc8) and sparsenn.conv2d
/// with sparse taps become gpu.launch kernels on buffers (others lose their
/// format for the dense path); sparsenn.kwinners becomes its selection
/// kernel. `warpsPerBlock` in [1, 32]; `kwinnersThreads` 0 (automatic) or a
/// multiple of 32 in [32, 1024]. Meant for a walk driver
/// (walkAndApplyPatterns): each layer is rewritten once.
void populateSparseNNToGPUPatterns(RewritePatternSet &patterns,
                                   int64_t warpsPerBlock = 4,
                                   int64_t kwinnersThreads = 0);

/// Prefix of the kernel names convert-sparsenn-to-gpu gives its gpu.launch
/// ops (the outlined gpu.func is `sparsenn_<kernel>`, e.g.
/// `sparsenn_ell_linear`, `sparsenn_kwinners`).
constexpr const char *kGPUKernelPrefix = "sparsenn_";

/// Name prefix of the runtime entry points that return the cached device
/// copy of a constant (`_mlir_ciface_sparsenn_gpu_constant_<type>`,
/// runtime/include/sparsenn/Runtime/GPU.h).
constexpr const char *kGPUConstantFuncPrefix = "sparsenn_gpu_constant_";

} // namespace sparsenn
} // namespace mlir

#endif // SPARSENN_CONVERSION_SPARSENNTOGPU_SPARSENNTOGPU_H
