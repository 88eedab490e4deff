"""Splitting a tensor into pieces in O(size): ``split`` and its pieces ``split_part``.

Indexing a sequence once per time step (``x[:, t]`` for t < T) gives T getitem
nodes whose VJPs each allocate a zero array of the *whole* input: O(T^2)
memory traffic in backprop through time. Here the pieces' gradients travel
as a :class:`Pieces` value, a sparse set of slices that ``+`` merges without
densifying, and the one ``split`` VJP writes them into a single array: O(T).

``split`` itself is the identity on its input (a view, no copy); each
``split_part`` picks one piece of it by a basic index.
"""

from __future__ import annotations

import numpy as np

from . import call, register


class Pieces:
    """Gradients of some pieces of one array: ``{key: (index, gradient)}``, densified once by the split VJP.

    Has ``shape`` and ``dtype`` like the array it stands for, ``+`` (merging the pieces, adding
    any that coincide) and ``astype``, which is all the engine asks of a gradient in transit.
    """

    __slots__ = ("shape", "dtype", "items")

    def __init__(self, shape, dtype, items):
        self.shape, self.dtype, self.items = shape, dtype, items

    def __add__(self, other):
        if not isinstance(other, Pieces):
            return self.dense() + other
        items = dict(self.items)
        for key, (index, g) in other.items.items():
            items[key] = (index, items[key][1] + g) if key in items else (index, g)
        return Pieces(self.shape, self.dtype, items)

    __radd__ = __add__

    def astype(self, dtype):
        return Pieces(self.shape, np.dtype(dtype), {k: (i, g.astype(dtype)) for k, (i, g) in self.items.items()})

    def dense(self):
        """One array of ``shape``: the pieces written in place, zeros elsewhere."""
        out = np.zeros(self.shape, self.dtype)
        for index, g in self.items.values():
            out[index] = g
        return out


def dense(g):
    """``g`` as an ndarray (densifying :class:`Pieces`)."""
    return g.dense() if isinstance(g, Pieces) else g


register(
    "split",
    lambda x: (x, None),
    lambda g, ctx, needs: (dense(g),),
    lambda ts, ctx: ts[0],
    doc="the identity, marking an array whose pieces (split_part) send back sparse gradients; "
    "its VJP writes all the pieces' gradients into one array.",
    vjp_graph=lambda g, ctx, needs, xs, out: (g,),
)


def _part_forward(x, key, index):
    return x[index], (x.shape, x.dtype, key, index)


def _part_vjp(g, ctx, needs):
    shape, dtype, key, index = ctx
    return (Pieces(shape, dtype, {key: (index, g)}),)


register(
    "split_part",
    _part_forward,
    _part_vjp,
    lambda ts, ctx: ts[0][ctx[3]],
    doc="one piece x[index] of a split; its gradient is that piece alone (no zero array of x's size).",
    # Under create_graph the piece's gradient is a dense, differentiable scatter (getitem's transpose).
    vjp_graph=lambda g, ctx, needs, xs, out: (call("getitem_scatter", g, index=ctx[3], shape=ctx[0]),),
)
