"""Reference pruner logic (seed 003 FIG. 7a-7d, eq. 1-10) and sparse-weight masks.

The semantics are those of ``sparsenn.prune`` (docs/dialect.md) and of the C++
``computePruneMask`` (lib/Dialect/SparseNN/Utils/PrunerMath.cpp):

* ``quantile`` (7a element, 7b groups): saliency per group = reduction
  (``max`` | ``mean``) of ``|w|``; exactly ``round_half_even(s^phi * G)`` of
  the G groups with the smallest saliency are pruned, ties to the lower group
  index (stable sort) - the deterministic reading of eq. 1 and 5;
* ``gaussian`` (7c, eq. 3-4, elements only): ``tau - mu = Psi*sqrt(2)*erfinv(s^phi)``,
  keep ``|w - mu| > tau - mu``;
* ``gumbel`` (7d, eq. 7-10): on the group reductions ``R`` of ``|w - mu|``,
  ``beta = std(R)*sqrt(6)/pi``, ``phi = mean(R) - beta*gamma``,
  ``tau = phi - beta*log(log(1/s^phi))``, keep groups with ``R > tau``.

Decisions where the patent is silent (same as the C++ side; docs/semantics.md §4):

* ``mu``/``Psi`` (eq. 3) and ``mean``/``std`` (eq. 7-8) are the mean and the
  *population* (biased, ``ddof = 0``) standard deviation: the pruner models
  the whole set of coefficients of the layer ([0126], [0156]), not a sample
  of it. ``mu`` of eq. 10 is the mean of all coefficients; the Gumbel
  ``mean``/``std`` are taken over the G group reductions.
* Remainder groups (a dimension not a multiple of the group extent, or a group
  larger than the dimension) are zero-padded for the reduction only; the
  padded zeros count, so ``mean`` divides by the *full* group size
  (``prod(group_shape)``), not by the number of real elements. ``max`` is not
  affected (magnitudes are >= 0). Shapes never change.
* Gumbel with ``s^phi <= 0`` keeps everything and with ``s^phi >= 1`` prunes
  everything (``tau = -inf`` / ``+inf``), so a zero ``beta`` never meets an
  infinity.
* Masks are computed in float64 whatever the weights' dtype.

Gradients (seed 003 [0063], [0214]): the quantile pruners are not
differentiable in ``s`` - the sparsity parameter then learns only through the
sparsity loss (eq. 13-15), "directly by the sparsity learning logic". The
Gaussian and Gumbel thresholds are differentiable functions of ``s``
(:func:`gaussian_threshold`, :func:`gumbel_threshold`); the step function of
the mask is not, so :func:`prune_ste` uses a straight-through estimator: the
forward pass is the exact hard mask of :func:`prune`, the backward pass is the
gradient of a sigmoid relaxation ``sigmoid((score - tau) / (T * scale))``
(``scale`` = Psi for 7c, beta for 7d, detached), which carries the gradient of
the threshold to ``s`` and to ``w``.
"""

import math

import torch

from .functional import normalize_sparsity

__all__ = [
    "METHODS",
    "GRANULARITIES",
    "REDUCTIONS",
    "EULER_GAMMA",
    "group_shape_for",
    "spgc8_aligned_groups",
    "group_reduce",
    "expand_groups",
    "gaussian_threshold",
    "gumbel_threshold",
    "prune_mask",
    "prune",
    "soft_prune_mask",
    "prune_ste",
    "fan_in_from_density",
    "fixed_fan_in_mask",
]

METHODS = ("quantile", "gaussian", "gumbel")
GRANULARITIES = ("element", "group", "input_channel", "output_filter")
REDUCTIONS = ("max", "mean")
EULER_GAMMA = 0.5772156649015329


# ---------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------


def group_shape_for(shape, granularity="element", group_shape=None):
    """Group shape (one entry per weight dimension) of a granularity.

    ``element``: all ones; ``group``: ``group_shape`` (entries may exceed the
    dimension); ``input_channel``: groups ``w[:, c, ...]`` (every dimension
    but 1); ``output_filter``: groups ``w[o, ...]`` (every dimension but 0).
    """
    shape = tuple(int(s) for s in shape)
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}; expected one of {GRANULARITIES}")
    if granularity != "group" and group_shape is not None:
        raise ValueError("group_shape is only meaningful with granularity 'group'")
    if granularity == "element":
        return (1,) * len(shape)
    if granularity == "group":
        if group_shape is None:
            raise ValueError("granularity 'group' needs group_shape")
        group_shape = tuple(int(g) for g in group_shape)
        if len(group_shape) != len(shape):
            raise ValueError(
                f"group_shape has {len(group_shape)} entries, the weights have rank {len(shape)}")
        if any(g < 1 for g in group_shape):
            raise ValueError(f"group_shape {group_shape} must have positive entries")
        return group_shape
    if len(shape) < 2:
        raise ValueError("channel and filter granularity need weights of rank >= 2")
    g = list(shape)
    g[1 if granularity == "input_channel" else 0] = 1
    return tuple(g)


def spgc8_aligned_groups(weight_or_shape):
    """The SPGC8-aligned group shape (docs/semantics.md §6, seed 003 [0138]):
    16 along the input-channel axis, i.e. ``(1, 16)`` for linear ``[out, in]``,
    ``(1, 16, 1, 1)`` for conv ``[C_out, C_in, kH, kW]``, ``(16,)`` for a vector.
    Accepts a tensor, a shape or a rank."""
    if isinstance(weight_or_shape, int):
        rank = weight_or_shape
    elif torch.is_tensor(weight_or_shape):
        rank = weight_or_shape.dim()
    else:
        rank = len(tuple(weight_or_shape))
    if rank < 1:
        raise ValueError("SPGC8 groups need weights of rank >= 1")
    g = [1] * rank
    g[0 if rank == 1 else 1] = 16
    return tuple(g)


def group_reduce(a, group_shape, reduction="max"):
    """Reduce ``a`` over groups of ``group_shape`` (seed 003 [0140]-[0143]).

    Remainder groups are zero-padded (for the reduction only); ``mean``
    divides by the full group size ``prod(group_shape)``, so padded zeros
    count. Returns a tensor of shape ``ceil(a.shape / group_shape)``.
    Differentiable.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")
    shape = tuple(a.shape)
    group_shape = tuple(group_shape)
    grid = tuple(-(-s // g) for s, g in zip(shape, group_shape))
    pad = []
    for s, g, n in reversed(list(zip(shape, group_shape, grid))):
        pad += [0, n * g - s]
    if any(pad):
        a = torch.nn.functional.pad(a, pad)
    split = []
    for n, g in zip(grid, group_shape):
        split += [n, g]
    a = a.reshape(split)
    inner = tuple(range(1, 2 * len(shape), 2))
    if reduction == "max":
        return a.amax(dim=inner) if inner else a
    return a.sum(dim=inner) / math.prod(group_shape) if inner else a


def expand_groups(reduced, group_shape, shape):
    """Nearest-neighbour expansion of a per-group tensor back to ``shape``
    (seed 003 [0148]), cropping the padded remainder."""
    out = reduced
    for dim, g in enumerate(group_shape):
        if g != 1:
            out = out.repeat_interleave(g, dim=dim)
    return out[tuple(slice(0, s) for s in shape)]


# ---------------------------------------------------------------------------
# Thresholds (differentiable in s)
# ---------------------------------------------------------------------------


def _population_std(t):
    return t.std(unbiased=False) if t.numel() > 1 else torch.zeros((), dtype=t.dtype)


def gaussian_threshold(w, s_phi):
    """``tau - mu = Psi * sqrt(2) * erfinv(s^phi)`` (seed 003 eq. 3, [0128]).

    ``Psi`` is the population standard deviation of ``w``. Differentiable in
    ``s_phi`` and ``w``.
    """
    return _population_std(w) * math.sqrt(2.0) * torch.erfinv(s_phi)


def gumbel_threshold(reduced, s_phi):
    """``tau = phi - beta*log(log(1/s^phi))`` (seed 003 eq. 7-9).

    ``beta = std(R)*sqrt(6)/pi`` and ``phi = mean(R) - beta*gamma`` over the
    group reductions ``R`` (population std). Differentiable in ``s_phi`` and
    ``reduced`` for ``0 < s_phi < 1``; the end points give -inf / +inf.
    """
    beta = _population_std(reduced) * math.sqrt(6.0) / math.pi
    phi = reduced.mean() - beta * EULER_GAMMA
    return phi - beta * torch.log(torch.log(1.0 / s_phi))


# ---------------------------------------------------------------------------
# Hard masks (the reference semantics)
# ---------------------------------------------------------------------------


def _check_method(method, granularity):
    if method not in METHODS:
        raise ValueError(f"unknown prune method {method!r}; expected one of {METHODS}")
    if method == "gaussian" and granularity != "element":
        raise ValueError("the gaussian pruner (FIG. 7c) works on elements only")


def _s_phi_value(s, normalization):
    """The normalised sparsity as a Python float in [0, 1]."""
    with torch.no_grad():
        s_phi = normalize_sparsity(s.detach().double() if torch.is_tensor(s) else s, normalization)
    if s_phi.numel() != 1:
        raise ValueError("the sparsity parameter must be a scalar")
    return min(max(float(s_phi), 0.0), 1.0)


def prune_mask(w, s, method="quantile", granularity="element", group_shape=None,
               reduction="max", normalization="sigmoid"):
    """Keep-mask (``True`` = keep) of ``w`` pruned by the pruner logic of
    seed 003 FIG. 7a-7d. ``s`` is the raw sparsity parameter; see
    :func:`prune` for the arguments. Not differentiable."""
    _check_method(method, granularity)
    shape = tuple(w.shape)
    g_shape = group_shape_for(shape, granularity, group_shape)
    s_phi = _s_phi_value(s, normalization)
    wd = w.detach().to(torch.float64)
    if wd.numel() == 0:
        return torch.ones(shape, dtype=torch.bool)

    if method == "gaussian":
        # FIG. 7c, eq. 3-4: Step(|w - mu| - (tau - mu)).
        mu = wd.mean()
        t = gaussian_threshold(wd, torch.tensor(s_phi, dtype=torch.float64))
        return (wd - mu).abs() > t

    if method == "quantile":
        # FIG. 7a/7b, eq. 1/5-6: saliency = Reduction(|w|).
        saliency = group_reduce(wd.abs(), g_shape, reduction)
        num_groups = saliency.numel()
        num_pruned = int(round(s_phi * num_groups))
        order = torch.sort(saliency.reshape(-1), stable=True).indices
        keep = torch.ones(num_groups, dtype=torch.bool)
        keep[order[:num_pruned]] = False
        keep = keep.reshape(saliency.shape)
    else:
        # FIG. 7d, eq. 7-10: a Gumbel model of Reduction(|w - mu|).
        reduced = group_reduce((wd - wd.mean()).abs(), g_shape, reduction)
        if s_phi <= 0.0:
            tau = -math.inf
        elif s_phi >= 1.0:
            tau = math.inf
        else:
            tau = float(gumbel_threshold(reduced, torch.tensor(s_phi, dtype=torch.float64)))
        keep = reduced > tau
    return expand_groups(keep, g_shape, shape)


def prune(w, s, method="quantile", granularity="element", group_shape=None,
          reduction="max", normalization="sigmoid"):
    """The pruner logic of seed 003 FIG. 7a-7d (``sparsenn.prune``).

    Args:
        w: weights, PyTorch layout (linear ``[out, in]``, conv
            ``[C_out, C_in, kH, kW]``).
        s: the raw sparsity parameter s_j (number or scalar tensor).
        method: ``quantile`` (7a/7b) | ``gaussian`` (7c, element only) |
            ``gumbel`` (7d).
        granularity: ``element`` | ``group`` | ``input_channel`` |
            ``output_filter``.
        group_shape: one entry per dimension of ``w`` (granularity ``group``).
        reduction: ``max`` (default) | ``mean`` - the group saliency.
        normalization: ``sigmoid`` | ``hard_sigmoid`` | ``none`` - how s^phi is
            obtained from s ([0118]).

    Returns:
        ``(pruned, mask)``: ``w`` with the pruned coefficients set to zero
        (same shape and dtype) and the boolean keep-mask.
    """
    mask = prune_mask(w, s, method, granularity, group_shape, reduction, normalization)
    return torch.where(mask, w, torch.zeros_like(w)), mask


# ---------------------------------------------------------------------------
# Differentiable pruning for training (straight-through)
# ---------------------------------------------------------------------------


def _safe_s_phi(s, normalization, dtype):
    s_phi = normalize_sparsity(s, normalization)
    if not torch.is_tensor(s):
        s_phi = s_phi.to(dtype)
    eps = torch.finfo(s_phi.dtype).eps
    return s_phi.clamp(eps, 1.0 - eps)


def soft_prune_mask(w, s, method="gaussian", granularity="element", group_shape=None,
                    reduction="max", normalization="sigmoid", temperature=0.1):
    """Sigmoid relaxation of the Gaussian (7c) or Gumbel (7d) mask.

    ``sigmoid((score - thr) / (temperature * scale))`` with, for 7c,
    ``score = |w - mu|``, ``thr = tau - mu``, ``scale = Psi``; for 7d,
    ``score = Reduction(|w - mu|)`` per group, ``thr = tau``,
    ``scale = beta`` (expanded to the elements). ``scale`` is detached so that
    ``temperature`` is relative to the spread of the scores. Differentiable in
    ``s`` and ``w``; ``s^phi`` is clamped to ``[eps, 1 - eps]`` so the
    thresholds stay finite.
    """
    _check_method(method, granularity)
    if method == "quantile":
        raise ValueError("the quantile pruners (FIG. 7a/7b) have no differentiable relaxation")
    s_phi = _safe_s_phi(s, normalization, w.dtype)
    mu = w.mean()
    centred = (w - mu).abs()
    if method == "gaussian":
        thr = gaussian_threshold(w, s_phi)
        scale = _population_std(w).detach()
        score = centred
    else:
        g_shape = group_shape_for(tuple(w.shape), granularity, group_shape)
        score = group_reduce(centred, g_shape, reduction)
        thr = gumbel_threshold(score, s_phi)
        scale = (_population_std(score) * math.sqrt(6.0) / math.pi).detach()
    scale = torch.clamp(scale, min=torch.finfo(w.dtype).tiny)
    soft = torch.sigmoid((score - thr) / (temperature * scale))
    if method == "gumbel":
        soft = expand_groups(soft, g_shape, tuple(w.shape))
    return soft


def prune_ste(w, s, method="gaussian", granularity="element", group_shape=None,
              reduction="max", normalization="sigmoid", temperature=0.1):
    """Pruning for training with learnable ``s`` (seed 003 [0063], [0214]).

    Forward: exactly :func:`prune` (the hard mask). Backward: for the Gaussian
    and Gumbel pruners, the straight-through gradient of
    :func:`soft_prune_mask` (mask = hard + soft - soft.detach()), which passes
    the gradient of the differentiable threshold to ``s``; for the quantile
    pruners, ``w`` receives the masked gradient and ``s`` none (it learns
    through the sparsity loss only, [0214]).

    Returns ``(pruned, mask)`` like :func:`prune`.
    """
    mask = prune_mask(w, s, method, granularity, group_shape, reduction, normalization)
    hard = mask.to(w.dtype)
    if method == "quantile":
        return w * hard, mask
    soft = soft_prune_mask(w, s, method, granularity, group_shape, reduction,
                           normalization, temperature)
    return w * (hard + (soft - soft.detach())), mask


# ---------------------------------------------------------------------------
# Fixed fan-in masks (seed 000 [0041]-[0044], [0056])
# ---------------------------------------------------------------------------


def fan_in_from_density(num_inputs, density):
    """Non-zeros per output unit: ``round_half_even(density * num_inputs)``
    (nupic.torch's ``int(round((1 - sparsity) * input_size))``)."""
    return int(round(float(density) * num_inputs))


def fixed_fan_in_mask(shape, fan_in, generator=None):
    """Random keep-mask with exactly ``fan_in`` non-zeros per output unit.

    Dimension 0 is the output unit; its inputs are all the other dimensions
    (``in`` for linear, ``C_in/groups * kH * kW`` for conv), as in seed 000
    [0044] ("each individual node ... associated with a fixed number of
    non-zero weights") and [0056] (randomly sampled connections). Each row is
    an independent uniform choice of ``fan_in`` positions, drawn from
    ``generator`` (a ``torch.Generator``; the global one when ``None``).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 1:
        raise ValueError("fixed fan-in masks need a shape of rank >= 1")
    out = shape[0]
    n = math.prod(shape[1:])
    fan_in = int(fan_in)
    if not 0 <= fan_in <= n:
        raise ValueError(f"fan_in {fan_in} is out of range [0, {n}]")
    keys = torch.rand((out, n), generator=generator)
    chosen = torch.argsort(keys, dim=1)[:, :fan_in]
    mask = torch.zeros((out, n), dtype=torch.bool)
    mask.scatter_(1, chosen, True)
    return mask.reshape(shape)
