#!/usr/bin/env python3
"""Summary of a GPU check run (run.sh step 7): OUT/results.json and
OUT/results.txt from OUT/cases/*.json, OUT/baselines.json, OUT/ncu/*.txt and
the pack's manifest.json. Standard library only.

results.json: {"status": "ok" | "failures", "device": probe, "host": ...,
  "cases": {name: driver JSON + manifest metadata + derived figures},
  "baselines": baselines.json, "goals": [...], "ncu": {case: key lines},
  "notes": manifest notes}.
Derived: linear cases: speedup_vs_cublas (= torch F.linear device time /
our kernel time), speedup_vs_mv (batch 1), speedup_vs_csr, weight stream
GB/s and fraction of HBM peak; k-winners: speedup_vs_topk; CNN:
speedup_vs_torch_dense (kernels and host to host).
"""
import glob
import json
import os
import re
import sys


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception:  # noqa: BLE001
        return default


def main():
    pack, out = sys.argv[1], sys.argv[2]
    manifest = load(os.path.join(pack, "manifest.json"), {})
    probe = load(os.path.join(out, "probe.json"), {})
    base = load(os.path.join(out, "baselines.json"), {}) or {}
    bcases = base.get("cases", {})
    dev = (probe.get("device") or {})
    name = dev.get("name", "")
    if "H200" in name:
        peak = 4.8e12
    elif "H100" in name:
        peak = 3.35e12
    else:  # DDR: 2 transfers per memory clock
        peak = 2 * dev.get("memory_clock_khz", 0) * 1e3 * \
            dev.get("memory_bus_bits", 0) / 8 or None
    cases = {}
    for f in sorted(glob.glob(os.path.join(out, "cases", "*.json"))):
        c = load(f)
        if c is None:
            c = {"name": os.path.basename(f)[:-5], "status": "crash",
                 "error": "unreadable driver output: " +
                 open(f, errors="replace").read()[:500]}
        c.pop("device", None)
        meta = manifest.get("cases", {}).get(c["name"], {})
        c.update({k: v for k, v in meta.items() if k not in c})
        cases[c["name"]] = c

    goals = []
    for n, c in cases.items():
        k = c.get("kernel_ms_median")
        if c.get("status") != "ok" or not k or k <= 0:
            continue
        if c.get("kind") == "linear":
            b = bcases.get(f"linear_n{c['n']}_b{c['batch']}", {})
            for key, src in (("speedup_vs_cublas", "dense_linear_ms"),
                             ("speedup_vs_mv", "dense_mv_ms"),
                             ("speedup_vs_csr", "csr_spmm_ms")):
                if b.get(src):
                    c[key] = b[src] / k
            if b.get("dense_linear_host_ms") and c.get("host_ms_median"):
                c["host_speedup_vs_cublas"] = (b["dense_linear_host_ms"] /
                                               c["host_ms_median"])
            bw = (c.get("weight_bytes", 0) + c.get("io_bytes", 0)) / (k * 1e-3)
            c["stream_bytes_per_s"] = bw
            if peak:
                c["fraction_of_hbm_peak"] = bw / peak
            if c["batch"] == 1 and "speedup_vs_cublas" in c:
                goals.append(dict(goal=f"{n}: >= 3x cuBLAS at batch 1",
                                  value=c["speedup_vs_cublas"],
                                  met=c["speedup_vs_cublas"] >= 3))
            if c.get("kernel") == "spgc8" and peak:
                goals.append(dict(goal=f"{n}: SPGC8 stream >= 50 % of HBM",
                                  value=c["fraction_of_hbm_peak"],
                                  met=c["fraction_of_hbm_peak"] >= 0.5))
        elif c.get("kind") == "kwinners":
            b = bcases.get(n, {})
            if b.get("topk_scatter_ms"):
                c["speedup_vs_topk"] = b["topk_scatter_ms"] / k
                goals.append(dict(goal=f"{n}: >= 5x torch.topk + scatter",
                                  value=c["speedup_vs_topk"],
                                  met=c["speedup_vs_topk"] >= 5))
        elif c.get("kind") == "cnn":
            b = bcases.get(n, {})
            if b.get("dense_cnn_ms"):
                c["speedup_vs_torch_dense"] = b["dense_cnn_ms"] / k
            if b.get("dense_cnn_host_ms") and c.get("host_ms_median"):
                c["host_speedup_vs_torch_dense"] = (b["dense_cnn_host_ms"] /
                                                    c["host_ms_median"])

    ncu = {}
    for f in sorted(glob.glob(os.path.join(out, "ncu", "*.txt"))):
        lines = open(f, errors="replace").read().splitlines()
        keep = [ln.strip() for ln in lines if re.search(
            r"DRAM Throughput|Memory Throughput|Duration|Compute \(SM\)|"
            r"Achieved Occupancy|Registers Per|ERR|==PROF==|==ERROR==|"
            r"==WARNING==|OPT", ln)]
        ncu[os.path.basename(f)[:-4]] = keep[:60]

    bad = [n for n, c in cases.items() if c.get("status") != "ok"]
    host = open(os.path.join(out, "host.txt"), errors="replace").read() \
        if os.path.exists(os.path.join(out, "host.txt")) else ""
    res = dict(status="failures" if bad else "ok", failed=bad, device=probe,
               host=host, hbm_peak_bytes_per_s=peak,
               tolerance=manifest.get("tolerance"), cases=cases,
               baselines=base, goals=goals, ncu=ncu,
               notes=manifest.get("notes", []),
               pack=dict(commit=manifest.get("commit"),
                         prepared=manifest.get("prepared"),
                         build_cpu=manifest.get("build_cpu")))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)

    def ms(v):
        return f"{v:9.4f}" if isinstance(v, (int, float)) else f"{'-':>9}"

    t = [f"GPU check: {dev.get('name', '?')} (sm_{dev.get('sm', '?')}, "
         f"driver {dev.get('driver_version', '?')}), pack {res['pack']['commit']}",
         f"{len(cases) - len(bad)} of {len(cases)} cases ok"
         + (f"; FAILED: {', '.join(bad)}" if bad else ""),
         "times: medians, ms; kernels = sum of our kernels' CUDA-event times "
         "per call; host = host to host (upload, kernels, download)", "",
         f"{'case':26} {'status':8} {'max|err|':>9} {'kernels':>9} "
         f"{'copies':>9} {'host':>9} {'cold':>9}  vs baseline"]
    for n, c in cases.items():
        vs = []
        for key, label in (("speedup_vs_cublas", "cuBLAS"),
                           ("speedup_vs_mv", "mv"), ("speedup_vs_csr", "CSR"),
                           ("speedup_vs_topk", "topk"),
                           ("speedup_vs_torch_dense", "torch dense")):
            if key in c:
                vs.append(f"{c[key]:.2f}x {label}")
        if "fraction_of_hbm_peak" in c:
            vs.append(f"{c['stream_bytes_per_s'] / 1e9:.0f} GB/s = "
                      f"{100 * c['fraction_of_hbm_peak']:.0f} % HBM")
        err = c.get("max_abs_err")
        t.append(f"{n:26} {c.get('status', '?'):8} "
                 f"{err if isinstance(err, str) else (f'{err:9.2e}' if isinstance(err, (int, float)) else '-'):>9} "
                 f"{ms(c.get('kernel_ms_median'))} {ms(c.get('copy_ms_median'))} "
                 f"{ms(c.get('host_ms_median'))} {ms(c.get('cold_ms'))}  "
                 + ", ".join(vs))
        if c.get("status") != "ok":
            t.append(f"    error: {str(c.get('error', ''))[:400]}")
    t.append("")
    t.append("goals:")
    for g in goals:
        t.append(f"  {'met ' if g['met'] else 'MISS'} {g['goal']}: "
                 f"{g['value']:.3g}")
    t.append(f"baselines: {base.get('status', 'missing')} "
             f"(torch {base.get('torch', '?')}, CUDA {base.get('cuda', '?')})")
    for n, b in bcases.items():
        t.append(f"  {n}: " + ", ".join(
            f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in b.items()))
    for n, lines in ncu.items():
        t.append(f"ncu {n}:")
        t.extend("  " + ln for ln in lines[:25])
    for note in res["notes"]:
        t.append(f"note: {note}")
    with open(os.path.join(out, "results.txt"), "w") as f:
        f.write("\n".join(t) + "\n")
    print("\n".join(t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
