"""Where the time of one chainrule training step goes (digits MLP 64-128-64-10, batch 32).

Three measurements, from the least to the most intrusive:

1. **Decomposition by subtraction** (plain wall clock, best of interleaved
   repeats): the hand-written NumPy step; the *same registry kernels* chainrule
   runs (``op.forward`` / ``op.vjp`` called directly on arrays, plus the SGD
   update), with no Tensor, Node or backward walk; and the real chainrule
   step. Kernels minus hand NumPy is what the ops' formulas cost beyond the
   hand-written ones; chainrule minus kernels is engine bookkeeping.
2. **Per phase** (forward / zero_grad / backward / update) for chainrule and
   for the kernels, with the difference per phase.
3. **cProfile** of many steps: the functions with the most own time, per
   step, and the total split into engine Python, op kernels' Python, NumPy's
   Python wrappers and C calls. cProfile adds roughly a microsecond to every
   call, so its absolute numbers are inflated; use it for the ranking.

Run: ``python benchmarks/profile_step.py [--quick]``.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time

import numpy as np

import _common
import chainrule as cr
from _common import fmt_paired, fmt_us, interleaved, md_table, median, per_call
from contenders import ChainruleContender
from reference_numpy import NumpyMLP, he_uniform

SIZES, BATCH, LR = (64, 128, 64, 10), 32, 0.01
REG = cr.ops_registry


class KernelStep:
    """chainrule's registry kernels called directly on arrays: the engine's NumPy floor."""

    def __init__(self, weights, biases, lr):
        self.w = [w.copy() for w in weights]
        self.b = [b.copy() for b in biases]
        self.lr = np.float32(lr)
        self.lin, self.relu, self.sce = REG["linear"], REG["relu"], REG["softmax_cross_entropy"]

    def forward(self, x, y):
        """Forward kernels; returns the contexts the VJPs need."""
        ctxs, h = [], x
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h, c = self.lin.forward(h, w, b)
            ctxs.append(c)
            if i < len(self.w) - 1:
                h, m = self.relu.forward(h)
                ctxs.append(m)
        loss, c = self.sce.forward(h, labels=y, reduction="mean")
        return loss, ctxs + [c]

    def backward(self, loss, ctxs):
        """VJP kernels in reverse order; returns [(gw, gb)] per layer, last layer first."""
        (g,) = self.sce.vjp(np.ones_like(loss), ctxs.pop(), (True,))
        grads = []
        for i in range(len(self.w) - 1, -1, -1):
            gx, gw, gb = self.lin.vjp(g, ctxs.pop(), (i > 0, True, True))
            grads.append((gw, gb))
            if i:
                (g,) = self.relu.vjp(gx, ctxs.pop(), (True,))
        return grads

    def update(self, grads):
        for (gw, gb), w, b in zip(grads, reversed(self.w), reversed(self.b)):
            gw *= self.lr
            w -= gw
            gb *= self.lr
            b -= gb

    def step(self, x, y):
        loss, ctxs = self.forward(x, y)
        self.update(self.backward(loss, ctxs))


def _setup():
    weights, biases = he_uniform(SIZES, seed=0)
    rng = np.random.default_rng(1)
    x = rng.random((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    chain = ChainruleContender(weights, biases, LR, use_fit=False)  # a step, as fit would take it
    return x, y, NumpyMLP(weights, biases, LR), KernelStep(weights, biases, LR), chain


def decomposition(x, y, hand, kern, chain, n, repeats):
    """Markdown lines: whole-step times, ratios to the hand-written step and the differences between them."""
    tasks = {"hand": lambda: per_call(lambda: hand.step(x, y), n),
             "kernels": lambda: per_call(lambda: kern.step(x, y), n),
             "chainrule": lambda: per_call(lambda: chain.net.step(x, y), n)}
    # Many short rounds, and medians over them: within one round every contender saw the machine at
    # the same speed, so per-round ratios and differences cancel its drift, which best-of-repeats
    # values taken minutes apart did not (a drifting machine gave "kernels only" 1.37x in one run
    # and 1.13-1.19x in others).
    times = interleaved(tasks, repeats)
    t = {k: median(v) for k, v in times.items()}

    def diff(a, b):
        return median([x - y for x, y in zip(times[a], times[b])])

    rows = [["hand-written NumPy step (reference)", fmt_us(t["hand"]), "1.00x"],
            ["registry kernels only (op.forward/op.vjp on arrays + SGD)", fmt_us(t["kernels"]),
             fmt_paired(times["kernels"], times["hand"])],
            [f"chainrule step ({chain.path})", fmt_us(t["chainrule"]), fmt_paired(times["chainrule"], times["hand"])],
            ["= kernel formulas beyond hand NumPy", fmt_us(diff("kernels", "hand")), ""],
            ["= engine bookkeeping (Tensor, Node, dispatch, backward walk)", fmt_us(diff("chainrule", "kernels")), ""]]
    return md_table(["what", "µs / step", "vs hand NumPy"], rows), t


def _chain_phases(net, x, y):
    t0 = time.perf_counter()
    loss = net.loss(x, y)
    t1 = time.perf_counter()
    net.zero_grad()
    t2 = time.perf_counter()
    loss.backward()
    t3 = time.perf_counter()
    net.update()
    t4 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t4 - t3


def _kernel_phases(kern, x, y):
    t0 = time.perf_counter()
    loss, ctxs = kern.forward(x, y)
    t1 = time.perf_counter()
    grads = kern.backward(loss, ctxs)
    t2 = time.perf_counter()
    kern.update(grads)
    t3 = time.perf_counter()
    return t1 - t0, 0.0, t2 - t1, t3 - t2


def phases(x, y, kern, chain, n):
    """Markdown lines: per-phase medians, chainrule vs its own kernels."""
    names = ("forward (3 linear, 2 relu, loss)", "zero_grad", "backward", "SGD update")
    c, k = [], []
    for _ in range(n):  # alternate the two every step so drifts hit both equally
        c.append(_chain_phases(chain.net, x, y))
        k.append(_kernel_phases(kern, x, y))
    cm = [median(col) for col in zip(*c)]
    km = [median(col) for col in zip(*k)]
    rows = [[nm, fmt_us(a), fmt_us(b), fmt_us(a - b)] for nm, a, b in zip(names, cm, km)]
    rows.append(["sum of phase medians", fmt_us(sum(cm)), fmt_us(sum(km)), fmt_us(sum(cm) - sum(km))])
    return md_table(["phase", "chainrule µs", "kernels only µs", "bookkeeping µs"], rows)


def _piece_calls(x, y, chain):
    """(label, callable or None) for the building blocks of a step, timed one by one.

    Private engine helpers are looked up by name and shown as n/a when a later
    engine version no longer has them.
    """
    from chainrule.autodiff import engine as autograd
    from chainrule.autodiff.ops import nn as ops_nn

    net = chain.net
    lin = getattr(net, "linears", None)
    w, b = (lin[0].weight, lin[0].bias) if lin else (net.weights[0], net.biases[0])
    h = cr.relu(cr.linear(x, w, b))
    logits = cr.tensor(np.random.default_rng(0).standard_normal((BATCH, SIZES[-1]), dtype=np.float32),
                       requires_grad=True)
    loss_fn = getattr(net, "loss_fn", cr.softmax_cross_entropy)
    check, lse, walk = (getattr(m, k, None) for m, k in ((ops_nn, "_check_labels"), (ops_nn, "_lse"),
                                                          (autograd, "topological_order")))
    loss = net.loss(x, y)
    return [
        ("linear kernel (op.forward on arrays)", lambda: REG["linear"].forward(x, w.data, b.data)),
        ("cr.linear on Tensors (records a Node)", lambda: cr.linear(x, w, b)),
        ("nn.Linear module call", (lambda: lin[0](x)) if lin else None),
        ("relu kernel", lambda: REG["relu"].forward(h.data)),
        ("np.maximum(h, zeros) (what hand NumPy does)", (lambda z: lambda: np.maximum(h.data, z))(np.zeros_like(h.data))),
        ("cr.relu on a Tensor", lambda: cr.relu(h)),
        ("loss kernel (softmax_cross_entropy forward)",
         lambda: REG["softmax_cross_entropy"].forward(logits.data, labels=y, reduction="mean")),
        ("  of which label check (_check_labels)", (lambda: check(logits.data, y)) if check else None),
        ("  of which log-sum-exp (_lse)", (lambda: lse(logits.data, -1)) if lse else None),
        ("loss as the contender calls it", lambda: loss_fn(logits, y)),
        ("graph ordering (topological_order), whole step", (lambda: walk(loss)) if walk else None),
    ]


def pieces(x, y, chain, number, repeats):
    """Markdown lines: median µs per call of each building block."""
    rows = []
    for label, f in _piece_calls(x, y, chain):
        if f is None:
            rows.append([label, "n/a"])
            continue
        f()
        rows.append([label, fmt_us(median([per_call(f, number) for _ in range(repeats)]))])
    return md_table(["building block (timed alone)", "µs / call"], rows)


def _category(filename):
    """Which layer a profiled function belongs to."""
    f = filename.replace(os.sep, "/")
    if filename == "~" or filename.startswith("<"):
        return "C calls (NumPy ufuncs/methods, builtins)"
    if "/chainrule/ops/" in f:
        return "op kernels (Python lines in chainrule/ops)"
    if "/chainrule/" in f:
        return "engine (Tensor, dispatch, Node, backward, nn/optim)"
    if "/numpy/" in f:
        return "NumPy Python wrappers (fromnumeric, ...)"
    return "benchmark glue"


def cprofile_tables(x, y, chain, n, top=15):
    """Markdown lines: top functions by own time, and own time by category, per step."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        chain.net.step(x, y)
    prof.disable()
    stats = pstats.Stats(prof).stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
    items = sorted(stats.items(), key=lambda kv: -kv[1][2])
    rows = []
    for (file, line, func), (_, nc, tt, ct, _) in items[:top]:
        where = func if file == "~" else f"{os.path.basename(file)}:{line} {func}"
        rows.append([where, f"{nc / n:.4g}", fmt_us(tt / n), fmt_us(ct / n)])
    cats = {}
    for (file, _, _), (_, nc, tt, _, _) in stats.items():
        c = cats.setdefault(_category(file), [0, 0.0])
        c[0] += nc
        c[1] += tt
    total = sum(v[1] for v in cats.values())
    crow = [[k, f"{v[0] / n:.4g}", fmt_us(v[1] / n), f"{v[1] / total:.0%}"]
            for k, v in sorted(cats.items(), key=lambda kv: -kv[1][1])]
    return (md_table(["function (own time)", "calls / step", "own µs / step", "cumulative µs / step"], rows),
            md_table(["category", "calls / step", "own µs / step (profiled)", "share"], crow))


def run(quick=False):
    """The profile section of the report, as Markdown lines."""
    n, repeats = (200, 3) if quick else (2000, 9)
    with _common.thread_limit(1):
        x, y, hand, kern, chain = _setup()
        for f in (hand.step, kern.step, chain.net.step):
            f(x, y)
        dec, _ = decomposition(x, y, hand, kern, chain, n // 20, 4 * repeats)
        ph = phases(x, y, kern, chain, n)
        pc = pieces(x, y, chain, n // 2, repeats)
        top, cats = cprofile_tables(x, y, chain, n // 2)
    lines = [f"## Profile of one chainrule training step (MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, "
             "1 BLAS thread)", "",
             "### Decomposition by subtraction (wall clock, best of interleaved repeats)", ""]
    lines += dec + ["", "### Per phase (median over steps)", ""] + ph
    lines += ["", "### Building blocks (median of repeats)", ""] + pc
    lines += ["", "### cProfile: own time by layer (profiler overhead inflates every call)", ""] + cats
    lines += ["", "### cProfile: top functions by own time", ""] + top
    return lines + [""]


def main(argv=None):
    return _common.cli(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
