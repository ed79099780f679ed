//===- CudaRuntime.cpp - mgpu* entry points on the CUDA driver API --------===//
//
// Implements runtime/include/sparsenn/Runtime/GPU.h. The driver is loaded
// with dlopen on first use and the few driver functions used are declared
// here, so neither CUDA headers nor a CUDA library are needed to build, and
// a machine without a driver gets a recorded error instead of a crash.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/GPU.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace {

// Driver API types and constants (cuda.h, CUDA 11 and later; ABI-stable).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;

constexpr CUresult kSuccess = 0;
constexpr unsigned kStreamNonBlocking = 0x1;
constexpr unsigned kEventDisableTiming = 0x2;
constexpr unsigned kMemAttachGlobal = 0x1;
constexpr int kAttrComputeMajor = 75;
constexpr int kAttrComputeMinor = 76;
constexpr int kAttrMemoryPools = 115;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferSize = 6;
constexpr int kJitOptimizationLevel = 7;

/// The driver functions this runtime calls, resolved with dlsym (versioned
/// names where cuda.h maps the plain name to a _v2 symbol).
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext *);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  // Optional (CUDA 11.2+): stream-ordered allocation.
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuMemHostRegister)(void *, size_t, unsigned);
  CUresult (*cuMemHostUnregister)(void *);
};

std::mutex &errorMutex() {
  static std::mutex m;
  return m;
}
std::string &lastError() {
  static std::string s;
  return s;
}
bool &hasError() {
  static bool b = false;
  return b;
}

/// Records an error; prints the first one of the process once.
void recordError(const std::string &message) {
  static bool printed = false;
  std::lock_guard<std::mutex> lock(errorMutex());
  lastError() = message;
  hasError() = true;
  if (!printed) {
    printed = true;
    const char *quiet = std::getenv("SPARSENN_GPU_QUIET");
    if (!quiet || !*quiet || std::strcmp(quiet, "0") == 0)
      std::fprintf(stderr, "sparsenn-gpu: error: %s\n", message.c_str());
  }
}

/// Driver state: loaded once per process (or never).
struct State {
  Driver d{};
  bool loaded = false; // the library and every required symbol
  bool usable = false; // cuInit ok, device found, context retained
  std::string failure; // why not usable
  CUdevice device = 0;
  CUcontext context = nullptr;
  bool memoryPools = false;
};

int &defaultDevice() {
  static int device = [] {
    const char *env = std::getenv("SPARSENN_GPU_DEVICE");
    return env ? std::atoi(env) : 0;
  }();
  return device;
}

template <typename Fn>
bool resolve(void *lib, Fn &fn, const char *name, std::string &missing) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (!fn && missing.empty())
    missing = name;
  return fn != nullptr;
}

std::string errorName(const Driver &d, CUresult r) {
  const char *name = nullptr;
  if (d.cuGetErrorName)
    d.cuGetErrorName(r, &name);
  return name ? std::string(name) : "CUDA error " + std::to_string(r);
}

State initState() {
  State s;
  const char *env = std::getenv("SPARSENN_LIBCUDA");
  void *lib = nullptr;
  std::string tried;
  if (env && *env) {
    lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    tried = env;
  } else {
    lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      lib = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
    tried = "libcuda.so.1";
  }
  if (!lib) {
    const char *why = dlerror();
    s.failure = "libcuda not found: cannot load '" + tried +
                "' (no NVIDIA driver on this machine?)" +
                (why ? std::string(": ") + why : std::string());
    return s;
  }
  Driver &d = s.d;
  std::string missing;
  resolve(lib, d.cuInit, "cuInit", missing);
  resolve(lib, d.cuGetErrorName, "cuGetErrorName", missing);
  resolve(lib, d.cuDeviceGetCount, "cuDeviceGetCount", missing);
  resolve(lib, d.cuDeviceGet, "cuDeviceGet", missing);
  resolve(lib, d.cuDeviceGetName, "cuDeviceGetName", missing);
  resolve(lib, d.cuDeviceGetAttribute, "cuDeviceGetAttribute", missing);
  resolve(lib, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", missing);
  resolve(lib, d.cuCtxPushCurrent, "cuCtxPushCurrent_v2", missing);
  resolve(lib, d.cuCtxPopCurrent, "cuCtxPopCurrent_v2", missing);
  resolve(lib, d.cuCtxSynchronize, "cuCtxSynchronize", missing);
  resolve(lib, d.cuModuleLoadData, "cuModuleLoadData", missing);
  resolve(lib, d.cuModuleLoadDataEx, "cuModuleLoadDataEx", missing);
  resolve(lib, d.cuModuleUnload, "cuModuleUnload", missing);
  resolve(lib, d.cuModuleGetFunction, "cuModuleGetFunction", missing);
  resolve(lib, d.cuLaunchKernel, "cuLaunchKernel", missing);
  resolve(lib, d.cuStreamCreate, "cuStreamCreate", missing);
  resolve(lib, d.cuStreamDestroy, "cuStreamDestroy_v2", missing);
  resolve(lib, d.cuStreamSynchronize, "cuStreamSynchronize", missing);
  resolve(lib, d.cuStreamWaitEvent, "cuStreamWaitEvent", missing);
  resolve(lib, d.cuEventCreate, "cuEventCreate", missing);
  resolve(lib, d.cuEventDestroy, "cuEventDestroy_v2", missing);
  resolve(lib, d.cuEventSynchronize, "cuEventSynchronize", missing);
  resolve(lib, d.cuEventRecord, "cuEventRecord", missing);
  resolve(lib, d.cuMemAlloc, "cuMemAlloc_v2", missing);
  resolve(lib, d.cuMemFree, "cuMemFree_v2", missing);
  resolve(lib, d.cuMemAllocManaged, "cuMemAllocManaged", missing);
  resolve(lib, d.cuMemcpyAsync, "cuMemcpyAsync", missing);
  resolve(lib, d.cuMemcpyHtoD, "cuMemcpyHtoD_v2", missing);
  resolve(lib, d.cuMemsetD32Async, "cuMemsetD32Async", missing);
  resolve(lib, d.cuMemsetD16Async, "cuMemsetD16Async", missing);
  resolve(lib, d.cuMemHostRegister, "cuMemHostRegister_v2", missing);
  resolve(lib, d.cuMemHostUnregister, "cuMemHostUnregister", missing);
  if (!missing.empty()) {
    s.failure = "libcuda '" + tried + "' lacks '" + missing +
                "' (driver older than CUDA 11?)";
    return s;
  }
  std::string optional;
  resolve(lib, d.cuMemAllocAsync, "cuMemAllocAsync", optional);
  resolve(lib, d.cuMemFreeAsync, "cuMemFreeAsync", optional);
  s.loaded = true;

  if (CUresult r = d.cuInit(0); r != kSuccess) {
    s.failure = "cuInit failed with " + errorName(d, r) +
                " (stub library, or no usable NVIDIA GPU)";
    return s;
  }
  int count = 0;
  if (d.cuDeviceGetCount(&count) != kSuccess || count <= defaultDevice() ||
      defaultDevice() < 0) {
    s.failure = "no CUDA device " + std::to_string(defaultDevice()) + " (" +
                std::to_string(count) + " found)";
    return s;
  }
  if (CUresult r = d.cuDeviceGet(&s.device, defaultDevice()); r != kSuccess) {
    s.failure = "cuDeviceGet failed with " + errorName(d, r);
    return s;
  }
  if (CUresult r = d.cuDevicePrimaryCtxRetain(&s.context, s.device);
      r != kSuccess) {
    s.failure = "cuDevicePrimaryCtxRetain failed with " + errorName(d, r);
    return s;
  }
  int pools = 0;
  s.memoryPools =
      d.cuMemAllocAsync && d.cuMemFreeAsync &&
      d.cuDeviceGetAttribute(&pools, kAttrMemoryPools, s.device) == kSuccess &&
      pools != 0;
  s.usable = true;
  return s;
}

/// The process-wide state, initialised on first use (thread-safe).
State &state() {
  static State s = initState();
  return s;
}

/// The state if the driver is usable, else null after recording why.
State *usable() {
  State &s = state();
  if (!s.usable) {
    recordError(s.failure);
    return nullptr;
  }
  return &s;
}

/// Makes the runtime's context current for a scope and restores the
/// caller's (as MLIR's own wrappers do).
class ScopedContext {
public:
  explicit ScopedContext(State &s) : s(s) {
    pushed = s.d.cuCtxPushCurrent(s.context) == kSuccess;
  }
  ~ScopedContext() {
    if (pushed)
      s.d.cuCtxPopCurrent(nullptr);
  }

private:
  State &s;
  bool pushed = false;
};

bool check(State &s, CUresult r, const char *what) {
  if (r == kSuccess)
    return true;
  recordError(std::string(what) + " failed with " + errorName(s.d, r));
  return false;
}

CUdeviceptr devptr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

/// Cached device copies of constants: (host address, bytes) → device.
std::mutex &constantsMutex() {
  static std::mutex m;
  return m;
}
std::map<std::pair<const void *, uint64_t>, CUdeviceptr> &constants() {
  static std::map<std::pair<const void *, uint64_t>, CUdeviceptr> map;
  return map;
}

} // namespace

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

extern "C" int sparsenn_gpu_available(void) { return state().usable ? 1 : 0; }

extern "C" const char *sparsenn_gpu_last_error(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(errorMutex());
  if (hasError())
    return lastError().c_str();
  // Availability is an error too, even if nothing failed yet.
  if (!s.usable) {
    lastError() = s.failure;
    hasError() = true;
    return lastError().c_str();
  }
  return nullptr;
}

extern "C" void sparsenn_gpu_clear_error(void) {
  std::lock_guard<std::mutex> lock(errorMutex());
  hasError() = false;
  lastError().clear();
}

extern "C" sparsenn_status sparsenn_gpu_device_info(char *name, size_t size, int *major,
                                        int *minor) {
  State &s = state();
  if (!s.usable)
    return SPARSENN_ERR_DEVICE;
  if (name && size) {
    if (s.d.cuDeviceGetName(name, static_cast<int>(size), s.device) != kSuccess)
      name[0] = '\0';
    name[size - 1] = '\0';
  }
  if (major)
    s.d.cuDeviceGetAttribute(major, kAttrComputeMajor, s.device);
  if (minor)
    s.d.cuDeviceGetAttribute(minor, kAttrComputeMinor, s.device);
  return SPARSENN_OK;
}

extern "C" sparsenn_status sparsenn_gpu_synchronize(void) {
  State *s = usable();
  if (!s)
    return SPARSENN_ERR_DEVICE;
  ScopedContext scope(*s);
  return check(*s, s->d.cuCtxSynchronize(), "cuCtxSynchronize")
             ? SPARSENN_OK
             : SPARSENN_ERR_DEVICE;
}

extern "C" void *sparsenn_gpu_constant(const void *host, uint64_t bytes) {
  State *s = usable();
  if (!s || !host)
    return nullptr;
  std::lock_guard<std::mutex> lock(constantsMutex());
  auto key = std::make_pair(host, bytes);
  auto it = constants().find(key);
  if (it != constants().end())
    return reinterpret_cast<void *>(static_cast<uintptr_t>(it->second));
  ScopedContext scope(*s);
  CUdeviceptr ptr = 0;
  if (!check(*s, s->d.cuMemAlloc(&ptr, bytes ? bytes : 1), "cuMemAlloc"))
    return nullptr;
  if (bytes && !check(*s, s->d.cuMemcpyHtoD(ptr, host, bytes),
                      "cuMemcpyHtoD (constant upload)")) {
    s->d.cuMemFree(ptr);
    return nullptr;
  }
  constants()[key] = ptr;
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

extern "C" void sparsenn_gpu_release_constants(void) {
  State &s = state();
  std::lock_guard<std::mutex> lock(constantsMutex());
  if (s.usable) {
    ScopedContext scope(s);
    for (auto &entry : constants())
      s.d.cuMemFree(entry.second);
  }
  constants().clear();
}

#define SPARSENN_GPU_CONSTANT_DEF(T)                                           \
  extern "C" void _mlir_ciface_sparsenn_gpu_constant_##T(                      \
      sparsenn_gpu_memref_1d *result, sparsenn_gpu_memref_1d *host,            \
      int64_t element_bytes) {                                                 \
    const char *base = static_cast<const char *>(host->aligned) +              \
                       host->offset * element_bytes;                           \
    void *dev = sparsenn_gpu_constant(                                         \
        base, static_cast<uint64_t>(host->sizes[0] * element_bytes));          \
    result->allocated = dev;                                                   \
    result->aligned = dev;                                                     \
    result->offset = 0;                                                        \
    result->sizes[0] = host->sizes[0];                                         \
    result->strides[0] = 1;                                                    \
  }
SPARSENN_GPU_CONSTANT_DEF(f32)
SPARSENN_GPU_CONSTANT_DEF(f64)
SPARSENN_GPU_CONSTANT_DEF(f16)
SPARSENN_GPU_CONSTANT_DEF(bf16)
SPARSENN_GPU_CONSTANT_DEF(i64)
SPARSENN_GPU_CONSTANT_DEF(i32)
SPARSENN_GPU_CONSTANT_DEF(i16)
SPARSENN_GPU_CONSTANT_DEF(i8)
SPARSENN_GPU_CONSTANT_DEF(i1)
#undef SPARSENN_GPU_CONSTANT_DEF

//===----------------------------------------------------------------------===//
// mgpu* entry points
//===----------------------------------------------------------------------===//

extern "C" void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  State *s = usable();
  if (!s || !data)
    return nullptr;
  ScopedContext scope(*s);
  CUmodule module = nullptr;
  check(*s, s->d.cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

extern "C" void *mgpuModuleLoadJIT(void *data, int optLevel) {
  State *s = usable();
  if (!s || !data)
    return nullptr;
  ScopedContext scope(*s);
  char log[4096] = {0};
  int options[] = {kJitOptimizationLevel, kJitErrorLogBuffer,
                   kJitErrorLogBufferSize};
  void *values[] = {reinterpret_cast<void *>(static_cast<intptr_t>(optLevel)),
                    log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module = nullptr;
  CUresult r = s->d.cuModuleLoadDataEx(&module, data, 3, options, values);
  if (r != kSuccess) {
    recordError("cuModuleLoadDataEx (PTX JIT) failed with " +
                errorName(s->d, r) + (log[0] ? std::string(": ") + log : ""));
    return nullptr;
  }
  return module;
}

extern "C" void mgpuModuleUnload(void *module) {
  State &s = state();
  if (!s.usable || !module)
    return;
  ScopedContext scope(s);
  check(s, s.d.cuModuleUnload(module), "cuModuleUnload");
}

extern "C" void *mgpuModuleGetFunction(void *module, const char *name) {
  State *s = usable();
  if (!s)
    return nullptr;
  if (!module) {
    recordError(std::string("kernel '") + name +
                "' not launched: its GPU module did not load");
    return nullptr;
  }
  CUfunction fn = nullptr;
  check(*s, s->d.cuModuleGetFunction(&fn, module, name), "cuModuleGetFunction");
  return fn;
}

extern "C" void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                                 intptr_t gridZ, intptr_t blockX,
                                 intptr_t blockY, intptr_t blockZ, int32_t smem,
                                 void *stream, void **params, void **extra,
                                 size_t /*paramsCount*/) {
  State *s = usable();
  if (!s || !function)
    return;
  ScopedContext scope(*s);
  check(*s,
        s->d.cuLaunchKernel(
            function, static_cast<unsigned>(gridX),
            static_cast<unsigned>(gridY), static_cast<unsigned>(gridZ),
            static_cast<unsigned>(blockX), static_cast<unsigned>(blockY),
            static_cast<unsigned>(blockZ), static_cast<unsigned>(smem), stream,
            params, extra),
        "cuLaunchKernel");
}

extern "C" void mgpuLaunchClusterKernel(void *, intptr_t, intptr_t, intptr_t,
                                        intptr_t, intptr_t, intptr_t, intptr_t,
                                        intptr_t, intptr_t, int32_t, void *,
                                        void **, void **) {
  recordError("thread-block cluster launches are not supported by the "
              "sparsenn GPU runtime");
}

extern "C" void *mgpuStreamCreate(void) {
  State *s = usable();
  if (!s)
    return nullptr;
  ScopedContext scope(*s);
  CUstream stream = nullptr;
  check(*s, s->d.cuStreamCreate(&stream, kStreamNonBlocking), "cuStreamCreate");
  return stream;
}

extern "C" void mgpuStreamDestroy(void *stream) {
  State &s = state();
  if (!s.usable || !stream)
    return;
  check(s, s.d.cuStreamDestroy(stream), "cuStreamDestroy");
}

extern "C" void mgpuStreamSynchronize(void *stream) {
  State &s = state();
  if (!s.usable || !stream)
    return;
  ScopedContext scope(s);
  check(s, s.d.cuStreamSynchronize(stream), "cuStreamSynchronize");
}

extern "C" void mgpuStreamWaitEvent(void *stream, void *event) {
  State &s = state();
  if (!s.usable || !stream || !event)
    return;
  check(s, s.d.cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
}

extern "C" void *mgpuEventCreate(void) {
  State *s = usable();
  if (!s)
    return nullptr;
  ScopedContext scope(*s);
  CUevent event = nullptr;
  check(*s, s->d.cuEventCreate(&event, kEventDisableTiming), "cuEventCreate");
  return event;
}

extern "C" void mgpuEventDestroy(void *event) {
  State &s = state();
  if (!s.usable || !event)
    return;
  check(s, s.d.cuEventDestroy(event), "cuEventDestroy");
}

extern "C" void mgpuEventSynchronize(void *event) {
  State &s = state();
  if (!s.usable || !event)
    return;
  check(s, s.d.cuEventSynchronize(event), "cuEventSynchronize");
}

extern "C" void mgpuEventRecord(void *event, void *stream) {
  State &s = state();
  if (!s.usable || !event)
    return;
  check(s, s.d.cuEventRecord(event, stream), "cuEventRecord");
}

extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                              int8_t isHostShared) {
  State *s = usable();
  if (!s)
    return nullptr;
  ScopedContext scope(*s);
  CUdeviceptr ptr = 0;
  size_t bytes = sizeBytes ? sizeBytes : 1;
  if (isHostShared)
    check(*s, s->d.cuMemAllocManaged(&ptr, bytes, kMemAttachGlobal),
          "cuMemAllocManaged");
  else if (s->memoryPools && stream)
    check(*s, s->d.cuMemAllocAsync(&ptr, bytes, stream), "cuMemAllocAsync");
  else
    check(*s, s->d.cuMemAlloc(&ptr, bytes), "cuMemAlloc");
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

extern "C" void mgpuMemFree(void *ptr, void *stream) {
  State &s = state();
  if (!s.usable || !ptr)
    return;
  ScopedContext scope(s);
  // Memory from cuMemAllocAsync may be freed with either function; managed
  // memory needs cuMemFree.
  if (s.memoryPools && stream &&
      s.d.cuMemFreeAsync(devptr(ptr), stream) == kSuccess)
    return;
  check(s, s.d.cuMemFree(devptr(ptr)), "cuMemFree");
}

extern "C" void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                           void *stream) {
  State &s = state();
  if (!s.usable || !dst || !src || !sizeBytes)
    return;
  ScopedContext scope(s);
  check(s, s.d.cuMemcpyAsync(devptr(dst), devptr(src), sizeBytes, stream),
        "cuMemcpyAsync");
}

extern "C" void mgpuMemset32(void *dst, uint32_t value, size_t count,
                             void *stream) {
  State &s = state();
  if (!s.usable || !dst)
    return;
  ScopedContext scope(s);
  check(s, s.d.cuMemsetD32Async(devptr(dst), value, count, stream),
        "cuMemsetD32Async");
}

extern "C" void mgpuMemset16(void *dst, uint16_t value, size_t count,
                             void *stream) {
  State &s = state();
  if (!s.usable || !dst)
    return;
  ScopedContext scope(s);
  check(s, s.d.cuMemsetD16Async(devptr(dst), value, count, stream),
        "cuMemsetD16Async");
}

namespace {
/// Address and byte size of a dense memref described by a descriptor of
/// `rank` (allocated, aligned, offset, sizes[rank], strides[rank]).
std::pair<char *, uint64_t> denseRange(int64_t rank, void *descriptor,
                                       int64_t elementSizeBytes) {
  auto *words = static_cast<int64_t *>(descriptor);
  char *aligned = reinterpret_cast<char *>(words[1]);
  int64_t elements = 1;
  for (int64_t i = 0; i < rank; ++i)
    elements *= words[3 + i];
  return {aligned + words[2] * elementSizeBytes,
          static_cast<uint64_t>(elements * elementSizeBytes)};
}
} // namespace

extern "C" void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                          int64_t elementSizeBytes) {
  State *s = usable();
  if (!s || !descriptor)
    return;
  auto [ptr, bytes] = denseRange(rank, descriptor, elementSizeBytes);
  ScopedContext scope(*s);
  check(*s, s->d.cuMemHostRegister(ptr, bytes, 0), "cuMemHostRegister");
}

extern "C" void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                            int64_t elementSizeBytes) {
  State &s = state();
  if (!s.usable || !descriptor)
    return;
  auto range = denseRange(rank, descriptor, elementSizeBytes);
  ScopedContext scope(s);
  check(s, s.d.cuMemHostUnregister(range.first), "cuMemHostUnregister");
}

extern "C" void mgpuSetDefaultDevice(int32_t device) {
  // Takes effect only before the first use of the driver.
  defaultDevice() = device;
}

//===----------------------------------------------------------------------===//
// Symbol table for JIT hosts
//===----------------------------------------------------------------------===//

extern "C" const sparsenn_gpu_symbol *sparsenn_gpu_symbols(size_t *count) {
#define SYM(name)                                                              \
  { #name, reinterpret_cast < void *>(&name) }
  static const sparsenn_gpu_symbol table[] = {
      SYM(mgpuModuleLoad),
      SYM(mgpuModuleLoadJIT),
      SYM(mgpuModuleUnload),
      SYM(mgpuModuleGetFunction),
      SYM(mgpuLaunchKernel),
      SYM(mgpuLaunchClusterKernel),
      SYM(mgpuStreamCreate),
      SYM(mgpuStreamDestroy),
      SYM(mgpuStreamSynchronize),
      SYM(mgpuStreamWaitEvent),
      SYM(mgpuEventCreate),
      SYM(mgpuEventDestroy),
      SYM(mgpuEventSynchronize),
      SYM(mgpuEventRecord),
      SYM(mgpuMemAlloc),
      SYM(mgpuMemFree),
      SYM(mgpuMemcpy),
      SYM(mgpuMemset32),
      SYM(mgpuMemset16),
      SYM(mgpuMemHostRegisterMemRef),
      SYM(mgpuMemHostUnregisterMemRef),
      SYM(mgpuSetDefaultDevice),
      SYM(_mlir_ciface_sparsenn_gpu_constant_f32),
      SYM(_mlir_ciface_sparsenn_gpu_constant_f64),
      SYM(_mlir_ciface_sparsenn_gpu_constant_f16),
      SYM(_mlir_ciface_sparsenn_gpu_constant_bf16),
      SYM(_mlir_ciface_sparsenn_gpu_constant_i64),
      SYM(_mlir_ciface_sparsenn_gpu_constant_i32),
      SYM(_mlir_ciface_sparsenn_gpu_constant_i16),
      SYM(_mlir_ciface_sparsenn_gpu_constant_i8),
      SYM(_mlir_ciface_sparsenn_gpu_constant_i1),
  };
#undef SYM
  *count = sizeof(table) / sizeof(table[0]);
  return table;
}
