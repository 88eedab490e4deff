"""One home for what every part of chainrule shares: name registries, argument checks, seeds, JSON.

* :class:`Registry`: a dict keyed by name whose failed lookups raise
  :class:`UnknownNameError`, a ``ValueError`` listing the valid names. Every
  table (ops, activations, losses, optimisers, initialisers, layers, data
  sets, callbacks, metrics, backends) is one.
* :func:`check`, :func:`check_int`, :func:`check_choice`, :func:`check_bool`, :func:`check_real`: argument checks,
  always ``(name, value, ...)``, raising one sentence that names the argument,
  the bad value and what was expected.
* :func:`as_generator`: the one seed policy (an int >= 0, None for fresh
  entropy, or a ``numpy.random.Generator``, which is used as is).
* :func:`to_jsonable`: NumPy values to plain JSON types.
* :func:`short_repr`: a bad value as an error message shows it, at most 60 characters.

Example:
    >>> table = Registry("colour")
    >>> table["red"] = 1
    >>> table["blue"]
    Traceback (most recent call last):
    ...
    chainrule._core.UnknownNameError: unknown colour 'blue'; expected one of: red
"""

from __future__ import annotations

import math
import numbers
import os
import re

import numpy as np

__all__ = ["Registry", "UnknownNameError", "ArgumentError", "check", "check_int", "check_choice", "is_real", "is_number",
           "first_non_whole", "as_generator", "check_seed", "seed_config", "to_jsonable", "short_repr", "as_path",
           "check_bool", "check_real", "real_array"]


class UnknownNameError(KeyError, ValueError):
    """A name that is not in a registry (both a KeyError and a ValueError)."""

    def __str__(self):
        # KeyError would show the message in quotes.
        return str(self.args[0]) if self.args else ""


class ArgumentError(ValueError, TypeError):
    """An argument of the wrong type: both a ValueError and a TypeError, as scikit-learn's parameter errors are."""


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
        >>> acts
        <activation registry: double>
    """

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def __repr__(self):
        # The names, not a dict of functions: what a reader (and the API reference) wants to see.
        return f"<{self.kind} registry: {', '.join(sorted(self)) or 'empty'}>"

    def __missing__(self, name):
        valid = ", ".join(sorted(self)) or "(none registered)"
        raise UnknownNameError(f"unknown {self.kind} {short_repr(name)}; expected one of: {valid}")

    def register(self, obj=None, *, name=None):
        """Add ``obj`` under ``name`` (default: its ``__name__``); usable as a decorator."""
        if obj is None:
            return lambda o: self.register(o, name=name)
        key = name or obj.__name__
        if key in self:
            raise ValueError(f"{self.kind} {key!r} is already registered")
        self[key] = obj
        return obj

    def name_of(self, obj):
        """The name under which ``obj`` is registered, or None."""
        for key, value in self.items():
            if value is obj:
                return key
        return None


_RULES = {
    ">0": (lambda v: v > 0, "> 0"),
    ">=0": (lambda v: v >= 0, ">= 0"),
    "[0,1)": (lambda v: 0 <= v < 1, "in [0, 1)"),
    "(0,1)": (lambda v: 0 < v < 1, "in (0, 1)"),
    "[0,1]": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "(0,1]": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "int>0": (lambda v: isinstance(v, numbers.Integral) and v > 0, "a positive integer"),
    "int>=0": (lambda v: isinstance(v, numbers.Integral) and v >= 0, "a non-negative integer"),
}


def is_real(value):
    """True for a real number that is not a bool (ints, floats, NumPy scalars)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# A number as data files write one: ASCII digits, an optional exponent, nan/inf. Python's float() also
# takes "1_000" and other scripts' digits ("١٢"), which in a data file are far likelier a mistake.
_DECIMAL = re.compile(r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)\s*", re.IGNORECASE | re.ASCII)


def is_number(text):
    """True if ``text`` is a number: a plain decimal string (or nan/inf), or a value ``float()`` takes.

    Example:
        >>> is_number("1e-3"), is_number("abc"), is_number("1_000"), is_number(2)
        (True, False, False, True)
    """
    if isinstance(text, str):
        return _DECIMAL.fullmatch(text) is not None
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def first_non_whole(values):
    """The flat index of the first entry of ``values`` that is not a whole number, or None.

    Class labels may arrive as floats (0.0, 1.0, ... from a text file); anything else (0.5, nan, inf)
    is not one.
    Integer and bool arrays are whole throughout.

    Example:
        >>> first_non_whole(np.array([0.0, 2.0, 0.5])), first_non_whole(np.array([1.0, 3.0]))
        (2, None)
    """
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return None
    flat = values.reshape(-1)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(flat) & (flat == np.floor(flat))  # nan and inf are no labels either
    return None if whole.all() else int(np.argmin(whole))


def short_repr(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters (ending in ``...``), so a huge bad value cannot flood a message.

    Example:
        >>> short_repr("x" * 100, 12)
        "'xxxxxxxx..."
        >>> short_repr([1, 2])
        '[1, 2]'
    """
    if isinstance(value, (str, bytes)) and len(value) > limit:
        value = value[:limit]  # the repr of a long string is as long; cut before making it
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_path(name, value):
    """``value`` as a file-system path string, or ``ArgumentError`` if it is no str, bytes or os.PathLike.

    Example:
        >>> as_path("path", 5)
        Traceback (most recent call last):
        ...
        chainrule._core.ArgumentError: path must be a file name (str or os.PathLike), got 5
    """
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise ArgumentError(f"{name} must be a file name (str or os.PathLike), got {short_repr(value)}")
    return os.fsdecode(os.fspath(value))


def check(name, value, rule):
    """``value`` unchanged, or ``ValueError("<name> must be <rule>, got <value>")``.

    Rules: ``">0"``, ``">=0"``, ``"[0,1)"``, ``"(0,1)"``, ``"[0,1]"``, ``"(0,1]"``, ``"int>0"``,
    ``"int>=0"``. Bools, non-numbers, NaN and infinities never pass.

    Example:
        >>> check("lr", -0.1, ">0")
        Traceback (most recent call last):
        ...
        ValueError: lr must be > 0, got -0.1
    """
    test, text = _RULES[rule]
    if not is_real(value):
        raise ArgumentError(f"{name} must be {text}, got {short_repr(value)}")
    if not (_finite(value) and test(value)):
        raise ValueError(f"{name} must be {text}, got {short_repr(value)}")
    return value


def check_bool(name, value):
    """``value`` as a bool if it is one (NumPy's too), else ``ArgumentError``.

    ``bool(value)`` would turn the text "False" (or any non-empty list) into True.

    Example:
        >>> check_bool("nesterov", "False")
        Traceback (most recent call last):
        ...
        chainrule._core.ArgumentError: nesterov must be True or False, got 'False'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


def check_real(name, value, what="a finite number"):
    """``value`` as a float if it is a finite real number of any sign (not a bool), else one sentence saying ``what``.

    Example:
        >>> check_real("threshold", -0.5)
        -0.5
    """
    if not is_real(value):
        raise ArgumentError(f"{name} must be {what}, got {short_repr(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be {what}, got {short_repr(value)}")
    return number


def real_array(name, value, array):
    """``array`` (``np.asarray(value)``) if it holds real numbers or bools, an object array of them as float64.

    Anything else (text, complex, None) raises ``ArgumentError`` showing ``value``: ``astype(float)`` would read
    "1.5" as 1.5 and drop an imaginary part without a word.

    Example:
        >>> real_array("x", ["1", "2"], np.asarray(["1", "2"]))
        Traceback (most recent call last):
        ...
        chainrule._core.ArgumentError: x must be an array of real numbers, got ['1', '2']
    """
    kind = array.dtype.kind
    if kind == "O" and array.ndim and all(is_real(v) for v in array.flat):
        return array.astype(np.float64)  # a list mixing ints, floats and NumPy scalars
    if kind not in "biuf":
        raise ArgumentError(f"{name} must be an array of real numbers, got {short_repr(value)}")
    return array


def _finite(value):
    # math.isfinite cannot take ints beyond float range; those are finite by definition.
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def check_int(name, value, low=1, high=None, high_is=None):
    """``value`` as a Python int in ``[low, high]``, or ``ValueError`` naming it.

    ``high_is`` says what the upper bound counts (``"training rows"``), for the message.

    Example:
        >>> check_int("epochs", 3)
        3
        >>> check_int("batch_size", 0, 1, 10)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be an integer from 1 to 10, got 0
    """
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return int(value)
    if high is not None:
        expected = f"an integer from {low} to " + (f"the {high} {high_is}" if high_is else f"{high}")
    else:
        expected = {0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
    raise (ValueError if ok else ArgumentError)(f"{name} must be {expected}, got {short_repr(value)}")


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``, else ``ValueError`` listing them.

    Example:
        >>> check_choice("mode", "up", ("min", "max"))
        Traceback (most recent call last):
        ...
        ValueError: mode must be one of 'min', 'max', got 'up'
    """
    try:
        ok = value in choices
    except TypeError:  # unhashable value against a set/dict
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {short_repr(value)}")
    return value


def as_generator(seed, name="seed"):
    """The one seed policy: a ``np.random.Generator`` from an int >= 0, None (fresh entropy) or a Generator.

    A Generator is returned as is, so callers that pass one share its stream.

    Example:
        >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
        True
        >>> as_generator(-1)
        Traceback (most recent call last):
        ...
        ValueError: seed must be an integer >= 0, None or a numpy.random.Generator, got -1
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise _seed_error(seed, name, "an integer >= 0, None or a numpy.random.Generator")


def _seed_error(seed, name, expected):
    wrong_type = not isinstance(seed, numbers.Integral) or isinstance(seed, bool)
    return (ArgumentError if wrong_type else ValueError)(f"{name} must be {expected}, got {short_repr(seed)}")


def check_seed(seed, name="seed"):
    """``seed`` as an int >= 0 or None (what can be written to a file), else the :func:`as_generator` error."""
    if seed is None:
        return None
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise _seed_error(seed, name, "an integer >= 0 or None")


def seed_config(seed):
    """The JSON form of a seed: the int itself, or None for a Generator or fresh entropy."""
    return int(seed) if isinstance(seed, numbers.Integral) else None


def to_jsonable(value, where="metadata"):
    """``value`` with NumPy scalars/arrays and tuples turned into plain JSON types (TypeError otherwise).

    Example:
        >>> to_jsonable({"w": np.arange(2), "lr": np.float32(0.5), "shape": (2, 3)})
        {'w': [0, 1], 'lr': 0.5, 'shape': [2, 3]}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, where) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{where} must hold only JSON types (dict, list, str, number, bool, None) "
                    f"or NumPy arrays, got a {type(value).__name__}")
