#!/usr/bin/env python3
"""Mutation fuzzing of sparse-opt: malformed or mutated IR must give a
diagnostic and a non-zero exit (or succeed), never a crash, an assertion or a
hang.

Takes the lit tests as seeds, applies random token-level mutations (numbers
replaced by edge values, tokens deleted or duplicated, enum keywords swapped,
types changed, lines dropped), and runs sparse-opt on each mutant with a few
pass pipelines. Bounded by --mutants and --seconds. Exit status 1 and the
offending input are reported on the first failure.

usage: mutate_ir.py SPARSE_OPT SEED_DIR [--mutants N] [--seconds S] [--seed N]
"""
import argparse
import glob
import os
import random
import re
import subprocess
import sys
import tempfile
import time

EDGE_NUMBERS = ["0", "-1", "1", "2", "3", "7", "8", "15", "16", "17", "-3",
                "1.5", "-0.5", "0.0", "1.0e+300", "9223372036854775807",
                "-9223372036854775808", "4294967296", "nan", "1e-320"]
KEYWORDS = ["global", "group", "local", "channel", "quantile", "gaussian",
            "gumbel", "element", "input_channel", "output_filter", "max",
            "mean", "sigmoid", "hard_sigmoid", "none", "adjacent",
            "interleaved", "ell", "block16", "spgc8", "dense"]
TYPES = ["f32", "f16", "bf16", "i1", "i8", "i16", "i32", "i64", "index",
         "tensor<f32>", "tensor<?x4xf32>", "tensor<0x16xf32>",
         "!sparsenn.spgc8<4x16xi8>", "!sparsenn.spgc8<1x1x1x1xi16>"]
PIPELINES = [
    [],
    ["-canonicalize"],
    ["--sparsenn-print-summary", "-canonicalize", "-cse"],
    ["--mlir-print-op-generic"],
    ["--sparsenn-prune-weights=sparsity=0.5", "--sparsenn-compress-weights"],
    ["--sparsenn-select-kernels", "--convert-sparsenn-to-linalg"],
    ["--sparsenn-lower-to-llvm"],
    ["--sparsenn-import"],
    ["--sparsenn-sparsify=sparsity=0.5 compress=true"],
]
# Inputs that crash upstream MLIR 22 itself (the same crash with Debian's
# mlir-opt, before any sparsenn code runs): the builtin parser of dense
# arrays aborts on an `index` element type, e.g. `array<index: 1>`.
KNOWN_UPSTREAM_CRASHES = [re.compile(r"array<\s*index\s*[:>]")]
SEMANTIC = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?|[fi]\d+|bf16|" +
                      "|".join(KEYWORDS))
TOKEN = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?|[A-Za-z_][\w.]*|\S")


def mutate(text, rng):
    tokens = [m for m in TOKEN.finditer(text)]
    if not tokens:
        return text
    for _ in range(rng.randint(1, 3)):
        tokens = [m for m in TOKEN.finditer(text)]
        # Mostly semantic mutations (numbers, enum keywords, element types)
        # that still parse, so that verifiers and folders get exercised.
        semantic = [m for m in tokens if SEMANTIC.fullmatch(m.group(0))]
        m = rng.choice(semantic if semantic and rng.random() < 0.8
                       else tokens)
        s, e, tok = m.start(), m.end(), m.group(0)
        kind = rng.random()
        if re.fullmatch(r"-?\d+(\.\d+)?(e[+-]?\d+)?", tok) and kind < 0.6:
            new = rng.choice(EDGE_NUMBERS)
        elif tok in KEYWORDS and kind < 0.6:
            new = rng.choice(KEYWORDS)
        elif re.fullmatch(r"[fi]\d+|bf16|index", tok) and kind < 0.6:
            new = rng.choice(TYPES)
        elif kind < 0.75:
            new = ""
        elif kind < 0.85:
            new = tok + " " + tok
        elif kind < 0.95:
            new = rng.choice(EDGE_NUMBERS + KEYWORDS + TYPES + ["x", ",", "<",
                                                                ">", ":"])
        else:
            # Drop a whole line.
            ls = text.rfind("\n", 0, s) + 1
            le = text.find("\n", e)
            s, e, new = ls, (le if le >= 0 else len(text)), ""
        text = text[:s] + new + text[e:]
    return text


def split_cases(text):
    return [c for c in text.split("// -----") if c.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sparse_opt")
    ap.add_argument("seed_dir")
    ap.add_argument("--mutants", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    # Mutants of valid IR reach the verifiers and folders; mutants of the
    # negative tests mostly stay invalid, so they are drawn less often.
    valid, invalid = [], []
    for path in sorted(glob.glob(os.path.join(args.seed_dir, "**", "*.mlir"),
                                 recursive=True)):
        with open(path) as f:
            cases = split_cases(f.read())
        (invalid if "invalid" in os.path.basename(path) else valid).extend(
            cases)
    seeds = valid + invalid
    if not seeds:
        print("mutate_ir: no seed inputs found", file=sys.stderr)
        return 2

    start = time.time()
    runs = rejected = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.mutants):
            if time.time() - start > args.seconds:
                break
            pool = valid if valid and (rng.random() < 0.8 or
                                       not invalid) else invalid
            mutant = mutate(rng.choice(pool), rng)
            if any(p.search(mutant) for p in KNOWN_UPSTREAM_CRASHES):
                continue
            path = os.path.join(tmp, "mutant.mlir")
            with open(path, "w") as f:
                f.write(mutant)
            for pipeline in PIPELINES:
                cmd = [args.sparse_opt, path, "-o", os.devnull] + pipeline
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True,
                                          timeout=20)
                except subprocess.TimeoutExpired:
                    print(f"mutate_ir: HANG on mutant {i} with {pipeline}")
                    print(mutant)
                    return 1
                runs += 1
                crashed = proc.returncode < 0 or proc.returncode > 1 or \
                    "PLEASE submit a bug report" in proc.stderr or \
                    "Assertion" in proc.stderr
                if crashed:
                    print(f"mutate_ir: CRASH (exit {proc.returncode}) on mutant "
                          f"{i} with {pipeline}:\n{proc.stderr[-3000:]}\n"
                          f"--- input ---\n{mutant}")
                    return 1
                if proc.returncode != 0:
                    rejected += 1
                    if not proc.stderr.strip():
                        print(f"mutate_ir: non-zero exit without a diagnostic "
                              f"on mutant {i}:\n{mutant}")
                        return 1
    print(f"mutate_ir: {runs} runs, {rejected} rejected with a diagnostic, "
          f"0 crashes ({time.time() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
