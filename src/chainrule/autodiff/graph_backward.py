"""The backward pass whose gradients are graphs: ``backward(create_graph=True)``.

The ordinary walk in :mod:`.engine` moves raw ndarrays through each op's fast
``vjp``. This one walks the same graph in the same order but calls each op's
``vjp_graph``, written with differentiable ops, so every gradient it produces
is itself a Tensor (or recording Dual) with a graph back to the inputs and can
be differentiated again: Hessians, Hessian-vector products, gradient penalties.
The graph is never freed here (as in PyTorch, ``create_graph`` implies
``retain_graph``).

The walk is generic over the value kind: it only reads ``_node``, ``shape``
and ``dtype`` and uses ``+``, ``.sum``, ``.reshape`` and ``.astype``, so the
same code runs on Tensors (reverse-over-reverse) and on recording Duals, whose
tangents then carry a Hessian-vector product (forward-over-reverse).

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True, dtype="float64")
    >>> (x ** 3).backward(create_graph=True)
    >>> x.grad                           # 3 x**2, a graph
    tensor(27., dtype=float64, grad_fn=<mul>)
    >>> g = x.grad
    >>> x.grad = None
    >>> g.backward()
    >>> float(x.grad)                    # 6 x
    18.0
"""

from __future__ import annotations

from .engine import _seed_grad, enable_grad
from .ops import sum_to

__all__ = ["graph_backward", "backward_with_graph", "MissingGraphVJP"]


class MissingGraphVJP(RuntimeError):
    """An op on the path has no ``vjp_graph``, so its gradient cannot be a graph."""


def _freed(node):
    return RuntimeError(
        f"backward(create_graph=True): the graph through '{node.op.name}' was already freed by an "
        "earlier backward(); pass retain_graph=True to that first call"
    )


def _newest_first(root, stop):
    """Values with a node reachable from ``root``, newest first; do not walk past ``stop`` ids."""
    found, seen, stack = [root], {id(root)}, [root]
    while stack:
        t = stack.pop()
        if id(t) in stop and t is not root:
            continue
        node = t._node
        if node.inputs is None:
            raise _freed(node)
        for inp, need in zip(node.inputs, node.needs):
            if need and getattr(inp, "_node", None) is not None and id(inp) not in seen:
                seen.add(id(inp))
                found.append(inp)
                stack.append(inp)
    found.sort(key=lambda t: t._node.seq, reverse=True)
    return found


def _input_grads(t, g):
    node = t._node
    rule = node.op.vjp_graph
    if rule is None:
        raise MissingGraphVJP(
            f"backward(create_graph=True): op '{node.op.name}' has no graph VJP (vjp_graph), so its "
            "gradient cannot be differentiated again; register one with the op"
        )
    return rule(g, node.ctx, node.needs, node.inputs, t)


def graph_backward(root, seed, wrt=None):
    """Back-propagate ``seed`` from ``root`` with differentiable VJPs.

    Args:
        root: a Tensor or recording Dual with a graph.
        seed: dL/droot as a value of the same kind (it may itself carry a graph).
        wrt: values to differentiate with respect to (the walk stops at them);
            None means every leaf that requires a gradient.

    Returns:
        a dict from ``id(value)`` to ``(value, gradient)`` for the leaves reached and the
        intermediates marked with ``retain_grad()`` (or for ``wrt``).
    """
    stop = {id(v) for v in wrt} if wrt is not None else set()
    grads = {id(root): seed}
    found, kept = {}, {}
    if root._node is None or id(root) in stop:
        return {id(root): (root, seed)}
    with enable_grad():
        for t in _newest_first(root, stop):
            if id(t) in stop:
                continue
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if getattr(t, "_retain", False) and wrt is None:
                kept[id(t)] = (t, g)  # retain_grad() on an intermediate: its gradient too
            node = t._node
            for inp, need, gi in zip(node.inputs, node.needs, _input_grads(t, g)):
                if not need or gi is None:
                    continue
                if gi.shape != inp.shape:
                    gi = sum_to(gi, inp.shape)
                if gi.dtype != inp.dtype:
                    gi = gi.astype(inp.dtype)
                k = id(inp)
                prev = grads.get(k)
                grads[k] = gi if prev is None else prev + gi
                if (inp._node is None or k in stop) and k not in found:
                    found[k] = inp
    return {**kept, **{k: (v, grads[k]) for k, v in found.items()}}


def backward_with_graph(root, grad=None):
    """``root.backward(grad, create_graph=True)``: leaf ``.grad`` values become graphs and accumulate."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad (no input had requires_grad=True)")
    if getattr(grad, "requires_grad", False) and grad.shape == root.shape:
        seed = grad  # a seed with a graph of its own stays differentiable
    else:
        seed = type(root)(_seed_grad(root, grad), dtype=root.dtype)
    for leaf, g in graph_backward(root, seed).values():
        leaf.grad = g if leaf.grad is None else leaf.grad + g
