//===- KernelsConvSparse.cpp - sparse conv2d as sparse x dense products ---===//
//
// One source for every SIMD target (Google Highway, dispatched at run time:
// AVX2, AVX-512, NEON, ...). A convolution with sparse filters is the
// sparse matrix W [C_out, C_in/g · kH · kW] (the non-zero taps) times the
// im2col matrix X of each image and group: y[o, p] = bias[o] + sum over the
// taps t of o of val[t] · X[row(t), p], the output positions p in the
// vector lanes, so zero weights cost nothing (US 2025/0252312 A1 [0035],
// [0044]). This is the sparse-matrix-times-spatial-positions scheme of
// Elsen et al., "Fast Sparse ConvNets", in NCHW, for any kernel, stride,
// dilation, padding and groups.
//
// No im2col matrix is built. Each input plane is copied once, zero-padded
// and split into its stride phases (sh · sw planes: rows i·sh + a, columns
// j·sw + b), into a "source" whose planes are PW floats wide; outputs are
// computed on a grid of the same width (oy · PW + ox; the columns ox >= OW
// are computed and dropped). On that grid every row of X is the source at
// a constant offset: tap (c, r, s) reads source[offset(c, r, s) + p]. A 1×1
// convolution with stride 1 and no padding uses its input as the source.
//
// The product is output-stationary with register accumulators: a work item
// is 64 grid positions (a few vectors) × up to 64 output channels; for each
// chunk of input channels (sized so that its part of the source, about
// 16 KiB, stays in L1 while every channel of the item reads it) and each
// output channel, the channel's taps in the chunk are summed in vector
// registers (one broadcast and one load per FMA, no store: the loop of
// SparseTaps-inl.h, shared with the ELL linear kernel), the partial
// sums kept in an L1 buffer between chunks. The store applies bias,
// residual and ReLU and writes the item's valid positions. Against the
// im2col kernel it replaced (an L1 output block loaded and stored at every
// FMA, X gathered kH·kW times over) this measured 1.5-2.6× faster on
// ResNet-50's 3×3 layers, see docs/performance.md.
//
// The tap offsets and chunk bounds (the plan) are cached for weights that
// are compile-time constants (sparsenn_conv2d_sparse_const_f32) and rebuilt
// per call for run-time weights. Every output sums its taps in an order
// fixed by the shape and the taps alone, whatever the split into items, so
// results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsConvSparse.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "KernelsInternal.h"
#include "SparseTaps-inl.h"
#include "ThreadPool.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#ifndef SPARSENN_KERNELS_CONV_SPARSE_ONCE
#define SPARSENN_KERNELS_CONV_SPARSE_ONCE
namespace sparsenn {
namespace kernels {
namespace {
/// Output channels per work item (the L1 buffer holds 64 × 64 floats).
constexpr int64_t kChannelBlock = 64;
/// Grid positions per work item at most (4 vectors of the target).
constexpr int64_t kBlockPositions = 64;
/// Bytes of source one chunk of input channels may touch per work item.
constexpr int64_t kChunkBytes = 16384;
} // namespace
} // namespace kernels
} // namespace sparsenn
#endif

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// For output channels [0, nOut) of an item: buffer[o][0, V lanes-vectors)
/// (+)= sum of the channel's taps in [start[o·stride], start[o·stride + 1])
/// of val[t] · src[off[t] + lane]. `first`: the buffer starts at zero.
template <int V>
HWY_INLINE void chunkProduct(const float *HWY_RESTRICT src,
                             const int32_t *HWY_RESTRICT off,
                             const float *HWY_RESTRICT val,
                             const int32_t *start, int64_t stride,
                             int64_t nOut, float *HWY_RESTRICT buffer,
                             bool first) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  for (int64_t o = 0; o < nOut; ++o) {
    const int32_t t0 = start[o * stride], t1 = start[o * stride + 1];
    float *b = buffer + o * static_cast<int64_t>(V * n);
    if (t0 == t1 && !first)
      continue;
    auto a0 = first ? zero : hn::Load(d, b);
    auto a1 = V > 1 && !first ? hn::Load(d, b + n) : zero;
    auto a2 = V > 2 && !first ? hn::Load(d, b + 2 * n) : zero;
    auto a3 = V > 3 && !first ? hn::Load(d, b + 3 * n) : zero;
    accumulateTaps<V, /*Aligned=*/false>(
        d, val, t0, t1, [src, off](int64_t t) { return src + off[t]; }, a0, a1,
        a2, a3);
    hn::Store(a0, d, b);
    if (V > 1)
      hn::Store(a1, d, b + n);
    if (V > 2)
      hn::Store(a2, d, b + 2 * n);
    if (V > 3)
      hn::Store(a3, d, b + 3 * n);
  }
}

/// The item's product for `vectors` vectors of positions (1..4).
void itemProduct(int64_t vectors, const float *src, const int32_t *off,
                 const float *val, const int32_t *start, int64_t stride,
                 int64_t nOut, float *buffer, bool first) {
  switch (vectors) {
#define SPARSENN_CASE(V)                                                       \
  case V:                                                                      \
    return chunkProduct<V>(src, off, val, start, stride, nOut, buffer, first);
    SPARSENN_CASE(1)
    SPARSENN_CASE(2)
    SPARSENN_CASE(3)
    SPARSENN_CASE(4)
#undef SPARSENN_CASE
  default:
    return;
  }
}

int64_t convVectorLanes() {
  return static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(itemProduct);
HWY_EXPORT(convVectorLanes);

namespace {

/// Where each tap reads in the source, and the geometry of the source.
struct Geometry {
  bool direct;           // the input is the source
  int64_t ph, pw;        // a phase plane: rows, columns (= grid width)
  int64_t plane;         // floats of a phase plane
  int64_t channelFloats; // sh · sw phase planes
  int64_t groupFloats;   // of one image and group
  int64_t grid;          // oh · pw positions
  int64_t chunkChannels; // input channels per chunk
  int64_t chunks;
  int64_t blockVectors; // vectors of a work item's positions
  int64_t block;        // positions of a work item
};

Geometry geometryOf(const Conv2DParams &s) {
  Geometry g;
  const int64_t cpgIn = s.cIn / s.groups;
  g.direct = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 &&
             s.pl == 0 && s.pb == 0 && s.pr == 0;
  g.ph = (s.h + s.pt + s.pb + s.sh - 1) / s.sh;
  g.pw = (s.w + s.pl + s.pr + s.sw - 1) / s.sw;
  g.plane = g.ph * g.pw;
  // Planes a multiple of 512 bytes apart would put the rows a chunk reads
  // into a few L1 sets (14×14 padded: 1 KiB); one more cache line apart
  // spreads them.
  if (!g.direct && g.plane % 128 == 0)
    g.plane += 16;
  g.channelFloats = s.sh * s.sw * g.plane;
  g.groupFloats = cpgIn * g.channelFloats;
  g.grid = s.oh * g.pw;
  const int64_t lanes = HWY_DYNAMIC_DISPATCH(convVectorLanes)();
  const int64_t maxVectors = std::clamp<int64_t>(kBlockPositions / lanes, 1, 4);
  g.blockVectors =
      std::min(maxVectors, std::max<int64_t>(1, (g.grid + lanes - 1) / lanes));
  g.block = g.blockVectors * lanes;
  // A direct source has no slack past its last plane: every item then reads
  // whole blocks inside the grid, which needs one block of positions.
  if (g.direct && g.grid < g.block)
    g.direct = false;
  // Source bytes a work item reads per input channel: per phase plane, from
  // its lowest to its highest tap offset plus one block.
  int64_t perChannel = 0;
  for (int64_t a = 0; a < s.sh; ++a)
    for (int64_t b = 0; b < s.sw; ++b) {
      int64_t lo = INT64_MAX, hi = -1;
      for (int64_t r = 0; r < s.kh; ++r)
        for (int64_t q = 0; q < s.kw; ++q) {
          if (r * s.dh % s.sh != a || q * s.dw % s.sw != b)
            continue;
          int64_t o = r * s.dh / s.sh * g.pw + q * s.dw / s.sw;
          lo = std::min(lo, o), hi = std::max(hi, o);
        }
      if (hi >= 0)
        perChannel += (hi - lo + g.block) * 4;
    }
  g.chunkChannels = std::clamp<int64_t>(
      kChunkBytes / std::max<int64_t>(perChannel, 1), 1, cpgIn);
  g.chunks = (cpgIn + g.chunkChannels - 1) / g.chunkChannels;
  return g;
}

/// The taps re-expressed for a geometry: each tap's offset into the source
/// of its image and group, and per output channel the first tap of each
/// chunk (chunks + 1 entries; taps of a channel come in increasing row
/// order, so a chunk's taps are contiguous). Null if a tap's row is out of
/// range.
struct Plan {
  std::vector<int32_t> offsets;
  std::vector<int32_t> chunkStart;
};

std::unique_ptr<Plan> makePlan(const Conv2DParams &s, const Geometry &g,
                               const int32_t *tapPtr, const int32_t *tapIdx) {
  auto plan = std::make_unique<Plan>();
  const int64_t kk = s.kh * s.kw, nnz = tapPtr[s.cOut];
  plan->offsets.resize(nnz);
  plan->chunkStart.resize(s.cOut * (g.chunks + 1));
  for (int64_t o = 0; o < s.cOut; ++o) {
    int32_t *start = plan->chunkStart.data() + o * (g.chunks + 1);
    int64_t k = 0;
    for (int32_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t) {
      const int64_t row = tapIdx[t], c = row / kk, r = row / s.kw % s.kh,
                    q = row % s.kw;
      if (row < 0 || c >= s.cIn / s.groups)
        return nullptr;
      // A tap below the chunk reached so far (taps out of row order) is
      // still summed exactly once, in the current chunk.
      while (k <= c / g.chunkChannels)
        start[k++] = t;
      const int64_t ry = r * s.dh, cx = q * s.dw;
      plan->offsets[t] = static_cast<int32_t>(
          c * g.channelFloats + (ry % s.sh * s.sw + cx % s.sw) * g.plane +
          ry / s.sh * g.pw + cx / s.sw);
    }
    while (k <= g.chunks)
      start[k++] = tapPtr[o + 1];
  }
  return plan;
}

using PlanKey = std::array<int64_t, 23>;

const Plan *cachedPlan(const Conv2DParams &s, const Geometry &g,
                       const int32_t *tapPtr, const int32_t *tapIdx,
                       const float *tapVal) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<Plan>> plans;
  const int64_t nnz = tapPtr[s.cOut];
  PlanKey key{reinterpret_cast<intptr_t>(tapPtr),
              reinterpret_cast<intptr_t>(tapIdx),
              reinterpret_cast<intptr_t>(tapVal),
              static_cast<int64_t>(valueFingerprint(tapVal, nnz)),
              s.cIn,
              s.h,
              s.w,
              s.cOut,
              s.kh,
              s.kw,
              s.sh,
              s.sw,
              s.pt,
              s.pb,
              s.pl,
              s.pr,
              s.dh,
              s.dw,
              s.groups,
              g.block,
              g.chunkChannels,
              g.direct,
              nnz};
  std::lock_guard<std::mutex> lock(mutex);
  auto &slot = plans[key];
  if (!slot)
    slot = makePlan(s, g, tapPtr, tapIdx);
  return slot.get();
}

/// Input channel `in` of one image into its sh · sw phase planes of the
/// source at `out`: plane (a, b) row i column j = the padded input at row
/// i·sh + a, column j·sw + b (zero in the padding).
void copyChannel(const Conv2DParams &s, const Geometry &g, const float *in,
                 float *out) {
  for (int64_t a = 0; a < s.sh; ++a)
    for (int64_t b = 0; b < s.sw; ++b) {
      float *plane = out + (a * s.sw + b) * g.plane;
      // Columns j whose input column j·sw + off lies in [0, w).
      const int64_t off = b - s.pl;
      const int64_t lo =
          std::min<int64_t>(g.pw, off >= 0 ? 0 : (-off + s.sw - 1) / s.sw);
      const int64_t hi = std::max(
          lo, std::min<int64_t>(
                  g.pw, s.w - 1 - off < 0 ? 0 : (s.w - 1 - off) / s.sw + 1));
      for (int64_t i = 0; i < g.ph; ++i) {
        float *o = plane + i * g.pw;
        const int64_t iy = i * s.sh + a - s.pt;
        if (iy < 0 || iy >= s.h) {
          std::memset(o, 0, sizeof(float) * g.pw);
          continue;
        }
        const float *row = in + iy * s.w + off;
        std::memset(o, 0, sizeof(float) * lo);
        if (s.sw == 1)
          std::memcpy(o + lo, row + lo, sizeof(float) * (hi - lo));
        else
          for (int64_t j = lo; j < hi; ++j)
            o[j] = row[j * s.sw];
        std::memset(o + hi, 0, sizeof(float) * (g.pw - hi));
      }
      std::memset(plane + g.ph * g.pw, 0,
                  sizeof(float) * (g.plane - g.ph * g.pw));
    }
}

} // namespace

int conv2dSparseSpmm(const Conv2DParams &s, const float *x,
                     const int32_t *tapPtr, const int32_t *tapIdx,
                     const float *tapVal, const float *bias, float *y,
                     bool constantTaps, const Epilogue &ep) {
  const int64_t cpgOut = s.cOut / s.groups;
  const int64_t positions = s.oh * s.ow;
  if (s.n == 0 || positions == 0)
    return SPARSENN_OK;
  const Geometry g = geometryOf(s);
  // Offsets are 32-bit: one image's source must fit.
  const int64_t slack = g.block + g.pw + s.kw * s.dw + 64;
  if (s.groups * g.groupFloats + slack > INT32_MAX)
    return SPARSENN_ERR_RANGE;
  std::unique_ptr<Plan> own;
  const Plan *plan;
  try {
    if (constantTaps) {
      plan = cachedPlan(s, g, tapPtr, tapIdx, tapVal);
    } else {
      own = makePlan(s, g, tapPtr, tapIdx);
      plan = own.get();
    }
  } catch (const std::bad_alloc &) {
    return SPARSENN_ERR_NOMEM;
  }
  if (!plan)
    return SPARSENN_ERR_ARGUMENT;
  // A copied source has slack past its last plane for the last item's
  // positions beyond the grid and the dropped columns of the last row.
  Scratch source(g.direct ? 0
                          : sizeof(float) * (s.groups * g.groupFloats + slack));
  if (source.failed)
    return SPARSENN_ERR_NOMEM;
  if (!g.direct)
    std::memset(source.as<float>() + s.groups * g.groupFloats, 0,
                sizeof(float) * slack);
  const int64_t blocks = (g.grid + g.block - 1) / g.block;
  const int64_t cblocks = (cpgOut + kChannelBlock - 1) / kChannelBlock;
  const int64_t stride = g.chunks + 1;
  const int32_t *offsets = plan->offsets.data();
  const int32_t *chunkStart = plan->chunkStart.data();

  for (int64_t b = 0; b < s.n; ++b) {
    const float *image = x + b * s.cIn * s.h * s.w;
    const float *src = image;
    if (!g.direct) {
      float *dst = source.as<float>();
      threads::parallelFor(s.cIn, [&](int64_t c) {
        copyChannel(s, g, image + c * s.h * s.w, dst + c * g.channelFloats);
      });
      src = dst;
    }
    threads::parallelFor(s.groups * cblocks * blocks, [&](int64_t item) {
      const int64_t pblock = item % blocks, cb = item / blocks % cblocks,
                    grp = item / blocks / cblocks;
      // The item computes grid positions [q0, q0 + block) and stores
      // [from, to). A direct source has no slack, so there the last item is
      // moved back inside the grid (its first positions are the previous
      // item's, computed the same way, and not stored again).
      const int64_t from = pblock * g.block;
      const int64_t q0 = g.direct ? std::min(from, g.grid - g.block) : from;
      const int64_t to = std::min(from + g.block, g.grid);
      const int64_t o0 = grp * cpgOut + cb * kChannelBlock;
      const int64_t nOut = std::min(kChannelBlock, (grp + 1) * cpgOut - o0);
      alignas(64) float buffer[kChannelBlock * kBlockPositions];
      const float *base = src + grp * g.groupFloats + q0;
      for (int64_t k = 0; k < g.chunks; ++k)
        HWY_DYNAMIC_DISPATCH(itemProduct)(g.blockVectors, base, offsets,
                                          tapVal, chunkStart + o0 * stride + k,
                                          stride, nOut, buffer, k == 0);
      // Store the valid positions of [from, to): grid column < ow.
      for (int64_t o = 0; o < nOut; ++o) {
        const float *acc = buffer + o * g.block - q0; // indexed by position
        const int64_t oc = o0 + o;
        const float bo = bias ? bias[oc] : 0.0f;
        float *yo = y + (b * s.cOut + oc) * positions;
        const float *ro =
            ep.residual ? ep.residual + (b * s.cOut + oc) * positions : nullptr;
        if (g.pw == s.ow) {
          storeWithEpilogue(acc + from, to - from, bo,
                            ro ? ro + from : nullptr, ep.relu, yo + from);
          continue;
        }
        for (int64_t p = from; p < to;) {
          const int64_t oy = p / g.pw, ox = p % g.pw;
          const int64_t rowEnd = std::min(to, (oy + 1) * g.pw);
          const int64_t validEnd = std::min(rowEnd, oy * g.pw + s.ow);
          if (p < validEnd) {
            const int64_t at = oy * s.ow + ox;
            storeWithEpilogue(acc + p, validEnd - p, bo,
                              ro ? ro + at : nullptr, ep.relu, yo + at);
          }
          p = rowEnd;
        }
      }
    });
  }
  return SPARSENN_OK;
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
