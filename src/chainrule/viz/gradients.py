"""Gradient norm per layer: at the start of training and epoch by epoch (vanishing gradients, seen).

Example:
    >>> import os, tempfile
    >>> norms = {"hidden.0": [1e-4, 2e-4], "hidden.1": [1e-3, 2e-3], "output": [1e-1, 1e-1]}
    >>> path = plot_gradient_norms(norms, os.path.join(tempfile.mkdtemp(), "g.png"),
    ...                            initial={"hidden.0": 5e-5, "hidden.1": 8e-4, "output": 0.2})
    >>> open(path, "rb").read(8) == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._core import ArgumentError, check, short_repr
from ._figure import check_path, check_title, new_figure, save_png

__all__ = ["plot_gradient_norms"]


def _as_norms(norms, initial):
    """``(per-epoch dict, initial dict or None)`` from a GradientNorms callback or plain dicts, checked."""
    if hasattr(norms, "norms") and hasattr(norms, "initial"):
        per_epoch, initial = norms.norms, initial if initial is not None else (norms.initial or None)
    elif isinstance(norms, Mapping) and norms:
        per_epoch = norms
    else:
        raise (ValueError if isinstance(norms, Mapping) else ArgumentError)(
            f"norms must be a GradientNorms callback or a non-empty {{layer: [norm per epoch]}} dict, "
            f"got {short_repr(norms)}")
    per_epoch = _check_per_epoch(per_epoch)
    return per_epoch, None if initial is None else _check_initial(initial, per_epoch)


def _check_per_epoch(per_epoch):
    """``{layer: float array}``, every layer with one finite norm >= 0 per epoch."""
    out = {}
    for layer, values in per_epoch.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray) or np.ndim(values) != 1:
            raise ArgumentError(f"norms[{layer!r}] must be a list of gradient norms, one per epoch, "
                                f"got {short_repr(values)}")
        for i, value in enumerate(np.asarray(values).tolist()):
            check(f"norms[{layer!r}] at epoch {i + 1}", value, ">=0")  # nan: a diverged epoch, refused by name
        out[layer] = np.asarray(values, np.float64)
    lengths = {layer: len(v) for layer, v in out.items()}
    if not any(lengths.values()):
        raise ValueError("the gradient norms are empty; record at least one epoch first")
    if len(set(lengths.values())) > 1:  # which epochs a shorter list misses cannot be told, so no curve would be right
        short, long = min(lengths, key=lengths.get), max(lengths, key=lengths.get)
        raise ValueError(f"norms must hold one value per epoch for every layer, but {short!r} has {lengths[short]} "
                         f"and {long!r} has {lengths[long]}")
    return out


def _check_initial(initial, per_epoch):
    """``initial`` as ``{layer: float}`` naming exactly the layers of ``per_epoch``."""
    if not isinstance(initial, Mapping):
        raise ArgumentError(f"initial must be a {{layer: norm}} dict, got {short_repr(initial)}")
    extra = [k for k in initial if k not in per_epoch]
    missing = [k for k in per_epoch if k not in initial]
    if extra or missing:
        what = f"names {extra[0]!r}, which norms does not have" if extra else f"has no norm for {missing[0]!r}"
        raise ValueError(f"initial must give one norm for each layer of norms ({short_repr(', '.join(map(str, per_epoch)))}), "
                         f"but it {what}")
    return {k: float(check(f"initial[{k!r}]", initial[k], ">=0")) for k in per_epoch}


def plot_gradient_norms(norms, path, initial=None, title=None):
    """Two panels: the norm per layer (input -> output) at the start and after the last epoch; the norm per epoch.

    Args:
        norms: a :class:`~chainrule.callbacks.GradientNorms` after ``fit``, or ``{layer: [norm per epoch]}``
            with one finite norm >= 0 per epoch for every layer.
        path: the PNG file to write.
        initial: ``{layer: norm}`` at the initial weights, one for each layer of ``norms`` (default:
            the callback's ``initial``).
        title: figure title.

    Returns:
        ``path``.

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: empty norms, layers with different numbers of epochs, or a norm that is
            negative, nan or inf (a diverged epoch: plot the epochs before it).
    """
    path, title = check_path(path), check_title(title)
    per_epoch, initial = _as_norms(norms, initial)
    fig = new_figure(width=11.0, height=4.2)
    left, right = fig.subplots(1, 2)
    _per_layer(left, per_epoch, initial)
    _per_epoch(right, per_epoch)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)


def _per_layer(ax, per_epoch, initial):
    layers = list(per_epoch)
    pos = np.arange(len(layers))
    if initial:
        ax.semilogy(pos, [max(initial[k], 1e-30) for k in layers], "o-", label="at the initial weights")
    last = len(per_epoch[layers[0]])
    ax.semilogy(pos, [max(per_epoch[k][-1], 1e-30) for k in layers], "s-", label=f"epoch {last}")
    ax.set_xticks(pos)
    ax.set_xticklabels(layers, rotation=45, ha="right", fontsize=8)
    ax.set(xlabel="layer (input -> output)", ylabel="gradient norm", title="gradient norm per layer")
    ax.grid(alpha=0.3, which="both")
    ax.legend()


def _per_epoch(ax, per_epoch):
    from matplotlib import colormaps

    # Colour runs from the input (dark) to the output (light); at most 8 layers are named.
    layers = list(per_epoch)
    cmap, named = colormaps["viridis"], set(np.linspace(0, len(layers) - 1, min(8, len(layers))).round().astype(int))
    for i, k in enumerate(layers):
        ax.semilogy(np.arange(1, len(per_epoch[k]) + 1), np.maximum(per_epoch[k], 1e-30),
                    color=cmap(i / max(len(layers) - 1, 1) * 0.9), label=k if i in named else None)
    ax.set(xlabel="epoch", ylabel="mean gradient norm over the epoch", title="during training")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
