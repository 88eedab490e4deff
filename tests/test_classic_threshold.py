"""Threshold units, layers, networks and the ready-made gates."""

import itertools
import re

import numpy as np
import pytest

from chainrule.classic import (
    ThresholdLayer, ThresholdNetwork, ThresholdUnit, and_gate, nand_gate,
    nor_gate, not_gate, or_gate, truth_table, xor_from_gates, xor_hand_wired,
)

# (name, factory, n_inputs, Boolean function the model must compute)
GATES = [
    ("AND", and_gate, 2, lambda *b: all(b)),
    ("OR", or_gate, 2, lambda *b: any(b)),
    ("NAND", nand_gate, 2, lambda *b: not all(b)),
    ("NOR", nor_gate, 2, lambda *b: not any(b)),
    ("NOT", not_gate, 1, lambda a: not a),
    ("AND3", lambda: and_gate(3), 3, lambda *b: all(b)),
    ("OR3", lambda: or_gate(3), 3, lambda *b: any(b)),
    ("NAND3", lambda: nand_gate(3), 3, lambda *b: not all(b)),
    ("NOR3", lambda: nor_gate(3), 3, lambda *b: not any(b)),
    ("AND1", lambda: and_gate(1), 1, lambda a: a),
    ("XOR hand-wired", xor_hand_wired, 2, lambda a, b: a != b),
    ("XOR from gates", xor_from_gates, 2, lambda a, b: a != b),
]


@pytest.mark.parametrize("name, factory, n_inputs, fn", GATES, ids=[g[0] for g in GATES])
def test_full_truth_table(name, factory, n_inputs, fn):
    inputs, outputs = truth_table(factory())
    expected_inputs = list(itertools.product((0, 1), repeat=n_inputs))
    assert inputs.tolist() == [list(row) for row in expected_inputs]
    expected = [int(fn(*row)) for row in expected_inputs]
    assert np.asarray(outputs).reshape(len(expected)).tolist() == expected


@pytest.mark.parametrize("name, factory, n_inputs, fn", GATES, ids=[g[0] for g in GATES])
def test_single_example_agrees_with_batch(name, factory, n_inputs, fn):
    model = factory()
    inputs, outputs = truth_table(model)
    for row, out in zip(inputs, outputs):
        assert np.array_equal(model(row), out)


def test_unit_fires_only_strictly_above_threshold():
    unit = ThresholdUnit([1, 1], threshold=1)
    assert unit([1, 0]) == 0  # sum equals the threshold: no firing
    assert unit([1, 1]) == 1


def test_unit_returns_int_for_one_example_and_array_for_batch():
    unit = ThresholdUnit([2, -1], 0.5)
    assert type(unit([1, 0])) is int
    out = unit([[1, 0], [1, 1], [0, 1]])
    assert out.dtype == np.int64 and out.tolist() == [1, 1, 0]
    assert unit.net_input([[1, 0], [1, 1], [0, 1]]).tolist() == [2, 1, -1]
    assert unit.n_inputs == 2


def test_unit_accepts_boolean_inputs():
    assert and_gate()(np.array([True, True])) == 1


def test_hand_wired_xor_has_the_slide_wiring():
    net = xor_hand_wired()
    assert net.skip_inputs
    assert net.layers[0].weights.tolist() == [[1, 1]]
    assert net.layers[0].thresholds.tolist() == [1.2]
    assert net.layers[1].weights.tolist() == [[1, 1, -2]]
    assert net.layers[1].thresholds.tolist() == [0.6]
    # The hidden unit is the AND detector that vetoes the output.
    hidden = [net.forward(x)[0].tolist() for x in itertools.product((0, 1), repeat=2)]
    assert hidden == [[0], [0], [0], [1]]


@pytest.mark.parametrize("x, literals, conjunctions, out", [
    ((0, 0), [0, 1, 1, 0], [0, 0], [0]),
    ((0, 1), [0, 0, 1, 1], [0, 1], [1]),
    ((1, 0), [1, 1, 0, 0], [1, 0], [1]),
    ((1, 1), [1, 0, 0, 1], [0, 0], [0]),
])
def test_xor_from_gates_computes_each_clause(x, literals, conjunctions, out):
    # Layers: (x1, NOT x2, NOT x1, x2), (x1 AND NOT x2, NOT x1 AND x2), OR.
    got = [a.tolist() for a in xor_from_gates().forward(x)]
    assert got == [literals, conjunctions, out]


def test_layer_from_arrays_matches_layer_of_units():
    W, th = [[1, 1], [-1, -1], [1, -1]], [1.5, -0.5, 0.5]
    by_arrays = ThresholdLayer.from_arrays(W, th)
    by_units = ThresholdLayer([ThresholdUnit(w, t) for w, t in zip(W, th)])
    inputs, outputs = truth_table(by_arrays)
    assert np.array_equal(outputs, truth_table(by_units)[1])
    assert outputs.shape == (4, 3)
    assert outputs[:, 0].tolist() == [0, 0, 0, 1]
    assert (by_arrays.n_inputs, by_arrays.n_units) == (2, 3)


def test_network_without_skip_feeds_only_previous_layer():
    # NOT(OR) == NOR: the second layer sees only the OR unit's output.
    net = ThresholdNetwork([ThresholdLayer([or_gate()]), ThresholdLayer([not_gate()])])
    assert truth_table(net)[1][:, 0].tolist() == [1, 0, 0, 0]
    assert (net.n_inputs, net.n_outputs) == (2, 1)


def test_network_with_skip_puts_inputs_before_previous_outputs():
    # Output unit reads (x1, x2, h) and copies h only: weights (0, 0, 1).
    hidden = ThresholdLayer([and_gate()])
    copy_h = ThresholdLayer([ThresholdUnit([0, 0, 1], 0.5)])
    net = ThresholdNetwork([hidden, copy_h], skip_inputs=True)
    assert truth_table(net)[1][:, 0].tolist() == [0, 0, 0, 1]


UNIT = ThresholdUnit([1, 1], 0.5)
BAD_INPUTS = [
    (lambda: UNIT([0, 2]), ValueError,
     "x must contain only 0 and 1 (threshold units take binary inputs), got 2"),
    (lambda: UNIT([[0, 1], [0.5, 1]]), ValueError,
     "x must contain only 0 and 1 (threshold units take binary inputs), got 0.5"),
    (lambda: UNIT([1, 0, 1]), ValueError,
     "x must have 2 features in its last axis, got shape (3,)"),
    (lambda: UNIT([[[1, 0]]]), ValueError, "x must be 1-D or 2-D, got shape (1, 1, 2)"),
    (lambda: UNIT(["a", "b"]), ValueError, "x must be an array of real numbers, got"),
    (lambda: UNIT([]), ValueError, "x must not be empty, got shape (0,)"),
    (lambda: ThresholdUnit([[1, 1]], 0.5), ValueError,
     "weights must be 1-D, got shape (1, 2)"),
    (lambda: ThresholdUnit([1, np.nan], 0.5), ValueError,
     "weights must contain only finite numbers, got nan"),
    (lambda: ThresholdUnit([1, 1], "a"), TypeError, "threshold must be a real number, got 'a'"),
    (lambda: ThresholdUnit([1, 1], np.inf), ValueError,
     "threshold must be a finite number, got inf"),
    (lambda: ThresholdLayer([]), ValueError,
     "units must contain at least one ThresholdUnit, got none"),
    (lambda: ThresholdLayer([UNIT, and_gate(3)]), ValueError,
     "units[1] must have 2 inputs like units[0], got 3"),
    (lambda: ThresholdLayer([UNIT, "OR"]), TypeError, "units[1] must be a ThresholdUnit, got 'OR'"),
    (lambda: ThresholdLayer.from_arrays([[1, 1]], [0.5, 1.5]), ValueError,
     "thresholds must have one entry per row of weights (1), got 2"),
    (lambda: ThresholdNetwork([]), ValueError,
     "layers must contain at least one ThresholdLayer, got none"),
    (lambda: ThresholdNetwork([ThresholdLayer([UNIT]), UNIT]), TypeError,
     "layers[1] must be a ThresholdLayer, got ThresholdUnit"),
    (lambda: ThresholdNetwork([ThresholdLayer([UNIT]), ThresholdLayer([UNIT])]),
     ValueError, "layers[1] must have 1 inputs to match the layer before it, got 2"),
    (lambda: ThresholdNetwork([ThresholdLayer([UNIT]), ThresholdLayer([UNIT])],
                              skip_inputs=True),
     ValueError, "layers[1] must have 3 inputs to match the layer before it, got 2"),
    (lambda: xor_hand_wired()([1, 2]), ValueError,
     "x must contain only 0 and 1 (threshold units take binary inputs), got 2"),
    (lambda: and_gate(0), ValueError, "n_inputs must be a positive integer, got 0"),
    (lambda: or_gate(2.5), TypeError, "n_inputs must be a positive integer, got 2.5"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS,
                         ids=[m[:40] for _, _, m in BAD_INPUTS])
def test_bad_input_message(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
