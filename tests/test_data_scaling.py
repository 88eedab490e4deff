"""Scalers and one-hot encoding: values, train-only fitting, constant columns, saving."""

import json

import numpy as np
import pytest

from chainrule.data import MinMaxScaler, StandardScaler, one_hot, scaler_from_dict, split

RNG = np.random.default_rng(0)
TRAIN = (RNG.normal(size=(50, 3)) * [1.0, 10.0, 0.0] + [0.0, 5.0, 7.0]).astype(np.float32)
TEST = RNG.normal(size=(20, 3)).astype(np.float32) * 3


def test_standard_scaler_values_and_constant_column():
    s = StandardScaler().fit(TRAIN)
    Z = s.transform(TRAIN)
    assert Z.dtype == np.float32 and not np.isnan(Z).any()
    assert np.allclose(Z.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(Z.std(axis=0), [1, 1, 0], atol=1e-5)
    assert np.allclose(s.inverse_transform(Z), TRAIN, atol=1e-4)


def test_minmax_default_range_and_constant_column_mid_range():
    s = MinMaxScaler().fit(TRAIN)
    Z = s.transform(TRAIN)
    assert np.allclose(Z.min(axis=0), [-1, -1, 0]) and np.allclose(Z.max(axis=0), [1, 1, 0])
    assert np.allclose(s.inverse_transform(Z), TRAIN, atol=1e-4)
    Z01 = MinMaxScaler((0, 1)).fit_transform(TRAIN)
    assert np.allclose(Z01.min(axis=0), [0, 0, 0.5]) and np.allclose(Z01.max(axis=0), [1, 1, 0.5])


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_fitted_on_train_only(cls):
    X = np.concatenate([TRAIN, TEST + 100])
    y = np.zeros(len(X))
    parts = split(X, y, test=0.3, seed=0)
    s = cls().fit(parts.train[0])
    reference = cls().fit(parts.train[0].astype(np.float64))
    assert np.allclose(s.transform(parts.test[0]), reference.transform(parts.test[0]), atol=1e-4)
    assert not np.allclose(s.transform(parts.test[0]), cls().fit_transform(parts.test[0]), atol=1e-2)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_to_dict_round_trip_through_json(cls):
    s = cls().fit(TRAIN)
    saved = json.loads(json.dumps(s.to_dict()))
    for restored in (cls.from_dict(saved), scaler_from_dict(saved)):
        assert type(restored) is cls
        assert np.array_equal(restored.transform(TEST), s.transform(TEST))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_one_dimensional_targets_and_integer_input(cls):
    y = np.array([1, 2, 3, 4])
    s = cls().fit(y)
    z = s.transform(y)
    assert z.shape == (4,) and z.dtype == np.float32
    assert np.allclose(s.inverse_transform(z), y)


def test_float64_stays_float64():
    assert StandardScaler().fit_transform(TRAIN.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: StandardScaler().transform(TEST), "StandardScaler is not fitted yet; call fit(X_train) first"),
        (lambda: MinMaxScaler().to_dict(), "MinMaxScaler is not fitted yet; call fit(X_train) first"),
        (lambda: StandardScaler().fit(TRAIN).transform(TEST[:, :2]), "StandardScaler was fitted on 3 columns, got 2"),
        (lambda: StandardScaler().fit(np.zeros((0, 2))), "StandardScaler cannot be fitted on an empty array"),
        (lambda: MinMaxScaler().fit([[1.0], [np.nan]]), "MinMaxScaler cannot be fitted on data with NaN or infinite values"),
        (lambda: StandardScaler().fit(np.zeros((2, 2, 2))), "StandardScaler expects shape (n,) or (n, d), got shape (2, 2, 2)"),
        (lambda: StandardScaler().fit(np.array(["a", "b"])), "StandardScaler needs numeric data, got dtype <U1"),
        (lambda: MinMaxScaler((1, 1)), "feature_range must be two finite numbers (low, high) with low < high, got (1, 1)"),
        (lambda: MinMaxScaler("ab"), "feature_range must be two finite numbers"),
        (lambda: StandardScaler.from_dict({"type": "MinMaxScaler"}), "expected a saved StandardScaler, got 'MinMaxScaler'"),
        (lambda: StandardScaler.from_dict({"type": "StandardScaler", "mean_": [0]}), "saved StandardScaler lacks scale_"),
        (lambda: scaler_from_dict({"type": "RobustScaler"}), "unknown scaler type 'RobustScaler'; expected one of: StandardScaler, MinMaxScaler"),
    ],
)
def test_scaler_errors(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_one_hot_values():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert one_hot([0, 1], num_classes=4, dtype=np.int64).tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert one_hot(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    "y, kwargs, message",
    [
        ([[0, 1]], {}, "one_hot expects a 1-D array of class labels, got shape (1, 2)"),
        ([0.5, 1], {}, "one_hot expects integer class labels, got dtype float64"),
        (["a"], {}, "one_hot expects integer class labels, got dtype <U1"),
        ([0, -1], {}, "one_hot expects labels >= 0, got -1"),
        ([0, 3], {"num_classes": 3}, "label 3 does not fit in num_classes=3 (labels run 0 to 2)"),
        ([0, 1], {"num_classes": 0}, "num_classes must be a positive integer, got 0"),
    ],
)
def test_one_hot_errors(y, kwargs, message):
    with pytest.raises(ValueError) as err:
        one_hot(y, **kwargs)
    assert str(err.value) == message
