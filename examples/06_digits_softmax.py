"""Ten digits at once: a hidden layer, 10 softmax outputs, cross-entropy, and train/validation curves.

Slides:
* the Toronto CSC 411 Neural Networks I lecture (Urtasun, Zemel, Fidler), slide 38: "For multi-class classification
  problems, use cross-entropy as loss and the softmax activation function".
* the Toronto CSC 411 Neural Networks I lecture, slide 39: "10 output units, 1 per digit. Use the softmax function ...
  z_k = w_k0 + sum_j h_j(x) w_kj. What is J?" (J, the number of hidden units, is 32 here).
* the Toronto CSC 411 Neural Networks I lecture, slides 42-43: "Monitor loss during training" and "Monitor accuracy on
  train/validation during training".
* the Reil et al. ANN & backpropagation lecture, slide 95: multiple outputs, "highest value wins!".

The network outputs ten scores (logits); the loss applies the softmax and the
cross-entropy in one numerically stable step, and the predicted digit is the
arg-max of the scores.

Run:  python examples/06_digits_softmax.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn, optim
from chainrule.data import load_dataset, split
from chainrule.metrics import confusion_matrix
from chainrule.train import evaluate, fit, predict
from chainrule.viz import plot_history

from _common import heading, plt, prepare, run_cli, save

HIDDEN = 32


def main(outdir, quick=False):
    ds = load_dataset("digits", dtype=np.float64)
    parts = split(ds.X / 16.0, ds.y, fractions=(0.6, 0.2, 0.2), stratify=True, seed=0)
    model = nn.MLP([64, HIDDEN, 10], activation="sigmoid", seed=0, dtype=np.float64)
    epochs = 8 if quick else 40

    heading(f"64 pixels -> {HIDDEN} sigmoid hidden units -> 10 softmax outputs, {epochs} epochs")
    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.5, momentum=0.9), parts.train,
                  val=parts.val, epochs=epochs, batch_size=32, metrics=["accuracy"], seed=0, verbose=0)
    for e in sorted({0, len(history["loss"]) // 2, len(history["loss"]) - 1}):
        print(f"  epoch {e + 1:3d}: train loss {history['loss'][e]:.3f} acc {history['accuracy'][e]:.3f} | "
              f"validation loss {history['val_loss'][e]:.3f} acc {history['val_accuracy'][e]:.3f}")
    test = evaluate(model, "cross_entropy", parts.test, metrics=["accuracy"])
    print(f"test accuracy {test['accuracy']:.3f} on {len(parts.test[1])} images never used in training")

    # Highest score wins: the confusion matrix shows which digits are mistaken for which.
    cm = confusion_matrix(parts.test[1], predict(model, parts.test[0]))
    off = cm - np.diag(np.diag(cm))
    true, said = np.unravel_index(np.argmax(off), off.shape)
    print(f"most frequent confusion: true digit {true} predicted as {said} ({off[true, said]} times)")

    # Training against validation, one panel per quantity, drawn by the library.
    curves = plot_history(history, prepare(outdir) / "06_digits_history.png", keys=["loss", "accuracy"],
                          title="Digits: training vs validation")
    print(f"wrote {curves}")

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(cm, cmap="Blues")
    for (i, j), n in np.ndenumerate(cm):
        ax.text(j, i, str(n), ha="center", va="center", fontsize=7, color="white" if n > cm.max() / 2 else "black")
    ax.set(title="Test confusion matrix", xlabel="predicted digit", ylabel="true digit",
           xticks=range(10), yticks=range(10))
    return {
        "train_accuracy": float(history["accuracy"][-1]), "val_accuracy": float(history["val_accuracy"][-1]),
        "test_accuracy": float(test["accuracy"]), "history": {k: list(history[k]) for k in ("loss", "val_loss")},
        "figures": [curves, save(fig, outdir, "06_confusion_matrix.png")],
    }


if __name__ == "__main__":
    run_cli(main, __doc__)
