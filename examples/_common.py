"""Helpers shared by the examples: the command line, saving figures, decision-boundary plots.

Every example is run as ``python examples/NN_name.py OUTDIR [--quick]`` and
exposes ``main(outdir, quick=False) -> dict``; :func:`run_cli` is the part of
that which is the same in every script.
"""

from __future__ import annotations

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")  # write PNG files; never open a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plt", "run_cli", "prepare", "save", "decision_boundary", "heading"]


def run_cli(main, doc):
    """Parse ``OUTDIR [--quick]`` and call ``main(outdir, quick)``; the script's docstring is the help."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="folder for the figures (created if missing)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast check")
    args = parser.parse_args()
    main(args.outdir, quick=args.quick)


def prepare(outdir):
    """The output folder as a Path, created if needed."""
    path = pathlib.Path(outdir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(fig, outdir, name):
    """Write ``fig`` to ``OUTDIR/name`` as PNG, close it, print and return the path.

    Every panel with labelled curves and no legend yet gets one.
    """
    for ax in fig.axes:
        if ax.get_legend() is None and ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    path = prepare(outdir) / name
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


def heading(text):
    """Print a section title, so a long run reads like the slides it follows."""
    print(f"\n=== {text} ===")


def decision_boundary(ax, predict, X, y, title="", resolution=200, margin=0.25, size=60):
    """Shade ``predict(points) -> scores in [0, 1]`` over the plane and scatter the labelled points.

    The 0.5 contour is drawn as the decision boundary.
    """
    X = np.asarray(X, dtype=np.float64)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-9)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution))
    scores = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()]), dtype=np.float64).reshape(gx.shape)
    ax.contourf(gx, gy, scores, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, scores, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y).ravel(), cmap="RdBu_r", edgecolors="k", s=size, vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
