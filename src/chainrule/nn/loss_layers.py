"""The loss modules: :class:`Loss` by registry name and one class per loss (``CrossEntropyLoss``, ...).

The functions, their registry and the penalties live in :mod:`chainrule.nn.losses`,
which also exports these classes.

Example:
    >>> import chainrule as cr
    >>> MSELoss(reduction="sum")(cr.zeros(3), cr.ones(3)).item()
    3.0
"""

from __future__ import annotations

from ._util import check_options
from .losses import LOSSES, REDUCTIONS
from .module import Module

# ------------------------------------------------------------- modules
class Loss(Module):
    """A loss function as a callable object: ``Loss("mse", reduction="sum")(output, target)``.

    Example:
        >>> import chainrule as cr
        >>> Loss("mse")(cr.zeros(2), cr.ones(2)).item()
        1.0
    """

    function = None

    def __init__(self, name=None, reduction="mean", **options):
        super().__init__()
        self.name = name or type(self).function
        self.fn = LOSSES[self.name]
        check_options("loss", self.name, self.fn, options, skip=3)
        REDUCTIONS[reduction]  # fail now, not at the first call
        self.reduction, self.options = reduction, options

    def forward(self, output, target):
        return self.fn(output, target, reduction=self.reduction, **self.options)

    def extra_repr(self):
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"reduction={self.reduction!r}{opts}"


class _NamedLoss(Loss):
    """A :class:`Loss` whose function is fixed by the subclass: ``MSELoss(reduction="sum")``."""

    def __init__(self, reduction="mean", **options):
        super().__init__(None, reduction, **options)


class MSELoss(_NamedLoss):
    """Loss module for ``mse``: squared error (t - o)^2 per entry."""

    function = "mse"


class BCELoss(_NamedLoss):
    """Loss module for ``bce``: binary cross-entropy on probabilities."""

    function = "bce"


class BCEWithLogitsLoss(_NamedLoss):
    """Loss module for ``bce_with_logits``: binary cross-entropy on logits, stable for any logit."""

    function = "bce_with_logits"


class CrossEntropyLoss(_NamedLoss):
    """Loss module for ``cross_entropy``: softmax cross-entropy of logits against labels or soft targets."""

    function = "cross_entropy"


class HingeLoss(_NamedLoss):
    """Loss module for ``hinge``: binary hinge loss max(0, margin - y f(x)) for labels -1/+1."""

    function = "hinge"


class MultiClassHingeLoss(_NamedLoss):
    """Loss module for ``multiclass_hinge``: multiclass hinge (SVM) loss against class indices."""

    function = "multiclass_hinge"


class ExponentialLoss(_NamedLoss):
    """Loss module for ``exponential``: exponential loss exp(-y f(x)) for labels -1/+1."""

    function = "exponential"


__all__ = ["Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HingeLoss", "MultiClassHingeLoss", "ExponentialLoss"]
