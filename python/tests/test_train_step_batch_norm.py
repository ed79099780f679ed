"""Batch normalisation in the compiled training step (issue 17; seed 000 and
Numenta's sparse CNNs put one after each sparse layer): a strided, padded
conv2d -> batch_norm (training) -> relu -> linear -> batch_norm (rank 2) ->
linear, one SGD step with lr 1 and no momentum, so that each update is the
gradient, against PyTorch autograd in float64 (F.batch_norm with
training=True); the running means and variances against PyTorch's momentum
update (unbiased batch variance). The inference form (running statistics)
against F.batch_norm(training=False). Tolerances: loss 1e-5 relative,
gradients 1e-4 relative + 1e-6 absolute, running statistics 1e-5."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sparsenn.mlirgen import ttype  # noqa: E402
import harness  # noqa: E402
from harness import TOOLS_BUILT, opt  # noqa: E402

pytestmark = pytest.mark.skipif(not TOOLS_BUILT, reason="sparse-opt / sparse-run not built")

F = torch.nn.functional
N, C1, H, W = 4, 3, 9, 8
EPS, MOM = 1e-3, 0.2


def forward_ir(training=True):
    mode = ", training" if training else ""
    # conv 3x3 stride 2, padding [1, 0, 1, 1]: 9x8 -> 4x4.
    return f"""func.func @forward(%x: {ttype((N, 2, H, W))}, %w1: {ttype((C1, 2, 3, 3))} {{sparsenn.trainable}},
    %g1: {ttype((C1,))} {{sparsenn.trainable}}, %b1: {ttype((C1,))} {{sparsenn.trainable}},
    %m1: {ttype((C1,))} {{sparsenn.running_stat}}, %v1: {ttype((C1,))} {{sparsenn.running_stat}},
    %w2: {ttype((7, C1 * 16))} {{sparsenn.trainable}},
    %g2: {ttype((7,))} {{sparsenn.trainable}}, %b2: {ttype((7,))} {{sparsenn.trainable}},
    %m2: {ttype((7,))} {{sparsenn.running_stat}}, %v2: {ttype((7,))} {{sparsenn.running_stat}},
    %w3: {ttype((5, 7))} {{sparsenn.trainable}}) -> {ttype((N, 5))} {{
  %zero = arith.constant 0.0 : f32
  %c = sparsenn.conv2d %x, %w1 {{strides = array<i64: 2, 2>, padding = array<i64: 1, 0, 1, 1>}}
      : {ttype((N, 2, H, W))}, {ttype((C1, 2, 3, 3))} -> {ttype((N, C1, 4, 4))}
  %n = sparsenn.batch_norm %c, %g1, %b1, %m1, %v1 {{epsilon = {EPS}, momentum = {MOM}{mode}}} : {ttype((N, C1, 4, 4))}, {ttype((C1,))}
  %e = tensor.empty() : {ttype((N, C1, 4, 4))}
  %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%n : {ttype((N, C1, 4, 4))}) outs(%e : {ttype((N, C1, 4, 4))}) {{
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }} -> {ttype((N, C1, 4, 4))}
  %f = tensor.collapse_shape %r [[0], [1, 2, 3]] : {ttype((N, C1, 4, 4))} into {ttype((N, C1 * 16))}
  %h = sparsenn.linear %f, %w2 : {ttype((N, C1 * 16))}, {ttype((7, C1 * 16))} -> {ttype((N, 7))}
  %h2 = sparsenn.batch_norm %h, %g2, %b2, %m2, %v2 {{epsilon = {EPS}, momentum = {MOM}{mode}}} : {ttype((N, 7))}, {ttype((7,))}
  %y = sparsenn.linear %h2, %w3 : {ttype((N, 7))}, {ttype((5, 7))} -> {ttype((N, 5))}
  return %y : {ttype((N, 5))}
}}
"""


def params(rng):
    p = dict(w1=rng.normal(0, 0.5, (C1, 2, 3, 3)), g1=rng.uniform(0.5, 1.5, C1),
             b1=rng.normal(0, 0.1, C1), m1=rng.normal(0, 0.1, C1), v1=rng.uniform(0.5, 2, C1),
             w2=rng.normal(0, 0.3, (7, C1 * 16)), g2=rng.uniform(0.5, 1.5, 7),
             b2=rng.normal(0, 0.1, 7), m2=rng.normal(0, 0.1, 7), v2=rng.uniform(0.5, 2, 7),
             w3=rng.normal(0, 0.3, (5, 7)))
    return {k: v.astype(np.float32) for k, v in p.items()}


ORDER = ("w1", "g1", "b1", "m1", "v1", "w2", "g2", "b2", "m2", "v2", "w3")
TRAINED = ("w1", "g1", "b1", "w2", "g2", "b2", "w3")


def reference(x, y, p, training):
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in TRAINED) for k, v in p.items()}
    run_m1, run_v1 = t["m1"].detach().clone(), t["v1"].detach().clone()
    run_m2, run_v2 = t["m2"].detach().clone(), t["v2"].detach().clone()
    xp = F.pad(torch.from_numpy(x).double(), (1, 1, 1, 0))
    c = F.conv2d(xp, t["w1"], stride=2)
    n = F.batch_norm(c, run_m1, run_v1, t["g1"], t["b1"], training=training, momentum=MOM, eps=EPS)
    h = F.relu(n).reshape(N, -1) @ t["w2"].T
    h2 = F.batch_norm(h, run_m2, run_v2, t["g2"], t["b2"], training=training, momentum=MOM, eps=EPS)
    z = h2 @ t["w3"].T
    loss = -(torch.from_numpy(y).double() * torch.log_softmax(z, 1)).sum(1).mean()
    loss.backward()
    grads = {k: t[k].grad.numpy() for k in TRAINED}
    running = [v.numpy() for v in (run_m1, run_v1, run_m2, run_v2)]
    return float(loss), grads, running


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_step_matches_autograd(training):
    rng = np.random.default_rng(21 + training)
    x = rng.normal(size=(N, 2, H, W)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]
    p = params(rng)
    step = opt(forward_ir(training), "--sparsenn-generate-train-step=lr=1.0 momentum=0.0")
    outs = harness.run(step, [x] + [p[k] for k in ORDER] + [y]
                       + [np.zeros_like(p[k]) for k in TRAINED], "forward_train_step")
    loss, grads, running = reference(x, y, p, training)
    np.testing.assert_allclose(outs[0], loss, rtol=1e-5)
    for i, k in enumerate(TRAINED):
        np.testing.assert_allclose(p[k] - outs[1 + i], grads[k], rtol=1e-4, atol=1e-6, err_msg=k)
    # (loss, weights, momenta, running statistics): the inference form leaves
    # them as they are.
    got = outs[1 + 2 * len(TRAINED):]
    assert len(got) == 4
    for g, r, k in zip(got, running, ("m1", "v1", "m2", "v2")):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-7, err_msg=k)


def test_batch_norm_needs_two_values_per_channel():
    ir = f"""func.func @forward(%x: {ttype((1, 3))}, %w: {ttype((3, 3))} {{sparsenn.trainable}},
    %g: {ttype((3,))}, %b: {ttype((3,))}, %m: {ttype((3,))} {{sparsenn.running_stat}}, %v: {ttype((3,))} {{sparsenn.running_stat}}) -> {ttype((1, 3))} {{
  %h = sparsenn.linear %x, %w : {ttype((1, 3))}, {ttype((3, 3))} -> {ttype((1, 3))}
  %n = sparsenn.batch_norm %h, %g, %b, %m, %v {{training}} : {ttype((1, 3))}, {ttype((3,))}
  return %n : {ttype((1, 3))}
}}
"""
    import subprocess
    proc = subprocess.run([harness.SPARSE_OPT, "-", "--sparsenn-generate-train-step=lr=0.1"],
                          input=ir, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "needs more than one value per channel" in proc.stderr, proc.stderr
