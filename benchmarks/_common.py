"""Shared helpers for the benchmark scripts: timing, tables, threads, data.

Timings on a small shared machine are noisy, so every measurement here is
interleaved (each repeat runs every contender once, in a rotating order) and
summarised by the median. Nothing in this module changes BLAS environment
variables; thread counts are limited at run time through threadpoolctl and
``torch.set_num_threads``, and XLA's through ``XLA_FLAGS`` (see :func:`jax_or_none`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Let the scripts run from a plain checkout too (the venv installs chainrule editable).
_SRC = os.path.join(ROOT, "src")
if _SRC not in sys.path:
    sys.path.append(_SRC)

__all__ = [
    "HERE", "ROOT", "cli", "interleaved", "per_call", "settle_for", "md_table", "fmt_us", "fmt_ratio", "fmt_paired",
    "paired_ratio",
    "torch_or_none", "sklearn_or_none", "thread_limit", "blas_report", "load_digits_data", "median",
]


def median(values):
    """Median of a non-empty sequence (a float)."""
    return float(statistics.median(values))


def interleaved(tasks, repeats, offset=0, settle=0.0):
    """Run every task once per repeat, rotating the order; return {name: [seconds...]}.

    Args:
        tasks: dict ``name -> callable()`` returning the elapsed seconds it measured
            itself, or None to be timed here as a whole.
        repeats: how many rounds.
        offset: where the rotation starts (callers that run one round at a time
            pass their round number).
        settle: seconds to sleep (untimed) before each task. With more than one
            BLAS thread, OpenBLAS and OpenMP workers keep spinning for a while
            after a call; on 2 cores a contender that starts right after another
            library would be slowed by the previous one's idle spinners, which no
            single-library user ever sees.

    Rotating the order means no contender always runs right after the same
    neighbour (cache and frequency effects spread evenly).
    """
    names = list(tasks)
    times = {name: [] for name in names}
    for r in range(repeats):
        k = (r + offset) % len(names) if names else 0
        for name in names[k:] + names[:k]:
            if settle:
                time.sleep(settle)
            t0 = time.perf_counter()
            measured = tasks[name]()
            elapsed = time.perf_counter() - t0
            times[name].append(elapsed if measured is None else measured)
    return times


def per_call(f, number):
    """Seconds per call of ``f()`` over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        f()
    return (time.perf_counter() - start) / number


def settle_for(threads, quick=False):
    """Pause between interleaved contenders: only multi-threaded pools spin after a call.

    Smoke runs (``quick``) skip it: their numbers are not measurements anyway.
    """
    return 0.0 if threads == 1 or quick else SETTLE


SETTLE = 0.15  # measured: 0.1 s lets OpenBLAS's spinning workers go idle on this machine


def md_table(headers, rows):
    """A Markdown table (list of strings) from headers and rows of printable cells."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    return out


def fmt_us(seconds):
    """Seconds as microseconds with sensible precision ('-' when missing)."""
    if seconds is None:
        return "-"
    us = seconds * 1e6
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 1000 else f"{us:,.0f}"


def fmt_ratio(a, b):
    """a / b formatted as '1.23x' ('-' when either side is missing)."""
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def paired_ratio(a, b):
    """Median and quartiles of ``a[i] / b[i]`` over rounds, or None when either side is missing.

    ``a`` and ``b`` are one contender's and another's times from the same rounds of
    :func:`interleaved`. Timed minutes apart, one library can catch the machine at twice the
    speed of the other (seen on shared 2-core machines); timed in the same round, both see the
    same speed, so the per-round ratio cancels that drift where a ratio of medians does not.

    Example:
        >>> paired_ratio([2.0, 4.0, 9.0], [1.0, 2.0, 3.0])   # the machine slowed down in round 2
        (2.0, 2.0, 2.5)
    """
    if not a or not b:
        return None
    if len(a) != len(b):
        raise ValueError(f"paired_ratio needs times from the same rounds, got {len(a)} and {len(b)}")
    q1, med, q3 = statistics.quantiles([x / y for x, y in zip(a, b)], n=4, method="inclusive") if len(a) > 1 \
        else (a[0] / b[0],) * 3
    return float(med), float(q1), float(q3)


def fmt_paired(a, b):
    """:func:`paired_ratio` as '1.23x (1.20-1.27)': the median, then the middle half of the rounds."""
    r = paired_ratio(a, b)
    if r is None:
        return "-"
    med, q1, q3 = r
    return f"{med:.2f}x" if len(a) == 1 else f"{med:.2f}x ({q1:.2f}-{q3:.2f})"


def torch_or_none():
    """The torch module, or None when it cannot be imported."""
    try:
        import torch
    except Exception:  # an absent or broken install both mean "skip torch"
        return None
    return torch


def sklearn_or_none():
    """sklearn.neural_network.MLPClassifier, or None when scikit-learn is absent."""
    try:
        from sklearn.neural_network import MLPClassifier
    except Exception:
        return None
    return MLPClassifier


def bench_threads():
    """BLAS thread counts to measure: ``BENCH_THREADS`` ("1" or "1,2"; default both)."""
    return tuple(int(t) for t in os.environ.get("BENCH_THREADS", "1,2").split(","))


def importable(name):
    """True when module ``name`` can be imported (an absent or broken install both mean False)."""
    try:
        __import__(name)
    except Exception:
        return False
    return True


#: XLA's CPU flags for one thread, set by :func:`jax_or_none` when only 1-thread settings are measured.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def jax_or_none():
    """The jax module (CPU, float32), or None when it cannot be imported.

    With ``BENCH_THREADS=1`` (and no ``XLA_FLAGS`` of the user's), XLA is held to one thread like
    BLAS: its own thread pool otherwise gives JAX the second core that NumPy, PyTorch and the
    chainrule backends are not given, and makes its timings swing with whatever else runs. XLA
    reads the flags when its CPU client starts, on first use, so this must precede any jax call.
    """
    if bench_threads() == (1,):
        os.environ.setdefault("XLA_FLAGS", XLA_ONE_THREAD)
    try:
        import jax
    except Exception:
        return None
    return jax


def xla_threads_note():
    """A line for the report saying how many threads XLA was given."""
    flags = os.environ.get("XLA_FLAGS", "")
    if flags == XLA_ONE_THREAD:
        return "- XLA (JAX): held to 1 thread like BLAS (XLA_FLAGS=" + XLA_ONE_THREAD + ")"
    return f"- XLA (JAX): its default thread pool{' with XLA_FLAGS=' + flags if flags else ''} (measure with BENCH_THREADS=1 to hold it to 1 thread)"


def _load_numba_blas():
    """Load the BLAS that Numba's compiled products call (SciPy's, through ``scipy.linalg.cython_blas``).

    threadpoolctl limits only the libraries loaded when the limit is set, and Numba loads this one
    at its first compiled product, after the limit: the numba contenders then ran their products
    on 2 threads while every other contender had 1.
    """
    if importable("numba") and importable("scipy"):
        import scipy.linalg.cython_blas  # noqa: F401 - loaded for threadpoolctl to see it


@contextlib.contextmanager
def thread_limit(n):
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch's intra-op pool to ``n`` threads.

    ``n=None`` leaves everything as it is. Without threadpoolctl only torch is
    limited, which the report says.
    """
    if n is None:
        yield
        return
    _load_numba_blas()
    torch = sys.modules.get("torch")
    old = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    try:
        if threadpool_limits is None:
            yield
        else:
            with threadpool_limits(limits=n):
                yield
    finally:
        if torch is not None:
            torch.set_num_threads(old)


def blas_name():
    """NumPy's BLAS as 'openblas 0.3.31 (SkylakeX)', from threadpoolctl; 'unknown' without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", "").lower():
            return f"{info.get('internal_api')} {info.get('version') or ''} ({info.get('architecture') or '?'})"
    return "unknown"


def torch_blas_name():
    """The BLAS that PyTorch was built with (its build settings), e.g. 'mkl'; 'unknown' if it does not say."""
    torch = sys.modules.get("torch")
    config = torch.__config__.show() if torch is not None else ""
    found = [part.split("=", 1)[1] for part in config.replace(",", " ").split() if part.startswith("BLAS_INFO=")]
    return found[0] if found else "unknown"


def blas_report():
    """Markdown lines naming the machine, the BLAS libraries and their thread pools."""
    lines = [
        f"- Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{os.cpu_count()} logical CPUs, {platform.machine()}",
    ]
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            lines.append(
                f"- {info.get('user_api')}: {info.get('internal_api')} {info.get('version') or ''} "
                f"({info.get('architecture') or info.get('prefix')}), {info.get('num_threads')} threads"
                f" [{os.path.basename(info.get('filepath', ''))}]"
            )
    except ImportError:
        lines.append("- threadpoolctl not installed: BLAS thread counts unknown and not limited")
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(f"- PyTorch {torch.__version__}: {torch.get_num_threads()} intra-op threads")
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        lines.append(f"- load average (1, 5, 15 min) when the report started: {load} "
                     "(other processes on a 2-core machine distort the 2-thread rows most)")
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}
    if env:
        lines.append("- environment: " + ", ".join(f"{k}={v}" for k, v in sorted(env.items())))
    return lines


def load_digits_data():
    """scikit-learn's 8x8 digits as float32 in [0, 1] and int64 labels (1,797 rows).

    Without scikit-learn, random data of the same shape stands in (labels from
    a random linear teacher) and :data:`DIGITS_NOTE` says so for the report.
    """
    global DIGITS_NOTE
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        DIGITS_NOTE = "scikit-learn is absent: 'digits' is random data of the same shape (1,797 x 64)"
        rng = np.random.default_rng(0)
        x = rng.random((1797, 64), dtype=np.float32)
        return x, (x @ rng.standard_normal((64, 10)).astype(np.float32)).argmax(axis=1)
    ds = load_digits()
    x = (ds.data / 16.0).astype(np.float32)
    return np.ascontiguousarray(x), ds.target.astype(np.int64)


DIGITS_NOTE = ""


def cli(doc, run, argv=None):
    """Command line of a section script: ``--quick``, then print ``run(quick=...)``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, small data (a smoke run)")
    args = parser.parse_args(argv)
    print("\n".join(run(quick=args.quick)))
    return 0
