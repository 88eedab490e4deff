"""What gradients of gradients cost: create_graph backward, Hessians by two modes, HVPs.

Three measurements, interleaved (rotating order), medians of repeats of the CPU
time per call (one BLAS thread, so CPU time is the work done), float64:

1. One backward pass of a digits-sized MLP loss (64-128-64-10, batch 32): the
   ordinary raw-ndarray walk against ``backward(create_graph=True)``, whose VJPs
   run as recorded ops. The ordinary pass is the one training uses; this shows
   the price of asking for a graph.
2. The Hessian of a 20-dimensional smooth function (Rosenbrock plus a
   log-sum-exp): forward-over-reverse (``mode="forward"``), reverse-over-reverse
   (``mode="reverse"``) and central differences of the gradient.
3. One Hessian-vector product of the same function by both modes, against
   forming the Hessian.

Run: ``python benchmarks/bench_higher.py [--quick]``.
"""

from __future__ import annotations

import time

import numpy as np

import _common
import chainrule as cr
from _common import fmt_ratio, fmt_us, interleaved, md_table, median


def _mlp_backward_tasks(batch=32):
    rng = np.random.default_rng(0)
    model = cr.nn.MLP([64, 128, 64, 10], activation="tanh", seed=0)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x = cr.tensor(rng.standard_normal((batch, 64)), dtype=np.float64)
    y = rng.integers(0, 10, batch)
    params = list(model.parameters())

    def backward(create_graph):
        def task():
            for p in params:
                p.grad = None
            loss = cr.softmax_cross_entropy(model(x), y)
            loss.backward(create_graph=create_graph)

        return task

    return {"backward": backward(False), "backward(create_graph=True)": backward(True)}


def _smooth(x):
    rosen = ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()
    return rosen + cr.logsumexp(x * 0.5)


def _hessian_tasks(n=20):
    x = np.linspace(-1.0, 1.0, n)
    grad = cr.grad(_smooth)

    def central():
        h = 1e-5
        return np.stack([(grad(x + h * e) - grad(x - h * e)) / (2 * h) for e in np.eye(n)])

    return {
        "hessian, forward-over-reverse": lambda: cr.hessian(_smooth)(x),
        "hessian, reverse-over-reverse": lambda: cr.hessian(_smooth, mode="reverse")(x),
        "central differences of grad": central,
    }


def _hvp_tasks(n=20):
    x, v = np.linspace(-1.0, 1.0, n), np.ones(n)
    return {
        "hvp, forward-over-reverse": lambda: cr.hvp(_smooth, x, v),
        "hvp, reverse-over-reverse": lambda: cr.hvp(_smooth, x, v, mode="reverse"),
    }


def _cpu_per_call(f, number):
    """CPU seconds per call: on a shared machine, other processes' time does not count."""
    start = time.process_time()
    for _ in range(number):
        f()
    return (time.process_time() - start) / number


def _timed(tasks, repeats, number):
    def per(f):
        return lambda: _cpu_per_call(f, number)

    return {k: median(v) for k, v in interleaved({k: per(f) for k, f in tasks.items()}, repeats).items()}


def _section(title, times, base):
    lines = [f"### {title}", ""]
    rows = [(name, fmt_us(t), fmt_ratio(t, times[base])) for name, t in times.items()]
    return lines + md_table(["what", "µs / call", f"vs {base}"], rows) + [""]


def run(quick=False):
    repeats, number = (3, 2) if quick else (9, 20)
    with _common.thread_limit(1):
        mlp = _timed(_mlp_backward_tasks(), repeats, number)
        hess = _timed(_hessian_tasks(), repeats, max(1, number // 10))
        hvp = _timed(_hvp_tasks(), repeats, number)
    hvp["the full Hessian (forward-over-reverse)"] = hess["hessian, forward-over-reverse"]
    out = ["## Gradients of gradients (float64, 1 BLAS thread, CPU time, medians of interleaved repeats)", ""]
    out += _section("One backward pass of a 64-128-64-10 MLP loss, batch 32", mlp, "backward")
    out += _section("Hessian of a 20-dimensional function", hess, "hessian, forward-over-reverse")
    out += _section("One Hessian-vector product of it", hvp, "hvp, forward-over-reverse")
    return out


if __name__ == "__main__":
    raise SystemExit(_common.cli(__doc__, run))
