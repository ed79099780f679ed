//===- KernelsConvSparse.cpp - sparse conv2d as sparse x dense products ---===//
//
// One source for every SIMD target (Google Highway, dispatched at run time:
// AVX2, AVX-512, NEON, SVE, ...). A convolution with sparse filters is the
// sparse matrix W [C_out, C_in/g · kH · kW] (the non-zero taps) times the
// im2col matrix X [C_in/g · kH · kW, OH · OW] of each image and group:
// y[o, p] = bias[o] + sum over taps t of o of val[t] · X[idx[t], p], the
// positions p in the vector lanes, so zero weights cost nothing (seed 000
// [0035], [0044]). This is the sparse-matrix-times-spatial-positions scheme
// of Elsen et al., "Fast Sparse ConvNets", in NCHW, for any kernel, stride,
// dilation, padding and groups.
//
// Layout and kernel (measured on ResNet-50 layers, docs/performance.md):
//  * X is gathered in panels of 64 positions: panel q holds rows 0..rows-1
//    of positions [64q, 64q + 64), 64 floats a row, then one zero row. A
//    row of a position block is one contiguous 256-byte run, so a chunk of
//    rows is contiguous (no L1 set aliasing, which row-major X with a
//    power-of-two stride suffered, 2× on 14×14 layers).
//  * Output-stationary: a work item is a block of positions (4 vectors, at
//    most 64) × a block of 64 output channels. Its channels are walked two
//    at a time in lockstep (8 accumulator vectors), over chunks of 128 rows
//    (32 KiB of the panel, L1-resident) with partial sums in an L1 buffer.
//    The two channels of a pair are the ones with the most similar tap
//    counts in the chunk, and the shorter list is padded with (zero row,
//    -0.0f), which adds exactly nothing: one loop exit per pair instead of
//    one mispredicted exit per channel.
//  * The epilogue (residual add, ReLU) is applied when the last chunk
//    stores the outputs.
// This measured 1.2-1.9× faster than keeping outputs in an L1 buffer while
// streaming rows (row-stationary) and than one channel at a time (CSR),
// on AVX-512 and on AVX2.
//
// The grouped taps are cached for weights that are compile-time constants
// (sparsenn_conv2d_sparse_const_f32) and rebuilt per call for run-time
// weights. Work items (rows of X to gather; position blocks × channel
// blocks to multiply) are fixed by the shape alone, and each output sums its
// taps in increasing row order (plus exact zeros), so results do not depend
// on the thread count.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsConvSparse.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "KernelsInternal.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <tuple>
#include <vector>

#ifndef SPARSENN_KERNELS_CONV_SPARSE_ONCE
#define SPARSENN_KERNELS_CONV_SPARSE_ONCE
namespace sparsenn {
namespace kernels {
namespace {
/// Output channels per block.
constexpr int64_t kChannelBlock = 64;
/// Channels walked in lockstep (8 accumulators: fits AVX2's 16 registers).
constexpr int kLockstep = 2;
/// Positions per panel row (whole vectors of every target).
constexpr int64_t kPanel = 64;
/// Rows per chunk: 32 KiB of a panel, kept in L1 while a block walks it.
constexpr int64_t kChunkRows = 32 * 1024 / (kPanel * 4);

struct Tap {
  int32_t offset; // row * kPanel
  float value;
};

/// The taps grouped for the kernel, per (group, channel block, chunk).
struct TapGroups {
  int64_t chunks = 0, blocks = 0;
  std::vector<int64_t> segment; // per (group, block, chunk) + 1: first pair
  std::vector<int32_t> channel; // per pair, kLockstep channels of the block
                                //   (a channel >= nOut is padding)
  std::vector<int64_t> first;   // per pair + 1: first tap ([step][kLockstep])
  std::vector<Tap> taps;
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

/// One work item: positions [0, len) (len <= V vectors) of one channel
/// block. x: the position block inside its panel (row r at x + r·kPanel);
/// segment: the block's chunks + 1 entries into channel/first.
/// Stores one channel's V accumulators (a0..a3) to the L1 buffer (not the
/// last chunk) or, with the epilogue, to y.
template <int V, class D, class Vec>
HWY_INLINE void storeChannel(D d, int64_t ch, int64_t nOut, bool lastChunk,
                             float *HWY_RESTRICT buffer, float *y, int64_t ldy,
                             int64_t len, const float *residual, bool relu,
                             Vec a0, Vec a1, Vec a2, Vec a3) {
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const int64_t width = V * n;
  if (!lastChunk) {
    float *b = buffer + ch * width;
    hn::Store(a0, d, b);
    if (V > 1)
      hn::Store(a1, d, b + n);
    if (V > 2)
      hn::Store(a2, d, b + 2 * n);
    if (V > 3)
      hn::Store(a3, d, b + 3 * n);
    return;
  }
  if (ch >= nOut)
    return; // the padding channel of an odd block
  float *out = y + ch * ldy;
  const float *res = residual ? residual + ch * ldy : nullptr;
  const auto zero = hn::Zero(d);
  for (int v = 0; v < V; ++v) {
    const int64_t left = len - v * n;
    if (left <= 0)
      break;
    auto r = v == 0 ? a0 : v == 1 ? a1 : v == 2 ? a2 : a3;
    if (left >= n) {
      if (res)
        r = hn::Add(r, hn::LoadU(d, res + v * n));
      if (relu)
        r = hn::Max(zero, r); // a NaN stays NaN, as with arith.maximumf
      hn::StoreU(r, d, out + v * n);
      continue;
    }
    // A partial vector: through a local copy, so that nothing past the row
    // is read or written (the next row is another item's).
    HWY_ALIGN float part[HWY_MAX_BYTES / sizeof(float)];
    hn::Store(r, d, part);
    for (int64_t i = 0; i < left; ++i) {
      float value = part[i] + (res ? res[v * n + i] : 0.0f);
      out[v * n + i] = relu && value <= 0.0f ? 0.0f : value;
    }
  }
}

/// One work item: positions [0, len) (len <= V vectors) of one channel
/// block. x: the position block inside its panel (row r at x + r·kPanel);
/// segment: the block's chunks + 1 entries into channel/first. Named
/// accumulators, not arrays: SVE vectors cannot be array elements.
template <int V>
HWY_NOINLINE void pairedBlock(const float *HWY_RESTRICT x,
                              const int64_t *segment, int64_t chunks,
                              const int32_t *channel, const int64_t *first,
                              const Tap *taps, const float *bias, int64_t nOut,
                              float *HWY_RESTRICT buffer, float *y,
                              int64_t ldy, int64_t len, const float *residual,
                              bool relu) {
  static_assert(kLockstep == 2, "the kernel walks two channels at a time");
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const int64_t width = V * n;
  for (int64_t c = 0; c < chunks; ++c) {
    const bool firstChunk = c == 0, lastChunk = c == chunks - 1;
    for (int64_t pair = segment[c]; pair < segment[c + 1]; ++pair) {
      const int64_t c0 = channel[2 * pair], c1 = channel[2 * pair + 1];
      auto init = [&](int64_t ch, int v) {
        if (firstChunk)
          return hn::Set(d, bias && ch < nOut ? bias[ch] : 0.0f);
        return hn::Load(d, buffer + ch * width + v * n);
      };
      auto a00 = init(c0, 0), a10 = init(c1, 0);
      auto a01 = V > 1 ? init(c0, 1) : a00, a11 = V > 1 ? init(c1, 1) : a10;
      auto a02 = V > 2 ? init(c0, 2) : a00, a12 = V > 2 ? init(c1, 2) : a10;
      auto a03 = V > 3 ? init(c0, 3) : a00, a13 = V > 3 ? init(c1, 3) : a10;
      for (const Tap *t = taps + first[pair], *end = taps + first[pair + 1];
           t != end; t += 2) {
        const auto w0 = hn::Set(d, t[0].value), w1 = hn::Set(d, t[1].value);
        const float *r0 = x + t[0].offset, *r1 = x + t[1].offset;
        a00 = hn::MulAdd(w0, hn::LoadU(d, r0), a00);
        a10 = hn::MulAdd(w1, hn::LoadU(d, r1), a10);
        if (V > 1) {
          a01 = hn::MulAdd(w0, hn::LoadU(d, r0 + n), a01);
          a11 = hn::MulAdd(w1, hn::LoadU(d, r1 + n), a11);
        }
        if (V > 2) {
          a02 = hn::MulAdd(w0, hn::LoadU(d, r0 + 2 * n), a02);
          a12 = hn::MulAdd(w1, hn::LoadU(d, r1 + 2 * n), a12);
        }
        if (V > 3) {
          a03 = hn::MulAdd(w0, hn::LoadU(d, r0 + 3 * n), a03);
          a13 = hn::MulAdd(w1, hn::LoadU(d, r1 + 3 * n), a13);
        }
      }
      storeChannel<V>(d, c0, nOut, lastChunk, buffer, y, ldy, len, residual,
                      relu, a00, a01, a02, a03);
      storeChannel<V>(d, c1, nOut, lastChunk, buffer, y, ldy, len, residual,
                      relu, a10, a11, a12, a13);
    }
  }
}

/// Dispatch on the vector length: at most 64 positions per block.
void multiplyBlock(const float *x, const int64_t *segment, int64_t chunks,
                   const int32_t *channel, const int64_t *first,
                   const Tap *taps, const float *bias, int64_t nOut,
                   float *buffer, float *y, int64_t ldy, int64_t len,
                   const float *residual, bool relu) {
  const int64_t n = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  if (n <= kPanel / 4)
    pairedBlock<4>(x, segment, chunks, channel, first, taps, bias, nOut,
                   buffer, y, ldy, len, residual, relu);
  else if (n <= kPanel / 2)
    pairedBlock<2>(x, segment, chunks, channel, first, taps, bias, nOut,
                   buffer, y, ldy, len, residual, relu);
  else
    pairedBlock<1>(x, segment, chunks, channel, first, taps, bias, nOut,
                   buffer, y, ldy, len, residual, relu);
}

int64_t blockPositions() {
  const int64_t n = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  return std::min<int64_t>(kPanel, n <= kPanel / 4 ? 4 * n : kPanel);
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(multiplyBlock);
HWY_EXPORT(blockPositions);

namespace {

// Rows of X gathered per work item.
constexpr int64_t kGatherRows = 16;
// Panels of at most this many floats (per image and group: depthwise and
// small grouped convolutions) are gathered by the item that uses them.
constexpr int64_t kLocalX = 32768;

/// Rows [r0, r1) of X (tap order (c, r, s)) for output positions
/// [p0, p0 + len) of image-group plane xg, into rows of ldx floats (row r
/// at x + (r - r0)·ldx, column j = position p0 + j); zero where a tap falls
/// into the padding and in the columns past len.
void gatherRows(const Conv2DParams &s, const float *xg, int64_t r0, int64_t r1,
                int64_t p0, int64_t len, float *x, int64_t ldx) {
  const int64_t oyFirst = p0 / s.ow, oyLast = (p0 + len - 1) / s.ow;
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t c = row / (s.kh * s.kw), r = row / s.kw % s.kh,
                  q = row % s.kw;
    const float *plane = xg + c * s.h * s.w;
    float *out = x + (row - r0) * ldx - p0; // indexed by position
    // ix = ox * sw + off lies in [0, w) for ox in [lo, hi).
    const int64_t off = q * s.dw - s.pl;
    const int64_t lo =
        std::min<int64_t>(s.ow, off >= 0 ? 0 : (-off + s.sw - 1) / s.sw);
    const int64_t hi =
        std::max(lo, std::min<int64_t>(
                         s.ow, s.w - 1 - off < 0 ? 0 : (s.w - 1 - off) / s.sw + 1));
    const int64_t rowOff = r * s.dh - s.pt; // iy = oy * sh + rowOff
    for (int64_t oy = oyFirst; oy <= oyLast; ++oy) {
      // This output row's positions inside the range.
      const int64_t a = std::max<int64_t>(0, p0 - oy * s.ow);
      const int64_t e = std::min<int64_t>(s.ow, p0 + len - oy * s.ow);
      float *o = out + oy * s.ow;
      const int64_t iy = oy * s.sh + rowOff;
      if (iy < 0 || iy >= s.h) {
        for (int64_t ox = a; ox < e; ++ox)
          o[ox] = 0.0f;
        continue;
      }
      const float *in = plane + iy * s.w + off;
      const int64_t va = std::clamp(lo, a, e), vb = std::clamp(hi, a, e);
      for (int64_t ox = a; ox < va; ++ox)
        o[ox] = 0.0f;
      if (s.sw == 1)
        std::memcpy(o + va, in + va, sizeof(float) * (vb - va));
      else
        for (int64_t ox = va; ox < vb; ++ox)
          o[ox] = in[ox * s.sw];
      for (int64_t ox = vb; ox < e; ++ox)
        o[ox] = 0.0f;
    }
    std::memset(x + (row - r0) * ldx + len, 0, sizeof(float) * (ldx - len));
  }
}

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// Floats of the panels of `positions` positions and `rows` rows.
int64_t panelFloats(int64_t rows, int64_t positions) {
  return roundUp(positions, kPanel) / kPanel * (rows + 1) * kPanel;
}

/// Rows [r0, r1) of the panels for positions [p0, p0 + len) (p0 a multiple
/// of kPanel; the panels start at position p0), and the zero rows when r1 is
/// the last row. `row` is scratch of roundUp(len, kPanel) floats.
void gatherPanels(const Conv2DParams &s, const float *xg, int64_t rows,
                  int64_t r0, int64_t r1, int64_t p0, int64_t len,
                  float *panels, float *row) {
  const int64_t padded = roundUp(len, kPanel), stride = (rows + 1) * kPanel;
  for (int64_t r = r0; r < r1; ++r) {
    gatherRows(s, xg, r, r + 1, p0, len, row, padded);
    for (int64_t q = 0; q * kPanel < padded; ++q)
      std::memcpy(panels + q * stride + r * kPanel, row + q * kPanel,
                  sizeof(float) * kPanel);
  }
  if (r1 == rows)
    for (int64_t q = 0; q * kPanel < padded; ++q)
      std::memset(panels + q * stride + rows * kPanel, 0,
                  sizeof(float) * kPanel);
}

/// Groups the taps (CSR per output channel, rows increasing) for the
/// kernel: per group, channel block and chunk of rows, the channels sorted
/// by their tap count in the chunk (stable) and paired, the pair's taps
/// interleaved and the shorter list padded with (zero row, -0.0f).
std::unique_ptr<TapGroups> groupTaps(const Conv2DParams &s,
                                     const int32_t *tapPtr,
                                     const int32_t *tapIdx,
                                     const float *tapVal) {
  auto p = std::make_unique<TapGroups>();
  const int64_t cpgOut = s.cOut / s.groups;
  const int64_t rows = s.cIn / s.groups * s.kh * s.kw;
  p->chunks = std::max<int64_t>(1, (rows + kChunkRows - 1) / kChunkRows);
  p->blocks = (cpgOut + kChannelBlock - 1) / kChannelBlock;
  const Tap padding{static_cast<int32_t>(rows * kPanel), -0.0f};
  p->segment.push_back(0);
  p->first.push_back(0);
  std::vector<std::vector<Tap>> per(kChannelBlock);
  std::vector<int> order(kChannelBlock);
  std::vector<int32_t> cursor(kChannelBlock);
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t bl = 0; bl < p->blocks; ++bl) {
      const int64_t o0 = g * cpgOut + bl * kChannelBlock;
      const int64_t nOut = std::min(kChannelBlock, (g + 1) * cpgOut - o0);
      for (int64_t o = 0; o < nOut; ++o)
        cursor[o] = tapPtr[o0 + o];
      for (int64_t c = 0; c < p->chunks; ++c) {
        const int64_t rowEnd = std::min(rows, (c + 1) * kChunkRows);
        for (int64_t o = 0; o < nOut; ++o) {
          per[o].clear();
          for (int32_t &t = cursor[o]; t < tapPtr[o0 + o + 1] &&
                                       tapIdx[t] < rowEnd;
               ++t)
            per[o].push_back(
                {static_cast<int32_t>(tapIdx[t] * kPanel), tapVal[t]});
          order[o] = static_cast<int>(o);
        }
        // Most taps first, ties in channel order (a stable order).
        std::sort(order.begin(), order.begin() + nOut, [&](int a, int b) {
          return per[a].size() != per[b].size() ? per[a].size() > per[b].size()
                                                : a < b;
        });
        for (int64_t i = 0; i < nOut; i += kLockstep) {
          size_t steps = 0;
          int ch[kLockstep];
          for (int k = 0; k < kLockstep; ++k) {
            ch[k] = i + k < nOut ? order[i + k] : static_cast<int>(nOut);
            p->channel.push_back(ch[k]);
            if (ch[k] < nOut)
              steps = std::max(steps, per[ch[k]].size());
          }
          for (size_t st = 0; st < steps; ++st)
            for (int k = 0; k < kLockstep; ++k)
              p->taps.push_back(ch[k] < nOut && st < per[ch[k]].size()
                                    ? per[ch[k]][st]
                                    : padding);
          p->first.push_back(static_cast<int64_t>(p->taps.size()));
        }
        p->segment.push_back(static_cast<int64_t>(p->first.size() - 1));
      }
    }
  return p;
}

using PlanKey = std::tuple<const int32_t *, const int32_t *, const float *,
                           int64_t, int64_t, int64_t, int64_t, int64_t,
                           uint64_t>;

const TapGroups *cachedPlan(const Conv2DParams &s, const int32_t *tapPtr,
                            const int32_t *tapIdx, const float *tapVal) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<TapGroups>> plans;
  int64_t nnz = tapPtr[s.cOut];
  PlanKey key{tapPtr, tapIdx, tapVal, s.cOut, s.cIn, s.kh, s.kw, s.groups,
              valueFingerprint(tapVal, nnz)};
  std::lock_guard<std::mutex> lock(mutex);
  auto &slot = plans[key];
  if (!slot)
    slot = groupTaps(s, tapPtr, tapIdx, tapVal);
  return slot.get();
}

/// A per-thread buffer of at least `count` floats, 256-byte aligned, kept
/// between calls; null when it cannot be allocated.
float *threadBuffer(int64_t count) {
  thread_local std::unique_ptr<float[]> storage;
  thread_local int64_t capacity = 0;
  thread_local float *aligned = nullptr;
  if (capacity < count) {
    storage.reset(new (std::nothrow) float[count + 64]);
    capacity = storage ? count : 0;
    uintptr_t a = reinterpret_cast<uintptr_t>(storage.get());
    aligned = storage ? reinterpret_cast<float *>((a + 255) / 256 * 256)
                      : nullptr;
  }
  return aligned;
}

} // namespace

int conv2dSparseSpmm(const Conv2DParams &s, const float *x,
                     const int32_t *tapPtr, const int32_t *tapIdx,
                     const float *tapVal, const float *bias, float *y,
                     bool constantTaps, const Epilogue &ep) {
  const int64_t cpgIn = s.cIn / s.groups, cpgOut = s.cOut / s.groups;
  const int64_t rows = cpgIn * s.kh * s.kw, positions = s.oh * s.ow;
  if (s.n == 0 || positions == 0)
    return SPARSENN_K_OK;
  std::unique_ptr<TapGroups> own;
  const TapGroups *plan;
  try {
    if (constantTaps) {
      plan = cachedPlan(s, tapPtr, tapIdx, tapVal);
    } else {
      own = groupTaps(s, tapPtr, tapIdx, tapVal);
      plan = own.get();
    }
  } catch (const std::bad_alloc &) {
    return SPARSENN_K_ERR_NOMEM;
  }
  const int64_t blocks = plan->blocks;
  const int64_t width = HWY_DYNAMIC_DISPATCH(blockPositions)();
  const int64_t panelStride = (rows + 1) * kPanel;
  auto planeOf = [&](int64_t b, int64_t g) {
    return x + (b * s.cIn + g * cpgIn) * s.h * s.w;
  };
  std::atomic<bool> noMemory{false};
  // Positions [p0, p0 + len) of channel block bl of group g, image b, from
  // panels that start at position pBase.
  auto run = [&](const float *panels, int64_t pBase, int64_t b, int64_t g,
                 int64_t bl, int64_t p0, int64_t len) {
    float *buffer = threadBuffer(kChannelBlock * width);
    if (!buffer) {
      noMemory = true; // each item writes only its own outputs
      return;
    }
    const int64_t rel = p0 - pBase;
    const float *xs = panels + rel / kPanel * panelStride + rel % kPanel;
    const int64_t o0 = g * cpgOut + bl * kChannelBlock;
    const int64_t nOut = std::min(kChannelBlock, (g + 1) * cpgOut - o0);
    const int64_t at = (b * s.cOut + o0) * positions + p0;
    HWY_DYNAMIC_DISPATCH(multiplyBlock)(
        xs, plan->segment.data() + (g * blocks + bl) * plan->chunks,
        plan->chunks, plan->channel.data(), plan->first.data(),
        plan->taps.data(), bias ? bias + o0 : nullptr, nOut, buffer, y + at,
        positions, len, ep.residual ? ep.residual + at : nullptr, ep.relu);
  };
  // Scratch for one gathered row.
  auto rowScratch = [&](int64_t len) -> float * {
    thread_local std::vector<float> row;
    if (row.size() < static_cast<size_t>(roundUp(len, kPanel)))
      row.resize(roundUp(len, kPanel));
    return row.data();
  };

  const int64_t tile = std::clamp<int64_t>(
      131072 / std::max<int64_t>(rows, 1) / kPanel * kPanel, kPanel, 1024);
  const bool smallGroups =
      s.groups > 1 && panelFloats(rows, positions) <= kLocalX;
  if (smallGroups || positions >= 4 * tile) {
    // Each item gathers the panels it multiplies: many groups with small
    // panels each (depthwise, grouped), or large planes cut into tiles of
    // about 512 KiB of panels (kept in L2; a whole-plane X would be
    // written to and read back from L3).
    const int64_t span = smallGroups ? positions : tile;
    const int64_t tiles = (positions + span - 1) / span;
    threads::parallelFor(s.n * s.groups * tiles, [&](int64_t item) {
      int64_t t = item % tiles, g = item / tiles % s.groups,
              b = item / tiles / s.groups;
      int64_t p0 = t * span, len = std::min(span, positions - p0);
      thread_local std::vector<float> local;
      float *row = nullptr;
      try {
        if (local.size() < static_cast<size_t>(panelFloats(rows, len)))
          local.resize(panelFloats(rows, len));
        row = rowScratch(len);
      } catch (...) {
        noMemory = true;
        return;
      }
      gatherPanels(s, planeOf(b, g), rows, 0, rows, p0, len, local.data(),
                   row);
      for (int64_t bl = 0; bl < blocks; ++bl)
        for (int64_t q = p0; q < p0 + len; q += width)
          run(local.data(), p0, b, g, bl, q, std::min(width, p0 + len - q));
    });
    return noMemory ? SPARSENN_K_ERR_NOMEM : SPARSENN_K_OK;
  }

  // Otherwise the panels of the whole plane are gathered once per image and
  // group (rows in parallel), then multiplied block by block.
  thread_local std::unique_ptr<float[]> gathered;
  thread_local size_t capacity = 0;
  const int64_t need = panelFloats(rows, positions);
  if (capacity < static_cast<size_t>(need)) {
    gathered.reset(new (std::nothrow) float[need]);
    capacity = gathered ? need : 0;
    if (!gathered)
      return SPARSENN_K_ERR_NOMEM;
  }
  // (A thread_local named inside the items would be each worker's own.)
  float *panels = gathered.get();
  const int64_t pblocks = (positions + width - 1) / width;
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t g = 0; g < s.groups; ++g) {
      const float *xs = planeOf(b, g);
      threads::parallelFor(
          (rows + kGatherRows - 1) / kGatherRows, [&](int64_t item) {
            int64_t r0 = item * kGatherRows;
            float *row = nullptr;
            try {
              row = rowScratch(positions);
            } catch (...) {
              noMemory = true;
              return;
            }
            gatherPanels(s, xs, rows, r0, std::min(rows, r0 + kGatherRows), 0,
                         positions, panels, row);
          });
      if (noMemory)
        return SPARSENN_K_ERR_NOMEM;
      threads::parallelFor(pblocks * blocks, [&](int64_t item) {
        int64_t p0 = item / blocks * width;
        run(panels, 0, b, g, item % blocks, p0,
            std::min(width, positions - p0));
      });
    }
  return noMemory ? SPARSENN_K_ERR_NOMEM : SPARSENN_K_OK;
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
