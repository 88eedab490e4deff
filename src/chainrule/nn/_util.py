"""Small pieces the layers share: the array behind a value, and option checks for named functions.

Registries, argument checks and the seed policy live in :mod:`chainrule._core`.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..autodiff.tensor import OpsMixin

__all__ = ["array_of", "check_options"]


def array_of(x):
    """The plain array behind a Tensor, a Dual or an array-like (for constant masks and checks)."""
    return x.data if isinstance(x, OpsMixin) else np.asarray(x)


def check_options(kind, name, fn, options, skip):
    """Raise ``TypeError`` unless ``fn`` takes every key of ``options`` after its first ``skip`` parameters.

    Example:
        >>> check_options("activation", "relu", lambda x: x, {"slope": 1}, skip=1)
        Traceback (most recent call last):
        ...
        TypeError: activation 'relu' takes options [], got ['slope']
    """
    valid = list(inspect.signature(fn).parameters)[skip:]
    if not set(options) <= set(valid):
        raise TypeError(f"{kind} {name!r} takes options {valid}, got {sorted(options)}")
