"""Checkpoint and resume: an interrupted run, resumed, ends with exactly the weights of an uninterrupted one."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from chainrule import checkpoint, nn
from chainrule.callbacks import Callback, EarlyStopping, LRScheduler
from chainrule.train import fit

pytest.importorskip("safetensors")

# One script for the three runs of the SIGKILL test: uninterrupted, killed mid-epoch, resumed.
SCRIPT = textwrap.dedent('''
    import os, sys, time
    import numpy as np
    from chainrule import nn
    from chainrule.callbacks import Callback, LRScheduler
    from chainrule.train import fit

    mode, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]

    class HangMidEpoch(Callback):
        wants_batches = True
        def on_batch_end(self, ctx, batch, loss):
            # Epoch 3 (0-based 2) is half done and the checkpoint of epoch 2 exists: wait to be killed.
            if ctx.epoch == 2 and batch == 5:
                open(os.path.join(folder, "ready"), "w").close()
                time.sleep(60)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 32, seed=1), nn.Tanh(), nn.Dropout(0.2, seed=2), nn.Linear(32, 2, seed=3))
    cbs = [LRScheduler("plateau", factor=0.5, patience=1)] + ([HangMidEpoch()] if mode == "kill" else [])
    fit(model, "cross_entropy", ("adam", 0.01), (X, y), validation_split=0.25, epochs=5, batch_size=16,
        seed=7, callbacks=cbs, checkpoint_dir=None if mode == "full" else folder, resume=(mode == "resume"),
        verbose=0)
    np.save(out, np.concatenate([p.data.ravel() for p in model.parameters()]))
''')


def _run(tmp_path, mode, folder, **kw):
    out = str(tmp_path / f"{mode}.npy")
    args = [sys.executable, str(tmp_path / "job.py"), mode, str(folder), out]
    return out, args


def test_sigkill_mid_epoch_then_resume_gives_the_same_weights(tmp_path):
    (tmp_path / "job.py").write_text(SCRIPT)
    folder = tmp_path / "ckpt"
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    full_out, full_args = _run(tmp_path, "full", folder)
    full = subprocess.Popen(full_args, env=env)
    _, kill_args = _run(tmp_path, "kill", folder)
    victim = subprocess.Popen(kill_args, env=env)
    deadline = time.monotonic() + 30
    while not (folder / "ready").exists():
        assert victim.poll() is None and time.monotonic() < deadline, "the run to be killed ended or hung"
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert (folder / checkpoint.FILENAME).exists()
    assert [f for f in os.listdir(folder) if f.startswith(".tmp")] == []  # atomic writes leave no debris
    resume_out, resume_args = _run(tmp_path, "resume", folder)
    assert subprocess.run(resume_args, env=env, timeout=60).returncode == 0
    assert full.wait(timeout=60) == 0
    np.testing.assert_array_equal(np.load(resume_out), np.load(full_out))


class Interrupt(Exception):
    pass


class StopMidEpoch(Callback):
    wants_batches = True

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, ctx, batch, loss):
        if (ctx.epoch, batch) == self.at:
            raise Interrupt


def problem():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    return X, (X[:, 0] - X[:, 1] ** 2 > -0.5).astype(np.int64)


def model():
    return nn.Sequential(nn.Linear(3, 16, seed=0), nn.ReLU(), nn.Dropout(0.3, seed=1), nn.Linear(16, 2, seed=2))


def run(folder=None, extra=(), resume=False, epochs=6, **kw):
    m = model()
    cbs = [LRScheduler("plateau", factor=0.5, patience=1), EarlyStopping(patience=50), *extra]
    h = fit(m, "cross_entropy", {"name": "sgd", "lr": 0.05, "momentum": 0.9}, problem(), validation_split=0.2,
            epochs=epochs, batch_size=20, seed=3, callbacks=cbs, checkpoint_dir=folder, resume=resume,
            metrics=["accuracy"], verbose=0, **kw)
    return m, h


def _same(m1, m2):
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        np.testing.assert_array_equal(p1.data, p2.data, err_msg=n1)


def test_interrupted_and_resumed_run_matches_in_process(tmp_path):
    ref, h_ref = run()
    with pytest.raises(Interrupt):
        run(tmp_path, extra=[StopMidEpoch(3, 4)])
    resumed, h = run(tmp_path, resume=True)
    _same(ref, resumed)
    assert h.epochs == h_ref.epochs
    for key in ("loss", "val_loss", "accuracy", "lr"):
        assert h[key] == h_ref[key]


def test_resuming_a_finished_run_changes_nothing_and_more_epochs_continue(tmp_path):
    done, h = run(tmp_path, epochs=3)
    again, h2 = run(tmp_path, resume=True, epochs=3)
    _same(done, again)
    assert h2["loss"] == h["loss"]
    longer, h3 = run(tmp_path, resume=True, epochs=5)
    ref, h_ref = run(epochs=5)
    _same(ref, longer)
    assert len(h3) == 5


def test_early_stopped_run_stays_stopped_with_the_best_weights(tmp_path):
    def stopped(folder, resume=False):
        m = model()
        h = fit(m, "cross_entropy", ("sgd", 1e-7), problem(), validation_split=0.2, epochs=30, seed=3, verbose=0,
                callbacks=[EarlyStopping(patience=2, min_delta=1e-3)], checkpoint_dir=folder, resume=resume)
        return m, h

    m1, h1 = stopped(tmp_path)
    m2, h2 = stopped(tmp_path, resume=True)
    assert len(h1) == len(h2) < 30 and h2.restored_epoch == h1.restored_epoch is not None
    _same(m1, m2)


def test_existing_checkpoint_is_never_overwritten_without_resume(tmp_path):
    run(tmp_path, epochs=1)
    with pytest.raises(FileExistsError, match="pass resume=True to continue that run"):
        run(tmp_path, epochs=1)


def test_resume_with_an_empty_folder_starts_fresh(tmp_path):
    m, h = run(tmp_path / "new", resume=True, epochs=2)
    assert len(h) == 2 and (tmp_path / "new" / checkpoint.FILENAME).exists()


def test_resume_refuses_other_settings_or_data(tmp_path):
    run(tmp_path, epochs=1)
    X, y = problem()
    common = dict(epochs=2, checkpoint_dir=tmp_path, resume=True, verbose=0, validation_split=0.2)
    with pytest.raises(ValueError, match="made with batch_size=20, not 10"):
        fit(model(), "cross_entropy", "sgd", (X, y), batch_size=10, seed=3, **common)
    with pytest.raises(ValueError, match="made with seed=3, not 4"):
        fit(model(), "cross_entropy", "sgd", (X, y), batch_size=20, seed=4, **common)
    with pytest.raises(ValueError, match="the training data differ"):
        fit(model(), "cross_entropy", "sgd", (X + 1, y), batch_size=20, seed=3, **common)
    with pytest.raises(ValueError, match="does not fit this optimizer"):
        fit(model(), "cross_entropy", "adam", (X, y), batch_size=20, **common)  # seed comes from the checkpoint


def test_checkpoint_for_another_architecture_is_refused(tmp_path):
    run(tmp_path, epochs=1)
    other = nn.Sequential(nn.Linear(3, 8, seed=0), nn.ReLU(), nn.Dropout(0.3, seed=1), nn.Linear(8, 2, seed=2))
    with pytest.raises(ValueError, match=r"has weight '0.weight' of shape \(16, 3\), but the architecture needs \(8, 3\)"):
        fit(other, "cross_entropy", "sgd", problem(), validation_split=0.2, batch_size=20, seed=3,
            checkpoint_dir=tmp_path, resume=True, verbose=0)


def test_corrupt_checkpoint_is_one_sentence(tmp_path):
    run(tmp_path, epochs=1)
    path = tmp_path / checkpoint.FILENAME
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(ValueError) as e:
        run(tmp_path, resume=True, epochs=2)
    assert str(path) in str(e.value) and "truncated" in str(e.value)


def test_missing_safetensors_fails_before_training(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    seen = []

    class Count(Callback):
        def on_epoch_begin(self, ctx, epoch):
            seen.append(epoch)

    with pytest.raises(ImportError, match="needs the safetensors package"):
        run(tmp_path, extra=[Count()], epochs=1)
    assert seen == []
