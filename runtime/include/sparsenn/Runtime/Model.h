/*===- Model.h - C API of libraries made by sparse-compile ------*- C -*-===*
 *
 * `sparse-compile model.mlir -o libmodel.so` exports every public function
 * `@name` of the module as
 *
 *   void _mlir_ciface_name(RESULTS *results, ARG0 *a0, ARG1 *a1, ...);
 *
 * where each tensor argument is passed as a pointer to a strided memref
 * descriptor (below) and the results come back through `results`, a pointer
 * to one descriptor (one result) or to a struct of descriptors in result
 * order (several results). A function without results has no `results`
 * parameter. Descriptors of inputs may point at caller memory (C order:
 * strides are suffix products of the sizes, offset 0).
 *
 * Result buffers are allocated with malloc by the model and belong to the
 * caller: free(descriptor.allocated) when done, unless the function returns
 * one of its arguments or a constant (then `allocated` is that memory).
 *
 * Threads: the kernels run on SPARSENN_NUM_THREADS threads when that is set
 * in the environment (1-1024), else on as many as the machine has cores;
 * sparsenn_set_num_threads(n) (n = 0: that default) changes it for the next
 * calls, sparsenn_get_num_threads() reads it. Results are bit-identical for
 * any thread count. Calls from several threads at once are safe; they take
 * turns on the kernels' thread pool.
 *
 * The library needs oneDNN (libdnnl2), Google Highway (libhwy1) and
 * libgomp at run time, where the runtime was built with them.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_MODEL_H
#define SPARSENN_RUNTIME_MODEL_H

#include "sparsenn/Runtime/Types.h"

#include <stdint.h>

/* Descriptors: SPARSENN_MEMREF(T, N) and sparsenn_memref_f32_<N>d
   (Types.h). */

#ifdef __cplusplus
extern "C" {
#endif
int sparsenn_set_num_threads(int threads);
int sparsenn_get_num_threads(void);
#ifdef __cplusplus
}
#endif

/* Describes C-order data of `rank` dimensions in a descriptor (any rank:
   `desc` points at the descriptor's first field). */
static inline void sparsenn_describe(void *desc, void *data, int rank,
                                     const int64_t *sizes) {
  int64_t *words = (int64_t *)desc;
  int64_t stride = 1;
  words[0] = (int64_t)(intptr_t)data;
  words[1] = (int64_t)(intptr_t)data;
  words[2] = 0;
  for (int i = rank - 1; i >= 0; --i) {
    words[3 + i] = sizes[i];
    words[3 + rank + i] = stride;
    stride *= sizes[i];
  }
}

#endif /* SPARSENN_RUNTIME_MODEL_H */
