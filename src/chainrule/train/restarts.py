"""Random restarts: train several networks from different initial weights, keep the best on validation data.

Gradient descent on a network finds a local minimum that depends on where it
started, so a cheap way to a better network is to train a few from different
random initialisations and keep the one that does best on held-out data
(never on the training data, which rewards overfitting).

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)).astype(np.float32)
    >>> y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    >>> result = fit_restarts(lambda seed: nn.MLP([2, 8, 2], seed=seed), 3, "cross_entropy", ("adam", 0.05),
    ...                       (X, y), validation_split=0.25, monitor="val_accuracy", epochs=30, verbose=0)
    >>> len(result.scores), result.score == max(result.scores)
    (3, True)
"""

from __future__ import annotations

import copy
import os
from typing import NamedTuple

from .._core import check_int
from .setup import as_pair
from .history import Monitor
from .loop import _split_validation, evaluate, fit
from ..optim import Optimizer

__all__ = ["fit_restarts", "RestartResult"]


class RestartResult(NamedTuple):
    """The outcome of :func:`fit_restarts`.

    Attributes:
        model: the best network (trained).
        history: its History.
        index: its position among the restarts; ``seed`` the seed it was built and trained with.
        score: its validation score; ``scores`` every restart's score, in order.
        histories: every restart's History.
    """

    model: object
    history: object
    index: int
    seed: int
    score: float
    scores: list
    histories: list


def _optimizer_for(optimizer, model):
    if isinstance(optimizer, Optimizer):
        raise TypeError("fit_restarts trains several networks, so it needs an optimizer spec (a name, a (name, lr) "
                        "pair, a dict, or a function parameters -> optimizer), not one optimizer object")
    if callable(optimizer):
        return optimizer(model.parameters())
    return optimizer


def _validation(train, val, validation_split, seed):
    if val is not None and validation_split is not None:
        raise ValueError("pass either val or validation_split, not both")
    if validation_split is not None:
        return _split_validation(*as_pair(train, "train"), validation_split, seed)
    if val is None:
        raise ValueError("fit_restarts keeps the network with the best validation score, so it needs val or "
                         "validation_split")
    return train, val


def fit_restarts(make_model, n, loss, optimizer, train, *, val=None, validation_split=None, monitor="val_loss",
                 mode="auto", seed=0, metrics=None, checkpoint_dir=None, **fit_kwargs):
    """Train ``n`` networks from seeds ``seed, seed + 1, ...`` and return the best on validation data.

    Args:
        make_model: ``seed -> Module``; called once per restart with that restart's seed.
        n: number of networks (> 0).
        loss: as in :func:`~chainrule.train.fit`.
        optimizer: a name, ``(name, lr)``, dict, or ``parameters -> Optimizer`` function
            (one optimiser is built per network).
        train, val, validation_split: as in ``fit``; with ``validation_split`` the
            same rows are held out for every restart.
        monitor: the validation quantity to compare, ``"val_loss"`` or ``"val_<metric>"``.
        mode: "min", "max" or "auto" (from the name).
        seed: first seed.
        metrics: extra metrics to log (the monitored one is added if needed).
        checkpoint_dir: if given, restart i checkpoints into ``checkpoint_dir/restart_<i>``.
        **fit_kwargs: passed to ``fit`` (epochs, batch_size, callbacks, verbose, ...);
            each restart gets its own copy of the callbacks.

    Returns:
        :class:`RestartResult`.
    """
    n = check_int("n", n)
    if not (isinstance(monitor, str) and monitor.startswith("val_")):
        raise ValueError(f"monitor must be a validation key such as 'val_loss' or 'val_accuracy', got {monitor!r}")
    key = monitor[4:]
    judge = Monitor(monitor, mode)  # validates mode before any training
    metrics = list(metrics or [])
    if key != "loss" and key not in metrics:
        metrics.append(key)
    train, val = _validation(train, val, validation_split, seed)
    runs = []
    for i in range(n):
        s = seed + i
        model = make_model(s)
        folder = None if checkpoint_dir is None else os.path.join(os.fspath(checkpoint_dir), f"restart_{i}")
        kwargs = dict(fit_kwargs, callbacks=copy.deepcopy(fit_kwargs.get("callbacks")))  # no state shared between runs
        history = fit(model, loss, _optimizer_for(optimizer, model), train, val=val, seed=s, metrics=metrics,
                      checkpoint_dir=folder, **kwargs)
        score = float(evaluate(model, loss, val, metrics=[] if key == "loss" else [key])[key])
        runs.append((model, history, s, score))
    scores = [r[3] for r in runs]
    best = judge.best_index(scores)
    if best is None:
        raise ValueError(f"no restart reached a finite {monitor}; every score was {scores[0]}")
    model, history, s, score = runs[best]
    return RestartResult(model, history, best, s, score, scores, [r[1] for r in runs])
