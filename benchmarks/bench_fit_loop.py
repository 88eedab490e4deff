"""fit as users call it vs the same step in a hand-written loop vs hand NumPy (digits MLP, 1 BLAS thread).

The training table (:mod:`bench_train`) calls ``fit`` once per epoch so that every contender
sees the same batches, which charges fit's fixed set-up to every epoch. Here ``fit`` is called
the way users call it, once for several epochs, and timed by the wall clock around that call:

* hand: :class:`reference_numpy.NumpyMLP`, the yardstick of every section (about 40 NumPy calls
  a step, in place where it is safe);
* own loop: the same net as ``nn.MLP`` + ``nn.functional.cross_entropy`` + ``optim.SGD`` in a
  loop written by hand (zero_grad, forward, loss, backward, step);
* fit: ``fit(..., epochs=EPOCHS)``, its default ``compile="auto"`` (the step recorded, then
  replayed), set-up, checks and per-epoch work included;
* fit's loop: the same call's epoch times as its history records them (set-up excluded).

All start from the same weights (:func:`reference_numpy.he_uniform`) and shuffle by their own
generators; every round runs each contender once, in a rotating order, and the ratios are the
medians of the per-round ratios.

Run: ``python benchmarks/bench_fit_loop.py [--quick]``.
"""

from __future__ import annotations

import time

import numpy as np

import _common
from chainrule import nn, optim
from chainrule.train import fit
from reference_numpy import NumpyMLP, he_uniform

SIZES, LR, EPOCHS = [64, 128, 64, 10], 0.05, 3
BATCHES = (1, 32, 256)


def _model(weights, biases):
    model = nn.MLP(SIZES, seed=0)
    for layer, w, b in zip([m for m in model.modules() if isinstance(m, nn.Linear)], weights, biases):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    return model


def rounds_for(X, y, batch, rounds):
    """Seconds per step of each contender, one list entry per round."""
    n, steps = len(X), -(-len(X) // batch)
    weights, biases = he_uniform(SIZES, seed=0)
    hand = NumpyMLP(weights, biases, lr=LR)
    loop_model, fit_model = _model(weights, biases), _model(weights, biases)
    loop_opt, fit_opt = optim.SGD(loop_model.parameters(), lr=LR), optim.SGD(fit_model.parameters(), lr=LR)
    ce, rng = nn.functional.cross_entropy, np.random.default_rng(0)
    times = {"hand": [], "own loop": [], "fit": [], "fit's loop": []}

    def timed_epochs(name, step):
        """EPOCHS shuffled epochs of ``step(xb, yb)`` per batch, as seconds per step under ``name``."""
        t = time.perf_counter()
        for _ in range(EPOCHS):
            perm = rng.permutation(n)
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                step(X[idx], y[idx])
        times[name].append((time.perf_counter() - t) / (EPOCHS * steps))

    def loop_step(xb, yb):
        loop_opt.zero_grad()
        ce(loop_model(xb), yb).backward()
        loop_opt.step()

    def run_hand():
        timed_epochs("hand", hand.step)

    def run_loop():
        timed_epochs("own loop", loop_step)

    def run_fit():
        t = time.perf_counter()
        history = fit(fit_model, "cross_entropy", fit_opt, (X, y), epochs=EPOCHS, batch_size=batch, seed=0, verbose=0)
        times["fit"].append((time.perf_counter() - t) / (EPOCHS * steps))
        times["fit's loop"].append(float(np.sum(history["time"])) / (EPOCHS * steps))

    runs = [run_hand, run_loop, run_fit]
    run_fit()  # the first call records the step (twice per batch shape) before replaying it
    for values in times.values():
        values.clear()
    for r in range(rounds):
        for f in runs[r % 3:] + runs[:r % 3]:  # rotate the order so no contender always goes first
            f()
    return times


def run(quick=False):
    """Markdown lines: per-step medians and per-round ratios against hand NumPy, per batch size."""
    X, y = _common.load_digits_data()
    if quick:
        X, y = X[:256], y[:256]
    rows = []
    with _common.thread_limit(1):
        for batch in BATCHES:
            t = rounds_for(X, y, batch, rounds=2 if quick else 7)
            rows.append([str(batch)] + [_common.fmt_us(_common.median(t[k])) for k in t]
                        + [_common.fmt_paired(t[k], t["hand"]) for k in ("own loop", "fit", "fit's loop")])
    lines = [f"## fit as users call it (one call, {EPOCHS} epochs) vs hand NumPy (digits MLP, 1 thread)", ""]
    lines += _common.md_table(["batch", "hand µs/step", "own loop µs/step", "fit µs/step", "fit's loop µs/step",
                               "own loop / hand", "fit / hand", "fit's loop / hand"], rows)
    lines += ["", f"'fit' is the wall clock around one fit(epochs={EPOCHS}) call (set-up, checks and per-epoch work "
              "included) per step; 'fit's loop' adds up the epoch times in its history (set-up excluded). "
              "Ratios: medians of per-round ratios, the middle half of the rounds in brackets."]
    if _common.DIGITS_NOTE:
        lines += ["", _common.DIGITS_NOTE]
    return lines + [""]


if __name__ == "__main__":
    raise SystemExit(_common.cli(__doc__, run))
