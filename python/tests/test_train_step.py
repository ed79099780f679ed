"""`--sparsenn-generate-train-step` (seed 000 [0053]-[0067]): the compiled
training step of a sparse MLP with k-winners and boosting, run with
sparse-run, against PyTorch autograd on the same forward pass (the
k-winners mask from python/sparsenn/functional.py, gradient through the
winners only).

Tolerances: loss and updated weights relative 1e-5 (fp32 sums reordered);
the duty cycles follow eq. 1 exactly as functional.duty_cycle_update does;
fixed fan-in zeros stay zero. A short run on a toy problem checks that the
loss falls."""

import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sparsenn import functional as ref  # noqa: E402
from sparsenn.mlirgen import ttype  # noqa: E402
import harness  # noqa: E402
from harness import SPARSE_OPT, TOOLS_BUILT, opt  # noqa: E402

pytestmark = pytest.mark.skipif(not TOOLS_BUILT, reason="sparse-opt / sparse-run not built")

B, IN, HID, OUT, K = 6, 10, 16, 4, 4


def forward_ir(fixed):
    sp = " {sparsity = #sparsenn.sparsity<density = 0.5>}" if fixed else ""
    return f"""func.func @forward(%x: {ttype((B, IN))}, %w1: {ttype((HID, IN))} {{sparsenn.trainable}},
    %b1: {ttype((HID,))} {{sparsenn.trainable}}, %duty: {ttype((HID,))} {{sparsenn.duty_cycle}},
    %w2: {ttype((OUT, HID))} {{sparsenn.trainable}}, %b2: {ttype((OUT,))} {{sparsenn.trainable}}) -> {ttype((B, OUT))} {{
  %h = sparsenn.linear %x, %w1, %b1{sp} : {ttype((B, IN))}, {ttype((HID, IN))}, {ttype((HID,))} -> {ttype((B, HID))}
  %k = sparsenn.kwinners <global> %h duty_cycle %duty k = {K} boost = 1.5 break_ties relu : {ttype((B, HID))}, {ttype((HID,))} -> {ttype((B, HID))}
  %y = sparsenn.linear %k, %w2, %b2 : {ttype((B, HID))}, {ttype((OUT, HID))}, {ttype((OUT,))} -> {ttype((B, OUT))}
  return %y : {ttype((B, OUT))}
}}
"""


def compile_step(options, fixed=False):
    return opt(forward_ir(fixed), f"--sparsenn-generate-train-step={options}")


def run(module, inputs, entry="forward_train_step"):
    return harness.run(module, inputs, entry)


def params(rng, fixed=False):
    w1 = rng.normal(0, 0.5, size=(HID, IN)).astype(np.float32)
    if fixed:
        w1[:, ::2] = 0  # fixed fan-in 5 of 10
    return dict(w1=w1, b1=rng.normal(0, 0.1, size=HID).astype(np.float32),
                duty=rng.uniform(0, 0.3, size=HID).astype(np.float32),
                w2=rng.normal(0, 0.5, size=(OUT, HID)).astype(np.float32),
                b2=rng.normal(0, 0.1, size=OUT).astype(np.float32))


def torch_step(x, y, p, lr, mom, v, l1):
    t = {k: torch.tensor(a, dtype=torch.float64, requires_grad=k != "duty") for k, a in p.items()}
    h = torch.from_numpy(x).double() @ t["w1"].T + t["b1"]
    mask = ref.kwinners_mask(h.detach(), K, mode="global", duty_cycles=t["duty"].detach(),
                             boost_strength=1.5, break_ties=True)
    k = torch.where(mask & (h > 0), h, torch.zeros_like(h))
    z = k @ t["w2"].T + t["b2"]
    loss = -(torch.from_numpy(y).double() * torch.log_softmax(z, 1)).sum(1).mean()
    loss = loss + l1 * (t["w1"].abs().sum() + t["w2"].abs().sum())
    loss.backward()
    new, newv = {}, {}
    for n in ("w1", "b1", "w2", "b2"):
        g = t[n].grad.numpy()
        newv[n] = mom * v[n] + g
        new[n] = p[n] - lr * newv[n]
    duty = ref.duty_cycle_update(t["duty"].detach(), k.detach(), alpha=0.01).numpy()
    return float(loss), new, newv, duty


def check_kwinners_reference():
    """functional.kwinners_mask's keyword names, checked once."""
    import inspect
    sig = inspect.signature(ref.kwinners_mask)
    return {"duty_cycles", "boost_strength", "break_ties"} <= set(sig.parameters)


@pytest.mark.parametrize("lr,mom,l1", [(1.0, 0.0, 0.0), (0.1, 0.9, 0.0), (0.05, 0.5, 1e-3)])
def test_step_matches_autograd(lr, mom, l1):
    if not check_kwinners_reference():
        pytest.skip("functional.kwinners_mask has another signature")
    rng = np.random.default_rng(int(lr * 100 + mom * 10))
    x = rng.normal(size=(B, IN)).astype(np.float32)
    y = np.eye(OUT, dtype=np.float32)[rng.integers(0, OUT, size=B)]
    p = params(rng)
    v = {n: rng.normal(0, 0.01, size=p[n].shape).astype(np.float32) for n in ("w1", "b1", "w2", "b2")}
    step = compile_step(f"lr={lr} momentum={mom} l1={l1} duty-alpha=0.01")
    outs = run(step, [x, p["w1"], p["b1"], p["duty"], p["w2"], p["b2"], y,
                      v["w1"], v["b1"], v["w2"], v["b2"]])
    loss, new, newv, duty = torch_step(x, y, p, lr, mom, v, l1)
    np.testing.assert_allclose(outs[0], loss, rtol=1e-5)
    for i, n in enumerate(("w1", "b1", "w2", "b2")):
        np.testing.assert_allclose(outs[1 + i], new[n], rtol=1e-5, atol=1e-6, err_msg=n)
        np.testing.assert_allclose(outs[5 + i], newv[n], rtol=1e-5, atol=1e-6, err_msg=n)
    np.testing.assert_allclose(outs[9], duty, rtol=1e-5, atol=1e-7)


def test_fixed_fan_in_stays_sparse_and_loss_falls():
    rng = np.random.default_rng(3)
    p = params(rng, fixed=True)
    zeros = p["w1"] == 0
    step = compile_step("lr=0.2 momentum=0.9 duty-alpha=0.01", fixed=True)
    # A separable toy problem: the class is the argmax of 4 input features.
    x = rng.normal(size=(B, IN)).astype(np.float32)
    y = np.eye(OUT, dtype=np.float32)[np.argmax(x[:, 1:1 + 2 * OUT:2], axis=1)]
    v = {n: np.zeros_like(p[n]) for n in ("w1", "b1", "w2", "b2")}
    losses = []
    for _ in range(25):
        outs = run(step, [x, p["w1"], p["b1"], p["duty"], p["w2"], p["b2"], y,
                          v["w1"], v["b1"], v["w2"], v["b2"]])
        losses.append(float(outs[0]))
        for i, n in enumerate(("w1", "b1", "w2", "b2")):
            p[n], v[n] = outs[1 + i], outs[5 + i]
        p["duty"] = outs[9]
    assert (p["w1"][zeros] == 0).all()
    assert losses[-1] < 0.5 * losses[0], losses


def test_unsupported_op_is_refused():
    ir = f"""func.func @forward(%x: {ttype((2, 3))}, %w: {ttype((4, 3))} {{sparsenn.trainable}}) -> {ttype((2, 4))} {{
  %h = sparsenn.linear %x, %w : {ttype((2, 3))}, {ttype((4, 3))} -> {ttype((2, 4))}
  %e = math.tanh %h : {ttype((2, 4))}
  return %e : {ttype((2, 4))}
}}"""
    proc = subprocess.run([SPARSE_OPT, "-", "--sparsenn-generate-train-step"],
                          input=ir, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "no backward rule for 'math.tanh'" in proc.stderr


def cnn_ir():
    return f"""func.func @forward(%x: {ttype((2, 1, 8, 8))}, %w1: {ttype((4, 1, 3, 3))} {{sparsenn.trainable}},
    %b1: {ttype((4,))} {{sparsenn.trainable}}, %w2: {ttype((6, 4, 3, 3))} {{sparsenn.trainable}},
    %w3: {ttype((5, 24))} {{sparsenn.trainable}}) -> {ttype((2, 5))} {{
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.40282347E+38 : f32
  %c1 = sparsenn.conv2d %x, %w1, %b1 {{padding = array<i64: 1, 1, 1, 1>}} : {ttype((2, 1, 8, 8))}, {ttype((4, 1, 3, 3))}, {ttype((4,))} -> {ttype((2, 4, 8, 8))}
  %e = tensor.empty() : {ttype((2, 4, 8, 8))}
  %r = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%c1 : {ttype((2, 4, 8, 8))}) outs(%e : {ttype((2, 4, 8, 8))}) {{
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }} -> {ttype((2, 4, 8, 8))}
  %win = tensor.empty() : tensor<2x2xf32>
  %pe = tensor.empty() : {ttype((2, 4, 4, 4))}
  %pf = linalg.fill ins(%ninf : f32) outs(%pe : {ttype((2, 4, 4, 4))}) -> {ttype((2, 4, 4, 4))}
  %p = linalg.pooling_nchw_max {{dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}} ins(%r, %win : {ttype((2, 4, 8, 8))}, tensor<2x2xf32>) outs(%pf : {ttype((2, 4, 4, 4))}) -> {ttype((2, 4, 4, 4))}
  %k = sparsenn.kwinners <global> %p k = 20 relu : {ttype((2, 4, 4, 4))} -> {ttype((2, 4, 4, 4))}
  %c2 = sparsenn.conv2d %k, %w2 : {ttype((2, 4, 4, 4))}, {ttype((6, 4, 3, 3))} -> {ttype((2, 6, 2, 2))}
  %f = tensor.collapse_shape %c2 [[0], [1, 2, 3]] : {ttype((2, 6, 2, 2))} into {ttype((2, 24))}
  %y = sparsenn.linear %f, %w3 : {ttype((2, 24))}, {ttype((5, 24))} -> {ttype((2, 5))}
  return %y : {ttype((2, 5))}
}}
"""


def cnn_reference_grads(x, y, p, zero_mask=None):
    """Loss and gradients of cnn_ir()'s network in PyTorch (float64), the
    k-winners mask from functional.kwinners_mask; w2's gradient masked where
    `zero_mask` (fixed fan-in zeros) is set."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    F = torch.nn.functional
    h = F.max_pool2d(F.relu(F.conv2d(torch.from_numpy(x).double(), t["w1"], t["b1"], padding=1)), 2)
    mask = ref.kwinners_mask(h.detach(), 20, mode="global")
    h = torch.where(mask & (h > 0), h, torch.zeros_like(h))
    z = F.conv2d(h, t["w2"]).reshape(2, 24) @ t["w3"].T
    loss = -(torch.from_numpy(y).double() * torch.log_softmax(z, 1)).sum(1).mean()
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in t.items()}
    if zero_mask is not None:
        grads["w2"] = np.where(zero_mask, 0.0, grads["w2"])
    return float(loss), grads


def test_fixed_fan_in_conv_keeps_its_zeros():
    """Seed 000 [0057]: a conv2d with a `sparsity` fact keeps its zero
    weights (and their momenta) zero, and runs on the sparse-tap kernel packed
    at each call, forward and dX (a correlation with the flipped filters):
    one step with lr 1 and no momentum matches autograd."""
    rng = np.random.default_rng(12)
    ir = cnn_ir().replace(
        "%c2 = sparsenn.conv2d %k, %w2 :",
        "%c2 = sparsenn.conv2d %k, %w2 {sparsity = #sparsenn.sparsity<density = 0.2>} :")
    assert "density = 0.2" in ir
    step = opt(ir, "--sparsenn-generate-train-step=lr=1.0 momentum=0.0")
    assert step.count("#sparsenn.kernel<ell>") >= 2, "forward and dX on sparse taps"
    x = rng.normal(size=(2, 1, 8, 8)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[0, 4]]
    p = dict(w1=rng.normal(0, 0.5, size=(4, 1, 3, 3)), b1=rng.normal(0, 0.1, size=4),
             w2=rng.normal(0, 0.3, size=(6, 4, 3, 3)), w3=rng.normal(0, 0.3, size=(5, 24)))
    p = {k: v.astype(np.float32) for k, v in p.items()}
    zeros = rng.random(p["w2"].shape) < 0.8
    p["w2"][zeros] = 0
    names = ("w1", "b1", "w2", "w3")
    outs = run(step, [x, p["w1"], p["b1"], p["w2"], p["w3"], y]
               + [np.zeros_like(p[n]) for n in names])
    assert (outs[3][zeros] == 0).all() and (outs[7][zeros] == 0).all()
    loss, grads = cnn_reference_grads(x, y, p, zero_mask=zeros)
    np.testing.assert_allclose(outs[0], loss, rtol=1e-5)
    for i, n in enumerate(names):
        np.testing.assert_allclose(p[n] - outs[1 + i], grads[n], rtol=1e-4, atol=1e-6,
                                   err_msg=n)


def test_cnn_step_matches_autograd():
    """conv (padding 1) -> relu -> max-pool 2x2 -> k-winners -> conv ->
    flatten -> linear: one step with lr 1, no momentum, so the update is the
    gradient."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 1, 8, 8)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[1, 3]]
    p = dict(w1=rng.normal(0, 0.5, size=(4, 1, 3, 3)), b1=rng.normal(0, 0.1, size=4),
             w2=rng.normal(0, 0.3, size=(6, 4, 3, 3)), w3=rng.normal(0, 0.3, size=(5, 24)))
    p = {k: v.astype(np.float32) for k, v in p.items()}
    proc = subprocess.run([SPARSE_OPT, "-", "--sparsenn-generate-train-step=lr=1.0 momentum=0.0"],
                          input=cnn_ir(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    zeros = [np.zeros_like(p[n]) for n in ("w1", "b1", "w2", "w3")]
    outs = run(proc.stdout, [x, p["w1"], p["b1"], p["w2"], p["w3"], y] + zeros)

    loss, grads = cnn_reference_grads(x, y, p)
    np.testing.assert_allclose(outs[0], loss, rtol=1e-5)
    for i, n in enumerate(("w1", "b1", "w2", "w3")):
        np.testing.assert_allclose(p[n] - outs[1 + i], grads[n], rtol=1e-4, atol=1e-6,
                                   err_msg=n)


def test_learnable_sparsity_matches_autograd():
    """Seed 003 [0194]-[0219]: w1 pruned by the Gaussian pruner with a
    learnable s1 (straight-through on the sigmoid relaxation,
    pruning.prune_ste), w2 by the same with a hard-sigmoid normalised s2;
    loss = mean(L_ce + L_sp) with alpha 0.5 (eq. 13). One step with lr 1 and
    no momentum: the update is the gradient, for the weights and for s1, s2.
    The Gumbel and quantile pruners: the tests below."""
    from sparsenn import losses, pruning
    rng = np.random.default_rng(5)
    x = rng.normal(size=(B, IN)).astype(np.float32)
    y = np.eye(OUT, dtype=np.float32)[rng.integers(0, OUT, size=B)]
    w1 = rng.normal(0, 0.5, size=(HID, IN)).astype(np.float32)
    w2 = rng.normal(0, 0.5, size=(OUT, HID)).astype(np.float32)
    s1, s2 = np.array(-0.3, np.float32), np.array(0.4, np.float32)
    ir = f"""func.func @forward(%x: {ttype((B, IN))}, %w1: {ttype((HID, IN))} {{sparsenn.trainable}},
    %s1: tensor<f32> {{sparsenn.trainable}}, %w2: {ttype((OUT, HID))} {{sparsenn.trainable}},
    %s2: tensor<f32> {{sparsenn.trainable}}) -> {ttype((B, OUT))} {{
  %zero = arith.constant dense<0.0> : {ttype((B, HID))}
  %p1, %m1 = sparsenn.prune <gaussian> %w1, %s1 : {ttype((HID, IN))}, tensor<f32> -> {ttype((HID, IN))}, {ttype((HID, IN), 'i1')}
  %h = sparsenn.linear %x, %p1 : {ttype((B, IN))}, {ttype((HID, IN))} -> {ttype((B, HID))}
  %r = arith.maximumf %h, %zero : {ttype((B, HID))}
  %p2, %m2 = sparsenn.prune <gaussian> %w2, %s2 {{normalization = #sparsenn.normalization<hard_sigmoid>}} : {ttype((OUT, HID))}, tensor<f32> -> {ttype((OUT, HID))}, {ttype((OUT, HID), 'i1')}
  %z = sparsenn.linear %r, %p2 : {ttype((B, HID))}, {ttype((OUT, HID))} -> {ttype((B, OUT))}
  return %z : {ttype((B, OUT))}
}}
"""
    step = opt(ir, "--sparsenn-generate-train-step=lr=1.0 momentum=0.0 alpha=0.5")
    zeros = [np.zeros_like(w1), np.zeros_like(s1), np.zeros_like(w2), np.zeros_like(s2)]
    outs = run(step, [x, w1, s1, w2, s2, y] + zeros)

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
         for k, v in dict(w1=w1, s1=s1, w2=w2, s2=s2).items()}
    p1, _ = pruning.prune_ste(t["w1"], t["s1"], method="gaussian")
    p2, _ = pruning.prune_ste(t["w2"], t["s2"], method="gaussian",
                              normalization="hard_sigmoid")
    z = torch.relu(torch.from_numpy(x).double() @ p1.T) @ p2.T
    ce = -(torch.from_numpy(y).double() * torch.log_softmax(z, 1)).sum(1)
    # One normalisation per parameter: L_sp from each parameter's s^phi.
    c = (torch.sigmoid(t["s1"]) * w1.size
         + torch.clamp(t["s2"] / 6 + 0.5, 0, 1) * w2.size) / (w1.size + w2.size)
    l_sp = -0.5 * ce * torch.log(1 - c) - 0.5 * torch.log(c)
    loss = losses.total_loss(ce, l_sp)
    loss.backward()
    np.testing.assert_allclose(outs[0], float(loss), rtol=1e-5)
    for i, n in enumerate(("w1", "s1", "w2", "s2")):
        want = t[n].grad.numpy()
        got = np.asarray(dict(w1=w1, s1=s1, w2=w2, s2=s2)[n], np.float64) - outs[1 + i]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=n)


def pruned_mlp_ir(method, norm1, norm2, group2=None, reduction2="max"):
    """x -> prune(w1, s1) linear -> relu -> prune(w2, s2) linear, both
    pruners of `method` (w2's over groups `group2` with `reduction2` when
    given), s1 and s2 trainable."""
    g2 = ""
    if group2:
        g2 = (", granularity = #sparsenn.granularity<group>, group_shape = array<i64: "
              + ", ".join(map(str, group2)) + f">, reduction = #sparsenn.reduction<{reduction2}>")
    return f"""func.func @forward(%x: {ttype((B, IN))}, %w1: {ttype((HID, IN))} {{sparsenn.trainable}},
    %s1: tensor<f32> {{sparsenn.trainable}}, %w2: {ttype((OUT, HID))} {{sparsenn.trainable}},
    %s2: tensor<f32> {{sparsenn.trainable}}) -> {ttype((B, OUT))} {{
  %zero = arith.constant dense<0.0> : {ttype((B, HID))}
  %p1, %m1 = sparsenn.prune <{method}> %w1, %s1 {{normalization = #sparsenn.normalization<{norm1}>}} : {ttype((HID, IN))}, tensor<f32> -> {ttype((HID, IN))}, {ttype((HID, IN), 'i1')}
  %h = sparsenn.linear %x, %p1 : {ttype((B, IN))}, {ttype((HID, IN))} -> {ttype((B, HID))}
  %r = arith.maximumf %h, %zero : {ttype((B, HID))}
  %p2, %m2 = sparsenn.prune <{method}> %w2, %s2 {{normalization = #sparsenn.normalization<{norm2}>{g2}}} : {ttype((OUT, HID))}, tensor<f32> -> {ttype((OUT, HID))}, {ttype((OUT, HID), 'i1')}
  %z = sparsenn.linear %r, %p2 : {ttype((B, HID))}, {ttype((OUT, HID))} -> {ttype((B, OUT))}
  return %z : {ttype((B, OUT))}
}}
"""


def pruned_mlp_step(method, norm1, norm2, s1, s2, alpha, theta=None, group2=None,
                    reduction2="max", tied2=False, seed=5):
    """One compiled step (lr 1, no momentum) of pruned_mlp_ir and the same
    objective in PyTorch (float64, pruning.prune_ste). `tied2` puts w2 on a
    coarse grid (many equal values, so ties among group maxima). Returns the
    compiled outputs, the parameters, the autograd tensors (with .grad) and
    the reference loss."""
    from sparsenn import losses, pruning
    from sparsenn.functional import normalize_sparsity
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, IN)).astype(np.float32)
    y = np.eye(OUT, dtype=np.float32)[rng.integers(0, OUT, size=B)]
    p = dict(w1=rng.normal(0, 0.5, size=(HID, IN)).astype(np.float32),
             s1=np.array(s1, np.float32),
             w2=rng.normal(0, 0.5, size=(OUT, HID)).astype(np.float32),
             s2=np.array(s2, np.float32))
    if tied2:
        p["w2"] = (np.round(p["w2"] * 4) / 4).astype(np.float32)
    options = "lr=1.0 momentum=0.0"
    if alpha is not None:
        options += f" alpha={alpha}"
    if theta is not None:
        options += f" theta={theta}"
    step = opt(pruned_mlp_ir(method, norm1, norm2, group2, reduction2),
               f"--sparsenn-generate-train-step={options}")
    outs = run(step, [x, p["w1"], p["s1"], p["w2"], p["s2"], y]
               + [np.zeros_like(p[n]) for n in ("w1", "s1", "w2", "s2")])

    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    p1, _ = pruning.prune_ste(t["w1"], t["s1"], method=method, normalization=norm1)
    g2 = dict(granularity="group", group_shape=group2, reduction=reduction2) if group2 else {}
    p2, _ = pruning.prune_ste(t["w2"], t["s2"], method=method, normalization=norm2, **g2)
    z = torch.relu(torch.from_numpy(x).double() @ p1.T) @ p2.T
    ce = -(torch.from_numpy(y).double() * torch.log_softmax(z, 1)).sum(1)
    if alpha is None:
        loss = ce.mean()
    else:
        n1, n2 = p["w1"].size, p["w2"].size
        c = (normalize_sparsity(t["s1"], norm1) * n1
             + normalize_sparsity(t["s2"], norm2) * n2) / (n1 + n2)
        if theta is not None:
            c = c / theta
        l_sp = -alpha * ce * torch.log(1 - c) - (1 - alpha) * torch.log(c)
        loss = losses.total_loss(ce, l_sp)
    loss.backward()
    return outs, p, t, float(loss)


def assert_step_is_gradient(outs, p, t, loss):
    np.testing.assert_allclose(outs[0], loss, rtol=1e-5)
    for i, n in enumerate(("w1", "s1", "w2", "s2")):
        got = np.asarray(p[n], np.float64) - outs[1 + i]
        want = t[n].grad.numpy() if t[n].grad is not None else np.zeros_like(got)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=n)


@pytest.mark.parametrize("norm1,norm2,s1,s2,alpha", [
    ("sigmoid", "hard_sigmoid", -0.3, 0.4, 0.5),   # with the sparsity loss (eq. 13)
    ("sigmoid", "none", 0.5, 0.3, None),           # s learns through tau only
    ("hard_sigmoid", "sigmoid", 1.2, -1.0, 0.2),
])
def test_gumbel_learnable_sparsity_matches_autograd(norm1, norm2, s1, s2, alpha):
    """Seed 003 FIG. 7d, eq. 7-10, [0214]: the Gumbel pruner with learnable
    s (element granularity): straight-through for the kept weights plus the
    gradient of the sigmoid relaxation through the differentiable threshold
    tau = phi - beta*log(log(1/s^phi)) (beta, phi from the statistics of
    |w - mu|) to w and s, as PyTorch autograd of pruning.prune_ste. The
    pruner is deterministic (a distribution fit, no noise), so both sides
    see the same mask. One step with lr 1, no momentum: the update is the
    gradient."""
    outs, p, t, loss = pruned_mlp_step("gumbel", norm1, norm2, s1, s2, alpha)
    assert_step_is_gradient(outs, p, t, loss)
    if alpha is None:
        # No sparsity loss: the sparsity parameters move through tau alone.
        for n in ("s1", "s2"):
            assert abs(float(t[n].grad)) > 1e-3, n


@pytest.mark.parametrize("group2,reduction2,tied2,seed", [
    ((1, 8), "max", False, 5),     # SPGC8-like row groups
    ((2, 2), "mean", False, 6),
    ((4, 5), "max", False, 7),     # remainder groups, zero-padded
    ((1, 4), "max", True, 8),      # tied maxima: amax shares the gradient
    ((3, 16), "mean", True, 9),    # padded rows count in the mean
])
def test_group_gumbel_learnable_sparsity_matches_autograd(group2, reduction2, tied2, seed):
    """FIG. 7d over groups: the Gumbel model of the groups' reductions
    R = Reduction(|w - mu|), the relaxation per group expanded to its
    coefficients; the gradient reaches w through R (max: shared among tied
    maxima, mean: 1/|group| each) and mu, and s through tau, as autograd of
    pruning.prune_ste. w1 stays element-wise."""
    outs, p, t, loss = pruned_mlp_step("gumbel", "sigmoid", "hard_sigmoid", -0.3, 0.4, 0.5,
                                       group2=group2, reduction2=reduction2, tied2=tied2,
                                       seed=seed)
    assert_step_is_gradient(outs, p, t, loss)
    if tied2 and reduction2 == "max":
        from sparsenn import pruning
        centred = torch.from_numpy(p["w2"]).double()
        centred = (centred - centred.mean()).abs()
        r = pruning.group_reduce(centred, group2, "max")
        hits = pruning.group_reduce((pruning.expand_groups(r, group2, centred.shape)
                                     == centred).double(), group2, "mean") * np.prod(group2)
        assert (hits > 1).any()  # some group has tied maxima


def test_gumbel_relaxation_term_is_present():
    """The weights' gradient is not the bare straight-through one: pruned
    weights (hard mask 0) get a gradient through the relaxation, which the
    straight-through estimator alone would leave at exactly 0."""
    from sparsenn import pruning
    outs, p, t, loss = pruned_mlp_step("gumbel", "sigmoid", "sigmoid", 0.2, 0.2, None)
    assert_step_is_gradient(outs, p, t, loss)
    for i, (n, s) in enumerate((("w1", "s1"), ("w2", "s2"))):
        mask = pruning.prune_mask(torch.from_numpy(p[n]), float(p[s]), method="gumbel").numpy()
        assert (~mask).any() and mask.any(), n
        moved = p[n][~mask] - outs[1 + 2 * i][~mask]
        assert np.abs(moved).max() > 1e-4, n


@pytest.mark.parametrize("alpha,theta,group2", [(0.5, None, None), (0.3, 0.9, (1, 8)),
                                                (None, None, None)])
def test_quantile_learnable_sparsity_direct_update(alpha, theta, group2):
    """Seed 003 FIG. 7a/7b, [0214]: the quantile pruners are not
    differentiable in s, so s is updated directly by the sparsity learning
    logic: its gradient is that of the sparsity loss alone (eq. 13/15),
    dL/ds_j = (alpha*mean(L_ce)/(1 - c') - (1 - alpha)/c') * n_j/(N*theta)
    * ds^phi/ds; the weights get the masked (straight-through) gradient.
    The compiled mask (run-time s, bisection) is the reference's exactly, so
    the weights' gradients match autograd; without a sparsity loss s does
    not move."""
    outs, p, t, loss = pruned_mlp_step("quantile", "sigmoid", "hard_sigmoid", -0.3, 0.4,
                                       alpha, theta, group2)
    assert_step_is_gradient(outs, p, t, loss)
    # The pruned weights get no gradient.
    from sparsenn import pruning
    g2 = dict(granularity="group", group_shape=group2) if group2 else {}
    for n, s, norm, kw in (("w1", "s1", "sigmoid", {}), ("w2", "s2", "hard_sigmoid", g2)):
        mask = pruning.prune_mask(torch.from_numpy(p[n]), float(p[s]), method="quantile",
                                  normalization=norm, **kw).numpy()
        i = ("w1", "s1", "w2", "s2").index(n)
        assert (outs[1 + i][~mask] == p[n][~mask]).all(), n
        assert (~mask).any()
    if alpha is None:
        np.testing.assert_array_equal(outs[2], p["s1"])
        np.testing.assert_array_equal(outs[4], p["s2"])
        return
    # [0214] by hand: the update of s is the sparsity loss's gradient.
    th = theta if theta is not None else 1.0
    n1, n2 = p["w1"].size, p["w2"].size
    sig = 1 / (1 + np.exp(-np.float64(p["s1"])))
    hs = np.clip(np.float64(p["s2"]) / 6 + 0.5, 0, 1)
    c = (sig * n1 + hs * n2) / (n1 + n2) / th
    # loss = mean(L_ce)*(1 - alpha*log(1 - c)) - (1 - alpha)*log(c).
    ce_mean = (loss + (1 - alpha) * np.log(c)) / (1 - alpha * np.log(1 - c))
    dldc = alpha * ce_mean / (1 - c) - (1 - alpha) / c
    want1 = dldc * n1 / ((n1 + n2) * th) * sig * (1 - sig)
    want2 = dldc * n2 / ((n1 + n2) * th) * (1 / 6 if 0 < hs < 1 else 0)
    np.testing.assert_allclose(np.float64(p["s1"]) - outs[2], want1, rtol=1e-4)
    np.testing.assert_allclose(np.float64(p["s2"]) - outs[4], want2, rtol=1e-4)
