"""Everything ``fit`` does once before the loop: resolve names, check arguments, prepare arrays.

Data are cast to the model's dtype here, once, and made contiguous, so the
loop never converts anything; every bad argument fails here with one
sentence naming the value and what was expected.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .._core import first_non_whole
from ..autodiff.engine import no_grad
from ..autodiff.tensor import Tensor, get_default_dtype
from ..data import Dataset
from ..metrics import METRICS, to_labels
from ..nn import LOSSES, REGULARIZERS, Flatten, evaluating
from ..nn._util import first_layer
from ..nn.losses import UNREGISTERED, loss_spec
from ..optim import OPTIMIZERS, Optimizer

__all__ = ["resolve_loss", "resolve_optimizer", "resolve_metrics", "resolve_penalty", "penalty_terms",
           "model_dtype", "as_pair", "prepare_inputs", "prepare_targets", "Targets",
           "output_threshold", "spec_of", "PerStep"]


def resolve_loss(loss):
    """``(function, name)`` from a ``nn.LOSSES`` name or a callable ``loss(output, target) -> scalar Tensor``."""
    if isinstance(loss, str):
        return LOSSES[loss], loss
    if callable(loss):
        name = getattr(loss, "name", None) or LOSSES.name_of(loss) or getattr(loss, "__name__", "loss")
        return loss, name
    raise TypeError(f"loss must be a name from nn.LOSSES ({', '.join(sorted(LOSSES))}) or a callable, got {loss!r}")


def resolve_optimizer(optimizer, model):
    """An optimiser over ``model``'s parameters from an object, a name, ``(name, lr)`` or ``{"name": ..., **options}``."""
    if isinstance(optimizer, Optimizer):
        # Stops at the first shared parameter, usually the model's first (no full traversal).
        updated = {id(p) for p in optimizer.params}
        if not any(id(p) in updated for p in model.parameters()):
            raise ValueError("the optimizer does not update any parameter of this model; build it on model.parameters()")
        return optimizer
    if isinstance(optimizer, str):
        name, options = optimizer, {}
    elif isinstance(optimizer, tuple) and len(optimizer) == 2 and isinstance(optimizer[0], str):
        name, options = optimizer[0], {"lr": optimizer[1]}
    elif isinstance(optimizer, dict) and isinstance(optimizer.get("name"), str):
        name, options = optimizer["name"], {k: v for k, v in optimizer.items() if k != "name"}
    else:
        raise TypeError("optimizer must be an optim.Optimizer, a name, a (name, lr) pair or a dict with a 'name', "
                        f"got {optimizer!r}")
    try:
        return OPTIMIZERS[name](model.parameters(), **options)
    except TypeError as exc:
        raise ValueError(f"optimizer {name!r} could not be built from {options!r} ({exc})") from None


def resolve_metrics(metrics):
    """``[(name, MetricSpec)]`` from None, a name or a list of names."""
    if metrics is None:
        return []
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    return [(name, METRICS[name]) for name in names]


def penalty_terms(regularization):
    """``[(name, fn, strength)]`` of a ``regularization`` as ``fit`` takes it (strength None for a callable).

    Example:
        >>> [(name, strength) for name, _, strength in penalty_terms({"l2": 1e-4})]
        [('l2', 0.0001)]
    """
    if regularization is None:
        return []
    if callable(regularization):
        return [(getattr(regularization, "__name__", "penalty"), regularization, None)]
    if isinstance(regularization, tuple) and len(regularization) == 2:
        regularization = {regularization[0]: regularization[1]}
    if not isinstance(regularization, dict) or not regularization:
        raise TypeError("regularization must be a dict like {'l2': 1e-4}, a (name, strength) pair or a callable "
                        f"model -> penalty, got {regularization!r}")
    return [(name, REGULARIZERS[name], strength) for name, strength in regularization.items()]


def resolve_penalty(regularization):
    """A function ``model -> penalty Tensor`` from None, ``{"l2": 1e-4, ...}``, ``("l2", 1e-4)`` or a callable."""
    if callable(regularization):
        return regularization
    terms = penalty_terms(regularization)
    if not terms:
        return None

    def penalty(model):
        total = None
        for _, fn, strength in terms:
            part = fn(model, strength)
            total = part if total is None else total + part
        return total

    return penalty


def model_dtype(model):
    """The dtype of the model's first floating parameter (the default dtype if it has none)."""
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return np.dtype(get_default_dtype())


def as_pair(data, name):
    """``(X, y)`` arrays from an ``(X, y)`` pair or a ``data.Dataset``."""
    if isinstance(data, Dataset):
        return data.X, data.y
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return data
    raise TypeError(f"{name} must be an (X, y) pair or a chainrule.data.Dataset, got {type(data).__name__}")


def _width(layer, name):
    """``layer.<name>`` as an int, or None (no layer, or a layer that takes something else)."""
    n = getattr(layer, name, None)
    return int(n) if isinstance(n, numbers.Integral) else None


def prepare_inputs(model, X, name="X"):
    """X as a C-contiguous array of the model's dtype, checked for shape, values and feature count."""
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"{name} must have shape (n, features) with n >= 1, got shape {X.shape}")
    # A Flatten first reshapes the inputs: only the probe forward can tell what it takes.
    first = first_layer(model, stop=Flatten)
    # Token indices for a model that starts with an embedding stay integers; everything else becomes the model's floats.
    indices = X.dtype.kind in "iu" and hasattr(first, "num_embeddings")
    given = X
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: reported below, by row
        X = np.ascontiguousarray(X, dtype=np.int64 if indices else model_dtype(model))
    # The sum is finite when every entry is, and costs no temporary the size of X (in X's own dtype: half
    # the time of a float64 sum); the exact search runs only when it is not, which huge finite values
    # can also cause.
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(X, axis=None)
    if not np.isfinite(total):
        bad = np.flatnonzero(~np.isfinite(X).reshape(len(X), -1).all(axis=1))
        if bad.size:  # (huge finite float64 values can overflow the sum alone)
            row = int(bad[0])
            if np.isfinite(given[row]).all():
                raise ValueError(f"{name} row {row} holds values beyond the {X.dtype} range of the model (largest "
                                 f"{np.finfo(X.dtype).max:.6e}); rescale the data or use a float64 model")
            raise ValueError(f"{name} contains nan or inf (first in row {row}); clean or impute the data first")
    expected = _width(first, "in_features")
    if expected is not None and X.ndim == 2 and X.shape[1] != expected:
        raise ValueError(f"{name} has {X.shape[1]} features per row but the model expects {expected}")
    return X


def _probe(model, X):
    """The model's output Tensor on two rows (eval mode: no dropout draws), so shape problems surface now."""
    with evaluating(model), no_grad():
        try:
            return model(X[:2])
        except ValueError as exc:
            channels = _width(first_layer(model), "in_channels")
            hint = ""
            if channels is not None and X.ndim == 4 and X.shape[-1] == channels != X.shape[1]:
                hint = (f"; images go channels first, (n, {channels}, height, width), and these look channels "
                        "last: pass X.transpose(0, 3, 1, 2)")
            raise ValueError(f"the model cannot take inputs of shape {X.shape[1:]} per row ({exc}){hint}") from None


class Targets:
    """Prepared targets: ``values`` for the loss, ``labels`` for classification metrics (or None).

    ``loss`` is the loss function to train with: the given one, or for per-step class
    indices :class:`PerStep` around it.
    """

    def __init__(self, values, labels, loss=None):
        self.values, self.labels, self.loss = values, labels, loss


class PerStep:
    """A loss on sequence outputs (n, time, classes) with class indices (n, time): every step is one row.

    The loss sees (n * time, classes) logits and (n * time,) indices, so classes are
    on the last axis, where a per-step head puts them (the losses themselves follow
    PyTorch and read N-d logits' classes from axis 1). Its mean is over all steps.

    Example:
        >>> import chainrule as cr
        >>> from chainrule.nn import LOSSES
        >>> loss = PerStep(LOSSES["cross_entropy"])
        >>> round(float(loss(cr.zeros(2, 3, 4), np.zeros((2, 3), int)).data), 6) == round(float(np.log(4)), 6)
        True
    """

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, out, target):
        return self.fn(out.reshape(-1, out.shape[-1]), target.reshape(-1))

    def __eq__(self, other):  # equal wrappers share compiled steps
        return isinstance(other, PerStep) and other.fn is self.fn

    def __hash__(self):
        return hash((PerStep, id(self.fn)))


def spec_of(loss_name):
    """The ``nn.LossSpec`` of a resolved loss name (the unregistered defaults for custom callables)."""
    return loss_spec(LOSSES[loss_name]) if loss_name in LOSSES else UNREGISTERED


def output_threshold(loss_name):
    """Score threshold that separates the two classes of a single-output model trained with ``loss_name``."""
    return spec_of(loss_name).threshold


def _index_targets(y, width, name):
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1:
        raise ValueError(f"{name} must hold one class index per row, got shape {y.shape}")
    low, high = (np.minimum.reduce(y), np.maximum.reduce(y)) if y.size else (0, 0)  # one pass each, no wrappers
    if low < 0 or high >= width:
        bad = int(high if high >= width else low)
        raise ValueError(f"{name} holds class label {bad}, but the model has {width} outputs (labels 0..{width - 1})")
    return y.astype(np.int64, copy=False)


def _check_layout(spec, loss_name, out, one_column, name):
    """Refuse a loss whose output layout the model's outputs cannot have: a loss over classes on one output
    per row (its softmax is 1 whatever the input: the loss would never change, and training would learn
    nothing), or a one-score loss on several outputs against one label column."""
    classes = out.shape[-1] if out.ndim >= 2 else 1
    if spec.outputs == "classes" and classes == 1:
        raise ValueError(f"loss {loss_name!r} needs one model output per class, but the model has 1 output per row "
                         "(a softmax over one class is 1 for every input, so the loss would never change); give "
                         "the last layer one output per class, or use 'bce_with_logits' with one output for two classes")
    if spec.outputs == "binary" and classes > 1 and one_column and out.ndim == 2:
        raise ValueError(f"loss {loss_name!r} scores two classes with one output per row, but the model has {classes} "
                         f"outputs and {name} one column; give the model one output, or use 'cross_entropy' with one "
                         "output per class (several 0/1 columns in y, one per output, are a multi-label task)")


def _warn_one_class(values, width, name):
    """Warn when class labels for several outputs hold a single class: the model can only learn that one."""
    if values.ndim == 1 and values.dtype.kind in "iu" and width > 1 and len(values) > 1:
        low = np.minimum.reduce(values)
        if low == np.maximum.reduce(values):
            warnings.warn(f"{name} holds one class only (label {int(low)}) of the model's {width}: the model can "
                          "only learn to predict it; check that the labels were read and split right",
                          RuntimeWarning, stacklevel=5)  # (the caller of fit)


def _whole_labels(y, loss_name, width, name):
    """Float class labels that are whole numbers, as int64; anything else raises naming the first other value."""
    flat = y.reshape(-1)
    row = first_non_whole(flat)
    if row is not None:
        raise ValueError(f"{name} holds {float(flat[row])!r} in row {row}, which is not a class label: loss {loss_name!r} "
                         f"over {width} outputs takes class labels 0..{width - 1}, or {width} columns of class "
                         "probabilities per row")
    return y.astype(np.int64)


def _check_distributions(values, loss_name, name):
    """Rows of class probabilities (one-hot or soft labels) must be >= 0 and sum to 1: anything else
    (two label columns, multi-hot rows, scores) would train on a wrong loss without an error."""
    sums = np.add.reduce(values, axis=1)
    bad = (np.abs(sums - 1) > 1e-3) | (np.minimum.reduce(values, axis=1) < 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"{name} row {row} is {values[row].tolist()!r}, not class probabilities: loss {loss_name!r} "
                         f"takes {values.shape[1]} columns per row only as a distribution over the classes (>= 0, "
                         "summing to 1, e.g. one-hot), else one class label per row")


def prepare_targets(model, loss_fn, loss_name, X, y, name="y", training=False):
    """Targets shaped and typed for the loss (checked once on two rows), plus metric labels.

    ``training``: warn when the labels hold a single class (a test set may; a training set should not).
    """
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but {name} has {len(y)}; they must match")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers (encode class names as integers first), got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name} contains nan or inf; clean the targets first")
    probe = _probe(model, X)
    out = probe.data
    width = out.shape[1] if out.ndim == 2 else 1
    one_column = y.ndim == 1 or y.shape[1] == 1
    spec = spec_of(loss_name)
    _check_layout(spec, loss_name, out, one_column, name)
    if y.dtype.kind == "f" and one_column and width > 1 and spec.takes("indices"):
        y = _whole_labels(y, loss_name, width, name)  # 0.0, 1.0, ... as read from a text file
    if (y.dtype.kind in "biu" and out.ndim >= 3 and y.shape[1:] == out.shape[1:-1] and out.shape[-1] > 1
            and spec.takes("indices")):
        # Sequence outputs (n, time, classes) with one class index per step (a callable loss gets them as given).
        loss_fn = loss_fn if isinstance(loss_fn, PerStep) else PerStep(loss_fn)
        values = _index_targets(y.reshape(-1), out.shape[-1], name).reshape(y.shape)
    elif y.dtype.kind in "biu" and one_column and (width > 1 or spec.takes("indices")):
        # Integer labels against several outputs are class indices, whatever the loss is called.
        values = _index_targets(y, width, name)
    else:
        values = y[:, None] if (y.ndim == 1 and out.ndim == 2 and width == 1) else y
        values = np.ascontiguousarray(values, dtype=out.dtype)
        if spec.outputs == "classes" and values.ndim == 2 and values.shape[1] == width:
            _check_distributions(values, loss_name, name)
    if training:
        _warn_one_class(values, width, name)
    try:
        with no_grad():
            value = loss_fn(probe, values[:2])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"loss {loss_name!r} cannot compare the model's outputs of shape {out.shape[1:]} "
                         f"with {name} of shape {values.shape[1:]} per row ({exc})") from None
    if loss_name is not None and not (isinstance(value, Tensor) and value.shape == ()):
        raise TypeError(f"loss {loss_name!r} must return a scalar Tensor, got {type(value).__name__} "
                        f"of shape {getattr(value, 'shape', None)}")
    return Targets(values, _labels(values, loss_name, out.shape[-1] if out.ndim > 2 else width, out.ndim), loss_fn)


def _labels(values, loss_name, width, out_ndim=2):
    """Class labels for metrics: indices as they are, one-hot rows by arg-max, 0/1 or -1/+1 scores by sign.

    Sequence targets get one label per step, shaped (n, time).
    """
    if values.dtype.kind in "iu" and out_ndim > 2:
        return values
    if values.ndim > 2:
        steps = _labels(values.reshape(-1, values.shape[-1]), loss_name, width)
        return None if steps is None else steps.reshape(values.shape[:-1])
    if values.dtype.kind in "iu":
        return values
    if values.ndim == 2 and values.shape[1] > 1:
        return np.argmax(values, axis=1)
    if width != 1:
        return None
    kinds = set(np.unique(values).tolist())
    if not (kinds <= {0.0, 1.0} or kinds <= {-1.0, 1.0}):  # continuous or counted targets: no classes to score
        return None
    return to_labels(values, output_threshold(loss_name))
