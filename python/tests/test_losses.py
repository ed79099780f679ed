"""Hand-computed cases for sparsenn.losses (seed 003 eq. 11-15)."""

import math

import pytest

torch = pytest.importorskip("torch")

from sparsenn import losses as L  # noqa: E402

LOG3 = math.log(3.0)  # sigmoid(log 3) = 0.75


def d64(v):
    return torch.tensor(v, dtype=torch.float64)


def test_network_sparsity_eq14():
    # sigmoid(0) = 0.5 on 100 coefficients, 0.75 on 300: c = (50 + 225) / 400.
    c = L.network_sparsity([0.0, LOG3], [100, 300])
    assert float(c) == pytest.approx(0.6875, abs=1e-15)
    c = L.network_sparsity([d64(0.2), d64(0.6)], [1, 3], normalization="none")
    assert float(c) == pytest.approx(0.5, abs=1e-15)
    with pytest.raises(ValueError):
        L.network_sparsity([0.0], [1, 2])


def test_sparsity_loss_eq13():
    # c = 0.6875, alpha = 0.5, L_ce = 2:
    # L_sp = -0.5*2*log(0.3125) - 0.5*log(0.6875) = 1.1631508 + 0.1873467.
    l_sp = L.sparsity_loss(d64(2.0), [0.0, LOG3], [100, 300], alpha=0.5)
    assert float(l_sp) == pytest.approx(-math.log(0.3125) - 0.5 * math.log(0.6875), rel=1e-14)
    assert float(l_sp) == pytest.approx(1.3504975, abs=1e-7)
    assert l_sp.shape == ()


def test_sparsity_loss_eq15_with_theta():
    # c / theta = 0.6875 / 0.8 = 0.859375:
    # -0.5*2*log(0.140625) - 0.5*log(0.859375) = 1.9616585 + 0.0757749.
    l_sp = L.sparsity_loss(d64(2.0), [0.0, LOG3], [100, 300], alpha=0.5, theta=0.8)
    assert float(l_sp) == pytest.approx(-math.log(0.140625) - 0.5 * math.log(0.859375), rel=1e-14)
    assert float(l_sp) == pytest.approx(2.0374334, abs=1e-7)


def test_sparsity_loss_per_sample_and_alpha_extremes():
    ce = torch.tensor([1.0, 3.0])
    # c = 0.5: alpha = 1 leaves -L_ce*log(0.5) = L_ce*ln 2; alpha = 0 leaves ln 2.
    out = L.sparsity_loss(ce, [d64(0.2), d64(0.6)], [1, 3], alpha=1.0, normalization="none")
    assert out.dtype == torch.float32 and out.shape == (2,)
    assert torch.allclose(out, torch.tensor([math.log(2.0), 3 * math.log(2.0)]), rtol=1e-6, atol=0)
    out = L.sparsity_loss(ce, [d64(0.2), d64(0.6)], [1, 3], alpha=0.0, normalization="none")
    assert torch.allclose(out, torch.tensor([math.log(2.0)] * 2), rtol=1e-6, atol=0)


def test_sparsity_loss_gradient_matches_the_chain_rule():
    s = [d64(0.3).requires_grad_(), d64(-1.2).requires_grad_()]
    counts = [1600, 51200]
    ce, alpha, theta = 0.7, 0.4, 0.9
    l_sp = L.sparsity_loss(d64(ce), s, counts, alpha=alpha, theta=theta)
    l_sp.backward()
    total = sum(counts)
    sig = [1 / (1 + math.exp(-float(x))) for x in s]
    c = sum(p * n for p, n in zip(sig, counts)) / total / theta
    dl_dc = alpha * ce / (1 - c) - (1 - alpha) / c
    for x, p, n in zip(s, sig, counts):
        expected = dl_dc * n * p * (1 - p) / total / theta
        assert float(x.grad) == pytest.approx(expected, rel=1e-12)
    # The larger layer gets the larger push (the bias of [0206]).
    assert abs(float(s[1].grad)) > abs(float(s[0].grad))


def test_total_loss_eq11():
    ce = torch.tensor([1.0, 2.0])
    l_sp = torch.tensor([0.5, 0.5])
    weights = [torch.tensor([[1.0, -2.0]]), torch.tensor([3.0])]
    # mean(1.5, 2.5) + 0.1 * (1 + 2 + 3)
    assert float(L.total_loss(ce, l_sp, weights, l1_lambda=0.1)) == pytest.approx(2.6, abs=1e-6)
    assert float(L.total_loss(ce, l_sp)) == 2.0
