"""History: what ``fit`` returns, one value per epoch for every logged quantity.

Keys follow one convention:

* ``loss``: mean data loss over the epoch's batches (weighted by batch size),
  without any regularisation penalty, so it is comparable with ``val_loss``;
* ``reg_loss``: the mean regularisation penalty (only when ``fit`` was given
  ``regularization``); the objective minimised is ``loss + reg_loss``;
* ``<metric>``: a metric on the training batches, as they were predicted
  during the epoch (a running value, like the loss);
* ``val_loss``, ``val_<metric>``: on the validation data after the epoch;
* ``lr``: the learning rate used during the epoch; ``time``: seconds.

Per-class metrics (precision, recall, f1, confusion_matrix) are stored as
arrays; everything else is a float.

Example:
    >>> h = History()
    >>> h.append(0, {"loss": 0.9, "val_loss": 1.0})
    >>> h.append(1, {"loss": 0.5, "val_loss": 0.7})
    >>> h["val_loss"], h.best("val_loss")
    ([1.0, 0.7], (1, 0.7))
"""

from __future__ import annotations

import math

import numpy as np

from .._core import check, check_choice, short_repr, to_jsonable
from ..metrics import METRICS

__all__ = ["History", "Monitor", "higher_is_better"]


def higher_is_better(key):
    """True if larger values of the logged quantity ``key`` are better (accuracy, r2), False for losses.

    Example:
        >>> higher_is_better("val_accuracy"), higher_is_better("loss"), higher_is_better("val_mse")
        (True, False, False)
    """
    name = key[4:] if key.startswith("val_") else key
    if name in METRICS:
        return METRICS[name].higher_is_better
    if name.endswith("loss") or name in ("lr", "time"):
        return False
    raise ValueError(f"cannot tell whether higher or lower {key!r} is better; pass mode='min' or mode='max'")


class Monitor:
    """A logged quantity to watch: its key, direction and the one "is this an improvement" test.

    Early stopping, model checkpoints, ``History.best`` and ``fit_restarts``
    all decide with :meth:`improves`.

    Args:
        key: a history key such as ``"val_loss"`` or ``"accuracy"``.
        mode: "min", "max" or "auto" (from the key: losses down, scores up).
        min_delta: the least change that counts as an improvement (>= 0).

    Example:
        >>> m = Monitor("val_accuracy", min_delta=0.01)
        >>> m.improves(0.96, 0.94), m.improves(0.955, 0.95)
        (True, False)
        >>> Monitor("val_loss").best_index([0.9, float("nan"), 0.4, 0.4])
        2
    """

    def __init__(self, key, mode="auto", min_delta=0.0):
        if not isinstance(key, str):
            raise TypeError(f"monitor must be a history key such as 'val_loss', got {short_repr(key)}")
        check_choice("mode", mode, ("auto", "min", "max"))
        self.key, self.min_delta = key, float(check("min_delta", min_delta, ">=0"))
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

    def best_index(self, values):
        """Index of the first best finite value in ``values`` (None if none is finite)."""
        index, best = None, None
        for i, value in enumerate(values):
            if self.improves(float(value), best):
                index, best = i, float(value)
        return index


class History:
    """Per-epoch logs of a training run (see the module docstring for the keys).

    Attributes:
        epochs: the 0-based epoch numbers logged, in order.
        stop_reason: why training ended early (None if it ran all epochs).
        restored_epoch: the epoch whose weights were restored at the end, if any.
    """

    def __init__(self):
        self.epochs = []
        self.logs = {}
        self.stop_reason = None
        self.restored_epoch = None

    def append(self, epoch, logs):
        """Add one epoch's ``{key: value}``; a key first seen late is padded with NaN before."""
        for key in logs:
            if key not in self.logs:
                self.logs[key] = [math.nan] * len(self.epochs)
        self.epochs.append(int(epoch))
        for key, values in self.logs.items():
            values.append(logs.get(key, math.nan))

    def __getitem__(self, key):
        try:
            return self.logs[key]
        except KeyError:
            raise KeyError(f"history has no {key!r}; it logged: {', '.join(self.logs) or 'nothing yet'}") from None

    def __contains__(self, key):
        return key in self.logs

    def __len__(self):
        return len(self.epochs)

    def keys(self):
        """The logged quantities, in first-logged order."""
        return list(self.logs)

    def last(self):
        """The most recent epoch's logs as a dict (empty before the first epoch)."""
        return {k: v[-1] for k, v in self.logs.items()} if self.epochs else {}

    def best(self, key, mode="auto"):
        """``(epoch, value)`` of the best finite value of ``key``; mode "min", "max" or "auto" (from the name)."""
        values = self[key]
        i = Monitor(key, mode).best_index(values)
        if i is None:
            raise ValueError(f"history has no finite value of {key!r}")
        return self.epochs[i], float(values[i])

    def to_dict(self):
        """A JSON-serialisable dict (arrays become lists); :meth:`from_dict` reverses it."""
        logs = to_jsonable(self.logs, "history logs")
        return {"epochs": list(self.epochs), "logs": logs, "stop_reason": self.stop_reason,
                "restored_epoch": self.restored_epoch}

    @classmethod
    def from_dict(cls, state):
        """Rebuild a History from :meth:`to_dict` output (lists inside logs become arrays again)."""
        h = cls()
        h.epochs = [int(e) for e in state["epochs"]]
        h.logs = {k: [np.asarray(v) if isinstance(v, list) else v for v in vals] for k, vals in state["logs"].items()}
        h.stop_reason, h.restored_epoch = state.get("stop_reason"), state.get("restored_epoch")
        return h

    def __repr__(self):
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items() if isinstance(v, float))
        return f"History({len(self)} epochs{': ' + last if last else ''})"

