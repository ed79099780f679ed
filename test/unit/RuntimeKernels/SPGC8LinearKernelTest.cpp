//===- SPGC8LinearKernelTest.cpp - fused SPGC8 linear kernel --------------===//
//
// sparsenn_linear_spgc8_f32 against a plain reference: decode the stream
// with the codec (sparsenn_spgc8_decode_tensor_stream_i16), dequantise (q * scale in
// float) and run a double-precision dense loop. Shapes with remainders
// (in % 16 != 0, rows longer than one 64-subset header step, more rows than
// one tile), D = 8 and 16, adjacent and interleaved groups, per-row and
// per-tensor scales, batch 1 (register path), 7 and 64 (tile path), on the
// AVX-512 and the portable implementation; then damaged streams and indexes,
// which must give SPARSENN_ERR_CORRUPT and never read out of bounds (this
// file also runs in the ASan/UBSan sub-build).
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include "sparsenn/Runtime/SPGC8.h"

#include <algorithm>
#include <cstring>

namespace {

enum class Pattern {
  Dense,       // every coefficient random
  Aligned90,   // 90 % of the 1x16 groups zero (SPGC8-aligned pruning)
  Unstructured // 85 % of the coefficients zero, anywhere
};

/// Quantised weights q [out, in] plus their SPGC8 tensor stream and index.
struct Compressed {
  int64_t out = 0, in = 0;
  int bits = 8, interleave = 0;
  std::vector<int16_t> q;
  std::vector<uint8_t> stream;
  std::vector<int32_t> index;
  std::vector<float> scales;
};

Compressed makeCompressed(std::mt19937 &g, int64_t out, int64_t in, int bits,
                          int interleave, Pattern pattern, bool perRow) {
  Compressed c;
  c.out = out;
  c.in = in;
  c.bits = bits;
  c.interleave = interleave;
  int32_t qmax = (1 << (bits - 1)) - 1;
  std::uniform_int_distribution<int32_t> value(-qmax, qmax);
  std::bernoulli_distribution keepGroup(0.1), keepValue(0.15);
  c.q.assign(out * in, 0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t g0 = 0; g0 < in; g0 += 16) {
      bool group = pattern != Pattern::Aligned90 || keepGroup(g);
      for (int64_t i = g0; i < std::min(in, g0 + 16); ++i)
        if (group && (pattern != Pattern::Unstructured || keepValue(g)))
          c.q[o * in + i] = static_cast<int16_t>(value(g));
    }
  // Some rows entirely zero, and one value at the extremes.
  if (out > 2)
    std::fill(c.q.begin() + in, c.q.begin() + 2 * in, 0);
  if (!c.q.empty())
    c.q[0] = static_cast<int16_t>(-qmax - 1);
  int64_t shape[2] = {out, in};
  size_t size = 0;
  c.stream.resize(sparsenn_spgc8_tensor_stream_max_size(shape, 2, bits, interleave) + 1);
  EXPECT_EQ(sparsenn_spgc8_encode_tensor_stream_i16(c.q.data(), shape, 2, bits,
                                           interleave, 0, c.stream.data(),
                                           c.stream.size(), &size),
            SPARSENN_OK);
  c.stream.resize(size);
  c.index.resize(out + 1);
  EXPECT_EQ(sparsenn_pack_spgc8_index(c.stream.data(), size, out, in, bits,
                                      interleave, c.index.data()),
            SPARSENN_OK);
  c.scales = kt::randomVec(g, perRow ? out : 1, 0.001f, 0.02f);
  return c;
}

/// Decode with the codec, dequantise in float, dense loop in double.
void reference(const Compressed &c, const std::vector<float> &x, int64_t batch,
               const float *bias, std::vector<double> &ref,
               std::vector<double> &mag) {
  int64_t shape[2] = {c.out, c.in};
  std::vector<int16_t> q(c.out * c.in);
  size_t consumed = 0;
  ASSERT_EQ(sparsenn_spgc8_decode_tensor_stream_i16(c.stream.data(), c.stream.size(),
                                           shape, 2, c.bits, c.interleave, 0,
                                           q.data(), &consumed),
            SPARSENN_OK);
  ASSERT_EQ(q, c.q);
  ref.assign(batch * c.out, 0.0);
  mag.assign(batch * c.out, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o = 0; o < c.out; ++o) {
      float scale = c.scales[c.scales.size() == 1 ? 0 : o];
      double acc = bias ? bias[o] : 0.0, m = bias ? std::fabs(bias[o]) : 0.0;
      for (int64_t i = 0; i < c.in; ++i) {
        float w = static_cast<float>(q[o * c.in + i]) * scale;
        double t = static_cast<double>(x[b * c.in + i]) * w;
        acc += t;
        m += std::fabs(t);
      }
      ref[b * c.out + o] = acc;
      mag[b * c.out + o] = m;
    }
}

int run(const Compressed &c, const std::vector<float> &x, int64_t batch,
        const float *bias, std::vector<float> &y) {
  y.assign(batch * c.out, 123.0f);
  return sparsenn_linear_spgc8_f32(
      x.data(), batch, c.in, c.stream.data(),
      static_cast<int64_t>(c.stream.size()), c.index.data(), c.bits,
      c.interleave, c.scales.data(), static_cast<int64_t>(c.scales.size()),
      c.out, bias, y.data());
}

struct Shape {
  int64_t out, in;
};

// in: below one group, remainders, exactly 64 subsets per row (512), more
// than one 64-subset header step with a remainder (1030, 2049); out: more
// rows than one tile holds (1100 x 16: 1024-row limit; 70 x 1030 dense:
// 4096-group limit).
const Shape kShapes[] = {{1, 1},     {5, 7},    {3, 16},   {33, 37},
                         {9, 100},   {17, 128}, {40, 300}, {8, 512},
                         {70, 1030}, {6, 2049}, {1100, 16}};

class SPGC8LinearTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SPGC8LinearTest, MatchesDecodeThenDense) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(21);
  for (const Shape &s : kShapes)
    for (int bits : {8, 16})
      for (int interleave = 0; interleave < 2; ++interleave)
        for (Pattern p :
             {Pattern::Dense, Pattern::Aligned90, Pattern::Unstructured}) {
          bool perRow = (s.in + bits + interleave) % 3 != 0;
          Compressed c =
              makeCompressed(g, s.out, s.in, bits, interleave, p, perRow);
          auto bias = kt::randomVec(g, s.out);
          for (int64_t batch : {1, 7, 64}) {
            auto x = kt::randomVec(g, batch * s.in);
            const float *bp = batch == 7 ? nullptr : bias.data();
            std::vector<float> y;
            ASSERT_EQ(run(c, x, batch, bp, y), SPARSENN_OK);
            std::vector<double> ref, mag;
            reference(c, x, batch, bp, ref, mag);
            kt::expectClose(
                y, ref, mag,
                "spgc8 " + std::to_string(s.out) + "x" + std::to_string(s.in) +
                    " D=" + std::to_string(bits) +
                    " il=" + std::to_string(interleave) +
                    " pattern=" + std::to_string(static_cast<int>(p)) +
                    " batch=" + std::to_string(batch));
          }
        }
}

TEST_P(SPGC8LinearTest, EmptyShapes) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(22);
  // in = 0: no stream at all, y = bias.
  Compressed c = makeCompressed(g, 3, 0, 8, 0, Pattern::Dense, true);
  EXPECT_TRUE(c.stream.empty());
  std::vector<float> x(2, 0.0f), y, bias = {1.0f, 2.0f, 3.0f};
  ASSERT_EQ(run(c, x, 2, bias.data(), y), SPARSENN_OK);
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3, 1, 2, 3}));
  // batch = 0 and out = 0 write nothing.
  Compressed d = makeCompressed(g, 4, 20, 8, 0, Pattern::Dense, true);
  ASSERT_EQ(run(d, x, 0, nullptr, y), SPARSENN_OK);
  Compressed e = makeCompressed(g, 0, 20, 8, 0, Pattern::Dense, true);
  ASSERT_EQ(run(e, kt::randomVec(g, 20), 1, nullptr, y), SPARSENN_OK);
}

TEST(SPGC8LinearIndex, EqualsTheContainerIndex) {
  // The pack-time index is the container's offset index (docs/spgc8.md
  // section 3) of the same tensor.
  std::mt19937 g(23);
  for (int interleave = 0; interleave < 2; ++interleave) {
    Compressed c =
        makeCompressed(g, 37, 200, 8, interleave, Pattern::Aligned90, true);
    int64_t shape[2] = {c.out, c.in};
    size_t size = 0;
    ASSERT_EQ(sparsenn_spgc8_container_encode(c.q.data(), SPARSENN_SPGC8_DTYPE_I16, shape, 2, 8,
                                     interleave, 0, nullptr, nullptr, 0, &size),
              SPARSENN_ERR_CAPACITY);
    std::vector<uint8_t> container(size);
    ASSERT_EQ(sparsenn_spgc8_container_encode(c.q.data(), SPARSENN_SPGC8_DTYPE_I16, shape, 2, 8,
                                     interleave, 0, nullptr, container.data(),
                                     size, &size),
              SPARSENN_OK);
    sparsenn_spgc8_info info;
    ASSERT_EQ(sparsenn_spgc8_container_info(container.data(), size, &info), SPARSENN_OK);
    ASSERT_EQ(info.payload_size, c.stream.size());
    const uint8_t *index =
        container.data() + info.payload_offset - 4 * (c.out + 1);
    for (int64_t r = 0; r <= c.out; ++r) {
      uint32_t v;
      std::memcpy(&v, index + 4 * r, 4);
      EXPECT_EQ(static_cast<int64_t>(v), c.index[r]) << "row " << r;
    }
  }
}

TEST(SPGC8LinearIndex, RejectsStreamsThatDoNotMatchTheShape) {
  std::mt19937 g(24);
  Compressed c = makeCompressed(g, 9, 40, 8, 0, Pattern::Dense, true);
  std::vector<int32_t> index(c.out + 1);
  auto pack = [&](int64_t size, int64_t out, int64_t in, int bits) {
    return sparsenn_pack_spgc8_index(c.stream.data(), size, out, in, bits, 0,
                                     index.data());
  };
  int64_t n = static_cast<int64_t>(c.stream.size());
  EXPECT_EQ(pack(n, c.out, c.in, 8), SPARSENN_OK);
  EXPECT_EQ(index, c.index);
  EXPECT_EQ(pack(n - 1, c.out, c.in, 8), SPARSENN_ERR_CORRUPT);
  EXPECT_EQ(pack(5, c.out, c.in, 8), SPARSENN_ERR_CORRUPT); // < headers
  EXPECT_EQ(pack(n, c.out - 1, c.in, 8), SPARSENN_ERR_CORRUPT);
  EXPECT_EQ(pack(n, c.out, c.in, 12), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(pack(n, -1, c.in, 8), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(
      sparsenn_pack_spgc8_index(c.stream.data(), n, c.out, c.in, 8, 0, nullptr),
      SPARSENN_ERR_ARGUMENT);
  // Trailing bytes are not part of the stream of this shape.
  std::vector<uint8_t> longer = c.stream;
  longer.push_back(0);
  EXPECT_EQ(sparsenn_pack_spgc8_index(longer.data(), n + 1, c.out, c.in, 8, 0,
                                      index.data()),
            SPARSENN_ERR_CORRUPT);
}

class SPGC8LinearCorruptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SPGC8LinearCorruptTest, BadArguments) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(25);
  Compressed c = makeCompressed(g, 4, 40, 8, 0, Pattern::Dense, true);
  auto x = kt::randomVec(g, 40);
  std::vector<float> y(4);
  int64_t n = static_cast<int64_t>(c.stream.size());
  auto call = [&](int bits, const float *scales, int64_t numScales,
                  const int32_t *index) {
    return sparsenn_linear_spgc8_f32(x.data(), 1, 40, c.stream.data(), n, index,
                                     bits, 0, scales, numScales, 4, nullptr,
                                     y.data());
  };
  EXPECT_EQ(call(8, c.scales.data(), 4, c.index.data()), SPARSENN_OK);
  EXPECT_EQ(call(12, c.scales.data(), 4, c.index.data()),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(8, c.scales.data(), 3, c.index.data()),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(8, nullptr, 4, c.index.data()), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(8, c.scales.data(), 4, nullptr), SPARSENN_ERR_ARGUMENT);
  // Same bytes read as D = 16: the headers no longer match the index.
  EXPECT_EQ(call(16, c.scales.data(), 4, c.index.data()),
            SPARSENN_ERR_CORRUPT);
}

TEST_P(SPGC8LinearCorruptTest, TruncatedStreamAndBadIndex) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(26);
  Compressed c = makeCompressed(g, 12, 100, 8, 0, Pattern::Aligned90, true);
  for (int64_t batch : {1, 7}) {
    auto x = kt::randomVec(g, batch * c.in);
    std::vector<float> y;
    ASSERT_EQ(run(c, x, batch, nullptr, y), SPARSENN_OK);
    // Every truncation, copied so that ASan sees the real end.
    for (size_t len = 0; len < c.stream.size(); ++len) {
      Compressed t = c;
      t.stream.resize(len);
      EXPECT_EQ(run(t, x, batch, nullptr, y), SPARSENN_ERR_CORRUPT)
          << "length " << len;
    }
    // Index entries that do not start at 0, go backwards, exceed a row's
    // worst case, miss the end, or disagree with the headers.
    for (int64_t r = 0; r <= c.out; ++r)
      for (int32_t delta : {-1, 1, 3, 1000000}) {
        Compressed t = c;
        t.index[r] += delta;
        EXPECT_EQ(run(t, x, batch, nullptr, y), SPARSENN_ERR_CORRUPT)
            << "index " << r << " + " << delta;
      }
  }
}

TEST_P(SPGC8LinearCorruptTest, FlippedHeaderBits) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(27);
  for (int bits : {8, 16}) {
    Compressed c = makeCompressed(g, 6, 70, bits, 0, Pattern::Aligned90, true);
    auto x = kt::randomVec(g, c.in);
    std::vector<float> y;
    // Every bit of every header code: the code names another width, so the
    // row's bodies no longer end at the next index entry.
    size_t codeBits = static_cast<size_t>(c.out) * ((c.in + 15) / 16 * 2) *
                      (bits == 8 ? 3 : 4);
    for (size_t bit = 0; bit < codeBits; ++bit) {
      Compressed t = c;
      t.stream[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_EQ(run(t, x, 1, nullptr, y), SPARSENN_ERR_CORRUPT)
          << "D " << bits << " bit " << bit;
    }
  }
}

TEST_P(SPGC8LinearCorruptTest, NonZeroPadding) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(28);
  // Encode [4, 32] with a value in column 31, then call the kernel with
  // in = 20: columns 20..31 are padding and must decode to zero.
  for (int interleave = 0; interleave < 2; ++interleave) {
    Compressed c =
        makeCompressed(g, 4, 32, 8, interleave, Pattern::Dense, true);
    std::vector<float> x = kt::randomVec(g, 7 * 20), y;
    for (int64_t batch : {1, 7}) {
      Compressed t = c;
      t.in = 20;
      EXPECT_EQ(run(t, x, batch, nullptr, y), SPARSENN_ERR_CORRUPT);
      // Zero padding (columns 20..31 cleared, re-encoded) is accepted.
      for (int64_t o = 0; o < 4; ++o)
        for (int64_t i = 20; i < 32; ++i)
          t.q[o * 32 + i] = 0;
      int64_t shape[2] = {4, 32};
      size_t size = 0;
      t.stream.assign(sparsenn_spgc8_tensor_stream_max_size(shape, 2, 8, interleave), 0);
      ASSERT_EQ(sparsenn_spgc8_encode_tensor_stream_i16(t.q.data(), shape, 2, 8,
                                               interleave, 0, t.stream.data(),
                                               t.stream.size(), &size),
                SPARSENN_OK);
      t.stream.resize(size);
      ASSERT_EQ(sparsenn_pack_spgc8_index(t.stream.data(), size, 4, 20, 8,
                                          interleave, t.index.data()),
                SPARSENN_OK);
      EXPECT_EQ(run(t, x, batch, nullptr, y), SPARSENN_OK);
    }
  }
}

TEST_P(SPGC8LinearCorruptTest, RandomDamageNeverCrashes) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(29);
  for (int bits : {8, 16}) {
    Compressed c =
        makeCompressed(g, 10, 150, bits, bits == 16, Pattern::Aligned90, true);
    auto x = kt::randomVec(g, 7 * c.in);
    std::vector<float> y;
    std::uniform_int_distribution<size_t> byte(0, c.stream.size() - 1);
    std::uniform_int_distribution<int> what(0, 3);
    for (int trial = 0; trial < 300; ++trial) {
      Compressed t = c;
      int kind = what(g);
      if (kind == 0) { // random bytes anywhere
        for (int k = 0; k < 3; ++k)
          t.stream[byte(g)] = static_cast<uint8_t>(g());
      } else if (kind == 1) { // truncated, index left as it was
        t.stream.resize(byte(g));
      } else if (kind == 2) { // index rebuilt for a damaged stream
        t.stream[byte(g)] ^= static_cast<uint8_t>(1u << (g() % 8));
        if (sparsenn_pack_spgc8_index(t.stream.data(), t.stream.size(), t.out,
                                      t.in, bits, t.interleave,
                                      t.index.data()) != SPARSENN_OK)
          continue;
      } else { // one index entry moved
        t.index[g() % t.index.size()] += static_cast<int32_t>(g() % 64) - 32;
      }
      for (int64_t batch : {1, 7}) {
        int st = run(t, x, batch, nullptr, y);
        EXPECT_TRUE(st == SPARSENN_OK || st == SPARSENN_ERR_CORRUPT)
            << "status " << st;
      }
    }
  }
}

// Rows are split across threads in fixed blocks: the same bits for 1, 2 and
// 3 threads, batch 1 (the fused AVX-512 decoder) and batched (tiles), and a
// damaged row reported whatever the thread count.
class SPGC8ThreadsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SPGC8ThreadsTest, IdenticalForAnyThreadCount) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(5);
  for (int bits : {8, 16}) {
    Compressed c = makeCompressed(g, 1100, 300, bits, 1, Pattern::Aligned90,
                                  /*perRow=*/true);
    auto bias = kt::randomVec(g, c.out);
    for (int64_t batch : {1, 9}) {
      auto x = kt::randomVec(g, batch * c.in);
      std::vector<float> first, y;
      for (int threads : {1, 2, 3}) {
        kt::ThreadsScope t(threads);
        ASSERT_EQ(run(c, x, batch, bias.data(), y), SPARSENN_OK);
        if (first.empty())
          first = y;
        else
          EXPECT_EQ(
              0, std::memcmp(first.data(), y.data(), y.size() * sizeof(float)))
              << "D=" << bits << " batch " << batch << ", " << threads
              << " threads";
      }
    }
    // A body index pointing past its row's end, in the last thread block.
    Compressed bad = c;
    std::swap(bad.index[1000], bad.index[1001]);
    for (int threads : {1, 2, 3}) {
      kt::ThreadsScope t(threads);
      std::vector<float> x(c.in, 1.0f), y;
      EXPECT_NE(run(bad, x, 1, nullptr, y), SPARSENN_OK) << threads;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, SPGC8ThreadsTest,
                         ::testing::ValuesIn(kt::isas()));
INSTANTIATE_TEST_SUITE_P(Isa, SPGC8LinearTest, ::testing::ValuesIn(kt::isas()));
INSTANTIATE_TEST_SUITE_P(Isa, SPGC8LinearCorruptTest,
                         ::testing::ValuesIn(kt::isas()));

} // namespace
