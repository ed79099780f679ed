//===- KernelsInternal.h - shared helpers of the fp32 kernels ---*- C++ -*-===//
//
// Run-time implementation selection (AVX-512 vs portable) and small helpers
// shared by the Kernels*.cpp files. Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_KERNELSINTERNAL_H
#define SPARSENN_RUNTIME_KERNELSINTERNAL_H

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sparsenn/Runtime/Kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define SPARSENN_KERNELS_X86 1
#include <immintrin.h>
// Everything the AVX-512 paths use; Zen 4/5 and Intel since Skylake-X.
#define SPARSENN_AVX512_TARGET                                                 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi,bmi2,"         \
                        "popcnt,fma")))
#else
#define SPARSENN_KERNELS_X86 0
#endif

namespace sparsenn {
namespace kernels {

/// True when the AVX-512 implementation should run (CPU support and not
/// forced off by sparsenn_kernels_force_portable).
bool useAvx512();

/// Block-16 rows (the sparsenn_linear_block16_f32 format) for `rows` output
/// rows: y[b * ldy + o] = bias[o] + sum of the row's blocks against sample
/// b. Shared by the block-16 kernel (ldy = out) and the fused SPGC8 kernel,
/// which decodes row tiles into this format in a scratch buffer (ldy = out,
/// y and bias offset to the tile). No argument checks.
void block16RowsPortable(const float *x, int64_t batch, int64_t in,
                         const int32_t *rowPtr, const int32_t *blockCols,
                         const float *values, int64_t rows, const float *bias,
                         float *y, int64_t ldy);
#if SPARSENN_KERNELS_X86
/// AVX-512 version; call only when useAvx512().
void block16RowsAvx512(const float *x, int64_t batch, int64_t in,
                       const int32_t *rowPtr, const int32_t *blockCols,
                       const float *values, int64_t rows, const float *bias,
                       float *y, int64_t ldy);
#endif

/// 64-byte aligned scratch, freed on scope exit; size 0 is allowed.
class Scratch {
public:
  explicit Scratch(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    ptr = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    failed = rounded && !ptr;
  }
  ~Scratch() { std::free(ptr); }
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  template <typename T> T *as() const { return static_cast<T *>(ptr); }
  bool failed;

private:
  void *ptr;
};

/// Compressed-rows packing shared by the CSC (rows = input columns of a
/// linear weight) and conv-tap (rows = filters) formats: the non-zeros of
/// element (r, c) = w[r * rowStride + c * colStride], row by row. `ptr`
/// (rows + 1 entries) may be null; `idx`/`val` are filled only if both are
/// non-null (size query otherwise). Returns a SPARSENN_K_* status.
inline int packCompressedRows(const float *w, int64_t rows, int64_t cols,
                              int64_t rowStride, int64_t colStride,
                              int32_t *ptr, int32_t *idx, float *val,
                              int64_t *count) {
  if (cols > INT32_MAX)
    return SPARSENN_K_ERR_RANGE;
  bool fill = idx && val;
  int64_t p = 0;
  for (int64_t r = 0; r <= rows; ++r) {
    if (ptr) {
      if (p > INT32_MAX)
        return SPARSENN_K_ERR_RANGE;
      ptr[r] = static_cast<int32_t>(p);
    }
    if (r == rows)
      break;
    for (int64_t c = 0; c < cols; ++c) {
      float v = w[r * rowStride + c * colStride];
      if (v == 0.0f)
        continue;
      if (fill) {
        idx[p] = static_cast<int32_t>(c);
        val[p] = v;
      }
      ++p;
    }
  }
  *count = p;
  return SPARSENN_K_OK;
}

} // namespace kernels
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_KERNELSINTERNAL_H
