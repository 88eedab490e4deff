"""Figures drawn on matplotlib's Agg canvas and written to PNG, without pyplot.

Using ``Figure`` and ``FigureCanvasAgg`` directly never touches pyplot's
global state or the user's chosen backend, works without a display, and
frees the figure as soon as it goes out of scope.
"""

from __future__ import annotations

import os

from .._core import ArgumentError, as_path, short_repr

__all__ = ["require_matplotlib", "new_figure", "save_png", "check_path", "check_title", "CLASS_COLORS", "light"]

# Saturated colours for points and lines, one per class (colour-blind friendly order).
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf")


def require_matplotlib():
    """Import matplotlib's Figure and Agg canvas, or raise an ImportError saying how to install it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib; install it with `pip install chainrule[plot]` "
                          "(or `pip install matplotlib`)") from None
    return Figure, FigureCanvasAgg


def new_figure(width=6.0, height=4.5, dpi=100):
    """A Figure attached to an Agg canvas."""
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def check_path(path, name="path"):
    """``path`` as a str naming a PNG file, checked before any drawing so a typo costs no plotting time.

    A non-path raises a TypeError; an empty name, a folder or another file type's suffix a ValueError.

    Example:
        >>> check_path(3)
        Traceback (most recent call last):
        ...
        chainrule._core.ArgumentError: path must be a file name (str or os.PathLike), got 3
    """
    text = as_path(name, path)
    if not text or text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise ValueError(f"{name} must name a PNG file, got {short_repr(text)}, which is a folder; "
                         "add a file name such as 'plot.png'")
    suffix = os.path.splitext(text)[1]
    if suffix and suffix.lower() != ".png":  # the bytes written are PNG whatever the name says
        raise ValueError(f"{name} must end in .png (the plots are written as PNG), got {short_repr(text)}")
    return text


def check_title(title):
    """``title`` if it is None or a str (a number or list would be drawn as its repr)."""
    if title is not None and not isinstance(title, str):
        raise ArgumentError(f"title must be a str or None, got {short_repr(title)}")
    return title


def save_png(fig, path, overwrite=True):
    """Write ``fig`` to ``path`` as PNG at the figure's own dpi (so pixel positions are predictable)."""
    path = check_path(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, format="png", dpi=fig.dpi)
    return path


def light(color, amount=0.6):
    """``color`` blended towards white by ``amount`` (an RGB tuple), for filled regions under the points."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)
