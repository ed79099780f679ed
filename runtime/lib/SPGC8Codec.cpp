//===- SPGC8Codec.cpp - SPGC8 raw stream encoder/decoder ------------------===//
//
// Subset coding and the raw stream of docs/spgc8.md §1 (EP 21216321.6
// [0104]-[0109]). Two portable implementations live here: a reference one
// written bit by bit straight from that page, and a SWAR one that moves
// whole 8x8 bit matrices through 64-bit transposes. The AVX-512/GFNI
// decoder is in SPGC8X86.cpp; every implementation must produce identical
// results (the unit tests compare them on random and adversarial data).
//
//===----------------------------------------------------------------------===//

#include "SPGC8Internal.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

using namespace sparsenn::spgc8;

//===----------------------------------------------------------------------===//
// Subset helpers
//===----------------------------------------------------------------------===//


// [0105]: negative coefficients become odd values, positive ones even.
extern "C" uint32_t sparsenn_spgc8_fold(int32_t c) {
  return c >= 0 ? 2u * static_cast<uint32_t>(c)
                : 2u * static_cast<uint32_t>(-(c + 1)) + 1u;
}

extern "C" int32_t sparsenn_spgc8_unfold(uint32_t u) {
  return static_cast<int32_t>(u >> 1) ^ -static_cast<int32_t>(u & 1);
}

extern "C" int sparsenn_spgc8_header_bits(int bits) {
  return bits == 8 ? 3 : bits == 16 ? 4 : 0;
}

extern "C" int sparsenn_spgc8_code_to_body_bits(int code, int bits) {
  int h = sparsenn_spgc8_header_bits(bits);
  if (h == 0 || code < 0 || code >= (1 << h))
    return -1;
  return codeToB(static_cast<unsigned>(code), bits);
}

extern "C" int sparsenn_spgc8_body_bits_to_code(int needed, int bits) {
  if (sparsenn_spgc8_header_bits(bits) == 0 || needed < 0 || needed > bits)
    return -1;
  return static_cast<int>(neededToCode(static_cast<unsigned>(needed), bits));
}

// [0108]: b is the position of the most significant leading one across the
// subset, rounded up to a width the h-bit header can name.
extern "C" int sparsenn_spgc8_subset_body_bits(const uint16_t folded[8], int bits) {
  if (!folded || sparsenn_spgc8_header_bits(bits) == 0)
    return -1;
  uint32_t orv = 0;
  for (int i = 0; i < 8; ++i)
    orv |= folded[i];
  unsigned needed = bitLength(orv);
  if (needed > static_cast<unsigned>(bits))
    return -1;
  return codeToB(neededToCode(needed, bits), bits);
}

extern "C" uint32_t sparsenn_spgc8_subset_cost_bits(const uint16_t folded[8], int bits) {
  int b = sparsenn_spgc8_subset_body_bits(folded, bits);
  if (b < 0)
    return 0;
  return static_cast<uint32_t>(sparsenn_spgc8_header_bits(bits) + 8 * b);
}

extern "C" size_t sparsenn_spgc8_num_subsets(size_t n, int interleave) {
  // Zero padding to whole subsets (or whole groups when interleaved),
  // EP 21216321.6 [0169].
  return interleave ? 2 * ((n + 15) / 16) : (n + 7) / 8;
}

/// Largest n accepted: keeps every size computation far from overflow.
static constexpr size_t kMaxValues = SIZE_MAX / 64;

extern "C" size_t sparsenn_spgc8_raw_max_size(size_t n, int bits, int interleave) {
  int h = sparsenn_spgc8_header_bits(bits);
  if (h == 0)
    return 0;
  if (n > kMaxValues)
    return SIZE_MAX;
  size_t s = sparsenn_spgc8_num_subsets(n, interleave);
  return headerBytes(s, h) + s * static_cast<size_t>(bits);
}

//===----------------------------------------------------------------------===//
// Implementation selection
//===----------------------------------------------------------------------===//

extern "C" int sparsenn_spgc8_impl_available(sparsenn_spgc8_impl impl) {
  switch (impl) {
  case SPARSENN_SPGC8_IMPL_AUTO:
  case SPARSENN_SPGC8_IMPL_REFERENCE:
  case SPARSENN_SPGC8_IMPL_PORTABLE:
    return 1;
  case SPARSENN_SPGC8_IMPL_AVX512:
#if defined(__x86_64__) || defined(_M_X64)
    return cpuHasAvx512Gfni() ? 1 : 0;
#else
    return 0;
#endif
  }
  return 0;
}

extern "C" const char *sparsenn_spgc8_impl_name(sparsenn_spgc8_impl impl) {
  switch (impl) {
  case SPARSENN_SPGC8_IMPL_AUTO:
    return "auto";
  case SPARSENN_SPGC8_IMPL_REFERENCE:
    return "reference";
  case SPARSENN_SPGC8_IMPL_PORTABLE:
    return "portable";
  case SPARSENN_SPGC8_IMPL_AVX512:
    return "avx512-gfni";
  }
  return "unknown";
}

sparsenn_spgc8_impl sparsenn::spgc8::resolveImpl(sparsenn_spgc8_impl impl) {
  if (impl == SPARSENN_SPGC8_IMPL_AUTO)
    return sparsenn_spgc8_impl_available(SPARSENN_SPGC8_IMPL_AVX512) ? SPARSENN_SPGC8_IMPL_AVX512
                                                   : SPARSENN_SPGC8_IMPL_PORTABLE;
  if (!sparsenn_spgc8_impl_available(impl))
    return SPARSENN_SPGC8_IMPL_PORTABLE;
  return impl;
}

//===----------------------------------------------------------------------===//
// Value <-> folded conversions
//===----------------------------------------------------------------------===//

namespace {

/// Folds (or reinterprets, in unsigned mode) one value; false if it does not
/// fit D bits. Unsigned mode takes the storage bit pattern as unsigned, so an
/// int8 always fits D = 8 and an int16 fits D = 8 only in [0, 255].
template <typename T> inline bool toFolded(T v, const Params &p, uint32_t &u) {
  using U = std::make_unsigned_t<T>;
  if (p.isUnsigned) {
    u = static_cast<U>(v);
    return (u >> p.bits) == 0;
  }
  int32_t c = v;
  int32_t lim = 1 << (p.bits - 1);
  if (c < -lim || c > lim - 1)
    return false;
  u = sparsenn_spgc8_fold(c);
  return true;
}

template <typename T> inline T fromFolded(uint32_t u, const Params &p) {
  using U = std::make_unsigned_t<T>;
  if (p.isUnsigned)
    return static_cast<T>(static_cast<U>(u));
  return static_cast<T>(sparsenn_spgc8_unfold(u));
}

/// Natural index of value i of the k-th subset of a run starting at an even
/// subset (docs/spgc8.md §1: interleaved groups hold V0, V2, .., V14 then
/// V1, V3, .., V15, EP 21216321.6 [0109]).
inline size_t naturalIndex(size_t k, unsigned i, bool interleave) {
  if (!interleave)
    return 8 * k + i;
  return 16 * (k >> 1) + 2 * i + (k & 1);
}

//===----------------------------------------------------------------------===//
// Reference implementation: one bit at a time.
//===----------------------------------------------------------------------===//

template <typename T>
sparsenn_status decodeReference(const Params &p, const uint8_t *in, size_t inSize,
                             size_t hdrBytes, size_t s0, size_t count,
                             size_t *pos, T *out) {
  const uint8_t *body = in + hdrBytes;
  size_t bodySize = inSize - hdrBytes;
  for (size_t k = 0; k < count; ++k) {
    int b = codeToB(readCode(in, s0 + k, p.h), p.bits);
    if (static_cast<size_t>(b) > bodySize - *pos)
      return SPARSENN_ERR_TRUNCATED;
    uint32_t u[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int plane = 0; plane < b; ++plane) {
      uint8_t byte = body[*pos + plane];
      for (unsigned i = 0; i < 8; ++i)
        u[i] |= static_cast<uint32_t>((byte >> i) & 1) << plane;
    }
    *pos += static_cast<size_t>(b);
    for (unsigned i = 0; i < 8; ++i)
      out[naturalIndex(k, i, p.interleave)] = fromFolded<T>(u[i], p);
  }
  return SPARSENN_OK;
}

template <typename T>
sparsenn_status encodeReference(const Params &p, const T *values, size_t s0,
                             size_t count, uint8_t *hdr, uint8_t *body,
                             size_t *pos) {
  for (size_t k = 0; k < count; ++k) {
    uint32_t u[8];
    uint32_t orv = 0;
    for (unsigned i = 0; i < 8; ++i) {
      if (!toFolded(values[naturalIndex(k, i, p.interleave)], p, u[i]))
        return SPARSENN_ERR_RANGE;
      orv |= u[i];
    }
    unsigned code = neededToCode(bitLength(orv), p.bits);
    int b = codeToB(code, p.bits);
    writeCode(hdr, s0 + k, p.h, code);
    for (int plane = 0; plane < b; ++plane) {
      unsigned byte = 0;
      for (unsigned i = 0; i < 8; ++i)
        byte |= ((u[i] >> plane) & 1u) << i;
      body[*pos + plane] = static_cast<uint8_t>(byte);
    }
    *pos += static_cast<size_t>(b);
  }
  return SPARSENN_OK;
}

//===----------------------------------------------------------------------===//
// Portable SWAR implementation.
//===----------------------------------------------------------------------===//

constexpr uint64_t kOnes = 0x0101010101010101ULL;

/// Sign unfolding of 8 bytes at once: c = (u >> 1) ^ -(u & 1) per byte.
inline uint64_t unfoldBytes(uint64_t u) {
  return ((u >> 1) & 0x7F7F7F7F7F7F7F7FULL) ^ ((u & kOnes) * 0xFF);
}

/// Sign folding of 8 bytes at once: u = (c << 1) ^ (c < 0 ? 0xFF : 0).
inline uint64_t foldBytes(uint64_t c) {
  return ((c << 1) & 0xFEFEFEFEFEFEFEFEULL) ^ (((c >> 7) & kOnes) * 0xFF);
}

/// Spreads the 4 low bytes of x to the even bytes of a word.
inline uint64_t spreadBytes(uint64_t x) {
  x &= 0xFFFFFFFFULL;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  return x;
}

/// Gathers the even bytes of x into its 4 low bytes.
inline uint64_t gatherEvenBytes(uint64_t x) {
  x &= 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return x;
}

/// D = 8 into int8: one transpose per subset plus SWAR unfolding.
sparsenn_status decodePortableI8(const Params &p, const uint8_t *in, size_t inSize,
                              size_t hdrBytes, size_t s0, size_t count,
                              size_t *pos, int8_t *out) {
  const uint8_t *body = in + hdrBytes;
  size_t bodySize = inSize - hdrBytes;
  size_t cur = *pos;
  auto one = [&](size_t s, uint64_t &v) -> bool {
    unsigned b = static_cast<unsigned>(codeToB(readCode(in, s, 3), 8));
    size_t avail = bodySize - cur;
    if (b > avail)
      return false;
    v = transpose8x8(loadBytes(body + cur, avail, b));
    if (!p.isUnsigned)
      v = unfoldBytes(v);
    cur += b;
    return true;
  };
  sparsenn_status st = SPARSENN_OK;
  if (!p.interleave) {
    for (size_t k = 0; k < count; ++k) {
      uint64_t v;
      if (!one(s0 + k, v)) {
        st = SPARSENN_ERR_TRUNCATED;
        break;
      }
      store64(reinterpret_cast<uint8_t *>(out) + 8 * k, v);
    }
  } else {
    for (size_t k = 0; k + 1 < count; k += 2) {
      uint64_t even, odd;
      if (!one(s0 + k, even) || !one(s0 + k + 1, odd)) {
        st = SPARSENN_ERR_TRUNCATED;
        break;
      }
      uint8_t *dst = reinterpret_cast<uint8_t *>(out) + 8 * k;
      store64(dst, spreadBytes(even) | (spreadBytes(odd) << 8));
      store64(dst + 8, spreadBytes(even >> 32) | (spreadBytes(odd >> 32) << 8));
    }
  }
  *pos = cur;
  return st;
}

/// Any D into any T: two transposes (planes 0-7 and 8-15) per subset.
template <typename T>
sparsenn_status decodePortable(const Params &p, const uint8_t *in, size_t inSize,
                            size_t hdrBytes, size_t s0, size_t count,
                            size_t *pos, T *out) {
  const uint8_t *body = in + hdrBytes;
  size_t bodySize = inSize - hdrBytes;
  for (size_t k = 0; k < count; ++k) {
    unsigned b =
        static_cast<unsigned>(codeToB(readCode(in, s0 + k, p.h), p.bits));
    size_t avail = bodySize - *pos;
    if (b > avail)
      return SPARSENN_ERR_TRUNCATED;
    const uint8_t *src = body + *pos;
    uint64_t lo = transpose8x8(loadBytes(src, avail, std::min(b, 8u)));
    uint64_t hi = 0;
    if (b > 8)
      hi = transpose8x8(loadBytes(src + 8, avail - 8, b - 8));
    *pos += b;
    for (unsigned i = 0; i < 8; ++i) {
      uint32_t u = static_cast<uint32_t>((lo >> (8 * i)) & 0xFF) |
                   (static_cast<uint32_t>((hi >> (8 * i)) & 0xFF) << 8);
      out[naturalIndex(k, i, p.interleave)] = fromFolded<T>(u, p);
    }
  }
  return SPARSENN_OK;
}

/// D = 8 from int8: SWAR folding, one transpose per subset.
sparsenn_status encodePortableI8(const Params &p, const int8_t *values, size_t s0,
                              size_t count, uint8_t *hdr, uint8_t *body,
                              size_t *pos) {
  const uint8_t *src = reinterpret_cast<const uint8_t *>(values);
  size_t cur = *pos;
  for (size_t k = 0; k < count; ++k) {
    uint64_t u;
    if (!p.interleave) {
      u = load64(src + 8 * k);
    } else {
      const uint8_t *g = src + 16 * (k >> 1);
      unsigned shift = (k & 1) ? 8 : 0;
      u = gatherEvenBytes(load64(g) >> shift) |
          (gatherEvenBytes(load64(g + 8) >> shift) << 32);
    }
    if (!p.isUnsigned)
      u = foldBytes(u);
    uint64_t o = u | (u >> 32);
    o |= o >> 16;
    o |= o >> 8;
    unsigned code = neededToCode(bitLength(static_cast<uint32_t>(o & 0xFF)), 8);
    unsigned b = static_cast<unsigned>(codeToB(code, 8));
    writeCode(hdr, s0 + k, 3, code);
    uint64_t planes = transpose8x8(u);
    uint8_t tmp[8];
    store64(tmp, planes);
    std::memcpy(body + cur, tmp, b);
    cur += b;
  }
  *pos = cur;
  return SPARSENN_OK;
}

template <typename T>
sparsenn_status encodePortable(const Params &p, const T *values, size_t s0,
                            size_t count, uint8_t *hdr, uint8_t *body,
                            size_t *pos) {
  for (size_t k = 0; k < count; ++k) {
    uint64_t lo = 0, hi = 0;
    uint32_t orv = 0;
    for (unsigned i = 0; i < 8; ++i) {
      uint32_t u;
      if (!toFolded(values[naturalIndex(k, i, p.interleave)], p, u))
        return SPARSENN_ERR_RANGE;
      orv |= u;
      lo |= static_cast<uint64_t>(u & 0xFF) << (8 * i);
      hi |= static_cast<uint64_t>(u >> 8) << (8 * i);
    }
    unsigned code = neededToCode(bitLength(orv), p.bits);
    unsigned b = static_cast<unsigned>(codeToB(code, p.bits));
    writeCode(hdr, s0 + k, p.h, code);
    uint8_t tmp[16];
    store64(tmp, transpose8x8(lo));
    store64(tmp + 8, transpose8x8(hi));
    std::memcpy(body + *pos, tmp, b);
    *pos += b;
  }
  return SPARSENN_OK;
}

} // namespace

//===----------------------------------------------------------------------===//
// Dispatch over implementations
//===----------------------------------------------------------------------===//

namespace sparsenn {
namespace spgc8 {

template <typename T>
sparsenn_status decodeSubsets(const Params &p, const uint8_t *in, size_t inSize,
                           size_t hdrBytes, size_t s0, size_t count,
                           size_t *pos, T *out, sparsenn_spgc8_impl impl) {
  impl = resolveImpl(impl);
  if (impl == SPARSENN_SPGC8_IMPL_REFERENCE)
    return decodeReference(p, in, inSize, hdrBytes, s0, count, pos, out);
  if constexpr (std::is_same_v<T, int8_t>) {
    if (p.bits == 8) {
#if defined(__x86_64__) || defined(_M_X64)
      if (impl == SPARSENN_SPGC8_IMPL_AVX512) {
        // Scalar until the header is byte aligned (subset index multiple of
        // 8), then whole 64-value blocks, then scalar for the rest.
        size_t lead = std::min(count, (8 - (s0 & 7)) & 7);
        sparsenn_status st =
            decodePortableI8(p, in, inSize, hdrBytes, s0, lead, pos, out);
        if (st != SPARSENN_OK)
          return st;
        size_t done = lead;
        size_t blocks = (count - done) / 8;
        if (blocks) {
          size_t used = 0;
          size_t n = decodeI8BlocksAvx512(
              in + 3 * ((s0 + done) / 8), in + hdrBytes + *pos, in + inSize,
              blocks, p.interleave, p.isUnsigned, out + 8 * done, &used);
          *pos += used;
          done += 8 * n;
        }
        return decodePortableI8(p, in, inSize, hdrBytes, s0 + done,
                                count - done, pos, out + 8 * done);
      }
#endif
      return decodePortableI8(p, in, inSize, hdrBytes, s0, count, pos, out);
    }
  }
  return decodePortable(p, in, inSize, hdrBytes, s0, count, pos, out);
}

template <typename T>
sparsenn_status encodeSubsets(const Params &p, const T *values, size_t s0,
                           size_t count, uint8_t *hdr, uint8_t *body,
                           size_t *pos, sparsenn_spgc8_impl impl) {
  impl = resolveImpl(impl);
  if (impl == SPARSENN_SPGC8_IMPL_REFERENCE)
    return encodeReference(p, values, s0, count, hdr, body, pos);
  if constexpr (std::is_same_v<T, int8_t>) {
    if (p.bits == 8)
      return encodePortableI8(p, values, s0, count, hdr, body, pos);
  }
  return encodePortable(p, values, s0, count, hdr, body, pos);
}

template sparsenn_status decodeSubsets<int8_t>(const Params &, const uint8_t *,
                                            size_t, size_t, size_t, size_t,
                                            size_t *, int8_t *, sparsenn_spgc8_impl);
template sparsenn_status decodeSubsets<int16_t>(const Params &, const uint8_t *,
                                             size_t, size_t, size_t, size_t,
                                             size_t *, int16_t *, sparsenn_spgc8_impl);
template sparsenn_status encodeSubsets<int8_t>(const Params &, const int8_t *,
                                            size_t, size_t, uint8_t *,
                                            uint8_t *, size_t *, sparsenn_spgc8_impl);
template sparsenn_status encodeSubsets<int16_t>(const Params &, const int16_t *,
                                             size_t, size_t, uint8_t *,
                                             uint8_t *, size_t *, sparsenn_spgc8_impl);

} // namespace spgc8
} // namespace sparsenn

//===----------------------------------------------------------------------===//
// Raw stream entry points
//===----------------------------------------------------------------------===//

namespace {

/// Exact encoded size (and range check) without writing anything.
template <typename T>
sparsenn_status encodedSize(const Params &p, const T *values, size_t n,
                         size_t *size) {
  size_t s = sparsenn_spgc8_num_subsets(n, p.interleave);
  size_t total = headerBytes(s, p.h);
  for (size_t k = 0; k < s; ++k) {
    uint32_t orv = 0;
    for (unsigned i = 0; i < 8; ++i) {
      size_t idx = naturalIndex(k, i, p.interleave);
      if (idx >= n)
        continue; // zero padding
      uint32_t u;
      if (!toFolded(values[idx], p, u))
        return SPARSENN_ERR_RANGE;
      orv |= u;
    }
    total += static_cast<size_t>(
        codeToB(neededToCode(bitLength(orv), p.bits), p.bits));
  }
  *size = total;
  return SPARSENN_OK;
}

template <typename T>
sparsenn_status encodeRaw(const T *values, size_t n, int bits, int interleave,
                       int isUnsigned, uint8_t *out, size_t cap,
                       size_t *outSize, sparsenn_spgc8_impl impl) {
  Params p;
  if (!outSize || !makeParams(bits, interleave, isUnsigned, p) ||
      (std::is_same_v<T, int8_t> && bits != 8) || (!values && n) ||
      n > kMaxValues)
    return SPARSENN_ERR_ARGUMENT;
  size_t s = sparsenn_spgc8_num_subsets(n, p.interleave);
  size_t hb = headerBytes(s, p.h);
  if (!out || cap < hb + s * static_cast<size_t>(bits)) {
    // Not enough room for the worst case: size the stream exactly first.
    size_t need = 0;
    sparsenn_status st = encodedSize(p, values, n, &need);
    if (st != SPARSENN_OK)
      return st;
    *outSize = need;
    if (!out || cap < need)
      return need == 0 ? SPARSENN_OK : SPARSENN_ERR_CAPACITY;
  }
  std::memset(out, 0, hb);
  size_t unit = p.interleave ? 16 : 8;
  size_t perUnit = unit / 8;
  size_t full = n / unit;
  size_t pos = 0;
  sparsenn_status st =
      encodeSubsets(p, values, 0, full * perUnit, out, out + hb, &pos, impl);
  if (st != SPARSENN_OK)
    return st;
  if (n % unit != 0) {
    T tmp[16] = {};
    std::copy(values + full * unit, values + n, tmp);
    st = encodeSubsets(p, tmp, full * perUnit, perUnit, out, out + hb, &pos,
                       impl);
    if (st != SPARSENN_OK)
      return st;
  }
  *outSize = hb + pos;
  return SPARSENN_OK;
}

template <typename T>
sparsenn_status decodeRaw(const uint8_t *in, size_t inSize, size_t n, int bits,
                       int interleave, int isUnsigned, T *values,
                       size_t *consumed, sparsenn_spgc8_impl impl) {
  Params p;
  if (!makeParams(bits, interleave, isUnsigned, p) ||
      (std::is_same_v<T, int8_t> && bits != 8) || (!values && n) ||
      (!in && inSize) || n > kMaxValues)
    return SPARSENN_ERR_ARGUMENT;
  size_t s = sparsenn_spgc8_num_subsets(n, p.interleave);
  size_t hb = headerBytes(s, p.h);
  if (inSize < hb)
    return SPARSENN_ERR_TRUNCATED;
  size_t unit = p.interleave ? 16 : 8;
  size_t perUnit = unit / 8;
  size_t full = n / unit;
  size_t pos = 0;
  sparsenn_status st =
      decodeSubsets(p, in, inSize, hb, 0, full * perUnit, &pos, values, impl);
  if (st != SPARSENN_OK)
    return st;
  if (size_t rem = n % unit) {
    T tmp[16] = {};
    st = decodeSubsets(p, in, inSize, hb, full * perUnit, perUnit, &pos, tmp,
                       impl);
    if (st != SPARSENN_OK)
      return st;
    // The padding must decode to zero: anything else means the stream was
    // not produced for this n (or was damaged).
    for (size_t i = rem; i < unit; ++i)
      if (tmp[i] != 0)
        return SPARSENN_ERR_CORRUPT;
    std::copy(tmp, tmp + rem, values + full * unit);
  }
  if (consumed)
    *consumed = hb + pos;
  return SPARSENN_OK;
}

} // namespace

extern "C" sparsenn_status sparsenn_spgc8_encode_raw_i16(const int16_t *values, size_t n,
                                             int bits, int interleave,
                                             int is_unsigned, uint8_t *out,
                                             size_t out_capacity,
                                             size_t *out_size) {
  return encodeRaw(values, n, bits, interleave, is_unsigned, out, out_capacity,
                   out_size, SPARSENN_SPGC8_IMPL_AUTO);
}

extern "C" sparsenn_status sparsenn_spgc8_encode_raw_i8(const int8_t *values, size_t n,
                                            int bits, int interleave,
                                            int is_unsigned, uint8_t *out,
                                            size_t out_capacity,
                                            size_t *out_size) {
  return encodeRaw(values, n, bits, interleave, is_unsigned, out, out_capacity,
                   out_size, SPARSENN_SPGC8_IMPL_AUTO);
}

extern "C" sparsenn_status sparsenn_spgc8_encode_raw_i8_impl(
    const int8_t *values, size_t n, int bits, int interleave, int is_unsigned,
    uint8_t *out, size_t out_capacity, size_t *out_size, sparsenn_spgc8_impl impl) {
  return encodeRaw(values, n, bits, interleave, is_unsigned, out, out_capacity,
                   out_size, impl);
}

extern "C" sparsenn_status sparsenn_spgc8_decode_raw_i16(const uint8_t *in, size_t in_size,
                                             size_t n, int bits, int interleave,
                                             int is_unsigned, int16_t *values,
                                             size_t *consumed) {
  return decodeRaw(in, in_size, n, bits, interleave, is_unsigned, values,
                   consumed, SPARSENN_SPGC8_IMPL_AUTO);
}

extern "C" sparsenn_status sparsenn_spgc8_decode_raw_i8(const uint8_t *in, size_t in_size,
                                            size_t n, int bits, int interleave,
                                            int is_unsigned, int8_t *values,
                                            size_t *consumed) {
  return decodeRaw(in, in_size, n, bits, interleave, is_unsigned, values,
                   consumed, SPARSENN_SPGC8_IMPL_AUTO);
}

extern "C" sparsenn_status
sparsenn_spgc8_decode_raw_i8_impl(const uint8_t *in, size_t in_size, size_t n, int bits,
                         int interleave, int is_unsigned, int8_t *values,
                         size_t *consumed, sparsenn_spgc8_impl impl) {
  return decodeRaw(in, in_size, n, bits, interleave, is_unsigned, values,
                   consumed, impl);
}

extern "C" sparsenn_status
sparsenn_spgc8_decode_raw_i16_impl(const uint8_t *in, size_t in_size, size_t n, int bits,
                          int interleave, int is_unsigned, int16_t *values,
                          size_t *consumed, sparsenn_spgc8_impl impl) {
  return decodeRaw(in, in_size, n, bits, interleave, is_unsigned, values,
                   consumed, impl);
}

extern "C" sparsenn_status sparsenn_spgc8_raw_stream_size(const uint8_t *in, size_t in_size,
                                              size_t n, int bits,
                                              int interleave,
                                              size_t *stream_size) {
  Params p;
  if (!stream_size || !makeParams(bits, interleave, 0, p) || (!in && in_size) ||
      n > kMaxValues)
    return SPARSENN_ERR_ARGUMENT;
  size_t s = sparsenn_spgc8_num_subsets(n, p.interleave);
  size_t hb = headerBytes(s, p.h);
  if (in_size < hb)
    return SPARSENN_ERR_TRUNCATED;
  size_t total = hb;
  for (size_t k = 0; k < s; ++k)
    total += static_cast<size_t>(codeToB(readCode(in, k, p.h), p.bits));
  *stream_size = total;
  return SPARSENN_OK;
}

extern "C" sparsenn_status sparsenn_spgc8_raw_read_codes(const uint8_t *in, size_t in_size,
                                             size_t num_subsets, int bits,
                                             uint8_t *codes) {
  Params p;
  if (!makeParams(bits, 0, 0, p) || (!in && in_size) ||
      (!codes && num_subsets) || num_subsets > kMaxValues)
    return SPARSENN_ERR_ARGUMENT;
  if (in_size < headerBytes(num_subsets, p.h))
    return SPARSENN_ERR_TRUNCATED;
  for (size_t k = 0; k < num_subsets; ++k)
    codes[k] = static_cast<uint8_t>(readCode(in, k, p.h));
  return SPARSENN_OK;
}
