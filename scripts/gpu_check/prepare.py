#!/usr/bin/env python3
"""Prepares the GPU device-check pack on the CPU machine (see
scripts/gpu-check.sh and docs/performance.md, "GPU"): AOT-compiles the GPU
test networks and the benchmark cases with `sparse-compile --gpu`, builds the
driver, writes the CPU reference outputs and packs everything with run.sh in
one folder that the device tool can carry (well under 64 MiB).

Inputs are not stored: every case input is `gen:SEED:SHAPE`, N(0, 1) numbers
that the driver generates identically here (for the references) and there.
References are .npy.gz (run.sh unpacks them into a scratch folder).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

LIMIT = 48 << 20  # pack size we allow ourselves (the carry limit is 64 MiB)


def log(msg):
    print(f"[gpu-check prepare] {msg}", flush=True)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ...: exit {p.returncode}: "
                           f"{p.stderr.strip()[-2000:]}")
    return p


def hexdense(a):
    return 'dense<"0x' + np.ascontiguousarray(
        a, dtype="<f4").tobytes().hex().upper() + '">'


def signature(text):
    """(entry, [input shapes], result rank) of the first public function."""
    m = re.search(r"func\.func @(\w+)\((.*?)\)\s*->\s*\(?\s*tensor<([0-9x]+)"
                  r"xf32>", text, re.S)
    if not m:
        raise RuntimeError("no public function with an f32 tensor result")
    shapes = [[int(d) for d in t.split("x")]
              for t in re.findall(r"tensor<([0-9x]+)xf32>", m.group(2))]
    return m.group(1), shapes, len(m.group(3).split("x"))


class Pack:
    def __init__(self, args):
        self.args = args
        self.dir = os.path.abspath(args.out)
        self.work = os.path.join(self.dir, ".work")
        self.cases = []      # driver cases (cases.tsv)
        self.meta = {}       # name -> metadata (manifest.json)
        self.notes = []
        self.seed = 1000
        for d in ("bin", "lib", "ref", "expected"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.makedirs(self.work, exist_ok=True)
        self.driver = os.path.join(self.dir, "bin", "snn-driver")

    def tool(self, name):
        return os.path.join(self.args.bin, name)

    # -- building blocks ----------------------------------------------------
    def build_driver(self):
        exports = os.path.join(self.work, "exports.list")
        with open(exports, "w") as f:
            f.write("{ mgpuLaunchKernel; mgpuMemcpy; mgpuModuleGetFunction; };\n")
        run([self.args.cxx, "-std=c++17", "-O2", "-static-libstdc++",
             "-static-libgcc", os.path.join(HERE, "driver.cpp"), "-ldl",
             "-Wl,--dynamic-list=" + exports, "-o", self.driver])

    def compile(self, mlir_text, libname):
        """sparse-compile --gpu of MLIR text into lib/<libname>.so."""
        src = os.path.join(self.work, libname + ".mlir")
        with open(src, "w") as f:
            f.write(mlir_text)
        lib = os.path.join(self.dir, "lib", libname + ".so")
        t = time.time()
        run([self.tool("sparse-compile"), "--gpu", src, "-o", lib])
        log(f"  sparse-compile --gpu {libname}: {time.time() - t:.1f} s, "
            f"{os.path.getsize(lib) / 1e6:.2f} MB")
        os.remove(src)
        return "lib/" + libname + ".so"

    def gen(self, shape):
        """A fresh seed, its input file here and the driver's spec."""
        self.seed += 1
        path = os.path.join(self.work, f"in{self.seed}.npy")
        run([self.driver, "--gen", path, "--seed", str(self.seed), "--shape",
             "x".join(map(str, shape))])
        return f"gen:{self.seed}:{'x'.join(map(str, shape))}", path

    def cpu_reference(self, mlir_path, entry, input_files):
        out = os.path.join(self.work, "cpu_out")
        shutil.rmtree(out, ignore_errors=True)
        cmd = [self.tool("sparse-run"), mlir_path, "--entry", entry,
               "--output-dir", out]
        for f in input_files:
            cmd += ["--input", f]
        run(cmd)
        return np.load(os.path.join(out, "result0.npy"))

    def add(self, name, lib, entry, rank, specs, ref, max_flips=0.0,
            timeout=60, **meta):
        refpath = f"ref/{name}.npy.gz"
        with gzip.open(os.path.join(self.dir, refpath), "wb",
                       compresslevel=9) as f:
            np.save(f, np.ascontiguousarray(ref, dtype=np.float32))
        args = ["--name", name, "--lib", lib, "--entry", entry, "--rank",
                str(rank), "--ref", "@SCRATCH@/" + refpath[:-3],
                "--max-flips", str(max_flips)]
        for s in specs:
            args += ["--input", s]
        self.cases.append((name, timeout, args))
        self.meta[name] = dict(lib=lib, entry=entry, inputs=specs,
                               out_shape=list(ref.shape), max_flips=max_flips,
                               **meta)

    # -- the cases ----------------------------------------------------------
    def networks(self):
        """The inputs of gpu.ptxas / gpu.exec, as exec_check.py runs them."""
        for rel in ("test/GPU/Inputs/mlp.mlir", "test/GPU/Inputs/cnn.mlir",
                    "test/GPU/Inputs/spgc8.mlir", "examples/aot/mlp.mlir",
                    "examples/sparse_cnn.mlir"):
            path = os.path.join(ROOT, rel)
            text = open(path).read()
            entry, shapes, rank = signature(text)
            name = "net_" + rel.replace("test/GPU/Inputs/", "gpu_inputs_") \
                .replace("examples/", "").replace("/", "_")[:-5]
            specs, files = zip(*[self.gen(s) for s in shapes])
            ref = self.cpu_reference(path, entry, files)
            gpu_text, notes = self.gpu_source(text, rel)
            lib = self.compile(gpu_text, name)
            kw = "sparsenn.kwinners" in text
            self.add(name, lib, entry, rank, list(specs), ref,
                     max_flips=0.02 if kw else 0.0, kind="network",
                     source=rel, notes=notes)

    def gpu_source(self, text, what):
        """The module as sparse-compile --gpu accepts it today: pooling
        generalised where the GPU pipeline rejects the runtime pooling call
        (see the report of the check)."""
        notes = []
        if "linalg.pooling_nchw" in text:
            src = os.path.join(self.work, "pool_in.mlir")
            with open(src, "w") as f:
                f.write(text)
            probe = subprocess.run(
                [self.tool("sparse-opt"), src, "--sparsenn-lower-to-nvvm",
                 "-o", os.devnull], capture_output=True, text=True)
            if probe.returncode != 0 and "GPU memory on the host" in \
                    probe.stderr:
                text = run([self.tool("sparse-opt"), src,
                            "--linalg-generalize-named-ops"]).stdout
                notes.append("linalg.pooling_nchw_* generalised to "
                             "linalg.generic first: sparsenn-lower-to-nvvm "
                             "rejects the pooling runtime call "
                             "(sparsenn_rt_pool2d_f32) that "
                             "convert-sparsenn-to-linalg pooling-kernels=true "
                             "makes")
                self.notes.append(f"{what}: " + notes[-1])
        return text, notes

    def aot_example(self):
        """examples/aot/run_mlp_gpu.c linked against the GPU library, its
        output compared with run_mlp.c on the CPU library."""
        aot = os.path.join(ROOT, "examples", "aot")
        inc = os.path.join(ROOT, "runtime", "include")
        lib = os.path.join(self.dir, "lib", "libmlp_gpu.so")
        run([self.tool("sparse-compile"), "--gpu",
             os.path.join(aot, "mlp.mlir"), "-o", lib])
        run([self.args.cc, "-I", inc, os.path.join(aot, "run_mlp_gpu.c"),
             "-L", os.path.join(self.dir, "lib"), "-lmlp_gpu",
             "-Wl,-rpath,$ORIGIN/../lib", "-o",
             os.path.join(self.dir, "bin", "run_mlp_gpu")])
        cpu_lib = os.path.join(self.work, "libmlp_cpu.so")
        run([self.tool("sparse-compile"), os.path.join(aot, "mlp.mlir"), "-o",
             cpu_lib])
        exe = os.path.join(self.work, "run_mlp_cpu")
        run([self.args.cc, "-I", inc, os.path.join(aot, "run_mlp.c"), cpu_lib,
             "-Wl,-rpath," + self.work, "-o", exe])
        out = run([exe]).stdout
        with open(os.path.join(self.dir, "expected", "run_mlp.txt"), "w") as f:
            f.write(out)

    def linear(self):
        n, sparsity = self.args.size, 0.9
        rng = np.random.default_rng(0)
        fan_in = int(round(n * (1 - sparsity)))
        # ELL: fixed fan-in rows (the format's case).
        idx = np.argpartition(rng.random((n, n), dtype=np.float32), fan_in,
                              axis=1)[:, :fan_in]
        w_ell = np.zeros((n, n), np.float32)
        np.put_along_axis(w_ell, idx, rng.standard_normal(
            (n, fan_in)).astype(np.float32), axis=1)
        # block16 / SPGC8: 90 % of the 1x16 input groups zero.
        keep = rng.random((n, n // 16)) >= sparsity
        w_blk = rng.standard_normal((n, n)).astype(np.float32) * np.repeat(
            keep, 16, axis=1)
        batches = (1, 64)

        def module(w, kernel):
            h = hexdense(w)
            attr = f" {{kernel = #sparsenn.kernel<{kernel}>}}" if kernel else ""
            return "".join(f"""func.func @b{b}(%x: tensor<{b}x{n}xf32>) -> tensor<{b}x{n}xf32> {{
  %w = arith.constant {h} : tensor<{n}x{n}xf32>
  %y = sparsenn.linear %x, %w{attr} : tensor<{b}x{n}xf32>, tensor<{n}x{n}xf32> -> tensor<{b}x{n}xf32>
  return %y : tensor<{b}x{n}xf32>
}}
""" for b in batches)

        inputs = {b: self.gen((b, n)) for b in batches}
        nnz_ell = int((w_ell != 0).sum())
        blocks = int(keep.sum())
        for kernel, w, wbytes in (
                ("ell", w_ell, n * fan_in * 6),
                ("block16", w_blk, blocks * (16 * 4 + 4) + (n + 1) * 4)):
            lib = self.compile(module(w, kernel), f"linear_{kernel}")
            for b in batches:
                spec, path = inputs[b]
                x = np.load(path)
                ref = (x.astype(np.float64) @ w.T.astype(np.float64))
                self.add(f"linear_{kernel}_b{b}", lib, f"b{b}", 2, [spec],
                         ref, kind="linear", kernel=kernel, n=n, batch=b,
                         sparsity=sparsity,
                         nnz=nnz_ell if kernel == "ell" else blocks * 16,
                         weight_bytes=wbytes,
                         io_bytes=2 * b * n * 4)
        # SPGC8: the compressed module (int8, lossy): CPU reference from the
        # same compressed module.
        dense = os.path.join(self.work, "spgc8_dense.mlir")
        with open(dense, "w") as f:
            f.write(module(w_blk, None))
        text = run([self.tool("sparse-opt"), dense,
                    "--sparsenn-compress-weights"]).stdout
        os.remove(dense)
        text = re.sub(r"(sparsenn\.linear [^:]*?) :",
                      r"\1 {kernel = #sparsenn.kernel<spgc8>} :", text)
        stream = int(re.search(r"tensor<(\d+)xi8>, scales", text).group(1))
        comp = os.path.join(self.work, "spgc8.mlir")
        with open(comp, "w") as f:
            f.write(text)
        lib = self.compile(text, "linear_spgc8")
        for b in batches:
            spec, path = inputs[b]
            ref = self.cpu_reference(comp, f"b{b}", [path])
            self.add(f"linear_spgc8_b{b}", lib, f"b{b}", 2, [spec], ref,
                     kind="linear", kernel="spgc8", n=n, batch=b,
                     sparsity=sparsity, nnz=blocks * 16, stream_bytes=stream,
                     weight_bytes=stream, io_bytes=2 * b * n * 4)
        os.remove(comp)

    def kwinners(self):
        batch = 64
        ns = self.args.kwinners
        funcs = []
        for n in ns:
            k = max(1, n // 20)
            funcs.append(f"""func.func @n{n}(%x: tensor<{batch}x{n}xf32>) -> tensor<{batch}x{n}xf32> {{
  %y = sparsenn.kwinners <global> %x k = {k} break_ties : tensor<{batch}x{n}xf32> -> tensor<{batch}x{n}xf32>
  return %y : tensor<{batch}x{n}xf32>
}}
""")
        lib = self.compile("".join(funcs), "kwinners")
        for n in ns:
            k = max(1, n // 20)
            spec, path = self.gen((batch, n))
            x = np.load(path)
            # Largest k per row, ties by lower index first.
            order = np.argsort(-x, axis=1, kind="stable")[:, :k]
            ref = np.zeros_like(x)
            np.put_along_axis(ref, order, np.take_along_axis(x, order, 1), 1)
            self.add(f"kwinners_n{n}", lib, f"n{n}", 2, [spec], ref,
                     kind="kwinners", n=n, k=k, batch=batch,
                     io_bytes=2 * batch * n * 4)

    def cnn(self):
        from sparsenn.mlirgen import seed000_cnn
        for b in (1, 64):
            rng = np.random.default_rng(0)
            module, _, _ = seed000_cnn(rng, b)
            spec, path = self.gen((b, 1, 28, 28))
            src = os.path.join(self.work, "cnn.mlir")
            with open(src, "w") as f:
                f.write(module)
            ref = self.cpu_reference(src, "main", [path])
            text, notes = self.gpu_source(module, f"seed 000 CNN b{b}")
            lib = self.compile(text, f"cnn_seed000_b{b}")
            self.add(f"cnn_seed000_b{b}", lib, "main", 2, [spec], ref,
                     max_flips=0.02, kind="cnn", batch=b, notes=notes)

    # -- packing ------------------------------------------------------------
    def runtime_libs(self):
        """What the libraries and programs need beyond glibc, from here."""
        need = set()
        for d in ("lib", "bin"):
            for f in os.listdir(os.path.join(self.dir, d)):
                p = os.path.join(self.dir, d, f)
                out = subprocess.run(["ldd", p], capture_output=True,
                                     text=True).stdout
                for line in out.splitlines():
                    m = re.match(r"\s*(\S+) => (\S+)", line)
                    if m and m.group(1) not in (
                            "libc.so.6", "libm.so.6", "libdl.so.2",
                            "libpthread.so.0", "librt.so.1") and \
                            not m.group(1).startswith("libmlp_gpu"):
                        need.add((m.group(1), m.group(2)))
        for name, path in sorted(need):
            if os.path.exists(path):
                shutil.copy2(os.path.realpath(path),
                             os.path.join(self.dir, "lib", name))
        return sorted(n for n, _ in need)

    def write(self, libs):
        with open(os.path.join(self.dir, "cases.tsv"), "w") as f:
            for name, timeout, args in self.cases:
                f.write("\t".join([name, str(timeout)] + args) + "\n")
        for name in ("run.sh", "baselines.py", "summarize.py"):
            shutil.copy2(os.path.join(HERE, name), os.path.join(self.dir, name))
        os.chmod(os.path.join(self.dir, "run.sh"), 0o755)
        git = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        cpu = ""
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        manifest = dict(
            format=1, commit=git, prepared=time.strftime("%Y-%m-%d %H:%M:%S"),
            build_cpu=cpu,
            note=("the libraries' host code is compiled for the preparing "
                  "machine's CPU (sparse-compile targets the host): a SIGILL "
                  "on the device means its CPU lacks some of the preparing "
                  "CPU's features"),
            tolerance=dict(rtol=1e-4, atol_rel=1e-4, rule=(
                "|gpu - ref| <= rtol*|ref| + atol_rel*max|ref| per element; "
                "networks with k-winners may have max_flips (2 %) of the "
                "elements outside (another winner at a near tie)")),
            bundled_libs=libs, notes=self.notes, cases=self.meta)
        with open(os.path.join(self.dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)

    def size(self):
        total = 0
        for d, _, files in os.walk(self.dir):
            if ".work" in d:
                continue
            total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
        return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the pack folder (replaced)")
    ap.add_argument("--bin", required=True,
                    help="folder of sparse-compile, sparse-run, sparse-opt")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--size", type=int, default=4096,
                    help="linear benchmark size (n x n)")
    ap.add_argument("--kwinners", type=int, nargs="+",
                    default=[2048, 8192, 65536])
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.out, "manifest.json")) or \
            os.path.exists(os.path.join(args.out, "cases.tsv")):
        shutil.rmtree(args.out)
    elif os.path.isdir(args.out) and os.listdir(args.out):
        sys.exit(f"prepare: {args.out} exists and is not a pack: not "
                 "replacing it")
    t0 = time.time()
    pack = Pack(args)
    pack.build_driver()
    for step in ("networks", "aot_example", "linear", "kwinners", "cnn"):
        log(step)
        getattr(pack, step)()
    libs = pack.runtime_libs()
    pack.write(libs)
    shutil.rmtree(pack.work)
    size = pack.size()
    log(f"{len(pack.cases)} cases, {size / 2**20:.1f} MiB in {pack.dir} "
        f"({time.time() - t0:.0f} s); bundled: {', '.join(libs) or 'none'}")
    if size > LIMIT:
        sys.exit(f"prepare: the pack is {size / 2**20:.1f} MiB, over the "
                 f"{LIMIT >> 20} MiB allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
