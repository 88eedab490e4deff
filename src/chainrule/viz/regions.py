"""Decision regions of a 2-D classifier, and the hyperplane each first-layer unit draws.

Each hidden unit of the first layer computes ``w1 x1 + w2 x2 + b`` and so
splits the plane along the line where that is 0: the network's decision
boundary is assembled from these lines (the Reil et al. ANN & backpropagation lecture, slide 24: "each node splits the
feature space with a hyperplane").

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from chainrule import nn
    >>> X = np.random.default_rng(0).normal(size=(50, 2)); y = (X[:, 0] > 0).astype(int)
    >>> plot = plot_decision_regions(nn.MLP([2, 3, 2], seed=0), X, y, os.path.join(tempfile.mkdtemp(), "r.png"),
    ...                              hyperplanes=True)
    >>> plot.grid_labels.shape, len(plot.lines) <= 3
    ((200, 200), True)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._core import ArgumentError, check, check_bool, check_int, check_real, first_non_whole, short_repr
from ..metrics import to_labels
from ..nn import Dropout, Flatten, Identity, Module
from ..nn._util import first_layer as input_layer
from ._figure import CLASS_COLORS, check_path, check_title, light, new_figure, save_png

__all__ = ["plot_decision_regions", "plot_hyperplanes", "RegionPlot", "first_layer", "hyperplane_segments"]

#: Layers that hand 2-D rows on unchanged at evaluation, so a Linear after them still sees the raw inputs.
_PASS_THROUGH = (Dropout, Flatten, Identity)


class RegionPlot(NamedTuple):
    """What was drawn, so it can be checked against the model.

    Attributes:
        path: the PNG file.
        xlim, ylim: the plotted data range.
        axes_box: ``(left, top, right, bottom)`` pixel edges of the plotting area in the PNG
            (row 0 is the top of the image).
        grid_x, grid_y: cell centres of the prediction grid (1-D).
        grid_labels: predicted class per cell, shape (len(grid_y), len(grid_x)).
        region_colors: RGB fill colour of each class.
        lines: ``[(unit, (x_a, y_a), (x_b, y_b))]`` hyperplane segments drawn (empty if none).
    """

    path: str
    xlim: tuple
    ylim: tuple
    axes_box: tuple
    grid_x: np.ndarray
    grid_y: np.ndarray
    grid_labels: np.ndarray
    region_colors: tuple
    lines: list


#: Grid cells per axis at most: 2000 x 2000 predictions already take seconds; 10**5 would exhaust memory.
MAX_RESOLUTION = 2000


def _check_model(model):
    """``model`` if it is a chainrule Module that takes 2 inputs (the plane's coordinates)."""
    if not isinstance(model, Module):
        raise ArgumentError(f"model must be a chainrule Module taking 2 inputs (such as nn.MLP([2, 8, 2])), "
                            f"got {short_repr(model)}")
    width = getattr(input_layer(model), "in_features", None)
    if isinstance(width, numbers.Integral) and width != 2:
        raise ValueError(f"model takes {width} inputs, but decision regions are drawn over a plane: it must take 2")
    return model


def _check_points(X):
    """``X`` as an (n, 2) float64 array of finite coordinates with n >= 1."""
    try:
        X = np.asarray(X)
    except (TypeError, ValueError):  # ragged nested lists
        raise ValueError(f"X must be an (n, 2) array of numbers, got {short_repr(X)}") from None
    if X.dtype.kind not in "biufO":
        raise ArgumentError(f"X must hold real numbers (the points' coordinates), got dtype {X.dtype}")
    try:
        X = X.astype(np.float64)
    except (TypeError, ValueError):  # an object array holding strings, None, ...
        raise ArgumentError(f"X must hold real numbers (the points' coordinates), got {short_repr(X.tolist())}") from None
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D inputs: X must have shape (n, 2), got X of shape {X.shape}")
    if not len(X):
        raise ValueError("X has no rows; decision regions need at least one point")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise ValueError(f"X must hold finite coordinates, got {short_repr(X[bad[0]].tolist())} at row {int(bad[0])}")
    return X


def _check_labels(y, n, n_outputs):
    """``y`` as int64 class labels, one per row of X, each a class the model can predict."""
    try:
        y = np.asarray(y)
    except (TypeError, ValueError):  # ragged nested lists
        raise ValueError(f"y must be 1-D, one integer class label per row of X, got {short_repr(y)}") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, one integer class label per row of X, got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}; they must match")
    if y.dtype.kind == "O":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass  # refused just below, naming the dtype
    if y.dtype.kind not in "biuf":
        raise ArgumentError(f"y must hold integer class labels >= 0, got dtype {y.dtype}")
    i = first_non_whole(y)  # astype(int64) would turn 0.7 into 0 and nan into a huge negative
    if i is None and np.any(y < 0):
        i = int(np.argmax(y < 0))
    if i is not None:
        raise ValueError(f"y must hold integer class labels >= 0, got {short_repr(y[i].item())} at row {i}")
    n_classes = max(n_outputs, 2)  # one score splits into classes 0 and 1
    if np.any(y >= n_classes):
        i = int(np.argmax(y >= n_classes))
        said = f"{n_outputs} outputs, so it predicts classes 0 to {n_outputs - 1}" if n_outputs > 2 else \
            f"{'one output' if n_outputs == 1 else '2 outputs'}, so it predicts classes 0 and 1"
        raise ValueError(f"y holds class {short_repr(y[i].item())} at row {i}, but the model has {said}")
    return y.astype(np.int64)


def _check_names(class_names, y):
    """``class_names`` if it is None or a sequence naming every class in ``y``."""
    if class_names is None:
        return None
    if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Sequence | np.ndarray):
        raise ArgumentError(f"class_names must be a list of names, one per class, got {short_repr(class_names)}")
    if len(class_names) <= y.max():
        raise ValueError(f"class_names must name every class in y, but it has {len(class_names)} "
                         f"for labels up to {int(y.max())}")
    return [str(name) for name in class_names]


def _check_threshold(threshold, n_outputs):
    """``threshold`` as a float, or None; a multi-output model picks its largest score and takes none."""
    if threshold is None:
        return None
    threshold = check_real("threshold", threshold)
    if n_outputs > 1:
        raise ValueError(f"threshold applies to a model with one output, but this model has {n_outputs} "
                         "(each point gets the class of its largest score); leave threshold=None")
    return threshold


def _n_outputs(model, X):
    """How many scores the model gives per point (one forward pass on a single row)."""
    from ..train.loop import predict  # here, not at the top: train.main_job draws with viz (a real cycle)

    out = np.asarray(predict(model, X[:1]))
    return int(out.shape[1]) if out.ndim == 2 else 1


def _limits(X, margin, largest):
    """``(xlim, ylim)``: the data's range widened by ``margin``, within +-``largest`` (what the model's floats hold)."""
    margin = check("margin", margin, ">=0")
    lo, hi = X.min(axis=0), X.max(axis=0)
    # One point, or points on a vertical or horizontal line, would give a box of zero width: a unit span instead.
    flat = hi == lo
    lo, hi = np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)
    with np.errstate(over="ignore", invalid="ignore"):
        pad = (hi - lo) * margin + 1e-9
        box = np.array([lo - pad, hi + pad])
    if not np.abs(box).max() <= largest:  # also catches an overflow to inf
        raise ValueError(f"X must lie within +-{largest:.3g} (the range of the model's floats, margin={margin} "
                         f"included), got points from {short_repr(lo.tolist())} to {short_repr(hi.tolist())}")
    return (float(box[0, 0]), float(box[1, 0])), (float(box[0, 1]), float(box[1, 1]))


def _default_threshold(model):
    # A sigmoid output layer gives probabilities (boundary 0.5); otherwise a single output is a logit/margin.
    return 0.5 if getattr(model, "output_activation", None) is not None else 0.0


def _grid_labels(model, xlim, ylim, resolution, threshold):
    from ..train.loop import predict  # here, not at the top: train.main_job draws with viz (a real cycle)

    gx = np.linspace(*xlim, resolution + 1)
    gy = np.linspace(*ylim, resolution + 1)
    cx, cy = (gx[:-1] + gx[1:]) / 2, (gy[:-1] + gy[1:]) / 2  # predict at cell centres
    xx, yy = np.meshgrid(cx, cy)
    out = predict(model, np.column_stack([xx.ravel(), yy.ravel()]))
    if not np.isfinite(out).all():  # argmax or a cut of nan would paint class 0 everywhere
        raise ValueError("the model's outputs are nan or inf over the plotted area; has its training diverged?")
    t = _default_threshold(model) if threshold is None else threshold
    return cx, cy, to_labels(out, t).reshape(xx.shape)


def _check_inputs(model, X, y, class_names, threshold, margin):
    """The checked ``(X, y, class_names, threshold, xlim, ylim)`` of a region plot."""
    from ..train.setup import model_dtype  # here, not at the top: train.main_job draws with viz (a real cycle)

    model = _check_model(model)
    X = _check_points(X)
    xlim, ylim = _limits(X, margin, float(np.finfo(model_dtype(model)).max))
    n_outputs = _n_outputs(model, X)
    y = _check_labels(y, len(X), n_outputs)
    return X, y, _check_names(class_names, y), _check_threshold(threshold, n_outputs), xlim, ylim


def first_layer(model):
    """``(weight (h, 2), bias (h,))`` of the model's first layer, which must be Linear, as arrays."""
    if not isinstance(model, Module):
        raise ArgumentError(f"model must be a chainrule Module whose first layer is Linear, got {short_repr(model)}")
    module = input_layer(model)
    w = getattr(module, "weight", None)
    if w is None or getattr(module, "in_features", None) is None:
        what = "this model has no Linear layer" if module is None else f"its first layer is {type(module).__name__}"
        raise ValueError(f"hyperplanes are drawn for a model whose first layer is Linear, but {what}")
    before = _layer_before(model, module)
    if before is not None:  # the Linear's lines would be drawn in a space its inputs are not in
        raise ValueError(f"hyperplanes are drawn for a Linear layer that sees the raw inputs, but a "
                         f"{type(before).__name__} comes before the first Linear; draw the regions alone "
                         "(hyperplanes=False)")
    if w.shape[1] != 2:
        raise ValueError(f"hyperplanes are drawn for 2 inputs, but the first layer takes {w.shape[1]}")
    b = module.bias.data if module.bias is not None else np.zeros(w.shape[0])
    return np.asarray(w.data, np.float64), np.asarray(b, np.float64)


def _layer_before(model, first):
    """The first layer (in registration order) before ``first`` that changes its inputs, or None."""
    for m in model.modules():
        if m is first:
            return None
        if not any(True for _ in m.children()) and not isinstance(m, _PASS_THROUGH):
            return m
    return None


def _check_box(name, lim):
    """``lim`` as a ``(low, high)`` pair of finite floats with low < high."""
    try:
        low, high = (check_real(name, v) for v in lim)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a pair (low, high) of finite numbers, got {short_repr(lim)}") from None
    if not low < high:
        raise ValueError(f"{name} must be (low, high) with low < high, got {short_repr(lim)}")
    return low, high


def _check_units(weight, bias):
    """``(weight (h, 2), bias (h,))`` as finite float64 arrays, or an error naming the shape that is wrong."""
    try:
        weight, bias = np.asarray(weight, np.float64), np.asarray(bias, np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"weight and bias must be arrays of numbers, got {short_repr(weight)} and "
                            f"{short_repr(bias)}") from None
    if weight.ndim != 2 or weight.shape[1] != 2:
        raise ValueError(f"weight must have shape (units, 2), one row (w1, w2) per unit, got shape {weight.shape}")
    if bias.shape != (len(weight),):
        raise ValueError(f"bias must have shape ({len(weight)},), one value per row of weight, got shape {bias.shape}")
    finite = np.isfinite(weight).all(axis=1) & np.isfinite(bias)
    if not finite.all():  # a nan unit would silently draw no line
        j = int(np.argmin(finite))
        raise ValueError(f"unit {j} has weight {weight[j].tolist()} and bias {bias[j]}; they must be finite "
                         "(has training diverged?)")
    return weight, bias


def hyperplane_segments(weight, bias, xlim, ylim):
    """For each unit j, the part of the line ``w_j . x + b_j = 0`` inside the box, as ``(j, p, q)``.

    Args:
        weight: (units, 2) first-layer weights; bias: (units,).
        xlim, ylim: the box, each ``(low, high)`` with low < high.

    Example:
        >>> hyperplane_segments(np.array([[1.0, 0.0]]), np.array([-0.5]), (0, 1), (0, 1))
        [(0, (0.5, 0.0), (0.5, 1.0))]
    """
    weight, bias = _check_units(weight, bias)
    xlim, ylim = _check_box("xlim", xlim), _check_box("ylim", ylim)
    segments = []
    for j, ((a, c), b) in enumerate(zip(weight, bias)):
        points = []
        for x in xlim:  # crossings of the left and right edges
            if c != 0 and ylim[0] <= -(a * x + b) / c <= ylim[1]:
                points.append((float(x), float(-(a * x + b) / c)))
        for yv in ylim:  # crossings of the bottom and top edges
            if a != 0 and xlim[0] <= -(c * yv + b) / a <= xlim[1]:
                points.append((float(-(c * yv + b) / a), float(yv)))
        points = sorted(set(points))
        if len(points) >= 2:
            segments.append((j, points[0], points[-1]))
    return segments


def _axes_box(fig, ax):
    fig.canvas.draw()
    box = ax.get_window_extent()
    height = fig.get_figheight() * fig.dpi
    return (box.x0, height - box.y1, box.x1, height - box.y0)


def _draw_regions(ax, cx, cy, labels, xlim, ylim, n_classes):
    from matplotlib.colors import ListedColormap

    colors = tuple(light(CLASS_COLORS[k % len(CLASS_COLORS)]) for k in range(n_classes))
    ax.imshow(labels, origin="lower", extent=(*xlim, *ylim), aspect="auto", interpolation="nearest",
              cmap=ListedColormap(colors), vmin=-0.5, vmax=n_classes - 0.5)
    return colors


def _draw_points(ax, X, y, class_names):
    for k in np.unique(y):
        name = class_names[k] if class_names is not None else f"class {k}"
        ax.scatter(*X[y == k].T, s=14, color=CLASS_COLORS[k % len(CLASS_COLORS)], edgecolors="black",
                   linewidths=0.4, label=name, zorder=3)


def _draw_lines(ax, weight, bias, xlim, ylim):
    segments = hyperplane_segments(weight, bias, xlim, ylim)
    for j, p, q in segments:
        ax.plot([p[0], q[0]], [p[1], q[1]], color="black", linewidth=1.2, linestyle="--", zorder=4)
        # Labels near one end of each line: many lines cross near the middle of the data.
        ax.annotate(f"h{j + 1}", xy=(p[0] + 0.9 * (q[0] - p[0]), p[1] + 0.9 * (q[1] - p[1])), fontsize=8, zorder=5)
    return segments


def plot_decision_regions(model, X, y, path, resolution=200, margin=0.1, hyperplanes=False, class_names=None,
                          threshold=None, title=None):
    """Colour the plane by the model's predicted class and plot the data points on top, to a PNG file.

    Args:
        model: a chainrule Module taking 2 inputs (k > 1 class scores, or one score).
        X: (n, 2) finite points, n >= 1 (an axis on which all points agree gets a unit span).
        y: (n,) integer class labels >= 0 (whole-number floats are taken), each one the model can
            predict: below k for k outputs, 0 or 1 for one.
        path: the PNG file to write (ending in .png, or without a suffix).
        resolution: grid cells per axis, from 1 to ``MAX_RESOLUTION`` (2000).
        margin: extra room around the data, as a fraction of its range (>= 0).
        hyperplanes: True to also draw each first-layer unit's line (see :func:`plot_hyperplanes`).
        class_names: legend names, one per class (a list naming at least every class in y).
        threshold: score cut-off for single-output models (default 0.5 with a
            sigmoid output layer, else 0); a multi-output model takes none.
        title: figure title (a str).

    Returns:
        :class:`RegionPlot`.

    Raises:
        TypeError: an argument of the wrong type (a model that is not a Module, text in X, ...).
        ValueError: a bad value, such as a label the model cannot predict or nan in X; also when
            the model's outputs are not finite (a diverged model would paint one class everywhere).
    """
    path, title = check_path(path), check_title(title)
    resolution = check_int("resolution", resolution, 1, MAX_RESOLUTION)
    hyperplanes = check_bool("hyperplanes", hyperplanes)
    X, y, class_names, threshold, xlim, ylim = _check_inputs(model, X, y, class_names, threshold, margin)
    units = first_layer(model) if hyperplanes else None  # before the grid, so a bad model fails fast
    cx, cy, labels = _grid_labels(model, xlim, ylim, resolution, threshold)
    n_classes = int(max(labels.max(), y.max(), 1) + 1)
    fig = new_figure()
    ax = fig.add_subplot()
    colors = _draw_regions(ax, cx, cy, labels, xlim, ylim, n_classes)
    _draw_points(ax, X, y, class_names)
    lines = _draw_lines(ax, *units, xlim, ylim) if hyperplanes else []
    ax.set(xlim=xlim, ylim=ylim, xlabel="x1", ylabel="x2")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "decision regions" + (" and first-layer hyperplanes" if hyperplanes else ""))
    box = _axes_box(fig, ax)
    return RegionPlot(save_png(fig, path), xlim, ylim, box, cx, cy, labels, colors, lines)


def plot_hyperplanes(model, X, y, path, margin=0.1, regions=True, class_names=None, threshold=None, title=None):
    """Draw the line ``w_j . x + b_j = 0`` of every first-layer unit j over the data (and regions) to a PNG.

    Args:
        model: a chainrule Module whose first layer is Linear with 2 inputs.
        X, y, path, margin, class_names, threshold, title: as in :func:`plot_decision_regions`.
        regions: True to colour the model's decision regions underneath.

    Returns:
        :class:`RegionPlot` (``lines`` holds the segments drawn).

    Raises:
        TypeError, ValueError: as :func:`plot_decision_regions`.
    """
    if check_bool("regions", regions):
        return plot_decision_regions(model, X, y, path, margin=margin, hyperplanes=True, class_names=class_names,
                                     threshold=threshold, title=check_title(title) or "first-layer hyperplanes")
    path, title = check_path(path), check_title(title)
    X, y, class_names, threshold, xlim, ylim = _check_inputs(model, X, y, class_names, threshold, margin)
    weight, bias = first_layer(model)
    fig = new_figure()
    ax = fig.add_subplot()
    _draw_points(ax, X, y, class_names)
    lines = _draw_lines(ax, weight, bias, xlim, ylim)
    ax.set(xlim=xlim, ylim=ylim)
    ax.set_title(title or "first-layer hyperplanes")
    box = _axes_box(fig, ax)
    empty = np.zeros((0, 0), np.int64)
    return RegionPlot(save_png(fig, path), xlim, ylim, box, np.zeros(0), np.zeros(0), empty, (), lines)
