"""Would a Numba backend beat the compiled tape? One experiment on the digits MLP.

chainrule's numba backend generates, from the tape, one ``njit`` function per
step (forward and backward; the optimiser runs in Python between calls). Written
here by hand is the best case it could grow into: the whole epoch (forward,
backward, SGD for every batch) in one ``njit`` function, so no Python runs
between steps. This measures both against hand NumPy, chainrule's compiled numpy
replay and JAX's whole-epoch scan, at batch 1 and 32 (1 BLAS thread,
interleaved medians). ``np.dot``
inside ``njit`` calls the BLAS through SciPy; compile time is reported apart
(``cache=True`` would keep it across runs).

Run: ``python benchmarks/numba_experiment.py [--quick]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import _common
from _common import fmt_ratio, interleaved, md_table, median
from contenders import ChainruleContender, JaxScanContender, NumpyContender
from reference_numpy import he_uniform

SIZES, LR = (64, 128, 64, 10), 0.01


def _numba_epoch():
    import numba

    @numba.njit(cache=False, fastmath=False)
    def epoch(x, y, perm, bs, w1, b1, w2, b2, w3, b3, lr):
        n = perm.shape[0]
        for start in range(0, n, bs):
            idx = perm[start:min(start + bs, n)]
            m = idx.shape[0]
            xb = np.empty((m, x.shape[1]), np.float32)
            for i in range(m):
                xb[i] = x[idx[i]]
            h1 = np.maximum(np.dot(xb, w1.T) + b1, np.float32(0))
            h2 = np.maximum(np.dot(h1, w2.T) + b2, np.float32(0))
            z = np.dot(h2, w3.T) + b3
            for i in range(m):  # softmax cross-entropy gradient, row by row
                mx = z[i].max()
                e = np.exp(z[i] - mx)
                z[i] = e / e.sum()
                z[i, y[idx[i]]] -= 1
            g3 = z / np.float32(m)
            g2 = np.dot(g3, w3) * (h2 > 0)
            g1 = np.dot(g2, w2) * (h1 > 0)
            w3 -= lr * np.dot(g3.T, h2)
            b3 -= lr * g3.sum(axis=0)
            w2 -= lr * np.dot(g2.T, h1)
            b2 -= lr * g2.sum(axis=0)
            w1 -= lr * np.dot(g1.T, xb)
            b1 -= lr * g1.sum(axis=0)

    return epoch


class NumbaContender:
    name = "Numba (whole epoch in njit)"

    def __init__(self, weights, biases, lr):
        self.params = [a.copy() for pair in zip(weights, biases) for a in pair]
        self.lr = np.float32(lr)
        self.fn = _numba_epoch()

    def train_epoch(self, x, y, perm, bs):
        self.fn(x, y, perm, bs, *self.params, self.lr)


def run(quick=False):
    try:
        import numba  # noqa: F401
    except ImportError:
        return ["## Numba experiment", "", "Skipped: numba is not importable.", ""]
    x, y = _common.load_digits_data()
    rows = []
    with _common.thread_limit(1):
        for bs in (1, 32):
            w, b = he_uniform(SIZES, seed=0)
            cs = [NumpyContender(w, b, LR), ChainruleContender(w, b, LR, compile="numpy"),
                  ChainruleContender(w, b, LR, compile="numba"), NumbaContender(w, b, LR)]
            jax = _common.jax_or_none()
            if jax is not None:
                cs.append(JaxScanContender(jax, w, b, LR))
            rng = np.random.default_rng(1)
            first = {}
            for c in cs:
                t0 = time.perf_counter()
                for _ in range(3):  # compiles (numba, jax) and records (chainrule)
                    c.train_epoch(x, y, rng.permutation(len(x)), bs)
                first[c.name] = time.perf_counter() - t0
            perm = rng.permutation(len(x))
            tasks = {c.name: (lambda c=c: c.train_epoch(x, y, perm, bs)) for c in cs}
            t = {k: median(v) for k, v in interleaved(tasks, 3 if quick else 9).items()}
            ref = t[cs[0].name]
            for c in cs:
                extra = first[c.name] - 3 * t[c.name]
                rows.append([bs, c.name, f"{t[c.name] * 1e3:.2f}", fmt_ratio(t[c.name], ref),
                             f"{extra:.1f}" if extra > 0.05 else "-"])
    lines = ["## Numba experiment: the whole epoch in one njit function (digits MLP, 1 BLAS thread)", ""]
    return lines + md_table(["batch", "contender", "ms / epoch", "vs NumPy (hand)", "first-use s"], rows) + [""]


def main(argv=None):
    return _common.cli(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
