#!/usr/bin/env python3
"""GPU execution tests: the GPU path against the CPU path, on a GPU machine.

Each input module is run by `sparse-run` on the CPU and by `sparse-run --gpu`
on the same random inputs (seeded) and the results are compared; the AOT
example is compiled both ways (`sparse-compile`, `sparse-compile --gpu`) and
its C programs' outputs compared. Where no usable NVIDIA GPU is present
(no libcuda, no device), prints "SKIPPED: ..." with the runtime's reason and
exits 77, which ctest reports as a skipped test.

Tolerances: sums run in another order on the GPU (warp reductions, atomic
adds), so values agree to ~1e-5 relative; a k-winners selection whose
boundary values differ by less than that may pick another winner, so up to
`--max-flips` (default 2 %) of the outputs of networks with k-winners may
differ outright.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

SKIP = 77


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def entry_inputs(path):
    """(name, [argument shapes]) of the first public function."""
    text = open(path).read()
    m = re.search(r"func\.func @(\w+)\((.*?)\)\s*->", text, re.S)
    if not m:
        raise SystemExit(f"exec_check: no public function in {path}")
    shapes = []
    for t in re.findall(r"tensor<([0-9x]+)xf32>", m.group(2)):
        shapes.append([int(d) for d in t.split("x")])
    return m.group(1), shapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparse-run", required=True)
    ap.add_argument("--sparse-compile", required=True)
    ap.add_argument("--src-root", required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--max-flips", type=float, default=0.02)
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(2024)
        for n, path in enumerate(args.inputs):
            name = os.path.basename(path)
            files = []
            entry, shapes = entry_inputs(path)
            for i, shape in enumerate(shapes):
                f = os.path.join(tmp, f"in{n}_{i}.npy")
                np.save(f, rng.standard_normal(shape).astype(np.float32))
                files += ["--input", f]
            out = {}
            for mode in ("cpu", "gpu"):
                d = os.path.join(tmp, f"{mode}{n}")
                cmd = [args.sparse_run, path, "--entry", entry,
                       "--output-dir", d] + files
                if mode == "gpu":
                    cmd.insert(1, "--gpu")
                p = run(cmd)
                if mode == "gpu" and "no usable GPU" in p.stderr:
                    print("SKIPPED: no usable NVIDIA GPU: " +
                          p.stderr.strip().split("no usable GPU: ", 1)[-1])
                    return SKIP
                if p.returncode != 0:
                    print(f"exec_check: FAILED: {name} ({mode}): {p.stderr}")
                    return 1
                out[mode] = np.load(os.path.join(d, "result0.npy"))
            cpu, gpu = out["cpu"], out["gpu"]
            close = np.isclose(gpu, cpu, rtol=args.rtol, atol=args.atol)
            flips = 1.0 - close.mean()
            kw = "sparsenn.kwinners" in open(path).read()
            ok = close.all() or (kw and flips <= args.max_flips)
            err = float(np.max(np.abs(gpu - cpu)))
            print(f"  {name}: shape {list(cpu.shape)}, max |gpu - cpu| = "
                  f"{err:.3g}, {100 * flips:.2f} % differ: "
                  f"{'ok' if ok else 'MISMATCH'}")
            failures += 0 if ok else 1

        # AOT: the same C API from the CPU and the GPU library.
        aot = os.path.join(args.src_root, "examples", "aot")
        inc = os.path.join(args.src_root, "runtime", "include")
        outputs = {}
        for mode, prog in (("cpu", "run_mlp.c"), ("gpu", "run_mlp_gpu.c")):
            lib = os.path.join(tmp, f"libmlp_{mode}.so")
            cmd = [args.sparse_compile, os.path.join(aot, "mlp.mlir"), "-o",
                   lib] + (["--gpu"] if mode == "gpu" else [])
            p = run(cmd)
            if p.returncode != 0:
                print(f"exec_check: FAILED: sparse-compile ({mode}): "
                      f"{p.stderr}")
                return 1
            exe = os.path.join(tmp, f"run_{mode}")
            p = run([args.cc, "-I", inc, os.path.join(aot, prog), lib,
                     "-Wl,-rpath," + tmp, "-o", exe])
            if p.returncode != 0:
                print(f"exec_check: FAILED: cc ({mode}): {p.stderr}")
                return 1
            p = run([exe])
            if p.returncode != 0:
                print(f"exec_check: FAILED: {prog}: {p.stdout}{p.stderr}")
                return 1
            outputs[mode] = np.array(p.stdout.split(), dtype=np.float64)
        ok = np.allclose(outputs["gpu"], outputs["cpu"], rtol=1e-5)
        print(f"  AOT examples/aot/mlp.mlir: cpu {outputs['cpu'].tolist()}, "
              f"gpu {outputs['gpu'].tolist()}: {'ok' if ok else 'MISMATCH'}")
        failures += 0 if ok else 1
    print(f"exec_check: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
