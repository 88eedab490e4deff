"""A saved model together with the preprocessing learned at training time.

``chainrule train`` stores, in the model file's metadata, everything needed
to use the model on new raw data: the feature columns in order, the fitted
scaler, the class names, the target column, the task and the loss. A
:class:`TrainedModel` reads them back and applies them, so ``predict`` and
``evaluate`` take the same kind of file the model was trained on.

A model file saved without that metadata (``chainrule.io.save(model, path)``)
still works: its inputs are taken as already scaled and its outputs are
reported as they are.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from chainrule import io, nn
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> io.save(nn.MLP([2, 4, 3], seed=0), path, metadata={"task": "classification", "loss": "cross_entropy",
    ...         "feature_names": ["a", "b"], "class_names": ["x", "y", "z"]})
    >>> tm = TrainedModel.load(path)
    >>> header, rows = tm.predict_table(np.zeros((1, 2)))
    >>> header
    ['prediction', 'probability_x', 'probability_y', 'probability_z']
"""

from __future__ import annotations

import os

import numpy as np

from ..io import models as io
from ..io.onnx import export_onnx, graph_inputs
from ..data import scaler_from_dict
from ..data.table import TablePipeline
from ..metrics import to_labels
from ..nn._util import first_layer
from ..nn import LOSSES, loss_spec
from .._core import Registry
from ..train.classify import as_probabilities
from ..train.loop import predict
from .sources import read_inputs
from .tabular import score

__all__ = ["trainable_losses", "check_loss", "ModelInfo", "TrainedModel"]


def trainable_losses():
    """The ``nn.LOSSES`` entries whose :class:`~chainrule.nn.LossSpec` says ``chainrule train`` can use them.

    Example:
        >>> sorted(trainable_losses())
        ['bce_with_logits', 'cross_entropy', 'mse', 'multiclass_hinge']
    """
    table = Registry("loss for command-line training")
    table.update({name: loss_spec(fn) for name, fn in LOSSES.items() if loss_spec(fn).trainable})
    return table


def check_loss(name):
    """The :class:`~chainrule.nn.LossSpec` of ``name``: unknown names list ``nn.LOSSES``, untrainable ones the rest."""
    LOSSES[name]
    return trainable_losses()[name]


class ModelInfo:
    """The data-facing facts stored with a model: features, target, classes, scaler, task, loss."""

    def __init__(self, metadata, n_features, n_outputs):
        meta = metadata or {}
        self.metadata = meta
        # Models saved by main_job() keep their loss inside the training recipe.
        self.loss = meta.get("loss") or (meta.get("recipe") or {}).get("loss")
        self.task = meta.get("task") or (self.spec.task if self.spec is not None else None)
        self.target = meta.get("target")
        self.class_names = meta.get("class_names")
        self.takes_rows = n_features is not None  # False: images, sequences or indices (no feature columns)
        self.feature_names = list(meta.get("feature_names") or [f"x{i + 1}" for i in range(n_features or 0)])
        self.scaler = scaler_from_dict(meta["scaler"]) if meta.get("scaler") else None
        # CSV-trained models keep their table pipeline; regressions their target scaling.
        self.pipeline = TablePipeline.from_dict(meta["table"]) if meta.get("table") else None
        self.target_scaler = scaler_from_dict(meta["target_scaler"]) if meta.get("target_scaler") else None
        self.penalty, self.penalty_known = _training_penalty(meta.get("training"))
        if self.takes_rows and len(self.feature_names) != n_features:
            raise ValueError(f"the model file lists {len(self.feature_names)} feature names for a network with "
                             f"{n_features} inputs")
        spec = self.spec
        if self.class_names and spec is not None and spec.task == "classification" and n_outputs is not None:
            expected = 2 if spec.outputs == "binary" else n_outputs
            if len(self.class_names) != expected:
                raise ValueError(f"the model file lists {len(self.class_names)} class names for a network with "
                                 f"{n_outputs} outputs")

    @property
    def spec(self):
        """The ``nn.LossSpec`` of the training loss, or None for a model without metadata (or an unknown loss)."""
        return loss_spec(self.loss) if self.loss in LOSSES else None


def _training_penalty(training):
    """``(regularization or None, known)``: the weight penalty the model was trained with.

    ``chainrule train`` saves the penalty it gave ``fit`` as ``training.penalty``; older files
    kept only the ``--reg`` options, where an empty set meant the default L2 of 2 / training
    rows, whose strength they do not record (then ``known`` is False).
    """
    if not isinstance(training, dict):
        return None, True
    if "penalty" in training:
        return training["penalty"] or None, True
    given = {k: v for k, v in (training.get("regularization") or {}).items() if v}
    if given:
        return given, True
    return None, training.get("regularization") != {}  # {}: the default L2, strength not saved


def _io_sizes(model):
    """(inputs, outputs) of a network that takes rows of features: its first layer's inputs and the last
    Linear's outputs; (None, None) when the first layer takes images, sequences or indices instead."""
    first = first_layer(model)
    if first is None or not hasattr(first, "in_features"):
        return None, None
    linear = [m for _, m in model.named_modules() if hasattr(m, "in_features") and hasattr(m, "out_features")]
    outputs = model.output.out_features if hasattr(model, "output") else linear[-1].out_features
    return int(first.in_features), int(outputs)


class TrainedModel:
    """A model plus its :class:`ModelInfo`; turns raw feature rows into predictions.

    Attributes:
        model: the network (an ``nn.Module``, in eval mode).
        info: the stored preprocessing and training facts.
        path: the file it was loaded from (or None).
    """

    def __init__(self, model, metadata=None, path=None):
        self.model, self.path = model, path
        self.info = ModelInfo(metadata, *_io_sizes(model))

    @classmethod
    def load(cls, path):
        """Load a model file written by ``chainrule train`` or ``chainrule.io.save``."""
        model, metadata = io.load(path, with_metadata=True)
        try:
            return cls(model, metadata, os.fspath(path))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"{os.fspath(path)} has malformed training metadata ({exc})") from None

    # ------------------------------------------------------------ inputs
    def read(self, source, with_target=False):
        """The rows of a CSV/NPZ file or built-in data set, in this model's feature order (and the targets)."""
        self._check_takes_rows()
        return read_inputs(source, self.info, with_target)

    def _check_takes_rows(self):
        if not self.info.takes_rows:
            first = first_layer(self.model)
            kind = type(first).__name__ if first is not None else "layer the command cannot size"
            raise ValueError(f"this {type(self.model).__name__} starts with a {kind}, so it does not take rows of "
                             "features from a CSV/NPZ file; run it from Python (chainrule.io.load) instead")

    def _prepared(self, X):
        self._check_takes_rows()
        X = np.asarray(X, dtype=np.float64)
        expected = len(self.info.feature_names)
        if X.ndim != 2 or X.shape[1] != expected:
            got = X.shape[1] if X.ndim == 2 else f"shape {X.shape}"
            raise ValueError(f"the model expects {expected} features per row, got {got}")
        return X if self.info.scaler is None else self.info.scaler.transform(X)

    def outputs(self, X):
        """The network's raw outputs on raw feature rows (scaled as at training time).

        Raises:
            ValueError: a row's output overflowed to inf or nan (a made-up class or value otherwise).
        """
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, by row, as one sentence
            out = predict(self.model, self._prepared(X))
        bad = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
        if bad.any():
            raise ValueError(f"the model's output for input row {int(np.argmax(bad)) + 1} overflowed to inf or nan; "
                             "that row's values are far larger than the training data's")
        return out

    # ------------------------------------------------------------ predictions
    def probabilities(self, X):
        """Class probabilities (n, classes), or None when the loss gives scores only."""
        spec = self.info.spec
        if spec is None or spec.activation is None:
            return None
        return as_probabilities(self.outputs(X), spec.activation)

    def predict_table(self, X):
        """``(header, rows)`` of predictions: class name and probabilities, or predicted values."""
        spec, out = self.info.spec, self.outputs(X)
        if spec is None or spec.task == "regression":
            if self.info.target_scaler is not None:
                out = self.info.target_scaler.inverse_transform(np.asarray(out, dtype=np.float64))
            names = ["prediction"] if out.shape[1] == 1 else [f"prediction_{j}" for j in range(out.shape[1])]
            return names, out.tolist()
        labels = to_labels(out, spec.threshold)
        classes = self.info.class_names or [str(k) for k in range(max(out.shape[1], 2))]
        proba = self.probabilities(X)
        if proba is None:
            return ["prediction"], [[classes[k]] for k in labels]
        header = ["prediction"] + [f"probability_{c}" for c in classes]
        return header, [[classes[k], *(float(v) for v in row)] for k, row in zip(labels, proba)]

    def predict_inputs(self, inputs):
        """``(header, rows)`` for every row of a read file: ID columns first, then the predictions.

        Rows left out by ``--impute drop`` (a missing cell) keep their place with empty prediction cells.
        """
        header, rows = self.predict_table(inputs.X)
        full = [[""] * len(header) for _ in range(inputs.n_rows or len(rows))]
        for position, row in zip(inputs.kept, rows):
            full[int(position)] = row
        if inputs.ids is None:
            return header, full
        return list(self.info.pipeline.id) + header, [list(i) + r for i, r in zip(inputs.ids, full)]

    def evaluate(self, X, y):
        """``{"loss": ..., <metric>: ...}`` on raw rows X with targets y encoded as at training time."""
        if self.info.spec is None:
            raise ValueError("this model file has no training metadata (task, loss), so it cannot be evaluated; "
                             "train it with `chainrule train` or save it with task and loss metadata")
        if y is None:
            raise ValueError(f"evaluating needs the target column {self.info.target or 'y'!r} in the data")
        return score(self.model, self.info.loss, self._prepared(X), y, list(self.info.spec.metrics),
                     self.info.target_scaler)

    def export_onnx(self, path, overwrite=False, raw=False):
        """Write an ONNX file that takes raw features and gives probabilities (bare network if ``raw``).

        A model trained on a CSV file has its table pipeline built into the graph (imputation,
        one-hot encoding), so the file takes the raw columns, as ``chainrule predict`` does.

        Returns:
            A one-line description of the graph's inputs and output.
        """
        spec, info = self.info.spec, self.info
        head = None if raw or spec is None else spec.activation
        scaler = None if raw else info.scaler
        pipeline = None if raw else info.pipeline
        # A regression trained on standardised targets maps its outputs back, as `chainrule predict` does.
        target_scaler = None if raw else info.target_scaler
        output = {None: "raw outputs", "softmax": "class probabilities", "sigmoid": "probability of the last class",
                  "identity": "probability of the last class"}
        described = "predicted values in the target's units" if target_scaler is not None else output[head]
        metadata = {"feature_names": ",".join(info.feature_names), "output": described}
        if info.class_names:
            metadata["class_names"] = ",".join(info.class_names)
        if pipeline is not None:
            metadata["input_columns"] = ",".join(c for c in pipeline.columns_ if c not in pipeline.categories_)
            metadata["text_inputs"] = ",".join(c for c in pipeline.columns_ if c in pipeline.categories_)
        export_onnx(self.model, path, overwrite=overwrite, head="none" if head in (None, "identity") else head,
                    scaler=scaler, target_scaler=target_scaler, metadata=metadata, pipeline=pipeline)
        (name, dtype, shape), *_ = graph_inputs(path)
        if pipeline is None and (len(shape) != 2 or dtype not in ("float32", "float64")):  # images, sequences, ids
            return f"input '{name}' ({dtype}, shape {' x '.join(map(str, shape))}), output 'output' ({described})"
        return f"{_inputs_summary(info, pipeline, scaler)}, output 'output' ({described})"

    # ------------------------------------------------------------ description
    def describe(self):
        """``[(label, text)]`` rows for ``chainrule info``: architecture, size, data and training facts."""
        info, meta = self.info, self.info.metadata
        rows = [("file", self.path or "-"), ("architecture", _architecture(self.model)),
                ("parameters", f"{self.model.num_parameters():,}"),
                ("task", info.task or "unknown (no training metadata)"), ("loss", info.loss or "-"),
                ("features", _short_list(info.feature_names) if info.takes_rows else
                 f"none (the first layer, a {type(first_layer(self.model)).__name__}, takes no feature rows)"),
                ("target", info.target or "-")]
        if info.class_names:
            rows.append(("classes", _short_list(info.class_names)))
        rows.append(("scaling", type(info.scaler).__name__ if info.scaler else "none"))
        for key, value in meta.items():  # training settings, scores, and whatever else the file holds
            if key not in _SHOWN:
                rows.extend(_flatten(key, value))
        return rows


def _inputs_summary(info, pipeline, scaler):
    """'input 'input' (3 raw features)', or with text columns 'inputs 'input' (...), 'colour' (text cells)'."""
    if pipeline is None:
        scaled = "raw" if scaler is not None else "scaled" if info.scaler is not None else "given"
        return f"input 'input' ({len(info.feature_names)} {scaled} features)"
    numeric = [c for c in pipeline.columns_ if c not in pipeline.categories_]
    texts = [repr(c) for c in pipeline.columns_ if c in pipeline.categories_]
    parts = [f"'input' ({len(numeric)} raw features)"] if numeric else []
    parts += [f"{', '.join(texts)} (text cells)"] if texts else []
    return ("input " if len(parts) == 1 and not texts else "inputs ") + ", ".join(parts)


# Metadata keys that describe() shows in its own words.
_SHOWN = {"task", "loss", "target", "class_names", "feature_names", "scaler"}


def _flatten(key, value):
    """``[(dotted key, text)]`` for a metadata entry: one level of dicts opened, empty values left out."""
    if isinstance(value, dict) and value and all(not isinstance(v, dict) for v in value.values()):
        return [(f"{key}.{k}", _fmt(v)) for k, v in value.items() if v not in (None, {}, [])]
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flatten(f"{key}.{k}", v)]
    return [] if value in (None, {}, []) else [(key, _fmt(value))]


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _short_list(names, limit=8):
    names = list(names)
    shown = ", ".join(map(str, names[:limit]))
    return f"{len(names)}: {shown}" + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _architecture(model):
    sizes = getattr(model, "sizes", None)
    if sizes is None:
        return type(model).__name__
    act = getattr(model.activation, "name", None)
    out = getattr(model.output_activation, "name", None)
    parts = ["-".join(map(str, sizes)), f"{type(model).__name__}"]
    parts += [f"{act} hidden units"] if act else []
    parts += [f"{out} outputs"] if out else []
    parts += ["skip links"] if getattr(model, "skip", None) is not None else []
    return ", ".join(parts)
