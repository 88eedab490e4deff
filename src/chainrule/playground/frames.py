"""What the browser draws: heat maps on the reference's 100 x 100 grid over [-6, 6]^2, metrics, weights.

A frame is one JSON object. Grids travel as base64 uint8 (value v in [-1, 1]
as ``round((v + 1) * 127.5)``), row 0 at the top (x2 = +6), column 0 at the
left (x1 = -6); weights and gradient magnitudes as base64 float32, one array per
layer in (out, in) order. Each neuron's thumbnail is its 100 x 100 map averaged
over 10 x 10 blocks, as in the reference.

Example:
    >>> from chainrule.playground.trainer import Trainer
    >>> f = build_frame(Trainer({"seed": "2"}))
    >>> f["type"], f["epoch"], len(decode_grid(f["output"]))
    ('frame', 0, 10000)
"""

from __future__ import annotations

import base64
import functools

import numpy as np

from ..autodiff.engine import no_grad
from ..autodiff.tensor import Tensor
from .network import DTYPE
from .points import Points, feature_matrix
from .settings import DATASETS, REG_DATASETS

__all__ = ["GRID", "grid_points", "build_frame", "metrics", "decode_grid", "to_uint8", "finite_or_none"]

GRID, HALF, THUMB = 100, 6.0, 10


def grid_points(density=GRID):
    """The (density^2, 2) grid points, row-major from the top-left corner (-6, +6).

    Example:
        >>> grid_points(2).tolist()
        [[-6.0, 6.0], [6.0, 6.0], [-6.0, -6.0], [6.0, -6.0]]
    """
    axis = np.linspace(-HALF, HALF, density)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


_GRID = grid_points()


def to_uint8(values):
    """Values in [-1, 1] (clipped; nan as 0) as uint8 0..255."""
    return np.rint((np.clip(np.nan_to_num(values, nan=0.0), -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def finite_or_none(value):
    """A float for JSON, or None (JSON null) for nan and inf, which JSON cannot carry: a diverged run's loss."""
    value = float(value)
    return value if np.isfinite(value) else None


def _b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def decode_grid(text):
    """The uint8 array behind a base64 grid (for tests and tools)."""
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8)


def _thumbnails(values):
    """(GRID^2, width) neuron values -> (width, THUMB, THUMB) block means."""
    width = values.shape[1]
    blocks = values.reshape(THUMB, GRID // THUMB, THUMB, GRID // THUMB, width)
    return blocks.mean(axis=(1, 3)).transpose(2, 0, 1)


def _feature_grid(features):
    return feature_matrix(_GRID, features).astype(DTYPE)


def metrics(trainer):
    """Accuracy and the test confusion matrix (classification) or RMSE (regression), train and test."""
    pts, head = trainer.points, trainer.head
    out = {}
    with no_grad():
        for split, F, y in (("train", trainer.F_train, pts.y_train), ("test", trainer.F_test, pts.y_test)):
            if len(F) == 0:
                continue
            pred = head.predict(trainer.net.model(Tensor(F)).data)
            if pts.problem == "classification":
                out[f"{split}_accuracy"] = round(float((pred == y).mean()), 4)
                if split == "test":
                    k = pts.n_classes
                    out["confusion"] = np.bincount(y * k + pred, minlength=k * k).reshape(k, k).tolist()
            else:
                out[f"{split}_rmse"] = finite_or_none(round(float(np.sqrt(np.mean((pred - y) ** 2))), 4))
    return out


def build_frame(trainer, include_maps=True):
    """The frame for the trainer's current state (see the module docstring for the encoding).

    A diverged run's overflow is no warning here: its losses go out as null and its maps as 0.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _frame(trainer, include_maps)


def _frame(trainer, include_maps):
    net, head = trainer.net, trainer.head
    train_loss, test_loss = trainer.losses()
    frame = {
        "type": "frame", "epoch": trainer.epoch,
        "train_loss": finite_or_none(train_loss), "test_loss": finite_or_none(test_loss),
        "lr": float(trainer.optimizer.lr), "sizes": net.sizes, "head": head.name,
        "metrics": metrics(trainer),
        "weights": [_b64(lin.weight.data.astype(np.float32)) for lin in net.linears],
        "biases": [_b64(lin.bias.data.astype(np.float32)) for lin in net.linears],
        "grads": [_b64(g.astype(np.float32)) for g in trainer.last_grads],
    }
    if include_maps:
        frame.update(_maps(trainer))
    return frame


def _maps(trainer):
    net, head = trainer.net, trainer.head
    with no_grad():
        outs = net.layer_outputs(_feature_grid(trainer.features))
    maps = {"neurons": [_b64(to_uint8(_thumbnails(h))) for h in outs[:-1]]}
    final = outs[-1]
    if head.multi:
        probs = head.probs(final)
        maps["classes"] = _b64(probs.argmax(axis=1).astype(np.uint8))
        maps["output"] = _b64(to_uint8(2 * probs.max(axis=1) - 1))
    else:
        maps["output"] = _b64(to_uint8(head.value(final)))
    return maps


def input_maps(features):
    """Each feature's thumbnail over the grid (scaled into [-1, 1] by its largest magnitude), by name."""
    F = _feature_grid(features)
    scale = np.maximum(np.abs(F).max(axis=0), 1e-12)
    return {f: _b64(t) for f, t in zip(features, to_uint8(_thumbnails(F / scale)))}


@functools.lru_cache(maxsize=1)
def dataset_previews(count=120):
    """A few points of every built-in set, for the data set buttons: ``{hash name: [[x1, x2, label], ...]}``."""
    out = {}
    for key, name in {**DATASETS, **REG_DATASETS}.items():
        if name is None:
            continue
        pts = Points.generate(name, noise=0, perc_train=100, seed="preview")
        rows = pts.rows("train")
        out[key] = rows[:: max(1, len(rows) // count)]
    return out
