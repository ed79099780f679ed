#!/usr/bin/env python3
"""Compiles and runs the bundled sparse CNN on the CPU through sparse-run,
once with the kernels the selection pass picks (sparse taps, ELL,
sparse-sparse after k-winners, runtime k-winners) and once with every layer
forced to the dense kernels, and prints the output and the speed of both.

usage: run_compiled.py [MODEL.mlir] [--build build] [--repeat 200]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def sparse_run(tool, model, inputs, outdir, repeat):
    cmd = [tool, model, "--entry", "forward", "--output-dir", outdir,
           "--repeat", str(repeat)]
    for path in inputs:
        cmd += ["--input", path]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(proc.stderr.strip())
    median = float(re.search(r"median ([0-9.]+) ms", proc.stdout).group(1))
    return np.load(os.path.join(outdir, "result0.npy")), median


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="examples/sparse_cnn.mlir")
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    opt = os.path.join(args.build, "bin", "sparse-opt")
    run = os.path.join(args.build, "bin", "sparse-run")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = []
        for name, shape in (("x", (1, 1, 28, 28)), ("duty1", (8,)),
                            ("duty2", (16,)), ("duty3", (64,))):
            path = os.path.join(tmp, name + ".npy")
            data = rng.random(shape) if name == "x" else rng.uniform(0, 0.2, shape)
            np.save(path, data.astype(np.float32))
            inputs.append(path)
        dense_model = os.path.join(tmp, "dense.mlir")
        subprocess.run([opt, args.model, "--sparsenn-select-kernels=force=dense",
                        "-o", dense_model], check=True)
        sparse_out = os.path.join(tmp, "sparse")
        dense_out = os.path.join(tmp, "dense")
        y, t_sparse = sparse_run(run, args.model, inputs, sparse_out, args.repeat)
        y_dense, t_dense = sparse_run(run, dense_model, inputs, dense_out, args.repeat)
    np.set_printoptions(precision=4, suppress=True)
    print(f"output (1x10): {y.ravel()}")
    err = float(np.abs(y - y_dense).max() / max(1.0, np.abs(y_dense).max()))
    print(f"sparse kernels: {t_sparse:.4f} ms/inference (median of {args.repeat})")
    print(f"dense kernels:  {t_dense:.4f} ms/inference (same pipeline, every layer forced dense)")
    print(f"speed-up: {t_dense / t_sparse:.2f}x; max relative difference {err:.1e}")


if __name__ == "__main__":
    main()
