"""Batch, mini-batch and stochastic gradient descent: how often to update. All three converge.

Slides:
* the Toronto CSC 411 Neural Networks I lecture (Urtasun, Zemel, Fidler), slide 40: "How often to update: after a full
  sweep through the training data (batch gradient descent); after each training
  case (stochastic gradient descent); after a mini-batch of training cases".
* the Reil et al. ANN & backpropagation lecture, slides 40-41: "Mini-batch gradient descent: only use a
  small portion of the training set to compute the gradient ... most common approach".
* Garreta's Deep Learning 2016 ANN & backpropagation lecture, "Stochastic gradient descent (SGD)" and Tips & Tricks: "use
  stochastic gradient descent instead of standard gradient descent".

One small network, one start, three batch sizes. A full batch gives the exact
gradient but one update per pass over the data; single examples give a noisy
gradient but as many updates as there are examples. The larger the batch, the less
noisy its gradient and the larger the step it can take, so each scheme gets a
learning rate that suits it. The loss plotted is on all training data after each
epoch, the same yardstick for the three.

Run:  python examples/09_batch_sizes.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn, optim
from chainrule.data import StandardScaler, load_dataset
from chainrule.train import evaluate, fit

from _common import heading, plt, run_cli, save


def schemes(n):
    """name -> (batch size, learning rate)."""
    return {"batch": (n, 1.0), "mini-batch (16)": (16, 0.3), "stochastic (1)": (1, 0.03)}


def main(outdir, quick=False):
    n, epochs = (200, 30) if quick else (200, 60)
    ds = load_dataset("xor-playground", n=n, noise=0.1, seed=0, dtype=np.float64)
    X, y = StandardScaler().fit_transform(ds.X), ds.y
    heading(f"2-8-2 tanh network on the Playground XOR data ({n} points), {epochs} epochs each")
    results, curves = {}, {}
    for name, (batch_size, lr) in schemes(n).items():
        model = nn.MLP([2, 8, 2], activation="tanh", seed=0, dtype=np.float64)
        start = evaluate(model, "cross_entropy", (X, y))["loss"]
        # val = the training data itself: its loss is measured after each epoch on every row.
        history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=lr), (X, y), val=(X, y),
                      epochs=epochs, batch_size=batch_size, metrics=["accuracy"], seed=0, verbose=0)
        loss = np.array([start, *history["val_loss"]])
        updates = np.arange(epochs + 1) * int(np.ceil(n / batch_size))
        curves[name] = (loss, updates)
        print(f"  {name:16s} lr {lr:<5g} {updates[-1]:6d} updates: loss {loss[0]:.3f} -> {loss[-1]:.3f}, "
              f"accuracy {history['val_accuracy'][-1]:.3f}")
        results[name] = {"batch_size": batch_size, "lr": lr, "loss": loss.tolist(), "updates": int(updates[-1]),
                         "accuracy": float(history["val_accuracy"][-1])}

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, (loss, updates) in curves.items():
        axes[0].semilogy(np.arange(epochs + 1), loss, label=name)
        axes[1].loglog(updates[1:], loss[1:], label=name)  # from the end of epoch 1 on (log axis)
    axes[0].set(title="Loss per pass over the data", xlabel="epoch", ylabel="training loss (all rows)")
    axes[1].set(title="Loss per weight update", xlabel="updates", ylabel="training loss (all rows)")
    results["figures"] = [save(fig, outdir, "09_batch_sizes.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
