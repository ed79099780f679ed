"""Export a ``torch.nn`` model to MLIR text with the weights inside.

The model is traced with ``torch.fx`` (torch 1.13) and run once on the example
inputs (:class:`torch.fx.Interpreter`), which gives every node's static
shape; each node then becomes the ops of :class:`sparsenn.irbuilder.FunctionBuilder`.
The weights are ``dense<"0x...">`` hex constants (exact float32). The model
is exported in eval mode (as ``torch.onnx.export`` does: it is switched to
eval for the export and restored afterwards).

::

    from sparsenn.export import export
    text = export(model, (torch.randn(1, 1, 28, 28),))          # sparsenn form
    text = export(model, (x,), dialect="linalg")                 # upstream linalg form

    python3 -m sparsenn.export model.pt --input-shape 1,1,28,28 -o model.mlir

Supported (anything else raises :class:`ExportError` naming the node):

* ``nn.Linear`` / ``F.linear`` -> ``sparsenn.linear`` (``linalg.transpose`` +
  ``linalg.matmul`` + bias ``linalg.generic`` in the linalg form);
* ``nn.Conv2d`` / ``F.conv2d`` (stride, int/tuple/'same'/'valid' padding,
  dilation, groups incl. depthwise; a zero ``F.pad`` right before a conv is
  folded into its asymmetric padding) -> ``sparsenn.conv2d``
  (``linalg.conv_2d_nchw_fchw`` & co. with the bias broadcast as init);
* ``nn.BatchNorm1d/2d`` in eval mode: folded into the conv/linear right before
  it when that layer has no other user, else a per-channel affine
  ``linalg.generic``;
* ReLU (``nn.ReLU``, ``F.relu``, ``torch.relu``, ``x.relu()``), max/avg pooling
  (``nn.MaxPool2d``, ``F.max_pool2d``, ``nn.AvgPool2d``, ``F.avg_pool2d``,
  ``nn.AdaptiveAvgPool2d(1)``, ``x.mean((2, 3))``), ``F.pad`` (constant);
* reshapes (``nn.Flatten``, ``torch.flatten``, ``x.view``, ``x.reshape``,
  ``x.flatten``), ``torch.cat``, residual ``+`` / ``torch.add`` (and ``-``,
  ``*`` with broadcasting), ``nn.Dropout`` / ``F.dropout`` / ``nn.Identity``
  (identity in eval), ``x.contiguous()``, ``x.size()`` / ``x.shape``;
* the project's modules (fx leaves): :class:`~sparsenn.modules.SparseWeights`
  / ``SparseWeights2d`` -> the layer with ``sparsity =
  #sparsenn.sparsity<density = ..., fan_in = ...>`` (seed 000 [0041]-[0044]);
  :class:`~sparsenn.modules.KWinners` / ``KWinners2d`` -> ``sparsenn.kwinners``
  with the inference k (``k_inference``), the mode (``global`` / ``local`` /
  ``channel``), ``boost`` = the current boost strength and the duty cycles as
  a constant operand (boosting applies at inference too: seed 000 eq. 2 and 4,
  [0060]-[0065], [0073]-[0077]), ``break_ties`` and ``relu``;
  :class:`~sparsenn.modules.PrunedLinear` / ``PrunedConv2d`` -> the layer
  with its hard-pruned weight (seed 003 FIG. 7a-7d).

k-winners stays ``sparsenn.kwinners`` in the linalg form (no upstream op
selects top-k with boosting).
"""

import argparse
import operator
import sys

import numpy as np
import torch
import torch.fx
from torch import nn

from . import functional as SF
from . import modules as M
from .irbuilder import ExportError, FunctionBuilder, sparsity_fact

F = nn.functional

__all__ = ["export", "ExportError", "SparseTracer", "fold_batchnorm"]

# Modules kept whole by the tracer (their forward has Python control flow or
# state that fx cannot or should not trace through).
LEAF_MODULES = (M.KWinnersBase, M.SparseWeightsBase, M.PrunedLinear, M.PrunedConv2d)


class SparseTracer(torch.fx.Tracer):
    """``torch.fx.Tracer`` that keeps the project's modules as leaves."""

    def is_leaf_module(self, m, qualname):
        return isinstance(m, LEAF_MODULES) or super().is_leaf_module(m, qualname)


def fold_batchnorm(weight, bias, bn):
    """Fold an eval-mode batch norm into the layer before it.

    ``w' = w * s`` and ``b' = (b - mean) * s + beta`` per output channel with
    ``s = gamma / sqrt(var + eps)``, computed in float64 and rounded once to
    float32. Returns ``(w', b')`` as float32 numpy arrays -- exactly the
    constants the exporter writes (tests prune these to mirror the compiler).
    """
    w = np.asarray(weight, dtype=np.float64)
    mean = bn.running_mean.detach().double().numpy()
    var = bn.running_var.detach().double().numpy()
    gamma = bn.weight.detach().double().numpy() if bn.weight is not None else np.ones_like(mean)
    beta = bn.bias.detach().double().numpy() if bn.bias is not None else np.zeros_like(mean)
    s = gamma / np.sqrt(var + bn.eps)
    b = np.zeros_like(mean) if bias is None else np.asarray(bias, dtype=np.float64)
    w2 = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
    b2 = (b - mean) * s + beta
    return w2.astype(np.float32), b2.astype(np.float32)


def _bn_affine(bn):
    mean = bn.running_mean.detach().double().numpy()
    var = bn.running_var.detach().double().numpy()
    gamma = bn.weight.detach().double().numpy() if bn.weight is not None else np.ones_like(mean)
    beta = bn.bias.detach().double().numpy() if bn.bias is not None else np.zeros_like(mean)
    s = gamma / np.sqrt(var + bn.eps)
    return s, beta - mean * s


def _np(t):
    return None if t is None else t.detach().cpu().numpy().astype(np.float32)


def _pair(v):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]),) * 2
        return tuple(int(x) for x in v)
    return (int(v), int(v))


def _args(node, names, defaults):
    """Positional and keyword arguments of a call node by name (fx ``Node``
    arguments stay Nodes), with ``defaults`` for the missing ones."""
    out = dict(defaults)
    if len(node.args) > len(names):
        raise ExportError(f"node {node.name}: too many arguments")
    for name, a in zip(names, node.args):
        out[name] = a
    for name, a in node.kwargs.items():
        if name not in names and name not in defaults:
            raise ExportError(f"node {node.name}: unsupported argument {name!r}")
        out[name] = a
    return out


class _Recorder(torch.fx.Interpreter):
    """Runs the traced graph and keeps every node's value (shapes, Python ints)."""

    def __init__(self, gm):
        super().__init__(gm)
        self.values = {}

    def run_node(self, n):
        r = super().run_node(n)
        self.values[n] = r
        return r


class _Exporter:
    def __init__(self, gm, values, builder):
        self.gm = gm
        self.values = values
        self.b = builder
        self.env = {}          # node -> Value
        self.skip = set()      # nodes folded into another
        self.conv_override = {}  # conv node -> (weight, bias) after a folded batch norm
        self.pad_fold = {}     # conv node -> extra padding from a folded F.pad
        self.modules = dict(gm.named_modules())

    # -- helpers -----------------------------------------------------------

    def fail(self, node, what):
        target = node.target if node.op != "call_module" else type(self.modules[node.target])
        name = getattr(target, "__name__", str(target))
        raise ExportError(f"node '{node.name}' ({node.op} {name}): {what}")

    def tensor(self, node, a):
        if isinstance(a, torch.fx.Node):
            if a in self.env:
                return self.env[a]
            v = self.values.get(a)
            if isinstance(v, torch.Tensor):
                # A constant (get_attr) used as an activation.
                val = self.b.constant(_np(v), a.name)
                self.env[a] = val
                return val
        self.fail(node, f"expected a tensor operand, got {a!r}")

    def py(self, a):
        """A Python value (fx Nodes producing ints/tuples resolved)."""
        if isinstance(a, torch.fx.Node):
            return self.values[a]
        if isinstance(a, (list, tuple)):
            return type(a)(self.py(x) for x in a)
        return a

    def out_shape(self, node):
        v = self.values[node]
        return tuple(v.shape)

    def hint(self, node):
        """SSA name for a node: its fx name, with the module's class for the
        numbered children of an ``nn.Sequential`` (``%linear_1``)."""
        if node.op == "call_module" and node.name.lstrip("_")[:1].isdigit():
            m = self.modules[node.target]
            if isinstance(m, M.SparseWeightsBase):
                m = m.module
            return type(m).__name__.lower() + "_" + node.name.lstrip("_")
        return node.name

    def is_module(self, node, cls):
        return node.op == "call_module" and isinstance(self.modules[node.target], cls)

    def check(self, node, value):
        want = self.out_shape(node)
        if value.shape != want:
            self.fail(node, f"internal shape mismatch {value.shape} != PyTorch's {want}")
        return value

    # -- the pass --------------------------------------------------------------

    def run(self):
        self.plan_folds()
        results = None
        for node in self.gm.graph.nodes:
            if node in self.skip:
                continue
            if node.op == "placeholder":
                v = self.values[node]
                if not isinstance(v, torch.Tensor):
                    self.fail(node, "inputs must be tensors")
                if v.dtype != torch.float32:
                    self.fail(node, f"inputs must be float32, got {v.dtype}")
                self.env[node] = self.b.argument(node.name, v.shape)
            elif node.op == "get_attr":
                continue  # materialised on use
            elif node.op == "output":
                out = node.args[0]
                outs = list(out) if isinstance(out, (list, tuple)) else [out]
                results = [self.tensor(node, o) for o in outs]
            else:
                v = self.values[node]
                if not isinstance(v, torch.Tensor):
                    # Shape arithmetic (x.size(0), x.shape[1], ...): a Python value.
                    if node.op in ("call_method", "call_function") and self.is_shape_query(node):
                        continue
                    self.fail(node, "produces a non-tensor value")
                if v.dtype != torch.float32:
                    self.fail(node, f"produces {v.dtype}; only float32 is supported")
                r = self.lower(node)
                self.env[node] = self.check(node, r)
        self.b.returns(results)

    def is_shape_query(self, node):
        t = node.target
        if node.op == "call_method":
            return t in ("size", "dim")
        return t in (getattr, operator.getitem, len, operator.mul, operator.floordiv,
                     operator.add, operator.sub)

    def plan_folds(self):
        """Batch norms folded into the conv/linear before them; zero ``F.pad``
        folded into the conv after it (sparsenn form padding is asymmetric)."""
        for node in self.gm.graph.nodes:
            if self.is_module(node, (nn.BatchNorm1d, nn.BatchNorm2d)):
                src = node.args[0]
                bn = self.modules[node.target]
                params = self.layer_params(src) if isinstance(src, torch.fx.Node) else None
                # The batch norm's channel (dim 1) must be the layer's output
                # unit: any conv2d, a linear only on [B, F].
                if (params is not None and len(src.users) == 1 and bn.running_mean is not None
                        and (params[2] == "conv" or self.values[src].dim() == 2)):
                    w, b, _ = params
                    self.conv_override[src] = fold_batchnorm(w, b, bn)
                    self.skip.add(node)
                    node.replace_all_uses_with(src)
            if node.op == "call_function" and node.target is F.pad:
                a = _args(node, ["input", "pad", "mode", "value"],
                          {"mode": "constant", "value": None})
                pad = list(self.py(a["pad"]))
                val = a["value"] or 0.0
                if (a["mode"] == "constant" and val == 0.0 and len(pad) == 4 and min(pad) >= 0
                        and len(node.users) == 1):
                    user = next(iter(node.users))
                    if self.layer_params(user) is not None and user.args[0] is node \
                            and self.layer_params(user)[2] == "conv":
                        self.pad_fold[user] = (pad[2], pad[3], pad[0], pad[1])
                        self.skip.add(node)
                        node.replace_all_uses_with(node.args[0])

    def layer_params(self, node):
        """``(weight, bias, 'linear'|'conv')`` of a layer node with constant
        parameters, else ``None``."""
        if node.op == "call_module":
            m = self.modules[node.target]
            if isinstance(m, M.SparseWeightsBase):
                m = m.module
            if isinstance(m, (M.PrunedLinear, M.PrunedConv2d)):
                w = _np(m.pruned_weight()[0])
                return w, _np(m.bias), "linear" if isinstance(m, nn.Linear) else "conv"
            if isinstance(m, nn.Linear):
                return _np(m.weight), _np(m.bias), "linear"
            if isinstance(m, nn.Conv2d):
                return _np(m.weight), _np(m.bias), "conv"
            return None
        if node.op == "call_function" and node.target in (F.linear, F.conv2d):
            wnode = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            bnode = node.args[2] if len(node.args) > 2 else node.kwargs.get("bias")
            if not (isinstance(wnode, torch.fx.Node) and wnode.op == "get_attr"):
                return None
            if bnode is not None and not (isinstance(bnode, torch.fx.Node)
                                          and bnode.op == "get_attr"):
                return None
            w = _np(self.values[wnode])
            b = _np(self.values[bnode]) if bnode is not None else None
            return w, b, "linear" if node.target is F.linear else "conv"
        return None

    # -- lowering of one node ----------------------------------------------------

    def lower(self, node):
        if node.op == "call_module":
            return self.lower_module(node, self.modules[node.target])
        if node.op == "call_function":
            return self.lower_function(node, node.target)
        if node.op == "call_method":
            return self.lower_method(node, node.target)
        self.fail(node, "unsupported node kind")

    def layer(self, node, x, m=None, **kw):
        w, b, kind = self.layer_params(node)
        if node in self.conv_override:
            w, b = self.conv_override[node]
        # The declared fixed fan-in of SparseWeights (checked against the
        # weights), else what the weights measure (None when dense).
        if isinstance(m, M.SparseWeightsBase):
            sparsity = sparsity_fact(w, m.fan_in)
        else:
            sparsity = sparsity_fact(w)
        hint = self.hint(node)
        if kind == "linear":
            return self.b.linear(x, w, b, sparsity=sparsity, hint=hint)
        conv = kw["conv"]
        pad = conv["padding"]
        if node in self.pad_fold:
            extra = self.pad_fold[node]
            pad = tuple(p + e for p, e in zip(pad, extra))
        return self.b.conv2d(x, w, b, conv["stride"], pad, conv["dilation"], conv["groups"],
                             sparsity=sparsity, hint=hint)

    def conv_geometry(self, node, stride, padding, dilation, groups, weight_shape, mode="zeros"):
        if mode != "zeros":
            self.fail(node, f"padding_mode {mode!r} is not supported (zeros only)")
        stride, dilation = _pair(stride), _pair(dilation)
        if isinstance(padding, str):
            if padding == "valid":
                pad = (0, 0, 0, 0)
            elif padding == "same":
                tot = [dilation[i] * (weight_shape[2 + i] - 1) for i in range(2)]
                pad = (tot[0] // 2, tot[0] - tot[0] // 2, tot[1] // 2, tot[1] - tot[1] // 2)
            else:
                self.fail(node, f"padding {padding!r}")
        else:
            p = _pair(padding)
            pad = (p[0], p[0], p[1], p[1])
        return dict(stride=stride, padding=pad, dilation=dilation, groups=int(groups))

    def lower_module(self, node, m):
        x = self.tensor(node, node.args[0]) if node.args else None
        if len(node.args) != 1 or node.kwargs:
            self.fail(node, "expects exactly one input")
        if isinstance(m, M.SparseWeightsBase) or isinstance(m, (nn.Linear, nn.Conv2d)):
            inner = m.module if isinstance(m, M.SparseWeightsBase) else m
            if isinstance(inner, nn.Conv2d):
                if inner.padding_mode != "zeros":
                    self.fail(node, f"padding_mode {inner.padding_mode!r} is not supported")
                conv = self.conv_geometry(node, inner.stride, inner.padding, inner.dilation,
                                          inner.groups, inner.weight.shape)
                return self.layer(node, x, m, conv=conv)
            if isinstance(inner, nn.Linear):
                return self.layer(node, x, m)
            self.fail(node, f"SparseWeights around {type(inner).__name__}")
        if isinstance(m, M.KWinners):
            return self.kwinners(node, x, m, "global", m.k_inference)
        if isinstance(m, M.KWinners2d):
            n = SF.domain_size(x.shape, m.mode)
            # KWinners2d._set_domain: the inference k of a domain of n.
            k = max(1, min(n, int(round(n * m.percent_on_inference))))
            return self.kwinners(node, x, m, m.mode, k)
        if isinstance(m, (nn.ReLU,)):
            return self.b.relu(x, self.hint(node))
        if isinstance(m, (nn.Identity, nn.Dropout, nn.Dropout2d, nn.AlphaDropout)):
            return x
        if isinstance(m, nn.Flatten):
            return self.b.reshape(x, self.out_shape(node), self.hint(node))
        if isinstance(m, nn.MaxPool2d):
            if m.return_indices:
                self.fail(node, "return_indices is not supported")
            k = _pair(m.kernel_size)
            return self.b.max_pool2d(x, k, _pair(m.stride or k), _pair(m.padding),
                                     _pair(m.dilation), m.ceil_mode, self.hint(node))
        if isinstance(m, nn.AvgPool2d):
            k = _pair(m.kernel_size)
            return self.b.avg_pool2d(x, k, _pair(m.stride or k), _pair(m.padding), m.ceil_mode,
                                     m.count_include_pad, m.divisor_override, self.hint(node))
        if isinstance(m, nn.AdaptiveAvgPool2d):
            if _pair(m.output_size) != (1, 1):
                self.fail(node, f"only output_size 1 is supported, got {m.output_size}")
            return self.b.global_avg_pool2d(x, self.hint(node))
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if m.running_mean is None:
                self.fail(node, "batch norm without running statistics")
            if len(x.shape) < 2:
                self.fail(node, f"batch norm on rank {len(x.shape)}")
            s, t = _bn_affine(m)
            return self.b.channel_affine(x, s, t, self.hint(node))
        self.fail(node, "unsupported module")

    def kwinners(self, node, x, m, mode, k):
        boost = float(m.boost_strength)
        duty = _np(m.duty_cycle) if boost > 0.0 else None
        return self.b.kwinners(x, mode, k, duty_cycle=duty, boost=boost,
                               break_ties=m.break_ties, relu=m.relu, hint=self.hint(node))

    def lower_function(self, node, fn):
        name = node.name
        if fn in (F.relu, torch.relu):
            return self.b.relu(self.tensor(node, node.args[0]), name)
        if fn in (operator.add, operator.iadd, torch.add, operator.sub, operator.isub, torch.sub,
                  operator.mul, operator.imul, torch.mul):
            op = {operator.add: "add", operator.iadd: "add", torch.add: "add",
                  operator.sub: "sub", operator.isub: "sub", torch.sub: "sub",
                  operator.mul: "mul", operator.imul: "mul", torch.mul: "mul"}[fn]
            a = _args(node, ["input", "other"], {"alpha": 1})
            if self.py(a["alpha"]) != 1:
                self.fail(node, "alpha != 1 is not supported")
            return self.b.binary(op, self.operand(node, a["input"]),
                                 self.operand(node, a["other"]), name)
        if fn in (torch.cat, torch.concat):
            a = _args(node, ["tensors", "dim"], {"dim": 0})
            return self.b.concat([self.tensor(node, t) for t in a["tensors"]],
                                 int(self.py(a["dim"])), name)
        if fn in (torch.flatten, torch.reshape):
            return self.b.reshape(self.tensor(node, node.args[0]), self.out_shape(node), name)
        if fn is F.dropout:
            a = _args(node, ["input", "p", "training", "inplace"],
                      {"p": 0.5, "training": True, "inplace": False})
            if self.py(a["training"]):
                self.fail(node, "F.dropout with training=True (pass training=self.training)")
            return self.tensor(node, a["input"])
        if fn in (F.linear, F.conv2d):
            if self.layer_params(node) is None:
                self.fail(node, "weights and bias must be module parameters/buffers (constants)")
            x = self.tensor(node, node.args[0])
            if fn is F.linear:
                return self.layer(node, x)
            a = _args(node, ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
                      {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1})
            conv = self.conv_geometry(node, self.py(a["stride"]), self.py(a["padding"]),
                                      self.py(a["dilation"]), self.py(a["groups"]),
                                      self.values[a["weight"]].shape)
            return self.layer(node, x, conv=conv)
        if fn is F.max_pool2d:
            a = _args(node, ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                             "return_indices"],
                      {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                       "return_indices": False})
            if self.py(a["return_indices"]):
                self.fail(node, "return_indices is not supported")
            k = _pair(self.py(a["kernel_size"]))
            s = self.py(a["stride"])
            return self.b.max_pool2d(self.tensor(node, a["input"]), k, _pair(s) if s else k,
                                     _pair(self.py(a["padding"])), _pair(self.py(a["dilation"])),
                                     bool(self.py(a["ceil_mode"])), name)
        if fn is F.avg_pool2d:
            a = _args(node, ["input", "kernel_size", "stride", "padding", "ceil_mode",
                             "count_include_pad", "divisor_override"],
                      {"stride": None, "padding": 0, "ceil_mode": False,
                       "count_include_pad": True, "divisor_override": None})
            k = _pair(self.py(a["kernel_size"]))
            s = self.py(a["stride"])
            return self.b.avg_pool2d(self.tensor(node, a["input"]), k, _pair(s) if s else k,
                                     _pair(self.py(a["padding"])), bool(self.py(a["ceil_mode"])),
                                     bool(self.py(a["count_include_pad"])),
                                     self.py(a["divisor_override"]), name)
        if fn is F.adaptive_avg_pool2d:
            if _pair(self.py(node.args[1] if len(node.args) > 1
                             else node.kwargs["output_size"])) != (1, 1):
                self.fail(node, "only output_size 1 is supported")
            return self.b.global_avg_pool2d(self.tensor(node, node.args[0]), name)
        if fn is F.pad:
            a = _args(node, ["input", "pad", "mode", "value"], {"mode": "constant", "value": None})
            if a["mode"] != "constant":
                self.fail(node, f"pad mode {a['mode']!r} (constant only)")
            x = self.tensor(node, a["input"])
            pad = list(self.py(a["pad"]))
            low, high = [0] * len(x.shape), [0] * len(x.shape)
            for i in range(len(pad) // 2):
                low[-1 - i], high[-1 - i] = pad[2 * i], pad[2 * i + 1]
            return self.b.pad(x, low, high, float(self.py(a["value"]) or 0.0), name)
        if fn is torch.mean:
            return self.mean(node, node.args[0], node.args[1:], node.kwargs)
        self.fail(node, "unsupported function")

    def operand(self, node, a):
        """A tensor Value, or a Python/torch constant as a numpy array."""
        if isinstance(a, torch.fx.Node):
            v = self.values[a]
            if isinstance(v, torch.Tensor):
                return self.tensor(node, a)
            a = v
        if isinstance(a, (int, float)):
            return np.asarray(a, dtype=np.float32)
        if isinstance(a, torch.Tensor):
            return _np(a)
        self.fail(node, f"unsupported operand {a!r}")

    def mean(self, node, x, rest, kwargs):
        a = dict(zip(["dim", "keepdim"], rest))
        a.update(kwargs)
        dims = self.py(a.get("dim"))
        xv = self.tensor(node, x)
        dims = tuple(sorted(d % len(xv.shape) for d in
                            (dims if isinstance(dims, (list, tuple)) else [dims])))
        if len(xv.shape) != 4 or dims != (2, 3) or "dtype" in a:
            self.fail(node, "mean is supported over dims (2, 3) of an NCHW tensor only")
        g = self.b.global_avg_pool2d(xv, node.name)
        return self.b.reshape(g, self.out_shape(node), node.name + "_r")

    def lower_method(self, node, name):
        x = self.tensor(node, node.args[0])
        if name in ("relu", "relu_"):
            return self.b.relu(x, node.name)
        if name in ("view", "reshape", "flatten"):
            return self.b.reshape(x, self.out_shape(node), node.name)
        if name in ("contiguous", "clone", "float"):
            return x
        if name in ("add", "add_", "sub", "mul"):
            op = name.rstrip("_")
            a = _args(node, ["self", "other"], {"alpha": 1})
            if self.py(a["alpha"]) != 1:
                self.fail(node, "alpha != 1 is not supported")
            return self.b.binary(op, x, self.operand(node, a["other"]), node.name)
        if name == "mean":
            return self.mean(node, node.args[0], node.args[1:], node.kwargs)
        self.fail(node, "unsupported method")


def export(model, example_inputs, func_name="forward", dialect="sparsenn", header=True):
    """MLIR text (one ``func.func``) computing ``model`` at inference.

    Args:
        model: a ``torch.nn.Module`` (float32); exported in eval mode.
        example_inputs: a tensor or a tuple of tensors; their shapes become
            the function's static argument types.
        func_name: the function's name (``sparse-run --entry``).
        dialect: ``"sparsenn"`` (sparsenn.linear / conv2d with sparsity
            facts) or ``"linalg"`` (upstream linalg for the layers; the input
            of ``sparsenn-import``).
        header: prefix a comment saying where the IR comes from.

    Raises:
        ExportError: an unsupported module, function or argument, naming
            the fx node.
    """
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    was_training = model.training
    model.eval()
    try:
        tracer = SparseTracer()
        graph = tracer.trace(model)
        gm = torch.fx.GraphModule(tracer.root, graph)
        with torch.no_grad():
            rec = _Recorder(gm)
            rec.run(*example_inputs)
            builder = FunctionBuilder(func_name, dialect)
            _Exporter(gm, rec.values, builder).run()
    finally:
        model.train(was_training)
    note = None
    if header:
        note = (f"Exported from PyTorch {torch.__version__} ({type(model).__name__}) by "
                f"sparsenn.export, dialect={dialect}, torch.fx trace.")
    return builder.module(note)


def _main(argv=None):
    p = argparse.ArgumentParser(
        prog="python3 -m sparsenn.export",
        description="Export a saved torch.nn model (torch.save of the whole module) to MLIR.")
    p.add_argument("model", help="file written by torch.save(model, path)")
    p.add_argument("--input-shape", action="append", required=True,
                   help="comma-separated shape of an input, e.g. 1,1,28,28 (repeat per input)")
    p.add_argument("--dialect", choices=["sparsenn", "linalg"], default="sparsenn")
    p.add_argument("--func-name", default="forward")
    p.add_argument("-o", "--output", default="-")
    args = p.parse_args(argv)
    model = torch.load(args.model)
    inputs = tuple(torch.zeros([int(d) for d in s.split(",")]) for s in args.input_shape)
    try:
        text = export(model, inputs, args.func_name, args.dialect)
    except ExportError as e:
        print(f"sparsenn.export: error: {e}", file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
