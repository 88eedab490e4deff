"""Evaluation and prediction: ``evaluate`` (loss and metrics on data) and ``predict`` (outputs).

Both run the model in batches of :data:`EVAL_BATCH` rows without building a graph, so memory stays
bounded on large data; ``fit`` scores its validation data with the same functions.

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> model = nn.MLP([2, 3, 2], seed=0)
    >>> predict(model, np.zeros((4, 2))).shape
    (4, 2)
"""

from __future__ import annotations

import numpy as np

from .._core import check_int
from ..autodiff.engine import no_grad
from ..metrics import steps_as_rows, to_labels
from .setup import (
    as_pair,
    output_threshold,
    prepare_inputs,
    prepare_targets,
    resolve_loss,
    resolve_metrics,
)

EVAL_BATCH = 4096  # rows per forward pass when evaluating: large enough to be BLAS-bound, small in memory


def _scores(specs, outputs, targets, loss_name):
    """``{name: value}`` of each metric on stacked outputs (labels computed once for all label metrics)."""
    logs, pred = {}, None
    # Sequences (n, time, k): every step counts as one sample, so both sides become rows once.
    values, rows = steps_as_rows(targets.values, outputs)
    width = rows.shape[1] if rows.ndim == 2 else 1
    # A diverged model's nan outputs have no classes: its label metrics are nan, and fit then says it diverged.
    diverged = rows.dtype.kind == "f" and np.isnan(rows).any()
    for name, spec in specs:
        if spec.kind == "labels":
            if targets.labels is None:
                raise ValueError(f"metric {name!r} needs class labels, but the targets are continuous values")
            if pred is None:
                labels = steps_as_rows(targets.labels, outputs)[0]
                pred = labels if diverged else to_labels(rows, output_threshold(loss_name))
            extra = {"num_classes": max(width, 2)} if spec.per_class else {}
            value = spec.fn(labels, pred, **extra)
            if diverged:  # the value of labels against themselves gives only the shape: every entry is nan
                value = np.full(np.shape(value), np.nan) if np.ndim(value) else float("nan")
            logs[name] = value
        else:
            logs[name] = spec.fn(values, rows)
    return logs


def _forward_all(model, X, batch_size=EVAL_BATCH):
    """Outputs of ``model`` on all rows of ``X`` in eval mode without a graph, as Tensors per batch."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return [model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)


def _evaluate_prepared(model, loss_fn, loss_name, X, targets, specs, batch_size=EVAL_BATCH):
    outs = _forward_all(model, X, batch_size)
    logs = {}
    if loss_fn is not None:
        with no_grad():
            total = sum(float(loss_fn(o, targets.values[i * batch_size:i * batch_size + len(o)]).data) * len(o)
                        for i, o in enumerate(outs))
        logs["loss"] = total / len(X)
    if specs:
        logs.update(_scores(specs, np.concatenate([o.data for o in outs]), targets, loss_name))
    return logs


def evaluate(model, loss, data, metrics=None, batch_size=EVAL_BATCH):
    """Loss and metrics of ``model`` on ``data`` (eval mode, no graph).

    Args:
        model: a Module.
        loss: a ``nn.LOSSES`` name, a callable, or None for metrics only.
        data: ``(X, y)`` or a ``data.Dataset``.
        metrics: names from ``metrics.METRICS``.
        batch_size: rows per forward pass.

    Returns:
        ``{"loss": float, <metric>: value, ...}``.

    Example:
        >>> import numpy as np
        >>> from chainrule import nn
        >>> model = nn.Linear(2, 1, init="zeros")
        >>> evaluate(model, "mse", (np.ones((4, 2)), np.ones(4)), metrics=["mae"])
        {'loss': 1.0, 'mae': 1.0}
    """
    loss_fn, loss_name = resolve_loss(loss) if loss is not None else (None, None)
    X, y = as_pair(data, "data")
    X = prepare_inputs(model, X)
    probe_fn = loss_fn or (lambda out, target: None)
    targets = prepare_targets(model, probe_fn, loss_name, X, y)
    batch_size = check_int("batch_size", batch_size)
    loss_fn = None if loss_fn is None else targets.loss
    return _evaluate_prepared(model, loss_fn, loss_name, X, targets, resolve_metrics(metrics), batch_size)


def predict(model, X, batch_size=EVAL_BATCH):
    """The model's outputs on ``X`` as one array (eval mode, no graph, cast to the model's dtype once).

    Args:
        model: a Module.
        X: array of shape (n, features).
        batch_size: rows per forward pass (bounds the memory used).

    Returns:
        ndarray of shape (n, outputs); ``metrics.to_labels`` turns it into classes.

    Example:
        >>> import numpy as np
        >>> from chainrule import nn
        >>> predict(nn.Linear(3, 2, init="ones"), np.ones((5, 3))).shape
        (5, 2)
    """
    X = prepare_inputs(model, X)
    batch_size = check_int("batch_size", batch_size)
    return np.concatenate([o.data for o in _forward_all(model, X, batch_size)])


