//===- KernelsConvBackward.cpp - conv2d gradients and a threaded GEMM -----===//
//
// The two gradients of an NCHW conv2d (groups 1) that a training step needs,
// and the row-major GEMM they and the linear layers' gradients run on:
//
//  - input gradient: dcol = Wᵀ·dY per block of images (a GEMM over the
//    output channels), then col2im: each (image, input channel) plane adds
//    the kH·kW shifted taps of dcol in one fixed order;
//  - weight gradient: col = im2col(X) per block of images, dW += dY·colᵀ (a
//    GEMM over the images and positions), blocks in image order;
//  - weight gradient restricted to a mask (fixed fan-in layers, US
//    2025/0252312 A1 [0057]: a zero weight stays zero, so its gradient is
//    never needed): for stride 1 and dilation 1, one dot product per
//    non-zero tap and image over the padded input plane read flat, with dY
//    widened to the padded row width (its extra columns zero), so both
//    operands are contiguous vectors: no im2col, the work is the mask's.
//
// The GEMMs go to the dense library (oneDNN's sgemm) when the runtime has
// it, else to the Highway loops below. Every output block belongs to one
// work item, blocks depend on the shape only and each reduction runs in one
// fixed order: results are identical for any thread count.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsConvBackward.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "sparsenn/Runtime/Kernels.h"

#include "DenseLibrary.h"
#include "KernelsInternal.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <vector>

#ifndef SPARSENN_KERNELS_CONV_BACKWARD_ONCE
#define SPARSENN_KERNELS_CONV_BACKWARD_ONCE
namespace sparsenn {
namespace kernels {
namespace {
/// The flat layout of the masked weight gradient: per image, each input
/// channel is a zero-padded plane of `planeStride` floats (rows of `wp`),
/// each output channel's dY a row of `len` floats (rows of `wp`, columns
/// past OW zero, `len` a whole number of vectors).
struct FlatGeometry {
  int64_t cIn, cOut, wp, planeStride, len;
};
} // namespace
} // namespace kernels
} // namespace sparsenn
#endif

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// c[j] += s·b[j], j < n.
void axpyRow(float *HWY_RESTRICT c, float s, const float *HWY_RESTRICT b,
             int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const auto sv = hn::Set(d, s);
  int64_t j = 0;
  for (; j + lanes <= n; j += lanes)
    hn::StoreU(hn::MulAdd(sv, hn::LoadU(d, b + j), hn::LoadU(d, c + j)), d,
               c + j);
  for (; j < n; ++j)
    c[j] += s * b[j];
}

/// Σ a[k]·b[k], k < n.
float dotRow(const float *HWY_RESTRICT a, const float *HWY_RESTRICT b,
             int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
  int64_t k = 0;
  for (; k + 2 * lanes <= n; k += 2 * lanes) {
    acc0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b + k), acc0);
    acc1 = hn::MulAdd(hn::LoadU(d, a + k + lanes), hn::LoadU(d, b + k + lanes),
                      acc1);
  }
  for (; k + lanes <= n; k += lanes)
    acc0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b + k), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(acc0, acc1)));
  for (; k < n; ++k)
    sum += a[k] * b[k];
  return sum;
}

/// The masked weight gradient of output channels [o0, o1) for images
/// [0, images) of the flat buffers: out[t] += Σ dyRow(o)·xFlat(tap t).
/// Four taps share each load of dY.
void maskedWeightGrad(const FlatGeometry &g, const float *HWY_RESTRICT x,
                      const float *HWY_RESTRICT dy, int64_t images,
                      const int32_t *HWY_RESTRICT tapPtr,
                      const int64_t *HWY_RESTRICT tapOffset,
                      float *HWY_RESTRICT out, int64_t o0, int64_t o1) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t img = 0; img < images; ++img) {
    const float *xb = x + img * g.cIn * g.planeStride;
    const float *db = dy + img * g.cOut * g.len;
    for (int64_t o = o0; o < o1; ++o) {
      const float *row = db + o * g.len;
      int64_t t = tapPtr[o];
      const int64_t end = tapPtr[o + 1];
      for (; t + 4 <= end; t += 4) {
        const float *p0 = xb + tapOffset[t], *p1 = xb + tapOffset[t + 1],
                    *p2 = xb + tapOffset[t + 2], *p3 = xb + tapOffset[t + 3];
        auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d),
             a3 = hn::Zero(d);
        for (int64_t v = 0; v < g.len; v += lanes) {
          const auto r = hn::Load(d, row + v);
          a0 = hn::MulAdd(r, hn::LoadU(d, p0 + v), a0);
          a1 = hn::MulAdd(r, hn::LoadU(d, p1 + v), a1);
          a2 = hn::MulAdd(r, hn::LoadU(d, p2 + v), a2);
          a3 = hn::MulAdd(r, hn::LoadU(d, p3 + v), a3);
        }
        out[t] += hn::GetLane(hn::SumOfLanes(d, a0));
        out[t + 1] += hn::GetLane(hn::SumOfLanes(d, a1));
        out[t + 2] += hn::GetLane(hn::SumOfLanes(d, a2));
        out[t + 3] += hn::GetLane(hn::SumOfLanes(d, a3));
      }
      for (; t < end; ++t) {
        const float *p = xb + tapOffset[t];
        auto a = hn::Zero(d);
        for (int64_t v = 0; v < g.len; v += lanes)
          a = hn::MulAdd(hn::Load(d, row + v), hn::LoadU(d, p + v), a);
        out[t] += hn::GetLane(hn::SumOfLanes(d, a));
      }
    }
  }
}

int64_t floatLanes() {
  return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(axpyRow);
HWY_EXPORT(dotRow);
HWY_EXPORT(maskedWeightGrad);
HWY_EXPORT(floatLanes);

namespace {

/// Blocks of C per work item: large enough for the GEMM to run at speed.
constexpr int64_t kGemmBlockRows = 256, kGemmBlockCols = 256;
/// Floats of the im2col / dcol buffer of one block of images.
constexpr int64_t kColumnFloats = int64_t(4) << 20;
/// Columns (images × output positions) per block: the weight gradient's
/// GEMM reduces over them (long enough to run at speed), the input
/// gradient's dcol block should stay in the L2 cache.
constexpr int64_t kWeightGradPositions = 256, kInputGradPositions = 128;
/// Floats of the flat buffers of the masked weight gradient per block.
constexpr int64_t kFlatFloats = int64_t(8) << 20;
/// Up to this mask density the masked weight gradient takes the flat dot
/// products; denser masks the dense GEMM form, masked afterwards (the seed
/// CNN's 5×5 layer at batch 64: 1.5 ms at 6.4 %, 3.2 ms at 15 %, 7.1 ms
/// dense).
constexpr double kMaskedWeightGradDensity = 0.3;

/// The builtin single-thread GEMM (no dense library): rows of op(A)
/// against op(B) by vector AXPYs (B not transposed) or dot products.
void gemmBuiltin(char transA, char transB, int64_t m, int64_t n, int64_t k,
                 const float *a, int64_t lda, const float *b, int64_t ldb,
                 float beta, float *c, int64_t ldc) {
  std::vector<float> row(transA == 'T' ? k : 0);
  for (int64_t i = 0; i < m; ++i) {
    float *ci = c + i * ldc;
    if (beta == 0.0f)
      std::fill(ci, ci + n, 0.0f);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < n; ++j)
        ci[j] *= beta;
    const float *ai = a + i * lda;
    if (transA == 'T') {
      for (int64_t q = 0; q < k; ++q)
        row[q] = a[q * lda + i];
      ai = row.data();
    }
    if (transB == 'N') {
      for (int64_t q = 0; q < k; ++q)
        HWY_DYNAMIC_DISPATCH(axpyRow)(ci, ai[q], b + q * ldb, n);
    } else {
      for (int64_t j = 0; j < n; ++j)
        ci[j] += HWY_DYNAMIC_DISPATCH(dotRow)(ai, b + j * ldb, k);
    }
  }
}

void gemmBlock(char transA, char transB, int64_t m, int64_t n, int64_t k,
               const float *a, int64_t lda, const float *b, int64_t ldb,
               float beta, float *c, int64_t ldc) {
  if (portableForced() ||
      !dense::gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc))
    gemmBuiltin(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

bool validConv(int64_t n, int64_t cIn, int64_t h, int64_t w, int64_t cOut,
               int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pt,
               int64_t pb, int64_t pl, int64_t pr, int64_t dh, int64_t dw,
               Conv2DParams &p) {
  return makeConv2DParams(p, n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr,
                          dh, dw, /*groups=*/1);
}

/// Images per block: about `columns` columns, within kColumnFloats.
int64_t imagesPerBlock(const Conv2DParams &p, int64_t rows, int64_t columns) {
  const int64_t positions = std::max<int64_t>(1, p.oh * p.ow);
  int64_t nb = std::max<int64_t>(1, columns / positions);
  nb = std::min(nb, std::max<int64_t>(1, kColumnFloats / (rows * positions)));
  return std::max<int64_t>(1, std::min(nb, p.n));
}

/// dY of images [n0, n0 + nb) as [C_out, nb·P] (a copy unless nb = 1).
const float *outputGradBlock(const Conv2DParams &p, const float *dy, int64_t n0,
                             int64_t nb, float *buffer) {
  const int64_t positions = p.oh * p.ow;
  if (nb == 1)
    return dy + n0 * p.cOut * positions;
  threads::parallelFor(p.cOut, [&](int64_t o) {
    for (int64_t b = 0; b < nb; ++b)
      std::memcpy(buffer + (o * nb + b) * positions,
                  dy + ((n0 + b) * p.cOut + o) * positions,
                  sizeof(float) * positions);
  });
  return buffer;
}

} // namespace

int gemm(char transA, char transB, int64_t m, int64_t n, int64_t k,
         const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
         float *c, int64_t ldc) {
  const int64_t rowBlocks = threads::chunks(m, kGemmBlockRows);
  const int64_t colBlocks = threads::chunks(n, kGemmBlockCols);
  threads::parallelFor(rowBlocks * colBlocks, [&](int64_t item) {
    const int64_t i0 = item / colBlocks * kGemmBlockRows;
    const int64_t j0 = item % colBlocks * kGemmBlockCols;
    const int64_t rows = std::min(kGemmBlockRows, m - i0);
    const int64_t cols = std::min(kGemmBlockCols, n - j0);
    const float *ab = transA == 'N' ? a + i0 * lda : a + i0;
    const float *bb = transB == 'N' ? b + j0 : b + j0 * ldb;
    gemmBlock(transA, transB, rows, cols, k, ab, lda, bb, ldb, beta,
              c + i0 * ldc + j0, ldc);
  });
  return SPARSENN_OK;
}

namespace {

/// The weight gradient at every tap: im2col of each block of images, then
/// dW (+)= dY·colᵀ.
int weightGradDense(const Conv2DParams &p, const float *x, const float *dy,
                    float *dw) {
  const int64_t taps = p.cIn * p.kh * p.kw, positions = p.oh * p.ow;
  const int64_t nb = imagesPerBlock(p, taps, kWeightGradPositions);
  Scratch colBuffer(sizeof(float) * taps * nb * positions);
  Scratch gathered(nb > 1 ? sizeof(float) * p.cOut * nb * positions : 0);
  if (colBuffer.failed || gathered.failed)
    return SPARSENN_ERR_NOMEM;
  float *col = colBuffer.as<float>();
  for (int64_t n0 = 0; n0 < p.n; n0 += nb) {
    const int64_t cur = std::min(nb, p.n - n0), cols = cur * positions;
    threads::parallelFor(taps, [&](int64_t t) {
      const int64_t c = t / (p.kh * p.kw), i = t / p.kw % p.kh, j = t % p.kw;
      // Output columns whose input column is inside the image.
      const int64_t shift = j * p.dw - p.pl;
      int64_t x0 = 0, x1 = p.ow;
      while (x0 < x1 && x0 * p.sw + shift < 0)
        ++x0;
      while (x1 > x0 && (x1 - 1) * p.sw + shift >= p.w)
        --x1;
      for (int64_t b = 0; b < cur; ++b) {
        const float *plane = x + ((n0 + b) * p.cIn + c) * p.h * p.w;
        float *dst = col + t * cols + b * positions;
        for (int64_t y = 0; y < p.oh; ++y) {
          const int64_t iy = y * p.sh + i * p.dh - p.pt;
          float *d = dst + y * p.ow;
          if (iy < 0 || iy >= p.h) {
            std::fill(d, d + p.ow, 0.0f);
            continue;
          }
          const float *s = plane + iy * p.w + shift;
          std::fill(d, d + x0, 0.0f);
          if (p.sw == 1)
            std::memcpy(d + x0, s + x0, sizeof(float) * (x1 - x0));
          else
            for (int64_t xo = x0; xo < x1; ++xo)
              d[xo] = s[xo * p.sw];
          std::fill(d + x1, d + p.ow, 0.0f);
        }
      }
    });
    const float *dyb = outputGradBlock(p, dy, n0, cur, gathered.as<float>());
    gemm('N', 'T', p.cOut, taps, cols, dyb, cols, col, cols,
         n0 == 0 ? 0.0f : 1.0f, dw, taps);
  }
  return SPARSENN_OK;
}

/// The weight gradient at the non-zero taps of `mask` only (stride 1,
/// dilation 1), by the flat dot products of the file comment.
/// `tapPtr` and `count`: the mask's taps per output channel as the packing
/// size query returned them.
int weightGradMasked(const Conv2DParams &p, const float *x, const float *dy,
                     const float *mask, std::vector<int32_t> &tapPtr,
                     int64_t count, float *dw) {
  const int64_t kk = p.kh * p.kw, taps = p.cIn * kk;
  std::vector<int32_t> tapIdx(std::max<int64_t>(count, 1));
  std::vector<float> tapVal(tapIdx.size()), sums(tapIdx.size(), 0.0f);
  int status = sparsenn_pack_conv2d_taps_f32(mask, p.cOut, p.cIn, p.kh, p.kw,
                                             tapPtr.data(), tapIdx.data(),
                                             tapVal.data(), &count);
  if (status != SPARSENN_OK)
    return status;
  const int64_t lanes = HWY_DYNAMIC_DISPATCH(floatLanes)();
  const int64_t hp = p.h + p.pt + p.pb, wp = p.w + p.pl + p.pr;
  FlatGeometry g;
  g.cIn = p.cIn, g.cOut = p.cOut, g.wp = wp;
  g.len = (p.oh * wp + lanes - 1) / lanes * lanes;
  // Every tap reads len floats from (i·wp + j): the plane holds them all.
  g.planeStride = std::max(hp * wp, (p.kh - 1) * wp + p.kw - 1 + g.len);
  g.planeStride = (g.planeStride + 15) / 16 * 16;
  std::vector<int64_t> offsets(tapIdx.size());
  for (int64_t t = 0; t < count; ++t) {
    const int64_t c = tapIdx[t] / kk, i = tapIdx[t] / p.kw % p.kh,
                  j = tapIdx[t] % p.kw;
    offsets[t] = c * g.planeStride + i * wp + j;
  }
  const int64_t perImage = p.cIn * g.planeStride + p.cOut * g.len;
  const int64_t nb =
      std::max<int64_t>(1, std::min(p.n, kFlatFloats / perImage));
  Scratch xBuffer(sizeof(float) * nb * p.cIn * g.planeStride);
  Scratch dyBuffer(sizeof(float) * nb * p.cOut * g.len);
  if (xBuffer.failed || dyBuffer.failed)
    return SPARSENN_ERR_NOMEM;
  float *xf = xBuffer.as<float>(), *dyf = dyBuffer.as<float>();
  // Output channels per item: about 64 K multiply-adds per image each.
  const int64_t perO = std::max<int64_t>(
      1, std::min<int64_t>(
             p.cOut, 65536 / std::max<int64_t>(1, count / p.cOut * g.len + 1)));
  const int64_t items = threads::chunks(p.cOut, perO);
  for (int64_t n0 = 0; n0 < p.n; n0 += nb) {
    const int64_t cur = std::min(nb, p.n - n0);
    threads::parallelFor(cur * (p.cIn + p.cOut), [&](int64_t item) {
      const int64_t b = item / (p.cIn + p.cOut), r = item % (p.cIn + p.cOut);
      if (r < p.cIn) {
        float *dst = xf + (b * p.cIn + r) * g.planeStride;
        const float *src = x + ((n0 + b) * p.cIn + r) * p.h * p.w;
        std::fill(dst, dst + g.planeStride, 0.0f);
        for (int64_t y = 0; y < p.h; ++y)
          std::memcpy(dst + (y + p.pt) * wp + p.pl, src + y * p.w,
                      sizeof(float) * p.w);
      } else {
        const int64_t o = r - p.cIn;
        float *dst = dyf + (b * p.cOut + o) * g.len;
        const float *src = dy + ((n0 + b) * p.cOut + o) * p.oh * p.ow;
        std::fill(dst, dst + g.len, 0.0f);
        for (int64_t y = 0; y < p.oh; ++y)
          std::memcpy(dst + y * wp, src + y * p.ow, sizeof(float) * p.ow);
      }
    });
    threads::parallelFor(items, [&](int64_t item) {
      const int64_t o0 = item * perO, o1 = std::min(p.cOut, o0 + perO);
      HWY_DYNAMIC_DISPATCH(maskedWeightGrad)
      (g, xf, dyf, cur, tapPtr.data(), offsets.data(), sums.data(), o0, o1);
    });
  }
  std::fill(dw, dw + p.cOut * taps, 0.0f);
  for (int64_t o = 0; o < p.cOut; ++o)
    for (int64_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t)
      dw[o * taps + tapIdx[t]] = sums[t];
  return SPARSENN_OK;
}

} // namespace
} // namespace kernels
} // namespace sparsenn

using namespace sparsenn;
using namespace sparsenn::kernels;

extern "C" int sparsenn_gemm_f32(char trans_a, char trans_b, int64_t m,
                                 int64_t n, int64_t k, const float *a,
                                 int64_t lda, const float *b, int64_t ldb,
                                 float beta, float *c, int64_t ldc) {
  const bool ta = trans_a == 'T' || trans_a == 't',
             tb = trans_b == 'T' || trans_b == 't';
  if ((!ta && trans_a != 'N' && trans_a != 'n') ||
      (!tb && trans_b != 'N' && trans_b != 'n') || m < 0 || n < 0 || k < 0 ||
      !c || ldc < std::max<int64_t>(1, n))
    return SPARSENN_ERR_ARGUMENT;
  if (m == 0 || n == 0)
    return SPARSENN_OK;
  if (!a || !b || lda < std::max<int64_t>(1, ta ? m : k) ||
      ldb < std::max<int64_t>(1, tb ? k : n))
    return SPARSENN_ERR_ARGUMENT;
  return gemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, a, lda, b, ldb, beta, c,
              ldc);
}

extern "C" int sparsenn_conv2d_backward_input_f32(
    const float *dy, int64_t n, int64_t c_in, int64_t h, int64_t w,
    const float *weights, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float *dx) {
  Conv2DParams p;
  if (!dy || !weights || !dx ||
      !validConv(n, c_in, h, w, c_out, kh, kw, stride_h, stride_w, pad_top,
                 pad_bottom, pad_left, pad_right, dil_h, dil_w, p))
    return SPARSENN_ERR_ARGUMENT;
  const int64_t taps = c_in * kh * kw, positions = p.oh * p.ow;
  if (n == 0 || h == 0 || w == 0)
    return SPARSENN_OK;
  if (positions == 0) {
    std::fill(dx, dx + n * c_in * h * w, 0.0f);
    return SPARSENN_OK;
  }
  const int64_t nb = imagesPerBlock(p, taps, kInputGradPositions);
  Scratch col(sizeof(float) * taps * nb * positions);
  Scratch gathered(nb > 1 ? sizeof(float) * c_out * nb * positions : 0);
  if (col.failed || gathered.failed)
    return SPARSENN_ERR_NOMEM;
  float *dcol = col.as<float>();
  for (int64_t n0 = 0; n0 < n; n0 += nb) {
    const int64_t cur = std::min(nb, n - n0), cols = cur * positions;
    const float *dyb = outputGradBlock(p, dy, n0, cur, gathered.as<float>());
    // dcol[(c,i,j), (b,y,x)] = Σ_o W[o, (c,i,j)]·dY[o, (b,y,x)].
    gemm('T', 'N', taps, cols, c_out, weights, taps, dyb, cols, 0.0f, dcol,
         cols);
    // col2im, one plane per item, taps in (i, j) order.
    threads::parallelFor(cur * c_in, [&](int64_t item) {
      const int64_t b = item / c_in, c = item % c_in;
      float *plane = dx + ((n0 + b) * c_in + c) * h * w;
      std::fill(plane, plane + h * w, 0.0f);
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          const float *src =
              dcol + ((c * kh + i) * kw + j) * cols + b * positions;
          // Output columns whose input column is inside the image.
          const int64_t shift = j * dil_w - pad_left;
          int64_t x0 = 0, x1 = p.ow;
          while (x0 < x1 && x0 * stride_w + shift < 0)
            ++x0;
          while (x1 > x0 && (x1 - 1) * stride_w + shift >= w)
            --x1;
          for (int64_t y = 0; y < p.oh; ++y) {
            const int64_t iy = y * stride_h + i * dil_h - pad_top;
            if (iy < 0 || iy >= h)
              continue;
            float *dst = plane + iy * w + shift;
            const float *s = src + y * p.ow;
            // Rows are short (OW): a plain loop the compiler vectorises
            // beats a dispatched call per row.
            if (stride_w == 1) {
              for (int64_t x = x0; x < x1; ++x)
                dst[x] += s[x];
            } else {
              for (int64_t x = x0; x < x1; ++x)
                dst[x * stride_w] += s[x];
            }
          }
        }
    });
  }
  return SPARSENN_OK;
}

extern "C" int sparsenn_conv2d_backward_weight_f32(
    const float *x, int64_t n, int64_t c_in, int64_t h, int64_t w,
    const float *dy, int64_t c_out, int64_t kh, int64_t kw, const float *mask,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float *dw) {
  Conv2DParams p;
  if (!x || !dy || !dw ||
      !validConv(n, c_in, h, w, c_out, kh, kw, stride_h, stride_w, pad_top,
                 pad_bottom, pad_left, pad_right, dil_h, dil_w, p))
    return SPARSENN_ERR_ARGUMENT;
  const int64_t count = c_out * c_in * kh * kw;
  if (n == 0 || p.oh * p.ow == 0) {
    std::fill(dw, dw + count, 0.0f);
    return SPARSENN_OK;
  }
  if (mask && stride_h == 1 && stride_w == 1 && dil_h == 1 && dil_w == 1) {
    std::vector<int32_t> tapPtr(c_out + 1);
    int64_t nonZero = 0;
    int status = sparsenn_pack_conv2d_taps_f32(
        mask, c_out, c_in, kh, kw, tapPtr.data(), nullptr, nullptr, &nonZero);
    if (status != SPARSENN_OK)
      return status;
    if (nonZero <= kMaskedWeightGradDensity * static_cast<double>(count))
      return weightGradMasked(p, x, dy, mask, tapPtr, nonZero, dw);
  }
  int status = weightGradDense(p, x, dy, dw);
  if (status == SPARSENN_OK && mask)
    for (int64_t i = 0; i < count; ++i)
      if (mask[i] == 0.0f)
        dw[i] = 0.0f;
  return status;
}
#endif // HWY_ONCE
