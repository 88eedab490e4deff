"""Random primitives: ops whose forward draws from a ``numpy.random.Generator`` passed as an attribute.

Being registry ops (not a constant mask multiplied in) matters for compiled
steps: a replay runs the forward again, so every replay draws fresh numbers
from the same generator, exactly as the eager step would.
"""

from __future__ import annotations

import numpy as np

from . import register
from ..dtypes import get_default_dtype


def _dropout_forward(x, p, rng):
    mask = (rng.random(np.shape(x)) >= p).astype(x.dtype if x.dtype.kind == "f" else get_default_dtype())
    mask *= 1.0 / (1.0 - p)
    return x * mask, mask


register(
    "dropout",
    _dropout_forward,
    lambda g, mask, needs: (g * mask,),
    lambda ts, mask: ts[0] * mask,
    doc="inverted dropout: x * mask / (1 - p) with mask ~ Bernoulli(1 - p) drawn from attribute rng.",
    vjp_graph=lambda g, mask, needs, xs, out: (g * mask,),
)
