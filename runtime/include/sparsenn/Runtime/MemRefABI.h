/*===- MemRefABI.h - runtime entry points for compiled code -----*- C -*-===*
 *
 * Functions that MLIR-generated code calls through the `_mlir_ciface_` ABI
 * (memrefs passed as pointers to strided descriptors). They unpack the
 * descriptors and call the kernels of Kernels.h. Kept apart so that the
 * kernels themselves stay plain C.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_MEMREFABI_H
#define SPARSENN_RUNTIME_MEMREFABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A rank-1 strided memref descriptor of f32, as lowered by MLIR. */
typedef struct {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} sparsenn_memref_f32_1d;

/* k-winners over contiguous [batch, channels, spatial] data (see
   sparsenn_kwinners_f32); `duty` of size 0 means no duty cycles. */
void _mlir_ciface_sparsenn_rt_kwinners_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *duty, int64_t batch, int64_t channels,
    int64_t spatial, int64_t mode, int64_t k, int64_t group_size,
    float boost_strength, int64_t break_ties, int64_t relu);

#ifdef __cplusplus
}
#endif

#endif /* SPARSENN_RUNTIME_MEMREFABI_H */
