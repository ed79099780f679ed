/* The GPU version of run_mlp.c: the library comes from
     sparse-compile --gpu examples/aot/mlp.mlir -o libmlp_gpu.so
     cc -I runtime/include examples/aot/run_mlp_gpu.c -L. -lmlp_gpu \
        -Wl,-rpath,.
   It embeds the PTX for sm_90 and the CUDA launch runtime (GPU.h), which
   loads the NVIDIA driver (libcuda.so.1) itself: no CUDA toolkit and no
   compiler are needed where it runs. Same C API as the CPU library
   (Model.h); the GPU status API says whether the results are valid.
   Exit status: 0 with the results, 77 when no usable GPU is present. */
#include "sparsenn/Runtime/GPU.h"
#include "sparsenn/Runtime/Model.h"

#include <stdio.h>
#include <stdlib.h>

void _mlir_ciface_mlp(sparsenn_memref_f32_2d *result, sparsenn_memref_f32_2d *x);

int main(void) {
  if (!sparsenn_gpu_available()) {
    printf("no usable GPU: %s\n", sparsenn_gpu_last_error());
    return 77;
  }
  char name[128];
  int major = 0, minor = 0;
  sparsenn_gpu_device_info(name, sizeof(name), &major, &minor);
  fprintf(stderr, "device: %s (sm_%d%d)\n", name, major, minor);
  float input[2][4] = {{1, 2, 3, 4}, {-1, 0.5f, 2, -3}};
  int64_t sizes[2] = {2, 4};
  sparsenn_memref_f32_2d x, y;
  sparsenn_describe(&x, input, 2, sizes);
  _mlir_ciface_mlp(&y, &x);
  if (sparsenn_gpu_last_error()) {
    printf("GPU error: %s\n", sparsenn_gpu_last_error());
    return 1;
  }
  for (int64_t i = 0; i < y.sizes[0]; ++i) {
    for (int64_t j = 0; j < y.sizes[1]; ++j)
      printf("%s%g", j ? " " : "",
             y.aligned[y.offset + i * y.strides[0] + j * y.strides[1]]);
    printf("\n");
  }
  free(y.allocated);
  return 0;
}
