//===- SPGC8X86.cpp - AVX-512 VBMI + GFNI SPGC8 decoder -------------------===//
//
// Decodes D = 8 streams into int8 64 values (8 subsets) per iteration:
//
//  1. The 8 header codes of the block are 24 bits at a byte boundary; PDEP
//     spreads them to one byte per subset and a multiply by 0x0101..01 turns
//     the widths b into their prefix sums (each <= 64, so bytes never carry).
//  2. One VPERMB gathers each subset's b plane bytes from a 64-byte load of
//     the bodies into its own quadword, zeroing planes >= b.
//  3. GF2P8AFFINEQB with the data as the matrix operand transposes each 8x8
//     bit matrix (planes -> values, with the bit order reversed); a second
//     GF2P8AFFINEQB applies a constant matrix that undoes the reversal and
//     the sign folding (c = (u >> 1) ^ -(u & 1) is linear over GF(2)).
//  4. Interleaved groups are put back in natural order with one VPSHUFB.
//
// Compiled with target attributes so the rest of the library stays portable;
// it is only called after __builtin_cpu_supports confirms the features.
//
//===----------------------------------------------------------------------===//

#include "SPGC8Internal.h"

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operand inside the
// unmasked AVX-512 intrinsics as "may be used uninitialized" (a header false
// positive); nothing in this file reads uninitialised data.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace sparsenn {
namespace spgc8 {

bool cpuHasAvx512Gfni() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("gfni") && __builtin_cpu_supports("bmi2");
  }();
  return has;
}

#define SPGC8_AVX512_TARGET                                                    \
  __attribute__((target("avx512f,avx512bw,avx512vbmi,gfni,bmi2")))

SPGC8_AVX512_TARGET
size_t decodeI8BlocksAvx512(const uint8_t *hdr, const uint8_t *body,
                            const uint8_t *end, size_t maxBlocks,
                            bool interleave, bool isUnsigned, int8_t *out,
                            size_t *bodyBytes) {
  // x operand for the transpose: byte j = 1 << j selects column j of the
  // data matrix; the result byte j holds value j with bit i = plane 7 - i.
  const __m512i kSelect = _mm512_set1_epi64(0x8040201008040201LL);
  // Row 7 - i of these matrices gives output bit i from the bit-reversed r:
  // unsigned: bit i = r7-i; signed: bit i = r6-i ^ r7 (i < 7), bit 7 = r7.
  const __m512i kPost = _mm512_set1_epi64(
      isUnsigned ? static_cast<long long>(0x8040201008040201ULL)
                 : static_cast<long long>(0xC0A0908884828180ULL));
  // Byte k of every quadword = k.
  const __m512i kLane = _mm512_set1_epi64(0x0706050403020100LL);
  // Byte j of quadword s = s: broadcasts byte s of a word to quadword s.
  const __m512i kBroadcast = _mm512_set_epi64(
      0x0707070707070707LL, 0x0606060606060606LL, 0x0505050505050505LL,
      0x0404040404040404LL, 0x0303030303030303LL, 0x0202020202020202LL,
      0x0101010101010101LL, 0x0000000000000000LL);
  // Per 128-bit lane: interleave quadword 0 (even values) with 1 (odd).
  const __m512i kZip = _mm512_broadcast_i32x4(
      _mm_set_epi8(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0));
  const uint64_t kOnes = 0x0101010101010101ULL;

  size_t pos = 0;
  size_t blk = 0;
  for (; blk < maxBlocks; ++blk) {
    const uint8_t *h = hdr + 3 * blk;
    if (end - h < 8 || end - (body + pos) < 64)
      break;
    uint64_t codes = _pdep_u64(load64(h), 0x0707070707070707ULL);
    // b = code, except code 7 -> 8: add 1 exactly where code + 1 == 8.
    uint64_t widths = codes + (((codes + kOnes) >> 3) & kOnes);
    uint64_t inclusive = widths * kOnes;
    uint64_t exclusive = inclusive << 8;
    __m512i data = _mm512_loadu_si512(body + pos);
    __m512i off = _mm512_permutexvar_epi8(
        kBroadcast, _mm512_castsi128_si512(
                        _mm_cvtsi64_si128(static_cast<long long>(exclusive))));
    __m512i wid = _mm512_permutexvar_epi8(
        kBroadcast, _mm512_castsi128_si512(
                        _mm_cvtsi64_si128(static_cast<long long>(widths))));
    __mmask64 keep = _mm512_cmplt_epu8_mask(kLane, wid);
    __m512i planes =
        _mm512_maskz_permutexvar_epi8(keep, _mm512_add_epi8(off, kLane), data);
    __m512i rev = _mm512_gf2p8affine_epi64_epi8(kSelect, planes, 0);
    __m512i vals = _mm512_gf2p8affine_epi64_epi8(rev, kPost, 0);
    if (interleave)
      vals = _mm512_shuffle_epi8(vals, kZip);
    _mm512_storeu_si512(out + 64 * blk, vals);
    pos += static_cast<size_t>(inclusive >> 56);
  }
  *bodyBytes = pos;
  return blk;
}

} // namespace spgc8
} // namespace sparsenn

#endif
