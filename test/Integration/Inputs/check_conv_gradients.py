"""Checks test/Integration/conv-gradients.mlir's results (runtime kernels and
linalg loops) against PyTorch autograd in float64."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

d = sys.argv[1]
inp = {n: torch.from_numpy(np.load(f"{d}/{n}.npy")).double() for n in ("x", "w", "dy", "dy2", "m", "a", "b")}


def conv_grads(dy, **conv):
    x = inp["x"].clone().requires_grad_(True)
    w = inp["w"].clone().requires_grad_(True)
    padding = conv.pop("pad", (0, 0, 0, 0))  # top, bottom, left, right
    xp = F.pad(x, (padding[2], padding[3], padding[0], padding[1]))
    y = F.conv2d(xp, w, **conv)
    assert y.shape == dy.shape, (y.shape, dy.shape)
    y.backward(dy)
    return x.grad, w.grad


dx, dw = conv_grads(inp["dy"], stride=2, pad=(1, 0, 1, 1))
dx2, dw2 = conv_grads(inp["dy2"], dilation=2)
expected = [dx, dw, dw2 * (inp["m"] != 0), dx2, dw * (inp["m"] != 0), inp["a"].T @ inp["b"]]
names = ["dx (stride 2)", "dw (stride 2)", "masked dw (dilation 2)", "dx (dilation 2)",
         "masked dw (stride 2)", "a^T b"]
for run in ("rt", "loops"):
    for i, (ref, name) in enumerate(zip(expected, names)):
        got = np.load(f"{d}/{run}/result{i}.npy").astype(np.float64)
        ref = ref.numpy()
        assert got.shape == ref.shape, (run, name, got.shape, ref.shape)
        err = np.abs(got - ref).max() / max(1e-30, np.abs(ref).max())
        assert err <= 1e-4, f"{run}: {name}: relative error {err:.3g}"
        if "masked" in name:
            assert np.all(got[inp["m"].numpy() == 0] == 0), f"{run}: {name}: non-zero outside the mask"
print("conv gradients: runtime kernels and linalg loops match autograd")
