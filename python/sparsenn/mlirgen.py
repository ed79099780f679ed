"""Builders of sparsenn MLIR text with random constant weights, shared by the
tests (python/tests) and the benchmarks (benchmarks/): tensor types, hex
constants, fixed-fan-in weights and seed 000's sparse CNN with its PyTorch
reference."""

import numpy as np
import torch

from . import functional as ref
from .pruning import fixed_fan_in_mask

F = torch.nn.functional


def ttype(shape, elt="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elt + ">"


def const(name, array):
    array = np.ascontiguousarray(array, dtype=np.float32)
    hexdata = array.astype("<f4").tobytes().hex().upper()
    return f'  %{name} = arith.constant dense<"0x{hexdata}"> : {ttype(array.shape)}\n'


def sparse_weights(rng, shape, density):
    fan_in = max(1, int(round(density * np.prod(shape[1:]))))
    mask = fixed_fan_in_mask(shape, fan_in,
                             generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))))
    w = rng.normal(0, 1, size=shape).astype(np.float32)
    return w * mask.numpy().astype(np.float32)


def maxpool(name, src, shape):
    n, c, h, w = shape
    out = (n, c, h // 2, w // 2)
    return out, f"""  %{name}_e = tensor.empty() : {ttype(out)}
  %{name}_f = linalg.fill ins(%ninf : f32) outs(%{name}_e : {ttype(out)}) -> {ttype(out)}
  %{name} = linalg.pooling_nchw_max {{dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}} ins(%{src}, %win : {ttype(shape)}, tensor<2x2xf32>) outs(%{name}_f : {ttype(out)}) -> {ttype(out)}
"""


def seed000_cnn(rng, batch, c1=64, c2=64, hidden=1000, density=0.1):
    """seed 000's sparse CNN (Table 1 shape): conv 64@5x5 -> max-pool ->
    k-winners -> conv 64@5x5 -> max-pool -> k-winners -> linear 1000 at 90%
    weight sparsity -> k-winners -> linear 10, on 28x28 inputs."""
    w1 = sparse_weights(rng, (c1, 1, 5, 5), 1.0) * 0.3
    w2 = sparse_weights(rng, (c2, c1, 5, 5), density) * 0.3
    w3 = sparse_weights(rng, (hidden, c2 * 16), density) * 0.3
    w4 = sparse_weights(rng, (10, hidden), 1.0) * 0.1
    bs = [rng.normal(size=n).astype(np.float32) * 0.1 for n in (c1, c2, hidden, 10)]
    d = [rng.uniform(0, 0.2, size=n).astype(np.float32) for n in (c1, c2, hidden)]
    x = rng.normal(size=(batch, 1, 28, 28)).astype(np.float32)
    body = "".join(const(n, a) for n, a in
                   [("w1", w1), ("w2", w2), ("w3", w3), ("w4", w4),
                    ("b1", bs[0]), ("b2", bs[1]), ("b3", bs[2]), ("b4", bs[3]),
                    ("d1", d[0]), ("d2", d[1]), ("d3", d[2])])
    s1, s1p = (batch, c1, 24, 24), (batch, c1, 12, 12)
    s2, s2p = (batch, c2, 8, 8), (batch, c2, 4, 4)
    _, pool1 = maxpool("p1", "c1", s1)
    _, pool2 = maxpool("p2", "c2", s2)
    k1, k2, k3 = int(round(0.1 * c1 * 144)), int(round(0.1 * c2 * 16)), int(round(0.1 * hidden))
    module = f"""func.func @main(%x: {ttype(x.shape)}) -> {ttype((batch, 10))} {{
{body}  %ninf = arith.constant -3.40282347E+38 : f32
  %win = tensor.empty() : tensor<2x2xf32>
  %c1 = sparsenn.conv2d %x, %w1, %b1 : {ttype(x.shape)}, {ttype(w1.shape)}, {ttype(bs[0].shape)} -> {ttype(s1)}
{pool1}  %k1 = sparsenn.kwinners <global> %p1 duty_cycle %d1 k = {k1} boost = 1.5 break_ties : {ttype(s1p)}, {ttype(d[0].shape)} -> {ttype(s1p)}
  %c2 = sparsenn.conv2d %k1, %w2, %b2 : {ttype(s1p)}, {ttype(w2.shape)}, {ttype(bs[1].shape)} -> {ttype(s2)}
{pool2}  %k2 = sparsenn.kwinners <global> %p2 duty_cycle %d2 k = {k2} boost = 1.5 break_ties : {ttype(s2p)}, {ttype(d[1].shape)} -> {ttype(s2p)}
  %flat = tensor.collapse_shape %k2 [[0], [1, 2, 3]] : {ttype(s2p)} into {ttype((batch, c2 * 16))}
  %l3 = sparsenn.linear %flat, %w3, %b3 : {ttype((batch, c2 * 16))}, {ttype(w3.shape)}, {ttype(bs[2].shape)} -> {ttype((batch, hidden))}
  %k3 = sparsenn.kwinners <global> %l3 duty_cycle %d3 k = {k3} boost = 1.5 break_ties : {ttype((batch, hidden))}, {ttype(d[2].shape)} -> {ttype((batch, hidden))}
  %y = sparsenn.linear %k3, %w4, %b4 : {ttype((batch, hidden))}, {ttype(w4.shape)}, {ttype(bs[3].shape)} -> {ttype((batch, 10))}
  return %y : {ttype((batch, 10))}
}}"""

    def reference():
        t = lambda a: torch.from_numpy(a).double()  # noqa: E731
        h = F.conv2d(t(x), t(w1), t(bs[0]))
        h = F.max_pool2d(h, 2)
        h = ref.kwinners(h, k1, mode="global", duty_cycles=t(d[0]), boost_strength=1.5, break_ties=True)
        h = F.conv2d(h, t(w2), t(bs[1]))
        h = F.max_pool2d(h, 2)
        h = ref.kwinners(h, k2, mode="global", duty_cycles=t(d[1]), boost_strength=1.5, break_ties=True)
        h = h.reshape(batch, -1) @ t(w3).T + t(bs[2])
        h = ref.kwinners(h, k3, mode="global", duty_cycles=t(d[2]), boost_strength=1.5, break_ties=True)
        return (h @ t(w4).T + t(bs[3])).numpy()

    return module, x, reference
