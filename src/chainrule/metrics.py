"""Metrics on NumPy arrays: accuracy, precision/recall/F1 per class, confusion matrix, MSE/MAE/R^2.

Every metric has the signature ``fn(y_true, y_pred, **options)`` and works on
plain arrays, so it can score any model's output. Classification metrics
accept labels or raw scores for ``y_pred``:

* integer arrays are labels;
* a float array with one column (or 1-D) holds one score per row: label 1
  where the score is above ``threshold`` (0.5 for probabilities; pass 0 for
  logits);
* a float array with k > 1 columns holds class scores: the label is the arg-max.

``y_true`` may be integer labels, 0/1 floats or one-hot rows.

Sequence outputs (n, time, k), as a recurrent net with a per-step head gives,
count every time step as one sample: they are flattened to (n * time, k)
rows, with ``y_true`` of shape (n, time) (one label per step) or
(n, time, k); see :func:`steps_as_rows`. So accuracy is the fraction of
correct steps, and the regression metrics run over all elements (R^2 per
output column k over all n * time steps, then averaged).

``METRICS`` maps each name to a :class:`MetricSpec` saying what kind of
input the metric wants and which direction is better, so the fit loop can
convert model outputs to labels once per evaluation and early stopping can
pick its mode from the name.

Example:
    >>> import numpy as np
    >>> y = np.array([0, 1, 2, 2])
    >>> scores = np.array([[.9, .1, 0], [.2, .7, .1], [.1, .2, .7], [.5, .4, .1]])
    >>> accuracy(y, scores)
    0.75
    >>> confusion_matrix(y, scores).tolist()
    [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._core import Registry, first_non_whole

__all__ = [
    "METRICS", "MetricSpec", "get_metric", "to_labels", "accuracy", "precision", "recall", "f1",
    "confusion_matrix", "mse", "mae", "rmse", "r2", "steps_as_rows",
]


class MetricSpec(NamedTuple):
    """A registry entry: the function, its input kind and which direction is better.

    ``kind`` is ``"labels"`` (classification: outputs become labels first) or
    ``"values"`` (regression: outputs are compared as numbers).
    ``per_class`` marks metrics that return an array rather than one number.
    """

    fn: Callable
    kind: str
    higher_is_better: bool
    per_class: bool = False


#: Metric name -> MetricSpec.
METRICS = Registry("metric")


def get_metric(name) -> MetricSpec:
    """The :class:`MetricSpec` registered as ``name`` (ValueError listing valid names otherwise).

    Example:
        >>> get_metric("r2").higher_is_better
        True
    """
    if not isinstance(name, str):
        raise TypeError(f"a metric is named by a string, got {name!r}")
    return METRICS[name]


def _as_array(a, what):
    a = _array(a)
    if a.ndim == 0 or a.ndim > 2:
        raise ValueError(f"{what} must be 1-D or 2-D with one row per sample, got shape {a.shape}")
    return a


def _array(a):
    return np.asarray(a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else a)


def steps_as_rows(y_true, y_pred):
    """Sequence arrays as rows: (n, time, k) -> (n * time, k), targets (n, time) -> (n * time,).

    Arrays of at most two dimensions are returned unchanged. When either has
    more, the other must have the same shape or that shape without its last
    axis (one label per step); anything else is refused, naming both shapes.

    Example:
        >>> t, p = steps_as_rows(np.zeros((2, 3), int), np.zeros((2, 3, 4)))
        >>> t.shape, p.shape
        ((6,), (6, 4))
    """
    t, p = _array(y_true), _array(y_pred)
    if max(t.ndim, p.ndim) <= 2:
        return t, p
    if t.shape == p.shape:
        return t.reshape(-1, t.shape[-1]), p.reshape(-1, p.shape[-1])
    if p.ndim >= 3 and t.shape == p.shape[:-1]:
        return t.reshape(-1), p.reshape(-1, p.shape[-1])
    if t.ndim >= 3 and p.shape == t.shape[:-1]:
        return t.reshape(-1, t.shape[-1]), p.reshape(-1)
    longer = p.shape if p.ndim >= t.ndim else t.shape
    raise ValueError(f"y_true of shape {t.shape} does not fit y_pred of shape {p.shape}: sequence arrays "
                     f"(n, time, k) need a partner of shape {longer} or {longer[:-1]}")


def to_labels(y, threshold=0.5):
    """Class labels (int64, shape (n,)) from labels, one-hot rows, class scores or 0/1 scores.

    Args:
        y: array of shape (n,) or (n, k); see the module docstring for the rules.
        threshold: cut-off for single-score rows (0.5 for probabilities, 0 for logits).

    Example:
        >>> to_labels(np.array([[0.2], [0.8]])).tolist(), to_labels(np.array([[1, 0], [0, 1]])).tolist()
        ([0, 1], [0, 1])
    """
    y = _as_array(y, "y")
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    y = y.reshape(-1)
    if y.dtype.kind in "biu":
        return y.astype(np.int64, copy=False)
    return (y > threshold).astype(np.int64)


def _true_labels(y):
    """Labels from ``y_true``: integer labels, one-hot rows, or float labels (0., 1., 2., ...)."""
    y = _as_array(y, "y_true")
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    y = y.reshape(-1)
    if y.dtype.kind == "f":
        i = first_non_whole(y)
        if i is not None:  # a cut at 0.5 would make up labels for values such as regression targets
            raise ValueError(f"y_true holds {float(y[i])!r} at row {i}, which is not a class label; label metrics "
                             "take integers, whole-number floats or one-hot rows as y_true")
        return y.astype(np.int64)
    return to_labels(y)


def _label_pair(y_true, y_pred, threshold):
    t, p = steps_as_rows(y_true, y_pred)
    t, p = _true_labels(t), to_labels(p, threshold)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} rows but y_pred has {len(p)}; they must match")
    return t, p


def _n_classes(t, p, num_classes):
    if num_classes is not None:
        return int(num_classes)
    return int(max(t.max(initial=-1), p.max(initial=-1)) + 1)


def confusion_matrix(y_true, y_pred, num_classes=None, threshold=0.5):
    """Counts ``C[i, j]`` of rows of true class i predicted as class j (int64, shape (k, k)).

    Args:
        y_true, y_pred: labels or scores (see module docstring).
        num_classes: k; default: the largest label seen plus one.
        threshold: cut-off for single-score predictions.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1]).tolist()
        [[1, 0], [1, 1]]
    """
    t, p = _label_pair(y_true, y_pred, threshold)
    k = _n_classes(t, p, num_classes)
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k):
        raise ValueError(f"labels must lie in 0..{k - 1} for num_classes={k}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of rows whose predicted label equals the true label.

    On sequence outputs (n, time, k) against labels (n, time), the fraction of
    correct time steps (each step one sample; see :func:`steps_as_rows`).

    Example:
        >>> accuracy([0, 1, 1, 0], np.array([0.1, 0.9, 0.3, 0.2]))
        0.75
    """
    t, p = _label_pair(y_true, y_pred, threshold)
    return float(np.mean(t == p)) if len(t) else float("nan")


def _ratio(num, den):
    # A class never predicted (or never present) scores 0, as scikit-learn's zero_division=0 does.
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision(y_true, y_pred, num_classes=None, threshold=0.5):
    """Per-class precision TP / (TP + FP), shape (k,); 0 for a class never predicted.

    Example:
        >>> precision([0, 1, 1], [0, 0, 1]).tolist()
        [0.5, 1.0]
    """
    cm = confusion_matrix(y_true, y_pred, num_classes, threshold)
    return _ratio(np.diag(cm), cm.sum(axis=0))


def recall(y_true, y_pred, num_classes=None, threshold=0.5):
    """Per-class recall TP / (TP + FN), shape (k,); 0 for a class absent from ``y_true``.

    Example:
        >>> recall([0, 1, 1], [0, 0, 1]).tolist()
        [1.0, 0.5]
    """
    cm = confusion_matrix(y_true, y_pred, num_classes, threshold)
    return _ratio(np.diag(cm), cm.sum(axis=1))


def f1(y_true, y_pred, num_classes=None, threshold=0.5):
    """Per-class F1 score, the harmonic mean of precision and recall, shape (k,).

    Example:
        >>> [round(v, 3) for v in f1([0, 1, 1], [0, 0, 1]).tolist()]
        [0.667, 0.667]
    """
    cm = confusion_matrix(y_true, y_pred, num_classes, threshold)
    tp = np.diag(cm)
    return _ratio(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))


def _value_pair(y_true, y_pred):
    t, p = steps_as_rows(y_true, y_pred)
    t, p = _as_array(t, "y_true"), _as_array(p, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} rows but y_pred has {len(p)}; they must match")
    # (n,) targets against an (n, 1) output column: compare as columns, not an (n, n) broadcast.
    if t.ndim == 1 and p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    elif p.ndim == 1 and t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match")
    return t.astype(np.float64), p.astype(np.float64)


def mse(y_true, y_pred):
    """Mean squared error over all entries.

    Example:
        >>> mse([1.0, 2.0], [1.0, 4.0])
        2.0
    """
    t, p = _value_pair(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def rmse(y_true, y_pred):
    """Root mean squared error (in the targets' units).

    Example:
        >>> rmse([0.0, 0.0, 0.0], [3.0, 3.0, 3.0])
        3.0
    """
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred):
    """Mean absolute error over all entries.

    Example:
        >>> mae([1.0, 2.0], [0.0, 4.0])
        1.5
    """
    t, p = _value_pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2(y_true, y_pred):
    """Coefficient of determination 1 - SS_res / SS_tot, averaged over output columns.

    Sequence targets (n, time, k) are scored as n * time rows of k columns, as
    scikit-learn's ``r2_score`` does on the flattened arrays.

    A constant target column scores 1 when predicted exactly and 0 otherwise
    (the total sum of squares is 0 there), as in scikit-learn.

    Example:
        >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        1.0
    """
    t, p = _value_pair(y_true, y_pred)
    t2, p2 = t.reshape(len(t), -1), p.reshape(len(p), -1)
    ss_res = ((t2 - p2) ** 2).sum(axis=0)
    ss_tot = ((t2 - t2.mean(axis=0)) ** 2).sum(axis=0)
    score = np.where(ss_res == 0, 1.0, 0.0)
    np.subtract(1.0, ss_res / np.where(ss_tot > 0, ss_tot, 1.0), out=score, where=ss_tot > 0)
    return float(score.mean())


for _fn, _kind, _higher, _per_class in (
    (accuracy, "labels", True, False),
    (precision, "labels", True, True),
    (recall, "labels", True, True),
    (f1, "labels", True, True),
    (confusion_matrix, "labels", True, True),
    (mse, "values", False, False),
    (rmse, "values", False, False),
    (mae, "values", False, False),
    (r2, "values", True, False),
):
    METRICS.register(MetricSpec(_fn, _kind, _higher, _per_class), name=_fn.__name__)
del _fn, _kind, _higher, _per_class
