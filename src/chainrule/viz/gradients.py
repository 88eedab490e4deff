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

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_gradient_norms"]


def _as_norms(norms, initial):
    """``(per-epoch dict, initial dict or None)`` from a GradientNorms callback or plain dicts."""
    if hasattr(norms, "norms") and hasattr(norms, "initial"):
        return norms.norms, initial if initial is not None else (norms.initial or None)
    if not isinstance(norms, dict) or not norms:
        raise ValueError(f"norms must be a GradientNorms callback or a non-empty {{layer: [norm per epoch]}} dict, "
                         f"got {norms!r}")
    return norms, initial


def plot_gradient_norms(norms, path, initial=None, title=None):
    """Two panels: the norm per layer (input -> output) at the start and after the last epoch; the norm per epoch.

    Args:
        norms: a :class:`~chainrule.callbacks.GradientNorms` after ``fit``, or ``{layer: [norm per epoch]}``.
        path: the PNG file to write.
        initial: ``{layer: norm}`` at the initial weights (default: the callback's ``initial``).
        title: figure title.

    Returns:
        ``path``.
    """
    per_epoch, initial = _as_norms(norms, initial)
    layers = list(per_epoch)
    if not all(len(v) for v in per_epoch.values()):
        raise ValueError("the gradient norms are empty; record at least one epoch first")
    fig = new_figure(width=11.0, height=4.2)
    left, right = fig.subplots(1, 2)
    pos = np.arange(len(layers))
    if initial:
        left.semilogy(pos, [max(initial.get(k, np.nan), 1e-30) for k in layers], "o-", label="at the initial weights")
    last = len(next(iter(per_epoch.values())))
    left.semilogy(pos, [max(per_epoch[k][-1], 1e-30) for k in layers], "s-", label=f"epoch {last}")
    left.set_xticks(pos)
    left.set_xticklabels(layers, rotation=45, ha="right", fontsize=8)
    left.set(xlabel="layer (input -> output)", ylabel="gradient norm", title="gradient norm per layer")
    left.grid(alpha=0.3, which="both")
    left.legend()
    # Colour runs from the input (dark) to the output (light); at most 8 layers are named.
    from matplotlib import colormaps

    cmap, named = colormaps["viridis"], set(np.linspace(0, len(layers) - 1, min(8, len(layers))).round().astype(int))
    for i, k in enumerate(layers):
        right.semilogy(np.arange(1, len(per_epoch[k]) + 1), np.maximum(per_epoch[k], 1e-30),
                       color=cmap(i / max(len(layers) - 1, 1) * 0.9), label=k if i in named else None)
    right.set(xlabel="epoch", ylabel="mean gradient norm over the epoch", title="during training")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
