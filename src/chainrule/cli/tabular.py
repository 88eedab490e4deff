"""The tabular side of the CLI: CSV training data through a fitted TablePipeline, regression target scaling.

Training fits the :class:`~chainrule.data.table.TablePipeline` on the
training rows only (imputation values and categories never see held-out
rows) and a :class:`~chainrule.data.StandardScaler` on the training
targets of a regression; both are saved in the model file's metadata and
replayed by ``predict`` and ``evaluate``.

Example:
    >>> import numpy as np
    >>> from chainrule import nn
    >>> from chainrule.data import StandardScaler
    >>> net = nn.Linear(1, 1, init="zeros")
    >>> ts = StandardScaler().fit(np.array([1.0, 3.0]))
    >>> score(net, "mse", np.zeros((2, 1)), np.array([1.0, 3.0]), ["mae"], ts)
    {'loss': 1.0, 'mae': 1.0}
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from ..data import Dataset, StandardScaler
from ..data.table import TablePipeline
from ..data.table_read import read_table
from ..metrics import METRICS
from ..train.loop import evaluate, predict

__all__ = ["TableOptions", "load_table", "fit_target_scaler", "score", "emit_warnings"]


def emit_warnings(pipeline):
    """Issue the warnings the table raised while loading (call once the run is sure to start)."""
    for message, category in getattr(pipeline, "warnings_", []):
        warnings.warn(message, category, stacklevel=3)


class TableOptions:
    """The command-line table options of ``chainrule train`` (all replayed by ``predict``)."""

    def __init__(self, features=None, drop=(), id=(), header=True, delimiter=None, impute=None,
                 categorical="auto", handle_unknown="error"):
        self.features, self.drop, self.id = features, tuple(drop or ()), tuple(id or ())
        self.header, self.delimiter, self.impute = header, delimiter, impute
        self.categorical, self.handle_unknown = categorical, handle_unknown

    def pipeline(self, target, task):
        """An unfitted :class:`TablePipeline` with these options (target scaling is the CLI's own)."""
        return TablePipeline(target=target, features=self.features, drop=self.drop, id=self.id, impute=self.impute,
                             categorical=self.categorical, handle_unknown=self.handle_unknown, task=task,
                             scale_target=False)

    def given(self):
        """The flags of the options that differ from their defaults (they apply to CSV files only)."""
        defaults = TableOptions()
        return [_FLAGS.get(name, "--" + name.replace("_", "-")) for name in vars(self)
                if getattr(self, name) != getattr(defaults, name)]


_FLAGS = {"header": "--no-header"}


def load_table(path, target, task, options, split):
    """``(Dataset, fitted TablePipeline, parts)`` for a CSV training file.

    ``split(dataset) -> {"train": idx, ...}`` gives the parts; the pipeline is
    fitted on the training part only, after a first fit that settles the
    column roles, the kept rows and the classes for the split.
    """
    table = read_table(path, options.delimiter, options.header)
    pipe = options.pipeline(target, task)
    with warnings.catch_warnings(record=True) as caught:  # said once, after every check has passed
        warnings.simplefilter("always")
        first = pipe.fit(table).transform(table)
        name = os.path.splitext(os.path.basename(path))[0]
        draft = Dataset(first.X, first.y, pipe.task_, name=name, class_names=pipe.class_names_)
        parts = split(draft)
        data = pipe.fit(table, rows=parts["train"]).transform(table)
    pipe.warnings_ = list(dict.fromkeys((str(w.message), w.category) for w in caught))
    ds = Dataset(data.X, data.y, pipe.task_, name=name, feature_names=tuple(pipe.feature_names_),
                 class_names=pipe.class_names_, description=f"loaded from {path}")
    return ds, pipe, parts


def fit_target_scaler(ds, train):
    """A StandardScaler of a regression's training targets, or None for classification."""
    if ds.task != "regression":
        return None
    return StandardScaler().fit(np.asarray(ds.y[train], dtype=np.float64))


def score(model, loss, X, y, metrics, target_scaler=None):
    """Loss (in the scale the model was trained in) and metrics on the original scale of ``y``.

    Args:
        model: the network.
        loss: its training loss name.
        X: prepared inputs (n, features).
        y: targets as in the data file (labels, or regression values on their own scale).
        metrics: names from ``metrics.METRICS``.
        target_scaler: the fitted target scaler of a regression, or None.
    """
    if target_scaler is None:
        return evaluate(model, loss, (X, y), metrics=metrics)
    y = np.asarray(y, dtype=np.float64)
    result = evaluate(model, loss, (X, target_scaler.transform(y)))
    pred = target_scaler.inverse_transform(np.asarray(predict(model, X), dtype=np.float64))
    pred = pred.reshape(y.shape) if pred.size == y.size else pred
    result.update({name: float(METRICS[name].fn(y, pred)) for name in metrics})
    return result
