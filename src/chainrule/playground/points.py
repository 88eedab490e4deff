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


def _numbers(line_no, cells):
    try:
        values = [float(c) for c in cells]
    except ValueError:
        raise ValueError(f"CSV line {line_no} must hold three numbers (x1, x2, label), got {','.join(cells)[:60]!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"CSV line {line_no} holds a value that is not finite")
    return values


def parse_csv(text):
    """Own data from CSV text: rows ``x1,x2,label`` with an optional header line.

    Integral labels with at most 8 distinct values make a classification set
    (labels renumbered 0, 1, ... in sorted order); anything else is regression
    (targets scaled into [-1, 1] when they exceed it). Coordinates beyond the
    [-6, 6] square are scaled into it, both by the same factor.

    Returns:
        ``(X, y, problem, notes)``; ``notes`` lists the rescalings done.

    Example:
        >>> X, y, problem, notes = parse_csv("x1,x2,label\\n1,2,0\\n-1,0.5,1\\n")
        >>> X.tolist(), y.tolist(), problem
        ([[1.0, 2.0], [-1.0, 0.5]], [0, 1], 'classification')
    """
    if not isinstance(text, str):
        raise ValueError(f"csv must be the file's text as a string, got {type(text).__name__}")
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the CSV file is larger than the {MAX_UPLOAD_BYTES:,}-byte limit")
    lines = [(i + 1, line.strip()) for i, line in enumerate(text.splitlines()) if line.strip()]
    if lines and not _is_numeric_row(lines[0][1]):
        lines = lines[1:]  # a header
    if len(lines) < 2:
        raise ValueError("the CSV file needs at least 2 rows of x1,x2,label")
    if len(lines) > MAX_POINTS:
        raise ValueError(f"the CSV file has {len(lines)} rows; at most {MAX_POINTS} are allowed")
    rows = []
    for line_no, line in lines:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != 3:
            raise ValueError(f"CSV line {line_no} must have 3 columns (x1, x2, label), got {len(cells)}")
        rows.append(_numbers(line_no, cells))
    data = np.array(rows)
    return _own_data(data[:, :2], data[:, 2])


def _is_numeric_row(line):
    try:
        [float(c) for c in line.split(",")]
    except ValueError:
        return False
    return True


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
