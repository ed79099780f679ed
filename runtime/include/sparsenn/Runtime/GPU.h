/*===- GPU.h - CUDA launch runtime for GPU-compiled code (C ABI) --*- C -*-===*\
|*                                                                            *|
|* Host side of the `sparsenn-lower-to-nvvm` pipeline (docs/architecture.md, *|
|* "The GPU path"). Code lowered by MLIR 22's gpu-to-llvm calls the `mgpu*`  *|
|* entry points below; this library implements them on the CUDA driver API, *|
|* which it loads with dlopen("libcuda.so.1") on first use. It needs no CUDA *|
|* headers or libraries to build, and a process without an NVIDIA driver    *|
|* loads it fine: every call then fails softly (see "Errors").              *|
|*                                                                            *|
|* Environment:                                                              *|
|*   SPARSENN_LIBCUDA      path of the driver library (default libcuda.so.1, *|
|*                         then libcuda.so)                                  *|
|*   SPARSENN_GPU_DEVICE   device ordinal (default 0)                        *|
|*   SPARSENN_GPU_QUIET    if set and not "0": do not print the first error  *|
|*                                                                            *|
|* Errors: the mgpu* functions have no error channel (their signatures are  *|
|* fixed by the MLIR lowering). The first failure is printed once to stderr *|
|* ("sparsenn-gpu: error: ...") and every failure is recorded: call         *|
|* sparsenn_gpu_last_error() after a model function to know whether its     *|
|* results are valid. After a failure, launches and copies that depend on   *|
|* missing resources (no driver, no module, null pointers) do nothing.      *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_GPU_H
#define SPARSENN_RUNTIME_GPU_H

#include "sparsenn/Runtime/Types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Status and device queries (for programs using a GPU-compiled library).
 *===----------------------------------------------------------------------===*/

/* 1 when the driver library loads, cuInit succeeds and the selected device
   exists; 0 otherwise (the reason is then sparsenn_gpu_last_error()). Never
   prints. */
int sparsenn_gpu_available(void);

/* The last recorded error, or NULL when none. The text stays valid until the
   next failing call or sparsenn_gpu_clear_error(). Messages start with the
   cause: "libcuda not found: ...", "cuInit failed: ...", "no CUDA device
   ...", "<driver function> failed with <CUDA error name>: ...". */
const char *sparsenn_gpu_last_error(void);
void sparsenn_gpu_clear_error(void);

/* Writes the device name (NUL-terminated, truncated to `size`) and compute
   capability. SPARSENN_OK, or SPARSENN_ERR_DEVICE when no device is usable
   (the reason: sparsenn_gpu_last_error()). */
sparsenn_status sparsenn_gpu_device_info(char *name, size_t size, int *major,
                                         int *minor);

/* Waits for all work of the runtime's context: SPARSENN_OK or
   SPARSENN_ERR_DEVICE. */
sparsenn_status sparsenn_gpu_synchronize(void);

/* Device copies of constant host arrays (weights), made on first use and
   kept until sparsenn_gpu_release_constants() or process exit; keyed by
   host address and size. Returns NULL on failure (error recorded). */
void *sparsenn_gpu_constant(const void *host, uint64_t bytes);
void sparsenn_gpu_release_constants(void);

/*===----------------------------------------------------------------------===*
 * Constants in generated code. `sparsenn-gpu-place-buffers` replaces each
 * memref.get_global the kernels read by a call of
 *   _mlir_ciface_sparsenn_gpu_constant_<T>(result, host, element_bytes)
 * on a flat memref<?xT> view (T = f32, f64, f16, bf16, i64, i32, i16, i8,
 * i1): `result` receives a descriptor of the same sizes whose pointers are
 * the cached device copy (sparsenn_gpu_constant), or NULL after a failure.
 *===----------------------------------------------------------------------===*/

typedef struct {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} sparsenn_gpu_memref_1d;

#define SPARSENN_GPU_CONSTANT_DECL(T)                                          \
  void _mlir_ciface_sparsenn_gpu_constant_##T(sparsenn_gpu_memref_1d *result,  \
                                              sparsenn_gpu_memref_1d *host,    \
                                              int64_t element_bytes);
SPARSENN_GPU_CONSTANT_DECL(f32)
SPARSENN_GPU_CONSTANT_DECL(f64)
SPARSENN_GPU_CONSTANT_DECL(f16)
SPARSENN_GPU_CONSTANT_DECL(bf16)
SPARSENN_GPU_CONSTANT_DECL(i64)
SPARSENN_GPU_CONSTANT_DECL(i32)
SPARSENN_GPU_CONSTANT_DECL(i16)
SPARSENN_GPU_CONSTANT_DECL(i8)
SPARSENN_GPU_CONSTANT_DECL(i1)
#undef SPARSENN_GPU_CONSTANT_DECL

/*===----------------------------------------------------------------------===*
 * Entry points called by code from MLIR 22's gpu-to-llvm lowering and the
 * gpu.binary offloading translation (signatures as that lowering emits
 * them; names and arguments as in MLIR's CudaRuntimeWrappers.cpp).
 * Handles are opaque driver handles (CUmodule, CUfunction, CUstream,
 * CUevent); device pointers are CUdeviceptr values.
 *===----------------------------------------------------------------------===*/

/* Loads a cubin/fatbin image (gpu.binary format=bin/fatbin). */
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
/* Loads NUL-terminated PTX (format=isa), JIT-compiled by the driver. */
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
/* Thread-block clusters are not supported: records an error. */
void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t smem, void *stream, void **params,
                             void **extra);

void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

/* Device memory, stream-ordered where the driver supports memory pools;
   isHostShared != 0: managed memory (gpu.alloc host_shared). */
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, int8_t isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream);
void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream);
/* gpu.host_register / host_unregister on a memref descriptor of `rank`. */
void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes);
void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes);
void mgpuSetDefaultDevice(int32_t device);

/* Every entry point above that generated code calls, as (name, address)
   pairs, for JIT hosts that resolve symbols themselves (sparse-run --gpu).
   *count receives the number of entries. */
typedef struct {
  const char *name;
  void *address;
} sparsenn_gpu_symbol;
const sparsenn_gpu_symbol *sparsenn_gpu_symbols(size_t *count);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARSENN_RUNTIME_GPU_H */
