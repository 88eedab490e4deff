"""End-to-end results: digits and MNIST accuracy, the shuffling experiment, batch vs mini-batch vs stochastic.

Each test states its recipe; all of them run with fixed seeds, so the numbers are reproducible.
"""

import os

import numpy as np
import pytest

from chainrule import nn
from chainrule.callbacks import LRScheduler
from chainrule.data import StandardScaler, load_dataset, load_mnist, make_parabola, parabola_orderings, split_dataset
from chainrule.train import evaluate, fit

SGD = {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}


def test_digits_reaches_97_percent():
    """Recipe: stratified 80/20 split (seed 0), standardised pixels, MLP 64-128-64-10 (ReLU),
    SGD with momentum 0.9, lr 0.05 cosine-annealed over 40 epochs, weight decay 5e-4, batch 32."""
    pytest.importorskip("sklearn")
    parts = split_dataset(load_dataset("digits"), test=0.2, stratify=True, seed=0)
    scaler = StandardScaler().fit(parts.train.X)
    model = nn.MLP([64, 128, 64, 10], seed=0)
    fit(model, "cross_entropy", SGD, (scaler.transform(parts.train.X), parts.train.y), epochs=40, batch_size=32,
        seed=0, callbacks=[LRScheduler("cosine", t_max=40)], verbose=0)
    acc = evaluate(model, "cross_entropy", (scaler.transform(parts.test.X), parts.test.y), metrics=["accuracy"])
    assert acc["accuracy"] >= 0.97  # seconds: benchmarks/bench_time_to_accuracy.py


def _shifted(X, y):
    """The images plus copies moved by one pixel up, down, left and right (5x the data)."""
    images = X.reshape(-1, 28, 28)
    copies = [images] + [np.roll(images, s, axis=a) for a in (1, 2) for s in (1, -1)]
    return np.concatenate(copies).reshape(-1, 784), np.tile(y, 5)


@pytest.mark.slow
def test_mnist_mlp_reaches_97_percent(mnist_dir, one_blas_thread):
    """Recipe: the first 8,000 test-set images for training (plus their 1-pixel shifts), the last 2,000
    for testing; pixels / 255; MLP 784-256-10 (ReLU); SGD momentum 0.9, lr 0.05 cosine over 8 epochs,
    weight decay 5e-4, batch 64."""
    ds = load_mnist(os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz"), normalize=True)
    train = _shifted(ds.X[:8000], ds.y[:8000])
    model = nn.MLP([784, 256, 10], seed=0)
    fit(model, "cross_entropy", SGD, train, epochs=8, batch_size=64, seed=0,
        callbacks=[LRScheduler("cosine", t_max=8)], verbose=0)
    acc = evaluate(model, "cross_entropy", (ds.X[8000:], ds.y[8000:]), metrics=["accuracy"])["accuracy"]
    assert acc >= 0.97  # seconds to accuracy: benchmarks/bench_mnist.py


def test_shuffling_experiment():
    """Merceron's backpropagation introduction: 5,000 parabola and 5,000 random points, a net with one hidden layer of 3 units.
    Shuffled rows beat all-random-first, which beats all-parabola-first (no shuffling inside fit
    for those two: the last rows seen dominate the final weights).

    Recipe: standardised inputs, tanh hidden units, one logit output with BCE, Adam lr 0.02, batch 32,
    15 epochs; accuracy on 4,000 fresh shuffled points."""
    sets = parabola_orderings(n_per_class=5000, seed=0)
    test = make_parabola(2000, "shuffled", seed=1)
    scaler = StandardScaler().fit(sets["shuffled"].X)
    acc = {}
    for order, ds in sets.items():
        model = nn.MLP([2, 3, 1], activation="tanh", seed=0)
        fit(model, "bce_with_logits", ("adam", 0.02), (scaler.transform(ds.X), ds.y), epochs=15, batch_size=32,
            shuffle=order == "shuffled", seed=0, verbose=0)
        acc[order] = evaluate(model, "bce_with_logits", (scaler.transform(test.X), test.y),
                              metrics=["accuracy"])["accuracy"]
    assert acc["shuffled"] > 0.88
    assert acc["shuffled"] > acc["random-first"] + 0.1 > acc["parabola-first"] + 0.2
    assert acc["parabola-first"] <= 0.55  # it ends up calling everything "parabola"


@pytest.mark.parametrize("batch_size, lr, epochs", [(200, 0.5, 400), (20, 0.1, 60), (1, 0.01, 25)],
                         ids=["batch", "mini-batch", "stochastic"])
def test_batch_minibatch_and_stochastic_all_converge(batch_size, lr, epochs):
    ds = load_dataset("moons", n=200, noise=0.1, seed=0)
    model = nn.MLP([2, 16, 2], activation="tanh", seed=0)
    h = fit(model, "cross_entropy", ("sgd", lr), ds, epochs=epochs, batch_size=batch_size, seed=0,
            metrics=["accuracy"], verbose=0)
    assert h["loss"][-1] < 0.12 < h["loss"][0]
    assert h["accuracy"][-1] >= 0.95
