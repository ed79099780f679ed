"""Text emitter of MLIR functions on tensors, shared by the PyTorch exporter
(:mod:`sparsenn.export`) and the ONNX importer (:mod:`sparsenn.onnx_import`).

No MLIR Python bindings exist in Debian's MLIR, so the IR is written as text.
Every layer method takes :class:`Value` operands (an SSA name and a static
shape), appends the ops that compute the layer and returns the result value;
shapes are computed here with PyTorch's rules so that the function's types
are exact. Weights become ``arith.constant dense<"0x...">`` hex constants
(little-endian float32): exact and compact.

Two forms of the layers (``dialect``):

* ``"sparsenn"``: ``sparsenn.linear`` / ``sparsenn.conv2d`` carrying
  ``#sparsenn.sparsity`` facts (seed 000 [0041]-[0044], [0072]) -- the input of
  the project's passes;
* ``"linalg"``: what another MLIR compiler (torch-mlir, IREE, an NPU flow)
  emits for the same layers -- ``linalg.transpose`` of the constant weight,
  ``linalg.matmul`` and a ``linalg.generic`` bias add; ``tensor.pad`` and
  ``linalg.conv_2d_nchw_fchw`` (``linalg.depthwise_conv_2d_nchw_chw``,
  ``linalg.conv_2d_ngchw_gfchw`` for groups) whose init is the bias broadcast
  by a ``linalg.generic``. It is the input of the ``sparsenn-import`` pass.

Both forms share the upstream ops of the other layers: ReLU as a
``linalg.generic`` with ``arith.maximumf``, pooling as
``linalg.pooling_nchw_max`` / ``_sum``, reshapes as
``tensor.collapse_shape`` / ``tensor.expand_shape``, ``tensor.concat``,
element-wise ``arith`` on tensors for same-shape residual adds and a
broadcasting ``linalg.generic`` otherwise. k-winners (seed 000 [0045]-[0047])
has no upstream equivalent: it is ``sparsenn.kwinners`` in both forms.
"""

import math
import re

import numpy as np

__all__ = ["Value", "FunctionBuilder", "ExportError", "ttype", "hex_constant",
           "sparsity_fact", "conv_output_size", "pool_output_size"]

DIALECTS = ("sparsenn", "linalg")


class ExportError(Exception):
    """A model element that cannot be expressed (unsupported op or argument)."""


class Value:
    """An SSA value of the function being built: name (with ``%``), static
    shape, element type."""

    __slots__ = ("name", "shape", "elt")

    def __init__(self, name, shape, elt="f32"):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.elt = elt

    @property
    def type(self):
        return ttype(self.shape, self.elt)

    def __repr__(self):
        return f"Value({self.name}: {self.type})"


def ttype(shape, elt="f32"):
    """``tensor<2x3xf32>`` (``tensor<f32>`` for rank 0)."""
    return "tensor<" + "".join(f"{int(d)}x" for d in shape) + elt + ">"


def hex_constant(array):
    """The ``dense<"0x...">`` literal of a float32 array (exact, compact)."""
    data = np.ascontiguousarray(array, dtype="<f4").tobytes().hex().upper()
    return f'dense<"0x{data}"> : {ttype(np.shape(array))}'


def _f64(x):
    """A float attribute literal that parses back to the same double."""
    x = float(x)
    if not math.isfinite(x):
        raise ExportError(f"non-finite attribute value {x}")
    r = repr(x)
    return r if ("." in r or "e" in r) else r + ".0"


def _f32_literal(x):
    """An f32 literal for ``arith.constant`` (hex, so exact, incl. infinities)."""
    bits = np.array([x], dtype="<f4").view("<u4")[0]
    return f"0x{int(bits):08X}"


def _ilist(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def _amap(rank, results):
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({', '.join(results)})>"


def _identity_map(rank):
    return _amap(rank, [f"d{i}" for i in range(rank)])


def _parallel(rank):
    return "[" + ", ".join(['"parallel"'] * rank) + "]"


def sparsity_fact(weight, fan_in=None):
    """``#sparsenn.sparsity<...>`` of constant weights, or ``None`` when dense.

    ``density`` is measured (non-zeros / size). ``fan_in`` is stated only when
    every output unit (dimension 0) has exactly that many non-zeros (the
    attribute's contract, seed 000 [0044]); a given ``fan_in`` (a module's
    declared one) is checked against the weights and dropped when they
    disagree, ``None`` measures it.
    """
    w = np.asarray(weight)
    if w.size == 0:
        return None
    nnz_rows = (w.reshape(w.shape[0], -1) != 0).sum(axis=1)
    density = float(nnz_rows.sum()) / w.size
    fixed = int(nnz_rows[0]) if np.all(nnz_rows == nnz_rows[0]) else None
    if fan_in is None and density == 1.0:
        return None
    if fan_in is not None and fixed != int(fan_in):
        fixed = None
    parts = [f"density = {_f64(density)}"]
    if fixed is not None:
        parts.append(f"fan_in = {fixed}")
    return "#sparsenn.sparsity<" + ", ".join(parts) + ">"


def conv_output_size(size, kernel, stride, pad_lo, pad_hi, dilation):
    return (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride, pad, dilation, ceil_mode):
    """PyTorch's pooling output size (with its ceil_mode rule: the last window
    must start inside the input or the left padding)."""
    eff = size + 2 * pad - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-eff // stride) + 1
        if (out - 1) * stride >= size + pad:
            out -= 1
    else:
        out = eff // stride + 1
    return out


def _reassociation(src, dst):
    """Reassociation grouping ``src`` dims into ``dst`` dims (``dst`` a pure
    collapse of ``src``), or ``None``."""
    if len(dst) > len(src) or len(dst) == 0:
        return None
    groups, i = [], 0
    for d in dst:
        group, prod = [], 1
        while i < len(src):
            group.append(i)
            prod *= src[i]
            i += 1
            if prod >= d:
                break
        if prod != d or not group:
            return None
        groups.append(group)
    while i < len(src):  # trailing unit dims join the last group
        if src[i] != 1:
            return None
        groups[-1].append(i)
        i += 1
    return groups


class FunctionBuilder:
    """Builds one ``func.func`` on static-shape float32 tensors.

    Usage: ``b = FunctionBuilder("forward", "sparsenn")``; ``x = b.argument("x",
    shape)``; ``y = b.relu(b.linear(x, w, bias))``; ``b.returns([y])``;
    ``b.module()`` is the MLIR text.
    """

    def __init__(self, func_name="forward", dialect="sparsenn"):
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, got {dialect!r}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", func_name):
            raise ValueError(f"invalid function name {func_name!r}")
        self.func_name = func_name
        self.dialect = dialect
        self.args = []
        self.lines = []
        self.results = None
        # Names used inside linalg.generic / tensor.pad bodies: regions see
        # the enclosing values, so no function value may take these names.
        self._names = {"r", "m", "out"} | {f"in{i}" for i in range(8)} | \
            {f"i{i}" for i in range(8)}
        self._scalars = {}

    # -- names and constants -------------------------------------------------

    def fresh(self, hint="v"):
        base = re.sub(r"[^A-Za-z0-9_$.]", "_", str(hint)) or "v"
        if base[0].isdigit() or base[0] in "$.":
            base = "v" + base
        name, i = base, 0
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return "%" + name

    def emit(self, line):
        self.lines.append("  " + line)

    def argument(self, hint, shape):
        v = Value(self.fresh(hint), shape)
        self.args.append(v)
        return v

    def constant(self, array, hint="cst"):
        """A float32 tensor constant (hex)."""
        array = np.asarray(array, dtype=np.float32)
        v = Value(self.fresh(hint), array.shape)
        self.emit(f"{v.name} = arith.constant {hex_constant(array)}")
        return v

    def scalar(self, x):
        """An f32 scalar constant (one per distinct value)."""
        key = _f32_literal(x)
        if key not in self._scalars:
            name = self.fresh("c" + key[2:].lower())
            self.emit(f"{name} = arith.constant {key} : f32")
            self._scalars[key] = name
        return self._scalars[key]

    def empty(self, shape, hint="init"):
        v = Value(self.fresh(hint), shape)
        self.emit(f"{v.name} = tensor.empty() : {v.type}")
        return v

    def filled(self, shape, value, hint="init"):
        e = self.empty(shape, hint + "_e")
        v = Value(self.fresh(hint), shape)
        self.emit(f"{v.name} = linalg.fill ins({self.scalar(value)} : f32) "
                  f"outs({e.name} : {e.type}) -> {v.type}")
        return v

    # -- generic element-wise --------------------------------------------------

    def _generic(self, inputs, maps, out_shape, body, hint, init=None):
        """A parallel ``linalg.generic``; ``body`` gets the block argument names
        (inputs then output) and returns (lines, yielded name)."""
        rank = len(out_shape)
        if init is None:
            init = self.empty(out_shape, hint + "_e")
        v = Value(self.fresh(hint), out_shape)
        args = [f"%in{i}" for i in range(len(inputs))] + ["%out"]
        lines, result = body(args)
        all_maps = ", ".join(maps + [_identity_map(rank)])
        ins = ", ".join(a.name for a in inputs)
        in_types = ", ".join(a.type for a in inputs)
        block = ", ".join(f"{a}: f32" for a in args)
        self.emit(f"{v.name} = linalg.generic {{indexing_maps = [{all_maps}], "
                  f"iterator_types = {_parallel(rank)}}} ins({ins} : {in_types}) "
                  f"outs({init.name} : {init.type}) {{")
        self.lines.append(f"  ^bb0({block}):")
        for line in lines:
            self.lines.append("    " + line)
        self.lines.append(f"    linalg.yield {result} : f32")
        self.emit(f"}} -> {v.type}")
        return v

    def _broadcast_map(self, shape, out_shape):
        """Indexing map reading ``shape`` broadcast (numpy rules) to ``out_shape``."""
        rank, off = len(out_shape), len(out_shape) - len(shape)
        results = []
        for i, d in enumerate(shape):
            results.append("0" if d == 1 and out_shape[off + i] != 1 else f"d{off + i}")
        return _amap(rank, results)

    def relu(self, x, hint="relu"):
        """``max(x, 0)`` as a ``linalg.generic`` with ``arith.maximumf`` (NaN
        propagates, as in PyTorch)."""
        zero = self.scalar(0.0)

        def body(a):
            return [f"%r = arith.maximumf {a[0]}, {zero} : f32"], "%r"

        return self._generic([x], [_identity_map(len(x.shape))], x.shape, body, hint)

    def binary(self, op, a, b, hint=None):
        """``a (+|-|*|/) b`` with numpy broadcasting. Operands are Values or
        numpy arrays (constants; broadcast dims are squeezed out of them).
        Same-shape tensors use element-wise ``arith`` on tensors; otherwise a
        broadcasting ``linalg.generic``."""
        arith = {"add": "arith.addf", "sub": "arith.subf", "mul": "arith.mulf",
                 "div": "arith.divf"}[op]
        hint = hint or op
        sa = a.shape if isinstance(a, Value) else np.shape(a)
        sb = b.shape if isinstance(b, Value) else np.shape(b)
        try:
            out = tuple(np.broadcast_shapes(tuple(sa), tuple(sb)))
        except ValueError:
            raise ExportError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} do not broadcast")
        operands, maps = [], []
        for x, s in ((a, sa), (b, sb)):
            if isinstance(x, Value):
                operands.append(x)
                maps.append(self._broadcast_map(s, out))
                continue
            arr = np.asarray(x, dtype=np.float32)
            off = len(out) - arr.ndim
            keep = [i for i in range(arr.ndim) if not (arr.shape[i] == 1 and out[off + i] != 1)]
            arr = arr.reshape([arr.shape[i] for i in keep])
            operands.append(self.constant(arr, hint + "_c"))
            maps.append(_amap(len(out), [f"d{off + i}" for i in keep]))
        if all(isinstance(x, Value) and x.shape == out for x in (a, b)):
            v = Value(self.fresh(hint), out)
            self.emit(f"{v.name} = {arith} {a.name}, {b.name} : {v.type}")
            return v

        def body(args):
            return [f"%r = {arith} {args[0]}, {args[1]} : f32"], "%r"

        return self._generic(operands, maps, out, body, hint)

    def add(self, a, b, hint="add"):
        return self.binary("add", a, b, hint)

    def channel_affine(self, x, scale, shift, hint="affine"):
        """``x * scale[c] + shift[c]`` along dimension 1 (a batch norm in eval
        mode that could not be folded into a layer)."""
        c = x.shape[1]
        scale = np.asarray(scale, dtype=np.float32).reshape(c)
        shift = np.asarray(shift, dtype=np.float32).reshape(c)
        s, t = self.constant(scale, hint + "_scale"), self.constant(shift, hint + "_shift")
        rank = len(x.shape)
        cmap = _amap(rank, ["d1"])

        def body(a):
            return [f"%m = arith.mulf {a[0]}, {a[1]} : f32",
                    f"%r = arith.addf %m, {a[2]} : f32"], "%r"

        return self._generic([x, s, t], [_identity_map(rank), cmap, cmap], x.shape, body, hint)

    # -- layers ----------------------------------------------------------------

    def linear(self, x, weight, bias=None, sparsity=None, hint="linear"):
        """``y = x Wᵀ + b`` for ``x [..., in]``, constant ``weight [out, in]``."""
        weight = np.asarray(weight, dtype=np.float32)
        if weight.ndim != 2:
            raise ExportError(f"linear weight must be 2-D, got {weight.shape}")
        out_f, in_f = weight.shape
        if not x.shape or x.shape[-1] != in_f:
            raise ExportError(f"linear: input {x.shape} does not end in {in_f}")
        out_shape = x.shape[:-1] + (out_f,)
        w = self.constant(weight, hint + "_w")
        b = self.constant(bias, hint + "_b") if bias is not None else None
        if self.dialect == "sparsenn":
            v = Value(self.fresh(hint), out_shape)
            operands = x.name + ", " + w.name + (", " + b.name if b else "")
            types = x.type + ", " + w.type + (", " + b.type if b else "")
            attrs = f" {{sparsity = {sparsity}}}" if sparsity else ""
            self.emit(f"{v.name} = sparsenn.linear {operands}{attrs} : {types} -> {v.type}")
            return v
        # linalg: transpose the constant weight, matmul on a 2-D view, bias add.
        x2 = x
        if len(x.shape) != 2:
            x2 = self.reshape(x, (math.prod(x.shape[:-1]), in_f), hint + "_in2d")
        wt = Value(self.fresh(hint + "_wt"), (in_f, out_f))
        wt_e = self.empty(wt.shape, hint + "_wt_e")
        self.emit(f"{wt.name} = linalg.transpose ins({w.name} : {w.type}) "
                  f"outs({wt_e.name} : {wt_e.type}) permutation = [1, 0]")
        acc = self.filled((x2.shape[0], out_f), 0.0, hint + "_acc")
        mm = Value(self.fresh(hint + "_mm" if b else hint), acc.shape)
        self.emit(f"{mm.name} = linalg.matmul ins({x2.name}, {wt.name} : {x2.type}, {wt.type}) "
                  f"outs({acc.name} : {acc.type}) -> {mm.type}")
        y = mm
        if b is not None:
            def body(a):
                return [f"%r = arith.addf {a[0]}, {a[1]} : f32"], "%r"
            y = self._generic([mm, b], [_identity_map(2), _amap(2, ["d1"])], mm.shape, body,
                              hint)
        if y.shape != out_shape:
            y = self.reshape(y, out_shape, hint + "_nd")
        return y

    def conv2d(self, x, weight, bias=None, strides=(1, 1), padding=(0, 0, 0, 0),
               dilations=(1, 1), groups=1, sparsity=None, hint="conv"):
        """NCHW convolution; ``weight [C_out, C_in/groups, kH, kW]`` constant,
        ``padding`` = ``[top, bottom, left, right]`` (zeros)."""
        weight = np.asarray(weight, dtype=np.float32)
        if len(x.shape) != 4 or weight.ndim != 4:
            raise ExportError(f"conv2d needs NCHW input and OIHW weight, got {x.shape}, "
                              f"{weight.shape}")
        n, cin, h, w_ = x.shape
        cout, cpg, kh, kw = weight.shape
        groups = int(groups)
        if cin % groups or cout % groups or cin // groups != cpg:
            raise ExportError(f"conv2d: input channels {cin}, weight {weight.shape} and "
                              f"groups {groups} disagree")
        strides, dilations = tuple(map(int, strides)), tuple(map(int, dilations))
        padding = tuple(map(int, padding))
        if min(padding) < 0:
            raise ExportError(f"conv2d: negative padding {padding}")
        ho = conv_output_size(h, kh, strides[0], padding[0], padding[1], dilations[0])
        wo = conv_output_size(w_, kw, strides[1], padding[2], padding[3], dilations[1])
        if ho < 1 or wo < 1:
            raise ExportError(f"conv2d: kernel {kh}x{kw} does not fit input {x.shape}")
        out_shape = (n, cout, ho, wo)
        wv = self.constant(weight, hint + "_w")
        b = self.constant(bias, hint + "_b") if bias is not None else None
        if self.dialect == "sparsenn":
            attrs = []
            if strides != (1, 1):
                attrs.append(f"strides = array<i64: {strides[0]}, {strides[1]}>")
            if padding != (0, 0, 0, 0):
                attrs.append("padding = array<i64: " + ", ".join(map(str, padding)) + ">")
            if dilations != (1, 1):
                attrs.append(f"dilations = array<i64: {dilations[0]}, {dilations[1]}>")
            if groups != 1:
                attrs.append(f"groups = {groups}")
            if sparsity:
                attrs.append(f"sparsity = {sparsity}")
            v = Value(self.fresh(hint), out_shape)
            operands = x.name + ", " + wv.name + (", " + b.name if b else "")
            types = x.type + ", " + wv.type + (", " + b.type if b else "")
            attr = " {" + ", ".join(attrs) + "}" if attrs else ""
            self.emit(f"{v.name} = sparsenn.conv2d {operands}{attr} : {types} -> {v.type}")
            return v
        # linalg: pad, bias-broadcast init, named convolution.
        xp = self.pad(x, (0, 0, padding[0], padding[2]), (0, 0, padding[1], padding[3]), 0.0,
                      hint + "_pad")
        if b is not None:
            def body(a):
                return [], a[0]
            init = self._generic([b], [_amap(4, ["d1"])], out_shape, body, hint + "_init")
        else:
            init = self.filled(out_shape, 0.0, hint + "_init")
        conv_attrs = (f"{{dilations = dense<{_ilist(dilations)}> : tensor<2xi64>, "
                      f"strides = dense<{_ilist(strides)}> : tensor<2xi64>}}")
        if groups == 1:
            v = Value(self.fresh(hint), out_shape)
            self.emit(f"{v.name} = linalg.conv_2d_nchw_fchw {conv_attrs} ins({xp.name}, {wv.name} "
                      f": {xp.type}, {wv.type}) outs({init.name} : {init.type}) -> {v.type}")
            return v
        if groups == cin == cout:
            # Depthwise (channel multiplier 1): the filter [C, 1, kH, kW] as [C, kH, kW].
            w3 = self.reshape(wv, (cout, kh, kw), hint + "_w3")
            v = Value(self.fresh(hint), out_shape)
            self.emit(f"{v.name} = linalg.depthwise_conv_2d_nchw_chw {conv_attrs} "
                      f"ins({xp.name}, {w3.name} : {xp.type}, {w3.type}) "
                      f"outs({init.name} : {init.type}) -> {v.type}")
            return v
        g = groups
        xg = self.reshape(xp, (n, g, cin // g) + xp.shape[2:], hint + "_xg")
        wg = self.reshape(wv, (g, cout // g, cpg, kh, kw), hint + "_wg")
        ig = self.reshape(init, (n, g, cout // g, ho, wo), hint + "_ig")
        yg = Value(self.fresh(hint + "_g"), ig.shape)
        self.emit(f"{yg.name} = linalg.conv_2d_ngchw_gfchw {conv_attrs} ins({xg.name}, {wg.name} "
                  f": {xg.type}, {wg.type}) outs({ig.name} : {ig.type}) -> {yg.type}")
        return self.reshape(yg, out_shape, hint)

    def kwinners(self, x, mode, k, duty_cycle=None, boost=0.0, break_ties=False, relu=False,
                 group_size=None, hint="kwinners"):
        """``sparsenn.kwinners`` (seed 000 [0045]-[0047], [0060]-[0065],
        [0073]-[0077]): ``k`` winners per domain, ranked by
        ``x * exp(boost * (k/n - duty))`` when ``boost > 0`` (the duty cycles
        are a constant operand)."""
        v = Value(self.fresh(hint), x.shape)
        parts = [f"sparsenn.kwinners <{mode}> {x.name}"]
        types = x.type
        boost = float(boost)
        if boost > 0.0:
            if duty_cycle is None:
                raise ExportError("k-winners boosting needs duty cycles")
            d = self.constant(duty_cycle, hint + "_duty")
            parts.append(f"duty_cycle {d.name}")
            types += ", " + d.type
        parts.append(f"k = {int(k)}")
        if group_size is not None:
            parts.append(f"group_size = {int(group_size)}")
        if boost > 0.0:
            parts.append(f"boost = {_f64(boost)}")
        if break_ties:
            parts.append("break_ties")
        if relu:
            parts.append("relu")
        self.emit(f"{v.name} = " + " ".join(parts) + f" : {types} -> {v.type}")
        return v

    def pad(self, x, low, high, value=0.0, hint="pad"):
        """``tensor.pad`` with a constant (``x`` itself when there is nothing to pad)."""
        low, high = tuple(map(int, low)), tuple(map(int, high))
        if len(low) != len(x.shape) or len(high) != len(x.shape):
            raise ExportError(f"pad: {len(low)} pads for a rank-{len(x.shape)} tensor")
        if min(low + high) < 0:
            raise ExportError(f"pad: negative padding (cropping) {low} {high} is not supported")
        if not any(low) and not any(high):
            return x
        out = tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high))
        cst = self.scalar(value)
        v = Value(self.fresh(hint), out)
        idx = ", ".join(f"%i{i}: index" for i in range(len(out)))
        self.emit(f"{v.name} = tensor.pad {x.name} low{_ilist(low)} high{_ilist(high)} {{")
        self.lines.append(f"  ^bb0({idx}):")
        self.lines.append(f"    tensor.yield {cst} : f32")
        self.emit(f"}} : {x.type} to {v.type}")
        return v

    def _pool_geometry(self, x, kernel, stride, padding, dilation, ceil_mode, what):
        """Window, strides, ``[top, bottom, left, right]`` padding (incl. the
        extra high padding that keeps PyTorch's ceil_mode windows in bounds),
        dilations and output size of a 2-D pooling."""
        if len(x.shape) != 4:
            raise ExportError(f"{what} needs an NCHW input, got {x.shape}")
        kernel, stride = tuple(map(int, kernel)), tuple(map(int, stride))
        padding, dilation = tuple(map(int, padding)), tuple(map(int, dilation))
        if len(padding) == 2:
            padding = (padding[0], padding[0], padding[1], padding[1])
        if min(padding) < 0:
            raise ExportError(f"{what}: negative padding {padding}")
        out = []
        for i in range(2):
            lo, hi = padding[2 * i], padding[2 * i + 1]
            if ceil_mode and lo != hi:
                raise ExportError(f"{what}: ceil_mode with asymmetric padding {padding}")
            if ceil_mode:
                out.append(pool_output_size(x.shape[2 + i], kernel[i], stride[i], lo,
                                            dilation[i], True))
            else:
                out.append(conv_output_size(x.shape[2 + i], kernel[i], stride[i], lo, hi,
                                            dilation[i]))
        out = tuple(out)
        if min(out) < 1:
            raise ExportError(f"{what}: window {kernel} does not fit input {x.shape}")
        pads = list(padding)
        for i in range(2):
            need = (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
            pads[2 * i + 1] += max(0, need - (x.shape[2 + i] + padding[2 * i]
                                              + padding[2 * i + 1]))
        return kernel, stride, padding, tuple(pads), dilation, out

    def _padded(self, x, pads, value, hint):
        return self.pad(x, (0, 0, pads[0], pads[2]), (0, 0, pads[1], pads[3]), value, hint)

    def max_pool2d(self, x, kernel, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False,
                   hint="maxpool"):
        """``linalg.pooling_nchw_max`` on the input padded with -inf; ``padding``
        is ``(ph, pw)`` (PyTorch) or ``(top, bottom, left, right)``."""
        kernel, stride, _, pads, dilation, out = self._pool_geometry(
            x, kernel, stride, padding, dilation, ceil_mode, "max_pool2d")
        xp = self._padded(x, pads, -math.inf, hint + "_pad")
        init = self.filled(x.shape[:2] + out, -math.inf, hint + "_init")
        return self._pool("max", xp, kernel, stride, dilation, init, hint)

    def _pool(self, kind, x, kernel, stride, dilation, init, hint):
        win = self.empty(kernel, hint + "_win")
        v = Value(self.fresh(hint), init.shape)
        self.emit(f"{v.name} = linalg.pooling_nchw_{kind} {{dilations = dense<{_ilist(dilation)}> "
                  f": vector<2xi64>, strides = dense<{_ilist(stride)}> : vector<2xi64>}} "
                  f"ins({x.name}, {win.name} : {x.type}, {win.type}) "
                  f"outs({init.name} : {init.type}) -> {v.type}")
        return v

    def avg_pool2d(self, x, kernel, stride, padding=(0, 0), ceil_mode=False,
                   count_include_pad=True, divisor_override=None, hint="avgpool"):
        """``linalg.pooling_nchw_sum`` on the zero-padded input, divided by
        PyTorch's divisor: the window clipped to the padded input
        (``count_include_pad``) or to the input itself, or ``divisor_override``."""
        kernel, stride, padding, pads, dilation, out = self._pool_geometry(
            x, kernel, stride, padding, (1, 1), ceil_mode, "avg_pool2d")
        h, w = x.shape[2:]
        if divisor_override:
            div = np.full(out, float(divisor_override))
        else:
            div = np.zeros(out)
            for i in range(out[0]):
                for j in range(out[1]):
                    h0, w0 = i * stride[0] - padding[0], j * stride[1] - padding[2]
                    h1 = min(h0 + kernel[0], h + padding[1])
                    w1 = min(w0 + kernel[1], w + padding[3])
                    if not count_include_pad:
                        h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
                    div[i, j] = (h1 - h0) * (w1 - w0)
        xp = self._padded(x, pads, 0.0, hint + "_pad")
        init = self.filled(x.shape[:2] + out, 0.0, hint + "_init")
        s = self._pool("sum", xp, kernel, stride, dilation, init, hint + "_sum")
        return self._divide(s, div, hint)

    def _divide(self, s, div, hint):
        div = np.asarray(div, dtype=np.float32)
        if np.all(div == div.flat[0]):
            d = self.scalar(float(div.flat[0]))

            def body(a):
                return [f"%r = arith.divf {a[0]}, {d} : f32"], "%r"

            return self._generic([s], [_identity_map(4)], s.shape, body, hint)
        return self.binary("div", s, div, hint)

    def global_avg_pool2d(self, x, hint="gap"):
        """Mean over H×W, keeping ``[N, C, 1, 1]``."""
        if len(x.shape) != 4:
            raise ExportError(f"global average pooling needs NCHW, got {x.shape}")
        h, w = x.shape[2:]
        init = self.filled(x.shape[:2] + (1, 1), 0.0, hint + "_init")
        s = self._pool("sum", x, (h, w), (1, 1), (1, 1), init, hint + "_sum")
        return self._divide(s, np.full((1, 1), float(h * w)), hint)

    # -- shapes ----------------------------------------------------------------

    def reshape(self, x, shape, hint="reshape"):
        """A static reshape as ``tensor.collapse_shape`` / ``tensor.expand_shape``
        (through a 1-D view when it is neither)."""
        shape = tuple(int(d) for d in shape)
        if math.prod(shape) != math.prod(x.shape):
            raise ExportError(f"reshape of {x.shape} to {shape}: sizes differ")
        if shape == x.shape:
            return x
        groups = _reassociation(x.shape, shape)
        if groups is not None:
            v = Value(self.fresh(hint), shape)
            self.emit(f"{v.name} = tensor.collapse_shape {x.name} "
                      f"{[list(g) for g in groups]} : {x.type} into {v.type}")
            return v
        groups = _reassociation(shape, x.shape)
        if groups is not None and x.shape:
            v = Value(self.fresh(hint), shape)
            self.emit(f"{v.name} = tensor.expand_shape {x.name} {[list(g) for g in groups]} "
                      f"output_shape {_ilist(shape)} : {x.type} into {v.type}")
            return v
        flat = self.reshape(x, (math.prod(x.shape),), hint + "_flat")
        return self.reshape(flat, shape, hint)

    def concat(self, values, dim, hint="cat"):
        rank = len(values[0].shape)
        dim = dim + rank if dim < 0 else dim
        if len(values) == 1:
            return values[0]
        for v in values:
            if len(v.shape) != rank or any(v.shape[i] != values[0].shape[i]
                                           for i in range(rank) if i != dim):
                raise ExportError(f"concat along {dim}: shapes "
                                  f"{[v.shape for v in values]} disagree")
        out = list(values[0].shape)
        out[dim] = sum(v.shape[dim] for v in values)
        v = Value(self.fresh(hint), out)
        self.emit(f"{v.name} = tensor.concat dim({dim}) " + ", ".join(a.name for a in values)
                  + " : (" + ", ".join(a.type for a in values) + f") -> {v.type}")
        return v

    # -- the function ----------------------------------------------------------

    def returns(self, values):
        self.results = list(values)

    def body(self):
        if self.results is None:
            raise ExportError("the function has no results")
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        rtypes = ", ".join(v.type for v in self.results)
        if len(self.results) != 1:
            rtypes = f"({rtypes})"
        names = ", ".join(v.name for v in self.results)
        types = ", ".join(v.type for v in self.results)
        return "\n".join([f"func.func @{self.func_name}({args}) -> {rtypes} {{"] + self.lines
                         + [f"  return {names} : {types}", "}"]) + "\n"

    def module(self, header=None):
        """The module text (one function), with an optional comment header."""
        text = ""
        if header:
            text += "".join(f"// {line}\n" for line in header.splitlines())
        return text + "module {\n" + self.body() + "}\n"
