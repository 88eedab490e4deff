"""Speed of fit's inner loop: digits net 64-128-64-10, batch 32, plain SGD, float32, one BLAS thread.

Three contenders run interleaved (so load on a shared machine hits them alike) and are
compared by their median time per step:

* hand: forward, backward and update written out in NumPy (about 40 calls per step);
* engine: the same step written with the public API (model, loss, backward, optimiser);
* fit: ``fit`` itself, whose loop should add almost nothing to the engine step.

Reported: microseconds per step and the ratios fit/engine (target <= 1.15x) and
fit/hand (measured 1.40-1.45x on the shared 2-core machine).

Run: ``python benchmarks/bench_fit_loop.py [--quick]``.
"""

from __future__ import annotations

import time

import numpy as np

import _common
from chainrule import nn, optim
from chainrule.train import fit

SIZES, BATCH, LR = [64, 128, 64, 10], 32, 0.05


class HandMLP:
    """ReLU MLP with softmax cross-entropy and SGD, every derivative written by hand."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.w = [rng.uniform(-1, 1, (o, i)).astype(np.float32) * np.float32(np.sqrt(6 / i))
                  for i, o in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(o, np.float32) for o in sizes[1:]]
        self.zeros = {}  # np.maximum against an array of zeros runs in SIMD, against the scalar 0 it does not

    def step(self, x, y):
        acts = [x]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w.T
            z += b
            if i < len(self.w) - 1:
                zero = self.zeros.get(z.shape)
                if zero is None:
                    zero = self.zeros[z.shape] = np.zeros(z.shape, z.dtype)
                np.maximum(z, zero, out=z)
            acts.append(z)
        z = acts.pop()
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        g = p * np.float32(1 / len(y))
        for i in range(len(self.w) - 1, -1, -1):
            h = acts[i]
            gw, gb = g.T @ h, g.sum(axis=0)
            if i:
                g = (g @ self.w[i]) * (h > 0)
            self.w[i] -= np.float32(LR) * gw
            self.b[i] -= np.float32(LR) * gb
        return loss


def per_step(X, y, rounds=12):
    n = len(X)
    steps = -(-n // BATCH)
    rng = np.random.default_rng(0)
    hand = HandMLP(SIZES)
    model = nn.MLP(SIZES, init="he_uniform", seed=0)
    opt = optim.SGD(model.parameters(), lr=LR)
    ce = nn.functional.cross_entropy
    fit_model = nn.MLP(SIZES, init="he_uniform", seed=0)
    fit_opt = optim.SGD(fit_model.parameters(), lr=LR)

    def run_hand():
        perm, t = rng.permutation(n), time.perf_counter()
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            hand.step(X[idx], y[idx])
        return (time.perf_counter() - t) / steps

    def run_engine():
        perm, t = rng.permutation(n), time.perf_counter()
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            loss = ce(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return (time.perf_counter() - t) / steps

    def run_fit():
        return fit(fit_model, "cross_entropy", fit_opt, (X, y), epochs=1, batch_size=BATCH, verbose=0)["time"][0] / steps

    runs = [("hand", run_hand), ("engine", run_engine), ("fit", run_fit)]
    times = {name: [] for name, _ in runs}
    for r in range(rounds):
        for name, f in runs[r % 3:] + runs[:r % 3]:  # rotate the order so no contender always goes first
            times[name].append(f())
    return {name: float(np.median(v[2:] if len(v) > 4 else v)) for name, v in times.items()}


def run(quick=False):
    """Markdown lines: per-step medians of hand NumPy, the engine step and fit, with their ratios."""
    X, y = _common.load_digits_data()
    if quick:
        X, y = X[:256], y[:256]
    with _common.thread_limit(1):
        t = per_step(X, y, rounds=3 if quick else 12)
    rows = [[name, _common.fmt_us(t[name]), _common.fmt_ratio(t[name], t["hand"])] for name in ("hand", "engine", "fit")]
    lines = ["## fit's loop vs the engine step vs hand NumPy (digits MLP, batch 32, 1 thread)", ""]
    lines += _common.md_table(["contender", "us per step", "vs hand NumPy"], rows)
    lines += ["", f"fit / engine step: {_common.fmt_ratio(t['fit'], t['engine'])} (target <= 1.15x)"]
    if _common.DIGITS_NOTE:
        lines += ["", _common.DIGITS_NOTE]
    return lines + [""]


if __name__ == "__main__":
    raise SystemExit(_common.cli(__doc__, run))
