"""Convert an ONNX model to MLIR text (the same IR as :mod:`sparsenn.export`).

Reads the ONNX protobuf with the ``onnx`` package (Debian's 1.12; models as
written by ``torch.onnx.export``, opset 13, or built by hand) and emits one
``func.func`` through :class:`sparsenn.irbuilder.FunctionBuilder`, weights as
``dense<"0x...">`` hex constants::

    from sparsenn.onnx_import import import_onnx
    text = import_onnx("model.onnx")                     # sparsenn form
    text = import_onnx("model.onnx", dialect="linalg")   # upstream linalg form

    python3 -m sparsenn.onnx_import model.onnx -o model.mlir

Supported operators (anything else raises :class:`ExportError` listing every
unsupported node):

* ``Gemm`` (``transB``, ``alpha``, ``beta``, constant B and C; ``transA = 0``)
  and ``MatMul`` by a constant 2-D matrix -> ``sparsenn.linear``; an ``Add`` of
  a constant vector right after a bias-less one becomes its bias;
* ``Conv`` (2-D: strides, pads, dilations, group, ``auto_pad``) ->
  ``sparsenn.conv2d``; ``BatchNormalization`` (inference) folded into the
  Conv or Gemm right before it, else a per-channel affine;
* ``Relu``, ``MaxPool``, ``AveragePool``, ``GlobalAveragePool``, ``Flatten``,
  ``Reshape`` (constant shape), ``Add`` / ``Sub`` / ``Mul`` / ``Div``
  (broadcasting), ``Concat``, ``Pad`` (constant), ``Identity``, ``Dropout``
  (inference: identity);
* shape arithmetic on constants and static shapes (``Constant``, ``Shape``,
  ``Gather``, ``Unsqueeze``, ``Squeeze``, ``Concat``, ``Slice``, ``Cast``, ...)
  is evaluated at import, as ``x.view(x.size(0), -1)`` exports it.

Layers record measured ``#sparsenn.sparsity`` facts (density, and the fan-in
when every output unit has the same number of non-zeros: seed 000
[0041]-[0044]) -- ONNX has no notion of a sparse layer, the zeros in the
weights are all there is.
"""

import argparse
import math
import sys

import numpy as np

from .irbuilder import ExportError, FunctionBuilder, conv_output_size, sparsity_fact

__all__ = ["import_onnx", "ExportError", "SUPPORTED_OPS"]

# Evaluated with numpy when every input is a constant (shape arithmetic).
_CONST_OPS = {"Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast",
              "Slice", "Add", "Sub", "Mul", "Div", "Reshape", "Flatten", "Transpose",
              "ConstantOfShape", "Relu", "Dropout"}
# Lowered to IR on activations.
_TENSOR_OPS = {"Gemm", "MatMul", "Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool",
               "GlobalAveragePool", "Flatten", "Reshape", "Add", "Sub", "Mul", "Div", "Concat",
               "Identity", "Dropout", "Shape", "Pad"}
SUPPORTED_OPS = sorted(_CONST_OPS | _TENSOR_OPS)


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _decode(v):
    return v.decode() if isinstance(v, bytes) else v


class _Importer:
    def __init__(self, model, builder, input_shapes):
        import onnx
        from onnx import numpy_helper
        self.onnx = onnx
        self.nh = numpy_helper
        self.model = model
        self.graph = model.graph
        self.b = builder
        self.input_shapes = input_shapes or {}
        self.consts = {init.name: numpy_helper.to_array(init) for init in self.graph.initializer}
        self.vals = {}
        self.producer = {}
        self.consumers = {}
        for node in self.graph.node:
            for o in node.output:
                self.producer[o] = node
            for i in node.input:
                if i:
                    self.consumers.setdefault(i, []).append(node)
        self.outputs = {o.name for o in self.graph.output}
        self.layer_fold = {}   # layer output -> (weight, bias) after a folded BN / bias add
        self.folded = set()    # outputs of the nodes folded into the layer before them

    # -- helpers -----------------------------------------------------------

    def where(self, node):
        return f"ONNX node '{node.name or node.output[0]}' ({node.op_type})"

    def fail(self, node, what):
        raise ExportError(f"{self.where(node)}: {what}")

    def is_const(self, name):
        return name == "" or name in self.consts

    def const(self, node, name, what="input"):
        if name not in self.consts:
            self.fail(node, f"{what} '{name}' must be a constant (initializer)")
        return self.consts[name]

    def value(self, node, name):
        if name in self.vals:
            return self.vals[name]
        if name in self.consts:
            v = self.b.constant(self.consts[name].astype(np.float32), name)
            self.vals[name] = v
            return v
        self.fail(node, f"unknown input '{name}'")

    def operand(self, node, name):
        return self.consts[name] if name in self.consts else self.value(node, name)

    def single_use(self, name):
        return len(self.consumers.get(name, [])) == 1 and name not in self.outputs

    def set(self, node, v, index=0):
        self.vals[node.output[index]] = v

    # -- the pass --------------------------------------------------------------

    def run(self):
        self.check_supported()
        inits = set(self.consts)
        for inp in self.graph.input:
            if inp.name in inits:
                continue
            self.vals[inp.name] = self.b.argument(inp.name, self.input_shape(inp))
        self.plan_folds()
        for node in self.graph.node:
            if node.output[0] in self.folded:
                continue
            ins = [i for i in node.input if i]
            if node.op_type in _CONST_OPS and all(i in self.consts for i in ins):
                self.eval_const(node)
            elif node.op_type == "Shape" and node.input[0] in self.vals:
                shape = np.array(self.vals[node.input[0]].shape, dtype=np.int64)
                a = _attrs(node)
                start, end = a.get("start", 0), a.get("end", None)
                self.consts[node.output[0]] = shape[start:end]
            elif node.op_type in _TENSOR_OPS:
                getattr(self, "op_" + node.op_type)(node)
            else:
                self.fail(node, "needs constant inputs (it is only evaluated at import)")
        results = []
        for o in self.graph.output:
            if o.name in self.vals:
                results.append(self.vals[o.name])
            elif o.name in self.consts:
                results.append(self.b.constant(self.consts[o.name].astype(np.float32), o.name))
            else:
                raise ExportError(f"graph output '{o.name}' is never computed")
        self.b.returns(results)

    def check_supported(self):
        bad = [n for n in self.graph.node if n.op_type not in _CONST_OPS | _TENSOR_OPS
               or (n.domain not in ("", "ai.onnx"))]
        if bad:
            names = ", ".join(f"'{n.name or n.output[0]}' ({n.domain + '.' if n.domain else ''}"
                              f"{n.op_type})" for n in bad)
            raise ExportError(f"unsupported ONNX operators: {names}; supported: "
                              + ", ".join(SUPPORTED_OPS))
        for opset in self.model.opset_import:
            if opset.domain in ("", "ai.onnx") and opset.version < 7:
                raise ExportError(f"ONNX opset {opset.version} is too old (7 or later)")

    def input_shape(self, inp):
        t = inp.type.tensor_type
        if t.elem_type != self.onnx.TensorProto.FLOAT:
            raise ExportError(f"graph input '{inp.name}' is not float32")
        if inp.name in self.input_shapes:
            return tuple(self.input_shapes[inp.name])
        dims = []
        for d in t.shape.dim:
            if not d.HasField("dim_value"):
                raise ExportError(f"graph input '{inp.name}' has a dynamic dimension "
                                  f"'{d.dim_param}': pass input_shapes={{'{inp.name}': ...}}")
            dims.append(d.dim_value)
        return tuple(dims)

    def layer_params(self, node):
        """``(weight [out, in...], bias)`` of a Conv / Gemm / MatMul node, or None."""
        op = node.op_type
        if op == "Conv":
            if node.input[1] not in self.consts or (len(node.input) > 2 and node.input[2]
                                                    and node.input[2] not in self.consts):
                return None
            b = self.consts[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            return self.consts[node.input[1]].astype(np.float32), b
        if op == "Gemm":
            a = _attrs(node)
            if a.get("transA", 0) or node.input[1] not in self.consts:
                return None
            bmat = self.consts[node.input[1]].astype(np.float64)
            if bmat.ndim != 2:
                return None
            w = bmat if a.get("transB", 0) else bmat.T
            w = w * a.get("alpha", 1.0)
            bias = None
            if len(node.input) > 2 and node.input[2]:
                if node.input[2] not in self.consts:
                    return None
                c = self.consts[node.input[2]].astype(np.float64) * a.get("beta", 1.0)
                if c.size == 1:
                    c = np.full(w.shape[0], c.reshape(()))
                elif c.shape not in ((w.shape[0],), (1, w.shape[0])):
                    return None  # a C that depends on the row: not a bias
                bias = c.reshape(w.shape[0])
            return w.astype(np.float32), None if bias is None else bias.astype(np.float32)
        if op == "MatMul":
            if node.input[1] not in self.consts or self.consts[node.input[1]].ndim != 2:
                return None
            return np.ascontiguousarray(self.consts[node.input[1]].T, dtype=np.float32), None
        return None

    def plan_folds(self):
        """BatchNormalization folded into the Conv/Gemm before it (when
        that layer has no other user); a constant ``Add`` after a bias-less
        MatMul/Gemm becomes its bias."""
        for node in self.graph.node:
            src = self.producer.get(node.input[0]) if node.input else None
            if src is None or not self.single_use(node.input[0]):
                continue
            params = self.layer_fold.get(src.output[0]) or self.layer_params(src)
            if params is None:
                continue
            w, b = params
            # A batch norm's channel (dim 1) is a Conv's filter or a Gemm's
            # (2-D) output unit; MatMul may be batched: not folded.
            if (node.op_type == "BatchNormalization" and src.op_type in ("Conv", "Gemm")
                    and all(self.is_const(i) for i in node.input[1:5])):
                if _attrs(node).get("training_mode", 0) or len([o for o in node.output if o]) > 1:
                    continue
                scale, shift = self.bn_affine(node)
                w2 = w.astype(np.float64) * scale.reshape((-1,) + (1,) * (w.ndim - 1))
                b0 = np.zeros(w.shape[0]) if b is None else b.astype(np.float64)
                b2 = b0 * scale + shift
                self.fold(src, node, w2.astype(np.float32), b2.astype(np.float32))
            elif (node.op_type == "Add" and src.op_type in ("MatMul", "Gemm") and b is None
                  and node.input[1] in self.consts):
                c = self.consts[node.input[1]]
                if c.shape in ((w.shape[0],), (1, w.shape[0])):
                    self.fold(src, node, w, c.reshape(w.shape[0]).astype(np.float32))

    def fold(self, layer, node, w, b):
        self.layer_fold[layer.output[0]] = (w, b)
        self.folded.add(node.output[0])
        # The folded node's output is the layer's output.
        out = node.output[0]
        for c in self.consumers.get(out, []):
            for i, name in enumerate(c.input):
                if name == out:
                    c.input[i] = layer.output[0]
        self.consumers[layer.output[0]] = self.consumers.get(out, [])
        if out in self.outputs:
            for o in self.graph.output:
                if o.name == out:
                    o.name = layer.output[0]
            self.outputs = {o.name for o in self.graph.output}

    def bn_affine(self, node):
        scale, beta, mean, var = (self.consts[n].astype(np.float64) for n in node.input[1:5])
        s = scale / np.sqrt(var + _attrs(node).get("epsilon", 1e-5))
        return s, beta - mean * s

    def hint(self, node):
        return (node.name or node.output[0]).strip("/").replace("/", "_")

    # -- constants ---------------------------------------------------------------

    def eval_const(self, node):
        op, a = node.op_type, _attrs(node)
        x = [self.consts[i] if i else None for i in node.input]
        if op == "Constant":
            if "value" not in a:
                self.fail(node, "only the 'value' form of Constant is supported")
            r = self.nh.to_array(a["value"])
        elif op in ("Identity", "Dropout"):
            r = x[0]
        elif op == "Shape":
            r = np.array(x[0].shape, dtype=np.int64)[a.get("start", 0):a.get("end", None)]
        elif op == "Gather":
            r = np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = a["axes"] if "axes" in a else list(x[1])
            r = x[0]
            rank = r.ndim + len(axes)
            for ax in sorted(int(v) % rank for v in axes):
                r = np.expand_dims(r, ax)
        elif op == "Squeeze":
            axes = a.get("axes") if "axes" in a else (list(x[1]) if len(x) > 1 and x[1] is not None
                                                       else None)
            r = np.squeeze(x[0], axis=None if axes is None else tuple(int(v) for v in axes))
        elif op == "Concat":
            r = np.concatenate(x, axis=a["axis"])
        elif op == "Cast":
            dtype = self.onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]]
            r = x[0].astype(dtype)
        elif op == "Slice":
            data, starts, ends = x[0], x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * data.ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s), int(e), int(st))
            r = data[tuple(sl)]
        elif op in ("Add", "Sub", "Mul", "Div"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
            if op == "Div":
                r = (x[0] // x[1] if np.issubdtype(x[0].dtype, np.integer) else x[0] / x[1])
            else:
                r = f(x[0], x[1])
            r = r.astype(np.result_type(x[0], x[1]))
        elif op == "Reshape":
            r = x[0].reshape(self.reshape_target(node, x[0].shape, x[1], a))
        elif op == "Flatten":
            ax = a.get("axis", 1) % (x[0].ndim + 1) if x[0].ndim else 0
            r = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Transpose":
            r = np.transpose(x[0], a.get("perm"))
        elif op == "ConstantOfShape":
            v = self.nh.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full(tuple(int(d) for d in x[0]), v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Relu":
            r = np.maximum(x[0], 0).astype(x[0].dtype)
        else:  # pragma: no cover - _CONST_OPS and this table agree
            self.fail(node, "no constant evaluation")
        self.consts[node.output[0]] = np.asarray(r)

    def reshape_target(self, node, shape, target, a):
        target = [int(d) for d in np.asarray(target).reshape(-1)]
        if not a.get("allowzero", 0):
            target = [shape[i] if d == 0 else d for i, d in enumerate(target)]
        if target.count(-1) > 1:
            self.fail(node, f"shape {target} has more than one -1")
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            target[target.index(-1)] = math.prod(shape) // known if known else 0
        if math.prod(target) != math.prod(shape):
            self.fail(node, f"cannot reshape {tuple(shape)} to {tuple(target)}")
        return tuple(target)

    # -- operators on activations --------------------------------------------------

    def layer(self, node, x, w, b, **conv):
        if node.output[0] in self.layer_fold:
            w, b = self.layer_fold[node.output[0]]
        sp = sparsity_fact(w)
        if conv:
            return self.b.conv2d(x, w, b, sparsity=sp, hint=self.hint(node), **conv)
        return self.b.linear(x, w, b, sparsity=sp, hint=self.hint(node))

    def op_Gemm(self, node):
        params = self.layer_params(node)
        if params is None:
            self.fail(node, "needs transA = 0, a constant 2-D B and a constant C of shape "
                      "[N], [1, N] or a scalar")
        x = self.value(node, node.input[0])
        if len(x.shape) != 2:
            self.fail(node, f"input A must be 2-D, got {x.shape}")
        self.set(node, self.layer(node, x, *params))

    def op_MatMul(self, node):
        params = self.layer_params(node)
        if params is None:
            self.fail(node, "only a product by a constant 2-D matrix (B an initializer) is "
                      "supported")
        x = self.value(node, node.input[0])
        if len(x.shape) < 2:
            self.fail(node, f"input A must have rank >= 2, got {x.shape}")
        self.set(node, self.layer(node, x, *params))

    def op_Conv(self, node):
        params = self.layer_params(node)
        if params is None:
            self.fail(node, "weights and bias must be constants (initializers)")
        x = self.value(node, node.input[0])
        w, _ = params
        if w.ndim != 4 or len(x.shape) != 4:
            self.fail(node, "only 2-D convolutions (NCHW) are supported")
        a = _attrs(node)
        strides = tuple(a.get("strides", (1, 1)))
        dil = tuple(a.get("dilations", (1, 1)))
        kernel = tuple(a.get("kernel_shape", w.shape[2:]))
        if kernel != tuple(w.shape[2:]):
            self.fail(node, f"kernel_shape {kernel} disagrees with the weight {w.shape}")
        pads = self.pads(node, a, x.shape[2:], kernel, strides, dil)
        self.set(node, self.layer(node, x, *params, strides=strides, padding=pads,
                                  dilations=dil, groups=a.get("group", 1)))

    def pads(self, node, a, size, kernel, strides, dil):
        """ONNX pads ``[h_begin, w_begin, h_end, w_end]`` / ``auto_pad`` as
        ``[top, bottom, left, right]``."""
        auto = _decode(a.get("auto_pad", "NOTSET"))
        if auto in ("NOTSET", "VALID"):
            p = list(a.get("pads", (0, 0, 0, 0))) if auto == "NOTSET" else [0, 0, 0, 0]
            if len(p) != 4:
                self.fail(node, f"pads {p}: 2-D only")
            return (p[0], p[2], p[1], p[3])
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            self.fail(node, f"auto_pad {auto}")
        out = []
        for i in range(2):
            o = -(-size[i] // strides[i])
            total = max(0, (o - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - size[i])
            small = total // 2
            out += [small, total - small] if auto == "SAME_UPPER" else [total - small, small]
        return tuple(out)

    def op_BatchNormalization(self, node):
        if not all(self.is_const(i) for i in node.input[1:5]):
            self.fail(node, "scale, B, mean and var must be constants")
        if _attrs(node).get("training_mode", 0):
            self.fail(node, "training_mode = 1 is not supported (inference only)")
        if len([o for o in node.output if o]) > 1:
            self.fail(node, "running statistics outputs are not supported")
        x = self.value(node, node.input[0])
        s, t = self.bn_affine(node)
        self.set(node, self.b.channel_affine(x, s, t, self.hint(node)))

    def op_Relu(self, node):
        self.set(node, self.b.relu(self.value(node, node.input[0]), self.hint(node)))

    def pool_args(self, node, x, what):
        a = _attrs(node)
        kernel = tuple(a["kernel_shape"])
        if len(kernel) != 2:
            self.fail(node, "2-D pooling only")
        strides = tuple(a.get("strides", (1, 1)))
        dil = tuple(a.get("dilations", (1, 1)))
        pads = self.pads(node, a, x.shape[2:], kernel, strides, dil)
        if a.get("ceil_mode", 0):
            floor = [conv_output_size(x.shape[2 + i], kernel[i], strides[i], pads[2 * i],
                                      pads[2 * i + 1], dil[i]) for i in range(2)]
            eff = [x.shape[2 + i] + pads[2 * i] + pads[2 * i + 1] - dil[i] * (kernel[i] - 1) - 1
                   for i in range(2)]
            if any(e % s for e, s in zip(eff, strides)) or min(floor) < 1:
                self.fail(node, f"ceil_mode = 1 changes the output size ({what})")
        if a.get("storage_order", 0):
            self.fail(node, "storage_order = 1 is not supported")
        return a, kernel, strides, dil, pads

    def op_MaxPool(self, node):
        if len([o for o in node.output if o]) > 1:
            self.fail(node, "the Indices output is not supported")
        x = self.value(node, node.input[0])
        _, kernel, strides, dil, pads = self.pool_args(node, x, "MaxPool")
        self.set(node, self.b.max_pool2d(x, kernel, strides, pads, dil, False, self.hint(node)))

    def op_AveragePool(self, node):
        x = self.value(node, node.input[0])
        a, kernel, strides, dil, pads = self.pool_args(node, x, "AveragePool")
        if dil != (1, 1):
            self.fail(node, "dilations are not supported")
        if (pads[0], pads[2]) != (pads[1], pads[3]) and a.get("count_include_pad", 0):
            self.fail(node, "count_include_pad with asymmetric pads")
        self.set(node, self.b.avg_pool2d(x, kernel, strides, pads, False,
                                         bool(a.get("count_include_pad", 0)), None,
                                         self.hint(node)))

    def op_GlobalAveragePool(self, node):
        self.set(node, self.b.global_avg_pool2d(self.value(node, node.input[0]), self.hint(node)))

    def op_Flatten(self, node):
        x = self.value(node, node.input[0])
        ax = _attrs(node).get("axis", 1) % (len(x.shape) + 1)
        shape = (math.prod(x.shape[:ax]), math.prod(x.shape[ax:]))
        self.set(node, self.b.reshape(x, shape, self.hint(node)))

    def op_Reshape(self, node):
        x = self.value(node, node.input[0])
        target = self.const(node, node.input[1], "shape")
        shape = self.reshape_target(node, x.shape, target, _attrs(node))
        self.set(node, self.b.reshape(x, shape, self.hint(node)))

    def _binary(self, node, op):
        a = self.operand(node, node.input[0])
        b = self.operand(node, node.input[1])
        self.set(node, self.b.binary(op, a, b, self.hint(node)))

    def op_Add(self, node):
        self._binary(node, "add")

    def op_Sub(self, node):
        self._binary(node, "sub")

    def op_Mul(self, node):
        self._binary(node, "mul")

    def op_Div(self, node):
        self._binary(node, "div")

    def op_Concat(self, node):
        vals = [self.value(node, i) for i in node.input]
        self.set(node, self.b.concat(vals, _attrs(node)["axis"], self.hint(node)))

    def op_Pad(self, node):
        a = _attrs(node)
        if _decode(a.get("mode", "constant")) != "constant":
            self.fail(node, f"mode {_decode(a['mode'])!r} (constant only)")
        x = self.value(node, node.input[0])
        pads = a["pads"] if "pads" in a else self.const(node, node.input[1], "pads")
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        value = 0.0
        if len(node.input) > 2 and node.input[2]:
            cv = self.const(node, node.input[2], "constant_value")
            value = float(np.asarray(cv).reshape(-1)[0])
        elif "value" in a:
            value = float(a["value"])
        if len(node.input) > 3 and node.input[3]:
            self.fail(node, "the axes input is not supported")
        r = len(x.shape)
        self.set(node, self.b.pad(x, pads[:r], pads[r:], value, self.hint(node)))

    def op_Identity(self, node):
        self.set(node, self.value(node, node.input[0]))

    def op_Dropout(self, node):
        if len(node.input) > 2 and node.input[2]:
            mode = self.const(node, node.input[2], "training_mode")
            if bool(np.asarray(mode).reshape(-1)[0]):
                self.fail(node, "training_mode = true is not supported (inference only)")
        if len(node.output) > 1 and node.output[1] and self.consumers.get(node.output[1]):
            self.fail(node, "the mask output is not supported")
        self.set(node, self.value(node, node.input[0]))

    def op_Shape(self, node):  # pragma: no cover - handled in run()
        self.fail(node, "Shape of an unknown tensor")


def import_onnx(model, func_name="forward", dialect="sparsenn", input_shapes=None, header=True):
    """MLIR text (one ``func.func``) computing an ONNX model's graph.

    Args:
        model: an ``onnx.ModelProto`` or a path to a ``.onnx`` file.
        func_name: the function's name (``sparse-run --entry``).
        dialect: ``"sparsenn"`` or ``"linalg"`` (see :mod:`sparsenn.irbuilder`).
        input_shapes: ``{input name: shape}`` for inputs with dynamic dimensions.
        header: prefix a comment naming the producer and opset.

    Raises:
        ExportError: unsupported operators (all listed), non-constant
            weights, dynamic shapes, unsupported attributes.
    """
    import onnx
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(model)
    else:
        m2 = onnx.ModelProto()
        m2.CopyFrom(model)  # folding rewrites node inputs: work on a copy
        model = m2
    builder = FunctionBuilder(func_name, dialect)
    _Importer(model, builder, input_shapes).run()
    note = None
    if header:
        opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
        producer = f"{model.producer_name} {model.producer_version}".strip() or "unknown"
        note = (f"Imported from ONNX (producer: {producer}; opset: {opsets}) by "
                f"sparsenn.onnx_import, dialect={dialect}.")
    return builder.module(note)


def _main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m sparsenn.onnx_import",
                                description="Convert an ONNX model to MLIR.")
    p.add_argument("model", help="a .onnx file")
    p.add_argument("--dialect", choices=["sparsenn", "linalg"], default="sparsenn")
    p.add_argument("--func-name", default="forward")
    p.add_argument("--input-shape", action="append", default=[],
                   help="NAME=d0,d1,... for an input with dynamic dimensions (repeatable)")
    p.add_argument("-o", "--output", default="-")
    args = p.parse_args(argv)
    shapes = {}
    for s in args.input_shape:
        name, _, dims = s.rpartition("=")
        shapes[name] = tuple(int(d) for d in dims.split(","))
    try:
        text = import_onnx(args.model, args.func_name, args.dialect, shapes)
    except ExportError as e:
        print(f"sparsenn.onnx_import: error: {e}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
