"""Loading a user's CSV file (header row, numeric features, any target) into a Dataset.

Feature columns must be numeric: a text feature column is reported by name
rather than one-hot encoded behind the user's back, because the encoding
would then have to be saved and replayed on every later file.
"""

from __future__ import annotations

import os

import numpy as np

from .._core import as_path, is_number
from ._checks import check_float_dtype, check_fits_dtype
from .dataset import Dataset
from .column_checks import PYTHON_ADVICE, warn_unlikely_features
from .table_read import read_table, read_text  # noqa: F401  (read_text: for the CLI)
from .targets import encode_targets


def _check_header(path, header):
    if len(header) < 2:
        raise ValueError(f"{path} has a single column ('{header[0]}'); expected feature columns and a target column")


def _target_index(path, header, target) -> int:
    if target is None:
        return len(header) - 1
    if target in header:
        return header.index(target)
    raise ValueError(f"{path}: target column {target!r} not found; available columns: {', '.join(header)}")


def _parse_feature(path, name, cells, lines) -> np.ndarray:
    try:
        column = np.array(cells, dtype=np.float64)
    except ValueError:
        _raise_bad_feature(path, name, cells, lines)
    _check_finite(path, name, column, cells, lines)
    return column


def _raise_bad_feature(path, name, cells, lines):
    numeric = [is_number(cell) for cell in cells]
    i = numeric.index(False)
    cell, line = cells[i], lines[i]
    if cell == "":
        raise ValueError(f"{path}, line {line}, column '{name}' is empty; every feature cell needs a number")
    if not any(numeric):
        raise ValueError(
            f"{path}: feature column '{name}' holds text such as '{cell}' (line {line}); "
            "feature columns must be numeric, so encode it as numbers or make it the target"
        )
    raise ValueError(f"{path}, line {line}, column '{name}': '{cell}' is not a number")


def _check_finite(path, name, column, cells, lines):
    bad = np.flatnonzero(~np.isfinite(column))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{path}, line {lines[i]}, column '{name}' holds '{cells[i]}'; NaN and infinite values are not allowed"
        )


def _raw_target(path, name, cells, lines) -> np.ndarray:
    try:
        column = np.array(cells, dtype=np.float64)
    except ValueError:
        if "" in cells:
            line = lines[cells.index("")]
            raise ValueError(f"{path}, line {line}, target column '{name}' is empty") from None
        return np.array(cells, dtype=str)
    _check_finite(path, name, column, cells, lines)
    return column


def load_csv(path, target=None, task=None, dtype=np.float32, delimiter=None, class_names=None, header=True,
             drop=()) -> Dataset:
    """Load a CSV file into a Dataset.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is fine).
        target: name of the target column; default the last column.
        task: ``"classification"``, ``"regression"`` or ``None`` to infer it:
            text -> classification, non-integer numbers -> regression, a few
            distinct integers -> classification; otherwise you must say.
        dtype: floating dtype of ``X`` (and of ``y`` for regression).
        delimiter: ``","``, ``";"``, ``"\\t"`` or ``"|"``; None sniffs it (a ``.tsv`` file is tab-separated).
        class_names: fixes the label of each class (e.g. the training file's
            ``class_names`` when loading a test file).
        header: False when the first row is data (columns are then ``col0``, ``col1``, ...). A
            first row of numbers where the names should be is refused unless this says so.
        drop: names of columns to leave out (an ID, a row number).

    Returns:
        A Dataset named after the file, ``X`` of shape ``(rows, features)``.
        Classification targets become int64 labels with ``class_names``.

    Warns:
        ColumnWarning: a feature that looks like a row number, holds one value in every row, or
        equals the target (see :mod:`.column_checks`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: one sentence naming the line, column and value at fault.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "pets.csv")
        >>> _ = open(path, "w").write("weight,height,pet\\n4,30,cat\\n20,60,dog\\n5,25,cat\\n")
        >>> ds = load_csv(path)
        >>> ds.X.shape, ds.y.tolist(), ds.class_names, ds.task
        ((3, 2), [0, 1, 0], ('cat', 'dog'), 'classification')
    """
    dtype = check_float_dtype(dtype)
    table = read_table(as_path("path", path), delimiter, header)
    path, names, lines = table.path, table.header, table.lines
    _check_header(path, names)
    t = _target_index(path, names, target)
    unknown = [d for d in drop if d not in names or d == names[t]]
    if unknown:
        raise ValueError(f"{path}: drop names {unknown[0]!r}, which is not a feature column; columns: {', '.join(names)}")
    keep = [j for j in range(len(names)) if j != t and names[j] not in drop]
    if not keep:
        raise ValueError(f"{path}: no feature column is left after drop={list(drop)!r}")
    features = [_parse_feature(path, names[j], table.column(names[j]), lines) for j in keep]
    raw_y = _raw_target(path, names[t], table.column(names[t]), lines)
    y, task, classes = encode_targets(
        raw_y, task, f"{path}: target '{names[t]}'", dtype, class_names,
        locate=lambda i: f"line {lines[i]}",
    )
    feature_names = tuple(names[j] for j in keep)
    for name, column in zip(feature_names, features):
        check_fits_dtype(column, dtype, lambda i, name=name: f"{path}, line {lines[i]}, column '{name}'")
    warn_unlikely_features(table, names[t], feature_names, PYTHON_ADVICE)
    return Dataset(
        np.stack(features, axis=1).astype(dtype), y, task, name=os.path.splitext(os.path.basename(path))[0],
        feature_names=feature_names, class_names=classes, description=f"loaded from {path}",
    )
