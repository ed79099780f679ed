//===- KernelsSPGC8.cpp - linear layer on SPGC8-compressed weights --------===//
//
// y = x W^T + b with W kept as its SPGC8 tensor stream (docs/spgc8.md §2,
// seed 003 [0100]-[0109]) and decoded inside the product, one output row at
// a time. SPGC8-aligned pruning (seed 003 [0135]-[0175]) zeroes whole 1x16
// groups; such a group is two subsets with header code 0 and no body, so
// the kernel reads 6 (D = 8) or 8 (D = 16) header bits for it and nothing
// else: the weight bytes it touches are the compressed stream (about 1/6.8
// of the int8 weights at 90 % sparsity, 1/28 of the fp32 ones).
//
// Per row, the header codes are scanned first; only the non-zero groups are
// decoded and multiplied:
//  * AVX-512 (D = 8; VBMI, VBMI2, GFNI): one VPERMB + VPMULTISHIFTQB turns
//    the 24 header bytes of 64 subsets into one code per byte, VPCOMPRESSW
//    keeps the code pairs of the non-zero groups. The bodies of those groups
//    are contiguous in the stream (zero subsets have none), so the codec's
//    own block step (I8BlockDecoder, SPGC8X86Block.h) decodes them 4 groups
//    (64 values) at a time, as if they were 8 consecutive subsets.
//  * portable (and D = 16): one 64-bit load covers the codes of 9 (D = 8) or
//    7 (D = 16) groups, so runs of zero groups are skipped a word at a time;
//    a non-zero group is decoded with the codec's 8x8 bit transposes.
// Batch 1 multiplies each decoded group straight from registers. Larger
// batches decode a tile of rows into the block-16 layout in an L2-sized
// scratch and run the block-16 inner loop on it, so the decode is paid once
// per tile, not once per sample. Rows are prefetched a few rows ahead
// through the index.
//
// The stream is sequential: row r's bodies start after all earlier rows'
// bodies. The per-row offset index (sparsenn_pack_spgc8_index, built at
// pack time like the container's index, docs/spgc8.md section 3) lets a row
// be decoded on its own and bounds every read: a row whose bodies do not end
// exactly at the next index entry is SPARSENN_ERR_CORRUPT.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Runtime/Kernels.h"

#include "KernelsInternal.h"
#include "SPGC8Internal.h"
#include "ThreadPool.h"

#if SPARSENN_KERNELS_X86
#include "SPGC8X86Block.h"
#endif

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive on the undefined pass-through operand of unmasked
// AVX-512 intrinsics (same as SPGC8X86.cpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

using namespace sparsenn::kernels;
namespace codec = sparsenn::spgc8;
namespace threads = sparsenn::threads;

namespace {

/// A [out, in] SPGC8 tensor stream: rows padded to a multiple of 16, all
/// header codes first, then the bodies.
struct Stream {
  int64_t out = 0, in = 0;
  int64_t groupsPerRow = 0;  // padded in / 16
  int64_t subsetsPerRow = 0; // padded in / 8
  int bits = 8;
  unsigned h = 3; // header bits per subset
  bool interleave = false;
  const uint8_t *hdr = nullptr;
  size_t hdrBytes = 0;
  const uint8_t *body = nullptr;
  size_t bodySize = 0;
};

/// Keeps every size computation far from overflow (as the codec does).
constexpr int64_t kMaxValues = int64_t(1) << 56;

/// Validates the shape and splits the stream into headers and bodies.
int makeStream(const uint8_t *stream, int64_t streamSize, int64_t out,
               int64_t in, int bits, int interleave, Stream &s) {
  if (out < 0 || in < 0 || streamSize < 0 || (bits != 8 && bits != 16) ||
      (!stream && streamSize > 0) || in > kMaxValues)
    return SPARSENN_ERR_ARGUMENT;
  int64_t padded = (in + 15) / 16 * 16;
  if (padded > 0 && out > kMaxValues / padded)
    return SPARSENN_ERR_ARGUMENT;
  s.out = out;
  s.in = in;
  s.groupsPerRow = padded / 16;
  s.subsetsPerRow = padded / 8;
  s.bits = bits;
  s.h = bits == 8 ? 3 : 4;
  s.interleave = interleave != 0;
  s.hdrBytes = codec::headerBytes(static_cast<size_t>(out * s.subsetsPerRow),
                                  static_cast<int>(s.h));
  if (static_cast<size_t>(streamSize) < s.hdrBytes)
    return SPARSENN_ERR_CORRUPT;
  s.hdr = stream;
  s.body = stream + s.hdrBytes;
  s.bodySize = static_cast<size_t>(streamSize) - s.hdrBytes;
  return SPARSENN_OK;
}

/// The index must start at 0, grow by at most a row's worst case and end at
/// the body size; then every row's bodies lie inside the stream.
int checkIndex(const Stream &s, const int32_t *rowOffsets) {
  if (rowOffsets[0] != 0)
    return SPARSENN_ERR_CORRUPT;
  const int64_t worstRow = s.subsetsPerRow * s.bits;
  for (int64_t r = 0; r < s.out; ++r) {
    int64_t d = int64_t(rowOffsets[r + 1]) - rowOffsets[r];
    if (d < 0 || d > worstRow)
      return SPARSENN_ERR_CORRUPT;
  }
  if (static_cast<uint64_t>(rowOffsets[s.out]) != s.bodySize)
    return SPARSENN_ERR_CORRUPT;
  return SPARSENN_OK;
}

/// Software prefetch of row r's header codes and (through the index) its
/// bodies, issued a few rows ahead: a row touches only a dozen cache lines
/// in two separate streams, too few for the hardware prefetchers to ramp up
/// within a row.
constexpr int64_t kPrefetchRows = 4;

inline void prefetchRow(const Stream &s, const int32_t *rowOffsets, int64_t r) {
  if (r >= s.out)
    return;
  uint64_t bits = uint64_t(s.h) * static_cast<uint64_t>(s.subsetsPerRow);
  size_t h0 = static_cast<size_t>(bits * r / 8);
  size_t h1 = static_cast<size_t>((bits * (r + 1) + 7) / 8);
  for (size_t b = h0 & ~size_t(63); b < h1; b += 64)
    __builtin_prefetch(s.hdr + b);
  size_t b1 = static_cast<size_t>(rowOffsets[r + 1]);
  for (size_t b = static_cast<size_t>(rowOffsets[r]) & ~size_t(63); b < b1;
       b += 64)
    __builtin_prefetch(s.body + b);
}

inline float rowScale(const float *scales, int64_t numScales, int64_t r) {
  return scales[numScales == 1 ? 0 : r];
}

//===----------------------------------------------------------------------===//
// Portable row decoder (any D).
//===----------------------------------------------------------------------===//

/// `nbits` (<= 56) header bits from stream bit `bit`, which lies in the
/// header region; never reads past it.
inline uint64_t headerBits(const Stream &s, uint64_t bit, unsigned nbits) {
  size_t byte = static_cast<size_t>(bit >> 3);
  size_t avail = s.hdrBytes - byte;
  uint64_t w = codec::loadBytes(
      s.hdr + byte, avail, static_cast<unsigned>(std::min<size_t>(8, avail)));
  return (w >> (bit & 7)) & ((uint64_t(1) << nbits) - 1);
}

/// The 8 signed values of a subset whose b plane bytes start at `src`
/// (`avail` >= b bytes readable): the codec's 8x8 bit transposes, planes
/// 0-7 and 8-15, then sign unfolding.
inline void decodeSubset(const uint8_t *src, size_t avail, unsigned b,
                         int32_t v[8]) {
  uint64_t lo =
      codec::transpose8x8(codec::loadBytes(src, avail, std::min(b, 8u)));
  uint64_t hi = 0;
  if (b > 8)
    hi = codec::transpose8x8(codec::loadBytes(src + 8, avail - 8, b - 8));
  for (unsigned i = 0; i < 8; ++i) {
    uint32_t u = static_cast<uint32_t>((lo >> (8 * i)) & 0xFF) |
                 (static_cast<uint32_t>((hi >> (8 * i)) & 0xFF) << 8);
    v[i] = static_cast<int32_t>(u >> 1) ^ -static_cast<int32_t>(u & 1);
  }
}

/// Calls sink.add(col, w) with the 16 dequantised weights of every non-zero
/// group of row r, in column order.
template <typename Sink>
int decodeRowPortable(const Stream &s, const int32_t *rowOffsets, int64_t r,
                      float scale, Sink &sink) {
  const unsigned h = s.h, mask = (1u << h) - 1;
  // Groups whose 2h-bit code pairs one headerBits() call returns.
  const int64_t perLoad = 56 / (2 * h);
  const uint64_t s0 = static_cast<uint64_t>(r) * s.subsetsPerRow;
  const unsigned tail = static_cast<unsigned>(s.in & 15);
  size_t pos = static_cast<size_t>(rowOffsets[r]);
  const size_t end = static_cast<size_t>(rowOffsets[r + 1]);
  prefetchRow(s, rowOffsets, r + kPrefetchRows);
  // The lowest bit of each group's 2h-bit code pair, for up to perLoad
  // groups: the groups of a word are enumerated by their non-zero pairs
  // (count-trailing-zeros), without a branch per pruned group.
  const unsigned field = 2 * h;
  uint64_t lowBits = 0;
  for (int64_t j = 0; j < perLoad; ++j)
    lowBits |= uint64_t(1) << (j * field);
  for (int64_t g0 = 0; g0 < s.groupsPerRow; g0 += perLoad) {
    int64_t n = std::min(perLoad, s.groupsPerRow - g0);
    uint64_t codes =
        headerBits(s, (s0 + 2 * g0) * h, static_cast<unsigned>(2 * n) * h);
    uint64_t live = codes;
    for (unsigned k = 1; k < field; ++k)
      live |= codes >> k;
    live &= lowBits; // codes holds n groups only: the rest reads as zero
    while (live) {
      unsigned bit = static_cast<unsigned>(__builtin_ctzll(live));
      live &= live - 1;
      const int64_t g = g0 + bit / field;
      const uint64_t pair = codes >> bit;
      unsigned ca = pair & mask, cb = (pair >> h) & mask;
      unsigned ba = static_cast<unsigned>(codec::codeToB(ca, s.bits));
      unsigned bb = static_cast<unsigned>(codec::codeToB(cb, s.bits));
      if (ba + bb > end - pos)
        return SPARSENN_ERR_CORRUPT;
      int32_t a[8], b[8], q[16];
      decodeSubset(s.body + pos, s.bodySize - pos, ba, a);
      decodeSubset(s.body + pos + ba, s.bodySize - pos - ba, bb, b);
      pos += ba + bb;
      for (unsigned i = 0; i < 8; ++i) {
        q[s.interleave ? 2 * i : i] = a[i];
        q[s.interleave ? 2 * i + 1 : 8 + i] = b[i];
      }
      // The padding past `in` must decode to zero, as in the codec.
      if (tail && g == s.groupsPerRow - 1)
        for (unsigned i = tail; i < 16; ++i)
          if (q[i] != 0)
            return SPARSENN_ERR_CORRUPT;
      alignas(64) float w[16];
      for (unsigned i = 0; i < 16; ++i)
        w[i] = static_cast<float>(q[i]) * scale;
      sink.add(16 * g, w);
    }
  }
  return pos == end ? SPARSENN_OK : SPARSENN_ERR_CORRUPT;
}

/// Row tiles in the block-16 layout (KernelsInternal.h): values [16 * p],
/// cols [p], rowPtr [rows + 1], all local to the tile.
struct Tile {
  float *values = nullptr;
  int32_t *cols = nullptr;
  int32_t *rowPtr = nullptr;
  int64_t used = 0;
  void add(int64_t col, const float *w) {
    std::memcpy(values + 16 * used, w, 16 * sizeof(float));
    cols[used++] = static_cast<int32_t>(col);
  }
};

/// Most rows in one tile (bounds rowPtr), and the decoded groups a tile
/// holds: 4096 x 64 bytes = 256 KiB, which stays in L2 while every block of
/// 8 samples passes over it. (Measured at 4096 x 4096, batch 64: 32 KiB
/// tiles, L1-sized, were 10 % slower; x then streams from L3 once per tile.)
constexpr int64_t kMaxTileRows = 1024;
/// Output rows per thread work item (4096-row layers: 16 items).
constexpr int64_t kThreadRows = 256;
constexpr int64_t kTileGroups = 4096;

int64_t tileCapacity(const Stream &s) {
  return std::max(kTileGroups, s.groupsPerRow);
}

/// Fills tiles of whole rows of [rowBegin, rowEnd) with decodeRow(r, tile)
/// and multiplies each with the block-16 rows kernel: y[:, r0 .. r0 + rows).
template <typename DecodeRow>
int runTiles(const Stream &s, const float *x, int64_t batch, const float *bias,
             float *y, Tile &tile, int64_t rowBegin, int64_t rowEnd,
             DecodeRow decodeRow) {
  const int64_t capacity = tileCapacity(s);
  for (int64_t r0 = rowBegin; r0 < rowEnd;) {
    int64_t rows = 0;
    tile.used = 0;
    tile.rowPtr[0] = 0;
    // A row never overflows: the next one starts only if its worst case
    // (every group non-zero) fits.
    while (r0 + rows < rowEnd && rows < kMaxTileRows &&
           (rows == 0 || tile.used + s.groupsPerRow <= capacity)) {
      if (int st = decodeRow(r0 + rows, tile))
        return st;
      tile.rowPtr[++rows] = static_cast<int32_t>(tile.used);
    }
    const float *b = bias ? bias + r0 : nullptr;
    block16Rows(x, batch, s.in, tile.rowPtr, tile.cols, tile.values, rows, b,
                y + r0, s.out);
    r0 += rows;
  }
  return SPARSENN_OK;
}

/// AVX-512 decoder: per-row lists of the non-zero groups: their two header
/// codes (one byte each, in stream order) and their group index. 32 entries of
/// slack take the whole-vector stores (and the padding to a block of 4).
struct RowGroups {
  uint16_t *codes = nullptr;
  uint16_t *index = nullptr;
  static int64_t entries(const Stream &s) { return s.groupsPerRow + 32; }
};

//===----------------------------------------------------------------------===//
// AVX-512 row decoder (D = 8).
//===----------------------------------------------------------------------===//

#if SPARSENN_KERNELS_X86

#define SPARSENN_SPGC8_TARGET                                                  \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,"       \
                        "avx512vbmi2,gfni,bmi,bmi2,popcnt,fma")))
#define SPARSENN_SPGC8_INLINE                                                  \
  SPARSENN_SPGC8_TARGET inline __attribute__((always_inline))

bool cpuHasFusedSpgc8() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2") &&
           __builtin_cpu_supports("gfni");
  }();
  return has;
}

/// Batch 1: accumulates each decoded group against x in registers; four
/// accumulators (one per group of a decoded block) hide the FMA latency.
/// Groups past the end of the row's list (valid = false) are dropped by
/// the FMA mask rather than by a branch: their count varies from row to row
/// and would be mispredicted.
struct DotSink {
  const float *x;
  int64_t tailCol; // column of the partial last group, or -1
  __mmask16 tailMask;
  __m512 acc[4];
  template <int T>
  SPARSENN_SPGC8_INLINE void add(int64_t col, __m512 w, bool valid) {
    __m512 xv = col == tailCol ? _mm512_maskz_loadu_ps(tailMask, x + col)
                               : _mm512_loadu_ps(x + col);
    acc[T] = _mm512_mask3_fmadd_ps(w, xv, acc[T],
                                   static_cast<__mmask16>(-int(valid)));
  }
};

/// Batches: stores each decoded group into the tile.
struct TileSink {
  Tile *tile;
  template <int T>
  SPARSENN_SPGC8_INLINE void add(int64_t col, __m512 w, bool valid) {
    if (!valid)
      return;
    _mm512_store_ps(tile->values + 16 * tile->used, w);
    tile->cols[tile->used++] = static_cast<int32_t>(col);
  }
};

/// Group T (0-3) of a decoded block of 64 int8 values: padding check,
/// dequantisation, hand-off to the sink. False on non-zero padding.
template <int T, typename Sink>
SPARSENN_SPGC8_INLINE bool emitGroup(__m512i vals, int64_t group, bool valid,
                                     int64_t lastGroup, unsigned tail,
                                     __m512 scale, Sink &sink) {
  __m128i q = _mm512_extracti32x4_epi32(vals, T);
  // (An invalid group has codes 0, so its values are 0 too.)
  if (tail && group == lastGroup &&
      (_mm_cmpneq_epi8_mask(q, _mm_setzero_si128()) >> tail) != 0)
    return false;
  __m512 w = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), scale);
  sink.template add<T>(16 * group, w, valid);
  return true;
}

/// Calls sink.add<T>(col, w, valid) for every non-zero group of row r
/// (D = 8), in blocks of 4 (valid = false for the padding of the last
/// block, whose w is 0 and col a valid column).
template <typename Sink>
SPARSENN_SPGC8_INLINE int
decodeRowAvx512(const Stream &s, const int32_t *rowOffsets, int64_t r,
                float scale, const codec::I8BlockDecoder &decoder,
                const RowGroups &groups, Sink &sink) {
  // Locals: the vector stores below may alias anything, which would make
  // the compiler reload every field of `s` after each of them.
  const uint8_t *const hdr = s.hdr, *const body = s.body;
  const size_t hdrBytes = s.hdrBytes, bodySize = s.bodySize;
  uint16_t *const groupCodes = groups.codes, *const groupIndex = groups.index;
  const int64_t subsets = s.subsetsPerRow;
  prefetchRow(s, rowOffsets, r + kPrefetchRows);

  // 1. Header codes, 64 subsets (24 bytes) per step: quadword j gathers
  //    bytes 3j..3j+7, VPMULTISHIFTQB extracts the 8 codes at bit offsets
  //    sh + 3k (sh: the step's bit offset inside its first byte).
  const __m512i gather = _mm512_set_epi64(
      0x1C1B1A1918171615LL, 0x1918171615141312LL, 0x161514131211100FLL,
      0x131211100F0E0D0CLL, 0x100F0E0D0C0B0A09LL, 0x0D0C0B0A09080706LL,
      0x0A09080706050403LL, 0x0706050403020100LL);
  const __m512i shifts = _mm512_set1_epi64(0x15120F0C09060300LL);
  const __m512i seven = _mm512_set1_epi8(7);
  const __m512i iota = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
                                        21, 20, 19, 18, 17, 16, 15, 14, 13, 12,
                                        11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const uint64_t s0 = static_cast<uint64_t>(r) * subsets;
  int64_t count = 0;
  for (int64_t k = 0; k < subsets; k += 64) {
    uint64_t bit = 3 * (s0 + k);
    size_t byte = static_cast<size_t>(bit >> 3);
    size_t avail = hdrBytes - byte;
    __mmask64 load = avail >= 32 ? 0xFFFFFFFFULL : _bzhi_u64(~0ULL, avail);
    __m512i raw = _mm512_maskz_loadu_epi8(load, hdr + byte);
    __m512i ctrl =
        _mm512_add_epi8(shifts, _mm512_set1_epi8(static_cast<char>(bit & 7)));
    __m512i codes =
        _mm512_and_si512(_mm512_multishift_epi64_epi8(
                             ctrl, _mm512_permutexvar_epi8(gather, raw)),
                         seven);
    if (subsets - k < 64)
      codes = _mm512_maskz_mov_epi8(
          _bzhi_u64(~0ULL, static_cast<unsigned>(subsets - k)), codes);
    // A 16-bit lane is one group (two subsets): non-zero iff it has a body.
    __mmask32 nonZero = _mm512_test_epi16_mask(codes, codes);
    _mm512_storeu_si512(groupCodes + count,
                        _mm512_maskz_compress_epi16(nonZero, codes));
    _mm512_storeu_si512(
        groupIndex + count,
        _mm512_maskz_compress_epi16(
            nonZero, _mm512_add_epi16(
                         iota, _mm512_set1_epi16(static_cast<short>(k / 2)))));
    count += __builtin_popcount(nonZero);
  }
  // Pad the lists to whole blocks of 4: codes 0 (no body), column 0.
  std::memset(groupCodes + count, 0, 4 * sizeof(uint16_t));
  std::memset(groupIndex + count, 0, 4 * sizeof(uint16_t));

  // 2. The non-zero groups' bodies are contiguous: decode them 4 groups (8
  //    subsets, at most 64 body bytes) per block.
  size_t pos = static_cast<size_t>(rowOffsets[r]);
  const size_t end = static_cast<size_t>(rowOffsets[r + 1]);
  const int64_t lastGroup = s.groupsPerRow - 1;
  const unsigned tail = static_cast<unsigned>(s.in & 15);
  const __m512 sv = _mm512_set1_ps(scale);
  for (int64_t j = 0; j < count; j += 4) {
    uint64_t codes;
    std::memcpy(&codes, groupCodes + j, 8);
    // Never past the stream, whatever the codes say; the row check below
    // catches bodies that overrun it.
    size_t avail = bodySize - pos;
    __mmask64 load = avail >= 64 ? ~0ULL : _bzhi_u64(~0ULL, avail);
    unsigned used;
    __m512i vals =
        decoder.decode(codes, _mm512_maskz_loadu_epi8(load, body + pos), &used);
    pos += used;
    if (pos > end)
      return SPARSENN_ERR_CORRUPT;
    const uint16_t *g = groupIndex + j;
    int64_t n = count - j;
    bool ok = emitGroup<0>(vals, g[0], true, lastGroup, tail, sv, sink);
    ok &= emitGroup<1>(vals, g[1], n > 1, lastGroup, tail, sv, sink);
    ok &= emitGroup<2>(vals, g[2], n > 2, lastGroup, tail, sv, sink);
    ok &= emitGroup<3>(vals, g[3], n > 3, lastGroup, tail, sv, sink);
    if (!ok)
      return SPARSENN_ERR_CORRUPT;
  }
  return pos == end ? SPARSENN_OK : SPARSENN_ERR_CORRUPT;
}

SPARSENN_SPGC8_TARGET int
linearBatch1Avx512(const Stream &s, const int32_t *rowOffsets, const float *x,
                   const float *scales, int64_t numScales, const float *bias,
                   float *y, const RowGroups &groups, int64_t rowBegin,
                   int64_t rowEnd) {
  const codec::I8BlockDecoder decoder(s.interleave, /*isUnsigned=*/false);
  DotSink sink;
  sink.x = x;
  unsigned tail = static_cast<unsigned>(s.in & 15);
  sink.tailCol = tail ? s.in - tail : -1;
  sink.tailMask = static_cast<__mmask16>((1u << tail) - 1);
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    for (__m512 &a : sink.acc)
      a = _mm512_setzero_ps();
    if (int st =
            decodeRowAvx512(s, rowOffsets, r, rowScale(scales, numScales, r),
                            decoder, groups, sink))
      return st;
    __m512 sum = _mm512_add_ps(_mm512_add_ps(sink.acc[0], sink.acc[1]),
                               _mm512_add_ps(sink.acc[2], sink.acc[3]));
    y[r] = _mm512_reduce_add_ps(sum) + (bias ? bias[r] : 0.0f);
  }
  return SPARSENN_OK;
}

/// One row of the batched path, as a function so that runTiles (plain code)
/// can call it. (Setting up the decoder's constants per row costs a few
/// loads against hundreds of instructions per row.)
SPARSENN_SPGC8_TARGET int
decodeRowToTileAvx512(const Stream &s, const int32_t *rowOffsets, int64_t r,
                      float scale, const RowGroups &groups, Tile &tile) {
  const codec::I8BlockDecoder decoder(s.interleave, /*isUnsigned=*/false);
  TileSink sink{&tile};
  return decodeRowAvx512(s, rowOffsets, r, scale, decoder, groups, sink);
}

#endif // SPARSENN_KERNELS_X86

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

extern "C" int sparsenn_pack_spgc8_index(const uint8_t *stream,
                                         int64_t stream_size, int64_t out,
                                         int64_t in, int bits, int interleave,
                                         int32_t *row_offsets) {
  if (!row_offsets)
    return SPARSENN_ERR_ARGUMENT;
  Stream s;
  if (int st = makeStream(stream, stream_size, out, in, bits, interleave, s))
    return st;
  uint64_t pos = 0;
  for (int64_t r = 0; r <= out; ++r) {
    if (pos > static_cast<uint64_t>(INT32_MAX))
      return pos > s.bodySize ? SPARSENN_ERR_CORRUPT : SPARSENN_ERR_RANGE;
    row_offsets[r] = static_cast<int32_t>(pos);
    if (r == out)
      break;
    const uint64_t s0 = static_cast<uint64_t>(r) * s.subsetsPerRow;
    for (int64_t k = 0; k < s.subsetsPerRow; ++k)
      pos += static_cast<uint64_t>(codec::codeToB(
          codec::readCode(s.hdr, s0 + k, static_cast<int>(s.h)), bits));
  }
  return pos == s.bodySize ? SPARSENN_OK : SPARSENN_ERR_CORRUPT;
}

extern "C" int sparsenn_linear_spgc8_f32(const float *x, int64_t batch,
                                         int64_t in, const uint8_t *stream,
                                         int64_t stream_size,
                                         const int32_t *row_offsets, int bits,
                                         int interleave, const float *scales,
                                         int64_t num_scales, int64_t out,
                                         const float *bias, float *y) {
  if (!x || !y || batch < 0 || !row_offsets ||
      (out > 0 && (!scales || (num_scales != 1 && num_scales != out))))
    return SPARSENN_ERR_ARGUMENT;
  Stream s;
  if (int st = makeStream(stream, stream_size, out, in, bits, interleave, s))
    return st;
  if (int st = checkIndex(s, row_offsets))
    return st;
  if (batch == 0 || out == 0)
    return SPARSENN_OK;

#if SPARSENN_KERNELS_X86
  // uint16 group indices: rows up to 2^20 columns.
  const bool fast =
      useAvx512() && bits == 8 && cpuHasFusedSpgc8() && s.groupsPerRow <= 65536;
#else
  const bool fast = false;
#endif
  // One scratch per work item, sized for the path taken: the tile (values
  // first, 64-byte aligned) unless batch 1 runs from registers, then the
  // per-row group lists of the AVX-512 decoder.
  const bool tiled = !fast || batch > 1;
  const int64_t capacity = tiled ? tileCapacity(s) : 0;
  const size_t valueBytes = sizeof(float) * 16 * capacity;
  const size_t colBytes = sizeof(int32_t) * capacity;
  const size_t ptrBytes = tiled ? sizeof(int32_t) * (kMaxTileRows + 1) : 0;
  const size_t listBytes = fast ? sizeof(uint16_t) * RowGroups::entries(s) : 0;
  // Rows are split across threads in blocks fixed by the shape; each row is
  // decoded and summed by one item in one order, so results do not depend
  // on the thread count. The first failing block (in row order) reports.
  const int64_t items = threads::chunks(out, kThreadRows);
  std::vector<int> status(static_cast<size_t>(items), SPARSENN_OK);
  threads::parallelFor(items, [&](int64_t item) {
    const int64_t r0 = item * kThreadRows;
    const int64_t r1 = std::min<int64_t>(out, r0 + kThreadRows);
    Scratch scratch(valueBytes + colBytes + ptrBytes + 2 * listBytes);
    if (scratch.failed) {
      status[item] = SPARSENN_ERR_NOMEM;
      return;
    }
    uint8_t *base = scratch.as<uint8_t>();
    Tile tile;
    tile.values = reinterpret_cast<float *>(base);
    tile.cols = reinterpret_cast<int32_t *>(base + valueBytes);
    tile.rowPtr = reinterpret_cast<int32_t *>(base + valueBytes + colBytes);
#if SPARSENN_KERNELS_X86
    if (fast) {
      RowGroups groups;
      groups.codes =
          reinterpret_cast<uint16_t *>(base + valueBytes + colBytes + ptrBytes);
      groups.index = groups.codes + RowGroups::entries(s);
      if (batch == 1) {
        status[item] = linearBatch1Avx512(s, row_offsets, x, scales, num_scales,
                                          bias, y, groups, r0, r1);
        return;
      }
      status[item] =
          runTiles(s, x, batch, bias, y, tile, r0, r1, [&](int64_t r, Tile &t) {
            return decodeRowToTileAvx512(
                s, row_offsets, r, rowScale(scales, num_scales, r), groups, t);
          });
      return;
    }
#endif
    status[item] =
        runTiles(s, x, batch, bias, y, tile, r0, r1, [&](int64_t r, Tile &t) {
          return decodeRowPortable(s, row_offsets, r,
                                   rowScale(scales, num_scales, r), t);
        });
  });
  for (int st : status)
    if (st != SPARSENN_OK)
      return st;
  return SPARSENN_OK;
}
