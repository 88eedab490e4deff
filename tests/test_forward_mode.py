"""Forward mode: Dual numbers, their printing and mixing rules, and jvp."""

import math

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.autodiff.forward import Dual


# ------------------------------------------------------------ Dual basics
def test_scalar_repr_shows_value_and_signed_tangent():
    assert repr(Dual(2.0, 3.0)) == "2.0 + 3.0ε"
    assert repr(Dual(2.0, -3.0)) == "2.0 - 3.0ε"
    assert repr(Dual(-1.5, 0.25)) == "-1.5 + 0.25ε"
    assert repr(Dual(2.0)) == "2.0 + 0.0ε"
    assert str(Dual(0.5, -0.5)) == "0.5 - 0.5ε"


def test_module_docstring_example():
    x = Dual(2.0, 1.0)
    assert repr(x * x + 3 * x) == "10.0 + 7.0ε"


def test_array_repr():
    d = Dual(np.array([1.0, 2.0]), np.array([0.5, -0.5]))
    assert repr(d) == "Dual(value=array([1., 2.]), tangent=array([ 0.5, -0.5]))"


def test_tangent_defaults_to_zeros_and_takes_the_value_dtype():
    d = Dual(np.ones((2, 3), dtype=np.float32))
    assert d.tangent.shape == (2, 3) and d.tangent.dtype == np.float32 and not d.tangent.any()
    d = Dual(np.ones(2, dtype=np.float32), np.array([1.0, 2.0]))
    assert d.tangent.dtype == np.float32


def test_properties():
    d = Dual(np.zeros((2, 3)), np.ones((2, 3)))
    assert d.shape == (2, 3) and d.ndim == 2 and d.dtype == np.float64
    assert d.data is d.value


def test_integer_values_become_the_default_float():
    d = Dual(3, 1)
    assert d.dtype == np.float32 and d.tangent.dtype == np.float32
    assert Dual(np.array([1, 2]), [1, 0]).dtype == np.float32
    assert Dual(np.array([True])).dtype == np.float32


def test_integer_values_follow_a_changed_default_dtype(f64):
    assert Dual(3).dtype == np.float64


def test_dual_from_a_tensor_takes_its_data():
    d = Dual(cr.tensor(np.array([1.0, 2.0])), [1.0, 1.0])
    np.testing.assert_array_equal(d.value, [1.0, 2.0])
    assert d.dtype == np.float64


@pytest.mark.parametrize("value, tangent", [(np.ones(3), np.ones(2)), (1.0, [1.0, 2.0]), (np.ones((2, 1)), np.ones(2))])
def test_tangent_shape_mismatch_is_an_error(value, tangent):
    with pytest.raises(ValueError, match="tangent shape .* does not match value shape"):
        Dual(value, tangent)


# ------------------------------------------------------------ mixing
@pytest.mark.parametrize(
    "f, df",
    [
        (lambda x: x + 2.0, lambda v: 1.0),
        (lambda x: 2.0 + x, lambda v: 1.0),
        (lambda x: x - 2.0, lambda v: 1.0),
        (lambda x: 2.0 - x, lambda v: -1.0),
        (lambda x: x * 3.0, lambda v: 3.0),
        (lambda x: 3 * x, lambda v: 3.0),
        (lambda x: x / 4.0, lambda v: 0.25),
        (lambda x: 4.0 / x, lambda v: -4.0 / v**2),
        (lambda x: x**3, lambda v: 3 * v**2),
        (lambda x: 2.0**x, lambda v: math.log(2.0) * 2.0**v),
        (lambda x: -x, lambda v: -1.0),
        (lambda x: +x, lambda v: 1.0),
        (lambda x: abs(x), lambda v: math.copysign(1.0, v)),
    ],
)
@pytest.mark.parametrize("v", [1.5, -0.7])
def test_python_scalars_on_either_side(f, df, v):
    out = f(Dual(v, 1.0))
    assert isinstance(out, Dual)
    assert float(out.tangent) == pytest.approx(df(v), rel=1e-12)
    assert float(out.value) == pytest.approx(f(v), rel=1e-12)


def test_tensor_constants_on_either_side_carry_no_tangent():
    c = cr.tensor(np.array([2.0, 3.0]))
    d = Dual(np.array([1.0, 4.0]), np.array([1.0, 0.5]))
    for out in (c * d, d * c):
        assert isinstance(out, Dual)
        np.testing.assert_array_equal(out.value, [2.0, 12.0])
        np.testing.assert_array_equal(out.tangent, [2.0, 1.5])
    out = c - d
    np.testing.assert_array_equal(out.tangent, [-1.0, -0.5])
    out = cr.maximum(c, d)  # module functions dispatch on a Dual in any position
    assert isinstance(out, Dual)
    np.testing.assert_array_equal(out.tangent, [0.0, 0.5])
    # A tensor that requires grad is still only a constant here.
    w = cr.tensor(np.array([2.0, 3.0]), requires_grad=True)
    np.testing.assert_array_equal((w * d).tangent, [2.0, 1.5])


def test_ndarrays_on_the_left_defer_to_the_dual():
    d = Dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    for out in (np.array([3.0, 4.0]) * d, np.array([3.0, 4.0]) + d, np.ones((2, 2)) @ d):
        assert isinstance(out, Dual)
    np.testing.assert_array_equal((np.array([3.0, 4.0]) * d).tangent, [3.0, 4.0])
    np.testing.assert_array_equal((np.ones((2, 2)) @ d).tangent, [2.0, 2.0])


def test_float32_duals_stay_float32_with_python_scalars():
    d = Dual(np.array([1.0, 2.0], dtype=np.float32), np.ones(2))
    for out in (d * 0.1, 0.1 + d, d ** 2, cr.exp(d), d / 3):
        assert out.dtype == np.float32 and out.tangent.dtype == np.float32


def test_composite_methods_push_tangents():
    rng = np.random.default_rng(0)
    v, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    h = 1e-6
    for f in (
        lambda a: a.var(axis=1, ddof=1),
        lambda a: a.std(),
        lambda a: a.norm(),
        lambda a: a.square().sum(axis=0),
        lambda a: a.flatten().softmax(),
        lambda a: a.T.unsqueeze(0).squeeze(0).log_softmax(axis=0),
        lambda a: a.unsqueeze(1).expand(3, 2, 4).sum(axis=1),
        lambda a: a.astype(np.float64).tanh(),
    ):
        _, tan = cr.jvp(f, (v,), (t,))
        plus = f(cr.tensor(v + h * t)).data
        minus = f(cr.tensor(v - h * t)).data
        np.testing.assert_allclose(tan, (plus - minus) / (2 * h), rtol=1e-5, atol=1e-7)
    cast = Dual(v, t).astype(np.float32)
    assert cast.dtype == np.float32 and cast.tangent.dtype == np.float32
    np.testing.assert_array_equal(cast.tangent, t.astype(np.float32))


# ------------------------------------------------------------ jvp
def test_jvp_of_a_two_input_function_matches_the_analytic_derivative():
    def f(x, y):
        return cr.sin(x) * y * y + cr.exp(x * y)

    for xv, yv, dx, dy in [(0.3, -1.2, 1.0, 0.0), (0.3, -1.2, 0.0, 1.0), (1.1, 0.4, 0.5, -2.0)]:
        val, tan = cr.jvp(f, (xv, yv), (dx, dy))
        e = math.exp(xv * yv)
        assert float(val) == pytest.approx(math.sin(xv) * yv**2 + e, rel=1e-14)
        expected = (math.cos(xv) * yv**2 + yv * e) * dx + (2 * math.sin(xv) * yv + xv * e) * dy
        assert float(tan) == pytest.approx(expected, rel=1e-13)
        assert isinstance(val, np.ndarray) and isinstance(tan, np.ndarray)


def test_jvp_of_matrix_functions_matches_the_analytic_derivative():
    rng = np.random.default_rng(1)
    A, B, dA, dB = (rng.standard_normal((3, 3)) for _ in range(4))
    val, tan = cr.jvp(lambda a, b: a @ b, (A, B), (dA, dB))
    np.testing.assert_allclose(val, A @ B, rtol=1e-14)
    np.testing.assert_allclose(tan, dA @ B + A @ dB, rtol=1e-13)
    # d tr(A^T A) = 2 <A, dA>
    _, tan = cr.jvp(lambda a: (a * a).sum(), [A], [dA])
    assert float(tan) == pytest.approx(2 * np.sum(A * dA), rel=1e-13)


def test_jvp_is_linear_in_the_tangent():
    rng = np.random.default_rng(2)
    x, t1, t2 = (rng.standard_normal(5) for _ in range(3))

    def f(a):
        return cr.tanh(a) * a.softmax()

    j1 = cr.jvp(f, (x,), (t1,))[1]
    j2 = cr.jvp(f, (x,), (t2,))[1]
    j3 = cr.jvp(f, (x,), (2 * t1 - 3 * t2,))[1]
    np.testing.assert_allclose(j3, 2 * j1 - 3 * j2, rtol=1e-12, atol=1e-14)


def test_jvp_of_a_function_not_depending_on_its_input_has_zero_tangent():
    val, tan = cr.jvp(lambda a: cr.ones(3), (1.0,), (1.0,))
    np.testing.assert_array_equal(val, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(tan, [0.0, 0.0, 0.0])
    val, tan = cr.jvp(lambda a: 3.0, (1.0,), (1.0,))
    assert float(val) == 3.0 and float(tan) == 0.0 and tan.shape == ()


def test_jvp_ignores_arguments_with_zero_tangent():
    _, tan = cr.jvp(lambda a, b: a * b, (np.array([1.0, 2.0]), 3.0), (np.zeros(2), 1.0))
    np.testing.assert_array_equal(tan, [1.0, 2.0])


@pytest.mark.parametrize(
    "primals, tangents",
    [(1.0, (1.0,)), ((1.0,), 1.0), (np.ones(2), (np.ones(2),)), ((1.0,), np.ones(1))],
)
def test_jvp_requires_tuples(primals, tangents):
    with pytest.raises(TypeError, match="must be tuples"):
        cr.jvp(lambda a: a, primals, tangents)


def test_jvp_length_mismatch():
    with pytest.raises(ValueError, match="got 2 primals but 1 tangents"):
        cr.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))


def test_jvp_tangent_shape_mismatch():
    with pytest.raises(ValueError, match="does not match value shape"):
        cr.jvp(lambda a: a, (np.ones(3),), (np.ones(4),))


# ------------------------------------------------------------ duality property
_STEPS = {
    "sin": cr.sin,
    "tanh": cr.tanh,
    "sigmoid": cr.sigmoid,
    "square": lambda a: a * a,
    "scaled_exp": lambda a: cr.exp(a * 0.3),
    "softmax": lambda a: a.softmax(),
    "cumulative": lambda a: a + a.mean(),
    "reverse": lambda a: a[::-1],
    "mix": lambda a: a * a[::-1] + 1.0,
}


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.sampled_from(sorted(_STEPS)), min_size=1, max_size=5),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_jvp_and_vjp_are_dual_on_random_compositions(steps, n, seed):
    """<J t, c> = <t, J^T c>: forward and reverse mode compute the same Jacobian."""

    def f(a):
        for s in steps:
            a = _STEPS[s](a)
        return a

    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal(n), rng.standard_normal(n)
    try:
        with np.errstate(over="raise", invalid="raise"):
            val, jt = cr.jvp(f, (x,), (t,))
    except FloatingPointError:
        reject()  # repeated "mix" steps can overflow exp: the duality is a statement about finite values
    xt = cr.tensor(x, requires_grad=True)
    out = f(xt)
    np.testing.assert_allclose(val, out.data, rtol=1e-14)
    c = rng.standard_normal(out.shape)
    out.backward(c)
    assert float(np.sum(jt * c)) == pytest.approx(float(np.sum(t * xt.grad)), rel=1e-10, abs=1e-12)
