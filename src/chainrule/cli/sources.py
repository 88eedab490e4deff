"""Where a command's DATA comes from: a CSV or NPZ file, or a built-in data set by name.

Training reads a whole :class:`~chainrule.data.Dataset`; predicting reads
the feature columns a saved model was trained on, by name and in the
model's order, with the target column optional.

Example:
    >>> ds = load_source("xor")
    >>> ds.n_features, ds.task
    (2, 'classification')
"""

from __future__ import annotations

import csv
import os

import numpy as np

from ..data import DATASETS, load_csv, load_dataset, load_npz
from ..data import csv_io, npz_io
from ..data.table import column_mismatch
from ..data.table_read import read_table
from ..data.targets import encode_targets

__all__ = ["SOURCE_LOADERS", "load_source", "target_column", "read_inputs", "Inputs"]

#: File extension -> loader ``fn(path, target, task, class_names) -> Dataset``.
SOURCE_LOADERS = {
    ".csv": lambda path, target, task, names: load_csv(path, target=target, task=task, class_names=names),
    ".tsv": lambda path, target, task, names: load_csv(path, target=target, task=task, class_names=names,
                                                       delimiter="\t"),
    ".npz": lambda path, target, task, names: load_npz(path, y_key=target or "y", task=task, class_names=names),
}

#: Extensions read through the table pipeline (column roles, imputation, categories).
TABLE_KINDS = (".csv", ".tsv")


def is_table_file(source):
    """True when DATA is a CSV/TSV file (False for NPZ files and built-in data set names)."""
    return _file_kind(source) in TABLE_KINDS


def _file_kind(source):
    """The extension of a DATA file, or None when ``source`` names a built-in data set."""
    source = os.fspath(source)
    ext = os.path.splitext(source)[1].lower()
    if os.path.isdir(source):
        raise IsADirectoryError(f"{source} is a folder; DATA must be a .csv or .npz file or a built-in data set name")
    if ext in SOURCE_LOADERS:
        return ext
    if os.path.exists(source) or ext or os.sep in source:
        *first, last = SOURCE_LOADERS
        raise ValueError(f"cannot read {source}: DATA files must end in {', '.join(first)} or {last}")
    if source not in DATASETS:
        raise ValueError(f"{source!r} is neither a .csv/.npz file nor a built-in data set; built-in data sets: "
                         f"{', '.join(sorted(DATASETS))}")
    return None


def load_source(source, target=None, task=None, class_names=None):
    """A Dataset from a CSV/NPZ path or a built-in data set name.

    Args:
        source: ``"data.csv"``, ``"arrays.npz"`` or a name from ``chainrule datasets``.
        target: target column (CSV) or array name (NPZ); built-in sets have their own.
        task: "classification", "regression" or None (inferred when unambiguous).
        class_names: fixes the label of each class (a trained model's classes).
    """
    kind = _file_kind(source)
    if kind is not None:
        return SOURCE_LOADERS[kind](os.fspath(source), target, task, class_names)
    if target is not None:
        raise ValueError(f"--target applies to CSV and NPZ files; the built-in data set {source!r} has its own target")
    ds = load_dataset(source)
    if task is not None and task != ds.task:
        raise ValueError(f"the built-in data set {source!r} is a {ds.task} task, not {task}")
    return ds


def target_column(source, target=None):
    """The name of DATA's target: the given one, a CSV's last column, ``"y"`` for NPZ, None for built-ins.

    Example:
        >>> target_column("digits") is None
        True
    """
    kind = _file_kind(source)
    if target is not None or kind is None:
        return target
    if kind == ".npz":
        return "y"
    text = csv_io.read_text(os.fspath(source), "CSV")
    header = next((row for row in csv.reader(text.splitlines(), skipinitialspace=True) if any(c.strip() for c in row)))
    return header[-1].strip()


class Inputs:
    """Rows to predict on: ``X`` in the model's feature order, ``y`` encoded like the training targets (or None).

    ``ids`` holds the ID cells of each row (models trained with ``--id``), ``kept``
    the positions of the rows in ``X`` among the ``n_rows`` of the file (rows
    with a missing cell are left out under ``--impute drop``).
    """

    def __init__(self, X, y, name, ids=None, kept=None):
        self.X, self.y, self.name, self.ids = X, y, name, ids
        self.kept = np.arange(len(X)) if kept is None else kept
        self.n_rows = len(X) if kept is None else None


def _columns(path, header, features, target):
    """Indices of the model's feature columns in ``header`` and of the target column (or None)."""
    t = header.index(target) if target in header else None
    rest = [j for j in range(len(header)) if j != t]
    if not any(name in header for name in features):  # unnamed features: match by position
        if len(rest) != len(features):
            raise ValueError(f"{path} has {len(rest)} feature columns but the model expects {len(features)}")
        return rest, t
    missing = [name for name in features if name not in header]
    extra = [header[j] for j in rest if header[j] not in features]
    if missing or extra:
        raise ValueError(column_mismatch(path, missing, extra, len(features), len(rest)))
    return [header.index(name) for name in features], t


def _read_csv(path, meta, with_target):
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    read = read_table(path, delimiter)
    header, lines = read.header, read.lines
    cols, t = _columns(path, header, meta.feature_names, meta.target)
    table = list(zip(*read.rows))
    X = np.stack([csv_io._parse_feature(path, header[j], list(table[j]), lines) for j in cols], axis=1)
    y = None
    if t is not None and with_target:
        raw = csv_io._raw_target(path, header[t], list(table[t]), lines)
        y = _encode(raw, meta, f"{path}: target '{header[t]}'", lambda i: f"line {lines[i]}")
    return X, y


def _read_table(path, pipeline, with_target):
    table = read_table(path, pipeline.delimiter, pipeline.header)
    data = pipeline.transform(table, with_target=with_target)
    ids = [[row[table.index(n)] for n in pipeline.id] for row in table.rows] if pipeline.id else None
    inputs = Inputs(data.X, data.y, os.path.basename(path), ids, data.kept)
    inputs.n_rows = len(table)  # every row of the file gets an output row, kept or not
    return inputs


def _read_npz(path, meta, with_target):
    key = meta.target or "y"
    with npz_io._open_archive(path) as archive:
        X = npz_io._features(path, "X", npz_io._get(archive, path, "X"))
        raw = npz_io._get(archive, path, key) if with_target and key in archive.files else None
    if X.shape[1] != len(meta.feature_names):
        raise ValueError(f"{path} has {X.shape[1]} features per row but the model expects {len(meta.feature_names)}")
    y = None
    if raw is not None:
        if raw.ndim == 0 or len(raw) != len(X):
            raise ValueError(f"{path}: array {key!r} has {raw.size} values but 'X' has {len(X)} rows")
        y = _encode(raw.astype(str) if raw.dtype.kind == "S" else raw, meta, f"{path}: target {key!r}", None)
    return X, y


def _encode(raw, meta, label, locate):
    options = {"locate": locate} if locate else {}
    return encode_targets(raw, meta.task, label, np.float64, meta.class_names, **options)[0]


def _read_builtin(name, meta, with_target):
    ds = load_dataset(name)
    if ds.n_features != len(meta.feature_names):
        raise ValueError(f"the data set {name!r} has {ds.n_features} features per row but the model expects "
                         f"{len(meta.feature_names)}")
    return ds.X, ds.y


def read_inputs(source, meta, with_target=False):
    """The rows of ``source`` to feed a saved model described by ``meta`` (a :class:`~.trained.ModelInfo`).

    Columns are matched by name when the file has the model's feature names
    (any order; the target column may be present or not), else by position.
    The target is read and encoded as at training time only ``with_target``
    (for evaluation): predicting never depends on it.

    Raises:
        ValueError: naming the file and the missing, extra or miscounted columns,
            or the line and column of a bad value.
    """
    kind = _file_kind(source)
    if meta.pipeline is not None and (kind in TABLE_KINDS or meta.pipeline.categories_):
        if kind not in TABLE_KINDS:
            raise ValueError(f"this model was trained on a CSV file; give its new rows as a .csv or .tsv file, "
                             f"not {os.fspath(source)}")
        return _read_table(os.fspath(source), meta.pipeline, with_target)
    readers = {".csv": _read_csv, ".tsv": _read_csv, ".npz": _read_npz, None: _read_builtin}
    X, y = readers[kind](os.fspath(source), meta, with_target)
    return Inputs(np.asarray(X, dtype=np.float64), y, os.path.basename(os.fspath(source)))
