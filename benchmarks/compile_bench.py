"""sparsenn.compile end to end: a torchvision ResNet-18 (random weights,
224x224, batch 1) compiled dense and at 90 % sparsity by one Python call,
the callable timed against PyTorch eager on the same thread count (medians
of 10 calls after one warm-up). Prints compile seconds, call ms and ratios;
never a test. Run: /usr/bin/python3 benchmarks/compile_bench.py [--threads N]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import torch  # noqa: E402
import torchvision  # noqa: E402

import sparsenn  # noqa: E402


def median_ms(f, n=10):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return 1e3 * sorted(ts)[n // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default="resnet18")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = getattr(torchvision.models, a.model)().eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch_ms = median_ms(lambda: m(x))
        ref = m(x)
    print(f"{a.model} b1, {a.threads} thread(s); PyTorch {torch.__version__} eager {torch_ms:.1f} ms")
    for sparsity in (None, 0.9):
        t = time.time()
        fast = sparsenn.compile(m, x, sparsity=sparsity)
        compile_s = time.time() - t
        fast.threads = a.threads
        ms = median_ms(lambda: fast(x))
        err = ""
        if sparsity is None:
            err = f", max rel err vs PyTorch {((fast(x) - ref).abs().max() / ref.abs().max()).item():.1e}"
        print(f"  sparsity={sparsity}: compile {compile_s:.1f} s, call {ms:.1f} ms, "
              f"PyTorch/ours {torch_ms / ms:.2f}x{err}")


if __name__ == "__main__":
    main()
