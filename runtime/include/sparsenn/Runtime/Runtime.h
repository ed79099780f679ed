/*===- Runtime.h - the sparsenn runtime's C API, in one include -*- C -*-===*
 *
 * The runtime is plain C ABI (no MLIR), linked by compiled models and by
 * programs that call its kernels or codec directly:
 *
 *   Types.h      status codes, memref descriptors, format and mode numbers,
 *                the error and ownership conventions of every function;
 *   Kernels.h    CPU kernels (linear in every weight format, conv2d,
 *                k-winners, pooling), SIMD target and thread control;
 *   SPGC8.h      the SPGC8 weight codec and container;
 *   Model.h      calling a library made by sparse-compile;
 *   MemRefABI.h  the `_mlir_ciface_sparsenn_rt_*` entry points compiled code
 *                calls;
 *   GPU.h        the CUDA launch runtime of GPU-compiled models.
 *
 *===----------------------------------------------------------------------===*/

#ifndef SPARSENN_RUNTIME_RUNTIME_H
#define SPARSENN_RUNTIME_RUNTIME_H

#include "sparsenn/Runtime/Types.h"

#include "sparsenn/Runtime/GPU.h"
#include "sparsenn/Runtime/Kernels.h"
#include "sparsenn/Runtime/MemRefABI.h"
#include "sparsenn/Runtime/Model.h"
#include "sparsenn/Runtime/SPGC8.h"

#endif /* SPARSENN_RUNTIME_RUNTIME_H */
