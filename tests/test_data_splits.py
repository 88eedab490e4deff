"""Train/validation/test splits: sizes, disjointness, seeds, stratification, validation."""

import numpy as np
import pytest

from chainrule.data import load_dataset, split, split_dataset, split_indices, train_test_split

N = 200
X = np.arange(N * 2, dtype=np.float32).reshape(N, 2)
Y = np.array([0] * 150 + [1] * 40 + [2] * 10)


def rows(part):
    return set((part[0][:, 0] // 2).astype(int).tolist())


@pytest.mark.parametrize(
    "kwargs, sizes",
    [
        ({}, (160, 0, 40)),
        ({"test": 0.25, "val": 0.1}, (130, 20, 50)),
        ({"test": 30, "val": 10}, (160, 10, 30)),
        ({"fractions": (0.7, 0.15, 0.15)}, (140, 30, 30)),
        ({"fractions": (0.9, 0.1)}, (180, 0, 20)),
        ({"test": 0.001}, (199, 0, 1)),
    ],
)
def test_sizes_and_disjoint_cover(kwargs, sizes):
    parts = split(X, Y, seed=0, **kwargs)
    assert tuple(len(p[0]) for p in parts) == sizes
    assert all(len(p[0]) == len(p[1]) for p in parts)
    train, val, test = (rows(p) for p in parts)
    assert not (train & val or train & test or val & test)
    assert train | val | test == set(range(N))
    for part in parts:
        assert np.array_equal(part[1], Y[(part[0][:, 0] // 2).astype(int)])


def test_seed_reproducible():
    a, b, c = (split(X, Y, val=0.1, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.test[0], b.test[0]) and np.array_equal(a.val[1], b.val[1])
    assert not np.array_equal(a.test[0], c.test[0])


@pytest.mark.parametrize("seed", range(5))
def test_stratified_keeps_class_shares_exactly(seed):
    parts = split(X, Y, val=0.1, test=0.2, stratify=True, seed=seed)
    assert np.bincount(parts.test[1], minlength=3).tolist() == [30, 8, 2]
    assert np.bincount(parts.val[1], minlength=3).tolist() == [15, 4, 1]
    assert np.bincount(parts.train[1], minlength=3).tolist() == [105, 28, 7]
    # Classes are interleaved, not left in blocks.
    assert parts.train[1][:20].tolist() != sorted(parts.train[1][:20].tolist())


def test_stratified_string_labels_and_rounding_totals():
    y = np.array(["a"] * 7 + ["b"] * 6)
    parts = split(np.zeros((13, 1)), y, test=5, stratify=True, seed=0)
    assert len(parts.test[1]) == 5
    assert sorted(parts.test[1].tolist()).count("a") in (2, 3)


def test_unstratified_small_class_can_vanish_but_stratified_keeps_it():
    misses = sum(2 not in split(X, Y, test=0.1, seed=s).test[1] for s in range(40))
    assert misses > 0
    assert all(2 in split(X, Y, test=0.1, stratify=True, seed=s).test[1] for s in range(40))


def test_train_test_split_order_and_types():
    X_tr, X_te, y_tr, y_te = train_test_split(X, Y, 0.25, stratify=True, seed=3)
    assert X_tr.shape == (150, 2) and X_te.shape == (50, 2) and X_te.dtype == np.float32
    assert np.bincount(y_te).tolist() == [38, 10, 2] or np.bincount(y_te).tolist() == [37, 10, 3]


def test_split_dataset_returns_datasets():
    ds = load_dataset("gaussian", n=100)
    parts = split_dataset(ds, fractions=(0.6, 0.2, 0.2), stratify=True, seed=0)
    assert [len(p) for p in parts] == [60, 20, 20]
    assert parts.test.class_names == ds.class_names and np.bincount(parts.test.y).tolist() == [10, 10]


def test_split_indices_alone():
    parts = split_indices(10, val=2, test=3, seed=0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"test": 1.0}, "test must be a fraction in [0, 1) or a row count, got 1.0"),
        ({"test": -0.1}, "test must be a fraction in [0, 1) or a row count, got -0.1"),
        ({"val": "10%"}, "val must be a fraction in [0, 1) or a row count, got '10%'"),
        ({"test": 500}, "test must be between 0 and the 200 available rows, got 500"),
        ({"val": 0.5, "test": 0.5}, "split leaves no rows for training: 100 validation + 100 test rows out of 200"),
        ({"fractions": (0.5, 0.6)}, "fractions must be 2 or 3 non-negative numbers"),
        ({"fractions": (0.0, 0.5, 0.5)}, "with a positive train part"),
        ({"fractions": (1.0,)}, "fractions must be 2 or 3"),
        ({"fractions": (0.8, 0.2), "test": 0.2}, "pass either fractions or val/test sizes, not both"),
    ],
)
def test_bad_fractions(kwargs, message):
    with pytest.raises(ValueError) as err:
        split(X, Y, **kwargs)
    assert message in str(err.value)


def test_bad_inputs():
    with pytest.raises(ValueError, match="X and y must have the same number of rows, got 200 and 5 rows"):
        split(X, Y[:5])
    with pytest.raises(ValueError, match="stratify needs 1-D class labels"):
        split(X, np.linspace(0, 1, N), stratify=True)
