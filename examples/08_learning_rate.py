"""The effects of step size: a learning rate too low, a good one, and one too high, on one plot.

Slides:
* the Reil et al. ANN & backpropagation lecture, slide 42: "The effects of step size (or 'learning rate')";
  slide 39: a step along the negative gradient direction.
* the Toronto CSC 411 Neural Networks I lecture (Urtasun, Zemel, Fidler), slide 42: "Monitor loss during training ... to
  spot wrong hyperparameters": good vs bad parameter choices.
* Garreta's Deep Learning 2016 ANN & backpropagation lecture, Tips & Tricks: "Avoid large learning rates that make the
  model overshoot the minima".

The same digits network, from the same starting weights and with the same batches,
is trained with plain gradient descent at three learning rates. Too low: every
step is correct but tiny, and the loss barely moves. Too high: each step
overshoots the valley it aims for, and the loss jumps around far above where it
started. In between, the loss falls fast and steadily.

Run:  python examples/08_learning_rate.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn, optim
from chainrule.data import load_dataset
from chainrule.train import evaluate, fit

from _common import heading, plt, run_cli, save

RATES = {"too low": 0.001, "good": 0.3, "too high": 3.0}


def main(outdir, quick=False):
    ds = load_dataset("digits", dtype=np.float64)
    X = ds.X / 16.0
    epochs = 10 if quick else 30
    heading(f"64-32-10 tanh network on the digits, plain SGD, batches of 32, {epochs} epochs")
    results, curves = {}, {}
    for label, lr in RATES.items():
        model = nn.MLP([64, 32, 10], activation="tanh", seed=0, dtype=np.float64)
        start = evaluate(model, "cross_entropy", (X, ds.y))["loss"]   # the same for every rate
        history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=lr), (X, ds.y),
                      epochs=epochs, batch_size=32, metrics=["accuracy"], seed=0, verbose=0)
        loss = np.array([start, *history["loss"]])   # epoch 0: before any step
        curves[label] = loss
        print(f"  {label:8s} lr {lr:<6g} loss at start {loss[0]:6.3f} -> epoch {epochs} {loss[-1]:7.3f}, "
              f"accuracy {history['accuracy'][-1]:.3f}")
        results[label] = {"lr": lr, "loss": loss.tolist(), "accuracy": float(history["accuracy"][-1])}

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, loss in curves.items():
        ax.semilogy(np.arange(epochs + 1), loss, marker="o", ms=3, label=f"{label} (lr {RATES[label]:g})")
    ax.set(title="The effects of the learning rate", xlabel="epoch", ylabel="training loss (cross-entropy)")
    results["figures"] = [save(fig, outdir, "08_learning_rate.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
