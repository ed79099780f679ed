/*===- Kernels.h - fp32 CPU kernels for sparse layers (C ABI) ---*- C -*-===*\
|*                                                                            *|
|* Single-threaded fp32 kernels called from generated code (kernel selection *|
|* and convert-sparsenn-to-linalg) and from the benchmarks. Plain C ABI on   *|
|* raw pointers and sizes: no MLIR memref descriptors, no C++ types.         *|
|*                                                                            *|
|* Sparse weights and sparse activations exist to skip work (seed 000 [0035],*|
|* [0044], [0047]): every sparse kernel here touches only the stored         *|
|* non-zeros (and, for sparse-sparse, only the non-zero inputs).             *|
|*                                                                            *|
|* Conventions (docs/semantics.md §1):                                       *|
|*  - linear: y = x W^T + b, W logically [out, in] row-major, x [batch, in], *|
|*    y [batch, out], all row-major and densely packed; bias may be NULL.    *|
|*  - conv2d: NCHW, weights [C_out, C_in/groups, kH, kW], PyTorch semantics, *|
|*    padding [top, bottom, left, right].                                    *|
|*  - every function returns 0 on success and a negative SPARSENN_K_ERR_*    *|
|*    value on a bad argument (nothing is written then); none allocates      *|
|*    unless documented, none throws, none keeps state between calls.        *|
|*  - x and y must not overlap.                                              *|
|*                                                                            *|
|* An AVX-512 implementation (F/BW/DQ/VL + BMI2) is chosen at run time with  *|
|* __builtin_cpu_supports; every kernel also has a portable implementation.  *|
|* The formats are documented in docs/performance.md ("Runtime kernels").    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_KERNELS_H
#define SPARSENN_RUNTIME_KERNELS_H

#include "sparsenn/Runtime/Types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif


/*===----------------------------------------------------------------------===*
 * Implementation selection.
 *===----------------------------------------------------------------------===*/

/* 1 if the AVX-512 implementation is in use for the next calls, else 0. */
int sparsenn_kernels_using_avx512(void);
/* force != 0: use the portable implementation even where AVX-512 exists
   (tests and benchmarks); 0: automatic (default). Returns the old setting.
   Process-wide; not meant to be flipped while kernels run on other threads.*/
int sparsenn_kernels_force_portable(int force);

/* SIMD targets (Google Highway): the kernels are compiled for every target
   of the architecture and dispatched at run time to the best one the CPU
   has. count/name list those this CPU supports (best first, e.g. "AVX3_DL",
   "AVX3" (AVX-512), "AVX2", "SSE4", "NEON", "EMU128"); select restricts
   the kernels to one of them by name (NULL or "": automatic) and returns
   SPARSENN_ERR_ARGUMENT for an unknown name; current names the target the
   next calls use ("portable" when forced). For tests and benchmarks:
   process-wide, not to be changed while kernels run. The environment
   variable SPARSENN_KERNEL_TARGET=NAME (or "portable") makes the same
   choice at start-up. */
int sparsenn_kernels_target_count(void);
const char *sparsenn_kernels_target_name(int index);
int sparsenn_kernels_select_target(const char *name);
const char *sparsenn_kernels_current_target(void);

/*===----------------------------------------------------------------------===*
 * Threads (intra-op parallelism).
 *
 * Kernels split their work by shape only, so results are bit-identical for
 * any thread count. The default is SPARSENN_NUM_THREADS from the environment
 * when set (1-1024), else the number of cores.
 *===----------------------------------------------------------------------===*/

/* threads 1-1024, or 0 for the default; returns SPARSENN_OK or
   SPARSENN_ERR_ARGUMENT. Takes effect for the next kernel calls. */
int sparsenn_set_num_threads(int threads);
int sparsenn_get_num_threads(void);

/* The dense library behind the dense layers: "onednn" when the runtime was
   built with oneDNN (docs/performance.md, "Dense layers"), else "builtin".*/
const char *sparsenn_dense_backend(void);

/* enable == 0: dense layers run the builtin kernels instead of the dense
   library (to compare them, and to test the builtin path on a machine that
   has the library); returns the previous setting (1: library on). The
   default is on. Process-wide; not for use while kernels run. */
int sparsenn_dense_library_enable(int enable);

/*===----------------------------------------------------------------------===*
 * Linear layers: y[b, o] = bias[o] + sum_i x[b, i] * W[o, i].
 *===----------------------------------------------------------------------===*/

/* Row-major GEMM: c[m, n] = op(a)·op(b) + beta·c with op(a) [m, k], op(b)
   [k, n]; trans_a / trans_b 'N' (as stored) or 'T' (transposed: a stored
   [k, m], b stored [n, k]); lda, ldb, ldc the row strides as stored. On the
   dense library's sgemm when the runtime has it, else builtin vector loops;
   blocks of c on the thread pool, results identical for any thread count. */
sparsenn_status sparsenn_gemm_f32(char trans_a, char trans_b, int64_t m,
                                  int64_t n, int64_t k, const float *a,
                                  int64_t lda, const float *b, int64_t ldb,
                                  float beta, float *c, int64_t ldc);

/* Dense: the dense library's GEMM (oneDNN's sgemm) when the runtime has
   it; else blocked GEMV (batch < 4) / GEMM (4x4 register tiles, 1024-wide
   k blocks) on W [out, in]. */
sparsenn_status sparsenn_linear_dense_f32(const float *x, int64_t batch, int64_t in,
                              const float *w, int64_t out, const float *bias,
                              float *y);

/* ELL, fixed fan-in (seed 000 [0041]-[0044]): every output row stores K
   (value, column) pairs, values [out*K] float, cols [out*K] uint16 (so
   in <= 65536), row-major by output row, columns increasing within a row;
   rows with fewer than K non-zeros are padded with value 0 / column 0.
   Packing: fan_in > 0 fixes K = fan_in (a row with more non-zeros is
   SPARSENN_ERR_FORMAT); fan_in == 0 uses K = max non-zeros of a row
   (at least 1). values == NULL or cols == NULL: only *k is computed. */
sparsenn_status sparsenn_pack_ell_f32(const float *w, int64_t out, int64_t in,
                          int64_t fan_in, float *values, uint16_t *cols,
                          int64_t *k);
sparsenn_status sparsenn_linear_ell_f32(const float *x, int64_t batch, int64_t in,
                            const float *values, const uint16_t *cols,
                            int64_t out, int64_t k, const float *bias,
                            float *y);

/* Block-16 (1x16 groups along `in`, aligned with SPGC8 groups,
   docs/spgc8.md §2): block p of row o covers columns [block_cols[p],
   block_cols[p] + 16); block_cols[p] is a multiple of 16; the blocks of row
   o are p in [row_ptr[o], row_ptr[o+1]), increasing columns; values[16p+j]
   = W[o, block_cols[p] + j] (0 past `in`). A block is kept when any of its
   values is non-zero. Packing: *nblocks always receives the block count;
   row_ptr (int32 [out+1]) is written when non-NULL; block_cols (int32
   [nblocks]) and values (float [nblocks*16]) are written when both are
   non-NULL (size query: pass NULL, allocate, call again). */
sparsenn_status sparsenn_pack_block16_f32(const float *w, int64_t out, int64_t in,
                              int32_t *row_ptr, int32_t *block_cols,
                              float *values, int64_t *nblocks);
sparsenn_status sparsenn_linear_block16_f32(const float *x, int64_t batch, int64_t in,
                                const int32_t *row_ptr,
                                const int32_t *block_cols, const float *values,
                                int64_t out, const float *bias, float *y);

/* Sparse-sparse (sparse weights x sparse k-winners activations, seed 000
   [0047]): CSC by input column. The non-zeros of column i are p in
   [col_ptr[i], col_ptr[i+1]), row_idx[p] the output row (increasing),
   values[p] = W[row_idx[p], i]. Packing: *nnz always receives the count;
   col_ptr (int32 [in+1]) written when non-NULL; row_idx (int32 [nnz]) and
   values (float [nnz]) written when both are non-NULL. The kernel scans each
   sample for non-zero inputs and accumulates only those weight columns. */
sparsenn_status sparsenn_pack_csc_f32(const float *w, int64_t out, int64_t in,
                          int32_t *col_ptr, int32_t *row_idx, float *values,
                          int64_t *nnz);
sparsenn_status sparsenn_linear_sparse_sparse_f32(const float *x, int64_t batch, int64_t in,
                                      const int32_t *col_ptr,
                                      const int32_t *row_idx,
                                      const float *values, int64_t out,
                                      const float *bias, float *y);

/* SPGC8-compressed weights (docs/spgc8.md §2, §4), decoded tile
   by tile inside the product instead of at load time. `stream` (stream_size
   bytes) is the raw SPGC8 tensor stream of W [out, in] exactly as
   sparsenn.compressed_constant stores it: every row zero-padded to a
   multiple of 16 (the LINEAR traversal), signed coefficients q of D = bits
   (8 or 16), adjacent (interleave = 0) or interleaved groups. The weight is
   W[o, i] = q[o, i] * scales[num_scales == 1 ? 0 : o] (num_scales is 1 or
   out), computed in float, so the products equal those of the dequantised
   dense weights.

   row_offsets (int32 [out + 1]) is the per-row index that
   sparsenn_pack_spgc8_index builds at pack time: entry r is the offset of
   row r's first body byte counted from the end of the header region (the
   container's index of docs/spgc8.md section 3), entry out the total body
   size. The stream is sequential: the header codes of row r start at the
   computable subset r * padded_in / 8, but its bodies only after all the
   bodies before it; the index lets a row be decoded on its own.

   Packing: validates the stream against the shape (headers present, bodies
   summing to exactly stream_size) and fills row_offsets;
   SPARSENN_ERR_CORRUPT when it does not match, SPARSENN_ERR_RANGE when
   the body exceeds INT32_MAX bytes.

   Kernel: per output row, the header codes are scanned and only the groups
   of 16 with a non-zero code are decoded (an all-zero group has no body and
   costs nothing but its 6 or 8 header bits); batch 1 multiplies each decoded
   group straight from registers, larger batches decode row tiles into the
   block-16 layout in a 256 KiB scratch (allocated per call) that every
   sample then reuses. The AVX-512 path for D = 8 also needs VBMI, VBMI2 and
   GFNI. Returns SPARSENN_ERR_CORRUPT, without reading out of bounds, when
   the index does not match the stream's headers, a row's bodies overrun the
   index or the padding past `in` is non-zero; y is then unspecified. */
sparsenn_status sparsenn_pack_spgc8_index(const uint8_t *stream, int64_t stream_size,
                              int64_t out, int64_t in, int bits, int interleave,
                              int32_t *row_offsets);
sparsenn_status sparsenn_linear_spgc8_f32(const float *x, int64_t batch, int64_t in,
                              const uint8_t *stream, int64_t stream_size,
                              const int32_t *row_offsets, int bits,
                              int interleave, const float *scales,
                              int64_t num_scales, int64_t out,
                              const float *bias, float *y);

/*===----------------------------------------------------------------------===*
 * k-winners (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077]).
 *===----------------------------------------------------------------------===*/

/* Modes: SPARSENN_KW_* (Types.h). */

/* x, y: [batch, channels, spatial] (rank 2 [B, F]: channels = F, spatial =
   1; NCHW: channels = C, spatial = H*W). y may equal x (in place).
   Ranking value: r = x * exp(boost_strength * (k / n - duty[c])) with n the
   domain size and c the element's channel, computed in float exactly as
     float f = expf(boost_strength * ((float)k / (float)n - duty[c]));
     float r = x * f;
   (no boosting when duty == NULL or boost_strength == 0: r = x). -0 ranks
   as +0. Winners keep their unboosted x, all others become 0.
   break_ties != 0: exactly min(k, n) winners, the lower index inside the
   domain wins a tie; otherwise every value with r >= the k-th largest r wins.
   relu != 0: x <= 0 never wins (so fewer than k may win). k <= 0: no winner;
   k >= n: every element is a candidate. group mode: a last group shorter
   than group_size (channels*spatial not a multiple) is its own domain with
   n = its size and k clamped to n. NaN inputs give unspecified winners.
   Uses a sampled threshold search with a radix-select fallback (no sort);
   allocates O(n) scratch per call. */
sparsenn_status sparsenn_kwinners_f32(const float *x, float *y, int64_t batch,
                          int64_t channels, int64_t spatial, int mode,
                          int64_t k, int64_t group_size, const float *duty,
                          float boost_strength, int break_ties, int relu);

/*===----------------------------------------------------------------------===*
 * 2-D pooling, NCHW: linalg.pooling_nchw_max / linalg.pooling_nchw_sum on an
 * input padded by a constant (average pooling is a sum, then a division).
 *===----------------------------------------------------------------------===*/

/* Modes: SPARSENN_POOL_* (Types.h). */

/* x [N, C, H, W], y [N, C, OH, OW] with OH, OW as for conv2d
   (sparsenn_conv2d_output_size):
     y[n, c, oy, ox] = init (+) over r < kh, q < kw of
                       xpad[n, c, oy*stride_h + r*dil_h, ox*stride_w + q*dil_w]
   where xpad is x padded by pad_top/bottom/left/right copies of pad_value
   and (+) is max or + by mode, applied left to right from init. A sum adds
   the kh rows of a window first, then its kw columns (rounding may differ
   from the (r, q) order by a few ulps). Vectorised for every SIMD target,
   threaded over the N*C planes (results independent of the thread count). */
sparsenn_status sparsenn_pool2d_f32(const float *x, int64_t n, int64_t c, int64_t h,
                        int64_t w, int64_t kh, int64_t kw, int64_t stride_h,
                        int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                        int64_t pad_left, int64_t pad_right, int64_t dil_h,
                        int64_t dil_w, int mode, float pad_value, float init,
                        float *y);

/*===----------------------------------------------------------------------===*
 * conv2d, NCHW, PyTorch semantics (seed 000 [0072]).
 * x [N, C_in, H, W]; weights [C_out, C_in/groups, kH, kW]; y [N, C_out, OH,
 * OW] with OH = (H + pad_top + pad_bottom - dil_h*(kH-1) - 1)/stride_h + 1,
 * OW likewise (use sparsenn_conv2d_output_size). bias may be NULL.
 *===----------------------------------------------------------------------===*/

/* Output size along one axis, or -1 when the kernel does not fit. */
int64_t sparsenn_conv2d_output_size(int64_t in, int64_t kernel, int64_t stride,
                                    int64_t pad_lo, int64_t pad_hi,
                                    int64_t dilation);

/* Dense convolution: through the dense library (oneDNN) when the runtime
   has it, else a direct convolution over every tap, zero or not. */
sparsenn_status sparsenn_conv2d_dense_f32(const float *x, int64_t n, int64_t c_in,
                              int64_t h, int64_t w_in, const float *weights,
                              int64_t c_out, int64_t kh, int64_t kw,
                              const float *bias, int64_t stride_h,
                              int64_t stride_w, int64_t pad_top,
                              int64_t pad_bottom, int64_t pad_left,
                              int64_t pad_right, int64_t dil_h, int64_t dil_w,
                              int64_t groups, float *y);

/* Same, for weights that stay unchanged at this address for the life of the
   process (compiled constants): the dense library keeps its reordered copy
   of them between calls. */
sparsenn_status sparsenn_conv2d_dense_const_f32(
    const float *x, int64_t n, int64_t c_in, int64_t h, int64_t w_in,
    const float *weights, int64_t c_out, int64_t kh, int64_t kw,
    const float *bias, int64_t stride_h, int64_t stride_w, int64_t pad_top,
    int64_t pad_bottom, int64_t pad_left, int64_t pad_right, int64_t dil_h,
    int64_t dil_w, int64_t groups, float *y);

/* Gradients of a conv2d with groups 1 for training (the geometry
   arguments as for sparsenn_conv2d_dense_f32; dy [N, C_out, OH, OW]):
   dx [N, C_in, H, W] = the input gradient for `weights`; dw [C_out, C_in,
   kH, kW] = the weight gradient for input x. With a non-NULL `mask` (the
   shape of dw), dw is computed at the mask's non-zero elements only and is
   0 elsewhere (a fixed fan-in layer); stride 1 and dilation 1 then skip
   the masked-out taps' work. Both run on the thread pool, results identical
   for any thread count. */
sparsenn_status sparsenn_conv2d_backward_input_f32(
    const float *dy, int64_t n, int64_t c_in, int64_t h, int64_t w_in,
    const float *weights, int64_t c_out, int64_t kh, int64_t kw,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float *dx);
sparsenn_status sparsenn_conv2d_backward_weight_f32(
    const float *x, int64_t n, int64_t c_in, int64_t h, int64_t w_in,
    const float *dy, int64_t c_out, int64_t kh, int64_t kw, const float *mask,
    int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
    int64_t pad_left, int64_t pad_right, int64_t dil_h, int64_t dil_w,
    float *dw);

/* Sparse taps: for output channel o the non-zero taps are t in
   [tap_ptr[o], tap_ptr[o+1]) with tap_idx[t] = (c * kH + r) * kW + s (c the
   input channel inside o's group, r, s the kernel row/column; increasing)
   and tap_val[t] the weight. Packing: *ntaps always receives the count;
   tap_ptr (int32 [C_out+1]) written when non-NULL; tap_idx (int32 [ntaps])
   and tap_val (float [ntaps]) written when both are non-NULL. */
sparsenn_status sparsenn_pack_conv2d_taps_f32(const float *weights, int64_t c_out,
                                  int64_t c_in_per_group, int64_t kh,
                                  int64_t kw, int32_t *tap_ptr,
                                  int32_t *tap_idx, float *tap_val,
                                  int64_t *ntaps);
/* Same result as sparsenn_conv2d_dense_f32, skipping zero taps: a sparse
   matrix (the taps) times the im2col matrix of each image, row-stationary
   (runtime/lib/KernelsConvSparse.cpp), on the thread pool. */
sparsenn_status sparsenn_conv2d_sparse_f32(
    const float *x, int64_t n, int64_t c_in, int64_t h, int64_t w_in,
    const int32_t *tap_ptr, const int32_t *tap_idx, const float *tap_val,
    int64_t c_out, int64_t kh, int64_t kw, const float *bias, int64_t stride_h,
    int64_t stride_w, int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
    int64_t pad_right, int64_t dil_h, int64_t dil_w, int64_t groups, float *y);
/* Same, for taps that stay unchanged at these addresses for the life of the
   process (compiled constants): their re-sorted copy is kept between
   calls. */
sparsenn_status sparsenn_conv2d_sparse_const_f32(
    const float *x, int64_t n, int64_t c_in, int64_t h, int64_t w_in,
    const int32_t *tap_ptr, const int32_t *tap_idx, const float *tap_val,
    int64_t c_out, int64_t kh, int64_t kw, const float *bias, int64_t stride_h,
    int64_t stride_w, int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
    int64_t pad_right, int64_t dil_h, int64_t dil_w, int64_t groups, float *y);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARSENN_RUNTIME_KERNELS_H */
