/*===- SPGC8.h - SPGC8 coefficient codec (C ABI) ---------------*- C -*-===*\
|*                                                                            *|
|* Single Prefix Grouped Coding 8 (EP 21216321.6 [0100]-[0109],              *|
|* [0168]-[0173]). Pure C ABI, no MLIR or C++ types, so it can be called     *|
|* from generated code, from the dialect's folders and from Python (ctypes). *|
|*                                                                            *|
|* The format is documented normatively in docs/spgc8.md.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_SPGC8_H
#define SPARSENN_RUNTIME_SPGC8_H

#include "sparsenn/Runtime/Types.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status: sparsenn_status (Types.h); SPARSENN_ERR_CAPACITY sets *out_size to
   the size needed. */

/*===----------------------------------------------------------------------===*
 * Subset-level helpers (docs/spgc8.md §1, EP 21216321.6 [0105]-[0108]).
 *===----------------------------------------------------------------------===*/

/* Sign folding: u = 2c for c >= 0, u = -2c - 1 for c < 0 ([0105]). */
uint32_t sparsenn_spgc8_fold(int32_t c);
int32_t sparsenn_spgc8_unfold(uint32_t u);

/* Header width h: 3 for D = 8, 4 for D = 16; 0 for any other D. */
int sparsenn_spgc8_header_bits(int bits);
/* Body width b named by a header code; -1 if the code is out of range.
   D = 8: 0..6 -> 0..6, 7 -> 8.  D = 16: 0..14 -> 0..14, 15 -> 16. */
int sparsenn_spgc8_code_to_body_bits(int code, int bits);
/* Header code for a subset whose largest folded value needs `needed` bits
   (0..D); the stored width may be larger (7 -> 8 for D = 8, 15 -> 16 for
   D = 16). -1 on bad arguments. */
int sparsenn_spgc8_body_bits_to_code(int needed, int bits);
/* Stored body width b of one subset of 8 folded (or unsigned) values. */
int sparsenn_spgc8_subset_body_bits(const uint16_t folded[8], int bits);
/* Cost of one subset in bits: h + 8 b (EP 21216321.6 [0107]: 43 bits for
   (31, 3, 1, 5, 3, 4, 5, 6) with D = 8). */
uint32_t sparsenn_spgc8_subset_cost_bits(const uint16_t folded[8], int bits);

/*===----------------------------------------------------------------------===*
 * Raw stream (docs/spgc8.md §1, normative). `interleave` != 0 selects groups
 * of 16 = (V0, V2, .., V14) then (V1, V3, .., V15); the vector is zero-padded
 * to a multiple of 8 (16 when interleaved). `is_unsigned` != 0 disables sign
 * folding: the value is the storage bit pattern taken as unsigned and must be
 * < 2^D.
 *===----------------------------------------------------------------------===*/

/* Number of subsets S for n values. */
size_t sparsenn_spgc8_num_subsets(size_t num_values, int interleave);
/* Worst-case raw stream size in bytes (ceil(h S / 8) + S D). */
size_t sparsenn_spgc8_raw_max_size(size_t num_values, int bits, int interleave);

/* Encoders. On SPARSENN_ERR_CAPACITY, *out_size holds the exact size needed
   (pass out = NULL, out_capacity = 0 to query it). */
sparsenn_status sparsenn_spgc8_encode_raw_i16(const int16_t *values, size_t n, int bits,
                                  int interleave, int is_unsigned, uint8_t *out,
                                  size_t out_capacity, size_t *out_size);
sparsenn_status sparsenn_spgc8_encode_raw_i8(const int8_t *values, size_t n, int bits,
                                 int interleave, int is_unsigned, uint8_t *out,
                                 size_t out_capacity, size_t *out_size);

/* Decoders: decode n values from a raw stream of in_size bytes. *consumed
   (may be NULL) receives the stream's size. Never reads or writes out of
   bounds; a stream that is too short gives SPARSENN_ERR_TRUNCATED, non-zero
   padding values give SPARSENN_ERR_CORRUPT. */
sparsenn_status sparsenn_spgc8_decode_raw_i16(const uint8_t *in, size_t in_size, size_t n,
                                  int bits, int interleave, int is_unsigned,
                                  int16_t *values, size_t *consumed);
sparsenn_status sparsenn_spgc8_decode_raw_i8(const uint8_t *in, size_t in_size, size_t n,
                                 int bits, int interleave, int is_unsigned,
                                 int8_t *values, size_t *consumed);

/* Size of the raw stream of n values, from its headers only. */
sparsenn_status sparsenn_spgc8_raw_stream_size(const uint8_t *in, size_t in_size, size_t n,
                                   int bits, int interleave,
                                   size_t *stream_size);

/* Reads the header codes of the first num_subsets subsets into codes[]
   (one byte each); TRUNCATED if in_size is too small for them. */
sparsenn_status sparsenn_spgc8_raw_read_codes(const uint8_t *in, size_t in_size,
                                  size_t num_subsets, int bits, uint8_t *codes);

/* Implementation selection (tests and benchmarks compare them). AUTO picks
   the fastest one the CPU supports (checked with __builtin_cpu_supports). */
typedef enum {
  SPARSENN_SPGC8_IMPL_AUTO = 0,
  SPARSENN_SPGC8_IMPL_REFERENCE = 1, /* bit-by-bit loops, straight from docs/spgc8.md */
  SPARSENN_SPGC8_IMPL_PORTABLE = 2,  /* 64-bit SWAR bit-matrix transposes */
  SPARSENN_SPGC8_IMPL_AVX512 = 3     /* AVX-512 VBMI + GFNI (x86-64 only) */
} sparsenn_spgc8_impl;
int sparsenn_spgc8_impl_available(sparsenn_spgc8_impl impl);
const char *sparsenn_spgc8_impl_name(sparsenn_spgc8_impl impl);
sparsenn_status sparsenn_spgc8_encode_raw_i8_impl(const int8_t *values, size_t n, int bits,
                                      int interleave, int is_unsigned,
                                      uint8_t *out, size_t out_capacity,
                                      size_t *out_size, sparsenn_spgc8_impl impl);
sparsenn_status sparsenn_spgc8_decode_raw_i8_impl(const uint8_t *in, size_t in_size,
                                      size_t n, int bits, int interleave,
                                      int is_unsigned, int8_t *values,
                                      size_t *consumed, sparsenn_spgc8_impl impl);
sparsenn_status sparsenn_spgc8_decode_raw_i16_impl(const uint8_t *in, size_t in_size,
                                       size_t n, int bits, int interleave,
                                       int is_unsigned, int16_t *values,
                                       size_t *consumed, sparsenn_spgc8_impl impl);

/*===----------------------------------------------------------------------===*
 * Tensor traversal (docs/spgc8.md §2, EP 21216321.6 [0138]): groups run
 * along the input-channel axis (axis 1).
 *   rank <= 1 : FLAT   - the whole tensor is one vector;
 *   rank == 2 : LINEAR - [out, in]: one vector per row;
 *   rank >= 3 : CONV   - [Cout, Cin, k...]: one vector of Cin values at each
 *               fixed (o, k...), i.e. 1x16x1x1 groups; vectors ordered by o,
 *               then the spatial index in C order.
 * Every vector is zero-padded to a multiple of 16; the padded vectors are
 * concatenated and encoded as ONE raw stream (what the dialect stores in IR).
 *===----------------------------------------------------------------------===*/
#define SPARSENN_SPGC8_MAX_RANK 8

typedef enum {
  SPARSENN_SPGC8_LAYOUT_FLAT = 0,
  SPARSENN_SPGC8_LAYOUT_LINEAR = 1,
  SPARSENN_SPGC8_LAYOUT_CONV = 2
} sparsenn_spgc8_layout;

sparsenn_spgc8_layout sparsenn_spgc8_layout_for_rank(int rank);
/* Geometry of the traversal: number of vectors, vector length, padded
   vector length (multiple of 16). */
sparsenn_status sparsenn_spgc8_tensor_geometry(const int64_t *shape, int rank,
                                   size_t *num_vectors, size_t *vector_length,
                                   size_t *padded_length);
/* Total number of padded values = num_vectors * padded_length. */
size_t sparsenn_spgc8_tensor_padded_values(const int64_t *shape, int rank);

sparsenn_status sparsenn_spgc8_encode_tensor_stream_i8(const int8_t *values,
                                           const int64_t *shape, int rank,
                                           int bits, int interleave,
                                           int is_unsigned, uint8_t *out,
                                           size_t out_capacity,
                                           size_t *out_size);
sparsenn_status sparsenn_spgc8_encode_tensor_stream_i16(const int16_t *values,
                                            const int64_t *shape, int rank,
                                            int bits, int interleave,
                                            int is_unsigned, uint8_t *out,
                                            size_t out_capacity,
                                            size_t *out_size);
sparsenn_status sparsenn_spgc8_decode_tensor_stream_i8(const uint8_t *in, size_t in_size,
                                           const int64_t *shape, int rank,
                                           int bits, int interleave,
                                           int is_unsigned, int8_t *values,
                                           size_t *consumed);
sparsenn_status sparsenn_spgc8_decode_tensor_stream_i16(const uint8_t *in, size_t in_size,
                                            const int64_t *shape, int rank,
                                            int bits, int interleave,
                                            int is_unsigned, int16_t *values,
                                            size_t *consumed);
/* Worst-case size of a tensor stream. */
size_t sparsenn_spgc8_tensor_stream_max_size(const int64_t *shape, int rank, int bits,
                                    int interleave);

/* Symmetric per-output-channel quantisation (axis 0; one channel for
   rank <= 1): scale = max|w| / (2^(D-1) - 1), q = round-half-away-from-zero
   (w / scale) clamped to +-(2^(D-1) - 1); an all-zero channel has scale 0
   and q = 0. `scales` receives sparsenn_spgc8_num_channels(shape, rank) floats.
   Non-finite input gives SPARSENN_ERR_RANGE. */
size_t sparsenn_spgc8_num_channels(const int64_t *shape, int rank);
sparsenn_status sparsenn_spgc8_quantize_f32(const float *w, const int64_t *shape, int rank,
                                int bits, int16_t *q, float *scales);

/*===----------------------------------------------------------------------===*
 * Tensor container (docs/spgc8.md): magic "SPG8", version, flags, D, dtype,
 * layout, shape, optional float32 scales, per-output-channel offset index,
 * the tensor stream, CRC-32.
 *===----------------------------------------------------------------------===*/
#define SPARSENN_SPGC8_CONTAINER_VERSION 1

typedef enum {
  SPARSENN_SPGC8_DTYPE_I8 = 1,
  SPARSENN_SPGC8_DTYPE_I16 = 2,
  SPARSENN_SPGC8_DTYPE_F32 = 3 /* quantised from float32: scales present */
} sparsenn_spgc8_dtype;

typedef struct {
  uint32_t version;
  int bits;          /* D: 8 or 16 */
  int interleave;    /* 0 adjacent, 1 interleaved */
  int is_unsigned;   /* 1: no sign folding */
  int has_scales;    /* 1: per-channel float32 scales present */
  sparsenn_spgc8_dtype dtype; /* element type of the original tensor */
  sparsenn_spgc8_layout layout;
  int rank;
  int64_t shape[SPARSENN_SPGC8_MAX_RANK];
  uint64_t num_values;     /* product of shape */
  uint64_t num_rows;       /* index rows: output channels (1 block for FLAT) */
  uint64_t row_values;     /* padded stream values per index row */
  uint64_t num_channels;   /* scales count (if present) */
  uint64_t payload_offset; /* byte offset of the raw stream in the file */
  uint64_t payload_size;   /* raw stream bytes */
  uint64_t container_size; /* total bytes incl. CRC */
} sparsenn_spgc8_info;

/* Worst-case container size. */
size_t sparsenn_spgc8_container_max_size(const int64_t *shape, int rank, int bits,
                                int interleave, int has_scales);

/* Encode integer values (dtype I8 or I16 storage; `scales` may be NULL, else
   sparsenn_spgc8_num_channels floats are stored and the dtype recorded is F32). */
sparsenn_status sparsenn_spgc8_container_encode(const void *values, sparsenn_spgc8_dtype dtype,
                                    const int64_t *shape, int rank, int bits,
                                    int interleave, int is_unsigned,
                                    const float *scales, uint8_t *out,
                                    size_t out_capacity, size_t *out_size);

/* Parse and validate the header, shape and sizes (not the CRC). */
sparsenn_status sparsenn_spgc8_container_info(const uint8_t *in, size_t in_size,
                                  sparsenn_spgc8_info *info);
/* Check the CRC-32 of a container. */
sparsenn_status sparsenn_spgc8_container_verify(const uint8_t *in, size_t in_size);

/* Full decode (checks the CRC) into integers: out_dtype I8 (only if D = 8)
   or I16; `values` holds num_values elements. `scales` (may be NULL)
   receives num_channels floats when present. */
sparsenn_status sparsenn_spgc8_container_decode(const uint8_t *in, size_t in_size,
                                    void *values, sparsenn_spgc8_dtype out_dtype,
                                    size_t values_capacity, float *scales,
                                    size_t scales_capacity);
/* Full decode to float32: q * scale[channel] (scale 1 when no scales). */
sparsenn_status sparsenn_spgc8_container_decode_f32(const uint8_t *in, size_t in_size,
                                        float *values, size_t values_capacity);
/* Decode one index row (an output channel; the whole tensor for FLAT) using
   the offset index, without touching the rest of the payload. Does not check
   the CRC (call sparsenn_spgc8_container_verify once). Writes row_elements =
   num_values / num_rows values in the tensor's own C order. */
sparsenn_status sparsenn_spgc8_container_decode_row(const uint8_t *in, size_t in_size,
                                        uint64_t row, void *values,
                                        sparsenn_spgc8_dtype out_dtype,
                                        size_t values_capacity);

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32). */
uint32_t sparsenn_spgc8_crc32(uint32_t crc, const void *data, size_t size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SPARSENN_RUNTIME_SPGC8_H */
