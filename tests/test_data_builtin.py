"""Built-in data sets: registry, truth tables, Playground generators, parabola, digits."""

import json
import sys

import numpy as np
import pytest

from chainrule.data import (
    DATASETS,
    Dataset,
    list_datasets,
    load_dataset,
    load_digits,
    make_parabola,
    parabola_orderings,
    truth_table,
)

TRUTH = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
}
PLAYGROUND = {
    "circle": "classification",
    "xor-playground": "classification",
    "gaussian": "classification",
    "spiral": "classification",
    "moons": "classification",
    "plane": "regression",
    "multi-gaussian": "regression",
}


def test_registry_names_and_rows():
    expected = set(TRUTH) | set(PLAYGROUND) | {"parabola", "digits"}
    assert set(DATASETS) >= expected
    rows = list_datasets()
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    for name, task, description in rows:
        assert task in ("classification", "regression")
        assert description and "\n" not in description
        assert DATASETS[name].task == task


def test_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(ValueError) as err:
        load_dataset("digts")
    message = str(err.value)
    assert message.startswith("unknown data set 'digts'; expected one of: and, circle, digits,")
    assert "did you mean 'digits'?" in message


def test_unknown_option_names_accepted_ones():
    with pytest.raises(ValueError, match=r"data set 'and' has no option 'n'; its options are: encoding, dtype"):
        load_dataset("and", n=10)


@pytest.mark.parametrize("name", sorted(set(DATASETS) - {"digits"}))
def test_every_builtin_loads_with_declared_task(name):
    ds = load_dataset(name)
    assert isinstance(ds, Dataset)
    assert ds.name == name and ds.task == DATASETS[name].task
    assert ds.X.dtype == np.float32 and ds.X.ndim == 2 and len(ds.y) == len(ds.X)
    assert len(ds.feature_names) == ds.X.shape[1]
    if ds.task == "classification":
        assert ds.y.dtype == np.int64 and ds.class_names is not None
    else:
        assert ds.y.dtype == np.float32 and ds.class_names is None


@pytest.mark.parametrize("op, targets", TRUTH.items())
def test_truth_tables_01(op, targets):
    ds = truth_table(op)
    assert ds.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.y.tolist() == targets


@pytest.mark.parametrize("op, targets", TRUTH.items())
def test_truth_tables_pm1(op, targets):
    ds = load_dataset(op, encoding="pm1", dtype=np.float64)
    assert ds.X.dtype == np.float64
    assert ds.X.tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    assert ds.y.tolist() == [2 * t - 1 for t in targets]


def test_truth_table_bad_arguments():
    with pytest.raises(ValueError, match="encoding must be '01' or 'pm1', got 'bipolar'"):
        truth_table("and", encoding="bipolar")
    with pytest.raises(ValueError, match="unknown Boolean operator 'imp'"):
        truth_table("imp")


@pytest.mark.parametrize("name", PLAYGROUND)
def test_playground_shape_domain_and_seed(name):
    a = load_dataset(name, n=301, noise=0.5, seed=4)
    b = load_dataset(name, n=301, noise=0.5, seed=4)
    c = load_dataset(name, n=301, noise=0.5, seed=5)
    assert a.X.shape == (301, 2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert np.abs(a.X).max() <= 6.0
    if a.task == "classification":
        assert set(a.y.tolist()) == {0, 1}


@pytest.mark.parametrize("name", ["circle", "gaussian", "spiral", "moons"])
def test_balanced_classes(name):
    ds = load_dataset(name, n=401)
    assert np.bincount(ds.y).tolist() == [201, 200] or np.bincount(ds.y).tolist() == [200, 201]


def test_circle_geometry_without_noise():
    ds = load_dataset("circle", n=1000, seed=1)
    radius = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert radius[ds.y == 1].max() <= 2.5 + 1e-5
    assert radius[ds.y == 0].min() >= 3.5 - 1e-5 and radius.max() <= 5 + 1e-5


def test_circle_noise_mislabels_some_points():
    ds = load_dataset("circle", n=2000, noise=0.5, seed=1)
    radius = np.hypot(ds.X[:, 0], ds.X[:, 1])
    assert 0 < np.mean((radius < 2.5) != (ds.y == 1)) < 0.5


def test_xor_playground_labels_follow_quadrants_and_padding():
    ds = load_dataset("xor-playground", n=1000, seed=2)
    same_sign = ds.X[:, 0] * ds.X[:, 1] > 0
    assert np.array_equal(same_sign, ds.y == 1)
    assert np.abs(ds.X).min() >= 0.3 - 1e-6


def test_gaussian_centres_and_noise_spread():
    calm = load_dataset("gaussian", n=4000, noise=0.0, seed=3)
    noisy = load_dataset("gaussian", n=4000, noise=0.5, seed=3, dtype=np.float64)
    assert np.allclose(calm.X[calm.y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(calm.X[calm.y == 0].mean(axis=0), [-2, -2], atol=0.1)
    assert np.std(calm.X[calm.y == 1][:, 0]) == pytest.approx(np.sqrt(0.5), rel=0.1)
    assert np.std(noisy.X[noisy.y == 1][:, 0]) == pytest.approx(2.0, rel=0.1)


def test_spiral_radius_grows_to_five():
    ds = load_dataset("spiral", n=200)
    arm = ds.X[ds.y == 1]
    radius = np.hypot(arm[:, 0], arm[:, 1])
    assert radius[0] == 0 and np.all(np.diff(radius) > 0) and radius[-1] < 5


def test_moons_are_two_scaled_half_circles():
    ds = load_dataset("moons", n=200, seed=0, dtype=np.float64)
    upper = ds.X[ds.y == 0] / 3.5 + [0.5, 0.25]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert ds.class_names == ("upper", "lower")


def test_plane_target():
    ds = load_dataset("plane", n=500, seed=0, dtype=np.float64)
    assert np.allclose(ds.y, ds.X.sum(axis=1) / 10)
    assert len(load_dataset("plane")) == 1200


def test_multi_gaussian_target_at_bump_centres():
    ds = load_dataset("multi-gaussian", n=5000, seed=0, dtype=np.float64)
    assert ds.y.min() >= -1 and ds.y.max() <= 1
    near = np.hypot(ds.X[:, 0] + 4, ds.X[:, 1] - 2.5) < 0.2
    assert near.any() and np.all(ds.y[near] > 0.85)
    far = np.all(np.abs(ds.X) > [5.9, 0], axis=1) & (np.abs(ds.X[:, 1]) < 0.4)
    assert np.all(ds.y[far] == 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be a positive integer, got 0"),
        ({"n": 1}, "n must be at least 2 so that both classes get a point, got 1"),
        ({"noise": -0.1}, "noise must be a non-negative number, got -0.1"),
        ({"seed": "x"}, "seed must be an integer >= 0, None or a numpy.random.Generator, got 'x'"),
        ({"dtype": np.int32}, "dtype must be a floating-point type such as float32, got int32"),
    ],
)
def test_generator_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("circle", **kwargs)


def test_generator_accepts_numpy_generator():
    rng = np.random.default_rng(0)
    first, second = load_dataset("spiral", seed=rng, noise=0.2), load_dataset("spiral", seed=rng, noise=0.2)
    assert not np.array_equal(first.X, second.X)


def test_parabola_default_is_the_lecture_set():
    ds = load_dataset("parabola")
    assert ds.X.shape == (10000, 2) and np.bincount(ds.y).tolist() == [5000, 5000]
    on_curve = ds.X[ds.y == 1].astype(np.float64)
    assert np.allclose(on_curve[:, 1], on_curve[:, 0] ** 2, rtol=1e-5)
    assert on_curve[:, 0].min() >= 0 and on_curve[:, 0].max() <= 100
    random = ds.X[ds.y == 0]
    assert random[:, 1].max() > 9000 and random[:, 1].min() >= 0
    # Shuffled: both classes show up in the first hundred rows.
    assert 20 < ds.y[:100].sum() < 80


def test_parabola_orderings_share_points():
    sets = parabola_orderings(n_per_class=50, seed=9)
    assert list(sets) == ["shuffled", "random-first", "parabola-first"]
    assert sets["random-first"].y.tolist() == [0] * 50 + [1] * 50
    assert sets["parabola-first"].y.tolist() == [1] * 50 + [0] * 50
    rows = {k: sorted(map(tuple, np.c_[d.X, d.y].tolist())) for k, d in sets.items()}
    assert rows["shuffled"] == rows["random-first"] == rows["parabola-first"]
    again = parabola_orderings(n_per_class=50, seed=9)["shuffled"]
    assert np.array_equal(again.X, sets["shuffled"].X)


def test_parabola_orderings_from_generator_still_share_points():
    sets = parabola_orderings(n_per_class=20, seed=np.random.default_rng(1))
    a, b = sets["random-first"], sets["parabola-first"]
    assert np.array_equal(a.X[:20], b.X[20:])


def test_parabola_bad_order():
    with pytest.raises(ValueError, match="order must be one of shuffled, random-first, parabola-first, got 'sorted'"):
        make_parabola(order="sorted")


def test_digits_values():
    pytest.importorskip("sklearn")
    ds = load_dataset("digits")
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float32
    assert ds.X.min() == 0 and ds.X.max() == 16
    assert np.bincount(ds.y).sum() == 1797 and ds.class_names == tuple("0123456789")
    assert ds.feature_names[9] == "pixel_1_1"


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[sklearn\]"):
        load_digits()


def test_dataset_validation_and_helpers():
    ds = Dataset(np.zeros((3, 2)), np.array([0, 1, 0]), "classification")
    assert ds.feature_names == ("x1", "x2") and ds.n_classes == 2
    assert "X=(3, 2)" in repr(ds)
    sub = ds.subset(np.array([True, False, True]))
    assert sub.n_samples == 2
    with pytest.raises(ValueError, match=r"X must be 2-D with shape \(n, d\), got shape \(3,\)"):
        Dataset(np.zeros(3), np.zeros(3), "regression")
    with pytest.raises(ValueError, match="y must have shape"):
        Dataset(np.zeros((3, 1)), np.zeros(2), "regression")
    with pytest.raises(ValueError, match="task must be 'classification' or 'regression', got 'ranking'"):
        Dataset(np.zeros((3, 1)), np.zeros(3), "ranking")
    with pytest.raises(ValueError, match="got 1 feature names for 2 columns"):
        Dataset(np.zeros((3, 2)), np.zeros(3), "regression", feature_names=("a",))


@pytest.mark.parametrize("y, names, message", [
    (np.array([0.0, 0.5, 1.0]), None, "a classification Dataset's y holds 0.5 at row 1; expected class labels"),
    (np.array([0, 1, 2]), ("a", "b"), "class_names names 2 classes, but y holds label 2"),
    (np.eye(3), ("a",), "class_names names 1 class, but y holds 3 columns"),
])
def test_a_classification_dataset_checks_its_labels_against_its_names(y, names, message):
    with pytest.raises(ValueError, match=message):
        Dataset(np.zeros((3, 2)), y, "classification", class_names=names)
    assert Dataset(np.zeros((3, 2)), np.array([-1, 1, -1]), "classification", class_names=("-1", "1")).n_classes == 2
    assert Dataset(np.zeros((3, 2)), np.array([0.0, 2.0, 1.0]), "classification").n_classes == 3


def test_list_datasets_is_json_friendly():
    json.dumps(list_datasets())
