"""Hand-computed cases for sparsenn.functional (seed 000 k-winners, duty
cycles; seed 003 normalisation and quantisation)."""

import math

import pytest

torch = pytest.importorskip("torch")

from sparsenn import functional as F  # noqa: E402


def t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


def assert_equal(actual, expected):
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert torch.equal(actual, expected), f"\n{actual}\n!=\n{expected}"


# ---------------------------------------------------------------------------
# k and domains
# ---------------------------------------------------------------------------


def test_resolve_k_rounds_half_to_even():
    assert F.resolve_k(10, k=3) == 3
    assert F.resolve_k(10, density=0.25) == 2  # 2.5 -> 2
    assert F.resolve_k(10, density=0.75) == 8  # 7.5 -> 8
    assert F.resolve_k(12, density=0.125) == 2  # 1.5 -> 2
    assert F.resolve_k(1000, density=0.1) == 100
    with pytest.raises(ValueError):
        F.resolve_k(4, density=0.125)  # 0.5 -> 0: out of range
    with pytest.raises(ValueError):
        F.resolve_k(4, k=5)
    with pytest.raises(ValueError):
        F.resolve_k(4, k=1, density=0.5)


def test_domain_sizes():
    shape = (2, 3, 4, 5)
    assert F.domain_size(shape, "global") == 60
    assert F.domain_size(shape, "group", 12) == 12
    assert F.domain_size(shape, "local") == 3
    assert F.domain_size(shape, "channel") == 20
    assert F.domain_size((2, 64), "global") == 64
    with pytest.raises(ValueError):
        F.domain_size((2, 64), "local")
    with pytest.raises(ValueError):
        F.domain_size((2, 10), "group", 4)  # 4 does not divide 10


# ---------------------------------------------------------------------------
# k-winners: modes
# ---------------------------------------------------------------------------


def test_global_1d():
    x = t([[0.1, 0.5, -0.2, 0.9, 0.3],
           [1.0, -1.0, 2.0, 0.0, 1.5]])
    assert_equal(F.kwinners(x, 2), [[0.0, 0.5, 0.0, 0.9, 0.0],
                                    [0.0, 0.0, 2.0, 0.0, 1.5]])
    assert_equal(F.kwinners(x, density=0.4), F.kwinners(x, 2))  # round(2.0) = 2


def test_global_4d_over_all_channels_and_positions():
    # channel 0 = [[1, 4], [3, 2]], channel 1 = [[0, -1], [7, 6]]: top 3 = 7, 6, 4.
    x = t([[[[1, 4], [3, 2]], [[0, -1], [7, 6]]]])
    assert_equal(F.kwinners(x, 3), [[[[0, 4], [0, 0]], [[0, 0], [7, 6]]]])


def test_group_mode():
    x = t([[5, 1, 2, 8, 3, 9, 4, 0]])
    assert_equal(F.kwinners(x, 1, mode="group", group_size=4), [[0, 0, 0, 8, 0, 9, 0, 0]])
    assert_equal(F.kwinners(x, 2, mode="group", group_size=4), [[5, 0, 0, 8, 0, 9, 4, 0]])
    # density 0.5 of a group of 4 -> k = 2.
    assert_equal(F.kwinners(x, density=0.5, mode="group", group_size=4),
                 [[5, 0, 0, 8, 0, 9, 4, 0]])


def test_group_mode_on_4d_uses_the_flattened_sample():
    # [1, 2, 2, 2] flattened: (1, 4, 3, 2 | 0, -1, 7, 6); groups of 2 keep
    # 4, 3, 0 (over -1) and 7.
    x = t([[[[1, 4], [3, 2]], [[0, -1], [7, 6]]]])
    assert_equal(F.kwinners_mask(x, 1, mode="group", group_size=2),
                 [[[[False, True], [True, False]], [[True, False], [True, False]]]])
    assert_equal(F.kwinners(x, 1, mode="group", group_size=2),
                 [[[[0, 4], [3, 0]], [[0, 0], [7, 0]]]])


def test_local_mode_selects_across_channels_at_each_position():
    # C = 3, H = 1, W = 2. At w = 0 the channels hold (1, 5, 3); at w = 1 (4, 2, 6).
    x = t([[[[1, 4]], [[5, 2]], [[3, 6]]]])
    assert_equal(F.kwinners(x, 1, mode="local"), [[[[0, 0]], [[5, 0]], [[0, 6]]]])
    assert_equal(F.kwinners(x, 2, mode="local"), [[[[0, 4]], [[5, 0]], [[3, 6]]]])


def test_channel_mode_selects_positions_inside_each_channel():
    x = t([[[[1, 4], [3, 2]], [[0, -1], [7, 6]]]])
    assert_equal(F.kwinners(x, 1, mode="channel"), [[[[0, 4], [0, 0]], [[0, 0], [7, 0]]]])
    assert_equal(F.kwinners(x, 2, mode="channel"), [[[[0, 4], [3, 0]], [[0, 0], [7, 6]]]])


# ---------------------------------------------------------------------------
# k-winners: ties, relu, negative values
# ---------------------------------------------------------------------------


def test_ties_without_break_ties_keep_every_value_at_the_kth():
    x = t([[1, 3, 3, 2, 3, -1]])
    assert_equal(F.kwinners(x, 2), [[0, 3, 3, 0, 3, 0]])  # 3 winners for k = 2
    assert_equal(F.kwinners(x, 1), [[0, 3, 3, 0, 3, 0]])
    assert_equal(F.kwinners(x, 4), [[0, 3, 3, 2, 3, 0]])


def test_break_ties_gives_exactly_k_and_the_lower_index_wins():
    x = t([[1, 3, 3, 2, 3, -1]])
    assert_equal(F.kwinners(x, 1, break_ties=True), [[0, 3, 0, 0, 0, 0]])
    assert_equal(F.kwinners(x, 2, break_ties=True), [[0, 3, 3, 0, 0, 0]])
    assert_equal(F.kwinners(x, 5, break_ties=True), [[1, 3, 3, 2, 3, 0]])
    y = t([[2, 1, 2, 1]])
    assert_equal(F.kwinners(y, 3, break_ties=True), [[2, 1, 2, 0]])
    assert_equal(F.kwinners(y, 3), [[2, 1, 2, 1]])
    # Within a local domain the flat index is the channel: channel 0 wins the tie.
    z = t([[[[4]], [[4]], [[1]]]])
    assert_equal(F.kwinners(z, 1, mode="local", break_ties=True), [[[[4]], [[0]], [[0]]]])
    assert_equal(F.kwinners(z, 1, mode="local"), [[[[4]], [[4]], [[0]]]])
    # Within a channel domain the flat index is h*W + w: (1, 0) beats (1, 1).
    c = t([[[[0, -1], [7, 7]]]])
    assert_equal(F.kwinners(c, 1, mode="channel", break_ties=True), [[[[0, 0], [7, 0]]]])
    assert_equal(F.kwinners(c, 1, mode="channel"), [[[[0, 0], [7, 7]]]])


def test_break_ties_on_a_long_run_of_equal_values():
    x = torch.zeros(1, 1000)
    x[0, 500:] = 1.0
    mask = F.kwinners_mask(x, 600, break_ties=True)
    expected = torch.zeros(1, 1000, dtype=torch.bool)
    expected[0, :100] = True
    expected[0, 500:] = True
    assert_equal(mask, expected)


def test_negative_values_can_win_unless_relu():
    x = t([[-1, -2, -3]])
    assert_equal(F.kwinners(x, 1), [[-1, 0, 0]])
    assert_equal(F.kwinners(x, 1, relu=True), [[0, 0, 0]])
    y = t([[3, -1, 0, 2]])
    assert_equal(F.kwinners_mask(y, 3), [[True, False, True, True]])
    assert_equal(F.kwinners_mask(y, 3, relu=True), [[True, False, False, True]])
    assert_equal(F.kwinners_mask(y, 3, relu=True, break_ties=True), [[True, False, False, True]])


# ---------------------------------------------------------------------------
# Boosting (eq. 2 and 4)
# ---------------------------------------------------------------------------


def test_boosting_changes_the_winner_and_keeps_the_unboosted_value():
    x = t([[1.0, 0.9, 0.5, 0.2]])
    d = t([0.5, 0.0, 0.25, 0.25])
    # k = 1, n = 4: target 0.25; beta = 2 gives the factors exp(-0.5), exp(0.5),
    # 1, 1 and the ranking (0.6065, 1.4839, 0.5, 0.2): unit 1 wins with 0.9.
    assert_equal(F.kwinners(x, 1), [[1.0, 0, 0, 0]])
    assert_equal(F.kwinners(x, 1, duty_cycles=d, boost_strength=0.0), [[1.0, 0, 0, 0]])
    assert_equal(F.kwinners(x, 1, duty_cycles=d, boost_strength=2.0), [[0, 0.9, 0, 0]])
    # beta = 0.5: factors exp(-0.125) = 0.8825, exp(0.125) = 1.1331;
    # ranking 0.8825 vs 1.0198: still unit 1.  beta = 0.1: 0.9753 vs 0.9226: unit 0.
    assert_equal(F.kwinners(x, 1, duty_cycles=d, boost_strength=0.5), [[0, 0.9, 0, 0]])
    assert_equal(F.kwinners(x, 1, duty_cycles=d, boost_strength=0.1), [[1.0, 0, 0, 0]])


def test_boosting_is_per_channel_in_2d():
    # ch 0 = (3, 1), ch 1 = (2, 2.5); global k = 1 of n = 4, target 0.25.
    # d = (1, 0), beta = 1: factors exp(-0.75) = 0.4724, exp(0.25) = 1.2840;
    # ranking ch 0 (1.417, 0.472), ch 1 (2.568, 3.210): ch 1 position 1 wins.
    x = t([[[[3, 1]], [[2, 2.5]]]])
    d = t([1.0, 0.0])
    assert_equal(F.kwinners(x, 1), [[[[3, 0]], [[0, 0]]]])
    assert_equal(F.kwinners(x, 1, duty_cycles=d, boost_strength=1.0), [[[[0, 0]], [[0, 2.5]]]])
    # Local mode, k = 1 of C = 2, target 0.5: factors exp(-0.5) = 0.6065,
    # exp(0.5) = 1.6487: ch 0 ranks (1.820, 0.607), ch 1 (3.297, 4.122).
    assert_equal(F.kwinners(x, 1, mode="local", duty_cycles=d, boost_strength=1.0),
                 [[[[0, 0]], [[2, 2.5]]]])


def test_boost_factors_values():
    b = F.boost_factors(t([0.5, 0.0, 0.25]), 0.25, 2.0, 2)
    assert b.shape == (1, 3)
    expected = t([[math.exp(-0.5), math.exp(0.5), 1.0]])
    assert torch.allclose(b, expected, rtol=1e-6, atol=0)
    assert F.boost_factors(t([0.1, 0.2]), 0.1, 1.0, 4).shape == (1, 2, 1, 1)


def test_boosting_needs_duty_cycles_of_the_right_shape():
    x = torch.rand(2, 4)
    with pytest.raises(ValueError):
        F.kwinners(x, 1, boost_strength=1.0)
    with pytest.raises(ValueError):
        F.kwinners(x, 1, duty_cycles=torch.zeros(3), boost_strength=1.0)


# ---------------------------------------------------------------------------
# Gradient
# ---------------------------------------------------------------------------


def test_gradient_flows_only_through_the_winners():
    x = t([[0.1, 0.5, -0.2, 0.9, 0.3]]).requires_grad_()
    y = F.kwinners(x, 2)
    (y * t([[1, 2, 3, 4, 5]])).sum().backward()
    assert_equal(x.grad, [[0, 2, 0, 4, 0]])


def test_gradient_with_boosting_and_local_mode():
    x = torch.randn(3, 4, 2, 2, dtype=torch.float64, requires_grad=True)
    d = torch.rand(4, dtype=torch.float64)
    y = F.kwinners(x, 2, mode="local", duty_cycles=d, boost_strength=1.5, break_ties=True)
    y.sum().backward()
    mask = F.kwinners_mask(x, 2, mode="local", duty_cycles=d, boost_strength=1.5,
                           break_ties=True)
    assert_equal(x.grad, mask.to(torch.float64))
    assert int(mask.sum()) == 3 * 2 * 2 * 2  # exactly k per (sample, h, w)


# ---------------------------------------------------------------------------
# threshold
# ---------------------------------------------------------------------------


def test_threshold_keeps_values_strictly_above():
    x = t([0.5, 0.6, -1.0, 0.75, 0.25])
    assert_equal(F.threshold(x, 0.5), [0, 0.6, 0, 0.75, 0])
    assert_equal(F.threshold(x, -2.0), x)


def test_apply_mask():
    w = t([[1.5, -2.0], [3.0, 0.25]]).requires_grad_()
    out = F.apply_mask(w, [[True, False], [False, True]])
    assert_equal(out, [[1.5, 0.0], [0.0, 0.25]])
    out.sum().backward()
    assert_equal(w.grad, [[1.0, 0.0], [0.0, 1.0]])


# ---------------------------------------------------------------------------
# Duty cycles (eq. 1, eq. 3, period form)
# ---------------------------------------------------------------------------

Y1 = [[1, 0, 2], [0, 0, 3], [4, 0, 0], [0, 0, -1]]  # activity (0.5, 0, 0.75)


def test_duty_cycle_fixed_alpha_1d():
    d = t([0.5, 0.2, 0.0], torch.float64)
    y = t(Y1, torch.float64)
    # 0.9*d + 0.1*a = (0.45 + 0.05, 0.18, 0.075); a negative output is active.
    out = F.duty_cycle_update(d, y, alpha=0.1)
    assert torch.allclose(out, t([0.5, 0.18, 0.075], torch.float64), rtol=0, atol=1e-15)


def test_duty_cycle_fixed_alpha_2d_is_per_channel_eq3():
    # sample 0: ch 0 has 1 of 4 positions active, ch 1 has 3; sample 1: 2 and 1.
    y = t([[[[1, 0], [0, 0]], [[1, 1], [1, 0]]],
           [[[1, 1], [0, 0]], [[0, 0], [0, 5]]]])
    d = t([0.0, 1.0])
    # a = ((0.25 + 0.5)/2, (0.75 + 0.25)/2) = (0.375, 0.5); alpha = 0.5.
    assert_equal(F.duty_cycle_update(d, y, alpha=0.5), [0.1875, 0.75])


def test_duty_cycle_period_form():
    d = t([0.5, 0.2, 0.0], torch.float64)
    y = t(Y1, torch.float64)
    # seen = 0, T = 10: alpha = 4 / min(10, 4) = 1, the duty cycle is the activity.
    d1, seen = F.duty_cycle_update(d, y, period=10, seen=0)
    assert seen == 4
    assert torch.allclose(d1, t([0.5, 0.0, 0.75], torch.float64), rtol=0, atol=1e-15)
    # seen = 8: alpha = 4 / 10 = 0.4: 0.6*d + 0.4*a = (0.5, 0.12, 0.3).
    d2, seen = F.duty_cycle_update(d, y, period=10, seen=8)
    assert seen == 12
    assert torch.allclose(d2, t([0.5, 0.12, 0.3], torch.float64), rtol=0, atol=1e-15)
    # After the period alpha stays B / T; a tensor counter stays a tensor.
    d3, seen = F.duty_cycle_update(d, y, period=10, seen=torch.tensor(100))
    assert torch.is_tensor(seen) and int(seen) == 104
    assert torch.allclose(d3, d2, rtol=0, atol=1e-15)


def _nupic_update_1d(duty, x, learning_iterations, period_t):
    """nupic.torch KWinners.update_duty_cycle, literally."""
    batch_size = x.shape[0]
    learning_iterations += batch_size
    period = min(period_t, learning_iterations)
    duty = duty * (period - batch_size)
    duty = duty + x.gt(0).sum(dim=0, dtype=duty.dtype)
    duty = duty / period
    return duty, learning_iterations


def _nupic_update_2d(duty, x, learning_iterations, period_t):
    """nupic.torch KWinners2d.update_duty_cycle, literally (duty as [C])."""
    batch_size = x.shape[0]
    learning_iterations += batch_size
    scale_factor = float(x.shape[2] * x.shape[3])
    period = min(period_t, learning_iterations)
    duty = duty * (period - batch_size)
    duty = duty + x.gt(0).sum(dim=(0, 2, 3), dtype=duty.dtype) / scale_factor
    duty = duty / period
    return duty, learning_iterations


@pytest.mark.parametrize("rank", [2, 4])
def test_period_form_equals_nupic_torch(rank):
    gen = torch.Generator().manual_seed(1234)
    shape = (None, 16) if rank == 2 else (None, 6, 3, 4)
    ours = torch.zeros(shape[1], dtype=torch.float64)
    ref = ours.clone()
    seen = ref_seen = 0
    update = _nupic_update_1d if rank == 2 else _nupic_update_2d
    for batch in [4, 7, 1, 16, 9, 32, 5, 3, 20, 8]:
        x = torch.randn((batch,) + shape[1:], generator=gen, dtype=torch.float64)
        y = F.kwinners(x, 3, relu=True)  # outputs >= 0: "!= 0" and "> 0" agree
        ours, seen = F.duty_cycle_update(ours, y, period=50, seen=seen)
        ref, ref_seen = update(ref, y, ref_seen, 50)
        assert seen == ref_seen
        assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert seen > 50  # the period saturated during the run


# ---------------------------------------------------------------------------
# Normalisation of the sparsity parameter ([0118])
# ---------------------------------------------------------------------------


def test_normalize_sparsity():
    assert float(F.normalize_sparsity(0.0)) == 0.5
    assert float(F.normalize_sparsity(math.log(3.0))) == pytest.approx(0.75, abs=1e-15)
    hs = F.normalize_sparsity(t([-6.0, -3.0, 0.0, 1.5, 3.0, 9.0]), "hard_sigmoid")
    assert_equal(hs, [0.0, 0.0, 0.5, 0.75, 1.0, 1.0])
    assert float(F.normalize_sparsity(0.3, "none")) == 0.3
    with pytest.raises(ValueError):
        F.normalize_sparsity(0.0, "tanh")


# ---------------------------------------------------------------------------
# Quantisation
# ---------------------------------------------------------------------------


def test_quantize_rounds_half_away_from_zero_and_clamps():
    w = t([[0.25, -0.25, 0.75, 0.74, 100.0, -100.0, 0.0, -0.75]])
    q = F.quantize(w, t([0.5]))
    # w / 0.5 = (0.5, -0.5, 1.5, 1.48, 200, -200, 0, -1.5)
    assert q.dtype == torch.int8
    assert_equal(q, [[1, -1, 2, 1, 127, -127, 0, -2]])
    q16 = F.quantize(t([[1e9, -1e9, 2.5]]), t([1.0]), bits=16)
    assert q16.dtype == torch.int16
    assert_equal(q16, [[32767, -32767, 3]])


def test_quantize_per_channel_and_zero_scale():
    w = t([[127.0, -63.5], [0.0, 0.0], [2.0, -1.0]])
    scales = F.quantize_scales(w)
    assert_equal(scales, [1.0, 0.0, 2.0 / 127.0])
    q = F.quantize(w, scales)
    assert_equal(q, [[127, -64], [0, 0], [127, -64]])  # -63.5 -> -64; 1/(2/127) = 63.5
    back = F.dequantize(q, scales)
    assert_equal(back, [[127.0, -64.0], [0.0, 0.0], [2.0, -64.0 * (2.0 / 127.0)]])


def test_quantize_along_another_axis():
    w = t([[1.0, -4.0], [0.5, 2.0]])
    scales = F.quantize_scales(w, axis=1)
    assert_equal(scales, [1.0 / 127.0, 4.0 / 127.0])
    q = F.quantize(w, scales, axis=1)
    assert_equal(q, [[127, -127], [64, 64]])  # 0.5*127 = 63.5 and 2/(4/127) = 63.5


def test_quantize_roundtrip_error_is_at_most_half_a_step():
    w = torch.randn(8, 40)
    scales = F.quantize_scales(w)
    back = F.dequantize(F.quantize(w, scales), scales)
    err = (back - w).abs()
    assert bool((err <= scales[:, None] / 2 * (1 + 1e-5)).all())
    assert_equal(F.quantize(w, scales).abs().amax(dim=1).to(torch.int64), [127] * 8)
