#!/usr/bin/env python3
"""Checks a GPU-check pack made by `scripts/gpu-check.sh prepare` (used by
test/GPU/gpu_check_test.sh): the files every case needs, the size limit, the
references (shapes, finite, k-winners counts, one re-computed with
sparse-run), the driver's comparison, and that nothing the libraries and
programs need is missing (ldd with the pack's lib/)."""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

LIMIT = 48 << 20


def main():
    pack, sparse_run, root = sys.argv[1:4]
    errors = []

    def check(cond, msg):
        if not cond:
            errors.append(msg)
    m = json.load(open(os.path.join(pack, "manifest.json")))
    for f in ("run.sh", "cases.tsv", "baselines.py", "summarize.py",
              "bin/snn-driver", "bin/run_mlp_gpu", "expected/run_mlp.txt"):
        check(os.path.exists(os.path.join(pack, f)), f"missing {f}")
    size = sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(pack) for f in fs)
    check(size < LIMIT, f"pack is {size / 2**20:.1f} MiB (limit 48)")
    rows = [ln.rstrip("\n").split("\t") for ln in
            open(os.path.join(pack, "cases.tsv"))]
    check(len(rows) == len(m["cases"]) >= 16, "cases.tsv / manifest differ")
    kinds = {c["kind"] for c in m["cases"].values()}
    check(kinds >= {"network", "linear", "kwinners", "cnn"}, f"kinds {kinds}")
    kernels = {c.get("kernel") for c in m["cases"].values()}
    check(kernels >= {"ell", "block16", "spgc8"}, f"kernels {kernels}")
    refs = {}
    for name, c in m["cases"].items():
        check(os.path.exists(os.path.join(pack, c["lib"])), f"{name}: lib")
        with gzip.open(os.path.join(pack, "ref", name + ".npy.gz")) as f:
            r = np.load(f)
        refs[name] = r
        check(list(r.shape) == c["out_shape"], f"{name}: ref shape")
        check(np.isfinite(r).all() and np.abs(r).max() > 0,
              f"{name}: ref not finite or all zero")
        if c["kind"] == "kwinners":
            check(((r != 0).sum(1) == c["k"]).all(), f"{name}: k winners")
    with tempfile.TemporaryDirectory() as tmp:
        drv = os.path.join(pack, "bin", "snn-driver")
        # The driver's inputs are what the references were made from, and
        # a reference re-made by another sparse-run matches the stored one.
        c = m["cases"]["net_aot_mlp"]
        files = []
        for i, spec in enumerate(c["inputs"]):
            _, seed, shape = spec.split(":")
            p = os.path.join(tmp, f"in{i}.npy")
            subprocess.run([drv, "--gen", p, "--seed", seed, "--shape",
                            shape], check=True)
            files += ["--input", p]
        subprocess.run([sparse_run, os.path.join(root, "examples", "aot",
                        "mlp.mlir"), "--entry", "mlp", "--output-dir", tmp]
                       + files, check=True, capture_output=True)
        again = np.load(os.path.join(tmp, "result0.npy"))
        check(np.allclose(again, refs["net_aot_mlp"], rtol=1e-6, atol=1e-6),
              "net_aot_mlp: reference not reproducible")
        # The comparison: a reference matches itself, not a perturbed copy.
        r = refs["linear_ell_b64"]
        a, b = os.path.join(tmp, "a.npy"), os.path.join(tmp, "b.npy")
        np.save(a, r)
        bad = r.copy()
        bad.flat[7] += 1e-2 * np.abs(r).max()
        np.save(b, bad)
        check(subprocess.run([drv, "--compare", a, a],
                             capture_output=True).returncode == 0,
              "driver --compare: a reference differs from itself")
        check(subprocess.run([drv, "--compare", b, a],
                             capture_output=True).returncode == 1,
              "driver --compare: a 1 % error passed")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(pack, "lib"))
    for d in ("bin", "lib"):
        for f in sorted(os.listdir(os.path.join(pack, d))):
            out = subprocess.run(["ldd", os.path.join(pack, d, f)], env=env,
                                 capture_output=True, text=True).stdout
            check("not found" not in out, f"{d}/{f}: {out}")
    for e in errors:
        print("check_pack: " + e)
    print(f"check_pack: {len(rows)} cases, {size / 2**20:.1f} MiB, "
          f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
