"""Data-parallel scaling on MPI: samples/s of 784-512-512-10 at global batch 256, N = 1 and 2 ranks.

Each rank uses one BLAS thread. Runs alternate (plain fit, N=1, N=2, plain fit, ...) so that
machine load hits all contenders alike; the report gives medians, the speed-up over one rank,
the time spent in the gradient Allreduce per step, and what the ring-Allreduce cost model
(:func:`chainrule.distributed.allreduce_cost`) predicts for larger clusters.

Run: ``python benchmarks/bench_mpi.py [--rounds 3] [--rows 8192] [--epochs 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

from _common import fmt_paired

LAYERS = [784, 512, 512, 10]
BATCH = 256


def worker(rows, epochs, distributed):
    """One timed training run (inside each rank when ``distributed``); rank 0 prints a JSON line."""
    import chainrule as cr
    from chainrule import nn
    from chainrule.distributed import DataParallel

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, LAYERS[0])).astype(np.float32)
    y = rng.integers(0, LAYERS[-1], size=rows)
    dp = DataParallel() if distributed else None
    model = nn.MLP(LAYERS, seed=0)
    cr.fit(model, "cross_entropy", ("sgd", 0.01), (X[:BATCH], y[:BATCH]), epochs=1, batch_size=BATCH, seed=0,
           verbose=0, distributed=dp)  # warm-up: allocations, BLAS start-up, MPI connections
    if dp is not None:
        dp.allreduce_seconds, dp.steps = 0.0, 0
        dp.comm.Barrier()
    start = time.perf_counter()
    cr.fit(model, "cross_entropy", ("sgd", 0.01), (X, y), epochs=epochs, batch_size=BATCH, seed=0, verbose=0,
           distributed=dp)
    seconds = time.perf_counter() - start
    if dp is None or dp.is_root:
        steps = dp.steps if dp is not None else epochs * -(-rows // BATCH)
        print(json.dumps({"samples_per_s": rows * epochs / seconds,
                          "allreduce_ms": 1e3 * dp.allreduce_seconds / steps if dp is not None else 0.0}))


def phases(steps=60, warm=10):
    """One rank's step cut into its parts (inside each rank); rank 0 prints medians in ms as a JSON line.

    The parts are DataParallel's own: forward + backward on this rank's shard, packing the gradients
    and the Allreduce (``_reduce``, which times the Allreduce itself), and the optimiser step.
    """
    from chainrule import nn, optim
    from chainrule.distributed import DataParallel

    dp = DataParallel()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BATCH * 8, LAYERS[0])).astype(np.float32)
    y = rng.integers(0, LAYERS[-1], size=len(X))
    model = nn.MLP(LAYERS, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.01)
    params, share = list(model.parameters()), BATCH // dp.size
    parts = {"compute": [], "pack": [], "allreduce": [], "update": [], "step": []}
    for it in range(steps):
        rows = slice((it % 8) * BATCH + dp.rank * share, (it % 8) * BATCH + (dp.rank + 1) * share)
        dp.comm.Barrier()
        before = dp.allreduce_seconds
        t0 = time.perf_counter()
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[rows]), y[rows]).backward()
        t1 = time.perf_counter()
        dp._reduce(params, share / BATCH, 0.0)
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if it >= warm:
            allreduce = dp.allreduce_seconds - before
            for name, value in (("compute", t1 - t0), ("pack", t2 - t1 - allreduce), ("allreduce", allreduce),
                                ("update", t3 - t2), ("step", t3 - t0)):
                parts[name].append(1e3 * value)
    if dp.is_root:
        print(json.dumps({k: statistics.median(v) for k, v in parts.items()}))


def _launch(ranks, args, mode="--worker"):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    me = [sys.executable, os.path.abspath(__file__), mode, "--rows", str(args.rows), "--epochs", str(args.epochs)]
    if ranks:
        mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        cmd = [mpiexec, "-n", str(ranks)] + me + ["--distributed"]
    else:
        cmd = me
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True, timeout=600).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--rows", type=int, default=8192)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.rows, args.epochs, args.distributed)
    if args.phases:
        return phases()
    from chainrule.distributed import allreduce_cost

    results = {"plain fit": [], "1 rank": [], "2 ranks": []}
    for _ in range(args.rounds):
        for name, ranks in (("plain fit", 0), ("1 rank", 1), ("2 ranks", 2)):
            results[name].append(_launch(ranks, args))
    one = [1.0 / r["samples_per_s"] for r in results["1 rank"]]  # seconds per sample, round by round
    print(f"## MPI data-parallel scaling: {'-'.join(map(str, LAYERS))}, global batch {BATCH}, "
          f"{args.rows} rows x {args.epochs} epochs, medians of {args.rounds} interleaved rounds, "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| run | samples/s | speed-up vs 1 rank | Allreduce per step |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        sps = statistics.median(r["samples_per_s"] for r in runs)
        ar = statistics.median(r["allreduce_ms"] for r in runs)
        # The speed-up within each round (the runs of a round are seconds apart), then its median.
        speedup = fmt_paired(one, [1.0 / r["samples_per_s"] for r in runs])
        print(f"| {name} | {sps:,.0f} | {speedup} | {ar:.2f} ms |")
    print("\nSpeed-ups are medians of the per-round ratios, with the middle half of the rounds in brackets.")
    _print_phases([_launch(ranks, args, "--phases") for ranks in (1, 2)])
    n_params = sum(a * b + b for a, b in zip(LAYERS, LAYERS[1:]))
    print(f"\nRing Allreduce cost model for {n_params:,} float32 gradients (5 us latency per message):\n")
    print("| ranks | 10 Gbit/s | 100 Gbit/s |")
    print("|---|---|---|")
    for ranks in (8, 64, 512):
        cells = [f"{allreduce_cost(n_params, ranks, g).seconds * 1e3:.2f} ms" for g in (10, 100)]
        print(f"| {ranks} | {cells[0]} | {cells[1]} |")


def _print_phases(runs):
    """The step's parts for 1 and 2 ranks, and the speed-up the 2-rank compute and Allreduce allow."""
    one, two = runs
    print("\nOne step's parts (ms, medians of 50 steps after a barrier; 2 ranks: rank 0):\n")
    print("| ranks | forward + backward | pack gradients | Allreduce | optimiser step | step |")
    print("|---|---|---|---|---|---|")
    for n, r in ((1, one), (2, two)):
        print(f"| {n} | {r['compute']:.2f} | {r['pack']:.2f} | {r['allreduce']:.2f} | {r['update']:.2f} | {r['step']:.2f} |")
    fixed = two["pack"] + two["update"]
    print(f"\nStep speed-up {one['step'] / two['step']:.2f}x. With one Allreduce per step and the full update on every "
          f"rank, the most two ranks can give is (one rank's compute + F) / (a rank's compute beside the other + "
          f"Allreduce + F) <= {one['compute'] / (two['compute'] + two['allreduce']):.2f}x (F = packing and update, "
          f"{fixed:.2f} ms: smaller F only brings the ratio closer to that bound).")


if __name__ == "__main__":
    main()
