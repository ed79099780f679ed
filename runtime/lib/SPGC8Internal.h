//===- SPGC8Internal.h - Shared internals of the SPGC8 codec ----*- C++ -*-===//
//
// Helpers shared by the portable codec (SPGC8Codec.cpp), the x86 kernels
// (SPGC8X86.cpp) and the tensor/container layer (SPGC8Tensor.cpp). Not
// installed; the public interface is sparsenn/Runtime/SPGC8.h.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_LIB_SPGC8INTERNAL_H
#define SPARSENN_RUNTIME_LIB_SPGC8INTERNAL_H

#include "sparsenn/Runtime/SPGC8.h"

#include <cstdint>
#include <cstring>

namespace sparsenn {
namespace spgc8 {

/// Codec parameters validated once per call.
struct Params {
  int bits = 8; // D
  int h = 3;    // header bits
  bool interleave = false;
  bool isUnsigned = false;
};

/// Validates D and fills in h. Returns false for D not in {8, 16}.
inline bool makeParams(int bits, int interleave, int isUnsigned, Params &p) {
  if (bits != 8 && bits != 16)
    return false;
  p.bits = bits;
  p.h = bits == 8 ? 3 : 4;
  p.interleave = interleave != 0;
  p.isUnsigned = isUnsigned != 0;
  return true;
}

/// Header code -> body width (docs/spgc8.md §1): the top code names D.
inline int codeToB(unsigned code, int bits) {
  unsigned top = bits == 8 ? 7u : 15u;
  return code == top ? bits : static_cast<int>(code);
}

/// Needed width (bit length of the OR of the folded values) -> code. A subset
/// needing D-1 bits is stored with D bits, so the top code covers both.
inline unsigned neededToCode(unsigned needed, int bits) {
  unsigned top = bits == 8 ? 7u : 15u;
  return needed >= top ? top : needed;
}

inline unsigned bitLength(uint32_t x) {
  return x == 0 ? 0u : 32u - static_cast<unsigned>(__builtin_clz(x));
}

inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void store64(uint8_t *p, uint64_t v) { std::memcpy(p, &v, 8); }

/// Mask keeping the low k bytes of a 64-bit word (k in 0..8).
inline uint64_t lowBytesMask(unsigned k) {
  return k >= 8 ? ~uint64_t(0) : ((uint64_t(1) << (8 * k)) - 1);
}

/// Loads k (<= 8) bytes little-endian into a word without reading past
/// `avail` bytes (k <= avail).
inline uint64_t loadBytes(const uint8_t *src, size_t avail, unsigned k) {
  if (avail >= 8)
    return load64(src) & lowBytesMask(k);
  uint64_t v = 0;
  for (unsigned j = 0; j < k; ++j)
    v |= static_cast<uint64_t>(src[j]) << (8 * j);
  return v;
}

/// Transposes the 8x8 bit matrix held in a 64-bit word: bit (8r + c) moves
/// to bit (8c + r). With byte i = value i this yields byte p = bit-plane p
/// (the SPGC8 body layout, value i in bit i of each plane byte), and vice
/// versa (the transpose is an involution). Three delta swaps.
inline uint64_t transpose8x8(uint64_t x) {
  uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x = x ^ t ^ (t << 28);
  return x;
}

/// Reads the h-bit header code of subset s (stream bit j is bit j%8 of byte
/// j/8). The caller guarantees the code lies inside the header region.
inline unsigned readCode(const uint8_t *hdr, size_t s, int h) {
  size_t bit = static_cast<size_t>(h) * s;
  size_t byte = bit >> 3;
  unsigned shift = static_cast<unsigned>(bit & 7);
  unsigned v = hdr[byte] >> shift;
  if (shift + static_cast<unsigned>(h) > 8)
    v |= static_cast<unsigned>(hdr[byte + 1]) << (8 - shift);
  return v & ((1u << h) - 1);
}

/// ORs the h-bit code of subset s into a zero-initialised header region.
inline void writeCode(uint8_t *hdr, size_t s, int h, unsigned code) {
  size_t bit = static_cast<size_t>(h) * s;
  size_t byte = bit >> 3;
  unsigned shift = static_cast<unsigned>(bit & 7);
  hdr[byte] = static_cast<uint8_t>(hdr[byte] | (code << shift));
  if (shift + static_cast<unsigned>(h) > 8)
    hdr[byte + 1] = static_cast<uint8_t>(hdr[byte + 1] | (code >> (8 - shift)));
}

inline size_t headerBytes(size_t numSubsets, int h) {
  return (numSubsets * static_cast<size_t>(h) + 7) / 8;
}

/// Decodes `count` subsets starting at subset s0 of a raw stream (`in`,
/// `inSize`, header region of `hdrBytes` bytes). *pos is the body offset
/// (relative to in + hdrBytes) of subset s0 and is advanced. `out` receives
/// count * 8 values in natural order (s0 and count even when interleaved).
/// Bounds-checked: returns SPARSENN_ERR_TRUNCATED if a body runs past inSize.
template <typename T>
sparsenn_status decodeSubsets(const Params &p, const uint8_t *in, size_t inSize,
                           size_t hdrBytes, size_t s0, size_t count,
                           size_t *pos, T *out, sparsenn_spgc8_impl impl);

/// Encodes `count` subsets (8 * count natural-order values from `values`,
/// already padded) starting at subset s0: codes are ORed into `hdr`, bodies
/// written at body + *pos, which is advanced. The caller guarantees room.
template <typename T>
sparsenn_status encodeSubsets(const Params &p, const T *values, size_t s0,
                           size_t count, uint8_t *hdr, uint8_t *body,
                           size_t *pos, sparsenn_spgc8_impl impl);

/// Resolves SPARSENN_SPGC8_IMPL_AUTO to the best available implementation.
sparsenn_spgc8_impl resolveImpl(sparsenn_spgc8_impl impl);

#if defined(__x86_64__) || defined(_M_X64)
/// AVX-512 VBMI + GFNI decoder for D = 8 into int8: decodes up to maxBlocks
/// blocks of 8 subsets (64 values). `hdr` points at the header byte of the
/// first subset (subset index a multiple of 8), `body` at its body, `end` is
/// the end of the readable input. Stops early (returning the number of blocks
/// done) when a block's 8-byte header load or 64-byte body load would pass
/// `end`; *bodyBytes receives the body bytes consumed.
size_t decodeI8BlocksAvx512(const uint8_t *hdr, const uint8_t *body,
                            const uint8_t *end, size_t maxBlocks,
                            bool interleave, bool isUnsigned, int8_t *out,
                            size_t *bodyBytes);
bool cpuHasAvx512Gfni();
#endif

} // namespace spgc8
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_LIB_SPGC8INTERNAL_H
