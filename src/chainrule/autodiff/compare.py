"""The four ways to a gradient (the CMU 10-601 backpropagation lecture, slide 7), side by side on one function.

Example:
    >>> import chainrule as cr
    >>> rows = compare_gradients(lambda x, y: x * cr.sin(y), 2.0, 0.5, show=False)
    >>> [r["method"] for r in rows]
    ['reverse mode (backprop)', 'forward mode (dual numbers)', 'finite differences', 'symbolic (SymPy)']
"""

from __future__ import annotations

import time

import numpy as np

from .forward import jvp
from .numeric import numerical_grad
from .reverse import grad
from .trace import fmt
from .symbolic import symbolic_grad

__all__ = ["compare_gradients", "METHODS"]


def _reverse(f, arrays):
    return list(grad(f, argnums=tuple(range(len(arrays))))(*arrays))


def _forward(f, arrays):
    """One dual-number pass per input entry: forward mode's cost, made visible."""
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros(a.shape)
        for i in range(a.size):
            tangents = [np.zeros_like(b) for b in arrays]
            tangents[k].reshape(-1)[i] = 1.0
            g.reshape(-1)[i] = np.asarray(jvp(f, tuple(arrays), tuple(tangents))[1]).sum()
        grads.append(g)
    return grads


def _numerical(f, arrays):
    g = numerical_grad(f, *arrays)
    return [g] if len(arrays) == 1 else list(g)


def _symbolic(f, arrays):
    return symbolic_grad(f, *arrays).grads


METHODS = {
    "reverse mode (backprop)": _reverse,
    "forward mode (dual numbers)": _forward,
    "finite differences": _numerical,
    "symbolic (SymPy)": _symbolic,
}


def _run(method, f, arrays):
    start = time.perf_counter()
    try:
        grads = METHODS[method](f, arrays)
    except (ImportError, NotImplementedError) as e:
        return {"method": method, "grads": None, "seconds": 0.0, "note": str(e)}
    return {"method": method, "grads": grads, "seconds": time.perf_counter() - start, "note": ""}


def compare_gradients(f, *args, show=True):
    """Compute df/dargs four ways, in float64, and print a table of values, errors and times.

    Args:
        f: scalar function of chainrule values (Tensors, Duals and SymPy values flow through it).
        args: numbers or small arrays.
        show: print the table.

    Returns:
        one dict per method: ``method``, ``grads`` (arrays), ``max_err`` vs
        reverse mode, ``seconds``, ``note`` (why a method was skipped).
    """
    arrays = [np.array(a, dtype=np.float64) for a in args]
    rows = [_run(m, f, arrays) for m in METHODS]
    ref = rows[0]["grads"]
    for r in rows:
        g = r["grads"]
        r["max_err"] = None if g is None else max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(g, ref))
    if show:
        print(format_table(rows))
    return rows


def format_table(rows):
    """Render :func:`compare_gradients` rows as aligned text."""
    head = ["method", "gradient", "max |err| vs reverse", "time"]
    body = []
    for r in rows:
        if r["grads"] is None:
            body.append([r["method"], "skipped: " + r["note"], "", ""])
            continue
        g = "; ".join(fmt(a, 6) for a in r["grads"])
        body.append([r["method"], g, f"{r['max_err']:.2e}", f"{r['seconds'] * 1e3:.2f} ms"])
    widths = [max(len(c) for c in col) for col in zip(head, *body)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *body])
