"""See a computational graph: the cs231n circuit table and Graphviz DOT export.

:func:`trace` runs backward from an output and records, for every node, its
op, forward value, the upstream gradient reaching it, each input's local
gradient and the product the chain rule sends back. Rows follow
:func:`chainrule.autodiff.engine.topological_order`, the order whose reverse
``backward`` walks, with each leaf listed just before the first op that uses it.

Example:
    >>> import chainrule as cr
    >>> x, y, z = (cr.tensor(v, requires_grad=True, name=n) for v, n in ((-2.0, "x"), (5.0, "y"), (-4.0, "z")))
    >>> t = trace((x + y) * z)
    >>> print(t.table())  # doctest: +NORMALIZE_WHITESPACE
    node  op    inputs  value  local grad  upstream  grad
    x     leaf          -2                           -4
    y     leaf          5                            -4
    n1    add   x, y    3      1, 1        -4        -4
    z     leaf          -4                           3
    n2    mul   n1, z   -12    -4, 3       1         1
"""

from __future__ import annotations

import numpy as np

from . import engine
from .tensor import Tensor

__all__ = ["trace", "Trace", "fmt"]


def fmt(v, digits=4):
    """Format a value for a table cell: numbers to ``digits`` significant digits, arrays by shape."""
    if v is None:
        return ""
    a = np.asarray(v)
    if a.size == 1:
        x = float(a.reshape(()))
        return f"{x:.{digits}g}"
    if a.size <= 4:
        return "[" + ", ".join(f"{float(e):.{digits}g}" for e in a.ravel()) + "]"
    return f"<{a.dtype} {a.shape}>"


class _Row:
    __slots__ = ("name", "op", "inputs", "value", "local", "upstream", "grad")

    def __init__(self, name, op, inputs, value):
        self.name, self.op, self.inputs, self.value = name, op, inputs, value
        self.local = self.upstream = self.grad = None


class Trace:
    """Rows of a traced graph in topological order; ``table()`` and ``to_dot()`` render them."""

    def __init__(self, rows, edges):
        self.rows = rows
        self.edges = edges

    def table(self, digits=4):
        """The circuit table as aligned text."""
        head = ["node", "op", "inputs", "value", "local grad", "upstream", "grad"]
        body = [
            [
                r.name,
                r.op,
                ", ".join(r.inputs),
                fmt(r.value, digits),
                ", ".join("-" if v is None else fmt(v, digits) for v in r.local) if r.local else "",
                fmt(r.upstream, digits),
                fmt(r.grad, digits),
            ]
            for r in self.rows
        ]
        widths = [max(len(c) for c in col) for col in zip(head, *body)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [head, *body]]
        return "\n".join(lines)

    def to_dot(self, digits=4):
        """Graphviz DOT text: one box per node with its value and gradient."""
        out = ["digraph chainrule {", "  rankdir=LR;", '  node [shape=record, fontname="Helvetica"];']
        for r in self.rows:
            label = f"{{{r.name} | {r.op} | value {fmt(r.value, digits)} | grad {fmt(r.grad, digits)}}}"
            out.append(f'  "{r.name}" [label="{_escape(label)}"];')
        for a, b in self.edges:
            out.append(f'  "{a}" -> "{b}";')
        out.append("}")
        return "\n".join(out)

    def __str__(self):
        return self.table()


def _escape(s):
    return s.replace('"', '\\"').replace("<", "\\<").replace(">", "\\>")


def _name_nodes(order):
    names, k = {}, 0
    for t in order:
        if t.name:
            names[id(t)] = t.name
        else:
            k += 1
            names[id(t)] = f"n{k}" if t._node is not None else f"in{k}"
    return names


def _const(v):
    return fmt(v) if np.ndim(v) == 0 else f"<const {np.shape(v)}>"


def _label(inp, names):
    """A node's name for an input in the graph, or the constant's value."""
    if isinstance(inp, Tensor):
        return names[id(inp)] if id(inp) in names else _const(inp.data)
    return _const(inp)


def _with_leaves(output):
    """The engine's topological order of ``output``'s graph, each leaf placed before its first use."""
    if output._node is None:
        return [output]
    order, seen = [], set()
    for t in engine.topological_order(output):
        node = t._node
        for inp, need in zip(node.inputs, node.needs):
            if need and inp._node is None and id(inp) not in seen:
                seen.add(id(inp))
                order.append(inp)
        order.append(t)
    return order


def trace(output, grad=None):
    """Back-propagate from ``output`` and record every node's values and gradients.

    Leaf gradients accumulate into ``.grad`` as in a normal backward. (The matrix trace, the sum of
    the diagonal, is ``x.trace()`` or :func:`chainrule.linalg.trace`.)

    Args:
        output: a Tensor that requires grad (a scalar unless ``grad`` is given).

    Returns:
        :class:`Trace`.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"trace needs a chainrule Tensor, got {type(output).__name__}")
    if not output.requires_grad:  # perhaps torch.trace was meant: say where that one is
        raise RuntimeError("trace records a backward pass, but this tensor does not require grad (no input had "
                           "requires_grad=True); for the sum of a matrix's diagonal use x.trace() or "
                           "cr.linalg.trace(x)")
    order = _with_leaves(output)
    names = _name_nodes(order)
    rows, edges = {}, []
    for t in order:
        node = t._node
        ins = [] if node is None else [_label(i, names) for i in node.inputs]
        rows[id(t)] = _Row(names[id(t)], "leaf" if node is None else node.op.name, ins, t.data.copy())
        if node is not None:
            edges += [(names[id(i)], names[id(t)]) for i in node.inputs if isinstance(i, Tensor) and id(i) in names]
    leaf_sum = {}

    def hook(t, g, in_grads):
        row = rows[id(t)]
        row.upstream, row.grad = g, g
        node = t._node
        if g.size == 1:
            ones = np.ones_like(g)
            row.local = list(node.op.vjp(ones, node.ctx, node.needs))
        for inp, need, gi in zip(node.inputs, node.needs, in_grads):
            if need and inp._node is None and gi is not None:
                gi = engine.unbroadcast(gi, inp.data.shape, node.op.name)
                leaf_sum[id(inp)] = leaf_sum.get(id(inp), 0) + gi

    engine.backward(output, grad, hook=hook)
    for t in order:
        if t._node is None:
            rows[id(t)].grad = leaf_sum.get(id(t))
    return Trace([rows[id(t)] for t in order], edges)
