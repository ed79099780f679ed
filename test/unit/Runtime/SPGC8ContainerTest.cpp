//===- SPGC8ContainerTest.cpp - Tensor traversal and container tests ------===//
//
// Tensor traversal of docs/spgc8.md §2 (EP 21216321.6 [0138]: 1x16x1x1 groups
// for convolutions), quantisation, and the container of docs/spgc8.md: round
// trips, per-row decoding through the index, truncation and bit flips.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/SPGC8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;
using Shape = std::vector<int64_t>;

size_t product(const Shape &s) {
  size_t n = 1;
  for (int64_t d : s)
    n *= static_cast<size_t>(d);
  return n;
}

/// Independent construction of the traversal: padded vectors of axis 1.
std::vector<int16_t> paddedTraversal(const std::vector<int16_t> &w,
                                     const Shape &shape) {
  std::vector<int16_t> out;
  if (shape.size() <= 1) {
    out = w;
    out.resize((w.size() + 15) / 16 * 16, 0);
    return out;
  }
  size_t cout = shape[0], cin = shape[1], sp = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    sp *= shape[i];
  size_t lp = (cin + 15) / 16 * 16;
  for (size_t o = 0; o < cout; ++o)
    for (size_t s = 0; s < sp; ++s)
      for (size_t i = 0; i < lp; ++i)
        out.push_back(i < cin ? w[(o * cin + i) * sp + s] : 0);
  return out;
}

std::vector<int16_t> sparseRandom(std::mt19937 &rng, size_t n, int bits,
                                  double density) {
  std::vector<int16_t> v(n);
  std::bernoulli_distribution keep(density);
  int lim = 1 << (bits - 1);
  std::uniform_int_distribution<int> val(-lim, lim - 1);
  for (auto &x : v)
    x = keep(rng) ? static_cast<int16_t>(val(rng)) : 0;
  return v;
}

Shape randomShape(std::mt19937 &rng, int rank) {
  std::uniform_int_distribution<int64_t> dim(0, 40);
  std::uniform_int_distribution<int64_t> small(1, 3);
  Shape s;
  for (int i = 0; i < rank; ++i)
    s.push_back(i >= 2 ? small(rng) : dim(rng));
  return s;
}

TEST(SPGC8Tensor, LayoutAndGeometry) {
  EXPECT_EQ(sparsenn_spgc8_layout_for_rank(0), SPARSENN_SPGC8_LAYOUT_FLAT);
  EXPECT_EQ(sparsenn_spgc8_layout_for_rank(1), SPARSENN_SPGC8_LAYOUT_FLAT);
  EXPECT_EQ(sparsenn_spgc8_layout_for_rank(2), SPARSENN_SPGC8_LAYOUT_LINEAR);
  EXPECT_EQ(sparsenn_spgc8_layout_for_rank(4), SPARSENN_SPGC8_LAYOUT_CONV);
  Shape conv = {8, 20, 3, 3};
  size_t nv, len, padded;
  ASSERT_EQ(sparsenn_spgc8_tensor_geometry(conv.data(), 4, &nv, &len, &padded),
            SPARSENN_OK);
  EXPECT_EQ(nv, 72u);
  EXPECT_EQ(len, 20u);
  EXPECT_EQ(padded, 32u);
  EXPECT_EQ(sparsenn_spgc8_tensor_padded_values(conv.data(), 4), 72u * 32u);
  EXPECT_EQ(sparsenn_spgc8_num_channels(conv.data(), 4), 8u);
  Shape bad = {-1, 3};
  EXPECT_EQ(sparsenn_spgc8_tensor_geometry(bad.data(), 2, &nv, &len, &padded),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_spgc8_tensor_geometry(conv.data(), 9, &nv, &len, &padded),
            SPARSENN_ERR_ARGUMENT);
}

TEST(SPGC8Tensor, StreamIsTheRawStreamOfPaddedVectors) {
  std::mt19937 rng(42);
  for (int rank = 0; rank <= 5; ++rank)
    for (int t = 0; t < 12; ++t)
      for (int bits : {8, 16})
        for (bool il : {false, true}) {
          Shape shape = randomShape(rng, rank);
          size_t n = product(shape);
          std::vector<int16_t> w = sparseRandom(rng, n, bits, 0.3);
          std::vector<int16_t> padded = paddedTraversal(w, shape);
          ASSERT_EQ(padded.size(),
                    sparsenn_spgc8_tensor_padded_values(shape.data(), rank));
          Bytes expect(sparsenn_spgc8_raw_max_size(padded.size(), bits, il));
          size_t esize = 0;
          ASSERT_EQ(sparsenn_spgc8_encode_raw_i16(padded.data(), padded.size(), bits, il,
                                         0, expect.data(), expect.size(),
                                         &esize),
                    SPARSENN_OK);
          expect.resize(esize);
          Bytes got(sparsenn_spgc8_tensor_stream_max_size(shape.data(), rank, bits, il));
          size_t gsize = 0;
          ASSERT_EQ(sparsenn_spgc8_encode_tensor_stream_i16(w.data(), shape.data(), rank,
                                                   bits, il, 0, got.data(),
                                                   got.size(), &gsize),
                    SPARSENN_OK);
          got.resize(gsize);
          ASSERT_EQ(got, expect) << "rank " << rank;
          std::vector<int16_t> back(n, 77);
          size_t consumed = 0;
          ASSERT_EQ(sparsenn_spgc8_decode_tensor_stream_i16(got.data(), got.size(),
                                                   shape.data(), rank, bits, il,
                                                   0, back.data(), &consumed),
                    SPARSENN_OK);
          ASSERT_EQ(back, w);
          ASSERT_EQ(consumed, got.size());
          if (bits == 8) {
            std::vector<int8_t> w8(w.begin(), w.end()), b8(n);
            Bytes g8(got.size() + 64);
            size_t s8 = 0;
            ASSERT_EQ(sparsenn_spgc8_encode_tensor_stream_i8(w8.data(), shape.data(),
                                                    rank, 8, il, 0, g8.data(),
                                                    g8.size(), &s8),
                      SPARSENN_OK);
            g8.resize(s8);
            ASSERT_EQ(g8, got);
            ASSERT_EQ(sparsenn_spgc8_decode_tensor_stream_i8(g8.data(), g8.size(),
                                                    shape.data(), rank, 8, il,
                                                    0, b8.data(), nullptr),
                      SPARSENN_OK);
            ASSERT_EQ(b8, w8);
          }
        }
}

TEST(SPGC8Quantize, SymmetricPerChannelRoundHalfAway) {
  Shape shape = {3, 4};
  std::vector<float> w = {127.0f, 63.5f, -63.5f, 0.4f, //
                          0.0f,   0.0f,  0.0f,   0.0f, //
                          -2.0f,  1.0f,  0.5f,   -0.01f};
  std::vector<int16_t> q(12);
  std::vector<float> scales(3);
  ASSERT_EQ(
      sparsenn_spgc8_quantize_f32(w.data(), shape.data(), 2, 8, q.data(), scales.data()),
      SPARSENN_OK);
  EXPECT_FLOAT_EQ(scales[0], 1.0f);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], 64);
  EXPECT_EQ(q[2], -64);
  EXPECT_EQ(q[3], 0);
  EXPECT_EQ(scales[1], 0.0f);
  for (int i = 4; i < 8; ++i)
    EXPECT_EQ(q[i], 0);
  EXPECT_FLOAT_EQ(scales[2], 2.0f / 127.0f);
  EXPECT_EQ(q[8], -127);
  EXPECT_EQ(q[9], static_cast<int16_t>(std::round(1.0f / (2.0f / 127.0f))));
  w[5] = NAN;
  EXPECT_EQ(
      sparsenn_spgc8_quantize_f32(w.data(), shape.data(), 2, 8, q.data(), scales.data()),
      SPARSENN_ERR_RANGE);
  w[5] = INFINITY;
  EXPECT_EQ(sparsenn_spgc8_quantize_f32(w.data(), shape.data(), 2, 16, q.data(),
                               scales.data()),
            SPARSENN_ERR_RANGE);
}

Bytes encodeContainer(const void *values, sparsenn_spgc8_dtype dtype, const Shape &s,
                      int bits, bool il, bool us, const float *scales) {
  int rank = static_cast<int>(s.size());
  Bytes out(sparsenn_spgc8_container_max_size(s.data(), rank, bits, il, scales != 0));
  size_t size = 0;
  EXPECT_EQ(sparsenn_spgc8_container_encode(values, dtype, s.data(), rank, bits, il, us,
                                   scales, out.data(), out.size(), &size),
            SPARSENN_OK);
  out.resize(size);
  return out;
}

TEST(SPGC8Container, RoundTripsRandomShapes) {
  std::mt19937 rng(7);
  for (int rank = 0; rank <= 4; ++rank)
    for (int t = 0; t < 10; ++t)
      for (int bits : {8, 16})
        for (bool il : {false, true})
          for (bool withScales : {false, true}) {
            Shape shape = randomShape(rng, rank);
            size_t n = product(shape);
            std::vector<int16_t> w = sparseRandom(rng, n, bits, 0.2);
            size_t nch = sparsenn_spgc8_num_channels(shape.data(), rank);
            std::vector<float> scales(nch + 1); // never empty: non-null
            for (size_t c = 0; c < nch; ++c)
              scales[c] = 0.01f * static_cast<float>(c + 1);
            Bytes box =
                encodeContainer(w.data(), SPARSENN_SPGC8_DTYPE_I16, shape, bits, il,
                                false, withScales ? scales.data() : nullptr);
            sparsenn_spgc8_info info;
            ASSERT_EQ(sparsenn_spgc8_container_info(box.data(), box.size(), &info),
                      SPARSENN_OK);
            ASSERT_EQ(info.rank, rank);
            for (int i = 0; i < rank; ++i)
              ASSERT_EQ(info.shape[i], shape[i]);
            ASSERT_EQ(info.bits, bits);
            ASSERT_EQ(info.interleave, il ? 1 : 0);
            ASSERT_EQ(info.has_scales, withScales ? 1 : 0);
            ASSERT_EQ(info.dtype,
                      withScales ? SPARSENN_SPGC8_DTYPE_F32 : SPARSENN_SPGC8_DTYPE_I16);
            ASSERT_EQ(info.layout, sparsenn_spgc8_layout_for_rank(rank));
            ASSERT_EQ(info.num_values, n);
            ASSERT_EQ(info.container_size, box.size());
            ASSERT_EQ(sparsenn_spgc8_container_verify(box.data(), box.size()), SPARSENN_OK);
            // The payload is exactly the tensor stream.
            Bytes ts(
                sparsenn_spgc8_tensor_stream_max_size(shape.data(), rank, bits, il));
            size_t tsize;
            ASSERT_EQ(sparsenn_spgc8_encode_tensor_stream_i16(
                          w.data(), shape.data(), rank, bits, il, 0, ts.data(),
                          ts.size(), &tsize),
                      SPARSENN_OK);
            ASSERT_EQ(info.payload_size, tsize);
            ASSERT_TRUE(std::equal(
                ts.begin(), ts.begin() + static_cast<long>(tsize),
                box.begin() + static_cast<long>(info.payload_offset)));

            std::vector<int16_t> back(n, 99);
            std::vector<float> sback(nch + 1, -1.0f);
            ASSERT_EQ(sparsenn_spgc8_container_decode(box.data(), box.size(),
                                             back.data(), SPARSENN_SPGC8_DTYPE_I16, n,
                                             sback.data(), nch),
                      SPARSENN_OK);
            ASSERT_EQ(back, w);
            for (size_t c = 0; withScales && c < nch; ++c)
              ASSERT_EQ(sback[c], scales[c]);
            if (bits == 8) {
              std::vector<int8_t> b8(n);
              ASSERT_EQ(sparsenn_spgc8_container_decode(box.data(), box.size(),
                                               b8.data(), SPARSENN_SPGC8_DTYPE_I8, n,
                                               nullptr, 0),
                        SPARSENN_OK);
              ASSERT_EQ(std::vector<int16_t>(b8.begin(), b8.end()), w);
            }
            std::vector<float> f(n);
            ASSERT_EQ(
                sparsenn_spgc8_container_decode_f32(box.data(), box.size(), f.data(), n),
                SPARSENN_OK);
            size_t per = nch ? n / nch : 0;
            for (size_t i = 0; i < n; ++i)
              ASSERT_EQ(f[i], static_cast<float>(w[i]) *
                                  (withScales ? scales[i / per] : 1.0f));
            // Every row through the index equals the slice of the tensor.
            size_t rowElems = info.num_rows ? n / info.num_rows : 0;
            for (uint64_t r = 0; r < info.num_rows; ++r) {
              std::vector<int16_t> row(rowElems + 1, 55);
              ASSERT_EQ(sparsenn_spgc8_container_decode_row(box.data(), box.size(), r,
                                                   row.data(), SPARSENN_SPGC8_DTYPE_I16,
                                                   rowElems),
                        SPARSENN_OK);
              for (size_t i = 0; i < rowElems; ++i)
                ASSERT_EQ(row[i], w[r * rowElems + i]) << "row " << r;
              ASSERT_EQ(row[rowElems], 55); // nothing written past the row
            }
            std::vector<int16_t> row(rowElems + 1);
            ASSERT_EQ(sparsenn_spgc8_container_decode_row(box.data(), box.size(),
                                                 info.num_rows, row.data(),
                                                 SPARSENN_SPGC8_DTYPE_I16, rowElems),
                      SPARSENN_ERR_ARGUMENT);
          }
}

TEST(SPGC8Container, Int8AndUnsigned) {
  Shape shape = {4, 33};
  std::vector<int8_t> w(4 * 33);
  std::mt19937 rng(3);
  for (auto &x : w)
    x = static_cast<int8_t>(rng());
  for (bool us : {false, true}) {
    Bytes box =
        encodeContainer(w.data(), SPARSENN_SPGC8_DTYPE_I8, shape, 8, true, us, nullptr);
    sparsenn_spgc8_info info;
    ASSERT_EQ(sparsenn_spgc8_container_info(box.data(), box.size(), &info), SPARSENN_OK);
    EXPECT_EQ(info.dtype, SPARSENN_SPGC8_DTYPE_I8);
    EXPECT_EQ(info.is_unsigned, us ? 1 : 0);
    std::vector<int8_t> back(w.size());
    ASSERT_EQ(sparsenn_spgc8_container_decode(box.data(), box.size(), back.data(),
                                     SPARSENN_SPGC8_DTYPE_I8, back.size(), nullptr, 0),
              SPARSENN_OK);
    EXPECT_EQ(back, w);
  }
  // D = 16 cannot decode into int8 storage.
  Bytes box16 = encodeContainer(w.data(), SPARSENN_SPGC8_DTYPE_I8, shape, 16, false,
                                false, nullptr);
  std::vector<int8_t> back(w.size());
  EXPECT_EQ(sparsenn_spgc8_container_decode(box16.data(), box16.size(), back.data(),
                                   SPARSENN_SPGC8_DTYPE_I8, back.size(), nullptr, 0),
            SPARSENN_ERR_ARGUMENT);
  std::vector<int16_t> b16(w.size());
  ASSERT_EQ(sparsenn_spgc8_container_decode(box16.data(), box16.size(), b16.data(),
                                   SPARSENN_SPGC8_DTYPE_I16, b16.size(), nullptr, 0),
            SPARSENN_OK);
  EXPECT_EQ(b16, std::vector<int16_t>(w.begin(), w.end()));
}

Bytes sampleContainer(bool scales) {
  std::mt19937 rng(17);
  Shape shape = {5, 21, 2, 1};
  std::vector<int16_t> w = sparseRandom(rng, product(shape), 8, 0.4);
  std::vector<float> sc = {1, 2, 3, 4, 5};
  return encodeContainer(w.data(), SPARSENN_SPGC8_DTYPE_I16, shape, 8, false, false,
                         scales ? sc.data() : nullptr);
}

TEST(SPGC8Container, EveryTruncationIsAnError) {
  for (bool scales : {false, true}) {
    Bytes box = sampleContainer(scales);
    sparsenn_spgc8_info info;
    ASSERT_EQ(sparsenn_spgc8_container_info(box.data(), box.size(), &info), SPARSENN_OK);
    for (size_t len = 0; len < box.size(); ++len) {
      Bytes cut(box.begin(), box.begin() + static_cast<long>(len));
      std::vector<int16_t> back(info.num_values);
      EXPECT_EQ(sparsenn_spgc8_container_info(cut.data(), cut.size(), &info),
                SPARSENN_ERR_TRUNCATED)
          << len;
      EXPECT_NE(sparsenn_spgc8_container_decode(cut.data(), cut.size(), back.data(),
                                       SPARSENN_SPGC8_DTYPE_I16, back.size(), nullptr,
                                       0),
                SPARSENN_OK);
      EXPECT_NE(sparsenn_spgc8_container_decode_row(cut.data(), cut.size(), 0,
                                           back.data(), SPARSENN_SPGC8_DTYPE_I16,
                                           back.size()),
                SPARSENN_OK);
    }
  }
}

TEST(SPGC8Container, BitFlipsAreDetected) {
  Bytes box = sampleContainer(true);
  sparsenn_spgc8_info info;
  ASSERT_EQ(sparsenn_spgc8_container_info(box.data(), box.size(), &info), SPARSENN_OK);
  std::vector<int16_t> back(info.num_values);
  // Flip every bit: the decode must fail; past the fixed header and shape
  // (scales, index, payload, CRC) it must be the checksum that says so, since
  // those bytes have no structural redundancy of their own.
  size_t structural = 64 + 8 * static_cast<size_t>(info.rank);
  for (size_t byte = 0; byte < box.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = box;
      bad[byte] ^= static_cast<uint8_t>(1u << bit);
      sparsenn_status st =
          sparsenn_spgc8_container_decode(bad.data(), bad.size(), back.data(),
                                 SPARSENN_SPGC8_DTYPE_I16, back.size(), nullptr, 0);
      ASSERT_NE(st, SPARSENN_OK) << "byte " << byte << " bit " << bit;
      if (byte >= structural && byte < info.payload_offset) {
        ASSERT_TRUE(st == SPARSENN_ERR_CHECKSUM || st == SPARSENN_ERR_CORRUPT)
            << byte;
      }
      if (byte >= info.payload_offset) {
        ASSERT_EQ(st, SPARSENN_ERR_CHECKSUM) << byte;
      }
    }
}

TEST(SPGC8Container, HeaderErrorsHaveDistinctStatuses) {
  Bytes box = sampleContainer(false);
  std::vector<int16_t> back(5 * 21 * 2);
  auto decode = [&](const Bytes &b) {
    return sparsenn_spgc8_container_decode(b.data(), b.size(), back.data(),
                                  SPARSENN_SPGC8_DTYPE_I16, back.size(), nullptr, 0);
  };
  ASSERT_EQ(decode(box), SPARSENN_OK);
  Bytes bad = box;
  bad[0] = 'X';
  EXPECT_EQ(decode(bad), SPARSENN_ERR_UNSUPPORTED);
  bad = box;
  bad[4] = 2; // version 2
  EXPECT_EQ(decode(bad), SPARSENN_ERR_UNSUPPORTED);
  bad = box;
  bad[8] |= 0x80; // unknown flag
  EXPECT_EQ(decode(bad), SPARSENN_ERR_UNSUPPORTED);
  bad = box;
  bad[12] = 12; // D = 12
  EXPECT_EQ(decode(bad), SPARSENN_ERR_CORRUPT);
  bad = box;
  bad[40] ^= 1; // payload size
  EXPECT_NE(decode(bad), SPARSENN_OK);
  bad = box;
  bad.back() ^= 0x10; // CRC
  EXPECT_EQ(decode(bad), SPARSENN_ERR_CHECKSUM);
  bad = box;
  bad[box.size() - 10] ^= 0x01; // payload byte
  EXPECT_EQ(decode(bad), SPARSENN_ERR_CHECKSUM);
  EXPECT_EQ(sparsenn_spgc8_container_verify(bad.data(), bad.size()), SPARSENN_ERR_CHECKSUM);
  Bytes longer = box;
  longer.push_back(0); // trailing bytes are allowed by the library
  EXPECT_EQ(decode(longer), SPARSENN_OK);
}

TEST(SPGC8Container, Crc32MatchesZlib) {
  const char *s = "123456789";
  EXPECT_EQ(sparsenn_spgc8_crc32(0, s, 9), 0xCBF43926u);
  EXPECT_EQ(sparsenn_spgc8_crc32(0, nullptr, 0), 0u);
  // Incremental use gives the same result.
  uint32_t c = sparsenn_spgc8_crc32(0, s, 4);
  EXPECT_EQ(sparsenn_spgc8_crc32(c, s + 4, 5), 0xCBF43926u);
}

TEST(SPGC8Container, CapacityAndArguments) {
  Shape shape = {2, 16};
  std::vector<int16_t> w(32, 1);
  size_t size = 0;
  EXPECT_EQ(sparsenn_spgc8_container_encode(w.data(), SPARSENN_SPGC8_DTYPE_I16, shape.data(), 2,
                                   8, 0, 0, nullptr, nullptr, 0, &size),
            SPARSENN_ERR_CAPACITY);
  EXPECT_GT(size, 64u);
  Bytes out(size);
  size_t size2 = 0;
  EXPECT_EQ(sparsenn_spgc8_container_encode(w.data(), SPARSENN_SPGC8_DTYPE_I16, shape.data(), 2,
                                   8, 0, 0, nullptr, out.data(), out.size(),
                                   &size2),
            SPARSENN_OK);
  EXPECT_EQ(size, size2);
  EXPECT_EQ(sparsenn_spgc8_container_encode(w.data(), SPARSENN_SPGC8_DTYPE_F32, shape.data(), 2,
                                   8, 0, 0, nullptr, out.data(), out.size(),
                                   &size2),
            SPARSENN_ERR_ARGUMENT);
  w[0] = 1000;
  EXPECT_EQ(sparsenn_spgc8_container_encode(w.data(), SPARSENN_SPGC8_DTYPE_I16, shape.data(), 2,
                                   8, 0, 0, nullptr, out.data(), out.size(),
                                   &size2),
            SPARSENN_ERR_RANGE);
}

} // namespace
