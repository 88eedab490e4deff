"""Module-level functions (``cr.exp(x)``, ``cr.where(...)``) and tensor constructors.

Every function works on Tensors, forward-mode Duals, arrays and Python numbers
alike, because each one is a single registry op dispatched on its arguments.

Example:
    >>> import chainrule as cr
    >>> cr.exp(cr.zeros(2))
    tensor([1., 1.])
"""

from __future__ import annotations

import numpy as np

from .._core import as_generator
from .tensor import OpsMixin, Tensor, dispatch, get_default_dtype

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "matmul", "exp", "log", "sqrt", "sin",
    "cos", "tanh", "sigmoid", "relu", "abs", "sign", "step", "maximum", "minimum",
    "where", "clip", "sum", "mean", "amax", "amin", "logsumexp", "softmax", "log_softmax",
    "reshape", "transpose", "broadcast_to", "concatenate", "stack", "linear",
    "softmax_cross_entropy", "conv2d", "max_pool2d", "zeros", "ones", "full", "eye", "arange", "linspace",
    "randn", "rand", "zeros_like", "ones_like", "randn_like", "rand_like", "rng",
]


def _unary(name):
    def f(x):
        return dispatch(name, x)

    f.__name__ = name
    f.__doc__ = f"Element-wise {name} (registry op {name!r}); accepts Tensors, Duals, arrays, numbers."
    return f


def _binary(name):
    def f(a, b):
        return dispatch(name, a, b)

    f.__name__ = name
    f.__doc__ = f"Element-wise {name} with NumPy broadcasting (registry op {name!r})."
    return f


add, sub, mul, div, maximum, minimum, matmul = map(
    _binary, ["add", "sub", "mul", "div", "maximum", "minimum", "matmul"]
)
neg, exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs, sign, step = map(
    _unary, ["neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sign", "step"]
)


def power(a, p):
    """a ** p; a constant Python exponent uses the cheaper ``pow_scalar`` op."""
    if isinstance(p, (int, float, np.integer, np.floating)):
        return dispatch("pow_scalar", a, p=p)
    return dispatch("pow", a, p)


def _arr(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def where(cond, a, b):
    """Pick ``a`` where ``cond`` is true, else ``b``; ``cond`` is a constant."""
    return dispatch("where", a, b, cond=_arr(cond).astype(bool))


def clip(x, lo=None, hi=None):
    """Clamp to [lo, hi]; gradient 1 inside (bounds included), 0 outside."""
    return dispatch("clip", x, lo=lo, hi=hi)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    """Sum over ``axis`` (all axes when None)."""
    return dispatch("sum", x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes when None)."""
    return dispatch("mean", x, axis=axis, keepdims=keepdims)


def amax(x, axis=None, keepdims=False):
    """Max over ``axis``; the gradient goes to the arg-max (ties share it evenly)."""
    return dispatch("max", x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Min over ``axis``; the gradient goes to the arg-min (ties share it evenly)."""
    return dispatch("min", x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """Stable log(sum(exp(x))) over ``axis``."""
    return dispatch("logsumexp", x, axis=axis, keepdims=keepdims)


def softmax(x, axis=-1):
    """Stable softmax along ``axis``."""
    return dispatch("softmax", x, axis=axis)


def log_softmax(x, axis=-1):
    """Stable log-softmax along ``axis``."""
    return dispatch("log_softmax", x, axis=axis)


def reshape(x, shape):
    """Reshape (one dimension may be -1)."""
    return dispatch("reshape", x, shape=tuple(shape))


def transpose(x, axes=None):
    """Permute axes (reverse them when ``axes`` is None)."""
    return dispatch("transpose", x, axes=None if axes is None else tuple(axes))


def broadcast_to(x, shape):
    """Expand size-1 axes to ``shape``; backward sums them back."""
    return dispatch("broadcast_to", x, shape=tuple(shape))


def concatenate(xs, axis=0):
    """Join tensors along an existing axis."""
    return dispatch("concatenate", *xs, axis=axis)


def stack(xs, axis=0):
    """Join tensors along a new axis."""
    return dispatch("stack", *xs, axis=axis)


def linear(x, weight, bias=None):
    """Fused ``x @ weight.T + bias``; weight has shape (out_features, in_features)."""
    if bias is None:
        return dispatch("linear", x, weight)
    return dispatch("linear", x, weight, bias)


def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Fused cross-entropy of integer ``labels`` (n,) under softmax(``logits``) (n, C)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return dispatch("softmax_cross_entropy", logits, labels=_arr(labels), reduction=reduction)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in PyTorch) of NCHW images with a bank of kernels.

    Args:
        x: input of shape (N, C, H, W).
        weight: kernels of shape (F, C, KH, KW).
        bias: optional (F,), added to every output pixel of its channel.
        stride: step between windows, an int or an (along H, along W) pair.
        padding: zeros added on each side of H and W, an int or a pair.

    Shapes:
        output (N, F, OH, OW) with OH = (H + 2 * padding - KH) // stride + 1, likewise OW.

    Example:
        >>> import chainrule as cr
        >>> cr.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 2, 3, 3), padding=1).shape
        (1, 3, 4, 4)
    """
    args = (x, weight) if bias is None else (x, weight, bias)
    return dispatch("conv2d", *args, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None):
    """Max over each kernel window of NCHW images; the gradient goes to the window's (first) arg-max.

    Args:
        x: input of shape (N, C, H, W).
        kernel_size: window size, an int or an (H, W) pair.
        stride: step between windows (default: ``kernel_size``, non-overlapping windows).

    Example:
        >>> import chainrule as cr
        >>> cr.max_pool2d(cr.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return dispatch("max_pool2d", x, kernel_size=kernel_size, stride=stride)


# ------------------------------------------------------------ constructors
def rng(seed=None, generator=None):
    """A NumPy Generator from an explicit ``generator`` or ``seed`` (fresh entropy if both None)."""
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        return generator
    return as_generator(seed)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"shape entries must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def _dtype(dtype):
    return np.dtype(get_default_dtype() if dtype is None else dtype)


def _make(arr, requires_grad):
    return Tensor(arr, requires_grad=requires_grad, dtype=arr.dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape), _dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return _make(np.ones(_shape(shape), _dtype(dtype)), requires_grad)


def full(shape, value, dtype=None, requires_grad=False):
    """A tensor filled with ``value``."""
    return _make(np.full(_shape((shape,)), value, _dtype(dtype)), requires_grad)


def eye(n, dtype=None, requires_grad=False):
    """The n x n identity."""
    return _make(np.eye(n, dtype=_dtype(dtype)), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, stop) (int64 for integer arguments unless dtype given)."""
    arr = np.arange(start, stop, step) if stop is not None else np.arange(0, start, step)
    if dtype is not None or arr.dtype.kind == "f":
        arr = arr.astype(_dtype(dtype))
    return _make(arr, requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from start to stop inclusive."""
    return _make(np.linspace(start, stop, num, dtype=_dtype(dtype)), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Standard-normal samples from an explicit seed or Generator."""
    g = rng(seed, generator)
    return _make(g.standard_normal(_shape(shape)).astype(_dtype(dtype)), requires_grad)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples from an explicit seed or Generator."""
    g = rng(seed, generator)
    return _make(g.random(_shape(shape)).astype(_dtype(dtype)), requires_grad)


def _like(fn):
    def like(t, *, dtype=None, requires_grad=False, **kw):
        data = t.data if isinstance(t, (Tensor, OpsMixin)) and hasattr(t, "data") else np.asarray(t)
        return fn(*data.shape, dtype=dtype or data.dtype, requires_grad=requires_grad, **kw)

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and by default dtype) of ``t``."
    return like


zeros_like, ones_like, randn_like, rand_like = map(_like, [zeros, ones, randn, rand])


from . import functions_more as _more  # noqa: E402  (it needs the constructors above only through tensor)
from .functions_more import *  # noqa: E402,F401,F403

__all__ += _more.__all__

from . import functions_nn as _nn  # noqa: E402  (it builds on the functions above)
from .functions_nn import *  # noqa: E402,F401,F403  (conv2d and max_pool2d with PyTorch's options)

__all__ += [n for n in _nn.__all__ if n not in __all__]
