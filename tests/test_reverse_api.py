"""Functional reverse mode: grad, value_and_grad and jacobian (both modes)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


# ------------------------------------------------------------ grad / value_and_grad
def test_grad_of_a_cubic_sum():
    g = cr.grad(lambda x: (x**3).sum())(np.array([1.0, 2.0, -3.0]))
    assert isinstance(g, np.ndarray) and g.dtype == np.float64
    np.testing.assert_allclose(g, [3.0, 12.0, 27.0], rtol=1e-15)


def test_value_and_grad_returns_both():
    v, g = cr.value_and_grad(lambda x: x * x)(3.0)
    assert isinstance(v, np.ndarray) and float(v) == 9.0
    assert isinstance(g, np.ndarray) and g.shape == () and float(g) == 6.0


def _f(a, b, c):
    return (a * b * b).sum() + cr.sin(c).sum() * a.sum()


_ARGS = (np.array([1.0, 2.0]), 3.0, np.array([0.5, -0.25, 1.0]))


def _analytic(a, b, c):
    return (
        b * b + np.sin(c).sum() * np.ones_like(a),
        2 * b * a.sum(),
        np.cos(c) * a.sum(),
    )


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, -3])
def test_argnums_int_selects_one_argument(argnums):
    v, g = cr.value_and_grad(_f, argnums=argnums)(*_ARGS)
    a, b, c = _ARGS
    assert float(v) == pytest.approx((a * b * b).sum() + np.sin(c).sum() * a.sum(), rel=1e-15)
    expected = _analytic(*_ARGS)[argnums]
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    assert np.shape(g) == np.shape(_ARGS[argnums])


@pytest.mark.parametrize("argnums", [(0, 2), (2, 0), (1,), (0, 1, 2), (-1, 0), (0, -3), [1, 1]])
def test_argnums_tuple_gives_a_tuple_in_that_order(argnums):
    g = cr.grad(_f, argnums=argnums)(*_ARGS)
    assert isinstance(g, tuple) and len(g) == len(argnums)
    for k, gk in zip(argnums, g):
        np.testing.assert_allclose(gk, _analytic(*_ARGS)[k], rtol=1e-14)


@pytest.mark.parametrize("argnums", [3, -4, (0, 3), 0.5, ("a",)])
def test_argnums_out_of_range_or_not_int(argnums):
    with pytest.raises(ValueError, match="out of range for a function called with 3 arguments"):
        cr.grad(_f, argnums=argnums)(*_ARGS)


def test_non_differentiated_arguments_pass_through_unchanged():
    seen = {}

    def f(x, labels, scale):
        seen["labels"], seen["scale"] = labels, scale
        return cr.softmax_cross_entropy(x, labels) * scale

    labels = np.array([0, 2])
    g = cr.grad(f)(np.zeros((2, 3)), labels, 2)
    assert seen["labels"] is labels and seen["scale"] == 2
    expected = np.full((2, 3), 1 / 3)
    expected[[0, 1], labels] -= 1
    np.testing.assert_allclose(g, 2 * expected / 2, rtol=1e-14)


def test_input_dtypes():
    f = lambda x: (x * x).sum()  # noqa: E731
    assert cr.grad(f)(np.ones(2, np.float32)).dtype == np.float32
    assert cr.grad(f)(np.ones(2)).dtype == np.float64
    assert cr.grad(f)(np.array([1, 2])).dtype == np.float32  # ints become the default float
    np.testing.assert_array_equal(cr.grad(f)([1, 2]), [2.0, 4.0])


def test_tensor_arguments_are_used_as_values_and_left_alone():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cr.grad(lambda x: (x * x).sum())(t)
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert t.grad is None


def test_grad_works_inside_no_grad():
    with cr.no_grad():
        g = cr.grad(lambda x: (x * x).sum())(np.array([3.0]))
        assert not cr.is_grad_enabled()
    np.testing.assert_array_equal(g, [6.0])


def test_grad_of_a_function_ignoring_its_input_is_zero():
    g = cr.grad(lambda x, y: (y * 2).sum(), argnums=(0, 1))(np.ones((2, 2)), np.ones(3))
    np.testing.assert_array_equal(g[0], np.zeros((2, 2)))
    np.testing.assert_array_equal(g[1], [2.0, 2.0, 2.0])
    v, g = cr.value_and_grad(lambda x: cr.tensor(5.0))(np.ones(2))
    assert float(v) == 5.0 and g.tolist() == [0.0, 0.0]


def test_repeated_calls_do_not_accumulate():
    vg = cr.value_and_grad(lambda x: (x * x).sum())
    first = vg(np.array([1.0, 2.0]))[1]
    second = vg(np.array([1.0, 2.0]))[1]
    np.testing.assert_array_equal(first, second)


def test_size_one_output_is_accepted():
    g = cr.grad(lambda x: x.sum(keepdims=True))(np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_non_scalar_output_is_an_error():
    with pytest.raises(ValueError, match=r"must return a scalar, got shape \(2,\)"):
        cr.grad(lambda x: x * 2)(np.ones(2))


@pytest.mark.parametrize("out", [1.0, np.float64(1.0), np.ones(()), None])
def test_non_tensor_output_is_a_type_error(out):
    with pytest.raises(TypeError, match="must return a chainrule Tensor"):
        cr.value_and_grad(lambda x: out)(1.0)


# ------------------------------------------------------------ jacobian
def _softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_softmax_is_diag_minus_outer(mode):
    x = np.array([0.2, -1.0, 0.7, 1.5])
    s = _softmax(x)
    J = cr.jacobian(lambda v: v.softmax(), x, mode=mode)
    assert J.shape == (4, 4)
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-13, atol=1e-16)


def test_jacobian_modes_agree_on_a_matrix_function():
    rng = np.random.default_rng(0)
    X, A = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))

    def f(x):
        return cr.tanh(x @ A)

    Jr = cr.jacobian(f, X)
    Jf = cr.jacobian(f, X, mode="forward")
    assert Jr.shape == Jf.shape == (2, 4, 2, 3)
    np.testing.assert_allclose(Jr, Jf, rtol=1e-13, atol=1e-15)
    # Analytic: d tanh(XA)_ij / dX_kl = (1 - tanh^2)_ij * [i == k] * A_lj
    T = np.tanh(X @ A)
    expected = np.einsum("ij,ik,lj->ijkl", 1 - T * T, np.eye(2), A)
    np.testing.assert_allclose(Jr, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_a_scalar_function_is_its_gradient(mode):
    x = np.array([1.0, -2.0, 0.5])
    J = cr.jacobian(lambda v: (v**3).sum(), x, mode=mode)
    assert J.shape == (3,)
    np.testing.assert_allclose(J, 3 * x**2, rtol=1e-14)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_at_a_scalar_and_a_list(mode):
    assert float(cr.jacobian(lambda v: v * v, 3.0, mode=mode)) == 6.0
    J = cr.jacobian(lambda v: v * v, [1.0, 2.0], mode=mode)
    np.testing.assert_array_equal(J, [[2.0, 0.0], [0.0, 4.0]])
    J = cr.jacobian(lambda v: v * v, cr.tensor([1.0, 2.0]), mode=mode)
    np.testing.assert_array_equal(J, [[2.0, 0.0], [0.0, 4.0]])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_a_constant_function_is_zero(mode):
    J = cr.jacobian(lambda v: cr.ones(2), np.ones(3), mode=mode)
    assert J.shape == (2, 3) and not J.any()


def test_jacobian_reverse_requires_a_tensor_output():
    with pytest.raises(TypeError, match="must return a chainrule Tensor"):
        cr.jacobian(lambda v: 1.0, np.ones(2))


def test_jacobian_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward', got 'sideways'"):
        cr.jacobian(lambda v: v, np.ones(2), mode="sideways")


def test_jacobian_works_inside_no_grad():
    with cr.no_grad():
        J = cr.jacobian(lambda v: v * 2, np.ones(2))
    np.testing.assert_array_equal(J, 2 * np.eye(2))


# ------------------------------------------------------------ engine entry points
def test_backward_hook_sees_every_node_once_with_its_gradients():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    z = y.sum()
    calls = []
    autograd.backward(z, hook=lambda t, g, gin: calls.append((t.op, np.array(g), [np.array(a) for a in gin])))
    assert [c[0] for c in calls] == ["sum", "mul"]
    assert float(calls[0][1]) == 1.0
    np.testing.assert_array_equal(calls[1][1], [1.0, 1.0])
    np.testing.assert_array_equal(calls[1][2][0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_node_repr_reports_freeing():
    x = cr.tensor(1.0, requires_grad=True)
    y = x * 2
    assert repr(y._node) == "<Node mul: 2 inputs>"
    y.backward()
    assert repr(y._node) == "<Node mul: freed>"


def test_op_registry_lookup_and_registration_errors():
    from chainrule import ops

    assert ops.get("exp") is cr.ops_registry["exp"] and repr(ops.get("exp")) == "Op('exp')"
    with pytest.raises(ValueError, match="unknown op 'nope'; expected one of: .*exp"):
        ops.get("nope")
    with pytest.raises(ValueError, match="op 'add' is already registered"):
        ops.register("add", None, None, None)
