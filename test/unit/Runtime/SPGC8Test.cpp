//===- SPGC8Test.cpp - SPGC8 subset coding and raw stream tests -----------===//
//
// Checks the codec against the patent's worked example (EP 21216321.6
// [0104]-[0107], [0172]), hand-computed streams, an independent naive encoder
// kept in this file, and across implementations (reference, portable SWAR,
// AVX-512/GFNI when the CPU has it).
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/SPGC8.h"
#include "SPGC8Internal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

/// Straight-from-the-spec encoder, independent of the library's code paths
/// (docs/spgc8.md §1: headers LSB-first, then bodies, plane 0 first, value
/// i in bit i).
Bytes naiveEncode(const std::vector<int32_t> &v, int bits, bool interleave,
                  bool isUnsigned) {
  size_t unit = interleave ? 16 : 8;
  size_t n = (v.size() + unit - 1) / unit * unit;
  std::vector<uint32_t> u(n, 0);
  for (size_t i = 0; i < v.size(); ++i)
    u[i] = isUnsigned  ? static_cast<uint32_t>(v[i])
           : v[i] >= 0 ? 2u * static_cast<uint32_t>(v[i])
                       : static_cast<uint32_t>(-2 * v[i] - 1);
  size_t s = n / 8;
  int h = bits == 8 ? 3 : 4;
  std::vector<int> codes(s), widths(s);
  std::vector<std::vector<uint32_t>> subsets(s);
  for (size_t k = 0; k < s; ++k) {
    for (size_t i = 0; i < 8; ++i) {
      size_t idx = interleave ? 16 * (k / 2) + 2 * i + (k % 2) : 8 * k + i;
      subsets[k].push_back(u[idx]);
    }
    uint32_t m = 0;
    for (uint32_t x : subsets[k])
      m = std::max(m, x);
    int need = 0;
    while ((m >> need) != 0)
      ++need;
    int code = need >= (1 << h) - 1 ? (1 << h) - 1 : need;
    codes[k] = code;
    widths[k] = code == (1 << h) - 1 ? bits : code;
  }
  Bytes out((h * s + 7) / 8, 0);
  for (size_t k = 0; k < s; ++k)
    for (int j = 0; j < h; ++j)
      if ((codes[k] >> j) & 1) {
        size_t bit = h * k + j;
        out[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
      }
  for (size_t k = 0; k < s; ++k)
    for (int p = 0; p < widths[k]; ++p) {
      uint8_t byte = 0;
      for (int i = 0; i < 8; ++i)
        byte |= static_cast<uint8_t>(((subsets[k][i] >> p) & 1u) << i);
      out.push_back(byte);
    }
  return out;
}

std::vector<sparsenn_spgc8_impl> decodeImpls() {
  std::vector<sparsenn_spgc8_impl> impls = {SPARSENN_SPGC8_IMPL_REFERENCE, SPARSENN_SPGC8_IMPL_PORTABLE};
  if (sparsenn_spgc8_impl_available(SPARSENN_SPGC8_IMPL_AVX512))
    impls.push_back(SPARSENN_SPGC8_IMPL_AVX512);
  return impls;
}

Bytes encodeI16(const std::vector<int16_t> &v, int bits, bool il, bool us) {
  Bytes out(sparsenn_spgc8_raw_max_size(v.size(), bits, il));
  size_t size = 0;
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i16(v.data(), v.size(), bits, il, us, out.data(),
                                 out.size(), &size),
            SPARSENN_OK);
  out.resize(size);
  return out;
}

/// Random coefficients with a mix of magnitudes so every width occurs.
std::vector<int32_t> randomValues(std::mt19937 &rng, size_t n, int bits,
                                  bool isUnsigned) {
  std::vector<int32_t> v(n);
  std::uniform_int_distribution<int> widthDist(0, bits);
  std::uniform_int_distribution<int> zeroDist(0, 3);
  size_t i = 0;
  while (i < n) {
    // Runs of 8 sharing one magnitude class, sometimes all zero.
    int w = zeroDist(rng) == 0 ? 0 : widthDist(rng);
    for (size_t k = 0; k < 8 && i < n; ++k, ++i) {
      if (w == 0) {
        v[i] = 0;
        continue;
      }
      if (isUnsigned) {
        uint32_t hi = (w >= 32) ? 0xFFFFFFFFu : ((1u << w) - 1);
        v[i] = static_cast<int32_t>(
            std::uniform_int_distribution<uint32_t>(0, hi)(rng));
      } else {
        int32_t lim = 1 << (std::min(w, bits) - 1);
        v[i] = std::uniform_int_distribution<int32_t>(-lim, lim - 1)(rng);
      }
    }
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Subset level
//===----------------------------------------------------------------------===//

TEST(SPGC8Subset, SeedExampleFoldsAndCosts43Bits) {
  // EP 21216321.6 [0104]/[0107]: (31, 3, 1, 5, 3, 4, 5, 6) costs 3 + 8 * 5
  // bits.
  const int32_t signedValues[8] = {-16, -2, -1, -3, -2, 2, -3, 3};
  const uint16_t expected[8] = {31, 3, 1, 5, 3, 4, 5, 6};
  uint16_t folded[8];
  for (int i = 0; i < 8; ++i) {
    folded[i] = static_cast<uint16_t>(sparsenn_spgc8_fold(signedValues[i]));
    EXPECT_EQ(folded[i], expected[i]) << i;
    EXPECT_EQ(sparsenn_spgc8_unfold(folded[i]), signedValues[i]);
  }
  EXPECT_EQ(sparsenn_spgc8_subset_body_bits(folded, 8), 5);
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(folded, 8), 43u);
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(folded, 16), 44u);
  // [0172]: a subset of zeros is just its header.
  const uint16_t zeros[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(zeros, 8), 3u);
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(zeros, 16), 4u);
  // [0173]: (31, 0, ..., 0) also needs 5-bit bodies.
  const uint16_t lone[8] = {31, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(lone, 8), 43u);
}

TEST(SPGC8Subset, FoldingIsABijectionOnInt16) {
  for (int32_t c = -32768; c <= 32767; ++c) {
    uint32_t u = sparsenn_spgc8_fold(c);
    ASSERT_LT(u, 65536u);
    ASSERT_EQ(u & 1u, c < 0 ? 1u : 0u);
    ASSERT_EQ(sparsenn_spgc8_unfold(u), c);
  }
}

TEST(SPGC8Subset, HeaderCodeTables) {
  EXPECT_EQ(sparsenn_spgc8_header_bits(8), 3);
  EXPECT_EQ(sparsenn_spgc8_header_bits(16), 4);
  EXPECT_EQ(sparsenn_spgc8_header_bits(12), 0);
  const int d8[8] = {0, 1, 2, 3, 4, 5, 6, 8};
  for (int c = 0; c < 8; ++c)
    EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(c, 8), d8[c]);
  EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(8, 8), -1);
  EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(-1, 8), -1);
  for (int c = 0; c < 15; ++c)
    EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(c, 16), c);
  EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(15, 16), 16);
  EXPECT_EQ(sparsenn_spgc8_code_to_body_bits(16, 16), -1);
  // A subset needing D - 1 bits is stored with D bits.
  for (int need = 0; need <= 6; ++need)
    EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(need, 8), need);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(7, 8), 7);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(8, 8), 7);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(9, 8), -1);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(14, 16), 14);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(15, 16), 15);
  EXPECT_EQ(sparsenn_spgc8_body_bits_to_code(16, 16), 15);
  const uint16_t need7[8] = {127, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(sparsenn_spgc8_subset_body_bits(need7, 8), 8);
  EXPECT_EQ(sparsenn_spgc8_subset_cost_bits(need7, 8), 67u);
  const uint16_t need15[8] = {0x7FFF, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(sparsenn_spgc8_subset_body_bits(need15, 16), 16);
  const uint16_t tooWide[8] = {256, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(sparsenn_spgc8_subset_body_bits(tooWide, 8), -1);
}

TEST(SPGC8Subset, TransposeMatchesNaive) {
  std::mt19937_64 rng(7);
  for (int t = 0; t < 1000; ++t) {
    uint64_t x = rng();
    uint64_t y = sparsenn::spgc8::transpose8x8(x);
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; ++c)
        ASSERT_EQ((x >> (8 * r + c)) & 1, (y >> (8 * c + r)) & 1);
  }
}

TEST(SPGC8Subset, StatusStringsAreDistinct) {
  std::set<std::string> seen;
  for (int s = SPARSENN_OK; s <= SPARSENN_ERR_CAPACITY; ++s)
    EXPECT_TRUE(
        seen.insert(sparsenn_status_string(static_cast<sparsenn_status>(s))).second);
}

//===----------------------------------------------------------------------===//
// Exact raw streams, byte by byte
//===----------------------------------------------------------------------===//

TEST(SPGC8Raw, SeedSubsetThenZerosD8) {
  std::vector<int16_t> v = {-16, -2, -1, -3, -2, 2, -3, 3,
                            0,   0,  0,  0,  0,  0, 0,  0};
  // Header: code 5 then code 0 -> 0b000101; planes of (31,3,1,5,3,4,5,6).
  const Bytes expected = {0x05, 0x5F, 0x93, 0xE9, 0x01, 0x01};
  EXPECT_EQ(encodeI16(v, 8, false, false), expected);
  // Interleaved: evens are the example subset, odds are zero -> same stream.
  std::vector<int16_t> w(16, 0);
  for (int i = 0; i < 8; ++i)
    w[2 * i] = v[i];
  EXPECT_EQ(encodeI16(w, 8, true, false), expected);
  // D = 16: 4-bit header codes 5 and 0 -> one byte 0x05, same planes.
  EXPECT_EQ(encodeI16(v, 16, false, false), expected);
}

TEST(SPGC8Raw, HeadersStraddleBytes) {
  // Three subsets with -128 (folds to 255): codes 7,7,7 -> 9 header bits.
  std::vector<int16_t> v(24, 0);
  v[0] = v[8] = v[16] = -128;
  Bytes expected = {0xFF, 0x01};
  for (int k = 0; k < 3; ++k)
    for (int p = 0; p < 8; ++p)
      expected.push_back(0x01);
  EXPECT_EQ(encodeI16(v, 8, false, false), expected);
  // -64 folds to 127: needs 7 bits, stored with 8 (plane 7 all zero).
  std::vector<int16_t> w = {0, -64, 0, 0, 0, 0, 0, 0};
  Bytes e2 = {0x07, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x00};
  EXPECT_EQ(encodeI16(w, 8, false, false), e2);
  // D = 16: codes 15 and 3 -> 0x3F; 32767 folds to 65534 (16 planes).
  std::vector<int16_t> x(16, 0);
  x[7] = 32767;
  x[8] = 3; // folds to 6: b = 3
  Bytes e3 = {0x3F, 0x00};
  for (int p = 1; p < 16; ++p)
    e3.push_back(0x80);
  e3.push_back(0x00); // subset 1 plane 0 (6 = 0b110)
  e3.push_back(0x01);
  e3.push_back(0x01);
  Bytes got = encodeI16(x, 16, false, false);
  EXPECT_EQ(got, e3);
}

TEST(SPGC8Raw, UnsignedModeHasNoFolding) {
  std::vector<int16_t> v = {31, 3, 1, 5, 3, 4, 5, 6};
  const Bytes expected = {0x05, 0x5F, 0x93, 0xE9, 0x01, 0x01};
  EXPECT_EQ(encodeI16(v, 8, false, true), expected);
  std::vector<int8_t> i8(v.begin(), v.end());
  Bytes out(64);
  size_t size;
  ASSERT_EQ(
      sparsenn_spgc8_encode_raw_i8(i8.data(), 8, 8, 0, 1, out.data(), out.size(), &size),
      SPARSENN_OK);
  out.resize(size);
  EXPECT_EQ(out, expected);
}

TEST(SPGC8Raw, EmptyAndRemainders) {
  size_t size = 123;
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i8(nullptr, 0, 8, 0, 0, nullptr, 0, &size),
            SPARSENN_OK);
  EXPECT_EQ(size, 0u);
  size_t consumed = 1;
  EXPECT_EQ(sparsenn_spgc8_decode_raw_i8(nullptr, 0, 0, 8, 0, 0, nullptr, &consumed),
            SPARSENN_OK);
  EXPECT_EQ(consumed, 0u);
  // One value: padded to one subset (two when interleaved).
  std::vector<int16_t> one = {1};
  EXPECT_EQ(encodeI16(one, 8, false, false), (Bytes{0x02, 0x00, 0x01}));
  EXPECT_EQ(encodeI16(one, 8, true, false), (Bytes{0x02, 0x00, 0x01}));
  EXPECT_EQ(sparsenn_spgc8_num_subsets(17, 0), 3u);
  EXPECT_EQ(sparsenn_spgc8_num_subsets(17, 1), 4u);
  EXPECT_EQ(sparsenn_spgc8_raw_max_size(16, 8, 0), 1u + 16u);
  EXPECT_EQ(sparsenn_spgc8_raw_max_size(16, 16, 0), 1u + 32u);
}

TEST(SPGC8Raw, RangeAndArgumentErrors) {
  Bytes out(256);
  size_t size;
  std::vector<int16_t> v = {128};
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i16(v.data(), 1, 8, 0, 0, out.data(), out.size(), &size),
      SPARSENN_ERR_RANGE);
  v = {-129};
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i16(v.data(), 1, 8, 0, 0, out.data(), out.size(), &size),
      SPARSENN_ERR_RANGE);
  v = {-128};
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i16(v.data(), 1, 8, 0, 0, out.data(), out.size(), &size),
      SPARSENN_OK);
  v = {256};
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i16(v.data(), 1, 8, 0, 1, out.data(), out.size(), &size),
      SPARSENN_ERR_RANGE);
  v = {-1}; // unsigned D = 8 from int16 storage: 0xFFFF does not fit
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i16(v.data(), 1, 8, 0, 1, out.data(), out.size(), &size),
      SPARSENN_ERR_RANGE);
  v = {-1}; // unsigned D = 16: the bit pattern 0xFFFF fits
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i16(v.data(), 1, 16, 0, 1, out.data(), out.size(),
                                 &size),
            SPARSENN_OK);
  // Range errors are also found on the exact-size path.
  v = {0, 0, 300};
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i16(v.data(), 3, 8, 0, 0, nullptr, 0, &size),
            SPARSENN_ERR_RANGE);
  std::vector<int8_t> i8 = {1, 2};
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i8(i8.data(), 2, 16, 0, 0, out.data(), out.size(),
                                &size),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i8(i8.data(), 2, 12, 0, 0, out.data(), out.size(),
                                &size),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i8(i8.data(), 2, 8, 0, 0, out.data(), out.size(),
                                nullptr),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i8(nullptr, 2, 8, 0, 0, out.data(), out.size(), &size),
      SPARSENN_ERR_ARGUMENT);
  int8_t dec[2];
  EXPECT_EQ(
      sparsenn_spgc8_decode_raw_i8(out.data(), out.size(), 2, 16, 0, 0, dec, nullptr),
      SPARSENN_ERR_ARGUMENT);
}

TEST(SPGC8Raw, CapacityReportsExactSize) {
  std::mt19937 rng(3);
  std::vector<int32_t> v32 = randomValues(rng, 77, 8, false);
  std::vector<int8_t> v(v32.begin(), v32.end());
  size_t need = 0;
  ASSERT_EQ(sparsenn_spgc8_encode_raw_i8(v.data(), v.size(), 8, 0, 0, nullptr, 0, &need),
            SPARSENN_ERR_CAPACITY);
  Bytes expected = naiveEncode(v32, 8, false, false);
  EXPECT_EQ(need, expected.size());
  Bytes out(need);
  size_t size = 0;
  EXPECT_EQ(
      sparsenn_spgc8_encode_raw_i8(v.data(), v.size(), 8, 0, 0, out.data(), need, &size),
      SPARSENN_OK);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(sparsenn_spgc8_encode_raw_i8(v.data(), v.size(), 8, 0, 0, out.data(),
                                need - 1, &size),
            SPARSENN_ERR_CAPACITY);
  EXPECT_EQ(size, need);
}

//===----------------------------------------------------------------------===//
// Round trips and implementation equivalence
//===----------------------------------------------------------------------===//

struct Config {
  int bits;
  bool interleave;
  bool isUnsigned;
};

std::vector<Config> allConfigs() {
  std::vector<Config> c;
  for (int bits : {8, 16})
    for (bool il : {false, true})
      for (bool us : {false, true})
        c.push_back({bits, il, us});
  return c;
}

std::string describe(const Config &c, size_t n) {
  return "D=" + std::to_string(c.bits) + (c.interleave ? " interleaved" : "") +
         (c.isUnsigned ? " unsigned" : "") + " n=" + std::to_string(n);
}

TEST(SPGC8Raw, RoundTripsEveryLengthUpTo100) {
  std::mt19937 rng(1234);
  for (const Config &c : allConfigs()) {
    for (size_t n = 0; n <= 100; ++n) {
      SCOPED_TRACE(describe(c, n));
      std::vector<int32_t> v32 = randomValues(rng, n, c.bits, c.isUnsigned);
      std::vector<int16_t> v(n);
      for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<int16_t>(static_cast<uint16_t>(v32[i]));
      Bytes stream = encodeI16(v, c.bits, c.interleave, c.isUnsigned);
      ASSERT_EQ(stream, naiveEncode(v32, c.bits, c.interleave, c.isUnsigned));
      size_t ssize = 0;
      ASSERT_EQ(sparsenn_spgc8_raw_stream_size(stream.data(), stream.size(), n, c.bits,
                                      c.interleave, &ssize),
                SPARSENN_OK);
      ASSERT_EQ(ssize, stream.size());
      for (sparsenn_spgc8_impl impl : decodeImpls()) {
        std::vector<int16_t> back(n, 0x5555);
        size_t consumed = 0;
        ASSERT_EQ(sparsenn_spgc8_decode_raw_i16_impl(stream.data(), stream.size(), n,
                                            c.bits, c.interleave, c.isUnsigned,
                                            back.data(), &consumed, impl),
                  SPARSENN_OK);
        ASSERT_EQ(consumed, stream.size());
        ASSERT_EQ(back, v) << sparsenn_spgc8_impl_name(impl);
      }
      if (c.bits != 8)
        continue;
      // The int8 API sees the same stream (unsigned: int8 bit patterns).
      std::vector<int8_t> v8(n);
      for (size_t i = 0; i < n; ++i)
        v8[i] = static_cast<int8_t>(static_cast<uint8_t>(v32[i]));
      for (sparsenn_spgc8_impl impl : {SPARSENN_SPGC8_IMPL_REFERENCE, SPARSENN_SPGC8_IMPL_PORTABLE}) {
        Bytes out(sparsenn_spgc8_raw_max_size(n, 8, c.interleave));
        size_t size = 0;
        ASSERT_EQ(sparsenn_spgc8_encode_raw_i8_impl(v8.data(), n, 8, c.interleave,
                                           c.isUnsigned, out.data(), out.size(),
                                           &size, impl),
                  SPARSENN_OK);
        out.resize(size);
        ASSERT_EQ(out, stream) << sparsenn_spgc8_impl_name(impl);
      }
      for (sparsenn_spgc8_impl impl : decodeImpls()) {
        std::vector<int8_t> back(n, 0x55);
        size_t consumed = 0;
        ASSERT_EQ(sparsenn_spgc8_decode_raw_i8_impl(stream.data(), stream.size(), n, 8,
                                           c.interleave, c.isUnsigned,
                                           back.data(), &consumed, impl),
                  SPARSENN_OK);
        ASSERT_EQ(consumed, stream.size());
        ASSERT_EQ(back, v8) << sparsenn_spgc8_impl_name(impl);
      }
    }
  }
}

/// Long vectors so that the 64-value AVX-512 blocks, the scalar lead-in and
/// the tail all run; also checks the exact-fit input buffer (no slack after
/// the stream) so that the vector path must stop early near the end.
TEST(SPGC8Raw, FastPathMatchesScalarOnLongStreams) {
  std::mt19937 rng(99);
  for (bool il : {false, true})
    for (bool us : {false, true})
      for (size_t n : {64u, 65u, 127u, 1000u, 4096u, 10007u}) {
        SCOPED_TRACE(describe({8, il, us}, n));
        std::vector<int32_t> v32 = randomValues(rng, n, 8, us);
        std::vector<int8_t> v8(n);
        for (size_t i = 0; i < n; ++i)
          v8[i] = static_cast<int8_t>(static_cast<uint8_t>(v32[i]));
        Bytes out(sparsenn_spgc8_raw_max_size(n, 8, il));
        size_t size = 0;
        ASSERT_EQ(sparsenn_spgc8_encode_raw_i8(v8.data(), n, 8, il, us, out.data(),
                                      out.size(), &size),
                  SPARSENN_OK);
        // Exact-size heap copy: ASan catches any over-read.
        Bytes exact(out.begin(), out.begin() + static_cast<long>(size));
        ASSERT_EQ(exact, naiveEncode(v32, 8, il, us));
        for (sparsenn_spgc8_impl impl : decodeImpls()) {
          std::vector<int8_t> back(n);
          size_t consumed = 0;
          ASSERT_EQ(sparsenn_spgc8_decode_raw_i8_impl(exact.data(), exact.size(), n, 8,
                                             il, us, back.data(), &consumed,
                                             impl),
                    SPARSENN_OK);
          ASSERT_EQ(back, v8) << sparsenn_spgc8_impl_name(impl);
          ASSERT_EQ(consumed, size);
        }
      }
}

TEST(SPGC8Raw, FastPathOnAllWidthsAndDenseData) {
  // Every header code in every position of a block, plus all-dense data.
  std::mt19937 rng(5);
  for (int pattern = 0; pattern < 64; ++pattern) {
    size_t n = 64 * 9;
    std::vector<int8_t> v(n);
    for (size_t i = 0; i < n; ++i) {
      int w = static_cast<int>((i / 8 + pattern) % 9); // widths 0..8
      int lim = w == 0 ? 0 : 1 << (w - 1);
      v[i] = w == 0 ? 0
                    : static_cast<int8_t>(std::uniform_int_distribution<int>(
                          -lim, lim - 1)(rng));
    }
    Bytes out(sparsenn_spgc8_raw_max_size(n, 8, pattern & 1));
    size_t size;
    ASSERT_EQ(sparsenn_spgc8_encode_raw_i8(v.data(), n, 8, pattern & 1, 0, out.data(),
                                  out.size(), &size),
              SPARSENN_OK);
    out.resize(size);
    for (sparsenn_spgc8_impl impl : decodeImpls()) {
      std::vector<int8_t> back(n);
      ASSERT_EQ(sparsenn_spgc8_decode_raw_i8_impl(out.data(), out.size(), n, 8,
                                         pattern & 1, 0, back.data(), nullptr,
                                         impl),
                SPARSENN_OK);
      ASSERT_EQ(back, v) << sparsenn_spgc8_impl_name(impl) << " pattern " << pattern;
    }
  }
}

TEST(SPGC8Raw, ArbitraryStreamsDecodeIdenticallyEverywhere) {
  // Random bytes are valid streams as far as the headers go (every D = 8
  // code is valid): all implementations must agree on values and status.
  std::mt19937 rng(11);
  for (int t = 0; t < 300; ++t) {
    size_t n = std::uniform_int_distribution<size_t>(0, 600)(rng);
    Bytes in(std::uniform_int_distribution<size_t>(0, 700)(rng));
    for (auto &b : in)
      b = static_cast<uint8_t>(rng());
    bool il = t & 1, us = (t >> 1) & 1;
    std::vector<int8_t> ref(n);
    size_t refConsumed = 0;
    sparsenn_status refSt =
        sparsenn_spgc8_decode_raw_i8_impl(in.data(), in.size(), n, 8, il, us, ref.data(),
                                 &refConsumed, SPARSENN_SPGC8_IMPL_REFERENCE);
    for (sparsenn_spgc8_impl impl : decodeImpls()) {
      std::vector<int8_t> got(n);
      size_t consumed = 0;
      sparsenn_status st = sparsenn_spgc8_decode_raw_i8_impl(
          in.data(), in.size(), n, 8, il, us, got.data(), &consumed, impl);
      ASSERT_EQ(st, refSt) << sparsenn_spgc8_impl_name(impl);
      if (st == SPARSENN_OK) {
        ASSERT_EQ(got, ref) << sparsenn_spgc8_impl_name(impl);
        ASSERT_EQ(consumed, refConsumed);
      }
    }
  }
}

TEST(SPGC8Raw, EveryTruncationIsAnError) {
  std::mt19937 rng(21);
  for (const Config &c : allConfigs()) {
    size_t n = 150;
    std::vector<int32_t> v32 = randomValues(rng, n, c.bits, c.isUnsigned);
    std::vector<int16_t> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = static_cast<int16_t>(static_cast<uint16_t>(v32[i]));
    Bytes stream = encodeI16(v, c.bits, c.interleave, c.isUnsigned);
    for (size_t len = 0; len < stream.size(); ++len) {
      SCOPED_TRACE(describe(c, n) + " len=" + std::to_string(len));
      Bytes cut(stream.begin(), stream.begin() + static_cast<long>(len));
      std::vector<int16_t> back(n);
      for (sparsenn_spgc8_impl impl : decodeImpls())
        ASSERT_EQ(sparsenn_spgc8_decode_raw_i16_impl(cut.data(), cut.size(), n, c.bits,
                                            c.interleave, c.isUnsigned,
                                            back.data(), nullptr, impl),
                  SPARSENN_ERR_TRUNCATED);
      if (c.bits == 8) {
        std::vector<int8_t> b8(n);
        for (sparsenn_spgc8_impl impl : decodeImpls())
          ASSERT_EQ(sparsenn_spgc8_decode_raw_i8_impl(cut.data(), cut.size(), n, 8,
                                             c.interleave, c.isUnsigned,
                                             b8.data(), nullptr, impl),
                    SPARSENN_ERR_TRUNCATED);
      }
      size_t ssize;
      sparsenn_status st = sparsenn_spgc8_raw_stream_size(cut.data(), cut.size(), n, c.bits,
                                              c.interleave, &ssize);
      if (st == SPARSENN_OK)
        ASSERT_EQ(ssize, stream.size()); // headers complete: size known
      else
        ASSERT_EQ(st, SPARSENN_ERR_TRUNCATED);
    }
  }
}

TEST(SPGC8Raw, NonZeroPaddingIsCorrupt) {
  std::vector<int16_t> v = {1, 2, 3, 4, 5, 6, 7, 8};
  Bytes stream = encodeI16(v, 8, false, false);
  std::vector<int16_t> back(5);
  EXPECT_EQ(sparsenn_spgc8_decode_raw_i16(stream.data(), stream.size(), 5, 8, 0, 0,
                                 back.data(), nullptr),
            SPARSENN_ERR_CORRUPT);
  std::vector<int8_t> b8(5);
  for (sparsenn_spgc8_impl impl : decodeImpls())
    EXPECT_EQ(sparsenn_spgc8_decode_raw_i8_impl(stream.data(), stream.size(), 5, 8, 0, 0,
                                       b8.data(), nullptr, impl),
              SPARSENN_ERR_CORRUPT);
  // With zero padding the prefix decodes fine.
  std::vector<int16_t> w = {1, 2, 3, 4, 5, 0, 0, 0};
  Bytes s2 = encodeI16(w, 8, false, false);
  EXPECT_EQ(sparsenn_spgc8_decode_raw_i16(s2.data(), s2.size(), 5, 8, 0, 0, back.data(),
                                 nullptr),
            SPARSENN_OK);
  EXPECT_EQ(back, (std::vector<int16_t>{1, 2, 3, 4, 5}));
}

TEST(SPGC8Raw, ReadCodes) {
  std::vector<int16_t> v = {-16, -2, -1, -3, -2, 2, -3, 3,  0,
                            0,   0,  0,  0,  0,  0, 0,  100};
  Bytes stream = encodeI16(v, 8, false, false);
  uint8_t codes[3];
  ASSERT_EQ(sparsenn_spgc8_raw_read_codes(stream.data(), stream.size(), 3, 8, codes),
            SPARSENN_OK);
  EXPECT_EQ(codes[0], 5);
  EXPECT_EQ(codes[1], 0);
  EXPECT_EQ(codes[2], 7); // 100 folds to 200: 8 bits
  EXPECT_EQ(sparsenn_spgc8_raw_read_codes(stream.data(), 1, 3, 8, codes),
            SPARSENN_ERR_TRUNCATED);
}

} // namespace
