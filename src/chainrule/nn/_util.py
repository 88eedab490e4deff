"""Small pieces shared by nn and optim: name registries, argument checks, generators.

Every concept (activations, losses, initialisers, layers, optimisers, schedules)
has one :class:`Registry`: a dict keyed by name whose failed lookups raise a
``ValueError`` that lists the valid names.

Example:
    >>> table = Registry("colour")
    >>> table["red"] = 1
    >>> table["blue"]
    Traceback (most recent call last):
    ...
    chainrule.nn._util.UnknownNameError: unknown colour 'blue'; expected one of: red
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from ..tensor import OpsMixin

__all__ = ["Registry", "UnknownNameError", "array_of", "as_generator", "check", "check_choice", "check_options",
           "seed_config"]


class UnknownNameError(KeyError, ValueError):
    """A name that is not in a registry (both a KeyError and a ValueError)."""

    def __str__(self):
        # KeyError would show the message in quotes.
        return str(self.args[0]) if self.args else ""


class Registry(dict):
    """A name -> object table whose missing names raise :class:`UnknownNameError`.

    Args:
        kind: what the entries are ("activation", "loss", ...), used in errors.

    Example:
        >>> acts = Registry("activation")
        >>> @acts.register
        ... def double(x):
        ...     return 2 * x
        >>> acts["double"](3)
        6
    """

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def __missing__(self, name):
        valid = ", ".join(sorted(self)) or "(none registered)"
        raise UnknownNameError(f"unknown {self.kind} {name!r}; expected one of: {valid}")

    def register(self, obj=None, *, name=None):
        """Add ``obj`` under ``name`` (default: its ``__name__``); usable as a decorator."""
        if obj is None:
            return lambda o: self.register(o, name=name)
        key = name or obj.__name__
        if key in self:
            raise ValueError(f"a {self.kind} named {key!r} is already registered")
        self[key] = obj
        return obj

    def name_of(self, obj):
        """The name under which ``obj`` is registered, or None."""
        for key, value in self.items():
            if value is obj:
                return key
        return None


_CHECKS = {
    ">0": (lambda v: v > 0, "> 0"),
    ">=0": (lambda v: v >= 0, ">= 0"),
    "[0,1)": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "(0,1)": (lambda v: 0 < v < 1, "in (0, 1)"),
    "[0,1]": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "int>0": (lambda v: isinstance(v, numbers.Integral) and v > 0, "a positive integer"),
    "int>=0": (lambda v: isinstance(v, numbers.Integral) and v >= 0, "a non-negative integer"),
}


def check(name, value, rule):
    """Raise ``ValueError("<name> must be <rule>, got <value>")`` unless ``value`` obeys ``rule``.

    Rules: ``">0"``, ``">=0"``, ``"[0,1)"``, ``"(0,1)"``, ``"[0,1]"``, ``"int>0"``, ``"int>=0"``.

    Example:
        >>> check("lr", -0.1, ">0")
        Traceback (most recent call last):
        ...
        ValueError: lr must be > 0, got -0.1
    """
    test, text = _CHECKS[rule]
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and test(value)):
        raise ValueError(f"{name} must be {text}, got {value!r}")
    return value


def check_choice(name, value, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices`` (listed in the message)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def as_generator(seed):
    """A ``np.random.Generator`` from an int seed, an existing Generator, or None (fresh entropy).

    Example:
        >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
        True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {seed!r}")


def seed_config(seed):
    """The JSON form of a seed: the int itself, or None for a Generator or fresh entropy."""
    return int(seed) if isinstance(seed, numbers.Integral) else None


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
