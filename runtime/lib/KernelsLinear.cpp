//===- KernelsLinear.cpp - dense, ELL, block-16, sparse-sparse linear -----===//
//
// fp32 y = x W^T + b kernels (brief section 4, 7). Sparse weights exist to
// skip work (seed 000 [0035], [0044]): the ELL and block-16 kernels read
// only the stored non-zeros of W; the sparse-sparse kernel (seed 000 [0047])
// additionally skips every zero input (k-winners output), so its cost is
// proportional to (active inputs) x (non-zeros per weight column).
//
// Each kernel has a portable implementation and an AVX-512 one compiled with
// target attributes and chosen at run time (see useAvx512()).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include "DenseLibrary.h"
#include "KernelsInternal.h"

#include <atomic>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on the undefined pass-through operand of unmasked
// AVX-512 intrinsics (same as SPGC8X86.cpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

using namespace sparsenn::kernels;

namespace {
std::atomic<int> forcePortable{0};

bool cpuHasAvx512() {
#if SPARSENN_KERNELS_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  }();
  return has;
#else
  return false;
#endif
}
} // namespace

bool sparsenn::kernels::useAvx512() {
  return cpuHasAvx512() && !forcePortable.load(std::memory_order_relaxed) &&
         targetAllowsAvx512();
}

bool sparsenn::kernels::portableForced() {
  return forcePortable.load(std::memory_order_relaxed);
}

extern "C" int sparsenn_kernels_using_avx512(void) { return useAvx512(); }

extern "C" int sparsenn_kernels_force_portable(int force) {
  return forcePortable.exchange(force ? 1 : 0);
}

//===----------------------------------------------------------------------===//
// Portable implementations.
//===----------------------------------------------------------------------===//

namespace {

float dotPortable(const float *a, const float *b, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      s[j] += a[i + j] * b[i + j];
  for (; i < n; ++i)
    s[0] += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

void denseLinearPortable(const float *x, int64_t batch, int64_t in,
                         const float *w, int64_t out, const float *bias,
                         float *y) {
  // Blocks of 16 weight rows stay in cache while every sample passes.
  for (int64_t o0 = 0; o0 < out; o0 += 16) {
    int64_t o1 = o0 + 16 < out ? o0 + 16 : out;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t o = o0; o < o1; ++o)
        y[b * out + o] =
            dotPortable(x + b * in, w + o * in, in) + (bias ? bias[o] : 0.0f);
  }
}

void ellLinearPortable(const float *x, int64_t batch, int64_t in,
                       const float *values, const uint16_t *cols, int64_t out,
                       int64_t k, const float *bias, float *y) {
  for (int64_t b = 0; b < batch; ++b) {
    const float *xb = x + b * in;
    for (int64_t o = 0; o < out; ++o) {
      const float *v = values + o * k;
      const uint16_t *c = cols + o * k;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t j = 0;
      for (; j + 4 <= k; j += 4) {
        s0 += v[j] * xb[c[j]];
        s1 += v[j + 1] * xb[c[j + 1]];
        s2 += v[j + 2] * xb[c[j + 2]];
        s3 += v[j + 3] * xb[c[j + 3]];
      }
      for (; j < k; ++j)
        s0 += v[j] * xb[c[j]];
      y[b * out + o] = (s0 + s1) + (s2 + s3) + (bias ? bias[o] : 0.0f);
    }
  }
}

} // namespace

void sparsenn::kernels::block16RowsPortable(const float *x, int64_t batch,
                                            int64_t in, const int32_t *rowPtr,
                                            const int32_t *blockCols,
                                            const float *values, int64_t rows,
                                            const float *bias, float *y,
                                            int64_t ldy) {
  for (int64_t b = 0; b < batch; ++b) {
    const float *xb = x + b * in;
    for (int64_t o = 0; o < rows; ++o) {
      float s[16] = {0};
      for (int64_t p = rowPtr[o]; p < rowPtr[o + 1]; ++p) {
        int64_t col = blockCols[p];
        const float *v = values + p * 16;
        int64_t n = in - col < 16 ? in - col : 16;
        for (int64_t j = 0; j < n; ++j)
          s[j] += v[j] * xb[col + j];
      }
      float t = 0;
      for (int j = 0; j < 16; ++j)
        t += s[j];
      y[b * ldy + o] = t + (bias ? bias[o] : 0.0f);
    }
  }
}

namespace {

void initRows(float *y, int64_t out, const float *bias) {
  if (bias)
    std::memcpy(y, bias, sizeof(float) * out);
  else
    std::memset(y, 0, sizeof(float) * out);
}

void sparseSparsePortable(const float *x, int64_t batch, int64_t in,
                          const int32_t *colPtr, const int32_t *rowIdx,
                          const float *values, int64_t out, const float *bias,
                          float *y) {
  for (int64_t b = 0; b < batch; ++b) {
    float *yb = y + b * out;
    const float *xb = x + b * in;
    initRows(yb, out, bias);
    for (int64_t i = 0; i < in; ++i) {
      float xv = xb[i];
      if (xv == 0.0f)
        continue; // seed 000 [0047]: zero activations cost nothing
      for (int64_t p = colPtr[i]; p < colPtr[i + 1]; ++p)
        yb[rowIdx[p]] += xv * values[p];
    }
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// AVX-512 implementations.
//===----------------------------------------------------------------------===//

#if SPARSENN_KERNELS_X86
namespace {

SPARSENN_AVX512_TARGET inline __mmask16 tailMask(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);
}

// Sum of each of 8 vectors: lane m of the result = sum of the lanes of a[m].
SPARSENN_AVX512_TARGET inline __m256 reduce8(const __m512 *a) {
  __m256 h[8];
  for (int m = 0; m < 8; ++m)
    h[m] = _mm256_add_ps(_mm512_castps512_ps256(a[m]),
                         _mm512_extractf32x8_ps(a[m], 1));
  __m256 h01 = _mm256_hadd_ps(h[0], h[1]), h23 = _mm256_hadd_ps(h[2], h[3]);
  __m256 h45 = _mm256_hadd_ps(h[4], h[5]), h67 = _mm256_hadd_ps(h[6], h[7]);
  __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                       _mm256_permute2f128_ps(q0, q1, 0x31));
}

// MB x NB dot products over `len` of x rows (stride ldx) and W rows (stride
// ldw); y[m*ldy + n] = sum (+ bias[n]) when init, else += sum.
template <int MB, int NB>
SPARSENN_AVX512_TARGET void
denseTile(const float *x, int64_t ldx, const float *w, int64_t ldw, int64_t len,
          float *y, int64_t ldy, bool init, const float *bias) {
  __m512 acc[MB][NB];
#pragma GCC unroll 8
  for (int m = 0; m < MB; ++m)
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n)
      acc[m][n] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= len; i += 16) {
    __m512 xv[MB];
#pragma GCC unroll 8
    for (int m = 0; m < MB; ++m)
      xv[m] = _mm512_loadu_ps(x + m * ldx + i);
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) {
      __m512 wv = _mm512_loadu_ps(w + n * ldw + i);
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m)
        acc[m][n] = _mm512_fmadd_ps(xv[m], wv, acc[m][n]);
    }
  }
  if (i < len) {
    __mmask16 mk = tailMask(len - i);
    __m512 xv[MB];
#pragma GCC unroll 8
    for (int m = 0; m < MB; ++m)
      xv[m] = _mm512_maskz_loadu_ps(mk, x + m * ldx + i);
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) {
      __m512 wv = _mm512_maskz_loadu_ps(mk, w + n * ldw + i);
#pragma GCC unroll 8
      for (int m = 0; m < MB; ++m)
        acc[m][n] = _mm512_fmadd_ps(xv[m], wv, acc[m][n]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MB; ++m)
#pragma GCC unroll 8
    for (int n = 0; n < NB; ++n) {
      float s = _mm512_reduce_add_ps(acc[m][n]);
      float *dst = y + m * ldy + n;
      *dst = init ? s + (bias ? bias[n] : 0.0f) : *dst + s;
    }
}

using DenseTileFn = void (*)(const float *, int64_t, const float *, int64_t,
                             int64_t, float *, int64_t, bool, const float *);

template <int MB> struct DenseRow {
  static constexpr DenseTileFn fns[8] = {
      denseTile<MB, 1>, denseTile<MB, 2>, denseTile<MB, 3>, denseTile<MB, 4>,
      denseTile<MB, 5>, denseTile<MB, 6>, denseTile<MB, 7>, denseTile<MB, 8>};
};
template <int MB> constexpr DenseTileFn DenseRow<MB>::fns[8];

SPARSENN_AVX512_TARGET void denseLinearAvx512(const float *x, int64_t batch,
                                              int64_t in, const float *w,
                                              int64_t out, const float *bias,
                                              float *y) {
  if (batch < 4) {
    // GEMV: memory-bound on W; 8 weight rows stream at once.
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t o = 0; o < out; o += 8) {
        int64_t nb = out - o < 8 ? out - o : 8;
        DenseRow<1>::fns[nb - 1](x + b * in, in, w + o * in, in, in,
                                 y + b * out + o, out, true,
                                 bias ? bias + o : nullptr);
      }
    return;
  }
  // GEMM: k blocks of 1024 (x tile 4 x 4 KiB in L1), 64 weight rows per L2
  // block reused by every 4-sample tile, 4x4 register tiles.
  static const DenseTileFn *const table[4] = {
      DenseRow<1>::fns, DenseRow<2>::fns, DenseRow<3>::fns, DenseRow<4>::fns};
  const int64_t kc = 1024, nc = 64;
  for (int64_t k0 = 0; k0 < in; k0 += kc) {
    int64_t len = in - k0 < kc ? in - k0 : kc;
    bool init = k0 == 0;
    for (int64_t o0 = 0; o0 < out; o0 += nc) {
      int64_t o1 = o0 + nc < out ? o0 + nc : out;
      for (int64_t b0 = 0; b0 < batch; b0 += 4) {
        int64_t mb = batch - b0 < 4 ? batch - b0 : 4;
        for (int64_t o = o0; o < o1; o += 4) {
          int64_t nb = o1 - o < 4 ? o1 - o : 4;
          table[mb - 1][nb - 1](x + b0 * in + k0, in, w + o * in + k0, in, len,
                                y + b0 * out + o, out, init,
                                bias ? bias + o : nullptr);
        }
      }
    }
  }
}

// One ELL row against one sample: 16 columns per gather.
SPARSENN_AVX512_TARGET float ellRowAvx512(const float *x, const float *v,
                                          const uint16_t *c, int64_t k) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= k; j += 32) {
    __m512i i0 = _mm512_cvtepu16_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c + j)));
    __m512i i1 = _mm512_cvtepu16_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c + j + 16)));
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j), _mm512_i32gather_ps(i0, x, 4),
                         a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j + 16),
                         _mm512_i32gather_ps(i1, x, 4), a1);
  }
  for (; j + 16 <= k; j += 16) {
    __m512i i0 = _mm512_cvtepu16_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i *>(c + j)));
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(v + j), _mm512_i32gather_ps(i0, x, 4),
                         a0);
  }
  if (j < k) {
    __mmask16 mk = tailMask(k - j);
    __m512i i0 = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mk, c + j));
    __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mk, i0, x, 4);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, v + j), xv, a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// ELL rows against a transposed tile xT [in][16*NV] of up to 16*NV samples:
// each stored weight is broadcast once and multiplies NV vectors of samples.
template <int NV>
SPARSENN_AVX512_TARGET void
ellRowsTransposed(const float *xT, const float *values, const uint16_t *cols,
                  int64_t out, int64_t k, const float *bias, float *y,
                  int64_t nb) {
  constexpr int64_t ld = 16 * NV;
  alignas(64) float tmp[ld];
  for (int64_t o = 0; o < out; ++o) {
    const float *v = values + o * k;
    const uint16_t *c = cols + o * k;
    __m512 a0[NV], a1[NV];
#pragma GCC unroll 4
    for (int n = 0; n < NV; ++n)
      a0[n] = a1[n] = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 2 <= k; j += 2) {
      __m512 v0 = _mm512_set1_ps(v[j]), v1 = _mm512_set1_ps(v[j + 1]);
      const float *p0 = xT + c[j] * ld, *p1 = xT + c[j + 1] * ld;
#pragma GCC unroll 4
      for (int n = 0; n < NV; ++n) {
        a0[n] = _mm512_fmadd_ps(v0, _mm512_load_ps(p0 + 16 * n), a0[n]);
        a1[n] = _mm512_fmadd_ps(v1, _mm512_load_ps(p1 + 16 * n), a1[n]);
      }
    }
    if (j < k) {
      __m512 v0 = _mm512_set1_ps(v[j]);
      const float *p0 = xT + c[j] * ld;
#pragma GCC unroll 4
      for (int n = 0; n < NV; ++n)
        a0[n] = _mm512_fmadd_ps(v0, _mm512_load_ps(p0 + 16 * n), a0[n]);
    }
    __m512 bv = _mm512_set1_ps(bias ? bias[o] : 0.0f);
#pragma GCC unroll 4
    for (int n = 0; n < NV; ++n)
      _mm512_store_ps(tmp + 16 * n,
                      _mm512_add_ps(_mm512_add_ps(a0[n], a1[n]), bv));
    for (int64_t t = 0; t < nb; ++t)
      y[t * out + o] = tmp[t];
  }
}

SPARSENN_AVX512_TARGET int ellLinearAvx512(const float *x, int64_t batch,
                                           int64_t in, const float *values,
                                           const uint16_t *cols, int64_t out,
                                           int64_t k, const float *bias,
                                           float *y) {
  if (batch < 4) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t o = 0; o < out; ++o)
        y[b * out + o] =
            ellRowAvx512(x + b * in, values + o * k, cols + o * k, k) +
            (bias ? bias[o] : 0.0f);
    return SPARSENN_K_OK;
  }
  // Samples in tiles of up to 64, transposed so that one gathered column is
  // a contiguous row of the tile.
  const int64_t bt = 64;
  int64_t tileSamples = batch < bt ? batch : bt;
  int64_t maxLd = (tileSamples + 15) / 16 * 16;
  Scratch buf(sizeof(float) * in * maxLd);
  if (buf.failed)
    return SPARSENN_K_ERR_NOMEM;
  float *xT = buf.as<float>();
  for (int64_t b0 = 0; b0 < batch; b0 += bt) {
    int64_t nb = batch - b0 < bt ? batch - b0 : bt;
    int64_t nv = (nb + 15) / 16, ld = nv * 16;
    for (int64_t i = 0; i < in; ++i)
      for (int64_t t = nb; t < ld; ++t)
        xT[i * ld + t] = 0.0f;
    for (int64_t t = 0; t < nb; ++t) {
      const float *xr = x + (b0 + t) * in;
      for (int64_t i = 0; i < in; ++i)
        xT[i * ld + t] = xr[i];
    }
    float *yb = y + b0 * out;
    switch (nv) {
    case 1:
      ellRowsTransposed<1>(xT, values, cols, out, k, bias, yb, nb);
      break;
    case 2:
      ellRowsTransposed<2>(xT, values, cols, out, k, bias, yb, nb);
      break;
    case 3:
      ellRowsTransposed<3>(xT, values, cols, out, k, bias, yb, nb);
      break;
    default:
      ellRowsTransposed<4>(xT, values, cols, out, k, bias, yb, nb);
      break;
    }
  }
  return SPARSENN_K_OK;
}

// Block-16 rows against MB samples: one weight block load feeds MB FMAs.
// y[m * ldy + o] for the `rows` rows of rowPtr.
template <int MB>
SPARSENN_AVX512_TARGET void
block16Tile(const float *x, int64_t in, const int32_t *rowPtr,
            const int32_t *blockCols, const float *values, int64_t rows,
            const float *bias, float *y, int64_t ldy) {
  int64_t rem = in & 15;
  int64_t tailCol = rem ? in - rem : -1;
  __mmask16 tm = tailMask(rem);
  for (int64_t o = 0; o < rows; ++o) {
    __m512 acc[8], acc2 = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int m = 0; m < 8; ++m)
      acc[m] = _mm512_setzero_ps();
    int64_t p = rowPtr[o], pEnd = rowPtr[o + 1];
    if (MB == 1) {
      // One sample: two chains hide the FMA latency.
      for (; p + 2 <= pEnd; p += 2) {
        int64_t c0 = blockCols[p], c1 = blockCols[p + 1];
        __m512 x0 = c0 == tailCol ? _mm512_maskz_loadu_ps(tm, x + c0)
                                  : _mm512_loadu_ps(x + c0);
        __m512 x1 = c1 == tailCol ? _mm512_maskz_loadu_ps(tm, x + c1)
                                  : _mm512_loadu_ps(x + c1);
        acc[0] = _mm512_fmadd_ps(_mm512_loadu_ps(values + p * 16), x0, acc[0]);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(values + p * 16 + 16), x1, acc2);
      }
    }
    for (; p < pEnd; ++p) {
      int64_t col = blockCols[p];
      __m512 wv = _mm512_loadu_ps(values + p * 16);
      if (col == tailCol) {
#pragma GCC unroll 8
        for (int m = 0; m < MB; ++m)
          acc[m] = _mm512_fmadd_ps(
              wv, _mm512_maskz_loadu_ps(tm, x + m * in + col), acc[m]);
      } else {
#pragma GCC unroll 8
        for (int m = 0; m < MB; ++m)
          acc[m] =
              _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + m * in + col), acc[m]);
      }
    }
    acc[0] = _mm512_add_ps(acc[0], acc2);
    float bo = bias ? bias[o] : 0.0f;
    if (MB > 2) {
      alignas(32) float s[8];
      _mm256_store_ps(s, reduce8(acc));
      for (int m = 0; m < MB; ++m)
        y[m * ldy + o] = s[m] + bo;
    } else {
      for (int m = 0; m < MB; ++m)
        y[m * ldy + o] = _mm512_reduce_add_ps(acc[m]) + bo;
    }
  }
}

} // namespace

void sparsenn::kernels::block16RowsAvx512(const float *x, int64_t batch,
                                          int64_t in, const int32_t *rowPtr,
                                          const int32_t *blockCols,
                                          const float *values, int64_t rows,
                                          const float *bias, float *y,
                                          int64_t ldy) {
  using Fn = void (*)(const float *, int64_t, const int32_t *, const int32_t *,
                      const float *, int64_t, const float *, float *, int64_t);
  static const Fn fns[8] = {block16Tile<1>, block16Tile<2>, block16Tile<3>,
                            block16Tile<4>, block16Tile<5>, block16Tile<6>,
                            block16Tile<7>, block16Tile<8>};
  for (int64_t b0 = 0; b0 < batch; b0 += 8) {
    int64_t mb = batch - b0 < 8 ? batch - b0 : 8;
    fns[mb - 1](x + b0 * in, in, rowPtr, blockCols, values, rows, bias,
                y + b0 * ldy, ldy);
  }
}

namespace {

SPARSENN_AVX512_TARGET void sparseSparseAvx512(const float *x, int64_t batch,
                                               int64_t in,
                                               const int32_t *colPtr,
                                               const int32_t *rowIdx,
                                               const float *values, int64_t out,
                                               const float *bias, float *y) {
  for (int64_t b = 0; b < batch; ++b) {
    float *yb = y + b * out;
    const float *xb = x + b * in;
    initRows(yb, out, bias);
    // Scan 16 inputs per compare; only the non-zero ones (seed 000 [0047])
    // touch their weight column.
    for (int64_t i0 = 0; i0 < in; i0 += 16) {
      __mmask16 ld = in - i0 < 16 ? tailMask(in - i0) : 0xFFFF;
      __mmask16 nz =
          _mm512_mask_cmp_ps_mask(ld, _mm512_maskz_loadu_ps(ld, xb + i0),
                                  _mm512_setzero_ps(), _CMP_NEQ_UQ);
      while (nz) {
        int64_t i = i0 + __builtin_ctz(nz);
        nz &= nz - 1;
        float xv = xb[i];
        int64_t p = colPtr[i], pEnd = colPtr[i + 1];
        // Row indices of one column are distinct, so 16 of them can be
        // gathered, updated and scattered without conflicts.
        __m512 xs = _mm512_set1_ps(xv);
        for (; p + 16 <= pEnd; p += 16) {
          __m512i r = _mm512_loadu_si512(rowIdx + p);
          __m512 yv = _mm512_i32gather_ps(r, yb, 4);
          yv = _mm512_fmadd_ps(xs, _mm512_loadu_ps(values + p), yv);
          _mm512_i32scatter_ps(yb, r, yv, 4);
        }
        for (; p < pEnd; ++p)
          yb[rowIdx[p]] += xv * values[p];
      }
    }
  }
}

} // namespace
#endif // SPARSENN_KERNELS_X86

//===----------------------------------------------------------------------===//
// C API: argument checks, packing, dispatch.
//===----------------------------------------------------------------------===//

namespace {
bool linearArgsOk(const float *x, int64_t batch, int64_t in, int64_t out,
                  const float *y) {
  return x && y && batch >= 0 && in >= 0 && out >= 0;
}
} // namespace

extern "C" int sparsenn_linear_dense_f32(const float *x, int64_t batch,
                                         int64_t in, const float *w,
                                         int64_t out, const float *bias,
                                         float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || (!w && in * out > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_K_OK;
  if (in > 0 && !portableForced() &&
      sparsenn::dense::linear(x, batch, in, w, out, bias, y))
    return SPARSENN_K_OK;
#if SPARSENN_KERNELS_X86
  if (useAvx512() && in > 0) {
    denseLinearAvx512(x, batch, in, w, out, bias, y);
    return SPARSENN_K_OK;
  }
#endif
  denseLinearPortable(x, batch, in, w, out, bias, y);
  return SPARSENN_K_OK;
}

extern "C" int sparsenn_pack_ell_f32(const float *w, int64_t out, int64_t in,
                                     int64_t fanIn, float *values,
                                     uint16_t *cols, int64_t *k) {
  if (!k || out < 0 || in < 0 || fanIn < 0 || (!w && out * in > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  if (in > 65536)
    return SPARSENN_K_ERR_RANGE;
  int64_t maxNnz = 0;
  for (int64_t o = 0; o < out; ++o) {
    int64_t n = 0;
    for (int64_t i = 0; i < in; ++i)
      n += w[o * in + i] != 0.0f;
    maxNnz = n > maxNnz ? n : maxNnz;
  }
  if (fanIn > 0 && maxNnz > fanIn)
    return SPARSENN_K_ERR_FORMAT;
  int64_t kk = fanIn > 0 ? fanIn : (maxNnz > 0 ? maxNnz : 1);
  *k = kk;
  if (!values || !cols)
    return SPARSENN_K_OK;
  for (int64_t o = 0; o < out; ++o) {
    int64_t j = 0;
    for (int64_t i = 0; i < in; ++i)
      if (w[o * in + i] != 0.0f) {
        values[o * kk + j] = w[o * in + i];
        cols[o * kk + j] = static_cast<uint16_t>(i);
        ++j;
      }
    for (; j < kk; ++j) {
      values[o * kk + j] = 0.0f;
      cols[o * kk + j] = 0;
    }
  }
  return SPARSENN_K_OK;
}

extern "C" int sparsenn_linear_ell_f32(const float *x, int64_t batch,
                                       int64_t in, const float *values,
                                       const uint16_t *cols, int64_t out,
                                       int64_t k, const float *bias, float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || k < 0 ||
      ((!values || !cols) && out * k > 0) || (in == 0 && k > 0) || in > 65536)
    return SPARSENN_K_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_K_OK;
#if SPARSENN_KERNELS_X86
  if (useAvx512())
    return ellLinearAvx512(x, batch, in, values, cols, out, k, bias, y);
#endif
  ellLinearPortable(x, batch, in, values, cols, out, k, bias, y);
  return SPARSENN_K_OK;
}

extern "C" int sparsenn_pack_block16_f32(const float *w, int64_t out,
                                         int64_t in, int32_t *rowPtr,
                                         int32_t *blockCols, float *values,
                                         int64_t *nblocks) {
  if (!nblocks || out < 0 || in < 0 || (!w && out * in > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  if (in > INT32_MAX)
    return SPARSENN_K_ERR_RANGE;
  bool fill = blockCols && values;
  int64_t p = 0;
  for (int64_t o = 0; o < out; ++o) {
    if (rowPtr) {
      if (p > INT32_MAX)
        return SPARSENN_K_ERR_RANGE;
      rowPtr[o] = static_cast<int32_t>(p);
    }
    for (int64_t c = 0; c < in; c += 16) {
      int64_t n = in - c < 16 ? in - c : 16;
      const float *src = w + o * in + c;
      bool keep = false;
      for (int64_t j = 0; j < n; ++j)
        keep |= src[j] != 0.0f;
      if (!keep)
        continue;
      if (fill) {
        blockCols[p] = static_cast<int32_t>(c);
        for (int64_t j = 0; j < 16; ++j)
          values[p * 16 + j] = j < n ? src[j] : 0.0f;
      }
      ++p;
    }
  }
  if (rowPtr) {
    if (p > INT32_MAX)
      return SPARSENN_K_ERR_RANGE;
    rowPtr[out] = static_cast<int32_t>(p);
  }
  *nblocks = p;
  return SPARSENN_K_OK;
}

extern "C" int sparsenn_linear_block16_f32(const float *x, int64_t batch,
                                           int64_t in, const int32_t *rowPtr,
                                           const int32_t *blockCols,
                                           const float *values, int64_t out,
                                           const float *bias, float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || (!rowPtr && out > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_K_OK;
  if (rowPtr[out] > 0 && (!blockCols || !values))
    return SPARSENN_K_ERR_ARGUMENT;
#if SPARSENN_KERNELS_X86
  if (useAvx512()) {
    block16RowsAvx512(x, batch, in, rowPtr, blockCols, values, out, bias, y,
                      out);
    return SPARSENN_K_OK;
  }
#endif
  block16RowsPortable(x, batch, in, rowPtr, blockCols, values, out, bias, y,
                      out);
  return SPARSENN_K_OK;
}

extern "C" int sparsenn_pack_csc_f32(const float *w, int64_t out, int64_t in,
                                     int32_t *colPtr, int32_t *rowIdx,
                                     float *values, int64_t *nnz) {
  if (!nnz || out < 0 || in < 0 || (!w && out * in > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  // CSC of W = compressed rows of Wᵀ: row i of Wᵀ is column i of W.
  return packCompressedRows(w, in, out, /*rowStride=*/1, /*colStride=*/in,
                            colPtr, rowIdx, values, nnz);
}

extern "C" int
sparsenn_linear_sparse_sparse_f32(const float *x, int64_t batch, int64_t in,
                                  const int32_t *colPtr, const int32_t *rowIdx,
                                  const float *values, int64_t out,
                                  const float *bias, float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || (!colPtr && in > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  if (in > 0 && colPtr[in] > 0 && (!rowIdx || !values))
    return SPARSENN_K_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_K_OK;
#if SPARSENN_KERNELS_X86
  if (useAvx512()) {
    sparseSparseAvx512(x, batch, in, colPtr, rowIdx, values, out, bias, y);
    return SPARSENN_K_OK;
  }
#endif
  sparseSparsePortable(x, batch, in, colPtr, rowIdx, values, out, bias, y);
  return SPARSENN_K_OK;
}
