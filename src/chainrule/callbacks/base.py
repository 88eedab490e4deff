"""The callback protocol and the training context every hook receives.

The fit loop only iterates and calls hooks. Per-batch hooks cost time on every
step, so the loop calls ``on_batch_end`` only on callbacks whose
``wants_batches`` is True after ``on_train_begin`` (a progress bar on a
terminal, for instance); every other hook runs once per epoch or per run.
"""

from __future__ import annotations

import math

import numpy as np

from ..train.history import History, higher_is_better

__all__ = ["Callback", "TrainContext", "Monitor"]


class TrainContext:
    """What callbacks can see and change during ``fit``.

    Attributes:
        model, optimizer: the objects being trained.
        history: the :class:`~chainrule.history.History` so far.
        epochs: epochs requested; ``epoch`` the current one (0-based).
        step: optimiser steps taken so far; ``steps_per_epoch``: batches per epoch.
        has_val: whether validation logs (``val_*``) are produced.
        stop_training: set by :meth:`stop` to end training after the current batch / epoch.
    """

    def __init__(self, model, optimizer, epochs, steps_per_epoch, has_val, history=None):
        self.model, self.optimizer = model, optimizer
        self.epochs, self.steps_per_epoch, self.has_val = epochs, steps_per_epoch, has_val
        self.history = history if history is not None else History()
        self.epoch = 0
        self.step = 0
        self.stop_training = False

    def stop(self, reason):
        """Ask the loop to stop; ``reason`` (one sentence) is kept in ``history.stop_reason``."""
        if not self.stop_training:
            self.stop_training = True
            self.history.stop_reason = reason


class Callback:
    """Base class: override the hooks you need; all default to doing nothing.

    Hooks, in call order: ``on_train_begin(ctx)``, then per epoch
    ``on_epoch_begin(ctx, epoch)``, ``on_batch_end(ctx, batch, loss)`` (only if
    ``wants_batches``), ``on_epoch_end(ctx, epoch, logs)``; finally
    ``on_train_end(ctx)``. ``logs`` is the epoch's dict, already in ``ctx.history``.
    If training is aborted by an exception (Ctrl-C), ``close()`` is called instead of
    ``on_train_end``.

    For checkpoint/resume, a callback with state returns it from
    :meth:`state_dict` as ``(json_dict, {name: ndarray})`` and takes it back in
    :meth:`load_state_dict`.

    Example:
        >>> class CountEpochs(Callback):
        ...     def __init__(self):
        ...         self.n = 0
        ...     def on_epoch_end(self, ctx, epoch, logs):
        ...         self.n += 1
        >>> CountEpochs().wants_batches
        False
    """

    wants_batches = False
    #: True for callbacks that print or write files: in data-parallel training only rank 0 runs them.
    root_only = False

    def on_train_begin(self, ctx):
        pass

    def on_epoch_begin(self, ctx, epoch):
        pass

    def on_batch_end(self, ctx, batch, loss):
        pass

    def on_epoch_end(self, ctx, epoch, logs):
        pass

    def on_train_end(self, ctx):
        pass

    def close(self):
        """Release resources (an open progress bar) when training is aborted by an exception."""

    def state_dict(self):
        """``(JSON-able dict, {name: ndarray})`` needed to resume exactly; empty by default."""
        return {}, {}

    def load_state_dict(self, state, arrays):
        """Restore what :meth:`state_dict` returned."""


class Monitor:
    """A logged quantity to watch: its key, direction and the improvement test.

    Args:
        key: a history key such as ``"val_loss"`` or ``"accuracy"``.
        mode: "min", "max" or "auto" (from the key: losses down, scores up).
        min_delta: the least change that counts as an improvement (>= 0).

    Example:
        >>> m = Monitor("val_accuracy", min_delta=0.01)
        >>> m.improves(0.96, 0.94), m.improves(0.955, 0.95)
        (True, False)
    """

    def __init__(self, key, mode="auto", min_delta=0.0):
        if not isinstance(key, str):
            raise TypeError(f"monitor must be a history key such as 'val_loss', got {key!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0 and math.isfinite(min_delta)):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.key, self.min_delta = key, float(min_delta)
        self.higher = higher_is_better(key) if mode == "auto" else mode == "max"

    def value(self, logs, who):
        """The monitored value from an epoch's logs (ValueError naming the logged keys if absent)."""
        if self.key not in logs:
            raise ValueError(f"{who} monitors {self.key!r}, which this run does not log; "
                             f"logged: {', '.join(logs)}")
        value = logs[self.key]
        if isinstance(value, np.ndarray):
            raise ValueError(f"{who} needs a single number to monitor, but {self.key!r} is per class")
        return float(value)

    def improves(self, value, best):
        """True if ``value`` beats ``best`` (None: anything finite does) by more than ``min_delta``."""
        if not math.isfinite(value):
            return False
        if best is None:
            return True
        return value > best + self.min_delta if self.higher else value < best - self.min_delta
