"""torch.nn modules with the patents' semantics (docs/semantics.md).

* :class:`KWinners`, :class:`KWinners2d` - k-winners with boosting and duty
  cycles (seed 000 [0045]-[0047], [0060]-[0065], [0073]-[0077]), with
  nupic.torch's constructor arguments and training behaviour
  (``k_inference_factor``, ``boost_strength_factor`` decayed by
  :meth:`~KWinnersBase.update_boost_strength`, the period form of the duty
  cycle with a ``learning_iterations`` counter).
* :class:`SparseWeights`, :class:`SparseWeights2d` - fixed fan-in sparse
  weights (seed 000 [0041]-[0044], [0056]-[0057]).
* :class:`PrunedLinear`, :class:`PrunedConv2d` - layers with a learnable
  sparsity parameter and the pruner logic of seed 003 (FIG. 7a-7d).
* :func:`seed000_sparse_cnn`, :func:`dense_cnn` - the networks of seed 000
  Table 1.

Differences from nupic.torch: duty cycles are 1-D buffers (``[n]`` units or
``[C]`` channels, as the ``sparsenn.kwinners`` op takes them) rather than
``[1, C, 1, 1]``; a unit counts as active where the output is non-zero
(nupic.torch counts ``> 0``; the two agree when ``relu=True`` or when the
winners are positive); ``learning_iterations`` is a buffer so that it is
saved in the ``state_dict``.
"""

import math
from collections import OrderedDict

import torch
from torch import nn

from . import functional as SF
from .pruning import fan_in_from_density, fixed_fan_in_mask, prune, prune_ste

__all__ = [
    "KWinnersBase",
    "KWinners",
    "KWinners2d",
    "SparseWeightsBase",
    "SparseWeights",
    "SparseWeights2d",
    "PrunedLinear",
    "PrunedConv2d",
    "update_boost_strength",
    "rezero_weights",
    "sparsity_parameters",
    "seed000_sparse_cnn",
    "dense_cnn",
]


# ---------------------------------------------------------------------------
# k-winners
# ---------------------------------------------------------------------------


class KWinnersBase(nn.Module):
    """State shared by the k-winners modules.

    Buffers: ``duty_cycle`` (one entry per unit or channel), ``boost_strength``
    (a scalar, decayed by :meth:`update_boost_strength`), ``learning_iterations``
    (samples seen in training, the ``seen`` counter of the period form).
    """

    def __init__(self, num_duty_cycles, percent_on, k_inference_factor, boost_strength,
                 boost_strength_factor, duty_cycle_period, break_ties, relu):
        super().__init__()
        if not 0.0 < percent_on <= 1.0:
            raise ValueError(f"percent_on must be in (0, 1], got {percent_on}")
        if k_inference_factor <= 0.0:
            raise ValueError("k_inference_factor must be positive")
        if boost_strength < 0.0:
            raise ValueError("boost_strength must be >= 0")
        if not 0.0 <= boost_strength_factor <= 1.0:
            raise ValueError("boost_strength_factor must be in [0, 1]")
        if duty_cycle_period < 1:
            raise ValueError("duty_cycle_period must be >= 1")
        self.percent_on = float(percent_on)
        self.k_inference_factor = float(k_inference_factor)
        self.percent_on_inference = self.percent_on * self.k_inference_factor
        self.boost_strength_factor = float(boost_strength_factor)
        self.duty_cycle_period = int(duty_cycle_period)
        self.break_ties = bool(break_ties)
        self.relu = bool(relu)
        self.register_buffer("duty_cycle", torch.zeros(num_duty_cycles))
        self.register_buffer("boost_strength",
                             torch.tensor(float(boost_strength), dtype=torch.float64))
        self.register_buffer("learning_iterations", torch.zeros((), dtype=torch.int64))

    def update_boost_strength(self):
        """``boost_strength *= boost_strength_factor`` (nupic.torch: once per epoch)."""
        self.boost_strength.mul_(self.boost_strength_factor)

    def update_duty_cycle(self, y):
        """Period form of the duty-cycle update (eq. 1 / eq. 3 with
        ``alpha = B / min(T, seen + B)``) from the k-winners output ``y``."""
        with torch.no_grad():
            d, seen = SF.duty_cycle_update(self.duty_cycle, y.detach(),
                                           period=self.duty_cycle_period,
                                           seen=int(self.learning_iterations))
            self.duty_cycle.copy_(d)
            self.learning_iterations.fill_(seen)

    def _kwinners(self, x, k, mode):
        return SF.kwinners(x, k, mode=mode, duty_cycles=self.duty_cycle,
                           boost_strength=float(self.boost_strength),
                           break_ties=self.break_ties, relu=self.relu)

    def extra_repr(self):
        return (f"percent_on={self.percent_on}, boost_strength={float(self.boost_strength):g}, "
                f"boost_strength_factor={self.boost_strength_factor}, "
                f"k_inference_factor={self.k_inference_factor}, "
                f"duty_cycle_period={self.duty_cycle_period}, break_ties={self.break_ties}, "
                f"relu={self.relu}")


class KWinners(KWinnersBase):
    """k-winners over the ``n`` units of a ``[B, n]`` input (mode ``global``).

    ``k = round(n * percent_on)``; at inference ``k_inference =
    int(k * k_inference_factor)`` (nupic.torch), capped at ``n``. In training
    the duty cycles are updated after every forward pass; boosting (eq. 2)
    applies in training and inference.
    """

    def __init__(self, n, percent_on, k_inference_factor=1.5, boost_strength=1.0,
                 boost_strength_factor=0.9, duty_cycle_period=1000, break_ties=False,
                 relu=False):
        super().__init__(n, percent_on, k_inference_factor, boost_strength,
                         boost_strength_factor, duty_cycle_period, break_ties, relu)
        self.n = int(n)
        self.k = SF.resolve_k(self.n, density=self.percent_on)
        self.k_inference = max(1, min(self.n, int(self.k * self.k_inference_factor)))

    def forward(self, x):
        if x.dim() != 2 or x.shape[1] != self.n:
            raise ValueError(f"KWinners expects [B, {self.n}], got {tuple(x.shape)}")
        if self.training:
            y = self._kwinners(x, self.k, "global")
            self.update_duty_cycle(y)
            return y
        return self._kwinners(x, self.k_inference, "global")

    def extra_repr(self):
        return f"n={self.n}, k={self.k}, k_inference={self.k_inference}, " + super().extra_repr()


class KWinners2d(KWinnersBase):
    """k-winners on ``[B, C, H, W]`` inputs with per-channel duty cycles
    (seed 000 [0073]-[0077], eq. 3-4).

    ``mode``: ``global`` (all C*H*W values of a sample; nupic.torch's
    ``local=False``), ``local`` (the C channels at each (h, w);
    ``local=True``) or ``channel`` (the H*W positions of each channel,
    FIG. 9B). ``k = round(n * percent_on)`` and ``k_inference =
    round(n * percent_on * k_inference_factor)`` with ``n`` the domain size
    (known at the first forward pass for ``global`` and ``channel``).
    """

    def __init__(self, channels, percent_on=0.1, k_inference_factor=1.5, boost_strength=1.0,
                 boost_strength_factor=0.9, duty_cycle_period=1000, local=False,
                 break_ties=False, relu=False, mode=None):
        super().__init__(channels, percent_on, k_inference_factor, boost_strength,
                         boost_strength_factor, duty_cycle_period, break_ties, relu)
        if mode is None:
            mode = "local" if local else "global"
        if mode not in ("global", "local", "channel"):
            raise ValueError(f"KWinners2d mode must be global, local or channel, got {mode!r}")
        self.channels = int(channels)
        self.mode = mode
        self.local = mode == "local"
        self.n = 0
        self.k = 0
        self.k_inference = 0
        if mode == "local":
            self._set_domain(self.channels)

    def _set_domain(self, n):
        self.n = n
        self.k = SF.resolve_k(n, density=self.percent_on)
        self.k_inference = max(1, min(n, int(round(n * self.percent_on_inference))))

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"KWinners2d expects [B, {self.channels}, H, W], got {tuple(x.shape)}")
        n = SF.domain_size(x.shape, self.mode)
        if n != self.n:
            self._set_domain(n)
        if self.training:
            y = self._kwinners(x, self.k, self.mode)
            self.update_duty_cycle(y)
            return y
        return self._kwinners(x, self.k_inference, self.mode)

    def extra_repr(self):
        return (f"channels={self.channels}, mode={self.mode}, k={self.k}, "
                f"k_inference={self.k_inference}, " + super().extra_repr())


def update_boost_strength(m):
    """For ``model.apply(update_boost_strength)`` at the start of each epoch."""
    if isinstance(m, KWinnersBase):
        m.update_boost_strength()


# ---------------------------------------------------------------------------
# Fixed fan-in sparse weights
# ---------------------------------------------------------------------------


class _MaskGradient:
    """Tensor hook multiplying the gradient by the owner's mask (picklable,
    follows the mask buffer across ``.to()``)."""

    def __init__(self, owner):
        self.owner = owner

    def __call__(self, grad):
        return grad * self.owner.mask.to(grad.dtype)


class SparseWeightsBase(nn.Module):
    """Wraps a layer whose weight keeps a fixed fan-in mask (seed 000 [0044],
    [0056]-[0057]).

    Exactly one of ``sparsity`` (fraction of zeros), ``percent_on`` (fraction
    of non-zeros) and ``fan_in`` (non-zeros per output unit) is given; the
    fan-in is ``round((1 - sparsity) * num_inputs)`` as in nupic.torch, with
    ``num_inputs = prod(weight.shape[1:])``. The masked weights stay zero:
    the gradient of the weight is multiplied by the mask (a tensor hook) and
    :meth:`rezero_weights` re-applies the mask - call it after each optimizer
    step (``model.apply(rezero_weights)``), since weight decay or a stale
    momentum could otherwise move them.
    """

    def __init__(self, module, sparsity=None, percent_on=None, fan_in=None, generator=None):
        super().__init__()
        if sum(v is not None for v in (sparsity, percent_on, fan_in)) != 1:
            raise ValueError("expects exactly one of sparsity, percent_on and fan_in")
        self.module = module
        weight = module.weight
        num_inputs = math.prod(weight.shape[1:])
        if fan_in is None:
            density = 1.0 - float(sparsity) if sparsity is not None else float(percent_on)
            fan_in = fan_in_from_density(num_inputs, density)
        self.fan_in = int(fan_in)
        self.register_buffer("mask", fixed_fan_in_mask(weight.shape, self.fan_in, generator))
        self.rezero_weights()
        self._ensure_gradient_hook()

    @property
    def weight(self):
        return self.module.weight

    @property
    def bias(self):
        return self.module.bias

    @property
    def sparsity(self):
        """Fraction of weights held at zero."""
        return 1.0 - self.fan_in / math.prod(self.mask.shape[1:])

    def rezero_weights(self):
        with torch.no_grad():
            self.module.weight.mul_(self.mask.to(self.module.weight.dtype))

    def _ensure_gradient_hook(self):
        # Tensor hooks do not survive copy.deepcopy (nor a replaced weight), so
        # the forward pass re-registers the hook on the current weight if needed.
        weight = self.module.weight
        hooks = weight._backward_hooks or {}
        if weight.requires_grad and not any(isinstance(h, _MaskGradient) and h.owner is self
                                            for h in hooks.values()):
            weight.register_hook(_MaskGradient(self))

    def forward(self, x):
        if torch.is_grad_enabled():
            self._ensure_gradient_hook()
        return self.module(x)

    def extra_repr(self):
        return f"fan_in={self.fan_in}, sparsity={self.sparsity:.4f}"


class SparseWeights(SparseWeightsBase):
    """Fixed fan-in wrapper of an ``nn.Linear`` (fan-in over ``in_features``)."""

    def __init__(self, module, sparsity=None, percent_on=None, fan_in=None, generator=None):
        if not isinstance(module, nn.Linear):
            raise TypeError("SparseWeights wraps an nn.Linear")
        super().__init__(module, sparsity, percent_on, fan_in, generator)


class SparseWeights2d(SparseWeightsBase):
    """Fixed fan-in wrapper of an ``nn.Conv2d`` (fan-in over
    ``C_in/groups * kH * kW`` per filter)."""

    def __init__(self, module, sparsity=None, percent_on=None, fan_in=None, generator=None):
        if not isinstance(module, nn.Conv2d):
            raise TypeError("SparseWeights2d wraps an nn.Conv2d")
        super().__init__(module, sparsity, percent_on, fan_in, generator)


def rezero_weights(m):
    """For ``model.apply(rezero_weights)`` after each optimizer step."""
    if isinstance(m, SparseWeightsBase):
        m.rezero_weights()


# ---------------------------------------------------------------------------
# Learned sparsity (seed 003)
# ---------------------------------------------------------------------------


def _logit(p):
    p = min(max(float(p), 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


class _PrunedMixin:
    """Learnable sparsity parameter ``s`` and the pruner logic of seed 003."""

    def _init_pruning(self, method, granularity, group_shape, reduction, normalization,
                      init_sparsity, temperature):
        self.method = method
        self.granularity = granularity
        self.group_shape = tuple(group_shape) if group_shape is not None else None
        self.reduction = reduction
        self.normalization = normalization
        self.temperature = float(temperature)
        if normalization == "sigmoid":
            s0 = _logit(init_sparsity)
        elif normalization == "hard_sigmoid":
            s0 = (float(init_sparsity) - 0.5) * 6.0
        else:
            s0 = float(init_sparsity)
        # The raw parameter s_j of FIG. 7 (normalised to s^phi by [0118]).
        self.sparsity = nn.Parameter(torch.tensor(s0, dtype=self.weight.dtype))

    def _prune_args(self):
        return dict(method=self.method, granularity=self.granularity,
                    group_shape=self.group_shape, reduction=self.reduction,
                    normalization=self.normalization)

    @property
    def sparsity_phi(self):
        """The normalised sparsity s^phi (a tensor, differentiable)."""
        return SF.normalize_sparsity(self.sparsity, self.normalization)

    @property
    def coefficient_count(self):
        """|w_j|, the number of coefficients (eq. 14)."""
        return self.weight.numel()

    def pruned_weight(self):
        """``(pruned weight, keep mask)``: the hard pruner output (no gradient)."""
        with torch.no_grad():
            return prune(self.weight, self.sparsity, **self._prune_args())

    def _training_weight(self):
        pruned, _ = prune_ste(self.weight, self.sparsity, temperature=self.temperature,
                              **self._prune_args())
        return pruned

    def _pruning_repr(self):
        return (f"method={self.method}, granularity={self.granularity}, "
                f"group_shape={self.group_shape}, reduction={self.reduction}, "
                f"normalization={self.normalization}")


class PrunedLinear(_PrunedMixin, nn.Linear):
    """``nn.Linear`` whose weight goes through the pruner logic of seed 003
    (FIG. 7a-7d) with a learnable sparsity parameter ``sparsity`` (s_j).

    The forward pass uses the hard-pruned weight in training and inference;
    in training the gradient reaches ``s`` through the Gaussian/Gumbel
    thresholds (straight-through, :func:`sparsenn.pruning.prune_ste`), and
    through the sparsity loss in any case (:func:`sparsity_parameters`).
    """

    def __init__(self, in_features, out_features, bias=True, method="gaussian",
                 granularity="element", group_shape=None, reduction="max",
                 normalization="sigmoid", init_sparsity=0.5, temperature=0.1):
        super().__init__(in_features, out_features, bias=bias)
        self._init_pruning(method, granularity, group_shape, reduction, normalization,
                           init_sparsity, temperature)

    def forward(self, x):
        return nn.functional.linear(x, self._training_weight(), self.bias)

    def extra_repr(self):
        return super().extra_repr() + ", " + self._pruning_repr()


class PrunedConv2d(_PrunedMixin, nn.Conv2d):
    """``nn.Conv2d`` with a learnable sparsity parameter (see :class:`PrunedLinear`)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, method="gaussian", granularity="element",
                 group_shape=None, reduction="max", normalization="sigmoid",
                 init_sparsity=0.5, temperature=0.1):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride,
                         padding=padding, dilation=dilation, groups=groups, bias=bias)
        self._init_pruning(method, granularity, group_shape, reduction, normalization,
                           init_sparsity, temperature)

    def forward(self, x):
        return self._conv_forward(x, self._training_weight(), self.bias)

    def extra_repr(self):
        return super().extra_repr() + ", " + self._pruning_repr()


def sparsity_parameters(model):
    """``(s_list, counts)`` of every pruned layer of ``model``, in module
    order: the inputs of :func:`sparsenn.losses.sparsity_loss` (eq. 13-15)."""
    s_list, counts = [], []
    for m in model.modules():
        if isinstance(m, _PrunedMixin):
            s_list.append(m.sparsity)
            counts.append(m.coefficient_count)
    return s_list, counts


# ---------------------------------------------------------------------------
# The networks of seed 000 Table 1
# ---------------------------------------------------------------------------


def _cnn_geometry(input_size, kernel_size=5):
    size = input_size
    for _ in range(2):
        size = (size - kernel_size + 1) // 2  # valid conv, then 2x2 max-pool
    if size < 1:
        raise ValueError(f"input size {input_size} is too small for two 5x5 conv + pool stages")
    return size


def seed000_sparse_cnn(input_size=28, in_channels=1, num_classes=10, cnn_out_channels=(64, 64),
                       cnn_percent_on=(0.095, 0.125), linear_units=1000,
                       linear_percent_on=0.1, linear_weight_sparsity=0.9,
                       boost_strength=1.5, boost_strength_factor=0.9, k_inference_factor=1.5,
                       duty_cycle_period=1000, local=False, generator=None):
    """The sparse CNN of seed 000 Table 1 ("sparseCNN2").

    conv 5x5 (64) -> 2x2 max-pool -> k-winners (90.5 % sparse) -> conv 5x5 (64)
    -> max-pool -> k-winners (87.5 % sparse) -> flatten -> linear (1000, fixed
    fan-in at ``linear_weight_sparsity``) -> k-winners (90 % sparse) -> linear
    (``num_classes``).

    The defaults are the project's Fashion-MNIST shape (28x28x1 input, 10
    classes, 90 % weight sparsity in the 1000-unit layer; docs/semantics.md).
    Table 1's own parameter counts are those of 32x32x1 inputs and 12 classes
    (the speech-commands network): with ``input_size=32, num_classes=12`` the
    dense network has 1,717,140 parameters, and the sparse one 757,140 non-zeros
    with ``linear_weight_sparsity=0.6`` (the rotated OCR of the table reads that
    cell as "%00.09"). Conv k-winners are global over C*H*W (nupic.torch's
    ``local=False``) unless ``local=True`` ("SuperSparseCNNLocal").
    """
    c1, c2 = cnn_out_channels
    p1, p2 = cnn_percent_on
    size = _cnn_geometry(input_size)
    kw = dict(k_inference_factor=k_inference_factor, boost_strength=boost_strength,
              boost_strength_factor=boost_strength_factor, duty_cycle_period=duty_cycle_period)
    linear1 = nn.Linear(c2 * size * size, linear_units)
    if linear_weight_sparsity > 0.0:
        linear1 = SparseWeights(linear1, sparsity=linear_weight_sparsity, generator=generator)
    return nn.Sequential(
        OrderedDict([
            ("cnn1", nn.Conv2d(in_channels, c1, 5)),
            ("cnn1_maxpool", nn.MaxPool2d(2)),
            ("cnn1_kwinner", KWinners2d(c1, p1, local=local, **kw)),
            ("cnn2", nn.Conv2d(c1, c2, 5)),
            ("cnn2_maxpool", nn.MaxPool2d(2)),
            ("cnn2_kwinner", KWinners2d(c2, p2, local=local, **kw)),
            ("flatten", nn.Flatten()),
            ("linear1", linear1),
            ("linear1_kwinners", KWinners(linear_units, linear_percent_on, **kw)),
            ("output", nn.Linear(linear_units, num_classes)),
        ]))


def dense_cnn(input_size=28, in_channels=1, num_classes=10, cnn_out_channels=(64, 64),
              linear_units=1000):
    """The dense CNN of the same shape (Table 1 "denseCNN2"), ReLU activations."""
    c1, c2 = cnn_out_channels
    size = _cnn_geometry(input_size)
    return nn.Sequential(
        OrderedDict([
            ("cnn1", nn.Conv2d(in_channels, c1, 5)),
            ("cnn1_maxpool", nn.MaxPool2d(2)),
            ("cnn1_relu", nn.ReLU()),
            ("cnn2", nn.Conv2d(c1, c2, 5)),
            ("cnn2_maxpool", nn.MaxPool2d(2)),
            ("cnn2_relu", nn.ReLU()),
            ("flatten", nn.Flatten()),
            ("linear1", nn.Linear(c2 * size * size, linear_units)),
            ("linear1_relu", nn.ReLU()),
            ("output", nn.Linear(linear_units, num_classes)),
        ]))
