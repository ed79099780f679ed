//===- SparseTaps-inl.h - the inner loop of sparse x dense products -------===//
//
// Per-target Highway code (include after hwy/highway.h inside a
// foreach_target translation unit), shared by the ELL linear kernel and the
// sparse convolution: both sum, for one output, weight · (a row of V vectors
// of the dense operand) over the output's taps. Not installed.
//
//===----------------------------------------------------------------------===//

// Per-target include guard, as Highway's own -inl headers have it.
#if defined(SPARSENN_RUNTIME_SPARSETAPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SPARSENN_RUNTIME_SPARSETAPS_INL_H_
#undef SPARSENN_RUNTIME_SPARSETAPS_INL_H_
#else
#define SPARSENN_RUNTIME_SPARSETAPS_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace sparsenn {
namespace kernels {
namespace HWY_NAMESPACE {

/// a_v += sum over taps t in [t0, t1) of val[t] · row(t)[v · lanes, ...) for
/// v < V (up to 4 vectors; row(t) gives the tap's first float, vector-
/// aligned if Aligned). The even and odd taps go to two FMA chains per
/// vector, added into a_v at the end, so that the FMA latency is hidden;
/// the order of the sums is fixed by the taps alone.
template <int V, bool Aligned, class D, class Row>
HWY_INLINE void
accumulateTaps(D d, const float *HWY_RESTRICT val, int64_t t0, int64_t t1,
               Row row, hwy::HWY_NAMESPACE::Vec<D> &a0,
               hwy::HWY_NAMESPACE::Vec<D> &a1, hwy::HWY_NAMESPACE::Vec<D> &a2,
               hwy::HWY_NAMESPACE::Vec<D> &a3) {
  namespace hn = hwy::HWY_NAMESPACE;
  const size_t n = hn::Lanes(d);
  auto load = [d](const float *p) {
    if constexpr (Aligned)
      return hn::Load(d, p);
    else
      return hn::LoadU(d, p);
  };
  auto b0 = hn::Zero(d), b1 = b0, b2 = b0, b3 = b0;
  int64_t t = t0;
  for (; t + 1 < t1; t += 2) {
    const auto w = hn::Set(d, val[t]), u = hn::Set(d, val[t + 1]);
    const float *p = row(t), *q = row(t + 1);
    a0 = hn::MulAdd(w, load(p), a0);
    b0 = hn::MulAdd(u, load(q), b0);
    if (V > 1) {
      a1 = hn::MulAdd(w, load(p + n), a1);
      b1 = hn::MulAdd(u, load(q + n), b1);
    }
    if (V > 2) {
      a2 = hn::MulAdd(w, load(p + 2 * n), a2);
      b2 = hn::MulAdd(u, load(q + 2 * n), b2);
    }
    if (V > 3) {
      a3 = hn::MulAdd(w, load(p + 3 * n), a3);
      b3 = hn::MulAdd(u, load(q + 3 * n), b3);
    }
  }
  if (t < t1) {
    const auto w = hn::Set(d, val[t]);
    const float *p = row(t);
    a0 = hn::MulAdd(w, load(p), a0);
    if (V > 1)
      a1 = hn::MulAdd(w, load(p + n), a1);
    if (V > 2)
      a2 = hn::MulAdd(w, load(p + 2 * n), a2);
    if (V > 3)
      a3 = hn::MulAdd(w, load(p + 3 * n), a3);
  }
  a0 = hn::Add(a0, b0);
  if (V > 1)
    a1 = hn::Add(a1, b1);
  if (V > 2)
    a2 = hn::Add(a2, b2);
  if (V > 3)
    a3 = hn::Add(a3, b3);
}

} // namespace HWY_NAMESPACE
} // namespace kernels
} // namespace sparsenn
HWY_AFTER_NAMESPACE();

#endif // per-target include guard
