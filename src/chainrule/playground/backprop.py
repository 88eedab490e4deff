"""The "backprop step" view: chainrule's :func:`~chainrule.explain.explain` trace for one training point.

For the chosen point it gives, per layer, every neuron's net input, output and
delta (dE/dnet) and every weight's and bias's gradient, arranged by (layer,
node, source) for drawing, plus the trace's text. The numbers are the
engine's, taken from ``explain`` by its documented naming: units ``net_<u>`` /
``out_<u>`` / ``delta_<u>`` in layer order, weights ``w1, w2, ...`` row by row
through the layers, biases ``b1, b2, ...`` one per unit.

Example:
    >>> from chainrule.playground.trainer import Trainer
    >>> view = explain_point(Trainer({"seed": "3"}), 0)
    >>> view["type"], len(view["layers"]), len(view["layers"][0]["weight_grads"])
    ('explain', 3, 4)
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..explain import explain

__all__ = ["explain_point"]


def _flat_model(net):
    """The network as one Sequential of Linear + activation (dropout is off outside training)."""
    layers = []
    for block in net.model:
        if isinstance(block, nn.Residual):
            raise ValueError("the backprop step view needs a plain layer stack; turn off skip links")
        for m in block:
            if not isinstance(m, nn.Dropout):
                layers.append(m)
    return nn.Sequential(*layers)


def _target_and_loss(trainer, index):
    head, k = trainer.head, trainer.points.n_classes
    target = trainer.T_train[index]
    if head.name == "softmax_ce":
        label = int(target)
        return np.eye(k)[label], lambda out, t: nn.functional.cross_entropy(out, np.array([label]))
    if head.name == "sigmoid_bce":
        return np.atleast_1d(target), lambda out, t: nn.functional.binary_cross_entropy_with_logits(out, t)
    return np.atleast_1d(target), None  # explain's default is the reference's 0.5 sum (t - o)^2


def explain_point(trainer, index=0):
    """The trace of one backprop step on training point ``index`` of the trainer (nothing is changed)."""
    n = len(trainer.F_train)
    if n == 0:
        raise ValueError("there are no training points to explain: raise percTrainData or add points")
    if not 0 <= index < n:
        raise ValueError(f"index must be a training point from 0 to {n - 1}, got {index}")
    net = trainer.net
    target, loss = _target_and_loss(trainer, index)
    lr = float(trainer.optimizer.lr)
    result = explain(_flat_model(net), trainer.F_train[index], target, loss=loss, lr=lr, max_weights=10**6)
    units = [key[4:] for key in result.values if key.startswith("net_")]
    layers, w_count, b_count, start = [], 0, 0, 0
    for lin in net.linears:
        names = units[start:start + lin.out_features]
        start += lin.out_features
        wg = []
        for _ in range(lin.out_features):
            wg.append([result.grads[f"w{w_count + s + 1}"] for s in range(lin.in_features)])
            w_count += lin.in_features
        bg = [result.grads[f"b{b_count + j + 1}"] for j in range(lin.out_features)]
        b_count += lin.out_features
        layers.append({
            "net": [result.values[f"net_{u}"] for u in names], "out": [result.values[f"out_{u}"] for u in names],
            "delta": [result.grads[f"delta_{u}"] for u in names], "weight_grads": wg, "bias_grads": bg,
        })
    point = trainer.points.X_train[index]
    return {"type": "explain", "index": index, "point": [float(point[0]), float(point[1])],
            "inputs": [float(v) for v in trainer.F_train[index]], "error": result.error,
            "layers": layers, "text": result.text}
