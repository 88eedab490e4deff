"""Symbolic differentiation through SymPy (optional extra ``chainrule[symbolic]``).

The same function you give to ``backward`` is run on SymPy symbols instead of
numbers: every registry op maps to a SymPy expression (its ``sym`` rule, or the
op's own NumPy forward running on arrays of SymPy objects). SymPy then
differentiates the whole expression, "the method you learned in high school"
(the CMU 10-601 backpropagation lecture, slide 7). The expression sizes are reported so you can watch them swell.

Example:
    >>> import chainrule as cr
    >>> r = symbolic_grad(lambda x, y: x * cr.sin(y), 2.0, 0.0)
    >>> r.expr
    x0*sin(x1)
    >>> r.gradient_exprs
    [sin(x1), x0*cos(x1)]
"""

from __future__ import annotations

import numpy as np

from .tensor import OpsMixin, Tensor

__all__ = ["Sym", "symbolic_grad", "SymbolicResult", "to_sympy"]


def _sympy():
    try:
        import sympy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("symbolic differentiation needs SymPy: pip install 'chainrule[symbolic]'") from None
    return sympy


def _objects(x):
    if isinstance(x, Sym):
        return x.expr
    if isinstance(x, Tensor):
        x = x.data
    return np.asarray(x, dtype=object) if isinstance(x, np.ndarray) else x


def _elementwise(rule, vals, attrs):
    arrays = [v for v in vals if isinstance(v, np.ndarray)]
    if not arrays:
        return rule(*vals, **attrs)
    f = np.frompyfunc(lambda *a: rule(*a, **attrs), len(vals), 1)
    return f(*vals)


def _softmax(x, axis=-1):
    sp = _sympy()
    e = np.frompyfunc(sp.exp, 1, 1)(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _lse(x, axis=None, keepdims=False):
    sp = _sympy()
    e = np.frompyfunc(sp.exp, 1, 1)(x)
    s = np.sum(e, axis=axis, keepdims=keepdims)
    return np.frompyfunc(sp.log, 1, 1)(s) if isinstance(s, np.ndarray) else sp.log(s)


def _reduce_extreme(fname):
    def rule(x, axis=None, keepdims=False):
        f = getattr(_sympy(), fname)
        if axis is None:
            return f(*np.asarray(x).ravel())
        return np.apply_along_axis(lambda v: f(*v), axis, x)

    return rule


# Ops whose NumPy forward cannot run on object arrays get a rule of their own.
_ARRAY_RULES = {
    "softmax": _softmax,
    "log_softmax": lambda x, axis=-1: np.frompyfunc(_sympy().log, 1, 1)(_softmax(x, axis)),
    "logsumexp": _lse,
    "linear": lambda x, w, b=None: x @ w.T + (0 if b is None else b),
    "max": _reduce_extreme("Max"),
    "min": _reduce_extreme("Min"),
    "where": lambda a, b, cond: np.where(cond, a, b),
    "softmax_cross_entropy": lambda z, labels, reduction="mean": _sce(z, labels, reduction),
}


def _sce(z, labels, reduction):
    picked = -np.frompyfunc(_sympy().log, 1, 1)(_softmax(z, -1))[np.arange(len(labels)), labels]
    return {"mean": lambda: picked.sum() / len(labels), "sum": picked.sum}.get(reduction, lambda: picked)()


class Sym(OpsMixin):
    """A SymPy expression (or an object array of them) that chainrule ops can act on."""

    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr

    @staticmethod
    def _apply(op, args, attrs):
        vals = [_objects(a) for a in args]
        if op.name in _ARRAY_RULES:
            return Sym(_ARRAY_RULES[op.name](*vals, **attrs))
        if op.sym is not None:
            return Sym(_elementwise(op.sym, vals, attrs))
        try:
            out, _ = op.forward(*vals, **attrs)
        except Exception as e:
            raise NotImplementedError(f"op '{op.name}' has no symbolic form ({e})") from None
        return Sym(out)

    @property
    def shape(self):
        return np.shape(self.expr)

    @property
    def ndim(self):
        return np.ndim(self.expr)

    def __repr__(self):
        return f"Sym({self.expr})"


def to_sympy(f, *shapes, names="x"):
    """Trace ``f`` on fresh SymPy symbols; return (symbol arrays, output expression)."""
    sp = _sympy()
    args, k = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        syms = [sp.Symbol(f"{names}{k + i}", real=True) for i in range(n)]
        k += n
        args.append(syms[0] if shape == () else np.array(syms, dtype=object).reshape(shape))
    out = f(*[Sym(a) for a in args])
    expr = out.expr if isinstance(out, Sym) else out
    if isinstance(expr, np.ndarray):
        if expr.size != 1:
            raise ValueError(f"symbolic_grad needs a scalar function, got output shape {expr.shape}")
        expr = expr.reshape(()).item()
    return args, sp.sympify(expr)


class SymbolicResult:
    """What :func:`symbolic_grad` found: expressions, sizes, values and callables."""

    def __init__(self, symbols, expr, gradient_exprs, values, grads, sizes):
        self.symbols, self.expr, self.gradient_exprs = symbols, expr, gradient_exprs
        self.value, self.grads, self.sizes = values, grads, sizes

    def __repr__(self):
        return f"SymbolicResult(expr={self.expr}, sizes={self.sizes})"


def symbolic_grad(f, *args, simplify=False):
    """Differentiate scalar ``f`` symbolically and evaluate the result at ``args``.

    Args:
        f: function built from chainrule ops.
        args: numbers or arrays; their shapes decide the symbols.
        simplify: run SymPy's simplify on each derivative (slow on big ones).

    Returns:
        :class:`SymbolicResult` with ``expr``, ``gradient_exprs`` (flat, one per
        input entry), ``grads`` (arrays shaped like ``args``), ``value`` and
        ``sizes``: operation counts of f, of its derivatives as derived, and after
        common-subexpression elimination, which shows the swell the CMU 10-601 lecture warns of.
    """
    sp = _sympy()
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    sym_args, expr = to_sympy(f, *[a.shape for a in arrays])
    flat_syms = [s for a in sym_args for s in (np.asarray(a, dtype=object).ravel())]
    derivs = [sp.diff(expr, s) for s in flat_syms]
    if simplify:
        derivs = [sp.simplify(d) for d in derivs]
    subs = dict(zip(flat_syms, np.concatenate([a.ravel() for a in arrays]) if arrays else []))
    fn = sp.lambdify(flat_syms, [expr, *derivs], modules="numpy")
    evaluated = fn(*subs.values())
    value, flat = float(evaluated[0]), np.array(evaluated[1:], dtype=np.float64)
    grads, k = [], 0
    for a in arrays:
        grads.append(flat[k : k + a.size].reshape(a.shape))
        k += a.size
    replaced, reduced = sp.cse(derivs)
    sizes = {
        "function_ops": int(sp.count_ops(expr)),
        "gradient_ops": int(sum(sp.count_ops(d) for d in derivs)),
        "gradient_ops_after_cse": int(sum(sp.count_ops(e) for _, e in replaced) + sum(sp.count_ops(d) for d in reduced)),
    }
    return SymbolicResult(sym_args, expr, derivs, value, grads, sizes)
