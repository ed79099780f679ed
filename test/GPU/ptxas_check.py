#!/usr/bin/env python3
"""Assembles the PTX that `sparsenn-lower-to-nvvm` produces with ptxas.

For every input module: sparse-opt --sparsenn-lower-to-nvvm (format=isa,
sm_90), every `gpu.binary` object's PTX text is extracted and assembled with
`ptxas -arch=sm_90`. No GPU is needed. ptxas is found, in this order, from
--ptxas, $SPARSENN_PTXAS, the file scripts/setup.sh records in the build
directory (build/ptxas/PTXAS), /usr/local/cuda/bin/ptxas, PATH.

No ptxas is a failure (exit 1, with what was tried), unless
SPARSENN_SKIP_PTXAS=1 is set: then the check prints SKIPPED and exits 77
(ctest reports the test as skipped), for offline builds without a CUDA
toolkit.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
ASSEMBLY = re.compile(r'assembly\s*=\s*"((?:[^"\\]|\\.)*)"')


def unescape(text):
    """MLIR string escapes: \\XX (two hex digits), \\\\, \\", \\n, \\t."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        nxt = text[i + 1]
        if re.fullmatch(r"[0-9A-Fa-f]", nxt) and \
                re.fullmatch(r"[0-9A-Fa-f]", text[i + 2]):
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        else:
            out += {"n": b"\n", "t": b"\t", "\\": b"\\",
                    '"': b'"'}.get(nxt, nxt.encode())
            i += 2
    return out.decode()


def find_ptxas(explicit, build_dir):
    tried = []
    candidates = [explicit, os.environ.get("SPARSENN_PTXAS")]
    record = os.path.join(build_dir, "ptxas", "PTXAS") if build_dir else None
    if record and os.path.exists(record):
        with open(record) as f:
            candidates.append(f.read().strip())
    candidates += ["/usr/local/cuda/bin/ptxas", shutil.which("ptxas")]
    for c in candidates:
        if not c:
            continue
        tried.append(c)
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c, tried
    return None, tried


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparse-opt", required=True)
    ap.add_argument("--ptxas")
    ap.add_argument("--build-dir")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()

    ptxas, tried = find_ptxas(args.ptxas, args.build_dir)
    if not ptxas:
        if os.environ.get("SPARSENN_SKIP_PTXAS") == "1":
            print("SKIPPED: no ptxas (SPARSENN_SKIP_PTXAS=1); tried: " +
                  (", ".join(tried) or "nothing"))
            return SKIP
        print("ptxas_check: FAILED: no ptxas found (tried: " +
              (", ".join(tried) or "nothing") + "). Run scripts/setup.sh, "
              "which fetches it (pip wheel nvidia-cuda-nvcc-cu12) into the "
              "build directory, set SPARSENN_PTXAS, or set "
              "SPARSENN_SKIP_PTXAS=1 to skip this check offline.",
              file=sys.stderr)
        return 1
    version = subprocess.run([ptxas, "--version"], capture_output=True,
                             text=True).stdout.strip().splitlines()
    print(f"ptxas_check: {ptxas} ({version[-1] if version else '?'})")

    kernels = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.inputs:
            proc = subprocess.run(
                [args.sparse_opt, path,
                 f"--sparsenn-lower-to-nvvm=chip={args.arch} format=isa"],
                capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"ptxas_check: FAILED: lowering {path}:\n{proc.stderr}",
                      file=sys.stderr)
                return 1
            blobs = [unescape(m.group(1))
                     for m in ASSEMBLY.finditer(proc.stdout)]
            if not blobs:
                print(f"ptxas_check: FAILED: no PTX in the lowering of {path}",
                      file=sys.stderr)
                return 1
            for i, ptx in enumerate(blobs):
                if f".target {args.arch}" not in ptx:
                    print(f"ptxas_check: FAILED: {path} object {i} is not "
                          f"for {args.arch}", file=sys.stderr)
                    return 1
                src = os.path.join(tmp, f"k{kernels}.ptx")
                with open(src, "w") as f:
                    f.write(ptx)
                out = subprocess.run(
                    [ptxas, f"-arch={args.arch}", "-O3", src, "-o",
                     os.path.join(tmp, f"k{kernels}.cubin")],
                    capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"ptxas_check: FAILED: ptxas on {path} object {i}:"
                          f"\n{out.stderr}\n--- PTX ---\n{ptx}",
                          file=sys.stderr)
                    return 1
                entries = re.findall(r"\.entry\s+(\w+)", ptx)
                print(f"  {os.path.basename(path)}: {', '.join(entries)}: ok")
                kernels += 1
    print(f"ptxas_check: {kernels} PTX modules assembled for {args.arch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
