//===- PoolKernelsTest.cpp - 2-D pooling against plain loops --------------===//
//
// sparsenn_pool2d_f32 on every target against a double-precision loop over
// each window in the linalg order: max exactly (and NaN propagated), sums
// within the tolerance of kt::expectClose. Shapes of real CNNs (the ResNet
// stem's 3×3/2 max pool with -inf padding, global average pooling as a sum,
// 2×2/2, stride 3, dilation, odd widths that leave vector tails, a pad
// value that is not neutral, a non-neutral init), arguments refused, and
// 1 vs 2 vs 3 threads bit for bit.
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include <cstring>
#include <limits>

namespace {

struct PoolCase {
  int64_t n, c, h, w, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
  int mode;
  float pad, init;
};

int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t lo, int64_t hi,
                int64_t d) {
  return sparsenn_conv2d_output_size(in, k, s, lo, hi, d);
}

// The reference, in double (a max is exact in either).
void reference(const PoolCase &c, const std::vector<float> &x,
               std::vector<double> &ref, std::vector<double> &mag) {
  int64_t oh = outSize(c.h, c.kh, c.sh, c.pt, c.pb, c.dh);
  int64_t ow = outSize(c.w, c.kw, c.sw, c.pl, c.pr, c.dw);
  ref.assign(c.n * c.c * oh * ow, 0.0);
  mag.assign(ref.size(), 0.0);
  for (int64_t p = 0; p < c.n * c.c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double acc = c.init, m = std::fabs(c.init);
        bool nan = false;
        for (int64_t r = 0; r < c.kh; ++r)
          for (int64_t q = 0; q < c.kw; ++q) {
            int64_t iy = oy * c.sh - c.pt + r * c.dh;
            int64_t ix = ox * c.sw - c.pl + q * c.dw;
            double v = iy >= 0 && iy < c.h && ix >= 0 && ix < c.w
                           ? x[(p * c.h + iy) * c.w + ix]
                           : c.pad;
            nan |= std::isnan(v);
            if (c.mode == SPARSENN_POOL_MAX)
              acc = std::max(acc, v);
            else
              acc += v;
            m += std::fabs(v);
          }
        size_t i = (p * oh + oy) * ow + ox;
        ref[i] = nan ? std::numeric_limits<double>::quiet_NaN() : acc;
        mag[i] = m;
      }
}

std::vector<float> run(const PoolCase &c, const std::vector<float> &x,
                       int *status = nullptr) {
  int64_t oh = outSize(c.h, c.kh, c.sh, c.pt, c.pb, c.dh);
  int64_t ow = outSize(c.w, c.kw, c.sw, c.pl, c.pr, c.dw);
  std::vector<float> y(c.n * c.c * oh * ow, 12345.0f);
  int st = sparsenn_pool2d_f32(x.data(), c.n, c.c, c.h, c.w, c.kh, c.kw, c.sh,
                               c.sw, c.pt, c.pb, c.pl, c.pr, c.dh, c.dw, c.mode,
                               c.pad, c.init, y.data());
  if (status)
    *status = st;
  else
    EXPECT_EQ(st, SPARSENN_OK);
  return y;
}

void check(const PoolCase &c, const std::vector<float> &x,
           const std::string &what) {
  std::vector<double> ref, mag;
  reference(c, x, ref, mag);
  std::vector<float> got = run(c, x);
  ASSERT_EQ(got.size(), ref.size());
  if (c.mode == SPARSENN_POOL_SUM) {
    kt::expectClose(got, ref, mag, what);
    return;
  }
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    bool same = std::isnan(ref[i]) ? std::isnan(got[i])
                                   : static_cast<double>(got[i]) == ref[i];
    if (!same) {
      ADD_FAILURE() << what << ": element " << i << " got " << got[i]
                    << " expected " << ref[i];
      ++bad;
    }
  }
}

const float kNegInf = -std::numeric_limits<float>::infinity();

const PoolCase kCases[] = {
    // ResNet stem: 3×3 stride 2, padding 1 by -inf.
    {1, 64, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, SPARSENN_POOL_MAX, kNegInf,
     kNegInf},
    // Global average pooling as a sum (ResNet-50 head, ResNet-18 head).
    {2, 48, 7, 7, 7, 7, 1, 1, 0, 0, 0, 0, 1, 1, SPARSENN_POOL_SUM, 0.0f, 0.0f},
    {1, 3, 14, 14, 14, 14, 1, 1, 0, 0, 0, 0, 1, 1, SPARSENN_POOL_SUM, 0, 0},
    // 2×2 stride 2 (VGG, AlexNet-like), odd sizes leaving tails.
    {2, 5, 37, 41, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, SPARSENN_POOL_MAX, 0, kNegInf},
    // 3×3 stride 1 padding 1 (Inception branches), sum = avg·9.
    {1, 7, 17, 23, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, SPARSENN_POOL_SUM, 0, 0},
    // Stride 3 (gathers), asymmetric padding, a pad value inside the range.
    {1, 4, 20, 29, 3, 2, 3, 3, 2, 0, 1, 2, 1, 1, SPARSENN_POOL_MAX, 0.25f,
     -5.0f},
    // Dilation, a non-zero pad and init for the sum.
    {3, 2, 19, 33, 2, 3, 1, 2, 1, 2, 2, 1, 2, 3, SPARSENN_POOL_SUM, 0.5f, 1.5f},
    // Wide rows (several vectors plus a tail), tall windows (kH > 8).
    {1, 2, 12, 203, 9, 1, 1, 1, 4, 4, 0, 0, 1, 1, SPARSENN_POOL_MAX, kNegInf,
     kNegInf},
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, SPARSENN_POOL_SUM, 0, 0},
};

class PoolTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PoolTest, MatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(7);
  int i = 0;
  for (const PoolCase &c : kCases) {
    auto x = kt::randomVec(g, c.n * c.c * c.h * c.w, -2, 2);
    check(c, x, GetParam() + " case " + std::to_string(i++));
  }
}

TEST_P(PoolTest, NaNPropagatesThroughMax) {
  KT_REQUIRE_ISA(scope, GetParam());
  PoolCase c = kCases[0];
  c.c = 2;
  std::mt19937 g(3);
  auto x = kt::randomVec(g, c.n * c.c * c.h * c.w);
  x[5 * c.w + 17] = std::numeric_limits<float>::quiet_NaN();
  x[c.h * c.w + 111] = std::numeric_limits<float>::quiet_NaN();
  check(c, x, GetParam() + " NaN");
  std::vector<float> y = run(c, x);
  int nans = 0;
  for (float v : y)
    nans += std::isnan(v);
  EXPECT_GE(nans, 2); // a NaN reaches every window that covers it
}

// A suite of its own ("*ThreadsTest*"): the TSan build runs it, the qemu
// runs (one thread) leave it out.
class PoolThreadsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PoolThreadsTest, IdenticalForAnyThreadCount) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(11);
  for (const PoolCase &c : {kCases[0], kCases[1], kCases[4]}) {
    PoolCase big = c;
    big.n = 3; // more planes than one work item holds
    auto x = kt::randomVec(g, big.n * big.c * big.h * big.w);
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
      kt::ThreadsScope t(threads);
      std::vector<float> y = run(big, x);
      if (first.empty())
        first = y;
      else
        EXPECT_EQ(0,
                  std::memcmp(first.data(), y.data(), y.size() * sizeof(float)))
            << threads << " threads";
    }
  }
}

TEST(PoolArgs, RefusesBadArguments) {
  std::vector<float> x(16), y(16);
  auto call = [&](int64_t h, int64_t kh, int64_t s, int64_t pad, int mode,
                  const float *xp = nullptr) {
    return sparsenn_pool2d_f32(xp ? xp : x.data(), 1, 1, h, 4, kh, 2, s, 1, pad,
                               0, 0, 0, 1, 1, mode, 0, 0, y.data());
  };
  EXPECT_EQ(call(4, 2, 1, 0, SPARSENN_POOL_MAX), SPARSENN_OK);
  EXPECT_EQ(call(4, 5, 1, 0, SPARSENN_POOL_MAX), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(4, 2, 0, 0, SPARSENN_POOL_MAX), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(4, 2, 1, -1, SPARSENN_POOL_MAX), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(4, 2, 1, 0, 7), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(call(0, 1, 1, 0, SPARSENN_POOL_SUM), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_pool2d_f32(nullptr, 1, 1, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, 1,
                                1, SPARSENN_POOL_MAX, 0, 0, y.data()),
            SPARSENN_ERR_ARGUMENT);
}

INSTANTIATE_TEST_SUITE_P(Isa, PoolTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Isa, PoolThreadsTest,
                         ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

} // namespace
