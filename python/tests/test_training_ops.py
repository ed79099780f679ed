"""Learnable pruning and the sparsity loss with a run-time sparsity parameter
(`--sparsenn-lower-training-ops`, run by sparse-run's lowering pipeline)
against the package's PyTorch references (python/sparsenn/pruning.py,
losses.py; seed 003 FIG. 7c/7d, eq. 3-4, 7-10, 13-15).

Masks must be identical except for coefficients within 1e-6 (relative to
the weights' spread) of the threshold, where f32 vs f64 statistics may
round differently; losses match to relative 1e-6."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sparsenn import losses, pruning  # noqa: E402
from sparsenn.mlirgen import ttype  # noqa: E402
from harness import TOOLS_BUILT, run  # noqa: E402

pytestmark = pytest.mark.skipif(not TOOLS_BUILT, reason="sparse-opt / sparse-run not built")


CASES = [
    ("gaussian", "sigmoid", (16, 32), 0.4),
    ("gaussian", "sigmoid", (8, 4, 3, 3), -1.5),
    ("gaussian", "hard_sigmoid", (64, 10), 2.0),
    ("gaussian", "none", (20, 20), 0.9),
    ("gaussian", "hard_sigmoid", (10, 10), -5.0),   # s^phi = 0
    ("gumbel", "sigmoid", (16, 32), 0.4),
    ("gumbel", "hard_sigmoid", (8, 4, 3, 3), 1.0),
    ("gumbel", "none", (30, 7), 0.05),
    ("gumbel", "hard_sigmoid", (10, 10), -5.0),     # s^phi = 0: keep all
    ("gumbel", "hard_sigmoid", (10, 10), 5.0),      # s^phi = 1: prune all
]


@pytest.mark.parametrize("method,norm,shape,s", CASES)
def test_prune_with_runtime_sparsity(method, norm, shape, s):
    rng = np.random.default_rng(abs(hash((method, norm, shape))) % 2**32)
    w = rng.normal(0.1, 1.0, size=shape).astype(np.float32)
    t = ttype(shape)
    module = f"""func.func @main(%w: {t}, %s: tensor<f32>) -> ({t}, {ttype(shape, 'i1')}) {{
  %p, %m = sparsenn.prune <{method}> %w, %s {{normalization = #sparsenn.normalization<{norm}>}} : {t}, tensor<f32> -> {t}, {ttype(shape, 'i1')}
  return %p, %m : {t}, {ttype(shape, 'i1')}
}}"""
    pruned, mask = run(module, [w, np.array(s, np.float32)])
    want = pruning.prune_mask(torch.from_numpy(w), s, method=method,
                              normalization=norm).numpy()
    wd = w.astype(np.float64)
    # The statistic compared with the threshold, to excuse near-ties only.
    stat = np.abs(wd - wd.mean())
    differ = mask != want
    if differ.any():
        ref_t = np.sort(stat.ravel())
        near = np.min(np.abs(stat[differ][:, None] - ref_t[None, :]), axis=1)
        assert differ.sum() <= 1 and near.max() <= 1e-6 * stat.std(), differ.sum()
    np.testing.assert_array_equal(pruned, np.where(mask, w, 0).astype(np.float32))


@pytest.mark.parametrize("ce_shape,theta,norm", [((), None, "sigmoid"),
                                                  ((5,), 0.8, "sigmoid"),
                                                  ((3,), None, "hard_sigmoid")])
def test_sparsity_loss(ce_shape, theta, norm):
    rng = np.random.default_rng(7)
    ce = rng.uniform(0.2, 2.5, size=ce_shape).astype(np.float32)
    params = [np.array(v, np.float32) for v in (0.3, -1.2, 0.8)]
    counts = [1600, 51200, 1024000]
    attrs = f"alpha = 0.4 : f64, counts = array<i64: {', '.join(map(str, counts))}>"
    if theta is not None:
        attrs += f", theta = {theta} : f64"
    attrs += f", normalization = #sparsenn.normalization<{norm}>"
    tc = ttype(ce_shape)
    module = f"""func.func @main(%ce: {tc}, %a: tensor<f32>, %b: tensor<f32>, %c: tensor<f32>) -> {tc} {{
  %l = sparsenn.sparsity_loss %ce, %a, %b, %c {{{attrs}}} : {tc}, tensor<f32>, tensor<f32>, tensor<f32> -> {tc}
  return %l : {tc}
}}"""
    (got,) = run(module, [ce] + params)
    want = losses.sparsity_loss(torch.from_numpy(ce).double(),
                                [torch.tensor(float(p), dtype=torch.float64) for p in params],
                                counts, 0.4, theta=theta, normalization=norm).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
