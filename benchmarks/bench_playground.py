"""Playground frame rate: how many frames per second the server produces for a playing session.

A frame is what a playing session publishes: whole epochs sized to about 20 ms of
training (at least one), then the losses, metrics and every heat map (the
100 x 100 output grid and each neuron's thumbnail), encoded as the JSON the
socket sends. Measured in-process on the session's own loop (no browser), for
the default network and the largest allowed one (8 hidden layers x 32 neurons,
all 7 features), each for a few seconds; targets: >= 30 and >= 10 frames/s.
The CPU time per frame gives the rate on a free core when the shared machine is busy.

    python benchmarks/bench_playground.py [--seconds 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import _common  # noqa: F401  (puts src/ on the path)

from chainrule.playground.frames import build_frame
from chainrule.playground.session import FRAME_BUDGET
from chainrule.playground.trainer import Trainer

CASES = {
    "default (2 inputs, 4-2, circle, batch 10)": {},
    "largest (7 inputs, 8 x 32, circle, batch 10)": {
        "networkShape": [32] * 8, "xSquared": True, "ySquared": True, "xTimesY": True, "sinX": True, "sinY": True},
    "largest, 3-arm spiral, Adam, 90 % train": {
        "networkShape": [32] * 8, "xSquared": True, "ySquared": True, "xTimesY": True, "sinX": True, "sinY": True,
        "dataset": "spiral3", "optimizer": "adam", "percTrainData": 90},
}


def run(settings, seconds):
    """Frames/s, epochs/s, frame bytes and CPU costs of a session loop like Session._play_chunk (no 60 Hz cap).

    Returns ``(frames/s, epochs/s, median frame bytes, median frame seconds, free-core frames/s)``; the
    last is ``1 / (max(budget, CPU per epoch) + CPU per frame build)``: what a core of its own would give.
    """
    t = Trainer({"seed": "1", **settings})
    epoch_s, frames, sizes, gaps, train_cpu, frame_cpu = 0.002, 0, [], [], 0.0, 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        began, cpu0 = time.perf_counter(), time.process_time()
        count = max(1, int(FRAME_BUDGET / max(epoch_s, 1e-5)))
        t.run_epochs(count)
        epoch_s = (time.perf_counter() - began) / count
        cpu1 = time.process_time()
        sizes.append(len(json.dumps(build_frame(t), separators=(",", ":"))))
        train_cpu, frame_cpu = train_cpu + cpu1 - cpu0, frame_cpu + time.process_time() - cpu1
        gaps.append(time.perf_counter() - began)
        frames += 1
    elapsed = time.perf_counter() - start
    free_core = 1 / (max(FRAME_BUDGET, train_cpu / t.epoch) + frame_cpu / frames)
    return frames / elapsed, t.epoch / elapsed, statistics.median(sizes), statistics.median(gaps), free_core


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per case, split over the rounds")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (the server uses 1; 0 = leave the BLAS default)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the table shows medians")
    args = parser.parse_args()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads)
    results = {name: [] for name in CASES}
    for _ in range(args.rounds):  # interleaved, so a burst of load on the shared machine hits every case
        for name, settings in CASES.items():
            results[name].append(run(settings, args.seconds / args.rounds))
    # CPU times say what a core of its own would give, whatever else the shared machine runs.
    print("| case | frames/s | epochs/s | median frame | frames/s on a free core | frame bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in results.items():
        fps, eps, size, gap, free = (statistics.median(col) for col in zip(*rows))
        print(f"| {name} | {fps:.1f} | {eps:.0f} | {gap * 1e3:.1f} ms | {free:.0f} | {size / 1e3:.0f} KB |")


if __name__ == "__main__":
    main()
