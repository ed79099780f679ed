#!/usr/bin/env python3
"""Whole-model CPU benchmark, side by side in one run: torchvision ResNet-18,
ResNet-50 (and MobileNetV2 when it exports) at 224x224, random weights
(weights=None, fixed seed), eval mode, for each batch size and thread count:

* ONNX Runtime, dense (npm package onnxruntime-node, its bundled CPU build,
  through benchmarks/ort_run.js; installed on first use into --ort-dir with
  `npm install --ignore-scripts onnxruntime-node`);
* PyTorch, dense (the module and torch.jit.freeze(torch.jit.trace(...)), the
  faster of the two; torch.no_grad);
* ours: python/sparsenn/export.py -> sparse-opt --sparsenn-sparsify[=...] ->
  sparse-run (JIT), as `dense` (no pruning, kernels chosen), `sparse90`
  (sparsity=0.9, unstructured) and `spgc8` (sparsity=0.9 spgc8-aligned,
  1x16 input-channel groups); optional `spgc8c` (the same plus compress=true:
  SPGC8-quantised weights).

Times are medians of --repeat runs after warm-up. Every measured side runs in
its own process with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (and for ours
SPARSENN_NUM_THREADS, plus --threads when `sparse-run --help` lists it) set to
the thread count; ours also with OMP_WAIT_POLICY=passive unless set (oneDNN's
OpenMP threads then sleep between primitives instead of spinning on the cores
our thread pool runs on). The dense outputs of ours, PyTorch and ORT are compared
(max |a - b| / max |reference|); the sparse variants have other weights, so
only their time is shown. Also printed: the CPU and its vector ISA, the kernel
each layer got (counts per variant; --verbose: the per-layer list) and how
long each step took (export, sparse-opt, sparse-run's compile).

usage: /usr/bin/python3 benchmarks/models_bench.py [--build build]
       [--models resnet18,resnet50,mobilenet_v2] [--batch 1,32] [--threads 1,2]
       [--repeat N] [--variants dense,sparse90,spgc8] [--skip-ort] [--skip-torch]
       [--out results.json] [--verbose]

This is a benchmark, not a test: nothing here asserts.
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"

VARIANTS = {  # name -> options of --sparsenn-sparsify ("" = the defaults)
    "dense": "",
    "sparse90": "sparsity={s}",
    "spgc8": "sparsity={s} spgc8-aligned",
    # Not a default: also SPGC8-compresses (quantises) the weights, so that
    # layers can get kernel<spgc8>.
    "spgc8c": "sparsity={s} spgc8-aligned compress=true",
}
SEED = 0


def openblas_coretype():
    """OpenBLAS 0.3.21 runs CPUs it does not know (e.g. Xeon model 207) on
    its Prescott (SSE3) kernels, ~4x slower sgemm: name the ISA's kernels
    (held to Haswell when our kernels are held to a non-AVX-512 target)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return None
    target = os.environ.get("SPARSENN_KERNEL_TARGET", "")
    if " avx512f" in flags and (not target or target.startswith("AVX3")):
        return "SkylakeX"
    return "Haswell" if " avx2" in flags else None


def thread_env(n, extra=None):
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
    core = openblas_coretype()
    if core:
        env.setdefault("OPENBLAS_CORETYPE", core)
    env.update(extra or {})
    return env


def tail(text, n=6):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])


# --------------------------------------------------------------------------
# Machine


def machine_info():
    info = {"arch": platform.machine()}
    try:
        cpuinfo = open("/proc/cpuinfo").read()
    except OSError:
        cpuinfo = ""
    m = re.search(r"^(?:model name|Model name|Processor|cpu model)\s*:\s*(.+)$", cpuinfo, re.M)
    name = m.group(1).strip() if m else None
    if not name and shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        name = m.group(1).strip() if m else None
    info["cpu"] = name or "unknown"
    flags = set()
    for m in re.finditer(r"^(?:flags|Features)\s*:\s*(.+)$", cpuinfo, re.M):
        flags.update(m.group(1).split())
    info["avx512"] = sorted(f for f in flags if f.startswith("avx512"))
    info["avx2"] = "avx2" in flags
    info["fma"] = "fma" in flags
    info["amx"] = sorted(f for f in flags if f.startswith("amx"))
    if info["arch"] in ("aarch64", "arm64"):
        info["neon"] = "asimd" in flags or "neon" in flags
        info["sve"] = sorted(f for f in flags if f.startswith("sve"))
    info["cores"] = os.cpu_count()
    return info


def print_machine(info):
    print(f"CPU: {info['cpu']} ({info['arch']}, {info['cores']} logical CPUs)")
    if info["arch"] in ("x86_64", "AMD64", "i686"):
        print(f"ISA: avx2={'yes' if info['avx2'] else 'no'} fma={'yes' if info['fma'] else 'no'} "
              f"avx512: {' '.join(info['avx512']) or 'none'}"
              + (f"; amx: {' '.join(info['amx'])}" if info["amx"] else ""))
    else:
        print(f"ISA: neon={'yes' if info.get('neon') else 'no'} sve: {' '.join(info.get('sve', [])) or 'none'}")


# --------------------------------------------------------------------------
# ONNX Runtime (onnxruntime-node)


def install_node():
    """apt-get install nodejs npm, waiting up to ~15 minutes for the dpkg lock."""
    deadline = time.time() + 900
    while True:
        r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "nodejs", "npm"],
                           capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode == 0:
            return None
        locked = re.search(r"Could not get lock|Unable to acquire the dpkg|is another process using it",
                           r.stderr)
        if not locked or time.time() > deadline:
            return f"apt-get install nodejs npm failed: {tail(r.stderr, 3)}"
        print("  apt is locked (another apt/dpkg is running); retrying in 20 s", flush=True)
        time.sleep(20)


def ensure_ort(ort_dir, install, install_node_too):
    """(node, version) or (None, why it is skipped)."""
    node = shutil.which("node") or shutil.which("nodejs")
    if not node and install_node_too:
        err = install_node()
        if err:
            return None, err
        node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        return None, "no node (apt-get install -y nodejs npm, or --install-node)"
    pkg = os.path.join(ort_dir, "node_modules", "onnxruntime-node", "package.json")
    if not os.path.exists(pkg):
        if not install:
            return None, f"onnxruntime-node not installed in {ort_dir} (--no-install given)"
        npm = shutil.which("npm")
        if not npm:
            return None, "no npm (apt-get install -y npm)"
        os.makedirs(ort_dir, exist_ok=True)
        if not os.path.exists(os.path.join(ort_dir, "package.json")):
            with open(os.path.join(ort_dir, "package.json"), "w") as f:
                json.dump({"name": "sparsenn-bench-ort", "private": True}, f)
        print(f"installing onnxruntime-node into {ort_dir} (npm install --ignore-scripts) ...", flush=True)
        t = time.perf_counter()
        # --ignore-scripts: the postinstall script would fetch a CUDA build;
        # the CPU binaries (bin/napi-v6/<os>/<arch>/) are in the package.
        r = subprocess.run([npm, "install", "--ignore-scripts", "--no-audit", "--no-fund",
                            "onnxruntime-node"], cwd=ort_dir, capture_output=True, text=True, timeout=900)
        if r.returncode or not os.path.exists(pkg):
            return None, f"npm install onnxruntime-node failed: {tail(r.stderr, 3)}"
        print(f"  installed in {time.perf_counter() - t:.1f} s", flush=True)
    probe = ("const o = require(require.resolve('onnxruntime-node', {paths: [process.argv[1]]}));"
             "console.log((o.env && o.env.versions && o.env.versions.node) || '?')")
    r = subprocess.run([node, "-e", probe, ort_dir], capture_output=True, text=True, timeout=120)
    if r.returncode:
        return None, f"onnxruntime-node does not load: {tail(r.stderr, 2)}"
    return node, r.stdout.strip()


def run_ort(node, ort_dir, onnx_path, x_path, threads, warmup, repeat, out_path, timeout):
    cmd = [node, os.path.join(HERE, "ort_run.js"), "--model", onnx_path, "--input", x_path,
           "--threads", str(threads), "--warmup", str(warmup), "--repeat", str(repeat),
           "--output", out_path, "--ort-dir", ort_dir, "--json"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(threads), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if r.returncode:
        return {"error": tail(r.stderr, 3) or f"exit {r.returncode}"}
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return {"ms": res["median_ms"], "min_ms": res["min_ms"], "session_ms": res["session_ms"],
            "version": res["version"]}


# --------------------------------------------------------------------------
# PyTorch (in a worker process, so that the thread environment applies)


def torch_worker(spec):
    import numpy as np
    import torch
    import torchvision
    torch.set_num_threads(spec["threads"])
    model = getattr(torchvision.models, spec["model"])(weights=None)
    model.load_state_dict(torch.load(spec["state"]))
    model.eval()
    x = torch.from_numpy(np.load(spec["input"]))
    warmup, repeat = spec["warmup"], spec["repeat"]

    def timed(fn, warm):
        for _ in range(warm):
            y = fn()
        ts = []
        for _ in range(repeat):
            t = time.perf_counter()
            y = fn()
            ts.append((time.perf_counter() - t) * 1e3)
        return float(np.median(ts)), y

    res = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.no_grad():
        res["module_ms"], y = timed(lambda: model(x), max(warmup, 1))
        np.save(spec["output"], y.numpy())
        try:
            t = time.perf_counter()
            jit = torch.jit.freeze(torch.jit.trace(model, (x,)))
            res["jit_build_s"] = time.perf_counter() - t
            # The profiling executor specialises over the first two calls.
            res["jit_ms"], yj = timed(lambda: jit(x), max(warmup, 3))
            res["jit_vs_module"] = float((yj - y).abs().max() / y.abs().max().clamp_min(1e-30))
        except Exception as e:  # noqa: BLE001 - report and fall back to the module
            res["jit_error"] = f"{type(e).__name__}: {e}"
    use_jit = "jit_ms" in res and res["jit_ms"] < res["module_ms"]
    res["used"] = "jit.freeze(trace)" if use_jit else "module"
    res["ms"] = res["jit_ms"] if use_jit else res["module_ms"]
    print(json.dumps(res))


def run_torch(spec, timeout):
    cmd = [PYTHON, os.path.abspath(__file__), "--torch-worker", json.dumps(spec)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(spec["threads"]), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if r.returncode:
        return {"error": tail(r.stderr, 3) or f"exit {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# Ours


OP_RE = re.compile(r"\bsparsenn\.(conv2d|linear)\b")
KERNEL_RE = re.compile(r"kernel\s*=\s*#sparsenn\.kernel<([A-Za-z_0-9]+)")
DENSITY_RE = re.compile(r"density\s*=\s*([0-9.eE+-]+)")
WTYPE_RE = re.compile(r"(tensor<[^>]*>|!sparsenn\.spgc8<[^>]*>)")
TOTAL_RE = re.compile(r"total: .*")
ALIAS_RE = re.compile(r"^(#[A-Za-z_][A-Za-z_0-9$.-]*)\s*=\s*(#sparsenn\..*)$")


def layer_kernels(mlir_path):
    """[(kind, weight type, density or None, kernel or None)] in module order,
    from the op lines of the sparsified IR (the hex constants are skipped)."""
    layers, aliases = [], {}
    with open(mlir_path, errors="replace") as f:
        for line in f:
            head = line[:400]
            a = ALIAS_RE.match(head)
            if a:  # `#name = #sparsenn....` (not printed today; cheap to honour)
                aliases[a.group(1)] = a.group(2).strip()
                continue
            if aliases and "#" in head:
                line = re.sub(r"#[A-Za-z_][A-Za-z_0-9$.-]*",
                              lambda m: aliases.get(m.group(0), m.group(0)), line)
            m = OP_RE.search(head)
            if not m or "dense<\"0x" in head or "arith.constant" in head:
                continue
            k = KERNEL_RE.search(line)
            d = DENSITY_RE.search(line)
            types = WTYPE_RE.findall(line[line.rfind(" : "):]) if " : " in line else []
            w = types[1] if len(types) > 1 else "?"
            w = w.replace("tensor<", "").rstrip(">") if w.startswith("tensor<") else w
            layers.append((m.group(1), w, float(d.group(1)) if d else None, k.group(1) if k else None))
    return layers


SUMMARY_ROW_RE = re.compile(r"^\s*\d+\s+(conv2d|linear)\s+(\S+)\s+(\d+)\s+([0-9.]+)\*?\s+(\S+)", re.M)


def merge_summary(layers, summary):
    """Layer dicts from the IR op lines, with the density (when the op has no
    sparsity fact, e.g. after channel pruning) and fan-in range of the
    --sparsenn-print-summary rows, matched in order."""
    rows = SUMMARY_ROW_RE.findall(summary or "")
    out = []
    for i, (kind, w, d, k) in enumerate(layers):
        r = rows[i] if len(rows) == len(layers) and rows[i][0] == kind else None
        out.append({"op": kind, "weights": w, "kernel": k,
                    "density": d if d is not None else (float(r[3]) if r else None),
                    "fan_in": r[4] if r else None})
    return out


def kernel_counts(layers):
    counts = {}
    for layer in layers:
        k = layer["kernel"] or "(none)"
        counts[k] = counts.get(k, 0) + 1
    return counts


def sparsify(opt, src, dst, variant, sparsity, timeout):
    opts = VARIANTS[variant].format(s=sparsity)
    flag = "--sparsenn-sparsify" + (f"={opts}" if opts else "")
    cmd = [opt, src, flag, "--sparsenn-print-summary", "-o", dst]
    res = {"cmd": " ".join(cmd[1:]).replace(src, os.path.basename(src))}
    t = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        res.update(sparsify_s=time.perf_counter() - t, error=f"timed out after {timeout} s")
        return res
    res["sparsify_s"] = time.perf_counter() - t
    if r.returncode:
        res["error"] = tail(r.stderr, 4) or f"exit {r.returncode}"
        return res
    res["summary"] = r.stdout
    m = TOTAL_RE.search(r.stdout)
    res["summary_total"] = m.group(0) if m else None
    res["mlir_mb"] = os.path.getsize(dst) / 1e6
    res["layers"] = merge_summary(layer_kernels(dst), r.stdout)
    res["kernels"] = kernel_counts(res["layers"])
    return res


def sparse_run_threads_flag(run):
    try:
        r = subprocess.run([run, "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return re.search(r"^\s*--threads\b", r.stdout + r.stderr, re.M) is not None


def run_ours(run, mlir, entry, x_path, out_dir, threads, repeat, use_flag, timeout):
    cmd = [run, mlir, "--entry", entry, "--input", x_path, "--output-dir", out_dir, "--repeat", str(repeat)]
    if use_flag:
        cmd += ["--threads", str(threads)]
    t = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env=thread_env(threads, {"SPARSENN_NUM_THREADS": str(threads),
                                                    # oneDNN's OpenMP threads sleep between
                                                    # primitives instead of spinning on the
                                                    # cores our pool runs on (unless set).
                                                    "OMP_WAIT_POLICY": os.environ.get(
                                                        "OMP_WAIT_POLICY", "passive")}))
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - t
    if r.returncode:
        return {"error": tail(r.stderr, 4) or f"exit {r.returncode}", "wall_s": wall}
    m = re.search(r"median ([0-9.]+) ms", r.stdout)
    if not m:
        return {"error": f"no 'median ... ms' in the output: {tail(r.stdout, 2)}", "wall_s": wall}
    ms = float(m.group(1))
    mn = re.search(r"min ([0-9.]+) ms", r.stdout)
    # sparse-run parses, lowers and JIT-compiles, runs once (writing the
    # result), then `repeat` timed runs: the rest of the wall time is
    # (roughly) parse + compile.
    return {"ms": ms, "min_ms": float(mn.group(1)) if mn else None, "wall_s": wall,
            "compile_s_est": max(wall - (repeat + 1) * ms / 1e3, 0.0)}


# --------------------------------------------------------------------------


def rel_err(a, b):
    import numpy as np
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def fmt_ms(r):
    if r is None:
        return "-"
    if "skipped" in r:
        return "skip"
    if "error" in r:
        return "FAIL"
    return f"{r['ms']:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory with bin/sparse-opt, bin/sparse-run")
    ap.add_argument("--models", default="resnet18,resnet50,mobilenet_v2")
    ap.add_argument("--batch", default="1,32")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed runs per measurement (default: 10 at batch <= 4, else 3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs for PyTorch / ORT (sparse-run: 1)")
    ap.add_argument("--variants", default="dense,sparse90,spgc8", help=f"comma-separated, of {','.join(VARIANTS)}")
    ap.add_argument("--sparsity", type=float, default=0.9, help="target of sparse90 / spgc8")
    ap.add_argument("--skip-ort", action="store_true")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--ort-dir", default=os.path.expanduser("~/.cache/sparsenn-bench/ort"))
    ap.add_argument("--no-install", action="store_true", help="do not npm install onnxruntime-node")
    ap.add_argument("--install-node", action="store_true",
                    help="apt-get install nodejs npm when node is missing (waits for the apt lock)")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per subprocess")
    ap.add_argument("--work-dir", default=None, help="keep the .mlir/.onnx/.npy files here")
    ap.add_argument("--out", default=None, help="write all numbers to this JSON file")
    ap.add_argument("--verbose", action="store_true", help="per-layer kernels and the sparse-opt summaries")
    ap.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(json.loads(args.torch_worker))

    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(ROOT, "python"))
    try:
        import torchvision
    except ImportError:
        sys.exit("models_bench: torchvision is missing (apt-get install -y python3-torchvision; "
                 "run with /usr/bin/python3)")
    from sparsenn.export import export, ExportError

    models = [m for m in args.models.split(",") if m]
    batches = [int(b) for b in args.batch.split(",") if b]
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"models_bench: unknown variant {v!r} (one of {', '.join(VARIANTS)})")

    info = machine_info()
    print_machine(info)

    opt = os.path.join(args.build, "bin", "sparse-opt")
    run = os.path.join(args.build, "bin", "sparse-run")
    ours_skip = None
    if args.skip_ours:
        ours_skip = "--skip-ours"
    elif not (os.access(opt, os.X_OK) and os.access(run, os.X_OK)):
        ours_skip = f"no {opt} / {run} (build first)"
    threads_flag = False
    if not ours_skip:
        threads_flag = sparse_run_threads_flag(run)
        print(f"ours: {run}; threads via "
              + ("--threads N (listed by --help)" if threads_flag else "SPARSENN_NUM_THREADS=N only"
                 " (--threads not in sparse-run --help)"))
    else:
        print(f"ours: skipped: {ours_skip}")

    node, ort_version = None, None
    ort_skip = "--skip-ort" if args.skip_ort else None
    if not ort_skip:
        node, v = ensure_ort(args.ort_dir, not args.no_install, args.install_node)
        if node:
            ort_version = v
            print(f"ONNX Runtime: onnxruntime-node {v} (CPU EP) from {args.ort_dir}")
        else:
            ort_skip = v
            print(f"ONNX Runtime: skipped: {v}")
    torch_skip = "--skip-torch" if args.skip_torch else None
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}"
          + (" (skipped)" if torch_skip else ""))
    print(flush=True)

    work = args.work_dir or tempfile.mkdtemp(prefix="models_bench_")
    os.makedirs(work, exist_ok=True)
    rows, builds, notes = [], {}, []
    try:
        for name in models:
            try:
                torch.manual_seed(SEED)
                model = getattr(torchvision.models, name)(weights=None).eval()
            except Exception as e:  # noqa: BLE001
                print(f"{name}: skipped: cannot build it ({type(e).__name__}: {e})")
                notes.append(f"{name}: skipped: {e}")
                continue
            state = os.path.join(work, f"{name}.state.pt")
            torch.save(model.state_dict(), state)
            for batch in batches:
                repeat = args.repeat or (10 if batch <= 4 else 3)
                tag = f"{name} b{batch}"
                x = np.random.default_rng(SEED).standard_normal((batch, 3, 224, 224)).astype(np.float32)
                x_path = os.path.join(work, f"x{batch}.npy")
                np.save(x_path, x)
                b = builds.setdefault(name, {}).setdefault(str(batch), {"variants": {}})

                # ---- export to MLIR and sparsify (once per model and batch)
                model_skip = ours_skip
                sparsified = {}
                # Export even without the tools (to report what does not export).
                if not args.skip_ours:
                    mlir = os.path.join(work, f"{name}_b{batch}.mlir")
                    t = time.perf_counter()
                    try:
                        text = export(model, (torch.from_numpy(x),), func_name="main", dialect="sparsenn")
                    except (ExportError, Exception) as e:  # noqa: BLE001
                        model_skip = f"export failed: {type(e).__name__}: {e}"
                        print(f"{tag}: ours skipped: {model_skip}", flush=True)
                        b["export_error"] = model_skip
                    else:
                        b["export_s"] = time.perf_counter() - t
                        with open(mlir, "w") as f:
                            f.write(text)
                        b["mlir_mb"] = len(text) / 1e6
                        del text
                        print(f"{tag}: export {b['export_s']:.1f} s, {b['mlir_mb']:.0f} MB of MLIR", flush=True)
                        for v in variants if not ours_skip else []:
                            dst = os.path.join(work, f"{name}_b{batch}_{v}.mlir")
                            res = sparsify(opt, mlir, dst, v, args.sparsity, args.timeout)
                            b["variants"][v] = res
                            if "error" in res:
                                print(f"{tag} {v}: sparse-opt failed ({res['sparsify_s']:.1f} s): {res['error']}",
                                      flush=True)
                                continue
                            sparsified[v] = dst
                            counts = ", ".join(f"{k} {c}" for k, c in sorted(res["kernels"].items()))
                            print(f"{tag} {v}: sparse-opt {res['sparsify_s']:.1f} s, {res['mlir_mb']:.0f} MB; "
                                  f"{len(res['layers'])} layers: {counts}", flush=True)
                b["ours_skip"] = model_skip

                onnx_path = os.path.join(work, f"{name}_b{batch}.onnx")
                ort_model_skip = ort_skip
                if not ort_model_skip:
                    t = time.perf_counter()
                    try:
                        with torch.no_grad():
                            torch.onnx.export(model, (torch.from_numpy(x),), onnx_path, opset_version=args.opset,
                                              input_names=["x"], output_names=["y"], do_constant_folding=True)
                        b["onnx_export_s"] = time.perf_counter() - t
                    except Exception as e:  # noqa: BLE001
                        ort_model_skip = f"torch.onnx.export failed: {type(e).__name__}: {e}"
                        print(f"{tag}: ORT skipped: {ort_model_skip}", flush=True)

                # ---- measure
                for threads in thread_counts:
                    row = {"model": name, "batch": batch, "threads": threads, "repeat": repeat, "ours": {}}
                    pre = f"{tag} t{threads}"
                    outs = {}
                    if ort_model_skip:
                        row["ort"] = {"skipped": ort_model_skip}
                    else:
                        out = os.path.join(work, "ort_out.npy")
                        row["ort"] = run_ort(node, args.ort_dir, onnx_path, x_path, threads, max(args.warmup, 1),
                                             repeat, out, args.timeout)
                        if "ms" in row["ort"]:
                            outs["ort"] = np.load(out)
                        print(f"{pre} ORT: " + (f"{row['ort']['ms']:.2f} ms" if "ms" in row["ort"]
                                                 else row["ort"]["error"]), flush=True)
                    if torch_skip:
                        row["torch"] = {"skipped": torch_skip}
                    else:
                        out = os.path.join(work, "torch_out.npy")
                        row["torch"] = run_torch({"model": name, "state": state, "input": x_path, "output": out,
                                                  "threads": threads, "warmup": args.warmup, "repeat": repeat},
                                                 args.timeout)
                        tr = row["torch"]
                        if "ms" in tr:
                            outs["torch"] = np.load(out)
                            print(f"{pre} PyTorch: {tr['ms']:.2f} ms ({tr['used']}; module {tr['module_ms']:.2f}"
                                  + (f", jit.freeze(trace) {tr['jit_ms']:.2f}" if "jit_ms" in tr
                                     else f", jit failed: {tr.get('jit_error')}") + ")", flush=True)
                        else:
                            print(f"{pre} PyTorch: {tr['error']}", flush=True)
                    for v in variants:
                        if model_skip:
                            row["ours"][v] = {"skipped": model_skip}
                            continue
                        if v not in sparsified:
                            row["ours"][v] = {"skipped": "sparse-opt failed"}
                            continue
                        od = os.path.join(work, f"out_{v}")
                        for old in glob.glob(os.path.join(od, "result*.npy")):
                            os.remove(old)
                        res = run_ours(run, sparsified[v], "main", x_path, od, threads, repeat, threads_flag,
                                       args.timeout)
                        row["ours"][v] = res
                        if "ms" in res:
                            if v == "dense":
                                outs["ours"] = np.load(os.path.join(od, "result0.npy"))
                            print(f"{pre} ours {v}: {res['ms']:.2f} ms (sparse-run {res['wall_s']:.1f} s, "
                                  f"~{res['compile_s_est']:.1f} s parse+compile)", flush=True)
                        else:
                            print(f"{pre} ours {v}: FAILED: {res['error']}", flush=True)
                    errs = {}
                    for a, ref in (("ours", "torch"), ("ort", "torch"), ("ours", "ort")):
                        if a in outs and ref in outs:
                            errs[f"{a}_vs_{ref}"] = rel_err(outs[a], outs[ref])
                    row["max_rel_err"] = errs
                    if errs:
                        print(f"{pre} max rel err (dense): "
                              + ", ".join(f"{k.replace('_vs_', ' vs ')} {e:.2e}" if isinstance(e, float)
                                          else f"{k}: {e}" for k, e in errs.items()), flush=True)
                    rows.append(row)
                # The sparsified modules are large; keep only with --work-dir.
                if not args.work_dir:
                    for p in glob.glob(os.path.join(work, f"{name}_b{batch}*")):
                        os.remove(p)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    # ---- report
    print()
    print(f"medians in ms (--repeat {args.repeat or '10 at batch <= 4, else 3'}); "
          f"ours: {', '.join(variants)}; noisy on a loaded machine")
    head = f"{'model':13} {'batch':>5} {'thr':>3} {'ORT':>9} {'PyTorch':>9}"
    for v in variants:
        head += f" {'ours ' + v:>14}"
    for v in variants:
        head += f" {'ORT/' + v:>13}"
    print(head)
    for r in rows:
        line = f"{r['model']:13} {r['batch']:5} {r['threads']:3} {fmt_ms(r['ort']):>9} {fmt_ms(r['torch']):>9}"
        for v in variants:
            line += f" {fmt_ms(r['ours'].get(v)):>14}"
        for v in variants:
            o = r["ours"].get(v) or {}
            ratio = f"{r['ort']['ms'] / o['ms']:.2f}x" if "ms" in r["ort"] and "ms" in o else "-"
            line += f" {ratio:>13}"
        print(line)
    torch_used = sorted({r["torch"].get("used") for r in rows if "used" in r["torch"]})
    if torch_used:
        print(f"PyTorch column: the faster of the module and jit.freeze(trace) per row (used: {', '.join(torch_used)})")

    print("\nmax relative error of the dense outputs (max|a-b| / max|ref|):")
    for r in rows:
        if r["max_rel_err"]:
            print(f"  {r['model']} b{r['batch']} t{r['threads']}: "
                  + ", ".join(f"{k.replace('_vs_', ' vs ')} {e:.2e}" if isinstance(e, float) else f"{k}: {e}"
                              for k, e in r["max_rel_err"].items()))

    print("\nkernels per layer (from the sparsified IR) and step times:")
    for name, per_batch in builds.items():
        for batch, b in per_batch.items():
            if b.get("ours_skip"):
                print(f"  {name} b{batch}: "
                      + (f"export {b['export_s']:.1f} s ({b['mlir_mb']:.0f} MB); " if "export_s" in b else "")
                      + (f"torch.onnx.export {b['onnx_export_s']:.1f} s; " if "onnx_export_s" in b else "")
                      + f"ours skipped: {b['ours_skip']}")
                continue
            print(f"  {name} b{batch}: export {b['export_s']:.1f} s ({b['mlir_mb']:.0f} MB)"
                  + (f", torch.onnx.export {b['onnx_export_s']:.1f} s" if "onnx_export_s" in b else ""))
            for v, res in b["variants"].items():
                if "error" in res:
                    print(f"    {v:9} sparse-opt FAILED: {res['error']}")
                    continue
                counts = ", ".join(f"{k} {c}" for k, c in sorted(res["kernels"].items()))
                compile_s = [r["ours"][v]["compile_s_est"] for r in rows
                             if r["model"] == name and str(r["batch"]) == batch and "ms" in r["ours"].get(v, {})]
                print(f"    {v:9} sparse-opt {res['sparsify_s']:.1f} s"
                      + (f", sparse-run parse+compile ~{min(compile_s):.1f} s" if compile_s else "")
                      + f"; {len(res['layers'])} layers: {counts}")
                if res.get("summary_total"):
                    print(f"              {res['summary_total']}")
                if args.verbose:
                    for i, layer in enumerate(res["layers"]):
                        d = layer["density"]
                        print(f"      {i:3} {layer['op']:7} {layer['weights']:22} density "
                              f"{'?' if d is None else f'{d:.3f}':>6}  fan-in {layer['fan_in'] or '?':>10}  "
                              f"kernel {layer['kernel'] or '(none)'}")
                    print("      sparse-opt --sparsenn-print-summary:")
                    for l in res["summary"].rstrip().splitlines():
                        print(f"        {l}")
    for n in notes:
        print(n)

    if args.out:
        for per_batch in builds.values():
            for b in per_batch.values():
                for res in b["variants"].values():
                    if not args.verbose:
                        res.pop("summary", None)
        with open(args.out, "w") as f:
            json.dump({"machine": info, "ort_version": ort_version, "torch_version": torch.__version__,
                       "threads_flag": threads_flag, "config": vars(args), "results": rows,
                       "builds": builds, "notes": notes}, f, indent=1, default=str)
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
