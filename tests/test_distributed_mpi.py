"""Data-parallel training on MPI: N ranks with global batch B give one process's weights with batch B."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

pytest.importorskip("mpi4py", reason="the MPI tests need the extra chainrule[mpi] (mpi4py + mpich)")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on PATH (pip install mpich)")

SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import chainrule as cr
    from chainrule import nn
    cfg = json.loads(sys.argv[1])
    cr.set_default_dtype(np.dtype(cfg["dtype"]))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(cfg["n"], 4)).astype(cfg["dtype"]); y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    model = nn.MLP([4, 16, 8, 2], seed=1, dtype=cfg["dtype"])
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if cfg["opt"] == "sgd" else \\
        cr.optim.Adam(model.parameters(), lr=0.01)
    dp = None if cfg["ranks"] == 0 else "mpi"
    h = cr.fit(model, "cross_entropy", opt, (X, y), epochs=cfg["epochs"], batch_size=cfg["batch"], seed=3,
               metrics=["accuracy"], verbose=0, distributed=dp, checkpoint_dir=cfg.get("ckpt"),
               resume=cfg.get("resume", False), regularization=cfg.get("reg"))
    if dp is None or __import__("mpi4py").MPI.COMM_WORLD.Get_rank() == 0:
        np.savez(cfg["out"], loss=np.array(h["loss"]), acc=np.array(h["accuracy"]),
                 **{k: v for k, v in model.state_dict().items()})
''')


def _run(tmp_path, ranks, **cfg):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"out{ranks}.npz"
    cfg = {"n": 103, "batch": 20, "epochs": 2, "dtype": "float32", "opt": "sgd", "ranks": ranks, "out": str(out), **cfg}
    cmd = [sys.executable, str(script), json.dumps(cfg)]
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks)] + cmd
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return dict(np.load(out))


@pytest.mark.parametrize("ranks", [1, 2, 3, 4])
def test_n_ranks_equal_one_process_float32(tmp_path, ranks):
    # 103 rows in batches of 20: the last batch has 3 rows, so with 4 ranks one rank has none.
    one, many = _run(tmp_path, 0), _run(tmp_path, ranks)
    for key in one:
        np.testing.assert_allclose(many[key], one[key], atol=1e-6, rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_float64_agreement_is_tight(tmp_path, opt):
    one, many = _run(tmp_path, 0, dtype="float64", opt=opt), _run(tmp_path, 3, dtype="float64", opt=opt)
    for key in one:
        np.testing.assert_allclose(many[key], one[key], atol=1e-12, rtol=1e-11, err_msg=key)


def test_regularisation_counted_once(tmp_path):
    one = _run(tmp_path, 0, reg={"l2": 0.01}, dtype="float64")
    many = _run(tmp_path, 2, reg={"l2": 0.01}, dtype="float64")
    for key in one:
        np.testing.assert_allclose(many[key], one[key], atol=1e-12, rtol=1e-11, err_msg=key)


def test_resume_on_a_different_number_of_ranks(tmp_path):
    pytest.importorskip("safetensors")
    full = _run(tmp_path, 0, epochs=4, dtype="float64")
    ckpt = str(tmp_path / "ckpt")
    _run(tmp_path, 2, epochs=2, dtype="float64", ckpt=ckpt)
    resumed = _run(tmp_path, 3, epochs=4, dtype="float64", ckpt=ckpt, resume=True)
    for key in full:
        if key not in ("loss", "acc"):
            np.testing.assert_allclose(resumed[key], full[key], atol=1e-12, err_msg=key)


def test_a_failing_rank_ends_the_job_with_one_line_naming_it(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text(textwrap.dedent('''
        import numpy as np, chainrule as cr
        from mpi4py import MPI
        from chainrule import nn
        X = np.random.default_rng(0).normal(size=(40, 2)).astype("float32"); y = (X[:, 0] > 0).astype(int)
        class Bad(cr.callbacks.Callback):
            def on_epoch_end(self, ctx, epoch, logs):
                if MPI.COMM_WORLD.Get_rank() == 1 and epoch == 1:
                    raise ValueError("rank one ran out of luck")
        cr.fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "sgd", (X, y), epochs=50, batch_size=10, seed=0,
               verbose=0, distributed="mpi", callbacks=[Bad()])
    '''))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode != 0
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert lines == ["error: rank 1 of 2: rank one ran out of luck"], done.stderr
    assert "Traceback" not in done.stderr


def test_collective_timeout_names_the_wait(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent('''
        import time, numpy as np
        from mpi4py import MPI
        from chainrule.distributed import DataParallel
        dp = DataParallel(timeout=1.0)
        if dp.rank == 1:
            time.sleep(30)
        dp.allreduce_(np.ones(3))
    '''))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode != 0
    assert "error: rank 0 of 2: no answer from the other ranks within 1 s during the gradient Allreduce" in done.stderr


def test_shard_bounds_cover_every_row_once():
    from chainrule.distributed.mpi import _bounds

    for n in range(0, 13):
        for size in range(1, 6):
            parts = [_bounds(n, size, r) for r in range(size)]
            assert parts[0][0] == 0 and parts[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
            assert max(h - lo for lo, h in parts) - min(h - lo for lo, h in parts) <= 1


def test_resolve_parallel_errors():
    from chainrule.distributed import resolve_parallel

    assert resolve_parallel(None) is None
    with pytest.raises(ValueError, match="unknown distributed backend 'horovod'; expected one of: mpi"):
        resolve_parallel("horovod")
    with pytest.raises(TypeError, match="distributed must be None"):
        resolve_parallel(3)


def test_allreduce_cost_model():
    from chainrule.distributed import allreduce_cost

    one = allreduce_cost(1000, 1, 10)
    assert one.bytes_per_rank == 0 and one.seconds == 0
    big = allreduce_cost(669_706, 512, 100, latency_us=5)
    assert big.bytes_per_rank == pytest.approx(2 * 511 / 512 * 669_706 * 4)
    assert big.latency_seconds == pytest.approx(2 * 511 * 5e-6)
    with pytest.raises(ValueError, match="ranks must be a positive integer, got 0"):
        allreduce_cost(10, 0, 10)


def test_nn_fit_without_mpi_is_untouched():
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    h = cr.fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "sgd", (X, y), epochs=2, seed=0, verbose=0)
    assert len(h) == 2


def test_cli_workers_gives_the_single_process_model(tmp_path):
    pytest.importorskip("safetensors")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    base = [sys.executable, "-m", "chainrule", "train", "circle", "--hidden", "8", "--epochs", "3", "-q", "--no-plots"]
    one = subprocess.run(base + ["-o", "one"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    two = subprocess.run(base + ["-o", "two", "--workers", "2"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert two.stdout.count("trained 3 epochs") == 1  # rank 0 alone reports
    a, b = (cr.load(str(tmp_path / d / "model.safetensors")).state_dict() for d in ("one", "two"))
    for key in a:
        np.testing.assert_allclose(b[key], a[key], atol=1e-6)
    bad = subprocess.run(base + ["-o", "bad", "--workers", "2", "--lr", "-1"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("error:") == 1 and "Traceback" not in bad.stderr


def test_a_killed_rank_is_named_and_the_run_resumes_to_the_uninterrupted_weights(tmp_path):
    pytest.importorskip("safetensors")
    import signal
    import time

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    base = [sys.executable, "-m", "chainrule", "train", "circle", "--hidden", "8", "--epochs", "20", "-q",
            "--no-plots", "--patience", "0", "--batch-size", "4", "--workers", "2"]
    whole = subprocess.run(base + ["-o", "whole"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert whole.returncode == 0, whole.stderr
    pids = tmp_path / "pids"
    pids.mkdir()
    job = subprocess.Popen(base + ["-o", "cut"], cwd=tmp_path, env={**env, "CHAINRULE_RANK_PIDS": str(pids)},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The run trains into its staged sibling (swapped in for "cut" only once complete): watch the checkpoint there.
    checkpoint = tmp_path / ".cut.partial" / "checkpoint" / "checkpoint.safetensors"
    deadline = time.monotonic() + 120
    while not (checkpoint.exists() and len(list(pids.iterdir())) == 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = next(int(p.name) for p in pids.iterdir() if p.read_text() == "1")
    os.kill(victim, signal.SIGKILL)
    out, err = job.communicate(timeout=120)
    assert job.returncode == 2
    assert [ln for ln in err.splitlines() if ln.startswith("error:")] == [
        "error: rank 1 of 2 died (Killed (signal 9)); the job was ended: rerun with --resume to continue "
        "from the last checkpoint"], err
    assert "BAD TERMINATION" not in err
    resumed = subprocess.run(base + ["-o", "cut", "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    a, b = (cr.load(str(tmp_path / d / "model.safetensors")).state_dict() for d in ("whole", "cut"))
    for key in a:
        np.testing.assert_array_equal(b[key], a[key])


def _cli_env():
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}


def _tree(folder):
    """Every file under ``folder`` with its bytes, to show that a run left it exactly as it was."""
    return {os.path.relpath(os.path.join(d, f), folder): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(folder) for f in files}


def test_a_workers_run_is_staged_and_a_failed_overwrite_keeps_the_old_run(tmp_path):
    pytest.importorskip("safetensors")
    base = [sys.executable, "-m", "chainrule", "train", "circle", "--hidden", "8", "-q", "--no-plots",
            "--workers", "2", "-o", "run"]
    first = subprocess.run(base + ["--epochs", "2"], cwd=tmp_path, env=_cli_env(), capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no stage, no lock file left beside it
    old = _tree(tmp_path / "run")
    # Diverges in its first epoch: every rank fails, the job is aborted, and the old run must stay.
    with_nan = subprocess.run(base + ["--epochs", "2", "--overwrite", "--lr", "1e300", "--optimizer", "sgd"],
                              cwd=tmp_path, env=_cli_env(), capture_output=True, text=True, timeout=120)
    assert with_nan.returncode == 2, with_nan.stderr
    assert [ln for ln in with_nan.stderr.splitlines() if ln.startswith("error:")][0].endswith(
        "lower the learning rate (now 1e+300) or check the data")
    assert _tree(tmp_path / "run") == old
    assert [n for n in os.listdir(tmp_path) if n.endswith(".partial")] == []  # nothing to resume: removed


def test_a_workers_run_into_a_busy_folder_stops_every_rank_with_one_line(tmp_path):
    pytest.importorskip("safetensors")
    from chainrule.io.folders import FolderLock

    cmd = [sys.executable, "-m", "chainrule", "train", "circle", "--hidden", "8", "--epochs", "2", "-q",
           "--no-plots", "--workers", "2", "-o", "run"]
    with FolderLock(tmp_path / "run"):
        busy = subprocess.run(cmd, cwd=tmp_path, env=_cli_env(), capture_output=True, text=True, timeout=120)
    assert busy.returncode == 2
    assert busy.stderr.splitlines() == [f"error: output folder run is in use by another run (process {os.getpid()}); "
                                        "wait for it to finish or choose another folder"], busy.stderr
    assert not (tmp_path / "run").exists()
