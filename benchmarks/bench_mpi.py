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


def _launch(ranks, args):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    me = [sys.executable, os.path.abspath(__file__), "--worker", "--rows", str(args.rows), "--epochs", str(args.epochs)]
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
    args = p.parse_args()
    if args.worker:
        return worker(args.rows, args.epochs, args.distributed)
    from chainrule.distributed import allreduce_cost

    results = {"plain fit": [], "1 rank": [], "2 ranks": []}
    for _ in range(args.rounds):
        for name, ranks in (("plain fit", 0), ("1 rank", 1), ("2 ranks", 2)):
            results[name].append(_launch(ranks, args))
    base = statistics.median(r["samples_per_s"] for r in results["1 rank"])
    print(f"## MPI data-parallel scaling: {'-'.join(map(str, LAYERS))}, global batch {BATCH}, "
          f"{args.rows} rows x {args.epochs} epochs, medians of {args.rounds} interleaved rounds, "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| run | samples/s | speed-up vs 1 rank | Allreduce per step |")
    print("|---|---|---|---|")
    for name, runs in results.items():
        sps = statistics.median(r["samples_per_s"] for r in runs)
        ar = statistics.median(r["allreduce_ms"] for r in runs)
        print(f"| {name} | {sps:,.0f} | {sps / base:.2f}x | {ar:.2f} ms |")
    n_params = sum(a * b + b for a, b in zip(LAYERS, LAYERS[1:]))
    print(f"\nRing Allreduce cost model for {n_params:,} float32 gradients (5 us latency per message):\n")
    print("| ranks | 10 Gbit/s | 100 Gbit/s |")
    print("|---|---|---|")
    for ranks in (8, 64, 512):
        cells = [f"{allreduce_cost(n_params, ranks, g).seconds * 1e3:.2f} ms" for g in (10, 100)]
        print(f"| {ranks} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
