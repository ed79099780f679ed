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

#include "sparsenn/Runtime/Types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* k-winners over contiguous [batch, channels, spatial] data (see
   sparsenn_kwinners_f32); `duty` of size 0 means no duty cycles. */
void _mlir_ciface_sparsenn_rt_kwinners_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *duty, int64_t batch, int64_t channels,
    int64_t spatial, int64_t mode, int64_t k, int64_t group_size,
    float boost_strength, int64_t break_ties, int64_t relu);

/* 2-D max or sum pooling of contiguous NCHW data (sparsenn_pool2d_f32). */
void _mlir_ciface_sparsenn_rt_pool2d_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y, int64_t mode,
    int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float pad_value, float init);

/* y[batch, out] = x[batch, in] W^T + bias with W packed at compile time:
     dense:         values = W [out*in]
     ell:           values [out*k], cols16 [out*k]
     block16:       ia = row_ptr [out+1], ib = block_cols, values [nb*16]
     sparse_sparse: ia = col_ptr [in+1], ib = row_idx, values [nnz]
   `bias` of size 0 means no bias. */
void _mlir_ciface_sparsenn_rt_linear_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib,
    sparsenn_memref_i16_1d *cols16, int64_t format, int64_t batch,
    int64_t in, int64_t out, int64_t k);

/* y[batch, out] = x[batch, in] W^T + bias with W kept SPGC8-compressed
   (sparsenn_linear_spgc8_f32): stream = the raw SPGC8 tensor stream of W
   [out, in] (all its bytes), scales [out] or [1], row_offsets [out + 1] =
   the index of sparsenn_pack_spgc8_index, bits 8 or 16, interleave 0/1.
   `bias` of size 0 means no bias. */
void _mlir_ciface_sparsenn_rt_linear_spgc8_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_i8_1d *stream,
    sparsenn_memref_f32_1d *scales, sparsenn_memref_i32_1d *row_offsets,
    int64_t batch, int64_t in, int64_t out, int64_t bits, int64_t interleave);

/* NCHW conv2d, y [n, c_out, oh, ow]. format dense: values = weights
   [c_out, c_in/groups, kh, kw]; format ell (sparse taps): ia = tap_ptr,
   ib = tap_idx, values = tap_val (sparsenn_pack_conv2d_taps_f32).
   geometry = {n, c_in, h, w, c_out, kh, kw, stride_h, stride_w, pad_top,
   pad_bottom, pad_left, pad_right, dil_h, dil_w, groups}. */
void _mlir_ciface_sparsenn_rt_conv2d_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib, int64_t format,
    int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh,
    int64_t kw, int64_t stride_h, int64_t stride_w, int64_t pad_top,
    int64_t pad_bottom, int64_t pad_left, int64_t pad_right, int64_t dil_h,
    int64_t dil_w, int64_t groups);

/* The same conv2d with its epilogue fused (convert-sparsenn-to-linalg
   folds a following residual add and/or ReLU into the call):
   y = relu?(conv(x) + bias + residual); `residual` [n, c_out, oh, ow] or of
   size 0 (none), relu 0/1. The sparse kernel applies it while it stores,
   the dense library runs ReLU as a post-op. */
void _mlir_ciface_sparsenn_rt_conv2d_fused_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *values,
    sparsenn_memref_i32_1d *ia, sparsenn_memref_i32_1d *ib,
    sparsenn_memref_f32_1d *residual, int64_t format, int64_t relu, int64_t n,
    int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    int64_t groups);

/* The same conv2d on dense weights that are only known at run time (the
   weights of a training step, the output of a learnable prune): format dense
   runs the dense engine on `weights` as they are; format ell packs their
   non-zero taps at each call (O(weights), into per-thread scratch kept
   between calls) and runs the sparse-tap engine, so that a sparse layer
   skips its zero taps while it trains. */
void _mlir_ciface_sparsenn_rt_conv2d_runtime_weights_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *bias, sparsenn_memref_f32_1d *weights,
    int64_t format, int64_t n, int64_t c_in, int64_t h, int64_t w,
    int64_t c_out, int64_t kh, int64_t kw, int64_t stride_h, int64_t stride_w,
    int64_t pad_top, int64_t pad_bottom, int64_t pad_left, int64_t pad_right,
    int64_t dil_h, int64_t dil_w, int64_t groups);

/* The gradients of a conv2d with groups 1 (sparsenn_conv2d_backward_*_f32,
   the training step's sparsenn.conv2d_backward_input / _weight): dx
   [n, c_in, h, w] from dy [n, c_out, oh, ow] and weights; dw [c_out, c_in,
   kh, kw] from x and dy, at the non-zeros of `mask` only when it is not of
   size 0. */
void _mlir_ciface_sparsenn_rt_conv2d_backward_input_f32(
    sparsenn_memref_f32_1d *dy, sparsenn_memref_f32_1d *dx,
    sparsenn_memref_f32_1d *weights, int64_t n, int64_t c_in, int64_t h,
    int64_t w, int64_t c_out, int64_t kh, int64_t kw, int64_t stride_h,
    int64_t stride_w, int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
    int64_t pad_right, int64_t dil_h, int64_t dil_w);
void _mlir_ciface_sparsenn_rt_conv2d_backward_weight_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *dy,
    sparsenn_memref_f32_1d *dw, sparsenn_memref_f32_1d *mask, int64_t n,
    int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w);

/* Row-major c [m, n] (+)= op(a)·op(b) (sparsenn_gemm_f32; linalg.matmul
   with plain or transposed operand maps): a stored [m, k] or, with trans_a,
   [k, m]; b stored [k, n] or, with trans_b, [n, k]; accumulate 1 adds to
   c's contents, 0 overwrites them. */
void _mlir_ciface_sparsenn_rt_gemm_f32(sparsenn_memref_f32_1d *a,
                                       sparsenn_memref_f32_1d *b,
                                       sparsenn_memref_f32_1d *c,
                                       int64_t trans_a, int64_t trans_b,
                                       int64_t m, int64_t n, int64_t k,
                                       int64_t accumulate);

/* Every entry point above by name, for a JIT that resolves the symbols of
   generated code itself (sparse-run): one list, kept with the entry points
   so that no tool's copy can drift. */
typedef struct {
  const char *name;
  void *address;
} sparsenn_runtime_symbol;
const sparsenn_runtime_symbol *sparsenn_runtime_symbols(size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SPARSENN_RUNTIME_MEMREFABI_H */
