"""The one registry of built-in data sets, looked up by name."""

from __future__ import annotations

import difflib
import functools
import inspect
from dataclasses import dataclass
from typing import Callable

from . import boolean, digits, parabola, playground, roads
from .dataset import TASKS, Dataset


@dataclass(frozen=True)
class DatasetSpec:
    """How to build one named data set: its loader, task and one-line description."""

    name: str
    loader: Callable[..., Dataset]
    task: str
    description: str

    def options(self) -> tuple:
        """Names of the keyword arguments the loader accepts."""
        return tuple(inspect.signature(self.loader).parameters)


DATASETS: dict = {}


def register_dataset(name: str, loader: Callable[..., Dataset], task: str, description: str) -> DatasetSpec:
    """Add a data set to the registry so that :func:`load_dataset` can build it by name.

    Example:
        >>> import numpy as np
        >>> spec = register_dataset("ones", lambda: Dataset(np.ones((2, 1)), np.ones(2), "regression",
        ...                         name="ones"), "regression", "two rows of ones")
        >>> load_dataset("ones").y.tolist()
        [1.0, 1.0]
        >>> del DATASETS["ones"]
    """
    if task not in TASKS:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if name in DATASETS:
        raise ValueError(f"a data set named {name!r} is already registered")
    spec = DatasetSpec(name, loader, task, description)
    DATASETS[name] = spec
    return spec


def _register_builtins():
    for op in ("and", "or", "nand", "nor", "xor"):
        register_dataset(
            op, functools.partial(boolean.truth_table, op), "classification",
            f"truth table of {op.upper()} on two inputs (4 rows); encoding='01' or 'pm1'",
        )
    for name, make in playground.GENERATORS.items():
        task = "regression" if name in ("plane", "multi-gaussian") else "classification"
        register_dataset(name, make, task, playground.DESCRIPTIONS[name])
    register_dataset("parabola", parabola.make_parabola, "classification", parabola.DESCRIPTION)
    register_dataset("digits", digits.load_digits, "classification", digits.DESCRIPTION)
    register_dataset("roads", roads.make_roads, "regression", roads.DESCRIPTION)


def _unknown(name) -> ValueError:
    names = sorted(DATASETS)
    hint = difflib.get_close_matches(str(name), names, n=1)
    suffix = f"; did you mean {hint[0]!r}?" if hint else ""
    return ValueError(f"unknown data set {name!r}; expected one of: {', '.join(names)}{suffix}")


def load_dataset(name: str, **kwargs) -> Dataset:
    """Build a built-in data set by name.

    Args:
        name: a key of the registry; see :func:`list_datasets`.
        **kwargs: options of that data set's loader, e.g. ``n``, ``noise``,
            ``seed`` and ``dtype`` for the Playground sets, ``encoding`` for
            the Boolean tables, ``order`` for ``parabola``.

    Returns:
        A :class:`Dataset`; ``X`` is float32 unless ``dtype`` says otherwise.

    Example:
        >>> ds = load_dataset("spiral", n=200, noise=0.1, seed=0)
        >>> ds.X.shape, ds.X.dtype, ds.task
        ((200, 2), dtype('float32'), 'classification')
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise _unknown(name)
    options = spec.options()
    unexpected = [key for key in kwargs if key not in options]
    if unexpected:
        accepted = ", ".join(options) or "none"
        raise ValueError(f"data set {name!r} has no option {unexpected[0]!r}; its options are: {accepted}")
    return spec.loader(**kwargs)


def list_datasets() -> list:
    """Return ``(name, task, description)`` rows for every registered data set, by name.

    Example:
        >>> [row[0] for row in list_datasets()][:3]
        ['and', 'circle', 'digits']
    """
    return [(s.name, s.task, s.description) for s in sorted(DATASETS.values(), key=lambda s: s.name)]


_register_builtins()
