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
#include <cstring>

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

/// True when the hand-written AVX-512 code (the SPGC8 decoder) should run
/// (CPU support and not forced off by sparsenn_kernels_force_portable).
bool useAvx512();

/// True when sparsenn_kernels_force_portable asked for the reference code:
/// then neither the SIMD paths nor the dense library run.
bool portableForced();

/// False while tests or benchmarks restrict the SIMD target to one without
/// AVX-512 (sparsenn_kernels_select_target): the AVX-512 kernels then stay
/// off, as on a CPU without it.
bool targetAllowsAvx512();

/// Block-16 rows (the sparsenn_linear_block16_f32 format) for `rows` output
/// rows: y[b * ldy + o] = bias[o] + sum of the row's blocks against sample
/// b. Shared by the block-16 kernel (ldy = out) and the fused SPGC8 kernel,
/// which decodes row tiles into this format in a scratch buffer (ldy = out,
/// y and bias offset to the tile). No argument checks. Runs the Highway
/// kernel of the selected target on the thread pool, or the portable
/// reference when portableForced().
void block16Rows(const float *x, int64_t batch, int64_t in,
                 const int32_t *rowPtr, const int32_t *blockCols,
                 const float *values, int64_t rows, const float *bias, float *y,
                 int64_t ldy);
/// The scalar reference of block16Rows.
void block16RowsPortable(const float *x, int64_t batch, int64_t in,
                         const int32_t *rowPtr, const int32_t *blockCols,
                         const float *values, int64_t rows, const float *bias,
                         float *y, int64_t ldy);

/// The builtin dense linear (Highway, thread pool) that
/// sparsenn_linear_dense_f32 runs when the dense library does not take the
/// call; also called directly by the tests. No argument checks.
void denseLinearSimd(const float *x, int64_t batch, int64_t in, const float *w,
                     int64_t out, const float *bias, float *y);

/// Row-major C[m, n] = op(A)·op(B) + beta·C (trans 'N' or 'T'), blocks
/// of C on the thread pool, each on the dense library's sgemm or the builtin
/// loops (KernelsConvBackward.cpp). No argument checks.
int gemm(char transA, char transB, int64_t m, int64_t n, int64_t k,
         const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
         float *c, int64_t ldc);

/// Parameters of an NCHW conv2d (PyTorch semantics), output size included.
struct Conv2DParams {
  int64_t n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups;
  int64_t oh, ow;
};

/// Fills `p` (output size included) from a conv2d's geometry; false when
/// it is invalid (sizes, groups, a kernel larger than the padded input).
bool makeConv2DParams(Conv2DParams &p, int64_t n, int64_t cIn, int64_t h,
                      int64_t w, int64_t cOut, int64_t kh, int64_t kw,
                      int64_t sh, int64_t sw, int64_t pt, int64_t pb,
                      int64_t pl, int64_t pr, int64_t dh, int64_t dw,
                      int64_t groups);

/// What a layer kernel applies to its outputs before storing them (fused
/// into the kernel so that no extra pass over memory is needed): y = relu?(
/// y + residual). `residual` has y's shape and layout, or is null.
struct Epilogue {
  const float *residual = nullptr;
  bool relu = false;
  bool any() const { return residual || relu; }
};

/// Applies an epilogue in place to y[0, count) (for kernels that cannot
/// fuse it): one vectorised pass on the thread pool.
void applyEpilogue(const Epilogue &e, float *y, int64_t count);

/// dst[i] = relu?(src[i] + bias + residual[i]) for i < count (residual may
/// be null; src may be dst), vectorised for the CPU's SIMD target; one row
/// of a kernel's output block, on the calling thread.
void storeWithEpilogue(const float *src, int64_t count, float bias,
                       const float *residual, bool relu, float *dst);

/// The dense and sparse-tap conv2d of Kernels.h with an epilogue;
/// `constant`: weights/taps are compile-time constants (cached copies).
int conv2dDense(const float *x, int64_t n, int64_t cIn, int64_t h, int64_t w,
                const float *weights, int64_t cOut, int64_t kh, int64_t kw,
                const float *bias, int64_t sh, int64_t sw, int64_t pt,
                int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,
                int64_t groups, float *y, bool constant, const Epilogue &ep);
int conv2dSparse(const float *x, int64_t n, int64_t cIn, int64_t h, int64_t w,
                 const int32_t *tapPtr, const int32_t *tapIdx,
                 const float *tapVal, int64_t cOut, int64_t kh, int64_t kw,
                 const float *bias, int64_t sh, int64_t sw, int64_t pt,
                 int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,
                 int64_t groups, float *y, bool constant, const Epilogue &ep);

/// Sparse conv2d on the sparse-times-dense engine (KernelsConvSparse.cpp):
/// taps as for sparsenn_conv2d_sparse_f32, arguments already checked. Runs
/// on the thread pool and on the best SIMD target of the CPU.
/// `constantTaps`: the taps stay unchanged at these addresses for the life
/// of the process, so their re-sorted copy is cached.
int conv2dSparseSpmm(const Conv2DParams &p, const float *x,
                     const int32_t *tapPtr, const int32_t *tapIdx,
                     const float *tapVal, const float *bias, float *y,
                     bool constantTaps, const Epilogue &ep);

/// A hash of 64 values spread over v[0, count): tells apart two constant
/// tensors that reuse one address (a model library unloaded, another
/// loaded), for the caches keyed by weight addresses.
inline uint64_t valueFingerprint(const float *v, int64_t count) {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(count);
  int64_t step = count / 64 > 1 ? count / 64 : 1;
  for (int64_t i = 0; i < count; i += step) {
    uint32_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  return h;
}

/// 64-byte aligned scratch, freed on scope exit; size 0 is allowed.
class Scratch {
public:
  explicit Scratch(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    Cache &c = cache();
    if (rounded && c.ptr && c.size >= rounded) {
      ptr = c.ptr, size = c.size;
      c.ptr = nullptr, c.size = 0;
    } else {
      ptr = rounded ? std::aligned_alloc(64, rounded) : nullptr;
      size = ptr ? rounded : 0;
    }
    failed = rounded && !ptr;
  }
  /// Keeps the larger of this buffer and the cached one for the thread's
  /// next Scratch: kernels called again and again (every layer of every
  /// inference) then do not map and fault in fresh pages at each call.
  ~Scratch() {
    Cache &c = cache();
    if (ptr && size > c.size && size <= kCachedBytes) {
      std::free(c.ptr);
      c.ptr = ptr, c.size = size;
    } else {
      std::free(ptr);
    }
  }
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  template <typename T> T *as() const { return static_cast<T *>(ptr); }
  bool failed;

private:
  /// The largest buffer a thread keeps between calls.
  static constexpr size_t kCachedBytes = size_t(64) << 20;
  struct Cache {
    void *ptr = nullptr;
    size_t size = 0;
    ~Cache() { std::free(ptr); }
  };
  static Cache &cache() {
    thread_local Cache c;
    return c;
  }
  void *ptr;
  size_t size;
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
    return SPARSENN_ERR_RANGE;
  bool fill = idx && val;
  int64_t p = 0;
  for (int64_t r = 0; r <= rows; ++r) {
    if (ptr) {
      if (p > INT32_MAX)
        return SPARSENN_ERR_RANGE;
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
  return SPARSENN_OK;
}

} // namespace kernels
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_KERNELSINTERNAL_H
