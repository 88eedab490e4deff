"""Loading a user's CSV file (header row, numeric features, any target) into a Dataset.

Feature columns must be numeric: a text feature column is reported by name
rather than one-hot encoded behind the user's back, because the encoding
would then have to be saved and replayed on every later file.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from .._core import is_number
from ..io.limits import read_limited
from ._checks import check_float_dtype, check_fits_dtype
from .dataset import Dataset
from .targets import encode_targets

_SNIFF_BYTES = 8192


def read_text(path, kind: str) -> str:
    """Return the text of a UTF-8 file, with one-sentence errors for the usual failures.

    Example:
        >>> read_text("no/such/file.csv", "CSV")
        Traceback (most recent call last):
        ...
        FileNotFoundError: CSV file not found: no/such/file.csv
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{kind} file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, expected a {kind} file")
    raw = read_limited(path, f"{kind} file")  # regular files only, size checked first
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(f"{path} is UTF-16 text; save it as UTF-8")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise ValueError(f"{path} is not a text {kind} file (it contains binary data)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text (undecodable byte at position {exc.start}); save it as UTF-8"
        ) from None


def _read_rows(path, text: str, delimiter: str):
    reader = csv.reader(text.splitlines(), delimiter=delimiter, skipinitialspace=True)
    rows, lines = [], []
    try:
        for record in reader:
            # Blank lines (often a trailing newline or two) carry no data.
            if record and any(cell.strip() for cell in record):
                rows.append([cell.strip() for cell in record])
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num} cannot be read as CSV ({exc})") from None
    if not rows:
        raise ValueError(f"{path} is empty; expected a header row followed by data rows")
    header, rows, lines = rows[0], rows[1:], lines[1:]
    _check_header(path, header)
    if not rows:
        raise ValueError(f"{path} has a header but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line} has {len(row)} fields but the header has {len(header)}")
    return header, rows, lines


def check_column_names(path, header):
    """Refuse a header with an empty or repeated column name, naming the column(s)."""
    seen = {}
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"{path}: column {position} of the header has no name")
        if name in seen:
            raise ValueError(
                f"{path}: column name '{name}' appears twice in the header (columns {seen[name]} and {position})"
            )
        seen[name] = position


def _check_header(path, header):
    check_column_names(path, header)
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


def load_csv(path, target=None, task=None, dtype=np.float32, delimiter=",", class_names=None) -> Dataset:
    """Load a CSV file with a header row into a Dataset.

    Args:
        path: the CSV file (UTF-8, a byte-order mark is fine).
        target: name of the target column; default the last column.
        task: ``"classification"``, ``"regression"`` or ``None`` to infer it:
            text -> classification, non-integer numbers -> regression, a few
            distinct integers -> classification; otherwise you must say.
        dtype: floating dtype of ``X`` (and of ``y`` for regression).
        delimiter: field separator.
        class_names: fixes the label of each class (e.g. the training file's
            ``class_names`` when loading a test file).

    Returns:
        A Dataset named after the file, ``X`` of shape ``(rows, columns - 1)``.
        Classification targets become int64 labels with ``class_names``.

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
    path = os.fspath(path)
    header, rows, lines = _read_rows(path, read_text(path, "CSV"), delimiter)
    t = _target_index(path, header, target)
    columns = list(zip(*rows))
    features = [
        _parse_feature(path, header[j], list(columns[j]), lines) for j in range(len(header)) if j != t
    ]
    raw_y = _raw_target(path, header[t], list(columns[t]), lines)
    y, task, names = encode_targets(
        raw_y, task, f"{path}: target '{header[t]}'", dtype, class_names,
        locate=lambda i: f"line {lines[i]}",
    )
    stem = os.path.splitext(os.path.basename(path))[0]
    feature_names = [h for j, h in enumerate(header) if j != t]
    for name, column in zip(feature_names, features):
        check_fits_dtype(column, dtype, lambda i, name=name: f"{path}, line {lines[i]}, column '{name}'")
    return Dataset(
        np.stack(features, axis=1).astype(dtype), y, task, name=stem,
        feature_names=tuple(h for j, h in enumerate(header) if j != t), class_names=names,
        description=f"loaded from {path}",
    )
