"""Plots: valid PNG files whose decision-region colours agree with the model's predictions."""

import doctest
import sys

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import load_dataset
from chainrule.train.history import History
from chainrule.train import fit, predict

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from chainrule import viz  # noqa: E402
from chainrule.viz import curves, regions  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    return img


@pytest.fixture(scope="module")
def moons():
    ds = load_dataset("moons", n=200, noise=0.15, seed=0)
    model = nn.MLP([2, 6, 2], activation="tanh", seed=0)
    h = fit(model, "cross_entropy", ("adam", 0.05), ds, validation_split=0.2, epochs=40, metrics=["accuracy"],
            seed=0, verbose=0)
    return ds, model, h


def test_history_plot_is_a_png(moons, tmp_path):
    _, _, h = moons
    path = viz.plot_history(h, tmp_path / "sub" / "curves.png", title="moons")
    img = _is_png(path)
    assert img.shape[1] > img.shape[0]  # two panels side by side: loss and accuracy
    assert curves.curve_keys(h) == ["loss", "accuracy"]


def test_history_plot_shows_the_penalty_and_refuses_empty(tmp_path):
    h = History()
    for e in range(3):
        h.append(e, {"loss": 1.0 / (e + 1), "reg_loss": 0.1})
    _is_png(viz.plot_history(h, tmp_path / "reg.png"))
    with pytest.raises(ValueError, match="history is empty"):
        viz.plot_history(History(), tmp_path / "empty.png")
    with pytest.raises(KeyError, match="history has no 'val_loss'"):
        viz.plot_history(h, tmp_path / "x.png", keys=["val_loss"])


def _pixel(plot, x, y):
    left, top, right, bottom = plot.axes_box
    px = left + (x - plot.xlim[0]) / (plot.xlim[1] - plot.xlim[0]) * (right - left)
    py = top + (plot.ylim[1] - y) / (plot.ylim[1] - plot.ylim[0]) * (bottom - top)
    return int(py), int(px)


def _check_region_colours(plot, model, X, threshold=0.0):
    """Sample the PNG on a grid; every pixel showing a region colour must show the predicted class."""
    img = imread(plot.path)[..., :3]
    colours = np.array(plot.region_colors)
    xs = np.linspace(*plot.xlim, 40)[2:-2]
    ys = np.linspace(*plot.ylim, 40)[2:-2]
    pts = np.array([(x, y) for y in ys for x in xs])
    out = predict(model, pts)
    pred = out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > threshold).astype(int)
    data_px = np.array([_pixel(plot, *p) for p in X])
    shown, agree = 0, 0
    for (x, y), k in zip(pts, pred):
        r, c = _pixel(plot, x, y)
        if np.min(np.abs(data_px - (r, c)).max(axis=1)) < 8:
            continue  # a data point's marker covers this pixel
        dist = np.abs(colours - img[r, c]).max(axis=1)
        if dist.min() < 0.02:
            shown += 1
            agree += int(dist.argmin() == k)
    assert shown > 0.6 * len(pts), "most sampled pixels should show a region colour"
    # Cells straddling the boundary may round either way; nothing else may disagree.
    assert agree >= shown - 0.02 * shown
    return pred


def test_decision_region_colours_match_predictions(moons, tmp_path):
    ds, model, _ = moons
    plot = viz.plot_decision_regions(model, ds.X, ds.y, tmp_path / "regions.png", class_names=ds.class_names)
    _is_png(plot.path)
    pred = _check_region_colours(plot, model, ds.X)
    assert set(pred) == {0, 1}
    assert plot.grid_labels.shape == (200, 200) and set(np.unique(plot.grid_labels)) == {0, 1}


def test_three_classes_and_a_sigmoid_output(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [2, 4]])
    y = rng.integers(0, 3, 150)
    X = centres[y] + rng.normal(size=(150, 2))
    model = nn.MLP([2, 8, 3], seed=0)
    fit(model, "cross_entropy", ("adam", 0.05), (X, y), epochs=30, seed=0, verbose=0)
    plot = viz.plot_decision_regions(model, X, y, tmp_path / "three.png")
    assert set(_check_region_colours(plot, model, X)) == {0, 1, 2}
    sig = nn.MLP([2, 4, 1], output_activation="sigmoid", seed=0)
    yb = (y == 1).astype(int)
    fit(sig, "bce", ("adam", 0.05), (X, yb), epochs=30, seed=0, verbose=0)
    plot = viz.plot_decision_regions(sig, X, yb, tmp_path / "sig.png")
    _check_region_colours(plot, sig, X, threshold=0.5)


def test_hyperplane_segments_lie_on_each_units_line(moons, tmp_path):
    ds, model, _ = moons
    plot = viz.plot_hyperplanes(model, ds.X, ds.y, tmp_path / "planes.png")
    _is_png(plot.path)
    w, b = regions.first_layer(model)
    assert 1 <= len(plot.lines) <= w.shape[0]
    for j, p, q in plot.lines:
        for x, y in (p, q):
            assert abs(w[j] @ (x, y) + b[j]) < 1e-6 * (1 + np.abs(w[j]).sum() * 10)
            assert plot.xlim[0] - 1e-9 <= x <= plot.xlim[1] + 1e-9 and plot.ylim[0] - 1e-9 <= y <= plot.ylim[1] + 1e-9
    bare = viz.plot_hyperplanes(model, ds.X, ds.y, tmp_path / "bare.png", regions=False)
    _is_png(bare.path)
    assert bare.lines == plot.lines


def test_lines_outside_the_box_are_left_out():
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([-5.0, -0.5, -0.5])
    segs = regions.hyperplane_segments(w, b, (0, 1), (0, 1))
    assert [s[0] for s in segs] == [1, 2]
    assert segs[1][1:] == ((0.0, 0.5), (0.5, 0.0))


def test_bad_inputs(moons, tmp_path):
    _, model, _ = moons
    with pytest.raises(ValueError, match="decision regions need 2-D inputs"):
        viz.plot_decision_regions(model, np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")
    with pytest.raises(ValueError, match="the first layer takes 4"):
        regions.first_layer(nn.MLP([4, 3, 2], seed=0))


def test_missing_matplotlib_gives_install_hint(monkeypatch, tmp_path):
    h = History()
    h.append(0, {"loss": 1.0})
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        viz.plot_history(h, tmp_path / "x.png")


def test_pyplot_state_is_untouched(moons, tmp_path):
    ds, model, h = moons
    before = set(sys.modules)
    viz.plot_history(h, tmp_path / "a.png")
    assert "matplotlib.pyplot" in before or "matplotlib.pyplot" not in sys.modules


def test_docstring_examples_run():
    for module in (curves, regions):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_history_plot_without_a_path_returns_the_figure(moons, tmp_path):
    from matplotlib.figure import Figure

    _, _, h = moons
    fig = viz.plot_history(h)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert list(tmp_path.iterdir()) == []  # nothing written
