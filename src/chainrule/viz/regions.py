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

from typing import NamedTuple

import numpy as np

from ..metrics import to_labels
from ._figure import CLASS_COLORS, light, new_figure, save_png

__all__ = ["plot_decision_regions", "plot_hyperplanes", "RegionPlot", "first_layer", "hyperplane_segments"]


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


def _check_2d(X, y):
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D inputs, got X of shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    return X, y.astype(np.int64)


def _limits(X, margin):
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-9
    return (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])


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
    t = _default_threshold(model) if threshold is None else threshold
    return cx, cy, to_labels(out, t).reshape(xx.shape)


def first_layer(model):
    """``(weight (h, 2), bias (h,))`` of the first Linear layer of ``model``, as arrays."""
    for module in model.modules():
        w = getattr(module, "weight", None)
        if w is not None and getattr(module, "in_features", None) is not None:
            if w.shape[1] != 2:
                raise ValueError(f"hyperplanes are drawn for 2 inputs, but the first layer takes {w.shape[1]}")
            b = module.bias.data if module.bias is not None else np.zeros(w.shape[0])
            return np.asarray(w.data, np.float64), np.asarray(b, np.float64)
    raise ValueError("the model has no Linear layer whose hyperplanes could be drawn")


def hyperplane_segments(weight, bias, xlim, ylim):
    """For each unit j, the part of the line ``w_j . x + b_j = 0`` inside the box, as ``(j, p, q)``.

    Example:
        >>> hyperplane_segments(np.array([[1.0, 0.0]]), np.array([-0.5]), (0, 1), (0, 1))
        [(0, (0.5, 0.0), (0.5, 1.0))]
    """
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
        name = class_names[k] if class_names is not None and k < len(class_names) else f"class {k}"
        ax.scatter(*X[y == k].T, s=14, color=CLASS_COLORS[k % len(CLASS_COLORS)], edgecolors="black",
                   linewidths=0.4, label=name, zorder=3)


def _draw_lines(ax, model, xlim, ylim):
    weight, bias = first_layer(model)
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
        model: a classifier taking 2 inputs (k > 1 class scores, or one score).
        X: (n, 2) points; y: (n,) integer labels.
        path: the PNG file to write.
        resolution: grid cells per axis.
        margin: extra room around the data, as a fraction of its range.
        hyperplanes: also draw each first-layer unit's line (see :func:`plot_hyperplanes`).
        class_names: legend names per label.
        threshold: score cut-off for single-output models (default 0.5 with a
            sigmoid output layer, else 0).

    Returns:
        :class:`RegionPlot`.
    """
    X, y = _check_2d(X, y)
    xlim, ylim = _limits(X, margin)
    cx, cy, labels = _grid_labels(model, xlim, ylim, int(resolution), threshold)
    n_classes = int(max(labels.max(), y.max(), 1) + 1)
    fig = new_figure()
    ax = fig.add_subplot()
    colors = _draw_regions(ax, cx, cy, labels, xlim, ylim, n_classes)
    _draw_points(ax, X, y, class_names)
    lines = _draw_lines(ax, model, xlim, ylim) if hyperplanes else []
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "decision regions" + (" and first-layer hyperplanes" if hyperplanes else ""))
    box = _axes_box(fig, ax)
    return RegionPlot(save_png(fig, path), xlim, ylim, box, cx, cy, labels, colors, lines)


def plot_hyperplanes(model, X, y, path, margin=0.1, regions=True, class_names=None, threshold=None, title=None):
    """Draw the line ``w_j . x + b_j = 0`` of every first-layer unit j over the data (and regions) to a PNG.

    Args:
        model: a network whose first Linear layer takes 2 inputs.
        X, y, path, margin, class_names, threshold: as in :func:`plot_decision_regions`.
        regions: colour the model's decision regions underneath.

    Returns:
        :class:`RegionPlot` (``lines`` holds the segments drawn).
    """
    if regions:
        return plot_decision_regions(model, X, y, path, margin=margin, hyperplanes=True, class_names=class_names,
                                     threshold=threshold, title=title or "first-layer hyperplanes")
    X, y = _check_2d(X, y)
    xlim, ylim = _limits(X, margin)
    fig = new_figure()
    ax = fig.add_subplot()
    _draw_points(ax, X, y, class_names)
    lines = _draw_lines(ax, model, xlim, ylim)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_title(title or "first-layer hyperplanes")
    box = _axes_box(fig, ax)
    empty = np.zeros((0, 0), np.int64)
    return RegionPlot(save_png(fig, path), xlim, ylim, box, np.zeros(0), np.zeros(0), empty, (), lines)
