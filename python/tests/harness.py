"""Shared helpers of the tests that drive the built tools: where
sparse-opt / sparse-run are ($SPARSE_OPT / $SPARSE_RUN, else build/bin),
running a pass pipeline on MLIR text, and JIT-running an entry function on
numpy inputs with sparse-run."""

import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPARSE_OPT = os.environ.get("SPARSE_OPT", os.path.join(ROOT, "build", "bin", "sparse-opt"))
SPARSE_RUN = os.environ.get("SPARSE_RUN", os.path.join(ROOT, "build", "bin", "sparse-run"))
TOOLS_BUILT = os.path.exists(SPARSE_OPT) and os.path.exists(SPARSE_RUN)


def opt(module, *args):
    """sparse-opt on MLIR text; returns the output text (asserts success)."""
    proc = subprocess.run([SPARSE_OPT, "-", *args], input=module,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def run(module, inputs, entry="main"):
    """sparse-run `entry` of MLIR text on numpy inputs; returns the results."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.mlir")
        with open(path, "w") as f:
            f.write(module)
        args = [SPARSE_RUN, path, "--entry", entry, "--output-dir", tmp]
        for i, a in enumerate(inputs):
            p = os.path.join(tmp, f"in{i}.npy")
            np.save(p, np.require(a, requirements="C"))  # keeps 0-d shapes
            args += ["--input", p]
        proc = subprocess.run(args, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        outs, i = [], 0
        while os.path.exists(os.path.join(tmp, f"result{i}.npy")):
            outs.append(np.load(os.path.join(tmp, f"result{i}.npy")))
            i += 1
        return outs
