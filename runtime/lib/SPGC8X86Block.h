//===- SPGC8X86Block.h - one AVX-512 step of the D = 8 decoder --*- C++ -*-===//
//
// The inner step of the AVX-512 VBMI + GFNI decoder (SPGC8X86.cpp): 8
// subsets of D = 8 (64 values) from their 8 header codes and a 64-byte load
// of their bodies. Shared with the fused SPGC8 linear kernel
// (KernelsSPGC8.cpp), which feeds it the codes of the non-zero groups only.
// Every function here carries the target attribute, so it may only run after
// cpuHasAvx512Gfni() (and must be inlined into functions with at least these
// features). Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_LIB_SPGC8X86BLOCK_H
#define SPARSENN_RUNTIME_LIB_SPGC8X86BLOCK_H

#if defined(__x86_64__) || defined(_M_X64)

#include <cstdint>
#include <immintrin.h>

#define SPGC8_AVX512_TARGET                                                    \
  __attribute__((target("avx512f,avx512bw,avx512vbmi,gfni,bmi2")))

namespace sparsenn {
namespace spgc8 {

/// Decodes blocks of 8 subsets of D = 8 into 64 int8 values:
///
///  1. b = code, except code 7 -> 8; a multiply by 0x0101..01 turns the 8
///     widths into their prefix sums (each <= 64, so bytes never carry).
///  2. One VPERMB gathers each subset's b plane bytes from the 64 body bytes
///     into its own quadword, zeroing planes >= b.
///  3. GF2P8AFFINEQB with the data as the matrix operand transposes each 8x8
///     bit matrix (planes -> values, with the bit order reversed); a second
///     GF2P8AFFINEQB applies a constant matrix that undoes the reversal and
///     the sign folding (c = (u >> 1) ^ -(u & 1) is linear over GF(2)).
///  4. Interleaved groups are put back in natural order with one VPSHUFB.
class I8BlockDecoder {
public:
  SPGC8_AVX512_TARGET I8BlockDecoder(bool interleave, bool isUnsigned)
      : interleave(interleave) {
    // x operand for the transpose: byte j = 1 << j selects column j of the
    // data matrix; the result byte j holds value j with bit i = plane 7 - i.
    select = _mm512_set1_epi64(0x8040201008040201LL);
    // Row 7 - i of these matrices gives output bit i from the bit-reversed
    // r: unsigned: bit i = r7-i; signed: bit i = r6-i ^ r7 (i < 7), bit 7 =
    // r7.
    post = _mm512_set1_epi64(
        isUnsigned ? static_cast<long long>(0x8040201008040201ULL)
                   : static_cast<long long>(0xC0A0908884828180ULL));
    // Byte k of every quadword = k.
    lane = _mm512_set1_epi64(0x0706050403020100LL);
    // Byte j of quadword s = s: broadcasts byte s of a word to quadword s.
    broadcast = _mm512_set_epi64(0x0707070707070707LL, 0x0606060606060606LL,
                                 0x0505050505050505LL, 0x0404040404040404LL,
                                 0x0303030303030303LL, 0x0202020202020202LL,
                                 0x0101010101010101LL, 0x0000000000000000LL);
    // Per 128-bit lane: interleave quadword 0 (even values) with 1 (odd).
    zip = _mm512_broadcast_i32x4(
        _mm_set_epi8(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0));
  }

  /// `codes`: the 3-bit header codes of 8 consecutive subsets of the stream
  /// (or of any 8 subsets whose bodies are contiguous), one per byte; `data`:
  /// the 64 bytes that start at the first body. Returns the 64 values in
  /// natural order (subset k at bytes 8k..8k+7, or groups restored when
  /// interleaved) and the body bytes used in *bodyBytes.
  SPGC8_AVX512_TARGET __m512i decode(uint64_t codes, __m512i data,
                                     unsigned *bodyBytes) const {
    const uint64_t ones = 0x0101010101010101ULL;
    // b = code, except code 7 -> 8: add 1 exactly where code + 1 == 8.
    uint64_t widths = codes + (((codes + ones) >> 3) & ones);
    uint64_t inclusive = widths * ones;
    uint64_t exclusive = inclusive << 8;
    __m512i off = _mm512_permutexvar_epi8(
        broadcast, _mm512_castsi128_si512(
                       _mm_cvtsi64_si128(static_cast<long long>(exclusive))));
    __m512i wid = _mm512_permutexvar_epi8(
        broadcast, _mm512_castsi128_si512(
                       _mm_cvtsi64_si128(static_cast<long long>(widths))));
    __mmask64 keep = _mm512_cmplt_epu8_mask(lane, wid);
    __m512i planes =
        _mm512_maskz_permutexvar_epi8(keep, _mm512_add_epi8(off, lane), data);
    __m512i rev = _mm512_gf2p8affine_epi64_epi8(select, planes, 0);
    __m512i vals = _mm512_gf2p8affine_epi64_epi8(rev, post, 0);
    if (interleave)
      vals = _mm512_shuffle_epi8(vals, zip);
    *bodyBytes = static_cast<unsigned>(inclusive >> 56);
    return vals;
  }

private:
  __m512i select, post, lane, broadcast, zip;
  bool interleave;
};

} // namespace spgc8
} // namespace sparsenn

#endif // x86-64

#endif // SPARSENN_RUNTIME_LIB_SPGC8X86BLOCK_H
