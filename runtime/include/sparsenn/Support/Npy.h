//===- Npy.h - Minimal .npy reader and writer --------------------*- C++
//-*-===//
//
// NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order only, little-
// endian numeric dtypes. Used by the spgc8 tool and by sparse-run. Errors are
// returned as one human-readable line, never thrown.
//
//===----------------------------------------------------------------------===//

#ifndef SPARSENN_SUPPORT_NPY_H
#define SPARSENN_SUPPORT_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sparsenn {
namespace npy {

enum class DType { I8, U8, I16, U16, I32, I64, F32, F64, Bool };

/// Bytes per element.
size_t elementSize(DType t);
/// NumPy descriptor written for this type ('|i1', '<i2', '<f4', ...).
const char *descr(DType t);
/// Short name ("int8", "float32", ...).
const char *name(DType t);

struct Array {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // numElements() * elementSize(dtype) bytes

  size_t numElements() const;
  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }
};

/// Parses an in-memory .npy image. Rejects Fortran order, big-endian or
/// unknown dtypes, malformed headers and truncated data.
bool parse(const uint8_t *bytes, size_t size, Array &out, std::string &error);
/// Reads a file; on failure `error` holds one line (without "error: ").
bool read(const std::string &path, Array &out, std::string &error);
/// Serialises to a .npy image (version 1.0, or 2.0 if the header needs it).
std::vector<uint8_t> serialize(const Array &a);
bool write(const std::string &path, const Array &a, std::string &error);

/// Reads a whole binary file.
bool readFile(const std::string &path, std::vector<uint8_t> &out,
              std::string &error);
bool writeFile(const std::string &path, const uint8_t *data, size_t size,
               std::string &error);

} // namespace npy
} // namespace sparsenn

#endif // SPARSENN_SUPPORT_NPY_H
