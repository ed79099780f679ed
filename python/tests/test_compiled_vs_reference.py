"""Compiled sparsenn ops and whole networks (sparse-opt's lowering, JIT-run by
sparse-run) against independent references: PyTorch (conv2d, max-pool,
matmul) and the package's reference functions (k-winners, duty cycles,
quantisation). fp32 tolerance: relative 1e-5 (sums are reordered).

Needs build/bin/sparse-run (or $SPARSE_RUN)."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from sparsenn import functional as ref  # noqa: E402
from sparsenn.mlirgen import const, seed000_cnn, sparse_weights, ttype  # noqa: E402
from harness import SPARSE_OPT, SPARSE_RUN, run  # noqa: E402
from harness import opt as sparse_opt  # noqa: E402


pytestmark = pytest.mark.skipif(not os.path.exists(SPARSE_RUN),
                                reason="sparse-run not built")
RTOL = 1e-5


def assert_close(got, want, rtol=RTOL):
    want = np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.abs(want).max()))
    err = float(np.abs(got.astype(np.float64) - want).max()) / scale
    assert err <= rtol, f"max relative error {err:.3g} > {rtol}"


@pytest.mark.parametrize("batch", [1, 64])
def test_linear(batch):
    rng = np.random.default_rng(batch)
    w = sparse_weights(rng, (48, 80), 0.1)
    b = rng.normal(size=48).astype(np.float32)
    x = rng.normal(size=(batch, 80)).astype(np.float32)
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, 48))} {{
{const('w', w)}{const('b', b)}  %y = sparsenn.linear %x, %w, %b {{sparsity = #sparsenn.sparsity<density = 0.1, fan_in = 8>}} : {ttype(x.shape)}, {ttype(w.shape)}, {ttype(b.shape)} -> {ttype((batch, 48))}
  return %y : {ttype((batch, 48))}
}}"""
    (y,) = run(module, [x])
    assert_close(y, x.astype(np.float64) @ w.T.astype(np.float64) + b)


def test_linear_rank3_no_bias():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(5, 7)).astype(np.float32)
    x = rng.normal(size=(2, 3, 7)).astype(np.float32)
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((2, 3, 5))} {{
{const('w', w)}  %y = sparsenn.linear %x, %w : {ttype(x.shape)}, {ttype(w.shape)} -> {ttype((2, 3, 5))}
  return %y : {ttype((2, 3, 5))}
}}"""
    (y,) = run(module, [x])
    assert_close(y, x.astype(np.float64) @ w.T.astype(np.float64))


CONV_CASES = [
    # N, Cin, H, W, Cout, k, stride, padding [t, b, l, r], dilation, groups
    (1, 3, 9, 9, 4, 3, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (2, 4, 10, 8, 6, 3, (2, 1), (1, 1, 2, 0), (1, 1), 2),
    (1, 6, 8, 8, 6, 3, (1, 1), (1, 1, 1, 1), (2, 2), 6),  # depthwise
    (3, 2, 7, 7, 5, 5, (1, 2), (2, 2, 2, 2), (1, 1), 1),
]


@pytest.mark.parametrize("weights_as_argument", [False, True])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d(case, weights_as_argument):
    """Constant weights take the runtime kernel the selection picks (sparse
    taps here); weights passed as an argument take the linalg lowering."""
    n, cin, h, w_, cout, k, stride, pad, dil, groups = case
    rng = np.random.default_rng(sum(case[:6]))
    x = rng.normal(size=(n, cin, h, w_)).astype(np.float32)
    w = sparse_weights(rng, (cout, cin // groups, k, k), 0.5)
    b = rng.normal(size=cout).astype(np.float32)
    xt = F.pad(torch.from_numpy(x).double(), (pad[2], pad[3], pad[0], pad[1]))
    want = F.conv2d(xt, torch.from_numpy(w).double(), torch.from_numpy(b).double(),
                    stride=stride, dilation=dil, groups=groups).numpy()
    out = want.shape
    wdecl = "" if weights_as_argument else const('w', w)
    wargs = f", %w: {ttype(w.shape)}" if weights_as_argument else ""
    module = f"""func.func @main(%x: {ttype(x.shape)}{wargs}) -> {ttype(out)} {{
{wdecl}{const('b', b)}  %y = sparsenn.conv2d %x, %w, %b {{strides = array<i64: {stride[0]}, {stride[1]}>, padding = array<i64: {', '.join(map(str, pad))}>, dilations = array<i64: {dil[0]}, {dil[1]}>, groups = {groups}}} : {ttype(x.shape)}, {ttype(w.shape)}, {ttype(b.shape)} -> {ttype(out)}
  return %y : {ttype(out)}
}}"""
    (y,) = run(module, [x, w] if weights_as_argument else [x])
    assert_close(y, want)


KW_CASES = [
    # shape, mode, k, group_size, boost, break_ties, relu
    ((3, 64), "global", 8, None, 0.0, True, False),
    ((3, 64), "global", 8, None, 2.0, True, False),
    ((3, 64), "group", 3, 16, 1.0, False, True),
    ((2, 8, 4, 4), "global", 20, None, 1.5, True, False),
    ((2, 8, 4, 4), "local", 2, None, 1.0, True, True),
    ((2, 8, 4, 4), "channel", 5, None, 0.5, False, False),
]


@pytest.mark.parametrize("case", KW_CASES)
def test_kwinners(case):
    shape, mode, k, group, boost, ties, relu = case
    rng = np.random.default_rng(len(shape) * 10 + k)
    # Values on a coarse grid so that ties occur.
    x = (np.round(rng.normal(size=shape) * 4) / 4).astype(np.float32)
    duty = rng.uniform(0, 0.3, size=shape[1]).astype(np.float32)
    attrs = f"k = {k}"
    if group:
        attrs += f" group_size = {group}"
    duty_op = ""
    types = ttype(shape)
    if boost:
        attrs += f" boost = {boost}"
        duty_op = " duty_cycle %d"
        types += ", " + ttype(duty.shape)
    if ties:
        attrs += " break_ties"
    if relu:
        attrs += " relu"
    args = f"%x: {ttype(shape)}" + (f", %d: {ttype(duty.shape)}" if boost else "")
    module = f"""func.func @main({args}) -> {ttype(shape)} {{
  %y = sparsenn.kwinners <{mode}> %x{duty_op} {attrs} : {types} -> {ttype(shape)}
  return %y : {ttype(shape)}
}}"""
    (y,) = run(module, [x, duty] if boost else [x])
    want = ref.kwinners(torch.from_numpy(x), k, mode=mode, group_size=group,
                        duty_cycles=torch.from_numpy(duty) if boost else None,
                        boost_strength=boost, break_ties=ties, relu=relu).numpy()
    np.testing.assert_array_equal(y, want)


def test_elementwise_ops():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 8)).astype(np.float32)
    m = rng.random((4, 8)) < 0.5
    s = (np.abs(x).max(axis=1) / 127).astype(np.float32)
    module = f"""func.func @main(%x: {ttype(x.shape)}, %m: {ttype(m.shape, 'i1')}, %s: {ttype(s.shape)})
    -> ({ttype(x.shape)}, {ttype(x.shape)}, {ttype(x.shape, 'i8')}, {ttype(x.shape)}) {{
  %t = sparsenn.threshold %x above 0.25 : {ttype(x.shape)}
  %a = sparsenn.apply_mask %x, %m : {ttype(x.shape)}, {ttype(m.shape, 'i1')}
  %q = sparsenn.quantize %x, %s : {ttype(x.shape)}, {ttype(s.shape)} -> {ttype(x.shape, 'i8')}
  %d = sparsenn.dequantize %q, %s : {ttype(x.shape, 'i8')}, {ttype(s.shape)} -> {ttype(x.shape)}
  return %t, %a, %q, %d : {ttype(x.shape)}, {ttype(x.shape)}, {ttype(x.shape, 'i8')}, {ttype(x.shape)}
}}"""
    t, a, q, d = run(module, [x, m, s])
    xt = torch.from_numpy(x)
    np.testing.assert_array_equal(t, ref.threshold(xt, 0.25).numpy())
    np.testing.assert_array_equal(a, np.where(m, x, 0))
    want_q = ref.quantize(xt, torch.from_numpy(s), bits=8).numpy()
    np.testing.assert_array_equal(q, want_q)
    assert_close(d, want_q.astype(np.float64) * s[:, None])


@pytest.mark.parametrize("shape", [(8, 16), (4, 6, 3, 3)])
def test_duty_cycle_update(shape):
    rng = np.random.default_rng(len(shape))
    y = np.where(rng.random(shape) < 0.3, rng.normal(size=shape), 0).astype(np.float32)
    d = rng.uniform(0, 0.5, size=shape[1]).astype(np.float32)
    seen = np.array(37, dtype=np.int64)
    ct, yt = ttype(d.shape), ttype(shape)
    module = f"""func.func @main(%d: {ct}, %y: {yt}, %n: tensor<i64>) -> ({ct}, {ct}, tensor<i64>) {{
  %a = sparsenn.duty_cycle_update %d, %y alpha = 0.125 : {ct}, {yt} -> {ct}
  %p, %n2 = sparsenn.duty_cycle_update %d, %y seen %n period = 40 : {ct}, {yt}, tensor<i64> -> {ct}, tensor<i64>
  return %a, %p, %n2 : {ct}, {ct}, tensor<i64>
}}"""
    a, p, n2 = run(module, [d, y, seen])
    dt, ytt = torch.from_numpy(d), torch.from_numpy(y)
    assert_close(a, ref.duty_cycle_update(dt, ytt, alpha=0.125).numpy())
    want_p, want_n = ref.duty_cycle_update(dt, ytt, period=40, seen=37)
    assert_close(p, want_p.numpy())
    assert int(n2) == int(want_n) == 37 + shape[0]


# --- whole networks ---------------------------------------------------------

@pytest.mark.parametrize("batch", [1, 64])
def test_seed000_sparse_cnn(batch):
    rng = np.random.default_rng(1000 + batch)
    module, x, reference = seed000_cnn(rng, batch)
    (y,) = run(module, [x])
    assert_close(y, reference())


@pytest.mark.parametrize("batch", [1, 64])
def test_sparse_mlp_with_kwinners(batch):
    rng = np.random.default_rng(2000 + batch)
    w1 = sparse_weights(rng, (256, 784), 0.1)
    w2 = sparse_weights(rng, (10, 256), 0.5)
    b1 = rng.normal(size=256).astype(np.float32)
    x = rng.normal(size=(batch, 784)).astype(np.float32)
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, 10))} {{
{const('w1', w1)}{const('b1', b1)}{const('w2', w2)}  %h = sparsenn.linear %x, %w1, %b1 : {ttype(x.shape)}, {ttype(w1.shape)}, {ttype(b1.shape)} -> {ttype((batch, 256))}
  %k = sparsenn.kwinners <global> %h k = 26 break_ties relu : {ttype((batch, 256))} -> {ttype((batch, 256))}
  %y = sparsenn.linear %k, %w2 : {ttype((batch, 256))}, {ttype(w2.shape)} -> {ttype((batch, 10))}
  return %y : {ttype((batch, 10))}
}}"""
    (y,) = run(module, [x])
    t = lambda a: torch.from_numpy(a).double()  # noqa: E731
    h = ref.kwinners(t(x) @ t(w1).T + t(b1), 26, mode="global", relu=True, break_ties=True)
    assert_close(y, (h @ t(w2).T).numpy())


@pytest.mark.parametrize("kernel", ["dense", "ell", "block16", "sparse_sparse"])
@pytest.mark.parametrize("batch", [1, 5])
def test_linear_runtime_kernels(kernel, batch):
    """Every kernel format the selection pass can pick, forced through the
    layer's `kernel` attribute, on 1x16-block-sparse weights with a
    remainder block (in = 84) and sparse inputs."""
    rng = np.random.default_rng(batch * 7 + len(kernel))
    w = rng.normal(size=(37, 84)).astype(np.float32)
    blocks = rng.random((37, 6)) < 0.3
    w *= np.repeat(blocks, 16, axis=1)[:, :84]
    w[rng.random(w.shape) < 0.2] = 0.0
    b = rng.normal(size=37).astype(np.float32)
    x = np.where(rng.random((batch, 84)) < 0.15, rng.normal(size=(batch, 84)), 0).astype(np.float32)
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, 37))} {{
{const('w', w)}{const('b', b)}  %y = sparsenn.linear %x, %w, %b {{kernel = #sparsenn.kernel<{kernel}>}} : {ttype(x.shape)}, {ttype(w.shape)}, {ttype(b.shape)} -> {ttype((batch, 37))}
  return %y : {ttype((batch, 37))}
}}"""
    (y,) = run(module, [x])
    assert_close(y, x.astype(np.float64) @ w.T.astype(np.float64) + b)


@pytest.mark.skipif(not os.path.exists(SPARSE_OPT), reason="sparse-opt not built")
@pytest.mark.parametrize("batch", [1, 7, 64])
@pytest.mark.parametrize("bits,interleave", [(8, False), (8, True), (16, False)])
@pytest.mark.parametrize("path", ["fused", "decoded", "auto"])
def test_linear_compressed_weights(path, bits, interleave, batch):
    """A linear layer compressed by --sparsenn-compress-weights (per-row
    quantisation + SPGC8), then compiled and run: on the stream by the fused
    kernel (`kernel = spgc8`), decoded at load into a packed format (forced
    block16), or as sparsenn-select-kernels chooses (fused for D = 8 from
    batch 32). Reference: numpy on the dequantised weights q * scale (the
    package's quantiser)."""
    rng = np.random.default_rng(batch * 31 + bits + interleave)
    out, n_in = 37, 84  # a partial last group of 4 columns
    w = rng.normal(size=(out, n_in)).astype(np.float32)
    groups = rng.random((out, 6)) < 0.3  # SPGC8-aligned: whole 1x16 groups
    w *= np.repeat(groups, 16, axis=1)[:, :n_in]
    w[3] = 0.0  # an all-zero row (scale 0)
    b = rng.normal(size=out).astype(np.float32)
    x = rng.normal(size=(batch, n_in)).astype(np.float32)
    attr = " {kernel = #sparsenn.kernel<spgc8>}" if path == "fused" else ""
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, out))} {{
{const('w', w)}{const('b', b)}  %y = sparsenn.linear %x, %w, %b{attr} : {ttype(x.shape)}, {ttype(w.shape)}, {ttype(b.shape)} -> {ttype((batch, out))}
  return %y : {ttype((batch, out))}
}}"""
    compress = f"--sparsenn-compress-weights=bits={bits} interleave={int(interleave)}"
    select = "--sparsenn-select-kernels"
    if path == "decoded":
        select += "=force=block16"
    compressed = sparse_opt(module, compress, select)
    fused = path == "fused" or (path == "auto" and batch >= 32 and bits == 8)
    lowered = sparse_opt(compressed, "--convert-sparsenn-to-linalg")
    assert ("sparsenn_rt_linear_spgc8_f32" in lowered) == fused
    assert ("sparsenn_rt_linear_f32" in lowered) == (not fused)
    (y,) = run(compressed, [x])
    wt = torch.from_numpy(w)
    scales = ref.quantize_scales(wt, bits)
    wq = ref.dequantize(ref.quantize(wt, scales, bits), scales).numpy()
    assert_close(y, x.astype(np.float64) @ wq.T.astype(np.float64) + b)
