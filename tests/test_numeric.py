"""Finite differences, relative error and gradcheck, including checks that must fail."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autodiff.numeric import GradcheckReport
from chainrule.autodiff.ops import Op


def _exp_sum(x):
    return cr.exp(x).sum()


# ------------------------------------------------------------ numerical_grad
def _fd_error(method, eps, x0=1.0):
    g = cr.numerical_grad(_exp_sum, np.array([x0]), eps=eps, method=method)
    return float(g[0]) - math.exp(x0)


def test_central_differences_are_much_more_accurate_than_one_sided():
    eps = 1e-3
    central, fwd, bwd = (_fd_error(m, eps) for m in ("central", "forward", "backward"))
    # Taylor: forward/backward err = +-f''h/2, central err = f'''h^2/6.
    assert fwd == pytest.approx(math.e * eps / 2, rel=0.01)
    assert bwd == pytest.approx(-math.e * eps / 2, rel=0.01)
    assert central == pytest.approx(math.e * eps**2 / 6, rel=0.01)
    assert abs(central) < abs(fwd) / 1000


@pytest.mark.parametrize("method, order", [("central", 2), ("forward", 1), ("backward", 1)])
def test_error_order_in_the_step_size(method, order):
    ratio = _fd_error(method, 2e-3) / _fd_error(method, 1e-3)
    assert ratio == pytest.approx(2**order, rel=0.02)


def test_default_is_central_with_a_small_step():
    x = np.array([0.3, -1.2, 2.0])
    g = cr.numerical_grad(lambda a: (a * a * a).sum(), x)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == (3,)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)


def test_bad_method_and_eps():
    with pytest.raises(ValueError, match=r"method must be one of \['backward', 'central', 'forward'\], got 'sideways'"):
        cr.numerical_grad(_exp_sum, np.ones(1), method="sideways")
    for eps in (0.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="eps must be > 0"):
            cr.numerical_grad(_exp_sum, np.ones(1), eps=eps)


def test_several_arguments_give_one_gradient_each():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    ga, gb, gc = cr.numerical_grad(lambda x, y, z: ((x @ y) * z).sum(), a, b, 2.0)
    np.testing.assert_allclose(ga, 2.0 * np.outer(np.ones(2), b), rtol=1e-8)
    np.testing.assert_allclose(gb, 2.0 * a.sum(axis=0), rtol=1e-8)
    assert gc.shape == () and float(gc) == pytest.approx((a @ b).sum(), rel=1e-8)


def test_inputs_are_copied_to_float64_and_left_untouched():
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    seen = []

    def f(t):
        seen.append((t.dtype, cr.is_grad_enabled(), t.requires_grad))
        return (t * t).sum()

    g = cr.numerical_grad(f, x32, eps=1e-7)
    np.testing.assert_array_equal(x32, [1.0, 2.0])
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [2.0, 4.0], rtol=1e-7)  # would be far off in float32
    assert set(seen) == {(np.dtype(np.float64), False, False)}
    assert len(seen) == 2 * x32.size


def test_tensor_int_and_python_number_arguments():
    np.testing.assert_allclose(cr.numerical_grad(lambda t: (t * t).sum(), cr.tensor([1.0, 3.0])), [2.0, 6.0], rtol=1e-8)
    np.testing.assert_allclose(cr.numerical_grad(lambda t: (t * t).sum(), [1, 3]), [2.0, 6.0], rtol=1e-8)
    assert float(cr.numerical_grad(lambda t: t * t, 2)) == pytest.approx(4.0, rel=1e-8)


def test_function_may_return_a_number_or_a_size_one_array():
    assert float(cr.numerical_grad(lambda t: float(t.item()) ** 2, 3.0)) == pytest.approx(6.0, rel=1e-8)
    np.testing.assert_allclose(cr.numerical_grad(lambda t: t.sum(keepdims=True), np.ones(2)), [1.0, 1.0], rtol=1e-8)


def test_non_scalar_function_is_an_error():
    with pytest.raises(ValueError, match=r"must return a scalar, got shape \(2,\)"):
        cr.numerical_grad(lambda t: t * 2, np.ones(2))


# ------------------------------------------------------------ relative_error
def test_relative_error():
    assert float(cr.relative_error(1.0, 1.1)) == pytest.approx(0.1 / 1.1, rel=1e-14)
    assert float(cr.relative_error(1.1, 1.0)) == float(cr.relative_error(1.0, 1.1))
    assert float(cr.relative_error(-2.0, 2.0)) == 2.0
    assert float(cr.relative_error(0.0, 0.0)) == 0.0
    assert float(cr.relative_error(1e-13, 0.0)) == pytest.approx(0.1)  # floored by tiny=1e-12
    assert float(cr.relative_error(1e-13, 0.0, tiny=1e-20)) == 1.0
    r = cr.relative_error([1.0, 2.0, 4.0], [1.0, 1.0, 5.0])
    assert r.dtype == np.float64
    np.testing.assert_allclose(r, [0.0, 0.5, 0.2], rtol=1e-14)
    assert cr.relative_error(np.ones((2, 3)), 1.5).shape == (2, 3)


# ------------------------------------------------------------ gradcheck that passes
def test_gradcheck_passes_on_correct_gradients():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    report = cr.gradcheck(lambda x, y: cr.tanh(x * y).sum(), a, b)
    assert isinstance(report, GradcheckReport) and report.passed
    assert [(r["input"], r["mode"]) for r in report.rows] == [
        ("x0", "reverse"), ("x0", "forward"), ("x1", "reverse"), ("x1", "forward")
    ]
    for r in report.rows:
        assert r["ok"] is True and r["abs"] < 1e-8 and set(r) == {"input", "mode", "abs", "rel", "ok"}


def test_gradcheck_without_forward_mode_has_reverse_rows_only():
    report = cr.gradcheck(_exp_sum, np.array([0.1, 0.2]), forward=False)
    assert [r["mode"] for r in report.rows] == ["reverse"]


def test_gradcheck_accepts_tensors_ints_and_non_scalar_outputs():
    assert cr.gradcheck(lambda x: x.softmax(), cr.tensor([0.1, 0.5, -0.3])).passed
    assert cr.gradcheck(lambda x: x * x, [1, 2, 3]).passed
    assert cr.gradcheck(lambda x: cr.ones(2) * 3.0, np.ones(2)).passed  # constant: gradient 0


# ------------------------------------------------------------ gradcheck that must fail
def _square_op(vjp_scale=2.0, jvp_scale=2.0, bad_index=None):
    """x*x with derivative rules that may be deliberately wrong."""

    def scale(s, x):
        f = np.full(np.shape(x), 2.0)
        if bad_index is None:
            f[...] = s
        else:
            f[bad_index] = s
        return f * x

    return Op(
        "test_square",
        lambda x: (x * x, x),
        lambda g, x, needs: (g * scale(vjp_scale, x),),
        lambda ts, x: ts[0] * scale(jvp_scale, x),
    )


def _apply(op):
    return lambda x: x._apply(op, (x,), {})


def test_the_custom_op_passes_when_its_rules_are_right():
    assert cr.gradcheck(lambda x: _apply(_square_op())(x).sum(), np.array([0.5, -1.5])).passed


def test_wrong_vjp_fails_the_reverse_row_with_the_table_in_the_message():
    f = lambda x: _apply(_square_op(vjp_scale=3.0))(x).sum()  # noqa: E731
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(f, np.array([0.5, -1.5]))
    assert isinstance(info.value, AssertionError)
    msg = str(info.value)
    assert msg.startswith("gradient check failed:\n")
    assert "input   mode        max abs err   max rel err  ok" in msg
    lines = msg.splitlines()
    assert lines[2].startswith("x0      reverse") and lines[2].endswith("NO")
    assert lines[3].startswith("x0      forward") and lines[3].endswith("yes")


def test_wrong_jvp_fails_the_forward_row_only():
    f = lambda x: _apply(_square_op(jvp_scale=-2.0))(x).sum()  # noqa: E731
    report = cr.gradcheck(f, np.array([0.5, -1.5]), raise_exception=False)
    assert not report.passed
    assert {r["mode"]: r["ok"] for r in report.rows} == {"reverse": True, "forward": False}
    assert cr.gradcheck(f, np.array([0.5, -1.5]), forward=False).passed


def test_one_wrong_entry_of_a_non_scalar_output_is_caught_through_the_projection():
    f = _apply(_square_op(vjp_scale=2.1, jvp_scale=2.1, bad_index=(1, 2)))
    report = cr.gradcheck(f, np.random.default_rng(1).standard_normal((2, 3)), raise_exception=False)
    assert not report.passed and not any(r["ok"] for r in report.rows)
    # The error is 0.1 * |x| * |c| for one entry only, so it is small but above tolerance.
    assert 1e-4 < report.rows[0]["abs"] < 1.0


def test_only_the_input_with_a_wrong_gradient_is_flagged():
    bad = _apply(_square_op(vjp_scale=2.5))
    report = cr.gradcheck(lambda x, y: (x * x).sum() + bad(y).sum(), np.ones(2), np.array([0.3, 0.7]),
                          forward=False, raise_exception=False)
    assert [(r["input"], r["ok"]) for r in report.rows] == [("x0", True), ("x1", False)]
    # The largest entry is off by (2.5 - 2) * 0.7 out of 2.5 * 0.7, whatever the projection's scale.
    assert report.rows[1]["rel"] == pytest.approx(0.5 / 2.5, rel=1e-6)
    assert report.rows[0]["abs"] < 1e-8 < 1e-3 < report.rows[1]["abs"]


def _mixing_square(vjp_flip, jvp_flip):
    """x*x whose rules read the upstream gradient or the tangent in reverse order."""
    return Op(
        "test_mixing_square",
        lambda x: (x * x, x),
        lambda g, x, needs: (2 * x * (g[::-1] if vjp_flip else g),),
        lambda ts, x: 2 * x * (ts[0][::-1] if jvp_flip else ts[0]),
    )


def test_projection_is_random_so_mixed_up_output_positions_are_caught():
    # With an all-ones projection the reversed upstream gradient would look right.
    f = _apply(_mixing_square(vjp_flip=True, jvp_flip=False))
    report = cr.gradcheck(f, np.array([0.5, 1.0, 2.0]), raise_exception=False)
    assert {r["mode"]: r["ok"] for r in report.rows} == {"reverse": False, "forward": True}


def test_forward_direction_is_random_so_mixed_up_tangents_are_caught():
    # Along the all-ones direction the reversed tangent would look right.
    op = _mixing_square(vjp_flip=False, jvp_flip=True)
    report = cr.gradcheck(lambda x: _apply(op)(x).sum(), np.array([0.5, 1.0, 2.0]), raise_exception=False)
    assert {r["mode"]: r["ok"] for r in report.rows} == {"reverse": True, "forward": False}


def test_a_patched_registry_vjp_is_caught_and_restored(monkeypatch):
    x = np.array([0.2, 1.1, -0.4])
    with monkeypatch.context() as m:
        m.setattr(cr.ops_registry["sin"], "vjp", lambda g, ctx, needs: (g * np.sin(ctx[0]),))
        with pytest.raises(cr.GradcheckError, match="reverse .* NO"):
            cr.gradcheck(lambda v: cr.sin(v).sum(), x)
    assert cr.gradcheck(lambda v: cr.sin(v).sum(), x).passed


def test_tolerances_decide():
    f = _apply(_square_op(vjp_scale=2.0 + 1e-4))
    x = np.array([1.0])
    assert not cr.gradcheck(f, x, forward=False, raise_exception=False).passed
    assert cr.gradcheck(f, x, forward=False, atol=1e-3).passed
    assert cr.gradcheck(f, x, forward=False, atol=0.0, rtol=1e-3).passed


# ------------------------------------------------------------ the report
def test_report_table_layout():
    rows = [
        {"input": "x0", "mode": "reverse", "abs": 1.5e-3, "rel": 2e-2, "ok": False},
        {"input": "x0", "mode": "forward", "abs": 0.0, "rel": 0.0, "ok": True},
    ]
    report = GradcheckReport(rows, passed=False)
    assert str(report) == (
        "input   mode        max abs err   max rel err  ok\n"
        "x0      reverse       1.500e-03     2.000e-02  NO\n"
        "x0      forward       0.000e+00     0.000e+00  yes"
    )
    assert repr(report) == str(report)
    assert report.rows is rows and report.passed is False


def test_report_of_a_real_check_has_one_line_per_row():
    report = cr.gradcheck(lambda a, b: (a * b).sum(), np.ones(2), np.ones(2))
    lines = str(report).splitlines()
    assert len(lines) == 1 + len(report.rows) == 5
    assert all(line.endswith("yes") for line in lines[1:])
