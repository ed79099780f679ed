//===- Status.cpp - the runtime's one status type -------------------------===//

#include "sparsenn/Runtime/Types.h"

extern "C" const char *sparsenn_status_string(sparsenn_status s) {
  switch (s) {
  case SPARSENN_OK:
    return "ok";
  case SPARSENN_ERR_ARGUMENT:
    return "invalid argument";
  case SPARSENN_ERR_RANGE:
    return "value out of range";
  case SPARSENN_ERR_FORMAT:
    return "weights do not fit the kernel format";
  case SPARSENN_ERR_NOMEM:
    return "out of memory";
  case SPARSENN_ERR_CORRUPT:
    return "corrupt data";
  case SPARSENN_ERR_TRUNCATED:
    return "truncated input";
  case SPARSENN_ERR_CHECKSUM:
    return "checksum mismatch";
  case SPARSENN_ERR_UNSUPPORTED:
    return "unsupported format (bad magic, version, flags or layout)";
  case SPARSENN_ERR_IO:
    return "I/O error";
  case SPARSENN_ERR_CAPACITY:
    return "output buffer too small";
  case SPARSENN_ERR_DEVICE:
    return "GPU unavailable or failed (see sparsenn_gpu_last_error)";
  }
  return "unknown status";
}
