"""Spec-driven tests for every loss (value, gradcheck, extremes, module form) plus penalties."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def _log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def _svm_naive(s, y, margin=1.0):
    """cs231n's svm_loss_naive, per example."""
    out = np.zeros(len(y))
    for i in range(len(y)):
        for j in range(s.shape[1]):
            if j != y[i]:
                out[i] += max(0.0, s[i, j] - s[i, y[i]] + margin)
    return out


def _labels(rng, n, classes=4):
    return rng.integers(0, classes, n)


def _pm1(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


@dataclass
class LossSpec:
    name: str
    make: object  # rng -> (output, target) as float64 arrays / labels
    ref: object  # (output, target) -> per-example NumPy values
    options: dict = field(default_factory=dict)
    extreme: object = None  # () -> (output, target) with extreme outputs

    @property
    def id(self):
        return self.name + "".join(f"-{k}={v}" for k, v in self.options.items())

    def call(self, output, target, reduction="mean"):
        return nn.LOSSES[self.name](output, target, reduction=reduction, **self.options)


def _away(x, points=(0.0,), gap=0.05):
    for p in points:
        x = np.where(np.abs(x - p) < gap, x + 2 * gap, x)
    return x


def _hinge_inputs(rng):
    y = _pm1(rng, (6,))
    f = rng.normal(0, 1.5, 6)
    return y * _away(y * f, (1.0,)), y  # keep y f away from the kink at 1


def _svm_inputs(rng):
    s = rng.normal(0, 1, (5, 4)).round(1) + rng.uniform(0, 0.04, (5, 4))
    return s, _labels(rng, 5)  # margins s_j - s_y + 1 stay off 0 by the rounding offsets


BIG = np.array([[-1e4, 0.0, 1e4], [1e4, -1e4, 3.0]])
SPECS = [
    LossSpec("mse", lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3))), lambda o, t: (o - t) ** 2,
             extreme=lambda: (BIG, np.zeros_like(BIG))),
    LossSpec("mse", lambda r: (r.normal(size=(4, 3)), r.normal(size=(4, 3))), lambda o, t: 0.5 * (o - t) ** 2,
             {"half": True}, extreme=lambda: (BIG, np.zeros_like(BIG))),
    LossSpec("bce", lambda r: (r.uniform(0.05, 0.95, (6, 2)), r.uniform(0, 1, (6, 2))),
             lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)),
             extreme=lambda: (np.array([0.0, 1.0, 1e-300, 1 - 1e-17]), np.array([1.0, 0.0, 1.0, 0.0]))),
    LossSpec("bce_with_logits", lambda r: (r.normal(0, 3, (6, 2)), r.integers(0, 2, (6, 2)) * 1.0),
             lambda z, t: np.logaddexp(0, z) - z * t,
             extreme=lambda: (BIG, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]))),
    LossSpec("cross_entropy", lambda r: (r.normal(0, 2, (5, 4)), _labels(r, 5)),
             lambda z, y: -_log_softmax(z)[np.arange(len(y)), y],
             extreme=lambda: (BIG, np.array([0, 1]))),
    LossSpec("cross_entropy", lambda r: (r.normal(0, 2, (5, 4)), r.dirichlet(np.ones(4), 5)),
             lambda z, t: -(t * _log_softmax(z)).sum(-1),
             extreme=lambda: (BIG, np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]]))),
    LossSpec("nll", lambda r: (_log_softmax(r.normal(0, 2, (5, 4))), _labels(r, 5)),
             lambda lp, y: -lp[np.arange(len(y)), y], extreme=lambda: (_log_softmax(BIG), np.array([0, 1]))),
    LossSpec("hinge", _hinge_inputs, lambda f, y: np.maximum(0, 1 - y * f),
             extreme=lambda: (BIG, np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]]))),
    LossSpec("multiclass_hinge", _svm_inputs, _svm_naive, extreme=lambda: (BIG, np.array([0, 2]))),
    LossSpec("exponential", lambda r: (r.normal(0, 2, (3, 3)), _pm1(r, (3, 3))), lambda f, y: np.exp(-y * f),
             extreme=lambda: (BIG, np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0]]))),
]
IDS = [s.id for s in SPECS]
NUMPY_REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}


def test_every_registered_loss_has_a_spec():
    assert set(nn.LOSSES) == {s.name for s in SPECS}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_value_matches_numpy(spec, reduction):
    output, target = spec.make(np.random.default_rng(0))
    got = spec.call(cr.tensor(output), target, reduction)
    np.testing.assert_allclose(got.data, NUMPY_REDUCE[reduction](spec.ref(output, target)), rtol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gradcheck_reverse_and_forward(spec):
    output, target = spec.make(np.random.default_rng(1))
    cr.gradcheck(lambda o: spec.call(o, target), output)
    cr.gradcheck(lambda o: spec.call(o, target, "none"), output)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_extreme_outputs_give_finite_loss_and_gradient(spec, dtype):
    output, target = spec.extreme()
    out = cr.tensor(np.asarray(output, dtype=dtype), requires_grad=True)
    loss = spec.call(out, target)
    loss.backward()
    assert loss.dtype == dtype
    assert np.isfinite(loss.item()) and np.all(np.isfinite(out.grad))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_module_form_matches_function(spec):
    output, target = spec.make(np.random.default_rng(2))
    module = nn.Loss(spec.name, reduction="sum", **spec.options)
    assert module(cr.tensor(output), target).item() == spec.call(cr.tensor(output), target, "sum").item()


def test_named_loss_classes():
    o, t = cr.tensor([[0.2, 0.9]]), cr.tensor([[0.0, 1.0]])
    assert nn.MSELoss(reduction="sum", half=True)(o, t).item() == pytest.approx(0.5 * (0.04 + 0.01))
    assert repr(nn.MSELoss(reduction="sum", half=True)) == "MSELoss(reduction='sum', half=True)"
    assert nn.CrossEntropyLoss()(cr.zeros(2, 3), [0, 2]).item() == pytest.approx(np.log(3))
    with pytest.raises(TypeError, match=r"loss 'mse' takes options \['half'\], got \['halve'\]"):
        nn.MSELoss(halve=True)


def test_bce_with_logits_equals_bce_of_sigmoid():
    z = np.linspace(-5, 5, 11)
    t = (np.arange(11) % 2) * 1.0
    a = F.binary_cross_entropy_with_logits(cr.tensor(z), t).item()
    b = F.binary_cross_entropy(F.sigmoid(cr.tensor(z)), t).item()
    assert a == pytest.approx(b, rel=1e-12)


def test_cross_entropy_int_labels_equal_one_hot_targets():
    z = np.random.default_rng(3).normal(0, 4, (6, 5))
    y = np.array([0, 4, 2, 2, 1, 3])
    za, zb = cr.tensor(z, requires_grad=True), cr.tensor(z, requires_grad=True)
    F.cross_entropy(za, y).backward()
    F.cross_entropy(zb, np.eye(5)[y]).backward()
    np.testing.assert_allclose(za.grad, zb.grad, atol=1e-15)


def test_cross_entropy_stable_at_1e4():
    z = cr.tensor([[1e4, -1e4, 0.0]], dtype=np.float32)
    assert F.cross_entropy(z, [0]).item() == 0.0
    assert F.cross_entropy(z, [1]).item() == pytest.approx(2e4)


def test_exponential_loss_saturates_instead_of_overflowing():
    f = cr.tensor([-1e4], dtype=np.float32, requires_grad=True)
    loss = F.exponential_loss(f, [1.0])
    loss.backward()
    assert loss.item() == pytest.approx(np.exp(80.0), rel=1e-6) and f.grad[0] == 0


Z2, Z23 = cr.zeros(2), cr.zeros(2, 3)
BAD_INPUTS = [
    (lambda: F.mse_loss(Z2, cr.zeros(3)), r"mse_loss: target has shape \(3,\) but the output has shape \(2,\)"),
    (lambda: F.hinge_loss(Z2, [1.0, 0.0]),
     r"hinge_loss: target value 0.0 is not allowed; expected labels -1 or \+1"),
    (lambda: F.exponential_loss(cr.zeros(1), [2.0]), r"target value 2.0 is not allowed; expected labels -1 or \+1"),
    (lambda: F.binary_cross_entropy(Z2, [1.0, 1.5]), r"target value 1.5 is not allowed; expected values in \[0, 1\]"),
    (lambda: F.cross_entropy(Z23, [0, 3]), r"label 3 is out of range for 3 classes"),
    (lambda: F.cross_entropy(Z23, np.zeros((2, 4))), r"target has shape \(2, 4\) but the output has shape \(2, 3\)"),
    (lambda: F.multiclass_hinge_loss(Z23, [0, 5]),
     r"multiclass_hinge_loss: label 5 is not allowed; expected class indices 0..2"),
    (lambda: F.multiclass_hinge_loss(Z23, [0.0, 1.0]), r"labels must be integers of shape \(2,\), got float64"),
    (lambda: F.mse_loss(Z2, Z2, reduction="avg"), r"unknown reduction 'avg'; expected one of: mean, none, sum"),
    # one class: the softmax is 1, the loss and its gradient 0 for any logits and labels
    (lambda: F.cross_entropy(cr.zeros(4, 1), [0, 0, 0, 0]), r"logits of shape \(4, 1\) have 1 class"),
    (lambda: F.cross_entropy(cr.zeros(4, 1), np.ones((4, 1))), r"logits of shape \(4, 1\) have 1 class"),
    (lambda: F.cross_entropy(cr.zeros(2, 1, 5), np.zeros((2, 5), int)), r"logits of shape \(2, 1, 5\) have 1 class"),
    (lambda: F.cross_entropy(cr.zeros(1), 0), r"logits of shape \(1,\) have 1 class"),
    (lambda: nn.Loss("l2"), r"unknown loss 'l2'; expected one of: bce, "),
]


@pytest.mark.parametrize("call,message", BAD_INPUTS, ids=[m[:30] for _, m in BAD_INPUTS])
def test_bad_inputs_fail_with_one_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- penalties
def _model():
    return nn.MLP([3, 4, 2], seed=0, dtype=np.float64)


@pytest.mark.parametrize("name,term", [("l1", np.abs), ("l2", np.square)])
def test_penalties_cover_weights_not_biases(name, term):
    model = _model()
    weights = [model.hidden[0].weight.data, model.output.weight.data]
    penalty = nn.REGULARIZERS[name](model, 0.1)
    assert penalty.item() == pytest.approx(0.1 * sum(term(w).sum() for w in weights), rel=1e-12)
    penalty.backward()
    assert model.hidden[0].bias.grad is None and model.output.weight.grad is not None
    with_bias = nn.REGULARIZERS[name](model, 1.0, include_bias=True).item()
    assert with_bias > penalty.item()


def test_l2_gradient_is_two_lambda_w_and_adds_to_a_loss():
    model = _model()
    x = cr.tensor(np.ones((2, 3)))
    data_only = F.cross_entropy(model(x), [0, 1])
    data_only.backward()
    g0 = model.output.weight.grad.copy()
    model.zero_grad()
    loss = F.cross_entropy(model(x), [0, 1]) + nn.l2_penalty(model, 0.01)
    loss.backward()
    np.testing.assert_allclose(model.output.weight.grad, g0 + 0.02 * model.output.weight.data, rtol=1e-12)


def test_penalty_on_a_parameter_list_and_bad_strength():
    w = nn.Parameter(np.array([1.0, -2.0]))
    assert nn.l1_penalty([w]).item() == 3.0
    with pytest.raises(ValueError, match="strength must be >= 0, got -1"):
        nn.l2_penalty([w], -1)
