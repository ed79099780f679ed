//===- MemRefABI.cpp - runtime entry points for compiled code -------------===//

#include "sparsenn/Runtime/MemRefABI.h"
#include "sparsenn/Runtime/Kernels.h"

#include <cstdio>
#include <cstdlib>

extern "C" void _mlir_ciface_sparsenn_rt_kwinners_f32(
    sparsenn_memref_f32_1d *x, sparsenn_memref_f32_1d *y,
    sparsenn_memref_f32_1d *duty, int64_t batch, int64_t channels,
    int64_t spatial, int64_t mode, int64_t k, int64_t group_size,
    float boost_strength, int64_t break_ties, int64_t relu) {
  const float *dutyData =
      duty->sizes[0] > 0 ? duty->aligned + duty->offset : nullptr;
  int status = sparsenn_kwinners_f32(
      x->aligned + x->offset, y->aligned + y->offset, batch, channels, spatial,
      static_cast<int>(mode), k, group_size, dutyData, boost_strength,
      static_cast<int>(break_ties), static_cast<int>(relu));
  // The compiler verified the arguments; a failure here is a bug, and
  // generated code has no error channel: stop loudly rather than return
  // garbage.
  if (status != 0) {
    std::fprintf(stderr, "sparsenn runtime: k-winners kernel failed (%d)\n",
                 status);
    std::abort();
  }
}
