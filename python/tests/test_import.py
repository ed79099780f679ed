"""`sparsenn-import` and the `sparsenn-sparsify` pipelines on model IR in the
forms other compilers emit, checked numerically:

* TOSA (NHWC, OHWI / HWCM weights, zero points as operands, clamp as relu,
  reshape + matmul classifier) — the form TOSA front ends such as
  TFLite-to-TOSA emit for MLIR 22's TOSA dialect;
* the linalg that MLIR 22's own `tosa-to-linalg-named` / `tosa-to-linalg`
  conversions produce from that TOSA (run here through sparse-opt, which
  links upstream's conversion code);
* linalg in torch-mlir's linalg-on-tensors form (weights transposed by a
  linalg.generic, zero-filled linalg.matmul, bias added by a broadcasting
  generic, relu as cmpf ugt + select, NCHW convs behind a zero tensor.pad).

Each is run before and after the pass with sparse-run and compared with an
independent PyTorch reference (fp32, relative 1e-5; the rewrites themselves
are exact, so imported vs original is held to 1e-6). Pruned networks are
compared with and without channel propagation (1e-6: propagation never
changes the outputs).

Needs build/bin/sparse-opt and sparse-run (or $SPARSE_OPT / $SPARSE_RUN)."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from sparsenn.mlirgen import ttype  # noqa: E402
import harness  # noqa: E402
from harness import TOOLS_BUILT, opt  # noqa: E402

pytestmark = pytest.mark.skipif(not TOOLS_BUILT, reason="sparse-opt / sparse-run not built")

TOSA_TO_LINALG = ("--pass-pipeline=builtin.module(func.func(tosa-to-linalg-named,"
                  "tosa-to-linalg),tosa-to-arith,tosa-to-tensor,canonicalize)")


def run(module, inputs, entry):
    return harness.run(module, inputs, entry)[0]


def rel_err(got, want):
    want = np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.abs(want).max()))
    return float(np.abs(got.astype(np.float64) - want).max()) / scale


def hexdense(array):
    array = np.ascontiguousarray(array, dtype=np.float32)
    return f'dense<"0x{array.astype("<f4").tobytes().hex().upper()}"> : {ttype(array.shape)}'


def tosa_const(name, array):
    return f'  %{name} = "tosa.const"() {{values = {hexdense(array)}}} : () -> {ttype(array.shape)}\n'


def arith_const(name, array):
    return f"  %{name} = arith.constant {hexdense(array)}\n"


# ---------------------------------------------------------------------------
# TOSA CNN
# ---------------------------------------------------------------------------

def tosa_cnn(rng, n=2):
    """conv 3->8 (3x3, pad 1) -> relu -> max-pool 2x2 -> depthwise (M = 2,
    padding top/left 1, stride 2) -> relu -> conv 16->6 (1x1) -> flatten ->
    matmul 10."""
    w1 = rng.normal(size=(8, 3, 3, 3)).astype(np.float32) * 0.3   # OHWI
    b1 = rng.normal(size=8).astype(np.float32) * 0.1
    wd = rng.normal(size=(3, 3, 8, 2)).astype(np.float32) * 0.3   # HWCM
    bd = rng.normal(size=16).astype(np.float32) * 0.1
    w2 = rng.normal(size=(6, 1, 1, 16)).astype(np.float32) * 0.3  # OHWI
    b2 = np.zeros(6, np.float32)
    wm = rng.normal(size=(1, 24, 10)).astype(np.float32) * 0.2
    f32 = "f32"
    zp = "%zp, %zp"
    t = lambda *s: ttype(s, f32)  # noqa: E731
    body = (tosa_const("w1", w1) + tosa_const("b1", b1) + tosa_const("wd", wd)
            + tosa_const("bd", bd) + tosa_const("w2", w2) + tosa_const("b2", b2)
            + tosa_const("wm", wm)
            + '  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>\n')
    conv_attrs = "acc_type = f32, stride = array<i64: {s}, {s}>, dilation = array<i64: 1, 1>, pad = array<i64: {p}>"
    relu = "{min_val = 0.0 : f32, max_val = 3.4028235e38 : f32}"
    module = f"""func.func @cnn(%x: {t(n, 8, 8, 3)}) -> {t(n, 10)} {{
{body}  %c1 = tosa.conv2d %x, %w1, %b1, {zp} {{{conv_attrs.format(s=1, p='1, 1, 1, 1')}}} : ({t(n, 8, 8, 3)}, {t(8, 3, 3, 3)}, {t(8)}, tensor<1xf32>, tensor<1xf32>) -> {t(n, 8, 8, 8)}
  %r1 = tosa.clamp %c1 {relu} : ({t(n, 8, 8, 8)}) -> {t(n, 8, 8, 8)}
  %p1 = tosa.max_pool2d %r1 {{kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>}} : ({t(n, 8, 8, 8)}) -> {t(n, 4, 4, 8)}
  %d = tosa.depthwise_conv2d %p1, %wd, %bd, {zp} {{{conv_attrs.format(s=2, p='1, 0, 1, 0')}}} : ({t(n, 4, 4, 8)}, {t(3, 3, 8, 2)}, {t(16)}, tensor<1xf32>, tensor<1xf32>) -> {t(n, 2, 2, 16)}
  %r2 = tosa.clamp %d {relu} : ({t(n, 2, 2, 16)}) -> {t(n, 2, 2, 16)}
  %c2 = tosa.conv2d %r2, %w2, %b2, {zp} {{{conv_attrs.format(s=1, p='0, 0, 0, 0')}}} : ({t(n, 2, 2, 16)}, {t(6, 1, 1, 16)}, {t(6)}, tensor<1xf32>, tensor<1xf32>) -> {t(n, 2, 2, 6)}
  %s1 = tosa.const_shape {{values = dense<[1, {n}, 24]> : tensor<3xindex>}} : () -> !tosa.shape<3>
  %f = tosa.reshape %c2, %s1 : ({t(n, 2, 2, 6)}, !tosa.shape<3>) -> {t(1, n, 24)}
  %m = tosa.matmul %f, %wm, {zp} : ({t(1, n, 24)}, {t(1, 24, 10)}, tensor<1xf32>, tensor<1xf32>) -> {t(1, n, 10)}
  %s2 = tosa.const_shape {{values = dense<[{n}, 10]> : tensor<2xindex>}} : () -> !tosa.shape<2>
  %o = tosa.reshape %m, %s2 : ({t(1, n, 10)}, !tosa.shape<2>) -> {t(n, 10)}
  return %o : {t(n, 10)}
}}
"""

    def reference(x):
        tt = lambda a: torch.from_numpy(a).double()  # noqa: E731
        h = tt(x).permute(0, 3, 1, 2)
        h = F.relu(F.conv2d(h, tt(w1).permute(0, 3, 1, 2), tt(b1), padding=1))
        h = F.max_pool2d(h, 2)
        wdw = tt(wd).permute(2, 3, 0, 1).reshape(16, 1, 3, 3)
        h = F.relu(F.conv2d(F.pad(h, (1, 0, 1, 0)), wdw, tt(bd), stride=2, groups=8))
        h = F.conv2d(h, tt(w2).permute(0, 3, 1, 2), tt(b2))
        h = h.permute(0, 2, 3, 1).reshape(n, 24)
        return (h @ tt(wm[0])).numpy()

    return module, reference


def test_tosa_cnn_import_matches_reference():
    rng = np.random.default_rng(0)
    module, reference = tosa_cnn(rng)
    x = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    want = reference(x)
    original = run(module, [x], "cnn")
    imported = opt(module, "--sparsenn-import")
    assert "tosa.conv2d" not in imported and "tosa.matmul" not in imported
    assert imported.count("sparsenn.conv2d") == 3
    assert imported.count("sparsenn.linear") == 1
    # NCHW inside: the only transpose left is the one of the input.
    assert imported.count("linalg.transpose") == 1, imported
    got = run(imported, [x], "cnn")
    assert rel_err(original, want) <= 1e-5
    assert rel_err(got, want) <= 1e-5
    assert rel_err(got, original) <= 1e-6


def test_upstream_linalg_from_tosa_import():
    """The linalg upstream's TOSA conversions emit (conv_2d_nhwc_fhwc with a
    broadcast bias init, depthwise_conv_2d_nhwc_hwcm + collapse + bias add,
    pooling_nhwc_max, batch_matmul) raises the same way."""
    rng = np.random.default_rng(1)
    module, reference = tosa_cnn(rng)
    x = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    linalg = opt(module, TOSA_TO_LINALG)
    assert "linalg.conv_2d_nhwc_fhwc" in linalg and "linalg.batch_matmul" in linalg
    imported = opt(linalg, "--sparsenn-import")
    assert imported.count("sparsenn.conv2d") == 3
    assert imported.count("sparsenn.linear") == 1
    assert "linalg.batch_matmul" not in imported
    assert "depthwise_conv" not in imported
    want = reference(x)
    assert rel_err(run(linalg, [x], "cnn"), want) <= 1e-5
    assert rel_err(run(imported, [x], "cnn"), want) <= 1e-5


@pytest.mark.parametrize("options", [
    "sparsity=0.6",
    "sparsity=0.5 granularity=output_filter",
    "layer-sparsity=0.3,-1,0.5,0.7",
])
def test_tosa_cnn_sparsify_propagation_is_exact(options):
    rng = np.random.default_rng(2)
    module, _ = tosa_cnn(rng)
    x = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    pruned = opt(module, f"--sparsenn-sparsify={options} propagate-channels=false")
    propagated = opt(module, f"--sparsenn-sparsify={options}")
    a = run(pruned, [x], "cnn")
    b = run(propagated, [x], "cnn")
    assert rel_err(b, a) <= 1e-6
    if "output_filter" in options:
        # Half the filters of each conv are zero: their channels go.
        shapes = re.findall(r"sparsenn.conv2d [^\n]*-> tensor<2x(\d+)x", propagated)
        assert [int(s) for s in shapes] != [8, 16, 6], shapes


def test_tosa_cnn_sparsify_compressed_runs():
    rng = np.random.default_rng(3)
    module, _ = tosa_cnn(rng)
    x = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    plain = run(opt(module, "--sparsenn-sparsify=sparsity=0.5"), [x], "cnn")
    compressed_ir = opt(module, "--sparsenn-sparsify=sparsity=0.5 compress=true bits=16")
    assert "sparsenn.compressed_constant" in compressed_ir
    compressed = run(compressed_ir, [x], "cnn")
    # 16-bit symmetric quantisation of the weights: small, bounded error.
    assert rel_err(compressed, plain) <= 1e-3


# ---------------------------------------------------------------------------
# torch-mlir-style linalg
# ---------------------------------------------------------------------------

def torch_mlir_linear(name, x, xshape, w, b):
    """Linear in torch-mlir's linalg-on-tensors form."""
    out, inp = w.shape
    batch = xshape[0]
    return (arith_const(f"{name}_w", w) + arith_const(f"{name}_b", b) + f"""  %{name}_te = tensor.empty() : {ttype((inp, out))}
  %{name}_wt = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%{name}_w : {ttype(w.shape)}) outs(%{name}_te : {ttype((inp, out))}) {{
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }} -> {ttype((inp, out))}
  %{name}_e = tensor.empty() : {ttype((batch, out))}
  %{name}_z = linalg.fill ins(%zero : f32) outs(%{name}_e : {ttype((batch, out))}) -> {ttype((batch, out))}
  %{name}_mm = linalg.matmul ins(%{x}, %{name}_wt : {ttype(xshape)}, {ttype((inp, out))}) outs(%{name}_z : {ttype((batch, out))}) -> {ttype((batch, out))}
  %{name} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%{name}_mm, %{name}_b : {ttype((batch, out))}, {ttype((out,))}) outs(%{name}_e : {ttype((batch, out))}) {{
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  }} -> {ttype((batch, out))}
""", (batch, out))


def torch_mlir_relu(name, x, shape):
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    m = f"affine_map<({dims}) -> ({dims})>"
    par = ", ".join(['"parallel"'] * rank)
    return f"""  %{name}_e = tensor.empty() : {ttype(shape)}
  %{name} = linalg.generic {{indexing_maps = [{m}, {m}], iterator_types = [{par}]}} ins(%{x} : {ttype(shape)}) outs(%{name}_e : {ttype(shape)}) {{
  ^bb0(%a: f32, %o: f32):
    %cmp = arith.cmpf ugt, %a, %zero : f32
    %sel = arith.select %cmp, %a, %zero : f32
    linalg.yield %sel : f32
  }} -> {ttype(shape)}
"""


def test_torch_mlir_mlp_import():
    rng = np.random.default_rng(4)
    batch = 3
    w1 = rng.normal(size=(32, 20)).astype(np.float32) * 0.3
    b1 = rng.normal(size=32).astype(np.float32) * 0.1
    w2 = rng.normal(size=(5, 32)).astype(np.float32) * 0.3
    b2 = rng.normal(size=5).astype(np.float32) * 0.1
    l1, s1 = torch_mlir_linear("l1", "x", (batch, 20), w1, b1)
    l2, s2 = torch_mlir_linear("l2", "r1", s1, w2, b2)
    module = f"""func.func @mlp(%x: {ttype((batch, 20))}) -> {ttype(s2)} {{
  %zero = arith.constant 0.0 : f32
{l1}{torch_mlir_relu("r1", "l1", s1)}{l2}  return %l2 : {ttype(s2)}
}}
"""
    x = rng.normal(size=(batch, 20)).astype(np.float32)
    tt = lambda a: torch.from_numpy(a).double()  # noqa: E731
    want = F.linear(F.relu(F.linear(tt(x), tt(w1), tt(b1))), tt(w2), tt(b2)).numpy()
    imported = opt(module, "--sparsenn-import")
    assert imported.count("sparsenn.linear") == 2
    assert "linalg.matmul" not in imported and "arith.select" not in imported
    assert rel_err(run(module, [x], "mlp"), want) <= 1e-5
    assert rel_err(run(imported, [x], "mlp"), want) <= 1e-5
    # Pruning 80 % of the first layer's weights: the rows of the hidden units
    # that lose every weight go with their relu and the second layer's
    # columns; the outputs do not change.
    a = run(opt(module, "--sparsenn-sparsify=layer-sparsity=0.97,-1 propagate-channels=false"), [x], "mlp")
    b_ir = opt(module, "--sparsenn-sparsify=layer-sparsity=0.97,-1")
    assert rel_err(run(b_ir, [x], "mlp"), a) <= 1e-6


def test_torch_mlir_residual_block_import():
    """conv (zero tensor.pad, bias broadcast into the init) -> relu -> conv ->
    + identity -> relu, NCHW, as torch-mlir lowers a ResNet basic block."""
    rng = np.random.default_rng(5)
    n, c, h = 2, 8, 6
    w1 = rng.normal(size=(c, c, 3, 3)).astype(np.float32) * 0.2
    b1 = rng.normal(size=c).astype(np.float32) * 0.1
    w2 = rng.normal(size=(c, c, 3, 3)).astype(np.float32) * 0.2
    b2 = rng.normal(size=c).astype(np.float32) * 0.1
    s = (n, c, h, h)
    sp = (n, c, h + 2, h + 2)

    def conv(name, x, w, b):
        return (arith_const(f"{name}_w", w) + arith_const(f"{name}_b", b) + f"""  %{name}_p = tensor.pad %{x} low[0, 0, 1, 1] high[0, 0, 1, 1] {{
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  }} : {ttype(s)} to {ttype(sp)}
  %{name}_e = tensor.empty() : {ttype(s)}
  %{name}_i = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%{name}_b : {ttype((c,))}) outs(%{name}_e : {ttype(s)}) {{
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }} -> {ttype(s)}
  %{name} = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}} ins(%{name}_p, %{name}_w : {ttype(sp)}, {ttype(w.shape)}) outs(%{name}_i : {ttype(s)}) -> {ttype(s)}
""")

    module = f"""func.func @block(%x: {ttype(s)}) -> {ttype(s)} {{
  %zero = arith.constant 0.0 : f32
{conv("c1", "x", w1, b1)}{torch_mlir_relu("r1", "c1", s)}{conv("c2", "r1", w2, b2)}  %sum = arith.addf %c2, %x : {ttype(s)}
{torch_mlir_relu("out", "sum", s)}  return %out : {ttype(s)}
}}
"""
    x = rng.normal(size=s).astype(np.float32)
    tt = lambda a: torch.from_numpy(a).double()  # noqa: E731
    y = F.relu(F.conv2d(tt(x), tt(w1), tt(b1), padding=1))
    want = F.relu(F.conv2d(y, tt(w2), tt(b2), padding=1) + tt(x)).numpy()
    imported = opt(module, "--sparsenn-import")
    assert imported.count("sparsenn.conv2d") == 2
    assert "padding = array<i64: 1, 1, 1, 1>" in imported
    assert rel_err(run(imported, [x], "block"), want) <= 1e-5
    # Filter pruning of the inner conv: its zero filters' channels go from
    # conv 1, the relu and conv 2's input channels (not across the residual),
    # except those whose relu(bias) is positive (a constant that conv 2's
    # zero padding would not see: kept).
    opts = "layer-sparsity=0.5,-1 granularity=output_filter"
    a = run(opt(module, f"--sparsenn-sparsify={opts} propagate-channels=false"), [x], "block")
    b_ir = opt(module, f"--sparsenn-sparsify={opts}")
    assert re.search(r"sparsenn.conv2d [^\n]*-> tensor<2x[4-7]x6x6xf32>", b_ir), b_ir
    assert rel_err(run(b_ir, [x], "block"), a) <= 1e-6
