//===- ThreadsTest.cpp - kernels on the thread pool -----------------------===//
//
// The multi-threaded kernels (dense linear and conv2d through the dense
// library, sparse conv2d on the sparse x dense engine, the builtin dense,
// ELL, block-16 and sparse-sparse linear) on real layer shapes: 2 and 3
// threads give bit-identical results to 1 thread, on every SIMD target, and
// 1 thread matches the portable reference kernels
// (themselves checked against plain loops in the other tests) to 1e-5 of
// the sum of |terms|, bounded here by 1e-5 · (|ref| + taps).
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"

#include "sparsenn/Runtime/MemRefABI.h"

#include <algorithm>
#include <cstring>


namespace {

struct Conv {
  int64_t n, cIn, h, w, cOut, k, stride, pad, groups;
  double density;
};

// ResNet/MobileNet shapes, scaled down in H, W so the suite stays fast.
const Conv kConvs[] = {
    {1, 3, 40, 40, 16, 7, 2, 3, 1, 1.0},    // stem, dense
    {1, 3, 40, 40, 16, 7, 2, 3, 1, 0.1},    // stem, sparse
    {1, 64, 14, 14, 64, 1, 1, 0, 1, 0.1},   // 1x1 bottleneck reduce
    {2, 64, 14, 14, 256, 1, 1, 0, 1, 0.1},  // 1x1 expand, batch 2
    {1, 256, 7, 7, 128, 1, 2, 0, 1, 0.1},   // 1x1 stride-2 downsample
    {1, 64, 15, 15, 64, 3, 1, 1, 1, 0.1},   // 3x3
    {1, 64, 15, 15, 96, 3, 2, 1, 1, 0.1},   // 3x3 stride 2
    {1, 64, 9, 9, 64, 3, 1, 1, 1, 1.0},     // 3x3 dense
    {1, 32, 12, 12, 32, 3, 1, 1, 32, 0.5},  // depthwise
    {1, 64, 10, 10, 64, 3, 1, 1, 8, 0.2},   // grouped (ResNeXt)
    {1, 512, 3, 3, 512, 3, 1, 1, 1, 0.05},  // tiny plane, many channels
    {1, 64, 16, 16, 96, 1, 1, 0, 1, 0.1},   // 1x1 read in place (256 px)
    {1, 16, 72, 72, 32, 3, 1, 1, 1, 0.1},   // large plane: tiled gather
    {1, 3, 70, 70, 8, 7, 2, 3, 1, 0.3},     // strided, tiled gather
};

int64_t outSize(int64_t in, int64_t k, int64_t s, int64_t p) {
  return sparsenn_conv2d_output_size(in, k, s, p, p, 1);
}

/// The sparse taps of w (sparsenn_pack_conv2d_taps_f32).
struct Taps {
  std::vector<int32_t> ptr, idx;
  std::vector<float> val;
  int64_t count = 0;
};
Taps packTaps(const Conv &c, const std::vector<float> &w) {
  Taps t;
  const int64_t cpg = c.cIn / c.groups;
  t.ptr.resize(c.cOut + 1);
  EXPECT_EQ(sparsenn_pack_conv2d_taps_f32(w.data(), c.cOut, cpg, c.k, c.k,
                                          t.ptr.data(), nullptr, nullptr,
                                          &t.count),
            SPARSENN_OK);
  t.idx.resize(t.count > 0 ? t.count : 1);
  t.val.resize(t.count > 0 ? t.count : 1);
  EXPECT_EQ(sparsenn_pack_conv2d_taps_f32(w.data(), c.cOut, cpg, c.k, c.k,
                                          t.ptr.data(), t.idx.data(),
                                          t.val.data(), &t.count),
            SPARSENN_OK);
  return t;
}

std::vector<float> runConv(const Conv &c, const std::vector<float> &x,
                           const std::vector<float> &w,
                           const std::vector<float> &bias, bool sparse) {
  int64_t oh = outSize(c.h, c.k, c.stride, c.pad),
          ow = outSize(c.w, c.k, c.stride, c.pad);
  std::vector<float> y(c.n * c.cOut * oh * ow, 77.0f);
  if (!sparse) {
    EXPECT_EQ(sparsenn_conv2d_dense_const_f32(
                  x.data(), c.n, c.cIn, c.h, c.w, w.data(), c.cOut, c.k, c.k,
                  bias.data(), c.stride, c.stride, c.pad, c.pad, c.pad, c.pad,
                  1, 1, c.groups, y.data()),
              SPARSENN_OK);
    return y;
  }
  Taps taps = packTaps(c, w);
  const std::vector<int32_t> &ptr = taps.ptr, &idx = taps.idx;
  const std::vector<float> &val = taps.val;
  EXPECT_EQ(sparsenn_conv2d_sparse_f32(
                x.data(), c.n, c.cIn, c.h, c.w, ptr.data(), idx.data(),
                val.data(), c.cOut, c.k, c.k, bias.data(), c.stride, c.stride,
                c.pad, c.pad, c.pad, c.pad, 1, 1, c.groups, y.data()),
            SPARSENN_OK);
  return y;
}

void expectBitEqual(const std::vector<float> &a, const std::vector<float> &b,
                    const std::string &what) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
      << what << ": results differ between thread counts";
}

void expectNear(const std::vector<float> &got, const std::vector<float> &ref,
                double terms, const std::string &what) {
  ASSERT_EQ(got.size(), ref.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i)
    if (!(std::fabs(got[i] - ref[i]) <= 1e-5 * (std::fabs(ref[i]) + terms))) {
      ADD_FAILURE() << what << ": element " << i << " got " << got[i]
                    << " reference " << ref[i];
      ++bad;
    }
}

class ThreadsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ThreadsTest, ConvIdenticalForAnyThreadCount) {
  std::mt19937 g(7);
  for (const Conv &c : kConvs) {
    int64_t cpg = c.cIn / c.groups;
    auto x = kt::randomVec(g, c.n * c.cIn * c.h * c.w);
    auto w = kt::randomVec(g, c.cOut * cpg * c.k * c.k);
    std::bernoulli_distribution keep(c.density);
    for (float &v : w)
      if (!keep(g))
        v = 0.0f;
    auto bias = kt::randomVec(g, c.cOut);
    std::string what = "conv " + std::to_string(c.cIn) + "->" +
                       std::to_string(c.cOut) + " k" + std::to_string(c.k) +
                       " s" + std::to_string(c.stride) + " g" +
                       std::to_string(c.groups);
    for (bool sparse : {false, true}) {
      std::vector<float> ref;
      {
        kt::IsaScope portable("portable");
        ref = runConv(c, x, w, bias, sparse);
      }
      KT_REQUIRE_ISA(scope, GetParam());
      std::vector<float> one;
      for (int threads : {1, 2, 3}) {
        kt::ThreadsScope t(threads);
        auto y = runConv(c, x, w, bias, sparse);
        if (threads == 1) {
          expectNear(y, ref, double(cpg * c.k * c.k), what);
          one = y;
        } else {
          expectBitEqual(one, y,
                         what + (sparse ? " sparse" : " dense") + " x" +
                             std::to_string(threads));
        }
      }
    }
  }
}

TEST_P(ThreadsTest, DenseLinearIdenticalForAnyThreadCount) {
  std::mt19937 g(8);
  const int64_t shapes[][3] = {{1, 2048, 1000}, {5, 300, 257}, {64, 512, 384}};
  for (const auto &s : shapes) {
    auto x = kt::randomVec(g, s[0] * s[1]);
    auto w = kt::randomVec(g, s[2] * s[1]);
    auto bias = kt::randomVec(g, s[2]);
    std::vector<float> ref(s[0] * s[2]);
    {
      kt::IsaScope portable("portable");
      ASSERT_EQ(sparsenn_linear_dense_f32(x.data(), s[0], s[1], w.data(), s[2],
                                          bias.data(), ref.data()),
                SPARSENN_OK);
    }
    KT_REQUIRE_ISA(scope, GetParam());
    std::vector<float> one;
    for (int threads : {1, 2, 3}) {
      kt::ThreadsScope t(threads);
      std::vector<float> y(s[0] * s[2], 5.0f);
      ASSERT_EQ(sparsenn_linear_dense_f32(x.data(), s[0], s[1], w.data(), s[2],
                                          bias.data(), y.data()),
                SPARSENN_OK);
      if (threads == 1) {
        expectNear(y, ref, double(s[1]), "dense linear");
        one = y;
      } else {
        expectBitEqual(one, y, "dense linear x" + std::to_string(threads));
      }
    }
  }
}

// The sparse linear kernels, and the builtin dense one (the dense library
// switched off), split output rows and sample tiles across the pool.
enum class LinearKind { DenseBuiltin, Ell, Block16, SparseSparse };

std::vector<float> runLinear(LinearKind kind, int64_t batch, int64_t in,
                             int64_t out, const std::vector<float> &x,
                             const std::vector<float> &w,
                             const std::vector<float> &bias) {
  std::vector<float> y(batch * out, 5.0f);
  switch (kind) {
  case LinearKind::DenseBuiltin: {
    kt::BuiltinDenseScope builtin;
    EXPECT_EQ(sparsenn_linear_dense_f32(x.data(), batch, in, w.data(), out,
                                        bias.data(), y.data()),
              SPARSENN_OK);
    break;
  }
  case LinearKind::Ell: {
    int64_t k = 0;
    EXPECT_EQ(sparsenn_pack_ell_f32(w.data(), out, in, 0, nullptr, nullptr, &k),
              SPARSENN_OK);
    std::vector<float> values(out * k);
    std::vector<uint16_t> cols(out * k);
    EXPECT_EQ(sparsenn_pack_ell_f32(w.data(), out, in, 0, values.data(),
                                    cols.data(), &k),
              SPARSENN_OK);
    EXPECT_EQ(sparsenn_linear_ell_f32(x.data(), batch, in, values.data(),
                                      cols.data(), out, k, bias.data(),
                                      y.data()),
              SPARSENN_OK);
    break;
  }
  case LinearKind::Block16: {
    int64_t nb = 0;
    std::vector<int32_t> rowPtr(out + 1);
    EXPECT_EQ(sparsenn_pack_block16_f32(w.data(), out, in, rowPtr.data(),
                                        nullptr, nullptr, &nb),
              SPARSENN_OK);
    std::vector<int32_t> cols(nb + 1);
    std::vector<float> values(16 * nb + 16);
    EXPECT_EQ(sparsenn_pack_block16_f32(w.data(), out, in, rowPtr.data(),
                                        cols.data(), values.data(), &nb),
              SPARSENN_OK);
    EXPECT_EQ(sparsenn_linear_block16_f32(x.data(), batch, in, rowPtr.data(),
                                          cols.data(), values.data(), out,
                                          bias.data(), y.data()),
              SPARSENN_OK);
    break;
  }
  case LinearKind::SparseSparse: {
    int64_t nnz = 0;
    std::vector<int32_t> colPtr(in + 1);
    EXPECT_EQ(sparsenn_pack_csc_f32(w.data(), out, in, colPtr.data(), nullptr,
                                    nullptr, &nnz),
              SPARSENN_OK);
    std::vector<int32_t> rowIdx(nnz + 1);
    std::vector<float> values(nnz + 1);
    EXPECT_EQ(sparsenn_pack_csc_f32(w.data(), out, in, colPtr.data(),
                                    rowIdx.data(), values.data(), &nnz),
              SPARSENN_OK);
    EXPECT_EQ(sparsenn_linear_sparse_sparse_f32(
                  x.data(), batch, in, colPtr.data(), rowIdx.data(),
                  values.data(), out, bias.data(), y.data()),
              SPARSENN_OK);
    break;
  }
  }
  return y;
}

TEST_P(ThreadsTest, SparseLinearIdenticalForAnyThreadCount) {
  std::mt19937 g(10);
  // batch, in, out: batch 1 and 2 (row splits), >= 4 (ELL transposed tiles,
  // block16 8-sample tiles), tails everywhere.
  const int64_t shapes[][3] = {{1, 2048, 1000},
                               {2, 1030, 257},
                               {5, 300, 129},
                               {64, 512, 384},
                               {70, 257, 65},
                               {1, 4096, 4096}}; // sparse-sparse row split
  const LinearKind kinds[] = {LinearKind::DenseBuiltin, LinearKind::Ell,
                              LinearKind::Block16, LinearKind::SparseSparse};
  const char *names[] = {"dense builtin", "ell", "block16", "sparse-sparse"};
  for (const auto &s : shapes)
    for (int kind = 0; kind < 4; ++kind) {
      const LinearKind lk = kinds[kind];
      if (s[1] == 4096 && lk != LinearKind::SparseSparse)
        continue; // large only where the split needs it
      auto x = kt::randomVec(g, s[0] * s[1]);
      auto w = kt::randomVec(g, s[2] * s[1]);
      std::bernoulli_distribution keep(0.1), active(0.2);
      if (lk == LinearKind::Block16) { // whole 1x16 groups
        for (int64_t o = 0; o < s[2]; ++o)
          for (int64_t c = 0; c < s[1]; c += 16)
            if (!keep(g))
              std::fill(w.begin() + o * s[1] + c,
                        w.begin() + o * s[1] + std::min(c + 16, s[1]), 0.0f);
      } else if (lk != LinearKind::DenseBuiltin) {
        for (float &v : w)
          if (!keep(g))
            v = 0.0f;
      }
      if (lk == LinearKind::SparseSparse)
        for (float &v : x)
          if (!active(g))
            v = 0.0f;
      auto bias = kt::randomVec(g, s[2]);
      std::string what = std::string(names[kind]) + " " + std::to_string(s[0]) +
                         "x" + std::to_string(s[1]) + "x" +
                         std::to_string(s[2]);
      std::vector<float> ref;
      {
        kt::IsaScope portable("portable");
        ref = runLinear(lk, s[0], s[1], s[2], x, w, bias);
      }
      KT_REQUIRE_ISA(scope, GetParam());
      std::vector<float> one;
      for (int threads : {1, 2, 3}) {
        kt::ThreadsScope t(threads);
        auto y = runLinear(lk, s[0], s[1], s[2], x, w, bias);
        if (threads == 1) {
          expectNear(y, ref, double(s[1]), what);
          one = y;
        } else {
          expectBitEqual(one, y, what + " x" + std::to_string(threads));
        }
      }
    }
}

sparsenn_memref_f32_1d view(const float *data, int64_t size) {
  float *p = const_cast<float *>(data);
  return {p, p, 0, {size}, {1}};
}
sparsenn_memref_i32_1d view(const int32_t *data, int64_t size) {
  int32_t *p = const_cast<int32_t *>(data);
  return {p, p, 0, {size}, {1}};
}

// The compiled code's fused entry (conv + bias + residual add + ReLU in one
// kernel) against the unfused portable conv followed by a plain loop.
TEST_P(ThreadsTest, FusedEpilogueMatchesUnfused) {
  std::mt19937 g(9);
  for (const Conv &c : kConvs) {
    int64_t cpg = c.cIn / c.groups;
    int64_t oh = outSize(c.h, c.k, c.stride, c.pad),
            ow = outSize(c.w, c.k, c.stride, c.pad);
    int64_t outCount = c.n * c.cOut * oh * ow;
    auto x = kt::randomVec(g, c.n * c.cIn * c.h * c.w);
    auto w = kt::randomVec(g, c.cOut * cpg * c.k * c.k);
    std::bernoulli_distribution keep(c.density);
    for (float &v : w)
      if (!keep(g))
        v = 0.0f;
    auto bias = kt::randomVec(g, c.cOut);
    auto residual = kt::randomVec(g, outCount);
    Taps taps = packTaps(c, w);
    const int64_t nt = taps.count;
    std::vector<int32_t> &ptr = taps.ptr, &idx = taps.idx;
    std::vector<float> &val = taps.val;
    for (int64_t format : {0, 1})
      for (int mode = 0; mode < 3; ++mode) {
        bool withResidual = mode != 0, relu = mode != 1;
        std::vector<float> ref;
        {
          kt::IsaScope portable("portable");
          ref = runConv(c, x, w, bias, format == 1);
        }
        for (int64_t i = 0; i < outCount; ++i) {
          float v = ref[i] + (withResidual ? residual[i] : 0.0f);
          ref[i] = relu && v <= 0.0f ? 0.0f : v;
        }
        KT_REQUIRE_ISA(scope, GetParam());
        std::vector<float> one;
        for (int threads : {1, 2, 3}) {
          kt::ThreadsScope t(threads);
          std::vector<float> y(outCount, 55.0f);
          auto xd = view(x.data(), x.size());
          auto yd = view(y.data(), y.size());
          auto bd = view(bias.data(), c.cOut);
          auto vd = format ? view(val.data(), nt) : view(w.data(), w.size());
          auto pd = view(ptr.data(), ptr.size());
          auto id = view(idx.data(), nt);
          auto rd = view(residual.data(), withResidual ? outCount : 0);
          _mlir_ciface_sparsenn_rt_conv2d_fused_f32(
              &xd, &yd, &bd, &vd, &pd, &id, &rd, format, relu, c.n, c.cIn, c.h,
              c.w, c.cOut, c.k, c.k, c.stride, c.stride, c.pad, c.pad, c.pad,
              c.pad, 1, 1, c.groups);
          std::string what = "fused conv k" + std::to_string(c.k) + " g" +
                             std::to_string(c.groups) + " format " +
                             std::to_string(format) + " mode " +
                             std::to_string(mode);
          if (threads == 1) {
            expectNear(y, ref, double(cpg * c.k * c.k), what);
            one = y;
          } else {
            expectBitEqual(one, y, what + " x" + std::to_string(threads));
          }
        }
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ThreadsTest, ::testing::ValuesIn(kt::isas()),
                         [](const auto &info) { return info.param; });

TEST(Threads, SettingAndDefault) {
  int old = sparsenn_get_num_threads();
  EXPECT_GE(old, 1);
  EXPECT_EQ(sparsenn_set_num_threads(3), SPARSENN_OK);
  EXPECT_EQ(sparsenn_get_num_threads(), 3);
  EXPECT_EQ(sparsenn_set_num_threads(-1), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_set_num_threads(5000), SPARSENN_ERR_ARGUMENT);
  EXPECT_EQ(sparsenn_get_num_threads(), 3);
  EXPECT_EQ(sparsenn_set_num_threads(0), SPARSENN_OK); // default
  EXPECT_GE(sparsenn_get_num_threads(), 1);
  sparsenn_set_num_threads(old);
}

TEST(Targets, SelectionByName) {
  ASSERT_GE(sparsenn_kernels_target_count(), 1);
  EXPECT_EQ(sparsenn_kernels_target_name(-1), nullptr);
  EXPECT_EQ(sparsenn_kernels_target_name(sparsenn_kernels_target_count()),
            nullptr);
  EXPECT_EQ(sparsenn_kernels_select_target("NOSUCHISA"),
            SPARSENN_ERR_ARGUMENT);
  for (int i = 0; i < sparsenn_kernels_target_count(); ++i) {
    const char *name = sparsenn_kernels_target_name(i);
    ASSERT_EQ(sparsenn_kernels_select_target(name), SPARSENN_OK);
    EXPECT_STREQ(sparsenn_kernels_current_target(), name);
  }
  EXPECT_EQ(sparsenn_kernels_select_target(nullptr), SPARSENN_OK);
  EXPECT_STREQ(sparsenn_kernels_current_target(),
               sparsenn_kernels_target_name(0));
}

} // namespace
