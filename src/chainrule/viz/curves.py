"""Learning curves: loss and metrics per epoch, training against validation.

Example:
    >>> import os, tempfile
    >>> from chainrule.train.history import History
    >>> h = History()
    >>> for e, (a, b) in enumerate([(1.0, 1.1), (0.6, 0.8), (0.4, 0.7)]):
    ...     h.append(e, {"loss": a, "accuracy": 1 - a / 2, "val_loss": b, "val_accuracy": 1 - b / 2})
    >>> path = plot_history(h, os.path.join(tempfile.mkdtemp(), "curves.png"))
    >>> open(path, "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_history", "curve_keys"]


def curve_keys(history):
    """The quantities worth a panel: ``loss`` first, then each scalar metric logged for training.

    Example:
        >>> from chainrule.train.history import History
        >>> h = History(); h.append(0, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "lr": 0.1, "time": 0.2})
        >>> curve_keys(h)
        ['loss', 'accuracy']
    """
    skip = {"lr", "time", "reg_loss"}
    keys = [k for k in history.keys() if not k.startswith("val_") and k not in skip]
    scalar = [k for k in keys if not isinstance(history[k][-1], np.ndarray)]
    return sorted(scalar, key=lambda k: k != "loss")


def _panel(ax, history, key):
    epochs = np.asarray(history.epochs) + 1
    ax.plot(epochs, history[key], label=f"train {key}", color="#1f77b4")
    if f"val_{key}" in history:
        ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}", color="#ff7f0e")
    if key == "loss" and "reg_loss" in history:
        ax.plot(epochs, history["reg_loss"], label="regularisation penalty", color="#7f7f7f", linestyle="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend()


def plot_history(history, path=None, keys=None, title=None):
    """Plot training vs validation curves of ``history`` (one panel per quantity), to a PNG file or a figure.

    Args:
        history: a :class:`~chainrule.train.history.History` (as returned by ``fit``).
        path: the PNG file to write (folders are created; an existing file is replaced); None returns
            the matplotlib Figure instead, which a notebook displays.
        keys: quantities to plot (default :func:`curve_keys`: the loss and scalar metrics).
        title: figure title.

    Returns:
        ``path``, or the Figure when ``path`` is None.
    """
    keys = list(keys) if keys is not None else curve_keys(history)
    if not len(history) or not keys:
        raise ValueError("the history is empty; there is nothing to plot")
    for key in keys:
        history[key]  # noqa: B018 - a KeyError naming the logged keys if absent
    fig = new_figure(width=5.0 * len(keys), height=4.0)
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        _panel(ax, history, key)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig if path is None else save_png(fig, path)
