"""Callbacks: early stopping with weight restoring, termination criteria, LR schedules, progress, CSV, model files."""

import csv
import doctest
import io as _io

import numpy as np
import pytest

from chainrule import callbacks, io, nn, optim
from chainrule.callbacks import (
    CALLBACKS, Callback, CSVLogger, EarlyStopping, LRScheduler, ModelCheckpoint, Monitor, ProgressBar,
    StopOnPlateau, StopOnThreshold, make_callbacks,
)
from chainrule.train import fit


@pytest.fixture(scope="module")
def noisy():
    """A small noisy problem that a big network overfits: the validation loss turns up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = ((X[:, 0] + 0.8 * rng.normal(size=120)) > 0).astype(np.int64)
    return (X[:80], y[:80]), (X[80:], y[80:])


def big(seed=0):
    return nn.MLP([2, 64, 64, 2], seed=seed)


class Snapshots(Callback):
    """Keeps the weights after every epoch."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, ctx, epoch, logs):
        self.weights.append(ctx.model.state_dict())


def test_early_stopping_stops_and_restores_the_best_weights(noisy):
    train, val = noisy
    snaps, stop = Snapshots(), EarlyStopping("val_loss", patience=5)
    model = big()
    h = fit(model, "cross_entropy", ("adam", 0.02), train, val=val, epochs=300, callbacks=[snaps, stop],
            seed=0, verbose=0)
    best_epoch, best = h.best("val_loss")
    assert len(h) == best_epoch + 1 + 5 < 300
    assert h.stop_reason.startswith("early stopping: val_loss did not improve for 5 epochs")
    assert h.restored_epoch == best_epoch == stop.best_epoch and stop.best == best
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snaps.weights[best_epoch][name])
    assert not np.array_equal(model.output.weight.data, snaps.weights[-1]["output.weight"])


def test_early_stopping_without_restore_keeps_the_last_weights(noisy):
    train, val = noisy
    snaps = Snapshots()
    model = big()
    h = fit(model, "cross_entropy", ("adam", 0.02), train, val=val, epochs=300, seed=0, verbose=0,
            callbacks=[snaps, EarlyStopping(patience=3, restore_best=False)])
    assert h.restored_epoch is None
    np.testing.assert_array_equal(model.output.weight.data, snaps.weights[-1]["output.weight"])


def test_early_stopping_on_accuracy_uses_max_mode_and_min_delta():
    m = Monitor("val_accuracy", min_delta=0.05)
    assert m.higher and m.improves(0.7, None) and not m.improves(0.74, 0.7) and m.improves(0.76, 0.7)
    assert not Monitor("val_loss").improves(float("nan"), 1.0)
    assert Monitor("mystery", mode="max").higher
    with pytest.raises(ValueError, match="cannot tell whether higher or lower 'mystery' is better"):
        Monitor("mystery")
    with pytest.raises(ValueError, match="patience must be a positive integer, got 0"):
        EarlyStopping(patience=0)


def test_monitoring_an_unlogged_key_names_the_logged_ones(noisy):
    train, _ = noisy
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_loss', which this run does not log; logged: loss"):
        fit(big(), "cross_entropy", "adam", train, epochs=2, callbacks=[EarlyStopping()], verbose=0)


def test_stop_on_threshold(noisy):
    train, _ = noisy
    h = fit(big(), "cross_entropy", ("adam", 0.02), train, epochs=500, verbose=0, seed=0,
            callbacks=[StopOnThreshold(0.3)])
    assert h["loss"][-1] <= 0.3 < min(h["loss"][:-1]) and "loss reached" in h.stop_reason
    h = fit(big(), "cross_entropy", ("adam", 0.02), train, epochs=500, verbose=0, seed=0, metrics=["accuracy"],
            callbacks=[StopOnThreshold(0.8, monitor="accuracy")])
    assert h["accuracy"][-1] >= 0.8 > max(h["accuracy"][:-1])


def test_stop_on_plateau_when_the_loss_no_longer_changes(noisy):
    train, _ = noisy
    h = fit(big(), "cross_entropy", ("sgd", 1e-9), train, epochs=100, verbose=0, seed=0,
            callbacks=[StopOnPlateau(patience=3)])
    assert len(h) == 4 and "stopped improving" in h.stop_reason


def test_lr_scheduler_by_name_and_object(noisy):
    train, _ = noisy
    h = fit(big(), "cross_entropy", ("sgd", 0.1), train, epochs=5, verbose=0,
            callbacks=[LRScheduler("step", step_size=2, gamma=0.5)])
    assert h["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    model = big()
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, "cross_entropy", opt, train, epochs=3, verbose=0,
            callbacks=[LRScheduler(optim.ExponentialDecay(opt, gamma=0.1))])
    assert h["lr"] == pytest.approx([0.1, 0.01, 0.001])
    with pytest.raises(ValueError, match="built on a different optimizer"):
        fit(big(), "cross_entropy", "sgd", train, epochs=1, verbose=0,
            callbacks=[LRScheduler(optim.ExponentialDecay(opt, gamma=0.1))])


def test_reduce_on_plateau_cuts_the_rate_when_validation_stalls(noisy):
    train, val = noisy
    h = fit(big(), "cross_entropy", ("sgd", 1e-6), train, val=val, epochs=8, verbose=0,
            callbacks=[{"name": "lr_scheduler", "schedule": "plateau", "factor": 0.5, "patience": 1,
                        "threshold": 0.01}])
    assert h["lr"][0] == 1e-6 and h["lr"][-1] < 1e-6 / 4


def test_plateau_without_validation_watches_the_training_loss(noisy):
    train, _ = noisy
    h = fit(big(), "cross_entropy", ("sgd", 1e-6), train, epochs=6, verbose=0,
            callbacks=[LRScheduler("plateau", factor=0.5, patience=1, threshold=0.01)])
    assert h["lr"][-1] < 1e-6


class FakeTerminal(_io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(noisy):
    train, _ = noisy
    out = FakeTerminal()
    bar = ProgressBar(verbose=1, stream=out)
    fit(big(), "cross_entropy", "adam", train, epochs=2, batch_size=8, callbacks=[bar], verbose=1)
    text = out.getvalue()
    assert bar.wants_batches and "0/10 [" in text and "batch/s" in text and "epoch 2/2: loss" in text


def test_progress_lines_and_stop_reason_when_not_a_terminal(noisy):
    train, _ = noisy
    out = _io.StringIO()
    fit(big(), "cross_entropy", ("sgd", 1e-9), train, epochs=9, verbose=0,
        callbacks=[ProgressBar(verbose=1, stream=out), StopOnPlateau(patience=2)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("stopped: loss stopped improving")
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 2"):
        ProgressBar(verbose=3)


def test_csv_logger_writes_one_row_per_epoch(noisy, tmp_path):
    train, val = noisy
    path = tmp_path / "log.csv"
    fit(big(), "cross_entropy", "adam", train, val=val, epochs=3, metrics=["accuracy", "recall"], verbose=0,
        callbacks=[CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert {"loss", "accuracy", "recall_0", "recall_1", "val_loss", "val_recall_1", "lr"} <= set(rows[0])
    with pytest.raises(FileExistsError, match="pass overwrite=True to CSVLogger"):
        fit(big(), "cross_entropy", "adam", train, epochs=1, verbose=0, callbacks=[CSVLogger(path)])
    fit(big(), "cross_entropy", "adam", train, epochs=1, verbose=0, callbacks=[CSVLogger(path, overwrite=True)])
    assert len(list(csv.DictReader(open(path)))) == 1


def test_csv_logger_keeps_a_column_first_logged_after_epoch_one(noisy, tmp_path):
    # the header used to be fixed by the first epoch, so a later column's values were dropped
    class LateValue(Callback):
        def on_epoch_end(self, ctx, epoch, logs):
            if epoch >= 1:
                logs["late"] = 10.0 * epoch
                logs["per_class"] = np.array([1.0, 2.0])
            if epoch == 2:
                logs["note"] = "halved"

    path = tmp_path / "log.csv"
    fit(big(), "cross_entropy", "adam", noisy[0], epochs=4, verbose=0, callbacks=[LateValue(), CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["late"] for r in rows] == ["", "10.0", "20.0", "30.0"]
    assert [r["per_class_1"] for r in rows] == ["", "2.0", "2.0", "2.0"]
    assert [r["note"] for r in rows] == ["", "", "halved", ""]
    assert all(r["loss"] for r in rows) and None not in rows[0]  # no row wider than the header


def test_model_checkpoint_into_a_missing_folder_fails_before_the_first_epoch(noisy, tmp_path):
    train, _ = noisy
    epochs = []

    class Seen(callbacks.Callback):
        def on_epoch_end(self, ctx, epoch, logs):
            epochs.append(epoch)

    seen = Seen()
    target = tmp_path / "typo" / "best-{epoch}.safetensors"
    with pytest.raises(FileNotFoundError, match=f"the folder {tmp_path / 'typo'} does not exist"):
        fit(big(), "cross_entropy", "adam", train, epochs=2, verbose=0, callbacks=[seen, ModelCheckpoint(target)])
    assert epochs == []


def test_model_checkpoint_saves_the_best_model(noisy, tmp_path):
    train, val = noisy
    path = tmp_path / "best.safetensors"
    snaps = Snapshots()
    h = fit(big(), "cross_entropy", ("adam", 0.02), train, val=val, epochs=25, verbose=0, seed=0,
            callbacks=[snaps, ModelCheckpoint(path)])
    best_epoch, _ = h.best("val_loss")
    model, meta = io.load(path, with_metadata=True)
    assert meta["epoch"] == best_epoch + 1 and meta["logs"]["val_loss"] == pytest.approx(h["val_loss"][best_epoch])
    np.testing.assert_array_equal(model.output.weight.data, snaps.weights[best_epoch]["output.weight"])
    with pytest.raises(FileExistsError, match="pass overwrite=True to ModelCheckpoint"):
        fit(big(), "cross_entropy", "adam", train, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path)])


def test_model_checkpoint_every_epoch_with_a_template(noisy, tmp_path):
    train, _ = noisy
    fit(big(), "cross_entropy", "adam", train, epochs=3, verbose=0,
        callbacks=[ModelCheckpoint(tmp_path / "m{epoch}.safetensors", save_best_only=False)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m1.safetensors", "m2.safetensors", "m3.safetensors"]


def test_registry_and_specs():
    assert {"early_stopping", "stop_on_threshold", "stop_on_plateau", "lr_scheduler", "progress_bar",
            "csv_logger", "model_checkpoint", "gradient_norms"} == set(CALLBACKS)
    made = make_callbacks(["early_stopping", {"name": "stop_on_threshold", "threshold": 0.1}, StopOnPlateau()])
    assert [type(c) for c in made] == [EarlyStopping, StopOnThreshold, StopOnPlateau]
    assert make_callbacks(None) == [] and len(make_callbacks("early_stopping")) == 1
    with pytest.raises(TypeError, match="a callback must be a Callback, a name or a dict"):
        make_callbacks([3])


def test_docstring_examples_run():
    assert doctest.testmod(callbacks, optionflags=doctest.ELLIPSIS).failed == 0


def test_progress_falls_back_to_lines_without_tqdm(noisy, monkeypatch):
    import sys

    train, _ = noisy
    monkeypatch.setitem(sys.modules, "tqdm", None)
    out = FakeTerminal()
    bar = ProgressBar(verbose=1, stream=out)
    fit(big(), "cross_entropy", "adam", train, epochs=2, callbacks=[bar], verbose=1)
    assert not bar.wants_batches and out.getvalue().count("\n") == 2


def test_an_interrupt_closes_the_progress_bar(noisy):
    train, _ = noisy

    class CtrlC(Callback):
        wants_batches = True

        def on_batch_end(self, ctx, batch, loss):
            if batch == 3:
                raise KeyboardInterrupt

    bar = ProgressBar(verbose=1, stream=FakeTerminal())
    with pytest.raises(KeyboardInterrupt):
        fit(big(), "cross_entropy", "adam", train, epochs=2, batch_size=8, callbacks=[bar, CtrlC()], verbose=1)
    assert bar.bar is None


def test_one_bar_over_the_epochs_stays_for_the_whole_run(noisy):
    train, _ = noisy
    out = FakeTerminal()
    bar = ProgressBar(verbose=1, stream=out)
    fit(big(), "cross_entropy", "adam", train, epochs=3, batch_size=8, callbacks=[bar], verbose=1)
    text = out.getvalue()
    assert "training: 100%" in text and "3/3 [" in text and ("epoch/s" in text or "s/epoch" in text)
    assert text.count("epoch 3/3: loss") == 1 and bar.run_bar is None and bar.bar is None
    final = text.rstrip().split("\r")[-1]
    assert final.startswith("training: 100%") and "loss" in final  # left on screen, with the last loss
