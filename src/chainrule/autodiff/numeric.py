"""Finite differences and gradient checking (the Reil et al. ANN & backpropagation lecture, slide 38: "gradient check").

The numerical gradient nudges one input entry at a time by ``eps`` and watches
the output move. It is slow (two evaluations per entry) and inexact, which is
exactly what makes it a good referee for backprop.

Example:
    >>> import chainrule as cr
    >>> g = numerical_grad(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    >>> np.round(g, 6)
    array([2., 4.])
"""

from __future__ import annotations

import numpy as np

from .engine import no_grad
from .forward import jvp
from .tensor import Tensor

__all__ = ["numerical_grad", "gradcheck", "GradcheckError", "GradcheckReport", "relative_error"]

_METHODS = {
    "central": lambda f, x, i, h: (_at(f, x, i, h) - _at(f, x, i, -h)) / (2 * h),
    "forward": lambda f, x, i, h: (_at(f, x, i, h) - _at(f, x, i, 0.0)) / h,
    "backward": lambda f, x, i, h: (_at(f, x, i, 0.0) - _at(f, x, i, -h)) / h,
}


def _at(f, flat, i, h):
    old = flat[i]
    flat[i] = old + h
    try:
        return f()
    finally:
        flat[i] = old


def _to_float(out):
    arr = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)
    if arr.size != 1:
        raise ValueError(f"numerical_grad: the function must return a scalar, got shape {arr.shape}")
    return float(arr.reshape(()))


def numerical_grad(f, *args, eps=1e-6, method="central"):
    """Finite-difference gradient of scalar ``f`` with respect to every argument.

    Args:
        f: function of Tensors returning a scalar Tensor (or number).
        args: arrays or numbers; they are evaluated in float64.
        eps: step size h.
        method: "central" (error O(h^2)), "forward" or "backward" (O(h)).

    Returns:
        one float64 array per argument (a single array for one argument).
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}, got {method!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    arrays = [np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64) for a in args]
    tensors = [Tensor(a, dtype=np.float64) for a in arrays]
    for t, a in zip(tensors, arrays):
        t.data = a  # share memory so nudges are seen

    def value():
        with no_grad():
            return _to_float(f(*tensors))

    grads = []
    for a in arrays:
        flat = a.reshape(-1)
        g = np.array([_METHODS[method](value, flat, i, eps) for i in range(flat.size)])
        grads.append(g.reshape(a.shape))
    return grads[0] if len(grads) == 1 else grads


def relative_error(a, n, tiny=1e-12):
    """``|a - n| / max(|a|, |n|, tiny)``, element-wise: the slides' relative error."""
    a, n = np.asarray(a, np.float64), np.asarray(n, np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with finite differences."""


class GradcheckReport:
    """Per-input errors of one gradient check; ``str()`` gives a readable table."""

    def __init__(self, rows, passed):
        self.rows = rows
        self.passed = passed

    def __str__(self):
        lines = [f"{'input':<8}{'mode':<9}{'max abs err':>14}{'max rel err':>14}  ok"]
        for r in self.rows:
            lines.append(f"{r['input']:<8}{r['mode']:<9}{r['abs']:>14.3e}{r['rel']:>14.3e}  {'yes' if r['ok'] else 'NO'}")
        return "\n".join(lines)

    __repr__ = __str__


def _project(f, c_list):
    """Turn a tensor-valued f into the scalar <f(x), c> (fixed random c per output)."""

    def g(*xs):
        out = f(*xs)
        shape = out.shape
        if shape not in c_list:
            c_list[shape] = np.random.default_rng(0).standard_normal(shape)
        return (out * c_list[shape]).sum()

    return g


def _row(name, mode, analytic, numeric, atol, rtol):
    err = np.abs(analytic - numeric)
    ok = bool(np.all(err <= atol + rtol * np.abs(numeric)))
    # Entries that are zero up to rounding would show a meaningless relative error of 1.
    rel = float(relative_error(analytic, numeric, tiny=1e-8).max(initial=0.0))
    return {"input": name, "mode": mode, "abs": float(err.max(initial=0.0)), "rel": rel, "ok": ok}


def gradcheck(f, *args, eps=1e-6, atol=1e-6, rtol=1e-5, forward=True, raise_exception=True):
    """Compare backprop (and forward mode) with central differences, in float64.

    Non-scalar outputs are checked through a fixed random projection <f(x), c>.

    Returns:
        a :class:`GradcheckReport` (``.passed``, ``.rows``); raises
        :class:`GradcheckError` with the table when a check fails.

    Example:
        >>> import chainrule as cr
        >>> gradcheck(lambda x: cr.tanh(x).sum(), np.array([0.1, -0.3])).passed
        True
    """
    arrays = [np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64) for a in args]
    scalar_f = _project(f, {})
    numeric = numerical_grad(scalar_f, *arrays, eps=eps)
    numeric = [numeric] if len(arrays) == 1 else numeric
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    out = scalar_f(*inputs)
    if out.requires_grad:
        out.backward()
    rows = []
    for k, (t, n) in enumerate(zip(inputs, numeric)):
        analytic = t.grad if t.grad is not None else np.zeros_like(n)
        rows.append(_row(f"x{k}", "reverse", analytic, n, atol, rtol))
        if forward:
            d = np.random.default_rng(k + 1).standard_normal(n.shape)
            tangents = [d if j == k else np.zeros_like(a) for j, a in enumerate(arrays)]
            _, tan = jvp(scalar_f, tuple(arrays), tuple(tangents))
            rows.append(_row(f"x{k}", "forward", np.sum(tan), np.sum(n * d), atol, rtol))
    report = GradcheckReport(rows, all(r["ok"] for r in rows))
    if raise_exception and not report.passed:
        raise GradcheckError("gradient check failed:\n" + str(report))
    return report
