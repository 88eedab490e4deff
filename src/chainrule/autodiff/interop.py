"""NumPy on chainrule values: ``np.exp(t)``, ``np.sum(t, axis=0)``, ``arr * t`` record the graph.

NumPy hands ufunc calls to ``__array_ufunc__`` and most other functions to
``__array_function__``. Those in the tables below map to chainrule ops, so the
result is a Tensor (or Dual) with its gradient. Anything else is computed on the
plain arrays when no input needs a gradient (a constant result, as NumPy would
give), and otherwise raises one TypeError naming the chainrule replacement, so a
graph is never dropped silently.

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> np.sum(np.exp(x)).backward()
    >>> x.grad.round(4)
    array([1.    , 2.7183], dtype=float32)
"""

from __future__ import annotations

import numpy as np

__all__ = ["array_ufunc", "array_function", "UFUNCS", "FUNCTIONS"]


def _m(name):
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


#: ufunc -> function of lifted chainrule values.
UFUNCS = {
    np.add: lambda a, b: a + b, np.subtract: lambda a, b: a - b, np.multiply: lambda a, b: a * b,
    np.true_divide: lambda a, b: a / b, np.power: lambda a, b: a ** b, np.float_power: lambda a, b: a ** b,
    np.matmul: lambda a, b: a @ b, np.negative: lambda a: -a, np.positive: lambda a: a,
    np.remainder: lambda a, b: a % b, np.fmod: lambda a, b: a.fmod(b), np.floor_divide: lambda a, b: a // b,
    np.maximum: lambda a, b: a.maximum(b), np.minimum: lambda a, b: a.minimum(b),
    np.absolute: _m("abs"), np.rint: _m("round"), np.arctan2: lambda a, b: a.atan2(b),
    np.logaddexp: lambda a, b: a.logaddexp(b), np.square: _m("square"), np.reciprocal: _m("reciprocal"),
    np.less: lambda a, b: a < b, np.less_equal: lambda a, b: a <= b, np.greater: lambda a, b: a > b,
    np.greater_equal: lambda a, b: a >= b, np.equal: lambda a, b: a.eq(b), np.not_equal: lambda a, b: a.ne(b),
    **{getattr(np, n): _m(m) for n, m in [
        ("exp", "exp"), ("log", "log"), ("sqrt", "sqrt"), ("sin", "sin"), ("cos", "cos"), ("tan", "tan"),
        ("tanh", "tanh"), ("sinh", "sinh"), ("cosh", "cosh"), ("arcsin", "asin"), ("arccos", "acos"),
        ("arctan", "atan"), ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"), ("log2", "log2"),
        ("log10", "log10"), ("log1p", "log1p"), ("expm1", "expm1"), ("exp2", "exp2"), ("sign", "sign"),
        ("floor", "floor"), ("ceil", "ceil"), ("trunc", "trunc"), ("isnan", "isnan"), ("isinf", "isinf"),
        ("isfinite", "isfinite"), ("logical_not", "logical_not"),
    ]},
    **{getattr(np, n): _m(n) for n in ("logical_and", "logical_or", "logical_xor")},
}


def _f(name, *keywords):
    """Call method ``name`` with NumPy's keyword names translated (unsupported ones raise)."""
    def call(x, *args, **kwargs):
        extra = sorted(k for k, v in kwargs.items() if k not in keywords and v is not None)
        if extra:
            raise TypeError(f"numpy's {name} on chainrule tensors does not take {', '.join(extra)}")
        return getattr(x, name)(*args, **{k: v for k, v in kwargs.items() if k in keywords})

    return call


def _fn(name):
    def call(*args, **kwargs):
        from . import functions  # functions imports tensor, which imports this module

        return getattr(functions, name)(*args, **kwargs)

    return call


#: NumPy function -> function of a lifted first argument (and NumPy's other arguments).
FUNCTIONS = {
    np.sum: _f("sum", "axis", "keepdims"), np.mean: _f("mean", "axis", "keepdims"),
    np.max: _f("max", "axis", "keepdims"), np.min: _f("min", "axis", "keepdims"),
    np.amax: _f("max", "axis", "keepdims"), np.amin: _f("min", "axis", "keepdims"),
    np.prod: _f("prod", "axis", "keepdims"), np.var: _f("var", "axis", "keepdims", "ddof"),
    np.std: _f("std", "axis", "keepdims", "ddof"), np.median: _f("median", "axis", "keepdims"),
    np.cumsum: _f("cumsum", "axis"), np.cumprod: _f("cumprod", "axis"), np.sort: _f("sort", "axis"),
    np.argsort: _f("argsort", "axis"), np.argmax: _f("argmax", "axis", "keepdims"),
    np.argmin: _f("argmin", "axis", "keepdims"), np.any: _f("any", "axis", "keepdims"),
    np.all: _f("all", "axis", "keepdims"), np.reshape: lambda x, shape, *a, **k: x.reshape(shape),
    np.transpose: lambda x, axes=None: x.transpose(tuple(axes)) if axes is not None else x.T,
    np.ravel: _f("ravel"), np.squeeze: _f("squeeze", "axis"), np.expand_dims: lambda x, axis: x.unsqueeze(axis),
    np.moveaxis: _f("moveaxis"), np.swapaxes: _f("swapaxes"), np.flip: lambda x, axis=None: x.flip(axis),
    np.roll: lambda x, shift, axis=None: x.roll(shift, axis), np.tile: lambda x, reps: x.repeat(*np.atleast_1d(reps)),
    np.repeat: lambda x, repeats, axis=None: x.repeat_interleave(repeats, axis), np.broadcast_to: _f("broadcast_to"),
    np.tril: lambda x, k=0: x.tril(k), np.triu: lambda x, k=0: x.triu(k), np.trace: _f("trace"),
    np.diagonal: lambda x, offset=0, axis1=0, axis2=1: x.diagonal(offset, axis1, axis2), np.diag: lambda x, k=0: x.diag(k),
    np.clip: lambda x, a_min=None, a_max=None, **k: x.clip(a_min, a_max), np.dot: _f("dot"), np.inner: _f("inner"),
    np.outer: _f("outer"), np.kron: _f("kron"), np.tensordot: lambda a, b, axes=2: a.tensordot(b, axes),
    np.linalg.norm: lambda x, ord=None, axis=None, keepdims=False: x.norm(ord, axis, keepdims),
    np.linalg.inv: lambda x: _linalg("inv", x),
    np.linalg.det: lambda x: _linalg("det", x), np.linalg.solve: lambda a, b: _linalg("solve", a, b),
    np.take_along_axis: lambda x, indices, axis: x.take_along_axis(indices, axis),
    np.round: lambda x, decimals=0: x.round() if decimals == 0 else _no("round with decimals"),
}


def _no(what):
    raise TypeError(f"numpy's {what} cannot record a gradient for chainrule tensors")
#: Functions whose first argument is a sequence of arrays, or that are not methods.
SEQUENCE_FUNCTIONS = {
    np.concatenate: lambda xs, axis=0: _fn("concatenate")(list(xs), axis=axis),
    np.stack: lambda xs, axis=0: _fn("stack")(list(xs), axis=axis),
    np.einsum: lambda subscripts, *ops, **k: _fn("einsum")(subscripts, *ops),
    np.where: lambda cond, a, b: _fn("where")(cond, a, b),
    np.meshgrid: lambda *xs, indexing="xy": _fn("meshgrid")(*xs, indexing=indexing),
}


#: Functions that only inspect their arguments: always computed on the plain arrays.
CONSTANT_FUNCTIONS = {
    np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.array_equiv, np.result_type,
    np.count_nonzero, np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.searchsorted, np.histogram,
    np.may_share_memory, np.shares_memory, np.iscomplexobj, np.isrealobj, np.array_repr, np.array_str,
    np.array2string, np.copy, np.nan_to_num, np.bincount, np.digitize,
}


def _linalg(name, *args):
    from . import linalg  # linalg imports functions, which imports tensor, which imports this module

    return getattr(linalg, name)(*args)


def _lift(x):
    from .functions_more import lift  # functions_more imports tensor, which imports this module

    return lift(x)


def _graph_bound(values):
    """True when an argument carries a gradient: a Tensor that requires it, or a Dual."""
    from .tensor import Tensor

    for v in values:
        if isinstance(v, (list, tuple)):
            if _graph_bound(v):
                return True
        elif isinstance(v, Tensor):
            if v.requires_grad:
                return True
        elif hasattr(v, "tangent") or hasattr(v, "expr"):
            return True
    return False


def _plain(v):
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    data = getattr(v, "data", None)
    return data if isinstance(data, np.ndarray) else v


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """NumPy's ufunc hook: mapped ufuncs become chainrule ops on lifted inputs."""
    rule = UFUNCS.get(ufunc)
    if method == "__call__" and rule is not None and not kwargs:
        return rule(*[_lift(x) for x in inputs])
    if not _graph_bound(list(inputs) + list(kwargs.values())):
        return getattr(ufunc, method)(*_plain(list(inputs)), **{k: _plain(v) for k, v in kwargs.items()})
    what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    extra = f" with {', '.join(sorted(kwargs))}" if kwargs else ""
    raise TypeError(f"{what}{extra} cannot record a gradient for chainrule tensors; use the chainrule function "
                    f"or method of the same name (e.g. cr.{ufunc.__name__}), or .detach() the input for a constant")


def array_function(self, func, types, args, kwargs):
    """NumPy's function hook: mapped functions become chainrule ops, others run on plain arrays when no
    input needs a gradient."""
    if func in SEQUENCE_FUNCTIONS:
        return SEQUENCE_FUNCTIONS[func](*args, **kwargs)
    if func in FUNCTIONS and args:
        return FUNCTIONS[func](_lift(args[0]), *args[1:], **kwargs)
    if func in CONSTANT_FUNCTIONS or not _graph_bound(list(args) + list(kwargs.values())):
        return func(*_plain(list(args)), **{k: _plain(v) for k, v in kwargs.items()})
    raise TypeError(f"numpy.{func.__name__} cannot record a gradient for chainrule tensors; use the chainrule "
                    f"function of the same name if there is one, or .detach() the input for a constant result")
