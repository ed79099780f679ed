//===- ConvBackwardKernelsTest.cpp - conv2d gradients and GEMM vs loops ---===//
//
// sparsenn_conv2d_backward_input_f32 / _weight_f32 and sparsenn_gemm_f32 on
// every target, with the dense library and with the builtin loops, against
// double-precision loops written from the definitions:
//   dx[n, c, iy, ix] = Σ dy[n, o, y, x]·w[o, c, i, j] over iy = y·sH + i·dH
//                      − pT, ix = x·sW + j·dW − pL;
//   dw[o, c, i, j]   = Σ dy[n, o, y, x]·x[n, c, iy, ix];
// tolerance kt::expectClose (1e-5 of the sum of |terms|). Shapes: the seed
// CNN's layers, strides 2 and 3, dilation, asymmetric padding, odd widths;
// the masked weight gradient at low density (the flat path) and at high
// density (the GEMM path, masked), both 0 outside the mask; 1 vs 2 vs 3
// threads bit for bit; arguments refused.
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include <memory>

namespace {

struct Geometry {
  int64_t n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
  int64_t oh() const {
    return sparsenn_conv2d_output_size(h, kh, sh, pt, pb, dh);
  }
  int64_t ow() const {
    return sparsenn_conv2d_output_size(w, kw, sw, pl, pr, dw);
  }
};

// Visits every (n, o, c, i, j, y, x) term with its input position inside.
template <typename Fn> void forEachTerm(const Geometry &g, Fn fn) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.cOut; ++o)
      for (int64_t c = 0; c < g.cIn; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t y = 0; y < g.oh(); ++y)
              for (int64_t x = 0; x < g.ow(); ++x) {
                int64_t iy = y * g.sh + i * g.dh - g.pt;
                int64_t ix = x * g.sw + j * g.dw - g.pl;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                  continue;
                fn(((n * g.cIn + c) * g.h + iy) * g.w + ix,
                   ((o * g.cIn + c) * g.kh + i) * g.kw + j,
                   ((n * g.cOut + o) * g.oh() + y) * g.ow() + x);
              }
}

int inputGrad(const Geometry &g, const std::vector<float> &dy,
              const std::vector<float> &w, std::vector<float> &dx) {
  dx.assign(g.n * g.cIn * g.h * g.w, -7.0f); // every element must be written
  return sparsenn_conv2d_backward_input_f32(
      dy.data(), g.n, g.cIn, g.h, g.w, w.data(), g.cOut, g.kh, g.kw, g.sh, g.sw,
      g.pt, g.pb, g.pl, g.pr, g.dh, g.dw, dx.data());
}

int weightGrad(const Geometry &g, const std::vector<float> &x,
               const std::vector<float> &dy, const float *mask,
               std::vector<float> &dw) {
  dw.assign(g.cOut * g.cIn * g.kh * g.kw, -7.0f);
  return sparsenn_conv2d_backward_weight_f32(
      x.data(), g.n, g.cIn, g.h, g.w, dy.data(), g.cOut, g.kh, g.kw, mask, g.sh,
      g.sw, g.pt, g.pb, g.pl, g.pr, g.dh, g.dw, dw.data());
}

// A mask with about `density` of its elements non-zero (never all zero).
std::vector<float> randomMask(std::mt19937 &rng, size_t size, double density) {
  std::bernoulli_distribution keep(density);
  std::vector<float> m(size);
  for (float &v : m)
    v = keep(rng) ? 0.5f : 0.0f;
  m[size / 2] = 1.0f;
  return m;
}

const Geometry kShapes[] = {
    // n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw
    {3, 1, 28, 28, 8, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1}, // seed CNN conv 1
    {4, 6, 12, 12, 5, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1}, // seed CNN conv 2
    {2, 3, 9, 11, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  // 3×3, padding 1
    {2, 4, 13, 10, 3, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1}, // stride 2, asymmetric
    {1, 2, 17, 15, 3, 3, 2, 3, 2, 2, 1, 0, 2, 2, 1}, // stride 3, dilation
    {5, 7, 7, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},   // 1×1
    {2, 3, 20, 19, 4, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1}, // 7×7 stem-like
};

class ConvBackwardTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvBackwardTest, GradientsMatchReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 rng(17);
  for (bool builtin : {false, true}) {
    std::unique_ptr<kt::BuiltinDenseScope> dense;
    if (builtin)
      dense = std::make_unique<kt::BuiltinDenseScope>();
    for (const Geometry &g : kShapes) {
      SCOPED_TRACE("shape cIn " + std::to_string(g.cIn) + " h " +
                   std::to_string(g.h) + " k " + std::to_string(g.kh) +
                   " stride " + std::to_string(g.sh) +
                   (builtin ? " builtin" : " library"));
      auto x = kt::randomVec(rng, g.n * g.cIn * g.h * g.w);
      auto w = kt::randomVec(rng, g.cOut * g.cIn * g.kh * g.kw);
      auto dy = kt::randomVec(rng, g.n * g.cOut * g.oh() * g.ow());
      std::vector<double> dxRef(x.size(), 0.0), dxMag(x.size(), 0.0);
      std::vector<double> dwRef(w.size(), 0.0), dwMag(w.size(), 0.0);
      forEachTerm(g, [&](int64_t xi, int64_t wi, int64_t yi) {
        dxRef[xi] += double(dy[yi]) * w[wi];
        dxMag[xi] += std::fabs(double(dy[yi]) * w[wi]);
        dwRef[wi] += double(dy[yi]) * x[xi];
        dwMag[wi] += std::fabs(double(dy[yi]) * x[xi]);
      });
      std::vector<float> dx, dw;
      ASSERT_EQ(inputGrad(g, dy, w, dx), SPARSENN_OK);
      kt::expectClose(dx, dxRef, dxMag, "input gradient");
      ASSERT_EQ(weightGrad(g, x, dy, nullptr, dw), SPARSENN_OK);
      kt::expectClose(dw, dwRef, dwMag, "weight gradient");
      // Masked: a sparse mask (the flat path where stride and dilation are
      // 1) and a dense one (the GEMM path, masked after).
      for (double density : {0.1, 0.7}) {
        auto mask = randomMask(rng, w.size(), density);
        std::vector<double> ref(dwRef), mag(dwMag);
        for (size_t i = 0; i < w.size(); ++i)
          if (mask[i] == 0.0f)
            ref[i] = mag[i] = 0.0;
        ASSERT_EQ(weightGrad(g, x, dy, mask.data(), dw), SPARSENN_OK);
        kt::expectClose(dw, ref, mag,
                        "masked weight gradient, density " +
                            std::to_string(density));
        for (size_t i = 0; i < w.size(); ++i) {
          if (mask[i] == 0.0f) {
            ASSERT_EQ(dw[i], 0.0f) << "masked-out element " << i;
          }
        }
      }
    }
  }
}

TEST_P(ConvBackwardTest, GemmMatchesReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 rng(5);
  struct Case {
    int64_t m, n, k;
  } cases[] = {{1, 1, 1}, {7, 300, 33}, {300, 5, 260}, {64, 513, 70}};
  for (bool builtin : {false, true}) {
    std::unique_ptr<kt::BuiltinDenseScope> dense;
    if (builtin)
      dense = std::make_unique<kt::BuiltinDenseScope>();
    for (const Case &c : cases)
      for (char ta : {'N', 'T'})
        for (char tb : {'N', 'T'})
          for (float beta : {0.0f, 1.0f}) {
            SCOPED_TRACE(std::string("gemm ") + ta + tb + " m " +
                         std::to_string(c.m) + " n " + std::to_string(c.n) +
                         " k " + std::to_string(c.k) + " beta " +
                         std::to_string(beta) + (builtin ? " builtin" : ""));
            // Row strides past the minimum, to check that they are used.
            int64_t lda = (ta == 'N' ? c.k : c.m) + 3;
            int64_t ldb = (tb == 'N' ? c.n : c.k) + 1;
            int64_t ldc = c.n + 2;
            auto a = kt::randomVec(rng, (ta == 'N' ? c.m : c.k) * lda);
            auto b = kt::randomVec(rng, (tb == 'N' ? c.k : c.n) * ldb);
            auto out = kt::randomVec(rng, c.m * ldc);
            std::vector<double> ref(out.size()), mag(out.size());
            for (int64_t i = 0; i < c.m; ++i)
              for (int64_t j = 0; j < ldc; ++j) {
                size_t at = i * ldc + j;
                if (j >= c.n) { // outside C: left alone
                  ref[at] = out[at], mag[at] = 0;
                  continue;
                }
                double s = beta * out[at], m = std::fabs(s);
                for (int64_t q = 0; q < c.k; ++q) {
                  double av = ta == 'N' ? a[i * lda + q] : a[q * lda + i];
                  double bv = tb == 'N' ? b[q * ldb + j] : b[j * ldb + q];
                  s += av * bv, m += std::fabs(av * bv);
                }
                ref[at] = s, mag[at] = m;
              }
            ASSERT_EQ(sparsenn_gemm_f32(ta, tb, c.m, c.n, c.k, a.data(), lda,
                                        b.data(), ldb, beta, out.data(), ldc),
                      SPARSENN_OK);
            kt::expectClose(out, ref, mag, "gemm");
          }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ConvBackwardTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

TEST(ConvBackwardThreadsTest, IdenticalForAnyThreadCount) {
  std::mt19937 rng(3);
  const Geometry g = {8, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  auto x = kt::randomVec(rng, g.n * g.cIn * g.h * g.w);
  auto w = kt::randomVec(rng, g.cOut * g.cIn * g.kh * g.kw);
  auto dy = kt::randomVec(rng, g.n * g.cOut * g.oh() * g.ow());
  auto mask = randomMask(rng, w.size(), 0.1);
  std::vector<float> dx1, dw1, dm1;
  for (int threads : {1, 2, 3}) {
    kt::ThreadsScope scope(threads);
    std::vector<float> dx, dw, dm;
    ASSERT_EQ(inputGrad(g, dy, w, dx), SPARSENN_OK);
    ASSERT_EQ(weightGrad(g, x, dy, nullptr, dw), SPARSENN_OK);
    ASSERT_EQ(weightGrad(g, x, dy, mask.data(), dm), SPARSENN_OK);
    if (threads == 1) {
      dx1 = dx, dw1 = dw, dm1 = dm;
      continue;
    }
    EXPECT_EQ(dx, dx1) << threads << " threads, input gradient";
    EXPECT_EQ(dw, dw1) << threads << " threads, weight gradient";
    EXPECT_EQ(dm, dm1) << threads << " threads, masked weight gradient";
  }
}

TEST(ConvBackwardArgs, Refused) {
  std::vector<float> buf(4096, 0.0f);
  const float *p = buf.data();
  float *q = buf.data();
  // A kernel larger than the padded input, a zero kernel, null pointers.
  EXPECT_EQ(sparsenn_conv2d_backward_input_f32(p, 1, 1, 2, 2, p, 1, 3, 3, 1, 1,
                                               0, 0, 0, 0, 1, 1, q),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_conv2d_backward_weight_f32(
                p, 1, 1, 4, 4, p, 1, 0, 3, nullptr, 1, 1, 0, 0, 0, 0, 1, 1, q),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_conv2d_backward_weight_f32(nullptr, 1, 1, 4, 4, p, 1, 3, 3,
                                                nullptr, 1, 1, 0, 0, 0, 0, 1, 1,
                                                q),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_conv2d_backward_input_f32(p, 1, 1, 4, 4, p, 1, 3, 3, 0, 1,
                                               0, 0, 0, 0, 1, 1, q),
            SPARSENN_ERR_ARGUMENT); // stride 0
  // GEMM: bad transpose flag, leading dimension too small.
  EXPECT_EQ(sparsenn_gemm_f32('X', 'N', 2, 2, 2, p, 2, p, 2, 0.0f, q, 2),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_gemm_f32('N', 'N', 2, 3, 2, p, 2, p, 2, 0.0f, q, 3),
            SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_gemm_f32('N', 'N', 2, 3, 2, p, 2, p, 3, 0.0f, q, 2),
            SPARSENN_ERR_ARGUMENT);
}

} // namespace
