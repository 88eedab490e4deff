"""Small pieces the layers share: the array behind a value, and option checks for named functions.

Registries, argument checks and the seed policy live in :mod:`chainrule._core`.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..autodiff.tensor import OpsMixin

__all__ = ["array_of", "check_options", "first_layer", "INPUT_WIDTHS"]

#: What a first layer takes: rows of features (in_features), images (in_channels), sequences, indices.
INPUT_WIDTHS = ("in_features", "in_channels", "input_size", "num_embeddings")


def first_layer(model, stop=()):
    """The first module (in registration order) that says what it takes, or None.

    Args:
        model: a Module.
        stop: module types that end the search too (returned when met first), such as Flatten.

    Example:
        >>> from chainrule import nn
        >>> type(first_layer(nn.Sequential(nn.ReLU(), nn.Linear(3, 2)))).__name__
        'Linear'
    """
    return next((m for m in model.modules() if isinstance(m, stop) or any(hasattr(m, a) for a in INPUT_WIDTHS)), None)


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
