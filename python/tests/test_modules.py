"""sparsenn.modules: nupic.torch-style k-winners, fixed fan-in weights,
learned-sparsity layers and the networks of seed 000 Table 1."""

import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from sparsenn import functional as F  # noqa: E402
from sparsenn import losses as L  # noqa: E402
from sparsenn import modules as M  # noqa: E402
from sparsenn import pruning as P  # noqa: E402


def t(values):
    return torch.tensor(values, dtype=torch.float32)


def assert_equal(actual, expected):
    expected = torch.as_tensor(expected, dtype=actual.dtype)
    assert torch.equal(actual, expected), f"\n{actual}\n!=\n{expected}"


# ---------------------------------------------------------------------------
# KWinners
# ---------------------------------------------------------------------------


def test_kwinners_k_and_k_inference():
    kw = M.KWinners(10, percent_on=0.3)
    assert (kw.k, kw.k_inference) == (3, 4)  # int(3 * 1.5)
    assert M.KWinners(1000, 0.1).k_inference == 150
    assert M.KWinners(10, 0.25).k == 2  # round(2.5) = 2


def test_kwinners_training_and_inference():
    kw = M.KWinners(6, percent_on=0.34, boost_strength=0.0)  # k = 2, k_inference = 3
    x = t([[0.1, 0.5, -0.2, 0.9, 0.3, 0.0],
           [0.6, 0.1, 0.2, 0.0, 0.3, 0.4]])
    y = kw(x)
    assert_equal(y, [[0, 0.5, 0, 0.9, 0, 0], [0.6, 0, 0, 0, 0, 0.4]])
    # seen = 0 -> 2: alpha = 2 / min(1000, 2) = 1, the duty cycle is the activity.
    assert_equal(kw.duty_cycle, [0.5, 0.5, 0, 0.5, 0, 0.5])
    assert int(kw.learning_iterations) == 2
    kw.eval()
    assert_equal(kw(x), [[0, 0.5, 0, 0.9, 0.3, 0], [0.6, 0, 0, 0, 0.3, 0.4]])
    assert int(kw.learning_iterations) == 2  # no update at inference


def test_kwinners_boosting_rotates_the_winner():
    # n = 4, k = 1, target 0.25, beta = 1, the same input three times:
    # step 1: d = 0, all factors equal: unit 0 (1.0) wins; d = (1, 0, 0, 0).
    # step 2: unit 0 ranks 1.0*exp(-0.75) = 0.472, unit 1 0.9*exp(0.25) = 1.156:
    #         unit 1 wins; alpha = 1/2: d = (0.5, 0.5, 0, 0).
    # step 3: units 0, 1 rank 1.0*exp(-0.25) = 0.779 and 0.701: unit 0 wins;
    #         alpha = 1/3: d = (2/3, 1/3, 0, 0).
    kw = M.KWinners(4, percent_on=0.25, boost_strength=1.0)
    x = t([[1.0, 0.9, 0.1, 0.0]])
    assert_equal(kw(x), [[1.0, 0, 0, 0]])
    assert_equal(kw.duty_cycle, [1.0, 0, 0, 0])
    assert_equal(kw(x), [[0, 0.9, 0, 0]])
    assert_equal(kw.duty_cycle, [0.5, 0.5, 0, 0])
    assert_equal(kw(x), [[1.0, 0, 0, 0]])
    assert torch.allclose(kw.duty_cycle, t([2 / 3, 1 / 3, 0, 0]), rtol=1e-6, atol=0)


def test_update_boost_strength_decays_per_epoch():
    net = nn.Sequential(M.KWinners(8, 0.25, boost_strength=1.5, boost_strength_factor=0.9),
                        M.KWinners2d(2, 0.25, boost_strength=2.0, boost_strength_factor=0.5))
    net.apply(M.update_boost_strength)
    assert float(net[0].boost_strength) == pytest.approx(1.35, abs=1e-12)
    assert float(net[1].boost_strength) == 1.0
    net.apply(M.update_boost_strength)
    assert float(net[0].boost_strength) == pytest.approx(1.215, abs=1e-12)


def test_kwinners_state_dict_round_trip():
    a = M.KWinners(8, 0.25)
    a(torch.randn(5, 8))
    a.update_boost_strength()
    b = M.KWinners(8, 0.25)
    b.load_state_dict(a.state_dict())
    assert set(a.state_dict()) == {"duty_cycle", "boost_strength", "learning_iterations"}
    assert torch.equal(a.duty_cycle, b.duty_cycle)
    assert int(b.learning_iterations) == 5
    assert float(b.boost_strength) == pytest.approx(0.9, abs=1e-12)


# ---------------------------------------------------------------------------
# KWinners2d
# ---------------------------------------------------------------------------


def test_kwinners2d_global():
    kw = M.KWinners2d(2, percent_on=0.25, boost_strength=0.0)
    x = t([[[[1, 4], [3, 2]], [[0, -1], [7, 6]]]])
    assert_equal(kw(x), [[[[0, 0], [0, 0]], [[0, 0], [7, 6]]]])
    assert (kw.n, kw.k, kw.k_inference) == (8, 2, 3)  # round(8 * 0.375) = 3
    # eq. 3: channel 0 has 0 of 4 positions active, channel 1 has 2 of 4.
    assert_equal(kw.duty_cycle, [0.0, 0.5])
    kw.eval()
    assert_equal(kw(x), [[[[0, 4], [0, 0]], [[0, 0], [7, 6]]]])


def test_kwinners2d_local_and_channel():
    x = t([[[[1, 4]], [[5, 2]], [[3, 6]]]])  # C = 3, H = 1, W = 2
    local = M.KWinners2d(3, percent_on=0.34, local=True, boost_strength=0.0)
    assert (local.k, local.k_inference) == (1, 2)  # round(1.02), round(1.53)
    assert_equal(local(x), [[[[0, 0]], [[5, 0]], [[0, 6]]]])
    assert_equal(local.duty_cycle, [0.0, 0.5, 0.5])
    chan = M.KWinners2d(3, percent_on=0.5, mode="channel", boost_strength=0.0)
    assert_equal(chan(x), [[[[0, 4]], [[5, 0]], [[0, 6]]]])
    assert chan.k == 1  # round(0.5 * 2) = 1
    assert_equal(chan.duty_cycle, [0.5, 0.5, 0.5])


def test_kwinners2d_matches_the_functional_reference_with_boosting():
    torch.manual_seed(5)
    kw = M.KWinners2d(4, percent_on=0.2, boost_strength=1.5, break_ties=True)
    d = torch.zeros(4)
    seen = 0
    for _ in range(3):
        x = torch.randn(3, 4, 5, 5)
        expected = F.kwinners(x, kw.k if kw.k else 20, duty_cycles=d, boost_strength=1.5,
                              break_ties=True)
        y = kw(x)
        assert_equal(y, expected)
        d, seen = F.duty_cycle_update(d, y, period=1000, seen=seen)
        assert torch.allclose(kw.duty_cycle, d, rtol=1e-6, atol=1e-7)
        assert int((y != 0).sum()) == 3 * 20


# ---------------------------------------------------------------------------
# Sparse weights
# ---------------------------------------------------------------------------


def test_sparse_weights_fixed_fan_in_and_stays_zero_through_training():
    gen = torch.Generator().manual_seed(0)
    layer = M.SparseWeights(nn.Linear(20, 6), sparsity=0.75, generator=gen)
    assert layer.fan_in == 5  # round(0.25 * 20)
    assert (layer.weight != 0).sum(dim=1).tolist() == [5] * 6
    assert torch.equal(layer.weight != 0, layer.mask)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.randn(4, 20)).pow(2).sum().backward()
        assert bool((layer.weight.grad[~layer.mask] == 0).all())
        opt.step()
        layer.rezero_weights()
    assert bool((layer.weight[~layer.mask] == 0).all())
    # rezero_weights repairs weights written from outside.
    with torch.no_grad():
        layer.module.weight.fill_(1.0)
    layer.apply(M.rezero_weights)
    assert torch.equal(layer.weight, layer.mask.float())


def test_sparse_weights_gradient_masking_survives_deepcopy():
    import copy
    layer = copy.deepcopy(M.SparseWeights(nn.Linear(10, 4), fan_in=3))
    layer(torch.randn(3, 10)).sum().backward()
    assert bool((layer.weight.grad[~layer.mask] == 0).all())
    assert bool((layer.weight.grad[layer.mask] != 0).all())


def test_sparse_weights2d_fan_in_per_filter():
    layer = M.SparseWeights2d(nn.Conv2d(4, 3, 3), percent_on=0.5)
    assert layer.fan_in == 18  # of 4 * 3 * 3
    assert (layer.weight != 0).reshape(3, -1).sum(dim=1).tolist() == [18] * 3
    grouped = M.SparseWeights2d(nn.Conv2d(4, 4, 3, groups=2), fan_in=3)
    assert (grouped.weight != 0).reshape(4, -1).sum(dim=1).tolist() == [3] * 4  # of 2*3*3
    assert layer(torch.randn(1, 4, 5, 5)).shape == (1, 3, 3, 3)
    with pytest.raises(ValueError):
        M.SparseWeights(nn.Linear(4, 4), sparsity=0.5, fan_in=2)


# ---------------------------------------------------------------------------
# Learned sparsity layers
# ---------------------------------------------------------------------------


def test_pruned_linear_forward_uses_the_hard_pruned_weight():
    torch.manual_seed(1)
    layer = M.PrunedLinear(16, 8, method="gaussian", init_sparsity=0.5)
    assert float(layer.sparsity) == 0.0 and float(layer.sparsity_phi) == 0.5
    x = torch.randn(3, 16)
    pruned, mask = layer.pruned_weight()
    expected_w, expected_mask = P.prune(layer.weight.detach(), 0.0, "gaussian")
    assert torch.equal(mask, expected_mask)
    assert torch.equal(layer(x), nn.functional.linear(x, pruned, layer.bias))
    # About half of a Gaussian-like layer goes (s^phi = 0.5).
    assert 0.3 < 1 - mask.double().mean() < 0.7


def test_pruned_layers_learn_s_through_the_threshold_and_the_loss():
    torch.manual_seed(2)
    net = nn.Sequential(M.PrunedConv2d(2, 4, 3, method="gumbel", granularity="group",
                                       group_shape=(1, 16, 1, 1)),
                        nn.Flatten(),
                        M.PrunedLinear(4 * 3 * 3, 5, method="quantile"))
    s_list, counts = M.sparsity_parameters(net)
    assert counts == [4 * 2 * 9, 5 * 36]
    x = torch.randn(2, 2, 5, 5)
    ce = nn.functional.cross_entropy(net(x), torch.tensor([0, 3]), reduction="none")
    ce.sum().backward(retain_graph=True)
    assert net[0].sparsity.grad is not None and float(net[0].sparsity.grad) != 0.0  # Gumbel
    assert net[2].sparsity.grad is None  # quantile: no gradient through the mask
    net.zero_grad()
    l_sp = L.sparsity_loss(ce, s_list, counts, alpha=0.5)
    L.total_loss(ce, l_sp).backward()
    assert float(net[2].sparsity.grad) != 0.0  # ... but through the sparsity loss


def test_pruned_conv_matches_conv_with_pruned_weights():
    torch.manual_seed(3)
    conv = M.PrunedConv2d(16, 4, 3, padding=1, method="quantile", granularity="group",
                          group_shape=P.spgc8_aligned_groups(4), init_sparsity=0.75)
    x = torch.randn(1, 16, 6, 6)
    pruned, mask = conv.pruned_weight()
    # 4 filters x 9 taps = 36 groups of 16 input channels; round(0.75*36) = 27 go.
    groups_kept = mask[:, 0].sum().item()
    assert groups_kept == 9
    assert torch.equal(mask, mask[:, :1].expand_as(mask))  # whole 1x16x1x1 groups
    expected = nn.functional.conv2d(x, pruned, conv.bias, padding=1)
    assert torch.equal(conv(x), expected)


# ---------------------------------------------------------------------------
# Seed 000 networks
# ---------------------------------------------------------------------------


def _count(model, nonzero=False):
    return sum(int((p != 0).sum()) if nonzero else p.numel() for p in model.parameters())


def test_seed000_parameter_counts_match_table1():
    # Table 1 counts are those of 32x32 inputs and 12 classes.
    assert _count(M.dense_cnn(32, num_classes=12)) == 1717140  # denseCNN2
    sparse = M.seed000_sparse_cnn(32, num_classes=12, linear_weight_sparsity=0.6,
                                  generator=torch.Generator().manual_seed(0))
    assert _count(sparse, nonzero=True) == 757140  # sparseCNN2
    # The project's 28x28 / 10-class (Fashion-MNIST) shape.
    assert _count(M.dense_cnn()) == 1664 + 102464 + 1025000 + 10010


def test_seed000_sparse_cnn_structure_and_sparsity():
    net = M.seed000_sparse_cnn(generator=torch.Generator().manual_seed(0))
    assert net.cnn1_kwinner.mode == "global" and net.cnn1_kwinner.channels == 64
    assert net.linear1.fan_in == 102  # round(0.1 * 1024)
    assert (net.linear1.weight != 0).sum(dim=1).eq(102).all()
    net.train()
    x = torch.randn(4, 1, 28, 28)
    acts = {}
    hooks = [getattr(net, name).register_forward_hook(
        lambda m, i, o, name=name: acts.__setitem__(name, o))
        for name in ("cnn1_kwinner", "cnn2_kwinner", "linear1_kwinners")]
    out = net(x)
    for h in hooks:
        h.remove()
    assert out.shape == (4, 10)
    # k = round(0.095 * 64*12*12) = 876, round(0.125 * 64*4*4) = 128, 100.
    assert (acts["cnn1_kwinner"] != 0).reshape(4, -1).sum(dim=1).tolist() == [876] * 4
    assert (acts["cnn2_kwinner"] != 0).reshape(4, -1).sum(dim=1).tolist() == [128] * 4
    assert (acts["linear1_kwinners"] != 0).sum(dim=1).tolist() == [100] * 4
    assert int(net.cnn1_kwinner.learning_iterations) == 4


def test_seed000_sparse_cnn_trains():
    torch.manual_seed(4)
    net = M.seed000_sparse_cnn(input_size=16, cnn_out_channels=(8, 8), linear_units=64,
                               generator=torch.Generator().manual_seed(0))
    x = torch.randn(16, 1, 16, 16)
    target = torch.arange(16) % 10
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), target)
        loss.backward()
        opt.step()
        net.apply(M.rezero_weights)
        losses.append(float(loss))
    assert losses[-1] < 0.75 * losses[0]
    assert bool((net.linear1.weight[~net.linear1.mask] == 0).all())
    assert math.isfinite(losses[-1])
