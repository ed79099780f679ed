/* A fake libcuda.so.1 for the CPU-side test of the GPU check (test/GPU/
   gpu_check_test.sh): every driver call the runtime and snn-driver make
   succeeds on the host ("device" memory is malloc'd host memory, copies are
   memcpy), and kernels do nothing, so run.sh's whole flow runs here and
   every case ends "mismatch" (never "ok"). Not part of the pack.
   FAKE_CUDA_CRASH=STR: a launch of a kernel whose name contains STR
   segfaults; FAKE_CUDA_HANG=STR: it sleeps for ever (run.sh's timeouts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int CUresult;
static int ctx_dummy, stream_dummy;

CUresult cuInit(unsigned f) { (void)f; return 0; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuGetErrorName(CUresult r, const char **s) {
  (void)r; *s = "CUDA_ERROR_FAKE"; return 0;
}
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int o) { *d = o; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) {
  (void)d;
  strncpy(s, "fake device (gpu_check test stand-in)", n);
  return 0;
}
CUresult cuDeviceGetAttribute(int *v, int a, int d) {
  (void)d;
  *v = a == 75 ? 9 : a == 76 ? 0 : a == 115 ? 0 : 1;
  return 0;
}
CUresult cuDeviceTotalMem_v2(size_t *b, int d) { (void)d; *b = 1 << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { (void)d; *c = &ctx_dummy; return 0; }
CUresult cuCtxPushCurrent_v2(void *c) { (void)c; return 0; }
CUresult cuCtxPopCurrent_v2(void **c) { if (c) *c = &ctx_dummy; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadData(void **m, const void *d) { (void)d; *m = &ctx_dummy; return 0; }
CUresult cuModuleLoadDataEx(void **m, const void *d, unsigned n, int *o, void **v) {
  (void)d; (void)n; (void)o; (void)v; *m = &ctx_dummy; return 0;
}
CUresult cuModuleUnload(void *m) { (void)m; return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  (void)m; *f = strdup(name); return 0;
}
CUresult cuLaunchKernel(void *f, unsigned a, unsigned b, unsigned c, unsigned d,
                        unsigned e, unsigned g, unsigned s, void *st, void **p,
                        void **x) {
  (void)a; (void)b; (void)c; (void)d; (void)e; (void)g; (void)s; (void)st;
  (void)p; (void)x;
  const char *crash = getenv("FAKE_CUDA_CRASH"), *hang = getenv("FAKE_CUDA_HANG");
  if (crash && *crash && strstr((const char *)f, crash))
    *(volatile int *)0 = 1;
  if (hang && *hang && strstr((const char *)f, hang))
    for (;;)
      sleep(1);
  return 0;
}
CUresult cuStreamCreate(void **s, unsigned f) { (void)f; *s = &stream_dummy; return 0; }
CUresult cuStreamDestroy_v2(void *s) { (void)s; return 0; }
CUresult cuStreamSynchronize(void *s) { (void)s; return 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned f) { (void)s; (void)e; (void)f; return 0; }
CUresult cuEventCreate(void **e, unsigned f) { (void)f; *e = malloc(8); return 0; }
CUresult cuEventDestroy_v2(void *e) { free(e); return 0; }
CUresult cuEventSynchronize(void *e) { (void)e; return 0; }
CUresult cuEventRecord(void *e, void *s) { (void)e; (void)s; return 0; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { (void)a; (void)b; *ms = 0.001f; return 0; }
CUresult cuMemAlloc_v2(uintptr_t *p, size_t n) { *p = (uintptr_t)calloc(1, n ? n : 1); return 0; }
CUresult cuMemFree_v2(uintptr_t p) { free((void *)p); return 0; }
CUresult cuMemAllocManaged(uintptr_t *p, size_t n, unsigned f) { (void)f; return cuMemAlloc_v2(p, n); }
CUresult cuMemcpyAsync(uintptr_t d, uintptr_t s, size_t n, void *st) {
  (void)st; memcpy((void *)d, (const void *)s, n); return 0;
}
CUresult cuMemcpyHtoD_v2(uintptr_t d, const void *s, size_t n) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemsetD32Async(uintptr_t d, unsigned v, size_t n, void *s) {
  (void)s; for (size_t i = 0; i < n; ++i) ((unsigned *)d)[i] = v; return 0;
}
CUresult cuMemsetD16Async(uintptr_t d, unsigned short v, size_t n, void *s) {
  (void)s; for (size_t i = 0; i < n; ++i) ((unsigned short *)d)[i] = v; return 0;
}
CUresult cuMemHostRegister_v2(void *p, size_t n, unsigned f) { (void)p; (void)n; (void)f; return 0; }
CUresult cuMemHostUnregister(void *p) { (void)p; return 0; }
