/* Loads nothing but the library sparse-compile made from mlp.mlir and the C
   standard library: calls @mlp through its C interface and prints the
   result.
     sparse-compile examples/aot/mlp.mlir -o libmlp.so
     cc -I runtime/include examples/aot/run_mlp.c -L. -lmlp -Wl,-rpath,. */
#include "sparsenn/Runtime/Model.h"

#include <stdio.h>
#include <stdlib.h>

void _mlir_ciface_mlp(sparsenn_memref_f32_2d *result, sparsenn_memref_f32_2d *x);

int main(void) {
  float input[2][4] = {{1, 2, 3, 4}, {-1, 0.5f, 2, -3}};
  int64_t sizes[2] = {2, 4};
  sparsenn_memref_f32_2d x, y;
  /* Two threads for the kernels (the default: SPARSENN_NUM_THREADS, else
     every core); results are the same for any count. */
  if (sparsenn_set_num_threads(2) != 0 || sparsenn_get_num_threads() != 2)
    return 1;
  sparsenn_describe(&x, input, 2, sizes);
  _mlir_ciface_mlp(&y, &x);
  for (int64_t i = 0; i < y.sizes[0]; ++i) {
    for (int64_t j = 0; j < y.sizes[1]; ++j)
      printf("%s%g", j ? " " : "",
             y.aligned[y.offset + i * y.strides[0] + j * y.strides[1]]);
    printf("\n");
  }
  free(y.allocated);
  return 0;
}
