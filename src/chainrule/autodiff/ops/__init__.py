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

__all__ = ["Op", "REGISTRY", "register", "get"]


class Op:
    """One primitive: its name, forward, VJP and JVP rules and flags."""

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


REGISTRY: dict[str, Op] = {}


def register(name, forward, vjp, jvp, sym=None, differentiable=True, doc=""):
    """Add one primitive to the registry and return its :class:`Op`."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is already registered")
    op = Op(name, forward, vjp, jvp, sym, differentiable, doc)
    REGISTRY[name] = op
    return op


def get(name):
    """Look an op up by name, with a clear error listing the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown op {name!r}; expected one of: {', '.join(sorted(REGISTRY))}"
        ) from None


# Importing the modules fills the registry; order does not matter.
from . import elementwise, reduce, shape, nn, conv  # noqa: E402,F401
from . import math, scan, index, linalg  # noqa: E402,F401  (more primitives: element-wise, scans, gather/scatter, linear algebra)
