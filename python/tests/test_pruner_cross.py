"""Cross-check of the compiler's pruner (sparse-opt --sparsenn-prune-weights
evaluating sparsenn.prune on constants, C++ in PrunerMath.cpp) against the
independent PyTorch reference (python/sparsenn/pruning.py) on random weights:
the masks must be identical for every method, granularity and reduction.

Needs the sparse-opt binary: $SPARSE_OPT or build/bin/sparse-opt."""

import os
import re
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sparsenn.pruning import prune_mask  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPARSE_OPT = os.environ.get("SPARSE_OPT", os.path.join(ROOT, "build", "bin", "sparse-opt"))

pytestmark = pytest.mark.skipif(not os.path.exists(SPARSE_OPT),
                                reason="sparse-opt not built")

CONFIGS = [
    # method, granularity, group_shape (linear / conv), reduction
    ("quantile", "element", None, "max"),
    ("quantile", "group", ((1, 16), (1, 16, 1, 1)), "max"),
    ("quantile", "group", ((3, 5), (2, 3, 2, 2)), "mean"),
    ("quantile", "input_channel", None, "max"),
    ("quantile", "output_filter", None, "mean"),
    ("gaussian", "element", None, "max"),
    ("gumbel", "element", None, "max"),
    ("gumbel", "group", ((1, 16), (1, 16, 1, 1)), "max"),
    ("gumbel", "group", ((2, 4), (1, 4, 3, 1)), "mean"),
    ("gumbel", "input_channel", None, "max"),
]


def type_str(shape, elt):
    return "tensor<" + "x".join(str(d) for d in shape) + "x" + elt + ">"


def run_prune(w, s, method, granularity, group_shape, reduction):
    attrs = [f"granularity = #sparsenn.granularity<{granularity}>",
             f"reduction = #sparsenn.reduction<{reduction}>",
             "normalization = #sparsenn.normalization<none>"]
    if group_shape is not None:
        attrs.append("group_shape = array<i64: " + ", ".join(map(str, group_shape)) + ">")
    wt, mt = type_str(w.shape, "f32"), type_str(w.shape, "i1")
    hexdata = w.astype("<f4").tobytes().hex().upper()
    module = f"""
func.func @f() -> {mt} {{
  %w = arith.constant dense<"0x{hexdata}"> : {wt}
  %s = arith.constant dense<{s!r}> : tensor<f32>
  %p, %m = sparsenn.prune <{method}> %w, %s {{{", ".join(attrs)}}} : {wt}, tensor<f32> -> {wt}, {mt}
  return %m : {mt}
}}
"""
    out = subprocess.run([SPARSE_OPT, "-", "--sparsenn-prune-weights",
                          "--mlir-print-elementsattrs-with-hex-if-larger=0"],
                         input=module, capture_output=True, text=True, check=True).stdout
    m = re.search(r'arith\.constant dense<(?:"0x([0-9A-F]+)"|(true|false))> : ' + re.escape(mt), out)
    assert m, out
    if m.group(2):
        return np.full(w.shape, m.group(2) == "true")
    # i1 elements are bit-packed, LSB first.
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(m.group(1)), dtype=np.uint8),
                         bitorder="little")
    return bits[:w.size].astype(bool).reshape(w.shape)


@pytest.mark.parametrize("method,granularity,group_shapes,reduction", CONFIGS)
@pytest.mark.parametrize("s", [0.0, 0.3, 0.5, 0.9])
def test_masks_match_reference(method, granularity, group_shapes, reduction, s):
    rng = np.random.default_rng(hash((method, granularity, reduction, s)) % 2**32)
    for shape, gi in (((12, 40), 0), ((6, 20, 3, 3), 1)):
        # float32 weights, rounded to 1/64 so that ties between equal
        # magnitudes occur and the tie rule is exercised.
        w = (np.round(rng.normal(0.2, 1.0, size=shape) * 64) / 64).astype(np.float32)
        gs = group_shapes[gi] if group_shapes else None
        got = run_prune(w, s, method, granularity, gs, reduction)
        want = prune_mask(torch.from_numpy(w), torch.tensor(s), method=method,
                          granularity=granularity, group_shape=gs, reduction=reduction,
                          normalization="none").numpy()
        assert got.shape == want.shape
        mismatches = int((got != want).sum())
        assert mismatches == 0, f"{shape}: {mismatches} mask entries differ"
