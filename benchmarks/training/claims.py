#!/usr/bin/python3
"""The seeds' claims with error bars (issue 17 item 3): dense, sparse (seed
000 Table 1 shape with batch norm, boosting and duty cycles) and learned
sparsity (seed 003) on Fashion-MNIST, each with several seeds, through
``python3 -m sparsenn.train``; then the mean +- std of the test accuracy,
the weight sparsity and seed 000 Table 2's noise score per noise kind, and
two plots: accuracy against noise level per variant, and (seed 003 FIG. 10
style) test accuracy against weight sparsity for the learned variant at
several alpha / theta.

Each run writes OUT/<run>/summary.json and is skipped when that exists, so
an interrupted matrix resumes where it stopped. Runs go ``--jobs`` at a
time, each on one thread (SPARSENN_NUM_THREADS=1).

usage: /usr/bin/python3 benchmarks/training/claims.py --out runs/claims
         [--epochs 15] [--seeds 0,1,2] [--jobs 2] [--train-subset N]
         [--test-subset N] [--sweep "alpha=0.15;alpha=0.5;pruner=gumbel,group_shape=1:16"]
         [--report-only] [--plots-dir docs]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VARIANTS = ("dense", "sparse", "learned")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/claims")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    ap.add_argument("--train-subset", type=int, help="passed to sparsenn.train")
    ap.add_argument("--test-subset", type=int, help="passed to sparsenn.train")
    ap.add_argument("--sweep", default="alpha=0.15;alpha=0.5",
                    help="extra learned runs (first seed), ';'-separated, each a "
                         "','-separated list of sparsenn.train options name=value, for "
                         "the accuracy-against-sparsity plot; ':' for ',' inside a value, "
                         "e.g. 'pruner=gumbel,group_shape=1:16'")
    ap.add_argument("--train-args", default="",
                    help="more options for every run, e.g. '--lr 0.02'")
    ap.add_argument("--tools", help="directory of sparse-opt and sparse-compile")
    ap.add_argument("--report-only", action="store_true", help="no runs, only the report")
    ap.add_argument("--plots-dir", help="where the PNGs go (default: OUT)")
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    args.variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad or not args.seeds or args.epochs < 1 or args.jobs < 1:
        ap.error(f"bad --variants {bad}, --seeds, --epochs or --jobs")
    return args


def run_matrix(args):
    """(name, options) of every run: each variant at each seed, then the sweep."""
    runs = [(f"{v}-s{seed}", ["--variant", v, "--seed", str(seed)])
            for v in args.variants for seed in args.seeds]
    for point in filter(None, args.sweep.split(";")):
        opts, name = [], []
        for item in point.split(","):
            key, _, value = item.partition("=")
            # ':' stands for ',' inside a value (group_shape=1:16).
            opts += [f"--{key.strip().replace('_', '-')}", value.strip().replace(":", ",")]
            name.append(f"{key.strip()}{value.strip().replace(':', 'x')}")
        runs.append((f"learned-{'-'.join(name)}-s{args.seeds[0]}",
                     ["--variant", "learned", "--seed", str(args.seeds[0])] + opts))
    return runs


def launch(args, name, opts):
    out = os.path.join(args.out, name)
    os.makedirs(out, exist_ok=True)
    cmd = [sys.executable, "-m", "sparsenn.train", "--epochs", str(args.epochs), "--out", out,
           "--log-every", "0"] + opts + args.train_args.split()
    for flag in ("train_subset", "test_subset", "tools"):
        if getattr(args, flag) is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    env = dict(os.environ, SPARSENN_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.path.join(ROOT, "python"))
    print(f"start {name}: {' '.join(cmd[1:])}", flush=True)
    with open(os.path.join(out, "log.txt"), "w") as log:  # the child keeps its own copy
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def run_all(args):
    pending = [(n, o) for n, o in run_matrix(args)
               if not os.path.exists(os.path.join(args.out, n, "summary.json"))]
    running = {}
    while pending or running:
        while pending and len(running) < args.jobs:
            name, opts = pending.pop(0)
            running[name] = (launch(args, name, opts), time.perf_counter())
        time.sleep(2)
        for name, (proc, t0) in list(running.items()):
            if proc.poll() is not None:
                status = "done" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
                print(f"{status} {name} in {time.perf_counter() - t0:.0f} s "
                      f"(log: {os.path.join(args.out, name, 'log.txt')})", flush=True)
                del running[name]


def load(args):
    out = {}
    for name, _ in run_matrix(args):
        path = os.path.join(args.out, name, "summary.json")
        if os.path.exists(path):
            with open(path) as f:
                out[name] = json.load(f)
    return out


def mean_std(values):
    a = np.asarray(values, np.float64)
    return a.mean(), (a.std(ddof=1) if len(a) > 1 else 0.0), len(a)


def fmt(values, scale=1.0, digits=2):
    m, s, n = mean_std(values)
    return f"{scale * m:.{digits}f} ± {scale * s:.{digits}f} (n={n})"


def report(args, results):
    lines = []
    first = next(iter(results.values()), None)
    if first is None:
        print("no finished runs")
        return
    kinds = sorted(first["noise"] or {})
    o = first["options"]
    lines.append(f"{o['epochs']} epochs, {first['train_images']} training / "
                 f"{first['test_images']} test images, batch {o['batch']}, SGD lr {o['lr']} "
                 f"x {o['lr_gamma']} per epoch, momentum {o['momentum']}, boost {o['boost']} "
                 f"x {o['boost_strength_factor']} per epoch, k_inference_factor "
                 f"{o['k_inference_factor']}, batch norm {o['batch_norm']}; machine: "
                 f"{first['machine']['cpu']}")
    lines.append("")
    head = "| variant | test accuracy (%) | weight sparsity (%) | " + " | ".join(
        f"noise score, {k} | noise accuracy, {k} (%)" for k in kinds) + " |"
    lines += [head, "|" + "---|" * (3 + 2 * len(kinds))]
    per_variant = {}
    for v in VARIANTS:
        runs = [results[f"{v}-s{s}"] for s in args.seeds if f"{v}-s{s}" in results]
        if not runs:
            continue
        per_variant[v] = runs
        row = [v, fmt([r["final"]["model_test_accuracy"] for r in runs], 100),
               fmt([r["final"]["weight_sparsity"] for r in runs], 100)]
        for k in kinds:
            row += [fmt([r["noise"][k]["noise_score"] for r in runs], 1, 0),
                    fmt([r["noise"][k]["noise_accuracy"] for r in runs], 100)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    sweep = [(n, r) for n, r in results.items() if n.startswith("learned")]
    if sweep:
        lines += ["| learned run | alpha | theta | pruner (groups) | test accuracy (%) | "
                  "weight sparsity (%) | SPGC8 bytes (vs dense f32) |",
                  "|---|---|---|---|---|---|---|"]
        for n, r in sweep:
            o, sp = r["options"], r.get("spgc8")
            groups = "x".join(map(str, o["group_shape"])) if o.get("group_shape") else "-"
            size = (f"{sp['bytes']} ({sp['dense_f32_bytes'] / sp['bytes']:.1f}x)" if sp
                    else "-")
            lines.append(f"| {n} | {o['alpha']} | {o['theta']} | "
                         f"{o.get('pruner', 'gaussian')} ({groups}) | "
                         f"{100 * r['final']['model_test_accuracy']:.2f} | "
                         f"{100 * r['final']['weight_sparsity']:.2f} | {size} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.out, "claims.md"), "w") as f:
        f.write(text + "\n")
    plots(args, per_variant, kinds, sweep)


def label_axes(ax, xlabel, title):
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def plots(args, per_variant, kinds, sweep):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (Debian python3-matplotlib): no plots")
        return
    where = args.plots_dir or args.out
    os.makedirs(where, exist_ok=True)
    if kinds and per_variant:
        fig, axes = plt.subplots(1, len(kinds), figsize=(5.5 * len(kinds), 4), squeeze=False)
        for ax, k in zip(axes[0], kinds):
            for v, runs in per_variant.items():
                acc = np.array([r["noise"][k]["accuracy"] for r in runs]) * 100
                levels = runs[0]["noise"][k]["levels"]
                err = acc.std(axis=0, ddof=1) if len(acc) > 1 else None
                ax.errorbar(levels, acc.mean(axis=0), yerr=err, capsize=3, marker="o",
                            markersize=3, label=f"{v} (n={len(acc)})")
            label_axes(ax, f"noise level ({k})", f"Fashion-MNIST, {k} noise")
        save(fig, os.path.join(where, "claims_noise.png"))
    if sweep:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        xs = [100 * r["final"]["weight_sparsity"] for _, r in sweep]
        ys = [100 * r["final"]["model_test_accuracy"] for _, r in sweep]
        ax.scatter(xs, ys, label="learned (seed 003)")
        for (n, r), x, y in zip(sweep, xs, ys):
            o = r["options"]
            label = f"α={o['alpha']}" + (f" θ={o['theta']}" if o["theta"] else "")
            if o.get("group_shape"):
                label += f" {o.get('pruner')} {'x'.join(map(str, o['group_shape']))} groups"
            ax.annotate(label,
                        (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        dense = per_variant.get("dense")
        if dense:
            m = np.mean([r["final"]["model_test_accuracy"] for r in dense]) * 100
            ax.axhline(m, color="gray", linestyle="--", label=f"dense mean {m:.2f} %")
        label_axes(ax, "weight sparsity (%)", "learned sparsity: accuracy against sparsity")
        save(fig, os.path.join(where, "claims_learned_sparsity.png"))


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not args.report_only:
        run_all(args)
    report(args, load(args))


if __name__ == "__main__":
    main()
