"""Logistic regression is a single-layer sigmoid network: "4 vs non-4" on handwritten digits.

Slides:
* the Toronto CSC 411 Neural Networks I lecture (Urtasun, Zemel, Fidler), slide 18: "What is a single layer (no hiddens)
  network with a sigmoid act. function? ... Logistic regression!"
* the Toronto CSC 411 Neural Networks I lecture, slide 19: "Classify image of handwritten digit: 4 vs non-4".
* the Toronto CSC 411 Neural Networks I lecture, slide 37: for a binary problem the cross-entropy error often does
  better than the squared error, and its gradient with respect to the net input
  is simply o - t.

The digits are scikit-learn's 8x8 images (the slides use 32x32). One sigmoid unit
with 64 weights and a bias is trained by gradient descent on the cross-entropy.
Only about one image in ten is a 4, so "always say non-4" already scores about
90 % accuracy; precision and recall for the 4s tell whether the unit learned more.

Run:  python examples/05_logistic_digits_4.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn, optim
from chainrule.data import load_dataset, split
from chainrule.train import evaluate, fit

from _common import heading, plt, run_cli, save

METRICS = ["accuracy", "precision", "recall"]


def main(outdir, quick=False):
    ds = load_dataset("digits", dtype=np.float64)
    X = ds.X / 16.0                        # pixels 0..16 -> 0..1: small inputs suit a sigmoid unit
    t = (ds.y == 4).astype(np.float64)     # target 1 for a 4, 0 otherwise
    parts = split(X, t, test=0.3, stratify=True, seed=0)
    (X_train, t_train), (X_test, t_test) = parts.train, parts.test

    heading("One sigmoid unit, 64 weights + bias: o = sigmoid(w . x + b) (CSC 411 lecture, slide 18)")
    model = nn.MLP([64, 1], output_activation="sigmoid", seed=0, dtype=np.float64)
    epochs = 10 if quick else 40
    history = fit(model, "bce", optim.SGD(model.parameters(), lr=0.5), (X_train, t_train), val=(X_test, t_test),
                  epochs=epochs, batch_size=32, metrics=METRICS, seed=0, verbose=0)
    test = evaluate(model, "bce", (X_test, t_test), metrics=METRICS)
    baseline = 1.0 - t_test.mean()
    print(f"trained {epochs} epochs; test images: {len(t_test)}, of which {int(t_test.sum())} are 4s")
    print(f"  always 'non-4' would score        {baseline:.3f}")
    print(f"  test accuracy                     {test['accuracy']:.3f}")
    print(f"  precision for 4 (said 4, was 4)   {_class1(test['precision']):.3f}")
    print(f"  recall for 4 (was 4, said 4)      {_class1(test['recall']):.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs_axis = np.arange(1, len(history["loss"]) + 1)
    axes[0].plot(epochs_axis, history["loss"], label="training")
    axes[0].plot(epochs_axis, history["val_loss"], label="test")
    axes[0].set(title="Cross-entropy per epoch", xlabel="epoch", ylabel="loss")
    # The 64 weights are a template: positive where a 4 has ink, negative where other digits do.
    w = model.output.weight.data.reshape(8, 8)
    lim = np.abs(w).max()
    image = axes[1].imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[1].set(title="The unit's weights as an 8x8 image", xticks=[], yticks=[])
    fig.colorbar(image, ax=axes[1])
    return {
        "test_accuracy": float(test["accuracy"]), "baseline_accuracy": float(baseline),
        "precision_4": _class1(test["precision"]), "recall_4": _class1(test["recall"]),
        "figures": [save(fig, outdir, "05_logistic_4_vs_non4.png")],
    }


def _class1(per_class):
    """Per-class metrics come as one value per class; class 1 is "is a 4"."""
    return float(np.atleast_1d(per_class)[-1])


if __name__ == "__main__":
    run_cli(main, __doc__)
