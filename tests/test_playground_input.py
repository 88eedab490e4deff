"""Bad input to a playground session: diverging runs, refused settings, unbounded values, suspicious CSV files.

These run the session in-process (no server), so they need no extra package.
"""

import json

import numpy as np
import pytest

from chainrule._core import check_choice, check_int, is_number, short_repr
from chainrule.playground.app import _encode
from chainrule.playground.frames import build_frame, finite_or_none, to_uint8
from chainrule.playground.points import parse_csv
from chainrule.playground.session import Session
from chainrule.playground.settings import HIDEABLE, validate


def run(session, name, **fields):
    session.handle(name, fields)
    return session.take()


def errors(messages):
    return [m["message"] for m in messages if m["type"] == "error"]


def frames(messages):
    return [m for m in messages if m["type"] == "frame"]


def diverging_session():
    s = Session(seed="1")
    run(s, "set", settings={"problem": "regression", "activation": "relu", "learningRate": 10, "networkShape": [8, 8]})
    return s


# diverging runs ---------------------------------------------------------------
def test_a_diverging_step_pauses_with_one_error_and_a_frame_json_can_carry():
    s = diverging_session()
    out = run(s, "step")
    (message,) = errors(out)
    assert message.startswith("training diverged at epoch 1 (the loss is inf)")
    assert "learningRate (now 10)" in message and "press reset" in message
    (frame,) = frames(out)
    assert frame["train_loss"] is None and frame["test_loss"] is None and frame["playing"] is False
    for m in out:
        json.dumps(m, allow_nan=False)  # what the sender does; a nan here once ended the tab's updates


def test_a_diverging_play_stops_playing_and_reset_recovers():
    s = diverging_session()
    run(s, "play")
    s._play_chunk()
    out = s.take()
    assert errors(out) and not s.playing and frames(out)[-1]["playing"] is False
    run(s, "set", settings={"learningRate": 0.03})
    run(s, "reset")
    out = run(s, "step")
    assert not errors(out) and np.isfinite(frames(out)[0]["train_loss"])


@pytest.mark.filterwarnings("error")
def test_divergence_raises_no_numpy_warnings():
    s = Session(seed="1")
    run(s, "set", settings={"problem": "classification", "regularization": "L2", "regularizationRate": 10,
                            "learningRate": 10, "networkShape": [8, 8, 8]})
    out = run(s, "step")
    assert errors(out) and "diverged" in errors(out)[0]


def test_a_diverged_network_has_no_non_finite_weights_from_a_nan_loss():
    s = diverging_session()
    run(s, "step")
    # The loss check comes before the step, so a nan gradient never reaches the weights.
    assert all(np.isfinite(p.data).all() for p in s.trainer.net.model.parameters())


def test_frames_carry_null_for_non_finite_numbers_and_zero_grids_for_nan():
    assert finite_or_none(np.nan) is None and finite_or_none(np.inf) is None and finite_or_none(2.5) == 2.5
    assert to_uint8(np.array([np.nan, -1.0, 1.0])).tolist() == [128, 0, 255]
    s = diverging_session()
    run(s, "step")
    frame = build_frame(s.trainer)
    json.dumps(frame, allow_nan=False)


def test_the_sender_turns_an_unsendable_message_into_an_error_frame():
    text = _encode({"type": "frame", "train_loss": float("nan")})
    message = json.loads(text)
    assert message["type"] == "error" and "'frame' message could not be sent" in message["message"]
    assert json.loads(_encode({"type": "pause", "x": 1})) == {"type": "pause", "x": 1}


# settings are all or nothing -----------------------------------------------------
def test_a_refused_setting_changes_nothing():
    s = Session(seed="1")
    run(s, "step")
    before = dict(s.trainer.settings)
    epoch, net = s.trainer.epoch, s.trainer.net
    out = run(s, "set", settings={"dataset": "custom", "noise": 20})
    assert "needs own data of the classification kind" in errors(out)[0]
    assert s.trainer.settings == before and s.trainer.epoch == epoch and s.trainer.net is net


def test_switching_problem_onto_a_custom_set_without_its_data_is_refused_and_changes_nothing():
    s = Session(seed="1")
    run(s, "upload", csv="1,2,0\n3,4,1\n5,6,0\n")
    run(s, "upload", csv="1,2,0.5\n3,4,-0.25\n5,6,0.1\n")  # the own data are regression now
    run(s, "set", settings={"problem": "regression"})
    before = dict(s.trainer.settings)
    s.trainer.settings["dataset"] = "custom"  # as left by the first upload
    before["dataset"] = "custom"
    out = run(s, "set", settings={"problem": "classification"})
    assert "needs own data" in errors(out)[0]
    assert s.trainer.settings == before and s.trainer.problem == "regression"


def test_extra_layer_activations_are_refused_and_a_removed_layer_drops_its_own():
    s = Session(seed="1")
    out = run(s, "set", settings={"layerActivations": ["relu", "tanh", "relu"]})
    assert errors(out) == ["layerActivations has 3 entries but networkShape has 2 hidden layers; "
                           "give at most one activation per hidden layer"]
    run(s, "set", settings={"layerActivations": ["relu", "sigmoid"]})
    run(s, "set", settings={"networkShape": [3]})
    assert s.trainer.settings["layerActivations"] == ["relu"]


def test_hide_keys_must_name_a_control():
    assert validate({"noise_hide": True, "playButton_hide": False}) == {"noise_hide": True, "playButton_hide": False}
    assert {"stepButton", "resetButton", "numHiddenLayers", "learningRate"} <= HIDEABLE
    with pytest.raises(ValueError, match="unknown setting 'bogus_hide': a \\*_hide key must name a control"):
        validate({"bogus_hide": True})
    with pytest.raises(ValueError, match="noise_hide must be true or false, got 'yes'"):
        validate({"noise_hide": "yes"})


def test_explain_without_training_points_says_so():
    s = Session(seed="1")
    s.trainer.F_train = s.trainer.F_train[:0]
    assert errors(run(s, "explain", index=0)) == [
        "there are no training points to explain: raise percTrainData or add points"]


# messages stay short ------------------------------------------------------------
HUGE = "x" * 1_500_000


@pytest.mark.parametrize("settings", [
    {"activation": HUGE}, {"batchSize": HUGE}, {"learningRate": HUGE}, {"noise": HUGE}, {"x": HUGE},
    {"percTrainData": HUGE}, {"layerActivations": [HUGE]}, {"networkShape": [HUGE]}, {"seed": HUGE},
    {HUGE: 1}, {HUGE + "_hide": True},
])
def test_error_messages_echo_at_most_a_short_piece_of_a_huge_value(settings):
    with pytest.raises(ValueError) as info:
        validate(settings)
    assert len(str(info.value)) < 1000 and "..." in str(info.value)


def test_short_repr_and_the_core_checks_cut_long_values():
    assert short_repr("abc") == "'abc'" and short_repr([1, 2]) == "[1, 2]"
    assert short_repr("x" * 100) == "'" + "x" * 56 + "..." and len(short_repr(list(range(10**5)))) == 60
    with pytest.raises(ValueError, match=r"got 'xxx.*\.\.\.$"):
        check_choice("mode", "x" * 10**6, ("a", "b"))
    with pytest.raises(TypeError, match=r"got 'xxx.*\.\.\.$"):
        check_int("n", "x" * 10**6)


# CSV uploads --------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("a,b,1\n1,2,0\n3,4,1\n", "CSV line 1 must hold three numbers (x1, x2, label), got 'a,b,1'; a header line"),
    ("1,2,0\n1_000,2,1\n", "'1_000' is no plain decimal number"),
    ("1,2,0\n\uff11,2,1\n", "is no plain decimal number"),
    ("id,x,label\n1,2,0\n2,3,1\n", "the x1 column is named 'id', which marks row numbers"),
    ("x,Index,label\n1,2,0\n2,3,1\n", "the x2 column is named 'Index'"),
    (",x,label\n1,2,0\n2,3,1\n", "the x1 column has no name"),
    ("1,2,0\n1,2,nan\n", "CSV line 2 holds 'nan' as label; every value must be a finite number"),
    ("1,2,0\n-inf,2,1\n", "CSV line 2 holds '-inf' as x1"),
    ("1,2,0\n\ud800,2,1\n", "the CSV text holds an invalid character at position 6; save the file as UTF-8"),
])
def test_suspicious_csv_files_are_refused_with_the_line_and_the_reason(text, expected):
    with pytest.raises(ValueError) as info:
        parse_csv(text)
    assert expected in str(info.value)


def test_a_byte_order_mark_does_not_cost_the_first_row():
    X, y, problem, notes = parse_csv("\ufeff1,2,0\n3,4,1\n5,6,0\n")
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    X, _, _, _ = parse_csv("\ufeffx1,x2,label\n1,2,0\n3,4,1\n")
    assert len(X) == 2


def test_a_column_of_row_numbers_is_reported_in_the_notes():
    text = "".join(f"{i},{(i * 7) % 5 - 2},{i % 2}\n" for i in range(1, 13))
    X, y, problem, notes = parse_csv(text)
    assert len(X) == 12 and notes[0].startswith("the x1 column holds 1, 2, 3, ... in order, like row numbers")
    _, _, _, notes = parse_csv("".join(f"{(i * 7) % 5},{i % 3},{i % 2}\n" for i in range(12)))
    assert not any("row numbers" in n for n in notes)


def test_is_number_takes_plain_decimals_only():
    good = ["1", "-1.5", ".5", "5.", "1e5", "1E-5", "+3", "nan", "-inf", "Infinity", " 2 ", 3, 2.5]
    bad = ["1_000", "\u0661\u0662", "", ".", "e5", "1e", "0x10", "1,5", "--1", None, "abc"]
    assert all(is_number(v) for v in good), [v for v in good if not is_number(v)]
    assert not any(is_number(v) for v in bad), [v for v in bad if is_number(v)]
