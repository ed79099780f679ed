//===- KernelsPool.cpp - 2-D max and sum pooling, NCHW --------------------===//
//
// One source for every SIMD target (Google Highway, dispatched at run time).
// The semantics are those of linalg.pooling_nchw_max / _sum with the input
// padded by a constant (the tensor.pad the importers put in front):
//   y[n, c, oy, ox] = init ⊕ (⊕ over r < kH, q < kW of
//                             xpad[n, c, oy·sH + r·dH, ox·sW + q·dW])
// with ⊕ = maximum (NaN propagates, as arith.maximumf) or +.
//
// Each output row is two vector passes: the kH input rows are combined
// column by column into a row buffer over the padded width (contiguous
// loads), then each output takes the kW columns of its window from that
// buffer (contiguous loads for stride 1, de-interleaving loads for stride 2,
// gathers otherwise). The padding is never materialised. Planes (n, c) are
// split across the thread pool by shape alone, each output computed by one
// item in one fixed order: results do not depend on the thread count. A sum
// adds the kH rows first, then the kW columns: other rounding than the
// loops' (r, q) order, within a few ulps.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsPool.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "sparsenn/Runtime/Kernels.h"

#include "KernelsInternal.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#ifndef SPARSENN_KERNELS_POOL_ONCE
#define SPARSENN_KERNELS_POOL_ONCE
namespace sparsenn {
namespace kernels {
namespace {
struct PoolShape {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, pt, pl, pr, dh, dw;
  bool max;
  float pad, init;
};

inline float combineScalar(bool max, float a, float b) {
  if (!max)
    return a + b;
  if (std::isnan(a) || std::isnan(b))
    return a + b; // a NaN operand gives NaN
  return a > b ? a : b;
}

/// Floats of the row buffer: the padded width, and what the second pass
/// reads for a whole last vector of outputs (2 vectors for stride 2).
inline int64_t rowFloats(const PoolShape &s, int64_t lanes) {
  const int64_t owCeil = (s.ow + lanes - 1) / lanes * lanes;
  return std::max(s.pl + s.w + s.pr,
                  (owCeil - 1) * s.sw + (s.kw - 1) * s.dw + 2 * lanes + 1);
}

// Planes per work item: about 64 K outputs each.
int64_t planesPerItem(const PoolShape &s) {
  return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, s.oh * s.ow));
}
} // namespace
} // namespace kernels
} // namespace sparsenn
#endif

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// One step of the reduction. For max, the NaN test is kept apart (`nan`)
/// and applied once at the end (finish): cheaper than a NaN-propagating
/// maximum at every step.
template <class D, class V = hn::Vec<D>, class M = hn::Mask<D>>
HWY_INLINE V combine(bool max, V a, V b, M &nan) {
  if (!max)
    return hn::Add(a, b);
  nan = hn::Or(nan, hn::IsNaN(b));
  return hn::Max(a, b);
}

template <class D, class V = hn::Vec<D>, class M = hn::Mask<D>>
HWY_INLINE V finish(D d, bool max, V acc, M nan) {
  return max ? hn::IfThenElse(nan, hn::NaN(d), acc) : acc;
}

/// Planes [p0, p1) of the pooling; `row` and `out` are scratch of
/// rowFloats(s, lanes) and OW rounded up to whole vectors floats.
void poolPlanes(const PoolShape &s, const float *HWY_RESTRICT x,
                float *HWY_RESTRICT y, int64_t p0, int64_t p1,
                float *HWY_RESTRICT row, float *HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const int64_t owCeil = (s.ow + n - 1) / n * n;
  const int64_t total = rowFloats(s, n);
  const auto padV = hn::Set(d, s.pad), initV = hn::Set(d, s.init);
  // Columns outside the input: kH pad values combined in order.
  float padColumn = s.pad;
  for (int64_t r = 1; r < s.kh; ++r)
    padColumn = combineScalar(s.max, padColumn, s.pad);
  for (int64_t p = p0; p < p1; ++p) {
    const float *xp = x + p * s.h * s.w;
    float *yp = y + p * s.oh * s.ow;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      // Pass 1: row[pl + j] = ⊕ over r of xpad[oy·sH + r·dH, pl + j]; the
      // padding columns and the slack the second pass reads hold padColumn.
      auto inputRow = [&](int64_t r) -> const float * {
        int64_t iy = oy * s.sh - s.pt + r * s.dh;
        return iy >= 0 && iy < s.h ? xp + iy * s.w : nullptr;
      };
      // Only the columns outside the input: pass 1 writes the others.
      float *rowIn = row + s.pl;
      std::fill(row, rowIn, padColumn);
      std::fill(rowIn + s.w, row + total, padColumn);
      int64_t j = 0;
      for (; j + n <= s.w; j += n) {
        const float *r0 = inputRow(0);
        auto acc = r0 ? hn::LoadU(d, r0 + j) : padV;
        auto nan = hn::IsNaN(acc);
        for (int64_t r = 1; r < s.kh; ++r) {
          const float *rr = inputRow(r);
          acc = combine<decltype(d)>(s.max, acc,
                                     rr ? hn::LoadU(d, rr + j) : padV, nan);
        }
        hn::StoreU(finish(d, s.max, acc, nan), d, rowIn + j);
      }
      for (; j < s.w; ++j) {
        const float *r0 = inputRow(0);
        float acc = r0 ? r0[j] : s.pad;
        for (int64_t r = 1; r < s.kh; ++r) {
          const float *rr = inputRow(r);
          acc = combineScalar(s.max, acc, rr ? rr[j] : s.pad);
        }
        rowIn[j] = acc;
      }
      // Pass 2: out[ox] = init ⊕ (⊕ over q of row[ox·sW + q·dW]).
      for (int64_t ox = 0; ox < owCeil; ox += n) {
        auto acc = initV;
        auto nan = hn::IsNaN(acc);
        for (int64_t q = 0; q < s.kw; ++q) {
          const float *base = row + ox * s.sw + q * s.dw;
          hn::Vec<decltype(d)> v;
          if (s.sw == 1) {
            v = hn::LoadU(d, base);
          } else if (s.sw == 2) {
            hn::Vec<decltype(d)> odd;
            hn::LoadInterleaved2(d, base, v, odd);
          } else {
            const hn::RebindToSigned<decltype(d)> di;
            const auto idx = hn::Mul(hn::Iota(di, 0),
                                     hn::Set(di, static_cast<int32_t>(s.sw)));
            v = hn::GatherIndex(d, base, idx);
          }
          acc = combine<decltype(d)>(s.max, acc, v, nan);
        }
        hn::StoreU(finish(d, s.max, acc, nan), d, out + ox);
      }
      std::copy(out, out + s.ow, yp + oy * s.ow);
    }
  }
}

int64_t lanes() {
  return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(poolPlanes);
HWY_EXPORT(lanes);

namespace {
// The scalar reference: the loops of the linalg op, in its (r, q) order.
void poolPortable(const PoolShape &s, const float *x, float *y) {
  for (int64_t p = 0; p < s.planes; ++p)
    for (int64_t oy = 0; oy < s.oh; ++oy)
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        float acc = s.init;
        for (int64_t r = 0; r < s.kh; ++r)
          for (int64_t q = 0; q < s.kw; ++q) {
            int64_t iy = oy * s.sh - s.pt + r * s.dh;
            int64_t ix = ox * s.sw - s.pl + q * s.dw;
            float v = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w
                          ? x[(p * s.h + iy) * s.w + ix]
                          : s.pad;
            acc = combineScalar(s.max, acc, v);
          }
        y[(p * s.oh + oy) * s.ow + ox] = acc;
      }
}

int poolVectors(const PoolShape &s, const float *x, float *y) {
  const int64_t vecLanes = HWY_DYNAMIC_DISPATCH(lanes)();
  const int64_t owCeil = (s.ow + vecLanes - 1) / vecLanes * vecLanes;
  const int64_t rowSize = rowFloats(s, vecLanes);
  const int64_t per = planesPerItem(s);
  std::atomic<bool> failed{false};
  sparsenn::threads::parallelFor(
      sparsenn::threads::chunks(s.planes, per), [&](int64_t item) {
        Scratch scratch(sizeof(float) * (rowSize + owCeil));
        if (scratch.failed) {
          failed = true;
          return;
        }
        int64_t p0 = item * per, p1 = std::min(s.planes, p0 + per);
        HWY_DYNAMIC_DISPATCH(poolPlanes)
        (s, x, y, p0, p1, scratch.as<float>(), scratch.as<float>() + rowSize);
      });
  return failed ? SPARSENN_ERR_NOMEM : SPARSENN_OK;
}
} // namespace
} // namespace kernels
} // namespace sparsenn

extern "C" int sparsenn_pool2d_f32(const float *x, int64_t n, int64_t c,
                                   int64_t h, int64_t w, int64_t kh, int64_t kw,
                                   int64_t stride_h, int64_t stride_w,
                                   int64_t pad_top, int64_t pad_bottom,
                                   int64_t pad_left, int64_t pad_right,
                                   int64_t dil_h, int64_t dil_w, int mode,
                                   float pad_value, float init, float *y) {
  using namespace sparsenn::kernels;
  if (!x || !y || n < 0 || c < 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0 ||
      stride_h <= 0 || stride_w <= 0 || dil_h <= 0 || dil_w <= 0 ||
      pad_top < 0 || pad_bottom < 0 || pad_left < 0 || pad_right < 0 ||
      (mode != SPARSENN_POOL_MAX && mode != SPARSENN_POOL_SUM))
    return SPARSENN_ERR_ARGUMENT;
  PoolShape s;
  s.oh =
      sparsenn_conv2d_output_size(h, kh, stride_h, pad_top, pad_bottom, dil_h);
  s.ow =
      sparsenn_conv2d_output_size(w, kw, stride_w, pad_left, pad_right, dil_w);
  if (s.oh <= 0 || s.ow <= 0)
    return SPARSENN_ERR_ARGUMENT;
  s.planes = n * c;
  s.h = h, s.w = w, s.kh = kh, s.kw = kw, s.sh = stride_h, s.sw = stride_w;
  s.pt = pad_top, s.pl = pad_left, s.pr = pad_right, s.dh = dil_h, s.dw = dil_w;
  s.max = mode == SPARSENN_POOL_MAX;
  s.pad = pad_value, s.init = init;
  if (s.planes == 0)
    return SPARSENN_OK;
  if (portableForced()) {
    poolPortable(s, x, y);
    return SPARSENN_OK;
  }
  return poolVectors(s, x, y);
}
#endif // HWY_ONCE
