"""The reverse-mode engine: worked examples, graph bookkeeping, errors, stability."""

import gc
import math

import numpy as np
import pytest

import chainrule as cr


def t64(v, rg=True):
    return cr.tensor(v, requires_grad=rg, dtype=np.float64)


# ------------------------------------------------------------ worked examples
def test_cs231n_circuit_f_equals_x_plus_y_times_z():
    x, y, z = t64(-2.0), t64(5.0), t64(-4.0)
    f = (x + y) * z
    f.backward()
    assert f.item() == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def test_cs231n_2d_sigmoid_neuron():
    w, x = t64([2.0, -3.0, -3.0]), t64([-1.0, -2.0])
    out = cr.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    out.backward()
    s = 1 / (1 + math.exp(-1.0))
    assert out.item() == pytest.approx(s, abs=1e-15) and round(out.item(), 2) == 0.73
    ds = s * (1 - s)
    np.testing.assert_allclose(x.grad, [2 * ds, -3 * ds], rtol=1e-14)
    np.testing.assert_allclose(w.grad, [-1 * ds, -2 * ds, ds], rtol=1e-14)
    np.testing.assert_allclose(np.round(x.grad, 2), [0.39, -0.59])
    np.testing.assert_allclose(np.round(w.grad, 2), [-0.2, -0.39, 0.2])


@pytest.mark.parametrize("xv", [-2.0, -0.3, 0.0, 0.7, 1.5, 3.1])
def test_gormley_chain_rule_example(xv):
    x = t64(xv)
    J = cr.cos(cr.sin(x ** 2) + 3 * x ** 2)
    J.backward()
    t = xv * xv
    u = math.sin(t) + 3 * t
    # Hand-derived: dJ/du = -sin(u); du/dt = cos(t) + 3; dt/dx = 2x.
    expected = -math.sin(u) * (math.cos(t) + 3) * 2 * xv
    assert J.item() == pytest.approx(math.cos(u), abs=1e-15)
    assert x.grad == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_gradients_add_at_branches():
    x = t64(3.0)
    y = x * x + 2 * x  # x is used three times
    y.backward()
    assert x.grad == 2 * 3.0 + 2


# ------------------------------------------------------------ the graph
def test_chain_of_100000_ops_backprops_without_recursion():
    x = t64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_graphs_have_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        for _ in range(50):
            w = t64(np.ones((3, 3)))
            loss = (cr.tanh(w @ w) * 2).sum()
            loss.backward()
        del w, loss
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0, f"{found} objects were only reachable through cycles (before={before})"


def test_leaf_gradients_accumulate_across_calls():
    x = t64(2.0)
    (x * x).backward()
    (x * x).backward()
    assert x.grad == 8.0
    x.zero_grad()
    assert x.grad is None


def test_second_backward_on_freed_graph_is_a_clear_error():
    x = t64(2.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = t64(2.0)
    y = cr.exp(x)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(2 * math.exp(2.0))


def test_backward_on_non_scalar_without_grad_is_a_clear_error():
    x = t64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for a scalar output, got shape \(2,\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad_of_wrong_shape():
    x = t64([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_without_requires_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (cr.tensor(1.0) * 2).backward()


def test_no_grad_records_nothing_and_restores_mode():
    w = t64(1.0)
    with cr.no_grad():
        y = w * 2
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            z = w * 2
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y._node is None
    assert z.requires_grad


def test_no_grad_as_decorator():
    @cr.no_grad()
    def f(t):
        return t * 3

    assert not f(t64(1.0)).requires_grad


def test_unbroadcast_sums_added_and_stretched_axes():
    from chainrule.autodiff.engine import unbroadcast

    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    assert unbroadcast(g, g.shape) is g
    with pytest.raises(RuntimeError, match="cannot be reduced"):
        unbroadcast(np.ones(3), (2, 3))


def test_leaf_grads_never_alias_each_other():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    (a + b).sum().backward()
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0


def test_retain_grad_keeps_intermediate_gradient():
    x = t64(2.0)
    h = (x * 3).retain_grad()
    (h * h).backward()
    assert h.grad == 12.0 and x.grad == 36.0


def test_detach_cuts_the_graph():
    x = t64(2.0)
    y = (x * x).detach() * x
    y.backward()
    assert x.grad == 4.0


def test_max_routes_gradient_and_splits_ties():
    x = t64([1.0, 5.0, 5.0, 2.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])
    a = t64(2.0)
    cr.maximum(a, 2.0).backward()
    assert a.grad == 0.5


def test_getitem_scatter_accumulates_repeated_indices():
    x = t64(np.zeros(4))
    x[np.array([1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 2, 0, 1])


# ---------------------------------------------------------- stability
def test_stable_functions_are_finite_at_1e4():
    x = t64([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    for f in (cr.log_softmax, cr.softmax, cr.sigmoid, lambda v: cr.logsumexp(v, axis=1)):
        x.zero_grad()
        out = f(x)
        assert np.all(np.isfinite(out.data))
        out.sum().backward()
        assert np.all(np.isfinite(x.grad))
    loss = cr.softmax_cross_entropy(x, np.array([1, 0]))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(2e4)


def test_logsumexp_of_all_minus_inf_rows_has_no_nan_gradient():
    x = t64([[-np.inf, -np.inf], [0.0, 1.0]])
    out = cr.logsumexp(x, axis=1)
    assert out.data[0] == -np.inf
    out.sum().backward()
    assert not np.any(np.isnan(x.grad))
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0])


def test_sigmoid_does_not_overflow_in_float32():
    with np.errstate(over="raise"):
        out = cr.sigmoid(cr.tensor([-1e4, 1e4, 0.0]))
    np.testing.assert_array_equal(out.data, np.array([0.0, 1.0, 0.5], dtype=np.float32))


# ---------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: cr.ones(3, 4) @ cr.ones(5, 2), r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned"),
        (lambda: cr.ones(3) + cr.ones(4), r"add: shapes \(3,\) and \(4,\)"),
        (lambda: cr.linear(cr.ones(2, 3), cr.ones(4, 5)), r"linear: input of shape \(2, 3\) does not match weight of shape \(4, 5\)"),
        (lambda: cr.ones(2, 3).reshape(4, 2), r"reshape: shapes \(2, 3\)"),
        (lambda: cr.softmax_cross_entropy(cr.ones(2, 3), np.array([0, 3])), r"label 3 is out of range for 3 classes"),
        (lambda: cr.softmax_cross_entropy(cr.ones(2, 3), np.array([0, -1])), r"label -1 is out of range"),
        (lambda: cr.softmax_cross_entropy(cr.ones(2, 3), np.array([0.5, 1.0])), r"labels must be integers"),
        (lambda: cr.ones(2).sum(axis=3), r"axis 3 is out of range"),
    ],
)
def test_errors_name_the_op_and_shapes(make, message):
    with pytest.raises(ValueError, match=message):
        make()
