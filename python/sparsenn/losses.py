"""Sparsity loss of seed 003 (eq. 11-15, [0207]-[0213]).

``c(W, s) = sum_j s^phi_j |w_j| / sum_j |w_j|`` (eq. 14) with ``|w_j|`` the
number of coefficients of layer j (the OCR's ``s_j^g`` is ``s^phi_j``);
``L_sp = -alpha * L_ce * log(1 - c) - (1 - alpha) * log(c)`` (eq. 13), with
``c / theta`` in place of ``c`` for a maximum sparsity ``theta`` (eq. 15);
the training objective is ``mean_i(L_ce + L_sp) + lambda * ||W||_1`` (eq. 11).

No clamping is applied: ``c`` (or ``c / theta``) must lie in ``(0, 1)`` for
the loss to be finite, as in the equations.
"""

import torch

from .functional import normalize_sparsity

__all__ = ["network_sparsity", "sparsity_loss", "total_loss"]


def network_sparsity(s_list, counts, normalization="sigmoid"):
    """``c(W, s)`` of eq. 14: the coefficient-weighted mean of the normalised
    per-layer sparsity parameters. ``s_list`` holds the raw parameters s_j
    (numbers or scalar tensors), ``counts`` the coefficient counts |w_j|.
    Differentiable in the ``s_j``."""
    s_list = list(s_list)
    counts = [int(n) for n in counts]
    if len(s_list) != len(counts) or not s_list:
        raise ValueError(
            f"expects one coefficient count per sparsity parameter, got {len(s_list)} "
            f"parameters and {len(counts)} counts")
    if any(n < 0 for n in counts) or sum(counts) == 0:
        raise ValueError("coefficient counts must be non-negative with a positive sum")
    total = float(sum(counts))
    c = 0.0
    for s, n in zip(s_list, counts):
        s_phi = normalize_sparsity(s, normalization)
        if s_phi.numel() != 1:
            raise ValueError("sparsity parameters must be scalars")
        c = c + s_phi.reshape(()) * n
    return c / total


def sparsity_loss(ce, s_list, counts, alpha, theta=None, normalization="sigmoid"):
    """Cross-entropy coupled sparsity loss (eq. 13, or eq. 15 with ``theta``).

    Args:
        ce: the cross-entropy L_ce, a scalar or per-sample tensor.
        s_list: the raw sparsity parameters s_j, one per pruned layer.
        counts: the coefficient counts |w_j|.
        alpha: weighting in [0, 1] ([0210]): higher keeps accuracy, lower
            favours sparsity.
        theta: optional maximum sparsity (eq. 15): ``c / theta`` replaces ``c``.
        normalization: how ``s^phi`` is obtained from ``s``.

    Returns:
        ``L_sp`` with the shape of ``ce``.
    """
    alpha = float(alpha)
    c = network_sparsity(s_list, counts, normalization)
    if theta is not None:
        c = c / float(theta)
    ce = torch.as_tensor(ce)
    if ce.is_floating_point():
        c = torch.as_tensor(c).to(ce.dtype)
    return -alpha * ce * torch.log(1.0 - c) - (1.0 - alpha) * torch.log(c)


def total_loss(ce, l_sp, weights=(), l1_lambda=0.0):
    """The training objective of eq. 11: ``mean(L_ce + L_sp) + lambda*||W||_1``.

    ``ce`` and ``l_sp`` are per-sample (or scalar) tensors; ``weights`` is an
    iterable of weight tensors whose absolute values are summed.
    """
    loss = torch.mean(torch.as_tensor(ce) + torch.as_tensor(l_sp))
    if l1_lambda:
        l1 = sum(w.abs().sum() for w in weights)
        loss = loss + float(l1_lambda) * l1
    return loss
