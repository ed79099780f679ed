//===- KWinnersKernelTest.cpp - k-winners against a sorting reference -----===//
//
// sparsenn_kwinners_f32 against a plain reference that sorts each domain
// (exact comparison: selection must pick exactly the reference winners and
// copy x bit for bit). Every mode, with and without boosting, ties both
// ways on deliberately tied values, relu, k at the edges, NCHW and [B, F]
// views, a partial last group, in place, and adversarial orders that defeat
// the sampled bracket (the radix-select fallback).
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include <algorithm>
#include <cstring>

namespace {

struct KwCase {
  int64_t batch, channels, spatial;
  int mode;
  int64_t k, group;
  bool boost;
  bool ties;
  bool relu;
};

// Reference: domains as index lists, ranking values in float exactly as
// documented in Kernels.h, threshold from a sorted copy.
std::vector<float> reference(const std::vector<float> &x, const KwCase &c,
                             const std::vector<float> &duty, float beta) {
  const int64_t total = c.channels * c.spatial;
  std::vector<float> y(x.size(), 0.0f);
  for (int64_t b = 0; b < c.batch; ++b) {
    std::vector<std::vector<int64_t>> domains;
    if (c.mode == SPARSENN_KW_GLOBAL || c.mode == SPARSENN_KW_GROUP) {
      int64_t d = c.mode == SPARSENN_KW_GLOBAL ? total : c.group;
      for (int64_t q0 = 0; q0 < total; q0 += d) {
        domains.emplace_back();
        for (int64_t q = q0; q < std::min(q0 + d, total); ++q)
          domains.back().push_back(q);
      }
    } else if (c.mode == SPARSENN_KW_LOCAL) {
      for (int64_t s = 0; s < c.spatial; ++s) {
        domains.emplace_back();
        for (int64_t ch = 0; ch < c.channels; ++ch)
          domains.back().push_back(ch * c.spatial + s);
      }
    } else {
      for (int64_t ch = 0; ch < c.channels; ++ch) {
        domains.emplace_back();
        for (int64_t s = 0; s < c.spatial; ++s)
          domains.back().push_back(ch * c.spatial + s);
      }
    }
    for (const auto &dom : domains) {
      int64_t n = dom.size();
      int64_t k = std::min(c.k, n);
      if (k <= 0)
        continue;
      float target = static_cast<float>(k) / static_cast<float>(n);
      std::vector<float> r(n);
      std::vector<bool> eligible(n);
      for (int64_t j = 0; j < n; ++j) {
        float xv = x[b * total + dom[j]];
        float f = 1.0f;
        if (c.boost)
          f = std::exp(beta * (target - duty[dom[j] / c.spatial]));
        r[j] = c.boost ? xv * f : xv;
        eligible[j] = !c.relu || xv > 0.0f;
      }
      std::vector<float> sorted;
      for (int64_t j = 0; j < n; ++j)
        if (eligible[j])
          sorted.push_back(r[j]);
      std::sort(sorted.begin(), sorted.end(), std::greater<float>());
      bool all = static_cast<int64_t>(sorted.size()) <= k;
      float t = all ? 0.0f : sorted[k - 1];
      int64_t greater = 0;
      for (float v : sorted)
        greater += !all && v > t;
      int64_t tiesLeft = k - greater;
      for (int64_t j = 0; j < n; ++j) {
        if (!eligible[j])
          continue;
        bool win = all || r[j] > t;
        if (!win && r[j] == t) {
          if (!c.ties)
            win = true;
          else if (tiesLeft > 0) {
            win = true;
            --tiesLeft;
          }
        }
        if (win)
          y[b * total + dom[j]] = x[b * total + dom[j]];
      }
    }
  }
  return y;
}

void runCase(const KwCase &c, std::mt19937 &g, int data,
             const std::string &isa) {
  const int64_t total = c.channels * c.spatial;
  std::vector<float> x = kt::randomVec(g, c.batch * total, -2, 2);
  if (data == 1) // heavy ties: 9 distinct values
    for (float &v : x)
      v = std::round(v * 2.0f) / 2.0f;
  if (data == 2) // ascending: every sample bracket is skewed
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(i % 997) * 0.25f - 3.0f;
  if (data == 3) // all equal
    std::fill(x.begin(), x.end(), 0.5f);
  if (data == 4) // signed zeros and negatives
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = i % 3 == 0 ? -0.0f : (i % 3 == 1 ? 0.0f : -std::fabs(x[i]));
  std::vector<float> duty = kt::randomVec(g, c.channels, 0.0f, 0.3f);
  const float beta = 1.5f;
  std::vector<float> y(x.size(), 7.0f);
  ASSERT_EQ(sparsenn_kwinners_f32(x.data(), y.data(), c.batch, c.channels,
                                  c.spatial, c.mode, c.k, c.group,
                                  c.boost ? duty.data() : nullptr,
                                  c.boost ? beta : 0.0f, c.ties, c.relu),
            SPARSENN_OK);
  std::vector<float> ref = reference(x, c, duty, beta);
  std::string what =
      isa + " mode " + std::to_string(c.mode) + " B" + std::to_string(c.batch) +
      " C" + std::to_string(c.channels) + " S" + std::to_string(c.spatial) +
      " k" + std::to_string(c.k) + " g" + std::to_string(c.group) +
      (c.boost ? " boost" : "") + (c.ties ? " ties" : "") +
      (c.relu ? " relu" : "") + " data" + std::to_string(data);
  int bad = 0;
  for (size_t i = 0; i < y.size() && bad < 5; ++i)
    if (std::memcmp(&y[i], &ref[i], sizeof(float)) != 0 &&
        !(y[i] == 0.0f && ref[i] == 0.0f)) {
      ADD_FAILURE() << what << ": element " << i << " got " << y[i]
                    << " expected " << ref[i] << " (x " << x[i] << ")";
      ++bad;
    }
  // In place gives the same result.
  std::vector<float> z = x;
  ASSERT_EQ(sparsenn_kwinners_f32(z.data(), z.data(), c.batch, c.channels,
                                  c.spatial, c.mode, c.k, c.group,
                                  c.boost ? duty.data() : nullptr,
                                  c.boost ? beta : 0.0f, c.ties, c.relu),
            SPARSENN_OK);
  EXPECT_EQ(0, std::memcmp(z.data(), y.data(), sizeof(float) * y.size()))
      << what << " (in place)";
}

class KWinnersTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KWinnersTest, EveryModeMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(11);
  struct View {
    int64_t batch, channels, spatial;
  };
  // [B, F] views and NCHW views (spatial = H*W).
  const View views[] = {
      {2, 64, 1}, {3, 8, 25}, {1, 300, 1}, {2, 5, 49}, {1, 16, 600}};
  for (const View &v : views)
    for (int mode = 0; mode < 4; ++mode) {
      int64_t total = v.channels * v.spatial;
      int64_t n = mode == SPARSENN_KW_GLOBAL  ? total
                  : mode == SPARSENN_KW_GROUP ? 24
                  : mode == SPARSENN_KW_LOCAL ? v.channels
                                              : v.spatial;
      for (int64_t k : {int64_t(1), int64_t(3), n / 4 + 1, n - 1, n, n + 2})
        for (int flags = 0; flags < 8; ++flags) {
          KwCase c{
              v.batch,          v.channels,       v.spatial,       mode, k, 24,
              (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0};
          for (int data = 0; data < 2; ++data)
            runCase(c, g, data, GetParam());
        }
    }
}

TEST_P(KWinnersTest, LargeDomainsAndAdversarialData) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(12);
  for (int64_t n : {int64_t(2048), int64_t(8192), int64_t(65536)})
    for (int64_t k : {int64_t(1), n / 20, n / 2, n - 3})
      for (int data = 0; data < 5; ++data)
        for (int flags : {0, 2, 3, 6}) {
          KwCase c{2,
                   n,
                   1,
                   SPARSENN_KW_GLOBAL,
                   k,
                   0,
                   (flags & 1) != 0,
                   (flags & 2) != 0,
                   (flags & 4) != 0};
          runCase(c, g, data, GetParam());
        }
  // Large channel-mode domains (boosting is a per-domain constant there).
  KwCase c{1, 3, 4096, SPARSENN_KW_CHANNEL, 200, 0, true, true, false};
  runCase(c, g, 0, GetParam());
  runCase(c, g, 1, GetParam());
  // Sizes that leave a partial vector on every target, in every mode that
  // reads x contiguously, and large local-mode domains (strided, keys
  // gathered first): the candidate rounds and their tails.
  for (int data = 0; data < 3; ++data)
    for (int flags : {0, 2, 3, 5, 6}) {
      const bool boost = (flags & 1) != 0, ties = (flags & 2) != 0,
                 relu = (flags & 4) != 0;
      for (int64_t n : {int64_t(1001), int64_t(4099)})
        for (int64_t k : {int64_t(7), n / 10, n / 2 + 1})
          runCase({2, n, 1, SPARSENN_KW_GLOBAL, k, 0, boost, ties, relu}, g,
                  data, GetParam());
      runCase({1, 2, 4099, SPARSENN_KW_CHANNEL, 400, 0, boost, ties, relu}, g,
              data, GetParam());
      runCase({1, 5000, 1, SPARSENN_KW_GROUP, 300, 2048, boost, ties, relu}, g,
              data, GetParam());
      for (int64_t k : {int64_t(1), int64_t(70), int64_t(351), int64_t(697)})
        runCase({2, 700, 3, SPARSENN_KW_LOCAL, k, 0, boost, ties, relu}, g,
                data, GetParam());
    }
}

TEST_P(KWinnersTest, EdgeCases) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(13);
  // Partial last group (70 = 2 * 32 + 6), k larger than the last group.
  for (int ties = 0; ties < 2; ++ties) {
    KwCase c{2, 70, 1, SPARSENN_KW_GROUP, 8, 32, true, ties != 0, false};
    runCase(c, g, 0, GetParam());
    runCase(c, g, 1, GetParam());
  }
  // k = 0: nothing wins. Group larger than the sample.
  for (int64_t k : {int64_t(0), int64_t(-1)}) {
    KwCase c{2, 10, 3, SPARSENN_KW_GLOBAL, k, 0, false, false, false};
    runCase(c, g, 0, GetParam());
  }
  KwCase big{2, 10, 1, SPARSENN_KW_GROUP, 4, 100, false, true, true};
  runCase(big, g, 0, GetParam());
  // relu with fewer positive values than k; all-equal; signed zeros.
  for (int data : {3, 4})
    for (int flags = 0; flags < 8; ++flags) {
      KwCase c{1,
               600,
               1,
               SPARSENN_KW_GLOBAL,
               100,
               0,
               (flags & 1) != 0,
               (flags & 2) != 0,
               (flags & 4) != 0};
      runCase(c, g, data, GetParam());
    }
}

TEST_P(KWinnersTest, TiesExactCount) {
  KT_REQUIRE_ISA(scope, GetParam());
  // 10 equal values, k = 4: break_ties keeps exactly the first 4 indices,
  // otherwise all 10 win.
  std::vector<float> x(20, 1.0f), y(20);
  for (int i = 10; i < 20; ++i)
    x[i] = -1.0f;
  ASSERT_EQ(sparsenn_kwinners_f32(x.data(), y.data(), 1, 20, 1,
                                  SPARSENN_KW_GLOBAL, 4, 0, nullptr, 0, 1, 0),
            0);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(y[i], i < 4 ? 1.0f : 0.0f) << i;
  ASSERT_EQ(sparsenn_kwinners_f32(x.data(), y.data(), 1, 20, 1,
                                  SPARSENN_KW_GLOBAL, 4, 0, nullptr, 0, 0, 0),
            0);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(y[i], i < 10 ? 1.0f : 0.0f) << i;
}

INSTANTIATE_TEST_SUITE_P(Isa, KWinnersTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

// Domains run on the thread pool in fixed chunks: any thread count gives
// the same bits (suite name matches *ThreadsTest*, which the qemu runs skip).
class KWinnersThreadsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KWinnersThreadsTest, IdenticalForAnyThreadCount) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(14);
  const int old = sparsenn_get_num_threads();
  struct Shape {
    int64_t batch, channels, spatial;
    int mode;
    int64_t k, group;
  };
  const Shape shapes[] = {{300, 2048, 1, SPARSENN_KW_GLOBAL, 204, 0},
                          {3, 64, 4099, SPARSENN_KW_CHANNEL, 400, 0},
                          {2, 70000, 1, SPARSENN_KW_GROUP, 100, 1000},
                          {2, 300, 400, SPARSENN_KW_LOCAL, 30, 0}};
  for (const Shape &sh : shapes) {
    const int64_t size = sh.batch * sh.channels * sh.spatial;
    std::vector<float> x = kt::randomVec(g, size, -2, 2);
    std::vector<float> duty = kt::randomVec(g, sh.channels, 0.0f, 0.3f);
    std::vector<float> y1;
    for (int threads : {1, 2, 3}) {
      ASSERT_EQ(sparsenn_set_num_threads(threads), SPARSENN_OK);
      std::vector<float> y(size, 7.0f);
      ASSERT_EQ(sparsenn_kwinners_f32(x.data(), y.data(), sh.batch, sh.channels,
                                      sh.spatial, sh.mode, sh.k, sh.group,
                                      duty.data(), 1.5f, 1, 0),
                SPARSENN_OK);
      if (threads == 1)
        y1 = y;
      else
        EXPECT_EQ(0, std::memcmp(y.data(), y1.data(), sizeof(float) * size))
            << GetParam() << " mode " << sh.mode << ", " << threads
            << " threads";
    }
  }
  sparsenn_set_num_threads(old);
}

INSTANTIATE_TEST_SUITE_P(Isa, KWinnersThreadsTest,
                         ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

TEST(KWinnersArgs, RejectsBadArguments) {
  float x[4] = {1, 2, 3, 4}, y[4];
  EXPECT_EQ(sparsenn_kwinners_f32(x, y, 1, 4, 1, 7, 1, 0, nullptr, 0, 0, 0),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_kwinners_f32(x, y, 1, 4, 1, SPARSENN_KW_GROUP, 1, 0,
                                  nullptr, 0, 0, 0),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(
      sparsenn_kwinners_f32(nullptr, y, 1, 4, 1, 0, 1, 0, nullptr, 0, 0, 0),
      SPARSENN_ERR_ARGUMENT);
}

} // namespace
