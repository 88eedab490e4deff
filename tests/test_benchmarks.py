"""The benchmark yardstick computes the same training step as chainrule, and the suite runs."""

import ast
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
sys.path.insert(0, BENCH)
from reference_numpy import NumpyMLP, he_uniform  # noqa: E402


def test_hand_numpy_reference_equals_a_chainrule_sgd_step():
    sizes = [6, 8, 5, 3]
    weights, biases = he_uniform(sizes, seed=1)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    y = rng.integers(0, 3, 7)
    ref = NumpyMLP(weights, biases, lr=0.1)
    ref_loss = ref.step(x, y)

    model = nn.MLP(sizes, activation="relu", seed=0)
    layers = [*model.hidden, model.output]
    for layer, w, b in zip(layers, weights, biases):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = cr.softmax_cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    assert loss.item() == pytest.approx(float(ref_loss), rel=1e-5)
    for layer, w, b in zip(layers, *ref.params()):
        np.testing.assert_allclose(layer.weight.data, w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.bias.data, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_benchmark_suite_smoke_run(tmp_path):
    out = tmp_path / "report.md"
    p = subprocess.run([sys.executable, os.path.join(BENCH, "run_all.py"), "--quick", "--only", "ops", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    text = out.read_text()
    assert "chainrule" in text and "NumPy" in text and "x |" in text


def test_optimiser_benchmark_smoke_run():
    p = subprocess.run([sys.executable, os.path.join(BENCH, "bench_optim.py"), "--quick"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    rows = [line for line in p.stdout.splitlines() if line.startswith("| ") and " | 32 | " in line]
    assert [r.split(" | ")[0] for r in rows] == ["| SGD momentum 0.9", "| Adagrad", "| RMSProp", "| Adam", "| AdamW"]
    header = next(line for line in p.stdout.splitlines() if line.startswith("| rule"))
    column = header.split(" | ").index("chainrule compiled (numba), epoch call µs/step")
    numba = importlib.util.find_spec("numba") is not None
    assert all((r.split(" | ")[column] != "-") == numba for r in rows)   # measured exactly when numba is there


def _bench_common():
    """benchmarks/_common.py under its own name: examples/ has a ``_common`` module too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_common_for_tests", os.path.join(BENCH, "_common.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_ratio_cancels_a_machine_that_changes_speed_between_rounds():
    _common = _bench_common()

    # The second contender is always 1.5x the first, while the machine runs 1x, 3x and 2x slow.
    a, b = [1.0, 3.0, 2.0, 1.0, 3.0], [1.5, 4.5, 3.0, 1.5, 4.5]
    assert _common.paired_ratio(b, a) == pytest.approx((1.5, 1.5, 1.5))
    # Rounds that disagree (ratios 1.5, 0.5, 1.5, 0.5): the quartiles show the spread.
    assert _common.paired_ratio([3.0, 1.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]) == pytest.approx((1.0, 0.5, 1.5))
    assert _common.fmt_paired(b, a) == "1.50x (1.50-1.50)"
    assert _common.fmt_paired([2.0], [1.0]) == "2.00x"
    assert _common.fmt_paired(None, a) == "-" and _common.paired_ratio(a, []) is None
    with pytest.raises(ValueError, match="same rounds, got 2 and 1"):
        _common.paired_ratio([1.0, 2.0], [1.0])


@pytest.mark.parametrize("threads, user_flags, expected", [
    ("1", None, "one"), ("1,2", None, None), ("2", None, None), ("1", "--xla_dump_to=/tmp/x", "--xla_dump_to=/tmp/x"),
])
def test_xla_is_held_to_one_thread_exactly_when_only_one_thread_is_measured(monkeypatch, threads, user_flags, expected):
    _common = _bench_common()
    monkeypatch.setenv("BENCH_THREADS", threads)
    if user_flags is None:
        monkeypatch.delenv("XLA_FLAGS", raising=False)
    else:
        monkeypatch.setenv("XLA_FLAGS", user_flags)  # a user's own flags are never replaced
    _common.jax_or_none()
    expected = _common.XLA_ONE_THREAD if expected == "one" else expected
    assert os.environ.get("XLA_FLAGS") == expected
    note = _common.xla_threads_note()
    assert ("held to 1 thread" in note) == (expected == _common.XLA_ONE_THREAD)
    assert user_flags is None or user_flags in note


def test_the_thread_limit_also_holds_the_blas_that_numbas_products_call():
    pytest.importorskip("numba", reason="the numba contenders need the optional extra chainrule[numba]")
    pytest.importorskip("scipy", reason="numba's products call SciPy's BLAS")
    pytest.importorskip("threadpoolctl", reason="the benchmarks limit threads with threadpoolctl")
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import _common\n"
        "from threadpoolctl import threadpool_info\n"
        "with _common.thread_limit(1):\n"
        "    import scipy.linalg.cython_blas  # what numba loads at its first compiled product\n"
        "    print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))\n"
    ) % BENCH
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[1]"


def test_torch_blas_name_reads_pytorchs_build_settings(monkeypatch):
    common = _bench_common()

    class FakeConfig:
        @staticmethod
        def show():
            return "PyTorch built with:\n  - Build settings: BLAS_INFO=mkl, BUILD_TYPE=Release, CXX_COMPILER=/usr/bin/c++"

    fake = type("FakeTorch", (), {"__config__": FakeConfig})
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert common.torch_blas_name() == "mkl"
    FakeConfig.show = staticmethod(lambda: "PyTorch built with: nothing about BLAS")
    assert common.torch_blas_name() == "unknown"
    monkeypatch.delitem(sys.modules, "torch")
    assert common.torch_blas_name() == "unknown"


def test_the_lstm_products_are_timed_in_both_blas_libraries():
    pytest.importorskip("torch", reason="the BLAS comparison needs PyTorch (pip install torch==2.13.0)")
    code = ("import _common, bench_nets\n"
            "with _common.thread_limit(1):\n"
            "    rows = bench_nets.blas_rows(quick=True)\n"
            "print(repr(rows))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=BENCH, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    rows = ast.literal_eval(p.stdout.strip().splitlines()[-1])
    assert [r[0].split(":")[0] for r in rows] == ["32 x 128 by 128 x 512", "32 x 512 by 512 x 128",
                                                  "128 x 3200 by 3200 x 512", "3200 x 32 by 32 x 512"]
    for row in rows:
        assert all(float(v) > 0 for v in row[1:5])
        assert row[5].split("x")[0].replace(".", "").isdigit()


def test_blas_name_picks_numpys_blas_from_threadpoolctl(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="blas_name reads threadpoolctl's report")
    common = _bench_common()
    pools = [{"user_api": "openmp", "internal_api": "openmp", "filepath": "/x/libgomp.so"},
             {"user_api": "blas", "internal_api": "mkl", "version": "2024", "filepath": "/x/torch/lib/libmkl.so"},
             {"user_api": "blas", "internal_api": "openblas", "version": "0.3.31", "architecture": "SkylakeX",
              "filepath": "/x/numpy.libs/libscipy_openblas64_.so"}]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools)
    assert common.blas_name() == "openblas 0.3.31 (SkylakeX)"
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools[:2])
    assert common.blas_name() == "unknown"
