#!/usr/bin/env python3
"""Checks the index arithmetic of two GPU kernels without a GPU.

The sparse-tap conv2d (`sparsenn_conv2d_taps`: one thread per output
element over the filter's non-zero taps, padding by bounds checks), the
k-winners selection (`sparsenn_kwinners`: 4-pass MSB radix select over
order-preserving keys, ties kept in index order through per-thread chunks)
and the SPGC8 decode (`sparsenn_spgc8_linear`: header codes, warp prefix sum
of body widths in 32-lane passes, bit-plane gather, sign unfolding, adjacent
or interleaved columns) are replayed here step by step as
lib/Conversion/SparseNNToGPU/SparseNNToGPU.cpp writes them, and compared with
the reference semantics (seed 000 k-winners; python/sparsenn/spgc8_ref.py).
This checks the algorithms, not the compiled kernels: those run in gpu.exec
on a GPU.
"""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
from sparsenn.spgc8_ref import decode_raw  # noqa: E402


def key(r):
    r = np.float32(r)
    if r == 0:
        r = np.float32(0.0)  # -0 ranks as +0
    u = int(np.array([r], np.float32).view(np.int32)[0])
    return (~u) & 0xFFFFFFFF if u < 0 else (u ^ -0x80000000) & 0xFFFFFFFF


def kwinners_kernel(vals, k, break_ties, relu, threads=256):
    n = len(vals)
    keys = [key(v) for v in vals]
    prefix, mask, remaining = 0, 0, min(k, n)
    for shift in (24, 16, 8, 0):
        hist = [0] * 256
        for kv in keys:
            if kv & mask == prefix:
                hist[(kv >> shift) & 255] += 1
        cum, found, chosen, left = 0, False, 0, remaining
        for t in range(256):
            b = 255 - t
            nxt = cum + hist[b]
            hit = nxt >= remaining and not found
            if hit:
                chosen, left = b, remaining - cum
            found, cum = found or hit, nxt
        prefix |= chosen << shift
        mask |= 255 << shift
        remaining = left
    out = np.zeros(n, np.float32)
    chunk = (n + threads - 1) // threads
    ranges = [(min(t * chunk, n), min(min(t * chunk, n) + chunk, n))
              for t in range(threads)]
    before = np.concatenate([[0], np.cumsum(
        [sum(keys[j] == prefix for j in range(lo, hi))
         for lo, hi in ranges])[:-1]])
    for (lo, hi), seen in zip(ranges, before):
        for j in range(lo, hi):
            tie = keys[j] == prefix
            win = keys[j] >= prefix if not break_ties else \
                keys[j] > prefix or (tie and seen < remaining)
            seen += tie
            if relu:
                win = win and vals[j] > 0
            out[j] = vals[j] if win else 0
    return out


def kwinners_reference(vals, k, break_ties, relu):
    n = len(vals)
    order = sorted(range(n), key=lambda j: (-float(vals[j]), j))
    kth = vals[order[min(k, n) - 1]]
    wins = set(order[:min(k, n)]) if break_ties else \
        {j for j in range(n) if vals[j] >= kth}
    return np.array([vals[j] if j in wins and (not relu or vals[j] > 0)
                     else 0 for j in range(n)], np.float32)


def spgc8_kernel(data, out, inn, bits, interleaved):
    h = 3 if bits == 8 else 4
    widths = [0, 1, 2, 3, 4, 5, 6, 8] if bits == 8 else \
        list(range(15)) + [16]
    subsets = (inn + 15) // 16 * 2
    total = out * subsets

    def byte(i):
        return data[i] if i < len(data) else 0

    def code(k):
        bit = k * h
        return ((byte(bit // 8) | (byte(bit // 8 + 1) << 8)) >>
                (bit % 8)) & ((1 << h) - 1)
    offset, row_offsets = (total * h + 7) // 8, []
    for k in range(total):
        if k % subsets == 0:
            row_offsets.append(offset)
        offset += widths[code(k)]
    assert offset == len(data)
    q = np.zeros((out, inn), np.int64)
    for o in range(out):
        base = row_offsets[o]
        for chunk in range(0, subsets, 32):
            w = [widths[code(o * subsets + chunk + lane)]
                 if chunk + lane < subsets else 0 for lane in range(32)]
            incl = np.cumsum(w)
            for lane in range(32):
                sub = chunk + lane
                if sub >= subsets:
                    continue
                body, u = base + incl[lane] - w[lane], [0] * 8
                for p in range(w[lane]):
                    for i in range(8):
                        u[i] |= ((byte(body + p) >> i) & 1) << p
                for i in range(8):
                    c = -1 - (u[i] >> 1) if u[i] & 1 else u[i] >> 1
                    col = (sub // 2) * 16 + sub % 2 + 2 * i if interleaved \
                        else sub * 8 + i
                    if col < inn:
                        q[o, col] = c
            base += incl[-1]
    return q


def conv_taps_kernel(x, w, bias, stride, pad, dil, groups):
    n_, cin, h, wi = x.shape
    cout, icpg, kh, kw = w.shape
    ocpg = cout // groups
    oh_ = (h + pad[0] + pad[1] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow_ = (wi + pad[2] + pad[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    flat = w.reshape(cout, -1)
    y = np.zeros((n_, cout, oh_, ow_), np.float32)
    xf = x.reshape(-1)
    for e in range(y.size):
        ow = e % ow_
        rest = e // ow_
        oh = rest % oh_
        rest //= oh_
        o = rest % cout
        n = rest // cout
        cbase = n * cin + (o // ocpg) * icpg
        h0, w0 = oh * stride[0] - pad[0], ow * stride[1] - pad[2]
        acc = np.float32(bias[o])
        for tap in np.nonzero(flat[o])[0]:
            s, r, c = tap % kw, (tap // kw) % kh, tap // (kh * kw)
            ih, iw = h0 + r * dil[0], w0 + s * dil[1]
            if 0 <= ih < h and 0 <= iw < wi:
                acc += flat[o, tap] * xf[((cbase + c) * h + ih) * wi + iw]
        y.reshape(-1)[e] = acc
    return y


def conv_reference(x, w, bias, stride, pad, dil, groups):
    import torch
    t = torch.nn.functional.conv2d(
        torch.nn.functional.pad(torch.from_numpy(x),
                                (pad[2], pad[3], pad[0], pad[1])),
        torch.from_numpy(w), torch.from_numpy(bias), stride=stride,
        dilation=dil, groups=groups)
    return t.numpy()


def main():
    rng = np.random.default_rng(0)
    bad = 0
    for stride, pad, dil, groups in (((1, 1), (1, 1, 1, 1), (1, 1), 1),
                                     ((2, 1), (0, 2, 1, 0), (1, 2), 2)):
        x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
        w = rng.standard_normal((6, 4 // groups, 3, 3)).astype(np.float32)
        w *= rng.random(w.shape) < 0.4
        bias = rng.standard_normal(6).astype(np.float32)
        args = (x, w, bias, stride, pad, dil, groups)
        same = np.allclose(conv_taps_kernel(*args), conv_reference(*args),
                           atol=1e-5)
        print(f"conv2d taps (stride {stride}, pad {pad}, dilation {dil}, "
              f"groups {groups}): {'ok' if same else 'MISMATCH'}")
        bad += not same
    for trial in range(120):
        n = int(rng.integers(1, 600))
        k = int(rng.integers(1, n + 1))
        v = rng.integers(-3, 4, n).astype(np.float32) if trial % 2 else \
            rng.standard_normal(n).astype(np.float32)
        if trial % 5 == 0:
            v[rng.integers(0, n, 3)] = -0.0
        args = (k, bool(trial % 3), trial % 4 == 0)
        threads = 1024 if trial % 7 == 0 else 256
        bad += not np.array_equal(kwinners_kernel(v, *args, threads),
                                  kwinners_reference(v, *args))
    print(f"k-winners: 120 domains, {bad} mismatches")
    text = open(os.path.join(os.path.dirname(__file__), "Inputs",
                             "spgc8.mlir")).read()
    for name, out, inn, bits, inter in (("w1", 64, 300, 8, False),
                                        ("w2", 20, 64, 16, True)):
        data = bytes.fromhex(re.search(
            "%" + name + r' = sparsenn.compressed_constant dense<"0x([0-9A-F]+)"',
            text).group(1))
        padded = (inn + 15) // 16 * 16
        ref = np.asarray(decode_raw(data, out * padded, bits=bits,
                                    interleave=inter)[0]).reshape(
                                        out, padded)[:, :inn]
        same = np.array_equal(spgc8_kernel(data, out, inn, bits, inter), ref)
        print(f"SPGC8 {name} ({out}x{inn}, D={bits}, "
              f"{'interleaved' if inter else 'adjacent'}): "
              f"{'ok' if same else 'MISMATCH'}")
        bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
