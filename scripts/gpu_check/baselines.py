#!/usr/bin/env python3
"""PyTorch CUDA baselines of the GPU check (run by run.sh on the device):
dense cuBLAS linear (torch.nn.functional.linear, torch.mv at batch 1) and
cuSPARSE CSR at the linear cases' shapes, torch.topk + scatter at the
k-winners cases' shapes, and a dense PyTorch CNN of seed 000's shape. Values
are random (timing only; correctness is the driver's, against the CPU
references). Prints one JSON object: device-only medians (CUDA events around
a loop of `inner` calls, divided, median of `trials`), host-to-host medians
(input from host memory, result back, synchronised) where meaningful.
"""
import json
import statistics
import sys
import time


def main():
    manifest = json.load(open(sys.argv[1]))
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"status": "no_torch", "error": repr(e)}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"status": "no_torch_cuda",
                          "torch": torch.__version__}))
        return 0
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 like ours
    torch.backends.cudnn.allow_tf32 = False
    out = {"status": "ok", "torch": torch.__version__,
           "cuda": torch.version.cuda,
           "device": torch.cuda.get_device_name(0), "cases": {}}

    def device_ms(fn, inner=50, trials=7):
        with torch.no_grad():
            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            ts = []
            for _ in range(trials):
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                for _ in range(inner):
                    fn()
                b.record()
                torch.cuda.synchronize()
                ts.append(a.elapsed_time(b) / inner)
        return statistics.median(ts)

    def host_ms(fn, repeat=50):
        with torch.no_grad():
            for _ in range(3):
                fn()
            torch.cuda.synchronize()
            ts = []
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                torch.cuda.synchronize()
                ts.append((time.perf_counter() - t) * 1e3)
        return statistics.median(ts)

    def record(name, **kw):
        out["cases"][name] = kw
        print(f"{name}: {kw}", file=sys.stderr, flush=True)

    cases = manifest["cases"]
    done = set()
    for name, c in cases.items():
        try:
            if c["kind"] == "linear" and (c["n"], c["batch"]) not in done:
                done.add((c["n"], c["batch"]))
                n, b = c["n"], c["batch"]
                w = torch.randn(n, n, device=dev)
                x = torch.randn(b, n, device=dev)
                xh = torch.randn(b, n).pin_memory()
                r = dict(n=n, batch=b,
                         dense_linear_ms=device_ms(
                             lambda: torch.nn.functional.linear(x, w)),
                         dense_linear_host_ms=host_ms(
                             lambda: torch.nn.functional.linear(
                                 xh.to(dev, non_blocking=True), w).cpu()))
                if b == 1:
                    v = x[0].contiguous()
                    r["dense_mv_ms"] = device_ms(lambda: torch.mv(w, v))
                try:  # cuSPARSE CSR at 90 %
                    mask = torch.rand(n, n, device=dev) >= c["sparsity"]
                    ws = (w * mask).to_sparse_csr()
                    xt = x.t().contiguous()
                    r["csr_spmm_ms"] = device_ms(lambda: ws @ xt)
                    del ws, mask
                except Exception as e:  # noqa: BLE001
                    r["csr_error"] = repr(e)[:300]
                record(f"linear_n{n}_b{b}", **r)
                del w, x
            elif c["kind"] == "kwinners":
                n, k, b = c["n"], c["k"], c["batch"]
                x = torch.randn(b, n, device=dev)
                xh = torch.randn(b, n).pin_memory()

                def topk(xi):
                    v, i = torch.topk(xi, k, dim=1)
                    return torch.zeros_like(xi).scatter_(1, i, v)
                record(name, n=n, k=k, batch=b,
                       topk_scatter_ms=device_ms(lambda: topk(x)),
                       topk_only_ms=device_ms(lambda: torch.topk(x, k, dim=1)),
                       topk_scatter_host_ms=host_ms(
                           lambda: topk(xh.to(dev, non_blocking=True)).cpu()))
            elif c["kind"] == "cnn":
                b = c["batch"]
                nn = torch.nn
                net = nn.Sequential(
                    nn.Conv2d(1, 64, 5), nn.MaxPool2d(2), nn.ReLU(),
                    nn.Conv2d(64, 64, 5), nn.MaxPool2d(2), nn.ReLU(),
                    nn.Flatten(), nn.Linear(1024, 1000), nn.ReLU(),
                    nn.Linear(1000, 10)).to(dev).eval()
                x = torch.randn(b, 1, 28, 28, device=dev)
                xh = torch.randn(b, 1, 28, 28).pin_memory()
                record(name, batch=b, dense_cnn_ms=device_ms(lambda: net(x)),
                       dense_cnn_host_ms=host_ms(
                           lambda: net(xh.to(dev, non_blocking=True)).cpu()))
        except Exception as e:  # noqa: BLE001
            record(name, error=repr(e)[:500])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
