"""Turning a raw target column into labels or values, and one-hot encoding.

Shared by the CSV and NPZ loaders so that both infer the task and name the
classes by the same rules.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._core import is_number
from ..io import limits
from ._checks import check_fits_dtype
from .dataset import TASKS

# Integer targets with at most this many distinct values may be read as class
# labels without being told; more distinct values look like a count or a score.
MAX_INFERRED_CLASSES = 20


def _index_locator(i: int) -> str:
    return f"row {i}"


def _class_text(value) -> str:
    # 3.0 and "3" must name the same class, so integral floats lose the ".0".
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def infer_task(values: np.ndarray, label: str) -> str:
    """Guess the task from numeric target values, or raise when it is ambiguous.

    Non-integer values mean regression; at most two distinct integers, or a
    few (at most 20, and at most half the row count), mean classification.

    Example:
        >>> infer_task(np.array([0.0, 1.0, 1.0, 0.0]), "target 'y'")
        'classification'
        >>> infer_task(np.array([0.5, 1.25]), "target 'y'")
        'regression'
    """
    if values.ndim == 2 or not np.all(np.mod(values, 1) == 0):
        return "regression"
    k = np.unique(values).size
    if k <= 2 or (k <= MAX_INFERRED_CLASSES and 2 * k <= values.size):
        return "classification"
    raise ValueError(
        f"cannot tell whether {label} holds class labels or quantities ({k} distinct integer values "
        f"in {values.size} rows); pass task='classification' or task='regression'"
    )


def _check_classes(labels, class_names, label):
    n, k = labels.size, np.unique(labels).size
    if k < 2:
        raise ValueError(
            f"{label} has a single class ({class_names[int(labels[0])]!r}); classification needs at least two"
        )
    if k >= n:
        raise ValueError(
            f"{label} has {k} distinct values in {n} rows, so no class has two examples; "
            "pick another target column or pass task='regression'"
        )


def _check_class_count(k, label):
    if k > limits.get("classes"):
        raise limits.LimitError(f"{label} has {k:,} distinct values, over {limits.describe('classes')}; "
                                "pass task='regression' if they are quantities")


def _labels_from_names(values, class_names, label, locate) -> np.ndarray:
    if len(class_names) < 2:
        raise ValueError(f"class_names must name at least two classes, got {class_names!r}")
    lookup = {name: i for i, name in enumerate(class_names)}
    texts = [_class_text(v) for v in values.tolist()]
    for i, text in enumerate(texts):
        if text not in lookup:
            raise ValueError(
                f"{label} holds {text!r} on {locate(i)}, which is not one of the classes {', '.join(class_names)}"
            )
    return np.array([lookup[t] for t in texts], dtype=np.int64)


def encode_classes(values: np.ndarray, label: str, class_names=None, locate=_index_locator):
    """Map raw class values (text or integers) to int64 labels and class names.

    Without ``class_names``, the classes are the sorted distinct values seen
    (labels 0..k-1 thus keep their numbers; ``{0, 10**9}`` is two classes),
    at most the ``classes`` limit of :mod:`chainrule.io.limits`. With ``class_names`` (e.g. those of a training file), each
    value must be one of them and its label is its position in that list.

    Returns:
        ``(labels, class_names)``: int64 array of shape ``(n,)`` and a tuple of str.

    Example:
        >>> encode_classes(np.array(["cat", "dog", "cat"]), "target 'pet'")
        (array([0, 1, 0]), ('cat', 'dog'))
    """
    if values.ndim != 1:
        raise ValueError(
            f"{label} must be 1-D class labels for classification, got shape {values.shape}; "
            "convert one-hot rows with argmax or pass task='regression'"
        )
    given = class_names is not None
    if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):
        bad = int(np.flatnonzero(np.mod(values, 1) != 0)[0])
        raise ValueError(
            f"{label} holds non-integer value {values[bad].item()!r} on {locate(bad)}; class labels must be integers or text"
        )
    if given:
        class_names = tuple(str(c) for c in class_names)
        labels = _labels_from_names(values, class_names, label, locate)
    else:
        # The classes are the distinct values seen (so labels {0, 10**9} make two classes, not a billion,
        # and a label beyond int64 keeps its value as its name); labels 0..k-1 keep their numbers.
        distinct, labels = np.unique(values, return_inverse=True)
        _check_class_count(distinct.size, label)
        labels, class_names = labels.astype(np.int64), tuple(_class_text(v) for v in distinct.tolist())
    if not given:
        # Given names come from a training file; held-out rows may lack classes.
        _check_classes(labels, class_names, label)
    return labels, class_names


def encode_targets(values: np.ndarray, task, label: str, dtype, class_names=None, locate=_index_locator):
    """Return ``(y, task, class_names)`` for raw target values.

    ``values`` is either a numeric array or an array of text; text can only
    be a classification target. ``task=None`` infers the task (see
    :func:`infer_task`). Regression targets are cast to ``dtype``.

    Example:
        >>> y, task, names = encode_targets(np.array(["b", "a", "b"]), None, "target 'c'", np.float32)
        >>> y.tolist(), task, names
        ([1, 0, 1], 'classification', ('a', 'b'))
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None, 'classification' or 'regression', got {task!r}")
    numeric = values.dtype.kind in "biuf"
    if not numeric:
        if task == "regression":
            i = next(i for i, v in enumerate(values.tolist()) if not is_number(v))
            raise ValueError(
                f"{label} holds text ({str(values[i])!r} on {locate(i)}), which cannot be a regression target"
            )
        task = "classification"
    if task is None:
        task = "classification" if class_names is not None else infer_task(values.astype(np.float64), label)
    if task == "regression":
        check_fits_dtype(values, dtype, lambda i: f"{label} on {locate(i)}")
        return values.astype(dtype), task, None
    y, names = encode_classes(values, label, class_names, locate)
    return y, task, names


def one_hot(y, num_classes=None, dtype=np.float32) -> np.ndarray:
    """Return one-hot rows for integer class labels.

    Args:
        y: class labels 0..num_classes-1, shape ``(n,)`` (ints or integral floats).
        num_classes: number of columns; defaults to ``max(y) + 1``.
        dtype: dtype of the result.

    Returns:
        Array of shape ``(n, num_classes)`` with a single 1 per row.

    Example:
        >>> one_hot([0, 2, 1]).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot expects a 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise ValueError(f"one_hot expects integer class labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot expects labels >= 0, got {y.min().item()!r}")
    top = int(y.max()) + 1 if y.size else 0
    if num_classes is None:
        num_classes = top
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    elif top > num_classes:
        raise ValueError(f"label {top - 1} does not fit in num_classes={num_classes} (labels run 0 to {num_classes - 1})")
    out = np.zeros((y.size, int(num_classes)), dtype=dtype)
    out[np.arange(y.size), y.astype(np.int64)] = 1
    return out
