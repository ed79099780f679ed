"""Learnable pruning and the sparsity loss with a run-time sparsity parameter
(`--sparsenn-lower-training-ops`, run by sparse-run's lowering pipeline)
against the package's PyTorch references (python/sparsenn/pruning.py,
losses.py; seed 003 FIG. 7a-7d, eq. 1-10, 13-15).

Gaussian and Gumbel masks must be identical except for coefficients within
1e-6 (relative to the weights' spread) of the threshold, where f32 vs f64
statistics may round differently; quantile masks (a rank, no statistics)
must be identical, ties included; losses match to relative 1e-6."""

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


def prune_attrs(norm, granularity, reduction, group_shape):
    """The attribute dictionary body of a sparsenn.prune."""
    attrs = (f"normalization = #sparsenn.normalization<{norm}>, "
             f"granularity = #sparsenn.granularity<{granularity}>, "
             f"reduction = #sparsenn.reduction<{reduction}>")
    if group_shape:
        attrs += f", group_shape = array<i64: {', '.join(map(str, group_shape))}>"
    return attrs


GROUP_GUMBEL_CASES = [
    # (shape, normalization, s, granularity, group_shape, reduction)
    ((16, 40), "sigmoid", 0.3, "group", (1, 16), "max"),   # SPGC8 groups, padded
    ((16, 40), "sigmoid", -0.5, "group", (2, 2), "mean"),
    ((16, 40), "none", 0.2, "group", (3, 7), "mean"),      # padded both ways
    ((8, 6, 3, 3), "sigmoid", 0.0, "input_channel", None, "max"),
    ((8, 6, 3, 3), "sigmoid", 0.5, "output_filter", None, "mean"),
    ((8, 6, 3, 3), "hard_sigmoid", -5.0, "output_filter", None, "max"),  # keep all
    ((8, 6, 3, 3), "hard_sigmoid", 5.0, "output_filter", None, "max"),   # prune all
]


@pytest.mark.parametrize("case", range(len(GROUP_GUMBEL_CASES)))
def test_group_gumbel_prune_with_runtime_sparsity(case):
    """FIG. 7d over groups: the Gumbel model of R = Reduction(|w - mu|) per
    zero-padded group, the mask expanded. Identical to pruning.prune_mask
    except for groups whose R is within 1e-9 (relative to std(R)) of tau."""
    shape, norm, s, granularity, group_shape, reduction = GROUP_GUMBEL_CASES[case]
    rng = np.random.default_rng(200 + case)
    w = rng.normal(0.1, 1.0, size=shape).astype(np.float32)
    t, tm = ttype(shape), ttype(shape, "i1")
    attrs = prune_attrs(norm, granularity, reduction, group_shape)
    module = f"""func.func @main(%w: {t}, %s: tensor<f32>) -> ({t}, {tm}) {{
  %p, %m = sparsenn.prune <gumbel> %w, %s {{{attrs}}} : {t}, tensor<f32> -> {t}, {tm}
  return %p, %m : {t}, {tm}
}}"""
    s32 = float(np.float32(s))
    pruned, mask = run(module, [w, np.array(s32, np.float32)])
    want = pruning.prune_mask(torch.from_numpy(w), s32, method="gumbel", granularity=granularity,
                              group_shape=group_shape, reduction=reduction,
                              normalization=norm).numpy()
    differ = mask != want
    if differ.any():
        wd = torch.from_numpy(w).double()
        g = pruning.group_shape_for(shape, granularity, group_shape)
        r = pruning.group_reduce((wd - wd.mean()).abs(), g, reduction)
        s_phi = torch.tensor(pruning._s_phi_value(s32, norm), dtype=torch.float64)
        tau = pruning.gumbel_threshold(r, s_phi)
        gap = (pruning.expand_groups(r, g, shape) - tau).abs().numpy()
        assert gap[differ].max() <= 1e-9 * float(r.std(unbiased=False))
    np.testing.assert_array_equal(pruned, np.where(mask, w, 0).astype(np.float32))
    if norm == "hard_sigmoid":
        assert mask.all() if s < 0 else not mask.any()
    else:
        assert mask.any() and not mask.all()


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


# Quantile pruning (FIG. 7a/7b) with a run-time s: exactly
# round_half_even(s^phi * G) groups pruned, ties to the lower flat index.
def _tied(rng, shape):
    """Weights on a coarse grid (many exact ties, +0 and -0 among them)."""
    w = (np.round(rng.normal(size=shape) * 2) / 2).astype(np.float32)
    w.flat[0], w.flat[-1] = -0.0, 0.0
    return w


QUANTILE_CASES = [
    # (weights, normalization, s, granularity, group_shape, reduction,
    #  whether the k-th smallest saliency is a tie that the rule splits)
    ("normal", "sigmoid", 0.4, "element", None, "max", False),
    ("normal", "sigmoid", -1.5, "element", None, "max", False),
    ("normal", "sigmoid", 2.0, "element", None, "max", False),
    ("tied", "none", 0.0, "element", None, "max", False),         # s^phi = 0: keep all
    ("tied", "none", 1.0, "element", None, "max", False),         # s^phi = 1: prune all
    ("tied", "hard_sigmoid", -5.0, "element", None, "max", False),
    ("tied", "hard_sigmoid", 5.0, "element", None, "max", False),
    ("tied", "none", 0.2, "element", None, "max", True),
    ("tied", "none", 1 / 32, "element", None, "max", True),       # 7.5 -> 8 (half even)
    ("tied", "none", 3 / 32, "element", None, "max", True),       # 22.5 -> 22
    ("tied", "none", 0.55, "element", None, "max", True),
    ("tied", "sigmoid", 0.1, "element", None, "max", True),
    ("normal64", "sigmoid", 0.3, "element", None, "max", False),
    ("tied64", "none", 0.5, "element", None, "max", True),
    ("normal", "sigmoid", 0.3, "group", (1, 16), "max", False),   # SPGC8 groups, padded
    ("tied", "none", 0.5, "group", (2, 2), "mean", True),
    ("tied", "none", 0.3, "group", (3, 5), "max", True),
    ("tied4", "none", 0.5, "input_channel", None, "mean", False),
    ("tied4", "none", 0.4, "output_filter", None, "max", True),
]


def _quantile_weights(kind, rng):
    if kind == "normal":
        return rng.normal(size=(12, 20)).astype(np.float32)
    if kind == "normal64":
        return rng.normal(size=(7, 9))
    if kind == "tied":
        return _tied(rng, (12, 20))
    if kind == "tied64":
        return _tied(rng, (6, 5)).astype(np.float64)
    return _tied(rng, (6, 5, 3, 3))


@pytest.mark.parametrize("case", range(len(QUANTILE_CASES)))
def test_quantile_prune_with_runtime_sparsity(case):
    kind, norm, s, granularity, group_shape, reduction, split = QUANTILE_CASES[case]
    rng = np.random.default_rng(100 + case)
    w = _quantile_weights(kind, rng)
    elt = "f64" if w.dtype == np.float64 else "f32"
    t, tm = ttype(w.shape, elt), ttype(w.shape, "i1")
    attrs = prune_attrs(norm, granularity, reduction, group_shape)
    module = f"""func.func @main(%w: {t}, %s: tensor<f32>) -> ({t}, {tm}) {{
  %p, %m = sparsenn.prune <quantile> %w, %s {{{attrs}}} : {t}, tensor<f32> -> {t}, {tm}
  return %p, %m : {t}, {tm}
}}"""
    s32 = np.float32(s)
    pruned, mask = run(module, [w, np.array(s32)])
    kwargs = dict(method="quantile", granularity=granularity, group_shape=group_shape,
                  reduction=reduction, normalization=norm)
    want = pruning.prune_mask(torch.from_numpy(w), float(s32), **kwargs).numpy()
    np.testing.assert_array_equal(mask, want)
    np.testing.assert_array_equal(pruned, np.where(want, w, 0).astype(w.dtype))
    # Whether the case splits a tie at the k-th smallest saliency (so that
    # the index rule is what decides).
    g = pruning.group_shape_for(w.shape, granularity, group_shape)
    saliency = pruning.group_reduce(torch.from_numpy(w).double().abs(), g, reduction)
    kept = pruning.group_reduce(torch.from_numpy(want).double(), g, "max") > 0
    splits = bool((~kept).any() and kept.any()
                  and (saliency[kept] == saliency[~kept].max()).any())
    assert splits == split


def test_quantile_prune_large_with_split_tie():
    """1M weights, 4096 of them tied at the k-th smallest |w|: the tie is
    split by flat index exactly as the stable sort does."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(1024, 1024)).astype(np.float32)
    w[:4] = 0.5
    frac = float((np.abs(w) < 0.5).mean()) + 0.001
    s = np.float32(np.log(frac / (1 - frac)))
    t, tm = ttype(w.shape), ttype(w.shape, "i1")
    module = f"""func.func @main(%w: {t}, %s: tensor<f32>) -> ({t}, {tm}) {{
  %p, %m = sparsenn.prune <quantile> %w, %s : {t}, tensor<f32> -> {t}, {tm}
  return %p, %m : {t}, {tm}
}}"""
    _, mask = run(module, [w, np.array(s)])
    want = pruning.prune_mask(torch.from_numpy(w), float(s), method="quantile").numpy()
    np.testing.assert_array_equal(mask, want)
    tied = np.abs(w) == 0.5
    assert mask[tied].any() and not mask[tied].all()
