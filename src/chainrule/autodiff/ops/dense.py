"""``dense_chain``: a run of dense layers, each followed by an activation, as one op.

``nn.Sequential`` and ``nn.MLP`` call it for consecutive ``Linear`` layers whose
activations are in :data:`NONLINEARITIES` (``chainrule.nn.fusion`` plans this), so a
64-128-64-10 ReLU net is one graph node instead of five. That removes most of the
engine's per-op work (Tensor and Node creation, the backward walk's steps), which
at small batches costs as much as the arithmetic. The arithmetic is the same as
the unfused ops' (``x @ w.T + b``, then the activation, whose derivative is
taken from its output), so fused and unfused results agree to the last bit.

Example:
    >>> import numpy as np
    >>> from chainrule.autodiff.ops import REGISTRY
    >>> x, w, b = np.ones((2, 3)), np.full((4, 3), -1.0), np.ones(4)
    >>> REGISTRY["dense_chain"].forward(x, w, b, acts=("relu",))[0]     # relu(-3 + 1) = 0
    array([[0., 0., 0., 0.],
           [0., 0., 0., 0.]])
"""

from __future__ import annotations

import numpy as np

from . import call, register, tangent_sum
from .elementwise import _sigmoid, relu_values
from .recurrent import graph_vjp


def _relu_(z):
    return relu_values(z, out=z)


def _tanh_(z):
    return np.tanh(z, out=z)


#: name -> (activation, derivative from the output or None for the identity). The activation may
#: work in place on the pre-activation, which nothing else holds. The rules equal the ``relu``,
#: ``tanh`` and ``sigmoid`` ops' (relu's derivative at 0 is 0).
NONLINEARITIES = {
    "relu": (_relu_, lambda h: h > 0),
    "tanh": (_tanh_, lambda h: 1.0 - h * h),
    "sigmoid": (_sigmoid, lambda h: h * (1.0 - h)),
    "identity": (None, None),
}


def _check(name, x, params, acts):
    """Raise the one-sentence error for arguments that do not form a chain of dense layers."""
    if len(params) != 2 * len(acts) or not acts:
        raise ValueError(f"{name}: expected a weight and a bias (or None) for each of the {len(acts)} "
                         f"activations, got {len(params)} arrays")
    bad = [a for a in acts if a not in NONLINEARITIES]
    if bad:
        raise ValueError(f"{name}: activation {bad[0]!r} is not one of {sorted(NONLINEARITIES)}")
    shape = x.shape
    for i, w in enumerate(params[::2]):
        if w.ndim != 2 or not shape or shape[-1] != w.shape[1]:
            what = "the input" if i == 0 else f"layer {i}'s output"
            raise ValueError(f"{name}: {what} of shape {shape} does not match layer {i + 1}'s weight of shape "
                             f"{w.shape} (expected (..., {w.shape[-1] if w.ndim else '?'}))")
        shape = (*shape[:-1], w.shape[0])


#: acts tuple -> (activations, derivatives): looked up once per call instead of once per layer.
_RULES = {}


def _rules(acts):
    if type(acts) is not tuple:  # a list from a direct call: the table's keys are tuples
        acts = tuple(acts)
    rules = _RULES.get(acts)
    if rules is None:
        rules = (tuple(NONLINEARITIES[a][0] for a in acts), tuple(NONLINEARITIES[a][1] for a in acts))
        if len(_RULES) < 256:  # a few nets' worth; an unbounded variety of chains is not cached
            _RULES[acts] = rules
    return rules


def _forward(x, *params, acts):
    if len(params) != 2 * len(acts) or x.ndim == 0:
        _check("dense_chain", x, params, acts)
    lead = x.shape[:-1]
    h = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
    hs = [h]  # every layer's input, then the output: what the derivatives need
    try:  # the arguments are checked only when a layer fails: the check costs as much as a small layer
        fns = _rules(acts)[0]
        for i, fn in enumerate(fns):
            w, b = params[2 * i], params[2 * i + 1]
            if w.ndim != 2:
                raise ValueError
            h = np.dot(h, w.T)  # both 2-D: np.dot is mm's fast path, without its call
            if b is not None:
                h += b
            if fn is not None:
                h = fn(h)
            hs.append(h)
    except (ValueError, KeyError):
        _check("dense_chain", x, params, acts)
        raise
    out = h.reshape(*lead, h.shape[-1]) if x.ndim != 2 else h
    return out, {"hs": hs, "params": params, "lead": lead, "attrs": {"acts": acts}}


def _vjp(g, ctx, needs):
    hs, params, acts, lead = ctx["hs"], ctx["params"], ctx["attrs"]["acts"], ctx["lead"]
    g = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
    grads = [None] * len(needs)
    first_needed = needs.index(True) if True in needs else len(needs)
    owned = False  # the incoming gradient is the caller's; products made here may be changed in place
    slopes = _rules(acts)[1]
    dot = np.dot  # every operand here is 2-D (the forward folded the input's leading axes)
    for i in range(len(acts) - 1, -1, -1):
        slope = slopes[i]
        if slope is not None:
            if owned:
                g *= slope(hs[i + 1])
            else:
                g = g * slope(hs[i + 1])
        if needs[1 + 2 * i]:
            grads[1 + 2 * i] = dot(g.T, hs[i])
        if needs[2 + 2 * i]:
            grads[2 + 2 * i] = np.add.reduce(g, axis=0)
        if 2 * i < first_needed:  # nothing below this layer needs a gradient
            break
        g, owned = dot(g, params[2 * i]), True
    if needs[0]:
        grads[0] = g.reshape(*lead, g.shape[-1]) if len(lead) != 1 else g
    return tuple(grads)


def _jvp(ts, ctx):
    hs, params, acts, lead = ctx["hs"], ctx["params"], ctx["attrs"]["acts"], ctx["lead"]
    ts = tuple(ts) + (None,) * (1 + len(params) - len(ts))
    t = ts[0]
    if t is not None and t.ndim != 2:
        t = t.reshape(-1, t.shape[-1])
    for i, act in enumerate(acts):
        w, h_in = params[2 * i], hs[i]
        t = tangent_sum((t, ts[1 + 2 * i], ts[2 + 2 * i]),
                        lambda v, w=w: v @ w.T, lambda v, h=h_in: h @ v.T, lambda v: v)
        slope = NONLINEARITIES[act][1]
        if t is not None and slope is not None:
            t = t * slope(hs[i + 1])
    if t is not None and t.ndim == 2 and len(lead) != 1:  # the output's shape; a bias-only tangent broadcasts
        t = t.reshape(*lead, t.shape[-1])
    return t


def _steps(x, *params, acts):
    """The chain as the unfused ops, for gradients of gradients."""
    h = x
    for w, b, act in zip(params[::2], params[1::2], acts):
        h = call("linear", h, w) if b is None else call("linear", h, w, b)
        if act != "identity":
            h = call(act, h)
    return h


register(
    "dense_chain",
    _forward,
    _vjp,
    _jvp,
    vjp_graph=graph_vjp(_steps),
    doc="Dense layers in a row: h = act_i(h @ w_i.T + b_i) for x, w_1, b_1, ..., w_k, b_k (a bias may be None) "
    "and acts (one of relu, tanh, sigmoid, identity per layer).",
)
