//===- LinearKernelsTest.cpp - dense/ELL/block16/sparse-sparse linear ----===//
//
// Every linear kernel against a double-precision loop reference of
// y = x W^T + b (tolerance: see kt::expectClose), on several shapes with
// remainders (in % 16, out % 4, batch % 4 / % 8 / > 64), with and without
// bias, on every SIMD target of the CPU and the portable implementation.
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include <cstring>
#include <optional>
#include <tuple>


namespace {

struct Shape {
  int64_t batch, in, out;
};

const Shape kShapes[] = {
    {1, 37, 5},   {1, 300, 33},   {2, 16, 8},    {3, 64, 17},
    {4, 100, 9},  {7, 129, 40},   {9, 1030, 13}, {64, 256, 70},
    {70, 48, 21}, {67, 64, 150},  {13, 257, 33}, {1, 1, 1},
    {5, 2049, 6}, {2, 4100, 130}, {9, 33, 65},   {4, 15, 3}};

// Sparse weights: each row keeps about `density` of its entries.
std::vector<float> sparseWeights(std::mt19937 &g, const Shape &s,
                                 double density) {
  std::vector<float> w = kt::randomVec(g, s.out * s.in);
  std::bernoulli_distribution keep(density);
  for (float &v : w)
    if (!keep(g))
      v = 0.0f;
  return w;
}

// Fixed fan-in: exactly `fanIn` non-zeros per row (seed 000 [0041]-[0044]).
std::vector<float> fanInWeights(std::mt19937 &g, const Shape &s,
                                int64_t fanIn) {
  std::vector<float> w(s.out * s.in, 0.0f);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<int64_t> idx(s.in);
  for (int64_t o = 0; o < s.out; ++o) {
    for (int64_t i = 0; i < s.in; ++i)
      idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), g);
    for (int64_t j = 0; j < fanIn; ++j)
      w[o * s.in + idx[j]] = d(g) + (d(g) > 0 ? 0.1f : -0.1f);
  }
  return w;
}

// Reference and magnitudes (sum of |terms|) in double.
void reference(const std::vector<float> &x, const std::vector<float> &w,
               const float *bias, const Shape &s, std::vector<double> &ref,
               std::vector<double> &mag) {
  ref.assign(s.batch * s.out, 0.0);
  mag.assign(s.batch * s.out, 0.0);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t o = 0; o < s.out; ++o) {
      double acc = bias ? bias[o] : 0.0, m = bias ? std::fabs(bias[o]) : 0.0;
      for (int64_t i = 0; i < s.in; ++i) {
        double t = static_cast<double>(x[b * s.in + i]) * w[o * s.in + i];
        acc += t;
        m += std::fabs(t);
      }
      ref[b * s.out + o] = acc;
      mag[b * s.out + o] = m;
    }
}

class LinearTest : public ::testing::TestWithParam<std::string> {};

// The dense library (oneDNN where the runtime has it), then the builtin
// kernel, which sparsenn_linear_dense_f32 runs without the library.
void checkDense(bool builtin) {
  std::optional<kt::BuiltinDenseScope> scope;
  if (builtin)
    scope.emplace();
  std::mt19937 g(builtin ? 11 : 1);
  for (const Shape &s : kShapes)
    for (int withBias = 0; withBias < 2; ++withBias) {
      auto x = kt::randomVec(g, s.batch * s.in);
      auto w = kt::randomVec(g, s.out * s.in);
      auto bias = kt::randomVec(g, s.out);
      const float *bp = withBias ? bias.data() : nullptr;
      std::vector<float> y(s.batch * s.out, 123.0f);
      ASSERT_EQ(sparsenn_linear_dense_f32(x.data(), s.batch, s.in, w.data(),
                                          s.out, bp, y.data()),
                SPARSENN_OK);
      std::vector<double> ref, mag;
      reference(x, w, bp, s, ref, mag);
      kt::expectClose(y, ref, mag,
                      std::string(builtin ? "dense builtin " : "dense ") +
                          std::to_string(s.batch) + "x" +
                          std::to_string(s.in) + "x" + std::to_string(s.out));
    }
}

TEST_P(LinearTest, DenseMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  checkDense(/*builtin=*/false);
}

TEST_P(LinearTest, DenseBuiltinMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  checkDense(/*builtin=*/true);
}

TEST_P(LinearTest, EllMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(2);
  for (const Shape &s : kShapes)
    for (int mode = 0; mode < 3; ++mode) {
      // mode 0: fixed fan-in, K = fan-in; 1: irregular rows, K = max row
      // nnz (padding); 2: fixed fan-in given larger than needed.
      int64_t fanIn = std::max<int64_t>(1, s.in / 10);
      auto w =
          mode == 1 ? sparseWeights(g, s, 0.15) : fanInWeights(g, s, fanIn);
      int64_t kArg = mode == 0 ? fanIn : mode == 2 ? fanIn + 3 : 0;
      int64_t k = -1;
      ASSERT_EQ(sparsenn_pack_ell_f32(w.data(), s.out, s.in, kArg, nullptr,
                                      nullptr, &k),
                SPARSENN_OK);
      std::vector<float> values(s.out * k);
      std::vector<uint16_t> cols(s.out * k);
      ASSERT_EQ(sparsenn_pack_ell_f32(w.data(), s.out, s.in, kArg,
                                      values.data(), cols.data(), &k),
                SPARSENN_OK);
      if (mode == 0) {
        EXPECT_EQ(k, fanIn);
      }
      auto x = kt::randomVec(g, s.batch * s.in);
      auto bias = kt::randomVec(g, s.out);
      const float *bp = mode == 1 ? nullptr : bias.data();
      std::vector<float> y(s.batch * s.out, 123.0f);
      ASSERT_EQ(sparsenn_linear_ell_f32(x.data(), s.batch, s.in, values.data(),
                                        cols.data(), s.out, k, bp, y.data()),
                SPARSENN_OK);
      std::vector<double> ref, mag;
      reference(x, w, bp, s, ref, mag);
      kt::expectClose(y, ref, mag, "ell mode " + std::to_string(mode));
    }
}

TEST(LinearPacking, EllLayoutAndErrors) {
  // 2 x 5: row 0 has 2 non-zeros, row 1 has 1; K = 2 pads row 1.
  const float w[] = {0, 3, 0, 0, 4, 5, 0, 0, 0, 0};
  float values[4];
  uint16_t cols[4];
  int64_t k = 0;
  ASSERT_EQ(sparsenn_pack_ell_f32(w, 2, 5, 0, values, cols, &k), 0);
  EXPECT_EQ(k, 2);
  EXPECT_EQ(values[0], 3);
  EXPECT_EQ(cols[0], 1);
  EXPECT_EQ(values[1], 4);
  EXPECT_EQ(cols[1], 4);
  EXPECT_EQ(values[2], 5);
  EXPECT_EQ(cols[2], 0);
  EXPECT_EQ(values[3], 0);
  EXPECT_EQ(cols[3], 0);
  EXPECT_EQ(sparsenn_pack_ell_f32(w, 2, 5, 1, values, cols, &k),
            SPARSENN_ERR_FORMAT);
  EXPECT_EQ(sparsenn_pack_ell_f32(w, 2, 70000, 0, nullptr, nullptr, &k),
            SPARSENN_ERR_RANGE);
}

TEST_P(LinearTest, Block16MatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(3);
  for (const Shape &s : kShapes) {
    // Weights pruned in aligned 1x16 groups (SPGC8-aligned), plus a few
    // isolated zeros inside kept blocks.
    auto w = kt::randomVec(g, s.out * s.in);
    std::bernoulli_distribution keep(0.3), hole(0.2);
    for (int64_t o = 0; o < s.out; ++o)
      for (int64_t c = 0; c < s.in; c += 16) {
        bool k = keep(g);
        for (int64_t j = c; j < std::min(c + 16, s.in); ++j)
          if (!k || hole(g))
            w[o * s.in + j] = 0.0f;
      }
    int64_t nb = -1;
    std::vector<int32_t> rowPtr(s.out + 1);
    ASSERT_EQ(sparsenn_pack_block16_f32(w.data(), s.out, s.in, nullptr, nullptr,
                                        nullptr, &nb),
              SPARSENN_OK);
    std::vector<int32_t> blockCols(nb);
    std::vector<float> values(nb * 16);
    ASSERT_EQ(sparsenn_pack_block16_f32(w.data(), s.out, s.in, rowPtr.data(),
                                        blockCols.data(), values.data(), &nb),
              SPARSENN_OK);
    ASSERT_EQ(rowPtr[s.out], nb);
    for (int64_t p = 0; p < nb; ++p)
      ASSERT_EQ(blockCols[p] % 16, 0);
    auto x = kt::randomVec(g, s.batch * s.in);
    auto bias = kt::randomVec(g, s.out);
    std::vector<float> y(s.batch * s.out, 123.0f);
    ASSERT_EQ(sparsenn_linear_block16_f32(
                  x.data(), s.batch, s.in, rowPtr.data(), blockCols.data(),
                  values.data(), s.out, bias.data(), y.data()),
              SPARSENN_OK);
    std::vector<double> ref, mag;
    reference(x, w, bias.data(), s, ref, mag);
    kt::expectClose(y, ref, mag, "block16 in=" + std::to_string(s.in));
  }
}

TEST(LinearPacking, Block16Layout) {
  // 2 x 20: row 0 has a non-zero only in the remainder block (cols 16..19),
  // row 1 in both blocks.
  std::vector<float> w(40, 0.0f);
  w[18] = 2;
  w[20 + 3] = 1;
  w[20 + 19] = 4;
  int64_t nb = 0;
  int32_t rowPtr[3], cols[3];
  float values[48];
  ASSERT_EQ(
      sparsenn_pack_block16_f32(w.data(), 2, 20, rowPtr, cols, values, &nb), 0);
  ASSERT_EQ(nb, 3);
  EXPECT_EQ(rowPtr[0], 0);
  EXPECT_EQ(rowPtr[1], 1);
  EXPECT_EQ(rowPtr[2], 3);
  EXPECT_EQ(cols[0], 16);
  EXPECT_EQ(values[2], 2);
  EXPECT_EQ(values[4], 0); // zero padding past `in`
  EXPECT_EQ(cols[1], 0);
  EXPECT_EQ(values[16 + 3], 1);
  EXPECT_EQ(cols[2], 16);
  EXPECT_EQ(values[32 + 3], 4);
}

TEST_P(LinearTest, SparseSparseMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(4);
  for (const Shape &s : kShapes)
    for (double active : {0.0, 0.1, 1.0}) {
      auto w = sparseWeights(g, s, 0.4);
      auto x = kt::randomVec(g, s.batch * s.in);
      std::bernoulli_distribution on(active);
      for (float &v : x)
        if (!on(g))
          v = 0.0f;
      int64_t nnz = -1;
      std::vector<int32_t> colPtr(s.in + 1);
      ASSERT_EQ(sparsenn_pack_csc_f32(w.data(), s.out, s.in, colPtr.data(),
                                      nullptr, nullptr, &nnz),
                SPARSENN_OK);
      ASSERT_EQ(colPtr[s.in], nnz);
      std::vector<int32_t> rowIdx(nnz);
      std::vector<float> values(nnz);
      ASSERT_EQ(sparsenn_pack_csc_f32(w.data(), s.out, s.in, colPtr.data(),
                                      rowIdx.data(), values.data(), &nnz),
                SPARSENN_OK);
      auto bias = kt::randomVec(g, s.out);
      const float *bp = active == 0.1 ? nullptr : bias.data();
      std::vector<float> y(s.batch * s.out, 123.0f);
      ASSERT_EQ(sparsenn_linear_sparse_sparse_f32(
                    x.data(), s.batch, s.in, colPtr.data(), rowIdx.data(),
                    values.data(), s.out, bp, y.data()),
                SPARSENN_OK);
      std::vector<double> ref, mag;
      reference(x, w, bp, s, ref, mag);
      kt::expectClose(y, ref, mag, "sparse-sparse");
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, LinearTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

// The two implementations agree with each other (not only with the
// reference) on a larger layer.
TEST(LinearIsa, BestTargetAgreesWithPortable) {
  const std::string best = sparsenn_kernels_target_name(0);
  std::mt19937 g(5);
  Shape s{33, 515, 67};
  auto x = kt::randomVec(g, s.batch * s.in);
  auto w = fanInWeights(g, s, 52);
  int64_t k = 0;
  std::vector<float> values(s.out * 52);
  std::vector<uint16_t> cols(s.out * 52);
  ASSERT_EQ(sparsenn_pack_ell_f32(w.data(), s.out, s.in, 52, values.data(),
                                  cols.data(), &k),
            0);
  std::vector<float> y[2][2];
  for (int p = 0; p < 2; ++p) {
    kt::IsaScope scope(p ? "portable" : best);
    y[p][0].resize(s.batch * s.out);
    y[p][1].resize(s.batch * s.out);
    sparsenn_linear_dense_f32(x.data(), s.batch, s.in, w.data(), s.out, nullptr,
                              y[p][0].data());
    sparsenn_linear_ell_f32(x.data(), s.batch, s.in, values.data(), cols.data(),
                            s.out, k, nullptr, y[p][1].data());
  }
  for (int kind = 0; kind < 2; ++kind)
    for (size_t i = 0; i < y[0][kind].size(); ++i)
      ASSERT_NEAR(y[0][kind][i], y[1][kind][i],
                  1e-5 * (std::fabs(y[1][kind][i]) + 1.0))
          << "kind " << kind << " element " << i;
}

TEST(LinearArgs, RejectsBadArguments) {
  float x[4] = {0}, w[4] = {0}, y[4];
  EXPECT_EQ(sparsenn_linear_dense_f32(nullptr, 1, 2, w, 2, nullptr, y),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_linear_dense_f32(x, -1, 2, w, 2, nullptr, y),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_linear_dense_f32(x, 0, 2, w, 2, nullptr, y),
            SPARSENN_OK);
  int64_t n = 0;
  EXPECT_EQ(sparsenn_pack_csc_f32(w, 2, 2, nullptr, nullptr, nullptr, nullptr),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_pack_csc_f32(w, 2, 2, nullptr, nullptr, nullptr, &n), 0);
  EXPECT_EQ(n, 0);
}

} // namespace
