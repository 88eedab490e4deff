"""Classifiers trained through the API: text labels in, class probabilities and decoded labels out.

``fit`` accepts class labels of any kind (``["cat", "dog", ...]``) for a
classification loss: they are encoded as indices into their sorted distinct
values, which are kept on the model as ``model.classes_`` (as are a
``data.Dataset``'s ``class_names``), and the loss's name as ``model.loss_``.
:func:`predict_proba` turns the outputs into probabilities the way that loss
reads them, and :func:`predict_labels` back into those labels.

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
from ..nn import ACTIVATIONS, LOSSES
from .loop import predict
from .setup import as_pair, output_threshold, spec_of

__all__ = ["encode_labels", "predict_proba", "predict_labels", "as_probabilities"]

def encode_labels(model, loss_name, train, val):
    """``(train, val)`` with text labels encoded as indices; sets ``model.classes_`` when classes are known."""
    from ..data import Dataset

    if isinstance(train, Dataset):
        if train.class_names:
            model.classes_ = tuple(train.class_names)
        return train, val
    X, y = as_pair(train, "train")
    y = np.asarray(y)
    if y.dtype.kind in "biuf" or loss_name not in LOSSES or spec_of(loss_name).task != "classification":
        return train, val
    labels, names = encode_classes(y, "train y")
    model.classes_ = names
    if val is not None:
        Xv, yv = as_pair(val, "val")
        val = (Xv, encode_classes(np.asarray(yv), "val y", names)[0])
    return (X, labels), val


def predict_proba(model, X, batch_size=None):
    """Class probabilities ``(n, classes)``, as the loss ``fit`` trained the model with reads its outputs.

    A softmax of several outputs (cross_entropy), a sigmoid of one logit (bce_with_logits) or one
    probability as it is (bce), as ``[1 - p, p]`` for one output. A model ``fit`` did not train
    (no ``model.loss_``) is read as logits: softmax of several outputs, sigmoid of one.

    Args:
        model: a classifier.
        X: inputs (n, features).
        batch_size: rows per forward pass (default that of :func:`predict`).

    Raises:
        ValueError: the model was trained with a regression loss or a margin loss (hinge), whose
            outputs are not probabilities.
    """
    name = getattr(model, "loss_", None)
    spec = spec_of(name) if name in LOSSES else None
    if spec is not None and (spec.task != "classification" or spec.activation is None):
        what = "values of a regression" if spec.task != "classification" else "scores, not probabilities"
        raise ValueError(f"predict_proba: the model was trained with loss {name!r}, whose outputs are {what}; "
                         "use predict (or predict_labels), or train with 'cross_entropy' or 'bce_with_logits'")
    out = np.asarray(predict(model, X) if batch_size is None else predict(model, X, batch_size), np.float64)
    single = out.ndim == 1 or out.shape[1] == 1
    return as_probabilities(out, spec.activation if spec is not None else ("sigmoid" if single else "softmax"))


def as_probabilities(outputs, activation):
    """Class probabilities ``(n, classes)`` from outputs and the ``nn.ACTIVATIONS`` name that reads them.

    One output per row is the probability p of the last class, returned as ``[1 - p, p]``.

    Example:
        >>> as_probabilities(np.array([[0.0], [2.0]]), "sigmoid").round(3).tolist()
        [[0.5, 0.5], [0.119, 0.881]]
    """
    out = np.asarray(outputs, np.float64)
    single = out.ndim == 1 or out.shape[1] == 1
    p = np.asarray(ACTIVATIONS[activation](out.reshape(-1, 1) if single else out), np.float64)
    return np.concatenate([1 - p, p], axis=1) if single else p


def predict_labels(model, X, classes=None, loss=None):
    """Predicted classes of ``X``: the labels ``fit`` saw (``model.classes_``), ``classes``, or indices.

    Args:
        model: a trained classifier.
        X: inputs (n, features).
        classes: the label of each class index (default ``model.classes_`` if set).
        loss: the training loss name, which says where a single output is split: at 0 for logits
            (bce_with_logits, hinge) and at 0.5 for probabilities (bce, mse). Default: the loss
            ``fit`` trained the model with (``model.loss_``), else 0.
    """
    loss = loss if loss is not None else getattr(model, "loss_", None)
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
