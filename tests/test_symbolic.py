"""Symbolic differentiation and the four-way comparison."""

import math

import numpy as np
import pytest

import chainrule as cr

sympy = pytest.importorskip("sympy")
from chainrule.autodiff.symbolic import Sym, symbolic_grad, to_sympy  # noqa: E402


def test_gormley_example_symbolic_matches_hand_derivative():
    r = symbolic_grad(lambda x: cr.cos(cr.sin(x ** 2) + 3 * x ** 2), 1.5)
    x = r.symbols[0]
    assert sympy.simplify(r.expr - sympy.cos(sympy.sin(x ** 2) + 3 * x ** 2)) == 0
    t = 1.5 ** 2
    expected = -math.sin(math.sin(t) + 3 * t) * (math.cos(t) + 3) * 3.0
    assert float(r.grads[0]) == pytest.approx(expected, rel=1e-13)
    assert r.value == pytest.approx(math.cos(math.sin(t) + 3 * t))


def test_quiz_style_two_variable_function():
    r = symbolic_grad(lambda x, z: x * cr.exp(z) + z ** 2, 2.0, 3.0)
    x, z = r.symbols
    assert r.gradient_exprs == [sympy.exp(z), x * sympy.exp(z) + 2 * z]
    np.testing.assert_allclose([r.grads[0], r.grads[1]], [math.exp(3), 2 * math.exp(3) + 6])


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda W, x: cr.logsumexp(cr.tanh(W @ x)), (np.arange(6.0).reshape(3, 2) / 7, np.array([0.3, -0.2]))),
        (lambda a: cr.softmax(a)[0] + a.max() + cr.relu(a).sum() + cr.log_softmax(a).sum(), (np.array([1.0, 2.0, -0.5]),)),
        (lambda w, b, x: cr.sigmoid(cr.linear(x, w, b)).sum(), (np.ones((2, 3)) * 0.1, np.array([0.2, -0.1]), np.array([[1.0, 2.0, 3.0]]))),
        (lambda a: (a.reshape(2, 2).T @ a.reshape(2, 2)).mean() + cr.sqrt(a).sum() + cr.log(a).sum(), (np.array([1.0, 2.0, 3.0, 4.0]),)),
    ],
)
def test_symbolic_gradient_equals_backprop(f, args):
    r = symbolic_grad(f, *args)
    back = cr.grad(f, argnums=tuple(range(len(args))))(*args)
    for s, b in zip(r.grads, back):
        np.testing.assert_allclose(s, b, rtol=1e-10, atol=1e-12)


def test_expression_swell_is_reported():
    def deep(x):
        for _ in range(4):
            x = cr.sin(x) * cr.cos(x)
        return x

    sizes = symbolic_grad(deep, 0.3).sizes
    assert sizes["gradient_ops"] > 3 * sizes["function_ops"]
    assert sizes["gradient_ops_after_cse"] < sizes["gradient_ops"]


def test_to_sympy_builds_symbol_arrays_and_rejects_vector_outputs():
    args, expr = to_sympy(lambda a: (a * a).sum(), (3,))
    assert args[0].shape == (3,) and str(expr) == "x0**2 + x1**2 + x2**2"
    with pytest.raises(ValueError, match=r"scalar function, got output shape \(3,\)"):
        to_sympy(lambda a: a * 2, (3,))
    assert Sym(sympy.Symbol("q")).shape == ()


def test_compare_gradients_four_ways_agree(capsys):
    rows = cr.compare_gradients(lambda w, x: cr.sigmoid((w[:2] * x).sum() + w[2]), [2.0, -3.0, -3.0], [-1.0, -2.0])
    assert [r["method"].split()[0] for r in rows] == ["reverse", "forward", "finite", "symbolic"]
    for r in rows:
        assert r["max_err"] < 1e-8
    np.testing.assert_allclose(rows[0]["grads"][1], [0.39322387, -0.5898358], rtol=1e-7)
    printed = capsys.readouterr().out
    assert "max |err| vs reverse" in printed and "dual numbers" in printed
