//===- KernelsEpilogue.cpp - residual add and ReLU on layer outputs -------===//
//
// The epilogue y = relu?(y + residual) for kernels that cannot apply it while
// they store (the dense library with a residual, the portable reference
// kernels). One Highway source for every SIMD target; the portable
// reference keeps a plain loop. Fixed chunks on the thread pool: element-
// wise, so results never depend on the thread count.
//
//===----------------------------------------------------------------------===//

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "KernelsEpilogue.cpp"
#include <hwy/foreach_target.h> // IWYU pragma: keep
#include <hwy/highway.h>

#include "KernelsInternal.h"
#include "ThreadPool.h"

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void epilogueChunk(const float *HWY_RESTRICT residual, bool relu,
                   float *HWY_RESTRICT y, int64_t count) {
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const auto zero = hn::Zero(d);
  int64_t i = 0;
  for (; i + n <= count; i += n) {
    auto v = hn::LoadU(d, y + i);
    if (residual)
      v = hn::Add(v, hn::LoadU(d, residual + i));
    if (relu)
      v = hn::Max(zero, v); // a NaN stays NaN, as with arith.maximumf

    hn::StoreU(v, d, y + i);
  }
  for (; i < count; ++i) {
    float v = y[i] + (residual ? residual[i] : 0.0f);
    y[i] = relu && v <= 0.0f ? 0.0f : v;
  }
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(epilogueChunk);

void applyEpilogue(const Epilogue &e, float *y, int64_t count) {
  if (!e.any() || count <= 0)
    return;
  if (portableForced()) {
    for (int64_t i = 0; i < count; ++i) {
      float v = y[i] + (e.residual ? e.residual[i] : 0.0f);
      y[i] = e.relu && v <= 0.0f ? 0.0f : v; // a NaN stays NaN

    }
    return;
  }
  constexpr int64_t kChunk = 16384;
  threads::parallelFor(threads::chunks(count, kChunk), [&](int64_t item) {
    int64_t i0 = item * kChunk;
    HWY_DYNAMIC_DISPATCH(epilogueChunk)(e.residual ? e.residual + i0 : nullptr,
                                        e.relu, y + i0,
                                        std::min(kChunk, count - i0));
  });
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
