// snn-driver: runs one entry of a library made by `sparse-compile --gpu` on
// the device machine of the GPU check (scripts/gpu-check.sh, docs/
// performance.md "GPU"). Built on the CPU machine by `gpu-check.sh prepare`
// (static libstdc++; needs only glibc, libdl and, at run time, the NVIDIA
// driver's libcuda.so.1, which it loads itself like the runtime does).
//
//   snn-driver --probe
//       JSON device description on stdout; exit 0, or 77 with the reason when
//       no usable NVIDIA GPU is present.
//   snn-driver --gen FILE.npy --seed S --shape AxBx..
//       writes the deterministic N(0, 1) float32 input the runs use (the
//       pack stores seeds, not inputs; prepare makes the references from
//       these files).
//   snn-driver --compare A.npy B.npy [--rtol R] [--atol-rel A] [--max-flips F]
//       the comparison of a run, alone (tested on the CPU machine).
//   snn-driver --lib L.so --entry NAME --rank R --input SPEC... [--ref REF.npy]
//              [--repeat N] [--budget-ms MS] [--name CASE] [--save OUT.npy]
//              [--allow-no-gpu]
//       SPEC: FILE.npy or gen:SEED:AxB...; calls _mlir_ciface_NAME (one f32
//       result of rank R, f32 inputs), once cold then warm-up and up to N
//       timed calls (stopping after MS ms), and prints one JSON line: status
//       ok | mismatch | error | no_gpu, errors against the reference, host-to-
//       host medians, and kernel times from CUDA events recorded around each
//       launch (the driver exports mgpuLaunchKernel / mgpuMemcpy /
//       mgpuModuleGetFunction, which the library's GOT binds to, and
//       forwards to the library's own). --allow-no-gpu: without a GPU, still
//       call the entry once (the runtime fails softly) and report how many
//       launches were intercepted: the CPU-side test of this plumbing.
//
// Comparison: element i passes when |out - ref| <= rtol*|ref| + atol_rel *
// max|ref| (defaults 1e-4 and 1e-4); the case passes when at most
// max_flips (fraction, default 0) of the elements fail.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

// ---- CUDA driver API, loaded at run time ----------------------------------
typedef int CUresult;
typedef void *CUcontext;
typedef void *CUevent;
typedef void *CUstream;
typedef int CUdevice;

struct Cuda {
  bool ok = false;
  std::string why;
  CUcontext ctx = nullptr;
  CUdevice dev = 0;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext *);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuCtxSynchronize)();
};

Cuda &cuda() {
  static Cuda c;
  static bool done = false;
  if (done)
    return c;
  done = true;
  const char *env = std::getenv("SPARSENN_LIBCUDA");
  void *lib = nullptr;
  std::string tried;
  for (const char *name : {env, "libcuda.so.1", "libcuda.so"}) {
    if (!name || !*name)
      continue;
    tried += std::string(tried.empty() ? "" : ", ") + name;
    if ((lib = dlopen(name, RTLD_NOW | RTLD_GLOBAL)))
      break;
    if (env && name == env)
      break; // an explicit path only
  }
  if (!lib) {
    c.why = "libcuda not found (" + tried + "): " + dlerror();
    return c;
  }
  bool missing = false;
  auto get = [&](auto &fn, const char *a, const char *b = nullptr) {
    void *p = dlsym(lib, a);
    if (!p && b)
      p = dlsym(lib, b);
    if (!p) {
      c.why += std::string(c.why.empty() ? "libcuda lacks " : ", ") + a;
      missing = true;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  get(c.cuInit, "cuInit");
  get(c.cuDriverGetVersion, "cuDriverGetVersion");
  get(c.cuDeviceGetCount, "cuDeviceGetCount");
  get(c.cuDeviceGet, "cuDeviceGet");
  get(c.cuDeviceGetName, "cuDeviceGetName");
  get(c.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  get(c.cuDeviceTotalMem, "cuDeviceTotalMem_v2", "cuDeviceTotalMem");
  get(c.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  get(c.cuCtxPushCurrent, "cuCtxPushCurrent_v2", "cuCtxPushCurrent");
  get(c.cuCtxPopCurrent, "cuCtxPopCurrent_v2", "cuCtxPopCurrent");
  get(c.cuEventCreate, "cuEventCreate");
  get(c.cuEventRecord, "cuEventRecord");
  get(c.cuEventSynchronize, "cuEventSynchronize");
  get(c.cuEventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime");
  get(c.cuCtxSynchronize, "cuCtxSynchronize");
  if (missing)
    return c;
  if (CUresult r = c.cuInit(0)) {
    c.why = "cuInit failed with error " + std::to_string(r) +
            " (the CUDA toolkit's stub libcuda, or no usable NVIDIA GPU)";
    return c;
  }
  int count = 0;
  const char *devEnv = std::getenv("SPARSENN_GPU_DEVICE");
  int ordinal = devEnv ? std::atoi(devEnv) : 0;
  if (c.cuDeviceGetCount(&count) || count <= ordinal) {
    c.why = "no CUDA device " + std::to_string(ordinal) + " (" +
            std::to_string(count) + " found)";
    return c;
  }
  if (c.cuDeviceGet(&c.dev, ordinal) ||
      c.cuDevicePrimaryCtxRetain(&c.ctx, c.dev)) {
    c.why = "cannot retain the primary context of device " +
            std::to_string(ordinal);
    return c;
  }
  c.ok = true;
  return c;
}

std::string jsonEscape(const std::string &s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      o += '\\', o += ch;
    else if (ch == '\n')
      o += "\\n";
    else if (static_cast<unsigned char>(ch) < 0x20)
      o += ' ';
    else
      o += ch;
  }
  return o;
}

std::string deviceJson() {
  Cuda &c = cuda();
  char name[256] = {0};
  int major = 0, minor = 0, sms = 0, clock = 0, memClock = 0, busWidth = 0,
      version = 0;
  size_t mem = 0;
  c.cuDeviceGetName(name, sizeof(name) - 1, c.dev);
  c.cuDeviceGetAttribute(&major, 75, c.dev); // COMPUTE_CAPABILITY_MAJOR
  c.cuDeviceGetAttribute(&minor, 76, c.dev);
  c.cuDeviceGetAttribute(&sms, 16, c.dev);      // MULTIPROCESSOR_COUNT
  c.cuDeviceGetAttribute(&clock, 13, c.dev);    // CLOCK_RATE (kHz)
  c.cuDeviceGetAttribute(&memClock, 36, c.dev); // MEMORY_CLOCK_RATE (kHz)
  c.cuDeviceGetAttribute(&busWidth, 37, c.dev); // GLOBAL_MEMORY_BUS_WIDTH
  c.cuDriverGetVersion(&version);
  c.cuDeviceTotalMem(&mem, c.dev);
  char buf[1024];
  std::snprintf(buf, sizeof(buf),
                "{\"name\": \"%s\", \"sm\": %d%d, \"multiprocessors\": %d, "
                "\"clock_khz\": %d, \"memory_clock_khz\": %d, "
                "\"memory_bus_bits\": %d, \"memory_bytes\": %zu, "
                "\"driver_version\": %d}",
                jsonEscape(name).c_str(), major, minor, sms, clock, memClock,
                busWidth, mem, version);
  return buf;
}

// ---- .npy ------------------------------------------------------------------
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

std::string shapeText(const std::vector<int64_t> &s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i)
    t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

bool loadNpy(const std::string &path, Array &a, std::string &err) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    err = "cannot open " + path;
    return false;
  }
  unsigned char magic[10];
  if (std::fread(magic, 1, 10, f) != 10 || std::memcmp(magic, "\x93NUMPY", 6)) {
    std::fclose(f);
    err = path + ": not a .npy file";
    return false;
  }
  size_t hlen = magic[8] | (magic[9] << 8);
  if (magic[6] >= 2) {
    unsigned char more[2];
    if (std::fread(more, 1, 2, f) != 2) {
      std::fclose(f);
      err = path + ": truncated";
      return false;
    }
    hlen |= (size_t(more[0]) << 16) | (size_t(more[1]) << 24);
  }
  std::string header(hlen, ' ');
  if (std::fread(&header[0], 1, hlen, f) != hlen) {
    std::fclose(f);
    err = path + ": truncated header";
    return false;
  }
  if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    std::fclose(f);
    err = path + ": not C-order little-endian float32: " + header;
    return false;
  }
  size_t p = header.find("'shape': (");
  a.shape.clear();
  int64_t n = 1;
  if (p != std::string::npos) {
    const char *s = header.c_str() + p + 10;
    while (*s && *s != ')') {
      char *end;
      long long d = std::strtoll(s, &end, 10);
      if (end == s) {
        ++s;
        continue;
      }
      a.shape.push_back(d);
      n *= d;
      s = end;
    }
  }
  a.data.resize(n);
  size_t got = std::fread(a.data.data(), 4, n, f);
  std::fclose(f);
  if (got != size_t(n)) {
    err = path + ": truncated data";
    return false;
  }
  return true;
}

bool saveNpy(const std::string &path, const Array &a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : (i + 1 < a.shape.size() ? ", " : ""));
  shape += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(header.size() & 0xff),
                           (unsigned char)(header.size() >> 8)};
  std::fwrite(pre, 1, 10, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(a.data.data(), 4, a.data.size(), f);
  return std::fclose(f) == 0;
}

std::vector<int64_t> parseShape(const std::string &s) {
  std::vector<int64_t> shape;
  const char *p = s.c_str();
  while (*p) {
    char *end;
    long long d = std::strtoll(p, &end, 10);
    if (end == p)
      break;
    shape.push_back(d);
    p = *end == 'x' ? end + 1 : end;
  }
  return shape;
}

// splitmix64 -> Box-Muller: the same numbers on every machine.
void generate(Array &a, uint64_t seed) {
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  auto next = [&]() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  int64_t n = 1;
  for (int64_t d : a.shape)
    n *= d;
  a.data.resize(n);
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = ((next() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (next() >> 11) * (1.0 / 9007199254740992.0);
    double r = std::sqrt(-2.0 * std::log(u1));
    a.data[i] = float(r * std::cos(6.283185307179586 * u2));
    if (i + 1 < n)
      a.data[i + 1] = float(r * std::sin(6.283185307179586 * u2));
  }
}

bool loadSpec(const std::string &spec, Array &a, std::string &err) {
  if (spec.rfind("gen:", 0) == 0) {
    size_t c = spec.find(':', 4);
    if (c == std::string::npos) {
      err = "bad input spec " + spec;
      return false;
    }
    a.shape = parseShape(spec.substr(c + 1));
    generate(a, std::strtoull(spec.c_str() + 4, nullptr, 10));
    return true;
  }
  return loadNpy(spec, a, err);
}

struct Comparison {
  bool ok = false;
  double maxAbs = 0, maxRel = 0, flips = 0, refMax = 0;
  std::string why;
};

Comparison compare(const Array &out, const Array &ref, double rtol,
                   double atolRel, double maxFlips) {
  Comparison c;
  if (out.shape != ref.shape) {
    c.why = "shape " + shapeText(out.shape) + " != reference " +
            shapeText(ref.shape);
    return c;
  }
  for (float r : ref.data)
    c.refMax = std::max(c.refMax, double(std::fabs(r)));
  double atol = atolRel * c.refMax;
  size_t bad = 0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    double o = out.data[i], r = ref.data[i];
    double d = std::fabs(o - r);
    if (!(d <= atol + rtol * std::fabs(r))) // NaN fails
      ++bad;
    if (!(d <= c.maxAbs))
      c.maxAbs = d;
    double rel = d / std::max(std::fabs(r), 1e-30 + atol);
    if (!(rel <= c.maxRel))
      c.maxRel = rel;
  }
  c.flips = ref.data.empty() ? 0 : double(bad) / ref.data.size();
  c.ok = c.flips <= maxFlips;
  if (!c.ok)
    c.why = std::to_string(bad) + " of " + std::to_string(ref.data.size()) +
            " elements outside the tolerance";
  return c;
}

// ---- interposed runtime entry points --------------------------------------
struct Launch {
  void *function;
  CUevent start, stop;
  bool copy;
  size_t bytes;
};
struct Interposer {
  void *lib = nullptr;
  void (*launch)(void *, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                 intptr_t, int32_t, void *, void **, void **, size_t) = nullptr;
  void (*memcpy)(void *, void *, size_t, void *) = nullptr;
  void *(*getFunction)(void *, const char *) = nullptr;
  bool timing = false;
  std::vector<CUevent> pool;
  size_t used = 0;
  std::vector<Launch> launches;
  std::map<void *, std::string> names;
  size_t intercepted = 0;

  CUevent event() {
    Cuda &c = cuda();
    if (used == pool.size()) {
      CUevent e = nullptr;
      c.cuCtxPushCurrent(c.ctx);
      c.cuEventCreate(&e, 0);
      c.cuCtxPopCurrent(nullptr);
      pool.push_back(e);
    }
    return pool[used++];
  }
  void record(CUevent e, void *stream) {
    Cuda &c = cuda();
    c.cuCtxPushCurrent(c.ctx);
    c.cuEventRecord(e, stream);
    c.cuCtxPopCurrent(nullptr);
  }
} ip;

} // namespace

extern "C" {
void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *stream, void **params, void **extra,
                      size_t count) {
  ++ip.intercepted;
  if (!ip.launch)
    return;
  if (!ip.timing || !cuda().ok) {
    ip.launch(function, gx, gy, gz, bx, by, bz, smem, stream, params, extra,
              count);
    return;
  }
  Launch l{function, ip.event(), ip.event(), false, 0};
  ip.record(l.start, stream);
  ip.launch(function, gx, gy, gz, bx, by, bz, smem, stream, params, extra,
            count);
  ip.record(l.stop, stream);
  ip.launches.push_back(l);
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (!ip.memcpy)
    return;
  if (!ip.timing || !cuda().ok) {
    ip.memcpy(dst, src, bytes, stream);
    return;
  }
  Launch l{nullptr, ip.event(), ip.event(), true, bytes};
  ip.record(l.start, stream);
  ip.memcpy(dst, src, bytes, stream);
  ip.record(l.stop, stream);
  ip.launches.push_back(l);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  void *f = ip.getFunction ? ip.getFunction(module, name) : nullptr;
  if (f)
    ip.names[f] = name;
  return f;
}
}

namespace {

double median(std::vector<double> v) {
  if (v.empty())
    return -1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string num(double v) {
  if (!std::isfinite(v))
    return "null";
  char b[64];
  std::snprintf(b, sizeof(b), "%.6g", v);
  return b;
}

typedef void (*Entry0)(void *);
typedef void (*Entry1)(void *, void *);
typedef void (*Entry2)(void *, void *, void *);
typedef void (*Entry3)(void *, void *, void *, void *);
typedef void (*Entry4)(void *, void *, void *, void *, void *);
typedef void (*Entry5)(void *, void *, void *, void *, void *, void *);
typedef void (*Entry6)(void *, void *, void *, void *, void *, void *, void *);

void callEntry(void *fn, void *result, std::vector<void *> &args) {
  switch (args.size()) {
  case 0: reinterpret_cast<Entry0>(fn)(result); break;
  case 1: reinterpret_cast<Entry1>(fn)(result, args[0]); break;
  case 2: reinterpret_cast<Entry2>(fn)(result, args[0], args[1]); break;
  case 3: reinterpret_cast<Entry3>(fn)(result, args[0], args[1], args[2]); break;
  case 4: reinterpret_cast<Entry4>(fn)(result, args[0], args[1], args[2], args[3]); break;
  case 5: reinterpret_cast<Entry5>(fn)(result, args[0], args[1], args[2], args[3], args[4]); break;
  case 6: reinterpret_cast<Entry6>(fn)(result, args[0], args[1], args[2], args[3], args[4], args[5]); break;
  }
}

struct Options {
  std::string lib, entry, ref, name = "case", save;
  int rank = 2;
  std::vector<std::string> inputs;
  int repeat = 100;
  double budgetMs = 2000;
  double rtol = 1e-4, atolRel = 1e-4, maxFlips = 0;
  bool allowNoGPU = false;
};

int fail(const Options &o, const std::string &status, const std::string &why,
         int rc, const std::string &extra = "") {
  std::printf("{\"name\": \"%s\", \"status\": \"%s\", \"error\": \"%s\"%s}\n",
              jsonEscape(o.name).c_str(), status.c_str(),
              jsonEscape(why).c_str(), extra.c_str());
  std::fprintf(stderr, "%s: %s: %s\n", o.name.c_str(), status.c_str(),
               why.c_str());
  return rc;
}

int runCase(const Options &o) {
  Cuda &c = cuda();
  if (!c.ok && !o.allowNoGPU)
    return fail(o, "no_gpu", c.why, 77);
  std::vector<Array> inputs(o.inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string err;
    if (!loadSpec(o.inputs[i], inputs[i], err))
      return fail(o, "error", err, 1);
  }
  if (inputs.size() > 6)
    return fail(o, "error", "more than 6 inputs", 1);
  Array ref;
  if (!o.ref.empty()) {
    std::string err;
    if (!loadNpy(o.ref, ref, err))
      return fail(o, "error", err, 1);
  }
  ip.lib = dlopen(o.lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!ip.lib)
    return fail(o, "error", std::string("dlopen: ") + dlerror(), 1);
  // The library's own definitions (dlsym on its handle finds them first).
  ip.launch = reinterpret_cast<decltype(ip.launch)>(
      dlsym(ip.lib, "mgpuLaunchKernel"));
  ip.memcpy = reinterpret_cast<decltype(ip.memcpy)>(dlsym(ip.lib, "mgpuMemcpy"));
  ip.getFunction = reinterpret_cast<decltype(ip.getFunction)>(
      dlsym(ip.lib, "mgpuModuleGetFunction"));
  if (ip.launch == reinterpret_cast<decltype(ip.launch)>(&mgpuLaunchKernel))
    return fail(o, "error", "dlsym found the driver's own mgpuLaunchKernel", 1);
  auto lastError = reinterpret_cast<const char *(*)()>(
      dlsym(ip.lib, "sparsenn_gpu_last_error"));
  auto clearError = reinterpret_cast<void (*)()>(
      dlsym(ip.lib, "sparsenn_gpu_clear_error"));
  void *fn = dlsym(ip.lib, ("_mlir_ciface_" + o.entry).c_str());
  if (!fn || !lastError || !ip.launch)
    return fail(o, "error",
                "the library lacks _mlir_ciface_" + o.entry +
                    " or the GPU runtime (not made by sparse-compile --gpu?)",
                1);

  // Descriptors: C order, offset 0.
  std::vector<std::vector<int64_t>> descs(inputs.size());
  std::vector<void *> args;
  std::vector<float *> buffers;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Array &a = inputs[i];
    size_t r = a.shape.size();
    float *p = static_cast<float *>(
        std::aligned_alloc(64, ((a.data.size() * 4 + 63) / 64) * 64 + 64));
    std::memcpy(p, a.data.data(), a.data.size() * 4);
    buffers.push_back(p);
    auto &d = descs[i];
    d.assign(3 + 2 * r, 0);
    d[0] = d[1] = int64_t(reinterpret_cast<intptr_t>(p));
    int64_t stride = 1;
    for (size_t k = r; k-- > 0;) {
      d[3 + k] = a.shape[k];
      d[3 + r + k] = stride;
      stride *= a.shape[k];
    }
    args.push_back(d.data());
  }
  std::vector<int64_t> result(3 + 2 * o.rank, 0);
  Array out;
  auto call = [&](bool keep) {
    std::fill(result.begin(), result.end(), 0);
    callEntry(fn, result.data(), args);
    float *base = reinterpret_cast<float *>(result[1]);
    if (keep && base) {
      out.shape.assign(result.begin() + 3, result.begin() + 3 + o.rank);
      int64_t n = 1;
      for (int64_t d : out.shape)
        n *= d;
      out.data.resize(n);
      std::vector<int64_t> idx(o.rank, 0);
      for (int64_t i = 0; i < n; ++i) {
        int64_t off = result[2];
        for (int k = 0; k < o.rank; ++k)
          off += idx[k] * result[3 + o.rank + k];
        out.data[i] = base[off];
        for (int k = o.rank; k-- > 0;)
          if (++idx[k] < out.shape[k])
            break;
          else
            idx[k] = 0;
      }
    }
    if (result[0])
      std::free(reinterpret_cast<void *>(result[0]));
    return base != nullptr;
  };
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };

  if (!c.ok) {
    // CPU plumbing check: one call, soft failure expected.
    ip.intercepted = 0;
    call(false);
    const char *e = lastError();
    return fail(o, "no_gpu", c.why, 77,
                ", \"intercepted_launches\": " +
                    std::to_string(ip.intercepted) +
                    ", \"runtime_error\": \"" + jsonEscape(e ? e : "") + "\"");
  }

  clearError();
  auto t0 = Clock::now();
  bool got = call(true);
  double coldMs = ms(t0, Clock::now());
  if (const char *e = lastError())
    return fail(o, "error", std::string("first call: ") + e, 1,
                ", \"cold_ms\": " + num(coldMs));
  if (!got)
    return fail(o, "error", "the entry returned no result buffer", 1);
  Comparison cmp;
  if (!o.ref.empty())
    cmp = compare(out, ref, o.rtol, o.atolRel, o.maxFlips);
  if (!o.save.empty())
    saveNpy(o.save, out);

  // Warm-up, then timed calls with events around every launch and copy.
  for (int i = 0; i < 3; ++i)
    call(false);
  std::vector<double> host, kernel, copy;
  std::map<std::string, std::vector<double>> perKernel;
  std::map<std::string, int> launchesPerCall;
  ip.timing = true;
  auto start = Clock::now();
  for (int i = 0; i < o.repeat; ++i) {
    ip.used = 0;
    ip.launches.clear();
    auto a = Clock::now();
    call(false);
    auto b = Clock::now();
    host.push_back(ms(a, b));
    c.cuCtxPushCurrent(c.ctx);
    double k = 0, cp = 0;
    std::map<std::string, double> mine;
    std::map<std::string, int> count;
    for (Launch &l : ip.launches) {
      float t = 0;
      c.cuEventSynchronize(l.stop);
      c.cuEventElapsedTime(&t, l.start, l.stop);
      if (l.copy) {
        cp += t;
        continue;
      }
      k += t;
      auto it = ip.names.find(l.function);
      std::string n = it == ip.names.end() ? "?" : it->second;
      mine[n] += t;
      ++count[n];
    }
    c.cuCtxPopCurrent(nullptr);
    kernel.push_back(k);
    copy.push_back(cp);
    for (auto &[n, t] : mine)
      perKernel[n].push_back(t);
    launchesPerCall = count;
    if (ms(start, Clock::now()) > o.budgetMs && i >= 4)
      break;
  }
  ip.timing = false;
  const char *e = lastError();
  std::string status = e ? "error" : (o.ref.empty() || cmp.ok) ? "ok"
                                                                : "mismatch";
  std::string why = e ? std::string("timed calls: ") + e : cmp.why;

  std::string kernels = "[";
  for (auto &[n, v] : perKernel)
    kernels += std::string(kernels.size() > 1 ? ", " : "") + "{\"name\": \"" +
               jsonEscape(n) + "\", \"launches_per_call\": " +
               std::to_string(launchesPerCall[n]) +
               ", \"median_ms\": " + num(median(v)) + "}";
  kernels += "]";
  std::printf(
      "{\"name\": \"%s\", \"status\": \"%s\", \"error\": \"%s\", "
      "\"out_shape\": %s, \"checked\": %s, \"max_abs_err\": %s, "
      "\"max_rel_err\": %s, \"frac_outside_tol\": %s, \"ref_max_abs\": %s, "
      "\"rtol\": %s, \"atol_rel\": %s, \"max_flips\": %s, "
      "\"cold_ms\": %s, \"calls\": %zu, \"host_ms_median\": %s, "
      "\"host_ms_min\": %s, \"kernel_ms_median\": %s, \"kernel_ms_min\": %s, "
      "\"copy_ms_median\": %s, \"kernels\": %s, \"device\": %s}\n",
      jsonEscape(o.name).c_str(), status.c_str(), jsonEscape(why).c_str(),
      shapeText(out.shape).c_str(), o.ref.empty() ? "false" : "true",
      num(cmp.maxAbs).c_str(), num(cmp.maxRel).c_str(), num(cmp.flips).c_str(),
      num(cmp.refMax).c_str(), num(o.rtol).c_str(), num(o.atolRel).c_str(),
      num(o.maxFlips).c_str(), num(coldMs).c_str(), host.size(),
      num(median(host)).c_str(),
      num(*std::min_element(host.begin(), host.end())).c_str(),
      num(median(kernel)).c_str(),
      num(*std::min_element(kernel.begin(), kernel.end())).c_str(),
      num(median(copy)).c_str(), kernels.c_str(), deviceJson().c_str());
  std::fprintf(stderr,
               "%-28s %-8s max|err| %.3g  host %.4f ms  kernels %.4f ms  "
               "copies %.4f ms  (%zu calls)%s%s\n",
               o.name.c_str(), status.c_str(), cmp.maxAbs, median(host),
               median(kernel), median(copy), host.size(),
               why.empty() ? "" : ": ", why.c_str());
  for (float *p : buffers)
    std::free(p);
  return status == "ok" ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  std::string gen, seed = "0", shape, cmpA, cmpB;
  bool probe = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "snn-driver: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--probe") probe = true;
    else if (a == "--gen") gen = next();
    else if (a == "--seed") seed = next();
    else if (a == "--shape") shape = next();
    else if (a == "--compare") { cmpA = next(); cmpB = next(); }
    else if (a == "--lib") o.lib = next();
    else if (a == "--entry") o.entry = next();
    else if (a == "--rank") o.rank = std::atoi(next().c_str());
    else if (a == "--input") o.inputs.push_back(next());
    else if (a == "--ref") o.ref = next();
    else if (a == "--repeat") o.repeat = std::atoi(next().c_str());
    else if (a == "--budget-ms") o.budgetMs = std::atof(next().c_str());
    else if (a == "--name") o.name = next();
    else if (a == "--save") o.save = next();
    else if (a == "--rtol") o.rtol = std::atof(next().c_str());
    else if (a == "--atol-rel") o.atolRel = std::atof(next().c_str());
    else if (a == "--max-flips") o.maxFlips = std::atof(next().c_str());
    else if (a == "--allow-no-gpu") o.allowNoGPU = true;
    else {
      std::fprintf(stderr, "snn-driver: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (probe) {
    Cuda &c = cuda();
    if (!c.ok) {
      std::printf("{\"status\": \"no_gpu\", \"error\": \"%s\"}\n",
                  jsonEscape(c.why).c_str());
      return 77;
    }
    std::printf("{\"status\": \"ok\", \"device\": %s}\n", deviceJson().c_str());
    return 0;
  }
  if (!gen.empty()) {
    Array a;
    a.shape = parseShape(shape);
    generate(a, std::strtoull(seed.c_str(), nullptr, 10));
    return saveNpy(gen, a) ? 0 : 1;
  }
  if (!cmpA.empty()) {
    Array a, b;
    std::string err;
    if (!loadNpy(cmpA, a, err) || !loadNpy(cmpB, b, err)) {
      std::fprintf(stderr, "snn-driver: %s\n", err.c_str());
      return 2;
    }
    Comparison c = compare(a, b, o.rtol, o.atolRel, o.maxFlips);
    std::printf("{\"ok\": %s, \"max_abs_err\": %s, \"frac_outside_tol\": %s}\n",
                c.ok ? "true" : "false", num(c.maxAbs).c_str(),
                num(c.flips).c_str());
    return c.ok ? 0 : 1;
  }
  if (o.lib.empty() || o.entry.empty()) {
    std::fprintf(stderr, "usage: see the comment at the top of driver.cpp\n");
    return 2;
  }
  return runCase(o);
}
