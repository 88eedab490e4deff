"""Seconds to train the networks that the tests check for accuracy (the tests assert accuracy only).

* echo: RNN and LSTM (16 units) learn to repeat the input of two steps ago (512 sequences of 8, 20 epochs);
* cnn: conv 3x3 x 8 -> max-pool -> linear on the 8x8 digits (30 epochs, Adam);
* mlp: the digits recipe 64-128-64-10, SGD with momentum, cosine learning rate (40 epochs).

Each row gives wall-clock seconds (median of the repeats, one BLAS thread) and the test accuracy.
Earlier these times were asserted in tests (15 s, 20 s and 15 s on the shared 2-core machine).

Run: ``python benchmarks/bench_time_to_accuracy.py [--quick]``.
"""

from __future__ import annotations

import time

import numpy as np

import _common
import chainrule as cr
from chainrule import nn
from chainrule.callbacks import LRScheduler
from chainrule.data import StandardScaler, split_dataset, train_test_split
from chainrule.data.dataset import Dataset

SGD = {"name": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}


def _delay_task(n, steps, seed):
    """Binary inputs; the target at step t is the input at step t - 2 (0 for the first two steps)."""
    x = np.random.default_rng(seed).integers(0, 2, size=(n, steps, 1)).astype(np.float32)
    y = np.zeros(x.shape[:2], np.float32)
    y[:, 2:] = x[:, :-2, 0]
    return x, y


def echo(kind, epochs):
    x, y = _delay_task(512, 8, seed=0)
    x_test, y_test = _delay_task(256, 8, seed=1)
    model = nn.Sequential(getattr(nn, kind)(1, 16, seed=0), nn.Linear(16, 1, seed=1), nn.Flatten())
    start = time.perf_counter()
    cr.fit(model, "bce_with_logits", ("adam", 0.03), (x, y), epochs=epochs, batch_size=64, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    return seconds, float(((model(x_test).data > 0) == (y_test > 0.5)).mean())


def cnn(epochs):
    X, y = _common.load_digits_data()
    X = X.reshape(-1, 1, 8, 8)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.25, stratify=True, seed=0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 10, seed=1))
    start = time.perf_counter()
    cr.fit(model, "cross_entropy", ("adam", 0.01), (X_tr, y_tr), epochs=epochs, batch_size=32, seed=0, verbose=0)
    seconds = time.perf_counter() - start
    return seconds, cr.evaluate(model, None, (X_te, y_te), metrics=["accuracy"])["accuracy"]


def mlp(epochs):
    X, y = _common.load_digits_data()
    start = time.perf_counter()
    parts = split_dataset(Dataset(X, y, name="digits", task="classification"), test=0.2, stratify=True, seed=0)
    scaler = StandardScaler().fit(parts.train.X)
    model = nn.MLP([64, 128, 64, 10], seed=0)
    cr.fit(model, "cross_entropy", SGD, (scaler.transform(parts.train.X), parts.train.y), epochs=epochs,
           batch_size=32, seed=0, callbacks=[LRScheduler("cosine", t_max=epochs)], verbose=0)
    seconds = time.perf_counter() - start
    test = (scaler.transform(parts.test.X), parts.test.y)
    return seconds, cr.evaluate(model, "cross_entropy", test, metrics=["accuracy"])["accuracy"]


def run(quick=False):
    """Markdown lines: seconds and test accuracy per training task."""
    scale = 0.1 if quick else 1.0
    tasks = [("echo, RNN", lambda: echo("RNN", max(1, int(20 * scale)))),
             ("echo, LSTM", lambda: echo("LSTM", max(1, int(20 * scale)))),
             ("cnn, digits", lambda: cnn(max(1, int(30 * scale)))),
             ("mlp, digits recipe", lambda: mlp(max(1, int(40 * scale))))]
    repeats = 1 if quick else 3
    rows = []
    with _common.thread_limit(1):
        for label, task in tasks:
            results = [task() for _ in range(repeats)]
            rows.append([label, f"{_common.median([s for s, _ in results]):.2f}", f"{results[-1][1]:.3f}"])
    lines = ["## seconds to train the accuracy-tested networks (1 thread)", ""]
    lines += _common.md_table(["task", "seconds (median)", "test accuracy"], rows)
    if _common.DIGITS_NOTE:
        lines += ["", _common.DIGITS_NOTE]
    return lines + [""]


if __name__ == "__main__":
    raise SystemExit(_common.cli(__doc__, run))
