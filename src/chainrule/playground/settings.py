"""The playground's settings: one table of every control, its type, range, default and effect.

Names are TensorFlow Playground's URL-hash keys (its ``src/state.ts``) where it
has the control, so a Playground link opens the same configuration; the
controls it never had (loss, optimiser, schedule, ...) follow the same style.
Every value from the browser goes through :func:`validate`, which returns it
in canonical form or raises ``ValueError`` with one sentence naming the
setting, the bad value and what was expected.

``effect`` says what a change does: ``"live"`` applies to the running
training, ``"network"`` rebuilds the network (a fresh start, as the
reference's ``reset()``), ``"data"`` regenerates the points and rebuilds the
network, ``"view"`` only concerns drawing (kept so the hash and exports hold it).

Example:
    >>> validate({"learningRate": 0.3, "networkShape": [4, 2]})
    {'learningRate': 0.3, 'networkShape': [4, 2]}
    >>> validate({"batchSize": 31})
    Traceback (most recent call last):
    ...
    ValueError: batchSize must be an integer from 1 to 30, got 31
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from .._core import check_choice, check_int, is_real
from .._core import short_repr as _short

__all__ = ["Setting", "SETTINGS", "validate", "defaults", "LEARNING_RATES", "REGULARIZATION_RATES",
           "DATASETS", "REG_DATASETS", "FEATURES", "MAX_LAYERS", "MAX_NEURONS", "ACTIVATIONS"]

# The reference's drop-down lists (index.html), kept as they are.
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
# Hash name -> chainrule.data generator name; spiral-3, gauss-3 and custom are ours.
DATASETS = {"circle": "circle", "xor": "xor-playground", "gauss": "gaussian", "spiral": "spiral",
            "spiral3": "spiral-3", "gauss3": "gaussian-3", "custom": None}
REG_DATASETS = {"reg-plane": "plane", "reg-gauss": "multi-gaussian", "reg-custom": None}
FEATURES = ("x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY")
MAX_LAYERS, MAX_NEURONS = 8, 32
_SEED = re.compile(r"^[0-9A-Za-z._-]{1,32}$")


@dataclass(frozen=True)
class Setting:
    """One control: how to check a value, its default and what a change does."""

    name: str
    check: Callable
    default: object
    effect: str
    doc: str


def _bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {_short(value)}")
    return value


def _choice(choices):
    def check(name, value):
        return check_choice(name, value, tuple(choices))
    return check


def _int(low, high):
    def check(name, value):
        return check_int(name, value, low, high)
    return check


def _listed(values):
    """A number that must be one of ``values`` (the reference's drop-down)."""
    def check(name, value):
        if is_real(value) and math.isfinite(value):
            for v in values:
                if math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12):
                    return v
        raise ValueError(f"{name} must be one of {', '.join(map(str, values))}, got {_short(value)}")
    return check


def number_check(low, high):
    """A check for a finite real number in [low, high] (returned as float)."""
    def check(name, value):
        if not (is_real(value) and math.isfinite(value) and low <= value <= high):
            raise ValueError(f"{name} must be a number from {low} to {high}, got {_short(value)}")
        return float(value)
    return check


def _stepped(low, high, step):
    """An integer slider: low..high in steps of ``step`` (floats with an integral value pass)."""
    def check(name, value):
        if is_real(value) and math.isfinite(value) and float(value).is_integer():
            v = int(value)
            if low <= v <= high and (v - low) % step == 0:
                return v
        raise ValueError(f"{name} must be an integer from {low} to {high} in steps of {step}, got {_short(value)}")
    return check


def _shape(name, value):
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ValueError(f"{name} must be a list of at most {MAX_LAYERS} layer sizes, got {_short(value)}")
    return [check_int(f"{name}[{i}]", n, 1, MAX_NEURONS) for i, n in enumerate(value)]


def _activations(name, value):
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ValueError(f"{name} must be null or a list of at most {MAX_LAYERS} activation names, got {_short(value)}")
    return [check_choice(f"{name}[{i}]", a, ACTIVATIONS) for i, a in enumerate(value)]


def _seed(name, value):
    if is_real(value) and math.isfinite(value):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str) or not _SEED.match(value):
        raise ValueError(f"{name} must be up to 32 letters, digits, '.', '_' or '-', got {_short(value)}")
    return value


_TABLE = [
    # name, check, default, effect, doc  (reference controls first, in state.ts order)
    ("activation", _choice(ACTIVATIONS), "tanh", "network", "hidden activation of every layer"),
    ("regularization", _choice(("none", "L1", "L2")), "none", "live", "weight penalty"),
    ("batchSize", _int(1, 30), 10, "live", "samples per gradient step"),
    ("dataset", _choice(DATASETS), "circle", "data", "classification data set"),
    ("regDataset", _choice(REG_DATASETS), "reg-plane", "data", "regression data set"),
    ("learningRate", _listed(LEARNING_RATES), 0.03, "live", "step size"),
    ("regularizationRate", _listed(REGULARIZATION_RATES), 0, "live", "penalty strength"),
    ("noise", _stepped(0, 50, 5), 0, "data", "noise in percent"),
    ("networkShape", _shape, [4, 2], "network", "neurons per hidden layer"),
    ("seed", _seed, "0.12345", "data", "random seed (any short string, as the reference's)"),
    ("showTestData", _bool, False, "view", "draw the test points"),
    ("discretize", _bool, False, "view", "draw the output as two colours"),
    ("percTrainData", _stepped(10, 90, 10), 50, "data", "percentage of points used for training"),
    *[(f, _bool, f in ("x", "y"), "network", f"input feature {f}") for f in FEATURES],
    ("cosX", _bool, False, "view", "accepted for link compatibility; the reference never shows it"),
    ("cosY", _bool, False, "view", "accepted for link compatibility; the reference never shows it"),
    ("collectStats", _bool, False, "view", "accepted for link compatibility"),
    ("problem", _choice(("classification", "regression")), "classification", "data", "problem type"),
    ("initZero", _bool, False, "network", "start every weight at 0"),
    ("hideText", _bool, False, "view", "hide the explanatory text"),
    # Beyond the reference.
    ("loss", _choice(("auto", "mse", "cross_entropy")), "auto", "network",
     "auto = 0.5(o-t)^2 with tanh output for two classes (the reference), cross-entropy for more"),
    ("optimizer", _choice(("sgd", "momentum", "adam")), "sgd", "network", "update rule"),
    ("schedule", _choice(("constant", "step", "exponential", "cosine")), "constant", "network",
     "learning-rate schedule per epoch"),
    ("layerActivations", _activations, None, "network", "per-layer activations (null: all the same)"),
    ("dropout", _listed((0, 0.1, 0.2, 0.3, 0.5)), 0, "network", "dropout after each hidden layer"),
    ("skip", _bool, False, "network", "residual links around hidden layers of equal width"),
    ("init", _choice(("playground", "xavier", "he")), "playground", "network",
     "initialiser: playground = U(-0.5, 0.5) weights and bias 0.1"),
]

SETTINGS = {name: Setting(name, check, default, effect, doc) for name, check, default, effect, doc in _TABLE}
# Controls the reference's classroom mode can hide: the settings and its buttons (playground.ts).
HIDEABLE = frozenset(SETTINGS) | {"playButton", "stepButton", "resetButton", "numHiddenLayers"}
MAX_SETTINGS_PER_MESSAGE = len(SETTINGS) + 64  # room for the *_hide keys


def defaults() -> dict:
    """A fresh dict of every setting's default value.

    Example:
        >>> defaults()["networkShape"], defaults()["learningRate"]
        ([4, 2], 0.03)
    """
    return {name: (list(s.default) if isinstance(s.default, list) else s.default) for name, s in SETTINGS.items()}


def validate(values) -> dict:
    """Check a dict of settings from the browser; returns them canonical, or raises ``ValueError``.

    Keys ending in ``_hide`` (the reference's classroom mode) must name a control and hold a bool.
    """
    if not isinstance(values, dict):
        raise ValueError(f"settings must be a JSON object of name: value pairs, got {_short(values)}")
    if len(values) > MAX_SETTINGS_PER_MESSAGE:
        raise ValueError(f"settings holds {len(values)} entries; at most {MAX_SETTINGS_PER_MESSAGE} are allowed")
    out = {}
    for name, value in values.items():
        if isinstance(name, str) and name.endswith("_hide"):
            if name[:-5] not in HIDEABLE:
                raise ValueError(f"unknown setting {_short(name)}: a *_hide key must name a control, "
                                 f"one of: {', '.join(sorted(HIDEABLE))}")
            out[name] = _bool(name, value)
            continue
        setting = SETTINGS.get(name)
        if setting is None:
            raise ValueError(f"unknown setting {_short(name)}; expected one of: {', '.join(SETTINGS)}")
        out[name] = setting.check(name, value)
    return out
