"""The primitive-op registry: one entry per op with its forward, VJP and JVP rule.

Every differentiable computation in chainrule is built from the entries of
``REGISTRY``. An entry is an :class:`Op` holding three plain functions:

* ``forward(*arrays, **attrs) -> (out, ctx)``: computes the result with NumPy and
  returns whatever the two derivative rules need as ``ctx`` (often the output
  itself, e.g. ``exp`` and ``sigmoid`` reuse it).
* ``vjp(g, ctx, needs) -> tuple``: the vector-Jacobian product, one gradient per
  input (``None`` where ``needs[i]`` is false). Gradients may keep broadcast
  shapes; the engine sums them back to each input's shape once, centrally.
* ``jvp(tangents, ctx) -> tangent``: the Jacobian-vector product, used by
  forward-mode dual numbers. Tangents always have their input's shape.

Optionally ``sym`` maps SymPy scalars to a SymPy expression for the symbolic
bridge. Adding an op means one ``register`` call here and one line in the
op-spec list of the tests.

Example:
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> out, ctx = REGISTRY["exp"].forward(np.zeros(2))
    >>> out
    array([1., 1.])
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the docstring example uses it)

from ..._core import Registry

__all__ = ["Op", "REGISTRY", "register", "get", "catalogue"]


class Op:
    """One primitive: its name, forward, VJP and JVP rules, and what the op reference shows of it.

    ``doc`` is the one-line description and ``differentiable`` False marks a
    piecewise-constant op (zero gradient everywhere); :func:`catalogue` lists both.
    """

    __slots__ = ("name", "forward", "vjp", "jvp", "sym", "differentiable", "doc")

    def __init__(self, name, forward, vjp, jvp, sym=None, differentiable=True, doc=""):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.sym = sym
        self.differentiable = differentiable
        self.doc = doc

    def __repr__(self):
        return f"Op({self.name!r})"


#: Every primitive by name; an unknown name raises ``UnknownNameError`` listing the known ones.
REGISTRY = Registry("op")


def register(name, forward, vjp, jvp, sym=None, differentiable=True, doc=""):
    """Add one primitive to the registry and return its :class:`Op`."""
    return REGISTRY.register(Op(name, forward, vjp, jvp, sym, differentiable, doc), name=name)


def get(name):
    """The :class:`Op` called ``name`` (same as ``REGISTRY[name]``: unknown names list the known ones).

    Example:
        >>> get("exq")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        chainrule._core.UnknownNameError: unknown op 'exq'; expected one of: ...
    """
    return REGISTRY[name]


def catalogue():
    """``[(name, description, differentiable)]`` for every op, sorted by name: the op reference table.

    Example:
        >>> [row for row in catalogue() if row[0] == "step"]
        [('step', 'Heaviside step: 1 where x > 0 else 0; its gradient is 0 everywhere.', False)]
    """
    return [(name, op.doc, op.differentiable) for name, op in sorted(REGISTRY.items())]


# Importing the modules fills the registry; order does not matter.
from . import elementwise, reduce, shape, nn, conv  # noqa: E402,F401
from . import math, scan, index, linalg  # noqa: E402,F401  (more primitives: element-wise, scans, gather/scatter, linear algebra)
from . import random  # noqa: E402,F401  (random ops: dropout)
from . import split  # noqa: E402,F401  (unbind / split in O(size))
