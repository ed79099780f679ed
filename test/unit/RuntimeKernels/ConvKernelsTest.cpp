//===- ConvKernelsTest.cpp - dense and sparse conv2d ----------------------===//
//
// Both conv2d kernels against a plain 7-loop NCHW reference (PyTorch
// semantics) over strides, asymmetric padding, dilations, groups and
// depthwise, on both implementations. Tolerance as for linear (1e-5 of the
// sum of |terms|).
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include "sparsenn/Runtime/MemRefABI.h"

#include <optional>

namespace {

sparsenn_memref_f32_1d describe(float *data, int64_t size) {
  return {data, data, 0, {size}, {1}};
}

struct ConvCase {
  int64_t n, cIn, h, w, cOut, kh, kw, sh, sw, pt, pb, pl, pr, dh, dw, groups;
};

void reference(const ConvCase &c, const std::vector<float> &x,
               const std::vector<float> &wt, const float *bias, int64_t oh,
               int64_t ow, std::vector<double> &ref, std::vector<double> &mag) {
  int64_t cpgIn = c.cIn / c.groups, cpgOut = c.cOut / c.groups;
  ref.assign(c.n * c.cOut * oh * ow, 0.0);
  mag.assign(ref.size(), 0.0);
  for (int64_t b = 0; b < c.n; ++b)
    for (int64_t o = 0; o < c.cOut; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias ? bias[o] : 0.0, m = bias ? std::fabs(bias[o]) : 0;
          int64_t g = o / cpgOut;
          for (int64_t ci = 0; ci < cpgIn; ++ci)
            for (int64_t r = 0; r < c.kh; ++r)
              for (int64_t s = 0; s < c.kw; ++s) {
                int64_t ih = i * c.sh - c.pt + r * c.dh;
                int64_t iw = j * c.sw - c.pl + s * c.dw;
                if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w)
                  continue;
                double t =
                    static_cast<double>(
                        x[((b * c.cIn + g * cpgIn + ci) * c.h + ih) * c.w +
                          iw]) *
                    wt[((o * cpgIn + ci) * c.kh + r) * c.kw + s];
                acc += t;
                m += std::fabs(t);
              }
          size_t idx = ((b * c.cOut + o) * oh + i) * ow + j;
          ref[idx] = acc;
          mag[idx] = m;
        }
}

/// The non-zero taps of weights [C_out, C_in/groups, kH, kW], packed as
/// compiled code gets them.
struct Taps {
  std::vector<int32_t> ptr, idx;
  std::vector<float> val;
  bool pack(const ConvCase &c, const std::vector<float> &wt) {
    const int64_t cpg = c.cIn / c.groups;
    int64_t nt = -1;
    ptr.resize(c.cOut + 1);
    if (sparsenn_pack_conv2d_taps_f32(wt.data(), c.cOut, cpg, c.kh, c.kw,
                                      ptr.data(), nullptr, nullptr,
                                      &nt) != SPARSENN_OK)
      return false;
    idx.resize(nt);
    val.resize(nt);
    return sparsenn_pack_conv2d_taps_f32(wt.data(), c.cOut, cpg, c.kh, c.kw,
                                         ptr.data(), idx.data(), val.data(),
                                         &nt) == SPARSENN_OK;
  }
};

class ConvTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvTest, DenseAndSparseMatchReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(21);
  const ConvCase cases[] = {
      // n cIn h  w  cOut kh kw sh sw pt pb pl pr dh dw groups
      {1, 1, 28, 28, 8, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1}, // seed 000 conv 1
      {2, 3, 9, 11, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 4, 10, 10, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2}, // dialect.md example
      {2, 4, 13, 17, 6, 3, 2, 2, 3, 2, 0, 1, 3, 1, 1, 2}, // asymmetric pad
      {1, 3, 12, 12, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1}, // dilation
      {1, 2, 15, 9, 4, 2, 3, 1, 2, 0, 1, 0, 2, 3, 1, 1},  // mixed
      {2, 6, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},  // depthwise x2
      {1, 5, 7, 7, 5, 3, 3, 2, 1, 0, 0, 1, 1, 1, 1, 5},   // depthwise
      {1, 2, 40, 40, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}, // 1x1, wide rows
      {1, 16, 12, 12, 32, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1},
      {1, 2, 5, 5, 2, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1}, // output 1x1
      {1, 2, 4, 3, 2, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1}, // pad > kernel
      // 1x1 read in place on 196 positions (the last block moved back
      // inside the plane, 7 vectors per item with AVX-512), two channel
      // blocks.
      {1, 80, 14, 14, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      // Several chunks with stride, asymmetric padding and dilation.
      {1, 72, 11, 13, 66, 3, 3, 2, 1, 1, 2, 0, 1, 2, 1, 1},
      // 1x1 stride 2 (only phase (0, 0) copied, even columns as vectors),
      // without and with padding (odd column offset), odd widths.
      {2, 24, 37, 45, 20, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},
      {1, 24, 36, 47, 20, 1, 1, 2, 2, 1, 0, 1, 2, 1, 1, 1},
      // 3x3 stride 2 on wide rows (all four phases, vector copies), and a
      // stride-2 kernel of width 1 (two of four phases used).
      {1, 40, 57, 57, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
      {1, 9, 30, 41, 7, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1},
      // Grids of many 8-vector items (784 and 58·56 positions), chunked
      // 3x3 and unchunked 1x1.
      {1, 48, 28, 28, 72, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {1, 96, 56, 56, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
  };
  for (const ConvCase &c : cases)
    for (double density : {1.0, 0.1, 0.0}) {
      int64_t oh =
          sparsenn_conv2d_output_size(c.h, c.kh, c.sh, c.pt, c.pb, c.dh);
      int64_t ow =
          sparsenn_conv2d_output_size(c.w, c.kw, c.sw, c.pl, c.pr, c.dw);
      ASSERT_GT(oh, 0);
      ASSERT_GT(ow, 0);
      int64_t cpg = c.cIn / c.groups;
      auto x = kt::randomVec(g, c.n * c.cIn * c.h * c.w);
      auto wt = kt::randomVec(g, c.cOut * cpg * c.kh * c.kw);
      std::bernoulli_distribution keep(density);
      for (float &v : wt)
        if (!keep(g))
          v = 0.0f;
      auto bias = kt::randomVec(g, c.cOut);
      const float *bp = density == 0.1 ? nullptr : bias.data();
      std::vector<double> ref, mag;
      reference(c, x, wt, bp, oh, ow, ref, mag);
      std::vector<float> y(ref.size(), 99.0f);
      // The dense library, then the builtin kernel (every tap through the
      // sparse-times-im2col kernel).
      for (int library : {1, 0}) {
        std::optional<kt::BuiltinDenseScope> builtin;
        if (!library)
          builtin.emplace();
        std::fill(y.begin(), y.end(), 99.0f);
        ASSERT_EQ(sparsenn_conv2d_dense_f32(x.data(), c.n, c.cIn, c.h, c.w,
                                            wt.data(), c.cOut, c.kh, c.kw, bp,
                                            c.sh, c.sw, c.pt, c.pb, c.pl, c.pr,
                                            c.dh, c.dw, c.groups, y.data()),
                  SPARSENN_OK);
        kt::expectClose(y, ref, mag,
                        library ? "dense conv" : "dense conv (builtin)");
      }
      Taps taps;
      ASSERT_TRUE(taps.pack(c, wt));
      const std::vector<int32_t> &ptr = taps.ptr, &idx = taps.idx;
      const std::vector<float> &val = taps.val;
      std::fill(y.begin(), y.end(), 99.0f);
      ASSERT_EQ(sparsenn_conv2d_sparse_f32(
                    x.data(), c.n, c.cIn, c.h, c.w, ptr.data(), idx.data(),
                    val.data(), c.cOut, c.kh, c.kw, bp, c.sh, c.sw, c.pt, c.pb,
                    c.pl, c.pr, c.dh, c.dw, c.groups, y.data()),
                SPARSENN_OK);
      kt::expectClose(y, ref, mag, "sparse conv");
      // The compiled code's entry for run-time weights (training): dense,
      // and sparse taps packed at the call into reused scratch.
      for (int64_t format : {0, 1}) {
        std::fill(y.begin(), y.end(), 99.0f);
        auto xd = describe(x.data(), x.size());
        auto yd = describe(y.data(), y.size());
        auto bd = describe(bias.data(), bp ? c.cOut : 0);
        auto wd = describe(wt.data(), wt.size());
        _mlir_ciface_sparsenn_rt_conv2d_runtime_weights_f32(
            &xd, &yd, &bd, &wd, format, c.n, c.cIn, c.h, c.w, c.cOut, c.kh,
            c.kw, c.sh, c.sw, c.pt, c.pb, c.pl, c.pr, c.dh, c.dw, c.groups);
        kt::expectClose(y, ref, mag,
                        format ? "run-time sparse taps" : "run-time dense");
      }
    }
}

// SPGC8-aligned weights (whole 1x16 input-channel groups at each output
// channel and kernel position) through the constant-weight entry, whose
// plan then sums by groups (one offset per 16 taps): 1x1, chunked 3x3,
// stride 2, grouped convolution; and the same weights with one group
// broken (the per-tap plan), each called twice (the cached plan).
TEST_P(ConvTest, WholeGroupsMatchReference) {
  KT_REQUIRE_ISA(scope, GetParam());
  std::mt19937 g(31);
  const ConvCase cases[] = {
      // n cIn h  w  cOut kh kw sh sw pt pb pl pr dh dw groups
      {1, 64, 14, 14, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {2, 128, 28, 28, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 32, 23, 23, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
      {1, 64, 9, 9, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},
      {1, 48, 12, 12, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},
  };
  for (const ConvCase &c : cases)
    for (bool broken : {false, true}) {
      const int64_t oh =
          sparsenn_conv2d_output_size(c.h, c.kh, c.sh, c.pt, c.pb, c.dh);
      const int64_t ow =
          sparsenn_conv2d_output_size(c.w, c.kw, c.sw, c.pl, c.pr, c.dw);
      const int64_t cpg = c.cIn / c.groups, kk = c.kh * c.kw;
      auto x = kt::randomVec(g, c.n * c.cIn * c.h * c.w);
      auto wt = kt::randomVec(g, c.cOut * cpg * kk);
      std::bernoulli_distribution keep(0.25);
      for (int64_t o = 0; o < c.cOut; ++o)
        for (int64_t c0 = 0; c0 < cpg; c0 += 16)
          for (int64_t t = 0; t < kk; ++t)
            if (!keep(g))
              for (int64_t ci = c0; ci < c0 + 16; ++ci)
                wt[(o * cpg + ci) * kk + t] = 0.0f;
      if (broken) // one tap of the first kept group of channel 0
        for (float &v : wt)
          if (v != 0.0f) {
            v = 0.0f;
            break;
          }
      auto bias = kt::randomVec(g, c.cOut);
      std::vector<double> ref, mag;
      reference(c, x, wt, bias.data(), oh, ow, ref, mag);
      Taps taps;
      ASSERT_TRUE(taps.pack(c, wt));
      const std::vector<int32_t> &ptr = taps.ptr, &idx = taps.idx;
      const std::vector<float> &val = taps.val;
      for (int call = 0; call < 2; ++call) {
        std::vector<float> y(ref.size(), 99.0f);
        ASSERT_EQ(sparsenn_conv2d_sparse_const_f32(
                      x.data(), c.n, c.cIn, c.h, c.w, ptr.data(), idx.data(),
                      val.data(), c.cOut, c.kh, c.kw, bias.data(), c.sh, c.sw,
                      c.pt, c.pb, c.pl, c.pr, c.dh, c.dw, c.groups, y.data()),
                  SPARSENN_OK);
        kt::expectClose(y, ref, mag,
                        broken ? "one group broken" : "whole groups");
      }
    }
}

INSTANTIATE_TEST_SUITE_P(Isa, ConvTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

TEST(ConvArgs, OutputSizeAndErrors) {
  EXPECT_EQ(sparsenn_conv2d_output_size(28, 5, 1, 0, 0, 1), 24);
  EXPECT_EQ(sparsenn_conv2d_output_size(10, 3, 2, 1, 1, 1), 5);
  EXPECT_EQ(sparsenn_conv2d_output_size(5, 3, 1, 0, 0, 3), -1);
  float x[16] = {0}, w[4] = {0}, y[16];
  EXPECT_EQ(sparsenn_conv2d_dense_f32(x, 1, 3, 4, 4, w, 2, 1, 1, nullptr, 1, 1,
                                      0, 0, 0, 0, 1, 1, 2, y),
            SPARSENN_ERR_ARGUMENT); // 3 channels, 2 groups
}

} // namespace
