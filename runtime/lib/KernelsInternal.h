//===- KernelsInternal.h - shared helpers of the fp32 kernels ---*- C++ -*-===//
//
// Run-time implementation selection (AVX-512 vs portable) and small helpers
// shared by the Kernels*.cpp files. Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_RUNTIME_KERNELSINTERNAL_H
#define SPARSENN_RUNTIME_KERNELSINTERNAL_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#define SPARSENN_KERNELS_X86 1
#include <immintrin.h>
// Everything the AVX-512 paths use; Zen 4/5 and Intel since Skylake-X.
#define SPARSENN_AVX512_TARGET                                                 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,bmi,bmi2,"         \
                        "popcnt,fma")))
#else
#define SPARSENN_KERNELS_X86 0
#endif

namespace sparsenn {
namespace kernels {

/// True when the AVX-512 implementation should run (CPU support and not
/// forced off by sparsenn_kernels_force_portable).
bool useAvx512();

/// 64-byte aligned scratch, freed on scope exit; size 0 is allowed.
class Scratch {
public:
  explicit Scratch(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    ptr = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    failed = rounded && !ptr;
  }
  ~Scratch() { std::free(ptr); }
  Scratch(const Scratch &) = delete;
  Scratch &operator=(const Scratch &) = delete;
  template <typename T> T *as() const { return static_cast<T *>(ptr); }
  bool failed;

private:
  void *ptr;
};

} // namespace kernels
} // namespace sparsenn

#endif // SPARSENN_RUNTIME_KERNELSINTERNAL_H
