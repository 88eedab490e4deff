"""Training throughput: chainrule vs hand NumPy vs PyTorch eager vs scikit-learn.

Workloads:

* digits: MLP 64-128-64-10 on scikit-learn's 8x8 digits (1,797 samples),
  batch sizes 1, 32 and 256;
* big: MLP 784-512-512-10 on synthetic MNIST-shaped data, batch 128, where
  the matrix products dominate and the BLAS decides.

Every contender starts from the same He-uniform arrays and sees the same
batches in the same order (one shared permutation per epoch), so besides the
speed the table shows how far the final weights drift apart (float32
rounding only). Epochs are interleaved across contenders (rotating order) and
each cell is the median epoch time, reported as samples per second; ratios are
medians of per-round ratios (:func:`_common.paired_ratio`). Each
setting runs with 1 and with 2 BLAS threads (threadpoolctl; PyTorch via
``torch.set_num_threads``).

Run: ``python benchmarks/bench_train.py [--quick] [--contenders chainrule-jax,jax-scan]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import _common
from _common import fmt_paired, interleaved, md_table, median, per_call
from contenders import EAGER_FIT_NAME, LOOP_NAME, ChainruleContender, make_all
from reference_numpy import he_uniform

# Learning rate per batch size: at batch 1 and lr 0.05 SGD is chaotic enough that
# float32 rounding differences between libraries grow into different trajectories
# within two epochs; at these rates all contenders stay in lockstep (|Δw| ~ 1e-6).
DIGITS = {"name": "digits", "sizes": (64, 128, 64, 10), "lr": {1: 0.01, 32: 0.05, 256: 0.1}}
BIG = {"name": "big", "sizes": (784, 512, 512, 10), "lr": {128: 0.01}}
ORDER = ("NumPy (hand)", "chainrule", EAGER_FIT_NAME, LOOP_NAME, "chainrule compiled (numpy)", "chainrule compiled (numba)",
         "chainrule compiled (jax)", "JAX scan", "JAX jitted step", "PyTorch", "scikit-learn")
WHICH = ("numpy", "chainrule", "chainrule-eager-fit", "chainrule-loop", "chainrule-numpy", "chainrule-numba", "chainrule-jax", "jax-scan",
         "jax-step", "torch", "sklearn")
# compile in their first epochs
JITTED = ("chainrule compiled (numba)", "chainrule compiled (jax)", "JAX scan", "JAX jitted step")
WARM_EPOCHS = 3


def synthetic_data(n, sizes, seed=0):
    """MNIST-shaped inputs in [0, 1) and labels from a random linear teacher (learnable)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]), dtype=np.float32)
    teacher = rng.standard_normal((sizes[-1], sizes[0])).astype(np.float32)
    y = (x @ teacher.T).argmax(axis=1).astype(np.int64)
    return x, y


def _warm_up(contenders, x, y, perm, batch):
    """A few batches each, so first-call costs (allocators, lazy imports) are not timed.

    Jitted contenders run three whole epochs instead (a scan compiles per epoch length, and a
    compiled chainrule step records each batch shape twice eagerly before it compiles), and are
    then reset to the weights they started from and given the few batches the others had, so that
    every contender's timed epochs start from the same weights (the drift column compares them
    all). Returns each one's warm-up seconds.
    """
    spent, head = {}, perm[: min(len(perm), 4 * batch)]
    for c in contenders:
        jitted = c.name in JITTED
        saved = c.snapshot() if jitted else None
        t0 = time.perf_counter()
        for _ in range(WARM_EPOCHS if jitted else 1):
            c.train_epoch(x, y, perm if jitted else head, batch)
        spent[c.name] = time.perf_counter() - t0
        if jitted:
            c.restore(saved)
            c.train_epoch(x, y, head, batch)
    return spent


def _max_drift(contenders):
    """Largest |w - w_numpy| over all parameters and contenders (same batches, same init)."""
    ref = next((c for c in contenders if c.name == ORDER[0]), None)
    if ref is None:
        return None
    rw, rb = ref.params()
    worst = 0.0
    for c in contenders:
        w, b = c.params()
        for a, r in zip(w + b, rw + rb):
            worst = max(worst, float(np.abs(np.asarray(a) - r).max()))
    return worst


def train_setting(x, y, spec, batch, epochs, threads, seed=0, quick=False, which=WHICH):
    """Train fresh contenders ``epochs`` epochs, interleaved; return a result dict.

    Returns:
        ``{"times": {name: [epoch seconds]}, "paths": {name: path}, "acc": {name: acc},
        "drift": float, "skipped": [...]}``.
    """
    n_classes = spec["sizes"][-1]
    with _common.thread_limit(threads):
        weights, biases = he_uniform(spec["sizes"], seed=seed)
        contenders, skipped = make_all(weights, biases, spec["lr"][batch], n_classes, which=which)
        rng = np.random.default_rng(seed + 1)
        warm = _warm_up(contenders, x, y, rng.permutation(len(x)), batch)
        times = {c.name: [] for c in contenders}
        for epoch in range(epochs):
            perm = rng.permutation(len(x))
            tasks = {c.name: (lambda c=c: c.train_epoch(x, y, perm, batch)) for c in contenders}
            settle = _common.settle_for(threads, quick)
            for name, t in interleaved(tasks, 1, offset=epoch, settle=settle).items():
                times[name] += t
        acc = {c.name: c.accuracy(x, y) for c in contenders}
    # Compile time: the warm-up epochs minus as many ordinary ones.
    compile_s = {k: warm[k] - WARM_EPOCHS * median(times[k]) for k in JITTED if k in warm}
    return {"times": times, "paths": {c.name: c.path for c in contenders}, "acc": acc,
            "drift": _max_drift(contenders), "skipped": skipped, "compile": compile_s}


def _row(label, batch, threads, n, res):
    """One Markdown row: samples/s per contender, time ratios, accuracy range, drift."""
    times = res["times"]
    t = {k: median(v) for k, v in times.items()}
    rate = [f"{n / t[k]:,.0f}" if k in t else "-" for k in ORDER]
    ref, cr = ORDER[0], "chainrule"
    pairs = [(cr, ref), (EAGER_FIT_NAME, ref), (LOOP_NAME, ref), ("chainrule compiled (numpy)", ref), ("chainrule compiled (numba)", ref),
             ("JAX scan", ref),
             ("chainrule compiled (jax)", "JAX scan"), ("JAX jitted step", ref), ("PyTorch", cr),
             ("scikit-learn", cr)]
    ratios = [fmt_paired(times.get(a), times.get(b)) for a, b in pairs]
    accs = list(res["acc"].values())
    acc = f"{min(accs):.3f}-{max(accs):.3f}" if accs else "-"
    drift = "-" if res["drift"] is None else f"{res['drift']:.1e}"
    jit = ", ".join(f"{k.replace('chainrule compiled (', 'chainrule ').rstrip(')')} {max(v, 0):.1f}"
                    for k, v in res.get("compile", {}).items())
    return [label, batch, threads, *rate, *ratios, acc, drift, jit or "-"]


HEADERS = ["workload", "batch", "BLAS threads", *[f"{k} samples/s" for k in ORDER],
           "chainrule / NumPy", "fit eager / NumPy", "own loop / NumPy", "compiled numpy / NumPy", "compiled numba / NumPy", "JAX scan / NumPy",
           "compiled jax / JAX scan", "JAX step / NumPy", "PyTorch / chainrule", "sklearn / chainrule",
           "train acc (all)", "max |Δw| vs NumPy", "compile s (jitted)"]


def _plan(quick):
    """(spec, data, batch, epochs) for every setting; quick mode shrinks epochs and data."""
    xd, yd = _common.load_digits_data()
    xb, yb = synthetic_data(1024 if quick else 4096, BIG["sizes"])
    if quick:
        return [(DIGITS, xd[:600], yd[:600], 1, 1), (DIGITS, xd, yd, 32, 2), (DIGITS, xd, yd, 256, 3),
                (BIG, xb, yb, 128, 1)]
    return [(DIGITS, xd, yd, 1, 9), (DIGITS, xd, yd, 32, 15), (DIGITS, xd, yd, 256, 25),
            (BIG, xb, yb, 128, 7)]


def run(quick=False, threads=None, which=WHICH):
    """The training-throughput section of the report, as Markdown lines (``which``: contenders by WHICH name)."""
    threads = threads or _common.bench_threads()
    rows, paths, skipped = [], {}, set()
    for spec, x, y, batch, epochs in _plan(quick):
        for n in threads:
            res = train_setting(x, y, spec, batch, epochs, n, quick=quick, which=which)
            label = f"{spec['name']} {'-'.join(map(str, spec['sizes']))} (n={len(x)}, lr {spec['lr'][batch]})"
            rows.append(_row(label, batch, n, len(x), res))
            paths.update(res["paths"])
            skipped.update(res["skipped"])
    lines = ["## Training throughput (median epoch, samples/s; higher is better)", ""]
    lines += md_table(HEADERS, rows)
    lines += ["", "Ratios are time ratios: chainrule / NumPy > 1 means chainrule is slower than "
              "the hand-written reference; PyTorch / chainrule > 1 means chainrule is faster. "
              "Each is the median over epochs of the two contenders' ratio within one interleaved round "
              "(both saw the machine at the same speed), with the middle half of the rounds in brackets. "
              "'chainrule' is fit with its default compile='auto' (each batch shape's step recorded twice, "
              "the tapes compared, then replayed; a later fit call records again only for a new batch shape, "
              "as the epoch's smaller last batch is in the first two timed epochs, or a changed layer or "
              f"setting); '{EAGER_FIT_NAME}' is "
              f"fit(compile=False); '{LOOP_NAME}' is the same nn/optim model driven by a hand-written loop "
              "instead of fit (measured only when fit exists).",
              "", "Code paths measured:", ""]
    lines += [f"- {name}: {paths[name]}" for name in ORDER if name in paths]
    lines += [f"- skipped {s}" for s in sorted(skipped)]
    if _common.DIGITS_NOTE:
        lines.append(f"- note: {_common.DIGITS_NOTE}")
    cost = fit_call_cost(*_common.load_digits_data(), repeats=3 if quick else 15)
    if cost is not None:
        lines.append(f"- fit is called once per epoch here (to keep batches equal), so its fixed cost per call "
                     f"is paid every epoch: {cost * 1e3:.2f} ms (fit on one batch of 32 minus one loop step, "
                     "digits net, median), paid once by a single multi-epoch fit; so is the copy of the "
                     "epoch's rows in the shared order, and fit's check of all inputs (O(n)).")
    return lines + [""]


def fit_call_cost(x, y, repeats):
    """Seconds a ``fit`` call costs beyond the one training step it runs (None without fit)."""
    weights, biases = he_uniform(DIGITS["sizes"], seed=0)
    c = ChainruleContender(weights, biases, 0.01)
    if c.fit is None:
        return None
    xb, yb, perm = x[:32], y[:32], np.arange(32)
    with _common.thread_limit(1):
        tasks = {"fit": lambda: c.train_epoch(xb, yb, perm, 32), "step": lambda: c.net.step(xb, yb)}
        for f in tasks.values():
            f()
        t = interleaved({k: (lambda f=f: per_call(f, 20)) for k, f in tasks.items()}, repeats)
    return median(t["fit"]) - median(t["step"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small data (a smoke run)")
    parser.add_argument("--contenders", default=",".join(WHICH),
                        help="comma-separated subset of: " + ", ".join(WHICH) + " (e.g. chainrule-jax,jax-scan: "
                        "the two interleaved without other libraries' runs between them)")
    args = parser.parse_args(argv)
    which = tuple(args.contenders.split(","))
    unknown = sorted(set(which) - set(WHICH))
    if unknown:
        parser.error(f"unknown contender {unknown[0]!r}; choose from {', '.join(WHICH)}")
    print("\n".join(run(quick=args.quick, which=which)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
