"""Nothing lost, nothing mixed: overwrite, concurrent runs, divergence, interrupts and a SIGKILL loop.

The kill loop forks training runs from one pre-imported process (hostile_support.ForkServer) and
SIGKILLs them at seeded random moments of training, checkpointing, saving and swapping; afterwards
every run folder must be the old run intact or a complete new one, and finishing with --resume (or
re-running) must end bit-identical to an uninterrupted run.
"""

import collections
import os
import random
import shutil
import signal
import time

import numpy as np
import pytest

from chainrule import nn
from chainrule.cli import main
from chainrule.cli import run as run_module
from chainrule.io import load
from chainrule.io import folders
from chainrule.io.folders import FolderBusyError, FolderLock
from chainrule.train import fit

from hostile_support import PEAK_LIMIT, ForkServer, assert_refused, run_cases, snapshot

pytest.importorskip("safetensors", reason="run folders need the safetensors extra")

CSV = "a,b,y\n" + "".join(f"{i % 7},{i % 5},{(i % 7 + i % 5) % 2}\n" for i in range(60))


def cli(argv, cwd):
    """``chainrule argv`` in this process: ``(exit code, stderr)``."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code
    finally:
        os.chdir(old)
    return 0


def _train(out, seed=1, epochs=20, *extra):
    return ["train", "k.csv", "-q", "--no-plots", "--epochs", str(epochs), "--val", "0.2", "--patience", "0",
            "--hidden", "16", "--seed", str(seed), "-o", out, *extra]


def _weights(folder):
    model = load(os.path.join(folder, "model.safetensors"))
    return {k: v.tobytes() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    (root / "k.csv").write_text(CSV)
    return root


@pytest.fixture(scope="module")
def capped(workspace, tmp_path_factory):
    """The refusals, run in the memory-capped child process."""
    root = tmp_path_factory.mktemp("capped")
    cases = []
    for name, argv, setup in [
        ("overwrite with bad data", ["train", "bad.csv", "-q", "--overwrite", "-o", "run"], "run"),
        ("diverging run", ["train", "k.csv", "-q", "--no-plots", "--lr", "1e308", "-o", "new/deep/run"], None),
        ("resume without checkpoint", ["train", "k.csv", "-q", "--resume", "-o", "run"], "run-no-checkpoint"),
    ]:
        folder = root / name.replace(" ", "_")
        folder.mkdir()
        (folder / "k.csv").write_text(CSV)
        (folder / "bad.csv").write_text("a,b,y\n1,x,0\n2,3,1\n")
        if setup:
            extra = ["--no-checkpoint"] if setup == "run-no-checkpoint" else []
            assert cli(_train("run", 1, 3, *extra), folder) == 0
            (folder / "run" / "notes.txt").write_text("the user's own file")
        cases.append({"name": name, "cwd": str(folder), "argv": argv})
    return run_cases(cases, root)


def test_capped_cases_peak_memory(capped):
    assert capped[1] < PEAK_LIMIT


def test_overwrite_with_bad_data_keeps_the_old_run(capped):
    assert_refused(capped[0]["overwrite with bad data"], "bad.csv", "is not a number")


def test_a_diverging_run_stops_with_the_epoch_and_a_hint_and_leaves_nothing(capped):
    line = assert_refused(capped[0]["diverging run"], "training diverged", "in epoch 1", "lower the learning rate")
    assert "1e+308" in line


def test_resume_advice_leads_somewhere_that_works(capped, workspace):
    assert_refused(capped[0]["resume without checkpoint"], "no checkpoint", "with --overwrite")
    folder = workspace / "advice"
    folder.mkdir()
    shutil.copy(workspace / "k.csv", folder / "k.csv")
    assert cli(_train("run", 1, 3, "--no-checkpoint"), folder) == 0
    assert cli(_train("run", 1, 3, "--resume"), folder) == 2
    assert cli(_train("run", 1, 3, "--overwrite"), folder) == 0  # what the advice says works
    assert sorted(os.listdir(folder / "run")) == ["checkpoint", "history.csv", "history.json", "model.safetensors",
                                                  "report.json"]


def test_interrupt_before_the_first_epoch_keeps_nothing_and_running_again_works(workspace, monkeypatch, capsys):
    folder = workspace / "ctrl_c_early"
    folder.mkdir()
    shutil.copy(workspace / "k.csv", folder / "k.csv")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "fit", interrupted)
    assert cli(_train("a/run", 1, 3), folder) == 130
    assert "nothing was kept; run the same command again" in capsys.readouterr().err
    assert sorted(os.listdir(folder)) == ["k.csv"]  # not even the parent folder it created
    monkeypatch.undo()
    assert cli(_train("a/run", 1, 3), folder) == 0


def test_interrupt_after_an_epoch_advises_resume_which_ends_as_an_uninterrupted_run(workspace, monkeypatch, capsys):
    folder = workspace / "ctrl_c_late"
    folder.mkdir()
    shutil.copy(workspace / "k.csv", folder / "k.csv")
    assert cli(_train("whole", 1, 6), folder) == 0
    real_fit = run_module.fit

    def interrupted_after_three(*args, **kwargs):
        kwargs["epochs"] = 3
        real_fit(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "fit", interrupted_after_three)
    assert cli(_train("run", 1, 6), folder) == 130
    assert "run the same command with --resume" in capsys.readouterr().err
    monkeypatch.undo()
    assert cli(_train("run", 1, 6), folder) == 2  # without --resume: says how to continue or start afresh
    assert "pass --resume to continue it or --overwrite" in capsys.readouterr().err
    assert cli(_train("run", 1, 6, "--resume"), folder) == 0
    assert _weights(folder / "run") == _weights(folder / "whole")
    assert sorted(os.listdir(folder)) == ["k.csv", "run", "whole"]


def test_a_second_run_into_a_busy_folder_names_the_first_ones_pid(workspace, capsys):
    folder = workspace / "busy"
    folder.mkdir()
    shutil.copy(workspace / "k.csv", folder / "k.csv")
    with ForkServer() as server:
        pid = server.start(_train("run", 1, 100000), folder)
        deadline = time.monotonic() + 60
        while not os.path.exists(folder / ".run.lock") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert cli(_train("run", 2, 3, "--overwrite"), folder) == 2
        err = capsys.readouterr().err.strip()
        assert err == (f"error: output folder run is in use by another run (process {pid}); wait for it to finish "
                       "or choose another folder")
        os.kill(pid, signal.SIGKILL)
        server.wait()
    assert not os.path.exists(folder / "run")  # the killed run never completed, so there is no run folder


def test_fit_locks_its_checkpoint_folder_and_cleans_stale_temporaries(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    ckpt = tmp_path / "ckpt"
    with FolderLock(ckpt, "checkpoint folder"):
        with pytest.raises(FolderBusyError, match=f"checkpoint folder .*ckpt is in use by another run "
                                                  f"\\(process {os.getpid()}\\)"):
            fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "adam", (X, y), epochs=2, seed=0, verbose=0,
                checkpoint_dir=ckpt)
    assert sorted(os.listdir(tmp_path)) == []  # the lock created the folder's parent only while it was held
    fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "adam", (X, y), epochs=2, seed=0, verbose=0, checkpoint_dir=ckpt)
    (ckpt / ".tmp-killed.safetensors").write_bytes(b"half")
    fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "adam", (X, y), epochs=3, seed=0, verbose=0, checkpoint_dir=ckpt,
        resume=True)
    assert sorted(os.listdir(ckpt)) == ["checkpoint.safetensors"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_fit_raises_or_warns_with_the_same_sentence_on_divergence():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = X.sum(axis=1)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="training diverged: .* in epoch 1; lower the "
                                                                    "learning rate \\(now 1e\\+308\\)"):
        fit(nn.MLP([2, 4, 1], seed=0), "mse", ("sgd", 1e308), (X, y), epochs=5, seed=0, verbose=0,
            on_nonfinite="raise")
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training diverged: .* in epoch 1"):
        h = fit(nn.MLP([2, 4, 1], seed=0), "mse", ("sgd", 1e308), (X, y), epochs=5, seed=0, verbose=0)
    assert len(h) == 1 and "lower the learning rate" in h.stop_reason
    with pytest.raises(ValueError, match="on_nonfinite must be one of 'warn', 'raise'"):
        fit(nn.MLP([2, 4, 1], seed=0), "mse", "sgd", (X, y), epochs=1, verbose=0, on_nonfinite="ignore")


def test_divergence_of_the_weights_alone_names_the_weight():
    # One batch and one epoch: the logged loss is the one before the update, so it is finite, while
    # the update itself overflows. Only the weights can show that the run diverged.
    X, y = np.ones((4, 2)), np.array([0.0, 1.0, 0.0, 1.0])
    model = nn.MLP([2, 1], seed=0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="weight 'output.weight' became non-finite "
                                                                    "in epoch 1"):
        fit(model, "mse", ("sgd", 1e308), (X, y), epochs=1, batch_size=4, seed=0, verbose=0,
            on_nonfinite="raise")


def test_a_swap_interrupted_by_a_crash_is_recovered(tmp_path):
    out = tmp_path / "run"
    (tmp_path / ".run.old").mkdir()  # crashed between moving the old run aside and moving the new one in
    (tmp_path / ".run.old" / "model.safetensors").write_text("old")
    folders.recover(out)
    assert (out / "model.safetensors").read_text() == "old"
    (tmp_path / ".run.commit").mkdir()  # complete but never swapped in: the old run stays
    folders.recover(out)
    assert sorted(os.listdir(tmp_path)) == ["run"]


def _state(out, old):
    """'old' when ``out`` is the old run byte for byte, 'new' when it is a complete new one, else what is wrong."""
    if not os.path.exists(out):
        return "old" if old is None else "old run lost"
    if old is not None and snapshot(out) == old:
        return "old"
    names = set(os.listdir(out))
    if {"model.safetensors", "history.csv", "history.json", "report.json", "checkpoint"} <= names:
        return "new"
    return f"mixed: {sorted(names)}"


def _wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.002)


def test_sigkill_at_random_points_never_loses_or_mixes_a_run(workspace):
    folder = workspace / "kills"
    folder.mkdir()
    shutil.copy(workspace / "k.csv", folder / "k.csv")
    scenarios = {  # name -> (arguments of the killed run, arguments that finish it, reference folder)
        "fresh": (_train("{out}", 1, 20), _train("{out}", 1, 20, "--resume"), "ref_a"),
        "overwrite": (_train("{out}", 2, 20, "--overwrite"), _train("{out}", 2, 20, "--resume"), "ref_b"),
        "resume": (_train("{out}", 1, 40, "--resume"), _train("{out}", 1, 40, "--resume"), "ref_c"),
    }
    with ForkServer() as server:
        durations = {}
        for name, (argv, _, ref) in scenarios.items():
            if name != "fresh":
                shutil.copytree(folder / "ref_a", folder / ref)
            start = time.monotonic()
            server.start([a.format(out=ref) for a in argv], folder)
            assert server.wait() == 0
            durations[name] = time.monotonic() - start
        reference = {ref: _weights(folder / ref) for _, _, ref in scenarios.values()}
        rng = random.Random(14)
        kills, seen = 0, collections.Counter()
        for i in range(20):
            if kills >= 12:
                break
            name = rng.choice(sorted(scenarios))
            argv, finish, ref = scenarios[name]
            out = f"run{i}"
            old = None
            if name != "fresh":
                shutil.copytree(folder / "ref_a", folder / out)
                old = snapshot(folder / out)
            pid = server.start([a.format(out=out) for a in argv], folder)
            if i % 2:  # after the first checkpoint, whatever the load, so that resuming is exercised
                _wait_for(folder / f".{out}.partial" / "checkpoint" / "checkpoint.safetensors", 5 * durations[name])
                time.sleep(rng.uniform(0.0, 0.3) * durations[name])
            else:  # anywhere: start-up, training, checkpointing, saving, the swap
                time.sleep(rng.uniform(0.05, 1.0) * durations[name])
            try:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
            server.wait()
            state = _state(folder / out, old)
            assert state in ("old", "new"), f"kill {i} ({name}): {state}"
            seen[state] += 1
            if state == "new":
                assert _weights(folder / out) == reference[ref], f"kill {i} ({name}): a different new run"
                continue
            partial = os.path.exists(folder / f".{out}.partial" / "checkpoint" / "checkpoint.safetensors")
            seen["resumed" if partial else "restarted"] += 1
            again = finish if partial or name == "resume" else argv
            assert cli([a.format(out=out) for a in again], folder) == 0, f"kill {i} ({name}) could not be finished"
            assert _weights(folder / out) == reference[ref], f"kill {i} ({name}): resumed run differs"
            leftovers = [n for n in os.listdir(folder) if n.startswith(f".{out}")]
            assert leftovers == [], f"kill {i} ({name}) left {leftovers}"
    assert kills >= 10 and seen["resumed"] >= 3, (kills, seen)  # most kills land mid-training
    print(f"{kills} kills: {dict(seen)}")
