"""``chainrule explain MODEL``: one backprop step of a saved model in its own terms.

A model written by ``chainrule train`` keeps its loss, its feature scaler,
its class names and its regression target scaling in the file. The trace
uses all of them: ``--x`` is a raw feature row, scaled as at training time;
``--target`` is a class name for a classifier (encoded as the loss takes
its targets) or raw values for a regression (standardised as at training
time); and the error is the model's own loss. A model file without that
metadata is traced as given, with E = 1/2 sum (t - o)^2.

Example:
    >>> import os, tempfile
    >>> from chainrule import io, nn
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> io.save(nn.MLP([2, 3], seed=0), path, metadata={"task": "classification", "loss": "cross_entropy",
    ...         "class_names": ["a", "b", "c"]})
    >>> net, step = load_step(path, "0.5,1", "c")
    >>> step.target, step.loss.__name__
    (array([2]), 'cross_entropy')
"""

from __future__ import annotations

import numpy as np

from .._core import is_number
from ..explain import MAX_WEIGHTS, explainable_stages
from ..nn import LOSSES
from .trained import TrainedModel

__all__ = ["ExplainStep", "TARGET_ENCODERS", "load_step", "parse_numbers"]

#: Loss target kind -> ``fn(class index, number of outputs) -> target``, as ``chainrule train`` encodes classes.
TARGET_ENCODERS = {
    "indices": lambda k, n: np.array([k]),
    "one_hot": lambda k, n: np.eye(n)[k],
    "binary": lambda k, n: np.array([float(k)]),
    "signs": lambda k, n: np.array([2.0 * k - 1.0]),
}


def parse_numbers(text, name):
    """``"0.05,0.1"`` -> ``[0.05, 0.1]``, or ValueError naming the option and the bad part.

    Example:
        >>> parse_numbers("1, 2.5", "--x")
        [1.0, 2.5]
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not is_number(p))
        raise ValueError(f"{name} must be comma-separated numbers such as 0.05,0.1, got {bad!r} in {text!r}") from None
    if not all(np.isfinite(values)):
        raise ValueError(f"{name} must hold finite numbers, got {text!r}")
    return values


def _numbers(text, name):
    return np.asarray(parse_numbers(text, name), dtype=np.float64)


class ExplainStep:
    """The input, target and loss that ``explain MODEL`` traces, read through the model's metadata.

    Attributes:
        x: the network's input (scaled when the model has a scaler), shape (features,).
        target: the target as the loss takes it.
        loss: the ``nn.LOSSES`` function, or None for E = 1/2 sum (t - o)^2.
        regularization: the weight penalty the model was trained with (``{"l2": 0.01}``), or None.
        notes: lines saying how ``--x`` and ``--target`` were turned into ``x`` and ``target``.
    """

    def __init__(self, trained, x_text, target_text, n_out):
        info, self.notes = trained.info, []
        if info.loss is not None and info.loss not in LOSSES:
            raise ValueError(f"the model was trained with the loss {info.loss!r}, which is not in nn.LOSSES; explain "
                             f"traces a loss from nn.LOSSES ({', '.join(LOSSES)}) or 1/2 sum of squares for a model "
                             f"file without a loss")
        self.loss = LOSSES[info.loss] if info.loss is not None else None
        self.x = self._input(trained, x_text)
        spec = info.spec
        if spec is not None and spec.task == "classification":
            self.target = self._class_target(info, spec, target_text, n_out)
        else:
            self.target = self._real_target(info, target_text)
        if self.loss is not None:
            self.notes.append(f"loss: {info.loss} (the model's training loss)")
        self.regularization = info.penalty
        if info.penalty:
            shown = ", ".join(f"{name}={strength:g}" for name, strength in info.penalty.items())
            self.notes.append(f"penalty: {shown} (the model's training penalty, added to the data loss as in training)")
        elif not info.penalty_known:
            self.notes.append("penalty: not recorded in this model file (trained with the default L2 of 2 / training "
                              "rows); showing the data loss only")

    def _input(self, trained, text):
        x = _numbers(text, "--x")
        names = trained.info.feature_names
        if x.size != len(names):
            raise ValueError(f"--x has {x.size} values; the model takes {len(names)} features: {', '.join(names)}")
        scaler = trained.info.scaler
        if scaler is None:
            return x
        scaled = np.asarray(scaler.transform(x.reshape(1, -1)), dtype=np.float64)[0]
        shown = ", ".join(f"{n}={v:g}" for n, v in zip(names, x))
        self.notes.append(f"x: {shown}, scaled as at training ({type(scaler).__name__}) to "
                          f"{', '.join(f'{v:.6g}' for v in scaled)}")
        return scaled

    def _class_target(self, info, spec, text, n_out):
        n_classes = 2 if spec.outputs == "binary" else n_out
        classes = [str(c) for c in (info.class_names or range(n_classes))]
        if text not in classes:
            raise ValueError(f"--target must be one of the model's classes ({', '.join(classes)}), got {text!r}")
        k, kind = classes.index(text), spec.targets[0]
        target = TARGET_ENCODERS[kind](k, n_out)
        self.notes.append(f"target: class {text!r} (index {k}), given to {info.loss} as {kind} "
                          f"{np.array2string(target, separator=', ')}")
        return target

    def _real_target(self, info, text):
        t = _numbers(text, "--target")
        if info.target_scaler is None:
            return t
        scaled = np.asarray(info.target_scaler.transform(t.reshape(1, -1)), dtype=np.float64).reshape(-1)
        self.notes.append(f"target: {', '.join(f'{v:g}' for v in t)}, standardised as at training to "
                          f"{', '.join(f'{v:.6g}' for v in scaled)}")
        return scaled


def load_step(path, x_text, target_text, max_weights=MAX_WEIGHTS):
    """``(network, ExplainStep)`` for ``explain MODEL``: the size is checked before the options are read."""
    trained = TrainedModel.load(path)
    stages = explainable_stages(trained.model, max_weights)
    if x_text is None or target_text is None:
        raise ValueError("explain MODEL needs --x and --target: the raw features, comma-separated, and the class "
                         "name (classifiers) or target values")
    return trained.model, ExplainStep(trained, x_text, target_text, stages[-1][0].out_features)
