"""Plots refuse bad arguments with one sentence naming the argument, the value and what was expected."""

import doctest
import warnings

import numpy as np
import pytest

from chainrule import nn
from chainrule.train.history import History

pytest.importorskip("matplotlib")

from chainrule import viz  # noqa: E402
from chainrule.viz import _figure, gradients, regions  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 2))
Y = (X[:, 0] > 0).astype(np.int64)


@pytest.fixture(scope="module")
def two():
    """An untrained 2-2 classifier: the checks run before any training would matter."""
    return nn.MLP([2, 3, 2], seed=0)


def _history(n=3):
    h = History()
    for e in range(n):
        h.append(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + e / 10, "val_loss": 1.2 / (e + 1)})
    return h


def _raises(exc, words, fn, *args, **kwargs):
    """Call ``fn``, expect ``exc`` and every one of ``words`` in the message; the message is returned."""
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"
    return str(info.value)


# Decision regions: labels -----------------------------------------------------------------------

@pytest.mark.parametrize("y, words", [
    (np.where(Y == 1, 0.7, 0.0), ["y must hold integer class labels >= 0", "0.7 at row"]),
    (np.full(12, np.nan), ["y must hold integer class labels >= 0", "nan at row 0"]),
    (np.full(12, np.inf), ["y must hold integer class labels >= 0", "inf at row 0"]),
    (-Y, ["y must hold integer class labels >= 0", "-1 at row"]),
    (Y * 2, ["y holds class 2", "2 outputs", "classes 0 and 1"]),
    (Y[:5], ["X has 12 rows but y has 5"]),
    (np.eye(2)[Y], ["y must be 1-D", "shape (12, 2)"]),
    ([[0], [1, 2]] + [[0]] * 10, ["y must be 1-D"]),
])
def test_bad_labels_are_refused_not_truncated(two, tmp_path, y, words):
    _raises(ValueError, words, viz.plot_decision_regions, two, X, y, tmp_path / "r.png")
    assert list(tmp_path.iterdir()) == []


def test_labels_must_be_classes_the_model_predicts(tmp_path):
    three = nn.MLP([2, 3, 3], seed=0)
    _raises(ValueError, ["y holds class 3 at row", "3 outputs", "classes 0 to 2"],
            viz.plot_decision_regions, three, X, Y * 3, tmp_path / "r.png")
    one = nn.MLP([2, 3, 1], seed=0)
    _raises(ValueError, ["y holds class 2", "one output", "classes 0 and 1"],
            viz.plot_decision_regions, one, X, Y * 2, tmp_path / "r.png")


def test_text_labels_are_a_type_error(two, tmp_path):
    _raises(TypeError, ["y must hold integer class labels", "dtype"],
            viz.plot_decision_regions, two, X, Y.astype(str), tmp_path / "r.png")


@pytest.mark.parametrize("y", [Y.astype(np.float64), Y[:, None], Y.astype(bool), Y.astype(object)])
def test_label_forms_that_are_whole_numbers_still_work(two, tmp_path, y):
    plot = viz.plot_decision_regions(two, X, y, tmp_path / "r.png", resolution=10)
    assert open(plot.path, "rb").read(8) == PNG


# Decision regions: points -----------------------------------------------------------------------

@pytest.mark.parametrize("points, exc, words", [
    (np.zeros((0, 2)), ValueError, ["X has no rows"]),
    (np.zeros((5, 3)), ValueError, ["decision regions need 2-D inputs", "shape (5, 3)"]),
    (np.zeros(4), ValueError, ["X must have shape (n, 2)"]),
    (X + 1j, TypeError, ["X must hold real numbers", "complex128"]),
    (X.astype(str), TypeError, ["X must hold real numbers", "dtype <U"]),
    (np.array([[1.0, "a"]] * 12, dtype=object), TypeError, ["X must hold real numbers", "'a'"]),
    (np.array([[1.0, None]] * 12, dtype=object), ValueError, ["X must hold finite coordinates", "row 0"]),
    ([[1.0, 2.0], [3.0]] * 6, ValueError, ["X must be an (n, 2) array of numbers"]),
    (np.vstack([X[:11], [[np.nan, 0.0]]]), ValueError, ["X must hold finite coordinates", "[nan, 0.0] at row 11"]),
    (np.vstack([X[:11], [[0.0, -np.inf]]]), ValueError, ["X must hold finite coordinates", "row 11"]),
    (np.vstack([X[:11], [[1e300, 0.0]]]), ValueError, ["X must lie within", "the model's floats"]),
])
def test_bad_points(two, tmp_path, points, exc, words):
    _raises(exc, words, viz.plot_decision_regions, two, points, np.zeros(len(points), int), tmp_path / "r.png")


def test_one_point_or_points_on_a_line_get_a_unit_span(two, tmp_path):
    plot = viz.plot_decision_regions(two, X[:1], Y[:1], tmp_path / "one.png", resolution=10)
    assert plot.xlim[1] - plot.xlim[0] >= 1 and plot.ylim[1] - plot.ylim[0] >= 1
    assert plot.xlim[0] < X[0, 0] < plot.xlim[1] and plot.ylim[0] < X[0, 1] < plot.ylim[1]
    line = np.column_stack([np.full(12, 3.0), X[:, 1]])
    plot = viz.plot_decision_regions(two, line, Y, tmp_path / "line.png", resolution=10)
    assert plot.xlim[1] - plot.xlim[0] >= 1 and plot.xlim[0] < 3 < plot.xlim[1]


# Decision regions: the other arguments ----------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, words", [
    ({"resolution": 0}, ValueError, ["resolution must be an integer from 1 to 2000", "got 0"]),
    ({"resolution": 10**9}, ValueError, ["resolution must be an integer from 1 to 2000", "1000000000"]),
    ({"resolution": 2.5}, TypeError, ["resolution must be an integer", "2.5"]),
    ({"resolution": True}, TypeError, ["resolution must be an integer"]),
    ({"margin": float("nan")}, ValueError, ["margin must be >= 0", "nan"]),
    ({"margin": float("inf")}, ValueError, ["margin must be >= 0", "inf"]),
    ({"margin": -0.1}, ValueError, ["margin must be >= 0", "-0.1"]),
    ({"margin": "0.1"}, TypeError, ["margin must be >= 0", "'0.1'"]),
    ({"hyperplanes": "no"}, TypeError, ["hyperplanes must be True or False", "'no'"]),
    ({"hyperplanes": 1}, TypeError, ["hyperplanes must be True or False"]),
    ({"hyperplanes": None}, TypeError, ["hyperplanes must be True or False"]),
    ({"threshold": 0.5}, ValueError, ["threshold applies to a model with one output", "has 2"]),
    ({"class_names": "ab"}, TypeError, ["class_names must be a list of names", "'ab'"]),
    ({"class_names": ["only one"]}, ValueError, ["class_names must name every class in y", "has 1"]),
    ({"title": 3}, TypeError, ["title must be a str or None", "3"]),
])
def test_bad_options(two, tmp_path, kwargs, exc, words):
    _raises(exc, words, viz.plot_decision_regions, two, X, Y, tmp_path / "r.png", **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threshold, exc, words", [
    (float("nan"), ValueError, ["threshold must be a finite number", "nan"]),
    ("0.5", TypeError, ["threshold must be a finite number", "'0.5'"]),
    (True, TypeError, ["threshold must be a finite number", "True"]),
])
def test_bad_threshold_of_a_single_output_model(tmp_path, threshold, exc, words):
    one = nn.MLP([2, 3, 1], seed=0)
    _raises(exc, words, viz.plot_decision_regions, one, X, Y, tmp_path / "r.png", threshold=threshold)


def test_flags_take_numpy_bools_and_plot_hyperplanes_checks_regions(two, tmp_path):
    plot = viz.plot_decision_regions(two, X, Y, tmp_path / "r.png", resolution=10, hyperplanes=np.True_)
    assert plot.lines == viz.plot_hyperplanes(two, X, Y, tmp_path / "h.png", regions=False).lines
    _raises(TypeError, ["regions must be True or False", "'no'"], viz.plot_hyperplanes, two, X, Y,
            tmp_path / "x.png", regions="no")


class _Estimator:
    def predict(self, X):
        return np.zeros(len(X), int)


@pytest.mark.parametrize("model", [None, lambda x: x, _Estimator(), np.eye(2)])
def test_a_model_that_is_not_a_module_is_a_type_error(tmp_path, model):
    _raises(TypeError, ["model must be a chainrule Module taking 2 inputs", "got"],
            viz.plot_decision_regions, model, X, Y, tmp_path / "r.png")
    _raises(TypeError, ["model must be a chainrule Module", "got"],
            viz.plot_hyperplanes, model, X, Y, tmp_path / "h.png", regions=False)
    _raises(TypeError, ["model must be a chainrule Module whose first layer is Linear"], regions.first_layer, model)


def test_a_model_of_other_width_or_first_layer(tmp_path):
    _raises(ValueError, ["model takes 4 inputs", "must take 2"],
            viz.plot_decision_regions, nn.MLP([4, 3, 2], seed=0), X, Y, tmp_path / "r.png")
    _raises(ValueError, ["first layer is Linear", "no Linear layer"], regions.first_layer, nn.Sequential(nn.ReLU()))
    embedded = nn.Sequential(nn.Embedding(10, 2), nn.Linear(2, 3))  # lines in the embedding space, not the plane
    _raises(ValueError, ["first layer is Linear", "its first layer is Embedding"], regions.first_layer, embedded)


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.Tanh(), nn.LayerNorm(2)], ids=["ReLU", "Tanh", "LayerNorm"])
def test_no_hyperplanes_for_a_linear_after_a_layer_that_changes_the_inputs(tmp_path, layer):
    # its lines were drawn in the plane although that Linear sees relu(x), tanh(x), ...
    model = nn.Sequential(layer, nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 2, seed=1))
    words = ["a Linear layer that sees the raw inputs", f"a {type(layer).__name__} comes before the first Linear"]
    _raises(ValueError, words, regions.first_layer, model)
    _raises(ValueError, words, viz.plot_hyperplanes, model, X, Y, tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


def test_hyperplanes_through_layers_that_pass_rows_unchanged():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Identity(), nn.Linear(2, 3, seed=0))
    w, b = regions.first_layer(model)
    assert np.array_equal(w, model[3].weight.data) and np.array_equal(b, model[3].bias.data)


def test_a_model_with_nan_outputs_paints_no_regions(tmp_path):
    broken = nn.MLP([2, 3, 2], seed=0)
    next(iter(broken.parameters())).data[...] = np.nan  # the first layer's weight, as a diverged run leaves it
    _raises(ValueError, ["outputs are nan or inf", "diverged"], viz.plot_decision_regions, broken, X, Y,
            tmp_path / "r.png")
    _raises(ValueError, ["must be finite", "unit 0"], viz.plot_hyperplanes, broken, X, Y, tmp_path / "h.png",
            regions=False)


@pytest.mark.parametrize("weight, bias, lims, exc, words", [
    (np.ones((3, 3)), np.ones(3), None, ValueError, ["weight must have shape (units, 2)", "(3, 3)"]),
    (np.ones(2), np.ones(1), None, ValueError, ["weight must have shape (units, 2)", "(2,)"]),
    (np.ones((3, 2)), np.ones(2), None, ValueError, ["bias must have shape (3,)", "got shape (2,)"]),
    (np.ones((3, 2)), np.ones((3, 1)), None, ValueError, ["bias must have shape (3,)", "(3, 1)"]),
    ([["a", "b"]], [0.0], None, TypeError, ["weight and bias must be arrays of numbers"]),
    (np.array([[1.0, np.nan]]), np.zeros(1), None, ValueError, ["unit 0", "must be finite"]),
    (np.ones((1, 2)), np.array([np.inf]), None, ValueError, ["unit 0", "must be finite"]),
    (np.ones((1, 2)), np.zeros(1), ((1, 0), (0, 1)), ValueError, ["xlim must be (low, high) with low < high"]),
    (np.ones((1, 2)), np.zeros(1), ((0, 1), (0, float("nan"))), ValueError, ["ylim must be a pair (low, high)"]),
    (np.ones((1, 2)), np.zeros(1), ("ab", (0, 1)), TypeError, ["xlim must be a pair (low, high) of finite numbers"]),
])
def test_hyperplane_segments_check_shapes(weight, bias, lims, exc, words):
    xlim, ylim = lims or ((0, 1), (0, 1))
    _raises(exc, words, regions.hyperplane_segments, weight, bias, xlim, ylim)


# Learning curves --------------------------------------------------------------------------------

def test_an_unknown_key_lists_the_logged_ones(tmp_path):
    for exc in (ValueError, KeyError):
        _raises(exc, ["history has no 'acc'", "keys", "loss, accuracy, val_loss"],
                viz.plot_history, _history(), tmp_path / "c.png", keys=["loss", "acc"])


def test_a_single_string_key_is_one_panel():
    fig = viz.plot_history(_history(), keys="accuracy")
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy"]


def test_a_validation_key_is_labelled_as_validation():
    fig = viz.plot_history(_history(), keys=["val_loss"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["validation loss"]


@pytest.mark.parametrize("keys, exc, words", [
    ([1], TypeError, ["keys must be a key or a list of keys", "[1]"]),
    (3, TypeError, ["keys must be a key or a list of keys", "3"]),
    ([], ValueError, ["keys is empty"]),
])
def test_bad_keys(tmp_path, keys, exc, words):
    _raises(exc, words, viz.plot_history, _history(), tmp_path / "c.png", keys=keys)


@pytest.mark.parametrize("history", [None, [1.0, 0.5], 3, "loss"])
def test_a_history_that_is_neither_history_nor_mapping(tmp_path, history):
    _raises(TypeError, ["history must be a History", "{key: [value per epoch]} dict"],
            viz.plot_history, history, tmp_path / "c.png")


def test_mappings_are_histories_when_their_lists_agree(tmp_path):
    fig = viz.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss"]
    assert len(fig.axes[0].get_lines()) == 2
    assert open(viz.plot_history(_history().to_dict(), tmp_path / "d.png"), "rb").read(8) == PNG
    _raises(ValueError, ["one value per epoch for every key", "'val_loss' has 1", "'loss' has 2"],
            viz.plot_history, {"loss": [1.0, 0.5], "val_loss": [1.1]})
    _raises(TypeError, ["list of values per epoch", "'loss'"], viz.plot_history, {"loss": 1.0})
    _raises(TypeError, ["history['loss'] must hold one number per epoch"], viz.plot_history, {"loss": ["a", "b"]})
    _raises(ValueError, ["no loss or metric to plot", "lr"], viz.plot_history, {"lr": [0.1, 0.1]})


def test_a_per_class_key_is_refused():
    h = History()
    h.append(0, {"loss": 1.0, "precision": np.array([0.5, 0.7])})
    _raises(ValueError, ["'precision'", "per class"], viz.plot_history, h, keys=["precision"])
    assert [ax.get_ylabel() for ax in viz.plot_history(h).axes] == ["loss"]


def test_an_all_nan_curve_warns_and_says_so_on_the_panel():
    h = History()
    for e in range(3):
        h.append(e, {"loss": float("nan"), "accuracy": 0.5})
    with pytest.warns(UserWarning, match="loss is nan or inf at every epoch"):
        fig = viz.plot_history(h)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no finite values"]
    assert len(fig.axes[1].texts) == 0


def test_a_partly_nan_curve_is_drawn_without_a_warning():
    h = History()
    for e, v in enumerate([1.0, float("inf"), 0.5]):
        h.append(e, {"loss": v})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = viz.plot_history(h)
    assert np.isnan(fig.axes[0].get_lines()[0].get_ydata()[1]) and len(fig.axes[0].texts) == 0


# Gradient norms ---------------------------------------------------------------------------------

@pytest.mark.parametrize("norms, exc, words", [
    ({"a": [1.0, 2.0, 3.0], "b": [1.0]}, ValueError, ["one value per epoch for every layer", "'b' has 1", "'a' has 3"]),
    ({"a": [1.0, float("nan")]}, ValueError, ["norms['a'] at epoch 2 must be >= 0", "nan"]),
    ({"a": [1.0, float("inf")]}, ValueError, ["norms['a'] at epoch 2 must be >= 0", "inf"]),
    ({"a": [1.0, -2.0]}, ValueError, ["norms['a'] at epoch 2 must be >= 0", "-2.0"]),
    ({"a": ["x", "y"]}, TypeError, ["norms['a'] at epoch 1 must be >= 0", "'x'"]),
    ({"a": "ab"}, TypeError, ["norms['a'] must be a list of gradient norms", "'ab'"]),
    ({"a": 1.0}, TypeError, ["norms['a'] must be a list of gradient norms"]),
    ({"a": [[1.0, 2.0]]}, TypeError, ["norms['a'] must be a list of gradient norms"]),
    ({"a": []}, ValueError, ["the gradient norms are empty"]),
    ([1.0, 2.0], TypeError, ["norms must be a GradientNorms callback", "[1.0, 2.0]"]),
    (None, TypeError, ["norms must be a GradientNorms callback"]),
])
def test_bad_gradient_norms(tmp_path, norms, exc, words):
    _raises(exc, words, viz.plot_gradient_norms, norms, tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("initial, exc, words", [
    ([1.0], TypeError, ["initial must be a {layer: norm} dict"]),
    ({"a": 1.0}, ValueError, ["one norm for each layer", "no norm for 'b'"]),
    ({"a": 1.0, "b": 1.0, "z": 1.0}, ValueError, ["one norm for each layer", "'z'"]),
    ({"a": 1.0, "b": float("nan")}, ValueError, ["initial['b'] must be >= 0", "nan"]),
    ({"a": 1.0, "b": "1"}, TypeError, ["initial['b'] must be >= 0"]),
])
def test_bad_initial_norms(tmp_path, initial, exc, words):
    _raises(exc, words, viz.plot_gradient_norms, {"a": [1.0, 2.0], "b": [0.1, 0.2]}, tmp_path / "g.png",
            initial=initial)


def test_good_gradient_norms_still_plot(tmp_path):
    norms = {"a": np.array([1e-4, 0.0]), "b": (1e-2, 2e-2)}
    path = viz.plot_gradient_norms(norms, tmp_path / "g.png", initial={"a": 1e-5, "b": 1e-3})
    assert open(path, "rb").read(8) == PNG


# Where the PNG goes -----------------------------------------------------------------------------

@pytest.mark.parametrize("path, exc, words", [
    (3, TypeError, ["path must be a file name (str or os.PathLike)", "got 3"]),
    (["a.png"], TypeError, ["path must be a file name"]),
    ("", ValueError, ["path must name a PNG file"]),
    ("plots.jpg", ValueError, ["path must end in .png", "plots.jpg"]),
])
def test_bad_paths_fail_before_drawing(two, tmp_path, monkeypatch, path, exc, words):
    monkeypatch.chdir(tmp_path)
    _raises(exc, words, viz.plot_history, _history(), path)
    _raises(exc, words, viz.plot_decision_regions, two, X, Y, path)
    _raises(exc, words, viz.plot_gradient_norms, {"a": [1.0]}, path)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_no_file_name(two, tmp_path):
    for path in (tmp_path, str(tmp_path) + "/"):
        _raises(ValueError, ["path must name a PNG file", "which is a folder"], viz.plot_history, _history(), path)
        _raises(ValueError, ["which is a folder"], viz.plot_hyperplanes, two, X, Y, path, regions=False)
    _raises(TypeError, ["path must be a file name"], viz.plot_decision_regions, two, X, Y, None)


def test_a_path_without_suffix_or_in_capitals_is_written(tmp_path):
    for name in ("curves", "curves.PNG"):
        assert open(viz.plot_history(_history(), tmp_path / name), "rb").read(8) == PNG


def test_docstring_examples_run():
    for module in (_figure, gradients):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
