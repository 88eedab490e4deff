"""Training order matters: the parabola-versus-random-points experiment, shuffled and unshuffled.

Slides:
* Merceron's backpropagation introduction, slide 21: "Can be fooled! Experiment with 10 000 parabola and
  random points (5000 each) ... 1 hidden layer with 3 units and a bias neuron. If
  shuffled, accuracy 95%. If not shuffled and all random points first: accuracy 75%.
  If not shuffled and all parabola points first: accuracy 50%."
* Merceron's backpropagation introduction, slide 22: the training loop draws a batch of training samples.
* the Reil et al. ANN & backpropagation lecture, slide 91: "Learning is incremental".

The same 2-3-1 network (tanh hidden units, sigmoid output, biases) is trained by
mini-batch gradient descent on the same 10,000 points in three row orders, with no
reshuffling between epochs, and scored on fresh points. When one class fills the
end of every epoch, the last few hundred updates all push towards it, and the
network ends up answering that class everywhere. Here both unshuffled orders end
at 50 %, "everything is the class seen last"; the slide reports 75 % for
random-first, a run that stopped partway down that road.

Run:  python examples/10_shuffling.py OUTDIR [--quick]
"""

import numpy as np

from chainrule import nn, optim
from chainrule.data import MinMaxScaler, make_parabola, parabola_orderings
from chainrule.train import evaluate, fit, predict

from _common import decision_boundary, heading, plt, run_cli, save


def main(outdir, quick=False):
    per_class, epochs = (1000, 5) if quick else (5000, 5)
    sets = parabola_orderings(n_per_class=per_class, seed=0, dtype=np.float64)
    test = make_parabola(n_per_class=2000, seed=1, dtype=np.float64)   # fresh points, shuffled
    # x runs to 100 and y to 10,000: scale both to [-1, 1] (Reil et al. lecture, slide 91) so one learning rate suits both.
    scaler = MinMaxScaler().fit(sets["shuffled"].X)
    X_test = scaler.transform(test.X)

    heading(f"2-3-1 network, {2 * per_class:,} points, {epochs} epochs in a fixed order, batches of 8")
    results, models = {"accuracy": {}}, {}
    for order, ds in sets.items():
        model = nn.MLP([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0, dtype=np.float64)
        fit(model, "bce", optim.SGD(model.parameters(), lr=0.5), (scaler.transform(ds.X), ds.y.astype(np.float64)),
            epochs=epochs, batch_size=8, shuffle=False, seed=0, verbose=0)
        acc = evaluate(model, None, (X_test, test.y.astype(np.float64)), metrics=["accuracy"])["accuracy"]
        said_parabola = float(np.mean(predict(model, X_test) > 0.5))
        print(f"  {order:15s} test accuracy {acc:.3f}   (answers 'parabola' for {said_parabola:.0%} of points)")
        results["accuracy"][order] = float(acc)
        models[order] = model

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    shown = np.random.default_rng(0).choice(len(X_test), 400, replace=False)
    for ax, (order, model) in zip(axes, models.items()):
        decision_boundary(ax, lambda P, m=model: predict(m, P).ravel(), X_test[shown], test.y[shown],
                          title=f"{order}: accuracy {results['accuracy'][order]:.2f}", margin=0.02, size=12)
        ax.set(xlabel="x (scaled)", ylabel="y (scaled)")
    results["figures"] = [save(fig, outdir, "10_shuffling.png")]
    return results


if __name__ == "__main__":
    run_cli(main, __doc__)
