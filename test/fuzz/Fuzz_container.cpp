//===- Fuzz_container.cpp - libFuzzer target for the SPGC8 container ------===//
//
// Input: byte 0 = mode (bit 0: recompute the trailing CRC so that mutations
// reach the structural checks behind it), rest = a container. Exercises
// info, verify, full decode (int8, int16, float32) and per-row decode.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/SPGC8.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  bool fixCrc = data[0] & 1;
  std::vector<uint8_t> in(data + 1, data + size);
  if (fixCrc && in.size() >= 4) {
    uint32_t crc = sparsenn_spgc8_crc32(0, in.data(), in.size() - 4);
    std::memcpy(in.data() + in.size() - 4, &crc, 4);
  }
  const uint8_t *p = in.empty() ? nullptr : in.data();
  sparsenn_spgc8_info info;
  if (sparsenn_spgc8_container_info(p, in.size(), &info) != SPARSENN_OK) {
    // Decoding must fail the same way.
    std::vector<int16_t> dummy(1);
    if (sparsenn_spgc8_container_decode(p, in.size(), dummy.data(), SPARSENN_SPGC8_DTYPE_I16, 1,
                               nullptr, 0) == SPARSENN_OK)
      std::abort();
    return 0;
  }
  // info() bounds the tensor by the input size, so these allocations are
  // proportional to the input.
  if (info.num_values > (uint64_t(1) << 26))
    std::abort();
  size_t n = static_cast<size_t>(info.num_values);
  sparsenn_status verify = sparsenn_spgc8_container_verify(p, in.size());
  std::vector<int16_t> v16(n + 1);
  std::vector<float> scales(static_cast<size_t>(info.num_channels) + 1);
  sparsenn_status st =
      sparsenn_spgc8_container_decode(p, in.size(), v16.data(), SPARSENN_SPGC8_DTYPE_I16, n,
                             scales.data(), scales.size());
  if (verify != SPARSENN_OK && st == SPARSENN_OK)
    std::abort();
  if (info.bits == 8) {
    std::vector<int8_t> v8(n + 1);
    sparsenn_status st8 = sparsenn_spgc8_container_decode(p, in.size(), v8.data(),
                                              SPARSENN_SPGC8_DTYPE_I8, n, nullptr, 0);
    if (st8 != st)
      std::abort();
  }
  std::vector<float> f(n + 1);
  sparsenn_status stf = sparsenn_spgc8_container_decode_f32(p, in.size(), f.data(), n);
  if (stf != st)
    std::abort();
  uint64_t rowElems = info.num_rows ? info.num_values / info.num_rows : 0;
  std::vector<int16_t> row(static_cast<size_t>(rowElems) + 1);
  for (uint64_t r = 0; r < info.num_rows && r < 64; ++r) {
    sparsenn_status rs =
        sparsenn_spgc8_container_decode_row(p, in.size(), r, row.data(), SPARSENN_SPGC8_DTYPE_I16,
                                   static_cast<size_t>(rowElems));
    // A valid container decodes row by row to the same values.
    if (st == SPARSENN_OK &&
        (rs != SPARSENN_OK || std::memcmp(row.data(), v16.data() + r * rowElems,
                                       2 * static_cast<size_t>(rowElems)) != 0))
      std::abort();
  }
  return 0;
}
