"""Weight initialisers: one function per scheme, one registry by name.

Every initialiser has the signature ``fn(shape, seed=None, dtype=None, **options)``
and returns a new ndarray; ``seed`` is an int or a ``np.random.Generator`` so
every draw is reproducible. Fans follow the (out_features, in_features) weight
layout: ``fan_in = shape[1] * receptive``, ``fan_out = shape[0] * receptive``.

Layers accept an initialiser as a registry name (``"he_normal"``), a dict with
options (``{"name": "constant", "value": 0.1}``) or any callable with the
signature above; see :func:`get_initializer`.

Example:
    >>> from chainrule.nn import init
    >>> w = init.xavier_uniform((3, 2), seed=0)
    >>> w.shape, w.dtype, bool(abs(w).max() <= (6 / 5) ** 0.5)
    ((3, 2), dtype('float32'), True)
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..autodiff.tensor import get_default_dtype
from .._core import Registry, as_generator
from ..io.limits import reserve

__all__ = [
    "INITIALIZERS", "get_initializer", "fans", "zeros", "ones", "constant", "uniform", "normal",
    "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
]

INITIALIZERS = Registry("initializer")


def fans(shape):
    """``(fan_in, fan_out)`` of a weight of ``shape`` laid out as (out, in, *receptive).

    Example:
        >>> fans((4, 3)), fans((5,))
        ((3, 4), (5, 5))
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _dtype(dtype):
    return np.dtype(get_default_dtype() if dtype is None else dtype)


def _uniform(shape, bound, seed, dtype):
    return as_generator(seed).uniform(-bound, bound, size=tuple(shape)).astype(_dtype(dtype))


def _normal(shape, std, seed, dtype):
    return (as_generator(seed).standard_normal(tuple(shape)) * std).astype(_dtype(dtype))


def _limited(fn):
    """Register ``fn`` behind the parameter limits: a weight's size is checked before it is allocated."""
    @functools.wraps(fn)
    def init(shape, seed=None, dtype=None, **options):
        reserve(shape, _dtype(dtype).itemsize)
        return fn(shape, seed=seed, dtype=dtype, **options)

    return INITIALIZERS.register(init)


@_limited
def zeros(shape, seed=None, dtype=None):
    """All zeros (the usual bias initialiser; never for weights: hidden units would stay identical)."""
    return np.zeros(tuple(shape), _dtype(dtype))


@_limited
def ones(shape, seed=None, dtype=None):
    """All ones."""
    return np.ones(tuple(shape), _dtype(dtype))


@_limited
def constant(shape, seed=None, dtype=None, value=0.0):
    """Every entry equal to ``value``.

    Example:
        >>> constant((2,), value=0.5).tolist()
        [0.5, 0.5]
    """
    return np.full(tuple(shape), value, _dtype(dtype))


@_limited
def uniform(shape, seed=None, dtype=None, scale=0.05):
    """Small uniform values in [-scale, scale]: "initialise all weights to small non-zero values".

    Example:
        >>> bool(abs(uniform((100,), seed=1)).max() <= 0.05)
        True
    """
    return _uniform(shape, scale, seed, dtype)


@_limited
def normal(shape, seed=None, dtype=None, std=0.01):
    """Small Gaussian values with mean 0 and standard deviation ``std``."""
    return _normal(shape, std, seed, dtype)


@_limited
def xavier_uniform(shape, seed=None, dtype=None, gain=1.0):
    """Glorot & Bengio (2010): U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps activation and gradient variances roughly equal across layers of
    tanh/sigmoid units.
    """
    fan_in, fan_out = fans(shape)
    return _uniform(shape, gain * math.sqrt(6.0 / (fan_in + fan_out)), seed, dtype)


@_limited
def xavier_normal(shape, seed=None, dtype=None, gain=1.0):
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return _normal(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), seed, dtype)


_RELU_GAIN = math.sqrt(2.0)  # He et al.'s gain for ReLU units


@_limited
def he_uniform(shape, seed=None, dtype=None, gain=_RELU_GAIN):
    """He et al. (2015): U(-b, b) with b = gain * sqrt(3 / fan_in); gain sqrt(2) suits ReLU."""
    fan_in, _ = fans(shape)
    return _uniform(shape, gain * math.sqrt(3.0 / fan_in), seed, dtype)


@_limited
def he_normal(shape, seed=None, dtype=None, gain=_RELU_GAIN):
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan_in); gain sqrt(2) suits ReLU."""
    fan_in, _ = fans(shape)
    return _normal(shape, gain / math.sqrt(fan_in), seed, dtype)


@_limited
def lecun_uniform(shape, seed=None, dtype=None):
    """LeCun et al. (1998): U(-b, b) with b = sqrt(3 / fan_in), i.e. variance 1 / fan_in."""
    fan_in, _ = fans(shape)
    return _uniform(shape, math.sqrt(3.0 / fan_in), seed, dtype)


@_limited
def lecun_normal(shape, seed=None, dtype=None):
    """LeCun et al. (1998): N(0, 1 / fan_in)."""
    fan_in, _ = fans(shape)
    return _normal(shape, 1.0 / math.sqrt(fan_in), seed, dtype)


for _alias, _target in {
    "glorot_uniform": xavier_uniform, "glorot_normal": xavier_normal,
    "kaiming_uniform": he_uniform, "kaiming_normal": he_normal,
}.items():
    INITIALIZERS.register(_target, name=_alias)


def get_initializer(spec):
    """Resolve an initialiser given as a name, a ``{"name": ..., **options}`` dict or a callable.

    Args:
        spec: ``"he_normal"``; ``{"name": "constant", "value": 0.1}``; or a
            callable ``fn(shape, seed=None, dtype=None)``.

    Returns:
        a callable ``fn(shape, seed=None, dtype=None) -> ndarray``.

    Example:
        >>> get_initializer({"name": "constant", "value": 2.0})((2,)).tolist()
        [2.0, 2.0]
    """
    if callable(spec):
        return spec
    if isinstance(spec, str):
        return INITIALIZERS[spec]
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        options = {k: v for k, v in spec.items() if k != "name"}
        fn = INITIALIZERS[spec["name"]]
        return lambda shape, seed=None, dtype=None: fn(shape, seed=seed, dtype=dtype, **options)
    raise TypeError(f"an initializer must be a name, a dict with a 'name' key or a callable, got {spec!r}")


def init_config(spec):
    """The JSON form of an initialiser spec: its name or dict; a callable must be registered."""
    if isinstance(spec, (str, dict)):
        return spec
    name = INITIALIZERS.name_of(spec)
    if name is None:
        raise ValueError(
            f"initializer {spec!r} is not registered, so it cannot be written to a config; "
            "add it with nn.init.INITIALIZERS.register(fn, name=...) or pass a name"
        )
    return name
