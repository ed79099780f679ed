//===- DenseLibrary.h - dense layers through a dense library ----*- C++ -*-===//
//
// The dense linear and conv2d kernels hand their work to oneDNN when the
// runtime is built with it (SPARSENN_WITH_ONEDNN): its JIT kernels dispatch
// at run time to AVX2, AVX-512 (and NEON on aarch64), which our builtin
// loops cannot match (docs/performance.md, "Dense layers"). Each function
// returns false when it did not handle the call (no library, a shape the
// library refuses, forced builtin); the caller then runs its own kernel.
// Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_DENSELIBRARY_H
#define SPARSENN_RUNTIME_DENSELIBRARY_H

#include "KernelsInternal.h"

#include <cstdint>

namespace sparsenn {
namespace dense {

/// y[b, o] = bias[o] + sum_i x[b, i] w[o, i]; bias may be null.
bool linear(const float *x, int64_t batch, int64_t in, const float *w,
            int64_t out, const float *bias, float *y);

using kernels::Conv2DParams;

/// `constantWeights`: the weights stay the same at this address for the
/// life of the process (compiled constants), so their reordered copy is
/// cached; otherwise they are reordered at every call.
bool conv2d(const Conv2DParams &p, const float *x, const float *weights,
            const float *bias, float *y, bool constantWeights,
            const kernels::Epilogue &ep);

/// Row-major C[m, n] = op(A)·op(B) + beta·C on the calling thread, op(X) =
/// X or Xᵀ for trans 'N' / 'T' (BLAS conventions, row-major leading
/// dimensions). False when the library does not take the call.
bool gemm(char transA, char transB, int64_t m, int64_t n, int64_t k,
          const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
          float *c, int64_t ldc);

/// "onednn" or "builtin".
const char *backendName();

} // namespace dense
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_DENSELIBRARY_H
