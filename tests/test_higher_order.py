"""Gradients of gradients: create_graph, hessian, hvp, gradgradcheck over every registry op."""

import numpy as np
import pytest
from op_edges import PENDING_OPS
from op_specs import SPECS

import chainrule as cr

SMOOTH = [s for s in SPECS if s.smooth and s.op not in PENDING_OPS]


def test_every_registry_op_has_a_graph_vjp():
    missing = sorted(name for name, op in cr.ops_registry.items() if op.vjp_graph is None and name not in PENDING_OPS)
    done = sorted(name for name in PENDING_OPS if cr.ops_registry[name].vjp_graph is not None)
    assert not done, f"these have a vjp_graph now, remove them from PENDING_OPS: {done}"
    assert not missing, f"ops without vjp_graph (create_graph cannot differentiate them twice): {missing}"


def test_every_differentiable_op_is_gradgradchecked():
    covered = {s.op for s in SMOOTH}
    differentiable = {name for name, op in cr.ops_registry.items() if op.differentiable} - PENDING_OPS
    assert not differentiable - covered, f"differentiable ops without a smooth spec: {sorted(differentiable - covered)}"


@pytest.mark.parametrize("spec", SMOOTH, ids=[s.id for s in SMOOTH])
def test_gradgradcheck(spec):
    report = cr.gradgradcheck(spec.call, *spec.inputs())
    assert report.passed


def _f64(*vals):
    return [cr.tensor(v, requires_grad=True, dtype=np.float64) for v in vals]


def test_backward_create_graph_gives_a_differentiable_grad():
    (x,) = _f64(0.7)
    y = x.sin() * x ** 2
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, cr.Tensor) and g.requires_grad
    v = 0.7
    assert float(g) == pytest.approx(np.cos(v) * v**2 + 2 * v * np.sin(v), rel=1e-12)
    x.grad = None
    g.backward()
    expected = -np.sin(v) * v**2 + 4 * v * np.cos(v) + 2 * np.sin(v)
    assert float(x.grad) == pytest.approx(expected, rel=1e-12)


def test_create_graph_keeps_the_graph_and_accumulates():
    (x,) = _f64([1.0, 2.0])
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    y.backward(create_graph=True)  # the graph was kept, and .grad adds up as a graph
    np.testing.assert_allclose(x.grad.data, 2 * 3 * x.data**2)
    assert x.grad.requires_grad


def test_seed_with_a_graph_stays_differentiable():
    x, v = _f64([1.0, 2.0], [0.5, -1.0])
    y = x ** 2
    y.backward(v, create_graph=True)  # x.grad = 2 x v, a function of v too
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(v.grad, 2 * x.data)
    np.testing.assert_allclose(x.grad, 2 * v.data)


def test_nested_grad_is_the_second_derivative():
    d3 = cr.grad(cr.grad(cr.grad(lambda x: x ** 4 + x.exp(), create_graph=True), create_graph=True))
    x = np.float64(0.3)
    assert float(d3(x)) == pytest.approx(24 * x + np.exp(x), rel=1e-12)


def test_grad_create_graph_returns_tensors_for_every_argnum():
    f = lambda a, b: (a * b.sin()).sum()  # noqa: E731
    ga, gb = cr.grad(f, argnums=(0, 1), create_graph=True)(np.array([1.0, 2.0]), np.array([0.1, 0.2]))
    assert isinstance(ga, cr.Tensor) and isinstance(gb, cr.Tensor)
    np.testing.assert_allclose(ga.data, np.sin([0.1, 0.2]))
    np.testing.assert_allclose(gb.data, [1.0 * np.cos(0.1), 2.0 * np.cos(0.2)])


def test_grad_of_a_function_not_depending_on_x_is_zero():
    g = cr.grad(lambda x, y: (y * 2).sum(), create_graph=True)(np.ones(3), cr.ones(3))
    np.testing.assert_array_equal(g.data, np.zeros(3))


def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 2 - 400 * (x[i + 1] - x[i] ** 2) + 800 * x[i] ** 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_hessian_of_rosenbrock(mode):
    x = np.array([0.3, -1.2, 0.8, 1.5])
    np.testing.assert_allclose(cr.hessian(_rosenbrock, mode=mode)(x), _rosenbrock_hessian(x), rtol=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_hvp_matches_the_hessian(mode):
    x, v = np.array([0.3, -1.2, 0.8, 1.5]), np.array([1.0, -2.0, 0.5, 0.25])
    np.testing.assert_allclose(cr.hvp(_rosenbrock, x, v, mode=mode), _rosenbrock_hessian(x) @ v, rtol=1e-12)


def test_hessian_of_matrix_argument_and_argnums():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x, m: (x @ (m @ x)) * 0.5  # noqa: E731
    h = cr.hessian(f, argnums=0)(np.array([1.0, -1.0]), a)
    np.testing.assert_allclose(h, a)
    hm = cr.hessian(lambda m: (m * m * m).sum(), mode="reverse")(a)
    assert hm.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(hm.reshape(4, 4), np.diag(6 * a.reshape(-1)))


def test_jacobian_of_a_gradient_is_the_hessian_in_both_modes():
    f = lambda x: cr.logsumexp(x * x)  # noqa: E731
    x = np.array([0.2, -0.5, 1.0])
    g = cr.grad(f, create_graph=True)
    h_rev, h_fwd = cr.jacobian(g, x), cr.jacobian(g, x, mode="forward")
    np.testing.assert_allclose(h_rev, h_fwd, rtol=1e-12)
    np.testing.assert_allclose(h_rev, h_rev.T, rtol=1e-12)
    num = np.stack([(np.asarray(g(x + e * 1e-6).data) - np.asarray(g(x - e * 1e-6).data)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(h_rev, num, atol=1e-7)


def test_jvp_of_grad_is_forward_over_reverse():
    x, v = np.array([0.3, -1.2, 0.8]), np.array([1.0, 0.5, -1.0])
    value, tangent = cr.jvp(cr.grad(_rosenbrock, create_graph=True), (x,), (v,))
    np.testing.assert_allclose(value, cr.grad(_rosenbrock)(x))
    np.testing.assert_allclose(tangent, _rosenbrock_hessian(x) @ v, rtol=1e-12)


def test_recording_duals_build_a_graph():
    x = cr.Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]), requires_grad=True)
    y = (x * x).sum()
    assert y.requires_grad and y._node.op.name == "sum"
    plain = cr.Dual(np.array([1.0, 2.0])) * 2
    assert not plain.requires_grad and plain._node is None


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch):
    op = cr.ops_registry["sin"]
    # cos(x) taken as a constant: right first derivative, second derivative lost.
    monkeypatch.setattr(op, "vjp_graph", lambda g, ctx, needs, xs, out: (g * np.cos(ctx[0]),))
    report = cr.gradgradcheck(cr.sin, np.array([0.3, 1.0]), raise_exception=False)
    assert not report.passed
    assert [r["ok"] for r in report.rows if r["input"] == "x0" and r["mode"] != "graph"] == [False, False]
    with pytest.raises(cr.GradcheckError, match="second-order"):
        cr.gradgradcheck(cr.sin, np.array([0.3, 1.0]))


def test_gradgradcheck_catches_a_graph_vjp_that_disagrees_with_the_fast_one(monkeypatch):
    op = cr.ops_registry["exp"]
    monkeypatch.setattr(op, "vjp_graph", lambda g, ctx, needs, xs, out: (g * out * 1.001,))
    report = cr.gradgradcheck(cr.exp, np.array([0.3, 1.0]), raise_exception=False)
    assert [r["ok"] for r in report.rows if r["mode"] == "graph"] == [False]


def test_an_op_without_graph_vjp_is_named(monkeypatch):
    monkeypatch.setattr(cr.ops_registry["tanh"], "vjp_graph", None)
    (x,) = _f64([0.1, 0.2])
    with pytest.raises(RuntimeError, match="op 'tanh' has no graph VJP"):
        x.tanh().sum().backward(create_graph=True)
    x.tanh().sum().backward()  # the ordinary pass never needs it
    np.testing.assert_allclose(x.grad, 1 - np.tanh(x.data) ** 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be one of"):
        cr.hessian(_rosenbrock, mode="sideways")
    with pytest.raises(ValueError, match="v has shape"):
        cr.hvp(_rosenbrock, np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="argnums must be one int"):
        cr.hessian(_rosenbrock, argnums=(0, 1))
    with pytest.raises(ValueError, match="must return a scalar"):
        cr.grad(lambda x: x * 2, create_graph=True)(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward(create_graph=True)


# ------------------------------------------------------------ worked examples (docs/engine.md)
def _neuron(v):
    """The cs231n sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) of v = (w0, w1, w2, x0, x1)."""
    w0, w1, w2, x0, x1 = (v[i] for i in range(5))
    return 1.0 / (1.0 + (-(w0 * x0 + w1 * x1 + w2)).exp())


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_hessian_of_the_sigmoid_neuron_matches_sympy_and_the_hand_formula(mode):
    sympy = pytest.importorskip("sympy", reason="the symbolic reference needs SymPy (pip install sympy)")
    v = np.array([2.0, -3.0, -3.0, -1.0, -2.0])
    h = cr.hessian(_neuron, mode=mode)(v)
    syms = sympy.symbols("w0 w1 w2 x0 x1")
    w0, w1, w2, x0, x1 = syms
    f = 1 / (1 + sympy.exp(-(w0 * x0 + w1 * x1 + w2)))
    exact = np.array(sympy.hessian(f, syms).subs(dict(zip(syms, v))).evalf(), dtype=np.float64)
    np.testing.assert_allclose(h, exact, rtol=1e-12, atol=1e-15)
    # By hand, with respect to the weights: s(1 - s)(1 - 2s) a a^T, a = (x0, x1, 1), s = sigmoid(1).
    s = 1 / (1 + np.exp(-1.0))
    a = np.array([-1.0, -2.0, 1.0])
    np.testing.assert_allclose(h[:3, :3], s * (1 - s) * (1 - 2 * s) * np.outer(a, a), rtol=1e-12)


def _logistic_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ np.array([1.5, -2.0, 0.5]) + 0.3)))).astype(np.float64)
    return x, y


def _log_loss(x, y):
    return lambda wb: cr.nn.functional.binary_cross_entropy_with_logits(x @ wb[:3] + wb[3], y)


def test_newton_on_logistic_regression_converges_in_a_handful_of_steps():
    x, y = _logistic_data()
    loss = _log_loss(x, y)
    wb, norms = np.zeros(4), []
    for _ in range(10):
        g = cr.grad(loss)(wb)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < 1e-12:
            break
        wb = wb - np.linalg.solve(cr.hessian(loss)(wb), g)
    assert len(norms) <= 8 and norms[-1] < 1e-12
    assert all(b < a for a, b in zip(norms, norms[1:]))  # and quadratically fast at the end
    assert norms[-2] < 1e-5
    linear_model = pytest.importorskip("sklearn.linear_model", reason="the reference solution needs scikit-learn")
    ref = linear_model.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(x, y)
    np.testing.assert_allclose(wb, [*ref.coef_[0], ref.intercept_[0]], atol=1e-6)


def test_create_graph_fills_retained_intermediates():
    (x,) = _f64([1.0, 2.0])
    h = (x * x).retain_grad()
    (h * h).sum().backward(create_graph=True)
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 4 * x.data ** 3)
    assert h.grad.requires_grad


def test_the_second_derivative_benchmark_runs():
    """In a subprocess: benchmarks/ and examples/ each have a _common module."""
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "bench_higher.py")
    p = subprocess.run([sys.executable, script, "--quick"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "backward(create_graph=True)" in p.stdout and "reverse-over-reverse" in p.stdout


def test_slogdet_second_derivative_at_a_singular_matrix_is_refused():
    (a,) = _f64(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-singular"):
        cr.linalg.slogdet(a)[1].backward(create_graph=True)
