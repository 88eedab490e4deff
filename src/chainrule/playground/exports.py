"""Exports of a session: the model as ``.safetensors`` (``cr.load`` opens it), weights as JSON, a Python script.

The script rebuilds the run with chainrule's public API only - the same data
generator, seed, split, features, network (built in the same order, so the
same initial weights), loss, optimiser and training loop - and trains the
same number of epochs, so its losses equal the playground's as long as no
setting was changed and no weight edited while training.

Example:
    >>> from chainrule.playground.trainer import Trainer
    >>> reply = export(Trainer({"seed": "4"}), "json")
    >>> reply["filename"], sorted(json.loads(reply["text"]))[:3]
    ('playground-weights.json', ['classes', 'epoch', 'features'])
"""

from __future__ import annotations

import base64
import json
import os
import tempfile

import numpy as np

from .. import nn
from .._core import to_jsonable
from ..io import save
from .network import ACTIVATION_NAMES, DTYPE, INITS
from .settings import DATASETS, REG_DATASETS

__all__ = ["export", "python_script", "model_metadata"]


def model_metadata(trainer):
    """What a saved model needs beside its weights to be used on (x1, x2) points."""
    return {"source": "chainrule playground", "features": trainer.features, "problem": trainer.problem,
            "head": trainer.head.name, "classes": trainer.points.n_classes, "epoch": trainer.epoch,
            "settings": trainer.settings,
            "output": "tanh score (class 1 if >= 0)" if trainer.head.name == "tanh_mse" else trainer.head.description}


def _model_bytes(trainer):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        save(trainer.net.model, path, metadata=model_metadata(trainer))
        with open(path, "rb") as f:
            return f.read()


def _weights_json(trainer):
    layers = [{"weight": lin.weight.data.tolist(), "bias": lin.bias.data.tolist()} for lin in trainer.net.linears]
    return json.dumps(to_jsonable({**model_metadata(trainer), "sizes": trainer.net.sizes, "layers": layers}), indent=1)


def export(trainer, fmt):
    """The reply carrying an export: ``{"type": "export", "format", "filename", "text" | "base64"}``."""
    if fmt == "model":
        data = base64.b64encode(_model_bytes(trainer)).decode("ascii")
        return {"type": "export", "format": fmt, "filename": "playground-model.safetensors", "base64": data}
    if fmt == "json":
        return {"type": "export", "format": fmt, "filename": "playground-weights.json", "text": _weights_json(trainer)}
    return {"type": "export", "format": fmt, "filename": "playground_run.py", "text": python_script(trainer)}


_FEATURE_CODE = {"x": "a", "y": "b", "xSquared": "a * a", "ySquared": "b * b", "xTimesY": "a * b",
                 "sinX": "np.sin(a)", "sinY": "np.sin(b)"}
_TARGET_CODE = {"tanh_mse": "(2.0 * y - 1.0).reshape(-1, 1).astype(np.float32)",
                "sigmoid_bce": "y.reshape(-1, 1).astype(np.float32)", "softmax_ce": "y",
                "softmax_mse": "np.eye(N_CLASSES, dtype=np.float32)[y]", "linear_mse": "y.reshape(-1, 1).astype(np.float32)"}
_LOSS_CODE = {
    "half_squared": "    diff = out - cr.Tensor(t)\n    return (diff * diff).sum() * (0.5 / len(t))",
    "sigmoid_bce": "    return nn.functional.binary_cross_entropy_with_logits(out, t)",
    "softmax_ce": "    return nn.functional.cross_entropy(out, t)",
}
_OPTIMIZER_CODE = {"sgd": "optim.SGD(model.parameters(), lr=LEARNING_RATE)",
                   "momentum": "optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)",
                   "adam": "optim.Adam(model.parameters(), lr=LEARNING_RATE)"}
_SCHEDULE_CODE = {"constant": "None", "step": "optim.StepDecay(opt, step_size=100, gamma=0.5)",
                  "exponential": "optim.ExponentialDecay(opt, gamma=0.995)",
                  "cosine": "optim.CosineAnnealing(opt, t_max=500, min_lr=0.0)"}


def _data_code(trainer):
    s = trainer.settings
    key = s["dataset"] if trainer.problem == "classification" else s["regDataset"]
    name = {**DATASETS, **REG_DATASETS}[key]
    if name is None:
        X, y = trainer.points.X, trainer.points.y
        return (f"X = np.array({np.round(X, 6).tolist()})\nlabels = np.array({y.tolist()})\n"
                "seed_number = zlib.crc32(SEED.encode('utf-8'))")
    n = 1200 if trainer.problem == "regression" else 500
    return (f"seed_number = zlib.crc32(SEED.encode('utf-8'))\n"
            f"ds = cr.data.load_dataset({name!r}, n={n}, noise={s['noise'] / 100!r}, seed=seed_number, dtype=np.float64)\n"
            "X, labels = ds.X, ds.y")


def _layer_code(trainer):
    s, net = trainer.settings, trainer.net
    w_init, b_init = INITS[s["init"]]
    if s["initZero"]:
        w_init = "zeros"
    acts = list(s["layerActivations"] or [])
    lines = []
    for i, lin in enumerate(net.linears):
        last = i == len(net.linears) - 1
        parts = [f"nn.Linear({lin.in_features}, {lin.out_features}, init={w_init!r}, bias_init={b_init!r}, "
                 f"seed=rng, dtype={DTYPE!r})"]
        if last:
            if trainer.head.activation:
                parts.append(f"nn.get_activation({trainer.head.activation!r})")
        else:
            act = ACTIVATION_NAMES[acts[i] if i < len(acts) else s["activation"]]
            parts.append(f"nn.get_activation({act!r})")
            if s["dropout"]:
                parts.append(f"nn.Dropout({s['dropout']!r}, seed=int(rng.integers(2**31)))")
        block = f"nn.Sequential({', '.join(parts)})"
        if isinstance(net.model[i], nn.Residual):
            block = f"nn.Residual({block})"
        lines.append(f"    {block},")
    return "\n".join(lines)


def python_script(trainer):
    """A standalone script reproducing this session's run with chainrule."""
    s, head = trainer.settings, trainer.head
    loss = {"sigmoid_bce": "sigmoid_bce", "softmax_ce": "softmax_ce"}.get(head.name, "half_squared")
    features = ", ".join(_FEATURE_CODE[f] for f in trainer.features)
    return _SCRIPT.format(
        epochs=trainer.epoch, seed=s["seed"], batch=s["batchSize"], lr=s["learningRate"],
        reg=s["regularization"], rate=s["regularizationRate"], perc=s["percTrainData"],
        k=trainer.points.n_classes, data=_data_code(trainer), features=features,
        target=_TARGET_CODE[head.name], loss=_LOSS_CODE[loss], net_seed=trainer.net_seed,
        layers=_layer_code(trainer), optimizer=_OPTIMIZER_CODE[s["optimizer"]],
        schedule=_SCHEDULE_CODE[s["schedule"]], head=head.description, shape=s["networkShape"],
        problem=trainer.problem)


_SCRIPT = '''"""A chainrule playground run, reproduced: {problem}, hidden layers {shape}, {epochs} epochs.

Output: {head}. Run it with `python playground_run.py`; it prints the losses the playground showed
(if no setting was changed and no weight edited while it trained).
"""

import math
import zlib

import numpy as np

import chainrule as cr
from chainrule import nn, optim

SEED = {seed!r}
EPOCHS = {epochs}
BATCH_SIZE = {batch}
LEARNING_RATE = {lr!r}
REGULARIZATION, REGULARIZATION_RATE = {reg!r}, {rate!r}
N_CLASSES = {k}

# The points, shuffled once and split as the playground does.
{data}
order = np.random.default_rng(seed_number).permutation(len(X))
cut = math.floor(len(X) * {perc} / 100)
train, test = order[:cut], order[cut:]


def features(points):
    a, b = points[:, 0], points[:, 1]
    return np.stack([{features}], axis=1).astype(np.float32)


def targets(y):
    return {target}


def loss_fn(out, t):
{loss}


F_train, T_train = features(X[train]), targets(labels[train])
F_test, T_test = features(X[test]), targets(labels[test])

# The network, built in the playground's order so the initial weights are the same.
rng = np.random.default_rng({net_seed})
model = nn.Sequential(
{layers}
)
linears = [block.block[0] if isinstance(block, nn.Residual) else block[0] for block in model]
dead = [np.zeros(lin.weight.shape, dtype=bool) for lin in linears]
opt = {optimizer}
schedule = {schedule}


def regularise():
    """The playground's weight penalty step after each update; an L1 step that flips a sign freezes the weight at 0."""
    rate = REGULARIZATION_RATE * opt.lr
    for lin, frozen in zip(linears, dead):
        w = lin.weight.data
        if rate and REGULARIZATION == "L2":
            w -= rate * w
        elif rate and REGULARIZATION == "L1":
            new = w - rate * np.sign(w)
            frozen |= (w * new) < 0
            w[...] = new
        if frozen.any():
            w[frozen] = 0.0


pending = np.zeros(0, dtype=np.int64)
model.train()
for epoch in range(EPOCHS):
    # Batches run through the points in order; a partial last batch is completed by the next epoch.
    seq = np.concatenate([pending, np.arange(len(F_train))])
    full = len(seq) // BATCH_SIZE
    for b in range(full):
        idx = seq[b * BATCH_SIZE:(b + 1) * BATCH_SIZE]
        loss = loss_fn(model(cr.Tensor(F_train[idx])), T_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        regularise()
    pending = seq[full * BATCH_SIZE:]
    if schedule is not None:
        schedule.step()
model.eval()

with cr.no_grad():
    train_loss = float(loss_fn(model(cr.Tensor(F_train)), T_train).item())
    test_loss = float(loss_fn(model(cr.Tensor(F_test)), T_test).item()) if len(F_test) else 0.0
print(f"epoch {{EPOCHS}}: train loss {{train_loss:.3f}}, test loss {{test_loss:.3f}}")
'''
