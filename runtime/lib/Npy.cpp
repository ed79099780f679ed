//===- Npy.cpp - Minimal .npy reader and writer ---------------------------===//
//
// Implements the NumPy format description (numpy/lib/format.py): magic
// "\x93NUMPY", major/minor version, a little-endian header length (2 bytes
// for 1.0, 4 bytes for 2.0/3.0), an ASCII Python dict literal with 'descr',
// 'fortran_order' and 'shape', then the raw data. The dict is parsed by a
// small recursive-descent reader instead of string matching so that key order
// and spacing do not matter.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Support/Npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace sparsenn::npy;

size_t sparsenn::npy::elementSize(DType t) {
  switch (t) {
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  case DType::I16:
  case DType::U16:
    return 2;
  case DType::I32:
  case DType::F32:
    return 4;
  case DType::I64:
  case DType::F64:
    return 8;
  }
  return 1;
}

const char *sparsenn::npy::descr(DType t) {
  switch (t) {
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::Bool:
    return "|b1";
  case DType::I16:
    return "<i2";
  case DType::U16:
    return "<u2";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  }
  return "?";
}

const char *sparsenn::npy::name(DType t) {
  switch (t) {
  case DType::I8:
    return "int8";
  case DType::U8:
    return "uint8";
  case DType::Bool:
    return "bool";
  case DType::I16:
    return "int16";
  case DType::U16:
    return "uint16";
  case DType::I32:
    return "int32";
  case DType::I64:
    return "int64";
  case DType::F32:
    return "float32";
  case DType::F64:
    return "float64";
  }
  return "?";
}

size_t Array::numElements() const {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  return n;
}

namespace {

/// Recursive-descent reader for the header dict literal.
class DictParser {
public:
  DictParser(const char *p, const char *end) : p(p), end(end) {}

  bool parse(std::string &descrOut, bool &fortran, std::vector<int64_t> &shape,
             std::string &error) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    if (!consume('{'))
      return fail(error, "header is not a dict");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!readString(key))
        return fail(error, "malformed header key");
      if (!consume(':'))
        return fail(error, "malformed header (missing ':')");
      if (key == "descr") {
        if (!readString(descrOut))
          return fail(error, "malformed 'descr' in header");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!readBool(fortran))
          return fail(error, "malformed 'fortran_order' in header");
        haveFortran = true;
      } else if (key == "shape") {
        if (!readShape(shape))
          return fail(error, "malformed 'shape' in header");
        haveShape = true;
      } else {
        return fail(error, "unexpected key '" + key + "' in header");
      }
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail(error, "malformed header (expected ',' or '}')");
    }
    if (!haveDescr || !haveFortran || !haveShape)
      return fail(error, "header lacks 'descr', 'fortran_order' or 'shape'");
    return true;
  }

private:
  const char *p;
  const char *end;

  static bool fail(std::string &error, const std::string &msg) {
    error = msg;
    return false;
  }
  void skipSpace() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      ++p;
  }
  bool consume(char c) {
    skipSpace();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }
  bool readString(std::string &s) {
    skipSpace();
    if (p >= end || (*p != '\'' && *p != '"'))
      return false;
    char q = *p++;
    const char *start = p;
    while (p < end && *p != q)
      ++p;
    if (p >= end)
      return false;
    s.assign(start, p);
    ++p;
    return true;
  }
  bool readWord(const char *w) {
    size_t n = std::strlen(w);
    if (static_cast<size_t>(end - p) >= n && std::memcmp(p, w, n) == 0) {
      p += n;
      return true;
    }
    return false;
  }
  bool readBool(bool &b) {
    skipSpace();
    if (readWord("True")) {
      b = true;
      return true;
    }
    if (readWord("False")) {
      b = false;
      return true;
    }
    return false;
  }
  bool readShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return false;
    while (true) {
      skipSpace();
      if (consume(')'))
        return true;
      if (p >= end || *p < '0' || *p > '9')
        return false;
      int64_t v = 0;
      while (p < end && *p >= '0' && *p <= '9') {
        if (v > (INT64_C(1) << 50))
          return false; // absurdly large dimension
        v = v * 10 + (*p++ - '0');
      }
      while (p < end && (*p == 'L'))
        ++p; // Python 2 longs
      shape.push_back(v);
      if (shape.size() > 32)
        return false;
      skipSpace();
      if (consume(','))
        continue;
      if (consume(')'))
        return true;
      return false;
    }
  }
};

bool parseDescr(const std::string &d, DType &t, std::string &error) {
  static const struct {
    const char *s;
    DType t;
  } table[] = {{"|i1", DType::I8},   {"<i1", DType::I8},  {"i1", DType::I8},
               {"|u1", DType::U8},   {"<u1", DType::U8},  {"u1", DType::U8},
               {"|b1", DType::Bool}, {"<i2", DType::I16}, {"<u2", DType::U16},
               {"<i4", DType::I32},  {"<i8", DType::I64}, {"<f4", DType::F32},
               {"<f8", DType::F64}};
  for (const auto &e : table)
    if (d == e.s) {
      t = e.t;
      return true;
    }
  if (!d.empty() && d[0] == '>')
    error = "big-endian dtype '" + d + "' is not supported";
  else
    error = "unsupported dtype '" + d + "'";
  return false;
}

} // namespace

bool sparsenn::npy::parse(const uint8_t *bytes, size_t size, Array &out,
                          std::string &error) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) {
    error = size < 10 ? "not a .npy file (too short)"
                      : "not a .npy file (bad magic)";
    return false;
  }
  uint8_t major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = bytes[8] | (static_cast<size_t>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) {
      error = "truncated .npy header";
      return false;
    }
    headerLen = bytes[8] | (static_cast<size_t>(bytes[9]) << 8) |
                (static_cast<size_t>(bytes[10]) << 16) |
                (static_cast<size_t>(bytes[11]) << 24);
    headerStart = 12;
  } else {
    error = "unsupported .npy version " + std::to_string(major);
    return false;
  }
  if (headerLen > size - headerStart) {
    error = "truncated .npy header";
    return false;
  }
  const char *h = reinterpret_cast<const char *>(bytes + headerStart);
  std::string descrStr;
  bool fortran = false;
  std::vector<int64_t> shape;
  DictParser dp(h, h + headerLen);
  if (!dp.parse(descrStr, fortran, shape, error))
    return false;
  if (fortran) {
    error = "Fortran-order arrays are not supported (save with C order)";
    return false;
  }
  DType t;
  if (!parseDescr(descrStr, t, error))
    return false;
  size_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > (SIZE_MAX / 16) / static_cast<size_t>(d)) {
      error = "array shape too large";
      return false;
    }
    n *= static_cast<size_t>(d);
  }
  size_t dataStart = headerStart + headerLen;
  size_t need = n * elementSize(t);
  if (size - dataStart < need) {
    error = "truncated .npy data (expected " + std::to_string(need) +
            " bytes, found " + std::to_string(size - dataStart) + ")";
    return false;
  }
  if (size - dataStart > need) {
    error = "trailing bytes after .npy data";
    return false;
  }
  out.dtype = t;
  out.shape = shape;
  out.data.assign(bytes + dataStart, bytes + dataStart + need);
  return true;
}

bool sparsenn::npy::readFile(const std::string &path, std::vector<uint8_t> &out,
                             std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  out.clear();
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.insert(out.end(), buf, buf + got);
  bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) {
    error = "cannot read '" + path + "'";
    return false;
  }
  return true;
}

bool sparsenn::npy::writeFile(const std::string &path, const uint8_t *data,
                              size_t size, std::string &error) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    error = "cannot create '" + path + "': " + std::strerror(errno);
    return false;
  }
  bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok)
    error = "cannot write '" + path + "'";
  return ok;
}

bool sparsenn::npy::read(const std::string &path, Array &out,
                         std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, error))
    return false;
  if (!parse(bytes.data(), bytes.size(), out, error)) {
    error = "'" + path + "': " + error;
    return false;
  }
  return true;
}

std::vector<uint8_t> sparsenn::npy::serialize(const Array &a) {
  std::string dict = "{'descr': '";
  dict += descr(a.dtype);
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < a.shape.size(); ++i) {
    dict += std::to_string(a.shape[i]);
    dict += (a.shape.size() == 1 || i + 1 < a.shape.size()) ? "," : "";
    if (i + 1 < a.shape.size())
      dict += " ";
  }
  dict += "), }";
  // Pad with spaces so that the data starts on a 64-byte boundary; the header
  // ends with a newline (format.py).
  size_t prefix = 10;
  size_t total = prefix + dict.size() + 1;
  bool v2 = false;
  if ((total + 63) / 64 * 64 - prefix > 65535) {
    v2 = true;
    prefix = 12;
    total = prefix + dict.size() + 1;
  }
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  size_t hlen = dict.size();
  // Sized once and filled with memcpy (GCC 12 misdiagnoses vector::insert
  // chains here with -Wstringop-overflow).
  std::vector<uint8_t> out(prefix + hlen + a.data.size());
  const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  std::memcpy(out.data(), magic, 6);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  for (size_t i = 0; i < prefix - 8; ++i)
    out[8 + i] = static_cast<uint8_t>((hlen >> (8 * i)) & 0xFF);
  std::memcpy(out.data() + prefix, dict.data(), hlen);
  if (!a.data.empty())
    std::memcpy(out.data() + prefix + hlen, a.data.data(), a.data.size());
  return out;
}

bool sparsenn::npy::write(const std::string &path, const Array &a,
                          std::string &error) {
  std::vector<uint8_t> bytes = serialize(a);
  return writeFile(path, bytes.data(), bytes.size(), error);
}
