"""A callback instance reused across fit calls starts afresh each run, unless the run resumes from a checkpoint.

Also: the one improvement test (Monitor) behind History.best and fit_restarts, and fit_restarts' mode check.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.callbacks import EarlyStopping, ModelCheckpoint
from chainrule.train import History, fit_restarts
from chainrule.train.history import Monitor


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def _fit(model, callbacks, epochs=8, lr=0.2, **kw):
    X, y = _data()
    return cr.fit(model, "cross_entropy", ("sgd", lr), (X, y), val=_data(40, 1), epochs=epochs,
                  callbacks=callbacks, seed=0, verbose=0, **kw)


def test_a_reused_early_stopping_does_not_carry_the_first_runs_best():
    stop = EarlyStopping("val_loss", patience=3)
    first = nn.MLP([2, 8, 2], seed=0)
    _fit(first, [stop], lr=0.5)  # a good first run sets a low best val_loss
    weak = nn.MLP([2, 8, 2], seed=1)
    history = _fit(weak, [stop], lr=1e-4)  # barely moves: every epoch is worse than the first run's best
    assert len(history) == 8 and history.stop_reason is None
    assert stop.best == pytest.approx(min(history["val_loss"]))
    own, other = weak.state_dict(), first.state_dict()
    assert all(not np.allclose(own[k], other[k]) for k in own)  # no weights restored from the first run


def test_a_reused_model_checkpoint_saves_the_second_runs_best(tmp_path):
    pytest.importorskip("safetensors", reason="model files need the io extra (safetensors)")
    path = tmp_path / "best.safetensors"
    save = ModelCheckpoint(path, monitor="val_loss")
    _fit(nn.MLP([2, 8, 2], seed=0), [save], lr=0.5)
    history = _fit(nn.MLP([2, 8, 2], seed=1), [save], lr=1e-4)
    _, meta = cr.io.load(path, with_metadata=True)
    epoch, best = history.best("val_loss")
    assert meta["epoch"] == epoch + 1 and meta["logs"]["val_loss"] == pytest.approx(best)


def test_a_reused_model_checkpoint_follows_each_runs_validation_data(tmp_path):
    save = ModelCheckpoint(tmp_path / "m.safetensors")
    X, y = _data()
    cr.fit(nn.MLP([2, 4, 2], seed=0), "cross_entropy", "sgd", (X, y), epochs=1, callbacks=[save], verbose=0)
    assert save.monitor.key == "loss"  # no validation data: falls back to the training loss
    _fit(nn.MLP([2, 4, 2], seed=0), [save], epochs=1)
    assert save.monitor.key == "val_loss"


def test_a_resumed_run_keeps_the_restored_early_stopping_state(tmp_path):
    pytest.importorskip("safetensors", reason="checkpoints need the io extra (safetensors)")
    stop = EarlyStopping("val_loss", patience=50)
    _fit(nn.MLP([2, 8, 2], seed=0), [stop], epochs=3, checkpoint_dir=tmp_path)
    best, epoch = stop.best, stop.best_epoch
    again = EarlyStopping("val_loss", patience=50)
    _fit(nn.MLP([2, 8, 2], seed=0), [again], epochs=3, checkpoint_dir=tmp_path, resume=True)
    assert (again.best, again.best_epoch) == (best, epoch)  # nothing left to run: the restored state stands


def test_history_best_and_restarts_use_the_one_improvement_test():
    h = History()
    for i, v in enumerate([0.5, float("nan"), 0.3, 0.3, 0.4]):
        h.append(i, {"val_loss": v, "val_accuracy": 1 - v})
    assert h.best("val_loss") == (2, 0.3) == (2, Monitor("val_loss").best_index(h["val_loss"]) and 0.3)
    assert h.best("val_accuracy")[0] == 2
    assert Monitor("val_loss").best_index([float("nan")]) is None


def test_fit_restarts_checks_mode_before_training():
    calls = []

    def make(seed):
        calls.append(seed)
        return nn.MLP([2, 2], seed=seed)

    with pytest.raises(ValueError, match="mode must be one of 'auto', 'min', 'max', got 'best'"):
        fit_restarts(make, 2, "cross_entropy", "sgd", _data(), val=_data(20, 1), mode="best")
    assert calls == []
    res = fit_restarts(make, 2, "cross_entropy", ("sgd", 0.3), _data(), val=_data(20, 1), monitor="val_accuracy",
                       mode="max", epochs=2, verbose=0)
    assert res.score == max(res.scores)
