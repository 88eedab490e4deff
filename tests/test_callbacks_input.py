"""Bad input to the callbacks: one sentence naming the argument, at construction or before the first epoch."""

import warnings

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.callbacks import (
    CSVLogger, EarlyStopping, GradientNorms, LRScheduler, ModelCheckpoint, ProgressBar, StopOnThreshold,
    gradient_norms, make_callbacks,
)
from chainrule.train import fit


def _opt():
    return optim.SGD(nn.Linear(2, 1, seed=0).parameters(), lr=0.1)


@pytest.mark.parametrize("make, kind, message", [
    # bool("False") is True: a flag given as text would do the opposite of what it says
    (lambda: EarlyStopping(restore_best="False"), TypeError, "restore_best must be True or False, got 'False'"),
    (lambda: EarlyStopping(restore_best=0), TypeError, "restore_best must be True or False, got 0"),
    (lambda: ModelCheckpoint("m.safetensors", save_best_only="no"), TypeError,
     "save_best_only must be True or False, got 'no'"),
    (lambda: ModelCheckpoint("m.safetensors", overwrite=None), TypeError, "overwrite must be True or False, got None"),
    (lambda: CSVLogger("log.csv", overwrite="yes"), TypeError, "overwrite must be True or False, got 'yes'"),
    (lambda: gradient_norms(nn.Linear(2, 1, seed=0), weights_only=1), TypeError,
     "weights_only must be True or False, got 1"),
    (lambda: GradientNorms(weights_only="yes"), TypeError, "weights_only must be True or False, got 'yes'"),
    (lambda: gradient_norms(None), TypeError, r"model must be a Module \(with named_parameters\), got None"),
    # nan would never be reached; the text "0.1" is no number
    (lambda: StopOnThreshold(float("nan")), ValueError, "threshold must be a finite number, got nan"),
    (lambda: StopOnThreshold(float("inf")), ValueError, "threshold must be a finite number, got inf"),
    (lambda: StopOnThreshold("0.1"), TypeError, "threshold must be a finite number, got '0.1'"),
    (lambda: StopOnThreshold(None), TypeError, "threshold must be a finite number, got None"),
    (lambda: StopOnThreshold(True), TypeError, "threshold must be a finite number, got True"),
    (lambda: ProgressBar(verbose=True), TypeError, "verbose must be 0, 1 or 2, got True"),
    (lambda: ProgressBar(verbose=1.0), TypeError, "verbose must be 0, 1 or 2, got 1.0"),
    (lambda: ProgressBar(verbose=3), ValueError, "verbose must be 0, 1 or 2, got 3"),
    (lambda: ProgressBar(stream="out.txt"), TypeError,
     "stream must be a file-like object with a write method, such as sys.stdout, got 'out.txt'"),
    (lambda: CSVLogger(None), TypeError, r"path must be a file name \(a str or os.PathLike\), got None"),
    (lambda: CSVLogger(b"log.csv"), TypeError, "path must be a file name"),
    (lambda: CSVLogger(""), ValueError, "path must be a file name, got ''"),
    (lambda: ModelCheckpoint(5), TypeError, "path must be a file name"),
    (lambda: ModelCheckpoint("m_{epch}.safetensors"), ValueError,
     "path may hold no placeholder but {epoch}.*got 'm_{epch}.safetensors'"),
    (lambda: ModelCheckpoint("m_{}.safetensors"), ValueError, "path may hold no placeholder but {epoch}"),
    (lambda: LRScheduler(5), TypeError, "schedule must be an optim.LRSchedule or a name of optim.SCHEDULES, got 5"),
    (lambda: LRScheduler(None), TypeError, "schedule must be an optim.LRSchedule"),
    # options next to a built schedule would be ignored
    (lambda: LRScheduler(optim.StepDecay(_opt(), 2), gamma=0.5), ValueError,
     "options such as gamma= go with a schedule name; this schedule is built already"),
    (lambda: LRScheduler("step", step_size=0), ValueError, "step_size must be a positive integer, got 0"),
    (lambda: LRScheduler("plateau", factor="0.5"), TypeError, r"factor must be in \(0, 1\), got '0.5'"),
    (lambda: EarlyStopping(monitor=5), TypeError, "monitor must be a history key such as 'val_loss', got 5$"),
    (lambda: EarlyStopping(monitor=["val_loss"] * 500), TypeError, r"got \['val_loss', 'val_loss'.{0,80}$"),
    # a schedule that reads no metric would ignore a monitor, typo or not
    (lambda: LRScheduler("step", monitor="val_acuracy", step_size=2), ValueError,
     "monitor='val_acuracy' is read only by the 'plateau' schedule; StepDecay follows the epoch count alone"),
    (lambda: LRScheduler(optim.CosineAnnealing(_opt(), t_max=3), monitor="val_loss"), ValueError,
     "monitor='val_loss' is read only by the 'plateau' schedule; CosineAnnealing"),
    (lambda: make_callbacks(5), TypeError, "callbacks must be a Callback, a name, a dict or a list of them, got 5"),
    (lambda: make_callbacks([{"patience": 3}]), TypeError, "a callback must be a Callback, a name or a dict"),
    # an option value keeps the callback's own sentence (and type)
    (lambda: make_callbacks({"name": "early_stopping", "patience": "3"}), TypeError,
     "patience must be a positive integer, got '3'"),
    (lambda: make_callbacks({"name": "early_stopping", "patiense": 3}), ValueError,
     "callback 'early_stopping' could not be built from {'patiense': 3}"),
])
def test_constructors_name_the_bad_argument(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


def test_good_arguments_still_work():
    assert EarlyStopping(restore_best=np.bool_(False)).restore_best is False
    assert StopOnThreshold(-0.5, monitor="val_r2").threshold == -0.5  # r2 can be negative
    assert ProgressBar(verbose=np.int64(2)).verbose == 2
    assert ModelCheckpoint("m_{epoch:03d}_{{x}}.safetensors").path == "m_{epoch:03d}_{{x}}.safetensors"
    assert [type(c).__name__ for c in make_callbacks(s for s in ["early_stopping"])] == ["EarlyStopping"]
    assert LRScheduler("plateau", factor=0.5, min_lr=1.0).options == {"factor": 0.5, "min_lr": 1.0}


def _data(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(np.int64)


def _fit(callbacks, epochs=4, val=True, model=None, optimizer=("sgd", 0.1), **kw):
    model = model or nn.MLP([2, 4, 2], seed=0)
    return fit(model, "cross_entropy", optimizer, _data(60, 0), val=_data(30, 1) if val else None, epochs=epochs,
               callbacks=callbacks, seed=0, verbose=0, **kw)


def test_a_cosine_schedule_that_reaches_0_with_epochs_left_warns_once_naming_it():
    with pytest.warns(UserWarning, match="CosineAnnealing set lr to 0 after epoch 2 of 5, so the epochs left "
                                         "will not change the weights; pass t_max=5") as caught:
        history = _fit([LRScheduler("cosine", t_max=2)], epochs=5)
    assert len([w for w in caught if "set lr to 0" in str(w.message)]) == 1 and len(history["loss"]) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _fit([LRScheduler("cosine", t_max=4)], epochs=4)["lr"][-1] > 0  # ends at 0 after the last epoch


def test_plateau_by_name_follows_the_direction_of_its_monitor():
    sched = LRScheduler("plateau", monitor="val_accuracy", patience=0, factor=0.5)
    _fit([sched], epochs=2, metrics=["accuracy"])
    assert sched.schedule.mode == "max"  # mode "min" would cut the rate while accuracy rises


def test_a_plateau_schedule_whose_mode_contradicts_its_monitor_is_refused():
    model = nn.MLP([2, 4, 2], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="ReduceOnPlateau has mode='min', but the monitored 'val_accuracy' improves "
                                         "as it rises; pass mode='max'"):
        _fit([LRScheduler(optim.ReduceOnPlateau(opt), monitor="val_accuracy")], model=model, optimizer=opt,
             metrics=["accuracy"])


def test_a_reused_lr_scheduler_picks_its_monitor_afresh_each_run():
    sched = LRScheduler("plateau", factor=0.5)
    _fit([sched], epochs=1, val=False)
    assert sched.monitor.key == "loss"  # no validation data: the training loss
    _fit([sched], epochs=1, val=True)
    assert sched.monitor.key == "val_loss"


def test_restored_schedule_state_is_applied_to_one_run_only():
    sched = LRScheduler("step", step_size=1, gamma=0.5)
    sched.load_state_dict({"schedule": {"type": "step", "t": 3, "base_lr": 0.1, "step_size": 1, "gamma": 0.5,
                                        "lr": 0.0125}}, {})
    assert _fit([sched], epochs=1)["lr"] == [0.0125]
    assert _fit([sched], epochs=1)["lr"] == [0.1]


@pytest.mark.parametrize("where, error, message", [
    ("missing", FileNotFoundError, "the folder .* does not exist"),
    ("folder", IsADirectoryError, "it is a folder"),
])
def test_csv_logger_checks_its_file_before_the_first_epoch(tmp_path, where, error, message):
    path = tmp_path / "nope" / "log.csv" if where == "missing" else tmp_path
    seen = []

    class Count(EarlyStopping):
        def on_epoch_end(self, ctx, epoch, logs):
            seen.append(epoch)

    with pytest.raises(error, match=message):
        _fit([CSVLogger(path, overwrite=True), Count()], epochs=1)
    assert seen == []


def test_a_monitor_key_the_run_does_not_log_stops_it_in_one_sentence():
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_los', which this run does not log"):
        _fit([EarlyStopping("val_los", mode="min")])
    with pytest.raises(ValueError, match="LRScheduler monitors 'val_los', which this run does not log"):
        _fit([LRScheduler("plateau", monitor="val_los")])
