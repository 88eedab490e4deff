"""Bad input to the classic models: one sentence naming the value, never a silent conversion or an empty result."""

import numpy as np
import pytest

from chainrule.classic import (LinearUnit, ThresholdLayer, ThresholdNetwork, ThresholdUnit, backprop_update,
                               sigmoid, truth_table)
from chainrule.classic._validation import as_real_array, real_values

AND = ThresholdUnit([1, 1], 1.5)


@pytest.mark.parametrize("value, kind, message", [
    (["1.5", "2"], TypeError, r"x must be an array of real numbers, got \['1.5', '2'\]"),
    ([1, 2j], TypeError, "x must be an array of real numbers, got \\[1, 2j\\]"),
    (np.array([1 + 0j, 2]), TypeError, "x must be an array of real numbers"),
    ("12", TypeError, "x must be an array of real numbers, got '12'"),
    ([None, 1], TypeError, "x must be an array of real numbers"),
    ([[1.0], [1.0, 2.0]], ValueError, "x must be a rectangular array of real numbers"),
])
def test_text_complex_and_ragged_arrays_are_refused_not_converted(value, kind, message):
    with pytest.raises(kind, match=message):
        as_real_array("x", value, (1, 2))


def test_real_values_keeps_numbers_bools_and_object_arrays_of_numbers():
    assert real_values("x", [True, 2, 3.5]).tolist() == [1.0, 2.0, 3.5]
    assert real_values("x", np.array([1, 2.5], dtype=object)).tolist() == [1.0, 2.5]
    source = np.array([1.0, 2.0])
    assert real_values("x", source) is not source  # a copy: callers' arrays are never changed


def test_sigmoid_refuses_text_and_keeps_infinities():
    with pytest.raises(TypeError, match="z must be an array of real numbers, got 'a'"):
        sigmoid("a")
    with pytest.raises(TypeError, match="z must be an array of real numbers"):
        sigmoid(1j)
    assert sigmoid([-np.inf, np.inf]).tolist() == [0.0, 1.0]


def test_backprop_update_reads_generators_once():
    from_lists = backprop_update([[[0.5, -0.5]]], [[0.0]], [1.0, 1.0], [1.0], lr=1.0)
    from_generators = backprop_update((w for w in [[[0.5, -0.5]]]), (b for b in [[0.0]]), [1.0, 1.0], [1.0], lr=1.0)
    assert len(from_generators.weights) == 1 and len(from_generators.biases) == 1
    assert np.array_equal(from_generators.weights[0], from_lists.weights[0])
    assert np.array_equal(from_generators.biases[0], from_lists.biases[0])


def test_backprop_update_does_not_change_its_inputs():
    w, b = np.array([[0.5, -0.5]]), np.array([0.0])
    backprop_update([w], [b], [1.0, 1.0], [1.0], lr=1.0)
    assert w.tolist() == [[0.5, -0.5]] and b.tolist() == [0.0]


def test_backprop_update_biases_flag_must_be_a_bool():
    with pytest.raises(TypeError, match="update_biases must be True or False, got 'no'"):
        backprop_update([[[0.0]]], [[0.0]], [1.0], [1.0], lr=1.0, update_biases="no")


@pytest.mark.parametrize("make, kind, message", [
    (lambda: ThresholdLayer(5), TypeError, "units must be a list of ThresholdUnits, got 5"),
    (lambda: ThresholdLayer("ab"), TypeError, "units must be a list of ThresholdUnits, got 'ab'"),
    (lambda: ThresholdLayer(AND), TypeError, "units must be a list of ThresholdUnits, got ThresholdUnit"),
    (lambda: ThresholdNetwork(ThresholdLayer([AND])), TypeError, "layers must be a list of ThresholdLayers"),
    (lambda: ThresholdNetwork([ThresholdLayer([AND])], skip_inputs="no"), TypeError,
     "skip_inputs must be True or False, got 'no'"),
    (lambda: truth_table(5), TypeError, "model must be a ThresholdUnit, ThresholdLayer, ThresholdNetwork or another "
                                        "callable with an integer n_inputs, got 5"),
    (lambda: truth_table(ThresholdUnit([1] * 21, 0.5)), ValueError, "n_inputs=21 is more than the 20 it lists"),
    (lambda: ThresholdUnit([1, 1], "0.5"), TypeError, "threshold must be a real number, got '0.5'"),
])
def test_threshold_models_refuse_wrong_types_in_one_sentence(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


def test_truth_table_still_lists_every_row():
    inputs, outputs = truth_table(AND)
    assert inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and outputs.tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("mode", ["batch", "incremental"])
def test_a_divergence_hint_is_a_usable_alpha_or_says_to_scale_the_inputs(mode):
    result = LinearUnit(alpha=5.0, seed=0, mode=mode).fit([[1.0], [3.0]], [0.0, 2.0])
    bound = float(result.message.split("try alpha below ")[1])
    assert 0.1 < bound < 0.25  # batch: 2 / lambda_max = 0.172; incremental: 2 / max |x|^2 = 0.2
    for X in ([[1e200], [2e200]], [[1e160], [2e160]]):
        result = LinearUnit(alpha=0.1, seed=0, mode=mode).fit(X, [0.0, 2.0])
        assert "the inputs are too large to train on in float64" in result.message, result.message
