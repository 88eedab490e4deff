"""Spec-driven tests for every registry op: forward, reverse-mode gradcheck, forward-mode JVP."""

import numpy as np
import pytest
from op_specs import SPECS

import chainrule as cr

IDS = [s.id for s in SPECS]


def test_every_registry_op_has_a_spec():
    covered = {s.op for s in SPECS}
    missing = sorted(set(cr.ops_registry) - covered)
    assert not missing, f"ops without a test spec: {missing}"


def test_every_spec_names_a_registry_op():
    assert {s.op for s in SPECS} <= set(cr.ops_registry)


def _tensors(arrays, requires_grad=False):
    return [cr.tensor(a, requires_grad=requires_grad, dtype=np.float64) for a in arrays]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_forward_matches_numpy(spec):
    arrays = spec.inputs()
    out = spec.call(*_tensors(arrays))
    np.testing.assert_allclose(out.data, spec.ref(*arrays), rtol=1e-12, atol=1e-12)
    assert out.data.dtype == np.float64


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_forward_uses_the_named_op(spec):
    out = spec.call(*_tensors(spec.inputs(), requires_grad=True))
    seen, stack = set(), [out]
    while stack:
        t = stack.pop()
        if t._node is not None:
            seen.add(t.op)
            stack.extend(i for i in t._node.inputs if isinstance(i, cr.Tensor))
    assert spec.op in seen


@pytest.mark.parametrize("spec", [s for s in SPECS if s.smooth], ids=[s.id for s in SPECS if s.smooth])
def test_gradcheck_reverse_and_forward(spec):
    report = cr.gradcheck(spec.call, *spec.inputs(), atol=1e-6, rtol=1e-5)
    assert report.passed
    assert {r["mode"] for r in report.rows} == {"reverse", "forward"}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_jvp_agrees_with_vjp(spec):
    """<J t, c> == <t, J^T c> for random t and c."""
    arrays = spec.inputs()
    rng = np.random.default_rng(1)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    out_val, jt = cr.jvp(spec.call, tuple(arrays), tuple(tangents))
    c = rng.standard_normal(np.shape(out_val))
    xs = _tensors(arrays, requires_grad=True)
    out = spec.call(*xs)
    out.backward(c)
    lhs = float(np.sum(jt * c))
    rhs = sum(float(np.sum(t * (x.grad if x.grad is not None else 0))) for t, x in zip(tangents, xs))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(out_val, out.data, rtol=1e-12)


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.smooth], ids=[s.id for s in SPECS if not s.smooth])
def test_piecewise_constant_ops_have_zero_gradient(spec):
    (x,) = _tensors(spec.inputs(), requires_grad=True)
    spec.call(x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros_like(x.data))
    _, t = cr.jvp(spec.call, (x.data,), (np.ones_like(x.data),))
    np.testing.assert_array_equal(t, 0)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_float32_stays_float32(spec):
    arrays = [a.astype(np.float32) for a in spec.inputs()]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = spec.call(*xs)
    if spec.op != "cast":
        assert out.dtype == np.float32, f"{spec.op} upcast float32 to {out.dtype}"
    out.backward(np.ones(out.shape, dtype=np.float32))
    for x in xs:
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape
