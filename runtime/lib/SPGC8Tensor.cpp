//===- SPGC8Tensor.cpp - Tensor traversal, quantisation, container --------===//
//
// docs/spgc8.md §2: groups of 16 run along the input-channel axis
// (EP 21216321.6 [0138]: 1x16x1x1 groups for convolutions), every vector is
// zero-padded to a multiple of 16 ([0169]) and the padded vectors form one
// raw stream. The
// container around that stream is this project's design, documented in
// docs/spgc8.md; every field is validated before use so that a damaged file
// yields a status, never an out-of-bounds access.
//
//===----------------------------------------------------------------------===//

#include "SPGC8Internal.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <new>
#include <type_traits>

using namespace sparsenn::spgc8;

namespace {

constexpr uint64_t kMaxElements = uint64_t(1) << 56;

template <typename T> std::unique_ptr<T[]> allocate(size_t n) {
  return std::unique_ptr<T[]>(new (std::nothrow) T[n == 0 ? 1 : n]);
}

struct Geometry {
  size_t numVectors = 0;
  size_t length = 0;  // L: values per vector (size of axis 1)
  size_t padded = 0;  // Lp: L rounded up to 16
  size_t spatial = 1; // product of axes 2.. (1 unless CONV)
  size_t channels = 1;
  size_t numValues = 0;
  size_t total = 0; // numVectors * padded
};

sparsenn_status geometry(const int64_t *shape, int rank, Geometry &g) {
  if (rank < 0 || rank > SPARSENN_SPGC8_MAX_RANK || (rank > 0 && !shape))
    return SPARSENN_ERR_ARGUMENT;
  uint64_t prod = 1;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] < 0 || static_cast<uint64_t>(shape[i]) > kMaxElements)
      return SPARSENN_ERR_ARGUMENT;
    uint64_t d = static_cast<uint64_t>(shape[i]);
    if (d != 0 && prod > kMaxElements / d)
      return SPARSENN_ERR_ARGUMENT;
    prod *= d;
  }
  g = Geometry();
  g.numValues = static_cast<size_t>(prod);
  if (rank <= 1) {
    g.numVectors = 1;
    g.length = g.numValues;
    g.channels = 1;
  } else {
    g.length = static_cast<size_t>(shape[1]);
    g.spatial = 1;
    for (int i = 2; i < rank; ++i)
      g.spatial *= static_cast<size_t>(shape[i]);
    g.channels = static_cast<size_t>(shape[0]);
    g.numVectors = g.channels * g.spatial;
  }
  g.padded = (g.length + 15) / 16 * 16;
  uint64_t total = static_cast<uint64_t>(g.numVectors) * g.padded;
  if (g.numVectors != 0 && total / g.numVectors != g.padded)
    return SPARSENN_ERR_ARGUMENT;
  if (total > kMaxElements)
    return SPARSENN_ERR_ARGUMENT;
  g.total = static_cast<size_t>(total);
  return SPARSENN_OK;
}

/// Copies tensor values (C order) into the padded traversal order.
template <typename T>
void gatherPadded(const Geometry &g, const T *src, T *dst) {
  std::fill(dst, dst + g.total, T(0));
  if (g.length == 0)
    return; // nothing but padding (and `src` may be null)
  for (size_t v = 0; v < g.numVectors; ++v) {
    size_t o = v / g.spatial, sp = v % g.spatial;
    T *d = dst + v * g.padded;
    if (g.spatial == 1) {
      std::copy(src + v * g.length, src + (v + 1) * g.length, d);
    } else {
      const T *s = src + o * g.length * g.spatial + sp;
      for (size_t i = 0; i < g.length; ++i)
        d[i] = s[i * g.spatial];
    }
  }
}

/// Inverse of gatherPadded for vectors [v0, v0 + count), v0 a multiple of
/// the spatial size (a whole output channel); `src` holds their padded
/// values, `dst` the first element of output channel v0 / spatial. Fails if
/// padding is non-zero.
template <typename T>
bool scatterPadded(const Geometry &g, const T *src, size_t v0, size_t count,
                   T *dst) {
  if (g.length == 0)
    return true; // empty vectors: no values, no padding (`dst` may be null)
  for (size_t k = 0; k < count; ++k) {
    size_t v = v0 + k;
    size_t o = v / g.spatial - v0 / g.spatial, sp = v % g.spatial;
    const T *s = src + k * g.padded;
    for (size_t i = g.length; i < g.padded; ++i)
      if (s[i] != 0)
        return false;
    if (g.spatial == 1) {
      std::copy(s, s + g.length, dst + (v - v0) * g.length);
    } else {
      T *d = dst + o * g.length * g.spatial + sp;
      for (size_t i = 0; i < g.length; ++i)
        d[i * g.spatial] = s[i];
    }
  }
  return true;
}

template <typename T>
sparsenn_status encodeTensorStream(const T *values, const int64_t *shape, int rank,
                                int bits, int interleave, int isUnsigned,
                                uint8_t *out, size_t cap, size_t *outSize) {
  Geometry g;
  sparsenn_status st = geometry(shape, rank, g);
  if (st != SPARSENN_OK)
    return st;
  if (!values && g.numValues)
    return SPARSENN_ERR_ARGUMENT;
  // Rows that are already whole groups need no copy.
  if (g.spatial == 1 && g.padded == g.length)
    return std::is_same_v<T, int8_t>
               ? sparsenn_spgc8_encode_raw_i8(reinterpret_cast<const int8_t *>(values),
                                     g.total, bits, interleave, isUnsigned, out,
                                     cap, outSize)
               : sparsenn_spgc8_encode_raw_i16(reinterpret_cast<const int16_t *>(values),
                                      g.total, bits, interleave, isUnsigned,
                                      out, cap, outSize);
  auto tmp = allocate<T>(g.total);
  if (!tmp)
    return SPARSENN_ERR_NOMEM;
  gatherPadded(g, values, tmp.get());
  if constexpr (std::is_same_v<T, int8_t>)
    return sparsenn_spgc8_encode_raw_i8(tmp.get(), g.total, bits, interleave, isUnsigned,
                               out, cap, outSize);
  else
    return sparsenn_spgc8_encode_raw_i16(tmp.get(), g.total, bits, interleave,
                                isUnsigned, out, cap, outSize);
}

template <typename T>
sparsenn_status decodeRawT(const uint8_t *in, size_t inSize, size_t n, int bits,
                        int interleave, int isUnsigned, T *values,
                        size_t *consumed) {
  if constexpr (std::is_same_v<T, int8_t>)
    return sparsenn_spgc8_decode_raw_i8(in, inSize, n, bits, interleave, isUnsigned,
                               values, consumed);
  else
    return sparsenn_spgc8_decode_raw_i16(in, inSize, n, bits, interleave, isUnsigned,
                                values, consumed);
}

template <typename T>
sparsenn_status decodeTensorStream(const uint8_t *in, size_t inSize,
                                const int64_t *shape, int rank, int bits,
                                int interleave, int isUnsigned, T *values,
                                size_t *consumed) {
  Geometry g;
  sparsenn_status st = geometry(shape, rank, g);
  if (st != SPARSENN_OK)
    return st;
  if (!values && g.numValues)
    return SPARSENN_ERR_ARGUMENT;
  if (g.spatial == 1 && g.padded == g.length)
    return decodeRawT(in, inSize, g.total, bits, interleave, isUnsigned, values,
                      consumed);
  auto tmp = allocate<T>(g.total);
  if (!tmp)
    return SPARSENN_ERR_NOMEM;
  st = decodeRawT(in, inSize, g.total, bits, interleave, isUnsigned, tmp.get(),
                  consumed);
  if (st != SPARSENN_OK)
    return st;
  if (!scatterPadded(g, tmp.get(), 0, g.numVectors, values))
    return SPARSENN_ERR_CORRUPT;
  return SPARSENN_OK;
}

} // namespace

extern "C" sparsenn_spgc8_layout sparsenn_spgc8_layout_for_rank(int rank) {
  return rank <= 1   ? SPARSENN_SPGC8_LAYOUT_FLAT
         : rank == 2 ? SPARSENN_SPGC8_LAYOUT_LINEAR
                     : SPARSENN_SPGC8_LAYOUT_CONV;
}

extern "C" sparsenn_status sparsenn_spgc8_tensor_geometry(const int64_t *shape, int rank,
                                              size_t *num_vectors,
                                              size_t *vector_length,
                                              size_t *padded_length) {
  Geometry g;
  sparsenn_status st = geometry(shape, rank, g);
  if (st != SPARSENN_OK)
    return st;
  if (num_vectors)
    *num_vectors = g.numVectors;
  if (vector_length)
    *vector_length = g.length;
  if (padded_length)
    *padded_length = g.padded;
  return SPARSENN_OK;
}

extern "C" size_t sparsenn_spgc8_tensor_padded_values(const int64_t *shape, int rank) {
  Geometry g;
  return geometry(shape, rank, g) == SPARSENN_OK ? g.total : 0;
}

extern "C" size_t sparsenn_spgc8_tensor_stream_max_size(const int64_t *shape, int rank,
                                               int bits, int interleave) {
  Geometry g;
  if (geometry(shape, rank, g) != SPARSENN_OK)
    return 0;
  return sparsenn_spgc8_raw_max_size(g.total, bits, interleave);
}

extern "C" size_t sparsenn_spgc8_num_channels(const int64_t *shape, int rank) {
  Geometry g;
  return geometry(shape, rank, g) == SPARSENN_OK ? g.channels : 0;
}

extern "C" sparsenn_status
sparsenn_spgc8_encode_tensor_stream_i8(const int8_t *values, const int64_t *shape,
                              int rank, int bits, int interleave,
                              int is_unsigned, uint8_t *out,
                              size_t out_capacity, size_t *out_size) {
  return encodeTensorStream(values, shape, rank, bits, interleave, is_unsigned,
                            out, out_capacity, out_size);
}

extern "C" sparsenn_status
sparsenn_spgc8_encode_tensor_stream_i16(const int16_t *values, const int64_t *shape,
                               int rank, int bits, int interleave,
                               int is_unsigned, uint8_t *out,
                               size_t out_capacity, size_t *out_size) {
  return encodeTensorStream(values, shape, rank, bits, interleave, is_unsigned,
                            out, out_capacity, out_size);
}

extern "C" sparsenn_status sparsenn_spgc8_decode_tensor_stream_i8(
    const uint8_t *in, size_t in_size, const int64_t *shape, int rank, int bits,
    int interleave, int is_unsigned, int8_t *values, size_t *consumed) {
  return decodeTensorStream(in, in_size, shape, rank, bits, interleave,
                            is_unsigned, values, consumed);
}

extern "C" sparsenn_status sparsenn_spgc8_decode_tensor_stream_i16(
    const uint8_t *in, size_t in_size, const int64_t *shape, int rank, int bits,
    int interleave, int is_unsigned, int16_t *values, size_t *consumed) {
  return decodeTensorStream(in, in_size, shape, rank, bits, interleave,
                            is_unsigned, values, consumed);
}

//===----------------------------------------------------------------------===//
// Quantisation
//===----------------------------------------------------------------------===//

extern "C" sparsenn_status sparsenn_spgc8_quantize_f32(const float *w, const int64_t *shape,
                                           int rank, int bits, int16_t *q,
                                           float *scales) {
  Geometry g;
  sparsenn_status st = geometry(shape, rank, g);
  if (st != SPARSENN_OK)
    return st;
  if ((bits != 8 && bits != 16) || (g.numValues && (!w || !q)) ||
      (g.channels && !scales))
    return SPARSENN_ERR_ARGUMENT;
  if (g.channels == 0)
    return SPARSENN_OK;
  const float qmax = static_cast<float>((1 << (bits - 1)) - 1);
  size_t per = g.numValues / g.channels;
  for (size_t c = 0; c < g.channels; ++c) {
    const float *row = w + c * per;
    float maxAbs = 0.0f;
    for (size_t i = 0; i < per; ++i) {
      if (!std::isfinite(row[i]))
        return SPARSENN_ERR_RANGE;
      maxAbs = std::max(maxAbs, std::fabs(row[i]));
    }
    float scale = maxAbs / qmax;
    scales[c] = scale;
    for (size_t i = 0; i < per; ++i) {
      float r = scale > 0.0f ? std::round(row[i] / scale) : 0.0f;
      r = std::min(std::max(r, -qmax), qmax);
      q[c * per + i] = static_cast<int16_t>(r);
    }
  }
  return SPARSENN_OK;
}

//===----------------------------------------------------------------------===//
// CRC-32 (IEEE, reflected polynomial 0xEDB88320), slicing by 8.
//===----------------------------------------------------------------------===//

namespace {
struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int k = 1; k < 8; ++k)
        t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  }
};
const CrcTables &crcTables() {
  static const CrcTables tables;
  return tables;
}
} // namespace

extern "C" uint32_t sparsenn_spgc8_crc32(uint32_t crc, const void *data, size_t size) {
  const CrcTables &T = crcTables();
  const uint8_t *p = static_cast<const uint8_t *>(data);
  crc = ~crc;
  while (size >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    a ^= crc;
    crc = T.t[7][a & 0xFF] ^ T.t[6][(a >> 8) & 0xFF] ^
          T.t[5][(a >> 16) & 0xFF] ^ T.t[4][a >> 24] ^ T.t[3][b & 0xFF] ^
          T.t[2][(b >> 8) & 0xFF] ^ T.t[1][(b >> 16) & 0xFF] ^ T.t[0][b >> 24];
    p += 8;
    size -= 8;
  }
  while (size--)
    crc = T.t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

//===----------------------------------------------------------------------===//
// Container (docs/spgc8.md, "Container format").
//===----------------------------------------------------------------------===//

namespace {

constexpr uint8_t kMagic[4] = {'S', 'P', 'G', '8'};
constexpr size_t kFixedHeader = 64;
constexpr uint32_t kFlagInterleave = 1u << 0;
constexpr uint32_t kFlagUnsigned = 1u << 1;
constexpr uint32_t kFlagScales = 1u << 2;
constexpr uint32_t kFlagIndex64 = 1u << 3;
constexpr uint32_t kKnownFlags =
    kFlagInterleave | kFlagUnsigned | kFlagScales | kFlagIndex64;

template <typename U> U getLE(const uint8_t *p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i)
    v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
  return v;
}
template <typename U> void putLE(uint8_t *p, U v) {
  for (size_t i = 0; i < sizeof(U); ++i)
    p[i] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i));
}

/// Adds b to a, failing on overflow.
bool addSize(uint64_t &a, uint64_t b) {
  if (a > UINT64_MAX - b)
    return false;
  a += b;
  return true;
}

/// Everything decode needs, derived from a validated header.
struct Parsed {
  sparsenn_spgc8_info info;
  Geometry g;
  Params p;
  uint64_t scalesOffset = 0;
  uint64_t indexOffset = 0;
  unsigned indexWidth = 4;
  uint64_t hdrBytes = 0; // header region of the raw stream
  uint64_t index(const uint8_t *in, uint64_t r) const {
    const uint8_t *e = in + indexOffset + r * indexWidth;
    return indexWidth == 4 ? getLE<uint32_t>(e) : getLE<uint64_t>(e);
  }
};

sparsenn_status parse(const uint8_t *in, size_t inSize, Parsed &out) {
  if (!in && inSize)
    return SPARSENN_ERR_ARGUMENT;
  if (inSize < 4)
    return SPARSENN_ERR_TRUNCATED;
  if (std::memcmp(in, kMagic, 4) != 0)
    return SPARSENN_ERR_UNSUPPORTED;
  if (inSize < 8)
    return SPARSENN_ERR_TRUNCATED;
  uint16_t version = getLE<uint16_t>(in + 4);
  if (version != SPARSENN_SPGC8_CONTAINER_VERSION)
    return SPARSENN_ERR_UNSUPPORTED;
  if (getLE<uint16_t>(in + 6) != kFixedHeader)
    return SPARSENN_ERR_CORRUPT;
  if (inSize < kFixedHeader)
    return SPARSENN_ERR_TRUNCATED;
  uint32_t flags = getLE<uint32_t>(in + 8);
  if (flags & ~kKnownFlags)
    return SPARSENN_ERR_UNSUPPORTED;
  sparsenn_spgc8_info &info = out.info;
  info = sparsenn_spgc8_info();
  info.version = version;
  // Range-check the raw bytes before they become enum values.
  if (in[13] < SPARSENN_SPGC8_DTYPE_I8 || in[13] > SPARSENN_SPGC8_DTYPE_F32)
    return SPARSENN_ERR_CORRUPT;
  if (in[14] > SPARSENN_SPGC8_LAYOUT_CONV)
    return SPARSENN_ERR_UNSUPPORTED;
  info.bits = in[12];
  info.dtype = static_cast<sparsenn_spgc8_dtype>(in[13]);
  info.layout = static_cast<sparsenn_spgc8_layout>(in[14]);
  info.rank = in[15];
  info.interleave = (flags & kFlagInterleave) != 0;
  info.is_unsigned = (flags & kFlagUnsigned) != 0;
  info.has_scales = (flags & kFlagScales) != 0;
  info.num_values = getLE<uint64_t>(in + 16);
  info.num_rows = getLE<uint64_t>(in + 24);
  info.row_values = getLE<uint64_t>(in + 32);
  info.payload_size = getLE<uint64_t>(in + 40);
  info.num_channels = getLE<uint64_t>(in + 48);
  if (getLE<uint64_t>(in + 56) != 0)
    return SPARSENN_ERR_CORRUPT;
  if (!makeParams(info.bits, info.interleave, info.is_unsigned, out.p))
    return SPARSENN_ERR_CORRUPT;
  if ((info.dtype == SPARSENN_SPGC8_DTYPE_F32) != (info.has_scales != 0) ||
      (info.has_scales && info.is_unsigned))
    return SPARSENN_ERR_CORRUPT;
  if (info.rank > SPARSENN_SPGC8_MAX_RANK)
    return SPARSENN_ERR_CORRUPT;
  if (info.layout != sparsenn_spgc8_layout_for_rank(info.rank))
    return SPARSENN_ERR_UNSUPPORTED;
  uint64_t off = kFixedHeader;
  uint64_t shapeBytes = 8ull * static_cast<uint64_t>(info.rank);
  if (inSize - off < shapeBytes)
    return SPARSENN_ERR_TRUNCATED;
  for (int i = 0; i < info.rank; ++i)
    info.shape[i] = static_cast<int64_t>(getLE<uint64_t>(in + off + 8 * i));
  off += shapeBytes;
  if (geometry(info.shape, info.rank, out.g) != SPARSENN_OK)
    return SPARSENN_ERR_CORRUPT;
  const Geometry &g = out.g;
  uint64_t rows = info.rank <= 1 ? 1 : g.channels;
  uint64_t rowValues = rows ? g.total / rows : 0;
  if (info.num_values != g.numValues || info.num_rows != rows ||
      info.row_values != rowValues ||
      info.num_channels != (info.has_scales ? g.channels : 0))
    return SPARSENN_ERR_CORRUPT;
  uint64_t subsets = sparsenn_spgc8_num_subsets(g.total, info.interleave);
  out.hdrBytes = headerBytes(subsets, out.p.h);
  if (info.payload_size < out.hdrBytes ||
      info.payload_size >
          sparsenn_spgc8_raw_max_size(g.total, info.bits, info.interleave))
    return SPARSENN_ERR_CORRUPT;
  out.scalesOffset = off;
  uint64_t total = off;
  out.indexWidth = (flags & kFlagIndex64) ? 8 : 4;
  if (!addSize(total, 4 * info.num_channels))
    return SPARSENN_ERR_CORRUPT;
  out.indexOffset = total;
  if (!addSize(total, (rows + 1) * out.indexWidth))
    return SPARSENN_ERR_CORRUPT;
  info.payload_offset = total;
  if (!addSize(total, info.payload_size) || !addSize(total, 4))
    return SPARSENN_ERR_CORRUPT;
  info.container_size = total;
  if (inSize < total)
    return SPARSENN_ERR_TRUNCATED;
  // The index must be a monotone walk over the body: entry r is the body
  // offset of row r, the last entry the body size, and no row can hold more
  // than its worst case.
  uint64_t maxRowBody = rowValues / 8 * static_cast<uint64_t>(info.bits);
  uint64_t prev = out.index(in, 0);
  if (prev != 0)
    return SPARSENN_ERR_CORRUPT;
  for (uint64_t r = 1; r <= rows; ++r) {
    uint64_t cur = out.index(in, r);
    if (cur < prev || cur - prev > maxRowBody)
      return SPARSENN_ERR_CORRUPT;
    prev = cur;
  }
  if (out.hdrBytes + prev != info.payload_size)
    return SPARSENN_ERR_CORRUPT;
  return SPARSENN_OK;
}

sparsenn_status checkCrc(const uint8_t *in, const Parsed &ps) {
  uint64_t body = ps.info.container_size - 4;
  uint32_t stored = getLE<uint32_t>(in + body);
  return sparsenn_spgc8_crc32(0, in, static_cast<size_t>(body)) == stored
             ? SPARSENN_OK
             : SPARSENN_ERR_CHECKSUM;
}

/// Checks every index entry against the body widths named by the header
/// codes, so that a full decode vouches for later per-row decodes.
sparsenn_status checkIndex(const uint8_t *in, const Parsed &ps) {
  const sparsenn_spgc8_info &info = ps.info;
  const uint8_t *payload = in + info.payload_offset;
  uint64_t perRow = info.row_values / 8;
  uint64_t acc = 0, s = 0;
  for (uint64_t r = 0; r < info.num_rows; ++r) {
    if (ps.index(in, r) != acc)
      return SPARSENN_ERR_CORRUPT;
    for (uint64_t e = s + perRow; s < e; ++s)
      acc += static_cast<uint64_t>(codeToB(
          readCode(payload, static_cast<size_t>(s), ps.p.h), info.bits));
  }
  return ps.index(in, info.num_rows) == acc ? SPARSENN_OK : SPARSENN_ERR_CORRUPT;
}

template <typename T>
sparsenn_status decodeAll(const uint8_t *in, const Parsed &ps, T *values) {
  const sparsenn_spgc8_info &info = ps.info;
  const uint8_t *payload = in + info.payload_offset;
  sparsenn_status st = checkIndex(in, ps);
  if (st != SPARSENN_OK)
    return st;
  size_t consumed = 0;
  st = decodeTensorStream(payload, static_cast<size_t>(info.payload_size),
                          info.shape, info.rank, info.bits, info.interleave,
                          info.is_unsigned, values, &consumed);
  if (st != SPARSENN_OK)
    return st;
  if (consumed != info.payload_size)
    return SPARSENN_ERR_CORRUPT;
  return SPARSENN_OK;
}

template <typename T>
sparsenn_status decodeRow(const uint8_t *in, const Parsed &ps, uint64_t row,
                       T *values) {
  const sparsenn_spgc8_info &info = ps.info;
  const Geometry &g = ps.g;
  const uint8_t *payload = in + info.payload_offset;
  size_t subsetsPerRow = static_cast<size_t>(info.row_values / 8);
  auto tmp = allocate<T>(static_cast<size_t>(info.row_values));
  if (!tmp)
    return SPARSENN_ERR_NOMEM;
  size_t pos = static_cast<size_t>(ps.index(in, row));
  sparsenn_status st =
      decodeSubsets(ps.p, payload, static_cast<size_t>(info.payload_size),
                    static_cast<size_t>(ps.hdrBytes),
                    static_cast<size_t>(row) * subsetsPerRow, subsetsPerRow,
                    &pos, tmp.get(), SPARSENN_SPGC8_IMPL_AUTO);
  if (st != SPARSENN_OK)
    return st;
  if (pos != ps.index(in, row + 1))
    return SPARSENN_ERR_CORRUPT;
  // The vectors of this row are v0 .. v0 + spatial (one for FLAT).
  size_t vectors = info.rank <= 1 ? 1 : g.spatial;
  size_t v0 = static_cast<size_t>(row) * vectors;
  if (!scatterPadded(g, tmp.get(), v0, vectors, values))
    return SPARSENN_ERR_CORRUPT;
  return SPARSENN_OK;
}

} // namespace

extern "C" size_t sparsenn_spgc8_container_max_size(const int64_t *shape, int rank,
                                           int bits, int interleave,
                                           int has_scales) {
  Geometry g;
  if (geometry(shape, rank, g) != SPARSENN_OK || sparsenn_spgc8_header_bits(bits) == 0)
    return 0;
  size_t rows = rank <= 1 ? 1 : g.channels;
  return kFixedHeader + 8 * static_cast<size_t>(rank) +
         (has_scales ? 4 * g.channels : 0) + 8 * (rows + 1) +
         sparsenn_spgc8_raw_max_size(g.total, bits, interleave) + 4;
}

extern "C" sparsenn_status
sparsenn_spgc8_container_encode(const void *values, sparsenn_spgc8_dtype dtype,
                       const int64_t *shape, int rank, int bits, int interleave,
                       int is_unsigned, const float *scales, uint8_t *out,
                       size_t out_capacity, size_t *out_size) {
  Geometry g;
  sparsenn_status st = geometry(shape, rank, g);
  if (st != SPARSENN_OK)
    return st;
  Params p;
  if (!out_size || !makeParams(bits, interleave, is_unsigned, p) ||
      (dtype != SPARSENN_SPGC8_DTYPE_I8 && dtype != SPARSENN_SPGC8_DTYPE_I16) ||
      (!values && g.numValues) || (scales && is_unsigned))
    return SPARSENN_ERR_ARGUMENT;
  // Encode the tensor stream first: the index width depends on its size.
  size_t maxStream = sparsenn_spgc8_raw_max_size(g.total, bits, interleave);
  auto stream = allocate<uint8_t>(maxStream);
  if (!stream)
    return SPARSENN_ERR_NOMEM;
  size_t streamSize = 0;
  // int8 storage with D = 16 goes through the int16 coder (the int8 entry
  // points accept D = 8 only).
  std::unique_ptr<int16_t[]> widened;
  const sparsenn_spgc8_dtype recorded = dtype;
  if (dtype == SPARSENN_SPGC8_DTYPE_I8 && bits == 16) {
    widened = allocate<int16_t>(g.numValues);
    if (!widened)
      return SPARSENN_ERR_NOMEM;
    const int8_t *src = static_cast<const int8_t *>(values);
    for (size_t i = 0; i < g.numValues; ++i)
      widened[i] = is_unsigned
                       ? static_cast<int16_t>(static_cast<uint8_t>(src[i]))
                       : src[i];
    values = widened.get();
    dtype = SPARSENN_SPGC8_DTYPE_I16;
  }
  st = dtype == SPARSENN_SPGC8_DTYPE_I8
           ? sparsenn_spgc8_encode_tensor_stream_i8(
                 static_cast<const int8_t *>(values), shape, rank, bits,
                 interleave, is_unsigned, stream.get(), maxStream, &streamSize)
           : sparsenn_spgc8_encode_tensor_stream_i16(
                 static_cast<const int16_t *>(values), shape, rank, bits,
                 interleave, is_unsigned, stream.get(), maxStream, &streamSize);
  if (st != SPARSENN_OK)
    return st;
  size_t rows = rank <= 1 ? 1 : g.channels;
  size_t subsets = sparsenn_spgc8_num_subsets(g.total, interleave);
  size_t hb = headerBytes(subsets, p.h);
  size_t bodySize = streamSize - hb;
  bool wide = bodySize > UINT32_MAX;
  unsigned iw = wide ? 8 : 4;
  size_t nch = scales ? g.channels : 0;
  size_t total = kFixedHeader + 8 * static_cast<size_t>(rank) + 4 * nch +
                 iw * (rows + 1) + streamSize + 4;
  *out_size = total;
  if (!out || out_capacity < total)
    return SPARSENN_ERR_CAPACITY;

  uint8_t *o = out;
  std::memset(o, 0, kFixedHeader);
  std::memcpy(o, kMagic, 4);
  putLE<uint16_t>(o + 4, SPARSENN_SPGC8_CONTAINER_VERSION);
  putLE<uint16_t>(o + 6, kFixedHeader);
  uint32_t flags = (interleave ? kFlagInterleave : 0) |
                   (is_unsigned ? kFlagUnsigned : 0) |
                   (scales ? kFlagScales : 0) | (wide ? kFlagIndex64 : 0);
  putLE<uint32_t>(o + 8, flags);
  o[12] = static_cast<uint8_t>(bits);
  o[13] = static_cast<uint8_t>(scales ? SPARSENN_SPGC8_DTYPE_F32 : recorded);
  o[14] = static_cast<uint8_t>(sparsenn_spgc8_layout_for_rank(rank));
  o[15] = static_cast<uint8_t>(rank);
  putLE<uint64_t>(o + 16, g.numValues);
  putLE<uint64_t>(o + 24, rows);
  putLE<uint64_t>(o + 32, rows ? g.total / rows : 0);
  putLE<uint64_t>(o + 40, streamSize);
  putLE<uint64_t>(o + 48, nch);
  size_t off = kFixedHeader;
  for (int i = 0; i < rank; ++i, off += 8)
    putLE<uint64_t>(o + off, static_cast<uint64_t>(shape[i]));
  for (size_t c = 0; c < nch; ++c, off += 4) {
    uint32_t bitsOf;
    std::memcpy(&bitsOf, &scales[c], 4);
    putLE<uint32_t>(o + off, bitsOf);
  }
  // Index: body offset of each row's first subset, from the header codes.
  size_t subsetsPerRow = rows ? g.total / rows / 8 : 0;
  uint64_t acc = 0;
  size_t s = 0;
  for (size_t r = 0; r <= rows; ++r) {
    if (wide)
      putLE<uint64_t>(o + off, acc);
    else
      putLE<uint32_t>(o + off, static_cast<uint32_t>(acc));
    off += iw;
    if (r == rows)
      break;
    for (size_t e = s + subsetsPerRow; s < e; ++s)
      acc +=
          static_cast<uint64_t>(codeToB(readCode(stream.get(), s, p.h), bits));
  }
  std::memcpy(o + off, stream.get(), streamSize);
  off += streamSize;
  putLE<uint32_t>(o + off, sparsenn_spgc8_crc32(0, o, off));
  return SPARSENN_OK;
}

extern "C" sparsenn_status sparsenn_spgc8_container_info(const uint8_t *in, size_t in_size,
                                             sparsenn_spgc8_info *info) {
  if (!info)
    return SPARSENN_ERR_ARGUMENT;
  Parsed ps;
  sparsenn_status st = parse(in, in_size, ps);
  if (st != SPARSENN_OK)
    return st;
  *info = ps.info;
  return SPARSENN_OK;
}

extern "C" sparsenn_status sparsenn_spgc8_container_verify(const uint8_t *in,
                                               size_t in_size) {
  Parsed ps;
  sparsenn_status st = parse(in, in_size, ps);
  if (st != SPARSENN_OK)
    return st;
  return checkCrc(in, ps);
}

extern "C" sparsenn_status
sparsenn_spgc8_container_decode(const uint8_t *in, size_t in_size, void *values,
                       sparsenn_spgc8_dtype out_dtype, size_t values_capacity,
                       float *scales, size_t scales_capacity) {
  Parsed ps;
  sparsenn_status st = parse(in, in_size, ps);
  if (st != SPARSENN_OK)
    return st;
  if ((st = checkCrc(in, ps)) != SPARSENN_OK)
    return st;
  const sparsenn_spgc8_info &info = ps.info;
  if ((out_dtype != SPARSENN_SPGC8_DTYPE_I8 && out_dtype != SPARSENN_SPGC8_DTYPE_I16) ||
      (out_dtype == SPARSENN_SPGC8_DTYPE_I8 && info.bits != 8) ||
      values_capacity < info.num_values || (!values && info.num_values))
    return SPARSENN_ERR_ARGUMENT;
  if (scales && info.has_scales) {
    if (scales_capacity < info.num_channels)
      return SPARSENN_ERR_ARGUMENT;
    for (uint64_t c = 0; c < info.num_channels; ++c) {
      uint32_t b = getLE<uint32_t>(in + ps.scalesOffset + 4 * c);
      std::memcpy(&scales[c], &b, 4);
    }
  }
  return out_dtype == SPARSENN_SPGC8_DTYPE_I8
             ? decodeAll(in, ps, static_cast<int8_t *>(values))
             : decodeAll(in, ps, static_cast<int16_t *>(values));
}

extern "C" sparsenn_status sparsenn_spgc8_container_decode_f32(const uint8_t *in,
                                                   size_t in_size,
                                                   float *values,
                                                   size_t values_capacity) {
  Parsed ps;
  sparsenn_status st = parse(in, in_size, ps);
  if (st != SPARSENN_OK)
    return st;
  const sparsenn_spgc8_info &info = ps.info;
  if (values_capacity < info.num_values || (!values && info.num_values))
    return SPARSENN_ERR_ARGUMENT;
  auto q = allocate<int16_t>(static_cast<size_t>(info.num_values));
  if (!q)
    return SPARSENN_ERR_NOMEM;
  st = sparsenn_spgc8_container_decode(in, in_size, q.get(), SPARSENN_SPGC8_DTYPE_I16,
                              static_cast<size_t>(info.num_values), nullptr, 0);
  if (st != SPARSENN_OK)
    return st;
  size_t n = static_cast<size_t>(info.num_values);
  size_t channels = ps.g.channels;
  size_t per = channels ? n / channels : 0;
  for (size_t i = 0; i < n; ++i) {
    float scale = 1.0f;
    if (info.has_scales) {
      uint32_t b = getLE<uint32_t>(in + ps.scalesOffset + 4 * (i / per));
      std::memcpy(&scale, &b, 4);
    }
    values[i] = static_cast<float>(q[i]) * scale;
  }
  return SPARSENN_OK;
}

extern "C" sparsenn_status sparsenn_spgc8_container_decode_row(const uint8_t *in,
                                                   size_t in_size, uint64_t row,
                                                   void *values,
                                                   sparsenn_spgc8_dtype out_dtype,
                                                   size_t values_capacity) {
  Parsed ps;
  sparsenn_status st = parse(in, in_size, ps);
  if (st != SPARSENN_OK)
    return st;
  const sparsenn_spgc8_info &info = ps.info;
  if (row >= info.num_rows ||
      (out_dtype != SPARSENN_SPGC8_DTYPE_I8 && out_dtype != SPARSENN_SPGC8_DTYPE_I16) ||
      (out_dtype == SPARSENN_SPGC8_DTYPE_I8 && info.bits != 8))
    return SPARSENN_ERR_ARGUMENT;
  uint64_t rowElems = info.num_values / info.num_rows;
  if (values_capacity < rowElems || (!values && rowElems))
    return SPARSENN_ERR_ARGUMENT;
  return out_dtype == SPARSENN_SPGC8_DTYPE_I8
             ? decodeRow(in, ps, row, static_cast<int8_t *>(values))
             : decodeRow(in, ps, row, static_cast<int16_t *>(values));
}
