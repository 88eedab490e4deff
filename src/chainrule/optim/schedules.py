"""Learning-rate schedules: step, exponential, inverse-time (1/t), cosine, reduce-on-plateau.

A schedule wraps any object with an ``lr`` attribute (every optimiser here)
and rewrites ``optimizer.lr`` each time its :meth:`LRSchedule.step` is called,
usually once per epoch after the optimiser's own steps. The closed-form
schedules compute lr from ``base_lr`` and the count t of ``step()`` calls.

Example:
    >>> import chainrule as cr
    >>> from chainrule import optim
    >>> opt = optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = optim.StepDecay(opt, step_size=2, gamma=0.5)
    >>> [sched.step() for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math

import numpy as np

from .._core import ArgumentError, Registry, check, check_bool, check_choice, is_real, short_repr

__all__ = ["LRSchedule", "StepDecay", "ExponentialDecay", "InverseTimeDecay", "CosineAnnealing",
           "ReduceOnPlateau", "SCHEDULES"]

SCHEDULES = Registry("schedule")


class LRSchedule:
    """Base class: remembers the optimiser's starting lr and the number of steps taken.

    Subclasses write ``lr_at(t)`` (closed form) or override :meth:`step`.
    ``STATE`` names the attributes saved by :meth:`state_dict`.
    """

    STATE = ("t", "base_lr")

    def __init__(self, optimizer):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"a schedule needs an optimizer with an lr attribute, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        # Every lr the schedule sets is a multiple of this one, so nan or a negative rate here would spread.
        self.base_lr = check("optimizer.lr", optimizer.lr, ">=0")
        self.t = 0

    def _check_min_lr(self, min_lr):
        """``min_lr`` >= 0 and at most the starting lr (above it, a decay would raise the rate)."""
        check("min_lr", min_lr, ">=0")
        if min_lr > self.base_lr:
            raise ValueError(f"min_lr must be at most the optimizer's lr {self.base_lr:g}, got {short_repr(min_lr)}")
        return min_lr

    @property
    def lr(self):
        """The optimiser's current learning rate."""
        return self.optimizer.lr

    def lr_at(self, t):
        raise NotImplementedError

    def step(self, metric=None):
        """Advance one epoch and set ``optimizer.lr``; returns the new lr."""
        self.t += 1
        self.optimizer.lr = self.lr_at(self.t)
        return self.optimizer.lr

    def state_dict(self):
        """A JSON-able dict of the schedule's counters, settings and the current lr."""
        state = {k: getattr(self, k) for k in self.STATE}
        return {"type": SCHEDULES.name_of(type(self)), "lr": self.optimizer.lr, **state}

    def load_state_dict(self, state):
        """Restore counters and settings, and the optimiser's lr, from :meth:`state_dict` output."""
        name = SCHEDULES.name_of(type(self))
        if not isinstance(state, dict):
            raise ArgumentError(f"state must be the dict a schedule's state_dict() returns, got {short_repr(state)}")
        if state.get("type") != name:
            raise ValueError(f"state was saved by schedule {state.get('type')!r}, not {name!r}")
        missing = [k for k in self.STATE + ("lr",) if k not in state]
        if missing:
            raise ValueError(f"state has no {missing[0]!r}, which a {name!r} schedule saves")
        for k in self.STATE:
            setattr(self, k, state[k])
        self.optimizer.lr = state["lr"]

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.STATE) + ")"


@SCHEDULES.register(name="step")
class StepDecay(LRSchedule):
    """lr = base_lr * gamma ** floor(t / step_size): drop by ``gamma`` every ``step_size`` epochs."""

    STATE = LRSchedule.STATE + ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size = check("step_size", step_size, "int>0")
        self.gamma = check("gamma", gamma, "(0,1]")  # a decay: above 1 the rate would grow until training diverges

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)


@SCHEDULES.register(name="exponential")
class ExponentialDecay(LRSchedule):
    """lr = base_lr * gamma ** t."""

    STATE = LRSchedule.STATE + ("gamma",)

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = check("gamma", gamma, "(0,1]")  # (see StepDecay)

    def lr_at(self, t):
        return self.base_lr * self.gamma**t


@SCHEDULES.register(name="inverse_time")
class InverseTimeDecay(LRSchedule):
    """1/t decay: lr = base_lr / (1 + decay_rate * t / decay_steps) (floored t / decay_steps if staircase)."""

    STATE = LRSchedule.STATE + ("decay_rate", "decay_steps", "staircase")

    def __init__(self, optimizer, decay_rate, decay_steps=1, staircase=False):
        super().__init__(optimizer)
        self.decay_rate = check("decay_rate", decay_rate, ">=0")
        self.decay_steps = check("decay_steps", decay_steps, "int>0")
        self.staircase = check_bool("staircase", staircase)

    def lr_at(self, t):
        k = t // self.decay_steps if self.staircase else t / self.decay_steps
        return self.base_lr / (1.0 + self.decay_rate * k)


@SCHEDULES.register(name="cosine")
class CosineAnnealing(LRSchedule):
    """Cosine annealing (Loshchilov & Hutter, 2017, SGDR) without restarts.

    lr = min_lr + (base_lr - min_lr) (1 + cos(pi t / t_max)) / 2 for t <= t_max,
    then it stays at ``min_lr`` (at most the optimiser's lr). With ``min_lr=0``, steps after
    ``t_max`` change nothing; ``fit``'s ``LRScheduler`` warns when that leaves epochs untrained.
    """

    STATE = LRSchedule.STATE + ("t_max", "min_lr")

    def __init__(self, optimizer, t_max, min_lr=0.0):
        super().__init__(optimizer)
        self.t_max = check("t_max", t_max, "int>0")
        self.min_lr = self._check_min_lr(min_lr)

    def lr_at(self, t):
        t = min(t, self.t_max)
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * t / self.t_max)) / 2.0


_IMPROVED = {
    ("min", "rel"): lambda a, best, th: a < best * (1.0 - th),
    ("min", "abs"): lambda a, best, th: a < best - th,
    ("max", "rel"): lambda a, best, th: a > best * (1.0 + th),
    ("max", "abs"): lambda a, best, th: a > best + th,
}


@SCHEDULES.register(name="plateau")
class ReduceOnPlateau(LRSchedule):
    """Multiply lr by ``factor`` when a monitored metric stops improving for ``patience`` epochs.

    Call ``step(metric)`` once per epoch with, e.g., the validation loss. An
    epoch improves on the best so far when (mode "min", threshold_mode "rel")
    ``metric < best * (1 - threshold)``. After a cut, ``cooldown`` epochs pass
    before bad epochs count again; lr never goes below ``min_lr``.

    Args:
        mode: "min" (loss) or "max" (accuracy).
        factor: in (0, 1).
        patience: bad epochs tolerated before a cut (int >= 0).
        threshold: minimum relative (or absolute) improvement, >= 0.
        threshold_mode: "rel" or "abs".
        cooldown: epochs to wait after a cut (int >= 0).
        min_lr: lower bound (>= 0, at most the optimiser's lr).
    """

    STATE = LRSchedule.STATE + ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                                "min_lr", "best", "bad_epochs", "cooldown_left")

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0):
        super().__init__(optimizer)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = check("factor", factor, "(0,1)")
        self.patience = check("patience", patience, "int>=0")
        self.threshold = check("threshold", threshold, ">=0")
        self.cooldown = check("cooldown", cooldown, "int>=0")
        self.min_lr = self._check_min_lr(min_lr)
        self.best = None
        self.bad_epochs = 0
        self.cooldown_left = 0

    def step(self, metric=None):
        """Record this epoch's metric; cut lr if it has not improved for more than ``patience`` epochs."""
        metric = _metric_value(metric)
        self.t += 1
        improved = _IMPROVED[self.mode, self.threshold_mode]
        if self.best is None or improved(metric, self.best, self.threshold):
            self.best, self.bad_epochs = metric, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self.cooldown_left, self.bad_epochs = self.cooldown, 0
        return self.optimizer.lr


def _metric_value(metric):
    """The monitored value as a float: a real number or a 0-d array (nan counts as no improvement)."""
    if metric is None:
        raise ValueError("ReduceOnPlateau.step needs the monitored metric, as in sched.step(val_loss)")
    if isinstance(metric, np.ndarray) and metric.shape == () and metric.dtype.kind in "iuf":
        metric = metric.item()
    if not is_real(metric):  # float() would read the text "0.5" or fail on a list with its own words
        raise ArgumentError(f"metric must be a real number such as the validation loss, got {short_repr(metric)}")
    return float(metric)
