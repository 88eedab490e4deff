"""Spec-driven tests for every activation: value, derivative, gradcheck, extremes, module form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

C = np.sqrt(2 / np.pi)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_erf = np.vectorize(__import__("math").erf)
_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(C * (x + 0.044715 * x**3)))


def _dgelu(x):
    u = C * (x + 0.044715 * x**3)
    return 0.5 * (1 + np.tanh(u)) + 0.5 * x * (1 - np.tanh(u) ** 2) * C * (1 + 3 * 0.044715 * x**2)


@dataclass
class ActSpec:
    name: str
    ref: object  # NumPy value
    dref: object = None  # NumPy element-wise derivative (None: not element-wise)
    options: dict = field(default_factory=dict)
    kinks: tuple = ()  # points where the derivative jumps; inputs keep away from them

    def call(self, x):
        return nn.ACTIVATIONS[self.name](x, **self.options)

    def inputs(self, seed=0, shape=(3, 5)):
        x = np.random.default_rng(seed).normal(0, 1.5, shape)
        for k in self.kinks:
            near = np.abs(x - k) < 0.05
            x[near] += 0.1
        return x


SPECS = [
    ActSpec("step", lambda x: (x > 0).astype(float), lambda x: 0 * x, kinks=(0,)),
    ActSpec("sign", lambda x: np.where(x > 0, 1.0, -1.0), lambda x: 0 * x, kinks=(0,)),
    ActSpec("identity", lambda x: x, lambda x: np.ones_like(x)),
    ActSpec("linear", lambda x: x, lambda x: np.ones_like(x)),
    ActSpec("sigmoid", _sig, lambda x: _sig(x) * (1 - _sig(x))),
    ActSpec("tanh", np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    ActSpec("hardtanh", lambda x: np.clip(x, -1, 1), lambda x: (np.abs(x) < 1) * 1.0, kinks=(-1, 1)),
    ActSpec("relu", lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0, kinks=(0,)),
    ActSpec("leaky_relu", lambda x: np.where(x > 0, x, 0.1 * x), lambda x: np.where(x > 0, 1, 0.1),
            {"negative_slope": 0.1}, kinks=(0,)),
    ActSpec("softplus", lambda x: np.logaddexp(0, x), _sig),
    ActSpec("softplus", lambda x: np.logaddexp(0, 2 * x) / 2, lambda x: _sig(2 * x), {"beta": 2.0}),
    ActSpec("elu", lambda x: np.where(x > 0, x, np.expm1(x)), lambda x: np.where(x > 0, 1, np.exp(x))),
    ActSpec("elu", lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), lambda x: np.where(x > 0, 1, 0.5 * np.exp(x)),
            {"alpha": 0.5}, kinks=(0,)),
    ActSpec("gelu", _gelu, _dgelu, {"approximate": "tanh"}),
    ActSpec("gelu", lambda x: x * 0.5 * (1 + _erf(x / np.sqrt(2))),
            lambda x: 0.5 * (1 + _erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    ActSpec("silu", lambda x: x * _sig(x), lambda x: _sig(x) * (1 + x * (1 - _sig(x)))),
    ActSpec("swish", lambda x: x * _sig(x)),
    ActSpec("selu", lambda x: _SELU[1] * np.where(x > 0, x, _SELU[0] * np.expm1(x)), kinks=(0,)),
    ActSpec("celu", lambda x: np.where(x > 0, x, 0.5 * np.expm1(x / 0.5)), lambda x: np.where(x > 0, 1, np.exp(x / 0.5)),
            {"alpha": 0.5}, kinks=(0,)),
    ActSpec("relu6", lambda x: np.clip(x, 0, 6), lambda x: ((x > 0) & (x < 6)) * 1.0, kinks=(0, 6)),
    ActSpec("hardsigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1), lambda x: (np.abs(x) < 3) / 6.0, kinks=(-3, 3)),
    ActSpec("hardswish", lambda x: x * np.clip(x / 6 + 0.5, 0, 1), lambda x: np.where(x > 3, 1, np.where(x < -3, 0, x / 3 + 0.5)),
            kinks=(-3, 3)),
    ActSpec("logsigmoid", lambda x: -np.logaddexp(0, -x), lambda x: 1 - _sig(x)),
    ActSpec("mish", lambda x: x * np.tanh(np.logaddexp(0, x))),
    ActSpec("softsign", lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
    ActSpec("softmin", lambda x: _softmax(-x)),
    ActSpec("softmax", _softmax),
    ActSpec("log_softmax", lambda x: np.log(_softmax(x))),
]
IDS = [s.name + "".join(f"-{k}={v}" for k, v in s.options.items()) for s in SPECS]


def test_every_registered_activation_has_a_spec():
    assert set(nn.ACTIVATIONS) == {s.name for s in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_value_matches_numpy(spec):
    x = spec.inputs()
    out = spec.call(cr.tensor(x))
    np.testing.assert_allclose(out.data, spec.ref(x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_gradcheck_reverse_and_forward(spec):
    cr.gradcheck(spec.call, spec.inputs(seed=1))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.dref is not None], ids=lambda s: s.name)
def test_derivative_matches_formula(spec):
    x = cr.tensor(spec.inputs(seed=2), requires_grad=True)
    spec.call(x).sum().backward()
    np.testing.assert_allclose(x.grad, spec.dref(x.data), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_jacobians(name):
    x = np.array([0.3, -1.2, 2.0])
    s = _softmax(x)
    expected = np.diag(s) - np.outer(s, s) if name == "softmax" else np.eye(3) - s[None, :]
    np.testing.assert_allclose(cr.jacobian(nn.ACTIVATIONS[name], x), expected, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_extreme_inputs_stay_finite(spec, dtype):
    x = cr.tensor(np.array([[-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]], dtype=dtype), requires_grad=True)
    out = spec.call(x)
    (out * out).sum().backward()
    assert out.dtype == dtype
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))


def test_softplus_is_accurate_far_left():
    x = np.array([-40.0, -20.0, 30.0, 800.0])
    np.testing.assert_allclose(F.softplus(cr.tensor(x)).data, np.logaddexp(0, x), rtol=1e-14)


def test_softplus_gradient_at_zero_is_one_half():
    x = cr.tensor([0.0], requires_grad=True, dtype=np.float64)
    F.softplus(x).sum().backward()
    assert x.grad[0] == 0.5


# The "useful derivatives" table of seed 001, row by row.
USEFUL_DERIVATIVES = [
    ("sigmoid", lambda z, s: s * (1 - s)),
    ("tanh", lambda z, s: 1 / np.cosh(z) ** 2),
    ("relu", lambda z, s: np.where(z > 0, 1.0, 0.0)),
]


@pytest.mark.parametrize("name,derivative", USEFUL_DERIVATIVES, ids=[r[0] for r in USEFUL_DERIVATIVES])
def test_useful_derivatives_table(name, derivative):
    z = cr.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float64, requires_grad=True)
    out = nn.ACTIVATIONS[name](z)
    out.sum().backward()
    np.testing.assert_allclose(z.grad, derivative(z.data, out.data), rtol=1e-14)


def test_sign_maps_zero_to_minus_one_like_the_slides():
    assert F.sign(cr.tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, -1.0, 1.0]
    assert F.step(cr.tensor([-2.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 1.0]


# ------------------------------------------------------------------ modules
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_module_matches_function_and_round_trips_config(spec):
    layer = nn.get_activation(spec.name, **spec.options)
    x = cr.tensor(spec.inputs(seed=3))
    np.testing.assert_array_equal(layer(x).data, spec.call(x).data)
    rebuilt = nn.from_config(json.loads(json.dumps(layer.config())))
    np.testing.assert_array_equal(rebuilt(x).data, layer(x).data)


def test_activation_module_names():
    assert repr(nn.LeakyReLU(negative_slope=0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Activation("linear")) == "Activation('linear')"
    assert isinstance(nn.get_activation("relu"), nn.ReLU)


def test_bad_activation_name_and_options():
    with pytest.raises(ValueError, match="unknown activation 'rleu'; expected one of: .*relu"):
        nn.get_activation("rleu")
    with pytest.raises(TypeError, match="activation 'relu' takes options \\[\\], got \\['slope'\\]"):
        nn.ReLU(slope=0.1)
    with pytest.raises(ValueError, match="negative_slope must be >= 0, got -1"):
        nn.LeakyReLU(negative_slope=-1)


@pytest.mark.torch
@pytest.mark.parametrize("name,torch_fn", [
    ("softplus", lambda t, x: t.nn.functional.softplus(x)),
    ("elu", lambda t, x: t.nn.functional.elu(x)),
    ("gelu", lambda t, x: t.nn.functional.gelu(x)),
    ("leaky_relu", lambda t, x: t.nn.functional.leaky_relu(x)),
    ("hardtanh", lambda t, x: t.nn.functional.hardtanh(x)),
    ("log_softmax", lambda t, x: t.log_softmax(x, -1)),
])
def test_against_torch(name, torch_fn):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(0, 3, (4, 6))
    xt = torch.tensor(x, requires_grad=True)
    expected = torch_fn(torch, xt)
    (expected * expected).sum().backward()
    ours = cr.tensor(x, requires_grad=True)
    out = nn.ACTIVATIONS[name](ours)
    (out * out).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
