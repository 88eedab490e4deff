"""The defaults table of docs/cli.md, reproduced on iris and diabetes (the benchmark script runs all six sets)."""

import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
pytest.importorskip("sklearn", reason="the comparison needs scikit-learn")
import bench_defaults  # noqa: E402


def _documented_rows():
    text = open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8").read()
    rows = re.findall(r"^\| (\w+) \((?:accuracy|R\^2)\) \| ([-\d.]+) \| ([-\d.]+) \| ([-\d.]+) \|$", text, re.M)
    return {name: tuple(float(v) for v in values) for name, *values in rows}


def test_defaults_match_or_beat_scikit_learn_on_iris_and_diabetes():
    results = bench_defaults.measure(["iris", "diabetes"], seeds=5)
    documented = _documented_rows()
    for name, r in results.items():
        assert r["chainrule"] >= r["mlp"], (name, r)
        got = (r["chainrule"], r["mlp"], r["linear"])
        assert got == pytest.approx(documented[name], abs=1e-4), name  # the table in docs/cli.md
    assert set(documented) == set(bench_defaults.SETS)
