"""Classifiers trained through the API: text labels in, class probabilities and decoded labels out.

``fit`` accepts class labels of any kind (``["cat", "dog", ...]``) for a
classification loss: they are encoded as indices into their sorted distinct
values, which are kept on the model as ``model.classes_`` (as are a
``data.Dataset``'s ``class_names``). :func:`predict_proba` turns the outputs
into probabilities and :func:`predict_labels` back into those labels.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array(["neg", "neg", "pos", "pos"])
    >>> model = nn.MLP([1, 2], seed=0)
    >>> _ = cr.fit(model, "cross_entropy", ("adam", 0.1), (X, y), epochs=60, verbose=0, seed=0)
    >>> model.classes_, cr.predict_labels(model, X).tolist()
    (('neg', 'pos'), ['neg', 'neg', 'pos', 'pos'])
    >>> cr.predict_proba(model, X).shape
    (4, 2)
"""

from __future__ import annotations

import numpy as np

from ..data.targets import encode_classes
from .loop import predict
from .setup import as_pair, output_threshold

__all__ = ["encode_labels", "predict_proba", "predict_labels"]

# Losses whose targets are class labels (so text labels may be encoded for them).
_CLASS_LOSSES = ("cross_entropy", "multiclass_hinge", "bce_with_logits", "bce", "hinge", "exponential")


def encode_labels(model, loss_name, train, val):
    """``(train, val)`` with text labels encoded as indices; sets ``model.classes_`` when classes are known."""
    from ..data import Dataset

    if isinstance(train, Dataset):
        if train.class_names:
            model.classes_ = tuple(train.class_names)
        return train, val
    X, y = as_pair(train, "train")
    y = np.asarray(y)
    if y.dtype.kind in "biuf" or loss_name not in _CLASS_LOSSES:
        return train, val
    labels, names = encode_classes(y, "train y")
    model.classes_ = names
    if val is not None:
        Xv, yv = as_pair(val, "val")
        val = (Xv, encode_classes(np.asarray(yv), "val y", names)[0])
    return (X, labels), val


def predict_proba(model, X, batch_size=None):
    """Class probabilities ``(n, classes)``: softmax of several outputs, or ``[1 - p, p]`` of one sigmoid logit.

    Args:
        model: a classifier trained with cross-entropy (several outputs) or bce_with_logits (one output).
        X: inputs (n, features).
        batch_size: rows per forward pass (default that of :func:`predict`).
    """
    out = np.asarray(predict(model, X) if batch_size is None else predict(model, X, batch_size), np.float64)
    if out.ndim == 1 or out.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-out.reshape(-1)))
        return np.stack([1 - p, p], axis=1)
    z = np.exp(out - out.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def predict_labels(model, X, classes=None, loss=None):
    """Predicted classes of ``X``: the labels ``fit`` saw (``model.classes_``), ``classes``, or indices.

    Args:
        model: a trained classifier.
        X: inputs (n, features).
        classes: the label of each class index (default ``model.classes_`` if set).
        loss: the training loss name, which says where a single output is split: at 0 for logits
            (bce_with_logits, hinge; also the default) and at 0.5 for probabilities (bce, mse).
    """
    out = np.asarray(predict(model, X))
    if out.ndim == 2 and out.shape[1] > 1:
        index = np.argmax(out, axis=1)
    else:
        index = (out.reshape(-1) > (output_threshold(loss) if loss else 0.0)).astype(np.int64)
    classes = classes if classes is not None else getattr(model, "classes_", None)
    if classes is None:
        return index
    classes = np.asarray(classes)
    if index.max(initial=0) >= len(classes):
        raise ValueError(f"the model predicts class {int(index.max())}, but only {len(classes)} class labels are given")
    return classes[index]
