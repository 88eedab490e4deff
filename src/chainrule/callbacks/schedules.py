"""Learning-rate schedules as a callback: one schedule step per epoch."""

from __future__ import annotations

import inspect
import sys
import warnings

from .._core import ArgumentError, is_real, short_repr
from ..optim import SCHEDULES, CosineAnnealing, LRSchedule, ReduceOnPlateau
from ..train.history import higher_is_better
from .base import Callback, Monitor

__all__ = ["LRScheduler"]


class LRScheduler(Callback):
    """Step a learning-rate schedule once per epoch (after the epoch's logs are made).

    Args:
        schedule: an ``optim.LRSchedule`` built on the optimiser ``fit`` uses, or a
            name of ``optim.SCHEDULES`` ("step", "exponential", "inverse_time",
            "cosine", "plateau") built on it when training starts.
        monitor: the history key reduce-on-plateau watches (default "val_loss",
            or "loss" without validation data); its ``mode`` defaults to the key's
            direction: "max" for ``val_accuracy``. The other schedules read no
            metric, so they refuse one rather than ignore it.
        **options: schedule arguments when ``schedule`` is a name (checked at once).

    A schedule that sets lr to 0 with epochs left (cosine with ``t_max`` below the
    epochs and ``min_lr=0``) gets one ``UserWarning`` per run naming it.

    Example:
        >>> LRScheduler("plateau", monitor="val_loss", factor=0.5, patience=2).options
        {'factor': 0.5, 'patience': 2}
    """

    def __init__(self, schedule, monitor=None, **options):
        if isinstance(schedule, str):
            _check_options(schedule, options)  # now, not when a run starts
        elif not isinstance(schedule, LRSchedule):
            raise ArgumentError("schedule must be an optim.LRSchedule or a name of optim.SCHEDULES, "
                                f"got {short_repr(schedule)}")
        elif options:  # they would be ignored: the schedule is built already
            raise ValueError(f"options such as {next(iter(options))}= go with a schedule name; this schedule "
                             f"is built already, got {short_repr(schedule)}")
        self.spec, self.schedule, self.options = schedule, schedule, options
        self.monitor = self._requested = Monitor("val_loss" if monitor is None else monitor, "min")
        _check_monitor_is_read(schedule, monitor)
        self._pending_state = None

    def on_train_begin(self, ctx):
        self.monitor = self._requested  # each run picks its own fallback below
        self._warned = False
        if isinstance(self.spec, str):  # a fresh schedule on this run's optimizer, every fit call
            self.schedule = SCHEDULES[self.spec](ctx.optimizer, **self._build_options())
        elif getattr(self.schedule, "optimizer", None) is not ctx.optimizer:
            raise ValueError("the LR schedule was built on a different optimizer than the one fit trains with")
        if self._pending_state is not None:  # restored from a checkpoint: for this run only
            self.schedule.load_state_dict(self._pending_state)
            self._pending_state = None
        self._needs_metric = isinstance(self.schedule, ReduceOnPlateau)
        if self._needs_metric and self.monitor.key == "val_loss" and not ctx.has_val:
            self.monitor = Monitor("loss", "min")  # no validation data: watch the training loss
        if self._needs_metric:
            self._check_mode()

    def _build_options(self):
        """The options, with reduce-on-plateau's mode taken from the monitor when not given (max for a score)."""
        if SCHEDULES[self.spec] is ReduceOnPlateau and "mode" not in self.options:
            return {"mode": _direction(self.monitor.key) or "min", **self.options}
        return self.options

    def _check_mode(self):
        """Refuse a plateau schedule that would cut the rate while the monitored score improves."""
        key, want, mode = self.monitor.key, _direction(self.monitor.key), self.schedule.mode
        if want is not None and mode != want:
            goes = "rises" if want == "max" else "falls"
            raise ValueError(f"ReduceOnPlateau has mode={mode!r}, but the monitored {key!r} improves as it "
                             f"{goes}; pass mode={want!r}")

    def on_epoch_end(self, ctx, epoch, logs):
        if self._needs_metric:
            lr = self.schedule.step(self.monitor.value(logs, "LRScheduler"))
        else:
            lr = self.schedule.step()
        # Epochs at lr 0 train nothing; worth one warning per run, not an error (the weights so far are good).
        if epoch + 1 < ctx.epochs and not ctx.stop_training and not self._warned and is_real(lr) and lr == 0:
            self._warned = True
            fix = (f"pass t_max={ctx.epochs} (the epochs) or min_lr > 0" if isinstance(self.schedule, CosineAnnealing)
                   else "let it decay more slowly")
            warnings.warn(f"{type(self.schedule).__name__} set lr to 0 after epoch {epoch + 1} of {ctx.epochs}, "
                          f"so the epochs left will not change the weights; {fix}", UserWarning, stacklevel=2)

    def state_dict(self):
        return {"schedule": self.schedule.state_dict()}, {}

    def load_state_dict(self, state, arrays):
        # The schedule may not exist yet (built from a name in on_train_begin): apply it there.
        self._pending_state = state.get("schedule")


def _check_options(name, options):
    """Refuse option names the named schedule does not take, or a missing required one, in one sentence."""
    params = list(inspect.signature(SCHEDULES[name].__init__).parameters.values())[2:]  # after self, optimizer
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    takes = ", ".join(p.name + (" (required)" if p.name in required else "") for p in params)
    unknown = [k for k in options if k not in {p.name for p in params}]
    missing = [k for k in required if k not in options]
    if unknown or missing:
        what = f"got {unknown[0]!r}" if unknown else f"{missing[0]!r} is missing"
        raise ValueError(f"schedule {name!r} takes {takes}; {what}")
    SCHEDULES[name](_AnyLR(), **options)  # the values too: step_size=0 fails here, with the schedule's sentence


class _AnyLR:
    """A stand-in optimiser for checking a schedule's options: its lr is above any min_lr (which is compared
    with the real optimiser's lr when the run starts)."""

    lr = sys.float_info.max


def _direction(key):
    """The better direction of ``key``, "max" (accuracy) or "min" (losses), or None when it is not known."""
    try:
        return "max" if higher_is_better(key) else "min"
    except ValueError:  # a quantity of the user's own: the schedule's mode decides
        return None


def _check_monitor_is_read(schedule, monitor):
    """Refuse a ``monitor`` that the schedule would ignore: a typo there, or a plateau meant, would go unseen."""
    kind = SCHEDULES[schedule] if isinstance(schedule, str) else type(schedule)
    if monitor is not None and not issubclass(kind, ReduceOnPlateau):
        raise ValueError(f"monitor={short_repr(monitor)} is read only by the 'plateau' schedule; {kind.__name__} "
                         "follows the epoch count alone, so leave monitor out")
