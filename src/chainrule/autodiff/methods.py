"""Tensor methods beyond the basic set: more math, tests and logic, reductions and scans.

:class:`MathMethods` is a base of :class:`~chainrule.autodiff.tensor.OpsMixin`,
so every method here works on Tensors (reverse mode) and Duals (forward mode).
A method either names one registry op or composes such ops, so its gradient
comes from the ops' rules. Methods returning booleans or indices (``isnan``,
comparisons, ``argmax``, ``any``) give constants: their gradient is 0, and
``where(x > 0, ...)`` takes such a constant as its condition.

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, -2.0], requires_grad=True)
    >>> x.logaddexp(cr.tensor([0.5, 1.0])).sum().backward()
    >>> x.grad.round(4)
    array([0.5   , 0.0474], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from .ops import REGISTRY

__all__ = ["MathMethods", "pick_axis", "value_of", "constant_like"]


def pick_axis(axis, dim, default=None):
    """The axis from NumPy's ``axis=`` or PyTorch's ``dim=`` (one of them, not both)."""
    if dim is not None:
        if axis is not None and axis is not default:
            raise TypeError(f"give axis= or its alias dim=, not both (got axis={axis!r}, dim={dim!r})")
        return dim
    return axis


def value_of(x):
    """The plain array behind a Tensor or Dual (or ``x`` itself as an array).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> value_of(cr.tensor([1.0], dtype=np.float64)), value_of(np.arange(2)), value_of(3)
        (array([1.]), array([0, 1]), array(3))
    """
    if isinstance(x, np.ndarray):  # an ndarray's own .data is its raw buffer (a memoryview), not an array
        return x
    data = getattr(x, "data", None)
    return np.asarray(x) if data is None else data


def constant_like(x, array):
    """A constant result (no gradient) of the same kind as ``x``: a Tensor for a Tensor, else an array."""
    from .tensor import Tensor  # tensor.py imports this module: break the cycle here

    return Tensor(array) if isinstance(x, Tensor) else np.asarray(array)


def _unary_ops(*names):
    def make(name):
        def method(self):
            return self._op(name)

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} (registry op {name!r})."
        return method

    return [make(n) for n in names]


def _tests(*pairs):
    def make(name, f):
        def method(self):
            return constant_like(self, f(value_of(self)))

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} as a constant boolean tensor (no gradient)."
        return method

    return [make(n, f) for n, f in pairs]


def _logic(*pairs):
    def make(name, f):
        def method(self, other):
            return constant_like(self, f(value_of(self), value_of(other)))

        method.__name__ = name
        method.__doc__ = f"Element-wise {name} with broadcasting, a constant boolean tensor (no gradient)."
        return method

    return [make(n, f) for n, f in pairs]


class MathMethods:
    """Math, tests, logic, reductions and scans shared by Tensor and Dual."""

    __slots__ = ()

    (tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, log2, log10, exp2, log1p, expm1,
     erf, floor, ceil, round, trunc) = _unary_ops(
        "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10",
        "exp2", "log1p", "expm1", "erf", "floor", "ceil", "round", "trunc")
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    isnan, isinf, isfinite, logical_not = _tests(
        ("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
        ("logical_not", np.logical_not))
    logical_and, logical_or, logical_xor, eq, ne, lt, le, gt, ge = _logic(
        ("logical_and", np.logical_and), ("logical_or", np.logical_or),
        ("logical_xor", np.logical_xor), ("eq", np.equal), ("ne", np.not_equal),
        ("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal))
    __lt__, __le__, __gt__, __ge__, __eq__, __ne__ = lt, le, gt, ge, eq, ne
    __hash__ = object.__hash__
    __invert__ = logical_not

    def atan2(self, other):
        """The angle of (x=other, y=self) in (-pi, pi], as ``torch.atan2(self, other)``."""
        return self._op("atan2", other)

    arctan2 = atan2

    def fmod(self, other):
        """C's remainder (sign of self); d/dself = 1, d/dother = -trunc(self / other)."""
        return self._op("fmod", other)

    def remainder(self, other):
        """Python's ``self % other`` (sign of other); d/dself = 1, d/dother = -floor(self / other)."""
        return self._op("remainder", other)

    def __mod__(self, o):
        return self._op("remainder", o)

    def __rmod__(self, o):
        return self._apply(REGISTRY["remainder"], (o, self), {})

    def __floordiv__(self, o):
        return self._op("floor_divide", o)

    def __rfloordiv__(self, o):
        return self._apply(REGISTRY["floor_divide"], (o, self), {})

    def rsqrt(self):
        """1 / sqrt(x)."""
        return 1.0 / self.sqrt()  # not x ** -0.5: rsqrt(-0.0) is -inf, as 1 / sqrt(-0.0)

    def reciprocal(self):
        """1 / x."""
        return 1.0 / self

    def pow(self, p):
        """self ** p (a number or a tensor exponent)."""
        return self ** p

    def logaddexp(self, other):
        """log(exp(self) + exp(other)) without overflow: ``max + log1p(exp(-|self - other|))``."""
        a, b = value_of(self), value_of(other)
        # Equal infinities would give inf - inf = nan in the difference: its term is log1p(1) there.
        same = np.broadcast_to(np.asarray(a == b), np.broadcast_shapes(np.shape(a), np.shape(b)))
        if same.any():
            from .functions import where  # functions imports tensor, which imports this module

            d = where(same, 0.0, self) - where(same, 0.0, other)
        else:
            d = self - other
        return self.maximum(other) + (-(d.abs())).exp().log1p()

    def lerp(self, end, weight):
        """self + weight (end - self), PyTorch's linear interpolation."""
        return self + (end - self) * weight

    # --------------------------------------------------------- index results
    def argmax(self, axis=None, keepdims=False, dim=None):
        """Index of the largest entry (the first one on ties), a constant int64 tensor."""
        return _arg(self, np.argmax, pick_axis(axis, dim), keepdims)

    def argmin(self, axis=None, keepdims=False, dim=None):
        """Index of the smallest entry (the first one on ties), a constant int64 tensor."""
        return _arg(self, np.argmin, pick_axis(axis, dim), keepdims)

    def any(self, axis=None, keepdims=False, dim=None):
        """Whether any entry is non-zero, a constant boolean tensor."""
        return constant_like(self, np.any(value_of(self), axis=pick_axis(axis, dim), keepdims=keepdims))

    def all(self, axis=None, keepdims=False, dim=None):
        """Whether every entry is non-zero, a constant boolean tensor."""
        return constant_like(self, np.all(value_of(self), axis=pick_axis(axis, dim), keepdims=keepdims))

    # ------------------------------------------------------ products and scans
    def prod(self, axis=None, keepdims=False, dim=None):
        """Product over ``axis`` (all when None); exact gradients where entries are 0."""
        return self._op("prod", axis=pick_axis(axis, dim), keepdims=keepdims)

    def cumsum(self, axis=None, dim=None):
        """Running sum along ``axis`` (over the flattened tensor when None, as NumPy)."""
        return _scan(self, "cumsum", pick_axis(axis, dim))

    def cumprod(self, axis=None, dim=None):
        """Running product along ``axis``; exact gradients at zeros."""
        return _scan(self, "cumprod", pick_axis(axis, dim))

    def logcumsumexp(self, axis=None, dim=None):
        """Running log(sum(exp)) along ``axis``, without overflow."""
        return _scan(self, "logcumsumexp", pick_axis(axis, dim))

    def cummax(self, axis=None, dim=None):
        """(values, indices) of the running maximum along ``axis``; ties take the latest index, as PyTorch."""
        return _running(self, np.maximum, pick_axis(axis, dim))

    def cummin(self, axis=None, dim=None):
        """(values, indices) of the running minimum along ``axis``."""
        return _running(self, np.minimum, pick_axis(axis, dim))

    # ------------------------------------------------------- order statistics
    def argsort(self, axis=-1, descending=False, dim=None):
        """Indices that sort along ``axis`` (stable), a constant int64 tensor."""
        return constant_like(self, _argsort(value_of(self), pick_axis(axis, dim, -1), descending))

    def sort(self, axis=-1, descending=False, dim=None):
        """Sorted values along ``axis`` (stable; nan last); the gradient goes back to each entry's place."""
        axis = pick_axis(axis, dim, -1)
        return self.take_along_axis(_argsort(value_of(self), axis, descending), axis)

    def topk(self, k, axis=-1, largest=True, dim=None):
        """(values, indices) of the ``k`` largest (or smallest) entries along ``axis``, in order."""
        axis = pick_axis(axis, dim, -1)
        n = value_of(self).shape[axis] if value_of(self).ndim else 1
        if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
            raise ValueError(f"topk: k must be an integer in [0, {n}] (the size of axis {axis}), got {k!r}")
        idx = np.take(_argsort(value_of(self), axis, largest), np.arange(k), axis=axis)
        return self.take_along_axis(idx, axis), constant_like(self, idx)

    def median(self, axis=None, keepdims=False, dim=None):
        """NumPy's median: the middle entry, or the mean of the two middle ones for an even count."""
        axis = pick_axis(axis, dim)
        x = self.reshape(-1) if axis is None else self
        ax = 0 if axis is None else axis
        n = value_of(x).shape[ax]
        if n == 0:
            raise ValueError("median: cannot take the median of an empty axis")
        s = x.sort(axis=ax)
        mid = s.take_along_axis(_along(s, ax, [(n - 1) // 2, n // 2]), ax).mean(axis=ax, keepdims=True)
        if keepdims:
            return mid.reshape(tuple(1 for _ in value_of(self).shape)) if axis is None else mid
        return mid.reshape(()) if axis is None else mid.squeeze(ax)

    def norm(self, ord=None, axis=None, keepdims=False, dim=None):
        """Vector norm over ``axis`` (all entries when None): ord 2 (default), 1, inf, -inf, 0, any p > 0, "fro".

        The gradient at the zero vector is 0 (a subgradient), as in PyTorch.
        """
        axis = pick_axis(axis, dim)
        rule = _NORMS.get(ord if isinstance(ord, str) else float(2 if ord is None else ord))
        if rule is None:
            if isinstance(ord, str) or not ord > 0:
                raise ValueError(f"norm: ord must be one of 2, 1, inf, -inf, 0, a number > 0 or 'fro', got {ord!r}")
            rule = lambda x, ax, kd: _root(_root(x.abs(), 1.0 / float(ord)).sum(axis=ax, keepdims=kd), float(ord))
        return rule(self, axis, keepdims)

    # ---------------------------------------------------------- gather/scatter
    def take_along_axis(self, indices, axis):
        """Entries picked along ``axis`` by integer ``indices`` (NumPy's take_along_axis)."""
        return self._op("take_along_axis", indices=np.asarray(value_of(indices)), axis=axis)

    def gather(self, dim, index):
        """PyTorch's gather: ``out[i][j] = self[index[i][j]][j]`` for dim 0; index may be smaller elsewhere."""
        index = np.asarray(value_of(index))
        shape = value_of(self).shape
        if index.ndim != len(shape):
            raise ValueError(f"gather: index has {index.ndim} dimensions, expected {len(shape)} like the input")
        d = dim % max(len(shape), 1)
        part = tuple(slice(None) if k == d else slice(0, index.shape[k]) for k in range(len(shape)))
        return self[part].take_along_axis(index, d) if part else self.take_along_axis(index, d)

    def scatter(self, dim, index, src):
        """A copy with ``src`` written at ``index`` along ``dim`` (PyTorch's scatter)."""
        return _scatter(self, dim, index, src, "none")

    def scatter_add(self, dim, index, src):
        """A copy with ``src`` added at ``index`` along ``dim``; repeated indices accumulate."""
        return _scatter(self, dim, index, src, "add")

    def index_add(self, dim, index, source, alpha=1.0):
        """A copy with ``alpha * source`` slice i added to slice ``index[i]`` along ``dim`` (PyTorch's index_add)."""
        index = np.asarray(value_of(index))
        src_shape = np.shape(value_of(source))
        d = dim % max(len(src_shape), 1)
        if index.ndim != 1 or (src_shape and src_shape[d] != len(index)):
            raise ValueError(f"index_add: index must be 1-D with one entry per slice of source along dim {dim}, "
                             f"got index shape {index.shape} for source shape {src_shape}")
        shape = [1] * len(src_shape)
        shape[d] = len(index)
        full = np.broadcast_to(index.reshape(shape), src_shape)
        return _scatter(self, d, full, source if alpha == 1.0 else source * alpha, "add")

    # ----------------------------------------------------------- conversions
    def float(self):
        """Cast to float32 (PyTorch's ``.float()``); the gradient is cast back."""
        return self.astype(np.float32)

    def double(self):
        """Cast to float64 (PyTorch's ``.double()``)."""
        return self.astype(np.float64)



def _scan(x, name, axis):
    if axis is None:
        x, axis = x.reshape(-1), 0
    return x._op(name, axis=axis)


def _running(x, f, axis):
    if axis is None:
        x, axis = x.reshape(-1), 0
    v = value_of(x)
    if v.ndim == 0:
        return x * 1, constant_like(x, np.zeros((), dtype=np.int64))
    run = f.accumulate(v, axis=axis)
    pos = np.arange(v.shape[axis]).reshape([-1 if d == axis % v.ndim else 1 for d in range(v.ndim)])
    # The latest position whose value equals the running extreme (PyTorch's tie rule).
    idx = np.maximum.accumulate(np.where(v == run, pos, 0), axis=axis)
    return x.take_along_axis(idx, axis), constant_like(x, idx)


def _argsort(v, axis, descending):
    if v.ndim == 0:
        return np.zeros((), dtype=np.int64)
    if not descending:
        return np.argsort(v, axis=axis, kind="stable")
    # Stable descending order: sort the negated values, then move nan to the front, as PyTorch does.
    idx = np.argsort(-v, axis=axis, kind="stable")
    nan_first = np.argsort(~np.isnan(np.take_along_axis(v, idx, axis=axis)), axis=axis, kind="stable")
    return np.take_along_axis(idx, nan_first, axis=axis)


def _along(x, axis, positions):
    """Index array picking ``positions`` along ``axis`` of ``x`` (for take_along_axis)."""
    shape = value_of(x).shape
    ax = axis % len(shape)
    return np.broadcast_to(np.asarray(positions).reshape([-1 if d == ax else 1 for d in range(len(shape))]),
                           shape[:ax] + (len(positions),) + shape[ax + 1:])


def _root(s, p):
    """s ** (1 / p) with gradient 0 where s == 0 (the norm's subgradient at the origin, and PyTorch's
    choice for |x_i| ** p at x_i = 0 when p < 1)."""
    from .functions import where  # functions imports tensor, which imports this module

    positive = value_of(s) > 0
    safe = where(positive, s, 1.0)
    return where(positive, safe ** (1.0 / p), 0.0)


_NORMS = {
    2.0: lambda x, ax, kd: _root((x * x).sum(axis=ax, keepdims=kd), 2.0),
    "fro": lambda x, ax, kd: _root((x * x).sum(axis=ax, keepdims=kd), 2.0),
    1.0: lambda x, ax, kd: x.abs().sum(axis=ax, keepdims=kd),
    float("inf"): lambda x, ax, kd: x.abs().max(axis=ax, keepdims=kd),
    float("-inf"): lambda x, ax, kd: x.abs().min(axis=ax, keepdims=kd),
    0.0: lambda x, ax, kd: constant_like(x, np.sum(value_of(x) != 0, axis=ax, keepdims=kd).astype(value_of(x).dtype)),
}


def _scatter(x, dim, index, src, reduce):
    index = np.asarray(value_of(index))
    from .functions_more import lift  # functions_more imports tensor, which imports this module

    src = lift(src) if not isinstance(src, (int, float)) else src
    if isinstance(src, (int, float)):
        src = np.full(index.shape, src, dtype=value_of(x).dtype)
    return x._op("scatter", src, indices=index, axis=dim, reduce=reduce)


def _arg(x, f, axis, keepdims):
    data = value_of(x)
    if data.size == 0:
        raise ValueError(f"{f.__name__}: cannot take it over an empty tensor of shape {data.shape}")
    return constant_like(x, f(data, axis=axis, keepdims=keepdims))
