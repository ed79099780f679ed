"""Reference implementations of the ``sparsenn`` dialect's activation ops.

Pure PyTorch (CPU) with the exact semantics of ``docs/dialect.md`` and
``docs/semantics.md``, decided from the two patents:

* seed 000 (Numenta, US 2025/0252312 A1): k-winners [0045]-[0047], boosting
  [0060]-[0065] (eq. 2), duty cycles eq. 1 and eq. 3, convolutional k-winners
  and per-channel boosting [0073]-[0077] (eq. 3-4);
* seed 003 (Imagination, EP 21216321.6): the normalisation of the sparsity
  parameter [0118] and the symmetric per-channel quantisation that feeds
  SPGC8 ([0100]-[0109]).

These functions are the independent references against which the compiled
kernels are tested, so they favour clarity and determinism over speed.
"""

import math

import torch

__all__ = [
    "KWINNERS_MODES",
    "NORMALIZATIONS",
    "domain_size",
    "resolve_k",
    "boost_factors",
    "kwinners_mask",
    "kwinners",
    "threshold",
    "apply_mask",
    "duty_cycle_update",
    "normalize_sparsity",
    "quantize_scales",
    "quantize",
    "dequantize",
]

KWINNERS_MODES = ("global", "group", "local", "channel")
NORMALIZATIONS = ("sigmoid", "hard_sigmoid", "none")


# ---------------------------------------------------------------------------
# k-winners (seed 000)
# ---------------------------------------------------------------------------


def _check_mode(shape, mode, group_size):
    if mode not in KWINNERS_MODES:
        raise ValueError(f"unknown k-winners mode {mode!r}; expected one of {KWINNERS_MODES}")
    if len(shape) < 2:
        raise ValueError(f"k-winners expects a batched input [B, ...], got shape {tuple(shape)}")
    if mode in ("local", "channel") and len(shape) != 4:
        raise ValueError(f"mode {mode!r} needs a [B, C, H, W] input, got shape {tuple(shape)}")
    if mode == "group":
        if group_size is None:
            raise ValueError("mode 'group' needs group_size")
        per_sample = math.prod(shape[1:])
        if group_size < 1 or per_sample % group_size != 0:
            raise ValueError(
                f"group_size {group_size} does not divide the {per_sample} elements of a sample")
    elif group_size is not None:
        raise ValueError("group_size is only meaningful in mode 'group'")


def domain_size(shape, mode="global", group_size=None):
    """Size n of one selection domain (docs/dialect.md, ``sparsenn.kwinners``).

    ``global``: all non-batch elements of a sample; ``group``: ``group_size``
    consecutive elements of the flattened sample ([0046]); ``local``: the C
    channels at one (h, w); ``channel``: the H*W positions of one channel
    (FIG. 9B, [0075]).
    """
    shape = tuple(shape)
    _check_mode(shape, mode, group_size)
    if mode == "global":
        return math.prod(shape[1:])
    if mode == "group":
        return int(group_size)
    if mode == "local":
        return shape[1]
    return shape[2] * shape[3]


def resolve_k(n, k=None, density=None):
    """The effective k of a domain of size ``n``.

    Exactly one of ``k`` (a count) and ``density`` must be given; with a
    density, ``k = round_half_even(density * n)`` (Python's ``round``, as
    nupic.torch's ``int(round(n * percent_on))``). The result must lie in
    ``[1, n]``.
    """
    if (k is None) == (density is None):
        raise ValueError("expects exactly one of k and density")
    if density is not None:
        density = float(density)
        if not 0.0 < density <= 1.0:
            raise ValueError(f"density must be in (0, 1], got {density}")
        k = int(round(density * n))
    k = int(k)
    if not 1 <= k <= n:
        raise ValueError(f"k = {k} is out of range [1, {n}]")
    return k


def _to_domains(t, mode, group_size):
    """View ``t`` as ``[B, num_domains, n]``; the last axis follows the flat
    index order of the domain's elements in ``t``."""
    b = t.shape[0]
    if mode == "global":
        return t.reshape(b, 1, -1)
    if mode == "group":
        return t.reshape(b, -1, group_size)
    if mode == "local":
        _, c, h, w = t.shape
        return t.permute(0, 2, 3, 1).reshape(b, h * w, c)
    _, c, h, w = t.shape
    return t.reshape(b, c, h * w)


def _from_domains(t, mode, shape):
    """Inverse of :func:`_to_domains`."""
    if mode == "local":
        b, c, h, w = shape
        return t.reshape(b, h, w, c).permute(0, 3, 1, 2)
    return t.reshape(shape)


def boost_factors(duty_cycles, target_density, boost_strength, ndim):
    """Boost terms ``b = exp(beta * (target - d))`` (seed 000 eq. 2 and 4).

    ``duty_cycles`` has one entry per unit (``[F]`` for ``[B, F]`` inputs) or
    per channel (``[C]`` for ``[B, C, H, W]``, [0077]); the result is shaped to
    broadcast against an input of rank ``ndim`` along dimension 1.
    """
    d = torch.as_tensor(duty_cycles)
    if d.dim() != 1:
        raise ValueError(f"duty cycles must be 1-D, got shape {tuple(d.shape)}")
    b = torch.exp(float(boost_strength) * (float(target_density) - d))
    return b.reshape((1, -1) + (1,) * (ndim - 2))


def kwinners_mask(x, k=None, *, density=None, mode="global", group_size=None,
                  duty_cycles=None, boost_strength=0.0, break_ties=False, relu=False):
    """Boolean mask of the k-winners of ``x`` (see :func:`kwinners`)."""
    shape = tuple(x.shape)
    n = domain_size(shape, mode, group_size)
    k = resolve_k(n, k, density)
    beta = float(boost_strength)
    if beta < 0.0 or not math.isfinite(beta):
        raise ValueError(f"boost strength must be finite and non-negative, got {beta}")
    x = x.detach()
    ranking = x
    if beta > 0.0:
        if duty_cycles is None:
            raise ValueError("boosting (boost_strength > 0) needs duty_cycles")
        d = torch.as_tensor(duty_cycles, dtype=x.dtype, device=x.device)
        if tuple(d.shape) != (shape[1],):
            raise ValueError(
                f"duty_cycles must have shape ({shape[1]},) (per "
                f"{'unit' if x.dim() == 2 else 'channel'}), got {tuple(d.shape)}")
        # â = k / n, the expected fraction of a domain that wins (eq. 2, 4).
        ranking = x * boost_factors(d, k / n, beta, x.dim())
    r = _to_domains(ranking, mode, group_size)
    if break_ties:
        # Exactly k winners; a stable descending sort keeps equal values in
        # flat-index order, so the lower index wins a tie.
        order = torch.sort(r, dim=-1, descending=True, stable=True).indices
        win = torch.zeros(r.shape, dtype=torch.bool, device=r.device)
        win.scatter_(-1, order[..., :k], True)
    else:
        # Every value >= the k-th largest ranking value wins (can exceed k).
        kth = torch.topk(r, k, dim=-1).values[..., k - 1:k]
        win = r >= kth
    mask = _from_domains(win, mode, shape)
    if relu:
        mask = mask & (x > 0)
    return mask


def kwinners(x, k=None, *, density=None, mode="global", group_size=None,
             duty_cycles=None, boost_strength=0.0, break_ties=False, relu=False):
    """k-winners-take-all (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077]).

    Keeps the k winners of every selection domain of ``x`` and zeros the rest.

    Args:
        x: ``[B, F]`` or ``[B, C, H, W]`` (any rank >= 2 for ``global`` and
            ``group``); dimension 0 is the batch.
        k: winners per domain, or ``density`` (``k = round_half_even(density*n)``).
        mode: ``global`` | ``group`` | ``local`` | ``channel`` (see
            :func:`domain_size`).
        group_size: domain size of mode ``group``; must divide a sample.
        duty_cycles: ``[x.shape[1]]``, per unit for ``[B, F]``, per channel for
            ``[B, C, H, W]`` (eq. 3); needed when ``boost_strength > 0``.
        boost_strength: beta. Winners are ranked by ``x * exp(beta*(k/n - d))``
            (eq. 2 and 4); beta = 0 ranks by ``x``.
        break_ties: exactly k winners, the lower flat index within the domain
            wins a tie; otherwise every ranking value >= the k-th largest wins.
        relu: values <= 0 never win.

    Returns:
        ``x`` at the winners (the unboosted value), 0 elsewhere. The gradient
        flows to the winners only.
    """
    mask = kwinners_mask(x, k, density=density, mode=mode, group_size=group_size,
                         duty_cycles=duty_cycles, boost_strength=boost_strength,
                         break_ties=break_ties, relu=relu)
    return torch.where(mask, x, torch.zeros_like(x))


def threshold(x, t):
    """Keeps the values strictly above ``t`` and zeros the rest (seed 000 [0045])."""
    return torch.where(x > t, x, torch.zeros_like(x))


def apply_mask(w, mask):
    """``mask ? w : 0`` (``sparsenn.apply_mask``, seed 000 [0057]): keeps the
    masked coefficients of fixed fan-in weights at zero."""
    mask = torch.as_tensor(mask, dtype=torch.bool, device=w.device)
    return torch.where(mask, w, torch.zeros_like(w))


def duty_cycle_update(duty_cycles, y, alpha=None, *, period=None, seen=None):
    """Duty-cycle update (seed 000 [0062] eq. 1, [0077] eq. 3).

    A unit is active where the k-winners output ``y`` is non-zero. The batch
    activity ``a`` is, for ``[B, F]``, the fraction of the B samples in which
    each unit was active; for ``[B, C, H, W]`` it is per channel: the active
    positions of the channel divided by H*W, averaged over the batch (eq. 3).

    * fixed form (eq. 1, ``alpha`` given): returns ``(1 - alpha)*d + alpha*a``;
    * nupic.torch form (``period`` T and ``seen`` given): with batch size B,
      ``alpha = B / min(T, seen + B)``; returns ``(d', seen + B)``. This is
      nupic.torch's ``d' = (d*(p - B) + sum_active) / p`` with
      ``p = min(T, learning_iterations)`` rewritten (``sum_active = B*a``).

    ``seen`` may be an ``int`` or an integer tensor; the new counter has the
    same kind.
    """
    if (alpha is None) == (period is None):
        raise ValueError("expects exactly one of alpha (eq. 1) and period (nupic.torch form)")
    d = torch.as_tensor(duty_cycles)
    if y.dim() < 2 or tuple(d.shape) != (y.shape[1],):
        raise ValueError(
            f"duty cycles {tuple(d.shape)} do not match activations {tuple(y.shape)}: "
            "expected one entry per unit/channel (dimension 1)")
    batch = y.shape[0]
    per_sample = math.prod(y.shape[2:])  # H*W in 2-D, 1 for [B, F]
    reduce_dims = [0] + list(range(2, y.dim()))
    active = (y != 0).to(d.dtype).sum(dim=reduce_dims)
    a = active / (per_sample * batch)
    if alpha is not None:
        alpha = float(alpha)
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        return (1.0 - alpha) * d + alpha * a
    if seen is None:
        raise ValueError("the period form needs the counter `seen`")
    if int(period) < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    new_seen = seen + batch
    alpha = batch / min(int(period), int(new_seen))
    return (1.0 - alpha) * d + alpha * a, new_seen


# ---------------------------------------------------------------------------
# Sparsity parameter normalisation (seed 003 [0118])
# ---------------------------------------------------------------------------


def normalize_sparsity(s, normalization="sigmoid"):
    """The normalised sparsity parameter ``s^phi`` (seed 003 [0118]).

    ``sigmoid``: ``1 / (1 + exp(-s))``; ``hard_sigmoid``:
    ``clamp(s/6 + 1/2, 0, 1)``; ``none``: ``s`` unchanged (already in [0, 1]).
    Python numbers are computed as float64 tensors. Differentiable.
    """
    if not torch.is_tensor(s):
        s = torch.tensor(float(s), dtype=torch.float64)
    if normalization == "sigmoid":
        return torch.sigmoid(s)
    if normalization == "hard_sigmoid":
        return torch.clamp(s / 6.0 + 0.5, 0.0, 1.0)
    if normalization == "none":
        return s
    raise ValueError(f"unknown normalization {normalization!r}; expected one of {NORMALIZATIONS}")


# ---------------------------------------------------------------------------
# Symmetric per-output-channel quantisation (seed 003 [0100]-[0109];
# docs/spgc8.md §3)
# ---------------------------------------------------------------------------


def _qmax(bits):
    if bits not in (8, 16):
        raise ValueError(f"bits must be 8 or 16, got {bits}")
    return (1 << (bits - 1)) - 1


def _channel_view(t, axis, ndim):
    return t.reshape([-1 if i == axis else 1 for i in range(ndim)])


def quantize_scales(w, bits=8, axis=0):
    """One scale per channel of ``axis``: ``max|w| / (2^(D-1) - 1)``.

    Computed in ``w``'s dtype (float32 weights give the same float32 scales as
    the C++ ``spgc8_quantize_f32``).
    """
    qmax = _qmax(bits)
    axis = axis % w.dim()
    dims = [i for i in range(w.dim()) if i != axis]
    max_abs = w.detach().abs().amax(dim=dims) if dims else w.detach().abs()
    return max_abs / qmax


def _round_half_away(v):
    """Exact round-half-away-from-zero (C's ``round``) on a float tensor."""
    t = torch.trunc(v)
    frac = v - t  # exact for floating-point values
    return t + torch.sign(v) * (frac.abs() >= 0.5).to(v.dtype)


def quantize(w, scales, bits=8, axis=0):
    """Symmetric per-channel quantisation (docs/dialect.md, ``sparsenn.quantize``).

    ``q = clamp(round_half_away(w / scale), -(2^(D-1)-1), 2^(D-1)-1)`` with the
    scale of the element's channel along ``axis``; a zero scale gives 0.
    The division is done in ``w``'s dtype. Returns int8 (D = 8) or int16.
    """
    qmax = _qmax(bits)
    axis = axis % w.dim()
    scales = torch.as_tensor(scales, dtype=w.dtype)
    if tuple(scales.shape) != (w.shape[axis],):
        raise ValueError(f"expects {w.shape[axis]} scales (dimension {axis}), "
                         f"got {tuple(scales.shape)}")
    s = _channel_view(scales, axis, w.dim())
    safe = torch.where(s > 0, s, torch.ones_like(s))
    r = _round_half_away(w.detach() / safe)
    r = torch.where(s > 0, r, torch.zeros_like(r))
    r = torch.clamp(r, -qmax, qmax)
    return r.to(torch.int8 if bits == 8 else torch.int16)


def dequantize(q, scales, axis=0, dtype=torch.float32):
    """``q * scale`` per channel of ``axis`` (``sparsenn.dequantize``)."""
    axis = axis % q.dim()
    scales = torch.as_tensor(scales, dtype=dtype)
    if tuple(scales.shape) != (q.shape[axis],):
        raise ValueError(f"expects {q.shape[axis]} scales (dimension {axis}), "
                         f"got {tuple(scales.shape)}")
    return q.to(dtype) * _channel_view(scales, axis, q.dim())
