#!/usr/bin/env python3
"""Fashion-MNIST training through the compiled training step (issue 6).

The driver writes a forward function in the ``sparsenn`` dialect, lets the
compiler generate its training step (``--sparsenn-generate-train-step``),
compiles the step and an evaluation forward ahead of time (``sparse-compile``)
and calls both through their C interface (``ctypes``,
``runtime/include/sparsenn/Runtime/Model.h``). Python only shuffles the data,
keeps the weights, momenta and duty cycles as numpy arrays between steps and
measures; every forward, backward and SGD update runs in compiled code.

Variants (all in the shape of seed 000 Table 1 unless ``--model small``):

* ``dense``: conv 64@5x5 -> max-pool -> ReLU -> conv 64@5x5 -> max-pool ->
  ReLU -> linear 1024->1000 -> ReLU -> linear 1000->10 (Table 1 "denseCNN2");
* ``sparse``: seed 000's sparse CNN (the shapes and k of
  ``python/tests/test_channel_pruning_equivalence.py`` ``seed000_full``):
  k-winners with boosting and duty cycles after each pooled conv (10 % of
  C*H*W) and after the hidden layer (k = 100), conv2 and the hidden layer with
  a fixed fan-in at 90 % weight sparsity ([0041]-[0044], [0056]-[0057]);
* ``learned``: the same shape with every weight layer pruned by
  ``sparsenn.prune <gaussian>`` (seed 003 FIG. 7c) with a learnable per-layer
  sparsity parameter, trained with the sparsity loss (eq. 13, or eq. 15 with
  ``--theta``). Design for >= 80 % weight sparsity within a point of the
  dense accuracy: the activations are the dense CNN's ReLUs (by default;
  ``--activation kwinners`` gives seed 000's k-winners CNN with learned
  instead of fixed weight sparsity), so that the learned sparsity is the
  only difference from the dense baseline -- in 300-step runs k-winners
  slowed early learning (70 % test accuracy against 83 % with ReLU,
  docs/results.md). The sparsity loss's pull on layer j is weighted by its
  share of the coefficients (eq. 14), so the 1024x1000 layer (90 % of the
  weights) gets pruned hardest and the small first conv hardly at all;
  without theta the loss settles where alpha*L_ce*c = (1 - alpha)*(1 - c),
  i.e. at c = (1 - alpha) / (alpha*L_ce + 1 - alpha): with the default
  alpha = 0.3 that is 0.83-0.89 for a training cross-entropy of 0.5-0.3,
  and the coupling to L_ce backs off when pruning costs accuracy. Weights
  start from a normal distribution so that s^phi is the pruned fraction at
  the start (the Gaussian pruner's threshold assumes it).

Every variant has a batch norm after each conv (before its pooling) and
after the hidden linear layer, as Numenta's sparse and dense CNNs
(nupic.torch ``BatchNorm2d/1d(affine=False)``; ``--no-batch-norm`` drops
them, ``--bn-affine`` trains a scale and shift). Schedule: SGD with momentum,
the learning rate times ``--lr-gamma`` (0.9) and the boost strength times
``--boost-strength-factor`` (0.9, nupic.torch's default) after each epoch;
both are constants of the compiled step, which is compiled again for each
epoch. The evaluation forward uses the batch norms' running statistics and
k times ``--k-inference-factor`` (1.5).

Per epoch it prints the training loss, test accuracy, learned sparsity per
layer, overall weight sparsity, duty-cycle entropy, time per epoch and ms
per step. At the end it saves the trained parameters (``arg<i>.npy``),
writes the finalised inference model (``--sparsenn-finalize-training``) to
``OUT/model.mlir``, compiles and evaluates it, measures the noise score of
seed 000 Table 2 and writes ``OUT/summary.json``.

Definitions:

* duty-cycle entropy: nupic.torch's (``KWinnersBase.entropy`` /
  ``duty_cycle_metrics.binary_entropy``, ``max_entropy``; seed 000 itself
  defines none): the sum over units of the binary entropy (bits) of their
  duty cycle, for 2-D layers (one duty cycle per channel, eq. 3) times the
  H*W positions of a channel; reported with its maximum n*H(k/n) and their
  ratio (1 = every unit active at the target rate k/n);
* noise score (seed 000 [0079]-[0080], Table 2): "the total number of
  correctly classified inputs for all test inputs that have noise added to
  it", and noise accuracy, the mean accuracy over those noisy test sets, at
  eta = 0.05, 0.10, ..., 0.50 (eta = 0 is the clean test set), every test
  image at every level. The seed says "additive noise" and no more:
  ``gaussian`` is x + eta*N(0, 1) on [0, 1] pixels, clipped; ``salt`` sets a
  fraction eta of each image's pixels to white (Numenta's MNIST
  experiments); ``uniform`` is nupic.torch's ``AddNoise`` of the
  speech-commands experiments behind Table 2 (``(1 - eta)*x + eta*u``).

usage: python3 -m sparsenn.train --variant learned --epochs 1 --train-subset 6400 --out runs/learned
"""

import argparse
import dataclasses
import gzip
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np

if not __package__:  # run as a script: make the sparsenn package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sparsenn.irbuilder import ttype  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
# Fashion-MNIST pixel statistics (training set, pixels in [0, 1]).
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530
# Seed 000 Table 2's evaluation: noise levels 0 to 0.5 in steps of 0.05.
NOISE_LEVELS = tuple(round(0.05 * i, 2) for i in range(11))
NOISE_KINDS = ("gaussian", "salt", "uniform")
VARIANTS = ("dense", "sparse", "learned")


# DriverError, find_tools, run_tool, CompiledFunction and keep_freed_memory
# live in sparsenn.runtime (the public way to call compiled libraries).
from sparsenn.runtime import (CompiledFunction, DriverError, find_tools,  # noqa: E402,F401
                              keep_freed_memory, run_tool)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def _read_idx(path, magic, dims):
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DriverError(f"Fashion-MNIST file {path} is missing (install the Debian package "
                          "dataset-fashion-mnist, or pass --data DIR)") from None
    except (OSError, EOFError) as e:
        raise DriverError(f"cannot read {path}: {e}") from None
    header = np.frombuffer(raw[:4 + 4 * dims], dtype=">u4")
    if len(header) != 1 + dims or header[0] != magic:
        raise DriverError(f"{path} is not an IDX file with magic {magic}")
    shape = tuple(int(d) for d in header[1:])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != math.prod(shape):
        raise DriverError(f"{path}: expected {math.prod(shape)} bytes of data, got {data.size}")
    return data.reshape(shape)


def load_fashion_mnist(directory=DEFAULT_DATA):
    """``(train_x, train_y, test_x, test_y)``: images as uint8 [N, 28, 28],
    labels as uint8 [N], from the four ``*-ubyte.gz`` files in ``directory``."""
    if not os.path.isdir(directory):
        raise DriverError(f"Fashion-MNIST directory {directory} does not exist (install the "
                          "Debian package dataset-fashion-mnist, or pass --data DIR)")
    out = []
    for split in ("train", "t10k"):
        x = _read_idx(os.path.join(directory, f"{split}-images-idx3-ubyte.gz"), 2051, 3)
        y = _read_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte.gz"), 2049, 1)
        if len(x) != len(y):
            raise DriverError(f"{directory}: {len(x)} {split} images but {len(y)} labels")
        out += [x, y]
    return tuple(out)


def normalize(images):
    """uint8 or [0, 1] float images [N, 28, 28] -> normalised float32 [N, 1, 28, 28]."""
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x /= 255.0
    return ((x - PIXEL_MEAN) / PIXEL_STD)[:, None, :, :]


def one_hot(labels, classes):
    return np.eye(classes, dtype=np.float32)[labels]


def batches(n, batch, rng):
    """Index arrays of the shuffled mini-batches of an epoch; the last
    partial batch is left out (the compiled step has a static batch size)."""
    order = rng.permutation(n)
    for start in range(0, n - batch + 1, batch):
        yield order[start:start + batch]


def add_noise(images, eta, rng, kind="gaussian"):
    """Noisy [0, 1] images from uint8 ``images`` at level ``eta``:

    * ``gaussian``: additive Gaussian noise (seed 000 [0079]: "additive
      noise"), ``x + eta*n``, ``n ~ N(0, 1)`` per pixel, clipped to [0, 1];
    * ``salt``: a fraction ``eta`` of the pixels of each image, chosen at
      random, set to 1 (white), the noise of Numenta's MNIST experiments
      ("How Can We Be So Dense?", 2019);
    * ``uniform``: nupic.torch's ``AddNoise`` of its speech-commands
      experiments, ``(1 - eta)*x + eta*u``, ``u ~ U(0, 1)`` per pixel."""
    x = images.astype(np.float32) / 255.0
    if eta == 0.0:
        return x
    if kind == "gaussian":
        return np.clip(x + np.float32(eta) * rng.standard_normal(x.shape, dtype=np.float32),
                       0.0, 1.0)
    if kind == "salt":
        flat = x.reshape(len(x), -1)
        count = int(round(eta * flat.shape[1]))
        picks = np.argsort(rng.random(flat.shape, dtype=np.float32), axis=1)[:, :count]
        np.put_along_axis(flat, picks, 1.0, axis=1)
        return flat.reshape(x.shape)
    if kind == "uniform":
        return (1.0 - eta) * x + eta * rng.random(x.shape, dtype=np.float32)
    raise DriverError(f"unknown noise kind '{kind}' (one of {', '.join(NOISE_KINDS)})")


# ---------------------------------------------------------------------------
# The network and its forward IR
# ---------------------------------------------------------------------------


@dataclass
class Conv:
    """5x5 (``kernel``) valid convolution, stride 1, with bias. ``fan_in``:
    fixed number of non-zeros per filter (seed 000 [0072]); ``prune``: a
    learnable pruner (seed 003), ``pruner`` its method (``gaussian``, FIG.
    7c, per weight; ``gumbel``, FIG. 7d) and ``group_shape`` the groups it
    prunes whole (padded with 1s to the weight's rank: ``(1, 16)`` is
    SPGC8's 1x16 input-channel groups), None for single weights."""
    out: int
    kernel: int = 5
    fan_in: Optional[int] = None
    prune: bool = False
    pruner: str = "gaussian"
    group_shape: Optional[tuple] = None


@dataclass
class Linear:
    """``y = x W^T + b``; ``fan_in``, ``prune``, ``pruner`` and
    ``group_shape`` as for :class:`Conv`."""
    out: int
    fan_in: Optional[int] = None
    prune: bool = False
    pruner: str = "gaussian"
    group_shape: Optional[tuple] = None


@dataclass
class MaxPool:
    size: int = 2


@dataclass
class Flatten:
    pass


@dataclass
class ReLU:
    pass


@dataclass
class BatchNorm:
    """Batch normalisation over the channels of an NCHW tensor (or the
    features of [B, F]): batch statistics in training, running statistics
    (PyTorch's momentum update) at evaluation. ``affine=False`` as in
    Numenta's sparse CNNs (nupic.torch ``BatchNorm2d(affine=False)`` after
    each sparse conv and linear layer): gamma = 1 and beta = 0 are constants
    of the IR; with ``affine`` they are trained."""
    affine: bool = False
    epsilon: float = 1e-5
    momentum: float = 0.1


@dataclass
class KWinners:
    """Global k-winners with boosting (seed 000 eq. 1-4): ``k`` or
    ``density`` of the C*H*W (or F) values of a sample win."""
    k: Optional[int] = None
    density: Optional[float] = None
    boost: float = 1.5


WEIGHT_LAYERS = (Conv, Linear)


def seed000_cnn(variant, channels=(64, 64), hidden=1000, fan_in=(160, 102), hidden_k=100,
                activation="relu", boost=1.5, batch_norm=False, bn_affine=False,
                pruner="gaussian", group_shape=None):
    """Seed 000's CNN in the variant's form (module docstring): conv ->
    [batch norm] -> max-pool -> activation, twice, flatten, linear ``hidden``
    -> [batch norm] -> activation -> linear 10. The activation is ReLU in the
    dense variant, k-winners in the sparse one and ``activation`` in the
    learned one. ``fan_in``: the non-zeros per unit of conv2 and the hidden
    layer in the sparse variant (90 % weight sparsity by default); the conv
    k-winners keep 10 % of C*H*W, the hidden one ``hidden_k``. ``batch_norm``:
    a :class:`BatchNorm` after each conv and the hidden linear layer, where
    Numenta's GSC sparse CNN has them (before the pooling, so that
    finalisation folds it into the conv)."""
    learned, sparse = variant == "learned", variant == "sparse"

    def act(**k):
        if variant == "sparse" or (learned and activation == "kwinners"):
            return KWinners(boost=boost, **k)
        return ReLU()

    def bn():
        return [BatchNorm(affine=bn_affine)] if batch_norm else []

    pr = dict(prune=learned, pruner=pruner, group_shape=group_shape)

    return ([Conv(channels[0], **pr)] + bn() + [MaxPool(), act(density=0.1),
            Conv(channels[1], fan_in=fan_in[0] if sparse else None, **pr)] + bn()
            + [MaxPool(), act(density=0.1), Flatten(),
               Linear(hidden, fan_in=fan_in[1] if sparse else None, **pr)] + bn()
            + [act(k=hidden_k), Linear(10, **pr)])


# table1: seed 000 Table 1 (python/tests/test_channel_pruning_equivalence.py
# seed000_full); small: the scaled-down shape of examples/sparse_cnn.mlir, a
# quick check of the whole pipeline.
MODELS = {"table1": {},
          "small": dict(channels=(8, 16), hidden=64, fan_in=(40, 26), hidden_k=8)}


@dataclass
class Arg:
    """An argument of the forward function. ``role``: ``input`` (the images),
    ``weight``, ``bias``, ``sparsity`` (the raw s_j of a pruner), ``duty``
    (k-winners duty cycles), ``gamma`` / ``beta`` (an affine batch norm's) or
    ``running_mean`` / ``running_var`` (a batch norm's running statistics);
    ``layer`` indexes the layer list; ``name`` is the layer's name (conv1,
    linear2, kwinners1, bn1, ...)."""
    ssa: str
    shape: tuple
    role: str
    layer: int
    name: str

    @property
    def trainable(self):
        return self.role in ("weight", "bias", "sparsity", "gamma", "beta")

    @property
    def running_stat(self):
        return self.role in ("running_mean", "running_var")


def kwinners_k(layer, n, k_factor=1.0):
    """k of a k-winners layer over ``n`` values, times ``k_factor`` at
    inference (nupic.torch's k_inference_factor), within [1, n]."""
    k = layer.k if layer.k is not None else int(round(layer.density * n))
    return max(1, min(n, int(round(k * k_factor))))


def layer_names(layers):
    """conv1, conv2, linear1, ... for the weight layers; kwinners1, ... for the k-winners."""
    names, counts = {}, {}
    for i, layer in enumerate(layers):
        kind = {Conv: "conv", Linear: "linear", KWinners: "kwinners",
                BatchNorm: "bn"}.get(type(layer))
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
            names[i] = f"{kind}{counts[kind]}"
    return names


@dataclass
class ForwardIR:
    """A generated forward function: its text, arguments, number of classes
    and the output shape of every layer."""
    text: str
    args: list
    classes: int
    shapes: list


PRUNERS = ("gaussian", "gumbel")


def pruner_group_shape(layer, wshape):
    """The layer's pruning group padded with 1s to the weight's rank."""
    g = tuple(layer.group_shape)
    if layer.pruner == "gaussian":
        raise DriverError("the Gaussian pruner prunes single weights; groups need "
                          "--pruner gumbel")
    if not g or len(g) > len(wshape) or min(g) < 1:
        raise DriverError(f"group shape {g} does not fit a weight of shape {wshape}")
    return g + (1,) * (len(wshape) - len(g))


def mlir_float(value):
    """An MLIR float literal (it needs a decimal point: ``1e-05`` is not one)."""
    return f"{float(value):.9e}"


def forward_ir(layers, input_shape, batch, k_factor=1.0, func="forward", training=True):
    """``@func(x [batch, *input_shape], params...) -> logits`` with the
    trainable arguments marked ``{sparsenn.trainable}``, the duty cycles
    ``{sparsenn.duty_cycle}`` and batch-norm running statistics
    ``{sparsenn.running_stat}``: the form ``--sparsenn-generate-train-step``
    and ``--sparsenn-finalize-training`` read. ``k_factor`` scales the k of
    the k-winners (nupic.torch's k_inference_factor, for the evaluation
    forward); ``training`` puts the batch norms in their training form (batch
    statistics), else their inference form (running statistics)."""
    names = layer_names(layers)
    args = [Arg("%x", (batch,) + tuple(input_shape), "input", -1, "x")]
    lines = ["  %ninf = arith.constant -3.40282347E+38 : f32"]
    x, shape, shapes = "%x", args[0].shape, []

    def arg(role, i, arg_shape, suffix):
        a = Arg(f"%{names[i]}_{suffix}", tuple(arg_shape), role, i, names[i])
        args.append(a)
        return a

    for i, layer in enumerate(layers):
        v = f"%v{i}"
        if isinstance(layer, Conv):
            if len(shape) != 4 or min(shape[2:]) < layer.kernel:
                raise DriverError(f"layer {i}: a {layer.kernel}x{layer.kernel} conv needs an "
                                  f"NCHW input at least that large, got {shape}")
            wshape = (layer.out, shape[1], layer.kernel, layer.kernel)
            out = (shape[0], layer.out, shape[2] - layer.kernel + 1, shape[3] - layer.kernel + 1)
        elif isinstance(layer, Linear):
            if len(shape) != 2:
                raise DriverError(f"layer {i}: linear needs a [B, F] input, got {shape}")
            wshape, out = (layer.out, shape[1]), (shape[0], layer.out)
        if isinstance(layer, WEIGHT_LAYERS):
            w = arg("weight", i, wshape, "w")
            b = arg("bias", i, (layer.out,), "b")
            weight = w.ssa
            if layer.prune:
                s = arg("sparsity", i, (), "s")
                weight = f"{v}_p"
                groups = ""
                if layer.group_shape is not None:
                    g = pruner_group_shape(layer, wshape)
                    groups = (" {granularity = #sparsenn.granularity<group>, group_shape = "
                              f"array<i64: {', '.join(map(str, g))}>}}")
                lines.append(f"  {weight}, {v}_m = sparsenn.prune <{layer.pruner}> {w.ssa}, "
                             f"{s.ssa}{groups} : {ttype(wshape)}, tensor<f32> -> "
                             f"{ttype(wshape)}, {ttype(wshape, 'i1')}")
            attr = ""
            if layer.fan_in is not None:
                per_unit = math.prod(wshape[1:])
                if not 1 <= layer.fan_in <= per_unit:
                    raise DriverError(f"layer {i}: fan-in {layer.fan_in} not in [1, {per_unit}]")
                attr = (f" {{sparsity = #sparsenn.sparsity<density = "
                        f"{layer.fan_in / per_unit!r}, fan_in = {layer.fan_in}>}}")
            op = "sparsenn.conv2d" if isinstance(layer, Conv) else "sparsenn.linear"
            lines.append(f"  {v} = {op} {x}, {weight}, {b.ssa}{attr} : {ttype(shape)}, "
                         f"{ttype(wshape)}, {ttype((layer.out,))} -> {ttype(out)}")
        elif isinstance(layer, MaxPool):
            p = layer.size
            if len(shape) != 4 or shape[2] % p or shape[3] % p:
                raise DriverError(f"layer {i}: {p}x{p} max-pool needs NCHW input divisible by "
                                  f"{p}, got {shape}")
            out = shape[:2] + (shape[2] // p, shape[3] // p)
            lines += [
                f"  {v}_win = tensor.empty() : tensor<{p}x{p}xf32>",
                f"  {v}_e = tensor.empty() : {ttype(out)}",
                f"  {v}_init = linalg.fill ins(%ninf : f32) outs({v}_e : {ttype(out)}) -> "
                f"{ttype(out)}",
                f"  {v} = linalg.pooling_nchw_max {{dilations = dense<1> : vector<2xi64>, "
                f"strides = dense<{p}> : vector<2xi64>}} ins({x}, {v}_win : {ttype(shape)}, "
                f"tensor<{p}x{p}xf32>) outs({v}_init : {ttype(out)}) -> {ttype(out)}"]
        elif isinstance(layer, ReLU):
            out = shape
            lines += [f"  {v}_zero = arith.constant dense<0.0> : {ttype(shape)}",
                      f"  {v} = arith.maximumf {x}, {v}_zero : {ttype(shape)}"]
        elif isinstance(layer, KWinners):
            out = shape
            d = arg("duty", i, (shape[1],), "duty")
            k = kwinners_k(layer, math.prod(shape[1:]), k_factor)
            lines.append(f"  {v} = sparsenn.kwinners <global> {x} duty_cycle {d.ssa} k = {k} "
                         f"boost = {mlir_float(layer.boost)} break_ties relu : {ttype(shape)}, "
                         f"{ttype(d.shape)} -> {ttype(shape)}")
        elif isinstance(layer, BatchNorm):
            if len(shape) < 2:
                raise DriverError(f"layer {i}: batch norm needs a [B, C, ...] input, got {shape}")
            out, c = shape, (shape[1],)
            if layer.affine:
                gamma, beta = arg("gamma", i, c, "gamma").ssa, arg("beta", i, c, "beta").ssa
            else:
                gamma, beta = f"{v}_gamma", f"{v}_beta"
                lines += [f"  {gamma} = arith.constant dense<1.0> : {ttype(c)}",
                          f"  {beta} = arith.constant dense<0.0> : {ttype(c)}"]
            mean, var = arg("running_mean", i, c, "mean"), arg("running_var", i, c, "var")
            mode = ", training" if training else ""
            lines.append(f"  {v} = sparsenn.batch_norm {x}, {gamma}, {beta}, {mean.ssa}, "
                         f"{var.ssa} {{epsilon = {mlir_float(layer.epsilon)}, momentum = "
                         f"{mlir_float(layer.momentum)}{mode}}} : {ttype(shape)}, {ttype(c)}")
        elif isinstance(layer, Flatten):
            out = (shape[0], math.prod(shape[1:]))
            groups = [[0], list(range(1, len(shape)))]
            lines.append(f"  {v} = tensor.collapse_shape {x} {groups} : {ttype(shape)} into "
                         f"{ttype(out)}")
        else:
            raise DriverError(f"layer {i}: unknown layer {layer!r}")
        x, shape = v, out
        shapes.append(out)
    if len(shape) != 2:
        raise DriverError(f"the network must end in [B, classes] logits, got {shape}")

    marks = {"weight": " {sparsenn.trainable}", "bias": " {sparsenn.trainable}",
             "sparsity": " {sparsenn.trainable}", "gamma": " {sparsenn.trainable}",
             "beta": " {sparsenn.trainable}", "duty": " {sparsenn.duty_cycle}",
             "running_mean": " {sparsenn.running_stat}",
             "running_var": " {sparsenn.running_stat}"}
    decls = ",\n    ".join(f"{a.ssa}: {ttype(a.shape)}{marks.get(a.role, '')}" for a in args)
    text = (f"func.func @{func}({decls}) -> {ttype(shape)} {{\n" + "\n".join(lines)
            + f"\n  return {x} : {ttype(shape)}\n}}\n")
    return ForwardIR(text, args, shape[1], shapes)


def init_params(layers, args, rng, init_sparsity=0.5):
    """Initial values of the arguments after the images, in argument order.

    Weights: normal with PyTorch's default variance 1/(3*fan_in) (that of its
    Kaiming-uniform bound 1/sqrt(fan_in)), fan_in counting only the non-zero
    inputs of a fixed fan-in layer, whose other weights are zero (a random
    choice per output unit, seed 000 [0056]). Normal rather than uniform so
    that the Gaussian pruner's threshold (seed 003 eq. 3) prunes the fraction
    s^phi at the start. Biases: uniform in +-1/sqrt(fan_in). Sparsity
    parameters: logit(init_sparsity), the sigmoid normalisation's inverse.
    Duty cycles: zero (nupic.torch). Batch norms as PyTorch's: gamma 1,
    beta 0, running mean 0, running variance 1."""
    p = min(max(float(init_sparsity), 1e-6), 1 - 1e-6)
    values = []
    for a in args[1:]:
        layer = layers[a.layer]
        if a.role in ("duty", "beta", "running_mean"):
            values.append(np.zeros(a.shape, np.float32))
        elif a.role in ("gamma", "running_var"):
            values.append(np.ones(a.shape, np.float32))
        elif a.role == "sparsity":
            values.append(np.array(math.log(p / (1 - p)), np.float32))
        else:
            wshape = next(b.shape for b in args if b.layer == a.layer and b.role == "weight")
            fan_in = layer.fan_in or math.prod(wshape[1:])
            bound = 1.0 / math.sqrt(fan_in)
            if a.role == "bias":
                values.append(rng.uniform(-bound, bound, a.shape).astype(np.float32))
                continue
            w = rng.normal(0.0, bound / math.sqrt(3.0), (wshape[0], math.prod(wshape[1:])))
            if layer.fan_in is not None:
                keep = np.argsort(rng.random(w.shape), axis=1)[:, :layer.fan_in]
                mask = np.zeros(w.shape, bool)
                np.put_along_axis(mask, keep, True, axis=1)
                w = np.where(mask, w, 0.0)
            values.append(w.reshape(wshape).astype(np.float32))
    return values


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def binary_entropy(p):
    """Bits; 0 at p = 0 and p = 1 (nupic.torch duty_cycle_metrics.binary_entropy)."""
    p = np.asarray(p, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    return np.where((p > 0) & (p < 1), h, 0.0)


def sigmoid(s):
    return float(1.0 / (1.0 + np.exp(-np.float64(s))))


class Trainer:
    """The compiled training step and evaluation forward of a network (a
    layer list) on [C, H, W] inputs, and the training state.

    ``values[i]`` is the current value of forward argument ``i`` for i >= 1
    (weights, biases, sparsity parameters, duty cycles, batch-norm
    parameters and running statistics; ``values[0]`` is
    unused: the images come with each call); ``momenta`` holds one array per
    trainable argument. :meth:`step` replaces both by the step's results."""

    def __init__(self, layers, workdir, input_shape=(1, 28, 28), batch=64, eval_batch=1000,
                 lr=0.01, momentum=0.9, duty_alpha=0.064, alpha=0.3, theta=0.0,
                 temperature=0.1, k_inference_factor=1.5, init_sparsity=0.5, seed=0,
                 tools_dir=None):
        # Own copies: set_schedule changes the k-winners' boost strength.
        self.layers = [dataclasses.replace(layer) for layer in layers]
        self.workdir = workdir
        self.input_shape = tuple(input_shape)
        self.batch, self.eval_batch = batch, eval_batch
        self.k_inference_factor = k_inference_factor
        self.sparse_opt, self.sparse_compile = find_tools(tools_dir)
        os.makedirs(workdir, exist_ok=True)
        keep_freed_memory()

        self.lr, self.momentum, self.duty_alpha = lr, momentum, duty_alpha
        self.alpha, self.theta, self.temperature = alpha, theta, temperature
        self.generation, self.compile_seconds = 0, 0.0
        self._build()

        shapes = [a.shape for a in self.args]
        self.values = [None] + init_params(self.layers, self.args, np.random.default_rng(seed),
                                           init_sparsity)
        self.momenta = [np.zeros(shapes[i], np.float32) for i in self.trainable]
        self.steps, self.step_seconds = 0, 0.0

    @property
    def boost(self):
        """The boost strength of the k-winners layers (None without any)."""
        return next((layer.boost for layer in self.layers if isinstance(layer, KWinners)), None)

    def set_schedule(self, lr=None, boost=None):
        """nupic.torch's per-epoch schedule: a new learning rate and/or boost
        strength of every k-winners layer (``update_boost_strength``). Both
        are constants of the compiled step (a pass option, an attribute), so
        the step (and, for a new boost, the evaluation forward) is generated
        and compiled again (into new library files: a loaded library's path
        cannot be reused);
        the training state is kept. Returns the seconds it took (0 when
        nothing changed)."""
        lr_changed = lr is not None and lr != self.lr
        boost_changed = False
        if lr_changed:
            self.lr = lr
        if boost is not None:
            for layer in self.layers:
                if isinstance(layer, KWinners) and layer.boost != boost:
                    layer.boost, boost_changed = boost, True
        if not (lr_changed or boost_changed):
            return 0.0
        before = self.compile_seconds
        self.generation += 1
        # The evaluation forward has the boost but not the learning rate.
        self._build(evaluation=boost_changed)
        return self.compile_seconds - before

    def _build(self, evaluation=True):
        """Writes the forward IR, generates the training step and compiles
        it, and with ``evaluation`` the evaluation forward (inference-form
        batch norms, k times k_inference_factor)."""
        train_ir = forward_ir(self.layers, self.input_shape, self.batch)
        self.args, self.classes, self.shapes = train_ir.args, train_ir.classes, train_ir.shapes
        self.trainable = [i for i, a in enumerate(self.args) if a.trainable]
        self.duty = [i for i, a in enumerate(self.args) if a.role == "duty"]
        self.running = [i for i, a in enumerate(self.args) if a.running_stat]
        learned = any(a.role == "sparsity" for a in self.args)
        opts = [f"lr={self.lr!r}", f"momentum={self.momentum!r}",
                f"duty-alpha={self.duty_alpha!r}"]
        if learned:
            opts += [f"alpha={self.alpha!r}", f"theta={self.theta!r}",
                     f"temperature={self.temperature!r}"]
        self.step_options = " ".join(opts)

        suffix = f".{self.generation}" if self.generation else ""
        self.forward_path = os.path.join(self.workdir, "forward.mlir")
        self.eval_path = os.path.join(self.workdir, "eval_forward.mlir")
        step_path = os.path.join(self.workdir, "train_step.mlir")
        with open(self.forward_path, "w") as f:
            f.write(train_ir.text)
        t0 = time.perf_counter()
        run_tool([self.sparse_opt, self.forward_path,
                  f"--sparsenn-generate-train-step={self.step_options}", "-o", step_path])
        step_lib = self.compile(step_path, f"libtrain_step{suffix}.so")
        if evaluation:
            eval_ir = forward_ir(self.layers, self.input_shape, self.eval_batch,
                                 k_factor=self.k_inference_factor, training=False)
            with open(self.eval_path, "w") as f:
                f.write(eval_ir.text)
            eval_lib = self.compile(self.eval_path, f"libeval_forward{suffix}.so")
            self._eval = CompiledFunction(eval_lib, "forward", [a.shape for a in eval_ir.args],
                                          [(self.eval_batch, self.classes)])
        self.compile_seconds += time.perf_counter() - t0

        # Results: loss, new trainables, new momenta, new duty cycles, new
        # running statistics (sparsenn-generate-train-step's order).
        shapes = [a.shape for a in self.args]
        train_shapes = [shapes[i] for i in self.trainable]
        self._step = CompiledFunction(
            step_lib, "forward_train_step",
            shapes + [(self.batch, self.classes)] + train_shapes,
            [()] + train_shapes + train_shapes + [shapes[i] for i in self.duty + self.running])

    def compile(self, mlir_path, library_name):
        """``sparse-compile`` ``mlir_path`` into ``workdir/library_name``."""
        library = os.path.join(self.workdir, library_name)
        run_tool([self.sparse_compile, mlir_path, "-o", library])
        return library

    def index(self, role, name):
        """The argument index of ``role`` (weight, bias, sparsity, duty) of layer ``name``."""
        return next(i for i, a in enumerate(self.args) if a.role == role and a.name == name)

    def step(self, x, targets):
        """One compiled SGD step on normalised images and one-hot targets;
        returns the loss."""
        t0 = time.perf_counter()
        outs = self._step(x, *self.values[1:], targets, *self.momenta)
        self.step_seconds += time.perf_counter() - t0
        self.steps += 1
        n = len(self.trainable)
        for j, i in enumerate(self.trainable):
            self.values[i], self.momenta[j] = outs[1 + j], outs[1 + n + j]
        for j, i in enumerate(self.duty + self.running):
            self.values[i] = outs[1 + 2 * n + j]
        loss = float(outs[0])
        if not math.isfinite(loss):
            raise DriverError(f"the loss is {loss} at step {self.steps}: lower --lr (learned "
                              "variant: or --alpha, or raise --theta)")
        return loss

    def predict(self, x, forward=None):
        """Classes of normalised images through the compiled evaluation
        forward, or through ``forward`` (a CompiledFunction of the images
        only, e.g. the finalised model); the last batch is zero-padded."""
        e = self.eval_batch
        preds = []
        for start in range(0, len(x), e):
            xb = x[start:start + e]
            if len(xb) < e:
                xb = np.concatenate([xb, np.zeros((e - len(xb),) + xb.shape[1:], np.float32)])
            xb = np.ascontiguousarray(xb)
            logits = forward(xb)[0] if forward else self._eval(xb, *self.values[1:])[0]
            preds.append(np.argmax(logits, axis=1))
        return np.concatenate(preds)[:len(x)]

    def pruned_weight(self, i):
        """The weight of argument ``i`` as the forward uses it: times its
        pruner's keep-mask for a learned layer."""
        w, a = self.values[i], self.args[i]
        if not self.layers[a.layer].prune:
            return w
        return w * keep_mask(w, self.values[self.index("sparsity", a.name)],
                             self.layers[a.layer])

    def weight_sparsity(self):
        """Per weight layer: coefficients, zeros of the weight the forward uses
        (after pruning, for a learned layer) and their fraction, and for a
        learned layer s^phi, the normalised sparsity parameter."""
        out = []
        for i, a in enumerate(self.args):
            if a.role != "weight":
                continue
            w = self.pruned_weight(i)
            entry = {"layer": a.name, "weights": int(w.size)}
            if self.layers[a.layer].prune:
                entry["s_phi"] = sigmoid(self.values[self.index("sparsity", a.name)])
            entry["zeros"] = int(w.size - np.count_nonzero(w))
            entry["sparsity"] = entry["zeros"] / w.size
            out.append(entry)
        return out

    def duty_entropy(self):
        """Per k-winners layer: nupic.torch's duty-cycle entropy (module
        docstring), its maximum n*H(k/n) and their ratio."""
        out = []
        for i in self.duty:
            a = self.args[i]
            shape = self.shapes[a.layer]
            n = math.prod(shape[1:])
            k = kwinners_k(self.layers[a.layer], n)
            entropy = float(binary_entropy(self.values[i]).sum()) * (n // shape[1])
            maximum = n * float(binary_entropy(k / n))
            out.append({"layer": a.name, "entropy_bits": entropy, "max_entropy_bits": maximum,
                        "ratio": entropy / maximum if maximum else 0.0})
        return out

    def save_params(self, directory):
        """``directory/arg<i>.npy`` for every marked argument (what
        ``--sparsenn-finalize-training`` binds)."""
        os.makedirs(directory, exist_ok=True)
        for i in range(1, len(self.args)):
            np.save(os.path.join(directory, f"arg{i}.npy"), self.values[i])

    def finalize(self, params_dir, model_path):
        """The finalised inference model (seed 003 step 1014) of the
        evaluation forward with the saved parameters, written to
        ``model_path``; returns it compiled (a function of the images)."""
        run_tool([self.sparse_opt, self.eval_path,
                  f"--sparsenn-finalize-training=params={params_dir}", "-o", model_path])
        library = self.compile(model_path, "libmodel.so")
        images = (self.eval_batch,) + self.args[0].shape[1:]
        return CompiledFunction(library, "forward", [images], [(self.eval_batch, self.classes)])


def spgc8_sizes(trainer, directory):
    """The SPGC8 container size (``spgc8 encode``: 8-bit, symmetric
    per-output-channel quantisation) of each weight layer's pruned weights,
    and their sum against dense float32 and int8; None without the spgc8
    tool."""
    spgc8 = os.path.join(os.path.dirname(trainer.sparse_opt), "spgc8")
    if not os.path.exists(spgc8):
        return None
    os.makedirs(directory, exist_ok=True)
    layers, total, weights = [], 0, 0
    for i, a in enumerate(trainer.args):
        if a.role != "weight":
            continue
        w = trainer.pruned_weight(i)
        src, dst = os.path.join(directory, f"{a.name}.npy"), os.path.join(directory, a.name)
        np.save(src, np.ascontiguousarray(w, np.float32))
        run_tool([spgc8, "encode", src, dst])
        size = os.path.getsize(dst)
        layers.append({"layer": a.name, "weights": int(w.size), "bytes": size})
        total, weights = total + size, weights + int(w.size)
    return {"layers": layers, "bytes": total, "dense_f32_bytes": 4 * weights,
            "dense_int8_bytes": weights}


def keep_mask(w, s, layer):
    """Keep-mask of the layer's ``sparsenn.prune`` with the raw sparsity
    ``s`` (sigmoid normalisation), from the pruner reference
    (python/sparsenn/pruning.py, whose masks are the compiler's:
    python/tests/test_pruner_cross.py)."""
    import torch

    from sparsenn.pruning import prune_mask
    groups = ({} if layer.group_shape is None else
              {"granularity": "group", "group_shape": pruner_group_shape(layer, w.shape)})
    return prune_mask(torch.from_numpy(w), torch.from_numpy(np.asarray(s)),
                      method=layer.pruner, **groups).numpy()


def train_epoch(trainer, x, labels, rng, log_every=0, log=print):
    """One epoch of shuffled mini-batches (the last partial batch left out);
    returns (mean loss, seconds, steps)."""
    t0 = time.perf_counter()
    total, steps = 0.0, 0
    for idx in batches(len(x), trainer.batch, rng):
        total += trainer.step(x[idx], one_hot(labels[idx], trainer.classes))
        steps += 1
        if log_every and steps % log_every == 0:
            log(f"  step {steps}: mean loss {total / steps:.4f}, "
                f"{1e3 * trainer.step_seconds / trainer.steps:.1f} ms/step")
    return total / max(steps, 1), time.perf_counter() - t0, steps


def noise_robustness(images, labels, predict, levels=NOISE_LEVELS, seed=0, kind="gaussian"):
    """Accuracy under ``kind`` noise (:func:`add_noise`) at each level, every
    test image at every level, and seed 000 Table 2's noise score ([0079]):
    correct classifications summed over the noisy test sets (levels > 0),
    and the noise accuracy, their mean accuracy."""
    rng = np.random.default_rng(seed)
    correct = [int(np.sum(predict(normalize(add_noise(images, eta, rng, kind))) == labels))
               for eta in levels]
    noisy = [c for eta, c in zip(levels, correct) if eta > 0]
    return {"kind": kind, "levels": list(levels), "correct": correct,
            "test_inputs": len(labels),
            "accuracy": [c / len(labels) for c in correct],
            "noise_score": sum(noisy),
            "noise_accuracy": sum(noisy) / (len(noisy) * len(labels)) if noisy else None}


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m sparsenn.train",
        description="Train a CNN on Fashion-MNIST through the compiled training step "
                    "(sparsenn-generate-train-step + sparse-compile): seed 000 Table 1's "
                    "dense CNN, its sparse CNN (fixed fan-in weights, k-winners with boosting "
                    "and duty cycles) or the same CNN with learned per-layer sparsity (seed "
                    "003). Prints per-epoch loss, test accuracy, weight sparsity per layer, "
                    "duty-cycle entropy and timings; saves the trained parameters, the "
                    "finalised inference model OUT/model.mlir, its noise robustness (seed 000 "
                    "Table 2) and OUT/summary.json.",
        epilog="example: python3 -m sparsenn.train --variant learned --epochs 1 "
               "--train-subset 6400 --out runs/learned")
    ap.add_argument("--variant", choices=VARIANTS, default="sparse",
                    help="dense, sparse (seed 000) or learned sparsity (seed 003) "
                         "(default: %(default)s)")
    ap.add_argument("--model", choices=sorted(MODELS), default="table1",
                    help="table1: seed 000 Table 1 shape; small: the scaled-down shape of "
                         "examples/sparse_cnn.mlir, for a quick check (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=1, help="(default: %(default)s)")
    ap.add_argument("--batch", type=int, default=64,
                    help="training batch size, compiled into the step (default: %(default)s)")
    ap.add_argument("--eval-batch", type=int, default=1000,
                    help="batch size of the compiled evaluation forward (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=0.01, help="SGD learning rate of the first "
                                                           "epoch (default: %(default)s)")
    ap.add_argument("--lr-gamma", type=float, default=0.9,
                    help="the learning rate is multiplied by this after each epoch (a StepLR "
                         "schedule with step 1, as Numenta's sparse CNN experiments; 1: "
                         "constant) (default: %(default)s)")
    ap.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: "
                                                                "%(default)s)")
    ap.add_argument("--train-subset", type=int, metavar="N",
                    help="train on a random subset of N of the 60000 training images")
    ap.add_argument("--test-subset", type=int, metavar="N",
                    help="evaluate on the first N of the 10000 test images")
    ap.add_argument("--seed", type=int, default=0,
                    help="initialisation, shuffling and noise seed (default: %(default)s)")
    ap.add_argument("--out", default="runs/train",
                    help="output directory: IR, libraries, arg<i>.npy, model.mlir, "
                         "summary.json (default: %(default)s)")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="directory of the Fashion-MNIST *-ubyte.gz files (default: "
                         "%(default)s)")
    ap.add_argument("--tools", metavar="DIR",
                    help="directory of sparse-opt and sparse-compile (default: next to "
                         "$SPARSE_OPT, else build/bin)")
    k = ap.add_argument_group("k-winners (sparse variant; learned with --activation kwinners; "
                              "seed 000 eq. 1-4)")
    k.add_argument("--boost", type=float, default=1.5,
                   help="boost strength beta (default: %(default)s)")
    k.add_argument("--boost-strength-factor", type=float, default=0.9,
                   help="the boost strength is multiplied by this after each epoch "
                        "(nupic.torch's boost_strength_factor and update_boost_strength) "
                        "(default: %(default)s)")
    k.add_argument("--duty-alpha", type=float,
                   help="alpha of the duty-cycle update, eq. 1 (default: batch/1000, the "
                        "steady state of nupic.torch's duty-cycle period 1000)")
    k.add_argument("--k-inference-factor", type=float, default=1.5,
                   help="k at evaluation = k * this (nupic.torch's k_inference_factor; "
                        "default: %(default)s)")
    s = ap.add_argument_group("learned sparsity (learned variant, seed 003 eq. 11-15)")
    s.add_argument("--activation", choices=("relu", "kwinners"), default="relu",
                   help="activation of the learned variant: ReLU as in the dense CNN, or "
                        "k-winners as in the sparse one (default: %(default)s)")
    s.add_argument("--pruner", choices=PRUNERS, default="gaussian",
                   help="gaussian: FIG. 7c, single weights; gumbel: FIG. 7d, single weights "
                        "or --group-shape groups (default: %(default)s)")
    s.add_argument("--group-shape", metavar="D0,D1,...",
                   help="prune whole groups of this shape (padded with 1s to each weight's "
                        "rank; 1,16: SPGC8's 1x16 input-channel groups; needs --pruner "
                        "gumbel)")
    s.add_argument("--alpha", type=float, default=0.3,
                   help="sparsity-loss weighting alpha of eq. 13 (default: %(default)s)")
    s.add_argument("--theta", type=float, default=0.0,
                   help="maximum sparsity theta of eq. 15; 0 for eq. 13 (default: "
                        "%(default)s)")
    s.add_argument("--temperature", type=float, default=0.1,
                   help="temperature of the Gaussian pruner's relaxation (default: "
                        "%(default)s)")
    s.add_argument("--init-sparsity", type=float, default=0.5,
                   help="initial s^phi of every pruned layer (default: %(default)s)")
    ap.add_argument("--no-batch-norm", dest="batch_norm", action="store_false",
                    help="leave out the batch norms after the convs and the hidden linear "
                         "layer (by default each has one, as Numenta's sparse CNNs)")
    ap.add_argument("--bn-affine", action="store_true",
                    help="train a scale and shift in each batch norm (default: none, "
                         "nupic.torch's affine=False)")
    ap.add_argument("--noise", default="gaussian,salt", metavar="KINDS",
                    help="comma-separated noise kinds of the robustness evaluation, of "
                         f"{', '.join(NOISE_KINDS)} (default: %(default)s)")
    ap.add_argument("--no-noise", action="store_true",
                    help="skip the noise-robustness evaluation")
    ap.add_argument("--log-every", type=int, default=100, metavar="STEPS",
                    help="print the running loss every STEPS steps, 0: never (default: "
                         "%(default)s)")
    args = ap.parse_args(argv)
    for name in ("epochs", "batch", "eval_batch"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("train_subset", "test_subset"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.lr <= 0 or not 0 <= args.momentum < 1:
        ap.error("--lr must be > 0 and --momentum in [0, 1)")
    if args.duty_alpha is None:
        args.duty_alpha = min(1.0, args.batch / 1000)
    if not 0 < args.duty_alpha <= 1:
        ap.error("--duty-alpha must be in (0, 1]")
    if args.boost < 0 or args.k_inference_factor <= 0:
        ap.error("--boost must be >= 0 and --k-inference-factor > 0")
    if not 0 < args.lr_gamma <= 1 or not 0 <= args.boost_strength_factor <= 1:
        ap.error("--lr-gamma must be in (0, 1] and --boost-strength-factor in [0, 1]")
    if args.group_shape is not None:
        try:
            args.group_shape = tuple(int(d) for d in args.group_shape.split(","))
        except ValueError:
            ap.error(f"--group-shape {args.group_shape}: expected integers like 1,16")
        if not args.group_shape or min(args.group_shape) < 1:
            ap.error("--group-shape entries must be >= 1")
        if args.pruner != "gumbel":
            ap.error("--group-shape needs --pruner gumbel (the Gaussian rule is per weight)")
    args.noise_kinds = [k for k in args.noise.split(",") if k]
    bad = [k for k in args.noise_kinds if k not in NOISE_KINDS]
    if bad or not args.noise_kinds:
        ap.error(f"--noise: unknown kind {bad[0] if bad else '(none)'}; one or more of "
                 f"{', '.join(NOISE_KINDS)}")
    if not 0 <= args.alpha <= 1 or not (args.theta == 0 or 0 < args.theta <= 1):
        ap.error("--alpha must be in [0, 1] and --theta 0 or in (0, 1]")
    if not 0 < args.init_sparsity < 1 or args.temperature <= 0:
        ap.error("--init-sparsity must be in (0, 1) and --temperature > 0")
    if args.theta and args.init_sparsity >= args.theta:
        ap.error("--init-sparsity must be below --theta (eq. 15 needs c/theta < 1)")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except DriverError as e:
        sys.exit(f"sparsenn.train: error: {e}")


def run(args, log=print):
    """Everything the command line does; returns the summary (also written
    to OUT/summary.json)."""
    find_tools(args.tools)  # fail before loading the data
    train_x, train_y, test_x, test_y = load_fashion_mnist(args.data)
    rng = np.random.default_rng(args.seed)
    if args.train_subset is not None:
        if args.train_subset > len(train_x):
            raise DriverError(f"--train-subset {args.train_subset} exceeds the "
                              f"{len(train_x)} training images")
        keep = np.sort(rng.choice(len(train_x), args.train_subset, replace=False))
        train_x, train_y = train_x[keep], train_y[keep]
    if args.test_subset is not None:
        test_x, test_y = test_x[:args.test_subset], test_y[:args.test_subset]
    if len(train_x) < args.batch:
        raise DriverError(f"{len(train_x)} training images make no batch of {args.batch}")
    x, xt = normalize(train_x), normalize(test_x)

    layers = seed000_cnn(args.variant, activation=args.activation, boost=args.boost,
                         batch_norm=args.batch_norm, bn_affine=args.bn_affine,
                         pruner=args.pruner, group_shape=args.group_shape,
                         **MODELS[args.model])
    log(f"{args.variant} {args.model} CNN: {len(train_x)} training / {len(test_x)} test "
        f"images, batch {args.batch}; compiling into {args.out}")
    trainer = Trainer(layers, args.out, batch=args.batch,
                      eval_batch=min(args.eval_batch, len(test_x)), lr=args.lr,
                      momentum=args.momentum, duty_alpha=args.duty_alpha, alpha=args.alpha,
                      theta=args.theta, temperature=args.temperature,
                      k_inference_factor=args.k_inference_factor,
                      init_sparsity=args.init_sparsity, seed=args.seed, tools_dir=args.tools)
    log(f"compiled the training step and the evaluation forward in "
        f"{trainer.compile_seconds:.1f} s ({trainer.step_options})")

    history = []
    for epoch in range(1, args.epochs + 1):
        if epoch > 1:
            # Numenta's schedule: after each epoch, lr *= gamma, boost *= factor.
            boost = trainer.boost
            seconds = trainer.set_schedule(
                lr=trainer.lr * args.lr_gamma,
                boost=None if boost is None else boost * args.boost_strength_factor)
            if seconds:
                log(f"epoch {epoch}: lr {trainer.lr:.6g}" + (
                    "" if boost is None else f", boost strength {trainer.boost:.6g}")
                    + f" (step recompiled in {seconds:.1f} s)")
        steps_before, seconds_before = trainer.steps, trainer.step_seconds
        loss, seconds, steps = train_epoch(trainer, x, train_y, rng, args.log_every, log)
        t0 = time.perf_counter()
        accuracy = float(np.mean(trainer.predict(xt) == test_y))
        eval_seconds = time.perf_counter() - t0
        layers_sparsity = trainer.weight_sparsity()
        weights = sum(e["weights"] for e in layers_sparsity)
        zeros = sum(e["zeros"] for e in layers_sparsity)
        entropy = trainer.duty_entropy()
        ms_step = 1e3 * (trainer.step_seconds - seconds_before) / (trainer.steps - steps_before)
        history.append({"epoch": epoch, "lr": trainer.lr, "boost": trainer.boost,
                        "train_loss": loss, "test_accuracy": accuracy,
                        "weight_sparsity": zeros / weights, "layers": layers_sparsity,
                        "duty_cycle_entropy": entropy, "epoch_seconds": seconds,
                        "steps": steps, "ms_per_step": ms_step,
                        "eval_seconds": eval_seconds})
        per_layer = " ".join(
            f"{e['layer']} {e['sparsity']:.3f}" + (f" (s^phi {e['s_phi']:.3f})" if "s_phi" in e
                                                   else "") for e in layers_sparsity)
        log(f"epoch {epoch}/{args.epochs}: train loss {loss:.4f}, test accuracy "
            f"{100 * accuracy:.2f}%, weight sparsity {zeros / weights:.4f} [{per_layer}]")
        if entropy:
            log("  duty-cycle entropy / max: " + ", ".join(
                f"{e['layer']} {e['entropy_bits']:.1f}/{e['max_entropy_bits']:.1f} bits "
                f"({e['ratio']:.3f})" for e in entropy))
        log(f"  {seconds:.1f} s for {steps} steps ({ms_step:.1f} ms/step in the compiled "
            f"step), evaluation {eval_seconds:.1f} s")

    params_dir = os.path.join(args.out, "params")
    model_path = os.path.join(args.out, "model.mlir")
    trainer.save_params(params_dir)
    t0 = time.perf_counter()
    model = trainer.finalize(params_dir, model_path)
    model_accuracy = float(np.mean(trainer.predict(xt, model) == test_y))
    log(f"finalised inference model {model_path} (compiled in "
        f"{time.perf_counter() - t0:.1f} s): test accuracy {100 * model_accuracy:.2f}%")
    noise = {}
    if not args.no_noise:
        for kind in args.noise_kinds:
            t0 = time.perf_counter()
            r = noise_robustness(test_x, test_y, lambda xb: trainer.predict(xb, model),
                                 seed=args.seed, kind=kind)
            noise[kind] = r
            log(f"noise robustness, {kind} (seed 000 Table 2): accuracy " + ", ".join(
                f"{eta:.2f}: {100 * a:.2f}%" for eta, a in zip(r["levels"], r["accuracy"]))
                + f"; noise score {r['noise_score']} of "
                  f"{len(test_y) * (len(r['levels']) - 1)}, noise accuracy "
                  f"{100 * r['noise_accuracy']:.2f}% ({time.perf_counter() - t0:.1f} s)")

    spgc8 = spgc8_sizes(trainer, os.path.join(args.out, "spgc8"))
    if spgc8:
        log(f"SPGC8 (8-bit, per-output-channel scales) of the pruned weights: "
            f"{spgc8['bytes']} bytes against {spgc8['dense_f32_bytes']} dense float32 "
            f"({spgc8['dense_f32_bytes'] / spgc8['bytes']:.1f}x), "
            f"{spgc8['dense_int8_bytes'] / spgc8['bytes']:.2f}x dense int8")

    last = history[-1]
    summary = {
        "variant": args.variant, "model": args.model,
        "options": dict(vars(args)),
        "step_options": trainer.step_options,
        "train_images": len(train_x), "test_images": len(test_x),
        "machine": {"cpu": cpu_name(), "python": platform.python_version(),
                    "numpy": np.__version__},
        "compile_seconds": trainer.compile_seconds,
        "epochs": history,
        "final": {"test_accuracy": last["test_accuracy"],
                  "model_test_accuracy": model_accuracy,
                  "weight_sparsity": last["weight_sparsity"],
                  "nonzero_weights": sum(e["weights"] - e["zeros"] for e in last["layers"]),
                  "weights": sum(e["weights"] for e in last["layers"]),
                  "ms_per_step": 1e3 * trainer.step_seconds / trainer.steps},
        "noise": noise or None,
        "spgc8": spgc8,
        "files": {"forward": trainer.forward_path, "eval_forward": trainer.eval_path,
                  "params": params_dir, "model": model_path},
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    log(f"summary: {os.path.join(args.out, 'summary.json')}")
    return summary


if __name__ == "__main__":
    main()
