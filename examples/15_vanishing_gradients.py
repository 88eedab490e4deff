"""Vanishing gradients: sigmoid nets of depth 2, 4, 8 and 16 on digits, their gradient norm per layer, and ReLU + He init.

Slides:
* seed 000 (Reil et al.), slide 101: "These types of MLPs are usually <= 3 layers
  - Vanishing gradients - Too many params".
* seed 000, slides 64-68 (backprop through a circuit: the "local gradient" times
  the gradient from above at every gate) and 001, slides 23-24 (the error signal
  delta passed back layer by layer).

Backpropagation multiplies the error signal, layer after layer, by the weights
and by the activation's slope. A sigmoid's slope is at most 1/4, so with Xavier
weights each sigmoid layer shrinks the signal several-fold: the gradient that
reaches the first layer of a 16-layer sigmoid net is orders of magnitude smaller
than at the output, and plain gradient descent barely moves those layers. A ReLU
passes the signal with slope 1 where it is active, and He initialisation
(variance 2 / fan-in) keeps its size from layer to layer.
``callbacks.GradientNorms`` records the gradient norm of every layer during
``fit``; ``viz.plot_gradient_norms`` draws it.

Run:  python examples/15_vanishing_gradients.py OUTDIR [--quick]
"""

import numpy as np

import chainrule as cr
from chainrule import nn, viz
from chainrule.callbacks import GradientNorms
from chainrule.data import load_dataset, split_dataset

from _common import heading, plt, prepare, run_cli, save

DEPTHS = (2, 4, 8, 16)          # hidden layers
WIDTH = 32
LR = 0.1
KINDS = {"sigmoid, Xavier init": ("sigmoid", "xavier_uniform"), "ReLU, He init": ("relu", "he_normal")}


def train(depth, activation, init, train_set, val_set, epochs, seed=0):
    net = nn.MLP([64] + [WIDTH] * depth + [10], activation=activation, init=init, seed=seed)
    norms = GradientNorms(weights_only=True)
    history = cr.fit(net, "cross_entropy", ("sgd", LR), train_set, val=val_set, epochs=epochs, batch_size=32,
                     metrics=["accuracy"], callbacks=[norms], seed=seed, verbose=0)
    return norms, history


def main(outdir, quick=False):
    ds = load_dataset("digits")
    ds = type(ds)(ds.X / 16.0, ds.y, ds.task, ds.name)
    parts = split_dataset(ds, test=0.0, val=0.25, stratify=True, seed=0)
    epochs = 4 if quick else 30
    runs = {}
    for kind, (activation, init) in KINDS.items():
        heading(f"{kind}: {epochs} epochs of SGD (lr {LR}) on digits")
        for depth in DEPTHS:
            norms, history = train(depth, activation, init, parts.train, parts.val, epochs)
            first, last = norms.initial["hidden.0"], norms.initial["output"]
            runs[kind, depth] = (norms, history)
            print(f"  {depth:2d} hidden layers: gradient norm first layer / output layer at init "
                  f"{first / last:.1e}; validation accuracy {history['val_accuracy'][-1]:.3f}")
    results = {
        "init_ratio": {f"{kind} {depth}": runs[kind, depth][0].initial["hidden.0"] / runs[kind, depth][0].initial["output"]
                       for kind in KINDS for depth in DEPTHS},
        "val_accuracy": {f"{kind} {depth}": runs[kind, depth][1]["val_accuracy"][-1] for kind in KINDS for depth in DEPTHS},
    }
    figures = [_per_layer_figure(outdir, runs), _accuracy_figure(outdir, runs, epochs)]
    for kind in KINDS:
        name = "15_gradient_norms_16_layers_" + ("sigmoid" if "sigmoid" in kind else "relu") + ".png"
        figures.append(viz.plot_gradient_norms(runs[kind, 16][0], prepare(outdir) / name,
                                               title=f"{kind}, 16 hidden layers: gradient norm per layer"))
    results["figures"] = figures
    return results


def _per_layer_figure(outdir, runs):
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    for ax, kind in zip(axes, KINDS):
        for depth in DEPTHS:
            initial = runs[kind, depth][0].initial
            ax.semilogy(range(1, len(initial) + 1), list(initial.values()), "o-", ms=3,
                        label=f"{depth} hidden layers")
        ax.set(title=f"{kind}: gradient norm per layer at the initial weights",
               xlabel="layer (1 = first hidden layer, last = output)", ylabel="norm of dLoss/dW")
        ax.grid(alpha=0.3, which="both")
    return save(fig, outdir, "15_gradient_norm_per_layer.png")


def _accuracy_figure(outdir, runs, epochs):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (kind, depth), (_, history) in runs.items():
        style = "-" if "sigmoid" in kind else "--"      # one colour per depth, one line style per kind
        ax.plot(np.arange(1, epochs + 1), history["val_accuracy"], style, color=f"C{DEPTHS.index(depth)}",
                label=f"{kind}, {depth} hidden layers")
    ax.set(title="validation accuracy (solid: sigmoid, dashed: ReLU + He)", xlabel="epoch", ylabel="accuracy",
           ylim=(0, 1))
    ax.legend(fontsize=7, ncol=2)
    return save(fig, outdir, "15_accuracy_by_depth.png")


if __name__ == "__main__":
    run_cli(main, __doc__)
