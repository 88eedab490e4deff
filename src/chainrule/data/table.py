"""One tabular preprocessing pipeline, fitted on training rows and replayed on every later file.

:class:`TablePipeline` turns a :class:`~chainrule.data.table_read.Table` of
string cells into numbers: it assigns column roles (target, features, ID
columns, dropped columns), fills or drops missing cells, one-hot encodes
categorical columns and (optionally) standardises a regression target. All
it learns is plain JSON (:meth:`to_dict`), saved in the model file, so
``chainrule predict`` replays exactly what training did.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "pets.csv")
    >>> _ = open(path, "w").write("id,colour,weight,pet\\n1,red,4,cat\\n2,blue,,dog\\n3,red,6,cat\\n4,blue,20,dog\\n")
    >>> pipe = TablePipeline(target="pet", id=["id"], impute="median")
    >>> out = pipe.fit_transform(read_table(path))
    >>> pipe.feature_names_, out.X[1].tolist(), out.y.tolist(), out.ids
    (['colour=blue', 'colour=red', 'weight'], [1.0, 0.0, 6.0], [0, 1, 0, 1], [['1'], ['2'], ['3'], ['4']])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._core import check_choice, is_number
from ._checks import check_fits_dtype
from .column_checks import CLI_ADVICE, ColumnWarning, warn_unlikely_features  # noqa: F401  (ColumnWarning: re-exported)
from .scaling import StandardScaler
from .table_read import Table, read_table
from .targets import encode_targets

__all__ = ["TablePipeline", "TableData", "ColumnWarning", "MISSING", "IMPUTERS", "column_mismatch", "read_table"]

#: Cells read as missing (compared case-insensitively).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "#n/a"})


def _median(values):
    return float(np.median(values))


def _mean(values):
    return float(np.mean(values))


def _most_frequent(cells):
    distinct, counts = np.unique(np.asarray(cells, dtype=str), return_counts=True)
    return str(distinct[int(np.argmax(counts))])  # ties: the first in sorted order


#: Imputation strategy -> statistic of a numeric column (categorical columns always take the most frequent value).
IMPUTERS = {"mean": _mean, "median": _median, "most_frequent": _most_frequent, "drop": None}


def column_mismatch(path, missing, extra, expected, got):
    """The sentence for a file whose feature columns are not the model's: what lacks, what is new, or both.

    Example:
        >>> column_mismatch("new.csv", ["a"], ["x"], 3, 3)
        'new.csv lacks the feature column(s) a the model was trained on and has x instead (renamed?) (expected 3 features, got 3)'
    """
    counts = f"(expected {expected} features, got {got})"
    if missing and extra:
        return (f"{path} lacks the feature column(s) {', '.join(missing)} the model was trained on and has "
                f"{', '.join(extra)} instead (renamed?) {counts}")
    if missing:
        return f"{path} lacks the feature column(s) {', '.join(missing)} the model was trained on {counts}"
    return f"{path} has column(s) the model was not trained on: {', '.join(extra)} {counts}"


class TableData(NamedTuple):
    """What :meth:`TablePipeline.transform` returns.

    ``X``: (rows, features) float64; ``y``: encoded targets (labels, or values
    standardised when the pipeline does so) or None; ``ids``: the ID cells per
    row (or None); ``kept``: positions of the rows in the table (rows with a
    missing cell are left out under ``impute="drop"``).
    """

    X: np.ndarray
    y: np.ndarray | None
    ids: list | None
    kept: np.ndarray


def _is_missing(cell):
    return cell.lower() in MISSING


def _names(value, what):
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(n, str) and n for n in names):
        raise TypeError(f"{what} must be column names (str), got {value!r}")
    return names


class TablePipeline:
    """Column roles, imputation, one-hot encoding and target scaling for a table of text cells.

    Args:
        target: the target column (default the last one).
        features: the feature columns (default every column that is not the target, an ID or dropped).
        drop: columns to ignore.
        id: ID columns: never features; :meth:`transform` returns their cells so rows can be joined back.
        impute: None (a missing feature cell is an error), ``"mean"``, ``"median"``, ``"most_frequent"``
            or ``"drop"`` (rows with a missing cell are left out).
        categorical: ``"auto"`` (text columns are one-hot encoded), ``"none"`` (text columns are an
            error) or a list of columns to one-hot encode even when numeric.
        handle_unknown: ``"error"`` or ``"ignore"`` (an unseen category becomes all zeros).
        task: "classification", "regression" or None (inferred from the target).
        scale_target: standardise a regression target (undo with :meth:`inverse_transform_target`).

    Attributes (after :meth:`fit`): ``columns_`` (input feature columns), ``feature_names_`` (output
    columns), ``fill_`` (imputed value per column), ``categories_`` (per categorical column),
    ``task_``, ``class_names_``, ``target_scaler_``.
    """

    def __init__(self, target=None, features=None, drop=(), id=(), impute=None, categorical="auto",
                 handle_unknown="error", task=None, scale_target=True):
        self.target = target
        self.features, self.drop, self.id = _names(features, "features"), _names(drop, "drop"), _names(id, "id")
        self.impute = None if impute is None else check_choice("impute", impute, tuple(IMPUTERS))
        if isinstance(categorical, str) and categorical in ("auto", "none"):
            self.categorical = categorical
        else:
            self.categorical = _names(categorical, "categorical")
        self.handle_unknown = check_choice("handle_unknown", handle_unknown, ("error", "ignore"))
        self.task = None if task is None else check_choice("task", task, ("classification", "regression"))
        self.scale_target = bool(scale_target)
        self.delimiter, self.header = None, True  # how the training file was read (replayed by predict)
        self.columns_ = None

    # ------------------------------------------------------------ roles
    def _roles(self, table):
        groups = {"dropped column": self.drop, "ID column": self.id, "feature column": self.features,
                  "categorical column": self.categorical if isinstance(self.categorical, list) else []}
        for role, group in groups.items():
            for name in group or []:
                table.index(name, role)
        target = self.target if self.target is not None else table.header[-1]
        table.index(target, "target column")
        if target in self.id or target in self.drop:
            raise ValueError(f"{table.path}: column {target!r} is the target, so it cannot also be an ID or dropped")
        taken = {target, *self.id, *self.drop}
        if self.features is not None:
            clash = [n for n in self.features if n in taken]
            if clash:
                raise ValueError(f"{table.path}: column {clash[0]!r} is listed in --features and also as the target, "
                                 "an ID or a dropped column")
            columns = list(self.features)
        else:
            columns = [n for n in table.header if n not in taken]
        if not columns:
            raise ValueError(f"{table.path} has no feature columns left besides the target {target!r}")
        return target, columns

    def _kept_rows(self, table, names):
        if self.impute != "drop":
            return np.arange(len(table))
        cols = [table.index(n) for n in names]
        keep = [i for i, row in enumerate(table.rows) if not any(_is_missing(row[j]) for j in cols)]
        if not keep:
            raise ValueError(f"{table.path}: every row has a missing cell, so --impute drop leaves no rows")
        return np.array(keep, dtype=np.int64)

    # ------------------------------------------------------------ fitting
    def fit(self, table, rows=None):
        """Learn roles, categories, fill values and target statistics; returns self.

        Args:
            table: a :class:`Table` (see :func:`read_table`) or a file path.
            rows: positions of the training rows among those kept (default all): statistics come
                from these rows only, so held-out rows do not leak into the preprocessing.
        """
        table = table if isinstance(table, Table) else read_table(table)
        self.delimiter, self.header, self.known_ = table.delimiter, table.has_header, list(table.header)
        self.target_, self.columns_ = self._roles(table)
        kept = self._kept_rows(table, [self.target_, *self.columns_])
        kept_table = table.subset(kept)
        train = kept_table if rows is None else kept_table.subset(rows)
        self._fit_columns(train)  # feature cells first, as the file reads left to right
        y_raw = self._raw_target(kept_table)
        _, self.task_, names = encode_targets(y_raw, self.task, f"{table.path}: target '{self.target_}'",
                                              np.float64, locate=lambda i: f"line {kept_table.lines[i]}")
        self.class_names_ = list(names) if names else None
        numeric = [n for n in self.columns_ if n not in self.categories_]
        warn_unlikely_features(train, self.target_, numeric, CLI_ADVICE, ids_table=kept_table)
        self.target_scaler_ = None
        if self.task_ == "regression" and self.scale_target:
            self.target_scaler_ = StandardScaler().fit(self._raw_target(train).astype(np.float64))
        return self

    def _fit_columns(self, train):
        forced = self.categorical if isinstance(self.categorical, list) else []
        self.categories_, self.fill_ = {}, {}
        for name in self.columns_:
            cells = [c for c in train.column(name) if not _is_missing(c)]
            if not cells:
                raise ValueError(f"{train.path}: column {name!r} has no values in the training rows")
            numeric = [is_number(c) for c in cells]
            if any(numeric) and not all(numeric) and name not in forced:
                i = next(i for i, c in enumerate(train.column(name)) if not _is_missing(c) and not is_number(c))
                raise ValueError(f"{train.path}, line {train.lines[i]}, column {name!r}: {train.column(name)[i]!r} is "
                                 "not a number, though the column holds numbers; fix the cell, or list the column "
                                 "in --categorical to one-hot encode it")
            numeric = all(numeric)
            if name in forced or not numeric:
                if not numeric and self.categorical == "none":
                    i = next(i for i, c in enumerate(train.column(name)) if not _is_missing(c) and not is_number(c))
                    raise ValueError(f"{train.path}: feature column {name!r} holds text such as "
                                     f"{train.column(name)[i]!r} (line {train.lines[i]}); encode it as numbers, "
                                     "pass --categorical auto to one-hot encode it, or --drop it")
                self.categories_[name] = sorted(set(cells))
                if self.impute not in (None, "drop"):
                    self.fill_[name] = _most_frequent(cells)
            elif self.impute not in (None, "drop"):
                values = np.array(cells, dtype=np.float64)
                self.fill_[name] = IMPUTERS[self.impute](values) if self.impute != "most_frequent" \
                    else float(_most_frequent(cells))
        self.feature_names_ = [f"{n}={c}" if n in self.categories_ else n
                               for n in self.columns_ for c in self.categories_.get(n, [None])]

    # ------------------------------------------------------------ transforming
    def _check_fitted(self):
        if self.columns_ is None:
            raise ValueError("this TablePipeline is not fitted yet; call fit(table) first")

    def _check_columns(self, table, with_target):
        if table.has_header:
            present = [n for n in table.header if n != self.target_ and n not in self.id and n not in self.drop]
            missing = [n for n in self.columns_ if n not in table.header]
            extra = [n for n in table.header if n not in self.known_]
            if missing or extra:
                raise ValueError(column_mismatch(table.path, missing, extra, len(self.columns_), len(present)))
            missing = [n for n in self.id if n not in table.header]
            if missing:
                raise ValueError(f"{table.path} lacks the ID column(s) {', '.join(missing)}, which predictions "
                                 "carry so rows can be joined back")
        elif len(table.header) not in (len(self.known_), len(self.known_) - 1):
            raise ValueError(f"{table.path} has {len(table.header)} columns but the training file had "
                             f"{len(self.known_)}")
        return with_target and (self.target_ in table.header and
                                (table.has_header or len(table.header) == len(self.known_)))

    def transform(self, table, with_target=True):
        """Numbers for a table read like the training file: a :class:`TableData`.

        The target is encoded only when ``with_target`` and the table has the
        target column; an unseen category or a missing cell (without
        imputation) raises ValueError naming the line and column.
        """
        self._check_fitted()
        table = table if isinstance(table, Table) else read_table(table, self.delimiter, self.header)
        has_target = self._check_columns(table, with_target)
        kept = self._kept_rows(table, [*self.columns_, *([self.target_] if has_target else [])])
        table = table.subset(kept)
        X = np.concatenate([self._encode(table, name) for name in self.columns_], axis=1)
        y = self._target(table) if has_target else None
        ids = [[row[table.index(n)] for n in self.id] for row in table.rows] if self.id else None
        return TableData(X, y, ids, kept)

    def fit_transform(self, table, rows=None):
        """:meth:`fit` then :meth:`transform` on the same table."""
        table = table if isinstance(table, Table) else read_table(table)
        return self.fit(table, rows).transform(table)

    def _encode(self, table, name):
        cells = table.column(name)
        fill = self.fill_.get(name)
        for i, cell in enumerate(cells):
            if _is_missing(cell) and fill is None:
                what = "is empty" if cell == "" else f"holds {cell!r}, a missing value"
                raise ValueError(f"{table.path}, line {table.lines[i]}, column {name!r} {what}; every feature cell "
                                 "needs a value (or train with --impute mean, median, most_frequent or drop)")
        cells = [str(fill) if _is_missing(c) else c for c in cells]
        if name in self.categories_:
            return self._one_hot(table, name, cells)
        for i, cell in enumerate(cells):
            if not is_number(cell):
                raise ValueError(f"{table.path}, line {table.lines[i]}, column {name!r}: {cell!r} is not a number")
            if not np.isfinite(float(cell)):
                raise ValueError(f"{table.path}, line {table.lines[i]}, column {name!r} holds {cell!r}; infinite "
                                 "values are not allowed")
        values = np.array(cells, dtype=np.float64)
        check_fits_dtype(values, np.float32, lambda i: f"{table.path}, line {table.lines[i]}, column {name!r}")
        return values[:, None]

    def _one_hot(self, table, name, cells):
        categories = self.categories_[name]
        lookup = {c: k for k, c in enumerate(categories)}
        out = np.zeros((len(cells), len(categories)))
        for i, cell in enumerate(cells):
            k = lookup.get(cell)
            if k is None and self.handle_unknown == "error":
                shown = ", ".join(categories[:10]) + (", ..." if len(categories) > 10 else "")
                raise ValueError(f"{table.path}, line {table.lines[i]}, column {name!r} holds {cell!r}, a category "
                                 f"not seen in training ({shown}); train with --handle-unknown ignore to accept it")
            if k is not None:
                out[i, k] = 1.0
        return out

    # ------------------------------------------------------------ the target
    def _raw_target(self, table):
        cells = table.column(self.target_)
        for i, cell in enumerate(cells):
            if _is_missing(cell):
                raise ValueError(f"{table.path}, line {table.lines[i]}, target column {self.target_!r} is empty")
        if all(is_number(c) for c in cells):
            values = np.array(cells, dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{table.path}, line {table.lines[i]}, target column {self.target_!r} holds "
                                 f"{cells[i]!r}; NaN and infinite values are not allowed")
            check_fits_dtype(values, np.float32, lambda i: f"{table.path}: target {self.target_!r} on line "
                                                           f"{table.lines[i]}")
            return values
        return np.array(cells, dtype=str)

    def _target(self, table):
        y, _, _ = encode_targets(self._raw_target(table), self.task_, f"{table.path}: target '{self.target_}'",
                                 np.float64, self.class_names_, locate=lambda i: f"line {table.lines[i]}")
        return y if self.target_scaler_ is None else self.target_scaler_.transform(y)

    def inverse_transform_target(self, y):
        """Undo the target standardisation (values as in the file); labels pass through unchanged."""
        self._check_fitted()
        return np.asarray(y) if self.target_scaler_ is None else self.target_scaler_.inverse_transform(y)

    # ------------------------------------------------------------ saving
    _SETTINGS = ("target", "features", "drop", "id", "impute", "categorical", "handle_unknown", "task",
                 "scale_target", "delimiter", "header")
    _FITTED = ("known_", "target_", "columns_", "categories_", "fill_", "feature_names_", "task_", "class_names_")

    def to_dict(self):
        """The settings and everything fitted, as JSON-safe values."""
        self._check_fitted()
        state = {"type": "TablePipeline", **{k: getattr(self, k) for k in self._SETTINGS + self._FITTED}}
        state["target_scaler_"] = self.target_scaler_.to_dict() if self.target_scaler_ is not None else None
        return state

    @classmethod
    def from_dict(cls, state):
        """Rebuild a fitted pipeline from :meth:`to_dict` output."""
        if not isinstance(state, dict) or state.get("type") != "TablePipeline":
            raise ValueError(f"expected a saved TablePipeline, got {type(state).__name__}")
        missing = [k for k in cls._SETTINGS + cls._FITTED if k not in state]
        if missing:
            raise ValueError(f"saved TablePipeline lacks {', '.join(missing)}")
        pipe = cls(**{k: state[k] for k in cls._SETTINGS[:9]})
        pipe.delimiter, pipe.header = state["delimiter"], state["header"]
        for key in cls._FITTED:
            setattr(pipe, key, state[key])
        scaler = state.get("target_scaler_")
        pipe.target_scaler_ = StandardScaler.from_dict(scaler) if scaler else None
        return pipe
