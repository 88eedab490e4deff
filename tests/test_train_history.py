"""History: logging, best epochs, JSON round trips; and the docstring examples of the training modules."""

import doctest
import json
import math

import numpy as np
import pytest

from chainrule import _callback_base, _callbacks_files, checkpoint, history, main_job
from chainrule.train.history import History, higher_is_better


def test_append_pads_late_keys_with_nan():
    h = History()
    h.append(0, {"loss": 1.0})
    h.append(1, {"loss": 0.5, "val_loss": 0.7})
    assert h["loss"] == [1.0, 0.5] and math.isnan(h["val_loss"][0]) and h["val_loss"][1] == 0.7
    assert h.last() == {"loss": 0.5, "val_loss": 0.7} and len(h) == 2 and "loss" in h
    with pytest.raises(KeyError, match="history has no 'accuracy'; it logged: loss, val_loss"):
        h["accuracy"]


def test_best_skips_non_finite_values_and_knows_directions():
    h = History()
    for e, (loss, acc) in enumerate([(1.0, 0.5), (float("nan"), 0.9), (0.4, 0.8)]):
        h.append(e, {"val_loss": loss, "val_accuracy": acc})
    assert h.best("val_loss") == (2, 0.4) and h.best("val_accuracy") == (1, 0.9)
    assert h.best("val_accuracy", mode="min") == (0, 0.5)
    assert higher_is_better("r2") and not higher_is_better("val_mae") and not higher_is_better("reg_loss")


def test_json_round_trip_keeps_arrays_and_reasons():
    h = History()
    h.append(0, {"loss": np.float32(0.5), "recall": np.array([1.0, 0.5])})
    h.stop_reason, h.restored_epoch = "early stopping: ...", 0
    again = History.from_dict(json.loads(json.dumps(h.to_dict())))
    assert again.epochs == [0] and again["loss"] == [0.5] and again.stop_reason == h.stop_reason
    np.testing.assert_array_equal(again["recall"][0], [1.0, 0.5])
    assert repr(again) == "History(1 epochs: loss=0.5)"


def test_docstring_examples_run():
    for module in (history, _callback_base, _callbacks_files, checkpoint, main_job):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__
