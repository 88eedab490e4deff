"""Warnings about numeric feature columns that are probably not meant as features.

A column of increasing unique integers (a row number or an ID), a column that holds one value in
every training row (it carries nothing), and a column equal to the target in every row (a copy of
the answer, which makes any model look perfect) all train without an error and mislead. The CSV
loader and the CLI's table pipeline both call :func:`warn_unlikely_features`; each says how to
leave a column out in its own terms (:data:`CLI_ADVICE`, :data:`PYTHON_ADVICE`).

Example:
    >>> import warnings
    >>> from chainrule.data.table_read import Table
    >>> t = Table("t.csv", ["id", "x", "y"], [["1", "5", "0"], ["2", "5", "1"], ["3", "5", "0"]], [2, 3, 4])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unlikely_features(t, "y", ["id", "x"], PYTHON_ADVICE)
    >>> [str(w.message)[:40] for w in caught]
    ["column 'id' looks like a row number or I", '1 of 2 feature columns hold the same val']
"""

from __future__ import annotations

import warnings

import numpy as np

from .._core import is_number

__all__ = ["ColumnWarning", "warn_unlikely_features", "CLI_ADVICE", "PYTHON_ADVICE"]


class ColumnWarning(UserWarning):
    """A column that is probably not meant as a feature: a row number or ID, a constant, a copy of the target."""


#: How to leave a column out, per caller: the command line's options, and ``load_csv``'s argument.
CLI_ADVICE = {"id": "pass --drop {name} or --id {name} if it is not one", "copy": "pass --drop {name} if it is one",
              "constant": "--drop them"}
PYTHON_ADVICE = {"id": "pass drop=[{name!r}] if it is not one", "copy": "pass drop=[{name!r}] if it is one",
                 "constant": "pass them in drop="}


def _numbers(cells):
    """The cells as float64, or None when one is empty or not a number."""
    if not cells or not all(is_number(c) for c in cells):
        return None
    return np.array(cells, dtype=np.float64)


def warn_unlikely_features(table, target, features, advice, ids_table=None, stacklevel=2):
    """Warn (:class:`ColumnWarning`) about row-number, constant and target-copy feature columns.

    Args:
        table: the rows to judge (the training rows), a :class:`~.table_read.Table`.
        target: the target column's name; features: the numeric feature columns' names.
        advice: :data:`CLI_ADVICE` or :data:`PYTHON_ADVICE`.
        ids_table: the rows for the row-number check (default ``table``): all rows, in file order.
        stacklevel: as for ``warnings.warn``, counted from the caller of this function (1: its line).
    """
    level = stacklevel + 1
    for name in features:
        cells = (ids_table or table).column(name)
        if len(cells) >= 3 and all(c.lstrip("-").isdigit() for c in cells) and np.all(
                np.diff(np.array(cells, dtype=np.int64)) > 0):
            warnings.warn(f"column {name!r} looks like a row number or ID (increasing unique integers) and is "
                          f"used as a feature; {advice['id'].format(name=name)}", ColumnWarning, stacklevel=level)
    answer, constant = _numbers(table.column(target)), []
    for name in features:
        values = _numbers(table.column(name))
        if values is None or len(values) < 2:
            continue
        if np.all(values == values[0]):
            constant.append(f"{name!r} ({table.column(name)[0]})")
        elif answer is not None and np.array_equal(values, answer):
            warnings.warn(f"column {name!r} equals the target {target!r} in every training row: a copy of the "
                          f"answer makes the model look perfect; {advice['copy'].format(name=name)}",
                          ColumnWarning, stacklevel=level)
    if constant:
        listed = ", ".join(constant[:5]) + (f" and {len(constant) - 5} more" if len(constant) > 5 else "")
        warnings.warn(f"{len(constant)} of {len(features)} feature columns hold the same value in every training "
                      f"row, so they carry no information: {listed}; {advice['constant']}, or ignore this if they "
                      "vary in later data", ColumnWarning, stacklevel=level)
