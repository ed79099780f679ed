#!/usr/bin/env python3
"""GPU benchmarks of the sparsenn GPU path (docs/performance.md, "GPU").

Not a test: run by hand on a machine with an NVIDIA GPU (H100 for the
numbers in the docs), from the repository root after ./scripts/setup.sh:

  /usr/bin/python3 benchmarks/gpu/gpu_bench.py linear     # 4096x4096, 90 %
  /usr/bin/python3 benchmarks/gpu/gpu_bench.py kwinners   # n = 2048..65536
  /usr/bin/python3 benchmarks/gpu/gpu_bench.py spgc8      # GPU decode

Each case is written as sparsenn IR, run with `build/bin/sparse-run --gpu
--repeat R` (median over R calls of the compiled function, host to host:
input upload, kernels, result download, synchronisation) and, where a CUDA
build of PyTorch is importable, compared with PyTorch measured the same way
(torch.nn.functional.linear -> cuBLAS, torch.topk + scatter), and with
device-resident tensors (kernel time only, CUDA events). Kernel-only times of
ours: run a printed sparse-run command under `nsys profile --stats=true`
(`--keep DIR` keeps the generated files).
"""
import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
SPARSE_RUN = os.environ.get("SPARSE_RUN",
                            os.path.join(ROOT, "build", "bin", "sparse-run"))


def hexdense(a):
    return 'dense<"0x' + np.ascontiguousarray(
        a, dtype="<f4").tobytes().hex().upper() + '">'


KEEP = None  # --keep DIR: where the generated .mlir / .npy files stay


def sparse_run(mlir, inputs, repeat, name, gpu=True):
    global KEEP
    if KEEP is None:
        KEEP = tempfile.mkdtemp(prefix="gpu_bench_")
        atexit.register(shutil.rmtree, KEEP, True)
    tmp = KEEP
    os.makedirs(tmp, exist_ok=True)
    path = os.path.join(tmp, name + ".mlir")
    with open(path, "w") as f:
        f.write(mlir)
    args = []
    for i, a in enumerate(inputs):
        p = os.path.join(tmp, f"{name}_in{i}.npy")
        np.save(p, a)
        args += ["--input", p]
    out = os.path.join(tmp, name + "_out")
    cmd = [SPARSE_RUN, path, "--entry", "main", "--output-dir", out,
           "--repeat", str(repeat)] + args
    if gpu:
        cmd.insert(1, "--gpu")
    print("  $ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"gpu_bench: {p.stderr.strip()}")
    ms = float(re.search(r"median ([0-9.]+) ms", p.stdout).group(1))
    return ms, np.load(os.path.join(out, "result0.npy"))


def torch_cuda():
    try:
        import torch
        if torch.cuda.is_available():
            return torch
    except ImportError:
        pass
    print("  (PyTorch with CUDA not importable: no cuBLAS / torch.topk "
          "baseline; Debian's python3-torch is CPU-only)")
    return None


def time_torch(torch, fn, repeat):
    """(host-to-host median ms, device-only median ms)."""
    import statistics
    import time
    host = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(True)
        torch.cuda.synchronize()
        host.append((time.perf_counter() - t0) * 1e3)
    dev = []
    for _ in range(repeat):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
            enable_timing=True)
        a.record()
        fn(False)
        b.record()
        torch.cuda.synchronize()
        dev.append(a.elapsed_time(b))
    return statistics.median(host), statistics.median(dev)


def bench_linear(args):
    rng = np.random.default_rng(0)
    n, fan_in = args.size, int(round(args.size * (1 - args.sparsity)))
    w = np.zeros((n, n), np.float32)
    for o in range(n):
        w[o, rng.choice(n, fan_in, replace=False)] = rng.standard_normal(
            fan_in)
    x = rng.standard_normal((args.batch, n)).astype(np.float32)
    print(f"linear {n}x{n}, {100 * args.sparsity:.0f} % sparse (fan-in "
          f"{fan_in}), batch {args.batch}, fp32")
    for kernel in ("ell", "dense"):
        mlir = f"""func.func @main(%x: tensor<{args.batch}x{n}xf32>) -> tensor<{args.batch}x{n}xf32> {{
  %w = arith.constant {hexdense(w)} : tensor<{n}x{n}xf32>
  %y = sparsenn.linear %x, %w {{kernel = #sparsenn.kernel<{kernel}>}} : tensor<{args.batch}x{n}xf32>, tensor<{n}x{n}xf32> -> tensor<{args.batch}x{n}xf32>
  return %y : tensor<{args.batch}x{n}xf32>
}}
"""
        ms, y = sparse_run(mlir, [x], args.repeat,
                           f"linear_{kernel}_b{args.batch}")
        err = float(np.max(np.abs(y - x @ w.T)))
        print(f"  ours, {kernel:5s} (host to host): {ms:.4f} ms   "
              f"max err {err:.2e}")
    torch = torch_cuda()
    if torch:
        wt = torch.from_numpy(w).cuda()
        xd = torch.from_numpy(x).cuda()

        def run(h2h):
            xi = torch.from_numpy(x).cuda() if h2h else xd
            y = torch.nn.functional.linear(xi, wt)
            return y.cpu() if h2h else y
        host, dev = time_torch(torch, run, args.repeat)
        print(f"  PyTorch dense (cuBLAS): host to host {host:.4f} ms, "
              f"device only {dev:.4f} ms")


def bench_kwinners(args):
    rng = np.random.default_rng(1)
    torch = torch_cuda()
    for n in (2048, 8192, 65536):
        k = max(1, n // 20)
        x = rng.standard_normal((args.batch, n)).astype(np.float32)
        mlir = f"""func.func @main(%x: tensor<{args.batch}x{n}xf32>) -> tensor<{args.batch}x{n}xf32> {{
  %y = sparsenn.kwinners <global> %x k = {k} break_ties : tensor<{args.batch}x{n}xf32> -> tensor<{args.batch}x{n}xf32>
  return %y : tensor<{args.batch}x{n}xf32>
}}
"""
        ms, y = sparse_run(mlir, [x], args.repeat, f"kwinners_{n}")
        ok = int((y != 0).sum()) == args.batch * k
        rate = args.batch * n / (ms * 1e-3)
        print(f"k-winners n={n}, k={k}, batch {args.batch}: ours {ms:.4f} ms "
              f"host to host ({rate:.3g} elements/s){'' if ok else ' WRONG'}")
        if torch:
            xd = torch.from_numpy(x).cuda()

            def run(h2h):
                xi = torch.from_numpy(x).cuda() if h2h else xd
                v, i = torch.topk(xi, k, dim=1)
                out = torch.zeros_like(xi).scatter_(1, i, v)
                return out.cpu() if h2h else out
            host, dev = time_torch(torch, run, args.repeat)
            print(f"  torch.topk + scatter: host to host {host:.4f} ms, "
                  f"device only {dev:.4f} ms")


SPARSE_OPT = os.environ.get("SPARSE_OPT",
                            os.path.join(ROOT, "build", "bin", "sparse-opt"))


def bench_spgc8(args):
    """Linear layer with SPGC8-compressed int8 weights (90 % of the 1x16
    groups zero), decoded on the GPU: coefficients per second and the
    stream's bytes per second against HBM bandwidth (3.35e12 B/s, H100 SXM).
    """
    rng = np.random.default_rng(2)
    n = args.size
    w = rng.standard_normal((n, n)).astype(np.float32)
    keep = rng.random((n, n // 16)) >= args.sparsity
    w *= np.repeat(keep, 16, axis=1)
    x = rng.standard_normal((args.batch, n)).astype(np.float32)
    dense = f"""func.func @main(%x: tensor<{args.batch}x{n}xf32>) -> tensor<{args.batch}x{n}xf32> {{
  %w = arith.constant {hexdense(w)} : tensor<{n}x{n}xf32>
  %y = sparsenn.linear %x, %w : tensor<{args.batch}x{n}xf32>, tensor<{n}x{n}xf32> -> tensor<{args.batch}x{n}xf32>
  return %y : tensor<{args.batch}x{n}xf32>
}}
"""
    p = subprocess.run([SPARSE_OPT, "-", "--sparsenn-compress-weights"],
                       input=dense, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"gpu_bench: sparsenn-compress-weights: {p.stderr}")
    mlir = re.sub(r"(sparsenn\.linear [^:]*?) :",
                  r"\1 {kernel = #sparsenn.kernel<spgc8>} :", p.stdout)
    stream = int(re.search(r"tensor<(\d+)xi8>, scales", mlir).group(1))
    print(f"SPGC8 linear {n}x{n}, {100 * args.sparsity:.0f} % of 1x16 groups "
          f"zero, int8, batch {args.batch}: stream {stream / 1e6:.2f} MB "
          f"({n * n / stream:.2f}x smaller than raw int8)")
    ms, y = sparse_run(mlir, [x], args.repeat, f"spgc8_b{args.batch}")
    print(f"  ours (host to host): {ms:.4f} ms = {n * n / (ms * 1e-3):.3g} "
          f"coefficients/s, stream at {stream / (ms * 1e-3) / 3.35e12:.1%} "
          f"of HBM bandwidth (kernel-only: nsys on the command above)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["linear", "kwinners", "spgc8"])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sparsity", type=float, default=0.9)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--keep", help="keep the generated files in this "
                    "directory (for nsys / ncu runs of the printed commands)")
    args = ap.parse_args()
    global KEEP
    KEEP = args.keep
    if args.what == "kwinners" and args.batch == 1:
        args.batch = 64
    {"linear": bench_linear, "kwinners": bench_kwinners,
     "spgc8": bench_spgc8}[args.what](args)


if __name__ == "__main__":
    main()
