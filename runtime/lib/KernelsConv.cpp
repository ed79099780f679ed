//===- KernelsConv.cpp - dense and sparse direct conv2d -------------------===//
//
// NCHW conv2d with PyTorch semantics (strides, padding [top, bottom, left,
// right], dilations, groups). Both kernels share one direct-convolution
// engine that walks a list of taps (c, kh, kw, value) per output channel and
// adds value * (shifted input plane) to the output plane, one row at a time.
// The dense kernel lists every tap; the sparse one only the non-zero taps
// packed at compile time, so zero weights cost nothing (seed 000 [0035],
// [0044]: sparse weights exist to skip work). With AVX-512 and stride_w 1
// both kernels instead run an output-stationary engine (convFast) that keeps
// a block of the output plane in registers across all taps of a channel; the
// tap engine remains the portable path and the fallback for other strides.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include "DenseLibrary.h"
#include "KernelsInternal.h"

#include <algorithm>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

using namespace sparsenn::kernels;

namespace {

using ConvShape = Conv2DParams;

struct Tap {
  int64_t c, r, s;
  float v;
};

// y[j] += v * x[j * stride], j < len.
void axpyPortable(float *y, const float *x, int64_t len, int64_t stride,
                  float v) {
  for (int64_t j = 0; j < len; ++j)
    y[j] += v * x[j * stride];
}

#if SPARSENN_KERNELS_X86
SPARSENN_AVX512_TARGET void axpyAvx512(float *y, const float *x, int64_t len,
                                       int64_t stride, float v) {
  const __m512 vv = _mm512_set1_ps(v);
  if (stride == 1) {
    int64_t j = 0;
    for (; j + 16 <= len; j += 16)
      _mm512_storeu_ps(y + j, _mm512_fmadd_ps(vv, _mm512_loadu_ps(x + j),
                                              _mm512_loadu_ps(y + j)));
    if (j < len) {
      __mmask16 m = static_cast<__mmask16>((1u << (len - j)) - 1u);
      _mm512_mask_storeu_ps(y + j, m,
                            _mm512_fmadd_ps(vv, _mm512_maskz_loadu_ps(m, x + j),
                                            _mm512_maskz_loadu_ps(m, y + j)));
    }
    return;
  }
  if (stride * 16 > 0x7FFFFFF) {
    axpyPortable(y, x, len, stride, v);
    return;
  }
  const __m512i idx = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int>(stride)));
  for (int64_t j = 0; j < len; j += 16) {
    int64_t left = len - j;
    __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xFFFF)
                             : static_cast<__mmask16>((1u << left) - 1u);
    __m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx,
                                         x + j * stride, 4);
    _mm512_mask_storeu_ps(
        y + j, m, _mm512_fmadd_ps(vv, xv, _mm512_maskz_loadu_ps(m, y + j)));
  }
}
#endif

// Adds one tap's contribution to the output plane yp [oh, ow] from the input
// plane xp [h, w].
template <typename Axpy>
void applyTap(const ConvShape &s, const Tap &t, const float *xp, float *yp,
              Axpy axpy) {
  // Output rows/cols whose input position is inside the image.
  auto range = [](int64_t offset, int64_t stride, int64_t size, int64_t out,
                  int64_t &lo, int64_t &hi) {
    // in = o * stride + offset must lie in [0, size).
    lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    hi = std::min(hi, out);
    if (lo > hi)
      lo = hi;
  };
  int64_t rowOff = t.r * s.dh - s.pt, colOff = t.s * s.dw - s.pl;
  int64_t r0, r1, c0, c1;
  range(rowOff, s.sh, s.h, s.oh, r0, r1);
  range(colOff, s.sw, s.w, s.ow, c0, c1);
  if (c0 >= c1)
    return;
  for (int64_t o = r0; o < r1; ++o) {
    const float *xr = xp + (o * s.sh + rowOff) * s.w + colOff + c0 * s.sw;
    axpy(yp + o * s.ow + c0, xr, c1 - c0, s.sw, t.v);
  }
}

// Direct convolution over tap lists; tapsOf(o, taps) fills the taps of
// output channel o and returns their count.
template <typename TapsOf>
int convEngine(const ConvShape &s, const float *x, const float *bias, float *y,
               int64_t maxTaps, TapsOf tapsOf) {
  Scratch buf(sizeof(Tap) * (maxTaps ? maxTaps : 1));
  if (buf.failed)
    return SPARSENN_K_ERR_NOMEM;
  Tap *taps = buf.as<Tap>();
  const int64_t cpgIn = s.cIn / s.groups, cpgOut = s.cOut / s.groups;
  const int64_t plane = s.oh * s.ow, inPlane = s.h * s.w;
  bool avx = false;
#if SPARSENN_KERNELS_X86
  avx = useAvx512();
#endif
  for (int64_t o = 0; o < s.cOut; ++o) {
    int64_t nt = tapsOf(o, taps);
    int64_t g = o / cpgOut;
    for (int64_t b = 0; b < s.n; ++b) {
      float *yp = y + (b * s.cOut + o) * plane;
      float bv = bias ? bias[o] : 0.0f;
      for (int64_t j = 0; j < plane; ++j)
        yp[j] = bv;
      const float *xg = x + (b * s.cIn + g * cpgIn) * inPlane;
      for (int64_t t = 0; t < nt; ++t) {
        const float *xp = xg + taps[t].c * inPlane;
#if SPARSENN_KERNELS_X86
        if (avx) {
          applyTap(s, taps[t], xp, yp, axpyAvx512);
          continue;
        }
#endif
        applyTap(s, taps[t], xp, yp, axpyPortable);
      }
    }
  }
  (void)avx;
  return SPARSENN_K_OK;
}

#if SPARSENN_KERNELS_X86
// Output-stationary fast path (AVX-512, stride_w == 1): a block of R output
// rows x S 16-wide column segments of one output plane stays in registers
// while all taps of its channel are accumulated, in tap order (so each
// output sums the same products in the same order as the tap engine).
struct TapOff {
  int64_t off; // c * inPlane + r * dh * w + s * dw
  int64_t row; // r * dh
  int64_t col; // s * dw
};

template <int R, int S, bool Interior>
SPARSENN_AVX512_TARGET void
convBlock(const ConvShape &s, const float *xg, float *yp, const TapOff *tab,
          const int32_t *idx, const float *val, int64_t nt, float bv,
          int64_t r0, int64_t nrows, int64_t c0, int64_t ncols) {
  __m512 acc[R][S];
  __mmask16 wm[S];
  for (int k = 0; k < S; ++k) {
    int64_t left = ncols - 16 * k;
    wm[k] = left >= 16  ? static_cast<__mmask16>(0xFFFF)
            : left <= 0 ? static_cast<__mmask16>(0)
                        : static_cast<__mmask16>((1u << left) - 1u);
  }
  for (int i = 0; i < R; ++i)
    for (int k = 0; k < S; ++k)
      acc[i][k] = _mm512_set1_ps(bv);
  const int64_t rowStep = s.sh * s.w;
  const int64_t rowBase = r0 * s.sh - s.pt, colBase = c0 - s.pl;
  const int64_t base = rowBase * s.w + colBase;
  for (int64_t t = 0; t < nt; ++t) {
    const TapOff &e = tab[idx ? idx[t] : t];
    const __m512 v = _mm512_set1_ps(val[t]);
    if (Interior) {
      const float *p = xg + (e.off + base);
      for (int i = 0; i < R; ++i)
        for (int k = 0; k < S; ++k)
          acc[i][k] = _mm512_fmadd_ps(
              v, _mm512_maskz_loadu_ps(wm[k], p + i * rowStep + 16 * k),
              acc[i][k]);
    } else {
      const int64_t in0 = rowBase + e.row, cin0 = colBase + e.col;
      __mmask16 m[S];
      for (int k = 0; k < S; ++k) {
        int64_t st = cin0 + 16 * k;
        int64_t lo = st < 0 ? -st : 0;
        int64_t hi =
            std::min<int64_t>(std::min<int64_t>(ncols - 16 * k, 16), s.w - st);
        if (hi <= lo) {
          m[k] = 0;
        } else {
          uint32_t hiBits = hi >= 16 ? 0xFFFFu : (1u << hi) - 1u;
          uint32_t loBits = (1u << lo) - 1u;
          m[k] = static_cast<__mmask16>(hiBits & ~loBits);
        }
      }
      for (int i = 0; i < R; ++i) {
        int64_t ir = in0 + i * s.sh;
        if (i >= nrows || ir < 0 || ir >= s.h)
          continue;
        for (int k = 0; k < S; ++k) {
          if (!m[k])
            continue;
          int64_t o = e.off + base + i * rowStep + 16 * k;
          acc[i][k] = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m[k], xg + o),
                                      acc[i][k]);
        }
      }
    }
  }
  for (int i = 0; i < R; ++i) {
    if (i >= nrows)
      break;
    for (int k = 0; k < S; ++k)
      _mm512_mask_storeu_ps(yp + (r0 + i) * s.ow + c0 + 16 * k, wm[k],
                            acc[i][k]);
  }
}

template <int R, int S>
SPARSENN_AVX512_TARGET void
convPlane(const ConvShape &s, const float *xg, float *yp, const TapOff *tab,
          const int32_t *idx, const float *val, int64_t nt, float bv) {
  const int64_t spanH = (s.kh - 1) * s.dh, spanW = (s.kw - 1) * s.dw;
  for (int64_t r0 = 0; r0 < s.oh; r0 += R) {
    const int64_t nrows = std::min<int64_t>(R, s.oh - r0);
    const int64_t rowBase = r0 * s.sh - s.pt;
    const bool rowsIn =
        nrows == R && rowBase >= 0 && rowBase + (R - 1) * s.sh + spanH < s.h;
    for (int64_t c0 = 0; c0 < s.ow; c0 += 16 * S) {
      const int64_t ncols = std::min<int64_t>(16 * S, s.ow - c0);
      const int64_t colBase = c0 - s.pl;
      if (rowsIn && colBase >= 0 && colBase + ncols - 1 + spanW < s.w)
        convBlock<R, S, true>(s, xg, yp, tab, idx, val, nt, bv, r0, nrows, c0,
                              ncols);
      else
        convBlock<R, S, false>(s, xg, yp, tab, idx, val, nt, bv, r0, nrows, c0,
                               ncols);
    }
  }
}

// Same as convBlock<R, 1, ...> for planes at most 8 wide: one 256-bit
// accumulator per output row (half the lanes of a 512-bit one would idle).
template <int R, bool Interior>
SPARSENN_AVX512_TARGET void
convBlock8(const ConvShape &s, const float *xg, float *yp, const TapOff *tab,
           const int32_t *idx, const float *val, int64_t nt, float bv,
           int64_t r0, int64_t nrows, int64_t ncols) {
  __m256 acc[R];
  const __mmask8 wm = static_cast<__mmask8>((1u << ncols) - 1u);
  for (int i = 0; i < R; ++i)
    acc[i] = _mm256_set1_ps(bv);
  const int64_t rowStep = s.sh * s.w;
  const int64_t rowBase = r0 * s.sh - s.pt, colBase = -s.pl;
  const int64_t base = rowBase * s.w + colBase;
  for (int64_t t = 0; t < nt; ++t) {
    const TapOff &e = tab[idx ? idx[t] : t];
    const __m256 v = _mm256_set1_ps(val[t]);
    if (Interior) {
      const float *p = xg + (e.off + base);
      for (int i = 0; i < R; ++i)
        acc[i] = _mm256_fmadd_ps(v, _mm256_maskz_loadu_ps(wm, p + i * rowStep),
                                 acc[i]);
    } else {
      const int64_t in0 = rowBase + e.row, st = colBase + e.col;
      int64_t lo = st < 0 ? -st : 0;
      int64_t hi = std::min<int64_t>(ncols, s.w - st);
      if (hi <= lo)
        continue;
      const __mmask8 m =
          static_cast<__mmask8>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
      for (int i = 0; i < R; ++i) {
        int64_t ir = in0 + i * s.sh;
        if (i >= nrows || ir < 0 || ir >= s.h)
          continue;
        int64_t o = e.off + base + i * rowStep;
        acc[i] = _mm256_fmadd_ps(v, _mm256_maskz_loadu_ps(m, xg + o), acc[i]);
      }
    }
  }
  for (int i = 0; i < R && i < nrows; ++i)
    _mm256_mask_storeu_ps(yp + (r0 + i) * s.ow, wm, acc[i]);
}

template <int R>
SPARSENN_AVX512_TARGET void
convPlane8(const ConvShape &s, const float *xg, float *yp, const TapOff *tab,
           const int32_t *idx, const float *val, int64_t nt, float bv) {
  const int64_t spanH = (s.kh - 1) * s.dh, spanW = (s.kw - 1) * s.dw;
  const bool colsIn = -s.pl >= 0 && -s.pl + s.ow - 1 + spanW < s.w;
  for (int64_t r0 = 0; r0 < s.oh; r0 += R) {
    const int64_t nrows = std::min<int64_t>(R, s.oh - r0);
    const int64_t rowBase = r0 * s.sh - s.pt;
    if (colsIn && nrows == R && rowBase >= 0 &&
        rowBase + (R - 1) * s.sh + spanH < s.h)
      convBlock8<R, true>(s, xg, yp, tab, idx, val, nt, bv, r0, nrows, s.ow);
    else
      convBlock8<R, false>(s, xg, yp, tab, idx, val, nt, bv, r0, nrows, s.ow);
  }
}

// tapsOf(o, idx, val) sets o's tap list (idx NULL: taps 0..nt-1 in order)
// and returns its length.
template <typename TapsOf>
int convFast(const ConvShape &s, const float *x, const float *bias, float *y,
             TapsOf tapsOf) {
  const int64_t cpgIn = s.cIn / s.groups, cpgOut = s.cOut / s.groups;
  const int64_t per = cpgIn * s.kh * s.kw;
  Scratch buf(sizeof(TapOff) * static_cast<size_t>(per));
  if (buf.failed)
    return SPARSENN_K_ERR_NOMEM;
  TapOff *tab = buf.as<TapOff>();
  const int64_t plane = s.oh * s.ow, inPlane = s.h * s.w;
  int64_t j = 0;
  for (int64_t c = 0; c < cpgIn; ++c)
    for (int64_t r = 0; r < s.kh; ++r)
      for (int64_t q = 0; q < s.kw; ++q, ++j)
        tab[j] = {c * inPlane + r * s.dh * s.w + q * s.dw, r * s.dh, q * s.dw};
  for (int64_t o = 0; o < s.cOut; ++o) {
    const int32_t *idx = nullptr;
    const float *val = nullptr;
    int64_t nt = tapsOf(o, idx, val);
    int64_t g = o / cpgOut;
    float bv = bias ? bias[o] : 0.0f;
    for (int64_t b = 0; b < s.n; ++b) {
      float *yp = y + (b * s.cOut + o) * plane;
      const float *xg = x + (b * s.cIn + g * cpgIn) * inPlane;
      if (s.ow <= 8)
        convPlane8<8>(s, xg, yp, tab, idx, val, nt, bv);
      else if (s.ow <= 16)
        convPlane<8, 1>(s, xg, yp, tab, idx, val, nt, bv);
      else
        convPlane<6, 2>(s, xg, yp, tab, idx, val, nt, bv);
    }
  }
  return SPARSENN_K_OK;
}
#endif

bool makeShape(ConvShape &s, const float *x, const float *y, int64_t n,
               int64_t cIn, int64_t h, int64_t w, int64_t cOut, int64_t kh,
               int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
               int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups) {
  if (!x || !y || n < 0 || cIn <= 0 || h < 0 || w < 0 || cOut <= 0 || kh <= 0 ||
      kw <= 0 || groups <= 0 || cIn % groups || cOut % groups)
    return false;
  s = {n,
       cIn,
       h,
       w,
       cOut,
       kh,
       kw,
       sh,
       sw,
       pt,
       pb,
       pl,
       pr,
       dh,
       dw,
       groups,
       sparsenn_conv2d_output_size(h, kh, sh, pt, pb, dh),
       sparsenn_conv2d_output_size(w, kw, sw, pl, pr, dw)};
  return s.oh >= 0 && s.ow >= 0;
}

} // namespace

extern "C" int64_t sparsenn_conv2d_output_size(int64_t in, int64_t kernel,
                                               int64_t stride, int64_t padLo,
                                               int64_t padHi,
                                               int64_t dilation) {
  if (in < 0 || kernel <= 0 || stride <= 0 || dilation <= 0 || padLo < 0 ||
      padHi < 0)
    return -1;
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t padded = in + padLo + padHi;
  if (padded < span)
    return -1;
  return (padded - span) / stride + 1;
}

namespace {
int denseConvBuiltin(const ConvShape &s, const float *x, const float *weights,
                     const float *bias, float *y) {
  const int64_t kh = s.kh, kw = s.kw;
  const int64_t cpg = s.cIn / s.groups, per = cpg * kh * kw;
#if SPARSENN_KERNELS_X86
  if (s.sw == 1 && useAvx512())
    return convFast(s, x, bias, y,
                    [&](int64_t o, const int32_t *&idx, const float *&val) {
                      idx = nullptr;
                      val = weights + o * per;
                      return per;
                    });
#endif
  return convEngine(s, x, bias, y, per, [&](int64_t o, Tap *taps) {
    const float *wo = weights + o * per;
    int64_t t = 0;
    for (int64_t c = 0; c < cpg; ++c)
      for (int64_t r = 0; r < kh; ++r)
        for (int64_t q = 0; q < kw; ++q, ++t)
          taps[t] = {c, r, q, wo[t]};
    return per;
  });
}
} // namespace

int sparsenn::kernels::conv2dDense(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const float *weights, int64_t cOut, int64_t kh, int64_t kw,
    const float *bias, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups, float *y,
    bool constantWeights, const Epilogue &ep) {
  ConvShape s;
  if (!weights || !makeShape(s, x, y, n, cIn, h, wIn, cOut, kh, kw, sh, sw, pt,
                             pb, pl, pr, dh, dw, groups))
    return SPARSENN_K_ERR_ARGUMENT;
  if (!portableForced()) {
    if (sparsenn::dense::conv2d(s, x, weights, bias, y, constantWeights, ep))
      return SPARSENN_K_OK;
  }
  int status = denseConvBuiltin(s, x, weights, bias, y);
  if (status == SPARSENN_K_OK && ep.any())
    applyEpilogue(ep, y, s.n * s.cOut * s.oh * s.ow);
  return status;
}

extern "C" int sparsenn_conv2d_dense_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const float *weights, int64_t cOut, int64_t kh, int64_t kw,
    const float *bias, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups, float *y) {
  return conv2dDense(x, n, cIn, h, wIn, weights, cOut, kh, kw, bias, sh, sw,
                     pt, pb, pl, pr, dh, dw, groups, y,
                     /*constantWeights=*/false, Epilogue{});
}

extern "C" int sparsenn_conv2d_dense_const_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const float *weights, int64_t cOut, int64_t kh, int64_t kw,
    const float *bias, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups, float *y) {
  return conv2dDense(x, n, cIn, h, wIn, weights, cOut, kh, kw, bias, sh, sw,
                     pt, pb, pl, pr, dh, dw, groups, y,
                     /*constantWeights=*/true, Epilogue{});
}

extern "C" int sparsenn_pack_conv2d_taps_f32(const float *weights, int64_t cOut,
                                             int64_t cpg, int64_t kh,
                                             int64_t kw, int32_t *tapPtr,
                                             int32_t *tapIdx, float *tapVal,
                                             int64_t *ntaps) {
  if (!ntaps || cOut < 0 || cpg < 0 || kh < 0 || kw < 0 ||
      (!weights && cOut * cpg * kh * kw > 0))
    return SPARSENN_K_ERR_ARGUMENT;
  // Taps of a filter are the non-zeros of its row of [C_out, C_in/g·kH·kW].
  const int64_t per = cpg * kh * kw;
  return packCompressedRows(weights, cOut, per, /*rowStride=*/per,
                            /*colStride=*/1, tapPtr, tapIdx, tapVal, ntaps);
}

int sparsenn::kernels::conv2dSparse(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const int32_t *tapPtr, const int32_t *tapIdx, const float *tapVal,
    int64_t cOut, int64_t kh, int64_t kw, const float *bias, int64_t sh,
    int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
    int64_t dw, int64_t groups, float *y, bool constantTaps,
    const Epilogue &ep) {
  ConvShape s;
  if (!tapPtr || !makeShape(s, x, y, n, cIn, h, wIn, cOut, kh, kw, sh, sw, pt,
                            pb, pl, pr, dh, dw, groups))
    return SPARSENN_K_ERR_ARGUMENT;
  if (tapPtr[cOut] > 0 && (!tapIdx || !tapVal))
    return SPARSENN_K_ERR_ARGUMENT;
  const int64_t per = cIn / groups * kh * kw;
  int64_t maxTaps = 0;
  for (int64_t o = 0; o < cOut; ++o) {
    int64_t cnt = tapPtr[o + 1] - tapPtr[o];
    if (cnt < 0 || cnt > per)
      return SPARSENN_K_ERR_ARGUMENT;
    maxTaps = std::max(maxTaps, cnt);
  }
  if (!portableForced())
    return conv2dSparseSpmm(s, x, tapPtr, tapIdx, tapVal, bias, y,
                            constantTaps, ep);
  // The portable reference: the tap engine, then the epilogue.
  int status = convEngine(s, x, bias, y, maxTaps, [&](int64_t o, Tap *taps) {
    int64_t t = 0;
    for (int32_t p = tapPtr[o]; p < tapPtr[o + 1]; ++p, ++t) {
      int64_t idx = tapIdx[p];
      taps[t] = {idx / (kh * kw), idx / kw % kh, idx % kw, tapVal[p]};
    }
    return t;
  });
  if (status == SPARSENN_K_OK && ep.any())
    applyEpilogue(ep, y, s.n * s.cOut * s.oh * s.ow);
  return status;
}

extern "C" int sparsenn_conv2d_sparse_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const int32_t *tapPtr, const int32_t *tapIdx, const float *tapVal,
    int64_t cOut, int64_t kh, int64_t kw, const float *bias, int64_t sh,
    int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
    int64_t dw, int64_t groups, float *y) {
  return conv2dSparse(x, n, cIn, h, wIn, tapPtr, tapIdx, tapVal, cOut, kh, kw,
                      bias, sh, sw, pt, pb, pl, pr, dh, dw, groups, y,
                      /*constantTaps=*/false, Epilogue{});
}

extern "C" int sparsenn_conv2d_sparse_const_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const int32_t *tapPtr, const int32_t *tapIdx, const float *tapVal,
    int64_t cOut, int64_t kh, int64_t kw, const float *bias, int64_t sh,
    int64_t sw, int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
    int64_t dw, int64_t groups, float *y) {
  return conv2dSparse(x, n, cIn, h, wIn, tapPtr, tapIdx, tapVal, cOut, kh, kw,
                      bias, sh, sw, pt, pb, pl, pr, dh, dw, groups, y,
                      /*constantTaps=*/true, Epilogue{});
}
