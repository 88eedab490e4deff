"""Second derivatives: Hessians, Hessian-vector products and ``gradgradcheck``.

All of them differentiate a gradient computed with ``create_graph=True``
(see :mod:`.graph_backward`), in one of two ways:

* **forward-over-reverse**: the arguments are dual numbers that also record a
  graph; the reverse pass then runs on Duals, and the tangent of the gradient
  is the Hessian-vector product ``H v``. One pass per direction, the cheapest
  way to a Hessian column (this is ``jvp(grad(f))``);
* **reverse-over-reverse**: the gradient is a Tensor with a graph, and an
  ordinary backward pass through that graph gives ``v^T H`` (``grad`` of
  ``<grad f, v>``).

Example:
    >>> import chainrule as cr
    >>> f = lambda x: (x[0] ** 2 * x[1]).sum()
    >>> cr.hessian(f)(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    >>> cr.hvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0]), mode="forward")
    array([4., 2.])
"""

from __future__ import annotations

import numpy as np

from .._core import check_choice
from .engine import no_grad
from .forward import jvp
from .numeric import GradcheckError, GradcheckReport, _row
from .reverse import _as_input, grad, jacobian
from .tensor import Tensor

__all__ = ["hessian", "hvp", "gradgradcheck"]

_MODES = ("forward", "reverse")


def hessian(f, argnums=0, mode="reverse"):
    """Return a function computing the Hessian of scalar ``f`` w.r.t. ``args[argnums]``.

    Args:
        f: scalar function built from chainrule ops.
        argnums: which argument (an int).
        mode: "reverse" (reverse-over-reverse, the default: the gradient's graph
            is built once, then one backward pass through it per entry) or
            "forward" (forward-over-reverse: one dual-number pass through f and
            its backward per entry). Both cost about the same here
            (benchmarks/bench_higher.py).

    Shapes:
        the Hessian has shape ``x.shape + x.shape``.

    Example:
        >>> import chainrule as cr
        >>> hessian(lambda x: (x ** 3).sum(), mode="forward")(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    check_choice("mode", mode, _MODES)
    if not isinstance(argnums, int):
        raise TypeError(f"hessian: argnums must be one int, got {argnums!r}")

    def h(*args):
        def gradient(x):
            a = list(args)
            a[argnums] = x
            return grad(f, argnums, create_graph=True)(*a)

        return jacobian(gradient, args[argnums], mode=mode)

    return h


def hvp(f, x, v, mode="reverse"):
    """The Hessian-vector product ``H(x) v`` of scalar ``f``, without forming ``H``.

    Args:
        f: scalar function of one argument.
        x: the point (array or number).
        v: the direction, same shape as ``x``.
        mode: "reverse" (``grad`` of ``<grad f(x), v>``, the default) or "forward"
            (``jvp`` of the gradient, with Duals flowing through the backward pass).

    Returns:
        an ndarray of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
        array([ 6., 12.])
    """
    check_choice("mode", mode, _MODES)
    x = _as_input(x).data
    v = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
    if v.shape != x.shape:
        raise ValueError(f"hvp: v has shape {v.shape} but x has shape {x.shape}; expected the same shape")
    gradient = grad(f, create_graph=True)
    if mode == "forward":
        return np.asarray(jvp(gradient, (x,), (v,))[1])
    return grad(lambda xt: (gradient(xt) * v).sum())(x)


def _float64(args):
    return [np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64) for a in args]


def _first_order(f, arrays, rng):
    """F(*xs, u) = sum_i <VJP_i(xs; u), w_i>: a scalar of the first derivatives of ``f``."""
    with no_grad():
        out = f(*[Tensor(a, dtype=np.float64) for a in arrays])
    u = rng.standard_normal(np.shape(out.data))
    ws = [rng.standard_normal(a.shape) for a in arrays]
    nums = tuple(range(len(arrays)))

    def first(*vals):
        *xs, uu = vals
        gs = grad(lambda *xs: (f(*xs) * uu).sum(), argnums=nums, create_graph=True)(*xs)
        total = (gs[0] * ws[0]).sum()
        for g, w in zip(gs[1:], ws[1:]):
            total = total + (g * w).sum()
        return total

    return first, u


def _graph_matches_fast_rows(f, arrays, u, atol=1e-10, rtol=1e-8):
    """The create_graph gradient must equal the ordinary backward's, entry by entry (both exact)."""
    fast = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    f(*fast).backward(u)
    nums = tuple(range(len(arrays)))
    slow = grad(lambda *xs: (f(*xs) * u).sum(), argnums=nums, create_graph=True)(*arrays)
    rows = []
    for k, (t, g) in enumerate(zip(fast, slow)):
        ref = t.grad if t.grad is not None else np.zeros_like(arrays[k])
        rows.append(_row(f"x{k}", "graph", np.asarray(g.data), ref, atol, rtol))
    return rows


def _directional_rows(F, arrays, names, rng, eps, atol, rtol):
    """Reverse and forward mode of ``F`` against a central difference along a random direction."""
    inputs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    F(*inputs).backward()
    rows = []
    for k, name in enumerate(names):
        d = rng.standard_normal(arrays[k].shape)

        def at(h, k=k, d=d):
            shifted = [a + h * d if j == k else a for j, a in enumerate(arrays)]
            with no_grad():
                return float(np.asarray(F(*[Tensor(s, dtype=np.float64) for s in shifted]).data))

        numeric = (at(eps) - at(-eps)) / (2 * eps)
        g = inputs[k].grad
        reverse = float(np.sum(np.asarray(g.data if isinstance(g, Tensor) else g) * d)) if g is not None else 0.0
        tangents = tuple(d if j == k else np.zeros_like(a) for j, a in enumerate(arrays))
        forward = float(np.sum(jvp(F, tuple(arrays), tangents)[1]))
        rows.append(_row(name, "reverse", np.array(reverse), np.array(numeric), atol, rtol))
        rows.append(_row(name, "forward", np.array(forward), np.array(numeric), atol, rtol))
    return rows


def gradgradcheck(f, *args, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0, raise_exception=True):
    """Check second derivatives of ``f`` in float64: the gradient of its gradient.

    The first derivatives are taken with ``create_graph=True`` and folded into
    the scalar ``F(x, u) = sum_i <VJP_i(x; u), w_i>`` (fixed random cotangent
    ``u`` and weights ``w_i``). The graph gradient must equal the ordinary
    backward's (rows "graph"); then ``F``'s gradient with respect to every
    input and to ``u`` is computed by reverse-over-reverse and by
    forward-over-reverse and compared with a central difference of ``F`` along a
    random direction (two evaluations per input, so it is cheap for any size).

    Returns:
        a :class:`~chainrule.autodiff.numeric.GradcheckReport`; raises
        :class:`~chainrule.autodiff.numeric.GradcheckError` when a check fails.

    Example:
        >>> import chainrule as cr
        >>> gradgradcheck(lambda x: cr.tanh(x) * x, np.array([0.1, -0.3])).passed
        True
    """
    rng = np.random.default_rng(seed)
    arrays = _float64(args)
    first, u = _first_order(f, arrays, rng)
    names = [f"x{k}" for k in range(len(arrays))] + ["u"]
    rows = _graph_matches_fast_rows(f, arrays, u)
    rows += _directional_rows(first, [*arrays, u], names, rng, eps, atol, rtol)
    report = GradcheckReport(rows, all(r["ok"] for r in rows))
    if raise_exception and not report.passed:
        raise GradcheckError("second-order gradient check failed:\n" + str(report))
    return report
