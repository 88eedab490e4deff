"""Callbacks for ``fit``: early stopping, termination criteria, LR schedules, progress, logging, checkpoints.

``CALLBACKS`` maps names to classes, so a callback can be given to ``fit`` as
an object, a name (``"early_stopping"``) or a dict
(``{"name": "early_stopping", "patience": 3}``); see :func:`make_callbacks`.

* :mod:`.base`: the :class:`Callback` protocol, :class:`TrainContext`, :class:`Monitor`;
* :mod:`.stopping`: :class:`EarlyStopping`, :class:`StopOnThreshold`, :class:`StopOnPlateau`;
* :mod:`.schedules`: :class:`LRScheduler`;
* :mod:`.files`: :class:`ProgressBar`, :class:`CSVLogger`, :class:`ModelCheckpoint`;
* :mod:`.gradients`: :class:`GradientNorms` (per-layer gradient norms, for vanishing gradients).
"""

from __future__ import annotations

import inspect

from .._core import ArgumentError, Registry, short_repr
from .base import Callback, Monitor, TrainContext
from .files import CSVLogger, ModelCheckpoint, ProgressBar
from .gradients import GradientNorms, gradient_norms
from .schedules import LRScheduler
from .stopping import EarlyStopping, StopOnPlateau, StopOnThreshold

__all__ = [
    "Callback", "TrainContext", "Monitor", "EarlyStopping", "StopOnThreshold", "StopOnPlateau",
    "LRScheduler", "ProgressBar", "CSVLogger", "ModelCheckpoint", "CALLBACKS", "make_callbacks",
    "GradientNorms", "gradient_norms",
]

#: Callback name -> class.
CALLBACKS = Registry("callback")

for _name, _cls in (("early_stopping", EarlyStopping), ("stop_on_threshold", StopOnThreshold),
                    ("stop_on_plateau", StopOnPlateau), ("lr_scheduler", LRScheduler),
                    ("progress_bar", ProgressBar), ("csv_logger", CSVLogger), ("model_checkpoint", ModelCheckpoint)):
    CALLBACKS.register(_cls, name=_name)
CALLBACKS.register(GradientNorms, name="gradient_norms")


def _one_callback(spec):
    if isinstance(spec, Callback):
        return spec
    if isinstance(spec, str):
        name, options = spec, {}
    elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
        name, options = spec["name"], {k: v for k, v in spec.items() if k != "name"}
    else:
        raise ArgumentError(f"a callback must be a Callback, a name or a dict with a 'name', got {short_repr(spec)}")
    cls = CALLBACKS[name]
    try:  # option names first: a bad option value then raises the callback's own sentence, unchanged
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        raise ValueError(f"callback {name!r} could not be built from {short_repr(options)} ({exc})") from None
    return cls(**options)


def make_callbacks(specs):
    """A list of Callback objects from objects, registry names and ``{"name": ..., **options}`` dicts.

    Example:
        >>> [type(c).__name__ for c in make_callbacks(["early_stopping", {"name": "stop_on_threshold", "threshold": 0.1}])]
        ['EarlyStopping', 'StopOnThreshold']
    """
    if specs is None:
        return []
    if isinstance(specs, (Callback, str, dict)):
        specs = [specs]
    if not hasattr(specs, "__iter__"):
        raise ArgumentError(f"callbacks must be a Callback, a name, a dict or a list of them, got {short_repr(specs)}")
    return [_one_callback(s) for s in specs]
