/*===- Types.h - what every part of the runtime C API shares ----*- C -*-===*
 *
 * One status type and error convention, one memref descriptor, and the
 * numbering of kernel formats and modes that compiled code passes to the
 * runtime. Every public name of the C API starts with `sparsenn_` /
 * `SPARSENN_` (the `mgpu*` functions of GPU.h excepted: their names are the
 * ABI MLIR's GPU lowering calls).
 *
 * Errors: functions that can fail return a sparsenn_status: SPARSENN_OK (0)
 * or a negative SPARSENN_ERR_* code; sparsenn_status_string() names it.
 * Functions that return a count or a pointer say how they fail.
 *
 * Ownership: no runtime function hands out memory the caller must free.
 * Results go into caller-provided buffers, whose sizes the caller gets
 * from the matching *_size / *_max_size query or the documented formula
 * (a buffer too small gives SPARSENN_ERR_CAPACITY with the needed size).
 * Strings returned (status names, target names, the GPU's last error) are
 * owned by the runtime; sparsenn_gpu_constant() returns device memory the
 * runtime caches until sparsenn_gpu_release_constants(). The one transfer
 * of ownership is a compiled model's results (Model.h): the generated code
 * mallocs them and the caller frees `allocated`.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_TYPES_H
#define SPARSENN_RUNTIME_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Status
 *===----------------------------------------------------------------------===*/

typedef int32_t sparsenn_status;

enum {
  SPARSENN_OK = 0,
  SPARSENN_ERR_ARGUMENT = -1,     /* bad size, NULL pointer, bad mode, ... */
  SPARSENN_ERR_RANGE = -2,        /* a value or index does not fit the format */
  SPARSENN_ERR_FORMAT = -3,       /* a row has more non-zeros than fan_in */
  SPARSENN_ERR_NOMEM = -4,        /* allocation failed */
  SPARSENN_ERR_CORRUPT = -5,      /* inconsistent or damaged data */
  SPARSENN_ERR_TRUNCATED = -6,    /* input ends before the data it announces */
  SPARSENN_ERR_CHECKSUM = -7,     /* container CRC-32 mismatch */
  SPARSENN_ERR_UNSUPPORTED = -8,  /* bad magic, unknown version/flags/layout */
  SPARSENN_ERR_IO = -9,           /* a file could not be read or written */
  SPARSENN_ERR_CAPACITY = -10,    /* output buffer too small */
  SPARSENN_ERR_DEVICE = -11       /* GPU: no driver, no device, CUDA error */
};

/* A static, human-readable name of `status` ("ok", "truncated input", ...). */
const char *sparsenn_status_string(sparsenn_status status);

/*===----------------------------------------------------------------------===*
 * Memref descriptors: what MLIR lowers a memref<...x T> to, and what
 * compiled models take and return through the `_mlir_ciface_` ABI.
 *===----------------------------------------------------------------------===*/

#define SPARSENN_MEMREF(T, N)                                                  \
  struct {                                                                     \
    T *allocated;                                                              \
    T *aligned;                                                                \
    int64_t offset;                                                            \
    int64_t sizes[N];                                                          \
    int64_t strides[N];                                                        \
  }

typedef SPARSENN_MEMREF(float, 1) sparsenn_memref_f32_1d;
typedef SPARSENN_MEMREF(float, 2) sparsenn_memref_f32_2d;
typedef SPARSENN_MEMREF(float, 3) sparsenn_memref_f32_3d;
typedef SPARSENN_MEMREF(float, 4) sparsenn_memref_f32_4d;
typedef SPARSENN_MEMREF(int32_t, 1) sparsenn_memref_i32_1d;
typedef SPARSENN_MEMREF(uint16_t, 1) sparsenn_memref_i16_1d;
typedef SPARSENN_MEMREF(uint8_t, 1) sparsenn_memref_i8_1d;

/*===----------------------------------------------------------------------===*
 * Numbering shared with the compiler. The values are the ODS enums'
 * (#sparsenn.kernel<...>, KWinnersMode); the lowering static_asserts that
 * they agree (lib/Conversion/SparseNNToLinalg/SparseNNToLinalg.cpp).
 *===----------------------------------------------------------------------===*/

/* Kernel formats, as #sparsenn.kernel<...> numbers them. */
enum {
  SPARSENN_FORMAT_DENSE = 0,
  SPARSENN_FORMAT_ELL = 1,
  SPARSENN_FORMAT_BLOCK16 = 2,
  SPARSENN_FORMAT_SPARSE_SPARSE = 3,
  SPARSENN_FORMAT_SPGC8 = 4
};

/* k-winners selection domains, as sparsenn.kwinners' modes number them. */
enum {
  SPARSENN_KW_GLOBAL = 0, /* all channels*spatial values of a sample */
  SPARSENN_KW_GROUP = 1,  /* consecutive blocks of group_size (flattened) */
  SPARSENN_KW_LOCAL = 2,  /* the `channels` values at one spatial position */
  SPARSENN_KW_CHANNEL = 3 /* the `spatial` values of one channel */
};

/* 2-D pooling modes. */
enum {
  SPARSENN_POOL_MAX = 0, /* maximum; a NaN in the window gives NaN */
  SPARSENN_POOL_SUM = 1  /* sum */
};

#ifdef __cplusplus
}
#endif

#endif /* SPARSENN_RUNTIME_TYPES_H */
