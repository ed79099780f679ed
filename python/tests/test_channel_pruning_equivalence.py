"""Equivalence harness for --sparsenn-propagate-channel-pruning (issue 5).

Generates networks as MLIR text with random constant weights (hex dense
attributes) in which some channels are removable (zero output filters, with a
zero or a non-zero bias, and zero input-coefficient channels), runs
``sparse-opt --sparsenn-propagate-channel-pruning`` and runs both versions on
the same random inputs. The outputs must agree to 1e-6 (relative to the
largest output magnitude) and the pass must actually remove parameters.

Networks: a plain CNN chain, conv -> flatten -> linear, a residual block, a
concat block, a depthwise convolution, an MLP, and random small graphs with
random channels zeroed (seed 003 [0176]-[0193]).

Two executors run every network:
  * ``sparse-run`` (docs/semantics.md §9): $SPARSE_RUN or build/bin/sparse-run;
    those tests skip, saying so, when the binary does not exist yet;
  * ``reference``: a small numpy interpreter of exactly the ops these
    networks use (the pass's output included), so the harness checks the
    pass even before sparse-run exists.
sparse-opt comes from $SPARSE_OPT or build/bin/sparse-opt (required).
"""

import os
import re
import subprocess
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPARSE_OPT = os.environ.get("SPARSE_OPT", os.path.join(ROOT, "build", "bin", "sparse-opt"))
SPARSE_RUN = os.environ.get("SPARSE_RUN", os.path.join(ROOT, "build", "bin", "sparse-run"))
PASS = "--sparsenn-propagate-channel-pruning"
RTOL = 1e-6


# ---------------------------------------------------------------------------
# MLIR text builder
# ---------------------------------------------------------------------------

def ttype(shape):
    return "tensor<" + "x".join(str(d) for d in shape) + "xf32>"


class Net:
    """Builds one func.func @forward with value-semantic tensors."""

    def __init__(self, name, input_shape, rng):
        self.name = name
        self.rng = rng
        self.lines = []
        self.count = 0
        self.input_shape = tuple(input_shape)
        self.shapes = {"%x": self.input_shape}

    def fresh(self, shape):
        self.count += 1
        v = f"%v{self.count}"
        self.shapes[v] = tuple(shape)
        return v

    def const(self, array):
        array = np.ascontiguousarray(array, dtype="<f4")
        v = self.fresh(array.shape)
        hexdata = array.tobytes().hex().upper()
        self.lines.append(f'{v} = arith.constant dense<"0x{hexdata}"> : {ttype(array.shape)}')
        return v

    # Weights with removable channels -------------------------------------
    def weights(self, shape, zero_out=(), zero_in=(), in_block=1):
        w = self.rng.uniform(-1, 1, size=shape).astype(np.float32)
        for o in zero_out:
            w[o] = 0
        for c in zero_in:
            w[:, c * in_block:(c + 1) * in_block] = 0
        return w

    def bias(self, n, zero_out=(), const_out=()):
        b = self.rng.uniform(-0.5, 0.5, size=n).astype(np.float32)
        for o in zero_out:
            b[o] = 0
        for o in const_out:  # a filter that is zero but a bias that is not
            b[o] = np.float32(self.rng.uniform(0.2, 1.0))
        return b

    # Layers and ops ------------------------------------------------------
    def conv(self, x, cout, k=1, pad=0, stride=1, groups=1, zero_out=(),
             const_out=(), zero_in=(), bias=True):
        n, cin, h, w = self.shapes[x]
        wt = self.weights((cout, cin // groups, k, k), tuple(zero_out) + tuple(const_out), zero_in)
        b = self.bias(cout, zero_out, const_out) if bias else None
        ho = (h + 2 * pad - k) // stride + 1
        wo = (w + 2 * pad - k) // stride + 1
        wv = self.const(wt)
        bv = self.const(b) if bias else None
        y = self.fresh((n, cout, ho, wo))
        attrs = []
        if stride != 1:
            attrs.append(f"strides = array<i64: {stride}, {stride}>")
        if pad:
            attrs.append(f"padding = array<i64: {pad}, {pad}, {pad}, {pad}>")
        if groups != 1:
            attrs.append(f"groups = {groups} : i64")
        attr = (" {" + ", ".join(attrs) + "}") if attrs else ""
        operands = f"{x}, {wv}" + (f", {bv}" if bias else "")
        types = f"{ttype(self.shapes[x])}, {ttype(wt.shape)}" + (f", {ttype(b.shape)}" if bias else "")
        self.lines.append(f"{y} = sparsenn.conv2d {operands}{attr} : {types} -> {ttype((n, cout, ho, wo))}")
        return y

    def linear(self, x, out, zero_out=(), const_out=(), zero_in=(), in_block=1, bias=True):
        shape = self.shapes[x]
        wt = self.weights((out, shape[-1]), tuple(zero_out) + tuple(const_out), zero_in, in_block)
        b = self.bias(out, zero_out, const_out) if bias else None
        wv = self.const(wt)
        bv = self.const(b) if bias else None
        y = self.fresh(shape[:-1] + (out,))
        operands = f"{x}, {wv}" + (f", {bv}" if bias else "")
        types = f"{ttype(shape)}, {ttype(wt.shape)}" + (f", {ttype(b.shape)}" if bias else "")
        self.lines.append(f"{y} = sparsenn.linear {operands} : {types} -> {ttype(self.shapes[y])}")
        return y

    def generic(self, inputs, body):
        """An element-wise linalg.generic over the shape of inputs[0]; an
        input of rank 1 is a per-channel constant broadcast along dim 1."""
        shape = self.shapes[inputs[0]]
        dims = ", ".join(f"d{i}" for i in range(len(shape)))
        ident = f"affine_map<({dims}) -> ({dims})>"
        chan = f"affine_map<({dims}) -> (d1)>"
        maps = [ident if len(self.shapes[v]) == len(shape) else chan for v in inputs]
        self.count += 1
        e = f"%e{self.count}"
        self.lines.append(f"{e} = tensor.empty() : {ttype(shape)}")
        y = self.fresh(shape)
        iters = ", ".join(['"parallel"'] * len(shape))
        ins = ", ".join(inputs)
        types = ", ".join(ttype(self.shapes[v]) for v in inputs)
        args = ", ".join(f"%a{i}: f32" for i in range(len(inputs)))
        self.lines.append(
            f"{y} = linalg.generic {{indexing_maps = [{', '.join(maps + [ident])}], "
            f"iterator_types = [{iters}]}} ins({ins} : {types}) outs({e} : {ttype(shape)}) {{")
        self.lines.append(f"^bb0({args}, %o: f32):")
        self.lines.extend("  " + line for line in body)
        self.lines.append(f"}} -> {ttype(shape)}")
        return y

    def binary(self, op, a, b):
        return self.generic([a, b], [f"%r = arith.{op} %a0, %a1 : f32",
                                     "linalg.yield %r : f32"])

    def relu(self, x):
        return self.generic([x], ["%z = arith.constant 0.000000e+00 : f32",
                                  "%r = arith.maximumf %a0, %z : f32",
                                  "linalg.yield %r : f32"])

    def affine(self, x):
        """Batch-norm-style per-channel scale and shift ([C] constants)."""
        c = self.shapes[x][1]
        s = self.const(self.rng.uniform(0.5, 1.5, size=c).astype(np.float32))
        t = self.const(self.rng.uniform(-0.5, 0.5, size=c).astype(np.float32))
        return self.generic([x, s, t], ["%m = arith.mulf %a0, %a1 : f32",
                                        "%r = arith.addf %m, %a2 : f32",
                                        "linalg.yield %r : f32"])

    def maxpool(self, x):
        n, c, h, w = self.shapes[x]
        self.count += 1
        ninf, win, e, f = (f"%ninf{self.count}", f"%win{self.count}",
                           f"%e{self.count}", f"%f{self.count}")
        out = (n, c, h // 2, w // 2)
        self.lines.append(f"{ninf} = arith.constant -3.40282347E+38 : f32")
        self.lines.append(f"{win} = tensor.empty() : tensor<2x2xf32>")
        self.lines.append(f"{e} = tensor.empty() : {ttype(out)}")
        self.lines.append(f"{f} = linalg.fill ins({ninf} : f32) outs({e} : {ttype(out)}) -> {ttype(out)}")
        y = self.fresh(out)
        self.lines.append(
            f"{y} = linalg.pooling_nchw_max {{dilations = dense<1> : vector<2xi64>, "
            f"strides = dense<2> : vector<2xi64>}} ins({x}, {win} : {ttype(self.shapes[x])}, "
            f"tensor<2x2xf32>) outs({f} : {ttype(out)}) -> {ttype(out)}")
        return y

    def kwinners(self, x, mode, k=None, density=None, relu=True, boost=None,
                 group_size=None):
        shape = self.shapes[x]
        parts = [f"sparsenn.kwinners <{mode}> {x}"]
        types = ttype(shape)
        if boost is not None:
            d = self.const(self.rng.uniform(0, 0.3, size=shape[1]).astype(np.float32))
            parts.append(f"duty_cycle {d}")
            types += f", {ttype((shape[1],))}"
        parts.append(f"k = {k}" if k is not None else f"density = {density}")
        if group_size is not None:
            parts.append(f"group_size = {group_size}")
        if boost is not None:
            parts.append(f"boost = {boost}")
        parts.append("break_ties")
        if relu:
            parts.append("relu")
        y = self.fresh(shape)
        self.lines.append(f"{y} = " + " ".join(parts) + f" : {types} -> {ttype(shape)}")
        return y

    def flatten(self, x):
        n, c, h, w = self.shapes[x]
        y = self.fresh((n, c * h * w))
        self.lines.append(f"{y} = tensor.collapse_shape {x} [[0], [1, 2, 3]] : "
                          f"{ttype(self.shapes[x])} into {ttype((n, c * h * w))}")
        return y

    def concat(self, a, b):
        sa, sb = self.shapes[a], self.shapes[b]
        out = (sa[0], sa[1] + sb[1]) + sa[2:]
        y = self.fresh(out)
        self.lines.append(f"{y} = tensor.concat dim(1) {a}, {b} : ({ttype(sa)}, {ttype(sb)}) -> {ttype(out)}")
        return y

    def text(self, result):
        body = "\n".join("    " + line for line in self.lines)
        rt = ttype(self.shapes[result])
        return (f"// {self.name}\nmodule {{\n  func.func @forward(%x: {ttype(self.input_shape)}) -> {rt} {{\n"
                f"{body}\n    return {result} : {rt}\n  }}\n}}\n")


# ---------------------------------------------------------------------------
# The networks of issue 5
# ---------------------------------------------------------------------------

def net_cnn_chain(rng):
    n = Net("plain CNN chain", (2, 3, 10, 10), rng)
    x = n.conv("%x", 8, k=3, zero_out=[1, 5], const_out=[3])
    x = n.maxpool(n.relu(x))                       # 8 x 4 x 4
    x = n.conv(x, 12, k=1, zero_in=[2, 6], zero_out=[0, 7], const_out=[4])
    x = n.relu(x)
    x = n.conv(x, 4, k=3, pad=0, zero_in=[9])
    return n, x


def net_conv_flatten_linear(rng):
    n = Net("conv -> flatten -> linear", (2, 1, 8, 8), rng)
    x = n.conv("%x", 6, k=3, zero_out=[2], const_out=[4])
    x = n.maxpool(n.relu(x))                       # 6 x 3 x 3
    x = n.flatten(x)
    x = n.linear(x, 10, zero_in=[0, 5], in_block=9)
    return n, x


def net_residual(rng):
    n = Net("residual block", (1, 4, 6, 6), rng)
    a = n.relu(n.conv("%x", 8, k=3, pad=1, zero_out=[2, 6], zero_in=[]))
    b = n.conv(a, 8, k=3, pad=1, zero_in=[2, 6], zero_out=[2, 6])
    s = n.relu(n.binary("addf", a, b))
    y = n.conv(s, 4, k=1, zero_in=[2, 6, 7])
    return n, y


def net_concat(rng):
    n = Net("concat block", (1, 3, 5, 5), rng)
    a = n.relu(n.conv("%x", 4, k=1, zero_out=[1]))
    b = n.relu(n.conv("%x", 5, k=3, pad=1, const_out=[0]))
    c = n.concat(a, b)                             # 9 channels
    y = n.conv(c, 3, k=1, zero_in=[2, 8])
    return n, y


def net_depthwise(rng):
    n = Net("depthwise conv", (1, 2, 6, 6), rng)
    x = n.relu(n.conv("%x", 6, k=1, zero_out=[3]))
    x = n.conv(x, 6, k=3, pad=1, groups=6)
    x = n.affine(n.relu(x))
    y = n.conv(x, 4, k=1, zero_in=[1, 4])
    return n, y


def net_kwinners_group(rng):
    """k-winners <group> over groups of 2 channels: channel j of each group
    is tied to channel j of the other."""
    n = Net("k-winners group", (1, 2, 4, 4), rng)
    # Filters 1 and 3 (position 1 of both groups of 2) zero, zero bias.
    x = n.conv("%x", 4, k=1, zero_out=[1, 3])
    x = n.kwinners(x, "group", k=5, group_size=32)
    y = n.linear(n.flatten(x), 3)
    return n, y


def net_grouped(rng):
    """A grouped (not depthwise) convolution: channel j of each group is tied
    to channel j of the others."""
    n = Net("grouped conv", (1, 4, 6, 6), rng)
    x = n.relu(n.conv("%x", 8, k=1, zero_out=[1, 5], const_out=[2]))
    # Groups of 4 input channels: column 3 unused in both groups (channels 3
    # and 7); filters 2 and 5 (local 2 of each group of 3) zero.
    x = n.relu(n.conv(x, 6, k=3, pad=1, groups=2, zero_out=[2, 5], zero_in=[3]))
    y = n.conv(x, 4, k=1, zero_in=[0])
    return n, y


def net_mlp(rng):
    n = Net("MLP", (3, 16), rng)
    x = n.relu(n.linear("%x", 32, zero_out=[0, 9], const_out=[5, 20]))
    x = n.relu(n.linear(x, 24, zero_in=[3, 30], zero_out=[7]))
    x = n.kwinners(x, "global", k=6)
    y = n.linear(x, 10, zero_in=[11])
    return n, y


def fixed_fan_in(rng, shape, fan_in):
    """Weights with exactly `fan_in` non-zeros per output unit (seed 000
    [0041]-[0044]), as examples/make_sparse_cnn.py makes them."""
    per_unit = int(np.prod(shape[1:]))
    w = rng.uniform(-1, 1, size=(shape[0], per_unit)).astype(np.float32)
    w *= np.float32(np.sqrt(6.0 / fan_in))
    mask = np.zeros_like(w, dtype=bool)
    for u in range(shape[0]):
        mask[u, rng.choice(per_unit, size=fan_in, replace=False)] = True
    return (w * mask).reshape(shape)


def net_seed000_cnn(rng, zero_frac=0.25):
    """Seed 000's sparse CNN in the shape of examples/make_sparse_cnn.py
    (conv 8@5x5 -> max-pool -> k-winners -> conv 16@5x5, fan-in 40 -> max-pool
    -> k-winners -> linear 256->64, fan-in 26 -> k-winners -> linear 64->10),
    in its inference form: k-winners with relu and constant duty cycles.
    `zero_frac` of the filters of both convolutions are zeroed."""
    n = Net("seed 000 sparse CNN", (1, 1, 28, 28), rng)
    weights = iter([
        fixed_fan_in(rng, (8, 1, 5, 5), 25), fixed_fan_in(rng, (16, 8, 5, 5), 40),
        fixed_fan_in(rng, (64, 256), 26), fixed_fan_in(rng, (10, 64), 64)])
    n.weights = lambda shape, zero_out=(), zero_in=(), in_block=1: (
        _zeroed(next(weights), zero_out, zero_in, in_block))
    z1 = sorted(rng.choice(8, int(8 * zero_frac), replace=False))
    x = n.conv("%x", 8, k=5, zero_out=z1)
    x = n.kwinners(n.maxpool(x), "global", density=0.1, boost=1.5)
    z2 = sorted(rng.choice(16, int(16 * zero_frac), replace=False))
    x = n.conv(x, 16, k=5, zero_out=z2)
    x = n.kwinners(n.maxpool(x), "global", density=0.1, boost=1.5)
    x = n.linear(n.flatten(x), 64)
    x = n.kwinners(x, "global", k=8, boost=1.5)
    y = n.linear(x, 10)
    return n, y


def net_seed000_full(rng, zero_frac=0.0):
    """Seed 000's sparse CNN in its Table 1 shape (conv 64@5x5 -> max-pool ->
    k-winners -> conv 64@5x5 at 90 % weight sparsity -> max-pool -> k-winners
    -> linear 1024->1000 at 90 % -> k-winners -> linear 1000->10), inference
    form. Used for the report of docs/results.md (too big for the test's
    numpy interpreter to run often)."""
    n = Net("seed 000 sparse CNN, Table 1 shape", (1, 1, 28, 28), rng)
    weights = iter([
        fixed_fan_in(rng, (64, 1, 5, 5), 25), fixed_fan_in(rng, (64, 64, 5, 5), 160),
        fixed_fan_in(rng, (1000, 1024), 102), fixed_fan_in(rng, (10, 1000), 1000)])
    n.weights = lambda shape, zero_out=(), zero_in=(), in_block=1: (
        _zeroed(next(weights), zero_out, zero_in, in_block))
    z1 = sorted(rng.choice(64, int(64 * zero_frac), replace=False))
    x = n.conv("%x", 64, k=5, zero_out=z1)
    x = n.kwinners(n.maxpool(x), "global", density=0.1, boost=1.5)
    z2 = sorted(rng.choice(64, int(64 * zero_frac), replace=False))
    x = n.conv(x, 64, k=5, zero_out=z2)
    x = n.kwinners(n.maxpool(x), "global", density=0.1, boost=1.5)
    x = n.linear(n.flatten(x), 1000)
    x = n.kwinners(x, "global", k=100, boost=1.5)
    y = n.linear(x, 10)
    return n, y


def _zeroed(w, zero_out, zero_in, in_block):
    w = w.copy()
    for o in zero_out:
        w[o] = 0
    for c in zero_in:
        w[:, c * in_block:(c + 1) * in_block] = 0
    return w


def net_random(seed):
    rng = np.random.default_rng(1000 + seed)
    c = int(rng.integers(2, 5))
    n = Net(f"random graph {seed}", (1, c, 8, 8), rng)
    x = "%x"
    for _ in range(int(rng.integers(2, 6))):
        c = n.shapes[x][1]
        h = n.shapes[x][2]
        choice = rng.choice(["conv", "conv", "pool", "affine", "residual",
                             "concat", "depthwise", "kwinners", "grouped"])
        cout = int(rng.integers(2, 7))
        zo = sorted(rng.choice(cout, int(rng.integers(0, cout)), replace=False))
        split = int(rng.integers(0, len(zo) + 1))
        zero_out, const_out = zo[:split], zo[split:]
        zi = sorted(rng.choice(c, int(rng.integers(0, c)), replace=False))
        if choice == "conv":
            k, pad = (3, 1) if rng.random() < 0.5 else (1, 0)
            x = n.relu(n.conv(x, cout, k=k, pad=pad, zero_out=zero_out,
                              const_out=const_out, zero_in=zi))
        elif choice == "pool" and h >= 4:
            x = n.maxpool(x)
        elif choice == "affine":
            x = n.affine(x)
        elif choice == "residual":
            b = n.conv(x, c, k=1, zero_in=zi, zero_out=zi)
            x = n.relu(n.binary("addf", x, b))
        elif choice == "concat":
            a = n.relu(n.conv(x, cout, k=1, zero_out=zero_out, const_out=const_out, zero_in=zi))
            b = n.relu(n.conv(x, 2, k=1))
            x = n.concat(a, b)
        elif choice == "depthwise":
            x = n.relu(n.conv(x, c, k=3, pad=1, groups=c))
        elif choice == "grouped" and c % 2 == 0:
            co = 2 * int(rng.integers(1, 4))
            zo = sorted(rng.choice(co, int(rng.integers(0, co)), replace=False))
            zc = sorted(rng.choice(c // 2, int(rng.integers(0, c // 2)), replace=False))
            x = n.relu(n.conv(x, co, k=1, groups=2, zero_out=zo, zero_in=zc))
        elif choice == "kwinners":
            mode = rng.choice(["global", "local", "channel", "group"])
            # <group>: groups of one channel, or of half the channels.
            per = c // 2 if c % 2 == 0 and rng.random() < 0.5 else 1
            size = {"global": c * h * h, "local": c, "channel": h * h,
                    "group": per * h * h}[mode]
            x = n.kwinners(x, mode, k=max(1, size // 3),
                           boost=1.0 if mode == "channel" else None,
                           group_size=size if mode == "group" else None)
    c = n.shapes[x][1]
    zi = sorted(rng.choice(c, int(rng.integers(0, c)), replace=False))
    if rng.random() < 0.5:
        x = n.linear(n.flatten(x), 5, zero_in=zi, in_block=n.shapes[x][2] * n.shapes[x][3])
    else:
        x = n.conv(x, 3, k=1, zero_in=zi)
    return n, x


NETWORKS = {
    "cnn_chain": net_cnn_chain,
    "conv_flatten_linear": net_conv_flatten_linear,
    "residual": net_residual,
    "concat": net_concat,
    "depthwise": net_depthwise,
    "grouped": net_grouped,
    "kwinners_group": net_kwinners_group,
    "mlp": net_mlp,
    "seed000_cnn": net_seed000_cnn,
}
# Every named network has removable channels; random ones may not.
NUM_RANDOM = 24


# ---------------------------------------------------------------------------
# Reference interpreter (numpy) for the ops above
# ---------------------------------------------------------------------------

def parse_type(text):
    m = re.match(r"tensor<((?:\d+x)*)f32>", text.strip())
    dims = m.group(1)
    return tuple(int(d) for d in dims.split("x") if d)


def parse_dense(body, shape):
    body = body.strip()
    if body.startswith('"0x'):
        data = np.frombuffer(bytes.fromhex(body[3:-1]), dtype="<f4")
        return (np.full(shape, data[0], np.float32) if data.size == 1 and np.prod(shape) != 1
                else data.reshape(shape).astype(np.float32))
    values = np.array(eval(body.replace("inf", "float('inf')")), dtype=np.float32)  # noqa: S307
    return np.broadcast_to(values, shape).astype(np.float32).copy()


def conv2d(x, w, b, strides, padding, dilations, groups):
    n, cin, h, wd = x.shape
    cout, cpg, kh, kw = w.shape
    top, bottom, left, right = padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    sh, sw = strides
    dh, dw = dilations
    ho = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + left + right - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, cout, ho, wo), np.float64)
    opg = cout // groups
    for g in range(groups):
        xs = xp[:, g * cpg:(g + 1) * cpg].astype(np.float64)
        ws = w[g * opg:(g + 1) * opg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                           j * dw: j * dw + sw * (wo - 1) + 1: sw]
                y[:, g * opg:(g + 1) * opg] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def kwinners(x, mode, k, density, duty, boost, break_ties, relu, group_size=None):
    shape = x.shape
    c = shape[1]
    if mode == "global":
        n = int(np.prod(shape[1:]))
    elif mode == "group":
        n = group_size
    elif mode == "local":
        n = c
    else:
        n = int(np.prod(shape[2:]))
    if k is None:
        k = int(np.round(density * n))
    rank = x.astype(np.float64)
    if boost and duty is not None:
        d = duty.reshape((1, c) + (1,) * (len(shape) - 2)).astype(np.float64)
        rank = rank * np.exp(boost * (k / n - d))
    # Domains as rows.
    if mode == "global":
        rows, xr = rank.reshape(shape[0], -1), x.reshape(shape[0], -1)
        back = lambda m: m.reshape(shape)  # noqa: E731
    elif mode == "group":
        rows, xr = rank.reshape(-1, n), x.reshape(-1, n)
        back = lambda m: m.reshape(shape)  # noqa: E731
    elif mode == "local":
        perm = (0, 2, 3, 1)
        rows = rank.transpose(perm).reshape(-1, c)
        xr = x.transpose(perm).reshape(-1, c)
        back = lambda m: m.reshape(shape[0], shape[2], shape[3], c).transpose(0, 3, 1, 2)  # noqa: E731
    else:
        rows, xr = rank.reshape(shape[0] * c, -1), x.reshape(shape[0] * c, -1)
        back = lambda m: m.reshape(shape)  # noqa: E731
    mask = np.zeros(rows.shape, bool)
    for r in range(rows.shape[0]):
        order = sorted(range(rows.shape[1]), key=lambda i: (-rows[r, i], i))
        if break_ties:
            mask[r, order[:k]] = True
        else:
            mask[r] = rows[r] >= rows[r, order[k - 1]]
    if relu:
        mask &= xr > 0
    return np.where(back(mask), x, 0.0)


BODY_OPS = {"arith.maximumf": np.maximum, "arith.minimumf": np.minimum,
            "arith.addf": np.add, "arith.subf": np.subtract, "arith.mulf": np.multiply,
            "arith.divf": np.divide}


def map_results(text, aliases):
    text = aliases.get(text.strip(), text.strip())
    m = re.match(r"affine_map<\((.*?)\) -> \((.*?)\)>", text)
    dims = [d.strip() for d in m.group(1).split(",")]
    return [dims.index(r.strip()) for r in m.group(2).split(",") if r.strip()]


def run_generic(header, body, env, aliases):
    maps = re.findall(r"#\w+|affine_map<\([^)]*\) -> \([^)]*\)>",
                      header.split("iterator_types")[0])
    ins = re.findall(r"%[\w.]+", re.search(r"ins\(([^:]*)", header).group(1))
    out_shape = parse_type(re.search(r"outs\([^:]*: (tensor<[^>]*>)", header).group(1))
    rank = len(out_shape)
    benv = {}
    args = re.findall(r"(%[\w.]+): f32", body[0])
    for name, value, amap in zip(args, ins, maps):
        res = map_results(amap, aliases)
        arr = np.asarray(env[value])
        shape = [1] * rank
        for axis, r in enumerate(res):
            shape[r] = arr.shape[axis]
        benv[name] = arr.reshape(shape)
    for line in body[1:]:
        line = line.strip()
        if line.startswith("linalg.yield"):
            return np.broadcast_to(benv[re.findall(r"%[\w.]+", line)[0]], out_shape).copy()
        res, op, rest = re.match(r"(%[\w.]+) = ([\w.]+)\s*(.*)$", line).groups()
        if op == "arith.constant":
            benv[res] = float(rest.split(":")[0])
        else:
            benv[res] = BODY_OPS[op](*[benv[v] for v in re.findall(r"%[\w.]+", rest.split(":")[0])])
    raise ValueError("generic without yield")


def run_reference(text, inputs):
    env = {}
    aliases = dict(re.findall(r"^(#\w+) = (affine_map<.*>)$", text, re.M))
    lines = iter(text.splitlines())
    m = re.search(r"func\.func @forward\((.*?)\)\s*->", text, re.S)
    args = re.findall(r"(%[\w]+): (tensor<[^>]*>)", m.group(1))
    for (name, _), value in zip(args, inputs):
        env[name] = value.astype(np.float64)
    operands = lambda s: [env[t] for t in re.findall(r"%[\w.]+", s)]  # noqa: E731
    for raw in lines:
        line = raw.strip()
        if line.startswith("return"):
            names = re.findall(r"%[\w.]+", line.split(":")[0])
            return [env[v].astype(np.float32) for v in names]
        mm = re.match(r"(%[\w.]+) = ([\w.]+)\s*(.*)$", line)
        if not mm:
            continue
        res, op, rest = mm.groups()
        if op == "arith.constant":
            if "dense<" in rest:
                body, typ = re.match(r"dense<(.*)>\s*:\s*(tensor<.*>)$", rest).groups()
                env[res] = parse_dense(body, parse_type(typ)).astype(np.float64)
            else:
                env[res] = float(rest.split(":")[0])
        elif op in ("sparsenn.conv2d", "sparsenn.linear"):
            head = rest.split(":")[0].split("{")[0]
            ops = operands(head)
            x, w = ops[0], ops[1]
            b = ops[2] if len(ops) > 2 else None
            if op == "sparsenn.linear":
                env[res] = x @ w.T + (b if b is not None else 0.0)
            else:
                arr = lambda key, dflt: (tuple(int(v) for v in re.search(key + r" = array<i64: ([^>]*)>", rest)  # noqa: E731
                                              .group(1).split(",")) if re.search(key + " = array", rest) else dflt)
                g = re.search(r"groups = (\d+)", rest)
                env[res] = conv2d(x, w, b, arr("strides", (1, 1)), arr("padding", (0, 0, 0, 0)),
                                  arr("dilations", (1, 1)), int(g.group(1)) if g else 1)
        elif op == "linalg.generic":
            body = []
            for inner in lines:
                if inner.strip().startswith("} ->"):
                    break
                body.append(inner)
            env[res] = run_generic(rest, body, env, aliases)
        elif op.startswith("arith."):
            a, b = operands(rest.split(":")[0])
            fn = {"arith.maximumf": np.maximum, "arith.addf": np.add, "arith.mulf": np.multiply,
                  "arith.subf": np.subtract, "arith.minimumf": np.minimum}[op]
            env[res] = fn(a, b)
        elif op == "tensor.empty":
            env[res] = np.zeros(parse_type(rest.split(":")[-1]))
        elif op == "linalg.fill":
            val = operands(re.search(r"ins\(([^:]*)", rest).group(1))[0]
            shape = parse_type(rest.split("->")[-1])
            env[res] = np.full(shape, val)
        elif op == "linalg.pooling_nchw_max":
            s = re.search(r"strides = dense<(\d+)>", rest)
            stride = int(s.group(1)) if s else 1
            x, win = operands(re.search(r"ins\(([^:]*)", rest).group(1))
            init = operands(re.search(r"outs\(([^:]*)", rest).group(1))[0]
            kh, kw = win.shape
            out = init.copy()
            for i in range(kh):
                for j in range(kw):
                    out = np.maximum(out, x[:, :, i: i + stride * (out.shape[2] - 1) + 1: stride,
                                            j: j + stride * (out.shape[3] - 1) + 1: stride])
            env[res] = out
        elif op == "sparsenn.kwinners":
            mode = re.match(r"<(\w+)>", rest).group(1)
            x = operands(rest.split("duty_cycle")[0].split(" k =")[0].split(" density")[0])[0]
            duty = None
            if "duty_cycle" in rest:
                duty = env[re.search(r"duty_cycle (%[\w.]+)", rest).group(1)]
            k = re.search(r"\bk = (\d+)", rest)
            dens = re.search(r"density = ([0-9.e+-]+)", rest)
            boost = re.search(r"boost = ([0-9.e+-]+)", rest)
            gs = re.search(r"group_size = (\d+)", rest)
            env[res] = kwinners(x, mode, int(k.group(1)) if k else None,
                                float(dens.group(1)) if dens else None, duty,
                                float(boost.group(1)) if boost else 0.0,
                                "break_ties" in rest, " relu" in rest,
                                int(gs.group(1)) if gs else None)
        elif op == "tensor.collapse_shape":
            x = operands(rest.split("[")[0])[0]
            env[res] = x.reshape(parse_type(rest.split("into")[-1]))
        elif op == "tensor.concat":
            env[res] = np.concatenate(operands(rest.split(":")[0]), axis=1)
        else:
            raise NotImplementedError(f"reference interpreter: {op}")
    raise ValueError("no return")


# ---------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------

def run_pass(text, tmp):
    src = os.path.join(tmp, "before.mlir")
    dst = os.path.join(tmp, "after.mlir")
    with open(src, "w") as f:
        f.write(text)
    proc = subprocess.run([SPARSE_OPT, src, f"{PASS}=report=-", "-o", dst],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"total params (\d+) -> (\d+), MACs (\d+) -> (\d+)", proc.stdout)
    with open(dst) as f:
        return src, dst, f.read(), tuple(int(g) for g in m.groups())


def run_sparse_run(path, inputs, tmp, tag):
    out_dir = os.path.join(tmp, f"out_{tag}")
    os.makedirs(out_dir, exist_ok=True)
    cmd = [SPARSE_RUN, path, "--entry", "forward"]
    for i, a in enumerate(inputs):
        p = os.path.join(tmp, f"in{i}.npy")
        np.save(p, a)
        cmd += ["--input", p]
    cmd += ["--output-dir", out_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [np.load(os.path.join(out_dir, f"result{i}.npy"))
            for i in range(len([f for f in os.listdir(out_dir) if f.startswith("result")]))]


def assert_close(before, after):
    assert len(before) == len(after)
    for b, a in zip(before, after):
        assert b.shape == a.shape
        scale = max(float(np.max(np.abs(b))), 1e-30)
        err = float(np.max(np.abs(b.astype(np.float64) - a.astype(np.float64))))
        assert err <= RTOL * scale, f"max |diff| {err:g} > {RTOL:g} * {scale:g}"


def build(name):
    if name.startswith("random"):
        return net_random(int(name.split("_")[1]))
    return NETWORKS[name](np.random.default_rng(sum(map(ord, name))))


CASES = list(NETWORKS) + [f"random_{i}" for i in range(NUM_RANDOM)]


@pytest.fixture(scope="module", autouse=True)
def _sparse_opt():
    if not os.path.exists(SPARSE_OPT):
        pytest.fail(f"sparse-opt not found at {SPARSE_OPT} (set SPARSE_OPT)")


@pytest.mark.parametrize("backend", ["reference", "sparse-run"])
@pytest.mark.parametrize("name", CASES)
def test_equivalence(name, backend):
    if backend == "sparse-run" and not os.path.exists(SPARSE_RUN):
        pytest.skip(f"sparse-run not built at {SPARSE_RUN} (set SPARSE_RUN): "
                    "JIT equivalence not run; the reference interpreter still is")
    net, result = build(name)
    text = net.text(result)
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(net.input_shape).astype(np.float32)]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, after, (pb, pa, mb, ma) = run_pass(text, tmp)
        if name in NETWORKS:
            assert pa < pb and ma < mb, f"nothing removed from {name}"
        assert pa <= pb and ma <= mb
        if backend == "reference":
            before_out = run_reference(text, inputs)
            after_out = run_reference(after, inputs)
        else:
            before_out = run_sparse_run(src, inputs, tmp, "before")
            after_out = run_sparse_run(dst, inputs, tmp, "after")
        assert_close(before_out, after_out)


def test_random_graphs_prune_something():
    """The random graphs exercise the rewrite, not only the refusals."""
    removed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(NUM_RANDOM):
            net, result = net_random(i)
            *_, (pb, pa, _, _) = run_pass(net.text(result), tmp)
            removed += pa < pb
    assert removed >= NUM_RANDOM // 3, f"only {removed} of {NUM_RANDOM} random graphs shrank"


if __name__ == "__main__":
    # Writes one of the networks, e.g. the model of docs/results.md:
    #   python3 python/tests/test_channel_pruning_equivalence.py seed000_cnn OUT.mlir [ZERO_FRAC]
    #   python3 python/tests/test_channel_pruning_equivalence.py seed000_full OUT.mlir [ZERO_FRAC]
    import sys

    name, out = sys.argv[1], sys.argv[2]
    if name == "seed000_cnn" and len(sys.argv) > 3:
        net, res = net_seed000_cnn(np.random.default_rng(0), float(sys.argv[3]))
    elif name == "seed000_full":
        net, res = net_seed000_full(np.random.default_rng(0),
                                    float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
    else:
        net, res = build(name)
    with open(out, "w") as f:
        f.write(net.text(res))
