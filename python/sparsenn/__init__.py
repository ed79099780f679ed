"""sparsenn: pure-Python references for the sparse-opt compiler.

Submodules (imported lazily, so that ``sparsenn.spgc8_ref`` works without
PyTorch):

* :mod:`sparsenn.functional` - k-winners, threshold, duty cycles, sparsity
  normalisation, quantisation (PyTorch);
* :mod:`sparsenn.pruning` - the pruner logic of seed 003 FIG. 7a-7d and
  fixed fan-in masks (PyTorch);
* :mod:`sparsenn.losses` - the sparsity loss of seed 003 eq. 11-15 (PyTorch);
* :mod:`sparsenn.modules` - torch.nn modules and the networks of seed 000;
* :mod:`sparsenn.spgc8_ref` - the SPGC8 raw-stream reference (numpy only);
* :mod:`sparsenn.export` - torch.nn (torch.fx) to MLIR text (PyTorch);
* :mod:`sparsenn.onnx_import` - ONNX to MLIR text (onnx);
* :mod:`sparsenn.irbuilder` - the MLIR text emitter they share (numpy only);
* :mod:`sparsenn.compile` - ``sparsenn.compile(model, example_inputs, ...)``:
  a torch module or ONNX model to a compiled CPU callable, ``sparsenn.load``;
* :mod:`sparsenn.runtime` - calling ``sparse-compile`` libraries (numpy only).

The public functions of the first four are also reachable as attributes of
the package (``sparsenn.kwinners``, ``sparsenn.prune``, ...), each importing
its submodule on first use.
"""

import importlib

__all__ = ["functional", "pruning", "losses", "modules", "spgc8_ref", "export", "onnx_import",
           "irbuilder", "compile", "runtime"]

_SUBMODULES = frozenset(__all__)

# Public names re-exported lazily: name -> submodule.
_LAZY = {
    **{name: "functional" for name in (
        "kwinners", "kwinners_mask", "threshold", "apply_mask", "duty_cycle_update",
        "normalize_sparsity", "quantize_scales", "quantize", "dequantize", "resolve_k",
        "domain_size")},
    **{name: "pruning" for name in (
        "prune", "prune_mask", "prune_ste", "soft_prune_mask", "group_reduce", "expand_groups",
        "gaussian_threshold", "gumbel_threshold", "fixed_fan_in_mask", "spgc8_aligned_groups")},
    "load": "compile",
    **{name: "losses" for name in ("network_sparsity", "sparsity_loss", "total_loss")},
    **{name: "modules" for name in (
        "KWinners", "KWinners2d", "SparseWeights", "SparseWeights2d", "PrunedLinear",
        "PrunedConv2d", "seed000_sparse_cnn", "dense_cnn")},
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_LAZY))
