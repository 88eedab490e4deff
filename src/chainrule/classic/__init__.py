"""Classic neural-network models in plain NumPy, before automatic differentiation.

* McCulloch–Pitts threshold units, layers and networks, with ready-made
  Boolean gates and two XOR networks.
* The perceptron and its training rule, with an exact linear-separability
  test explaining why it cannot learn XOR.
* The linear unit (ADALINE) trained by the delta rule, batch or incremental.
* Backpropagation for sigmoid multilayer perceptrons written out by hand,
  a reference for the autodiff engine.

Nothing here depends on the rest of chainrule; the separability test needs
SciPy (``pip install scipy``).
"""

from .backprop import (
    BackpropStep, BackpropTrace, backprop_reference, backprop_update, sigmoid,
)
from ._single_unit import TrainingResult
from .gates import (
    and_gate, nand_gate, nor_gate, not_gate, or_gate, xor_from_gates,
    xor_hand_wired,
)
from .linear_unit import LinearUnit, LinearUnitResult
from .perceptron import Perceptron, PerceptronResult
from .separability import linearly_separable, separating_hyperplane
from .threshold import ThresholdLayer, ThresholdNetwork, ThresholdUnit, truth_table

__all__ = [
    "ThresholdUnit", "ThresholdLayer", "ThresholdNetwork", "truth_table",
    "and_gate", "or_gate", "not_gate", "nand_gate", "nor_gate",
    "xor_hand_wired", "xor_from_gates",
    "TrainingResult", "Perceptron", "PerceptronResult",
    "linearly_separable", "separating_hyperplane",
    "LinearUnit", "LinearUnitResult",
    "BackpropTrace", "BackpropStep", "backprop_reference", "backprop_update",
    "sigmoid",
]
