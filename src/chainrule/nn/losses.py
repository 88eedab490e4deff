"""Loss functions, their registry, loss modules (from loss_layers), and L1/L2 weight penalties.

Every loss takes ``(output, target, reduction=...)`` with reduction ``"mean"``
(average over all per-example terms), ``"sum"`` or ``"none"`` (the per-example
terms). Targets are constants. Bad shapes and labels fail with one sentence
that names the bad value and what was expected.

Example:
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.Linear(3, 2, seed=0)
    >>> x, y = cr.ones(4, 3), [0, 1, 1, 0]
    >>> loss = nn.functional.cross_entropy(model(x), y) + nn.l2_penalty(model, 1e-3)
    >>> loss.shape
    ()

Each entry of ``LOSSES`` carries a :class:`LossSpec` as its ``spec``
attribute: which targets the loss takes, the output layout and activation
that turn its model's outputs into predictions, the decision threshold, the
default metrics and whether command-line training and the scikit-learn
estimators can use it. ``fit``, ``evaluate``, ``chainrule train`` and the
estimators read these facts, so adding a loss is one :func:`register_loss`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..autodiff import functions as _ops
from ..autodiff.tensor import OpsMixin
from .._core import Registry, check, check_choice
from ._util import array_of
from .activations import log_softmax, softplus
from .losses_ext import cross_entropy_options, nll_loss
from .module import Module

__all__ = [
    "LOSSES", "LossSpec", "register_loss", "loss_spec", "default_loss", "REDUCTIONS", "REGULARIZERS", "mse_loss",
    "binary_cross_entropy", "nll_loss",
    "binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss", "multiclass_hinge_loss",
    "exponential_loss", "l1_penalty", "l2_penalty",
]

LOSSES = Registry("loss")
REDUCTIONS = Registry("reduction")
REDUCTIONS.update({"mean": lambda v: v.mean(), "sum": lambda v: v.sum(), "none": lambda v: v})
REGULARIZERS = Registry("regularizer")

#: What a loss's targets may be: class indices, one-hot (or soft) rows, {0, 1}, {-1, +1}, real numbers.
TARGET_KINDS = ("indices", "one_hot", "binary", "signs", "real")
#: How its model's outputs are laid out: one per class, one score, or one per target column.
OUTPUT_LAYOUTS = ("classes", "binary", "targets")


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """The facts about a loss that training, evaluation, the CLI and the estimators need.

    Attributes:
        targets: the target kinds it takes, from :data:`TARGET_KINDS`.
        task: "classification" or "regression".
        outputs: the output layout, from :data:`OUTPUT_LAYOUTS`.
        activation: the ``nn.ACTIVATIONS`` name turning outputs into probabilities, or None (scores only).
        threshold: the score separating the two classes of a single output (0 for logits and margins).
        metrics: ``metrics.METRICS`` names reported by default.
        trainable: whether ``chainrule train`` and the scikit-learn estimators can train with it
            (they build plain MLPs with linear outputs and encode classes as indices 0..k-1).
        default: this is the loss those use for its task when none is named.
        replayable: its arithmetic on the target goes through chainrule ops (no NumPy value computed
            from the target), so a recorded step replays it correctly on new targets;
            ``fit(compile="auto")`` compiles only with such a loss.

    Example:
        >>> LOSSES["bce_with_logits"].spec.threshold, LOSSES["cross_entropy"].spec.activation
        (0.0, 'softmax')
    """

    targets: tuple = ("real",)
    task: str = "regression"
    outputs: str = "targets"
    activation: str | None = None
    threshold: float = 0.5
    metrics: tuple = ("mse", "mae", "r2")
    trainable: bool = False
    default: bool = False
    replayable: bool = True

    def __post_init__(self):
        for kind in self.targets:
            check_choice("targets", kind, TARGET_KINDS)
        check_choice("task", self.task, ("classification", "regression"))
        check_choice("outputs", self.outputs, OUTPUT_LAYOUTS)

    def takes(self, kind):
        """True if the loss takes targets of ``kind`` (one of :data:`TARGET_KINDS`)."""
        return kind in self.targets


#: The facts assumed for a callable loss that is not registered: real targets, scores cut at 0.5.
UNREGISTERED = LossSpec()

_CLASSIFY = dict(task="classification", metrics=("accuracy",))


def register_loss(name, spec):
    """Decorator: add ``fn`` to ``LOSSES`` under ``name`` with its :class:`LossSpec` as ``fn.spec``.

    Example:
        >>> @register_loss("quartic", LossSpec())
        ... def quartic(output, target, reduction="mean"):
        ...     return REDUCTIONS[reduction]((output - target) ** 4)
        >>> loss_spec("quartic").metrics
        ('mse', 'mae', 'r2')
        >>> del LOSSES["quartic"]
    """
    if not isinstance(spec, LossSpec):
        raise TypeError(f"spec must be a LossSpec, got {spec!r}")

    def add(fn):
        fn.spec = spec
        return LOSSES.register(fn, name=name)

    return add


def loss_spec(loss):
    """The :class:`LossSpec` of a ``LOSSES`` name or loss callable (:data:`UNREGISTERED` for other callables).

    Example:
        >>> loss_spec("hinge").targets
        ('signs',)
    """
    if isinstance(loss, str):
        return LOSSES[loss].spec
    return getattr(getattr(loss, "fn", loss), "spec", UNREGISTERED)


def default_loss(task):
    """The name of the registered loss marked ``default`` for ``task``.

    Example:
        >>> default_loss("classification"), default_loss("regression")
        ('cross_entropy', 'mse')
    """
    for name, fn in LOSSES.items():
        spec = loss_spec(fn)
        if spec.default and spec.task == task:
            return name
    raise ValueError(f"no default loss is registered for task {task!r}")


# ------------------------------------------------------------- checks
def _target(name, output, target):
    """``target`` as a constant of the output's float dtype, with the output's shape."""
    out = array_of(output)
    t = array_of(target)
    if t.shape != out.shape:
        raise ValueError(f"{name}: target has shape {t.shape} but the output has shape {out.shape}; they must match")
    if isinstance(target, OpsMixin):
        return target
    return t.astype(out.dtype, copy=False) if out.dtype.kind == "f" else t


def _check_values(name, t, allowed, expected, what="target value"):
    bad = t[~allowed(t)]
    if bad.size:
        raise ValueError(f"{name}: {what} {bad.flat[0].item()!r} is not allowed; expected {expected}")


def _pm1(name, output, target):
    t = _target(name, output, target)
    _check_values(name, array_of(t), lambda v: (v == 1) | (v == -1), "labels -1 or +1")
    return t


def _class_labels(name, scores, labels):
    s, y = array_of(scores), np.asarray(array_of(labels))
    if s.ndim != 2:
        raise ValueError(f"{name}: scores must have shape (n, classes), got {s.shape}")
    if y.shape != s.shape[:1] or y.dtype.kind not in "iu":
        raise ValueError(f"{name}: labels must be integers of shape {s.shape[:1]}, got {y.dtype} of shape {y.shape}")
    _check_values(name, y, lambda v: (v >= 0) & (v < s.shape[1]), f"class indices 0..{s.shape[1] - 1}",
                  "label")
    return y


def _reduce(per_example, reduction):
    return REDUCTIONS[reduction](per_example)


# ------------------------------------------------------------- losses
@register_loss("mse", LossSpec(trainable=True, default=True))
def mse_loss(output, target, reduction="mean", half=False):
    """Squared error (t - o)^2 per entry; ``half=True`` gives the slides' E = 1/2 sum (t - o)^2.

    Args:
        output, target: same shape.
        reduction: "mean" (MSE), "sum" or "none".
        half: multiply by 1/2, so that dE/do = o - t (use with reduction="sum").

    Example:
        >>> mse_loss(np.array([0.75, 0.77]), np.array([0.01, 0.99]), reduction="sum", half=True).item()
        0.298
    """
    d = output - _target("mse_loss", output, target)
    per = d * d
    return _reduce(per * 0.5 if half else per, reduction)


@register_loss("bce", LossSpec(("binary",), outputs="binary", activation="identity", **_CLASSIFY))  # outputs are p
def binary_cross_entropy(probs, target, reduction="mean", eps=1e-7):
    """Binary cross-entropy -(t log p + (1 - t) log(1 - p)) on probabilities p.

    p is clamped to [eps, 1 - eps] first so log never sees 0: each term is at
    most -log(eps) (about 16.1), and the gradient is zero where p was clamped.
    Prefer :func:`binary_cross_entropy_with_logits`, which needs no clamp.

    Args:
        probs: predicted probabilities, any shape.
        target: same shape, values in [0, 1].
    """
    t = _target("binary_cross_entropy", probs, target)
    _check_values("binary_cross_entropy", array_of(t), lambda v: (v >= 0) & (v <= 1), "values in [0, 1]")
    p = _ops.clip(probs, eps, 1.0 - eps)
    # log(1-p) (1-t) as log(1-p) - log(1-p) t: the target enters ops only, never NumPy arithmetic,
    # so a compiled step replays it on new targets (exact for 0/1 targets).
    q = _ops.log(1 - p)
    return _reduce(-(_ops.log(p) * t + (q - q * t)), reduction)


@register_loss("bce_with_logits", LossSpec(("binary",), outputs="binary", activation="sigmoid", threshold=0.0, trainable=True, **_CLASSIFY))
def binary_cross_entropy_with_logits(logits, target, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits z: softplus(z) - t z, stable for any |z|.

    Equals ``binary_cross_entropy(sigmoid(z), t)`` without forming sigmoid;
    the gradient is sigmoid(z) - t. ``pos_weight`` (broadcast against the last axis, as in
    PyTorch) weighs the positive term: (1 - t) z + (1 + (pos_weight - 1) t) softplus(-z).
    """
    t = _target("binary_cross_entropy_with_logits", logits, target)
    _check_values("binary_cross_entropy_with_logits", array_of(t), lambda v: (v >= 0) & (v <= 1), "values in [0, 1]")
    if pos_weight is None:
        return _reduce(softplus(logits) - logits * t, reduction)
    pw = np.asarray(array_of(pos_weight), dtype=array_of(logits).dtype)
    sp = softplus(-logits)  # (the target only inside ops, as in binary_cross_entropy)
    return _reduce((logits - logits * t) + (sp + (sp * t) * (pw - 1)), reduction)


@register_loss("cross_entropy", LossSpec(("indices", "one_hot"), outputs="classes", activation="softmax", trainable=True, default=True,
                        **_CLASSIFY))
def cross_entropy(logits, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    """Softmax cross-entropy of logits (n, classes) against integer labels (n,) or soft targets (n, classes).

    Soft targets may also have PyTorch's N-d layout (n, classes, d1, ...): the
    softmax runs over axis 1 and the mean over every other entry.

    Integer labels use the fused engine op (gradient softmax - one_hot);
    float targets (one-hot or any distribution per row) use log_softmax.
    Both are stable for logits of magnitude 1e4. N-d logits (N, C, d1, ...) take their classes
    on axis 1 as in PyTorch, and ``weight`` (per class), ``ignore_index`` and
    ``label_smoothing`` follow PyTorch (see :func:`~chainrule.nn.losses_ext.cross_entropy_options`).

    Example:
        >>> import chainrule as cr
        >>> round(cross_entropy(cr.zeros(2, 4), [0, 3]).item(), 6) == round(float(np.log(4)), 6)
        True
    """
    t = np.asarray(array_of(target))
    shape = array_of(logits).shape
    if len(shape) > 1 and shape[1] == 1 or shape == (1,):
        raise ValueError(f"cross_entropy: logits of shape {shape} have 1 class, whose softmax is 1 for any logit, so "
                         "the loss is 0 and its gradient too; give the model one output per class, or use "
                         "binary_cross_entropy_with_logits on one output for two classes")
    plain = weight is None and not label_smoothing and len(shape) == 2
    if t.dtype.kind in "iu":
        if plain and ignore_index < 0:
            # The hot path: the fused op rejects negative labels itself, so a label equal to a
            # negative ignore_index costs nothing until it occurs.
            try:
                return _ops.softmax_cross_entropy(logits, t, reduction)
            except ValueError:
                if not (t == ignore_index).any():
                    raise
        elif plain and not (t == ignore_index).any():
            return _ops.softmax_cross_entropy(logits, t, reduction)
        return cross_entropy_options(logits, t, reduction, weight, ignore_index, label_smoothing)
    if t.dtype.kind != "f":
        raise ValueError(f"cross_entropy: target must be integer labels or float probabilities, got dtype {t.dtype}")
    if not plain:
        return cross_entropy_options(logits, t.astype(array_of(logits).dtype, copy=False), reduction, weight,
                                     ignore_index, label_smoothing)
    t = _target("cross_entropy", logits, target)
    # The class axis is 1 for (n, classes, d1, ...) logits, as in PyTorch; 0 for one unbatched row.
    axis = 1 if len(array_of(logits).shape) > 1 else 0
    return _reduce(-(log_softmax(logits, axis=axis) * t).sum(axis=axis), reduction)


# nll takes log-probabilities (a log_softmax output) and class indices: scores only, no probability head.
register_loss("nll", LossSpec(("indices",), outputs="classes", replayable=False, **_CLASSIFY))(nll_loss)


@register_loss("hinge", LossSpec(("signs",), outputs="binary", threshold=0.0, **_CLASSIFY))
def hinge_loss(scores, target, reduction="mean", margin=1.0):
    """Binary hinge loss max(0, margin - y f(x)) for labels y in {-1, +1}."""
    y = _pm1("hinge_loss", scores, target)
    return _reduce(_ops.relu(margin - scores * y), reduction)


@register_loss("multiclass_hinge", LossSpec(("indices",), outputs="classes", trainable=True, replayable=False,
                                            **_CLASSIFY))
def multiclass_hinge_loss(scores, labels, reduction="mean", margin=1.0):
    """Multi-class SVM loss (Weston & Watkins; cs231n): sum over j != y of max(0, s_j - s_y + margin).

    Args:
        scores: (n, classes).
        labels: integer class indices (n,).
        reduction: over the n per-example sums.
    """
    y = _class_labels("multiclass_hinge_loss", scores, labels)
    rows = np.arange(y.shape[0])
    correct = scores[rows, y].reshape(-1, 1)
    others = np.ones(array_of(scores).shape, dtype=array_of(scores).dtype)
    others[rows, y] = 0  # the j == y term is always exactly `margin`: leave it out
    return _reduce((_ops.relu(scores - correct + margin) * others).sum(axis=1), reduction)


@register_loss("exponential", LossSpec(("signs",), outputs="binary", threshold=0.0, **_CLASSIFY))
def exponential_loss(scores, target, reduction="mean", max_exponent=80.0):
    """Exponential loss exp(-y f(x)) for labels y in {-1, +1} (the loss AdaBoost minimises).

    The exponent is clipped at ``max_exponent`` (e^80 is about 5.5e34, which
    float32 still holds with room for sums), so a badly wrong score saturates
    instead of overflowing to inf; beyond the clip the gradient is zero.
    """
    y = _pm1("exponential_loss", scores, target)
    return _reduce(_ops.exp(_ops.clip(-(scores * y), None, max_exponent)), reduction)


# ------------------------------------------------------------- penalties
def _penalised(source, include_bias):
    if isinstance(source, Module):
        return [p for n, p in source.named_parameters() if include_bias or n.rsplit(".", 1)[-1] != "bias"]
    return list(source)


def _penalty(term, source, strength, include_bias):
    check("strength", strength, ">=0")
    terms = [term(p).sum() for p in _penalised(source, include_bias)]
    if not terms:
        raise ValueError("no parameters to penalise (is the module empty, or are all of them biases?)")
    return functools.reduce(lambda a, b: a + b, terms) * strength


@REGULARIZERS.register(name="l1")
def l1_penalty(source, strength=1.0, include_bias=False):
    """``strength * sum |w|`` over a module's weights (parameters named "bias" excluded by default).

    Args:
        source: a Module, or an iterable of Parameters (all of them are used).
        strength: lambda >= 0.
        include_bias: also penalise biases.
    """
    return _penalty(_ops.abs, source, strength, include_bias)


@REGULARIZERS.register(name="l2")
def l2_penalty(source, strength=1.0, include_bias=False):
    """strength * sum w^2 over a module's weights (biases excluded by default); gradient 2 strength w."""
    return _penalty(lambda p: p * p, source, strength, include_bias)


# The loss modules live in loss_layers; they are part of this module's interface.
from .loss_layers import (  # noqa: E402  (they import this module's registries)
    Loss, MSELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, MultiClassHingeLoss, ExponentialLoss,
)

__all__ += ["Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "MultiClassHingeLoss",
            "ExponentialLoss"]
