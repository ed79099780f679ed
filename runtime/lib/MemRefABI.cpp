//===- MemRefABI.cpp - runtime entry points for compiled code -------------===//

#include "sparsenn/Runtime/MemRefABI.h"
#include "sparsenn/Runtime/Kernels.h"

#include "KernelsInternal.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

template <typename T> T *data(T *aligned, int64_t offset) {
  return aligned + offset;
}

// The compiler verified the arguments; a failure here is a bug, and
// generated code has no error channel: stop loudly rather than return
// garbage.
void check(int status, const char *what) {
  if (status != 0) {
    std::fprintf(stderr, "sparsenn runtime: %s kernel failed (%d)\n", what,
                 status);
    std::abort();
  }
}

// SPARSENN_PROFILE=1: time every kernel call of compiled code and print, at
// exit, the total per call site kind and shape (stderr), so that a user sees
// where a model spends its time and which kernel each layer got.
class Profile {
public:
  static Profile *get() {
    static Profile *p = [] {
      const char *env = std::getenv("SPARSENN_PROFILE");
      return env && *env && *env != '0' ? new Profile : nullptr;
    }();
    return p;
  }
  void add(const std::string &what, double ms) {
    std::lock_guard<std::mutex> lock(mutex);
    Entry &e = entries[what];
    e.ms += ms;
    ++e.calls;
  }
  ~Profile() = default;

private:
  Profile() { std::atexit([] { get()->print(); }); }
  void print() {
    double total = 0;
    for (auto &[k, e] : entries)
      total += e.ms;
    std::fprintf(stderr, "sparsenn profile: %.3f ms in runtime kernels\n",
                 total);
    std::vector<std::pair<double, std::string>> order;
    for (auto &[k, e] : entries)
      order.push_back({e.ms, k});
    std::sort(order.rbegin(), order.rend());
    for (auto &[ms, k] : order)
      std::fprintf(stderr, "  %9.3f ms %6ld calls  %s\n", ms,
                   entries[k].calls, k.c_str());
  }
  struct Entry {
    double ms = 0;
    long calls = 0;
  };
  std::mutex mutex;
  std::map<std::string, Entry> entries;
};

/// Times the enclosing scope when profiling is on.
class Timed {
public:
  template <typename... Dims>
  Timed(const char *kind, int64_t format, Dims... dims) : profile(Profile::get()) {
    if (!profile)
      return;
    static const char *names[] = {"dense", "ell", "block16", "sparse_sparse",
                                  "spgc8"};
    what = std::string(kind) + " " +
           (format >= 0 && format < 5 ? names[format] : "?");
    for (int64_t d : {static_cast<int64_t>(dims)...})
      what += " " + std::to_string(d);
    start = std::chrono::steady_clock::now();
  }
  ~Timed() {
    if (profile)
      profile->add(what, std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - start)
                             .count());
  }

private:
  Profile *profile;
  std::string what;
  std::chrono::steady_clock::time_point start;
};

} // namespace

extern "C" void _mlir_ciface_sparsenn_rt_linear_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib,
    sparsenn_memref_i16_1d *cols16, int64_t format, int64_t batch, int64_t in,
    int64_t out, int64_t k) {
  const float *xp = data(x->aligned, x->offset);
  float *yp = data(y->aligned, y->offset);
  const float *b =
      bias->sizes[0] > 0 ? data(bias->aligned, bias->offset) : nullptr;
  const float *v = data(values->aligned, values->offset);
  const int32_t *a = data(ia->aligned, ia->offset);
  const int32_t *c = data(ib->aligned, ib->offset);
  Timed timed("linear", format, batch, in, out);
  switch (format) {
  case SPARSENN_FORMAT_DENSE:
    return check(sparsenn_linear_dense_f32(xp, batch, in, v, out, b, yp),
                 "dense linear");
  case SPARSENN_FORMAT_ELL:
    return check(sparsenn_linear_ell_f32(xp, batch, in, v,
                                         data(cols16->aligned, cols16->offset),
                                         out, k, b, yp),
                 "ELL linear");
  case SPARSENN_FORMAT_BLOCK16:
    return check(
        sparsenn_linear_block16_f32(xp, batch, in, a, c, v, out, b, yp),
        "block16 linear");
  case SPARSENN_FORMAT_SPARSE_SPARSE:
    return check(
        sparsenn_linear_sparse_sparse_f32(xp, batch, in, a, c, v, out, b, yp),
        "sparse-sparse linear");
  default:
    check(-1, "linear (unknown format)");
  }
}

extern "C" void _mlir_ciface_sparsenn_rt_linear_spgc8_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_i8_1d *stream,
    sparsenn_memref_f32_1d *scales, sparsenn_memref_i32_1d *row_offsets,
    int64_t batch, int64_t in, int64_t out, int64_t bits, int64_t interleave) {
  const float *b =
      bias->sizes[0] > 0 ? data(bias->aligned, bias->offset) : nullptr;
  Timed timed("linear", 4, batch, in, out);
  // The stream was verified and its index built at compile time, so an
  // error here means damaged memory.
  check(sparsenn_linear_spgc8_f32(
            data(x->aligned, x->offset), batch, in,
            data(stream->aligned, stream->offset), stream->sizes[0],
            data(row_offsets->aligned, row_offsets->offset),
            static_cast<int>(bits), static_cast<int>(interleave),
            data(scales->aligned, scales->offset), scales->sizes[0], out, b,
            data(y->aligned, y->offset)),
        "SPGC8 linear");
}

extern "C" void _mlir_ciface_sparsenn_rt_kwinners_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *duty, int64_t batch, int64_t channels,
    int64_t spatial, int64_t mode, int64_t k, int64_t group_size,
    float boost_strength, int64_t break_ties, int64_t relu) {
  const float *dutyData =
      duty->sizes[0] > 0 ? duty->aligned + duty->offset : nullptr;
  Timed timed("kwinners", -1, batch, channels, spatial, k);
  int status = sparsenn_kwinners_f32(
      x->aligned + x->offset, y->aligned + y->offset, batch, channels, spatial,
      static_cast<int>(mode), k, group_size, dutyData, boost_strength,
      static_cast<int>(break_ties), static_cast<int>(relu));
  check(status, "k-winners");
}

extern "C" void _mlir_ciface_sparsenn_rt_pool2d_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y, int64_t mode,
    int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float pad_value, float init) {
  Timed timed(mode == SPARSENN_POOL_MAX ? "maxpool" : "sumpool", -1, n, c, h, w,
              kh, kw, stride_h);
  check(sparsenn_pool2d_f32(data(x->aligned, x->offset), n, c, h, w, kh, kw,
                            stride_h, stride_w, pad_top, pad_bottom, pad_left,
                            pad_right, dil_h, dil_w, static_cast<int>(mode),
                            pad_value, init, data(y->aligned, y->offset)),
        "pool2d");
}

namespace {
// The conv2d entries on compiled-constant weights: dense weights or sparse
// taps, with or without an epilogue.
void constantConv(sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
                  sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
                  sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib,
                  const sparsenn::kernels::Epilogue &ep, const char *label,
                  int64_t format, int64_t n, int64_t c_in, int64_t h, int64_t w,
                  int64_t c_out, int64_t kh, int64_t kw, int64_t stride_h,
                  int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                  int64_t pad_left, int64_t pad_right, int64_t dil_h,
                  int64_t dil_w, int64_t groups) {
  const float *xp = data(x->aligned, x->offset);
  float *yp = data(y->aligned, y->offset);
  const float *b =
      bias->sizes[0] > 0 ? data(bias->aligned, bias->offset) : nullptr;
  const float *v = data(values->aligned, values->offset);
  Timed timed(label, format, n, c_in, h, w, c_out, kh, kw, stride_h, groups);
  if (format == SPARSENN_FORMAT_DENSE)
    return check(sparsenn::kernels::conv2dDense(
                     xp, n, c_in, h, w, v, c_out, kh, kw, b, stride_h,
                     stride_w, pad_top, pad_bottom, pad_left, pad_right, dil_h,
                     dil_w, groups, yp, /*constant=*/true, ep),
                 "dense conv2d");
  check(sparsenn::kernels::conv2dSparse(
            xp, n, c_in, h, w, data(ia->aligned, ia->offset),
            data(ib->aligned, ib->offset), v, c_out, kh, kw, b, stride_h,
            stride_w, pad_top, pad_bottom, pad_left, pad_right, dil_h, dil_w,
            groups, yp, /*constant=*/true, ep),
        "sparse conv2d");
}
} // namespace

extern "C" void _mlir_ciface_sparsenn_rt_conv2d_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib, int64_t format,
    int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh,
    int64_t kw, int64_t stride_h, int64_t stride_w, int64_t pad_top,
    int64_t pad_bottom, int64_t pad_left, int64_t pad_right, int64_t dil_h,
    int64_t dil_w, int64_t groups) {
  constantConv(x, y, bias, values, ia, ib, sparsenn::kernels::Epilogue{},
               "conv2d", format, n, c_in, h, w, c_out, kh, kw, stride_h,
               stride_w, pad_top, pad_bottom, pad_left, pad_right, dil_h, dil_w,
               groups);
}

extern "C" void _mlir_ciface_sparsenn_rt_conv2d_fused_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib,
    sparsenn_memref_f32_1d *residual, int64_t format, int64_t relu, int64_t n,
    int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    int64_t groups) {
  sparsenn::kernels::Epilogue ep;
  ep.residual = residual->sizes[0] > 0
                    ? data(residual->aligned, residual->offset)
                    : nullptr;
  ep.relu = relu != 0;
  constantConv(x, y, bias, values, ia, ib, ep,
               ep.residual ? (ep.relu ? "conv2d+add+relu" : "conv2d+add")
                           : "conv2d+relu",
               format, n, c_in, h, w, c_out, kh, kw, stride_h, stride_w,
               pad_top, pad_bottom, pad_left, pad_right, dil_h, dil_w, groups);
}

/// Above this density, run-time weights of an `ell` conv2d take the dense
/// engine.
constexpr double kRuntimeSparseDensity = 0.2;

extern "C" void _mlir_ciface_sparsenn_rt_conv2d_runtime_weights_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *weights,
    int64_t format, int64_t n, int64_t c_in, int64_t h, int64_t w,
    int64_t c_out, int64_t kh, int64_t kw, int64_t stride_h, int64_t stride_w,
    int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
    int64_t dil_h, int64_t dil_w, int64_t groups) {
  const float *xp = data(x->aligned, x->offset);
  float *yp = data(y->aligned, y->offset);
  const float *b =
      bias->sizes[0] > 0 ? data(bias->aligned, bias->offset) : nullptr;
  const float *wp = data(weights->aligned, weights->offset);
  Timed timed("conv2d(run-time weights)", format, n, c_in, h, w, c_out, kh,
              kw, stride_h, groups);
  if (format == SPARSENN_FORMAT_DENSE || groups <= 0 || c_in % groups != 0)
    return check(sparsenn_conv2d_dense_f32(xp, n, c_in, h, w, wp, c_out, kh, kw,
                                           b, stride_h, stride_w, pad_top,
                                           pad_bottom, pad_left, pad_right,
                                           dil_h, dil_w, groups, yp),
                 "dense conv2d");
  // Packed at every call: the weights change between calls, their packing
  // costs one pass over them, small next to the convolution. The buffers
  // only grow, so a training loop allocates once.
  thread_local std::vector<int32_t> tapPtr, tapIdx;
  thread_local std::vector<float> tapVal;
  int64_t perGroup = c_in / groups, taps = 0;
  tapPtr.resize(c_out + 1);
  check(sparsenn_pack_conv2d_taps_f32(wp, c_out, perGroup, kh, kw,
                                      tapPtr.data(), nullptr, nullptr, &taps),
        "conv2d tap packing");
  // Weights that turn out dense enough (a learned layer early in training)
  // run faster on the dense engine: on US 2025/0252312 A1's CNN at batch 64
  // the sparse-tap kernel at 50 % density took 2x the dense one
  // (docs/performance.md, "Training step").
  if (taps > kRuntimeSparseDensity * static_cast<double>(c_out * perGroup * kh *
                                                         kw))
    return check(sparsenn_conv2d_dense_f32(xp, n, c_in, h, w, wp, c_out, kh,
                                           kw, b, stride_h, stride_w, pad_top,
                                           pad_bottom, pad_left, pad_right,
                                           dil_h, dil_w, groups, yp),
                 "dense conv2d");
  // At least one element, so that data() is never null for an all-zero layer.
  tapIdx.resize(taps > 0 ? taps : 1);
  tapVal.resize(taps > 0 ? taps : 1);
  check(sparsenn_pack_conv2d_taps_f32(wp, c_out, perGroup, kh, kw,
                                      tapPtr.data(), tapIdx.data(),
                                      tapVal.data(), &taps),
        "conv2d tap packing");
  check(sparsenn_conv2d_sparse_f32(xp, n, c_in, h, w, tapPtr.data(),
                                   tapIdx.data(), tapVal.data(), c_out, kh, kw,
                                   b, stride_h, stride_w, pad_top, pad_bottom,
                                   pad_left, pad_right, dil_h, dil_w, groups,
                                   yp),
        "sparse conv2d");
}

extern "C" void _mlir_ciface_sparsenn_rt_conv2d_backward_input_f32(
    sparsenn_memref_f32_1d *dy, sparsenn_memref_f32_1d *dx,
    sparsenn_memref_f32_1d *weights, int64_t n, int64_t c_in, int64_t h,
    int64_t w, int64_t c_out, int64_t kh, int64_t kw, int64_t stride_h,
    int64_t stride_w, int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
    int64_t pad_right, int64_t dil_h, int64_t dil_w) {
  Timed timed("conv2d backward input", SPARSENN_FORMAT_DENSE, n, c_in, h, w,
              c_out, kh, kw, stride_h);
  check(sparsenn_conv2d_backward_input_f32(
            data(dy->aligned, dy->offset), n, c_in, h, w,
            data(weights->aligned, weights->offset), c_out, kh, kw, stride_h,
            stride_w, pad_top, pad_bottom, pad_left, pad_right, dil_h, dil_w,
            data(dx->aligned, dx->offset)),
        "conv2d input gradient");
}

extern "C" void _mlir_ciface_sparsenn_rt_conv2d_backward_weight_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *dy,
    sparsenn_memref_f32_1d *dw, sparsenn_memref_f32_1d *mask, int64_t n,
    int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w) {
  const float *m =
      mask->sizes[0] > 0 ? data(mask->aligned, mask->offset) : nullptr;
  Timed timed("conv2d backward weight",
              m ? SPARSENN_FORMAT_ELL : SPARSENN_FORMAT_DENSE, n, c_in, h, w,
              c_out, kh, kw, stride_h);
  check(sparsenn_conv2d_backward_weight_f32(
            data(x->aligned, x->offset), n, c_in, h, w,
            data(dy->aligned, dy->offset), c_out, kh, kw, m, stride_h,
            stride_w, pad_top, pad_bottom, pad_left, pad_right, dil_h, dil_w,
            data(dw->aligned, dw->offset)),
        "conv2d weight gradient");
}

extern "C" void _mlir_ciface_sparsenn_rt_gemm_f32(
    sparsenn_memref_f32_1d *a, sparsenn_memref_f32_1d *b,
    sparsenn_memref_f32_1d *c, int64_t trans_a, int64_t trans_b, int64_t m,
    int64_t n, int64_t k, int64_t accumulate) {
  Timed timed("gemm", SPARSENN_FORMAT_DENSE, trans_a, trans_b, m, n, k);
  check(sparsenn_gemm_f32(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k,
                          data(a->aligned, a->offset), trans_a ? m : k,
                          data(b->aligned, b->offset), trans_b ? k : n,
                          accumulate ? 1.0f : 0.0f,
                          data(c->aligned, c->offset), n),
        "gemm");
}

extern "C" const sparsenn_runtime_symbol *sparsenn_runtime_symbols(size_t *count) {
#define SPARSENN_SYMBOL(fn) {#fn, reinterpret_cast<void *>(&fn)}
  static const sparsenn_runtime_symbol symbols[] = {
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_linear_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_linear_spgc8_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_kwinners_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_conv2d_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_conv2d_fused_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_conv2d_runtime_weights_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_conv2d_backward_input_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_conv2d_backward_weight_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_gemm_f32),
      SPARSENN_SYMBOL(_mlir_ciface_sparsenn_rt_pool2d_f32),
      SPARSENN_SYMBOL(sparsenn_set_num_threads),
      SPARSENN_SYMBOL(sparsenn_get_num_threads),
  };
#undef SPARSENN_SYMBOL
  *count = sizeof(symbols) / sizeof(symbols[0]);
  return symbols;
}
