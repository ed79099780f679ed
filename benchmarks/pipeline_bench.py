#!/usr/bin/env python3
"""End-to-end benchmarks through the compiler (sparse-opt lowering + JIT via
sparse-run), side by side in one run, medians, --threads N (default 1) for
ours (sparse-run --threads) and PyTorch (torch.set_num_threads, OpenBLAS/OMP
environment set before import):

* seed 000's sparse CNN (Table 1 shape, 90% weight sparsity in conv2 and the
  1000-unit linear layer, k-winners) at batch 1 and 64: selected sparse
  kernels vs the same pipeline forced dense vs a dense PyTorch CNN of the
  same shape; and the compile time of the whole pipeline on that CNN;
* a linear layer y = W x (default 4096x4096) at 90% fixed fan-in, batch 1
  (SpMV) and 64 (SpMM): ELL vs dense (our pipeline) vs upstream MLIR's
  sparsifier (mlir-opt-22 --sparsifier on a CSR weight with 32-bit
  positions/coordinates, JIT-run by mlir-runner-22, always 1 thread; several
  option sets, the fastest reported; skipped when the tools are missing) vs
  PyTorch's fastest dense call (batch 1: torch.mv / torch.matmul on a vector;
  batch 64: F.linear / x @ W.T / torch.mm); and the sparse-sparse case (10%
  active inputs from k-winners x 10% weights).

The machine's ISA, the load average and the runtime's kernel target are
printed first. With SPARSENN_KERNEL_TARGET=AVX2 (any target but AVX3*; and
ONEDNN_MAX_CPU_ISA=AVX2 for our dense kernels) the peers are held to AVX2
too: OPENBLAS_CORETYPE=Haswell and mlir-runner --mattr=-avx512f; otherwise
OPENBLAS_CORETYPE=SkylakeX on AVX-512 CPUs (OpenBLAS 0.3.21 takes unknown
CPUs for Prescott); a set OPENBLAS_CORETYPE is kept. The linear layer's goals (printed as ok / <goal): ours
>= 1.5x the sparsifier, >= 5x (batch 1) / 3x (batch 64) PyTorch's fastest.

usage: /usr/bin/python3 benchmarks/pipeline_bench.py [--build build]
       [--repeat 50] [--size 4096] [--threads 1] [--mlir-opt mlir-opt-22]
       [--mlir-runner mlir-runner-22] [--mlir-lib /usr/lib/llvm-22/lib]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                             formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--build", default="build")
ap.add_argument("--repeat", type=int, default=50, help="timed runs per case (median)")
ap.add_argument("--size", type=int, default=4096, help="the linear layer is size x size")
ap.add_argument("--threads", type=int, default=1,
                help="threads of ours and PyTorch (the sparsifier runs on one)")
ap.add_argument("--mlir-opt", default="mlir-opt-22")
ap.add_argument("--mlir-runner", default="mlir-runner-22")
ap.add_argument("--mlir-lib", default="/usr/lib/llvm-22/lib",
                help="directory of libmlir_c_runner_utils.so")
args = ap.parse_args()
if min(args.repeat, args.size, args.threads) < 1:
    ap.error("--repeat, --size and --threads must be >= 1")


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        return {flag for line in f if line.startswith("flags")
                for flag in line.split(":", 1)[1].split()}


FLAGS = cpu_flags()
TARGET = os.environ.get("SPARSENN_KERNEL_TARGET", "")
# A forced target without AVX-512 (AVX2, SSE4, portable...) holds the peers to AVX2.
NO_AVX512 = bool(TARGET) and not TARGET.upper().startswith("AVX3")
# OpenBLAS ignores torch.set_num_threads: pin it before numpy/torch load it.
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
os.environ["OMP_NUM_THREADS"] = str(args.threads)
# OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels on CPUs it does
# not know (this one: Xeon model 207), ~4x slower sgemm: name the kernels of
# the ISA unless OPENBLAS_CORETYPE is set.
if NO_AVX512 or "avx512f" not in FLAGS:
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell" if "avx2" in FLAGS else "Prescott")
else:
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from sparsenn.mlirgen import const, seed000_cnn, sparse_weights, ttype  # noqa: E402

F = torch.nn.functional
KERNELS = {}  # what sparse-run reports: threads and kernel target

# Options of upstream --sparsifier tried on the linear layer; the fastest
# (checked against numpy) is reported. enable-simd-index32 is an option of
# the sparse-vectorization pass but not of mlir-opt-22's --sparsifier
# pipeline (rejected: "no such option"), so those sets are skipped there.
# Measured (AVX-512, 1 thread, 4096^2): vl=16 with reassociation and index
# optimizations is ~2x the scalar code at both batches (vl=8: the same at
# batch 1, no gain at batch 64); the runtime library on or off and
# enable-x86vector are within the noise of each other.
VEC = "reassociate-fp-reductions=true enable-index-optimizations=true"
SPARSIFIER_OPTIONS = (
    "enable-runtime-library=true",
    "enable-runtime-library=false",
    f"enable-runtime-library=false vl=8 {VEC}",
    f"enable-runtime-library=false vl=16 {VEC}",
    f"enable-runtime-library=true vl=16 {VEC}",
    f"enable-runtime-library=false vl=16 {VEC} enable-x86vector=true",
    f"enable-runtime-library=false vl=8 enable-simd-index32=true {VEC}",
    f"enable-runtime-library=false vl=16 enable-simd-index32=true {VEC}",
)


def isa():
    avx512 = sorted(f for f in FLAGS if f.startswith("avx512"))
    return (f"ISA: {' '.join(avx512) or 'no avx512'}; avx2 {'yes' if 'avx2' in FLAGS else 'no'}"
            f", fma {'yes' if 'fma' in FLAGS else 'no'}")


def run_tool(run, model, inputs, repeat, tmp):
    cmd = [run, model, "--entry", "main", "--output-dir", tmp, "--repeat", str(repeat),
           "--threads", str(args.threads)]
    for i, a in enumerate(inputs):
        p = os.path.join(tmp, f"in{i}.npy")
        np.save(p, a)
        cmd += ["--input", p]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    m = re.search(r"\((\d+) threads, kernels (\S+)\)", out.stdout)
    if m:
        KERNELS.update(threads=int(m.group(1)), target=m.group(2))
    return float(re.search(r"median ([0-9.]+) ms", out.stdout).group(1))


def torch_time(fn, repeat):
    with torch.no_grad():
        fn()
        ts = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t) * 1e3)
    return float(np.median(ts))


def torch_fastest(calls, repeat):
    """(ms, name) of the fastest of {name: fn}."""
    return min((torch_time(fn, repeat), name) for name, fn in calls.items())


def both(opt, run, module, inputs, repeat, tmp):
    path = os.path.join(tmp, "m.mlir")
    dense = os.path.join(tmp, "dense.mlir")
    with open(path, "w") as f:
        f.write(module)
    subprocess.run([opt, path, "--sparsenn-select-kernels=force=dense", "-o", dense], check=True)
    return run_tool(run, path, inputs, repeat, tmp), run_tool(run, dense, inputs, repeat, tmp), path


def hexconst(a, ty):
    return f'arith.constant dense<"0x{np.ascontiguousarray(a).tobytes().hex().upper()}"> : {ty}'


def sparsifier_module(w, x, repeat):
    """An MLIR program for upstream's sparsifier: W (CSR, i32 positions and
    coordinates) assembled from constant buffers outside the timed loop; one
    product y0 = W x printed for the check; then `repeat` products, each
    timed with rtclock, chained (y += W x, so none is hoisted or dropped),
    the times printed, then the checksum sum(y). Batch > 1 is
    Y[i, b] = W[i, j] X[j, b] with X = x^T (feature-major; the transposes
    are not timed): the batch-major linalg.generic y[b, i] += W[i, j] x[b, j]
    was ~9x slower (64 gathering SpMVs, 60 vs 6.8 ms at batch 64)."""
    n_out, n_in = w.shape
    rows, cols = np.nonzero(w)
    pos = np.zeros(n_out + 1, "<i4")
    np.cumsum(np.bincount(rows, minlength=n_out), out=pos[1:])
    crd, val, nnz = cols.astype("<i4"), w[rows, cols].astype("<f4"), len(rows)
    wt = f"tensor<{n_out}x{n_in}xf32, #CSR>"
    if x.shape[0] == 1:
        xv, dims = x[0], (n_out,)
        xt, yt = f"tensor<{n_in}xf32>", f"tensor<{n_out}xf32>"
        op = "linalg.matvec"
    else:
        xv, dims = x.T, (n_out, x.shape[0])
        xt, yt = f"tensor<{n_in}x{x.shape[0]}xf32>", f"tensor<{n_out}x{x.shape[0]}xf32>"
        op = "linalg.matmul"

    def product(res, acc):
        return f"{res} = {op} ins(%w, %x : {wt}, {xt}) outs({acc} : {yt}) -> {yt}"
    idx = ", ".join(f"%i{k}" for k in range(len(dims)))
    print_y = "".join(f"{'  ' * k}    %n{k} = arith.constant {d} : index\n"
                      f"{'  ' * k}    scf.for %i{k} = %c0 to %n{k} step %c1 {{\n"
                      for k, d in enumerate(dims))
    ind = "  " * len(dims) + "    "
    print_y += f"{ind}%e = tensor.extract %y0[{idx}] : {yt}\n{ind}vector.print %e : f32\n"
    print_y += "".join(f"{'  ' * k}    }}\n" for k in reversed(range(len(dims))))
    return f"""#CSR = #sparse_tensor.encoding<{{ map = (i, j) -> (i : dense, j : compressed), posWidth = 32, crdWidth = 32 }}>
module {{
  func.func private @rtclock() -> f64
  func.func @main() {{
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %cr = arith.constant {repeat} : index
    %zero = arith.constant 0.0 : f32
    %pos = {hexconst(pos, f"tensor<{n_out + 1}xi32>")}
    %crd = {hexconst(crd, f"tensor<{nnz}xi32>")}
    %val = {hexconst(val, f"tensor<{nnz}xf32>")}
    %x = {hexconst(xv.astype("<f4"), xt)}
    %w = sparse_tensor.assemble (%pos, %crd), %val : (tensor<{n_out + 1}xi32>, tensor<{nnz}xi32>), tensor<{nnz}xf32> to {wt}
    %empty = tensor.empty() : {yt}
    %zeros = linalg.fill ins(%zero : f32) outs(%empty : {yt}) -> {yt}
    {product("%y0", "%zeros")}
{print_y}    %times = memref.alloc() : memref<{repeat}xf64>
    %yn = scf.for %r = %c0 to %cr step %c1 iter_args(%y = %y0) -> ({yt}) {{
      %t0 = func.call @rtclock() : () -> f64
      {product("%y1", "%y")}
      %t1 = func.call @rtclock() : () -> f64
      %dt = arith.subf %t1, %t0 : f64
      memref.store %dt, %times[%r] : memref<{repeat}xf64>
      scf.yield %y1 : {yt}
    }}
    scf.for %r = %c0 to %cr step %c1 {{
      %t = memref.load %times[%r] : memref<{repeat}xf64>
      vector.print %t : f64
    }}
    memref.dealloc %times : memref<{repeat}xf64>
    %s0 = tensor.empty() : tensor<f32>
    %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
    %sum = linalg.reduce ins(%yn : {yt}) outs(%s1 : tensor<f32>) dimensions = [{", ".join(map(str, range(len(dims))))}]
      (%a: f32, %acc: f32) {{
        %s = arith.addf %a, %acc : f32
        linalg.yield %s : f32
      }}
    %checksum = tensor.extract %sum[] : tensor<f32>
    vector.print %checksum : f32
    return
  }}
}}
"""


def sparsifier_tools():
    """(mlir-opt, mlir-runner, libmlir_c_runner_utils.so), or None with a
    message when one is missing."""
    tools = (shutil.which(args.mlir_opt), shutil.which(args.mlir_runner),
             os.path.join(args.mlir_lib, "libmlir_c_runner_utils.so"))
    if None in tools[:2] or not os.path.exists(tools[2]):
        print(f"MLIR sparsifier peer skipped: needs {args.mlir_opt}, {args.mlir_runner} and "
              f"{tools[2]} (Debian mlir-22-tools); --mlir-opt/--mlir-runner/--mlir-lib")
        return None
    return tools


def sparsifier_time(tools, w, x, repeat, tmp):
    """{options: (median ms, mean ms) or an error} of every option set; each
    result is checked against numpy (W x, relative 1e-4) first."""
    mlir_opt, runner, lib = tools
    src, low = os.path.join(tmp, "sparsifier.mlir"), os.path.join(tmp, "sparsifier.llvm.mlir")
    with open(src, "w") as f:
        f.write(sparsifier_module(w, x, repeat))
    ref = (x.astype(np.float64) @ w.T.astype(np.float64))
    ref = ref[0] if x.shape[0] == 1 else ref.T
    results = {}
    for opts in SPARSIFIER_OPTIONS:
        out = subprocess.run([mlir_opt, src, f"--sparsifier={opts}", "-o", low],
                             capture_output=True, text=True)
        if out.returncode:
            m = re.search(r"no such option (\S+)", out.stderr)
            err = out.stderr.strip().splitlines()
            results[opts] = (f"skipped: no option {m.group(1)}" if m else
                             "mlir-opt: " + (err[-1] if err else f"exit {out.returncode}"))
            continue
        cmd = [runner, low, "-e", "main", "-entry-point-result=void", "-O3",
               f"-shared-libs={lib}"] + (["--mattr=-avx512f"] if NO_AVX512 else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            results[opts] = f"mlir-runner: exit {out.returncode}: {out.stderr.strip()[-200:]}"
            continue
        v = np.array(out.stdout.split(), dtype=np.float64)
        if v.size != ref.size + repeat + 1:
            results[opts] = (f"mlir-runner: {v.size} values printed, expected "
                             f"{ref.size + repeat + 1}")
            continue
        y0, times, checksum = v[:ref.size].reshape(ref.shape), v[ref.size:-1] * 1e3, v[-1]
        err = np.abs(y0 - ref).max() / np.abs(ref).max()
        expect = (repeat + 1) * ref.sum()
        if err > 1e-4 or abs(checksum - expect) > 1e-4 * (repeat + 1) * np.abs(ref).sum():
            results[opts] = f"WRONG: relative error {err:.1e}, checksum {checksum} vs {expect:.6g}"
            continue
        results[opts] = (float(np.median(times)), float(times.mean()))
    return results


def main():
    torch.set_num_threads(args.threads)
    opt = os.path.join(args.build, "bin", "sparse-opt")
    run = os.path.join(args.build, "bin", "sparse-run")
    rng = np.random.default_rng(0)
    print(isa())
    print(f"SPARSENN_KERNEL_TARGET={TARGET or '(unset: the best of the CPU)'}, "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '(unset)')}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"threads: {args.threads} (ours: sparse-run --threads; PyTorch {torch.__version__}: "
          f"set_num_threads, OPENBLAS/OMP_NUM_THREADS); MLIR sparsifier: 1; "
          f"medians of {args.repeat} runs")
    print(f"{'case':44} {'ours sparse':>12} {'ours dense':>12} {'torch dense':>12} {'vs ours':>8} {'vs torch':>9}")

    def row(name, sparse, dense, tdense):
        print(f"{name:44} {sparse:10.4f}ms {dense:10.4f}ms {tdense:10.4f}ms "
              f"{dense / sparse:7.2f}x {tdense / sparse:8.2f}x", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, 64):
            module, x, _ = seed000_cnn(rng, batch)
            s, d, path = both(opt, run, module, [x], args.repeat, tmp)
            net = torch.nn.Sequential(
                torch.nn.Conv2d(1, 64, 5), torch.nn.MaxPool2d(2), torch.nn.ReLU(),
                torch.nn.Conv2d(64, 64, 5), torch.nn.MaxPool2d(2), torch.nn.ReLU(),
                torch.nn.Flatten(), torch.nn.Linear(1024, 1000), torch.nn.ReLU(),
                torch.nn.Linear(1000, 10)).eval()
            xt = torch.from_numpy(x)
            row(f"seed 000 CNN, batch {batch}", s, d, torch_time(lambda: net(xt), args.repeat))
            if batch == 1:
                t = time.perf_counter()
                subprocess.run([opt, path, "--sparsenn-lower-to-llvm", "-o", os.devnull], check=True)
                compile_s = time.perf_counter() - t

        n = args.size
        w = sparse_weights(rng, (n, n), 0.1)
        wt = torch.from_numpy(w)
        tools = sparsifier_tools()
        linear = []
        for batch in (1, 64):
            x = rng.normal(size=(batch, n)).astype(np.float32)
            module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, n))} {{
{const('w', w)}  %y = sparsenn.linear %x, %w : {ttype(x.shape)}, {ttype(w.shape)} -> {ttype((batch, n))}
  return %y : {ttype((batch, n))}
}}"""
            s, d, _ = both(opt, run, module, [x], args.repeat, tmp)
            xt = torch.from_numpy(x)
            if batch == 1:
                xv = xt[0]
                calls = {"torch.mv": lambda: torch.mv(wt, xv),
                         "torch.matmul(W, x)": lambda: torch.matmul(wt, xv)}
            else:
                calls = {"F.linear": lambda: F.linear(xt, wt), "x @ W.T": lambda: xt @ wt.T,
                         "torch.mm(x, W.T)": lambda: torch.mm(xt, wt.T)}
            # Right after ours and PyTorch, so that all three see the same load.
            sp = sparsifier_time(tools, w, x, args.repeat, tmp) if tools else {}
            linear.append((batch, s, d) + torch_fastest(calls, args.repeat) + (sp,))
        # Sparse-sparse: k-winners keeps 10% of the inputs.
        x = rng.normal(size=(1, n)).astype(np.float32)
        k = n // 10
        module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((1, n))} {{
{const('w', w)}  %k = sparsenn.kwinners <global> %x k = {k} : {ttype(x.shape)} -> {ttype(x.shape)}
  %y = sparsenn.linear %k, %w : {ttype(x.shape)}, {ttype(w.shape)} -> {ttype((1, n))}
  return %y : {ttype((1, n))}
}}"""
        s, d, _ = both(opt, run, module, [x], args.repeat, tmp)
        xs = torch.from_numpy(x)
        kw = torch.zeros_like(xs)

        def torch_ss():
            v, i = torch.topk(xs, k)
            kw.zero_().scatter_(1, i, v)
            return F.linear(kw, wt)
        row(f"k-winners 10% -> linear {n}x{n} 10%, batch 1", s, d, torch_time(torch_ss, args.repeat))
        print(f"compile time, sparse-opt --sparsenn-lower-to-llvm on the seed 000 CNN: {compile_s:.2f} s")
        print(f"our runtime: {KERNELS.get('threads', '?')} threads, kernels "
              f"{KERNELS.get('target', '?')} (as sparse-run reports)")

        # The linear layer against upstream's sparsifier and PyTorch's fastest call.
        print(f"\nlinear y = W x, W {n}x{n} at 90% fixed fan-in ({int((w != 0).sum(1).max())} "
              f"non-zeros per row), medians (ms); sparsifier: 1 thread, fastest options below"
              + (", --mattr=-avx512f" if NO_AVX512 and tools else ""))
        print(f"{'batch':>5} {'ours ELL':>10} {'ours dense':>10} {'sparsifier':>10} "
              f"{'torch':>10} {'(fastest call)':20} {'vs sparsifier':>14} {'vs torch':>10}")

        def vs(ratio, goal):
            return f"{ratio:5.2f}x {'ok' if ratio >= goal else f'<{goal:g}'}"
        best = {}
        for batch, s, d, tms, tname, results in linear:
            timed = {o: r for o, r in results.items() if isinstance(r, tuple)}
            fastest = min(timed, key=lambda o: timed[o][0]) if timed else None
            best[batch] = results, fastest
            sp = timed[fastest][0] if fastest else float("nan")
            print(f"{batch:5} {s:10.4f} {d:10.4f} {sp:10.4f} {tms:10.4f} {tname:20} "
                  f"{vs(sp / s, 1.5) if fastest else '-':>14} "
                  f"{vs(tms / s, 5.0 if batch == 1 else 3.0):>10}")
        print("goals: ours >= 1.5x the sparsifier (batch 1 and 64); >= 5x (batch 1) / "
              ">= 3x (batch 64) the fastest dense call")
        for batch, (results, fastest) in best.items():
            if not results:
                continue
            print(f"sparsifier options, batch {batch} (median / mean ms per product):")
            for opts, r in results.items():
                mark = "*" if opts == fastest else " "
                text = f"{r[0]:9.4f} / {r[1]:9.4f}" if isinstance(r, tuple) else r
                print(f"  {mark} {text:21}  {opts}")


if __name__ == "__main__":
    main()
