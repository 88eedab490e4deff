"""Metrics on NumPy arrays: accuracy, precision/recall/F1 per class, confusion matrix, MSE/MAE/R^2.

Every metric has the signature ``fn(y_true, y_pred, **options)`` and works on
plain arrays, so it can score any model's output. Classification metrics
accept labels or raw scores for ``y_pred``:

* integer arrays are labels;
* a float array with one column (or 1-D) holds one score per row: label 1
  where the score is above ``threshold`` (0.5 for probabilities; pass 0 for
  logits);
* a float array with k > 1 columns holds class scores: the label is the arg-max.

``y_true`` may be integer labels 0, 1, 2, ..., whole-number floats or one-hot rows.

Bad input raises one sentence naming ``y_true`` or ``y_pred`` rather than scoring
something made up: text or complex values, mismatched lengths, negative labels,
soft (non one-hot) ``y_true`` rows, nan scores, or one score per row (which gives
labels 0 and 1 only) against labels of more classes. The regression metrics
refuse non-finite ``y_true``; a nan in ``y_pred`` (a diverged model) gives nan.
:func:`to_labels` refuses nan scores too: a nan has no class, and arg-max or a cut
would make one up.

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

from ._core import ArgumentError, Registry, check_int, check_real, first_non_whole, real_array, short_repr

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
        raise ArgumentError(f"a metric is named by a string, got {short_repr(name)}")
    return METRICS[name]


def _as_array(a, what):
    a = _array(a, what)
    if a.ndim == 0 or a.ndim > 2:
        raise ValueError(f"{what} must be 1-D or 2-D with one row per sample, got shape {a.shape}")
    if a.ndim == 2 and a.shape[1] == 0:
        raise ValueError(f"{what} must have at least one column, got shape {a.shape}")
    return a


def _array(a, name="y"):
    """``a`` (array, list, Tensor) as a NumPy array of real numbers (bools too), else one sentence naming it.

    Text would be compared as text (or fail inside NumPy), and complex values ordered by their real part.
    """
    raw = a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else a
    try:
        arr = np.asarray(raw)
    except ValueError:  # ragged nesting
        raise ValueError(f"{name} must be a rectangular array, got {short_repr(a)}") from None
    return real_array(name, a, arr)


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
    t, p = _array(y_true, "y_true"), _array(y_pred, "y_pred")
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
    return _to_labels(_as_array(y, "y"), threshold, "y")


def _to_labels(y, threshold, name):
    threshold = check_real("threshold", threshold)  # nan would silently label every row 0
    if y.dtype.kind == "f":
        _refuse_nan(y, name)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    y = y.reshape(-1)
    if y.dtype.kind in "biu":
        return y.astype(np.int64, copy=False)
    return (y > threshold).astype(np.int64)


def _true_labels(y):
    """Labels from ``y_true``: integer labels, one-hot rows, or float labels (0., 1., 2., ...)."""
    if y.ndim == 2 and y.shape[1] > 1:
        return _one_hot_labels(y)
    y = y.reshape(-1)
    if y.dtype.kind == "f":
        i = first_non_whole(y)
        if i is not None:  # a cut at 0.5 would make up labels for values such as regression targets
            raise ValueError(f"y_true holds {float(y[i])!r} at row {i}, which is not a class label; label metrics "
                             "take integers, whole-number floats or one-hot rows as y_true")
    return y.astype(np.int64)


def _one_hot_labels(y):
    """The class of each one-hot row; soft rows (probabilities) would be scored as their arg-max, so refused."""
    ones = y == 1
    bad = ~(ones | (y == 0)).all(axis=1) | (ones.sum(axis=1) != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"y_true row {i} is {short_repr(y[i].tolist())}, which is not one-hot; give y_true as "
                         "class labels or rows of 0s with a single 1")
    return np.argmax(y, axis=1)


def _label_pair(y_true, y_pred, threshold):
    t, p = steps_as_rows(y_true, y_pred)
    t, p = _as_array(t, "y_true"), _as_array(p, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} rows but y_pred has {len(p)}; they must match")
    if not len(t):
        raise ValueError("y_true and y_pred are empty; a metric needs at least one row")
    _check_widths(t, p)
    t_lab, p_lab = _true_labels(t), _to_labels(p, threshold, "y_pred")
    for name, labels in (("y_true", t_lab), ("y_pred", p_lab)):
        if labels.min() < 0:
            i = int(np.argmin(labels))
            raise ValueError(f"{name} holds label {labels[i]} at row {i}; class labels are 0, 1, 2, ...")
    single = p.dtype.kind == "f" and (p.ndim == 1 or p.shape[1] == 1)
    if single and t_lab.max() > 1:  # a cut gives 0 or 1: float labels 0., 1., 2. would lose class 2
        raise ValueError(f"y_pred holds one score per row, which gives labels 0 and 1 only, but y_true holds "
                         f"label {t_lab.max()}; give y_pred as integer labels or one score column per class")
    return t_lab, p_lab


def _refuse_nan(scores, name):
    """Refuse nan scores: arg-max or a cut would pick a class for them."""
    nan = np.isnan(scores)
    if nan.any():
        i = int(np.argwhere(nan)[0][0])
        raise ValueError(f"{name} holds nan at row {i}; scores must be numbers (a diverged model gives nan)")


def _check_widths(t, p):
    """Refuse one-hot and score widths that differ."""
    if t.ndim == 2 and p.ndim == 2 and t.shape[1] > 1 and p.shape[1] > 1 and t.shape[1] != p.shape[1]:
        raise ValueError(f"y_true has {t.shape[1]} one-hot columns but y_pred has {p.shape[1]} class columns; "
                         "they must match")


def _n_classes(t, p, num_classes):
    if num_classes is not None:
        return check_int("num_classes", num_classes, 1)  # int() would take 2.5 as 2 and "3" as 3
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
    for name, labels in (("y_true", t), ("y_pred", p)):
        if labels.max() >= k:
            i = int(np.argmax(labels))
            raise ValueError(f"{name} holds label {labels[i]} at row {i}, but num_classes={k} allows labels "
                             f"0..{k - 1}")
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
    return float(np.mean(t == p))


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
    if not len(t):
        raise ValueError("y_true and y_pred are empty; a metric needs at least one row")
    bad = ~np.isfinite(t) if t.dtype.kind == "f" else None
    if bad is not None and bad.any():  # nan targets would score nan, or (r2) a made-up 0
        i = int(np.argwhere(bad)[0][0])
        raise ValueError(f"y_true holds {t[bad].flat[0]} at row {i}; targets must be finite numbers")
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
    if np.isnan(ss_res).any():  # nan predictions (a diverged model); a constant column would score 0 below
        return float("nan")
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
