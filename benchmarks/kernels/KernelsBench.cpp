//===- KernelsBench.cpp - fp32 runtime kernel benchmarks ------------------===//
//
// Dense vs ELL (fixed fan-in) vs block-16 linear at 4096x4096, 90 % sparse,
// batch 1 and 64; sparse-sparse (10 % active inputs x 10 % weights) vs dense
// at batch 1; k-winners throughput for n in {2048, 8192, 65536}; sparse vs
// dense conv2d on seed 000's CNN layer shapes. Goals and results:
// docs/performance.md.
//
// SPGC8 (issue 4): the same 4096x4096 layer with 90 % SPGC8-aligned pruning
// (1x16 groups, global quantile of max |w|), int8 per-row quantisation,
// run (a) fused on the compressed stream (sparsenn_linear_spgc8_f32),
// (b) decoded at load into block16 / ELL, (c) dense; warm (weights left in
// cache by the previous call) and cold (weights flushed from every cache
// level before each call, as when other layers ran in between).
//
// Every sparse benchmark also reports `x_vs_dense`: the dense kernel's
// median time over its own median time, both measured in the same process
// right after the timed loop (side by side, same cache state). Threads:
// SPARSENN_NUM_THREADS (printed first), for the sparse kernels and the
// dense library alike; SIMD target: SPARSENN_KERNEL_TARGET (with
// ONEDNN_MAX_CPU_ISA for the dense library). Run:
// kernels_bench --benchmark_counters_tabular=true
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"
#include "sparsenn/Runtime/SPGC8.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

std::vector<float> randomVec(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float &f : v)
    f = d(g);
  return v;
}

double medianMs(const std::function<void()> &fn, int reps) {
  std::vector<double> t;
  fn(); // warm
  for (int r = 0; r < reps; ++r) {
    auto a = std::chrono::steady_clock::now();
    fn();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

constexpr int64_t kN = 4096;

struct LinearData {
  std::vector<float> w, bias;
  // ELL (fixed fan-in 410 = 10 %)
  int64_t k = 0;
  std::vector<float> ellValues;
  std::vector<uint16_t> ellCols;
  // block-16 (10 % of the aligned 1x16 blocks of every row)
  std::vector<float> wBlock;
  std::vector<int32_t> rowPtr, blockCols;
  std::vector<float> blockValues;
  // CSC of a 10 % unstructured matrix
  std::vector<float> wSparse;
  std::vector<int32_t> colPtr, rowIdx;
  std::vector<float> cscValues;
};

const LinearData &linearData() {
  static LinearData d = [] {
    LinearData d;
    std::mt19937 g(7);
    std::uniform_real_distribution<float> u(-1, 1);
    d.bias = randomVec(kN, 8);
    const int64_t fanIn = kN / 10;
    d.w.assign(kN * kN, 0.0f);
    std::vector<int64_t> idx(kN);
    for (int64_t o = 0; o < kN; ++o) {
      for (int64_t i = 0; i < kN; ++i)
        idx[i] = i;
      std::shuffle(idx.begin(), idx.end(), g);
      for (int64_t j = 0; j < fanIn; ++j)
        d.w[o * kN + idx[j]] = u(g);
    }
    sparsenn_pack_ell_f32(d.w.data(), kN, kN, fanIn, nullptr, nullptr, &d.k);
    d.ellValues.resize(kN * d.k);
    d.ellCols.resize(kN * d.k);
    sparsenn_pack_ell_f32(d.w.data(), kN, kN, fanIn, d.ellValues.data(),
                          d.ellCols.data(), &d.k);

    const int64_t blocks = kN / 16, keep = (blocks + 5) / 10; // 26 of 256
    d.wBlock.assign(kN * kN, 0.0f);
    std::vector<int64_t> bidx(blocks);
    for (int64_t o = 0; o < kN; ++o) {
      for (int64_t i = 0; i < blocks; ++i)
        bidx[i] = i;
      std::shuffle(bidx.begin(), bidx.end(), g);
      for (int64_t j = 0; j < keep; ++j)
        for (int64_t t = 0; t < 16; ++t)
          d.wBlock[o * kN + bidx[j] * 16 + t] = u(g);
    }
    int64_t nb = 0;
    d.rowPtr.resize(kN + 1);
    sparsenn_pack_block16_f32(d.wBlock.data(), kN, kN, d.rowPtr.data(), nullptr,
                              nullptr, &nb);
    d.blockCols.resize(nb);
    d.blockValues.resize(nb * 16);
    sparsenn_pack_block16_f32(d.wBlock.data(), kN, kN, d.rowPtr.data(),
                              d.blockCols.data(), d.blockValues.data(), &nb);

    std::bernoulli_distribution on(0.1);
    d.wSparse.assign(kN * kN, 0.0f);
    for (float &v : d.wSparse)
      if (on(g))
        v = u(g);
    int64_t nnz = 0;
    d.colPtr.resize(kN + 1);
    sparsenn_pack_csc_f32(d.wSparse.data(), kN, kN, d.colPtr.data(), nullptr,
                          nullptr, &nnz);
    d.rowIdx.resize(nnz);
    d.cscValues.resize(nnz);
    sparsenn_pack_csc_f32(d.wSparse.data(), kN, kN, d.colPtr.data(),
                          d.rowIdx.data(), d.cscValues.data(), &nnz);
    return d;
  }();
  return d;
}

enum class Kind { Dense, Ell, Block16, SparseSparse };

void runLinear(benchmark::State &state, Kind kind, int64_t batch,
               bool portable) {
  const LinearData &d = linearData();
  int old = sparsenn_kernels_force_portable(portable);
  std::vector<float> x = randomVec(batch * kN, 9);
  if (kind == Kind::SparseSparse) { // k-winners-like input: 10 % active
    std::mt19937 g(10);
    std::bernoulli_distribution on(0.1);
    for (float &v : x)
      if (!on(g))
        v = 0.0f;
  }
  std::vector<float> y(batch * kN);
  auto dense = [&] {
    sparsenn_linear_dense_f32(x.data(), batch, kN, d.w.data(), kN,
                              d.bias.data(), y.data());
  };
  std::function<void()> fn;
  switch (kind) {
  case Kind::Dense:
    fn = dense;
    break;
  case Kind::Ell:
    fn = [&] {
      sparsenn_linear_ell_f32(x.data(), batch, kN, d.ellValues.data(),
                              d.ellCols.data(), kN, d.k, d.bias.data(),
                              y.data());
    };
    break;
  case Kind::Block16:
    fn = [&] {
      sparsenn_linear_block16_f32(x.data(), batch, kN, d.rowPtr.data(),
                                  d.blockCols.data(), d.blockValues.data(), kN,
                                  d.bias.data(), y.data());
    };
    break;
  case Kind::SparseSparse:
    fn = [&] {
      sparsenn_linear_sparse_sparse_f32(x.data(), batch, kN, d.colPtr.data(),
                                        d.rowIdx.data(), d.cscValues.data(), kN,
                                        d.bias.data(), y.data());
    };
    break;
  }
  for (auto _ : state) {
    fn();
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["flops_dense"] = benchmark::Counter(
      2.0 * batch * kN * kN, benchmark::Counter::kIsIterationInvariantRate);
  if (kind != Kind::Dense) {
    // The dense baseline: the dense library (or the builtin kernel of the
    // selected target), never the portable one.
    sparsenn_kernels_force_portable(0);
    double denseMs = medianMs(dense, batch > 1 ? 7 : 15);
    sparsenn_kernels_force_portable(portable);
    double ms = medianMs(fn, batch > 1 ? 15 : 31);
    state.counters["dense_ms"] = denseMs;
    state.counters["ms"] = ms;
    state.counters["x_vs_dense"] = denseMs / ms;
  }
  sparsenn_kernels_force_portable(old);
}

void runKWinners(benchmark::State &state, int64_t n, bool boost, bool ties,
                 bool portable) {
  int old = sparsenn_kernels_force_portable(portable);
  // About 1M elements per call; k = 10 % of n, global mode over [B, n].
  const int64_t batch = std::max<int64_t>(1, (int64_t(1) << 20) / n);
  std::vector<float> x = randomVec(batch * n, 11), y(batch * n);
  std::vector<float> duty = randomVec(n, 12);
  for (float &v : duty)
    v = 0.05f + 0.05f * v;
  for (auto _ : state) {
    sparsenn_kwinners_f32(x.data(), y.data(), batch, n, 1, SPARSENN_KW_GLOBAL,
                          n / 10, 0, boost ? duty.data() : nullptr,
                          boost ? 1.5f : 0.0f, ties, 0);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * batch * n);
  state.counters["n"] = static_cast<double>(n);
  sparsenn_kernels_force_portable(old);
}

// Seed 000's sparse CNN layers (conv 1->64 5x5 on 28x28, conv 64->64 5x5 on
// 12x12), weights 90 % sparse, batch 1 and 64.
// ResNet-50 convolution layers at 224x224 input: the dense kernel (the
// dense library) vs sparse taps at 90 % (random unstructured, or the
// SPGC8-aligned preset: whole 1x16 input-channel groups), on the current
// thread count (SPARSENN_NUM_THREADS) and SIMD target
// (SPARSENN_KERNEL_TARGET). Counters: ms, dense_ms, x_vs_dense, GMAC/s of
// the sparse kernel (non-zero MACs).
struct ResNetConv {
  const char *name;
  int64_t cIn, hw, cOut, k, stride, pad;
};
const ResNetConv kResNetConvs[] = {
    {"stem7x7s2_3to64_224", 3, 224, 64, 7, 2, 3},
    {"1x1_64to256_56", 64, 56, 256, 1, 1, 0},
    {"1x1_256to64_56", 256, 56, 64, 1, 1, 0},
    {"3x3_64to64_56", 64, 56, 64, 3, 1, 1},
    {"3x3s2_128to128_56", 128, 56, 128, 3, 2, 1},
    {"3x3_128to128_28", 128, 28, 128, 3, 1, 1},
    {"1x1_512to128_28", 512, 28, 128, 1, 1, 0},
    {"3x3_256to256_14", 256, 14, 256, 3, 1, 1},
    {"1x1_1024to256_14", 1024, 14, 256, 1, 1, 0},
    {"1x1_256to1024_14", 256, 14, 1024, 1, 1, 0},
    {"3x3_512to512_7", 512, 7, 512, 3, 1, 1},
    {"1x1_512to2048_7", 512, 7, 2048, 1, 1, 0},
};

void runResNetConv(benchmark::State &state, ResNetConv c, bool grouped,
                   int64_t batch) {
  std::vector<float> w = randomVec(c.cOut * c.cIn * c.k * c.k, 23);
  std::mt19937 g(24);
  std::bernoulli_distribution on(0.1);
  const int64_t kk = c.k * c.k;
  if (grouped) {
    // Groups of 16 input channels at one (o, kh, kw) kept or dropped whole.
    for (int64_t o = 0; o < c.cOut; ++o)
      for (int64_t c0 = 0; c0 < c.cIn; c0 += 16)
        for (int64_t t = 0; t < kk; ++t) {
          bool keep = on(g);
          for (int64_t ci = c0; ci < std::min(c.cIn, c0 + 16); ++ci)
            if (!keep)
              w[(o * c.cIn + ci) * kk + t] = 0.0f;
        }
  } else {
    for (float &v : w)
      if (!on(g))
        v = 0.0f;
  }
  std::vector<int32_t> ptr(c.cOut + 1);
  int64_t nt = 0;
  sparsenn_pack_conv2d_taps_f32(w.data(), c.cOut, c.cIn, c.k, c.k, ptr.data(),
                                nullptr, nullptr, &nt);
  std::vector<int32_t> idx(nt > 0 ? nt : 1);
  std::vector<float> val(nt > 0 ? nt : 1);
  sparsenn_pack_conv2d_taps_f32(w.data(), c.cOut, c.cIn, c.k, c.k, ptr.data(),
                                idx.data(), val.data(), &nt);
  std::vector<float> x = randomVec(batch * c.cIn * c.hw * c.hw, 25);
  int64_t oh =
      sparsenn_conv2d_output_size(c.hw, c.k, c.stride, c.pad, c.pad, 1);
  std::vector<float> y(batch * c.cOut * oh * oh), bias = randomVec(c.cOut, 26);
  auto dense = [&] {
    sparsenn_conv2d_dense_const_f32(x.data(), batch, c.cIn, c.hw, c.hw,
                                    w.data(), c.cOut, c.k, c.k, bias.data(),
                                    c.stride, c.stride, c.pad, c.pad, c.pad,
                                    c.pad, 1, 1, 1, y.data());
  };
  // As compiled code calls it (constant taps: the re-sorted copy is kept).
  auto sp = [&] {
    sparsenn_conv2d_sparse_const_f32(
        x.data(), batch, c.cIn, c.hw, c.hw, ptr.data(), idx.data(), val.data(),
        c.cOut, c.k, c.k, bias.data(), c.stride, c.stride, c.pad, c.pad, c.pad,
        c.pad, 1, 1, 1, y.data());
  };
  for (auto _ : state) {
    sp();
    benchmark::DoNotOptimize(y.data());
  }
  const int reps = batch == 1 ? 15 : 5;
  dense();
  double denseMs = medianMs(dense, reps), ms = medianMs(sp, reps);
  // As in a model: the layer's weights and input evicted by the layers in
  // between (a 64 MiB buffer written before each call, outside the timing,
  // one byte per cache line through the caches: memset of that size uses
  // non-temporal stores, which evict nothing).
  std::vector<double> cold;
  static std::vector<char> evict(64 << 20);
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < evict.size(); i += 64)
      evict[i] = static_cast<char>(evict[i] + r + 1);
    benchmark::DoNotOptimize(evict.data());
    auto a = std::chrono::steady_clock::now();
    sp();
    auto b = std::chrono::steady_clock::now();
    cold.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(cold.begin(), cold.end());
  state.counters["cold_ms"] = cold[cold.size() / 2];
  state.counters["dense_ms"] = denseMs;
  state.counters["ms"] = ms;
  state.counters["x_vs_dense"] = denseMs / ms;
  state.counters["GMACs"] = double(nt) * batch * oh * oh / ms / 1e6;
}

void runConv(benchmark::State &state, int64_t cIn, int64_t hw, bool sparse,
             int64_t batch) {
  const int64_t cOut = 64, k = 5;
  std::vector<float> w = randomVec(cOut * cIn * k * k, 13);
  std::mt19937 g(14);
  std::bernoulli_distribution on(0.1);
  for (float &v : w)
    if (!on(g))
      v = 0.0f;
  std::vector<int32_t> ptr(cOut + 1);
  int64_t nt = 0;
  sparsenn_pack_conv2d_taps_f32(w.data(), cOut, cIn, k, k, ptr.data(), nullptr,
                                nullptr, &nt);
  std::vector<int32_t> idx(nt);
  std::vector<float> val(nt);
  sparsenn_pack_conv2d_taps_f32(w.data(), cOut, cIn, k, k, ptr.data(),
                                idx.data(), val.data(), &nt);
  std::vector<float> x = randomVec(batch * cIn * hw * hw, 15);
  int64_t oh = hw - k + 1;
  std::vector<float> y(batch * cOut * oh * oh);
  auto dense = [&] {
    sparsenn_conv2d_dense_f32(x.data(), batch, cIn, hw, hw, w.data(), cOut, k,
                              k, nullptr, 1, 1, 0, 0, 0, 0, 1, 1, 1, y.data());
  };
  auto sp = [&] {
    sparsenn_conv2d_sparse_f32(x.data(), batch, cIn, hw, hw, ptr.data(),
                               idx.data(), val.data(), cOut, k, k, nullptr, 1,
                               1, 0, 0, 0, 0, 1, 1, 1, y.data());
  };
  for (auto _ : state) {
    if (sparse)
      sp();
    else
      dense();
    benchmark::DoNotOptimize(y.data());
  }
  if (sparse) {
    const int reps = batch == 1 ? 31 : 7;
    double denseMs = medianMs(dense, reps), ms = medianMs(sp, reps);
    state.counters["dense_ms"] = denseMs;
    state.counters["ms"] = ms;
    state.counters["x_vs_dense"] = denseMs / ms;
  }
}

//===----------------------------------------------------------------------===//
// SPGC8: fused tile kernel vs decode at load.
//===----------------------------------------------------------------------===//

struct Spgc8Data {
  // Compressed (what the fused kernel reads).
  std::vector<uint8_t> stream;
  std::vector<int32_t> index;
  std::vector<float> scales;
  // Decoded at load: the dequantised dense weights and their packings.
  std::vector<float> w;
  std::vector<int32_t> rowPtr, blockCols;
  std::vector<float> blockValues;
  int64_t ellK = 0;
  std::vector<float> ellValues;
  std::vector<uint16_t> ellCols;
  std::vector<float> bias;
  double loadMs = 0; // decode + block16 packing, once per model load
};

const Spgc8Data &spgc8Data() {
  static Spgc8Data d = [] {
    Spgc8Data d;
    // Gaussian weights; prune the 90 % of 1x16 groups with the smallest
    // max |w| (the spgc8-aligned quantile preset of sparsenn-prune-weights).
    std::mt19937 g(31);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(kN * kN);
    for (float &v : w)
      v = normal(g);
    const int64_t groups = kN * kN / 16;
    std::vector<float> saliency(groups);
    for (int64_t k = 0; k < groups; ++k) {
      float m = 0;
      for (int64_t j = 0; j < 16; ++j)
        m = std::max(m, std::fabs(w[16 * k + j]));
      saliency[k] = m;
    }
    std::vector<int64_t> order(groups);
    for (int64_t k = 0; k < groups; ++k)
      order[k] = k;
    const int64_t pruned = groups * 9 / 10;
    std::nth_element(order.begin(), order.begin() + pruned, order.end(),
                     [&](int64_t a, int64_t b) {
                       return saliency[a] < saliency[b] ||
                              (saliency[a] == saliency[b] && a < b);
                     });
    for (int64_t k = 0; k < pruned; ++k)
      std::fill(w.begin() + 16 * order[k], w.begin() + 16 * order[k] + 16,
                0.0f);
    // int8 per-row quantisation + tensor stream, as
    // sparsenn-compress-weights does, and the pack-time row index.
    int64_t shape[2] = {kN, kN};
    std::vector<int16_t> q(kN * kN);
    d.scales.resize(kN);
    sparsenn_spgc8_quantize_f32(w.data(), shape, 2, 8, q.data(),
                                d.scales.data());
    size_t size = 0;
    d.stream.resize(sparsenn_spgc8_tensor_stream_max_size(shape, 2, 8, 0));
    sparsenn_spgc8_encode_tensor_stream_i16(
        q.data(), shape, 2, 8, 0, 0, d.stream.data(), d.stream.size(), &size);
    d.stream.resize(size);
    d.index.resize(kN + 1);
    sparsenn_pack_spgc8_index(d.stream.data(), size, kN, kN, 8, 0,
                              d.index.data());
    d.bias = randomVec(kN, 32);

    // Decode at load: the stream back to dequantised floats, then packed.
    auto load = [&] {
      std::vector<int16_t> dq(kN * kN);
      sparsenn_spgc8_decode_tensor_stream_i16(d.stream.data(), d.stream.size(),
                                              shape, 2, 8, 0, 0, dq.data(),
                                              nullptr);
      d.w.resize(kN * kN);
      for (int64_t o = 0; o < kN; ++o)
        for (int64_t i = 0; i < kN; ++i)
          d.w[o * kN + i] = static_cast<float>(dq[o * kN + i]) * d.scales[o];
      int64_t nb = 0;
      d.rowPtr.resize(kN + 1);
      sparsenn_pack_block16_f32(d.w.data(), kN, kN, d.rowPtr.data(), nullptr,
                                nullptr, &nb);
      d.blockCols.resize(nb);
      d.blockValues.resize(nb * 16);
      sparsenn_pack_block16_f32(d.w.data(), kN, kN, d.rowPtr.data(),
                                d.blockCols.data(), d.blockValues.data(), &nb);
    };
    auto t0 = std::chrono::steady_clock::now();
    load();
    auto t1 = std::chrono::steady_clock::now();
    d.loadMs = std::chrono::duration<double, std::milli>(t1 - t0).count();
    sparsenn_pack_ell_f32(d.w.data(), kN, kN, 0, nullptr, nullptr, &d.ellK);
    d.ellValues.resize(kN * d.ellK);
    d.ellCols.resize(kN * d.ellK);
    sparsenn_pack_ell_f32(d.w.data(), kN, kN, 0, d.ellValues.data(),
                          d.ellCols.data(), &d.ellK);
    return d;
  }();
  return d;
}

/// Evicts [p, p + bytes) from every cache level.
void flushRange(const void *p, size_t bytes) {
#if defined(__x86_64__)
  const char *c = static_cast<const char *>(p);
  for (size_t i = 0; i < bytes; i += 64)
    _mm_clflush(c + i);
  _mm_mfence();
#else
  (void)p;
  (void)bytes;
#endif
}

/// One way of running the layer: the call and the weight buffers it reads.
struct Variant {
  std::function<void()> run;
  std::vector<std::pair<const void *, size_t>> weights;
  double bytes() const {
    double b = 0;
    for (const auto &w : weights)
      b += static_cast<double>(w.second);
    return b;
  }
  void flush() const {
    for (const auto &w : weights)
      flushRange(w.first, w.second);
  }
};

template <typename T>
std::pair<const void *, size_t> span(const std::vector<T> &v) {
  return {v.data(), sizeof(T) * v.size()};
}

double medianVariantMs(const Variant &v, bool cold, int reps) {
  std::vector<double> t;
  v.run(); // warm up (page faults, scratch)
  for (int r = 0; r < reps; ++r) {
    if (cold)
      v.flush();
    auto a = std::chrono::steady_clock::now();
    v.run();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Times the fused kernel (or, with `portable`, its portable path) and
/// reports, measured side by side in the same process, the medians of
/// every variant (`*_ms`), the weight bytes each reads (`*_MB`) and the
/// time of each decode-at-load variant over the fused kernel (`*_vs_fused`,
/// > 1: the fused kernel is faster).
void runSpgc8(benchmark::State &state, int64_t batch, bool cold,
              bool portable) {
  const Spgc8Data &d = spgc8Data();
  std::vector<float> x = randomVec(batch * kN, 33), y(batch * kN);
  Variant fused{[&] {
                  sparsenn_linear_spgc8_f32(
                      x.data(), batch, kN, d.stream.data(),
                      static_cast<int64_t>(d.stream.size()), d.index.data(), 8,
                      0, d.scales.data(), kN, kN, d.bias.data(), y.data());
                },
                {span(d.stream), span(d.index), span(d.scales)}};
  Variant block16{[&] {
                    sparsenn_linear_block16_f32(
                        x.data(), batch, kN, d.rowPtr.data(),
                        d.blockCols.data(), d.blockValues.data(), kN,
                        d.bias.data(), y.data());
                  },
                  {span(d.rowPtr), span(d.blockCols), span(d.blockValues)}};
  Variant ell{[&] {
                sparsenn_linear_ell_f32(x.data(), batch, kN, d.ellValues.data(),
                                        d.ellCols.data(), kN, d.ellK,
                                        d.bias.data(), y.data());
              },
              {span(d.ellValues), span(d.ellCols)}};
  Variant dense{[&] {
                  sparsenn_linear_dense_f32(x.data(), batch, kN, d.w.data(), kN,
                                            d.bias.data(), y.data());
                },
                {span(d.w)}};
  int old = sparsenn_kernels_force_portable(portable);
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      fused.flush();
      state.ResumeTiming();
    }
    fused.run();
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const int reps = batch > 1 ? 11 : 31;
  double fusedMs = medianVariantMs(fused, cold, reps);
  sparsenn_kernels_force_portable(0); // baselines: auto-selected kernels
  double block16Ms = medianVariantMs(block16, cold, reps);
  double ellMs = medianVariantMs(ell, cold, reps);
  double denseMs = medianVariantMs(dense, cold, batch > 1 ? 5 : 15);
  sparsenn_kernels_force_portable(old);
  state.counters["fused_ms"] = fusedMs;
  state.counters["block16_ms"] = block16Ms;
  state.counters["ell_ms"] = ellMs;
  state.counters["dense_ms"] = denseMs;
  state.counters["block16_vs_fused"] = block16Ms / fusedMs;
  state.counters["ell_vs_fused"] = ellMs / fusedMs;
  state.counters["dense_vs_fused"] = denseMs / fusedMs;
  state.counters["fused_MB"] = fused.bytes() / 1e6;
  state.counters["block16_MB"] = block16.bytes() / 1e6;
  state.counters["ell_MB"] = ell.bytes() / 1e6;
  state.counters["dense_MB"] = dense.bytes() / 1e6;
  state.counters["load_ms"] = d.loadMs;
}

void registerAll() {
  struct L {
    const char *name;
    Kind kind;
  };
  const L kinds[] = {
      {"dense", Kind::Dense}, {"ell", Kind::Ell}, {"block16", Kind::Block16}};
  for (int64_t batch : {1, 64})
    for (const L &l : kinds) {
      std::string name = std::string("linear4096/") + l.name +
                         "/batch:" + std::to_string(batch);
      benchmark::RegisterBenchmark(name.c_str(), runLinear, l.kind, batch,
                                   false)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  benchmark::RegisterBenchmark("linear4096/ell_portable/batch:1", runLinear,
                               Kind::Ell, 1, true)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("linear4096/sparse_sparse/batch:1", runLinear,
                               Kind::SparseSparse, 1, false)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  for (int64_t batch : {1, 8, 16, 32, 64})
    for (bool cold : {false, true}) {
      std::string name = "spgc8_linear4096/batch:" + std::to_string(batch) +
                         (cold ? "/cold" : "/warm");
      benchmark::RegisterBenchmark(name.c_str(), runSpgc8, batch, cold, false)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  benchmark::RegisterBenchmark("spgc8_linear4096/batch:1/warm/portable",
                               runSpgc8, 1, false, true)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  for (int64_t n : {2048, 8192, 65536}) {
    std::string base = "kwinners/n:" + std::to_string(n);
    benchmark::RegisterBenchmark(base.c_str(), runKWinners, n, false, false,
                                 false)
        ->UseRealTime();
    benchmark::RegisterBenchmark((base + "/boost_ties").c_str(), runKWinners, n,
                                 true, true, false)
        ->UseRealTime();
    benchmark::RegisterBenchmark((base + "/portable").c_str(), runKWinners, n,
                                 false, false, true)
        ->UseRealTime();
  }
  for (int64_t batch : {1, 32})
    for (const ResNetConv &c : kResNetConvs)
      for (bool grouped : {false, true})
        benchmark::RegisterBenchmark(
            (std::string("resnet50_conv/") + c.name + "/b" +
             std::to_string(batch) +
             (grouped ? "/spgc8_groups" : "/unstructured"))
                .c_str(),
            runResNetConv, c, grouped, batch)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
  for (int64_t batch : {1, 64}) {
    std::string b = "/b" + std::to_string(batch);
    benchmark::RegisterBenchmark(("conv5x5/1to64_28x28" + b + "/dense").c_str(),
                                 runConv, 1, 28, false, batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("conv5x5/1to64_28x28" + b + "/sparse").c_str(), runConv, 1, 28, true,
        batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("conv5x5/64to64_12x12" + b + "/dense").c_str(), runConv, 64, 12, false,
        batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("conv5x5/64to64_12x12" + b + "/sparse").c_str(), runConv, 64, 12, true,
        batch)
        ->UseRealTime();
  }
}

} // namespace

int main(int argc, char **argv) {
  std::printf("kernels_bench: %d thread(s) (SPARSENN_NUM_THREADS), SIMD "
              "target %s (SPARSENN_KERNEL_TARGET), hand-written AVX-512 "
              "paths %s, dense library %s\n",
              sparsenn_get_num_threads(), sparsenn_kernels_current_target(),
              sparsenn_kernels_using_avx512() ? "on" : "off",
              sparsenn_dense_backend());
  registerAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
