//===- KernelsConvSparse.cpp - sparse conv2d as sparse x dense products ---===//
//
// One source for every SIMD target (Google Highway, dispatched at run time:
// AVX2, AVX-512, NEON, ...). A convolution with sparse filters is the
// sparse matrix W [C_out, C_in/g · kH · kW] (the non-zero taps) times the
// im2col matrix X [C_in/g · kH · kW, OH · OW] of each image and group:
// y[o, p] = bias[o] + sum over taps t of o of val[t] · X[idx[t], p], the
// positions p in the vector lanes, so zero weights cost nothing (seed 000
// [0035], [0044]). A 1×1 convolution with stride 1 and no padding reads its
// input in place (X is the input); any other one first gathers X. This is
// the sparse-matrix-times-spatial-positions scheme of Elsen et al., "Fast
// Sparse ConvNets", in NCHW, for any kernel, stride, dilation, padding and
// groups.
//
// The product is row-stationary: for a block of 64 output channels and a
// block of positions (up to 4 vectors), the block's outputs stay in an L1
// buffer while the rows of X stream past once; each row is loaded into
// registers and multiplied into every output channel that has a tap on it
// (the taps re-sorted by row: a CSC per channel block). Walking the taps of
// each channel instead (CSR) would load one scattered X row per tap from L2,
// and measured 3-8× slower on ResNet-50 layers; an output-stationary
// variant over 64-position panels of X with two channels in lockstep was
// faster on the product alone but slower end to end (the panel copies), see
// docs/performance.md.
//
// The re-sorted taps are cached for weights that are compile-time
// constants (sparsenn_conv2d_sparse_const_f32), and rebuilt per call for
// run-time weights. Work items (rows of X to gather; position blocks ×
// channel blocks to multiply) are fixed by the shape alone, and every
// output sums its taps in increasing row order, so results do not depend on
// the thread count.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsConvSparse.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/cache_control.h>
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
/// Output channels per block (the L1 buffer holds 64 × 4 vectors).
constexpr int64_t kChannelBlock = 64;
/// Position blocks are at most this many vectors.
constexpr int kMaxVectors = 4;

/// The taps of one group's channel block sorted by X row: the non-empty
/// rows, and for each the (output channel in the block, weight) entries.
struct TapsByRow {
  std::vector<int64_t> segment; // per (group, block): first row of rows
  std::vector<int32_t> rows;    // X row of each non-empty row
  std::vector<int64_t> entries; // per row (+1): first entry
  std::vector<int32_t> outs;    // output channel within the block
  std::vector<float> vals;
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

constexpr int64_t kPrefetchRows = 4;

/// outputs [nOut][V lanes-vectors] (buffer, row stride V·lanes) =
/// bias + sum over the rows of x (starting at position column x, ldx between
/// rows) times their entries; then the first `len` columns go to y.
template <int V>
HWY_INLINE void rowStationaryBlock(const float *HWY_RESTRICT x, int64_t ldx,
                                   const int32_t *rows, int64_t nRows,
                                   const int64_t *entries, const int32_t *outs,
                                   const float *vals, const float *bias,
                                   int64_t nOut, float *HWY_RESTRICT buffer,
                                   float *y, int64_t ldy, int64_t len,
                                   const float *residual, bool relu) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t width = V * n;
  for (int64_t o = 0; o < nOut; ++o) {
    const auto b = hn::Set(d, bias ? bias[o] : 0.0f);
    for (int v = 0; v < V; ++v)
      hn::Store(b, d, buffer + o * width + v * n);
  }
  int64_t e = entries[0];
  for (int64_t j = 0; j < nRows; ++j) {
    const float *row = x + static_cast<int64_t>(rows[j]) * ldx;
    if (j + kPrefetchRows < nRows) {
      const float *ahead = x + static_cast<int64_t>(rows[j + kPrefetchRows]) * ldx;
      for (size_t f = 0; f < width; f += 16) // 64-byte lines
        hwy::Prefetch(ahead + f);
    }
    const auto x0 = hn::LoadU(d, row);
    const auto x1 = V > 1 ? hn::LoadU(d, row + n) : x0;
    const auto x2 = V > 2 ? hn::LoadU(d, row + 2 * n) : x0;
    const auto x3 = V > 3 ? hn::LoadU(d, row + 3 * n) : x0;
    const int64_t end = entries[j + 1];
    for (; e < end; ++e) {
      float *out = buffer + static_cast<int64_t>(outs[e]) * width;
      const auto w = hn::Set(d, vals[e]);
      hn::Store(hn::MulAdd(w, x0, hn::Load(d, out)), d, out);
      if (V > 1)
        hn::Store(hn::MulAdd(w, x1, hn::Load(d, out + n)), d, out + n);
      if (V > 2)
        hn::Store(hn::MulAdd(w, x2, hn::Load(d, out + 2 * n)), d, out + 2 * n);
      if (V > 3)
        hn::Store(hn::MulAdd(w, x3, hn::Load(d, out + 3 * n)), d, out + 3 * n);
    }
  }
  // Store, with the epilogue (residual: same layout as y).
  const auto zero = hn::Zero(d);
  if (static_cast<size_t>(len) == width) {
    for (int64_t o = 0; o < nOut; ++o)
      for (int v = 0; v < V; ++v) {
        auto r = hn::Load(d, buffer + o * width + v * n);
        if (residual)
          r = hn::Add(r, hn::LoadU(d, residual + o * ldy + v * n));
        if (relu)
          r = hn::Max(zero, r); // a NaN stays NaN, as with arith.maximumf
        hn::StoreU(r, d, y + o * ldy + v * n);
      }
  } else {
    for (int64_t o = 0; o < nOut; ++o)
      for (int64_t i = 0; i < len; ++i) {
        float r = buffer[o * width + i] + (residual ? residual[o * ldy + i] : 0.0f);
        y[o * ldy + i] = relu && r <= 0.0f ? 0.0f : r;
      }
  }
}

/// Positions [p, p + len) of one channel block (len <= kMaxVectors lanes).
void multiplyBlock(const float *x, int64_t ldx, int64_t len,
                   const int32_t *rows, int64_t nRows, const int64_t *entries,
                   const int32_t *outs, const float *vals, const float *bias,
                   int64_t nOut, float *buffer, float *y, int64_t ldy,
                   const float *residual, bool relu) {
  const int64_t n = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  if (len > 2 * n)
    rowStationaryBlock<4>(x, ldx, rows, nRows, entries, outs, vals, bias, nOut,
                          buffer, y, ldy, len, residual, relu);
  else if (len > n)
    rowStationaryBlock<2>(x, ldx, rows, nRows, entries, outs, vals, bias, nOut,
                          buffer, y, ldy, len, residual, relu);
  else
    rowStationaryBlock<1>(x, ldx, rows, nRows, entries, outs, vals, bias, nOut,
                          buffer, y, ldy, len, residual, relu);
}

int64_t blockPositions() {
  return kMaxVectors *
         static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
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
// An X of at most this many floats (per image and group: depthwise and
// small grouped convolutions) is gathered by the item that uses it.
constexpr int64_t kLocalX = 32768;

/// Rows [r0, r1) of X (tap order (c, r, s)) for output positions
/// [p0, p0 + len) of image-group plane xg, into rows of ldx floats (column
/// j = position p0 + j); zero where a tap falls into the padding and in the
/// columns past len.
void gatherRows(const Conv2DParams &s, const float *xg, int64_t r0, int64_t r1,
                int64_t p0, int64_t len, float *x, int64_t ldx) {
  const int64_t oyFirst = p0 / s.ow, oyLast = (p0 + len - 1) / s.ow;
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t c = row / (s.kh * s.kw), r = row / s.kw % s.kh,
                  q = row % s.kw;
    const float *plane = xg + c * s.h * s.w;
    float *out = x + row * ldx - p0; // indexed by position
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
    std::memset(x + row * ldx + len, 0, sizeof(float) * (ldx - len));
  }
}

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// Re-sorts the taps (CSR per output channel) by X row, per group and
/// channel block. Taps of a channel come in increasing row order, and the
/// channels of a block are visited in order, so each row's entries are in
/// increasing channel order and each output sums its rows in order.
std::unique_ptr<TapsByRow> sortByRow(const Conv2DParams &s,
                                     const int32_t *tapPtr,
                                     const int32_t *tapIdx,
                                     const float *tapVal) {
  auto plan = std::make_unique<TapsByRow>();
  const int64_t cpgOut = s.cOut / s.groups;
  const int64_t rows = s.cIn / s.groups * s.kh * s.kw;
  const int64_t blocks = (cpgOut + kChannelBlock - 1) / kChannelBlock;
  std::vector<int64_t> count(rows);
  plan->entries.push_back(0);
  for (int64_t g = 0; g < s.groups; ++g)
    for (int64_t bl = 0; bl < blocks; ++bl) {
      plan->segment.push_back(static_cast<int64_t>(plan->rows.size()));
      int64_t o0 = g * cpgOut + bl * kChannelBlock;
      int64_t o1 = std::min(o0 + kChannelBlock, (g + 1) * cpgOut);
      std::fill(count.begin(), count.end(), 0);
      for (int64_t o = o0; o < o1; ++o)
        for (int32_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t)
          ++count[tapIdx[t]];
      // Start of each non-empty row's entries, in row order.
      int64_t base = static_cast<int64_t>(plan->outs.size());
      std::vector<int64_t> at(rows, -1);
      for (int64_t r = 0; r < rows; ++r)
        if (count[r]) {
          at[r] = base;
          base += count[r];
          plan->rows.push_back(static_cast<int32_t>(r));
          plan->entries.push_back(base);
        }
      plan->outs.resize(base);
      plan->vals.resize(base);
      for (int64_t o = o0; o < o1; ++o)
        for (int32_t t = tapPtr[o]; t < tapPtr[o + 1]; ++t) {
          int64_t e = at[tapIdx[t]]++;
          plan->outs[e] = static_cast<int32_t>(o - o0);
          plan->vals[e] = tapVal[t];
        }
    }
  plan->segment.push_back(static_cast<int64_t>(plan->rows.size()));
  return plan;
}

using PlanKey = std::tuple<const int32_t *, const int32_t *, const float *,
                           int64_t, int64_t, int64_t, int64_t, int64_t,
                           uint64_t>;

const TapsByRow *cachedPlan(const Conv2DParams &s, const int32_t *tapPtr,
                            const int32_t *tapIdx, const float *tapVal) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<TapsByRow>> plans;
  int64_t nnz = tapPtr[s.cOut];
  PlanKey key{tapPtr, tapIdx, tapVal, s.cOut, s.cIn, s.kh, s.kw, s.groups,
              valueFingerprint(tapVal, nnz)};
  std::lock_guard<std::mutex> lock(mutex);
  auto &slot = plans[key];
  if (!slot)
    slot = sortByRow(s, tapPtr, tapIdx, tapVal);
  return slot.get();
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
  std::unique_ptr<TapsByRow> own;
  const TapsByRow *plan;
  try {
    if (constantTaps) {
      plan = cachedPlan(s, tapPtr, tapIdx, tapVal);
    } else {
      own = sortByRow(s, tapPtr, tapIdx, tapVal);
      plan = own.get();
    }
  } catch (const std::bad_alloc &) {
    return SPARSENN_K_ERR_NOMEM;
  }
  // X rows hold whole vectors of any target (64 floats = 256 bytes, the
  // widest SVE): a 1×1 convolution reads its input in place when its planes
  // are a multiple of that, else X is a padded copy.
  const bool direct = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 &&
                      s.pt == 0 && s.pl == 0 && s.pb == 0 && s.pr == 0 &&
                      positions % 64 == 0;
  const int64_t ldx = roundUp(positions, 64);
  const int64_t blocks = (cpgOut + kChannelBlock - 1) / kChannelBlock;
  const int64_t width = HWY_DYNAMIC_DISPATCH(blockPositions)();
  const int64_t pblocks = (positions + width - 1) / width;
  auto planeOf = [&](int64_t b, int64_t g) {
    return x + (b * s.cIn + g * cpgIn) * s.h * s.w;
  };
  std::atomic<bool> noMemory{false};
  // Positions [p0, p0 + len) of channel block bl of group g, image b, from
  // an X whose column 0 is position xBase (row stride xld).
  auto run = [&](const float *xs, int64_t xld, int64_t xBase, int64_t b,
                 int64_t g, int64_t bl, int64_t p0, int64_t len) {
    // The outputs of a block: 64 channels × 4 vectors, aligned, per thread.
    thread_local std::unique_ptr<float[]> storage;
    thread_local float *aligned = nullptr;
    const int64_t need = kChannelBlock * width + 64;
    thread_local int64_t capacity = 0;
    if (capacity < need) {
      storage.reset(new (std::nothrow) float[need]);
      if (!storage) {
        noMemory = true; // each item writes only its own outputs
        capacity = 0;
        return;
      }
      capacity = need;
      uintptr_t a = reinterpret_cast<uintptr_t>(storage.get());
      aligned = reinterpret_cast<float *>((a + 255) / 256 * 256);
    }
    const int64_t k = g * blocks + bl;
    const int64_t r0 = plan->segment[k], r1 = plan->segment[k + 1];
    const int64_t o0 = g * cpgOut + bl * kChannelBlock;
    const int64_t nOut = std::min(kChannelBlock, (g + 1) * cpgOut - o0);
    HWY_DYNAMIC_DISPATCH(multiplyBlock)(
        xs + (p0 - xBase), xld, len, plan->rows.data() + r0, r1 - r0,
        plan->entries.data() + r0, plan->outs.data(), plan->vals.data(),
        bias ? bias + o0 : nullptr, nOut, aligned,
        y + (b * s.cOut + o0) * positions + p0, positions,
        ep.residual ? ep.residual + (b * s.cOut + o0) * positions + p0
                    : nullptr,
        ep.relu);
  };

  if (!direct && s.groups > 1 && rows * ldx <= kLocalX) {
    // Many groups with a small X each (depthwise, grouped): each item
    // gathers its own and multiplies all of the group's positions.
    threads::parallelFor(s.n * s.groups * blocks, [&](int64_t item) {
      int64_t bl = item % blocks, g = item / blocks % s.groups,
              b = item / blocks / s.groups;
      thread_local std::vector<float> local;
      if (local.size() < static_cast<size_t>(rows * ldx)) {
        try {
          local.resize(rows * ldx);
        } catch (...) {
          noMemory = true;
          return;
        }
      }
      gatherRows(s, planeOf(b, g), 0, rows, 0, positions, local.data(), ldx);
      for (int64_t p0 = 0; p0 < positions; p0 += width)
        run(local.data(), ldx, 0, b, g, bl, p0,
            std::min(width, positions - p0));
    });
    return noMemory ? SPARSENN_K_ERR_NOMEM : SPARSENN_K_OK;
  }

  // Large planes: each item gathers the X of its own tile of positions
  // (about 512 KiB, kept in L2) and multiplies it into every channel block;
  // a whole-plane X would be written to and read back from L3.
  const int64_t tile = std::clamp<int64_t>(
      131072 / std::max<int64_t>(rows, 1) / 64 * 64, 64, 1024);
  if (!direct && positions >= 4 * tile) {
    const int64_t tiles = (positions + tile - 1) / tile;
    threads::parallelFor(s.n * s.groups * tiles, [&](int64_t item) {
      int64_t t = item % tiles, g = item / tiles % s.groups,
              b = item / tiles / s.groups;
      int64_t p0 = t * tile, len = std::min(tile, positions - p0);
      thread_local std::vector<float> local;
      if (local.size() < static_cast<size_t>(rows * tile)) {
        try {
          local.resize(rows * tile);
        } catch (...) {
          noMemory = true;
          return;
        }
      }
      gatherRows(s, planeOf(b, g), 0, rows, p0, len, local.data(), tile);
      for (int64_t bl = 0; bl < blocks; ++bl)
        for (int64_t q = p0; q < p0 + len; q += width)
          run(local.data(), tile, p0, b, g, bl, q,
              std::min(width, p0 + len - q));
    });
    return noMemory ? SPARSENN_K_ERR_NOMEM : SPARSENN_K_OK;
  }

  // Otherwise X is gathered once per image and group (rows in parallel),
  // then multiplied block by block.
  thread_local std::unique_ptr<float[]> gathered;
  thread_local size_t capacity = 0;
  if (!direct && capacity < static_cast<size_t>(rows * ldx)) {
    gathered.reset(new (std::nothrow) float[rows * ldx]);
    capacity = gathered ? rows * ldx : 0;
    if (!gathered)
      return SPARSENN_K_ERR_NOMEM;
  }
  // (A thread_local named inside the items would be each worker's own.)
  float *buffer = gathered.get();
  for (int64_t b = 0; b < s.n; ++b)
    for (int64_t g = 0; g < s.groups; ++g) {
      const float *xs = planeOf(b, g);
      if (!direct) {
        threads::parallelFor((rows + kGatherRows - 1) / kGatherRows,
                             [&](int64_t item) {
                               int64_t r0 = item * kGatherRows;
                               gatherRows(s, xs, r0,
                                          std::min(rows, r0 + kGatherRows), 0,
                                          positions, buffer, ldx);
                             });
        xs = buffer;
      }
      threads::parallelFor(pblocks * blocks, [&](int64_t item) {
        int64_t p0 = item / blocks * width;
        run(xs, ldx, 0, b, g, item % blocks, p0,
            std::min(width, positions - p0));
      });
    }
  return noMemory ? SPARSENN_K_ERR_NOMEM : SPARSENN_K_OK;
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
