"""Functional reverse mode: ``grad``, ``value_and_grad`` and ``jacobian``.

Example:
    >>> import chainrule as cr
    >>> cr.grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    array([ 3., 12.])
"""

from __future__ import annotations

import numpy as np

from .engine import enable_grad
from .forward import Dual, jvp
from .graph_backward import graph_backward
from .tensor import Tensor, get_default_dtype

__all__ = ["grad", "value_and_grad", "jacobian"]


def _argnums(argnums, n):
    nums = tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"argnums {argnums!r} is out of range for a function called with {n} arguments")
    return tuple(a % n for a in nums)


def _as_input(x):
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind != "f":
        arr = arr.astype(get_default_dtype())
    return Tensor(arr, requires_grad=True, dtype=arr.dtype)


def _scalar(out):
    if not isinstance(out, Tensor):
        raise TypeError(f"the function must return a chainrule Tensor, got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"the function must return a scalar, got shape {out.shape}")
    return out


def _graph_input(x):
    """An argument to differentiate under create_graph: graph values stay connected."""
    if isinstance(x, Dual):
        return x if x.requires_grad else Dual(x.value, x.tangent, requires_grad=True)
    if isinstance(x, Tensor) and x.requires_grad:
        return x  # grad of grad: keep the outer graph
    return _as_input(x)


def _constant_like(v, arr):
    return Dual(arr) if isinstance(v, Dual) else Tensor(arr, dtype=arr.dtype)


def _graph_grads(out, inputs):
    """Gradients of scalar ``out`` w.r.t. ``inputs`` as graphs (Tensors or recording Duals)."""
    if not isinstance(out, (Tensor, Dual)):
        raise TypeError(f"the function must return a chainrule Tensor, got {type(out).__name__}")
    if np.size(out.data) != 1:
        raise ValueError(f"the function must return a scalar, got shape {out.shape}")
    found = {}
    if out.requires_grad:
        found = graph_backward(out, _constant_like(out, np.ones_like(out.data)), wrt=inputs)
    return [found[id(x)][1] if id(x) in found else _constant_like(x, np.zeros_like(x.data)) for x in inputs]


def value_and_grad(f, argnums=0, create_graph=False):
    """Return a function computing ``(f(*args), df/dargs[argnums])`` by backprop.

    With ``create_graph=True`` the value and gradients are Tensors whose graphs
    reach back to the arguments, so the gradient can be differentiated again
    (``grad(grad(f, create_graph=True))``, :func:`jacobian`, :func:`jvp`).

    Example:
        >>> v, g = value_and_grad(lambda x: x * x)(3.0)
        >>> float(v), float(g)
        (9.0, 6.0)
    """

    def wrapped(*args):
        nums = _argnums(argnums, len(args))
        args = list(args)
        if create_graph:
            inputs = [_graph_input(args[i]) for i in nums]
            for i, t in zip(nums, inputs):
                args[i] = t
            with enable_grad():
                out = f(*args)
            grads = _graph_grads(out, inputs)
            return out, grads[0] if isinstance(argnums, int) else tuple(grads)
        inputs = {i: _as_input(args[i]) for i in nums}
        for i, t in inputs.items():
            args[i] = t
        with enable_grad():
            out = _scalar(f(*args))
        if out.requires_grad:
            out.backward()
        grads = [inputs[i].grad if inputs[i].grad is not None else np.zeros_like(inputs[i].data) for i in nums]
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        return out.data, g

    return wrapped


def grad(f, argnums=0, create_graph=False):
    """Return a function computing the gradient of scalar ``f`` w.r.t. ``args[argnums]``.

    ``create_graph=True`` returns the gradient as a Tensor with a graph (see
    :func:`value_and_grad`), so that it can be differentiated again.

    Example:
        >>> import chainrule as cr
        >>> d2 = grad(lambda x: grad(lambda y: y ** 3, create_graph=True)(x))
        >>> float(d2(2.0))                   # d/dx 3x**2 = 6x
        12.0
    """
    vg = value_and_grad(f, argnums, create_graph)
    return lambda *args: vg(*args)[1]


def jacobian(f, x, mode="reverse"):
    """The full Jacobian of ``f`` at ``x`` (shape out.shape + x.shape).

    ``mode="reverse"`` runs one backward pass per output element;
    ``mode="forward"`` runs one dual-number pass per input element: the cost
    trade-off of the CMU 10-601 backpropagation lecture (slide 7) made visible.
    """
    x = _as_input(x).data  # the dtype rules of grad(); also accepts lists and Tensors
    if mode == "forward":
        cols = []
        for k in range(x.size):
            e = np.zeros(x.size, dtype=x.dtype)
            e[k] = 1
            cols.append(np.asarray(jvp(f, (x,), (e.reshape(x.shape),))[1]))
        return np.stack(cols, axis=-1).reshape(cols[0].shape + x.shape)
    if mode != "reverse":
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    xt = _as_input(x)
    with enable_grad():
        out = f(xt)
    if not isinstance(out, Tensor):
        raise TypeError(f"the function must return a chainrule Tensor, got {type(out).__name__}")
    if not out.requires_grad:  # f does not depend on x
        return np.zeros(out.shape + x.shape, dtype=np.result_type(out.dtype, x.dtype))
    rows = []
    for k in range(out.size):
        c = np.zeros(out.size, dtype=out.dtype)
        c[k] = 1
        xt.grad = None
        out.backward(c.reshape(out.shape), retain_graph=True)
        rows.append(xt.grad.copy())
    return np.stack(rows).reshape(out.shape + x.shape)
