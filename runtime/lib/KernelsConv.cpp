//===- KernelsConv.cpp - dense and sparse direct conv2d -------------------===//
//
// NCHW conv2d with PyTorch semantics (strides, padding [top, bottom, left,
// right], dilations, groups). Both kernels share one direct-convolution
// engine that walks a list of taps (c, kh, kw, value) per output channel and
// adds value * (shifted input plane) to the output plane, one row at a time.
// The dense kernel lists every tap; the sparse one only the non-zero taps
// packed at compile time, so zero weights cost nothing (seed 000 [0035],
// [0044]: sparse weights exist to skip work). This tap engine is the
// scalar reference ("portable"); the vector paths are the dense library
// (DenseLibrary.cpp) and the sparse-times-im2col kernel of
// KernelsConvSparse.cpp, which also runs a dense layer (every tap) when the
// runtime was built without the dense library.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include "DenseLibrary.h"
#include "KernelsInternal.h"

#include <algorithm>
#include <climits>
#include <vector>

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
    return SPARSENN_ERR_NOMEM;
  Tap *taps = buf.as<Tap>();
  const int64_t cpgIn = s.cIn / s.groups, cpgOut = s.cOut / s.groups;
  const int64_t plane = s.oh * s.ow, inPlane = s.h * s.w;
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
        applyTap(s, taps[t], xp, yp, axpyPortable);
      }
    }
  }
  return SPARSENN_OK;
}

bool makeShape(ConvShape &s, const float *x, const float *y, int64_t n,
               int64_t cIn, int64_t h, int64_t w, int64_t cOut, int64_t kh,
               int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
               int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups) {
  return x && y &&
         makeConv2DParams(s, n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr,
                          dh, dw, groups);
}

} // namespace

bool sparsenn::kernels::makeConv2DParams(
    Conv2DParams &p, int64_t n, int64_t cIn, int64_t h, int64_t w, int64_t cOut,
    int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups) {
  if (n < 0 || cIn <= 0 || h < 0 || w < 0 || cOut <= 0 || kh <= 0 || kw <= 0 ||
      groups <= 0 || cIn % groups || cOut % groups)
    return false;
  p = {n,
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
  return p.oh >= 0 && p.ow >= 0;
}

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
                     const float *bias, float *y, const Epilogue &ep) {
  const int64_t kh = s.kh, kw = s.kw;
  const int64_t cpg = s.cIn / s.groups, per = cpg * kh * kw;
  if (portableForced()) {
    // The reference: every tap through the tap engine, then the epilogue.
    int status = convEngine(s, x, bias, y, per, [&](int64_t o, Tap *taps) {
      const float *wo = weights + o * per;
      int64_t t = 0;
      for (int64_t c = 0; c < cpg; ++c)
        for (int64_t r = 0; r < kh; ++r)
          for (int64_t q = 0; q < kw; ++q, ++t)
            taps[t] = {c, r, q, wo[t]};
      return per;
    });
    if (status == SPARSENN_OK && ep.any())
      applyEpilogue(ep, y, s.n * s.cOut * s.oh * s.ow);
    return status;
  }
  // Without the dense library: the sparse-times-im2col kernel over every
  // tap (one vector source for all targets, threaded, epilogue fused).
  if (s.cOut * per > INT32_MAX)
    return SPARSENN_ERR_ARGUMENT;
  std::vector<int32_t> tapPtr(s.cOut + 1), tapIdx(s.cOut * per);
  for (int64_t o = 0; o <= s.cOut; ++o)
    tapPtr[o] = static_cast<int32_t>(o * per);
  for (int64_t o = 0; o < s.cOut; ++o)
    for (int64_t t = 0; t < per; ++t)
      tapIdx[o * per + t] = static_cast<int32_t>(t);
  return conv2dSparseSpmm(s, x, tapPtr.data(), tapIdx.data(), weights, bias, y,
                          /*constantTaps=*/false, ep);
}
} // namespace

int sparsenn::kernels::conv2dDense(const float *x, int64_t n, int64_t cIn,
                                   int64_t h, int64_t wIn, const float *weights,
                                   int64_t cOut, int64_t kh, int64_t kw,
                                   const float *bias, int64_t sh, int64_t sw,
                                   int64_t pt, int64_t pb, int64_t pl,
                                   int64_t pr, int64_t dh, int64_t dw,
                                   int64_t groups, float *y,
                                   bool constantWeights, const Epilogue &ep) {
  ConvShape s;
  if (!weights || !makeShape(s, x, y, n, cIn, h, wIn, cOut, kh, kw, sh, sw, pt,
                             pb, pl, pr, dh, dw, groups))
    return SPARSENN_ERR_ARGUMENT;
  if (!portableForced()) {
    if (sparsenn::dense::conv2d(s, x, weights, bias, y, constantWeights, ep))
      return SPARSENN_OK;
  }
  return denseConvBuiltin(s, x, weights, bias, y, ep);
}

extern "C" int sparsenn_conv2d_dense_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const float *weights, int64_t cOut, int64_t kh, int64_t kw,
    const float *bias, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups, float *y) {
  return conv2dDense(x, n, cIn, h, wIn, weights, cOut, kh, kw, bias, sh, sw, pt,
                     pb, pl, pr, dh, dw, groups, y,
                     /*constantWeights=*/false, Epilogue{});
}

extern "C" int sparsenn_conv2d_dense_const_f32(
    const float *x, int64_t n, int64_t cIn, int64_t h, int64_t wIn,
    const float *weights, int64_t cOut, int64_t kh, int64_t kw,
    const float *bias, int64_t sh, int64_t sw, int64_t pt, int64_t pb,
    int64_t pl, int64_t pr, int64_t dh, int64_t dw, int64_t groups, float *y) {
  return conv2dDense(x, n, cIn, h, wIn, weights, cOut, kh, kw, bias, sh, sw, pt,
                     pb, pl, pr, dh, dw, groups, y,
                     /*constantWeights=*/true, Epilogue{});
}

extern "C" int sparsenn_pack_conv2d_taps_f32(const float *weights, int64_t cOut,
                                             int64_t cpg, int64_t kh,
                                             int64_t kw, int32_t *tapPtr,
                                             int32_t *tapIdx, float *tapVal,
                                             int64_t *ntaps) {
  if (!ntaps || cOut < 0 || cpg < 0 || kh < 0 || kw < 0 ||
      (!weights && cOut * cpg * kh * kw > 0))
    return SPARSENN_ERR_ARGUMENT;
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
    return SPARSENN_ERR_ARGUMENT;
  if (tapPtr[cOut] > 0 && (!tapIdx || !tapVal))
    return SPARSENN_ERR_ARGUMENT;
  const int64_t per = cIn / groups * kh * kw;
  int64_t maxTaps = 0;
  for (int64_t o = 0; o < cOut; ++o) {
    int64_t cnt = tapPtr[o + 1] - tapPtr[o];
    if (cnt < 0 || cnt > per)
      return SPARSENN_ERR_ARGUMENT;
    maxTaps = std::max(maxTaps, cnt);
  }
  if (!portableForced())
    return conv2dSparseSpmm(s, x, tapPtr, tapIdx, tapVal, bias, y, constantTaps,
                            ep);
  // The portable reference: the tap engine, then the epilogue.
  int status = convEngine(s, x, bias, y, maxTaps, [&](int64_t o, Tap *taps) {
    int64_t t = 0;
    for (int32_t p = tapPtr[o]; p < tapPtr[o + 1]; ++p, ++t) {
      int64_t idx = tapIdx[p];
      taps[t] = {idx / (kh * kw), idx / kw % kh, idx % kw, tapVal[p]};
    }
    return t;
  });
  if (status == SPARSENN_OK && ep.any())
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
