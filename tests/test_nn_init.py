"""Initialisers: registry, shapes and dtypes, seeding, and the variances each scheme promises."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init

SHAPE = (300, 400)  # (fan_out, fan_in)
FAN_IN, FAN_OUT = 400, 300

# name -> (expected std, bound for uniform schemes or None)
STATS = {
    "uniform": (0.05 / math.sqrt(3), 0.05),
    "normal": (0.01, None),
    "xavier_uniform": (math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_normal": (math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    "he_uniform": (math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    "he_normal": (math.sqrt(2 / FAN_IN), None),
    "lecun_uniform": (math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
    "lecun_normal": (math.sqrt(1 / FAN_IN), None),
}
STATS.update({"glorot_uniform": STATS["xavier_uniform"], "glorot_normal": STATS["xavier_normal"],
              "kaiming_uniform": STATS["he_uniform"], "kaiming_normal": STATS["he_normal"]})


def test_registry_names():
    assert set(init.INITIALIZERS) == set(STATS) | {"zeros", "ones", "constant"}


@pytest.mark.parametrize("name", sorted(STATS))
def test_random_schemes_have_the_promised_spread(name):
    std, bound = STATS[name]
    w = init.INITIALIZERS[name](SHAPE, seed=0)
    assert w.shape == SHAPE and w.dtype == cr.get_default_dtype()
    assert abs(w.mean()) < 0.05 * std + 1e-12
    assert w.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * bound


@pytest.mark.parametrize("name", sorted(STATS))
def test_seed_or_generator_makes_draws_reproducible(name):
    fn = init.INITIALIZERS[name]
    np.testing.assert_array_equal(fn((3, 4), seed=7), fn((3, 4), seed=7))
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(fn((3, 4), seed=g1), fn((3, 4), seed=g2))
    assert fn((3, 4), seed=7, dtype=np.float64).dtype == np.float64


def test_small_nonzero_weights_as_the_slides_ask():
    w = init.uniform((20, 20), seed=0)
    assert np.all(w != 0) and np.abs(w).max() <= 0.05


def test_deterministic_schemes():
    assert init.zeros((2, 2)).tolist() == [[0, 0], [0, 0]]
    assert init.ones((2,), dtype=np.float64).dtype == np.float64
    assert init.constant((3,), value=0.35, dtype=np.float64).tolist() == [0.35] * 3


def test_fans_follow_out_in_layout():
    assert init.fans((5, 3)) == (3, 5)
    assert init.fans((8, 4, 3, 3)) == (36, 72)
    assert init.fans((7,)) == (7, 7)


def test_get_initializer_forms_and_errors():
    assert init.get_initializer("zeros") is init.zeros
    assert init.get_initializer({"name": "normal", "std": 2.0})((1000,), seed=0).std() == pytest.approx(2, rel=0.1)
    with pytest.raises(ValueError, match="unknown initializer 'glorot'; expected one of: constant, glorot_normal"):
        init.get_initializer("glorot")
    with pytest.raises(TypeError, match="an initializer must be a name, a dict with a 'name' key or a callable"):
        init.get_initializer(3)
    with pytest.raises(TypeError, match="seed must be an integer >= 0, None or a numpy.random.Generator, got 'a'"):
        init.uniform((2,), seed="a")
