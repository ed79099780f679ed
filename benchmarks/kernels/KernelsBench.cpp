//===- KernelsBench.cpp - fp32 runtime kernel benchmarks ------------------===//
//
// Dense vs ELL (fixed fan-in) vs block-16 linear at 4096x4096, 90 % sparse,
// batch 1 and 64; sparse-sparse (10 % active inputs x 10 % weights) vs dense
// at batch 1; k-winners throughput for n in {2048, 8192, 65536}; sparse vs
// dense conv2d on seed 000's CNN layer shapes. Brief section 7.
//
// Every sparse benchmark also reports `x_vs_dense`: the dense kernel's
// median time over its own median time, both measured in the same process
// right after the timed loop (side by side, same cache state). Single
// thread. Run: kernels_bench --benchmark_counters_tabular=true
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

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
    // The dense baseline always runs the auto-selected (AVX-512) kernel.
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
    sparsenn_conv2d_dense_f32(x.data(), batch, cIn, hw, hw, w.data(), cOut, k, k,
                              nullptr, 1, 1, 0, 0, 0, 0, 1, 1, 1, y.data());
  };
  auto sp = [&] {
    sparsenn_conv2d_sparse_f32(x.data(), batch, cIn, hw, hw, ptr.data(), idx.data(),
                               val.data(), cOut, k, k, nullptr, 1, 1, 0, 0, 0,
                               0, 1, 1, 1, y.data());
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
  for (int64_t batch : {1, 64}) {
    std::string b = "/b" + std::to_string(batch);
    benchmark::RegisterBenchmark(("conv5x5/1to64_28x28" + b + "/dense").c_str(),
                                 runConv, 1, 28, false, batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("conv5x5/1to64_28x28" + b + "/sparse").c_str(),
                                 runConv, 1, 28, true, batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("conv5x5/64to64_12x12" + b + "/dense").c_str(),
                                 runConv, 64, 12, false, batch)
        ->UseRealTime();
    benchmark::RegisterBenchmark(
        ("conv5x5/64to64_12x12" + b + "/sparse").c_str(), runConv, 64, 12, true,
        batch)
        ->UseRealTime();
  }
}

} // namespace

int main(int argc, char **argv) {
  std::printf("kernels_bench: single thread, AVX-512 path %s\n",
              sparsenn_kernels_using_avx512() ? "available" : "unavailable");
  registerAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
