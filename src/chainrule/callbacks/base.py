"""The callback protocol and the training context every hook receives.

The fit loop only iterates and calls hooks. Per-batch hooks cost time on every
step, so the loop calls ``on_batch_end`` only on callbacks whose
``wants_batches`` is True after ``on_train_begin`` (a progress bar on a
terminal, for instance); every other hook runs once per epoch or per run.
"""

from __future__ import annotations

from ..train.history import History, Monitor

__all__ = ["Callback", "TrainContext", "Monitor"]


class TrainContext:
    """What callbacks can see and change during ``fit``.

    Attributes:
        model, optimizer: the objects being trained.
        history: the :class:`~chainrule.train.history.History` so far.
        epochs: epochs requested; ``epoch`` the current one (0-based).
        step: optimiser steps taken so far; ``steps_per_epoch``: batches per epoch.
        has_val: whether validation logs (``val_*``) are produced.
        stop_training: set by :meth:`stop` to end training after the current batch / epoch.
        resumed: True when this run continues from a checkpoint, so callbacks keep the state it restored
            instead of starting afresh in ``on_train_begin``.
    """

    def __init__(self, model, optimizer, epochs, steps_per_epoch, has_val, history=None):
        self.model, self.optimizer = model, optimizer
        self.epochs, self.steps_per_epoch, self.has_val = epochs, steps_per_epoch, has_val
        self.history = history if history is not None else History()
        self.epoch = 0
        self.step = 0
        self.stop_training = False
        self.resumed = False

    def stop(self, reason):
        """Ask the loop to stop; ``reason`` (one sentence) is kept in ``history.stop_reason``."""
        if not self.stop_training:
            self.stop_training = True
            self.history.stop_reason = reason


_PACKAGE = __name__.split(".")[0] + "."  # the callbacks defined in this package


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
    #: True if ``on_batch_end`` changes nothing that a recorded training step holds as a constant
    #: (layer settings such as a dropout rate, Python numbers a forward reads); changing weights in
    #: place or the learning rate is fine. ``fit(compile="auto")`` trains eagerly beside a batch
    #: callback that is not (changes made between epochs are found by comparing the layers' settings).
    #: Every built-in callback is; a subclass defined elsewhere is not until it says so.
    replay_safe = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "replay_safe" not in cls.__dict__ and not cls.__module__.startswith(_PACKAGE):
            cls.replay_safe = False

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
