"""Per-op overhead on tiny tensors, and one training step of a small MLP.

Part 1 times single operations on 8x8 float32 arrays, where the arithmetic is
negligible and what is left is the cost of getting into and out of the
library: raw NumPy, chainrule without and with graph recording, PyTorch eager
without and with ``requires_grad``. The last row is forward *and* backward of
``((a*b)+c).sum()`` (NumPy: the gradients written out by hand).

Part 2 times one forward+backward+SGD step of the digits-sized MLP
64-128-64-10 at batch 32, built from raw chainrule ops (``cr.linear``,
``cr.relu``, ``cr.softmax_cross_entropy``) against the hand-written NumPy step
(:mod:`reference_numpy`), PyTorch, and chainrule's nn/optim API when it exists.
Target: the raw-op step within 2x of hand NumPy.

Run: ``python benchmarks/bench_ops.py [--quick]``.
"""

from __future__ import annotations

import sys
import timeit

import numpy as np

import _common
import chainrule as cr
from _common import fmt_ratio, fmt_us, interleaved, md_table, median, per_call
from contenders import ChainruleContender, NumpyContender
from reference_numpy import he_uniform

SHAPE = (8, 8)
# (row label, NumPy statement, chainrule statement, torch statement); the
# chainrule/torch statements run on both the plain and the requires-grad inputs.
OPS = [
    ("add", "a + b", "A + B", "A + B"),
    ("mul", "a * b", "A * B", "A * B"),
    ("matmul", "a @ b", "A @ B", "A @ B"),
    ("sum", "a.sum()", "A.sum()", "A.sum()"),
    ("relu", "np.maximum(a, 0)", "A.relu()", "torch.relu(A)"),
]
CHAIN = (
    "((a*b)+c).sum() fwd+bwd",
    "s = (a * b + c).sum(); g = np.ones_like(a); ga = g * b; gb = g * a; gc = g",
    "A.grad = B.grad = C.grad = None; ((A * B) + C).sum().backward()",
    "A.grad = B.grad = C.grad = None; ((A * B) + C).sum().backward()",
)


def _namespaces(torch):
    """Globals for the timeit statements: NumPy arrays, chainrule and torch tensors."""
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(SHAPE).astype(np.float32) for _ in range(3))
    arrays = {"A": a, "B": b, "C": c}
    ns = {"np": {"np": np, "a": a, "b": b, "c": c}}
    ns["cr"] = {k: cr.tensor(v) for k, v in arrays.items()}
    ns["cr+grad"] = {k: cr.tensor(v, requires_grad=True) for k, v in arrays.items()}
    if torch is not None:
        for key, grad in (("torch", False), ("torch+grad", True)):
            ns[key] = {"torch": torch, **{k: torch.tensor(v, requires_grad=grad) for k, v in arrays.items()}}
    return ns


def _time_row(stmts, ns, number, repeats):
    """Median seconds per call of each statement, contenders interleaved."""
    tasks = {}
    for key, stmt in stmts.items():
        if stmt is None or key not in ns:
            continue
        timer = timeit.Timer(stmt, globals=ns[key])
        timer.timeit(max(1, number // 10))  # warm-up: first calls pay for caches and imports
        tasks[key] = (lambda t=timer: t.timeit(number) / number)
    return {k: median(v) for k, v in interleaved(tasks, repeats).items()}


def op_table(torch, number, repeats):
    """Markdown lines: per-op time (µs) and ratios."""
    ns = _namespaces(torch)
    headers = ["op", "NumPy µs", "chainrule µs", "chainrule+grad µs", "PyTorch µs",
               "PyTorch+grad µs", "chainrule / NumPy", "chainrule+grad / NumPy", "PyTorch+grad / chainrule+grad"]
    rows = []
    for label, s_np, s_cr, s_t in OPS + [CHAIN]:
        is_chain = label == CHAIN[0]
        stmts = {"np": s_np, "cr": None if is_chain else s_cr, "cr+grad": s_cr,
                 "torch": None if is_chain else s_t, "torch+grad": s_t}
        t = _time_row(stmts, ns, number, repeats)
        g = t.get
        rows.append([label, fmt_us(g("np")), fmt_us(g("cr")), fmt_us(g("cr+grad")), fmt_us(g("torch")),
                     fmt_us(g("torch+grad")), fmt_ratio(g("cr"), g("np")), fmt_ratio(g("cr+grad"), g("np")),
                     fmt_ratio(g("torch+grad"), g("cr+grad"))])
    return md_table(headers, rows)


def _torch_step(torch, weights, biases, lr):
    """A closure doing one PyTorch training step on a fixed batch (given later)."""
    from contenders import TorchContender

    c = TorchContender(torch, weights, biases, lr)
    f = torch.nn.functional.cross_entropy

    def step(xt, yt):
        c.opt.zero_grad()
        f(c.model(xt), yt).backward()
        c.opt.step()

    return step


def mlp_steps(torch, sizes=(64, 128, 64, 10), batch=32, lr=0.01):
    """{label: step()} for one training step on a fixed batch, all from the same init."""
    weights, biases = he_uniform(sizes, seed=0)
    rng = np.random.default_rng(1)
    x = rng.random((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], batch)
    steps = {"NumPy (hand)": lambda s=NumpyContender(weights, biases, lr).net.step: s(x, y)}
    raw = ChainruleContender(weights, biases, lr, prefer_api=False).net
    steps["chainrule raw ops"] = lambda: raw.step(x, y)
    api = ChainruleContender(weights, biases, lr, use_fit=False)  # one step: the loop, not fit
    if not api.path.startswith("raw"):
        steps[f"chainrule API: {api.path}"] = lambda: api.net.step(x, y)
    if torch is not None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        tstep = _torch_step(torch, weights, biases, lr)
        steps["PyTorch eager"] = lambda: tstep(xt, yt)
    return steps


def mlp_table(torch, threads, number, repeats, quick=False):
    """Markdown lines: one MLP training step per contender, at each BLAS thread count."""
    headers = ["contender", "BLAS threads", "µs / step", "ratio to NumPy (hand)"]
    rows = []
    for n in threads:
        with _common.thread_limit(n):
            steps = mlp_steps(torch)
            tasks = {k: (lambda f=f: per_call(f, number)) for k, f in steps.items()}
            for f in steps.values():
                f()  # warm-up
            settle = _common.settle_for(n, quick)
            t = {k: median(v) for k, v in interleaved(tasks, repeats, settle=settle).items()}
        ref = t["NumPy (hand)"]
        rows += [[k, n, fmt_us(v), fmt_ratio(v, ref)] for k, v in t.items()]
    return md_table(headers, rows), t


def run(quick=False, threads=None):
    threads = threads or _common.bench_threads()
    """The ops section of the report, as Markdown lines."""
    torch = _common.torch_or_none()
    number, repeats = (300, 5) if quick else (3000, 15)
    lines = ["## Per-op overhead (8x8 float32, median of interleaved repeats)", ""]
    if torch is None:
        lines.append("PyTorch is not importable: its columns are empty.")
    lines += op_table(torch, number, repeats)
    lines += ["", "## One training step, MLP 64-128-64-10, batch 32 (forward + backward + SGD)", ""]
    table, _ = mlp_table(torch, threads, max(20, number // 10), repeats, quick)
    lines += table
    lines += ["", "Target: chainrule raw ops within 2x of the hand-written NumPy step.", ""]
    return lines


def main(argv=None):
    return _common.cli(__doc__, run, argv)


if __name__ == "__main__":
    sys.exit(main())
