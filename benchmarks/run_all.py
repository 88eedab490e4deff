"""Run the benchmark suite and write one Markdown report.

Sections (``--only`` picks some; the default is all):

* ``ops``: per-op overhead and one MLP training step (:mod:`bench_ops`), plus the
  profile of a chainrule step (:mod:`profile_step`);
* ``train``: training throughput (:mod:`bench_train`) and peak memory
  (:mod:`bench_memory`);
* ``mnist``: seconds to a test accuracy on MNIST (:mod:`bench_mnist`);
* ``nets``: an LSTM at three sequence lengths, a digits CNN and LeNet-5 on MNIST
  against PyTorch eager (:mod:`bench_nets`);
* ``numba``: a whole epoch in one ``njit`` function, the best case of a Numba backend
  (:mod:`numba_experiment`);
* ``accuracy``: seconds to train the networks the tests check for accuracy
  (:mod:`bench_time_to_accuracy`); ``loop``: ``fit`` called once for several epochs, as
  users call it, and the same step in a hand-written loop, vs hand NumPy at batch 1, 32 and 256
  (:mod:`bench_fit_loop`, also part of ``ops``);
* ``memory`` and ``profile`` alone, for convenience;
* ``higher``: what gradients of gradients cost (:mod:`bench_higher`);
* ``optim``: one training step with each optimiser against PyTorch, and what updating small
  parameters as one array saves (:mod:`bench_optim`).

The report is printed and written to ``benchmarks/results/latest.md`` (the
folder is git-ignored). ``--quick`` uses small repeat counts and data so the
whole run takes well under a minute: a smoke test, not a measurement.

Run: ``python benchmarks/run_all.py [--quick] [--only ops|train|mnist|memory|profile ...]``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # also runnable as ``python -m`` or from another directory
    sys.path.insert(0, HERE)

import _common  # noqa: E402

SECTIONS = {
    "ops": ("bench_ops", "profile_step", "bench_fit_loop"),
    "train": ("bench_train", "bench_memory"),
    "mnist": ("bench_mnist",),
    "nets": ("bench_nets",),
    "numba": ("numba_experiment",),
    "memory": ("bench_memory",),
    "profile": ("profile_step",),
    "loop": ("bench_fit_loop",),
    "accuracy": ("bench_time_to_accuracy",),
    "higher": ("bench_higher",),
    "optim": ("bench_optim",),
}
ORDER = ("bench_ops", "profile_step", "bench_fit_loop", "bench_train", "bench_memory", "bench_mnist", "bench_time_to_accuracy",
         "bench_nets", "numba_experiment", "bench_higher", "bench_optim")


def _git_commit():
    """Short hash of HEAD (with '+dirty' when the work tree differs), or 'unknown'."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=_common.ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=_common.ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def header(quick, modules):
    """The report's title block: when, which commit, which machine and BLAS."""
    import chainrule

    _common.torch_or_none()  # imported first so the BLAS report lists its thread pool too
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"# chainrule benchmarks{' (quick smoke run: numbers are not measurements)' if quick else ''}",
             "", f"- {when}, chainrule {chainrule.__version__} at commit {_git_commit()}",
             f"- sections: {', '.join(modules)}"]
    lines += _common.blas_report()
    if _common.jax_or_none() is not None:
        lines.append(_common.xla_threads_note())
    lines += ["- Method: contenders interleaved in rotating order, medians of repeats (ratios in the training, "
              "optimiser and nets sections: medians of per-round ratios); with 2 BLAS "
              f"threads a {_common.SETTLE:.2f} s untimed pause before each contender lets the previous "
              "library's spinning worker threads go idle.", ""]
    return lines


def run(quick=False, only=None):
    """Run the chosen sections; return the report as one string."""
    wanted = set()
    for key in only or ("ops", "train", "mnist", "accuracy", "nets", "numba"):
        wanted.update(SECTIONS[key])
    modules = [m for m in ORDER if m in wanted]
    lines = header(quick, modules)
    for name in modules:
        t0 = time.perf_counter()
        module = __import__(name)
        lines += module.run(quick=quick)
        lines.append(f"_{name}: {time.perf_counter() - t0:.1f} s_")
        lines.append("")
        print(f"[run_all] {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small repeat counts (< 60 s; a smoke test)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latest.md"),
                        help="where to write the report (default benchmarks/results/latest.md)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    report = run(quick=args.quick, only=args.only)
    report += f"\nTotal: {time.perf_counter() - t0:.1f} s\n"
    print(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(report)
    print(f"[run_all] report written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
