"""One call from a model to a fast callable: ``sparsenn.compile``.

    import sparsenn
    fast = sparsenn.compile(model, torch.randn(1, 3, 224, 224), sparsity=0.9)
    y = fast(x)                  # torch in, torch out (numpy in, numpy out)
    print(fast.summary)          # the layer table of sparsenn-print-summary
    print(fast.kernels)          # [(layer, kernel format), ...]
    fast.save("resnet-sparse")   # library + metadata, no PyTorch needed to load
    fast = sparsenn.load("resnet-sparse")

``model`` is a ``torch.nn.Module`` (exported with :mod:`sparsenn.export`,
torch.fx) or an ONNX model (a path or an ``onnx.ModelProto``, imported with
:mod:`sparsenn.onnx_import`). The steps are those of the command line:
``sparse-opt --sparsenn-sparsify=...`` (pruning, channel pruning, kernel
selection, optional SPGC8 compression), ``--sparsenn-print-summary`` and
``sparse-compile`` to a shared library, which :class:`CompiledModel` calls
through :mod:`sparsenn.runtime`. From the shell:

    python3 -m sparsenn.compile model.onnx -o out --sparsity 0.9
    python3 -m sparsenn.compile torchvision.models:resnet18 \\
        --input-shape 1,3,224,224 -o out --sparsity 0.9 --granularity element
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import types

import numpy as np

if not __package__:  # run as a script: make the sparsenn package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sparsenn.runtime import (CompiledFunction, DriverError, find_tools,  # noqa: E402
                              get_num_threads, run_tool, set_num_threads)

__all__ = ["compile", "load", "CompiledModel", "DriverError"]

_LIBRARY = "libmodel.so"
_META = "model.json"
_IR = "model.mlir"
_SUMMARY = "summary.txt"
_FUNC = "forward"

_METHODS = ("quantile", "gaussian", "gumbel")
_GRANULARITIES = ("element", "group", "input_channel", "output_filter")
_REDUCTIONS = ("max", "mean")


def _shapes(types_text):
    """The shapes of the ``tensor<AxBx...xf32>`` types in ``types_text``."""
    shapes = []
    for m in re.finditer(r"tensor<([^>]*)>", types_text):
        parts = m.group(1).split("x")
        if parts[-1] != "f32":
            raise DriverError(f"compiled functions take and return f32 tensors, got "
                              f"tensor<{m.group(1)}>")
        if any(not p.isdigit() for p in parts[:-1]):
            raise DriverError(f"tensor<{m.group(1)}> has a dynamic dimension: give static "
                              "example inputs (or input_shapes for ONNX)")
        shapes.append(tuple(int(p) for p in parts[:-1]))
    return shapes


def _signature(ir, name):
    """Argument and result shapes of ``func.func @name`` in ``ir``."""
    m = re.search(r"func\.func @" + re.escape(name) + r"\((.*?)\)\s*(->\s*(\(.*?\)|[^{]*))?\{",
                  ir, re.S)
    if not m:
        raise DriverError(f"no function @{name} in the compiled module")
    args = _shapes(re.sub(r"\{[^}]*\}", "", m.group(1)))  # drop argument attributes
    results = _shapes(m.group(3) or "")
    return args, results


def _kernels(ir):
    """``[(layer, kernel format)]`` in program order for the layers of ``ir``."""
    layers = []
    for m in re.finditer(r"(sparsenn\.(?:linear|conv2d))\b([^\n]*)", ir):
        k = re.search(r"kernel = #sparsenn\.kernel<([a-z_0-9]+)>", m.group(2))
        layers.append((f"{len(layers)} {m.group(1)}", k.group(1) if k else "dense"))
    return layers


def _sparsify_options(sparsity, layer_sparsity, method, granularity, group_shape, reduction,
                      spgc8_aligned, propagate_channels, compress, bits):
    if method not in _METHODS:
        raise DriverError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    if granularity not in _GRANULARITIES:
        raise DriverError(f"granularity must be one of {', '.join(_GRANULARITIES)}, "
                          f"got {granularity!r}")
    if reduction not in _REDUCTIONS:
        raise DriverError(f"reduction must be one of {', '.join(_REDUCTIONS)}, got "
                          f"{reduction!r}")
    if sparsity is not None and not 0.0 <= float(sparsity) <= 1.0:
        raise DriverError(f"sparsity must be in [0, 1], got {sparsity}")
    opts = [f"method={method}", f"granularity={granularity}", f"reduction={reduction}",
            f"propagate-channels={'true' if propagate_channels else 'false'}"]
    if sparsity is not None:
        opts.append(f"sparsity={float(sparsity)!r}")
    if layer_sparsity:
        opts.append("layer-sparsity=" + ",".join(repr(float(s)) for s in layer_sparsity))
    if group_shape:
        opts.append("group-shape=" + ",".join(str(int(g)) for g in group_shape))
    if spgc8_aligned:
        opts.append("spgc8-aligned=true")
    if compress:
        opts.append(f"compress=true bits={int(bits)}")
    return " ".join(opts)


class CompiledModel:
    """A compiled model: call it on torch tensors or numpy arrays (float32, the
    shapes it was compiled for); it returns the same kind (one value, or a
    tuple for several results). ``summary`` is the layer table, ``kernels``
    the kernel format each layer got, ``input_shapes`` / ``output_shapes``
    the static shapes."""

    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        meta_path = os.path.join(self.directory, _META)
        try:
            with open(meta_path) as f:
                self.meta = json.load(f)
        except (OSError, ValueError) as e:
            raise DriverError(f"{meta_path}: not a compiled sparsenn model ({e})") from None
        self.input_shapes = [tuple(s) for s in self.meta["input_shapes"]]
        self.output_shapes = [tuple(s) for s in self.meta["output_shapes"]]
        self.kernels = [tuple(k) for k in self.meta["kernels"]]
        self.options = self.meta.get("options", {})
        summary = os.path.join(self.directory, _SUMMARY)
        self.summary = open(summary).read() if os.path.exists(summary) else ""
        self._fn = CompiledFunction(os.path.join(self.directory, _LIBRARY),
                                    self.meta["function"], self.input_shapes,
                                    self.output_shapes)

    def __call__(self, *inputs):
        torch_in = None
        arrays = []
        for x in inputs:
            if type(x).__module__.startswith("torch"):
                torch_in = type(x)
                arrays.append(np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32))
            else:
                arrays.append(np.ascontiguousarray(x, dtype=np.float32))
        outs = self._fn(*arrays)
        if torch_in is not None:
            import torch
            outs = [torch.from_numpy(o) for o in outs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    @property
    def threads(self):
        """Kernel threads (settable; 0 restores the default)."""
        return get_num_threads(self._fn)

    @threads.setter
    def threads(self, n):
        set_num_threads(self._fn, n)

    def save(self, directory):
        """Copies the library, its metadata, IR and summary to ``directory``
        (created); :func:`load` reads it back, without PyTorch."""
        directory = os.path.abspath(directory)
        if directory == self.directory:
            return directory
        os.makedirs(directory, exist_ok=True)
        for name in (_LIBRARY, _META, _IR, _SUMMARY):
            src = os.path.join(self.directory, name)
            if os.path.exists(src):
                shutil.copy2(src, os.path.join(directory, name))
        return directory

    def __repr__(self):
        kinds = {}
        for _, k in self.kernels:
            kinds[k] = kinds.get(k, 0) + 1
        ks = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        return (f"CompiledModel({self.directory!r}, inputs {self.input_shapes}, outputs "
                f"{self.output_shapes}, {len(self.kernels)} layers: {ks})")


def load(directory):
    """The :class:`CompiledModel` saved in ``directory``."""
    return CompiledModel(directory)


def _front_end(model, example_inputs, input_shapes, dialect="sparsenn"):
    """MLIR text of ``model`` and a short name of where it comes from."""
    onnx_path = isinstance(model, (str, os.PathLike))
    if onnx_path or type(model).__name__ == "ModelProto":
        from sparsenn.onnx_import import import_onnx
        if onnx_path and not os.path.exists(model):
            raise DriverError(f"{model}: no such ONNX file")
        return import_onnx(model, func_name=_FUNC, dialect=dialect,
                           input_shapes=input_shapes), "onnx"
    import torch
    if not isinstance(model, torch.nn.Module):
        raise DriverError(f"model must be a torch.nn.Module or an ONNX model (path or "
                          f"onnx.ModelProto), got {type(model).__name__}")
    if example_inputs is None:
        raise DriverError("a torch model needs example_inputs (a tensor or a tuple of "
                          "tensors of the shapes to compile for)")
    from sparsenn.export import export
    return export(model, example_inputs, func_name=_FUNC, dialect=dialect), "torch"


def compile(model, example_inputs=None, *, sparsity=None, layer_sparsity=None,
            method="quantile", granularity="element", group_shape=None, reduction="max",
            spgc8_aligned=False, propagate_channels=True, compress=False, bits=8,
            input_shapes=None, output_dir=None, tools_dir=None, progress=None):
    """Compiles ``model`` for the CPU and returns a :class:`CompiledModel`.

    Args:
        model: a ``torch.nn.Module`` (float32; compiled in eval mode) or an
            ONNX model (path or ``onnx.ModelProto``).
        example_inputs: a tensor or tuple of tensors (torch models); their
            shapes are the compiled shapes.
        sparsity: target sparsity s in [0, 1] of every layer (None: the
            weights are kept as they are, zeros included, and each layer
            gets the kernel its measured sparsity calls for).
        layer_sparsity: per-layer targets in layer order (a negative entry
            leaves that layer alone); overrides ``sparsity``.
        method, granularity, group_shape, reduction: the pruner (EP
            21216321.6 FIG. 7a-7d) and what it prunes as one unit.
        spgc8_aligned: prune 1x16 input-channel groups aligned to SPGC8.
        propagate_channels: remove the channels pruning left unused.
        compress: store weights SPGC8-compressed (``bits`` 8 or 16).
        input_shapes: ``{name: shape}`` for ONNX inputs with dynamic dims.
        output_dir: where the library and its files go (default: a new
            temporary directory; ``save`` copies it elsewhere).
        tools_dir: where ``sparse-opt`` and ``sparse-compile`` are.
        progress: a function called with one line per step (e.g. ``print``).

    Raises:
        DriverError: a tool failed (its message included), an unsupported
            op or argument.
    """
    say = progress or (lambda line: None)
    opt, sparse_compile = find_tools(tools_dir)
    options = _sparsify_options(sparsity, layer_sparsity, method, granularity, group_shape,
                                reduction, spgc8_aligned, propagate_channels, compress, bits)
    out = os.path.abspath(output_dir) if output_dir else tempfile.mkdtemp(prefix="sparsenn-")
    os.makedirs(out, exist_ok=True)
    t = time.time()
    ir, source = _front_end(model, example_inputs, input_shapes)
    raw = os.path.join(out, "imported.mlir")
    with open(raw, "w") as f:
        f.write(ir)
    say(f"sparsenn.compile: {source} front end: {len(ir) / 1e6:.1f} MB of IR "
        f"({time.time() - t:.1f} s)")
    t = time.time()
    ir_path = os.path.join(out, _IR)
    run_tool([opt, raw, f"--sparsenn-sparsify={options}", "-o", ir_path])
    summary_path = os.path.join(out, _SUMMARY)
    run_tool([opt, ir_path, f"--sparsenn-print-summary=output={summary_path}",
              "-o", os.devnull])
    os.remove(raw)
    say(f"sparsenn.compile: sparse-opt --sparsenn-sparsify=\"{options}\" "
        f"({time.time() - t:.1f} s)")
    with open(ir_path) as f:
        sparse_ir = f.read()
    inputs, outputs = _signature(sparse_ir, _FUNC)
    meta = {"function": _FUNC, "input_shapes": inputs, "output_shapes": outputs,
            "kernels": _kernels(sparse_ir), "source": source,
            "options": {"sparsify": options}}
    t = time.time()
    run_tool([sparse_compile, ir_path, "-o", os.path.join(out, _LIBRARY)])
    say(f"sparsenn.compile: sparse-compile ({time.time() - t:.1f} s) -> {out}")
    with open(os.path.join(out, _META), "w") as f:
        json.dump(meta, f, indent=1)
    return CompiledModel(out)


def _build_torch_model(spec):
    """``package.module:callable`` -> the module it returns (eval mode)."""
    import importlib
    mod, _, attr = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as e:
        raise DriverError(f"cannot find {spec!r} ({e})") from None
    return factory().eval()


def _main(argv=None):
    p = argparse.ArgumentParser(
        prog="python3 -m sparsenn.compile",
        description="Compile a model (an ONNX file, or package.module:callable returning a "
                    "torch.nn.Module) to a CPU library that sparsenn.load() reads back.")
    p.add_argument("model", help="model.onnx, or e.g. torchvision.models:resnet18")
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.add_argument("--input-shape", help="comma-separated input shape (torch models; "
                   "ONNX inputs with dynamic dimensions)")
    p.add_argument("--sparsity", type=float)
    p.add_argument("--layer-sparsity", help="comma-separated per-layer targets")
    p.add_argument("--method", default="quantile", choices=_METHODS)
    p.add_argument("--granularity", default="element", choices=_GRANULARITIES)
    p.add_argument("--group-shape", help="comma-separated group shape")
    p.add_argument("--reduction", default="max", choices=_REDUCTIONS)
    p.add_argument("--spgc8-aligned", action="store_true")
    p.add_argument("--no-propagate-channels", action="store_true")
    p.add_argument("--compress", action="store_true")
    p.add_argument("--bits", type=int, default=8, choices=(8, 16))
    p.add_argument("--tools", help="directory of sparse-opt and sparse-compile")
    a = p.parse_args(argv)

    def ints(text):
        return [int(v) for v in text.split(",")] if text else None
    try:
        shape = ints(a.input_shape)
        if a.model.endswith(".onnx") or os.path.exists(a.model):
            model, example, input_shapes = a.model, None, None
            if shape:
                import onnx
                name = onnx.load(a.model, load_external_data=False).graph.input[0].name
                input_shapes = {name: shape}
        else:
            if not shape:
                raise DriverError("a torch model needs --input-shape")
            import torch
            model, example, input_shapes = _build_torch_model(a.model), torch.randn(*shape), None
        m = compile(model, example, sparsity=a.sparsity,
                    layer_sparsity=[float(v) for v in a.layer_sparsity.split(",")]
                    if a.layer_sparsity else None,
                    method=a.method, granularity=a.granularity,
                    group_shape=ints(a.group_shape), reduction=a.reduction,
                    spgc8_aligned=a.spgc8_aligned,
                    propagate_channels=not a.no_propagate_channels, compress=a.compress,
                    bits=a.bits, input_shapes=input_shapes, output_dir=a.output,
                    tools_dir=a.tools, progress=lambda line: print(line, file=sys.stderr))
    except DriverError as e:
        print(f"sparsenn.compile: error: {e}", file=sys.stderr)
        return 1
    print(m.summary, end="")
    print(repr(m))
    return 0


class _CallableModule(types.ModuleType):
    """``sparsenn.compile(...)`` calls :func:`compile` although
    ``sparsenn.compile`` is this module (so that ``python3 -m sparsenn.compile``
    works too)."""

    def __call__(self, *args, **kwargs):
        return compile(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    sys.exit(_main())
