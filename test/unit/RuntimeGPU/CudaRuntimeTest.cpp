//===- CudaRuntimeTest.cpp - the GPU launch runtime
//------------------------===//
//
// NoDriver.*: run with SPARSENN_LIBCUDA pointing nowhere (ctest test
// gpu.runtime.no-libcuda): the runtime must say "libcuda not found", print
// it once, and every mgpu* entry point must fail softly.
// Device.*: the real driver; skipped with the reason when no GPU is usable.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/GPU.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

TEST(NoDriver, ReportsLibcudaNotFound) {
  ASSERT_NE(std::getenv("SPARSENN_LIBCUDA"), nullptr)
      << "run through ctest (gpu.runtime.no-libcuda), which sets "
         "SPARSENN_LIBCUDA to a path that does not exist";
  testing::internal::CaptureStderr();
  EXPECT_EQ(sparsenn_gpu_available(), 0);
  const char *error = sparsenn_gpu_last_error();
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(std::string(error).rfind("libcuda not found", 0), 0u) << error;
  EXPECT_NE(std::string(error).find("/nonexistent/libcuda.so.1"),
            std::string::npos)
      << error;
  char name[64] = "unchanged";
  int major = -1, minor = -1;
  EXPECT_EQ(sparsenn_gpu_device_info(name, sizeof(name), &major, &minor),
            SPARSENN_ERR_DEVICE);
  EXPECT_EQ(sparsenn_gpu_synchronize(), SPARSENN_ERR_DEVICE);
  // Failing calls print the first error, once, with its cause.
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed.rfind("sparsenn-gpu: error: libcuda not found", 0), 0u)
      << printed;
}

TEST(NoDriver, EntryPointsFailSoftlyAndPrintOnlyOnce) {
  testing::internal::CaptureStderr();
  void *stream = mgpuStreamCreate();
  EXPECT_EQ(stream, nullptr);
  EXPECT_EQ(mgpuMemAlloc(1024, stream, 0), nullptr);
  EXPECT_EQ(mgpuMemAlloc(1024, stream, 1), nullptr);
  const char ptx[] = ".version 8.0\n.target sm_90\n.address_size 64\n";
  void *module = mgpuModuleLoadJIT(const_cast<char *>(ptx), 2);
  EXPECT_EQ(module, nullptr);
  EXPECT_EQ(mgpuModuleLoad(const_cast<char *>(ptx), sizeof(ptx)), nullptr);
  void *fn = mgpuModuleGetFunction(module, "kernel");
  EXPECT_EQ(fn, nullptr);
  // None of these may crash on null handles.
  mgpuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  float host[4] = {1, 2, 3, 4};
  mgpuMemcpy(nullptr, host, sizeof(host), stream);
  mgpuMemset32(nullptr, 0, 4, stream);
  mgpuMemset16(nullptr, 0, 4, stream);
  mgpuMemFree(nullptr, stream);
  void *event = mgpuEventCreate();
  EXPECT_EQ(event, nullptr);
  mgpuEventRecord(event, stream);
  mgpuStreamWaitEvent(stream, event);
  mgpuEventSynchronize(event);
  mgpuEventDestroy(event);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  mgpuModuleUnload(module);
  // Constants: a descriptor with a null device pointer.
  sparsenn_gpu_memref_1d in = {host, host, 0, {4}, {1}};
  sparsenn_gpu_memref_1d out = {host, host, 7, {0}, {0}};
  _mlir_ciface_sparsenn_gpu_constant_f32(&out, &in, 4);
  EXPECT_EQ(out.aligned, nullptr);
  EXPECT_EQ(out.offset, 0);
  EXPECT_EQ(out.sizes[0], 4);
  EXPECT_EQ(sparsenn_gpu_constant(host, sizeof(host)), nullptr);
  // Already printed by the first failure (previous test): silent now.
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "");
  sparsenn_gpu_clear_error();
  // Still unavailable: asking again reports the cause again.
  ASSERT_NE(sparsenn_gpu_last_error(), nullptr);
  EXPECT_EQ(std::string(sparsenn_gpu_last_error()).rfind("libcuda", 0), 0u);
}

TEST(NoDriver, ClusterLaunchIsRefused) {
  mgpuLaunchClusterKernel(nullptr, 2, 1, 1, 2, 1, 1, 32, 1, 1, 0, nullptr,
                          nullptr, nullptr);
  ASSERT_NE(sparsenn_gpu_last_error(), nullptr);
  EXPECT_NE(std::string(sparsenn_gpu_last_error()).find("cluster"),
            std::string::npos);
}

/// Skips the test, with the runtime's reason, when no GPU is usable.
#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    if (!sparsenn_gpu_available()) {                                           \
      const char *why = sparsenn_gpu_last_error();                             \
      GTEST_SKIP() << "no usable NVIDIA GPU: " << (why ? why : "?");           \
    }                                                                          \
  } while (0)

TEST(Device, InfoAndCopies) {
  REQUIRE_GPU();
  char name[128];
  int major = 0, minor = 0;
  ASSERT_EQ(sparsenn_gpu_device_info(name, sizeof(name), &major, &minor),
            SPARSENN_OK);
  std::printf("device: %s, sm_%d%d\n", name, major, minor);
  EXPECT_GE(major, 3);
  void *stream = mgpuStreamCreate();
  ASSERT_NE(stream, nullptr);
  std::vector<float> host(1000), back(1000, -1.0f);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<float>(i) * 0.5f;
  void *dev = mgpuMemAlloc(host.size() * 4, stream, 0);
  ASSERT_NE(dev, nullptr);
  mgpuMemcpy(dev, host.data(), host.size() * 4, stream);
  mgpuMemcpy(back.data(), dev, back.size() * 4, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(back, host);
  mgpuMemset32(dev, 0x3f800000u, host.size(), stream); // 1.0f
  mgpuMemcpy(back.data(), dev, back.size() * 4, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[999], 1.0f);
  mgpuMemFree(dev, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  // Constants are uploaded once and cached.
  void *c1 = sparsenn_gpu_constant(host.data(), host.size() * 4);
  void *c2 = sparsenn_gpu_constant(host.data(), host.size() * 4);
  EXPECT_NE(c1, nullptr);
  EXPECT_EQ(c1, c2);
  sparsenn_gpu_release_constants();
  EXPECT_EQ(sparsenn_gpu_last_error(), nullptr);
}

TEST(Device, LoadsAndLaunchesPTX) {
  REQUIRE_GPU();
  // y[i] = 2 * x[i] for 32 threads (hand-written PTX, sm_52 so that any
  // driver JITs it for the present GPU).
  const char ptx[] = R"(.version 7.0
.target sm_52
.address_size 64
.visible .entry twice(.param .u64 x, .param .u64 y) {
  .reg .b32 %r<3>;
  .reg .f32 %f<3>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  cvta.to.global.u64 %rd3, %rd1;
  cvta.to.global.u64 %rd4, %rd2;
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 4;
  add.s64 %rd6, %rd3, %rd5;
  ld.global.f32 %f1, [%rd6];
  add.f32 %f2, %f1, %f1;
  add.s64 %rd6, %rd4, %rd5;
  st.global.f32 [%rd6], %f2;
  ret;
}
)";
  void *module = mgpuModuleLoadJIT(const_cast<char *>(ptx), 2);
  ASSERT_NE(module, nullptr) << sparsenn_gpu_last_error();
  void *fn = mgpuModuleGetFunction(module, "twice");
  ASSERT_NE(fn, nullptr);
  void *stream = mgpuStreamCreate();
  std::vector<float> x(32), y(32, 0.0f);
  for (int i = 0; i < 32; ++i)
    x[i] = static_cast<float>(i);
  void *dx = mgpuMemAlloc(128, stream, 0);
  void *dy = mgpuMemAlloc(128, stream, 0);
  mgpuMemcpy(dx, x.data(), 128, stream);
  void *params[] = {&dx, &dy};
  mgpuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, stream, params, nullptr, 2);
  mgpuMemcpy(y.data(), dy, 128, stream);
  mgpuStreamSynchronize(stream);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(y[i], 2.0f * i);
  mgpuMemFree(dx, stream);
  mgpuMemFree(dy, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  mgpuModuleUnload(module);
  EXPECT_EQ(sparsenn_gpu_last_error(), nullptr);
}

} // namespace
