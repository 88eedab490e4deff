"""Learning-rate schedules as a callback: one schedule step per epoch."""

from __future__ import annotations

import inspect

from .base import Callback, Monitor
from ..optim import SCHEDULES, ReduceOnPlateau

__all__ = ["LRScheduler"]


class LRScheduler(Callback):
    """Step a learning-rate schedule once per epoch (after the epoch's logs are made).

    Args:
        schedule: an ``optim.LRSchedule`` built on the optimiser ``fit`` uses, or a
            name of ``optim.SCHEDULES`` ("step", "exponential", "inverse_time",
            "cosine", "plateau") built on it when training starts.
        monitor: the history key passed to schedules that need a metric
            (reduce-on-plateau); ignored by the others.
        **options: schedule arguments when ``schedule`` is a name.

    Example:
        >>> LRScheduler("plateau", monitor="val_loss", factor=0.5, patience=2).options
        {'factor': 0.5, 'patience': 2}
    """

    def __init__(self, schedule, monitor="val_loss", **options):
        if isinstance(schedule, str):
            _check_options(schedule, options)  # now, not when a run starts
        self.spec, self.schedule, self.options = schedule, schedule, options
        self.monitor = Monitor(monitor, "min")
        self._pending_state = None

    def on_train_begin(self, ctx):
        if isinstance(self.spec, str):  # a fresh schedule on this run's optimizer, every fit call
            self.schedule = SCHEDULES[self.spec](ctx.optimizer, **self.options)
        elif getattr(self.schedule, "optimizer", None) is not ctx.optimizer:
            raise ValueError("the LR schedule was built on a different optimizer than the one fit trains with")
        if self._pending_state is not None:
            self.schedule.load_state_dict(self._pending_state)
        self._needs_metric = isinstance(self.schedule, ReduceOnPlateau)
        if self._needs_metric and self.monitor.key == "val_loss" and not ctx.has_val:
            self.monitor = Monitor("loss", "min")  # no validation data: watch the training loss

    def on_epoch_end(self, ctx, epoch, logs):
        if self._needs_metric:
            self.schedule.step(self.monitor.value(logs, "LRScheduler"))
        else:
            self.schedule.step()

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
