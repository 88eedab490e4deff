"""Class-index losses with PyTorch's options: class weights, ``ignore_index``, label smoothing and
N-d inputs whose class axis is 1 (``(N, C, d1, d2, ...)`` against labels ``(N, d1, d2, ...)``).

Both are compositions of ``log_softmax`` and ``take_along_axis``; the plain 2-D case of
:func:`~chainrule.nn.losses.cross_entropy` keeps the fused engine op.

Example:
    >>> import chainrule as cr
    >>> logp = cr.log_softmax(cr.zeros(2, 3), axis=1)
    >>> round(nll_loss(logp, np.array([0, -100])).item(), 4) == round(float(np.log(3)), 4)
    True
"""

from __future__ import annotations

import numpy as np

from ..autodiff import functions as _ops
from .._core import check_choice
from ._util import array_of

__all__ = ["nll_loss", "cross_entropy_options"]


def _labels(name, scores, target, ignore_index):
    s, y = array_of(scores), np.asarray(array_of(target))
    if s.ndim < 1 or y.dtype.kind not in "iu":
        raise ValueError(f"{name}: target must hold integer class labels, got dtype {y.dtype}")
    expected = s.shape[:1] + s.shape[2:] if s.ndim >= 2 else ()
    if y.shape != expected:
        raise ValueError(f"{name}: labels of shape {y.shape} do not match scores {s.shape} (expected {expected}; classes on axis 1)")
    classes = s.shape[1] if s.ndim >= 2 else s.shape[0]
    bad = y[(y != ignore_index) & ((y < 0) | (y >= classes))]
    if bad.size:
        raise ValueError(f"{name}: label {bad.flat[0].item()} is not a class index 0..{classes - 1} (nor ignore_index {ignore_index})")
    return y


def _class_weights(name, weight, classes, dtype):
    if weight is None:
        return np.ones(classes, dtype=dtype)
    w = np.asarray(array_of(weight), dtype=dtype)
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), got {w.shape}")
    return w


def nll_loss(log_probs, target, reduction="mean", weight=None, ignore_index=-100):
    """Negative log-likelihood of integer labels under log-probabilities (classes on axis 1).

    loss_i = -weight[y_i] log_probs[i, y_i]; entries labelled ``ignore_index`` count for nothing.
    "mean" divides by the summed weights of the counted entries, as PyTorch.

    Args:
        log_probs: (N, C) or (N, C, d1, ...), e.g. from ``log_softmax(z, axis=1)``; or (C,) for one example.
        target: integer labels (N,) or (N, d1, ...).
        reduction: "mean", "sum" or "none".
        weight: optional per-class weights (C,).
        ignore_index: a label value to skip.
    """
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    s = array_of(log_probs)
    y = _labels("nll_loss", log_probs, target, ignore_index)
    axis = 1 if s.ndim >= 2 else 0
    keep = y != ignore_index
    safe = np.where(keep, y, 0)
    w = _class_weights("nll_loss", weight, s.shape[axis], s.dtype if s.dtype.kind == "f" else np.float64)[safe] * keep
    picked = _ops.take_along_axis(log_probs, np.expand_dims(safe, axis), axis).squeeze(axis)
    per = -picked * w
    if reduction == "none":
        return per
    total = per.sum()
    return total if reduction == "sum" else total / np.sum(w)


def cross_entropy_options(logits, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    """Cross-entropy with PyTorch's options, classes on axis 1 for N-d logits.

    Integer labels: (1 - eps) nll + eps * mean over classes of -weight_c log p_c; with "mean"
    both parts are divided by the summed weights of the counted labels. Probability targets
    (same shape as the logits) are smoothed to (1 - eps) t + eps / C and "mean" divides by the
    number of entries (N d1 d2 ...).
    """
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    z = array_of(logits)
    axis = 1 if z.ndim >= 2 else 0
    classes = z.shape[axis]
    logp = _ops.log_softmax(logits, axis=axis)
    dtype = z.dtype if z.dtype.kind == "f" else np.float64
    w = _class_weights("cross_entropy", weight, classes, dtype)
    w_view = w.reshape([-1 if d == axis else 1 for d in range(z.ndim)])
    t = np.asarray(array_of(target))
    if t.dtype.kind == "f":
        if t.shape != z.shape:
            raise ValueError(f"cross_entropy: probability targets of shape {t.shape} must match the logits {z.shape}")
        t = t * (1 - label_smoothing) + label_smoothing / classes
        per = -(logp * (t * w_view).astype(dtype)).sum(axis=axis)
        return per if reduction == "none" else per.sum() if reduction == "sum" else per.mean()
    y = _labels("cross_entropy", logits, t, ignore_index)
    keep = y != ignore_index
    safe = np.where(keep, y, 0)
    wy = w[safe] * keep
    per = -_ops.take_along_axis(logp, np.expand_dims(safe, axis), axis).squeeze(axis) * wy
    if label_smoothing:
        smooth = -(logp * w_view).sum(axis=axis) * (keep / classes).astype(dtype)
        per = per * (1 - label_smoothing) + smooth * label_smoothing
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.sum() / np.sum(wy)
