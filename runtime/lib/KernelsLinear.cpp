//===- KernelsLinear.cpp - dense, ELL, block-16, sparse-sparse linear -----===//
//
// fp32 y = x W^T + b kernels (docs/semantics.md §1, docs/performance.md).
// Sparse weights exist to skip work (seed 000 [0035], [0044]): the ELL and
// block-16 kernels read only the stored non-zeros of W; the sparse-sparse
// kernel (seed 000 [0047]) additionally skips every zero input (k-winners
// output), so its cost is proportional to (active inputs) x (non-zeros per
// weight column).
//
// One Google Highway source for every SIMD target (AVX2, AVX-512, NEON,
// SVE, ...), dispatched at run time; the scalar kernels stay as the
// reference (sparsenn_kernels_force_portable).
//  - dense (builtin, when the dense library is absent): register tiles of
//    2 samples x 4 weight rows of dot products, k blocks of 1024.
//  - ELL, batch < 4: per row, 4 vectors of gathered x (uint16 columns
//    widened to int32) times the row's values. Batch >= 4: x transposed to
//    tiles [in][up to 4 vectors of samples], so each non-zero is one
//    broadcast weight times contiguous sample vectors (no gathers).
//  - block16: 1x16 blocks of a row (also the decoded SPGC8 tiles) against
//    up to 8 samples at once, 16 floats = 1, 2 or 4 vectors; blocks that
//    reach past `in` read x through a zero-padded copy.
//  - sparse-sparse: the active inputs are listed once (vector compares),
//    then each active CSC column is scattered into y (AVX-512 / SVE: gather,
//    FMA, scatter; other targets scalar, their scatter is emulated).
// Threads: work items are fixed blocks of output rows (x sample tiles) that
// depend only on the shape; each output is summed by one item in a fixed
// order, so results are bit-identical for any thread count. Sparse-sparse
// items are samples, or (fewer samples than threads) ranges of output rows
// found in each column (rows sorted, as sparsenn_pack_csc_f32 writes them);
// a row's sum does not depend on the split.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsLinear.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "sparsenn/Runtime/Kernels.h"

#include "DenseLibrary.h"
#include "KernelsInternal.h"
#include "SparseTaps-inl.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#ifndef SPARSENN_KERNELS_LINEAR_ONCE
#define SPARSENN_KERNELS_LINEAR_ONCE

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

namespace {
/// Output rows per work item (shape-only splits, see the file header).
constexpr int64_t kDenseRows = 64;
constexpr int64_t kEllRows = 128;
constexpr int64_t kBlockRows = 64;
/// Dense k block: a 2 x 4 tile's rows (6 x 4 KiB) stay in L1.
constexpr int64_t kDenseK = 1024;
/// ELL: from this batch on, x is transposed (broadcast weights, no gathers).
constexpr int64_t kEllTransposeBatch = 4;
/// Widest vector of any target (SVE 2048 bits), for stack buffers.
constexpr int64_t kMaxLanes = 64;
} // namespace

#endif // SPARSENN_KERNELS_LINEAR_ONCE

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D, class V> HWY_INLINE float reduceSum(D d, V v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

//===----------------------------------------------------------------------===//
// Dense (builtin).
//===----------------------------------------------------------------------===//

/// MB x NB dot products over `len` of x rows (stride ldx) and W rows (stride
/// ldw); y[m*ldy + n] = sum (+ bias[n]) when init, else += sum. Named
/// accumulators: SVE vectors cannot form arrays.
template <int MB, int NB>
HWY_INLINE void denseTile(const float *HWY_RESTRICT x, int64_t ldx,
                          const float *HWY_RESTRICT w, int64_t ldw, int64_t len,
                          float *y, int64_t ldy, bool init, const float *bias) {
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  auto a00 = hn::Zero(d), a01 = a00, a02 = a00, a03 = a00;
  auto a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  int64_t i = 0;
  for (; i + n <= len; i += n) {
    const auto x0 = hn::LoadU(d, x + i);
    const auto x1 = MB > 1 ? hn::LoadU(d, x + ldx + i) : x0;
    const auto w0 = hn::LoadU(d, w + i);
    a00 = hn::MulAdd(x0, w0, a00);
    if (MB > 1)
      a10 = hn::MulAdd(x1, w0, a10);
    if (NB > 1) {
      const auto w1 = hn::LoadU(d, w + ldw + i);
      a01 = hn::MulAdd(x0, w1, a01);
      if (MB > 1)
        a11 = hn::MulAdd(x1, w1, a11);
    }
    if (NB > 2) {
      const auto w2 = hn::LoadU(d, w + 2 * ldw + i);
      a02 = hn::MulAdd(x0, w2, a02);
      if (MB > 1)
        a12 = hn::MulAdd(x1, w2, a12);
    }
    if (NB > 3) {
      const auto w3 = hn::LoadU(d, w + 3 * ldw + i);
      a03 = hn::MulAdd(x0, w3, a03);
      if (MB > 1)
        a13 = hn::MulAdd(x1, w3, a13);
    }
  }
  float s[2][4] = {{reduceSum(d, a00), reduceSum(d, a01), reduceSum(d, a02),
                    reduceSum(d, a03)},
                   {reduceSum(d, a10), reduceSum(d, a11), reduceSum(d, a12),
                    reduceSum(d, a13)}};
  for (int m = 0; m < MB; ++m)
    for (int c = 0; c < NB; ++c) {
      float t = s[m][c];
      for (int64_t j = i; j < len; ++j) // tail: scalar, no masked loads
        t += x[m * ldx + j] * w[c * ldw + j];
      float *dst = y + m * ldy + c;
      *dst = init ? t + (bias ? bias[c] : 0.0f) : *dst + t;
    }
}

template <int MB>
HWY_INLINE void denseTiles(const float *x, int64_t ldx, const float *w,
                           int64_t ldw, int64_t len, float *y, int64_t ldy,
                           bool init, const float *bias, int64_t o0,
                           int64_t o1) {
  for (int64_t o = o0; o < o1; o += 4) {
    const float *wo = w + o * ldw, *bo = bias ? bias + o : nullptr;
    switch (std::min<int64_t>(4, o1 - o)) {
    case 1:
      denseTile<MB, 1>(x, ldx, wo, ldw, len, y + o, ldy, init, bo);
      break;
    case 2:
      denseTile<MB, 2>(x, ldx, wo, ldw, len, y + o, ldy, init, bo);
      break;
    case 3:
      denseTile<MB, 3>(x, ldx, wo, ldw, len, y + o, ldy, init, bo);
      break;
    default:
      denseTile<MB, 4>(x, ldx, wo, ldw, len, y + o, ldy, init, bo);
      break;
    }
  }
}

/// Output rows [o0, o1) of every sample.
void denseRows(const float *x, int64_t batch, int64_t in, const float *w,
               int64_t out, const float *bias, float *y, int64_t o0,
               int64_t o1) {
  for (int64_t k0 = 0; k0 == 0 || k0 < in; k0 += kDenseK) {
    const int64_t len = std::min(kDenseK, in - k0);
    for (int64_t b = 0; b < batch; b += 2) {
      const float *xb = x + b * in + k0;
      if (batch - b >= 2)
        denseTiles<2>(xb, in, w + k0, in, len, y + b * out, out, k0 == 0, bias,
                      o0, o1);
      else
        denseTiles<1>(xb, in, w + k0, in, len, y + b * out, out, k0 == 0, bias,
                      o0, o1);
    }
  }
}

//===----------------------------------------------------------------------===//
// ELL.
//===----------------------------------------------------------------------===//

/// Rows [o0, o1) against one sample: 4 vectors of gathered x per step (x
/// stays in L1; a scalar-index loop measured 1.3-1.6x slower on AVX2 and
/// AVX-512).
void ellRowsGather(const float *HWY_RESTRICT x, const float *values,
                   const uint16_t *cols, int64_t k, const float *bias, float *y,
                   int64_t o0, int64_t o1) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::Rebind<uint16_t, decltype(di)> du;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t o = o0; o < o1; ++o) {
    const float *v = values + o * k;
    const uint16_t *c = cols + o * k;
    auto a0 = hn::Zero(d), a1 = a0, a2 = a0, a3 = a0;
    int64_t j = 0;
    for (; j + 4 * n <= k; j += 4 * n) {
      const auto i0 = hn::PromoteTo(di, hn::LoadU(du, c + j));
      const auto i1 = hn::PromoteTo(di, hn::LoadU(du, c + j + n));
      const auto i2 = hn::PromoteTo(di, hn::LoadU(du, c + j + 2 * n));
      const auto i3 = hn::PromoteTo(di, hn::LoadU(du, c + j + 3 * n));
      a0 = hn::MulAdd(hn::LoadU(d, v + j), hn::GatherIndex(d, x, i0), a0);
      a1 = hn::MulAdd(hn::LoadU(d, v + j + n), hn::GatherIndex(d, x, i1), a1);
      a2 = hn::MulAdd(hn::LoadU(d, v + j + 2 * n), hn::GatherIndex(d, x, i2),
                      a2);
      a3 = hn::MulAdd(hn::LoadU(d, v + j + 3 * n), hn::GatherIndex(d, x, i3),
                      a3);
    }
    for (; j + n <= k; j += n) {
      const auto i0 = hn::PromoteTo(di, hn::LoadU(du, c + j));
      a0 = hn::MulAdd(hn::LoadU(d, v + j), hn::GatherIndex(d, x, i0), a0);
    }
    float s = reduceSum(d, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)));
    for (; j < k; ++j)
      s += v[j] * x[c[j]];
    y[o] = s + (bias ? bias[o] : 0.0f);
  }
}

/// Rows [o0, o1) against a transposed tile xT [in][V vectors] of nb <= V
/// vectors' worth of samples; y[t * ldy + o] for t < nb.
template <int V>
HWY_INLINE void
ellTransposedTile(const float *HWY_RESTRICT xT, const float *values,
                  const uint16_t *cols, int64_t k, const float *bias, float *y,
                  int64_t ldy, int64_t nb, int64_t o0, int64_t o1) {
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d)), ld = V * n;
  HWY_ALIGN float tmp[4 * kMaxLanes];
  for (int64_t o = o0; o < o1; ++o) {
    const float *v = values + o * k;
    const uint16_t *c = cols + o * k;
    auto a0 = hn::Zero(d), a1 = a0, a2 = a0, a3 = a0;
    accumulateTaps<V, /*Aligned=*/true>(
        d, v, 0, k, [xT, c, ld](int64_t j) { return xT + c[j] * ld; }, a0, a1,
        a2, a3);
    const auto bv = hn::Set(d, bias ? bias[o] : 0.0f);
    hn::Store(hn::Add(a0, bv), d, tmp);
    if (V > 1)
      hn::Store(hn::Add(a1, bv), d, tmp + n);
    if (V > 2)
      hn::Store(hn::Add(a2, bv), d, tmp + 2 * n);
    if (V > 3)
      hn::Store(hn::Add(a3, bv), d, tmp + 3 * n);
    for (int64_t t = 0; t < nb; ++t)
      y[t * ldy + o] = tmp[t];
  }
}

void ellRowsTransposed(const float *xT, int64_t vectors, const float *values,
                       const uint16_t *cols, int64_t k, const float *bias,
                       float *y, int64_t ldy, int64_t nb, int64_t o0,
                       int64_t o1) {
  switch (vectors) {
  case 1:
    ellTransposedTile<1>(xT, values, cols, k, bias, y, ldy, nb, o0, o1);
    break;
  case 2:
    ellTransposedTile<2>(xT, values, cols, k, bias, y, ldy, nb, o0, o1);
    break;
  case 3:
    ellTransposedTile<3>(xT, values, cols, k, bias, y, ldy, nb, o0, o1);
    break;
  default:
    ellTransposedTile<4>(xT, values, cols, k, bias, y, ldy, nb, o0, o1);
    break;
  }
}

int64_t vectorLanes() {
  return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

//===----------------------------------------------------------------------===//
// Block-16.
//===----------------------------------------------------------------------===//

/// Rows [o0, o1) against MB samples (x rows of `in`): one weight vector load
/// feeds MB FMAs. A block is 16 / Lanes vectors (Lanes <= 16 here).
template <int MB>
HWY_INLINE void block16Tile(const float *x, int64_t in, const int32_t *rowPtr,
                            const int32_t *blockCols, const float *values,
                            const float *bias, float *y, int64_t ldy,
                            int64_t o0, int64_t o1) {
  const hn::CappedTag<float, 16> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  // Blocks reaching past `in` read x from a zero-padded copy (x may end
  // there; its bytes past `in` are not ours to read).
  const int64_t lastFull = in - 16;
  HWY_ALIGN float pad[MB][16];
  for (int64_t o = o0; o < o1; ++o) {
    auto a0 = hn::Zero(d), a1 = a0, a2 = a0, a3 = a0;
    auto a4 = a0, a5 = a0, a6 = a0, a7 = a0, e0 = a0;
    int64_t p = rowPtr[o];
    const int64_t pEnd = rowPtr[o + 1];
    if (MB == 1) {
      // One sample: two chains hide the FMA latency.
      for (; p + 2 <= pEnd; p += 2) {
        const int64_t c0 = blockCols[p], c1 = blockCols[p + 1];
        if (c0 > lastFull || c1 > lastFull)
          break;
        const float *w0 = values + p * 16, *w1 = w0 + 16;
        for (int64_t q = 0; q < 16; q += n) {
          a0 = hn::MulAdd(hn::LoadU(d, w0 + q), hn::LoadU(d, x + c0 + q), a0);
          e0 = hn::MulAdd(hn::LoadU(d, w1 + q), hn::LoadU(d, x + c1 + q), e0);
        }
      }
    }
    for (; p < pEnd; ++p) {
      const int64_t col = blockCols[p];
      const float *xs = x + col;
      int64_t ld = in;
      if (col > lastFull) {
        const int64_t len = in - col;
        for (int m = 0; m < MB; ++m) {
          std::memcpy(pad[m], x + m * in + col, sizeof(float) * len);
          std::memset(pad[m] + len, 0, sizeof(float) * (16 - len));
        }
        xs = pad[0];
        ld = 16;
      }
      const float *w = values + p * 16;
      for (int64_t q = 0; q < 16; q += n) {
        const auto wv = hn::LoadU(d, w + q);
        a0 = hn::MulAdd(wv, hn::LoadU(d, xs + q), a0);
        if (MB > 1)
          a1 = hn::MulAdd(wv, hn::LoadU(d, xs + ld + q), a1);
        if (MB > 2) {
          a2 = hn::MulAdd(wv, hn::LoadU(d, xs + 2 * ld + q), a2);
          a3 = hn::MulAdd(wv, hn::LoadU(d, xs + 3 * ld + q), a3);
        }
        if (MB > 4) {
          a4 = hn::MulAdd(wv, hn::LoadU(d, xs + 4 * ld + q), a4);
          a5 = hn::MulAdd(wv, hn::LoadU(d, xs + 5 * ld + q), a5);
          a6 = hn::MulAdd(wv, hn::LoadU(d, xs + 6 * ld + q), a6);
          a7 = hn::MulAdd(wv, hn::LoadU(d, xs + 7 * ld + q), a7);
        }
      }
    }
    const float bo = bias ? bias[o] : 0.0f;
    y[o] = reduceSum(d, hn::Add(a0, e0)) + bo;
    if (MB > 1)
      y[ldy + o] = reduceSum(d, a1) + bo;
    if (MB > 2) {
      y[2 * ldy + o] = reduceSum(d, a2) + bo;
      y[3 * ldy + o] = reduceSum(d, a3) + bo;
    }
    if (MB > 4) {
      y[4 * ldy + o] = reduceSum(d, a4) + bo;
      y[5 * ldy + o] = reduceSum(d, a5) + bo;
      y[6 * ldy + o] = reduceSum(d, a6) + bo;
      y[7 * ldy + o] = reduceSum(d, a7) + bo;
    }
  }
}

/// Rows [o0, o1) of every sample, 8 samples at a time (then 4, 2, 1).
void block16Range(const float *x, int64_t batch, int64_t in,
                  const int32_t *rowPtr, const int32_t *blockCols,
                  const float *values, const float *bias, float *y, int64_t ldy,
                  int64_t o0, int64_t o1) {
  for (int64_t b = 0; b < batch;) {
    const int64_t left = batch - b;
    const float *xb = x + b * in;
    float *yb = y + b * ldy;
    if (left >= 8) {
      block16Tile<8>(xb, in, rowPtr, blockCols, values, bias, yb, ldy, o0, o1);
      b += 8;
    } else if (left >= 4) {
      block16Tile<4>(xb, in, rowPtr, blockCols, values, bias, yb, ldy, o0, o1);
      b += 4;
    } else if (left >= 2) {
      block16Tile<2>(xb, in, rowPtr, blockCols, values, bias, yb, ldy, o0, o1);
      b += 2;
    } else {
      block16Tile<1>(xb, in, rowPtr, blockCols, values, bias, yb, ldy, o0, o1);
      b += 1;
    }
  }
}

//===----------------------------------------------------------------------===//
// Sparse-sparse.
//===----------------------------------------------------------------------===//

/// Indices of the non-zero x[i] (NaN included, as in the reference), in
/// increasing order; returns their count.
int64_t activeInputs(const float *x, int64_t in, int32_t *active) {
  const hn::CappedTag<float, 16> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const auto zero = hn::Zero(d);
  int64_t count = 0, i = 0;
  for (; i + n <= in; i += n) {
    uint8_t bytes[8] = {0};
    hn::StoreMaskBits(d, hn::Ne(hn::LoadU(d, x + i), zero), bytes);
    uint32_t bits = bytes[0] | static_cast<uint32_t>(bytes[1]) << 8;
    while (bits) {
      active[count++] = static_cast<int32_t>(i + __builtin_ctz(bits));
      bits &= bits - 1;
    }
  }
  for (; i < in; ++i)
    if (x[i] != 0.0f)
      active[count++] = static_cast<int32_t>(i);
  return count;
}

/// Gathers, updates and scatters a whole vector of y where the target does
/// so natively; elsewhere Highway emulates them lane by lane.
constexpr bool kNativeScatter =
    HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL ||
    HWY_TARGET == HWY_SVE || HWY_TARGET == HWY_SVE2 ||
    HWY_TARGET == HWY_SVE_256 || HWY_TARGET == HWY_SVE2_128;

/// First entry of the sorted rows [first, last) that is >= r: from where a
/// uniform spread would put it (a few steps; no mispredicted bisection).
inline const int32_t *rowBound(const int32_t *first, const int32_t *last,
                               int64_t r, int64_t out) {
  const int32_t *p = first + (last - first) * r / out;
  while (p > first && p[-1] >= r)
    --p;
  while (p < last && *p < r)
    ++p;
  return p;
}

/// y rows [r0, r1) (y already holds the bias) += the active columns. Every
/// entry takes one fused multiply-add, vector or not, so a row's result does
/// not depend on where the rows were split.
void sparseSparseRange(const float *x, const int32_t *active, int64_t nActive,
                       const int32_t *colPtr, const int32_t *rowIdx,
                       const float *values, int64_t out, float *HWY_RESTRICT y,
                       int64_t r0, int64_t r1) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::CappedTag<float, 1> d1;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const bool whole = r0 == 0 && r1 == out;
  for (int64_t a = 0; a < nActive; ++a) {
    const int64_t i = active[a];
    const float xv = x[i];
    const int32_t *first = rowIdx + colPtr[i], *last = rowIdx + colPtr[i + 1];
    if (!whole) {
      first = rowBound(first, last, r0, out);
      last = rowBound(first, last, r1, out);
    }
    int64_t p = first - rowIdx;
    const int64_t pEnd = last - rowIdx;
    if (kNativeScatter) {
      // A column's rows are distinct: no conflicts within a vector.
      const auto xs = hn::Set(d, xv);
      for (; p + n <= pEnd; p += n) {
        const auto r = hn::LoadU(di, rowIdx + p);
        const auto yv =
            hn::MulAdd(xs, hn::LoadU(d, values + p), hn::GatherIndex(d, y, r));
        hn::ScatterIndex(yv, d, y, r);
      }
    }
    const auto x1 = hn::Set(d1, xv);
    for (; p < pEnd; ++p) {
      float *yr = y + rowIdx[p];
      hn::StoreU(hn::MulAdd(x1, hn::LoadU(d1, values + p), hn::LoadU(d1, yr)),
                 d1, yr);
    }
  }
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(denseRows);
HWY_EXPORT(ellRowsGather);
HWY_EXPORT(ellRowsTransposed);
HWY_EXPORT(vectorLanes);
HWY_EXPORT(block16Range);
HWY_EXPORT(activeInputs);
HWY_EXPORT(sparseSparseRange);

void denseLinearSimd(const float *x, int64_t batch, int64_t in, const float *w,
                     int64_t out, const float *bias, float *y) {
  threads::parallelFor(threads::chunks(out, kDenseRows), [&](int64_t item) {
    const int64_t o0 = item * kDenseRows;
    HWY_DYNAMIC_DISPATCH(denseRows)
    (x, batch, in, w, out, bias, y, o0, std::min(out, o0 + kDenseRows));
  });
}

void block16Rows(const float *x, int64_t batch, int64_t in,
                 const int32_t *rowPtr, const int32_t *blockCols,
                 const float *values, int64_t rows, const float *bias, float *y,
                 int64_t ldy) {
  if (portableForced()) {
    block16RowsPortable(x, batch, in, rowPtr, blockCols, values, rows, bias, y,
                        ldy);
    return;
  }
  threads::parallelFor(threads::chunks(rows, kBlockRows), [&](int64_t item) {
    const int64_t o0 = item * kBlockRows;
    HWY_DYNAMIC_DISPATCH(block16Range)
    (x, batch, in, rowPtr, blockCols, values, bias, y, ldy, o0,
     std::min(rows, o0 + kBlockRows));
  });
}

namespace {

int ellLinearSimd(const float *x, int64_t batch, int64_t in,
                  const float *values, const uint16_t *cols, int64_t out,
                  int64_t k, const float *bias, float *y) {
  const int64_t rowItems = threads::chunks(out, kEllRows);
  if (batch < kEllTransposeBatch) {
    threads::parallelFor(batch * rowItems, [&](int64_t item) {
      const int64_t b = item / rowItems, o0 = item % rowItems * kEllRows;
      HWY_DYNAMIC_DISPATCH(ellRowsGather)
      (x + b * in, values, cols, k, bias, y + b * out, o0,
       std::min(out, o0 + kEllRows));
    });
    return SPARSENN_OK;
  }
  // Tiles of up to 4 vectors of samples, transposed so that one column of x
  // is a contiguous row of the tile; the last tile is padded with zeros.
  const int64_t lanes = HWY_DYNAMIC_DISPATCH(vectorLanes)();
  const int64_t tileSamples = 4 * lanes;
  const int64_t tiles = threads::chunks(batch, tileSamples);
  Scratch buf(sizeof(float) * tiles * in * tileSamples);
  if (buf.failed)
    return SPARSENN_ERR_NOMEM;
  float *xT = buf.as<float>();
  auto tileShape = [&](int64_t t, int64_t &nb, int64_t &ld) {
    nb = std::min(tileSamples, batch - t * tileSamples);
    ld = (nb + lanes - 1) / lanes * lanes;
  };
  constexpr int64_t kTransposeRows = 256;
  const int64_t inItems = threads::chunks(in, kTransposeRows);
  threads::parallelFor(tiles * inItems, [&](int64_t item) {
    const int64_t t = item / inItems, i0 = item % inItems * kTransposeRows;
    const int64_t i1 = std::min(in, i0 + kTransposeRows);
    int64_t nb, ld;
    tileShape(t, nb, ld);
    float *tile = xT + t * in * tileSamples;
    const float *xt = x + t * tileSamples * in;
    for (int64_t i = i0; i < i1; ++i) {
      float *row = tile + i * ld;
      for (int64_t s = 0; s < nb; ++s)
        row[s] = xt[s * in + i];
      for (int64_t s = nb; s < ld; ++s)
        row[s] = 0.0f;
    }
  });
  threads::parallelFor(tiles * rowItems, [&](int64_t item) {
    const int64_t t = item / rowItems, o0 = item % rowItems * kEllRows;
    int64_t nb, ld;
    tileShape(t, nb, ld);
    HWY_DYNAMIC_DISPATCH(ellRowsTransposed)
    (xT + t * in * tileSamples, ld / lanes, values, cols, k, bias,
     y + t * tileSamples * out, out, nb, o0, std::min(out, o0 + kEllRows));
  });
  return SPARSENN_OK;
}

int sparseSparseSimd(const float *x, int64_t batch, int64_t in,
                     const int32_t *colPtr, const int32_t *rowIdx,
                     const float *values, int64_t out, const float *bias,
                     float *y) {
  Scratch buf(sizeof(int32_t) * batch * in + sizeof(int64_t) * batch);
  if (buf.failed)
    return SPARSENN_ERR_NOMEM;
  // The 8-byte counts first: the scratch is aligned for them, then the
  // 4-byte lists.
  int64_t *counts = buf.as<int64_t>();
  int32_t *active = reinterpret_cast<int32_t *>(counts + batch);
  threads::parallelFor(batch, [&](int64_t b) {
    counts[b] =
        HWY_DYNAMIC_DISPATCH(activeInputs)(x + b * in, in, active + b * in);
  });
  // Samples are the work items; with fewer samples than threads, each
  // sample's rows are split too (any split: rows are independent).
  // Not for less than about 0.1 ms of work: waking the other threads costs
  // more (measured at 4096 x 4096, 10 % x 10 %: 2 threads 2-3x slower).
  constexpr int64_t kMinSplitEntries = 262144;
  const int64_t threadCount = threads::count();
  int64_t entries = 0;
  if (batch < threadCount)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t a = 0; a < counts[b]; ++a) {
        const int32_t i = active[b * in + a];
        entries += colPtr[i + 1] - colPtr[i];
      }
  const int64_t rowItems = batch < threadCount && entries >= kMinSplitEntries
                               ? (threadCount + batch - 1) / batch
                               : 1;
  const int64_t rowsPerItem = (out + rowItems - 1) / rowItems;
  threads::parallelFor(batch * rowItems, [&](int64_t item) {
    const int64_t b = item / rowItems;
    const int64_t r0 = std::min(out, item % rowItems * rowsPerItem);
    const int64_t r1 = std::min(out, r0 + rowsPerItem);
    float *yb = y + b * out;
    if (bias)
      std::memcpy(yb + r0, bias + r0, sizeof(float) * (r1 - r0));
    else
      std::memset(yb + r0, 0, sizeof(float) * (r1 - r0));
    HWY_DYNAMIC_DISPATCH(sparseSparseRange)
    (x + b * in, active + b * in, counts[b], colPtr, rowIdx, values, out, yb,
     r0, r1);
  });
  return SPARSENN_OK;
}

} // namespace
} // namespace kernels
} // namespace sparsenn

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
    return SPARSENN_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_OK;
  if (!portableForced()) {
    if (in == 0 || !sparsenn::dense::linear(x, batch, in, w, out, bias, y))
      denseLinearSimd(x, batch, in, w, out, bias, y);
    return SPARSENN_OK;
  }
  denseLinearPortable(x, batch, in, w, out, bias, y);
  return SPARSENN_OK;
}

extern "C" int sparsenn_pack_ell_f32(const float *w, int64_t out, int64_t in,
                                     int64_t fanIn, float *values,
                                     uint16_t *cols, int64_t *k) {
  if (!k || out < 0 || in < 0 || fanIn < 0 || (!w && out * in > 0))
    return SPARSENN_ERR_ARGUMENT;
  if (in > 65536)
    return SPARSENN_ERR_RANGE;
  int64_t maxNnz = 0;
  for (int64_t o = 0; o < out; ++o) {
    int64_t n = 0;
    for (int64_t i = 0; i < in; ++i)
      n += w[o * in + i] != 0.0f;
    maxNnz = n > maxNnz ? n : maxNnz;
  }
  if (fanIn > 0 && maxNnz > fanIn)
    return SPARSENN_ERR_FORMAT;
  int64_t kk = fanIn > 0 ? fanIn : (maxNnz > 0 ? maxNnz : 1);
  *k = kk;
  if (!values || !cols)
    return SPARSENN_OK;
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
  return SPARSENN_OK;
}

extern "C" int sparsenn_linear_ell_f32(const float *x, int64_t batch,
                                       int64_t in, const float *values,
                                       const uint16_t *cols, int64_t out,
                                       int64_t k, const float *bias, float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || k < 0 ||
      ((!values || !cols) && out * k > 0) || (in == 0 && k > 0) || in > 65536)
    return SPARSENN_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_OK;
  if (!portableForced())
    return ellLinearSimd(x, batch, in, values, cols, out, k, bias, y);
  ellLinearPortable(x, batch, in, values, cols, out, k, bias, y);
  return SPARSENN_OK;
}

extern "C" int sparsenn_pack_block16_f32(const float *w, int64_t out,
                                         int64_t in, int32_t *rowPtr,
                                         int32_t *blockCols, float *values,
                                         int64_t *nblocks) {
  if (!nblocks || out < 0 || in < 0 || (!w && out * in > 0))
    return SPARSENN_ERR_ARGUMENT;
  if (in > INT32_MAX)
    return SPARSENN_ERR_RANGE;
  bool fill = blockCols && values;
  int64_t p = 0;
  for (int64_t o = 0; o < out; ++o) {
    if (rowPtr) {
      if (p > INT32_MAX)
        return SPARSENN_ERR_RANGE;
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
      return SPARSENN_ERR_RANGE;
    rowPtr[out] = static_cast<int32_t>(p);
  }
  *nblocks = p;
  return SPARSENN_OK;
}

extern "C" int sparsenn_linear_block16_f32(const float *x, int64_t batch,
                                           int64_t in, const int32_t *rowPtr,
                                           const int32_t *blockCols,
                                           const float *values, int64_t out,
                                           const float *bias, float *y) {
  if (!linearArgsOk(x, batch, in, out, y) || (!rowPtr && out > 0))
    return SPARSENN_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_OK;
  if (rowPtr[out] > 0 && (!blockCols || !values))
    return SPARSENN_ERR_ARGUMENT;
  block16Rows(x, batch, in, rowPtr, blockCols, values, out, bias, y, out);
  return SPARSENN_OK;
}

extern "C" int sparsenn_pack_csc_f32(const float *w, int64_t out, int64_t in,
                                     int32_t *colPtr, int32_t *rowIdx,
                                     float *values, int64_t *nnz) {
  if (!nnz || out < 0 || in < 0 || (!w && out * in > 0))
    return SPARSENN_ERR_ARGUMENT;
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
    return SPARSENN_ERR_ARGUMENT;
  if (in > 0 && colPtr[in] > 0 && (!rowIdx || !values))
    return SPARSENN_ERR_ARGUMENT;
  if (batch == 0 || out == 0)
    return SPARSENN_OK;
  if (!portableForced())
    return sparseSparseSimd(x, batch, in, colPtr, rowIdx, values, out, bias, y);
  sparseSparsePortable(x, batch, in, colPtr, rowIdx, values, out, bias, y);
  return SPARSENN_OK;
}

#endif // HWY_ONCE
