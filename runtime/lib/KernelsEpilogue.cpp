//===- KernelsEpilogue.cpp - residual add and ReLU on layer outputs -------===//
//
// The epilogue y = relu?(y + residual) for kernels that cannot apply it while
// they store (the dense library with a residual, the portable reference
// kernels), and the row store with bias and epilogue that the sparse conv
// and the dense 1×1 GEMM apply to each block. One Highway source for every SIMD target; the portable
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

/// dst[i] = relu?(src[i] (+ bias) (+ residual[i])), i < count; src may be
/// dst.
void epilogueRun(const float *src, int64_t count, bool withBias, float bias,
                 const float *residual, bool relu, float *dst) {
  const hn::ScalableTag<float> d;
  const int64_t n = static_cast<int64_t>(hn::Lanes(d));
  const auto b = hn::Set(d, bias), zero = hn::Zero(d);
  int64_t i = 0;
  for (; i + n <= count; i += n) {
    auto v = hn::LoadU(d, src + i);
    if (withBias)
      v = hn::Add(v, b);
    if (residual)
      v = hn::Add(v, hn::LoadU(d, residual + i));
    if (relu)
      v = hn::Max(zero, v); // a NaN stays NaN, as with arith.maximumf
    hn::StoreU(v, d, dst + i);
  }
  for (; i < count; ++i) {
    float v = src[i];
    if (withBias)
      v += bias;
    if (residual)
      v += residual[i];
    dst[i] = relu && v <= 0.0f ? 0.0f : v;
  }
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sparsenn {
namespace kernels {
HWY_EXPORT(epilogueRun);

void storeWithEpilogue(const float *src, int64_t count, float bias,
                       const float *residual, bool relu, float *dst) {
  HWY_DYNAMIC_DISPATCH(epilogueRun)(src, count, true, bias, residual, relu,
                                    dst);
}

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
    HWY_DYNAMIC_DISPATCH(epilogueRun)(y + i0, std::min(kChunk, count - i0),
                                      false, 0.0f,
                                      e.residual ? e.residual + i0 : nullptr,
                                      e.relu, y + i0);
  });
}

} // namespace kernels
} // namespace sparsenn
#endif // HWY_ONCE
