"""The reverse-mode engine: graph nodes, the backward walk, unbroadcasting, no_grad.

A result computed from tensors that require gradients carries a :class:`Node`:
the registry op that made it, its inputs, and the ``ctx`` the op's VJP needs.
Nodes never refer to the tensor they produced, so a graph holds no reference
cycles and is freed by reference counting as soon as nothing points to it.

``backward`` follows the algorithm of the CMU 10-601 backpropagation lecture
(Matt Gormley), slide 26: visit the nodes in reverse topological order, adding
each input's share ``(dy/du_i)(du_i/dv_j)`` into its
gradient. The order is creation order (an op is always created after its
inputs): :func:`topological_order` lists it (gathered by an explicit stack, so
a chain of 100,000 ops is fine, then sorted by creation number) and
:mod:`chainrule.autodiff.trace` shows it; ``backward`` walks exactly the same
order newest-first in one pass, popping nodes from a max-heap on their creation
numbers as their gradients arrive. Gradients of values used more than once add
up ("gradients add at branches"). Leaf gradients *accumulate across calls* in ``.grad``, as in
PyTorch; call ``zero_grad`` (modules and optimisers have one) between steps.

Example:
    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (x * x + x).backward()
    >>> float(x.grad)
    7.0
"""

from __future__ import annotations

import contextlib
import heapq
import itertools

import numpy as np

__all__ = ["Node", "backward", "topological_order", "unbroadcast", "no_grad", "enable_grad", "is_grad_enabled"]


class _GradMode:
    # ``recorder`` is None except while chainrule.autodiff.compile records a step:
    # then every op, backward and optimiser step is reported to it. ``fuse`` lets
    # nn.Sequential / nn.MLP run a chain of dense layers as one op (off inside :func:`unfused`).
    __slots__ = ("enabled", "recorder", "fuse")

    def __init__(self):
        self.enabled = True
        self.recorder = None
        self.fuse = True


GRAD_MODE = _GradMode()


def is_grad_enabled():
    """True unless inside :func:`no_grad`."""
    return GRAD_MODE.enabled


class _SetGrad(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self._enabled = enabled
        self._prev = []

    def __enter__(self):
        self._prev.append(GRAD_MODE.enabled)
        GRAD_MODE.enabled = self._enabled
        return self

    def __exit__(self, *exc):
        GRAD_MODE.enabled = self._prev.pop()
        return False


def no_grad():
    """Context manager / decorator: results record no graph inside it.

    Example:
        >>> import chainrule as cr
        >>> w = cr.ones(2, requires_grad=True)
        >>> with cr.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """
    return _SetGrad(False)


def enable_grad():
    """Context manager / decorator that turns graph recording back on."""
    return _SetGrad(True)


@contextlib.contextmanager
def unfused():
    """Context manager: layers record one op each, as written (no ``dense_chain`` fusion).

    ``nn.Sequential`` and ``nn.MLP`` normally run consecutive Linear layers and their
    relu / tanh / sigmoid activations as one ``dense_chain`` op (same numbers, fewer graph
    nodes). Inside ``unfused()`` every layer is its own node, e.g. for a
    :func:`chainrule.autodiff.trace.trace` table per layer.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import nn
        >>> net = nn.MLP([2, 3, 1], seed=0)
        >>> net(cr.ones(1, 2)).op
        'dense_chain'
        >>> with cr.unfused():
        ...     net(cr.ones(1, 2)).op
        'linear'
    """
    prev, GRAD_MODE.fuse = GRAD_MODE.fuse, False
    try:
        yield
    finally:
        GRAD_MODE.fuse = prev


_COUNTER = itertools.count()


class Node:
    """How a tensor was made: op, inputs (tensors or constants), what the VJP needs.

    ``seq`` numbers nodes in creation order, which backward uses to order them.
    """

    __slots__ = ("op", "inputs", "ctx", "needs", "seq")

    def __init__(self, op, inputs, ctx, needs):
        self.op = op
        self.inputs = inputs
        self.ctx = ctx
        self.needs = needs
        self.seq = next(_COUNTER)

    def __repr__(self):
        state = "freed" if self.inputs is None else f"{len(self.inputs)} inputs"
        return f"<Node {self.op.name}: {state}>"


def unbroadcast(g, shape, opname="op"):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``.

    Args:
        g: gradient with the (broadcast) shape of an op's output.
        shape: the input's shape.

    Example:
        >>> unbroadcast(np.ones((4, 3)), (3,))
        array([4., 4., 4.])
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0:
        raise RuntimeError(f"{opname}: gradient of shape {g.shape} cannot be reduced to input shape {shape}")
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    if g.shape != shape:
        raise RuntimeError(f"{opname}: gradient of shape {g.shape} does not match input shape {shape}")
    return g


def _seed_grad(root, grad):
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a scalar output, got shape "
                f"{root.data.shape}; pass grad= with that shape (e.g. ones)"
            )
        return np.array(1, root.data.dtype).reshape(root.data.shape)  # a third of ones_like's time
    g = np.array(grad.data if hasattr(grad, "_node") else grad, dtype=root.data.dtype)
    if g.shape != root.data.shape:
        raise ValueError(f"backward: grad has shape {g.shape} but the output has shape {root.data.shape}")
    return g


def _freed(node):
    return RuntimeError(
        f"backward: the graph through '{node.op.name}' was already freed by an earlier "
        "backward(); pass retain_graph=True to that first call to backward twice"
    )


def _seq(t):
    return t._node.seq


def topological_order(root):
    """Non-leaf tensors reachable from ``root`` through inputs that need gradients, inputs before outputs.

    Collected with an explicit stack (no recursion limit), then sorted by
    creation number: an op is always created after its inputs, so creation
    order is a topological order without a post-order walk. ``backward``
    visits the same nodes in reverse (newest first, from a heap on the same
    creation numbers); :mod:`chainrule.autodiff.trace` lists it as it is.

    Example:
        >>> import chainrule as cr
        >>> x = cr.tensor(2.0, requires_grad=True)
        >>> [t._node.op.name for t in topological_order((x * x).exp())]
        ['mul', 'exp']
    """
    found, seen, stack = [root], {id(root)}, [root]
    while stack:
        node = stack.pop()._node
        if node.inputs is None:
            raise _freed(node)
        for inp, need in zip(node.inputs, node.needs):
            if need and inp._node is not None and id(inp) not in seen:
                seen.add(id(inp))
                found.append(inp)
                stack.append(inp)
    found.sort(key=_seq)
    return found


def backward(root, grad=None, retain_graph=False, hook=None):
    """Back-propagate from ``root`` into every leaf that requires a gradient.

    Args:
        root: the output tensor (usually a scalar loss).
        grad: dL/droot; may be omitted for a scalar (taken as 1).
        retain_graph: keep the graph so that backward can run through it again.
        hook: optional ``hook(tensor, grad_out, input_grads)`` called per node
            (used by :mod:`chainrule.autodiff.trace` to print circuit tables).
    """
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad (no input had requires_grad=True)")
    seed = _seed_grad(root, grad)
    rec = GRAD_MODE.recorder
    if rec is not None:  # a compiled step being recorded (chainrule.autodiff.compile)
        rec.on_backward(root, seed if grad is not None else None)
    owned = set()
    if root._node is None:
        _store_grad(root, seed, owned)
        return
    _walk(root, seed, retain_graph, hook, owned)


def _walk(root, seed, retain_graph, hook, owned):
    """The reverse pass; stores each leaf's gradient once all of it has arrived.

    Ordering and walking are one pass: a max-heap on the nodes' creation
    numbers pops every tensor after all its consumers (each consumer was created
    later), so its gradient is complete when it is popped. A tensor enters the
    heap when its first gradient arrives, which also skips branches that
    receive none.
    """
    grads = {id(root): seed}
    heap = [(-root._node.seq, root)]
    leaves = []
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t = pop(heap)[1]
        g = grads.pop(id(t))
        node = t._node
        inputs = node.inputs
        if inputs is None:
            raise _freed(node)
        if t._retain:
            _store_grad(t, g, owned)
        needs = node.needs
        in_grads = node.op.vjp(g, node.ctx, needs)
        if hook is not None:
            hook(t, g, in_grads)
        for inp, need, gi in zip(inputs, needs, in_grads):
            if not need or gi is None:
                continue
            data = inp.data
            if gi.shape != data.shape:
                gi = unbroadcast(gi, data.shape, node.op.name)
            if gi.dtype is not data.dtype and gi.dtype != data.dtype:  # (built-in dtypes are singletons)
                gi = gi.astype(data.dtype)
            k = id(inp)
            prev = grads.get(k)
            if prev is None:
                grads[k] = gi
                src = inp._node
                if src is None:
                    leaves.append(inp)
                else:
                    push(heap, (-src.seq, inp))
            else:
                grads[k] = prev + gi
        if not retain_graph:
            node.inputs = None
            node.ctx = None
    for leaf in leaves:
        _store_grad(leaf, grads[id(leaf)], owned)


def _store_grad(t, g, owned):
    """Accumulate into ``t.grad`` without ever aliasing another tensor's gradient."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)  # 0-d arithmetic gives NumPy scalars; .grad is always an ndarray
    if t.grad is None:
        # Views (base set: broadcasts, reshapes) and arrays shared by two leaves are
        # copied, so that an in-place change to one .grad can never reach another.
        if g.base is not None or id(g) in owned:
            g = g.copy()
        owned.add(id(g))
        t.grad = g
    else:
        t.grad = np.asarray(t.grad + g)
