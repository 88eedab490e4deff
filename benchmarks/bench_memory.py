"""Peak memory of one training epoch, one fresh subprocess per contender.

A subprocess per contender keeps the numbers fair: PyTorch's import alone is
a few hundred MB that a NumPy-only process never pays, and allocator caches of
one library must not be charged to another. Each child process:

1. imports its library and loads the data: the RSS then is the *baseline*;
2. resets the kernel's peak-RSS mark (``/proc/self/clear_refs``), builds the
   model and trains two epochs the way a user of that library would (chainrule:
   one ``fit`` call that shuffles by itself; scikit-learn: ``partial_fit`` on the
   arrays as given), so no permuted copy of the data set is charged to anyone:
   *training peak* is the peak RSS minus the baseline (parameters, gradients,
   activations, optimiser state, caches);
3. builds a second model and trains one epoch under :mod:`tracemalloc`, whose
   peak counts NumPy buffers and Python objects (PyTorch's allocator is not
   traced: "n/a" there).

Run: ``python benchmarks/bench_memory.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc

import _common
from _common import md_table

CONTENDERS = ("numpy", "chainrule", "chainrule-eager-fit", "torch", "sklearn")
WORKLOADS = {"digits": 32, "big": 128}  # workload -> batch size


def _status_kb(field):
    """A VmRSS/VmHWM field of /proc/self/status in kB (None off Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak():
    """Make VmHWM equal the current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _setup(key, workload, n_big):
    """Data and a factory for one contender (same init as the throughput tables)."""
    import bench_train
    from contenders import make_all
    from reference_numpy import he_uniform

    spec = bench_train.DIGITS if workload == "digits" else bench_train.BIG
    if workload == "digits":
        x, y = _common.load_digits_data()
    else:
        x, y = bench_train.synthetic_data(n_big, spec["sizes"])
    # Import the contender's library now, so its import is part of the baseline.
    {"torch": _common.torch_or_none, "sklearn": _common.sklearn_or_none}.get(key, lambda: None)()
    weights, biases = he_uniform(spec["sizes"], seed=0)

    def build():
        contenders, skipped = make_all(weights, biases, spec["lr"][WORKLOADS[workload]], spec["sizes"][-1],
                                       which=(key,))
        if not contenders:
            raise SystemExit(json.dumps({"skipped": skipped[0]}))
        return contenders[0]

    return build, x, y, WORKLOADS[workload]


def child(key, workload, n_big):
    """Measure one contender on one workload; print one JSON line."""
    build, x, y, batch = _setup(key, workload, n_big)
    gc.collect()
    base = _status_kb("VmRSS")
    exact = _reset_peak()
    c = build()
    c.train_native(x, y, 2, batch)
    peak = _status_kb("VmHWM")
    tm = None
    if key != "torch":
        tracemalloc.start()
        fresh = build()
        fresh.train_native(x, y, 1, batch)
        tm = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps({"name": c.name, "path": c.path, "rss_kb": base, "peak_kb": peak,
                      "exact": exact, "tracemalloc": tm}))


def _spawn(key, workload, n_big):
    """Run :func:`child` in a fresh interpreter; its JSON result or an error dict."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", key, workload, str(n_big)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:100]}


def _mb(kb):
    return "-" if kb is None else f"{kb / 1024:.1f}"


def _row(workload, key, r):
    if "error" in r or "skipped" in r:
        return [workload, key, r.get("error") or r.get("skipped"), "-", "-", "-"]
    rise = None if r["peak_kb"] is None or r["rss_kb"] is None else r["peak_kb"] - r["rss_kb"]
    note = "" if r["exact"] else " (peak since process start)"
    tm = "n/a" if r["tracemalloc"] is None else f"{r['tracemalloc'] / 2**20:.2f}"
    return [workload, r["name"], _mb(r["rss_kb"]), _mb(r["peak_kb"]), _mb(rise) + note, tm]


def run(quick=False):
    """The memory section of the report, as Markdown lines."""
    n_big = 1024 if quick else 4096
    # A smoke run skips the slow imports (PyTorch, scikit-learn) and the big net.
    plan = [("digits", k) for k in (CONTENDERS[:2] if quick else CONTENDERS)]
    plan += [] if quick else [("big", k) for k in CONTENDERS]
    rows = [_row(w, k, _spawn(k, w, n_big)) for w, k in plan]
    headers = ["workload", "contender", "baseline RSS MB (imports + data)", "peak RSS MB",
               "training peak above baseline MB", "tracemalloc peak MB"]
    lines = ["## Peak memory of training (fresh process per contender, model built + 2 epochs)", ""]
    lines += [f"Workloads: digits 64-128-64-10 batch 32 (1,797 samples); "
              f"big 784-512-512-10 batch 128 ({n_big} samples)"
              f"{'; --quick measures only NumPy and chainrule on digits' if quick else ''}.",
              "RSS includes the interpreter and every imported library (PyTorch's own is large).", ""]
    return lines + md_table(headers, rows) + [""]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits only")
    parser.add_argument("--child", nargs=3, metavar=("CONTENDER", "WORKLOAD", "N_BIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        key, workload, n_big = args.child
        return child(key, workload, int(n_big))
    print("\n".join(run(quick=args.quick)))


if __name__ == "__main__":
    sys.exit(main())
