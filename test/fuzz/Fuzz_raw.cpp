//===- Fuzz_raw.cpp - libFuzzer target for the SPGC8 raw decoder ----------===//
//
// Input: byte 0 = flags (bit 0: D = 16, bit 1: interleave, bit 2: unsigned),
// bytes 1-2 = n (little-endian), rest = the stream. Checks that decoding
// never misbehaves, that every implementation agrees with the reference
// (differential), and that decode(encode(decoded values)) round-trips.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/SPGC8.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  int bits = (data[0] & 1) ? 16 : 8;
  int il = (data[0] >> 1) & 1;
  int us = (data[0] >> 2) & 1;
  size_t n = data[1] | (static_cast<size_t>(data[2]) << 8);
  // Copy to an exact-size heap buffer so ASan sees any over-read.
  std::vector<uint8_t> in(data + 3, data + size);
  const uint8_t *p = in.empty() ? nullptr : in.data();

  size_t streamSize = 0;
  sparsenn_status sizeSt =
      sparsenn_spgc8_raw_stream_size(p, in.size(), n, bits, il, &streamSize);

  std::vector<int16_t> ref(n);
  size_t refConsumed = 0;
  sparsenn_status refSt =
      sparsenn_spgc8_decode_raw_i16_impl(p, in.size(), n, bits, il, us, ref.data(),
                                &refConsumed, SPARSENN_SPGC8_IMPL_REFERENCE);
  if (refSt == SPARSENN_OK && (sizeSt != SPARSENN_OK || streamSize != refConsumed))
    std::abort();
  for (sparsenn_spgc8_impl impl :
       {SPARSENN_SPGC8_IMPL_PORTABLE, SPARSENN_SPGC8_IMPL_AVX512, SPARSENN_SPGC8_IMPL_AUTO}) {
    std::vector<int16_t> got(n);
    size_t consumed = 0;
    sparsenn_status st = sparsenn_spgc8_decode_raw_i16_impl(p, in.size(), n, bits, il, us,
                                                got.data(), &consumed, impl);
    if (st != refSt ||
        (st == SPARSENN_OK && (got != ref || consumed != refConsumed)))
      std::abort();
    if (bits == 8) {
      std::vector<int8_t> g8(n);
      st = sparsenn_spgc8_decode_raw_i8_impl(p, in.size(), n, 8, il, us, g8.data(),
                                    &consumed, impl);
      if (st != refSt)
        std::abort();
      for (size_t i = 0; st == SPARSENN_OK && i < n; ++i)
        if (static_cast<int16_t>(us ? static_cast<uint8_t>(g8[i]) : g8[i]) !=
            ref[i])
          std::abort();
    }
  }
  if (refSt != SPARSENN_OK)
    return 0;
  // Re-encoding is canonical (smallest widths), so it is never longer and
  // decodes to the same values.
  std::vector<uint8_t> out(sparsenn_spgc8_raw_max_size(n, bits, il) + 1);
  size_t outSize = 0;
  if (sparsenn_spgc8_encode_raw_i16(ref.data(), n, bits, il, us, out.data(), out.size(),
                           &outSize) != SPARSENN_OK ||
      outSize > refConsumed)
    std::abort();
  std::vector<int16_t> again(n);
  if (sparsenn_spgc8_decode_raw_i16(out.data(), outSize, n, bits, il, us, again.data(),
                           nullptr) != SPARSENN_OK ||
      again != ref)
    std::abort();
  return 0;
}
