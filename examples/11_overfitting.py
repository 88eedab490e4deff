"""In-sample versus out-of-sample error, and why a validation set decides when to stop.

Slides:
* the Reil et al. ANN & backpropagation lecture, slides 3-4: the pigeons trained on paintings by two
  artists: "in-sample error of 5 %", "out of sample error of 15 %" on new paintings -
  they learned the style, not the pictures.
* the Reil et al. ANN & backpropagation lecture, slide 93: more hidden units mean more capacity and an "MLP prone to
  overfitting".
* Garreta's Deep Learning 2016 ANN & backpropagation lecture, Tips & Tricks, "Termination criterion: iterating the training
  until training error falls below a certain threshold is not a good idea:
  overfitting. Use a separate validation set."

The task is the digits with only 150 training images, so that the networks can
memorise them. Part 1 varies the number of hidden units: the training (in-sample)
error drops to zero, the test (out-of-sample) error stays well above it. Part 2
follows one large network epoch by epoch: the training loss keeps falling while the
validation loss turns back up. Early stopping on the validation loss keeps the
weights of its best epoch; the test set, never looked at during training, judges
both choices.

Run:  python examples/11_overfitting.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn
from chainrule.callbacks import EarlyStopping
from chainrule.data import load_dataset, split
from chainrule.train import evaluate, fit

from _common import heading, plt, run_cli, save

N_TRAIN, N_VAL = 150, 300


def train(hidden, parts, epochs, callbacks=None):
    model = nn.MLP([64, hidden, 10], activation="tanh", seed=0, dtype=np.float64)
    history = fit(model, "cross_entropy", ("adam", 0.01), parts.train, val=parts.val, epochs=epochs,
                  batch_size=32, metrics=["accuracy"], callbacks=callbacks, seed=0, verbose=0)
    return model, history


def error(model, data):
    """Fraction misclassified, and the mean cross-entropy."""
    scores = evaluate(model, "cross_entropy", data, metrics=["accuracy"])
    return 1.0 - scores["accuracy"], scores["loss"]


def main(outdir, quick=False):
    ds = load_dataset("digits", dtype=np.float64)
    X = ds.X / 16.0
    parts = split(X, ds.y, val=N_VAL, test=len(X) - N_TRAIN - N_VAL, stratify=True, seed=0)
    sizes = [1, 2, 4, 16, 64] if quick else [1, 2, 4, 8, 16, 32, 64, 128]
    epochs = 100 if quick else 200
    results = {"hidden": sizes, "train_error": [], "test_error": []}

    heading(f"Part 1: {N_TRAIN} training images, {len(parts.test[1])} test images, {epochs} epochs each")
    print("  hidden units   training error   test error")
    for h in sizes:
        model, _ = train(h, parts, epochs)
        tr, te = error(model, parts.train)[0], error(model, parts.test)[0]
        results["train_error"].append(tr)
        results["test_error"].append(te)
        print(f"  {h:12d}   {tr:14.1%}   {te:10.1%}")
    print("  like the pigeons: the in-sample error says little about the out-of-sample error")

    big = sizes[-1]
    heading(f"Part 2: {big} hidden units, epoch by epoch")
    model, history = train(big, parts, epochs)
    best = int(np.argmin(history["val_loss"]))
    final_err, final_loss = error(model, parts.test)
    print(f"  training loss {history['loss'][0]:.3f} -> {history['loss'][-1]:.5f} (keeps falling)")
    print(f"  validation loss lowest at epoch {best + 1}: {history['val_loss'][best]:.3f}, "
          f"at epoch {epochs}: {history['val_loss'][-1]:.3f}")
    # Same run, stopped by the validation set: it halts after `patience` epochs without
    # improvement and restores the best weights.
    stopped, stopped_history = train(big, parts, epochs, callbacks=[EarlyStopping("val_loss", patience=10)])
    stop_err, stop_loss = error(stopped, parts.test)
    kept = stopped_history.restored_epoch
    kept = len(stopped_history) if kept is None else kept + 1
    print(f"  {stopped_history.stop_reason}")
    print(f"  test after all {epochs} epochs:              error {final_err:.1%}, loss {final_loss:.3f}")
    print(f"  test with the weights of epoch {kept} (early stop): error {stop_err:.1%}, loss {stop_loss:.3f}, "
          f"after {len(stopped_history)} epochs of training")
    results.update(best_val_epoch=best + 1, epochs=epochs, val_loss=list(history["val_loss"]),
                   train_loss=list(history["loss"]), final_test_loss=final_loss, final_test_error=final_err,
                   early_stopped_epochs=len(stopped_history), early_kept_epoch=kept,
                   early_test_loss=stop_loss, early_test_error=stop_err)

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
    axes[0].semilogx(sizes, np.array(results["train_error"]) * 100, "o-", label="training (in-sample)")
    axes[0].semilogx(sizes, np.array(results["test_error"]) * 100, "o-", label="test (out-of-sample)")
    axes[0].set(title=f"Error after {epochs} epochs vs hidden units", xlabel="hidden units", ylabel="error (%)")
    x = np.arange(1, epochs + 1)
    axes[1].plot(x, (1 - np.array(history["accuracy"])) * 100, label="training (in-sample)")
    axes[1].plot(x, (1 - np.array(history["val_accuracy"])) * 100, label="validation (out-of-sample)")
    axes[1].set(title=f"{big} hidden units: error per epoch", xlabel="epoch", ylabel="error (%)", ylim=(0, 30))
    axes[2].plot(x, history["loss"], label="training loss")
    axes[2].plot(x, history["val_loss"], label="validation loss")
    axes[2].set(title=f"{big} hidden units: loss per epoch", xlabel="epoch", ylabel="cross-entropy",
                ylim=(0, 3 * min(history["val_loss"])))
    for ax in axes[1:]:
        ax.axvline(best + 1, color="grey", ls=":", label=f"lowest validation loss (epoch {best + 1})")
    results["figures"] = [save(fig, outdir, "11_overfitting.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
