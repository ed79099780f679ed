//===- KernelsTestUtil.h - helpers for the kernel unit tests ----*- C++ -*-===//

#ifndef SPARSENN_TEST_KERNELSTESTUTIL_H
#define SPARSENN_TEST_KERNELSTESTUTIL_H

#include "sparsenn/Runtime/Kernels.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kt {

/// The implementations a test runs on: every SIMD target the runtime was
/// compiled for and this CPU supports (Highway's names: "AVX3_DL", "AVX3"
/// (AVX-512), "AVX2", "SSE4", "SSSE3", "NEON", "EMU128", ...), and
/// "portable", the scalar reference kernels. Printed once, so that a log
/// shows which ran.
/// SPARSENN_TEST_TARGETS=NEON,portable (a comma-separated list) restricts
/// it, for emulators where some targets are slow (SVE under qemu-user).
inline std::vector<std::string> isas() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> l;
    for (int i = 0; i < sparsenn_kernels_target_count(); ++i)
      l.push_back(sparsenn_kernels_target_name(i));
    l.push_back("portable");
    if (const char *only = std::getenv("SPARSENN_TEST_TARGETS")) {
      std::string wanted = std::string(",") + only + ",";
      std::vector<std::string> kept;
      for (const std::string &n : l)
        if (wanted.find("," + n + ",") != std::string::npos)
          kept.push_back(n);
      l = kept;
    }
    std::string all;
    for (const std::string &n : l)
      all += " " + n;
    std::printf("[ kernels ] targets on this CPU:%s (dense library: %s)\n",
                all.c_str(), sparsenn_dense_backend());
    return l;
  }();
  return list;
}

/// Selects an implementation for the scope; returns false when unavailable.
class IsaScope {
public:
  explicit IsaScope(const std::string &isa) {
    old = sparsenn_kernels_force_portable(isa == "portable");
    ok = isa == "portable" ||
         sparsenn_kernels_select_target(isa.c_str()) == SPARSENN_OK;
  }
  ~IsaScope() {
    sparsenn_kernels_force_portable(old);
    sparsenn_kernels_select_target(nullptr);
  }
  bool ok;

private:
  int old;
};

/// Runs the kernels on `threads` threads for the scope.
class ThreadsScope {
public:
  explicit ThreadsScope(int threads) : old(sparsenn_get_num_threads()) {
    sparsenn_set_num_threads(threads);
  }
  ~ThreadsScope() { sparsenn_set_num_threads(old); }

private:
  int old;
};

/// Runs dense layers on the builtin kernels instead of the dense library
/// (oneDNN) for the scope.
class BuiltinDenseScope {
public:
  BuiltinDenseScope() : old(sparsenn_dense_library_enable(0)) {}
  ~BuiltinDenseScope() { sparsenn_dense_library_enable(old); }

private:
  int old;
};

#define KT_REQUIRE_ISA(scope, isa)                                             \
  kt::IsaScope scope(isa);                                                     \
  if (!scope.ok)                                                               \
  GTEST_SKIP() << (isa) << " implementation not available on this CPU"

inline std::vector<float> randomVec(std::mt19937 &g, size_t n, float lo = -1,
                                    float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float &f : v)
    f = d(g);
  return v;
}

/// fp32 sums are compared to a double-precision reference with relative
/// tolerance 1e-5 of the sum of |terms| (plus 1e-6 absolute).
inline void expectClose(const std::vector<float> &got,
                        const std::vector<double> &ref,
                        const std::vector<double> &mag,
                        const std::string &what) {
  ASSERT_EQ(got.size(), ref.size());
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 5; ++i) {
    double tol = 1e-5 * mag[i] + 1e-6;
    if (!(std::fabs(got[i] - ref[i]) <= tol)) {
      ADD_FAILURE() << what << ": element " << i << " got " << got[i]
                    << " expected " << ref[i] << " (tol " << tol << ")";
      ++bad;
    }
  }
}

} // namespace kt

#endif // SPARSENN_TEST_KERNELSTESTUTIL_H
