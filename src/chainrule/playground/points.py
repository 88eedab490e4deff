"""The playground's points: built-in data sets, own data (CSV or clicked points), the split, the features.

Built-in sets come from :mod:`chainrule.data.playground` with the reference's
sizes (500 points for classification, 1,200 for regression) and noise as a
fraction (the slider's 0-50 divided by 100). As in the reference, the points
are shuffled once and split at ``floor(n * percTrainData / 100)``.

Example:
    >>> pts = Points.generate("circle", noise=0, perc_train=50, seed="0.1")
    >>> pts.X_train.shape, pts.X_test.shape, pts.n_classes
    ((250, 2), (250, 2), 2)
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .._core import is_number
from ..data.playground import CLASSIFY_SAMPLES, GENERATORS, HALF_WIDTH, REGRESS_SAMPLES

__all__ = ["Points", "FEATURE_FUNCTIONS", "feature_matrix", "seed_number", "parse_csv",
           "MAX_UPLOAD_BYTES", "MAX_POINTS", "MAX_CLASSES"]

MAX_UPLOAD_BYTES = 1_000_000  # about 40,000 short rows of text; the row limit below bites first
MAX_POINTS = 5000
MAX_CLASSES = 8

# Feature name (the reference's hash key) -> (label, function of the two coordinates).
FEATURE_FUNCTIONS = {
    "x": ("X1", lambda a, b: a),
    "y": ("X2", lambda a, b: b),
    "xSquared": ("X1²", lambda a, b: a * a),
    "ySquared": ("X2²", lambda a, b: b * b),
    "xTimesY": ("X1X2", lambda a, b: a * b),
    "sinX": ("sin(X1)", lambda a, b: np.sin(a)),
    "sinY": ("sin(X2)", lambda a, b: np.sin(b)),
}


def seed_number(text: str) -> int:
    """The integer seed behind a seed string (the reference's seeds are strings such as "0.12345").

    Example:
        >>> seed_number("0.12345") == seed_number("0.12345"), seed_number("a") != seed_number("b")
        (True, True)
    """
    return zlib.crc32(str(text).encode("utf-8"))


def feature_matrix(points, features):
    """The columns of the chosen ``features`` for (n, 2) ``points``: shape (n, len(features)).

    Example:
        >>> feature_matrix(np.array([[2.0, 3.0]]), ["x", "xTimesY"]).tolist()
        [[2.0, 6.0]]
    """
    a, b = points[:, 0], points[:, 1]
    cols = [FEATURE_FUNCTIONS[f][1](a, b) for f in features]
    return np.stack(cols, axis=1) if cols else np.zeros((len(points), 0))


class Points:
    """All points with their labels and the train/test split.

    Attributes:
        X: (n, 2) float64 coordinates in [-6, 6]^2.
        y: (n,) int64 class labels, or float64 targets for regression.
        problem: ``"classification"`` or ``"regression"``.
        train, test: index arrays into X.
    """

    def __init__(self, X, y, problem, perc_train, seed):
        self.X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
        self.y = np.asarray(y, dtype=np.int64 if problem == "classification" else np.float64).reshape(-1)
        self.problem = problem
        rng = np.random.default_rng(seed_number(seed))
        order = rng.permutation(len(self.X))
        cut = int(math.floor(len(self.X) * perc_train / 100))
        self.train, self.test = order[:cut], order[cut:]

    @classmethod
    def generate(cls, name, noise, perc_train, seed):
        """A built-in set by chainrule.data name; ``noise`` is the 0-50 slider value."""
        make = GENERATORS[name]
        regression = name in ("plane", "multi-gaussian")
        n = REGRESS_SAMPLES if regression else CLASSIFY_SAMPLES
        ds = make(n=n, noise=noise / 100, seed=seed_number(seed), dtype=np.float64)
        return cls(ds.X, ds.y, "regression" if regression else "classification", perc_train, seed)

    @property
    def n_classes(self):
        """Number of classes (0 for regression); at least 2 for classification."""
        if self.problem != "classification":
            return 0
        return max(2, int(self.y.max()) + 1) if len(self.y) else 2

    @property
    def X_train(self):
        return self.X[self.train]

    @property
    def X_test(self):
        return self.X[self.test]

    @property
    def y_train(self):
        return self.y[self.train]

    @property
    def y_test(self):
        return self.y[self.test]

    def rows(self, which):
        """``[[x1, x2, label], ...]`` of the train or test points, rounded for the browser."""
        idx = self.train if which == "train" else self.test
        return [[round(float(a), 4), round(float(b), 4), _label(v)] for (a, b), v in zip(self.X[idx], self.y[idx])]


def _label(v):
    return int(v) if isinstance(v, (np.integer, int)) else round(float(v), 4)


_COLUMNS = ("x1", "x2", "label")
# Header names that mean a row number or key, not a coordinate or label (pandas writes an index's as "").
_ID_NAMES = {"", "id", "idx", "index", "row", "rownum", "no", "#", "key"}


def _cells(line):
    return [c.strip() for c in line.split(",")]


def _numbers(line_no, cells):
    bad = next((c for c in cells if not is_number(c)), None)
    if bad is not None:
        if any(ch.isdigit() for ch in bad):  # "1_000", "１２": float() would take them, a data file should not
            hint = f"; {bad[:20]!r} is no plain decimal number (write ASCII digits, such as 1000 or -2.5e3)"
        else:
            hint = "; a header line must name all three columns, with no number in it" if line_no == 1 else ""
        raise ValueError(f"CSV line {line_no} must hold three numbers (x1, x2, label), got "
                         f"{','.join(cells)[:60]!r}{hint}")
    values = [float(c) for c in cells]
    for name, value, cell in zip(_COLUMNS, values, cells):
        if not math.isfinite(value):
            raise ValueError(f"CSV line {line_no} holds {cell[:20]!r} as {name}; every value must be a finite number")
    return values


def parse_csv(text):
    """Own data from CSV text: rows ``x1,x2,label`` with an optional header line.

    A first line with no number in it is a header; a header naming a column
    ``id``, ``index`` or ``row`` (or leaving it unnamed) is refused, since such
    a column holds row keys, not coordinates. Integral labels with at most 8
    distinct values make a classification set (labels renumbered 0, 1, ... in
    sorted order); anything else is regression (targets scaled into [-1, 1]
    when they exceed it). Coordinates beyond the [-6, 6] square are scaled into
    it, both by the same factor.

    Returns:
        ``(X, y, problem, notes)``; ``notes`` lists the rescalings done and columns that look like row numbers.

    Example:
        >>> X, y, problem, notes = parse_csv("x1,x2,label\\n1,2,0\\n-1,0.5,1\\n")
        >>> X.tolist(), y.tolist(), problem
        ([[1.0, 2.0], [-1.0, 0.5]], [0, 1], 'classification')
    """
    lines = _lines(text)
    if lines and not any(is_number(c) for c in _cells(lines[0][1])):
        _check_header(lines[0][0], _cells(lines[0][1]))
        lines = lines[1:]
    if len(lines) < 2:
        raise ValueError("the CSV file needs at least 2 rows of x1,x2,label")
    if len(lines) > MAX_POINTS:
        raise ValueError(f"the CSV file has {len(lines)} rows; at most {MAX_POINTS} are allowed")
    rows = []
    for line_no, line in lines:
        cells = _cells(line)
        if len(cells) != 3:
            raise ValueError(f"CSV line {line_no} must have 3 columns (x1, x2, label), got {len(cells)}")
        rows.append(_numbers(line_no, cells))
    data = np.array(rows)
    X, y, problem, notes = _own_data(data[:, :2], data[:, 2])
    return X, y, problem, [*_row_number_notes(data), *notes]


def _lines(text):
    """The non-blank lines as ``(line number, stripped text)``, after the size and encoding checks."""
    if not isinstance(text, str):
        raise ValueError(f"csv must be the file's text as a string, got {type(text).__name__}")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: text that was never valid Unicode
        raise ValueError(f"the CSV text holds an invalid character at position {exc.start}; "
                         "save the file as UTF-8") from None
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(f"the CSV file is larger than the {MAX_UPLOAD_BYTES:,}-byte limit")
    text = text.removeprefix("\ufeff")  # the byte-order mark some editors write is not part of the first cell
    return [(i + 1, line.strip()) for i, line in enumerate(text.splitlines()) if line.strip()]


def _check_header(line_no, names):
    for name, column in zip(names, _COLUMNS):
        if name.strip("\"'").lower() in _ID_NAMES:
            shown = f"is named {name!r}" if name else "has no name"
            raise ValueError(f"CSV line {line_no}: the {column} column {shown}, which marks row numbers or keys, "
                             "not data; the playground takes three columns x1,x2,label, so remove that column")


def _row_number_notes(data):
    """A note for each column that holds the whole numbers 0, 1, 2, ... (or 1, 2, ...) in file order."""
    notes = []
    for name, column in zip(_COLUMNS, data.T):
        if len(column) >= 10 and column[0] in (0, 1) and np.all(np.diff(column) == 1):
            notes.append(f"the {name} column holds {column[0]:g}, {column[1]:g}, {column[2]:g}, ... in order, "
                         "like row numbers; if it is an ID, remove it (the columns are x1,x2,label)")
    return notes


def _own_data(X, labels):
    notes = []
    reach = float(np.abs(X).max())
    if reach > HALF_WIDTH:
        X = X * (HALF_WIDTH / reach)
        notes.append(f"coordinates scaled by {HALF_WIDTH / reach:.4g} to fit [-6, 6]")
    distinct = np.unique(labels)
    if np.all(labels == np.round(labels)) and len(distinct) <= MAX_CLASSES:
        y = np.searchsorted(distinct, labels).astype(np.int64)
        if len(distinct) < 2:
            raise ValueError("a classification CSV needs at least 2 different labels")
        return X, y, "classification", notes
    reach = float(np.abs(labels).max())
    if reach > 1:
        labels = labels / reach
        notes.append(f"targets scaled by {1 / reach:.4g} to fit [-1, 1]")
    return X, labels, "regression", notes
