//===- KernelsKWinners.cpp - k-winners top-k selection --------------------===//
//
// k-winners (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077], eq. 1-4;
// docs/semantics.md §3). Sparse activations exist so that the next layer can
// skip work (seed 000 [0047]); this kernel produces them.
//
// One Highway source for every SIMD target (AVX2, AVX-512, NEON, SVE, ...,
// dispatched at run time); the portable reference keeps plain loops and
// runs when sparsenn_kernels_force_portable asks for it.
//
// Per domain (see Kernels.h for the four modes):
//  1. ranking keys: r = x * boost factor (per channel), mapped to an integer
//     whose order is float order (-0 folded to +0); with relu, x <= 0 gets
//     the lowest key, below every real value;
//  2. the k-th largest key T by a sampled threshold search: a strided sample
//     brackets T in [lo, hi]; one vectorised pass counts keys above hi and
//     compacts the keys in [lo, hi]; the search repeats on the (much smaller)
//     candidates; a 4-pass radix select (8-bit digits) is the fallback when
//     a bracket misses. No sort of the data;
//  3. one output pass: x where key > T (or >= T), ties at T resolved in
//     index order when break_ties asks for exactly k winners.
// The SIMD path fuses 1 into the first bracket pass (comparing floats; keys
// only for the candidates) and compares floats again in the output pass, so
// contiguous domains are read twice and written once; NaN ranks lowest
// there (Kernels.h leaves NaN winners unspecified).
// The bracket only decides how fast T is found, never which T: results are
// exact on every target, and domains are independent, so they run on the
// thread pool in fixed chunks (bit-identical for any thread count).
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsKWinners.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "sparsenn/Runtime/Kernels.h"

#include "KernelsInternal.h"
#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <type_traits>

#ifndef SPARSENN_KERNELS_KWINNERS_ONCE
#define SPARSENN_KERNELS_KWINNERS_ONCE
namespace sparsenn {
namespace kernels {
namespace {

/// Elements of slack after every key buffer: whole-vector stores of the
/// compaction and whole-vector loads of the small selection run past the
/// end (at most one vector: 64 int32 lanes on 2048-bit SVE).
constexpr int64_t kSlack = 64;

/// Portable key: unsigned order is float order.
inline uint32_t keyOf(float r) {
  r += 0.0f; // -0 -> +0
  uint32_t u;
  std::memcpy(&u, &r, sizeof(u));
  return u ^ ((u >> 31) ? 0xFFFFFFFFu : 0x80000000u);
}

/// SIMD key: signed order is float order (sign-magnitude to two's
/// complement, so -0 and +0 both become 0 without a float add that the
/// compiler could contract into an FMA). Relu's excluded key is INT32_MIN,
/// below every float (whose keys are >= -0x7FFFFFFF).
inline int32_t sortKey(float r) {
  uint32_t u;
  std::memcpy(&u, &r, sizeof(u));
  uint32_t sign = (u >> 31) ? 0xFFFFFFFFu : 0u;
  return static_cast<int32_t>(((u & 0x7FFFFFFFu) ^ sign) - sign);
}
constexpr int32_t kExcluded = INT32_MIN;
/// The float of a sortKey (of +0 for 0); key > kExcluded.
inline float floatOfKey(int32_t key) {
  uint32_t u = key >= 0 ? static_cast<uint32_t>(key)
                        : 0x80000000u | static_cast<uint32_t>(-key);
  float r;
  std::memcpy(&r, &u, sizeof(r));
  return r;
}
/// Radix digits of SIMD keys are taken from key ^ kSignFlip (unsigned order).
constexpr uint32_t kSignFlip = 0x80000000u;

/// Lane indices of the true lanes of an 8-lane mask, one per nibble, for
/// the compaction on targets without a compress instruction.
struct CompressTable {
  uint32_t packed[256];
  constexpr CompressTable() : packed() {
    for (uint32_t m = 0; m < 256; ++m)
      for (uint32_t i = 0, c = 0; i < 8; ++i)
        if ((m >> i) & 1u)
          packed[m] |= i << (4 * c++);
  }
};
alignas(64) constexpr CompressTable kCompressTable{};

/// Where the per-element boost factors come from for a run of elements.
struct FactorRun {
  const float *perElement; // factor of element j is perElement[j]
  float constant;          // used when perElement is null
  bool any;                // false: no boosting (r = x)
};

// Radix select, 8-bit digits from the top, of the k-th largest of keys whose
// unsigned order is that of key ^ flip; tmp holds n keys (may be keys).
uint32_t radixSelect(const uint32_t *keys, int64_t n, int64_t k, uint32_t *tmp,
                     uint32_t flip) {
  uint32_t prefix = 0; // the digits above `shift` shared by every candidate
  const uint32_t *cur = keys;
  for (int shift = 24;; shift -= 8) {
    int64_t hist[256] = {0};
    for (int64_t i = 0; i < n; ++i)
      ++hist[((cur[i] ^ flip) >> shift) & 255u];
    uint32_t d = 255;
    for (; d > 0 && hist[d] < k; --d)
      k -= hist[d];
    prefix |= d << shift;
    if (shift == 0)
      return prefix ^ flip;
    if (hist[d] == n)
      continue; // every candidate has this digit
    int64_t j = 0;
    for (int64_t i = 0; i < n; ++i)
      if ((((cur[i] ^ flip) >> shift) & 255u) == d)
        tmp[j++] = cur[i];
    if (j == 1)
      return tmp[0];
    cur = tmp;
    n = j;
  }
}

// y[j] = x[j] for winners, else 0. ge: key >= t wins; otherwise key > t
// wins plus the first `need` keys equal to t.
template <typename K>
void writeScalar(const float *x, const K *keys, int64_t n, int64_t stride,
                 float *y, K t, bool ge, int64_t need) {
  for (int64_t j = 0; j < n; ++j) {
    K v = keys[j];
    bool win = ge ? v >= t : v > t;
    if (!ge && v == t && need > 0) {
      win = true;
      --need;
    }
    float xv = x[j * stride];
    y[j * stride] = win ? xv : 0.0f;
  }
}

// Sampled bracket [lo, hi] of the k-th largest of n keys from m sample keys
// (ranks count from the largest; hiRank < 0 / loRank >= m: no bound): the
// expected sample rank of T plus or minus z standard deviations plus c.
inline void bracketRanks(int64_t n, int64_t k, int64_t m, int64_t *hiRank,
                         int64_t *loRank, double z = 2.5, double c = 2.0) {
  double p = static_cast<double>(k) / static_cast<double>(n);
  double r = p * static_cast<double>(m) - 1.0;
  double d = z * std::sqrt(static_cast<double>(m) * p * (1.0 - p)) + c;
  *hiRank = static_cast<int64_t>(std::floor(r - d));
  *loRank = static_cast<int64_t>(std::ceil(r + d));
}

} // namespace
} // namespace kernels
} // namespace sparsenn
#endif // SPARSENN_KERNELS_KWINNERS_ONCE

//===----------------------------------------------------------------------===//
// SIMD path, compiled once per target.
//===----------------------------------------------------------------------===//

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using DI = hn::ScalableTag<int32_t>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;
static_assert(HWY_MAX_BYTES / 4 <= kSlack,
              "key buffers need a vector of slack");

enum BoostKind { kNoBoost, kConstBoost, kPerElementBoost };

/// c + 1 in the lanes where m. Where masks are predicate registers
/// (AVX-512, SVE) a masked add; elsewhere c - mask (all ones: -1). On
/// AVX-512 the mask-to-vector move shares port 5 with the compare.
HWY_INLINE VI addOneWhere(VI c, hn::Mask<DI> m) {
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL ||                     \
    HWY_TARGET == HWY_SVE || HWY_TARGET == HWY_SVE2 ||                         \
    HWY_TARGET == HWY_SVE_256 || HWY_TARGET == HWY_SVE2_128
  return hn::Add(c, hn::IfThenElseZero(m, hn::Set(DI(), 1)));
#else
  return hn::Sub(c, hn::VecFromMask(DI(), m));
#endif
}

/// sortKey of every lane (float bits in u).
HWY_INLINE VI keysOfBits(VI u) {
  const VI sign = hn::ShiftRight<31>(u); // arithmetic: 0 or -1
  return hn::Sub(hn::Xor(hn::And(u, hn::Set(DI(), 0x7FFFFFFF)), sign), sign);
}

/// Ranking values and keys straight from x (contiguous); boost factors and
/// relu are template parameters so that the inner loops carry no branches.
/// A NaN r gets the excluded key, like x <= 0 under relu (Kernels.h leaves
/// NaN winners unspecified): the passes over x then compare floats, whose
/// order is key order for every other value, and skip the conversion.
template <int kB, bool kRelu> struct FromX {
  const float *x;
  const float *f; // kPerElementBoost
  float fc;       // kConstBoost

  HWY_INLINE VF ranks(int64_t j, VF *xOut) const {
    const DF df;
    const VF xv = hn::LoadU(df, x + j);
    VF r = xv;
    if (kB == kConstBoost)
      r = hn::Mul(r, hn::Set(df, fc));
    if (kB == kPerElementBoost)
      r = hn::Mul(r, hn::LoadU(df, f + j));
    *xOut = xv;
    return r;
  }
  /// r is ranked (not NaN, and x > 0 under relu).
  HWY_INLINE hn::Mask<DF> eligible(VF xv, VF r) const {
    const auto ok = hn::Eq(r, r);
    return kRelu ? hn::And(ok, hn::Gt(xv, hn::Zero(DF()))) : ok;
  }
  HWY_INLINE VI keys(int64_t j) const {
    const DI di;
    VF xv;
    const VF r = ranks(j, &xv);
    return hn::IfThenElse(hn::RebindMask(di, eligible(xv, r)),
                          keysOfBits(hn::BitCast(di, r)),
                          hn::Set(di, kExcluded));
  }
  HWY_INLINE float rank(int64_t j) const {
    float r = x[j];
    if (kB == kConstBoost)
      r = r * fc;
    if (kB == kPerElementBoost)
      r = r * f[j];
    return r;
  }
  HWY_INLINE int32_t key(int64_t j) const {
    const float r = rank(j);
    return (kRelu && !(x[j] > 0.0f)) || r != r ? kExcluded : sortKey(r);
  }
};

/// Keys already in a buffer.
struct FromKeys {
  const int32_t *k;
  HWY_INLINE VI keys(int64_t j) const { return hn::LoadU(DI(), k + j); }
  HWY_INLINE int32_t key(int64_t j) const { return k[j]; }
};

/// The lanes of v where m is true, first (the others: any value). On
/// targets with at most 8 lanes and no compress instruction, from a static
/// table: Highway 1.0.3's Compress there copies its 1 KiB table onto the
/// stack on every call with GCC (two thirds of the time on AVX2).
HWY_INLINE VI compressKeys(VI v, hn::Mask<DI> m) {
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 ||                        \
    HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_NEON
  const DI di;
  const hn::RebindToUnsigned<DI> du;
  static_assert(HWY_MAX_BYTES <= 32, "at most 8 lanes");
  uint8_t bits[8] = {0};
  hn::StoreMaskBits(di, m, bits);
  const auto packed = hn::Set(du, kCompressTable.packed[bits[0]]);
  const auto shifts = hn::ShiftLeft<2>(hn::Iota(du, 0));
  const auto idx = hn::And(packed >> shifts, hn::Set(du, hn::Lanes(du) - 1));
  return hn::TableLookupLanes(v, hn::IndicesFromVec(di, hn::BitCast(di, idx)));
#else
  return hn::Compress(v, m);
#endif
}

/// Counts keys > hi (when kHi) and copies the keys in [lo, hi] to out
/// (which needs a vector of slack). Compress in registers, then a plain
/// store: a compressing store to memory is slow on AMD Zen 4.
template <bool kHi>
HWY_INLINE int64_t bracket(const FromKeys &src, int64_t n, int32_t lo,
                           int32_t hi, int32_t *HWY_RESTRICT out,
                           int64_t *above) {
  const DI di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(di));
  const VI vlo = hn::Set(di, lo), vhi = hn::Set(di, hi);
  VI countAbove = hn::Zero(di); // keys > hi, per lane
  int64_t nc = 0, j = 0;
  for (; j + N <= n; j += N) {
    const VI v = src.keys(j);
    auto in = hn::Not(hn::Lt(v, vlo));
    if (kHi) {
      const auto gt = hn::Gt(v, vhi);
      countAbove = addOneWhere(countAbove, gt);
      in = hn::AndNot(gt, in);
    }
    hn::StoreU(compressKeys(v, in), di, out + nc);
    nc += static_cast<int64_t>(hn::CountTrue(di, in));
  }
  int64_t na = hn::GetLane(hn::SumOfLanes(di, countAbove));
  for (; j < n; ++j) {
    const int32_t v = src.key(j);
    na += kHi && v > hi;
    out[nc] = v;
    nc += v >= lo && (!kHi || v <= hi);
  }
  *above = na;
  return nc;
}

/// The same from x, comparing floats (lo and hi are keys of floats, lo >
/// kExcluded): no key conversion but for the candidates.
template <bool kHi, int kB, bool kRelu>
HWY_INLINE int64_t bracket(const FromX<kB, kRelu> &src, int64_t n, int32_t lo,
                           int32_t hi, int32_t *HWY_RESTRICT out,
                           int64_t *above) {
  const DF df;
  const DI di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(di));
  const VF vlo = hn::Set(df, floatOfKey(lo));
  const VF vhi = hn::Set(df, kHi ? floatOfKey(hi) : 0.0f);
  VI countAbove = hn::Zero(di); // keys > hi, per lane
  int64_t nc = 0, j = 0;
  for (; j + N <= n; j += N) {
    VF xv;
    const VF r = src.ranks(j, &xv);
    auto in = hn::Ge(r, vlo); // false for NaN
    if (kRelu)
      in = hn::And(in, hn::Gt(xv, hn::Zero(df)));
    if (kHi) {
      const auto gt = hn::And(hn::Gt(r, vhi), in);
      countAbove = addOneWhere(countAbove, hn::RebindMask(di, gt));
      in = hn::AndNot(gt, in);
    }
    // Float bits for now, keys below.
    hn::StoreU(compressKeys(hn::BitCast(di, r), hn::RebindMask(di, in)), di,
               out + nc);
    nc += static_cast<int64_t>(hn::CountTrue(df, in));
  }
  int64_t na = hn::GetLane(hn::SumOfLanes(di, countAbove));
  for (; j < n; ++j) {
    const int32_t v = src.key(j);
    const float r = src.rank(j);
    na += kHi && v > hi;
    std::memcpy(out + nc, &r, sizeof(r));
    nc += v >= lo && (!kHi || v <= hi);
  }
  for (int64_t i = 0; i < nc; i += N) // the slack absorbs the last vector
    hn::StoreU(keysOfBits(hn::LoadU(di, out + i)), di, out + i);
  *above = na;
  return nc;
}

int64_t countGreater(const int32_t *keys, int64_t n, int32_t t) {
  const DI di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(di));
  const VI vt = hn::Set(di, t);
  VI c0 = hn::Zero(di), c1 = c0;
  int64_t j = 0;
  for (; j + 2 * N <= n; j += 2 * N) {
    c0 = addOneWhere(c0, hn::Gt(hn::LoadU(di, keys + j), vt));
    c1 = addOneWhere(c1, hn::Gt(hn::LoadU(di, keys + j + N), vt));
  }
  int64_t c = hn::GetLane(hn::SumOfLanes(di, hn::Add(c0, c1)));
  for (; j < n; ++j)
    c += keys[j] > t;
  return c;
}

/// Order statistics of a small set without branches (nth_element on random
/// keys mispredicts about every other comparison): for every a[i], count the
/// keys greater than it, a vector of i at a time; the element at descending
/// position p is min{a[i] : greater(i) <= p}. Returns it for p1 and p2 (p <
/// 0: none). a needs a vector of slack (read, never used).
void smallOrderStats(const int32_t *HWY_RESTRICT a, int64_t s, int64_t p1,
                     int64_t p2, int32_t *v1, int32_t *v2) {
  const DI di;
  const int64_t N = static_cast<int64_t>(hn::Lanes(di));
  const VI vp1 = hn::Set(di, static_cast<int32_t>(p1));
  const VI vp2 = hn::Set(di, static_cast<int32_t>(p2));
  VI best1 = hn::Set(di, INT32_MAX), best2 = best1;
  auto update = [&](VI ai, VI cnt, int64_t i) {
    const auto valid = hn::FirstN(di, static_cast<size_t>(s - i));
    best1 = hn::IfThenElse(hn::And(valid, hn::Not(hn::Gt(cnt, vp1))),
                           hn::Min(best1, ai), best1);
    best2 = hn::IfThenElse(hn::And(valid, hn::Not(hn::Gt(cnt, vp2))),
                           hn::Min(best2, ai), best2);
  };
  int64_t i = 0;
  // Two vectors of i per broadcast of a[j]; the counts in named
  // accumulators (no arrays of SVE vectors).
  for (; i + N < s; i += 2 * N) {
    const VI a0 = hn::LoadU(di, a + i), a1 = hn::LoadU(di, a + i + N);
    VI c0 = hn::Zero(di), c1 = c0;
    for (int64_t j = 0; j < s; ++j) {
      const VI aj = hn::Set(di, a[j]);
      c0 = addOneWhere(c0, hn::Gt(aj, a0));
      c1 = addOneWhere(c1, hn::Gt(aj, a1));
    }
    update(a0, c0, i);
    update(a1, c1, i + N);
  }
  if (i < s) {
    const VI a0 = hn::LoadU(di, a + i);
    VI c0 = hn::Zero(di), c1 = c0;
    int64_t j = 0;
    for (; j + 2 <= s; j += 2) {
      c0 = addOneWhere(c0, hn::Gt(hn::Set(di, a[j]), a0));
      c1 = addOneWhere(c1, hn::Gt(hn::Set(di, a[j + 1]), a0));
    }
    if (j < s)
      c0 = addOneWhere(c0, hn::Gt(hn::Set(di, a[j]), a0));
    update(a0, hn::Add(c0, c1), i);
  }
  *v1 = hn::GetLane(hn::MinOfLanes(di, best1));
  *v2 = hn::GetLane(hn::MinOfLanes(di, best2));
}

/// Sets at most this many keys go to smallOrderStats (quadratic in it).
HWY_INLINE int64_t smallMax() {
  return std::max<int64_t>(32, 2 * static_cast<int64_t>(hn::Lanes(DI())));
}

/// Sample size for a set of n keys: smallOrderStats is quadratic in it.
HWY_INLINE int64_t sampleSize(int64_t n) {
  const int64_t m = n < 4096 ? 32 : n < 16384 ? 64 : 128;
  return std::min(m, n);
}

/// One sampled bracket round over src (n keys, n > smallMax()). Returns
/// false when the bracket misses T or makes no progress; otherwise the keys
/// in [lo, hi] are in out (*nc of them) and *above keys exceed hi.
template <class Src>
HWY_INLINE bool bracketRound(const Src &src, int64_t n, int64_t k, int32_t *out,
                             int64_t *nc, int64_t *above, int32_t *lo,
                             int32_t *hi, double z = 2.5, double c = 2.0) {
  HWY_ALIGN int32_t sample[512 + kSlack];
  const int64_t m = sampleSize(n);
  const int64_t step = n / m;
  for (int64_t t = 0; t < m; ++t)
    sample[t] = src.key(t * step + step / 2);
  int64_t hiRank, loRank;
  bracketRanks(n, k, m, &hiRank, &loRank, z, c);
  int32_t vh, vl;
  smallOrderStats(sample, m, hiRank, loRank, &vh, &vl);
  *hi = hiRank >= 0 ? vh : INT32_MAX;
  *lo = loRank < m ? vl : INT32_MIN;
  if (!std::is_same<Src, FromKeys>::value && *lo == kExcluded)
    return false; // the float passes need a float bound
  *nc = *hi == INT32_MAX ? bracket<false>(src, n, *lo, *hi, out, above)
                         : bracket<true>(src, n, *lo, *hi, out, above);
  return *above < k && k <= *above + *nc && (*lo == *hi || *nc < n);
}

/// The k-th largest of keys[0, n) (1 <= k <= n; keys has slack); bufA/bufB
/// (n + kSlack each, distinct from keys) are scratch. *greater: how many
/// keys exceed it (when not null).
int32_t selectKth(const int32_t *keys, int64_t n, int64_t k, int32_t *bufA,
                  int32_t *bufB, int64_t *greater) {
  int64_t greaterAbove = 0; // keys above the current set
  int32_t *out = bufA;
  while (true) {
    int32_t t;
    if (n <= smallMax()) {
      int32_t unused;
      smallOrderStats(keys, n, k - 1, k - 1, &t, &unused);
    } else {
      int64_t nc, above;
      int32_t lo, hi;
      // A tight bracket first (the candidates are in cache: a miss costs
      // one more pass over them), then the safe one.
      if (bracketRound(FromKeys{keys}, n, k, out, &nc, &above, &lo, &hi, 1.5,
                       1.0) ||
          bracketRound(FromKeys{keys}, n, k, out, &nc, &above, &lo, &hi)) {
        greaterAbove += above;
        if (lo != hi) {
          k -= above;
          n = nc;
          keys = out;
          out = out == bufA ? bufB : bufA;
          continue;
        }
        if (greater)
          *greater = greaterAbove;
        return lo; // every candidate equals T
      }
      t = static_cast<int32_t>(
          radixSelect(reinterpret_cast<const uint32_t *>(keys), n, k,
                      reinterpret_cast<uint32_t *>(out), kSignFlip));
    }
    if (greater)
      *greater = greaterAbove + countGreater(keys, n, t);
    return t;
  }
}

/// Writes y = x where key > t (ge: >= t), plus the first `need` keys equal
/// to t in index order; t == kExcluded: every eligible x (keys > t).
template <bool kGe, int kB, bool kRelu>
HWY_INLINE void writeX(const FromX<kB, kRelu> &src, int64_t n, float *y,
                       int32_t t, int64_t need) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  // Lane by lane on keys, for the tail and for the vector where the tie
  // runs out.
  auto lanes = [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int32_t v = src.key(j); // before the store: y may be x
      bool win = v > t || (kGe && v == t);
      if (!kGe && v == t && need > 0) {
        win = true;
        --need;
      }
      y[j] = win ? src.x[j] : 0.0f;
    }
  };
  int64_t j = 0;
  if (t == kExcluded) {
    for (; j + N <= n; j += N) {
      VF xv;
      const VF r = src.ranks(j, &xv);
      hn::StoreU(hn::IfThenElseZero(src.eligible(xv, r), xv), df, y + j);
    }
    lanes(j, n);
    return;
  }
  const VF vt = hn::Set(df, floatOfKey(t));
  for (; j + N <= n; j += N) {
    VF xv;
    const VF r = src.ranks(j, &xv);
    auto win = kGe ? hn::Ge(r, vt) : hn::Gt(r, vt);
    if (kRelu)
      win = hn::And(win, hn::Gt(xv, hn::Zero(df)));
    if (!kGe && need > 0) {
      auto eq = hn::Eq(r, vt);
      if (kRelu)
        eq = hn::And(eq, hn::Gt(xv, hn::Zero(df)));
      const int64_t c = static_cast<int64_t>(hn::CountTrue(df, eq));
      if (c > need) {
        lanes(j, j + N);
        continue;
      }
      win = hn::Or(win, eq);
      need -= c;
    }
    hn::StoreU(hn::IfThenElseZero(win, xv), df, y + j);
  }
  lanes(j, n);
}

/// The winners of one domain from the k-th largest key t (finishDomain of
/// the portable path, on SIMD keys).
template <int kB, bool kRelu>
HWY_INLINE void writeWinners(const FromX<kB, kRelu> &src, int64_t n, float *y,
                             int32_t t, int64_t k, int64_t greater,
                             bool breakTies) {
  if (t == kExcluded) // relu: only x > 0 (else only with NaN inputs)
    writeX<false>(src, n, y, t, 0);
  else if (!breakTies)
    writeX<true>(src, n, y, t, 0);
  else
    writeX<false>(src, n, y, t, k - greater);
}

/// One contiguous domain x[0, n) (0 < k < n); keys, bufA, bufB: n + kSlack.
template <int kB, bool kRelu>
HWY_NOINLINE void contiguousDomain(const float *x, const float *f, float fc,
                                   int64_t n, float *y, int64_t k,
                                   bool breakTies, int32_t *keys, int32_t *bufA,
                                   int32_t *bufB) {
  const FromX<kB, kRelu> src{x, f, fc};
  int64_t nc, above, greater = 0;
  int32_t lo, hi, t;
  int64_t *wantGreater = breakTies ? &greater : nullptr;
  if (n > smallMax()) {
    // The sample is the first touch of scattered lines; the next domain of
    // the flat and channel modes usually follows this one (a prefetch of
    // any address is harmless).
    const int64_t step = n / sampleSize(n);
    for (int64_t j = n + step / 2; j < 2 * n; j += step)
      hwy::Prefetch(x + j);
  }
  // Round 1 over x: a tight bracket first (fewer candidates), the safe one
  // when it misses.
  if (n > smallMax() &&
      (bracketRound(src, n, k, bufA, &nc, &above, &lo, &hi, 2.0, 1.0) ||
       bracketRound(src, n, k, bufA, &nc, &above, &lo, &hi))) {
    if (lo == hi) {
      t = lo;
      greater = above;
    } else {
      t = selectKth(bufA, nc, k - above, bufB, keys, wantGreater);
      greater += above;
    }
  } else { // small, or the bracket missed: every key, then select
    const DI di;
    const int64_t N = static_cast<int64_t>(hn::Lanes(di));
    int64_t j = 0;
    for (; j + N <= n; j += N)
      hn::StoreU(src.keys(j), di, keys + j);
    for (; j < n; ++j)
      keys[j] = src.key(j);
    t = selectKth(keys, n, k, bufA, bufB, wantGreater);
  }
  writeWinners(src, n, y, t, k, greater, breakTies);
}

/// Entry for one domain. stride == 1: x contiguous, keys computed here;
/// otherwise (local mode) the caller filled keys[0, n).
void kwDomain(const float *x, FactorRun f, int64_t n, int64_t stride, float *y,
              int64_t k, bool breakTies, bool relu, int32_t *keys,
              int32_t *bufA, int32_t *bufB) {
  if (stride != 1) {
    int64_t greater = 0;
    int32_t t =
        selectKth(keys, n, k, bufA, bufB, breakTies ? &greater : nullptr);
    if (t == kExcluded) // relu: only x > 0 (else only with NaN inputs)
      writeScalar<int32_t>(x, keys, n, stride, y, t, false, 0);
    else if (!breakTies)
      writeScalar<int32_t>(x, keys, n, stride, y, t, true, 0);
    else
      writeScalar<int32_t>(x, keys, n, stride, y, t, false, k - greater);
    return;
  }
  const float *fp = f.perElement;
  const float fc = f.constant;
  auto run = [&](auto fn) {
    fn(x, fp, fc, n, y, k, breakTies, keys, bufA, bufB);
  };
  if (!f.any)
    relu ? run(contiguousDomain<kNoBoost, true>)
         : run(contiguousDomain<kNoBoost, false>);
  else if (!fp)
    relu ? run(contiguousDomain<kConstBoost, true>)
         : run(contiguousDomain<kConstBoost, false>);
  else
    relu ? run(contiguousDomain<kPerElementBoost, true>)
         : run(contiguousDomain<kPerElementBoost, false>);
}

/// k >= n: every element is a candidate; relu still filters (x > 0 wins).
void writeAll(const float *x, int64_t n, float *y, bool relu) {
  const DF df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t j = 0;
  for (; j + N <= n; j += N) {
    const VF xv = hn::LoadU(df, x + j);
    hn::StoreU(relu ? hn::IfThenElseZero(hn::Gt(xv, hn::Zero(df)), xv) : xv, df,
               y + j);
  }
  for (; j < n; ++j)
    y[j] = !relu || x[j] > 0.0f ? x[j] : 0.0f;
}

} // namespace
} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(kwDomain);
HWY_EXPORT(writeAll);

namespace {

//===----------------------------------------------------------------------===//
// Portable reference.
//===----------------------------------------------------------------------===//

void keysPortable(const float *x, FactorRun f, int64_t n, bool relu,
                  uint32_t *keys) {
  for (int64_t j = 0; j < n; ++j) {
    float r = x[j];
    if (f.any)
      r = r * (f.perElement ? f.perElement[j] : f.constant);
    uint32_t key = keyOf(r);
    keys[j] = (relu && !(x[j] > 0.0f)) ? 0u : key;
  }
}

// Counts keys > hi and copies keys in [lo, hi] to out.
int64_t bracketPortable(const uint32_t *keys, int64_t n, uint32_t lo,
                        uint32_t hi, uint32_t *out, int64_t *above) {
  int64_t nc = 0, na = 0;
  for (int64_t j = 0; j < n; ++j) {
    uint32_t v = keys[j];
    na += v > hi;
    out[nc] = v;
    nc += v >= lo && v <= hi;
  }
  *above = na;
  return nc;
}

int64_t countGreaterPortable(const uint32_t *keys, int64_t n, uint32_t t) {
  int64_t c = 0;
  for (int64_t j = 0; j < n; ++j)
    c += keys[j] > t;
  return c;
}

uint32_t selectKthPortable(const uint32_t *keys, int64_t n, int64_t k,
                           uint32_t *bufA, uint32_t *bufB) {
  uint32_t sample[1024];
  uint32_t *out = bufA;
  while (true) {
    if (n <= 256) {
      uint32_t small[256];
      std::memcpy(small, keys, sizeof(uint32_t) * n);
      std::nth_element(small, small + (k - 1), small + n,
                       std::greater<uint32_t>());
      return small[k - 1];
    }
    int64_t m = std::min<int64_t>(std::max<int64_t>(n / 16, 64), 1024);
    int64_t step = n / m;
    for (int64_t t = 0; t < m; ++t)
      sample[t] = keys[t * step + step / 2];
    int64_t hiRank, loRank;
    bracketRanks(n, k, m, &hiRank, &loRank);
    uint32_t hi = 0xFFFFFFFFu, lo = 0u;
    if (hiRank >= 0) {
      std::nth_element(sample, sample + hiRank, sample + m,
                       std::greater<uint32_t>());
      hi = sample[hiRank];
    } else {
      hiRank = -1;
    }
    if (loRank < m) {
      std::nth_element(sample + (hiRank + 1), sample + loRank, sample + m,
                       std::greater<uint32_t>());
      lo = sample[loRank];
    }
    int64_t above = 0;
    int64_t nc = bracketPortable(keys, n, lo, hi, out, &above);
    if (!(above < k && k <= above + nc))
      return radixSelect(keys, n, k, out, 0); // the bracket missed: exact path
    if (lo == hi)
      return lo;
    if (nc == n)
      return radixSelect(keys, n, k, out, 0); // no progress
    k -= above;
    n = nc;
    keys = out;
    out = out == bufA ? bufB : bufA;
  }
}

// Selects and writes the winners of one domain whose keys are computed.
void finishDomainPortable(const float *x, const uint32_t *keys, int64_t n,
                          int64_t stride, float *y, int64_t k, bool breakTies,
                          bool relu, uint32_t *bufA, uint32_t *bufB) {
  if (k >= n) { // everyone is a candidate; relu still filters
    writeScalar<uint32_t>(x, keys, n, stride, y, 0u, !relu, 0);
    return;
  }
  uint32_t t = selectKthPortable(keys, n, k, bufA, bufB);
  if (relu && t == 0u) {
    writeScalar<uint32_t>(x, keys, n, stride, y, 0u, false, 0); // only x > 0
    return;
  }
  if (!breakTies) {
    writeScalar<uint32_t>(x, keys, n, stride, y, t, true, 0);
    return;
  }
  int64_t greater = countGreaterPortable(keys, n, t);
  writeScalar<uint32_t>(x, keys, n, stride, y, t, false, k - greater);
}

/// One domain on either path: x[j * stride], j < n. keys, bufA, bufB: n +
/// kSlack elements.
void runDomain(bool portable, const float *x, FactorRun f, int64_t n,
               int64_t stride, float *y, int64_t k, bool breakTies, bool relu,
               uint32_t *keys, uint32_t *bufA, uint32_t *bufB) {
  if (k <= 0) {
    for (int64_t j = 0; j < n; ++j)
      y[j * stride] = 0.0f;
    return;
  }
  if (portable) {
    if (stride == 1) {
      keysPortable(x, f, n, relu, keys);
    } else {
      for (int64_t j = 0; j < n; ++j) {
        float xv = x[j * stride];
        float r = f.any ? xv * f.perElement[j] : xv;
        keys[j] = (relu && !(xv > 0.0f)) ? 0u : keyOf(r);
      }
    }
    finishDomainPortable(x, keys, n, stride, y, k, breakTies, relu, bufA, bufB);
    return;
  }
  if (k >= n) { // everyone is a candidate; relu still filters
    if (stride == 1) {
      HWY_DYNAMIC_DISPATCH(writeAll)(x, n, y, relu);
      return;
    }
    for (int64_t j = 0; j < n; ++j) {
      float xv = x[j * stride];
      y[j * stride] = !relu || xv > 0.0f ? xv : 0.0f;
    }
    return;
  }
  int32_t *ikeys = reinterpret_cast<int32_t *>(keys);
  if (stride != 1) // keys of FromX, gathered
    for (int64_t j = 0; j < n; ++j) {
      float xv = x[j * stride];
      float r = f.any ? xv * f.perElement[j] : xv;
      ikeys[j] = (relu && !(xv > 0.0f)) || r != r ? kExcluded : sortKey(r);
    }
  HWY_DYNAMIC_DISPATCH(kwDomain)
  (x, f, n, stride, y, k, breakTies, relu, ikeys,
   reinterpret_cast<int32_t *>(bufA), reinterpret_cast<int32_t *>(bufB));
}

} // namespace
} // namespace kernels
} // namespace sparsenn

using namespace sparsenn::kernels;

extern "C" int sparsenn_kwinners_f32(const float *x, float *y, int64_t batch,
                                     int64_t channels, int64_t spatial,
                                     int mode, int64_t k, int64_t groupSize,
                                     const float *duty, float boostStrength,
                                     int breakTies, int relu) {
  if (!x || !y || batch < 0 || channels < 0 || spatial < 0 ||
      mode < SPARSENN_KW_GLOBAL || mode > SPARSENN_KW_CHANNEL ||
      (mode == SPARSENN_KW_GROUP && groupSize <= 0))
    return SPARSENN_ERR_ARGUMENT;
  const int64_t total = channels * spatial;
  if (batch == 0 || total == 0)
    return SPARSENN_OK;
  const bool boost = duty && boostStrength != 0.0f;
  const bool portable = portableForced();
  int64_t domain = 0, perSample = 0; // domain size, domains per sample
  switch (mode) {
  case SPARSENN_KW_GLOBAL:
    domain = total;
    perSample = 1;
    break;
  case SPARSENN_KW_GROUP:
    domain = std::min(groupSize, total);
    perSample = (total + domain - 1) / domain;
    break;
  case SPARSENN_KW_LOCAL:
    domain = channels;
    perSample = spatial;
    break;
  default:
    domain = spatial;
    perSample = channels;
    break;
  }
  // Boost factors exp(beta (k/n - duty[c])) for a domain of n elements
  // (eq. 2 and 4), computed exactly as documented in Kernels.h: per channel
  // and, for flat domains with spatial > 1, expanded per element; a short
  // last group (its own n) has its own.
  const bool flat = mode == SPARSENN_KW_GLOBAL || mode == SPARSENN_KW_GROUP;
  const bool shortLast = mode == SPARSENN_KW_GROUP && total % domain != 0;
  const int64_t sets = boost ? (shortLast ? 2 : 1) : 0;
  const int64_t perSet = channels + (flat && spatial > 1 ? total : 0);
  Scratch shared(sizeof(float) * sets * perSet);
  if (shared.failed)
    return SPARSENN_ERR_NOMEM;
  float *factors = shared.as<float>();
  for (int64_t set = 0; set < sets; ++set) {
    int64_t n = set == 0 ? domain : total % domain;
    float target = static_cast<float>(std::min(k, n)) / static_cast<float>(n);
    float *fac = factors + set * perSet;
    for (int64_t c = 0; c < channels; ++c)
      fac[c] = std::exp(boostStrength * (target - duty[c]));
    if (perSet > channels)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t s = 0; s < spatial; ++s)
          fac[channels + c * spatial + s] = fac[c];
  }
  // Factor of flat element q (global, group modes).
  auto flatFactors = [&](int64_t n) -> const float * {
    const float *fac = factors + (n == domain ? 0 : perSet);
    return spatial > 1 ? fac + channels : fac;
  };

  // Items: fixed runs of whole domains (about kItemElements elements), each
  // with its own scratch (keys and two candidate buffers with slack); the
  // split depends on the shape alone.
  constexpr int64_t kItemElements = 1 << 18;
  const int64_t domains = batch * perSample;
  const int64_t perItem = std::max<int64_t>(1, kItemElements / domain);
  const size_t keyBytes = sizeof(uint32_t) * (domain + kSlack);
  std::atomic<bool> noMemory{false};
  sparsenn::threads::parallelFor(
      sparsenn::threads::chunks(domains, perItem), [&](int64_t item) {
        Scratch scratch(3 * keyBytes);
        if (scratch.failed) {
          noMemory.store(true);
          return;
        }
        char *base = scratch.as<char>();
        uint32_t *keys = reinterpret_cast<uint32_t *>(base);
        uint32_t *bufA = reinterpret_cast<uint32_t *>(base + keyBytes);
        uint32_t *bufB = reinterpret_cast<uint32_t *>(base + 2 * keyBytes);
        const int64_t d0 = item * perItem;
        const int64_t d1 = std::min(domains, d0 + perItem);
        for (int64_t dIdx = d0; dIdx < d1; ++dIdx) {
          const int64_t b = dIdx / perSample, q = dIdx % perSample;
          const float *xs = x + b * total;
          float *ys = y + b * total;
          switch (mode) {
          case SPARSENN_KW_GLOBAL:
          case SPARSENN_KW_GROUP: {
            const int64_t q0 = q * domain;
            const int64_t n = std::min(domain, total - q0);
            FactorRun f = {nullptr, 1.0f, false};
            if (boost)
              f = {flatFactors(n) + q0, 1.0f, true};
            runDomain(portable, xs + q0, f, n, 1, ys + q0, std::min(k, n),
                      breakTies, relu, keys, bufA, bufB);
            break;
          }
          case SPARSENN_KW_CHANNEL: {
            FactorRun f = {nullptr, boost ? factors[q] : 1.0f, boost};
            runDomain(portable, xs + q * spatial, f, spatial, 1,
                      ys + q * spatial, std::min(k, spatial), breakTies, relu,
                      keys, bufA, bufB);
            break;
          }
          default: { // local: the channels at one spatial position
            FactorRun f = {boost ? factors : nullptr, 1.0f, boost};
            runDomain(portable, xs + q, f, channels, spatial, ys + q,
                      std::min(k, channels), breakTies, relu, keys, bufA, bufB);
            break;
          }
          }
        }
      });
  return noMemory.load() ? SPARSENN_ERR_NOMEM : SPARSENN_OK;
}
#endif // HWY_ONCE
