"""Specs and edge samples of ``dense_chain`` (a run of dense layers as one op), with NumPy and PyTorch references.

The references compose the layers one at a time: ``x @ w.T + b`` then the activation,
the slow and obvious version of the op. Imported at the end of tests/op_specs.py and
tests/op_edges.py, whose ``OpSpec`` / ``EdgeSample`` they use.
"""

from __future__ import annotations

import numpy as np

from chainrule.autodiff.ops import call as op_call

NUMPY_ACTS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "identity": lambda z: z,
}


def _with_biases(params, biases):
    """(w1, b1, w2, b2, ...) from the given arrays: ``biases[i]`` False means layer i has none."""
    out, it = [], iter(params)
    for has_bias in biases:
        out += [next(it), next(it) if has_bias else None]
    return out


def dense_call(acts, biases=None):
    """chainrule's op on (x, w1, [b1], w2, [b2], ...) for the layers' activations."""
    biases = biases or (True,) * len(acts)
    return lambda x, *params: op_call("dense_chain", x, *_with_biases(params, biases), acts=acts)


def dense_ref(acts, biases=None):
    """The same chain in NumPy, a layer at a time."""
    biases = biases or (True,) * len(acts)

    def ref(x, *params):
        h = x
        for (w, b), act in zip(zip(*[iter(_with_biases(params, biases))] * 2), acts):
            h = NUMPY_ACTS[act](h @ w.T + (0 if b is None else b))
        return h

    return ref


def dense_torch(acts, biases=None):
    """The same chain in PyTorch (F.linear and torch's activations): the oracle."""
    biases = biases or (True,) * len(acts)

    def theirs(t, x, *params):
        fns = {"relu": t.relu, "tanh": t.tanh, "sigmoid": t.sigmoid, "identity": lambda z: z}
        h = x
        for (w, b), act in zip(zip(*[iter(_with_biases(params, biases))] * 2), acts):
            h = fns[act](t.nn.functional.linear(h, w, b))
        return h

    return theirs


# (label, shapes, activations, which layers have a bias)
DENSE_CASES = [
    ("relu-mlp", [(5, 3), (4, 3), (4,), (2, 4), (2,)], ("relu", "identity"), None),
    ("3d-tanh-sigmoid", [(2, 5, 3), (4, 3), (4,), (3, 4), (3,)], ("tanh", "sigmoid"), None),
    ("1d-nobias", [(3,), (4, 3), (2, 4), (2,)], ("sigmoid", "tanh"), (False, True)),
    ("one-layer", [(2, 3), (2, 3), (2,)], ("relu",), None),
]


def dense_specs(OpSpec):
    return [OpSpec("dense_chain", shapes, dense_call(acts, biases), dense_ref(acts, biases), domain="distinct",
                   label=label) for label, shapes, acts, biases in DENSE_CASES]


def dense_edges(EdgeSample, rand, non_contiguous):
    """Empty batches, strided operands, kinks exactly at 0 and saturated sigmoids, against PyTorch."""
    kink_w = np.array([[1.0, -1.0], [0.5, 0.5]])  # x = (1, 1): pre-activations exactly 0 and 1
    big = np.array([[1e30, -1e30], [40.0, -40.0], [1e-30, 0.0]])

    def sample(label, args, acts, biases=None):
        return EdgeSample("dense_chain", label, args, dense_call(acts, biases),
                          lambda t, *a: dense_torch(acts, biases)(t, *a))

    return [
        sample("batch0", [np.zeros((0, 3)), rand(4, 3), rand(4), rand(2, 4, seed=3), rand(2, seed=4)], ("relu", "identity")),
        sample("strided", [non_contiguous((3, 3)), non_contiguous((4, 3), seed=1), rand(4), rand(2, 4, seed=3)],
               ("tanh", "relu"), (True, False)),
        sample("relu-kink-at-0", [np.ones((1, 2)), kink_w, np.zeros(2), rand(1, 2, seed=3), rand(1, seed=4)],
               ("relu", "identity")),
        sample("saturated", [big, rand(2, 2), rand(2), rand(2, 2, seed=3), rand(2, seed=4)], ("sigmoid", "tanh")),
    ]
