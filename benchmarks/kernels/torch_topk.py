#!/usr/bin/python3
"""torch.topk peer for the k-winners kernel (docs/performance.md).

Run with Debian's python (python3-torch), one thread:
  /usr/bin/python3 benchmarks/kernels/torch_topk.py --bench build/bin/kernels_bench

Measures torch.topk(x, k=n/10, dim=1) + scatter into zeros (what a k-winners
layer does) on the same [2^20/n, n] float32 data shape as kernels_bench, then
runs kernels_bench's k-winners benchmarks in the same process tree and prints
elements/s of both and the ratio ours / torch.
"""
import argparse
import json
import subprocess
import time

import torch


def torch_rate(n, reps):
    torch.manual_seed(0)
    batch = max(1, (1 << 20) // n)
    x = torch.empty(batch, n).uniform_(-1, 1)
    k = n // 10

    def kw():
        v, i = torch.topk(x, k, dim=1, sorted=False)
        return torch.zeros_like(x).scatter_(1, i, v)

    kw()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        kw()
        times.append(time.perf_counter() - t)
    times.sort()
    return batch * n / times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", help="path to kernels_bench")
    ap.add_argument("--reps", type=int, default=31)
    args = ap.parse_args()
    torch.set_num_threads(1)
    ours = {}
    if args.bench:
        out = subprocess.run(
            [args.bench, "--benchmark_filter=kwinners/n:[0-9]+/real",
             "--benchmark_format=json", "--benchmark_min_time=0.3"],
            check=True, capture_output=True, text=True).stdout
        for b in json.loads(out[out.index("{"):])["benchmarks"]:
            ours[int(b["n"])] = b["items_per_second"]
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    print(f"{'n':>6} {'torch.topk elem/s':>18} {'ours elem/s':>14} {'ours/torch':>10}")
    for n in (2048, 8192, 65536):
        t = torch_rate(n, args.reps)
        o = ours.get(n)
        ratio = f"{o / t:10.2f}" if o else f"{'-':>10}"
        ostr = f"{o:14.3e}" if o else f"{'-':>14}"
        print(f"{n:>6} {t:18.3e} {ostr} {ratio}")


if __name__ == "__main__":
    main()
