"""Hand-computed cases for sparsenn.pruning (seed 003 FIG. 7a-7d, eq. 1-10;
seed 000 fixed fan-in)."""

import math

import pytest

torch = pytest.importorskip("torch")

from sparsenn import pruning as P  # noqa: E402

T, F_ = True, False

# The 2x8 weight of most cases: row 0 = -7..0, row 1 = 1..8.
# |w| = (7 6 5 4 3 2 1 0 | 1 2 3 4 5 6 7 8); mean 0.5; population std sqrt(255/12).
W = (torch.arange(16, dtype=torch.float32) - 7).reshape(2, 8)


def mask_of(rows):
    return torch.tensor(rows, dtype=torch.bool)


def assert_mask(actual, rows):
    expected = mask_of(rows)
    assert actual.dtype == torch.bool
    assert torch.equal(actual, expected), f"\n{actual.int()}\n!=\n{expected.int()}"


def prune_none(w, s, **kw):
    """prune with s already in [0, 1] (normalization 'none')."""
    return P.prune(w, s, normalization="none", **kw)


# ---------------------------------------------------------------------------
# Group helpers
# ---------------------------------------------------------------------------


def test_group_shapes():
    assert P.group_shape_for((8, 4, 3, 3), "element") == (1, 1, 1, 1)
    assert P.group_shape_for((8, 4, 3, 3), "input_channel") == (8, 1, 3, 3)
    assert P.group_shape_for((8, 4), "output_filter") == (1, 4)
    assert P.group_shape_for((8, 4), "group", (2, 2)) == (2, 2)
    assert P.spgc8_aligned_groups(torch.zeros(4, 32)) == (1, 16)
    assert P.spgc8_aligned_groups((8, 4, 3, 3)) == (1, 16, 1, 1)
    assert P.spgc8_aligned_groups(1) == (16,)
    with pytest.raises(ValueError):
        P.group_shape_for((8, 4), "group")  # needs group_shape
    with pytest.raises(ValueError):
        P.group_shape_for((8, 4), "group", (1, 2, 3))  # wrong rank
    with pytest.raises(ValueError):
        P.group_shape_for((8,), "input_channel")
    with pytest.raises(ValueError):
        P.prune(W, 0.0, method="gaussian", granularity="output_filter")


def test_group_reduce_pads_with_zeros_and_mean_divides_by_the_full_group():
    a = W.abs().double()
    # Groups of 1x5: (7 6 5 4 3)(2 1 0 _ _) | (1 2 3 4 5)(6 7 8 _ _).
    assert torch.equal(P.group_reduce(a, (1, 5), "max"),
                       torch.tensor([[7.0, 2.0], [5.0, 8.0]], dtype=torch.float64))
    mean = P.group_reduce(a, (1, 5), "mean")
    expected = torch.tensor([[25 / 5, 3 / 5], [15 / 5, 21 / 5]], dtype=torch.float64)
    assert torch.allclose(mean, expected, rtol=0, atol=1e-15)
    # A group larger than the tensor: one padded group.
    assert torch.equal(P.group_reduce(a, (4, 16), "max"),
                       torch.tensor([[8.0]], dtype=torch.float64))


def test_expand_groups_is_nearest_neighbour_and_crops():
    reduced = mask_of([[T, F_], [F_, T]])
    assert_mask(P.expand_groups(reduced, (1, 5), (2, 8)),
                [[T, T, T, T, T, F_, F_, F_], [F_, F_, F_, F_, F_, T, T, T]])
    assert_mask(P.expand_groups(mask_of([[T, F_]]), (2, 2), (2, 3)),
                [[T, T, F_], [T, T, F_]])


# ---------------------------------------------------------------------------
# FIG. 7a: quantile on elements
# ---------------------------------------------------------------------------


def test_quantile_element_prunes_exactly_round_s_n_with_ties_to_the_lower_index():
    # s = 0.5 prunes 8: |w| = 0, 1, 1, 2, 2, 3, 3 and one of the two 4s - the one
    # at flat index 3 (row 0), not index 11.
    pruned, mask = prune_none(W, 0.5)
    assert_mask(mask, [[T, T, T, F_, F_, F_, F_, F_], [F_, F_, F_, T, T, T, T, T]])
    assert torch.equal(pruned, torch.tensor([[-7.0, -6, -5, 0, 0, 0, 0, 0],
                                             [0.0, 0, 0, 4, 5, 6, 7, 8]]))
    assert pruned.dtype == W.dtype
    # The raw parameter through the sigmoid: sigmoid(0) = 0.5.
    assert torch.equal(P.prune(W, 0.0)[1], mask)
    assert torch.equal(P.prune(W, torch.tensor(0.0))[1], mask)


def test_quantile_element_hard_sigmoid():
    # hard_sigmoid(-1.5) = 0.25: prune 4 = |w| 0, 1, 1 and the 2 at index 5.
    _, mask = P.prune(W, -1.5, normalization="hard_sigmoid")
    assert_mask(mask, [[T, T, T, T, T, F_, F_, F_], [F_, T, T, T, T, T, T, T]])


def test_quantile_rounds_the_count_half_to_even():
    w = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert_mask(prune_none(w, 0.375)[1], [[F_, F_, T, T]])  # 1.5 -> 2
    assert_mask(prune_none(w, 0.625)[1], [[F_, F_, T, T]])  # 2.5 -> 2
    assert_mask(prune_none(w, 0.0)[1], [[T, T, T, T]])
    assert_mask(prune_none(w, 1.0)[1], [[F_, F_, F_, F_]])


def test_quantile_on_equal_values_prunes_in_flat_order():
    _, mask = prune_none(torch.ones(2, 4), 0.5)
    assert_mask(mask, [[F_, F_, F_, F_], [T, T, T, T]])


def test_quantile_matches_the_cpp_pass_lit_case():
    # test/Transforms/sparsenn-prune-weights.mlir @quantile: the 0.2 tie goes
    # to flat index 4.
    w = torch.tensor([[0.1, -0.5, 0.3, 0.0], [0.2, 0.2, -0.8, 0.05]])
    assert_mask(prune_none(w, 0.5)[1], [[F_, T, T, F_], [F_, T, T, F_]])
    assert_mask(prune_none(w, 0.5, granularity="group", group_shape=(1, 3))[1],
                [[T, T, T, F_], [T, T, T, F_]])
    assert_mask(prune_none(w, 0.5, granularity="group", group_shape=(1, 3),
                           reduction="mean")[1], [[T, T, T, F_], [T, T, T, F_]])
    assert_mask(prune_none(w, 0.5, granularity="input_channel")[1],
                [[F_, T, T, F_], [F_, T, T, F_]])
    assert_mask(prune_none(w, 0.5, granularity="output_filter")[1],
                [[F_, F_, F_, F_], [T, T, T, T]])
    # @prune_op: sigmoid(0) = 0.5 of (1, -2, 3, 4, 0.5, 2, -7, 8).
    w1 = torch.tensor([[1.0, -2.0, 3.0, 4.0, 0.5, 2.0, -7.0, 8.0]])
    assert_mask(P.prune(w1, torch.tensor(0.0))[1], [[F_, F_, T, T, F_, F_, T, T]])


# ---------------------------------------------------------------------------
# FIG. 7b: quantile on groups
# ---------------------------------------------------------------------------


def test_quantile_groups_max_and_mean_with_a_padded_remainder():
    # Groups of 1x5, saliencies max (7, 2 | 5, 8), mean (5, 0.6 | 3, 4.2) - the
    # padded remainder groups' means divide by 5 (unpadded they would be 1 and 7).
    # s = 0.75 prunes 3 of the 4 groups.
    _, mask = prune_none(W, 0.75, granularity="group", group_shape=(1, 5))
    assert_mask(mask, [[F_] * 8, [F_, F_, F_, F_, F_, T, T, T]])
    _, mask = prune_none(W, 0.75, granularity="group", group_shape=(1, 5), reduction="mean")
    assert_mask(mask, [[T, T, T, T, T, F_, F_, F_], [F_] * 8])
    # s = 0.5 prunes 2 groups: max (2, 5), mean (0.6, 3).
    _, mask = prune_none(W, 0.5, granularity="group", group_shape=(1, 5))
    assert_mask(mask, [[T, T, T, T, T, F_, F_, F_], [F_, F_, F_, F_, F_, T, T, T]])


def test_quantile_group_2x2():
    # 2x2 groups of |w| (both rows, two columns): max(7, 6, 1, 2) = 7,
    # max(5, 4, 3, 4) = 5, max(3, 2, 5, 6) = 6, max(1, 0, 7, 8) = 8;
    # s = 0.5 prunes the groups of 5 and 6: columns 2-5.
    _, mask = prune_none(W, 0.5, granularity="group", group_shape=(2, 2))
    assert_mask(mask, [[T, T, F_, F_, F_, F_, T, T]] * 2)


def test_quantile_group_larger_than_the_weight():
    # SPGC8 groups of 1x16 on 8 input features: one padded group per row.
    _, mask = prune_none(W, 0.5, granularity="group", group_shape=P.spgc8_aligned_groups(W))
    assert_mask(mask, [[F_] * 8, [T] * 8])  # row maxes 7 and 8


def test_quantile_input_channels_and_output_filters_2d():
    # Column maxes of |w|: (7, 6, 5, 4, 5, 6, 7, 8); s = 0.5 prunes 4, 5 (col 2),
    # 5 (col 4) and 6 (col 1).
    _, mask = prune_none(W, 0.5, granularity="input_channel")
    assert_mask(mask, [[T, F_, F_, F_, F_, T, T, T]] * 2)
    _, mask = prune_none(W, 0.5, granularity="output_filter")
    assert_mask(mask, [[F_] * 8, [T] * 8])


def test_quantile_input_channels_and_output_filters_conv():
    w = W.reshape(2, 2, 2, 2)  # [C_out, C_in, kH, kW]
    # Input channel 0 = w[:, 0] = (-7..-4, 1..4): max 7; channel 1 = (-3..0, 5..8): 8.
    _, mask = prune_none(w, 0.5, granularity="input_channel")
    expected = torch.zeros(2, 2, 2, 2, dtype=torch.bool)
    expected[:, 1] = True
    assert torch.equal(mask, expected)
    # Means are both 32/8 = 4: the tie goes to the lower index, channel 0.
    _, mask = prune_none(w, 0.5, granularity="input_channel", reduction="mean")
    assert torch.equal(mask, expected)
    # Output filters w[0] (max 7) and w[1] (max 8).
    _, mask = prune_none(w, 0.5, granularity="output_filter")
    expected = torch.zeros(2, 2, 2, 2, dtype=torch.bool)
    expected[1] = True
    assert torch.equal(mask, expected)


def test_spgc8_aligned_groups_on_conv_weights():
    # [2, 20, 1, 1]: per filter, input channels 0-15 and 16-19 (padded).
    w = torch.zeros(2, 20, 1, 1)
    w[0, 3, 0, 0] = 1.0   # group (0, 0): max 1
    w[0, 17, 0, 0] = 3.0  # group (0, 1): max 3
    w[1, 0, 0, 0] = 2.0   # group (1, 0): max 2; group (1, 1): 0
    _, mask = prune_none(w, 0.5, granularity="group", group_shape=P.spgc8_aligned_groups(w))
    expected = torch.zeros(2, 20, 1, 1, dtype=torch.bool)
    expected[0, 16:] = True
    expected[1, :16] = True
    assert torch.equal(mask, expected)


# ---------------------------------------------------------------------------
# FIG. 7c: Gaussian
# ---------------------------------------------------------------------------


def test_gaussian_threshold_and_mask():
    # mu = 0.5, Psi = sqrt(255/12) (population), tau - mu = Psi*sqrt(2)*erfinv(0.5)
    # = 3.109244: keep |w - 0.5| > 3.109244, i.e. w <= -3 or w >= 4.
    t = P.gaussian_threshold(W.double(), torch.tensor(0.5, dtype=torch.float64))
    assert float(t) == pytest.approx(math.sqrt(255 / 12) * math.sqrt(2) * 0.4769362762044699,
                                     rel=1e-13)
    assert float(t) == pytest.approx(3.109244, abs=1e-6)
    pruned, mask = prune_none(W, 0.5, method="gaussian")
    assert_mask(mask, [[T, T, T, T, T, F_, F_, F_], [F_, F_, F_, T, T, T, T, T]])
    assert torch.equal(pruned, W * mask)


def test_gaussian_uses_the_population_std():
    # w = (-2, -1, 1, 2): population std sqrt(2.5) gives tau - mu = 1.0665 and
    # keeps |w| = 2 only (the unbiased std sqrt(10/3) would give 1.2316: same
    # mask); the lit case of the C++ pass.
    w = torch.tensor([[-2.0, -1.0, 1.0, 2.0]])
    assert_mask(prune_none(w, 0.5, method="gaussian")[1], [[T, F_, F_, T]])
    # Here the two differ: w = (0, 0, 0, 1), mu = 0.25, population std
    # sqrt(3)/4 = 0.4330, s = 0.9: tau - mu = 0.4330*sqrt(2)*1.16309 = 0.7122 < 0.75
    # keeps the 1; the unbiased std 0.5 would give 0.8224 and prune it.
    w = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    assert_mask(prune_none(w, 0.9, method="gaussian")[1], [[F_, F_, F_, T]])


def test_gaussian_end_points():
    w = torch.tensor([[1.0, 2.0, 3.0]])
    assert_mask(prune_none(w, 0.0, method="gaussian")[1], [[T, F_, T]])  # the mean goes
    assert_mask(prune_none(w, 1.0, method="gaussian")[1], [[F_, F_, F_]])


# ---------------------------------------------------------------------------
# FIG. 7d: Gumbel
# ---------------------------------------------------------------------------


def test_gumbel_threshold_value():
    r = torch.tensor([7.5, 3.5, 3.5, 7.5], dtype=torch.float64)
    # mean 5.5, population std 2: beta = 2*sqrt(6)/pi, phi = 5.5 - beta*gamma,
    # tau(0.5) = phi - beta*log(log 2) = 5.171431.
    beta = 2 * math.sqrt(6) / math.pi
    expected = 5.5 - beta * 0.5772156649015329 - beta * math.log(math.log(2.0))
    tau = P.gumbel_threshold(r, torch.tensor(0.5, dtype=torch.float64))
    assert float(tau) == pytest.approx(expected, rel=1e-14)
    assert float(tau) == pytest.approx(5.171431, abs=1e-6)


def test_gumbel_on_groups():
    # |w - 0.5| max-pooled over 1x4 groups: (7.5, 3.5 | 3.5, 7.5); tau = 5.1714.
    _, mask = prune_none(W, 0.5, method="gumbel", granularity="group", group_shape=(1, 4))
    assert_mask(mask, [[T, T, T, T, F_, F_, F_, F_], [F_, F_, F_, F_, T, T, T, T]])


def test_gumbel_matches_the_cpp_pass_lit_cases():
    w = torch.arange(8, dtype=torch.float32).reshape(1, 8)
    # Elements: |w - 3.5| = (3.5, 2.5, 1.5, 0.5, 0.5, 1.5, 2.5, 3.5), tau = 1.8163.
    assert_mask(prune_none(w, 0.5, method="gumbel")[1], [[T, T, F_, F_, F_, F_, T, T]])
    # 1x2 groups: reductions (3.5, 1.5, 1.5, 3.5), tau = 2.3358.
    assert_mask(prune_none(w, 0.5, method="gumbel", granularity="group", group_shape=(1, 2))[1],
                [[T, T, F_, F_, F_, F_, T, T]])


def test_gumbel_end_points():
    assert_mask(prune_none(W, 0.0, method="gumbel")[1], [[T] * 8] * 2)
    assert_mask(prune_none(W, 1.0, method="gumbel")[1], [[F_] * 8] * 2)
    # beta = 0 (all reductions equal) meets no infinity.
    assert_mask(prune_none(torch.ones(2, 2), 0.0, method="gumbel")[1], [[T, T], [T, T]])
    assert_mask(prune_none(torch.ones(2, 2), 1.0, method="gumbel")[1], [[F_, F_], [F_, F_]])


def test_gumbel_mean_reduction_on_input_channels():
    # |w - 0.5| column means: (|-7.5|+|0.5|)/2 = 4, (6.5+1.5)/2 = 4, ... all 4:
    # std 0, beta 0, tau = 4 (s = 0.5): nothing is strictly above.
    assert_mask(prune_none(W, 0.5, method="gumbel", granularity="input_channel",
                           reduction="mean")[1], [[F_] * 8] * 2)
    # Max reduction: columns (7.5, 6.5, 5.5, 4.5, 4.5, 5.5, 6.5, 7.5): mean 6,
    # std sqrt(1.25), beta = 0.871708, tau(0.5) = 5.816386: columns 0, 1, 6, 7 stay.
    assert_mask(prune_none(W, 0.5, method="gumbel", granularity="input_channel")[1],
                [[T, T, F_, F_, F_, F_, T, T]] * 2)


# ---------------------------------------------------------------------------
# Gradients (seed 003 [0063], [0214])
# ---------------------------------------------------------------------------


def _w64(shape=(4, 6), seed=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64)


def test_gradcheck_gaussian_threshold_wrt_s_and_w():
    w = _w64().requires_grad_()
    for s0 in (-2.0, 0.0, 1.3):
        s = torch.tensor(s0, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda s_, w_: P.gaussian_threshold(w_, torch.sigmoid(s_)), (s, w))


def test_gradcheck_gumbel_threshold_wrt_s_and_reductions():
    r = _w64((10,)).abs().requires_grad_()
    for s0 in (-2.0, 0.0, 1.3):
        s = torch.tensor(s0, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda s_, r_: P.gumbel_threshold(r_, torch.sigmoid(s_)), (s, r))


def test_threshold_derivatives_match_the_closed_forms():
    w = _w64()
    psi = float(w.std(unbiased=False))
    s = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(P.gaussian_threshold(w, s), s)
    # d/ds Psi*sqrt(2)*erfinv(s) = Psi*sqrt(2)*sqrt(pi)/2*exp(erfinv(s)^2)
    e = float(torch.erfinv(torch.tensor(0.3, dtype=torch.float64)))
    assert float(g) == pytest.approx(psi * math.sqrt(2) * math.sqrt(math.pi) / 2 * math.exp(e * e),
                                     rel=1e-12)
    r = w.abs().reshape(-1)
    beta = float(r.std(unbiased=False)) * math.sqrt(6) / math.pi
    (g,) = torch.autograd.grad(P.gumbel_threshold(r, s), s)
    # d/ds [-beta*log(log(1/s))] = beta / (s*log(1/s))
    assert float(g) == pytest.approx(beta / (0.3 * math.log(1 / 0.3)), rel=1e-12)


@pytest.mark.parametrize("method,granularity,group_shape", [
    ("gaussian", "element", None),
    ("gumbel", "element", None),
    ("gumbel", "group", (2, 3)),
    ("gumbel", "output_filter", None),
])
def test_gradcheck_soft_mask_wrt_s(method, granularity, group_shape):
    # The relaxation's scale (Psi or beta) is detached by design, so the check
    # is on s, through the threshold (w is a constant here).
    w = _w64()
    for s0 in (-1.0, 0.2, 2.0):
        s = torch.tensor(s0, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda s_: P.soft_prune_mask(w, s_, method, granularity, group_shape,
                                         temperature=0.5), (s,))


@pytest.mark.parametrize("method,granularity,group_shape", [
    ("gaussian", "element", None),
    ("gumbel", "group", (1, 3)),
])
def test_prune_ste_forward_is_exact_and_backward_is_the_relaxation(method, granularity,
                                                                   group_shape):
    w = _w64().requires_grad_()
    s = torch.tensor(-0.4, dtype=torch.float64, requires_grad=True)
    pruned, mask = P.prune_ste(w, s, method, granularity, group_shape)
    ref_pruned, ref_mask = P.prune(w.detach(), s.detach(), method, granularity, group_shape)
    assert torch.equal(mask, ref_mask)
    assert torch.equal(pruned.detach(), ref_pruned)
    upstream = _w64(seed=7)
    gs, gw = torch.autograd.grad((pruned * upstream).sum(), (s, w))
    # Expected: d/dx of w*(hard + soft - soft.detach()) with soft differentiated.
    w2 = w.detach().clone().requires_grad_()
    s2 = s.detach().clone().requires_grad_()
    soft = P.soft_prune_mask(w2, s2, method, granularity, group_shape)
    surrogate = (w2 * (mask.double() + (soft - soft.detach()))) * upstream
    es, ew = torch.autograd.grad(surrogate.sum(), (s2, w2))
    assert torch.allclose(gs, es, rtol=1e-12, atol=0)
    assert torch.allclose(gw, ew, rtol=1e-12, atol=1e-15)
    assert float(gs) != 0.0


def test_prune_ste_raising_s_shrinks_the_weights():
    w = _w64((16, 16)).requires_grad_()
    for method, granularity, group_shape in [("gaussian", "element", None),
                                             ("gumbel", "group", (1, 4))]:
        s = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        pruned, _ = P.prune_ste(w, s, method, granularity, group_shape)
        (g,) = torch.autograd.grad(pruned.pow(2).sum(), s)
        assert float(g) < 0.0, method


def test_prune_ste_quantile_gives_s_no_gradient():
    w = _w64().requires_grad_()
    s = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    pruned, mask = P.prune_ste(w, s, "quantile")
    pruned.sum().backward()
    assert s.grad is None
    assert torch.equal(w.grad, mask.double())
    assert int(mask.sum()) == 12  # round(0.5 * 24) pruned


# ---------------------------------------------------------------------------
# Fixed fan-in (seed 000 [0044], [0056])
# ---------------------------------------------------------------------------


def test_fan_in_from_density():
    assert P.fan_in_from_density(1024, 0.1) == 102
    assert P.fan_in_from_density(25, 0.5) == 12  # 12.5 -> 12
    assert P.fan_in_from_density(1600, 0.4) == 640


def test_fixed_fan_in_mask_is_exact_per_row():
    m = P.fixed_fan_in_mask((5, 12), 3, torch.Generator().manual_seed(0))
    assert m.dtype == torch.bool and m.shape == (5, 12)
    assert m.sum(dim=1).tolist() == [3, 3, 3, 3, 3]
    c = P.fixed_fan_in_mask((4, 2, 3, 3), 7, torch.Generator().manual_seed(0))
    assert c.shape == (4, 2, 3, 3)
    assert c.reshape(4, -1).sum(dim=1).tolist() == [7, 7, 7, 7]
    assert P.fixed_fan_in_mask((3, 4), 0).sum().item() == 0
    assert P.fixed_fan_in_mask((3, 4), 4).all()
    with pytest.raises(ValueError):
        P.fixed_fan_in_mask((3, 4), 5)


def test_fixed_fan_in_mask_is_reproducible_and_random():
    a = P.fixed_fan_in_mask((64, 100), 10, torch.Generator().manual_seed(42))
    b = P.fixed_fan_in_mask((64, 100), 10, torch.Generator().manual_seed(42))
    c = P.fixed_fan_in_mask((64, 100), 10, torch.Generator().manual_seed(43))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # Rows are drawn independently: not all the same pattern.
    assert len({tuple(r.tolist()) for r in a}) > 1
    # Every input is used by some unit over a large draw (uniform choice).
    big = P.fixed_fan_in_mask((2000, 100), 10, torch.Generator().manual_seed(1))
    per_input = big.sum(dim=0).double()
    assert per_input.min() > 100 and per_input.max() < 300  # mean 200
