//===- DenseLibrary.cpp - dense layers through oneDNN ---------------------===//
//
// Why oneDNN: of Debian's dense libraries it is the one with NCHW
// convolutions (XNNPACK is NHWC-only), grouped and depthwise included, and
// its JIT picks the best kernels for the CPU it runs on (AVX2, AVX-512,
// AMX; aarch64 through its reference and ACL-free JIT). Measurements in
// docs/performance.md, "Dense layers".
//
// Linear: dnnl_sgemm on fixed column blocks of W, run on our thread pool,
// so that every output element is computed the same way for any thread
// count. A 1×1 convolution without padding: dnnl_sgemm per image on the
// NCHW tensors in place (conv1x1Gemm below). Any other conv2d: a
// convolution primitive with weights in the layout oneDNN prefers
// (reordered once for compiled constants, cached by address, shape and a
// fingerprint of the values) and NCHW activations reordered in and out of
// its blocked layout; oneDNN's own OpenMP threads run it, with as
// many threads as sparsenn_set_num_threads says (its forward convolutions
// never split a reduction across threads, so results do not depend on the
// count; test/unit/RuntimeKernels checks 1, 2 and 3 threads bit for bit).
//
//===----------------------------------------------------------------------===//

#include "DenseLibrary.h"

#include "ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#ifdef SPARSENN_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

// libgomp's, declared here so that no -fopenmp is needed to build.
extern "C" void omp_set_num_threads(int);
#endif

using namespace sparsenn;

namespace {
std::atomic<bool> libraryEnabled{true};
} // namespace

extern "C" int sparsenn_dense_library_enable(int enable) {
  return libraryEnabled.exchange(enable != 0) ? 1 : 0;
}

#ifndef SPARSENN_WITH_ONEDNN

bool dense::linear(const float *, int64_t, int64_t, const float *, int64_t,
                   const float *, float *) {
  return false;
}
bool dense::conv2d(const Conv2DParams &, const float *, const float *,
                   const float *, float *, bool, const kernels::Epilogue &) {
  return false;
}
bool dense::gemm(char, char, int64_t, int64_t, int64_t, const float *,
                 int64_t, const float *, int64_t, float, float *, int64_t) {
  return false;
}
const char *dense::backendName() { return "builtin"; }

#else

namespace {

// Columns of W per work item: large enough for the GEMM to run at speed,
// small enough that 4096-wide layers give every thread several items.
constexpr int64_t kLinearColumns = 128;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

using ConvKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, bool, bool, const float *, uint64_t>;

struct ConvPlan {
  std::mutex mutex; // one call at a time uses the scratch memories
  dnnl::convolution_forward conv;
  dnnl::memory src, dst, weights, bias;        // in the primitive's layouts
  dnnl::memory userSrc, userDst, userWeights;  // NCHW / OIHW (handles set per call)
  bool srcReorder = false, dstReorder = false, weightReorder = false;
  bool weightsReady = false;
  dnnl::reorder toSrc, toDst, toWeights;
};

std::mutex cacheMutex;
std::map<ConvKey, std::unique_ptr<ConvPlan>> &cache() {
  static std::map<ConvKey, std::unique_ptr<ConvPlan>> plans;
  return plans;
}

std::unique_ptr<ConvPlan> makePlan(const dense::Conv2DParams &p,
                                   bool hasBias, bool relu) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::engine &eng = cpuEngine();
  dnnl::memory::dims src = {p.n, p.cIn, p.h, p.w};
  dnnl::memory::dims dst = {p.n, p.cOut, p.oh, p.ow};
  dnnl::memory::dims wts =
      p.groups == 1
          ? dnnl::memory::dims{p.cOut, p.cIn, p.kh, p.kw}
          : dnnl::memory::dims{p.groups, p.cOut / p.groups, p.cIn / p.groups,
                               p.kh, p.kw};
  tag userWeightTag = p.groups == 1 ? tag::oihw : tag::goihw;
  auto anySrc = dnnl::memory::desc(src, dt::f32, tag::any);
  auto anyDst = dnnl::memory::desc(dst, dt::f32, tag::any);
  auto anyWts = dnnl::memory::desc(wts, dt::f32, tag::any);
  auto biasMd = dnnl::memory::desc({p.cOut}, dt::f32, tag::x);
  dnnl::memory::dims strides = {p.sh, p.sw}, dil = {p.dh - 1, p.dw - 1},
                     padL = {p.pt, p.pl}, padR = {p.pb, p.pr};
  auto desc =
      hasBias ? dnnl::convolution_forward::desc(
                    dnnl::prop_kind::forward_inference,
                    dnnl::algorithm::convolution_direct, anySrc, anyWts,
                    biasMd, anyDst, strides, dil, padL, padR)
              : dnnl::convolution_forward::desc(
                    dnnl::prop_kind::forward_inference,
                    dnnl::algorithm::convolution_direct, anySrc, anyWts,
                    anyDst, strides, dil, padL, padR);
  // ReLU without a residual runs inside the convolution (a post-op).
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
  auto plan = std::make_unique<ConvPlan>();
  plan->conv = dnnl::convolution_forward(pd);
  auto userSrcMd = dnnl::memory::desc(src, dt::f32, tag::nchw);
  auto userDstMd = dnnl::memory::desc(dst, dt::f32, tag::nchw);
  auto userWtsMd = dnnl::memory::desc(wts, dt::f32, userWeightTag);
  plan->userSrc = dnnl::memory(userSrcMd, eng, nullptr);
  plan->userDst = dnnl::memory(userDstMd, eng, nullptr);
  plan->userWeights = dnnl::memory(userWtsMd, eng, nullptr);
  plan->srcReorder = pd.src_desc() != userSrcMd;
  plan->dstReorder = pd.dst_desc() != userDstMd;
  plan->weightReorder = pd.weights_desc() != userWtsMd;
  plan->src = plan->srcReorder ? dnnl::memory(pd.src_desc(), eng)
                               : dnnl::memory(pd.src_desc(), eng, nullptr);
  plan->dst = plan->dstReorder ? dnnl::memory(pd.dst_desc(), eng)
                               : dnnl::memory(pd.dst_desc(), eng, nullptr);
  plan->weights = plan->weightReorder
                      ? dnnl::memory(pd.weights_desc(), eng)
                      : dnnl::memory(pd.weights_desc(), eng, nullptr);
  if (hasBias)
    plan->bias = dnnl::memory(biasMd, eng, nullptr);
  if (plan->srcReorder)
    plan->toSrc = dnnl::reorder(plan->userSrc, plan->src);
  if (plan->dstReorder)
    plan->toDst = dnnl::reorder(plan->dst, plan->userDst);
  if (plan->weightReorder)
    plan->toWeights = dnnl::reorder(plan->userWeights, plan->weights);
  return plan;
}

// A 1×1 convolution without padding is, per image, the GEMM
// Y[cOut, OH·OW] = W[cOut, cIn] · X[cIn, OH·OW] on the NCHW tensors: in
// place at stride 1, else on the strided positions gathered first. No
// reorder of the activations in or out (oneDNN's blocked convolution needs
// both), and bias, residual and ReLU applied to each output block while it
// is in cache instead of in one more pass (ResNet-50 dense, batch 1, one
// thread: 12 % faster end to end, docs/performance.md). Blocks of columns
// and rows fixed by the shape, each one sgemm on one thread: results do not
// depend on the thread count.
constexpr int64_t kGemmColumns = 512, kGemmRows = 256, kGemmItems = 8;

bool conv1x1Gemm(const dense::Conv2DParams &p, const float *x,
                 const float *w, const float *bias, float *y,
                 const kernels::Epilogue &ep) {
  const int64_t hw = p.oh * p.ow;
  const bool strided = p.sh != 1 || p.sw != 1;
  kernels::Scratch gathered(strided ? sizeof(float) * p.cIn * hw : 0);
  if (gathered.failed)
    return false;
  // At least kGemmItems items where the rows allow (small planes: blocks
  // of fewer rows), so that threads have work at batch 1.
  const int64_t colBlocks = threads::chunks(hw, kGemmColumns);
  const int64_t rowsPerBlock = std::clamp<int64_t>(
      (p.cOut * colBlocks / kGemmItems + 15) / 16 * 16, 16, kGemmRows);
  const int64_t rowBlocks = threads::chunks(p.cOut, rowsPerBlock);
  std::atomic<bool> failed{false};
  for (int64_t b = 0; b < p.n; ++b) {
    const float *xb = x + b * p.cIn * p.h * p.w;
    if (strided) {
      float *g = gathered.as<float>();
      threads::parallelFor(p.cIn, [&](int64_t c) {
        const float *in = xb + c * p.h * p.w;
        float *out = g + c * hw;
        for (int64_t i = 0; i < p.oh; ++i)
          for (int64_t j = 0; j < p.ow; ++j)
            out[i * p.ow + j] = in[i * p.sh * p.w + j * p.sw];
      });
      xb = g;
    }
    threads::parallelFor(rowBlocks * colBlocks, [&](int64_t item) {
      const int64_t o0 = item / colBlocks * rowsPerBlock;
      const int64_t j0 = item % colBlocks * kGemmColumns;
      const int64_t rows = std::min(rowsPerBlock, p.cOut - o0);
      const int64_t cols = std::min(kGemmColumns, hw - j0);
      float *yb = y + (b * p.cOut + o0) * hw + j0;
      omp_set_num_threads(1); // items run on our pool
      if (dnnl_sgemm('N', 'N', rows, cols, p.cIn, 1.0f, w + o0 * p.cIn,
                     p.cIn, xb + j0, hw, 0.0f, yb, hw) != dnnl_success) {
        failed = true;
        return;
      }
      for (int64_t o = 0; o < rows; ++o)
        kernels::storeWithEpilogue(
            yb + o * hw, cols, bias ? bias[o0 + o] : 0.0f,
            ep.residual ? ep.residual + (b * p.cOut + o0 + o) * hw + j0
                        : nullptr,
            ep.relu, yb + o * hw);
    });
  }
  return !failed;
}

} // namespace

const char *dense::backendName() { return "onednn"; }

bool dense::gemm(char transA, char transB, int64_t m, int64_t n, int64_t k,
                 const float *a, int64_t lda, const float *b, int64_t ldb,
                 float beta, float *c, int64_t ldc) {
  if (!libraryEnabled.load())
    return false;
  omp_set_num_threads(1); // callers split the work on our pool
  return dnnl_sgemm(transA, transB, m, n, k, 1.0f, a, lda, b, ldb, beta, c,
                    ldc) == dnnl_success;
}

bool dense::linear(const float *x, int64_t batch, int64_t in, const float *w,
                   int64_t out, const float *bias, float *y) {
  if (batch <= 0 || in <= 0 || out <= 0 || !libraryEnabled.load())
    return false;
  bool failed = false;
  std::mutex failMutex;
  threads::parallelFor(
      threads::chunks(out, kLinearColumns), [&](int64_t item) {
        int64_t o0 = item * kLinearColumns;
        int64_t cols = std::min(kLinearColumns, out - o0);
        float beta = 0.0f;
        if (bias) {
          for (int64_t b = 0; b < batch; ++b)
            std::memcpy(y + b * out + o0, bias + o0, sizeof(float) * cols);
          beta = 1.0f;
        }
        // Items run on our pool; oneDNN must not start threads of its own.
        omp_set_num_threads(1);
        // Row-major: y[batch, cols] = x[batch, in] * W[o0:o0+cols, in]^T.
        if (dnnl_sgemm('N', 'T', batch, cols, in, 1.0f, x, in, w + o0 * in,
                       in, beta, y + o0, out) != dnnl_success) {
          std::lock_guard<std::mutex> lock(failMutex);
          failed = true;
        }
      });
  return !failed;
}

bool dense::conv2d(const Conv2DParams &p, const float *x, const float *weights,
                   const float *bias, float *y, bool constantWeights,
                   const kernels::Epilogue &ep) {
  // With a residual, the sum and the ReLU after it are one pass over the
  // NCHW result (the primitive's dst may be blocked).
  if (!libraryEnabled.load())
    return false;
  const bool reluInside = ep.relu && !ep.residual;
  if (p.n <= 0 || p.oh <= 0 || p.ow <= 0)
    return false;
  if (p.kh == 1 && p.kw == 1 && !p.pt && !p.pb && !p.pl && !p.pr &&
      p.groups == 1)
    return conv1x1Gemm(p, x, weights, bias, y, ep);
  int64_t wCount = p.cOut * (p.cIn / p.groups) * p.kh * p.kw;
  ConvKey key{p.n,  p.cIn, p.h,  p.w,  p.cOut, p.kh, p.kw,
              p.sh, p.sw,  p.pt, p.pb, p.pl,   p.pr, p.dh,
              p.dw, p.groups, bias != nullptr, reluInside,
              constantWeights ? weights : nullptr,
              constantWeights ? kernels::valueFingerprint(weights, wCount) : 0};
  ConvPlan *plan = nullptr;
  try {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto &slot = cache()[key];
    if (!slot)
      slot = makePlan(p, bias != nullptr, reluInside);
    plan = slot.get();
  } catch (const dnnl::error &) {
    // A shape oneDNN does not take: the builtin kernel handles it.
    std::lock_guard<std::mutex> lock(cacheMutex);
    cache().erase(key);
    return false;
  }
  std::lock_guard<std::mutex> lock(plan->mutex);
  try {
    omp_set_num_threads(threads::count());
    threads::quiesce();
    dnnl::stream stream(cpuEngine());
    plan->userSrc.set_data_handle(const_cast<float *>(x));
    plan->userDst.set_data_handle(y);
    if (!plan->srcReorder)
      plan->src.set_data_handle(const_cast<float *>(x));
    if (!plan->dstReorder)
      plan->dst.set_data_handle(y);
    if (plan->weightReorder) {
      if (!constantWeights || !plan->weightsReady) {
        plan->userWeights.set_data_handle(const_cast<float *>(weights));
        plan->toWeights.execute(stream, plan->userWeights, plan->weights);
        plan->weightsReady = constantWeights;
      }
    } else {
      plan->weights.set_data_handle(const_cast<float *>(weights));
    }
    if (plan->srcReorder)
      plan->toSrc.execute(stream, plan->userSrc, plan->src);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, plan->src},
        {DNNL_ARG_WEIGHTS, plan->weights},
        {DNNL_ARG_DST, plan->dst}};
    if (bias) {
      plan->bias.set_data_handle(const_cast<float *>(bias));
      args[DNNL_ARG_BIAS] = plan->bias;
    }
    plan->conv.execute(stream, args);
    if (plan->dstReorder)
      plan->toDst.execute(stream, plan->dst, plan->userDst);
    stream.wait();
  } catch (const dnnl::error &) {
    return false;
  }
  if (ep.residual)
    kernels::applyEpilogue(ep, y, p.n * p.cOut * p.oh * p.ow);
  return true;
}

#endif // SPARSENN_WITH_ONEDNN

extern "C" const char *sparsenn_dense_backend(void) {
  return dense::backendName();
}
