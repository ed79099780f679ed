#!/usr/bin/env python3
"""End-to-end benchmarks through the compiler (sparse-opt lowering + JIT via
sparse-run), side by side in one run, medians, one thread:

* seed 000's sparse CNN (Table 1 shape, 90% weight sparsity in conv2 and the
  1000-unit linear layer, k-winners) at batch 1 and 64: selected sparse
  kernels vs the same pipeline forced dense vs a dense PyTorch CNN of the
  same shape; and the compile time of the whole pipeline on that CNN;
* a linear layer (default 4096x4096) at 90% fixed fan-in, batch 1 and 64:
  ELL vs dense (our pipeline) vs torch.nn.functional.linear; and the
  sparse-sparse case (10% active inputs from k-winners x 10% weights).

usage: /usr/bin/python3 benchmarks/pipeline_bench.py [--build build]
       [--repeat 50] [--size 4096]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

# One thread on both sides, also inside OpenBLAS (which ignores
# torch.set_num_threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from sparsenn.mlirgen import const, seed000_cnn, sparse_weights, ttype  # noqa: E402

F = torch.nn.functional


def run_tool(run, model, inputs, repeat, tmp):
    cmd = [run, model, "--entry", "main", "--output-dir", tmp, "--repeat", str(repeat)]
    for i, a in enumerate(inputs):
        p = os.path.join(tmp, f"in{i}.npy")
        np.save(p, a)
        cmd += ["--input", p]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
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


def both(opt, run, module, inputs, repeat, tmp):
    path = os.path.join(tmp, "m.mlir")
    dense = os.path.join(tmp, "dense.mlir")
    with open(path, "w") as f:
        f.write(module)
    subprocess.run([opt, path, "--sparsenn-select-kernels=force=dense", "-o", dense], check=True)
    return run_tool(run, path, inputs, repeat, tmp), run_tool(run, dense, inputs, repeat, tmp), path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    torch.set_num_threads(1)
    opt = os.path.join(args.build, "bin", "sparse-opt")
    run = os.path.join(args.build, "bin", "sparse-run")
    rng = np.random.default_rng(0)
    print(f"threads: 1 (ours and PyTorch {torch.__version__}); medians of {args.repeat} runs")
    print(f"{'case':44} {'ours sparse':>12} {'ours dense':>12} {'torch dense':>12} {'vs ours':>8} {'vs torch':>9}")

    def row(name, sparse, dense, tdense):
        print(f"{name:44} {sparse:10.4f}ms {dense:10.4f}ms {tdense:10.4f}ms "
              f"{dense / sparse:7.2f}x {tdense / sparse:8.2f}x")

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
        for batch in (1, 64):
            x = rng.normal(size=(batch, n)).astype(np.float32)
            module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, n))} {{
{const('w', w)}  %y = sparsenn.linear %x, %w : {ttype(x.shape)}, {ttype(w.shape)} -> {ttype((batch, n))}
  return %y : {ttype((batch, n))}
}}"""
            s, d, _ = both(opt, run, module, [x], args.repeat, tmp)
            wt, xt = torch.from_numpy(w), torch.from_numpy(x)
            row(f"linear {n}x{n} 90% fixed fan-in, batch {batch}", s, d,
                torch_time(lambda: F.linear(xt, wt), args.repeat))
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


if __name__ == "__main__":
    main()
