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

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .._core import ArgumentError, UnknownNameError, short_repr
from ._figure import check_path, check_title, new_figure, save_png

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


def _as_history(history):
    """``history`` as a History: one already, its ``to_dict()`` form, or a ``{key: [value per epoch]}`` mapping."""
    from ..train.history import History  # here, not at the top: train.main_job draws with viz (a real cycle)

    if isinstance(history, History):
        return history
    if not isinstance(history, Mapping):
        raise ArgumentError(f"history must be a History (as fit returns it) or a {{key: [value per epoch]}} dict, "
                            f"got {short_repr(history)}")
    if "epochs" in history and "logs" in history:  # History.to_dict(), as read back from history.json
        return History.from_dict(history)
    lengths = {}
    for key, values in history.items():
        if not isinstance(key, str) or isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
            raise ArgumentError(f"history must map each key (a str) to a list of values per epoch, "
                                f"got {short_repr(key)}: {short_repr(values)}")
        lengths[key] = len(values)
    if len(set(lengths.values())) > 1:  # which epoch a shorter list misses cannot be told
        short, long = min(lengths, key=lengths.get), max(lengths, key=lengths.get)
        raise ValueError(f"history must hold one value per epoch for every key, but {short!r} has {lengths[short]} "
                         f"and {long!r} has {lengths[long]}")
    return History.from_dict({"epochs": list(range(max(lengths.values(), default=0))),
                              "logs": {k: list(v) for k, v in history.items()}})


def _check_keys(history, keys):
    """The keys to plot, each a logged quantity with one number per epoch; a single str is one key."""
    if keys is None:
        keys = curve_keys(history)
        if not keys:
            raise ValueError(f"the history logs no loss or metric to plot (it logged: {', '.join(history.keys())})")
        return keys
    if isinstance(keys, str):
        keys = [keys]
    elif not isinstance(keys, Sequence | np.ndarray) or not all(isinstance(k, str) for k in keys):
        raise ArgumentError(f"keys must be a key or a list of keys such as ['loss', 'accuracy'], got {short_repr(keys)}")
    if not len(keys):
        raise ValueError("keys is empty; name at least one quantity to plot, such as ['loss']")
    for key in keys:
        if key not in history:  # a KeyError as History's lookups raise, and a ValueError as a bad argument
            raise UnknownNameError(f"history has no {short_repr(key)} (asked for in keys); "
                                   f"it logged: {', '.join(history.keys())}")
        if any(np.ndim(v) for v in history[key]):
            raise ValueError(f"keys lists {key!r}, which is logged per class (an array each epoch); "
                             "plot_history draws one number per epoch")
    return list(keys)


def _series(history, key):
    """``history[key]`` as floats, nan where a value is nan or inf (a gap in the line); warns when nothing is left."""
    try:
        values = np.asarray(history[key], np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"history[{key!r}] must hold one number per epoch, got {short_repr(history[key])}") from None
    values = np.where(np.isfinite(values), values, np.nan)
    if np.isnan(values).all():
        # Said aloud: an empty line looks like a plotting fault, not like a run that diverged.
        warnings.warn(f"{key} is nan or inf at every epoch, so its curve is empty (did training diverge?)",
                      UserWarning, stacklevel=4)
    return values


def _panel(ax, history, key):
    epochs = np.asarray(history.epochs) + 1
    base = key[4:] if key.startswith("val_") else key
    lines = [(key, f"{'validation' if base != key else 'train'} {base}", "#1f77b4", "-")]
    if base == key and f"val_{key}" in history:
        lines.append((f"val_{key}", f"validation {key}", "#ff7f0e", "-"))
    if key == "loss" and "reg_loss" in history:
        lines.append(("reg_loss", "regularisation penalty", "#7f7f7f", "--"))
    drawn = 0
    for name, label, color, style in lines:
        values = _series(history, name)
        drawn += int(not np.isnan(values).all())
        ax.plot(epochs, values, label=label, color=color, linestyle=style)
    if not drawn:
        ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center", va="center", color="#d62728")
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend()


def plot_history(history, path=None, keys=None, title=None):
    """Plot training vs validation curves of ``history`` (one panel per quantity), to a PNG file or a figure.

    Values that are nan or inf (a diverged epoch) leave gaps in their line. A curve with no finite
    value at all is drawn empty with a ``UserWarning`` naming it, and a panel with nothing to show
    says "no finite values": the other panels of a diverged run stay worth seeing.

    Args:
        history: a :class:`~chainrule.train.history.History` (as returned by ``fit``), its
            ``to_dict()`` form, or a ``{key: [value per epoch]}`` dict whose lists have one length.
        path: the PNG file to write (folders are created; an existing file is replaced); None returns
            the matplotlib Figure instead, which a notebook displays.
        keys: quantities to plot: one key (a str) or a list of them (default :func:`curve_keys`: the
            loss and scalar metrics).
        title: figure title.

    Returns:
        ``path``, or the Figure when ``path`` is None.

    Raises:
        TypeError: history, keys, path or title of the wrong type.
        ValueError: an empty history; a key the history does not log (also a KeyError) or logs per class.
    """
    path = None if path is None else check_path(path)
    title = check_title(title)
    history = _as_history(history)
    if not len(history):
        raise ValueError("the history is empty; there is nothing to plot")
    keys = _check_keys(history, keys)
    fig = new_figure(width=5.0 * len(keys), height=4.0)
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        _panel(ax, history, key)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig if path is None else save_png(fig, path)
