"""Callbacks that write things out: the progress display, a CSV log, model checkpoints."""

from __future__ import annotations

import csv
import math
import numbers
import os
import sys

import numpy as np

from .._core import ArgumentError, check_bool, is_real, short_repr
from .base import Callback, Monitor
from ..io.bundle import check_target
from ..io.models import save

__all__ = ["ProgressBar", "CSVLogger", "ModelCheckpoint", "format_logs", "scalar_logs"]


def scalar_logs(logs):
    """The logs as ``{column: float}``: per-class arrays become ``name_0``, ``name_1``, ...

    Example:
        >>> scalar_logs({"loss": 0.5, "recall": np.array([1.0, 0.5])})
        {'loss': 0.5, 'recall_0': 1.0, 'recall_1': 0.5}
    """
    out = {}
    for key, value in logs.items():
        if isinstance(value, np.ndarray):
            out.update({f"{key}_{i}": float(v) for i, v in enumerate(value.ravel())})
        else:
            out[key] = float(value)
    return out


def format_logs(epoch, epochs, logs):
    """One line summing up an epoch: numbers only, per-class arrays left out.

    Example:
        >>> format_logs(2, 10, {"loss": 0.123456, "val_accuracy": 0.9, "time": 0.52})
        'epoch 3/10: loss 0.1235, val_accuracy 0.9000 (0.52 s)'
    """
    parts = [f"{k} {v:.4g}" if k == "lr" else f"{k} {v:.4f}" for k, v in logs.items()
             if k != "time" and not isinstance(v, np.ndarray)]
    took = f" ({logs['time']:.2f} s)" if "time" in logs else ""
    return f"epoch {epoch + 1}/{epochs}: " + ", ".join(parts) + took


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _has_tqdm():
    try:
        import tqdm  # noqa: F401
    except ImportError:  # without tqdm, fall back to one line per epoch
        return False
    return True


class ProgressBar(Callback):
    """On a terminal, a tqdm bar over the epochs that stays on screen for the whole run, a bar over the
    batches of the current epoch beneath it and one line per finished epoch above; otherwise one line
    per epoch (or nothing).

    ``fit`` adds one from its ``verbose`` argument: 0 silent, 1 the bars when
    stderr is a terminal and one line per epoch when it is not (logs, CI,
    notebooks that capture output), 2 one line per epoch always.

    Args:
        verbose: 1 or 2 as above (0 prints nothing).
        stream: where the bar goes (default ``sys.stderr``); lines go to ``sys.stdout``
            unless a stream is given.

    Example:
        >>> ProgressBar(verbose=2).wants_batches
        False
    """

    root_only = True

    def __init__(self, verbose=1, stream=None):
        whole = is_real(verbose) and isinstance(verbose, numbers.Integral)  # True == 1 and 1.0 == 1 are no levels
        if not whole or verbose not in (0, 1, 2):
            raise (ValueError if whole else ArgumentError)(f"verbose must be 0, 1 or 2, got {short_repr(verbose)}")
        if stream is not None and not callable(getattr(stream, "write", None)):
            raise ArgumentError(f"stream must be a file-like object with a write method, such as sys.stdout, "
                                f"got {short_repr(stream)}")
        self.verbose, self.stream = int(verbose), stream
        self.wants_batches, self.bar, self.run_bar = False, None, None

    def on_train_begin(self, ctx):
        bar_stream = self.stream or sys.stderr
        self.wants_batches = self.verbose == 1 and _is_terminal(bar_stream) and _has_tqdm()
        self._every = max(1, ctx.steps_per_epoch // 20)  # refresh the loss shown ~20 times an epoch
        if self.wants_batches:
            from tqdm.auto import tqdm

            # A resumed run starts its bar at the epochs already done.
            self.run_bar = tqdm(total=ctx.epochs, initial=min(len(ctx.history), ctx.epochs), desc="training",
                                unit="epoch", leave=True, file=bar_stream, dynamic_ncols=True, position=0)

    def on_epoch_begin(self, ctx, epoch):
        if self.wants_batches:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=ctx.steps_per_epoch, desc=f"epoch {epoch + 1}/{ctx.epochs}", unit="batch",
                            leave=False, file=self.stream or sys.stderr, dynamic_ncols=True, position=1)

    def on_batch_end(self, ctx, batch, loss):
        self.bar.update(1)
        if batch % self._every == 0:
            self.bar.set_postfix_str(f"loss {float(loss):.4f}", refresh=False)

    def on_epoch_end(self, ctx, epoch, logs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.run_bar is not None:
            self.run_bar.update(1)
            shown = {k: v for k, v in scalar_logs(logs).items() if k in ("loss", "val_loss")}
            self.run_bar.set_postfix_str(", ".join(f"{k} {v:.4g}" for k, v in shown.items()))
        if self.verbose:
            self._print(format_logs(epoch, ctx.epochs, logs))

    def close(self):
        for name in ("bar", "run_bar"):
            bar = getattr(self, name)
            if bar is not None:
                bar.close()
                setattr(self, name, None)

    def on_train_end(self, ctx):
        self.close()  # training may have ended mid-epoch
        if self.verbose and ctx.history.stop_reason:
            self._print(f"stopped: {ctx.history.stop_reason}")

    def _print(self, line):
        if self.run_bar is not None:  # above the bars, which stay where they are
            self.run_bar.write(line, file=self.stream or sys.stderr)
        else:
            print(line, file=self.stream or sys.stdout, flush=True)


class CSVLogger(Callback):
    """Write the history to a CSV file, one row per epoch (per-class values as extra columns).

    The file is rewritten at the first epoch of each ``fit`` call from the whole
    history, so a resumed run continues the same file without duplicate rows.
    Values that a callback listed before this one adds to the epoch's ``logs`` are
    written too; when a column first appears after the first epoch, the file is
    rewritten with it in the header (earlier rows leave it empty).

    Args:
        path: the CSV file.
        overwrite: replace a file that this logger did not write; otherwise FileExistsError.

    Example:
        >>> CSVLogger("log.csv").path
        'log.csv'
    """

    root_only = True

    def __init__(self, path, overwrite=False):
        self.path, self.overwrite = _file_path(path), check_bool("overwrite", overwrite)
        self._own, self._columns, self._rows = False, None, None

    def on_train_begin(self, ctx):
        check_target(self.path)  # a mistyped folder fails now, not after an epoch
        if os.path.exists(self.path) and not (self._own or self.overwrite):
            raise FileExistsError(f"{self.path} already exists; pass overwrite=True to CSVLogger to replace it")
        self._columns = self._rows = None

    def on_epoch_end(self, ctx, epoch, logs):
        h = ctx.history
        if self._rows is None:  # the first write of a fit call holds the whole history (a resumed run's too)
            self._rows = [self._row(h, i) for i in range(len(h.epochs) - 1)]
        last = {**self._row(h, len(h.epochs) - 1), **self._extras(logs, h.logs)}
        self._rows.append(last)
        if self._columns is None or not last.keys() <= set(self._columns):
            # A column first logged now (a callback's value, more classes): the whole file again, so that
            # the header names every column and no value is dropped.
            self._columns = list(dict.fromkeys(k for row in self._rows for k in row))
            self._write("w", self._rows)
        else:
            self._write("a", [last])
        self._own = True

    @staticmethod
    def _extras(logs, logged):
        """What a callback before this one added to ``logs`` (written too, as Keras's CSVLogger does); text as is."""
        extra = {k: v for k, v in logs.items() if k not in logged}
        numeric = {k: v for k, v in extra.items() if isinstance(v, (numbers.Real, np.ndarray))}
        return {**{k: str(v) for k, v in extra.items() if k not in numeric}, **scalar_logs(numeric)}

    @staticmethod
    def _row(history, i):
        return dict(epoch=history.epochs[i] + 1, **scalar_logs({k: v[i] for k, v in history.logs.items()}))

    def _write(self, mode, rows):
        with open(self.path, mode, newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns, extrasaction="ignore", restval="")
            if mode == "w":
                writer.writeheader()
            writer.writerows(rows)

    def state_dict(self):
        return {"own": self._own}, {}

    def load_state_dict(self, state, arrays):
        self._own = bool(state.get("own"))


class ModelCheckpoint(Callback):
    """Save the model with :func:`chainrule.io.save` when the monitored value improves (or every epoch).

    Args:
        path: target file; ``{epoch}`` in it is replaced by the 1-based epoch number.
        monitor: history key; "val_loss" falls back to "loss" when there is no validation data.
        mode: "min", "max" or "auto".
        save_best_only: save only on improvement (else after every epoch).
        overwrite: replace a file this callback did not write; otherwise FileExistsError.

    The saved metadata holds the epoch and that epoch's scalar logs.

    Example:
        >>> ModelCheckpoint("best.safetensors").save_best_only
        True
    """

    root_only = True

    def __init__(self, path, monitor="val_loss", mode="auto", save_best_only=True, overwrite=False):
        self.path, self.monitor = _file_path(path, template=True), Monitor(monitor, mode)
        self._requested = self.monitor
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.overwrite = check_bool("overwrite", overwrite)
        self.best, self._written = None, []  # files it wrote stay its own across runs

    def on_train_begin(self, ctx):
        # Each run compares against its own best, unless it resumes from a checkpoint.
        if not ctx.resumed:
            self.best = None
        self.monitor = self._requested
        if self.monitor.key == "val_loss" and not ctx.has_val:
            self.monitor = Monitor("loss", "min", self.monitor.min_delta)
        fixed = "{epoch" not in self.path
        check_target(self.path.format(epoch=1))  # a mistyped folder fails now, not after an epoch
        if fixed and os.path.exists(self.path) and not (self.overwrite or self.path in self._written):
            raise FileExistsError(f"{self.path} already exists; pass overwrite=True to ModelCheckpoint to replace it")

    def on_epoch_end(self, ctx, epoch, logs):
        if self.save_best_only:
            value = self.monitor.value(logs, "ModelCheckpoint")
            if not self.monitor.improves(value, self.best):
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1)
        mine = self.overwrite or path in self._written
        meta = {"epoch": epoch + 1, "logs": {k: v for k, v in scalar_logs(logs).items() if math.isfinite(v)}}
        save(ctx.model, path, metadata=meta, overwrite=mine)
        if path not in self._written:
            self._written.append(path)

    def state_dict(self):
        return {"best": self.best, "written": list(self._written)}, {}

    def load_state_dict(self, state, arrays):
        self.best, self._written = state.get("best"), list(state.get("written", []))


def _file_path(path, template=False):
    """``path`` as a non-empty str; with ``template``, one whose only placeholder is ``{epoch}``."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise ArgumentError(f"path must be a file name (a str or os.PathLike), got {short_repr(path)}")
    path = os.fspath(path)
    if not path:
        raise ValueError("path must be a file name, got ''")
    if template:
        try:  # now, not when the first epoch's file is named
            path.format(epoch=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError("path may hold no placeholder but {epoch} (write other braces as {{ and }}), "
                             f"got {short_repr(path)}") from None
    return path
