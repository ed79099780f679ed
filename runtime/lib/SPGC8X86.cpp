//===- SPGC8X86.cpp - AVX-512 VBMI + GFNI SPGC8 decoder -------------------===//
//
// Decodes D = 8 streams into int8 64 values (8 subsets) per iteration: the
// 8 header codes of a block are 24 bits at a byte boundary, which PDEP
// spreads to one byte per subset; the rest of the step (prefix sums of the
// widths, one VPERMB gather of the planes, two GF2P8AFFINEQB for the
// transpose and the unfolding) is I8BlockDecoder in SPGC8X86Block.h, which
// the fused SPGC8 linear kernel shares.
//
// Compiled with target attributes so the rest of the library stays portable;
// it is only called after __builtin_cpu_supports confirms the features.
//
//===----------------------------------------------------------------------===//

#include "SPGC8Internal.h"

#if defined(__x86_64__) || defined(_M_X64)

#include "SPGC8X86Block.h"

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

SPGC8_AVX512_TARGET
size_t decodeI8BlocksAvx512(const uint8_t *hdr, const uint8_t *body,
                            const uint8_t *end, size_t maxBlocks,
                            bool interleave, bool isUnsigned, int8_t *out,
                            size_t *bodyBytes) {
  const I8BlockDecoder decoder(interleave, isUnsigned);
  size_t pos = 0;
  size_t blk = 0;
  for (; blk < maxBlocks; ++blk) {
    const uint8_t *h = hdr + 3 * blk;
    if (end - h < 8 || end - (body + pos) < 64)
      break;
    uint64_t codes = _pdep_u64(load64(h), 0x0707070707070707ULL);
    unsigned used;
    __m512i vals = decoder.decode(codes, _mm512_loadu_si512(body + pos), &used);
    _mm512_storeu_si512(out + 64 * blk, vals);
    pos += used;
  }
  *bodyBytes = pos;
  return blk;
}

} // namespace spgc8
} // namespace sparsenn

#endif
