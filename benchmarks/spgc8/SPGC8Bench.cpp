//===- SPGC8Bench.cpp - SPGC8 throughput and compression ratio ------------===//
//
// docs/performance.md, "SPGC8 codec": int8, 4096 x 4096 weights, single
// thread. Three weight sets: dense Gaussian (quantised per row), 90%
// unstructured sparsity, and 90% sparsity in aligned groups of 16 (all-zero
// groups, seed 003 [0168]).
// Reports coefficients/s (items_per_second) and, as counters, the ratio of
// raw int8 bytes to the raw SPGC8 stream and to the whole container.
//
//   build/bin/spgc8_bench --benchmark_counters_tabular=true
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/SPGC8.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <vector>

namespace {

constexpr int64_t kRows = 4096, kCols = 4096;

enum Dataset { Dense = 0, Unstructured90 = 1, Group90 = 2 };
const char *kNames[] = {"dense_gaussian", "unstructured_90", "group16_90"};

struct Data {
  std::vector<int8_t> values;
  std::vector<uint8_t> stream; // tensor stream (raw stream of padded rows)
  size_t containerBytes = 0;
  bool interleave = false;
};

Data make(Dataset which, bool interleave) {
  std::mt19937 rng(1234 + which);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  size_t n = static_cast<size_t>(kRows * kCols);
  std::vector<float> w(n);
  for (auto &x : w)
    x = gauss(rng);
  if (which == Unstructured90) {
    std::bernoulli_distribution prune(0.9);
    for (auto &x : w)
      if (prune(rng))
        x = 0.0f;
  } else if (which == Group90) {
    std::bernoulli_distribution prune(0.9);
    for (size_t g = 0; g < n; g += 16)
      if (prune(rng))
        for (size_t i = g; i < g + 16; ++i)
          w[i] = 0.0f;
  }
  int64_t shape[2] = {kRows, kCols};
  std::vector<int16_t> q(n);
  std::vector<float> scales(kRows);
  sparsenn_spgc8_quantize_f32(w.data(), shape, 2, 8, q.data(), scales.data());
  Data d;
  d.interleave = interleave;
  d.values.assign(q.begin(), q.end());
  d.stream.resize(sparsenn_spgc8_tensor_stream_max_size(shape, 2, 8, interleave));
  size_t size = 0;
  if (sparsenn_spgc8_encode_tensor_stream_i8(d.values.data(), shape, 2, 8, interleave, 0,
                                    d.stream.data(), d.stream.size(),
                                    &size) != SPARSENN_OK)
    std::abort();
  d.stream.resize(size);
  std::vector<uint8_t> box(
      sparsenn_spgc8_container_max_size(shape, 2, 8, interleave, 1));
  if (sparsenn_spgc8_container_encode(q.data(), SPARSENN_SPGC8_DTYPE_I16, shape, 2, 8, interleave,
                             0, scales.data(), box.data(), box.size(),
                             &d.containerBytes) != SPARSENN_OK)
    std::abort();
  return d;
}

const Data &get(Dataset which, bool interleave) {
  static Data cache[3][2];
  static bool ready[3][2] = {};
  if (!ready[which][interleave]) {
    cache[which][interleave] = make(which, interleave);
    ready[which][interleave] = true;
  }
  return cache[which][interleave];
}

void setCounters(benchmark::State &state, const Data &d) {
  double raw = static_cast<double>(d.values.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(d.values.size()));
  state.counters["ratio_stream"] = raw / static_cast<double>(d.stream.size());
  state.counters["ratio_container"] =
      raw / static_cast<double>(d.containerBytes);
  state.counters["growth_pct"] =
      100.0 * (static_cast<double>(d.stream.size()) / raw - 1.0);
}

void BM_Encode(benchmark::State &state) {
  const Data &d = get(static_cast<Dataset>(state.range(0)), state.range(1));
  std::vector<uint8_t> out(sparsenn_spgc8_raw_max_size(d.values.size(), 8, 1));
  for (auto _ : state) {
    size_t size = 0;
    sparsenn_spgc8_encode_raw_i8(d.values.data(), d.values.size(), 8, d.interleave, 0,
                        out.data(), out.size(), &size);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(kNames[state.range(0)]);
  setCounters(state, d);
}

void BM_Decode(benchmark::State &state) {
  const Data &d = get(static_cast<Dataset>(state.range(0)), state.range(1));
  sparsenn_spgc8_impl impl = static_cast<sparsenn_spgc8_impl>(state.range(2));
  if (!sparsenn_spgc8_impl_available(impl)) {
    state.SkipWithError("implementation not available on this CPU");
    return;
  }
  std::vector<int8_t> out(d.values.size());
  for (auto _ : state) {
    size_t consumed = 0;
    sparsenn_status st = sparsenn_spgc8_decode_raw_i8_impl(d.stream.data(), d.stream.size(),
                                               d.values.size(), 8, d.interleave,
                                               0, out.data(), &consumed, impl);
    if (st != SPARSENN_OK) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  if (out != d.values)
    state.SkipWithError("decode mismatch");
  state.SetLabel(std::string(kNames[state.range(0)]) + "/" +
                 sparsenn_spgc8_impl_name(impl));
  setCounters(state, d);
}

void encodeArgs(benchmark::internal::Benchmark *b) {
  b->ArgNames({"data", "interleave"});
  for (int data = 0; data < 3; ++data)
    for (int il = 0; il < 2; ++il)
      b->Args({data, il});
}

void decodeArgs(benchmark::internal::Benchmark *b) {
  b->ArgNames({"data", "interleave", "impl"});
  for (int data = 0; data < 3; ++data)
    for (int il = 0; il < 2; ++il)
      for (int impl : {SPARSENN_SPGC8_IMPL_PORTABLE, SPARSENN_SPGC8_IMPL_AVX512})
        b->Args({data, il, impl});
}

BENCHMARK(BM_Encode)->Apply(encodeArgs)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Apply(decodeArgs)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
