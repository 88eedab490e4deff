"""Argument checks of :mod:`chainrule.sklearn`: one sentence per bad argument, its value and what was expected.

The estimators run these at fit time (never in ``__init__``, as scikit-learn
requires) with the checks of :mod:`chainrule._core`. Data go through
scikit-learn's ``validate_data``; when it fails, :func:`validated` looks for
the bad entry or shape itself and says which argument, row and column it is,
and otherwise lets scikit-learn's own message stand (its estimator checks
expect some of those words).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

try:
    from scipy.sparse import issparse
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - chainrule.sklearn, the only user, says to install the extra
    # Importable all the same, so that pytest --doctest-modules can collect it without the extra.
    issparse = check_random_state = type_of_target = validate_data = None

from .._core import ArgumentError, _seed_error, check, check_choice, check_int, first_non_whole, short_repr
from ..nn import ACTIVATIONS
from ..optim import OPTIMIZERS

# scikit-learn's activation names that chainrule spells differently.
ACTIVATION_ALIASES = {"logistic": "sigmoid"}

_MAX_SEED = 2**32 - 1  # the largest seed numpy.random.RandomState takes
_LABELS = "class labels (integers, strings or whole-number floats)"


class Settings(NamedTuple):
    """The checked hyper-parameters that the estimators use in a converted form."""

    hidden: tuple  # units per hidden layer
    activation: str  # the nn.ACTIVATIONS name (aliases resolved)
    verbose: int
    rng: np.random.RandomState


def hyper_parameters(est):
    """``est``'s hyper-parameters checked, as :class:`Settings`; the first bad one raises."""
    early_stopping = check_bool("early_stopping", est.early_stopping)
    check_bool("warm_start", est.warm_start)
    check("learning_rate_init", est.learning_rate_init, ">0")
    check("alpha", est.alpha, ">=0")
    check("tol", est.tol, ">=0")
    check("max_iter", est.max_iter, "int>0")
    check("n_iter_no_change", est.n_iter_no_change, "int>0")
    # Checked even without early stopping, where it is unused: a bad value is a mistake either way.
    check("validation_fraction", est.validation_fraction, "(0,1)" if early_stopping else "[0,1)")
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        check("batch_size", est.batch_size, "int>0")
    verbose = est.verbose
    verbose = int(verbose) if isinstance(verbose, (bool, np.bool_)) else check_int("verbose", verbose, 0, 2)
    activation = registry_key("activation", est.activation, ACTIVATIONS, ACTIVATION_ALIASES)
    registry_key("solver", est.solver, OPTIMIZERS)
    return Settings(hidden_sizes(est.hidden_layer_sizes), activation, verbose, random_state(est.random_state))


def unchanged_architecture(est, settings):
    """Refuse new layers under warm_start and later partial_fit calls, which train the fitted network on."""
    model = est.model_
    fitted = {"hidden_layer_sizes": tuple(model.sizes[1:-1]),
              "activation": model.activation.name if model.activation is not None else None}
    wanted = {"hidden_layer_sizes": settings.hidden, "activation": settings.activation if settings.hidden else None}
    for name, value in fitted.items():
        if wanted[name] != value:
            raise ValueError(f"{name}={short_repr(getattr(est, name))} differs from the fitted network's "
                             f"{short_repr(value)}, which warm_start and partial_fit train on; "
                             "call fit with warm_start=False to train a new network")


def check_bool(name, value):
    """``value`` as a bool; strings such as "yes" are refused rather than read as True."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{name} must be True or False, got {short_repr(value)}")


def registry_key(name, value, registry, aliases=None):
    """``value`` as a key of ``registry`` (aliases resolved), else the usual "must be one of" sentence."""
    aliases = aliases or {}
    key = check_choice(name, value, tuple(sorted({*registry, *aliases})))
    if not isinstance(key, str):  # a one-element array compares equal to a name, yet is no key
        raise ArgumentError(f"{name} must be a string, got {short_repr(value)}")
    return aliases.get(key, key)


def hidden_sizes(value):
    """``hidden_layer_sizes`` as a tuple of positive ints (a single int is one layer)."""
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    ok = isinstance(sizes, (tuple, list, np.ndarray)) and all(
        isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_)) and n > 0 for n in sizes)
    if not ok or isinstance(value, (bool, np.bool_)):
        raise ValueError(f"hidden_layer_sizes must be a positive int or a tuple of positive ints, "
                         f"got {short_repr(value)}")
    return tuple(int(n) for n in sizes)


def random_state(value):
    """scikit-learn's ``random_state`` as a RandomState: None, an int seed or a RandomState (used as is)."""
    if value is None or isinstance(value, np.random.RandomState):
        return check_random_state(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and 0 <= value <= _MAX_SEED:
        return check_random_state(int(value))
    raise _seed_error(value, "random_state", "an integer from 0 to 2**32 - 1, None or a numpy.random.RandomState")


# ---------------------------------------------------------------- data
def validated(est, X, y="no_validation", numeric_y=False, **options):
    """``validate_data(est, X, y, **options)``, its failures on a bad entry, shape or length said in one sentence."""
    try:
        return validate_data(est, X, y, **options)
    except ValueError:
        problem = _data_problem(X, y, numeric_y)
        if problem is None:
            raise
    kind, message = problem
    raise kind(message) from None  # scikit-learn's longer message would add nothing


def _data_problem(X, y, numeric_y):
    """``(exception type, sentence)`` for the first thing wrong with X or y, or None if none is found."""
    problem = _ragged_problem(X)
    X = _as_array(X)
    if problem is None and X is not None:
        problem = _shape_problem(X) or _entry_problem("X", X, numeric=True)
    if problem:
        return problem
    if isinstance(y, str) and y == "no_validation":
        return None
    y = _as_array(y)
    if y is None:
        return None
    problem = _entry_problem("y", y, numeric=numeric_y)
    if problem is None and X is not None and X.ndim and y.ndim and len(X) != len(y):
        problem = ValueError, f"y must have one entry per row of X ({len(X)} rows), got {len(y)}"
    return problem


def _as_array(data):
    if data is None or issparse(data):
        return None  # scikit-learn's own messages cover these
    try:
        return np.asarray(data)
    except (TypeError, ValueError):  # ragged nested lists
        return None


def _ragged_problem(X):
    """Rows of different lengths in a nested list X, which NumPy reports without saying where."""
    if not isinstance(X, (list, tuple)) or any(isinstance(row, (str, bytes)) for row in X):
        return None  # a list of strings is a 1-D X, reported as such
    try:
        lengths = [len(row) for row in X]
    except TypeError:  # rows that are scalars: a 1-D X, reported as such
        return None
    row = next((i for i, n in enumerate(lengths) if n != lengths[0]), None)
    if row is None:
        return None
    return ValueError, (f"X must have the same number of entries in every row, got {lengths[0]} in row 0 "
                        f"and {lengths[row]} in row {row}")


def _shape_problem(X):
    if X.ndim == 2:
        return None
    hint = "; Reshape your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample"
    return ValueError, (f"X must be a 2-D array (one row per sample, one column per feature), got a {X.ndim}-D "
                        f"array of shape {X.shape}" + (hint if X.ndim == 1 else ""))


def _entry_problem(name, values, numeric):
    """A text entry where numbers are needed, or NaN / inf, with its row (and column)."""
    if values.dtype.kind in "USO":
        if not numeric:
            return None  # class labels may be text
        index = _first_non_number(values)
        if index is not None:
            return ArgumentError, f"{name} must hold numbers, got {short_repr(_item(values[index]))} at {_at(index)}"
        values = values.astype(np.float64)
    if values.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    index = np.unravel_index(np.argmax(bad), values.shape)
    shown = "NaN" if np.isnan(values[index]) else ("inf" if values[index].real > 0 else "-inf")
    return ValueError, f"{name} must be finite (no NaN or inf), got {shown} at {_at(index)}"


def _first_non_number(values):
    for index in np.ndindex(values.shape):
        try:
            float(values[index])
        except (TypeError, ValueError):
            return index
    return None


def _item(value):
    return value.item() if isinstance(value, np.generic) else value  # 'a', not np.str_('a')


def _at(index):
    """Where an entry is, as a user reads it: "row 3" or "row 3, column 1"."""
    index = tuple(int(i) for i in np.atleast_1d(index))
    return f"row {index[0]}" + (f", column {index[1]}" if len(index) > 1 else "")


# ---------------------------------------------------------------- targets
def class_labels(y):
    """The 1-D y as class labels, or one sentence naming the first entry that is none (0.5, say)."""
    if y.dtype == object:
        y = _one_label_type("y", y)
    index = first_non_whole(y)
    if index is not None:
        # "continuous" is the word scikit-learn's checks look for in this error
        raise ValueError(f"y must hold {_LABELS}, got the continuous value {short_repr(_item(y[index]))} at row {index}")
    if type_of_target(y, input_name="y") not in ("binary", "multiclass"):
        row = next((i for i, v in enumerate(y) if not isinstance(v, (str, numbers.Number))), 0)
        raise ValueError(f"Unknown label type: y must hold {_LABELS}, got {short_repr(_item(y[row]))} at row {row}")
    return y


def _one_label_type(name, values):
    """An object array of labels: all strings (kept), or all numbers (as a numeric array, like any other)."""
    text = [isinstance(v, str) for v in values]
    if all(text):
        return values
    if not any(text):
        return np.array(values.tolist())
    row = text.index(False)
    raise ArgumentError(f"{name} must hold labels of one type (all numbers or all strings), got "
                        f"{short_repr(_item(values[row]))} at row {row} among strings")


def fit_classes(y):
    """The classes that ``fit`` learns from the checked labels y: the distinct ones, at least 2 of them."""
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"y holds one class only ({short_repr(_item(classes[0]))}); a classifier needs at least 2")
    return classes


def class_list(classes):
    """partial_fit's ``classes`` as sorted distinct labels, at least 2 of them."""
    if isinstance(classes, (set, frozenset)):
        classes = list(classes)
    values = None if isinstance(classes, (str, bytes)) else _as_array(classes)
    if values is None or values.ndim != 1:
        raise ArgumentError(f"classes must be a list of all class labels, got {short_repr(classes)}")
    index = first_non_whole(values)
    if index is not None:
        raise ValueError(f"classes must hold {_LABELS}, got {short_repr(_item(values[index]))}")
    if values.dtype.kind in "US" and not all(isinstance(c, (str, bytes)) for c in classes):
        # NumPy would have turned the numbers into text, which no numeric label of y matches
        raise ArgumentError(f"classes must hold labels of one type (all numbers or all strings), "
                            f"got {short_repr(classes)}")
    unique = np.unique(values)
    if len(unique) < 2:
        raise ValueError(f"classes must list at least 2 different labels, got {short_repr(classes)}")
    return unique


def label_indices(y, classes):
    """The position of each label of ``y`` in ``classes``; a label outside them raises, with its row."""
    unknown = ~np.isin(y, classes)
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ValueError(f"y holds label {short_repr(_item(y[row]))}, which is not among the classes "
                         f"{short_repr(classes.tolist())} (first at row {row})")
    return np.searchsorted(classes, y).astype(np.int64)


def regression_targets(y):
    """y as floats: validate_data leaves text arrays as they are, so a non-number is refused here."""
    if y.dtype.kind in "USO":
        problem = _entry_problem("y", y, numeric=True)
        if problem:
            kind, message = problem
            raise kind(message)
    return y.astype(np.float64, copy=False)


def standardised(Y, mean, scale, one_d):
    """``(Y - mean) / scale``, or one sentence when the targets are too large for that in float64."""
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, naming the row
        Z = (Y - mean) / scale
    if np.isfinite(mean).all() and np.isfinite(scale).all() and np.isfinite(Z).all():
        return Z
    index = np.unravel_index(np.argmax(np.abs(Y)), Y.shape)
    where = _at(index[0] if one_d else index)
    raise ValueError(f"y must be small enough to standardise in float64 (|y| below about 1e154), got "
                     f"{short_repr(float(Y[index]))} at {where}; divide the targets by a constant first")
