//===- main.cpp - spgc8: the SPGC8 codec on files -------------------------===//
//
//   spgc8 encode IN.npy OUT [--bits 8|16] [--interleave] [--unsigned]
//   spgc8 encode --raw IN.npy OUT.bin [--bits 8|16] [--interleave] [--unsigned]
//   spgc8 decode IN OUT.npy [--int]
//   spgc8 decode --raw IN.bin OUT.npy --count N [--bits 8|16] [--interleave]
//                [--unsigned]
//   spgc8 stat IN [--rows]
//
// docs/spgc8.md §5. Every failure prints exactly one line starting with
// "spgc8: error: " on stderr and exits with status 1.
//
//===----------------------------------------------------------------------===//

#include "sparsenn/Support/Npy.h"
#include "sparsenn/Runtime/SPGC8.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace sparsenn;

namespace {

const char *kUsage =
    "usage:\n"
    "  spgc8 encode IN.npy OUT [--bits 8|16] [--interleave] [--unsigned]\n"
    "      .npy int8/int16/int32 (stored as is) or float32 (symmetric\n"
    "      per-output-channel quantisation) -> SPGC8 tensor container\n"
    "  spgc8 encode --raw IN.npy OUT.bin [--bits 8|16] [--interleave] "
    "[--unsigned]\n"
    "      flat integer vector -> raw stream (docs/spgc8.md section 1)\n"
    "  spgc8 decode IN OUT.npy [--int]\n"
    "      container -> .npy (float32 when the container has scales, unless\n"
    "      --int; otherwise the stored integer type)\n"
    "  spgc8 decode --raw IN.bin OUT.npy --count N [--bits 8|16] "
    "[--interleave] [--unsigned]\n"
    "  spgc8 stat IN [--rows]\n"
    "      compression ratio, histogram of body widths, zero subsets, bytes\n"
    "      per row\n";

[[noreturn]] void fail(const std::string &msg) {
  std::fprintf(stderr, "spgc8: error: %s\n", msg.c_str());
  std::exit(1);
}

struct Options {
  std::string command;
  std::vector<std::string> positional;
  bool raw = false;
  bool interleave = false;
  bool isUnsigned = false;
  bool forceInt = false;
  bool rows = false;
  int bits = 0; // 0: default (8)
  bool haveCount = false;
  uint64_t count = 0;
};

uint64_t parseCount(const std::string &s) {
  if (s.empty() || s.size() > 18 ||
      s.find_first_not_of("0123456789") != std::string::npos)
    fail("--count expects a non-negative integer, got '" + s + "'");
  return std::strtoull(s.c_str(), nullptr, 10);
}

Options parseArgs(int argc, char **argv) {
  Options o;
  if (argc < 2)
    fail("missing command (try 'spgc8 --help')");
  o.command = argv[1];
  if (o.command == "--help" || o.command == "-h" || o.command == "help") {
    std::fputs(kUsage, stdout);
    std::exit(0);
  }
  if (o.command != "encode" && o.command != "decode" && o.command != "stat")
    fail("unknown command '" + o.command + "' (try 'spgc8 --help')");
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> std::string {
      if (i + 1 >= argc)
        fail(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (a == "--raw") {
      o.raw = true;
    } else if (a == "--interleave") {
      o.interleave = true;
    } else if (a == "--unsigned") {
      o.isUnsigned = true;
    } else if (a == "--int") {
      o.forceInt = true;
    } else if (a == "--rows") {
      o.rows = true;
    } else if (a == "--bits" || a.rfind("--bits=", 0) == 0) {
      std::string v = a == "--bits" ? value("--bits") : a.substr(7);
      if (v != "8" && v != "16")
        fail("--bits must be 8 or 16, got '" + v + "'");
      o.bits = std::atoi(v.c_str());
    } else if (a == "--count" || a.rfind("--count=", 0) == 0) {
      o.count = parseCount(a == "--count" ? value("--count") : a.substr(8));
      o.haveCount = true;
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a.size() > 1 && a[0] == '-') {
      fail("unknown option '" + a + "'");
    } else {
      o.positional.push_back(a);
    }
  }
  // Options that do not apply to a command are rejected rather than ignored.
  bool isEncode = o.command == "encode", isDecode = o.command == "decode";
  if (o.forceInt && !(isDecode && !o.raw))
    fail("--int only applies to 'decode' of a container");
  if (o.rows && o.command != "stat")
    fail("--rows only applies to 'stat'");
  if (o.haveCount && !(isDecode && o.raw))
    fail("--count only applies to 'decode --raw'");
  if ((o.bits || o.interleave || o.isUnsigned) && !isEncode && !o.raw)
    fail("--bits/--interleave/--unsigned apply to 'encode' and to "
         "'decode --raw' (a container records them)");
  if (o.raw && o.command == "stat")
    fail("'stat' reads containers only");
  size_t want = o.command == "stat" ? 1 : 2;
  if (o.positional.size() != want)
    fail("'" + o.command + "' expects " + std::to_string(want) +
         (want == 1 ? " file" : " files") + ", got " +
         std::to_string(o.positional.size()));
  if (isDecode && o.raw && !o.haveCount)
    fail("'decode --raw' needs --count N (the number of values)");
  return o;
}

std::string statusMessage(sparsenn_status s) { return sparsenn_status_string(s); }

npy::Array readNpy(const std::string &path) {
  npy::Array a;
  std::string err;
  if (!npy::read(path, a, err))
    fail(err);
  return a;
}

std::vector<uint8_t> readBinary(const std::string &path) {
  std::vector<uint8_t> bytes;
  std::string err;
  if (!npy::readFile(path, bytes, err))
    fail(err);
  return bytes;
}

void writeBinary(const std::string &path, const uint8_t *data, size_t size) {
  std::string err;
  if (!npy::writeFile(path, data, size, err))
    fail(err);
}

void writeNpy(const std::string &path, const npy::Array &a) {
  std::string err;
  if (!npy::write(path, a, err))
    fail(err);
}

/// Converts an integer .npy array to int16 storage (or keeps int8), checking
/// that the values fit the codec's range for D bits.
struct IntData {
  bool isI8 = false;
  std::vector<int8_t> i8;
  std::vector<int16_t> i16;
};

IntData toIntData(const npy::Array &a, const std::string &path, int bits,
                  bool isUnsigned) {
  IntData d;
  size_t n = a.numElements();
  auto rangeFail = [&](int64_t v) {
    fail("'" + path + "': value " + std::to_string(v) + " does not fit " +
         (isUnsigned ? "unsigned " : "signed ") + std::to_string(bits) +
         "-bit coefficients" + (bits == 8 ? " (try --bits 16)" : ""));
  };
  int64_t lo = isUnsigned ? 0 : -(int64_t(1) << (bits - 1));
  int64_t hi =
      isUnsigned ? (int64_t(1) << bits) - 1 : (int64_t(1) << (bits - 1)) - 1;
  auto check = [&](int64_t v) {
    if (v < lo || v > hi)
      rangeFail(v);
  };
  switch (a.dtype) {
  case npy::DType::I8:
    if (isUnsigned)
      for (size_t i = 0; i < n; ++i)
        check(a.as<int8_t>()[i]);
    d.isI8 = true;
    d.i8.assign(a.as<int8_t>(), a.as<int8_t>() + n);
    return d;
  case npy::DType::U8:
    if (!isUnsigned)
      fail("'" + path + "': uint8 input needs --unsigned");
    if (bits == 8) {
      d.isI8 = true; // same bit pattern
      d.i8.resize(n);
      std::copy(a.data.begin(), a.data.end(),
                reinterpret_cast<uint8_t *>(d.i8.data()));
    } else {
      d.i16.assign(a.as<uint8_t>(), a.as<uint8_t>() + n);
    }
    return d;
  case npy::DType::I16:
    d.i16.resize(n);
    for (size_t i = 0; i < n; ++i) {
      check(a.as<int16_t>()[i]);
      d.i16[i] = a.as<int16_t>()[i];
    }
    return d;
  case npy::DType::U16:
    if (!isUnsigned)
      fail("'" + path + "': uint16 input needs --unsigned");
    d.i16.resize(n);
    for (size_t i = 0; i < n; ++i) {
      check(a.as<uint16_t>()[i]);
      d.i16[i] = static_cast<int16_t>(a.as<uint16_t>()[i]);
    }
    return d;
  case npy::DType::I32:
    d.i16.resize(n);
    for (size_t i = 0; i < n; ++i) {
      int32_t v = a.as<int32_t>()[i];
      check(v);
      // Unsigned 16-bit values keep their bit pattern in int16 storage.
      d.i16[i] = static_cast<int16_t>(static_cast<uint16_t>(v));
    }
    return d;
  default:
    fail("'" + path + "': unsupported dtype " + npy::name(a.dtype) +
         " (expected int8, int16, int32" +
         (isUnsigned ? ", uint8, uint16" : "") + " or float32)");
  }
}

std::vector<int64_t> shapeOf(const npy::Array &a, const std::string &path) {
  if (a.shape.size() > SPARSENN_SPGC8_MAX_RANK)
    fail("'" + path + "': rank " + std::to_string(a.shape.size()) +
         " exceeds the maximum of " + std::to_string(SPARSENN_SPGC8_MAX_RANK));
  return a.shape;
}

int cmdEncode(const Options &o) {
  const std::string &in = o.positional[0], &out = o.positional[1];
  npy::Array a = readNpy(in);
  int bits = o.bits ? o.bits : 8;
  std::vector<uint8_t> buf;
  size_t size = 0;
  sparsenn_status st;
  if (o.raw) {
    if (a.dtype == npy::DType::F32 || a.dtype == npy::DType::F64)
      fail("'" + in + "': 'encode --raw' needs an integer array, got " +
           npy::name(a.dtype));
    IntData d = toIntData(a, in, bits, o.isUnsigned);
    size_t n = a.numElements();
    buf.resize(sparsenn_spgc8_raw_max_size(n, bits, o.interleave));
    st =
        d.isI8
            ? sparsenn_spgc8_encode_raw_i8(d.i8.data(), n, bits, o.interleave,
                                  o.isUnsigned, buf.data(), buf.size(), &size)
            : sparsenn_spgc8_encode_raw_i16(d.i16.data(), n, bits, o.interleave,
                                   o.isUnsigned, buf.data(), buf.size(), &size);
  } else {
    std::vector<int64_t> shape = shapeOf(a, in);
    int rank = static_cast<int>(shape.size());
    size_t cap =
        sparsenn_spgc8_container_max_size(shape.data(), rank, bits, o.interleave, 1);
    if (cap == 0)
      fail("'" + in + "': tensor too large");
    buf.resize(cap);
    if (a.dtype == npy::DType::F32) {
      if (o.isUnsigned)
        fail("--unsigned needs integer input (float32 is quantised "
             "symmetrically)");
      size_t n = a.numElements();
      std::vector<int16_t> q(n);
      std::vector<float> scales(sparsenn_spgc8_num_channels(shape.data(), rank));
      st = sparsenn_spgc8_quantize_f32(a.as<float>(), shape.data(), rank, bits, q.data(),
                              scales.data());
      if (st == SPARSENN_ERR_RANGE)
        fail("'" + in + "': non-finite value (NaN or infinity)");
      if (st == SPARSENN_OK)
        st = sparsenn_spgc8_container_encode(q.data(), SPARSENN_SPGC8_DTYPE_I16, shape.data(),
                                    rank, bits, o.interleave, 0, scales.data(),
                                    buf.data(), buf.size(), &size);
    } else {
      IntData d = toIntData(a, in, bits, o.isUnsigned);
      st = d.isI8 ? sparsenn_spgc8_container_encode(d.i8.data(), SPARSENN_SPGC8_DTYPE_I8,
                                           shape.data(), rank, bits,
                                           o.interleave, o.isUnsigned, nullptr,
                                           buf.data(), buf.size(), &size)
                  : sparsenn_spgc8_container_encode(d.i16.data(), SPARSENN_SPGC8_DTYPE_I16,
                                           shape.data(), rank, bits,
                                           o.interleave, o.isUnsigned, nullptr,
                                           buf.data(), buf.size(), &size);
    }
  }
  if (st != SPARSENN_OK)
    fail("cannot encode '" + in + "': " + statusMessage(st));
  writeBinary(out, buf.data(), size);
  return 0;
}

int cmdDecode(const Options &o) {
  const std::string &in = o.positional[0], &out = o.positional[1];
  std::vector<uint8_t> bytes = readBinary(in);
  npy::Array a;
  if (o.raw) {
    int bits = o.bits ? o.bits : 8;
    if (o.count > (uint64_t(1) << 40))
      fail("--count " + std::to_string(o.count) + " is too large");
    size_t n = static_cast<size_t>(o.count);
    // A stream of n values has at least its headers; checking this first
    // bounds the allocation below by the file size.
    size_t streamSize = 0;
    sparsenn_status st = sparsenn_spgc8_raw_stream_size(bytes.data(), bytes.size(), n, bits,
                                            o.interleave, &streamSize);
    if (st != SPARSENN_OK)
      fail("cannot decode '" + in + "': " + statusMessage(st) +
           " (for --count " + std::to_string(n) + ")");
    a.shape = {static_cast<int64_t>(n)};
    size_t consumed = 0;
    if (bits == 8 && !o.isUnsigned) {
      a.dtype = npy::DType::I8;
      a.data.resize(n);
      st = sparsenn_spgc8_decode_raw_i8(bytes.data(), bytes.size(), n, bits,
                               o.interleave, 0, a.as<int8_t>(), &consumed);
    } else {
      a.dtype = bits == 8 ? npy::DType::U8
                          : (o.isUnsigned ? npy::DType::U16 : npy::DType::I16);
      std::vector<int16_t> v(n);
      st =
          sparsenn_spgc8_decode_raw_i16(bytes.data(), bytes.size(), n, bits,
                               o.interleave, o.isUnsigned, v.data(), &consumed);
      a.data.resize(n * npy::elementSize(a.dtype));
      if (bits == 8)
        for (size_t i = 0; i < n; ++i)
          a.data[i] = static_cast<uint8_t>(v[i]);
      else
        std::copy(v.begin(), v.end(), a.as<int16_t>());
    }
    if (st != SPARSENN_OK)
      fail("cannot decode '" + in + "': " + statusMessage(st));
    if (consumed != bytes.size())
      fail("cannot decode '" + in +
           "': " + std::to_string(bytes.size() - consumed) +
           " trailing bytes after a stream of " + std::to_string(n) +
           " values (wrong --count, --bits or --interleave?)");
    writeNpy(out, a);
    return 0;
  }

  sparsenn_spgc8_info info;
  sparsenn_status st = sparsenn_spgc8_container_info(bytes.data(), bytes.size(), &info);
  if (st == SPARSENN_OK && info.container_size != bytes.size())
    fail("cannot decode '" + in +
         "': " + std::to_string(bytes.size() - info.container_size) +
         " trailing bytes after the container");
  if (st == SPARSENN_OK)
    st = sparsenn_spgc8_container_verify(bytes.data(), bytes.size());
  if (st != SPARSENN_OK)
    fail("cannot decode '" + in + "': " + statusMessage(st));
  a.shape.assign(info.shape, info.shape + info.rank);
  size_t n = static_cast<size_t>(info.num_values);
  if (info.has_scales && !o.forceInt) {
    a.dtype = npy::DType::F32;
    a.data.resize(4 * n);
    st = sparsenn_spgc8_container_decode_f32(bytes.data(), bytes.size(), a.as<float>(),
                                    n);
  } else if (info.bits == 8 && !info.is_unsigned &&
             (info.dtype == SPARSENN_SPGC8_DTYPE_I8 || info.dtype == SPARSENN_SPGC8_DTYPE_F32)) {
    a.dtype = npy::DType::I8;
    a.data.resize(n);
    st = sparsenn_spgc8_container_decode(bytes.data(), bytes.size(), a.as<int8_t>(),
                                SPARSENN_SPGC8_DTYPE_I8, n, nullptr, 0);
  } else if (info.bits == 8 && info.is_unsigned &&
             info.dtype == SPARSENN_SPGC8_DTYPE_I8) {
    a.dtype = npy::DType::I8; // the original int8 bit patterns
    a.data.resize(n);
    st = sparsenn_spgc8_container_decode(bytes.data(), bytes.size(), a.as<int8_t>(),
                                SPARSENN_SPGC8_DTYPE_I8, n, nullptr, 0);
  } else {
    a.dtype = npy::DType::I16;
    a.data.resize(2 * n);
    st = sparsenn_spgc8_container_decode(bytes.data(), bytes.size(), a.as<int16_t>(),
                                SPARSENN_SPGC8_DTYPE_I16, n, nullptr, 0);
  }
  if (st != SPARSENN_OK)
    fail("cannot decode '" + in + "': " + statusMessage(st));
  writeNpy(out, a);
  return 0;
}

const char *layoutName(sparsenn_spgc8_layout l) {
  switch (l) {
  case SPARSENN_SPGC8_LAYOUT_FLAT:
    return "flat";
  case SPARSENN_SPGC8_LAYOUT_LINEAR:
    return "linear [out, in]";
  case SPARSENN_SPGC8_LAYOUT_CONV:
    return "conv [Cout, Cin, k...]";
  }
  return "?";
}

const char *dtypeName(sparsenn_spgc8_dtype d) {
  switch (d) {
  case SPARSENN_SPGC8_DTYPE_I8:
    return "int8";
  case SPARSENN_SPGC8_DTYPE_I16:
    return "int16";
  case SPARSENN_SPGC8_DTYPE_F32:
    return "float32 (quantised, per-channel scales)";
  }
  return "?";
}

int cmdStat(const Options &o) {
  const std::string &in = o.positional[0];
  std::vector<uint8_t> bytes = readBinary(in);
  sparsenn_spgc8_info info;
  sparsenn_status st = sparsenn_spgc8_container_info(bytes.data(), bytes.size(), &info);
  if (st == SPARSENN_OK)
    st = sparsenn_spgc8_container_verify(bytes.data(), bytes.size());
  if (st != SPARSENN_OK)
    fail("cannot read '" + in + "': " + statusMessage(st));
  const uint8_t *payload = bytes.data() + info.payload_offset;
  size_t padded = sparsenn_spgc8_tensor_padded_values(info.shape, info.rank);
  size_t subsets = sparsenn_spgc8_num_subsets(padded, info.interleave);
  std::vector<uint8_t> codes(subsets);
  st = sparsenn_spgc8_raw_read_codes(payload, static_cast<size_t>(info.payload_size),
                            subsets, info.bits, codes.data());
  if (st != SPARSENN_OK)
    fail("cannot read '" + in + "': " + statusMessage(st));

  std::string shape;
  for (int i = 0; i < info.rank; ++i)
    shape += (i ? "x" : "") + std::to_string(info.shape[i]);
  if (info.rank == 0)
    shape = "scalar";
  double rawBytes = static_cast<double>(info.num_values) * info.bits / 8.0;
  std::printf("file:            %s\n", in.c_str());
  std::printf("shape:           %s (%s)\n", shape.c_str(),
              layoutName(info.layout));
  std::printf("dtype:           %s\n", dtypeName(info.dtype));
  std::printf("coefficients:    D=%d %s, %s groups of 16\n", info.bits,
              info.is_unsigned ? "unsigned" : "signed (sign folded)",
              info.interleave ? "interleaved" : "adjacent");
  std::printf("values:          %" PRIu64 " (%zu padded, %zu subsets)\n",
              info.num_values, padded, subsets);
  std::printf("raw int%d bytes:  %.0f\n", info.bits, rawBytes);
  std::printf("payload bytes:   %" PRIu64 "\n", info.payload_size);
  std::printf("container bytes: %" PRIu64 "\n", info.container_size);
  auto ratio = [&](double bytes) { return bytes > 0 ? rawBytes / bytes : 0.0; };
  std::printf("ratio vs raw:    %.3fx (payload), %.3fx (container)\n",
              ratio(static_cast<double>(info.payload_size)),
              ratio(static_cast<double>(info.container_size)));
  int h = sparsenn_spgc8_header_bits(info.bits);
  std::vector<uint64_t> hist(static_cast<size_t>(1) << h, 0);
  for (uint8_t c : codes)
    ++hist[c];
  std::printf("zero subsets:    %.4f\n",
              subsets ? static_cast<double>(hist[0]) / subsets : 0.0);
  std::printf("body width b histogram:\n");
  for (size_t c = 0; c < hist.size(); ++c)
    std::printf("  b=%2d  %12" PRIu64 "  %7.4f\n",
                sparsenn_spgc8_code_to_body_bits(static_cast<int>(c), info.bits),
                hist[c],
                subsets ? static_cast<double>(hist[c]) / subsets : 0.0);

  // Per-row figures from the codes (index rows: output channels).
  uint64_t rows = info.num_rows;
  size_t perRow = rows ? static_cast<size_t>(info.row_values / 8) : 0;
  double minB = 0, maxB = 0, sumB = 0;
  if (o.rows)
    std::printf("rows:\n  %8s %12s %10s %12s\n", "row", "bytes", "ratio",
                "zero_subsets");
  double rowRaw = rows ? rawBytes / static_cast<double>(rows) : 0.0;
  for (uint64_t r = 0; r < rows; ++r) {
    uint64_t bodyBits = 0, zeros = 0;
    for (size_t k = 0; k < perRow; ++k) {
      int c = codes[r * perRow + k];
      bodyBits +=
          static_cast<uint64_t>(h) +
          8u * static_cast<uint64_t>(sparsenn_spgc8_code_to_body_bits(c, info.bits));
      zeros += c == 0;
    }
    double b = static_cast<double>(bodyBits) / 8.0;
    minB = r == 0 ? b : std::min(minB, b);
    maxB = r == 0 ? b : std::max(maxB, b);
    sumB += b;
    if (o.rows)
      std::printf("  %8" PRIu64 " %12.1f %10.3f %12" PRIu64 "\n", r, b,
                  b > 0 ? rowRaw / b : 0.0, zeros);
  }
  if (rows)
    std::printf("bytes per row:   min %.1f, mean %.1f, max %.1f (%" PRIu64
                " rows, headers included)\n",
                minB, sumB / static_cast<double>(rows), maxB, rows);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseArgs(argc, argv);
  if (o.command == "encode")
    return cmdEncode(o);
  if (o.command == "decode")
    return cmdDecode(o);
  return cmdStat(o);
}
