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
// and split into the stride phases its taps read (of the sh · sw planes:
// rows i·sh + a, columns j·sw + b; a 1×1 stride-2 convolution copies only
// phase (0, 0)), into a "source" whose planes are PW floats wide; outputs
// are computed on a grid of the same width (oy · PW + ox; the columns
// ox >= OW are computed and dropped). On that grid every row of X is the
// source at a constant offset: tap (c, r, s) reads source[offset(c, r, s) +
// p]. A 1×1 convolution with stride 1 and no padding uses its input as the
// source.
//
// The product is output-stationary with register accumulators: a work item
// is a block of grid positions (up to 8 vectors, spread evenly over the
// grid so that the last block recomputes few positions) × up to 64 output
// channels, the blocks of positions outermost so that one block's source
// serves every output channel from L1/L2. For each chunk of input channels
// (sized so that its part of the source, two thirds of L1, stays there
// while every channel of the item reads it; 1×1 convolutions are not
// chunked) and each output channel, the channel's taps in the chunk are
// summed in vector registers (one broadcast and one load per FMA, no
// store; up to 4 vectors with the two-chain loop of SparseTaps-inl.h,
// shared with the ELL linear kernel, 5-8 with one chain per vector), the
// partial sums kept in an L1 buffer between chunks. The store applies
// bias, residual and ReLU and writes the item's valid positions. Measured
// in ResNet-50 (Zen 5, batch 1, one thread): 1×1 layers 1.2-1.8× and 3×3
// layers 1.05-1.1× faster than 64-position items in channel-block order
// with 16 KiB chunks, see docs/performance.md.
//
// The tap offsets and chunk bounds (the plan) are cached for weights that
// are compile-time constants (sparsenn_conv2d_sparse_const_f32) and rebuilt
// per call for run-time weights. Every output sums its taps in an order
// fixed by the shape, the taps and the SIMD target alone, whatever the
// split into items, so results do not depend on the thread count.
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

#include <unistd.h>

#ifndef SPARSENN_KERNELS_CONV_SPARSE_ONCE
#define SPARSENN_KERNELS_CONV_SPARSE_ONCE
namespace sparsenn {
namespace kernels {
namespace {
/// Output channels per work item (the L1 buffer holds 64 × 128 floats).
constexpr int64_t kChannelBlock = 64;
/// Grid positions per work item at most (up to 8 vectors of the target).
constexpr int64_t kBlockPositions = 128;
/// Vectors of positions per work item at most: 8 accumulators, one FMA
/// chain each, hide the FMA latency and fit 16 vector registers (AVX2).
constexpr int64_t kMaxBlockVectors = 8;

/// Bytes of source one chunk of input channels may touch per work item:
/// two thirds of the L1 data cache (32 KiB on a 48 KiB L1, 21 KiB on a
/// 32 KiB one), the rest for the partial sums and the taps. Measured on
/// ResNet-50's 3×3 layers (Zen 5, 48 KiB L1): 32 KiB 5-20 % faster than 16.
int64_t chunkBytes() {
  static const int64_t bytes = [] {
    long l1 = 0;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
    if (l1 < 16384 || l1 > (1 << 21))
      l1 = 32768;
    return static_cast<int64_t>(l1) * 2 / 3;
  }();
  return bytes;
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

/// For output channels [0, nOut) of an item: buffer[o][0, V lanes-vectors)
/// (+)= sum of the channel's taps in [start[o·stride], start[o·stride + 1])
/// of val[t] · src[off[t] + lane]. `first`: the buffer starts at zero.
/// Grouped: the range holds groups instead, group i the 16 taps of input
/// channels c0 .. c0 + 15 at one kernel position (SPGC8-aligned 1×16
/// groups), val[16·i + j] · src[off[i] + j · channelFloats + lane]: one
/// offset per 16 taps and a fixed trip count.
template <int V, bool Grouped>
HWY_INLINE void
chunkProduct(const float *HWY_RESTRICT src, const int32_t *HWY_RESTRICT off,
             const float *HWY_RESTRICT val, const int32_t *start,
             int64_t stride, int64_t nOut, float *HWY_RESTRICT buffer,
             bool first, int64_t channelFloats) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const auto zero = hn::Zero(d);
  for (int64_t o = 0; o < nOut; ++o) {
    const int32_t t0 = start[o * stride], t1 = start[o * stride + 1];
    float *b = buffer + o * static_cast<int64_t>(V * n);
    if (t0 == t1 && !first)
      continue;
    if constexpr (V > 4) {
      // Five to eight vectors: one FMA chain per vector is enough to hide
      // the latency, and 8 accumulators leave registers on AVX2.
      auto a0 = first ? zero : hn::Load(d, b);
      auto a1 = first ? zero : hn::Load(d, b + n);
      auto a2 = first ? zero : hn::Load(d, b + 2 * n);
      auto a3 = first ? zero : hn::Load(d, b + 3 * n);
      auto a4 = first ? zero : hn::Load(d, b + 4 * n);
      auto a5 = V > 5 && !first ? hn::Load(d, b + 5 * n) : zero;
      auto a6 = V > 6 && !first ? hn::Load(d, b + 6 * n) : zero;
      auto a7 = V > 7 && !first ? hn::Load(d, b + 7 * n) : zero;
#define SPARSENN_WIDE_TAP(weight, row)                                         \
  do {                                                                         \
    const auto w = hn::Set(d, weight);                                         \
    const float *p = row;                                                      \
    a0 = hn::MulAdd(w, hn::LoadU(d, p), a0);                                   \
    a1 = hn::MulAdd(w, hn::LoadU(d, p + n), a1);                               \
    a2 = hn::MulAdd(w, hn::LoadU(d, p + 2 * n), a2);                           \
    a3 = hn::MulAdd(w, hn::LoadU(d, p + 3 * n), a3);                           \
    a4 = hn::MulAdd(w, hn::LoadU(d, p + 4 * n), a4);                           \
    if (V > 5)                                                                 \
      a5 = hn::MulAdd(w, hn::LoadU(d, p + 5 * n), a5);                         \
    if (V > 6)                                                                 \
      a6 = hn::MulAdd(w, hn::LoadU(d, p + 6 * n), a6);                         \
    if (V > 7)                                                                 \
      a7 = hn::MulAdd(w, hn::LoadU(d, p + 7 * n), a7);                         \
  } while (false)
      if constexpr (Grouped) {
        for (int32_t i = t0; i < t1; ++i) {
          const float *group = src + off[i], *w16 = val + 16 * int64_t(i);
          for (int64_t j = 0; j < 16; ++j)
            SPARSENN_WIDE_TAP(w16[j], group + j * channelFloats);
        }
      } else {
        for (int32_t t = t0; t < t1; ++t)
          SPARSENN_WIDE_TAP(val[t], src + off[t]);
      }
#undef SPARSENN_WIDE_TAP
      hn::Store(a0, d, b);
      hn::Store(a1, d, b + n);
      hn::Store(a2, d, b + 2 * n);
      hn::Store(a3, d, b + 3 * n);
      hn::Store(a4, d, b + 4 * n);
      if (V > 5)
        hn::Store(a5, d, b + 5 * n);
      if (V > 6)
        hn::Store(a6, d, b + 6 * n);
      if (V > 7)
        hn::Store(a7, d, b + 7 * n);
      continue;
    }
    auto a0 = first ? zero : hn::Load(d, b);
    auto a1 = V > 1 && !first ? hn::Load(d, b + n) : zero;
    auto a2 = V > 2 && !first ? hn::Load(d, b + 2 * n) : zero;
    auto a3 = V > 3 && !first ? hn::Load(d, b + 3 * n) : zero;
    if constexpr (Grouped) {
      for (int32_t i = t0; i < t1; ++i) {
        const float *group = src + off[i];
        accumulateTaps<V, /*Aligned=*/false>(
            d, val + 16 * int64_t(i), 0, 16,
            [group, channelFloats](int64_t j) {
              return group + j * channelFloats;
            },
            a0, a1, a2, a3);
      }
    } else {
      accumulateTaps<V, /*Aligned=*/false>(
          d, val, t0, t1, [src, off](int64_t t) { return src + off[t]; }, a0,
          a1, a2, a3);
    }
    hn::Store(a0, d, b);
    if (V > 1)
      hn::Store(a1, d, b + n);
    if (V > 2)
      hn::Store(a2, d, b + 2 * n);
    if (V > 3)
      hn::Store(a3, d, b + 3 * n);
  }
}

/// The item's product for `vectors` vectors of positions (1..8).
void itemProduct(int64_t vectors, bool grouped, const float *src,
                 const int32_t *off, const float *val, const int32_t *start,
                 int64_t stride, int64_t nOut, float *buffer, bool first,
                 int64_t channelFloats) {
  switch (vectors) {
#define SPARSENN_CASE(V)                                                       \
  case V:                                                                      \
    return grouped                                                             \
               ? chunkProduct<V, true>(src, off, val, start, stride, nOut,     \
                                       buffer, first, channelFloats)           \
               : chunkProduct<V, false>(src, off, val, start, stride, nOut,    \
                                        buffer, first, channelFloats);
    SPARSENN_CASE(1)
    SPARSENN_CASE(2)
    SPARSENN_CASE(3)
    SPARSENN_CASE(4)
    SPARSENN_CASE(5)
    SPARSENN_CASE(6)
    SPARSENN_CASE(7)
    SPARSENN_CASE(8)
#undef SPARSENN_CASE
  default:
    return;
  }
}

/// o[j] = row[2·j] for j from lo while the vectors read stay below
/// row[inRow]; returns the first j not copied.
int64_t copyEvenColumns(const float *HWY_RESTRICT row, int64_t lo, int64_t hi,
                        int64_t inRow, float *HWY_RESTRICT o) {
  int64_t j = lo;
#if HWY_TARGET != HWY_SCALAR // one lane: no ConcatEven, the caller loops
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  for (; j + n <= hi && 2 * (j + n) <= inRow; j += n) {
    const auto v0 = hn::LoadU(d, row + 2 * j);
    const auto v1 = hn::LoadU(d, row + 2 * j + n);
    hn::StoreU(hn::ConcatEven(d, v1, v0), d, o + j);
  }
#else
  (void)row, (void)hi, (void)inRow, (void)o;
#endif
  return j;
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
HWY_EXPORT(copyEvenColumns);

namespace {

/// Where each tap reads in the source, and the geometry of the source.
struct Geometry {
  bool direct;    // the input is the source
  int64_t ph, pw; // a phase plane: rows, columns (= grid width)
  int64_t plane;  // floats of a phase plane
  // Phase (a, b) -> its plane among the phases some tap reads, or -1: a
  // 1×1 stride-2 convolution copies only phase (0, 0), a quarter.
  std::vector<int32_t> phaseSlot;
  int64_t channelFloats; // the used phase planes
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
  g.phaseSlot.assign(s.sh * s.sw, -1);
  int32_t used = 0;
  for (int64_t r = 0; r < s.kh; ++r)
    for (int64_t q = 0; q < s.kw; ++q) {
      int32_t &slot = g.phaseSlot[r * s.dh % s.sh * s.sw + q * s.dw % s.sw];
      if (slot < 0)
        slot = used++;
    }
  g.channelFloats = used * g.plane;
  g.groupFloats = cpgIn * g.channelFloats;
  g.grid = s.oh * g.pw;
  const int64_t lanes = HWY_DYNAMIC_DISPATCH(convVectorLanes)();
  const int64_t maxVectors =
      std::clamp<int64_t>(kBlockPositions / lanes, 1, kMaxBlockVectors);
  // As many vectors per item as fit, spread evenly over the items the grid
  // needs, so that the last item (moved back inside the grid or past it)
  // recomputes few positions: 14×14 = 13 vectors of 16 -> 2 items of 7.
  const int64_t needed = std::max<int64_t>(1, (g.grid + lanes - 1) / lanes);
  const int64_t items = (needed + maxVectors - 1) / maxVectors;
  g.blockVectors = (needed + items - 1) / items;
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
  // A 1×1 convolution reads each channel's block once per output channel
  // and no halo: chunking only adds the partial-sum round trips (measured
  // 1.1-2× slower on ResNet-50's 1×1 layers with cold caches), so it is
  // not chunked; the others keep a chunk's source in L1.
  g.chunkChannels =
      s.kh * s.kw == 1
          ? cpgIn
          : std::clamp<int64_t>(chunkBytes() / std::max<int64_t>(perChannel, 1),
                                1, cpgIn);
  g.chunks = (cpgIn + g.chunkChannels - 1) / g.chunkChannels;
  return g;
}

/// The taps re-expressed for a geometry: each tap's offset into the source
/// of its image and group, and per output channel the first tap of each
/// chunk (chunks + 1 entries; taps of a channel come in increasing row
/// order, so a chunk's taps are contiguous). Null if a tap's row is out of
/// range. Grouped: every output channel's taps form whole SPGC8-aligned
/// groups (16 input channels c0 = 0 mod 16 at one kernel position), so the
/// plan holds one offset per group and the values in group order, and
/// chunks are whole groups.
struct Plan {
  bool grouped = false;
  int64_t chunks = 0;
  std::vector<int32_t> offsets;    // per tap, or per group
  std::vector<int32_t> chunkStart; // of taps, or of groups
  std::vector<float> groupValues;  // grouped: 16 per group
};

int32_t tapOffset(const Conv2DParams &s, const Geometry &g, int64_t c,
                  int64_t r, int64_t q) {
  const int64_t ry = r * s.dh, cx = q * s.dw;
  return static_cast<int32_t>(c * g.channelFloats +
                              g.phaseSlot[ry % s.sh * s.sw + cx % s.sw] *
                                  g.plane +
                              ry / s.sh * g.pw + cx / s.sw);
}

/// The grouped plan, or null when some output channel has a partial group
/// (or the channels per group are not a multiple of 16).
std::unique_ptr<Plan> makeGroupedPlan(const Conv2DParams &s, const Geometry &g,
                                      const int32_t *tapPtr,
                                      const int32_t *tapIdx,
                                      const float *tapVal) {
  constexpr int64_t kGroup = 16;
  const int64_t kk = s.kh * s.kw, cpgIn = s.cIn / s.groups;
  if (cpgIn % kGroup != 0 || tapPtr[s.cOut] % kGroup != 0)
    return nullptr;
  auto plan = std::make_unique<Plan>();
  plan->grouped = true;
  const int64_t chunkChannels =
      std::max<int64_t>(kGroup, g.chunkChannels / kGroup * kGroup);
  plan->chunks = (cpgIn + chunkChannels - 1) / chunkChannels;
  const int64_t keys = cpgIn / kGroup * kk;
  // Per key (channel block, kernel position) of the current output channel:
  // its group's rank among the channel's groups, and the channels seen.
  std::vector<int32_t> rank(keys, -1);
  std::vector<uint16_t> seen(keys, 0);
  std::vector<int32_t> present;
  plan->chunkStart.resize(s.cOut * (plan->chunks + 1));
  plan->offsets.reserve(tapPtr[s.cOut] / kGroup);
  plan->groupValues.resize(tapPtr[s.cOut]);
  for (int64_t o = 0; o < s.cOut; ++o) {
    present.clear();
    for (int32_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t) {
      const int64_t row = tapIdx[t], c = row / kk;
      if (row < 0 || c >= cpgIn)
        return nullptr;
      const int64_t key = c / kGroup * kk + row % kk;
      const uint16_t bit = static_cast<uint16_t>(1u << (c % kGroup));
      if (seen[key] & bit)
        return nullptr; // a repeated tap
      if (!seen[key])
        present.push_back(static_cast<int32_t>(key));
      seen[key] |= bit;
    }
    bool whole = true;
    for (int32_t key : present)
      whole = whole && seen[key] == 0xFFFF;
    if (!whole)
      return nullptr;
    // Groups in (channel block, kernel position) order: chunks contiguous.
    std::sort(present.begin(), present.end());
    const int64_t first = static_cast<int64_t>(plan->offsets.size());
    int32_t *start = plan->chunkStart.data() + o * (plan->chunks + 1);
    int64_t k = 0;
    for (size_t i = 0; i < present.size(); ++i) {
      const int64_t key = present[i], c0 = key / kk * kGroup, rs = key % kk;
      while (k <= c0 / chunkChannels)
        start[k++] = static_cast<int32_t>(first + i);
      rank[key] = static_cast<int32_t>(i);
      plan->offsets.push_back(tapOffset(s, g, c0, rs / s.kw, rs % s.kw));
    }
    while (k <= plan->chunks)
      start[k++] = static_cast<int32_t>(first + present.size());
    for (int32_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t) {
      const int64_t row = tapIdx[t], c = row / kk;
      const int64_t key = c / kGroup * kk + row % kk;
      plan->groupValues[(first + rank[key]) * kGroup + c % kGroup] = tapVal[t];
    }
    for (int32_t key : present)
      seen[key] = 0, rank[key] = -1;
  }
  return plan;
}

std::unique_ptr<Plan> makePlan(const Conv2DParams &s, const Geometry &g,
                               const int32_t *tapPtr, const int32_t *tapIdx,
                               const float *tapVal, bool tryGroups) {
  if (tryGroups)
    if (auto grouped = makeGroupedPlan(s, g, tapPtr, tapIdx, tapVal))
      return grouped;
  auto plan = std::make_unique<Plan>();
  const int64_t kk = s.kh * s.kw, nnz = tapPtr[s.cOut];
  plan->chunks = g.chunks;
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
      plan->offsets[t] = tapOffset(s, g, c, r, q);
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
    slot = makePlan(s, g, tapPtr, tapIdx, tapVal, /*tryGroups=*/true);
  return slot.get();
}

/// Input channel `in` of one image into its used phase planes of the
/// source at `out`: plane (a, b) row i column j = the padded input at row
/// i·sh + a, column j·sw + b (zero in the padding).
void copyChannel(const Conv2DParams &s, const Geometry &g, const float *in,
                 float *out) {
  for (int64_t a = 0; a < s.sh; ++a)
    for (int64_t b = 0; b < s.sw; ++b) {
      const int32_t slot = g.phaseSlot[a * s.sw + b];
      if (slot < 0)
        continue;
      float *plane = out + slot * g.plane;
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
        if (s.sw == 1) {
          std::memcpy(o + lo, row + lo, sizeof(float) * (hi - lo));
        } else if (s.sw == 2) {
          // Vectors while the pair of input vectors stays inside the row.
          const int64_t inRow = s.w - off; // floats readable from row[0]
          const int64_t j =
              HWY_DYNAMIC_DISPATCH(copyEvenColumns)(row, lo, hi, inRow, o);
          for (int64_t k = j; k < hi; ++k)
            o[k] = row[k * 2];
        } else {
          for (int64_t j = lo; j < hi; ++j)
            o[j] = row[j * s.sw];
        }
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
      own = makePlan(s, g, tapPtr, tapIdx, tapVal, /*tryGroups=*/false);
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
  const int64_t chunks = plan->chunks, stride = chunks + 1;
  const int32_t *offsets = plan->offsets.data();
  const int32_t *chunkStart = plan->chunkStart.data();
  const float *values = plan->grouped ? plan->groupValues.data() : tapVal;

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
    // Positions outermost: the items of one block of positions share its
    // source (from L1/L2) across every output channel, and only the small
    // per-channel taps are read again for the next block.
    threads::parallelFor(s.groups * cblocks * blocks, [&](int64_t item) {
      const int64_t cb = item % cblocks, grp = item / cblocks % s.groups,
                    pblock = item / cblocks / s.groups;
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
      // Unchunked, the sums go from the registers through a small part of
      // the buffer to the output, 8 channels at a time, so that the rest of
      // L1 keeps the source; chunked, the whole block's partial sums stay.
      const int64_t step = chunks == 1 ? 8 : nOut;
      for (int64_t s0 = 0; s0 < nOut; s0 += step) {
        const int64_t m = std::min(step, nOut - s0);
        for (int64_t k = 0; k < chunks; ++k)
          HWY_DYNAMIC_DISPATCH(itemProduct)
        (g.blockVectors, plan->grouped, base, offsets, values,
         chunkStart + (o0 + s0) * stride + k, stride, m, buffer, k == 0,
         g.channelFloats);
        // Store the valid positions of [from, to): grid column < ow.
        for (int64_t o = 0; o < m; ++o) {
          const float *acc = buffer + o * g.block - q0; // indexed by position
          const int64_t oc = o0 + s0 + o;
          const float bo = bias ? bias[oc] : 0.0f;
          float *yo = y + (b * s.cOut + oc) * positions;
          const float *ro = ep.residual
                                ? ep.residual + (b * s.cOut + oc) * positions
                                : nullptr;
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
      }
    });
  }
  return SPARSENN_OK;
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
