//===- KernelsKWinners.cpp - k-winners top-k selection --------------------===//
//
// k-winners (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077], eq. 1-4;
// brief section 4). Sparse activations exist so that the next layer can
// skip work (seed 000 [0047]); this kernel produces them.
//
// Per domain (see Kernels.h for the four modes):
//  1. ranking keys: r = x * boost factor (per channel), mapped to uint32 so
//     that unsigned order is float order (-0 folded to +0); with relu,
//     x <= 0 gets key 0, below every real value;
//  2. the k-th largest key T by a sampled threshold search: a strided sample
//     brackets T in [lo, hi]; one vectorised pass counts keys above hi and
//     compacts the keys in [lo, hi]; the search repeats on the (much smaller)
//     candidates; a 4-pass radix select (8-bit digits) is the fallback when
//     a bracket misses and finishes small sets. No sort of the data;
//  3. one output pass: x where key > T (or >= T), ties at T resolved in
//     index order when break_ties asks for exactly k winners.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include "KernelsInternal.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

using namespace sparsenn::kernels;

namespace {

inline uint32_t keyOf(float r) {
  r += 0.0f; // -0 -> +0
  uint32_t u;
  std::memcpy(&u, &r, sizeof(u));
  return u ^ ((u >> 31) ? 0xFFFFFFFFu : 0x80000000u);
}

/// Where the per-element boost factors come from for a run of elements.
struct FactorRun {
  const float *perElement; // factor of element j is perElement[j]
  float constant;          // used when perElement is null
  bool any;                // false: no boosting (r = x)
};

//===----------------------------------------------------------------------===//
// Portable building blocks.
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

// Counts keys > hi (when hasHi) and copies keys in [lo, hi] to out.
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

// y[j] = x[j] for winners, else 0. ge: key >= t wins; otherwise key > t
// wins plus the first `need` keys equal to t.
void writePortable(const float *x, const uint32_t *keys, int64_t n,
                   int64_t stride, float *y, uint32_t t, bool ge,
                   int64_t need) {
  for (int64_t j = 0; j < n; ++j) {
    uint32_t v = keys[j];
    bool win = ge ? v >= t : v > t;
    if (!ge && v == t && need > 0) {
      win = true;
      --need;
    }
    float xv = x[j * stride];
    y[j * stride] = win ? xv : 0.0f;
  }
}

//===----------------------------------------------------------------------===//
// AVX-512 building blocks.
//===----------------------------------------------------------------------===//

#if SPARSENN_KERNELS_X86
SPARSENN_AVX512_TARGET inline __mmask16 tail16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : static_cast<__mmask16>((1u << n) - 1u);
}

SPARSENN_AVX512_TARGET void keysAvx512(const float *x, FactorRun f, int64_t n,
                                       bool relu, uint32_t *keys) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512i signBit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512 fc = _mm512_set1_ps(f.constant);
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = tail16(n - j);
    __m512 xv = _mm512_maskz_loadu_ps(m, x + j);
    __m512 r = xv;
    if (f.any)
      r = _mm512_mul_ps(
          r, f.perElement ? _mm512_maskz_loadu_ps(m, f.perElement + j) : fc);
    r = _mm512_add_ps(r, zero);
    __m512i u = _mm512_castps_si512(r);
    __m512i key =
        _mm512_xor_si512(u, _mm512_or_si512(_mm512_srai_epi32(u, 31), signBit));
    if (relu)
      key =
          _mm512_maskz_mov_epi32(_mm512_cmp_ps_mask(xv, zero, _CMP_GT_OQ), key);
    _mm512_mask_storeu_epi32(keys + j, m, key);
  }
}

// out needs 16 elements of slack: compaction stores whole vectors.
SPARSENN_AVX512_TARGET int64_t bracketAvx512(const uint32_t *keys, int64_t n,
                                             uint32_t lo, uint32_t hi,
                                             uint32_t *out, int64_t *above) {
  const __m512i vlo = _mm512_set1_epi32(static_cast<int>(lo));
  const __m512i vhi = _mm512_set1_epi32(static_cast<int>(hi));
  int64_t nc = 0, na = 0;
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = tail16(n - j);
    __m512i v = _mm512_maskz_loadu_epi32(m, keys + j);
    __mmask16 gt = _mm512_mask_cmpgt_epu32_mask(m, v, vhi);
    __mmask16 in = _mm512_mask_cmpge_epu32_mask(m, v, vlo) & ~gt;
    na += __builtin_popcount(gt);
    // Compress in registers, then a plain store (a compressing store to
    // memory is slow on AMD Zen 4).
    _mm512_storeu_si512(out + nc, _mm512_maskz_compress_epi32(in, v));
    nc += __builtin_popcount(in);
  }
  *above = na;
  return nc;
}

SPARSENN_AVX512_TARGET int64_t countGreaterAvx512(const uint32_t *keys,
                                                  int64_t n, uint32_t t) {
  const __m512i vt = _mm512_set1_epi32(static_cast<int>(t));
  int64_t c = 0;
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = tail16(n - j);
    c += __builtin_popcount(_mm512_mask_cmpgt_epu32_mask(
        m, _mm512_maskz_loadu_epi32(m, keys + j), vt));
  }
  return c;
}

SPARSENN_AVX512_TARGET void writeAvx512(const float *x, const uint32_t *keys,
                                        int64_t n, int64_t stride, float *y,
                                        uint32_t t, bool ge, int64_t need) {
  if (stride != 1) {
    writePortable(x, keys, n, stride, y, t, ge, need);
    return;
  }
  const __m512i vt = _mm512_set1_epi32(static_cast<int>(t));
  for (int64_t j = 0; j < n; j += 16) {
    __mmask16 m = tail16(n - j);
    __m512i v = _mm512_maskz_loadu_epi32(m, keys + j);
    __mmask16 win;
    if (ge) {
      win = _mm512_cmpge_epu32_mask(v, vt);
    } else {
      win = _mm512_cmpgt_epu32_mask(v, vt);
      if (need > 0) {
        uint32_t eq = _mm512_mask_cmpeq_epu32_mask(m, v, vt);
        int64_t c = __builtin_popcount(eq);
        if (c > need) // the lowest `need` tied lanes: lower index wins
          eq = _pdep_u32((1u << need) - 1u, eq);
        win |= static_cast<__mmask16>(eq);
        need -= c < need ? c : need;
      }
    }
    _mm512_mask_storeu_ps(y + j, m, _mm512_maskz_loadu_ps(win & m, x + j));
  }
}

// Order statistics of a small set without branches (nth_element on random
// keys mispredicts about every other comparison): for every a[i], count the
// keys greater than it, 16 i at a time; the element at descending position
// p is min{a[i] : greater(i) <= p}. Returns it for p1 and p2 (p < 0: none).
SPARSENN_AVX512_TARGET void smallOrderStats(const uint32_t *a, int64_t s,
                                            int64_t p1, int64_t p2,
                                            uint32_t *v1, uint32_t *v2) {
  __m512i best1 = _mm512_set1_epi32(-1), best2 = best1;
  const __m512i vp1 = _mm512_set1_epi32(static_cast<int>(p1));
  const __m512i vp2 = _mm512_set1_epi32(static_cast<int>(p2));
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < s; i += 16) {
    __mmask16 m = tail16(s - i);
    __m512i ai = _mm512_maskz_loadu_epi32(m, a + i);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0;
    int64_t j = 0;
    for (; j + 2 <= s; j += 2) {
      c0 = _mm512_mask_add_epi32(
          c0,
          _mm512_cmpgt_epu32_mask(_mm512_set1_epi32(static_cast<int>(a[j])),
                                  ai),
          c0, one);
      c1 = _mm512_mask_add_epi32(
          c1,
          _mm512_cmpgt_epu32_mask(_mm512_set1_epi32(static_cast<int>(a[j + 1])),
                                  ai),
          c1, one);
    }
    if (j < s)
      c0 = _mm512_mask_add_epi32(
          c0,
          _mm512_cmpgt_epu32_mask(_mm512_set1_epi32(static_cast<int>(a[j])),
                                  ai),
          c0, one);
    __m512i cnt = _mm512_add_epi32(c0, c1);
    best1 = _mm512_mask_min_epu32(best1, m & _mm512_cmple_epi32_mask(cnt, vp1),
                                  best1, ai);
    best2 = _mm512_mask_min_epu32(best2, m & _mm512_cmple_epi32_mask(cnt, vp2),
                                  best2, ai);
  }
  *v1 = static_cast<uint32_t>(_mm512_reduce_min_epu32(best1));
  *v2 = static_cast<uint32_t>(_mm512_reduce_min_epu32(best2));
}
#endif

struct Impl {
  void (*keys)(const float *, FactorRun, int64_t, bool, uint32_t *);
  int64_t (*bracket)(const uint32_t *, int64_t, uint32_t, uint32_t, uint32_t *,
                     int64_t *);
  int64_t (*countGreater)(const uint32_t *, int64_t, uint32_t);
  void (*write)(const float *, const uint32_t *, int64_t, int64_t, float *,
                uint32_t, bool, int64_t);
  // Branch-free order statistics of small sets; null: std::nth_element.
  void (*smallStats)(const uint32_t *, int64_t, int64_t, int64_t, uint32_t *,
                     uint32_t *);
};

Impl pickImpl() {
#if SPARSENN_KERNELS_X86
  if (useAvx512())
    return {keysAvx512, bracketAvx512, countGreaterAvx512, writeAvx512,
            smallOrderStats};
#endif
  return {keysPortable, bracketPortable, countGreaterPortable, writePortable,
          nullptr};
}

//===----------------------------------------------------------------------===//
// Selection of the k-th largest key (1 <= k <= n).
//===----------------------------------------------------------------------===//

// Radix select, 8-bit digits from the top; tmp holds n keys (may be keys).
uint32_t radixSelect(const uint32_t *keys, int64_t n, int64_t k,
                     uint32_t *tmp) {
  uint32_t prefix = 0; // the digits above `shift` shared by every candidate
  const uint32_t *cur = keys;
  for (int shift = 24;; shift -= 8) {
    int64_t hist[256] = {0};
    for (int64_t i = 0; i < n; ++i)
      ++hist[(cur[i] >> shift) & 255u];
    uint32_t d = 255;
    for (; d > 0 && hist[d] < k; --d)
      k -= hist[d];
    prefix |= d << shift;
    if (shift == 0)
      return prefix;
    if (hist[d] == n)
      continue; // every candidate has this digit
    int64_t j = 0;
    for (int64_t i = 0; i < n; ++i)
      if (((cur[i] >> shift) & 255u) == d)
        tmp[j++] = cur[i];
    if (j == 1)
      return tmp[0];
    cur = tmp;
    n = j;
  }
}

uint32_t selectKth(const Impl &impl, const uint32_t *keys, int64_t n, int64_t k,
                   uint32_t *bufA, uint32_t *bufB) {
  uint32_t sample[1024];
  uint32_t *out = bufA;
  const int64_t smallMax = impl.smallStats ? 128 : 256;
  while (true) {
    if (n <= smallMax) {
      if (impl.smallStats) {
        uint32_t v, unused;
        impl.smallStats(keys, n, k - 1, k - 1, &v, &unused);
        return v;
      }
      uint32_t small[256];
      std::memcpy(small, keys, sizeof(uint32_t) * n);
      std::nth_element(small, small + (k - 1), small + n,
                       std::greater<uint32_t>());
      return small[k - 1];
    }
    // The branch-free small selection is quadratic: smaller samples there.
    int64_t m = impl.smallStats
                    ? (n < 4096    ? 32
                       : n < 16384 ? 64
                                   : 128)
                    : std::min<int64_t>(std::max<int64_t>(n / 16, 64), 1024);
    int64_t step = n / m;
    for (int64_t t = 0; t < m; ++t)
      sample[t] = keys[t * step + step / 2];
    double p = static_cast<double>(k) / static_cast<double>(n);
    double r = p * static_cast<double>(m) - 1.0;
    double d = 2.5 * std::sqrt(static_cast<double>(m) * p * (1.0 - p)) + 2.0;
    int64_t hiRank = static_cast<int64_t>(std::floor(r - d));
    int64_t loRank = static_cast<int64_t>(std::ceil(r + d));
    uint32_t hi = 0xFFFFFFFFu, lo = 0u;
    if (impl.smallStats) {
      uint32_t vh, vl;
      impl.smallStats(sample, m, hiRank, loRank, &vh, &vl);
      if (hiRank >= 0)
        hi = vh;
      if (loRank < m)
        lo = vl;
    } else {
      // Ranks count from the largest.
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
    }
    int64_t above = 0;
    int64_t nc = impl.bracket(keys, n, lo, hi, out, &above);
    if (!(above < k && k <= above + nc))
      return radixSelect(keys, n, k, out); // the bracket missed: exact path
    if (lo == hi)
      return lo;
    if (nc == n)
      return radixSelect(keys, n, k, out); // no progress
    k -= above;
    n = nc;
    keys = out;
    out = out == bufA ? bufB : bufA;
  }
}

// Selects and writes the winners of one domain whose keys are computed.
void finishDomain(const Impl &impl, const float *x, const uint32_t *keys,
                  int64_t n, int64_t stride, float *y, int64_t k,
                  bool breakTies, bool relu, uint32_t *bufA, uint32_t *bufB) {
  if (k <= 0) {
    for (int64_t j = 0; j < n; ++j)
      y[j * stride] = 0.0f;
    return;
  }
  if (k >= n) { // everyone is a candidate; relu still filters
    impl.write(x, keys, n, stride, y, 0u, !relu, 0);
    return;
  }
  uint32_t t = selectKth(impl, keys, n, k, bufA, bufB);
  if (relu && t == 0u) {
    impl.write(x, keys, n, stride, y, 0u, false, 0); // only x > 0
    return;
  }
  if (!breakTies) {
    impl.write(x, keys, n, stride, y, t, true, 0);
    return;
  }
  int64_t greater = impl.countGreater(keys, n, t);
  impl.write(x, keys, n, stride, y, t, false, k - greater);
}

} // namespace

extern "C" int sparsenn_kwinners_f32(const float *x, float *y, int64_t batch,
                                     int64_t channels, int64_t spatial,
                                     int mode, int64_t k, int64_t groupSize,
                                     const float *duty, float boostStrength,
                                     int breakTies, int relu) {
  if (!x || !y || batch < 0 || channels < 0 || spatial < 0 ||
      mode < SPARSENN_KW_GLOBAL || mode > SPARSENN_KW_CHANNEL ||
      (mode == SPARSENN_KW_GROUP && groupSize <= 0))
    return SPARSENN_K_ERR_ARGUMENT;
  const int64_t total = channels * spatial;
  if (batch == 0 || total == 0)
    return SPARSENN_K_OK;
  const bool boost = duty && boostStrength != 0.0f;
  int64_t domain = 0;
  switch (mode) {
  case SPARSENN_KW_GLOBAL:
    domain = total;
    break;
  case SPARSENN_KW_GROUP:
    domain = std::min(groupSize, total);
    break;
  case SPARSENN_KW_LOCAL:
    domain = channels;
    break;
  default:
    domain = spatial;
    break;
  }
  // keys, two candidate buffers (16 slack each), factors per channel and,
  // for flat domains with spatial > 1, factors expanded per element.
  size_t keyBytes = sizeof(uint32_t) * (domain + 16);
  size_t facBytes = boost ? sizeof(float) * channels : 0;
  size_t expandBytes = boost && mode != SPARSENN_KW_LOCAL &&
                               mode != SPARSENN_KW_CHANNEL && spatial > 1
                           ? sizeof(float) * total
                           : 0;
  Scratch scratch(3 * keyBytes + facBytes + expandBytes);
  if (scratch.failed)
    return SPARSENN_K_ERR_NOMEM;
  char *base = scratch.as<char>();
  uint32_t *keys = reinterpret_cast<uint32_t *>(base);
  uint32_t *bufA = reinterpret_cast<uint32_t *>(base + keyBytes);
  uint32_t *bufB = reinterpret_cast<uint32_t *>(base + 2 * keyBytes);
  float *fac = reinterpret_cast<float *>(base + 3 * keyBytes);
  float *expanded = reinterpret_cast<float *>(base + 3 * keyBytes + facBytes);
  const Impl impl = pickImpl();

  // Boost factors exp(beta (k/n - duty[c])) for a domain of n elements
  // (eq. 2 and 4), computed exactly as documented in Kernels.h.
  int64_t factorsFor = -1;
  auto computeFactors = [&](int64_t n) {
    if (!boost || factorsFor == n)
      return;
    factorsFor = n;
    float target = static_cast<float>(std::min(k, n)) / static_cast<float>(n);
    for (int64_t c = 0; c < channels; ++c)
      fac[c] = std::exp(boostStrength * (target - duty[c]));
    if (expandBytes)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t s = 0; s < spatial; ++s)
          expanded[c * spatial + s] = fac[c];
  };
  // Flat run [q0, q0 + n) of one sample (global, group modes).
  auto flatFactors = [&](int64_t q0) -> FactorRun {
    if (!boost)
      return {nullptr, 1.0f, false};
    return {(spatial > 1 ? expanded : fac) + q0, 1.0f, true};
  };

  for (int64_t b = 0; b < batch; ++b) {
    const float *xs = x + b * total;
    float *ys = y + b * total;
    switch (mode) {
    case SPARSENN_KW_GLOBAL:
    case SPARSENN_KW_GROUP: {
      for (int64_t q0 = 0; q0 < total; q0 += domain) {
        int64_t n = std::min(domain, total - q0);
        computeFactors(n);
        impl.keys(xs + q0, flatFactors(q0), n, relu, keys);
        finishDomain(impl, xs + q0, keys, n, 1, ys + q0, std::min(k, n),
                     breakTies, relu, bufA, bufB);
      }
      break;
    }
    case SPARSENN_KW_CHANNEL: {
      computeFactors(spatial);
      for (int64_t c = 0; c < channels; ++c) {
        const float *xc = xs + c * spatial;
        FactorRun f = {nullptr, boost ? fac[c] : 1.0f, boost};
        impl.keys(xc, f, spatial, relu, keys);
        finishDomain(impl, xc, keys, spatial, 1, ys + c * spatial,
                     std::min(k, spatial), breakTies, relu, bufA, bufB);
      }
      break;
    }
    default: { // local: the channels at one spatial position
      computeFactors(channels);
      for (int64_t s = 0; s < spatial; ++s) {
        for (int64_t c = 0; c < channels; ++c) {
          float xv = xs[c * spatial + s];
          float r = boost ? xv * fac[c] : xv;
          keys[c] = (relu && !(xv > 0.0f)) ? 0u : keyOf(r);
        }
        finishDomain(impl, xs + s, keys, channels, spatial, ys + s,
                     std::min(k, channels), breakTies, relu, bufA, bufB);
      }
      break;
    }
    }
  }
  return SPARSENN_K_OK;
}
