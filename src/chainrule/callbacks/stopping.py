"""Termination criteria: the training loop "repeats till the errors do not change or the loss is small enough".

* :class:`StopOnThreshold`: stop once a logged value is good enough;
* :class:`StopOnPlateau`: stop once the training loss stops improving;
* :class:`EarlyStopping`: stop once the *validation* score stops improving
  and go back to the best weights - the criterion that guards against
  overfitting, which a training-loss threshold does not.

Example:
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> X = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> stop = EarlyStopping("val_loss", patience=2)
    >>> h = cr.fit(nn.MLP([2, 8, 2], seed=0), "cross_entropy", ("adam", 0.05), (X, y),
    ...            validation_split=0.25, epochs=200, callbacks=[stop], seed=0, verbose=0)
    >>> len(h) < 200, h.stop_reason.startswith("early stopping")
    (True, True)
"""

from __future__ import annotations

from .._core import check, check_bool, check_real
from .base import Callback, Monitor

__all__ = ["EarlyStopping", "StopOnThreshold", "StopOnPlateau"]


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs; optionally restore the best weights.

    Args:
        monitor: history key, e.g. "val_loss" (default) or "val_accuracy".
        patience: training stops after this many epochs in a row without
            improvement (int >= 1).
        min_delta: smallest change that counts as an improvement.
        mode: "min", "max" or "auto" (losses down, scores up).
        restore_best: at the end, load the weights of the best epoch.

    Example:
        >>> EarlyStopping("val_accuracy", patience=3).monitor.higher
        True
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best=True):
        self.monitor = Monitor(monitor, mode, min_delta)
        self.patience = check("patience", patience, "int>0")
        self.restore_best = check_bool("restore_best", restore_best)
        self._reset()

    def _reset(self):
        self.best, self.best_epoch, self.wait, self.best_weights = None, None, 0, None

    def on_train_begin(self, ctx):
        # A reused instance starts afresh (no best score or weights from another run), unless
        # this run resumes from a checkpoint whose state was just restored.
        if not ctx.resumed:
            self._reset()

    def on_epoch_end(self, ctx, epoch, logs):
        value = self.monitor.value(logs, type(self).__name__)
        if self.monitor.improves(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = ctx.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            ctx.stop(self._reason())

    def _reason(self):
        best = "no finite value" if self.best is None else f"best {self.best:.4g} at epoch {self.best_epoch + 1}"
        return (f"early stopping: {self.monitor.key} did not improve for {self.wait} epochs ({best})")

    def on_train_end(self, ctx):
        if self.restore_best and self.best_weights is not None and ctx.history.epochs \
                and self.best_epoch != ctx.history.epochs[-1]:
            ctx.model.load_state_dict(self.best_weights)
            ctx.history.restored_epoch = self.best_epoch

    def state_dict(self):
        meta = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        return meta, dict(self.best_weights or {})

    def load_state_dict(self, state, arrays):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = dict(arrays) if arrays else None


class StopOnThreshold(Callback):
    """Stop as soon as a logged value reaches a target: "the loss is small enough".

    Args:
        threshold: the target value.
        monitor: history key (default the training loss).
        mode: "min" (stop when value <= threshold), "max" (value >= threshold) or "auto".

    Example:
        >>> StopOnThreshold(0.01).monitor.key
        'loss'
    """

    def __init__(self, threshold, monitor="loss", mode="auto"):
        self.monitor = Monitor(monitor, mode)
        # nan would never be reached (training runs on, silently); float() would read the text "0.1"
        self.threshold = check_real("threshold", threshold)

    def on_epoch_end(self, ctx, epoch, logs):
        value = self.monitor.value(logs, type(self).__name__)
        reached = value >= self.threshold if self.monitor.higher else value <= self.threshold
        if reached:
            ctx.stop(f"{self.monitor.key} reached {value:.4g} (threshold {self.threshold:g})")


class StopOnPlateau(EarlyStopping):
    """Stop when the training loss stops changing: "the errors do not change" (weights are kept).

    Same as :class:`EarlyStopping` with ``monitor="loss"``, a small ``min_delta``
    and no weight restoring.

    Example:
        >>> StopOnPlateau(patience=2).restore_best
        False
    """

    def __init__(self, monitor="loss", patience=3, min_delta=1e-4, mode="auto"):
        super().__init__(monitor, patience, min_delta, mode, restore_best=False)

    def _reason(self):
        return f"{self.monitor.key} stopped improving by more than {self.monitor.min_delta:g} for {self.wait} epochs"
