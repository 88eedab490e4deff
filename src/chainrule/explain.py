"""A step-by-step backprop trace of a small network, in the order of Matt Mazur's walk-through.

For one example it prints every net input and output of the forward pass, the
error, then for each layer from the output back: dE/dout, dout/dnet, the delta
dE/dnet, every weight gradient as a product of chain-rule factors, and finally
every updated weight. The numbers come from the autodiff engine (retained
intermediate gradients); the text only arranges them as a student would.

A model trained with a weight penalty (``fit``'s ``regularization``) is traced
with it: the data loss E, each penalty term P and the sum E + P are printed
as ``fit``'s history reports ``loss``, ``reg_loss`` and their sum, and the
update uses d(E+P)/dw = dE/dw + dP/dw.

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> net = mazur_network()
    >>> r = explain(net, [0.05, 0.10], [0.01, 0.99], lr=0.5, update_biases=False)
    >>> round(r.error, 9), round(r.updated["w5"], 8)
    (0.298371109, 0.35891648)
"""

from __future__ import annotations

import numpy as np

from ._core import ArgumentError, check, check_bool, check_int, short_repr
from .nn.activations import Activation
from .nn.losses import LOSSES, UNREGISTERED
from .nn.module import Module
from .nn.layers import Linear, Sequential
from .nn.mlp import MLP
from .autodiff.tensor import Tensor
from .autodiff.forward import Dual
from .train.setup import penalty_terms

__all__ = ["explain", "explainable_stages", "ExplainResult", "mazur_network", "MAX_WEIGHTS"]

MAX_WEIGHTS = 200  # beyond this a printed trace is no longer readable


def mazur_network(dtype=np.float64):
    """The 2-2-2 sigmoid network of Mazur's example with its published starting weights."""
    net = MLP([2, 2, 2], activation="sigmoid", output_activation="sigmoid", dtype=dtype)
    net.hidden[0].weight.data[...] = [[0.15, 0.20], [0.25, 0.30]]
    net.hidden[0].bias.data[...] = 0.35
    net.output.weight.data[...] = [[0.40, 0.45], [0.50, 0.55]]
    net.output.bias.data[...] = 0.60
    return net


def _stages(model):
    """The model as a list of (Linear, activation or None) pairs."""
    if not isinstance(model, Module):
        raise ArgumentError("model must be an nn.MLP or an nn.Sequential of Linear and activation layers, "
                            f"got {type(model).__name__}")
    if isinstance(model, MLP):
        if model.skip is not None:
            raise ValueError("explain works on plain layer stacks; this MLP has skip-layer links")
        pairs = [(layer, model.activation) for layer in model.hidden]
        return pairs + [(model.output, model.output_activation)]
    layers = list(model) if isinstance(model, Sequential) else [model]
    pairs = []
    for m in layers:
        if isinstance(m, Linear):
            pairs.append([m, None])
        elif isinstance(m, Activation) and pairs and pairs[-1][1] is None:
            pairs[-1][1] = m
        else:
            raise ValueError(f"explain supports Linear layers each followed by at most one activation, got {type(m).__name__}")
    if not pairs:
        raise ValueError("explain needs at least one Linear layer")
    return [tuple(p) for p in pairs]


def _unit_names(stages):
    names = [[f"i{k + 1}" for k in range(stages[0][0].in_features)]]
    hidden = len(stages) - 1
    for li, (lin, _) in enumerate(stages):
        if li == hidden:
            prefix = "o"
        else:
            prefix = "h" if hidden == 1 else f"h{li + 1}_"
        names.append([f"{prefix}{j + 1}" for j in range(lin.out_features)])
    return names


class ExplainResult:
    """The trace: ``text`` plus the numbers by name.

    ``values`` (net inputs and outputs), ``grads`` (deltas and dE/dw of the data loss),
    ``updated`` (weights after the step), ``error`` (the data loss E), ``penalty`` (P, 0.0
    without a penalty), ``total`` (E + P) and ``penalty_grads`` (dP/dw by weight name).
    """

    def __init__(self, text, values, grads, updated, error, penalty=0.0, penalty_grads=None):
        self.text, self.values, self.grads, self.updated, self.error = text, values, grads, updated, error
        self.penalty, self.total, self.penalty_grads = penalty, error + penalty, penalty_grads or {}

    def __str__(self):
        return self.text


def _f(v):
    return f"{float(v):.9g}"


def _act_name(act):
    return "identity" if act is None else getattr(act, "name", type(act).__name__)


def _forward(stages, x):
    """Run the stack keeping each layer's net input and output (with retained gradients)."""
    h, record = x, []
    for lin, act in stages:
        net = lin(h).retain_grad()
        out = net if act is None else act(net).retain_grad()
        record.append((h, net, out))
        h = out
    return h, record


def _local_slope(act, net):
    """d out / d net for an element-wise activation, by forward mode (None if not element-wise)."""
    if act is None:
        return np.ones_like(net)
    if _act_name(act) in ("softmax", "log_softmax"):
        return None
    return act(Dual(net, np.ones_like(net))).tangent


def explainable_stages(model, max_weights=MAX_WEIGHTS):
    """The (Linear, activation) stages of ``model``, or ValueError if explain cannot print it.

    Example:
        >>> len(explainable_stages(mazur_network()))
        2
    """
    stages = _stages(model)
    n_weights = sum(lin.weight.data.size for lin, _ in stages)
    if n_weights > max_weights:
        raise ValueError(f"explain prints every weight, and this network has {n_weights}; use one with at most {max_weights}")
    return stages


def _real_values(name, value, shape_text):
    """``value`` as a finite real NumPy array, or one sentence naming what is wrong."""
    v = np.asarray(value)
    if v.dtype.kind not in "biuf" or v.size == 0:
        raise ArgumentError(f"{name} must be real numbers, {shape_text}, got {short_repr(value)}")
    if v.ndim > 2 or (v.ndim == 2 and v.shape[0] != 1):
        raise ValueError(f"{name} must be one example, {shape_text}, got an array of shape {v.shape}")
    bad = np.flatnonzero(~np.isfinite(v.astype(np.float64).ravel()))
    if bad.size:
        raise ValueError(f"{name} must hold finite numbers, got {float(v.ravel()[bad[0]])} at position {bad[0]}")
    return v


def _target_array(target, loss, dtype, n_out):
    """The target as the loss takes it: class indices stay integers (n,), everything else rows (1, n_out)."""
    tv = _real_values("target", target, f"shape ({n_out},)")
    takes_indices = loss is not None and getattr(loss, "spec", UNREGISTERED).takes("indices")
    if loss is not None and tv.dtype.kind in "iu":
        if takes_indices and not ((tv >= 0) & (tv < n_out)).all():
            raise ValueError(f"target must be a class index from 0 to {n_out - 1}, got {tv.ravel().tolist()}")
        return tv.reshape(-1)
    if takes_indices and tv.size == 1 and n_out > 1:
        raise ValueError(f"target {float(tv.ravel()[0])!r} is one float for {n_out} outputs: give a class index as an "
                         f"integer (such as [1]) or a row of {n_out} values")
    return tv.astype(dtype).reshape(1, -1)


def _checked_loss(loss):
    """None, a callable, or a name looked up in ``nn.LOSSES``."""
    if loss is None or callable(loss):
        return loss
    if isinstance(loss, str):
        return LOSSES[loss]
    raise ArgumentError(f"loss must be None, a name from nn.LOSSES or a function (output, target) -> Tensor, "
                        f"got {short_repr(loss)}")


def explain(model, x, target, loss=None, lr=0.5, update_biases=True, max_weights=MAX_WEIGHTS,
            regularization=None):
    """Trace one backprop step of ``model`` on one example: every number, returned (``print`` it to read it).

    Args:
        model: an ``nn.MLP`` (no skip links) or ``nn.Sequential`` of Linear + activation layers.
        x: one input example, shape (in_features,).
        target: its target, shape (out_features,); with a ``loss``, also integer class indices, shape (1,).
        loss: ``loss(output, target) -> scalar Tensor`` or a name in ``nn.LOSSES`` (e.g. ``"cross_entropy"``);
            default E = 1/2 sum (t - o)^2. Integer targets reach it as a NumPy array, others as a Tensor.
        lr: learning rate of the plain gradient-descent update shown at the end.
        update_biases: show bias updates too (Mazur's walk-through keeps them fixed).
        max_weights: refuse networks with more weights than this.
        regularization: the weight penalty the model is trained with, as ``fit`` takes it
            (``{"l2": 1e-3}``, ``("l1", 1e-5)`` or ``fn(model) -> Tensor``); None for none.

    Returns:
        :class:`ExplainResult`; the model itself is not changed.

    Example:
        >>> from chainrule import nn
        >>> r = explain(mazur_network(), [0.05, 0.10], [1], loss=nn.LOSSES["cross_entropy"])
        >>> "E = cross_entropy(out, target [1])" in r.text
        True
        >>> r = explain(mazur_network(), [0.05, 0.10], [0.01, 0.99], regularization={"l2": 0.01})
        >>> round(r.penalty, 6), round(r.total - r.error, 6)  # 0.01 * (0.15^2 + 0.2^2 + ... + 0.55^2) = 0.01 * 1.13
        (0.0113, 0.0113)
    """
    stages = explainable_stages(model, check_int("max_weights", max_weights, 1))
    lr, loss = check("lr", lr, ">0"), _checked_loss(loss)
    check_bool("update_biases", update_biases)
    dtype = stages[0][0].weight.data.dtype
    xv = _real_values("x", x, f"shape ({stages[0][0].in_features},)").astype(dtype).reshape(1, -1)
    tv = _target_array(target, loss, dtype, stages[-1][0].out_features)
    if xv.shape[1] != stages[0][0].in_features or (tv.ndim == 2 and tv.shape[1] != stages[-1][0].out_features):
        raise ValueError(
            f"explain: x has {xv.shape[1]} values and target {tv.size}; the network expects "
            f"{stages[0][0].in_features} inputs and {stages[-1][0].out_features} outputs"
        )
    out, record = _forward(stages, Tensor(xv, dtype=dtype))
    E = _error(loss, out, tv)
    for lin, _ in stages:
        for p in lin.parameters():
            p.grad = None
    E.backward()
    lines, values, grads, updated = [], {}, {}, {}
    names = _unit_names(stages)
    wnames = _weight_names(stages)
    _print_forward(lines, stages, record, names, wnames, values)
    _print_error(lines, loss, record[-1][2].data[0], tv, names[-1], E)
    _print_backward(lines, stages, record, names, wnames, grads)
    penalty, pgrads = _penalty_step(lines, model, stages, wnames, regularization, float(E.item()))
    steps = _print_total_grads(lines, grads, pgrads)
    _print_updates(lines, stages, wnames, steps, updated, lr, update_biases, "(E+P)" if pgrads else "E")
    _clear_grads(stages)
    return ExplainResult("\n".join(lines), values, grads, updated, float(E.item()), penalty, pgrads)


def _error(loss, out, tv):
    if loss is None:
        return 0.5 * ((Tensor(tv) - out) ** 2).sum()
    E = loss(out, Tensor(tv) if tv.ndim == 2 else tv)
    if not isinstance(E, Tensor) or E.data.size != 1:
        raise ArgumentError(f"loss must return a scalar Tensor, got {short_repr(E)}")
    return E


def _clear_grads(stages):
    for lin, _ in stages:
        for p in lin.parameters():
            p.grad = None


def _penalty_step(lines, model, stages, wnames, regularization, error):
    """Print each penalty term, E + P and dP/dw for every weight; returns (P, {name: dP/dw})."""
    terms = penalty_terms(regularization)
    if not terms:
        return 0.0, {}
    lines.append("== Weight penalty P, as in training (fit's history: loss = E, reg_loss = P) ==")
    _clear_grads(stages)
    total = None
    for name, fn, strength in terms:
        part = fn(model) if strength is None else fn(model, strength)
        if strength is None:
            lines.append(f"  P_{name} = {name}(model) = {_f(part.item())}")
        else:
            base = float(fn(model, 1.0).item())
            lines.append(f"  P_{name} = {strength:g} * {name}(weights) = {strength:g} * {_f(base)} = {_f(part.item())}")
        total = part if total is None else total + part
    penalty = float(total.item())
    lines.append(f"  P = {_f(penalty)}")
    lines.append(f"  E + P = {_f(error)} + {_f(penalty)} = {_f(error + penalty)}  (data loss + penalty: the training objective)")
    total.backward()
    pgrads = {}
    for li, (lin, _) in enumerate(stages):
        for p, names in ((lin.weight, wnames[li][0]), (lin.bias, np.array(wnames[li][1], dtype=object))):
            if p is None or p.grad is None:
                continue
            for idx in np.ndindex(p.data.shape):
                pgrads[names[idx]] = float(p.grad[idx])
    return penalty, pgrads


def _print_total_grads(lines, grads, pgrads):
    """d(E+P)/dw = dE/dw + dP/dw for every penalised parameter; returns every parameter's d(E+P)/dw."""
    for wn, g in pgrads.items():
        lines.append(f"  d(E+P)/d{wn} = dE/d{wn} + dP/d{wn} = {_f(grads[wn])} + {_f(g)} = {_f(grads[wn] + g)}")
    return {k: g + pgrads.get(k, 0.0) for k, g in grads.items()}


def _weight_names(stages):
    """w1, w2, ... numbered row by row through the layers; b1, b2, ... one per unit."""
    wk, bk, out = 0, 0, []
    for lin, _ in stages:
        w = np.empty(lin.weight.data.shape, dtype=object)
        for idx in np.ndindex(w.shape):
            wk += 1
            w[idx] = f"w{wk}"
        b = []
        if lin.bias is not None:
            for _ in range(lin.out_features):
                bk += 1
                b.append(f"b{bk}")
        out.append((w, b))
    return out


def _print_forward(lines, stages, record, names, wnames, values):
    lines.append("== Forward pass ==")
    for li, ((lin, act), (h, net, out)) in enumerate(zip(stages, record)):
        lines.append(f"layer {li + 1}: Linear {lin.in_features} -> {lin.out_features}, {_act_name(act)}")
        W, b = lin.weight.data, (None if lin.bias is None else lin.bias.data)
        for j, unit in enumerate(names[li + 1]):
            terms = " + ".join(f"{wnames[li][0][j, k]}*{names[li][k]}" for k in range(lin.in_features))
            nums = " + ".join(f"{_f(W[j, k])}*{_f(h.data[0, k])}" for k in range(lin.in_features))
            if b is not None:
                terms += f" + {wnames[li][1][j]}"
                nums += f" + {_f(b[j])}"
            lines.append(f"  net_{unit} = {terms} = {nums} = {_f(net.data[0, j])}")
            lines.append(f"  out_{unit} = {_act_name(act)}(net_{unit}) = {_f(out.data[0, j])}")
            values[f"net_{unit}"], values[f"out_{unit}"] = float(net.data[0, j]), float(out.data[0, j])


def _print_error(lines, loss, final, tv, units, E):
    """The error: term by term for 1/2 sum of squares, else the named loss on the outputs and target."""
    if loss is None:
        for j, unit in enumerate(units):
            lines.append(f"  E_{unit} = 1/2 (target_{unit} - out_{unit})^2 = 1/2 ({_f(tv[0, j])} - {_f(final[j])})^2 = {_f(0.5 * (tv[0, j] - final[j]) ** 2)}")
        lines.append(f"  E_total = {_f(E.item())}")
        return
    name = getattr(loss, "__name__", "loss").strip("<>").replace("lambda", "loss")
    outs = ", ".join(_f(v) for v in final)
    target = ", ".join(_f(v) for v in np.ravel(tv))
    lines.append(f"  E = {name}(out, target [{target}]) = {name}([{outs}], [{target}]) = {_f(E.item())}")


def _print_backward(lines, stages, record, names, wnames, grads):
    lines.append("== Backward pass ==")
    for li in range(len(stages) - 1, -1, -1):
        lin, act = stages[li]
        h, net, out = record[li]
        slope = _local_slope(act, net.data)
        lines.append(f"layer {li + 1} ({'output' if li == len(stages) - 1 else 'hidden'}):")
        for j, unit in enumerate(names[li + 1]):
            dout = out.grad[0, j]
            if li < len(stages) - 1:
                nxt = stages[li + 1][0].weight.data
                dnext = record[li + 1][1].grad[0]
                terms = " + ".join(f"{_f(dnext[k])}*{_f(nxt[k, j])}" for k in range(nxt.shape[0]))
                lines.append(f"  dE/dout_{unit} = sum_k dE/dnet_k * w_k{unit} = {terms} = {_f(dout)}")
            else:
                lines.append(f"  dE/dout_{unit} = {_f(dout)}")
            if slope is not None:
                lines.append(f"  dout_{unit}/dnet_{unit} = {_f(slope[0, j])}")
            delta = net.grad[0, j]
            lines.append(f"  delta_{unit} = dE/dnet_{unit} = {_f(delta)}")
            grads[f"delta_{unit}"] = float(delta)
            for k, src in enumerate(names[li]):
                g = lin.weight.grad[j, k]
                wn = wnames[li][0][j, k]
                lines.append(f"  dE/d{wn} = delta_{unit} * out_{src} = {_f(delta)} * {_f(h.data[0, k])} = {_f(g)}")
                grads[wn] = float(g)
            if lin.bias is not None:
                grads[wnames[li][1][j]] = float(lin.bias.grad[j])


def _print_updates(lines, stages, wnames, grads, updated, lr, update_biases, objective="E"):
    lines.append(f"== Updated weights (w <- w - {lr:g} * d{objective}/dw) ==")
    for li, (lin, _) in enumerate(stages):
        W = lin.weight.data
        for idx in np.ndindex(W.shape):
            wn = wnames[li][0][idx]
            new = W[idx] - lr * grads[wn]
            updated[wn] = float(new)
            lines.append(f"  {wn} = {_f(W[idx])} - {lr:g} * {_f(grads[wn])} = {_f(new)}")
        if lin.bias is not None:
            for j, bn in enumerate(wnames[li][1]):
                new = lin.bias.data[j] - lr * grads[bn] if update_biases else lin.bias.data[j]
                updated[bn] = float(new)
                note = "" if update_biases else "  (kept fixed)"
                lines.append(f"  {bn} = {_f(new)}{note}")
