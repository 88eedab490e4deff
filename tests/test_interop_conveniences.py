"""NumPy functions on Tensors and Duals, and the PyTorch-shaped conveniences (dim=, view, t(), ...)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

X = np.random.default_rng(0).standard_normal((3, 4))


def t64(a, grad=True):
    return cr.tensor(a, requires_grad=grad, dtype=np.float64)


@pytest.mark.parametrize("numpy_call,ours", [
    (lambda x: np.sum(np.exp(x), axis=1), lambda x: x.exp().sum(axis=1)),
    (lambda x: np.mean(np.tanh(x) * np.ones(4)), lambda x: x.tanh().mean()),
    (lambda x: np.max(np.abs(x), axis=0, keepdims=True), lambda x: x.abs().max(axis=0, keepdims=True)),
    (lambda x: np.prod(np.sin(x) + 2, axis=-1), lambda x: (x.sin() + 2).prod(axis=-1)),
    (lambda x: np.cumsum(np.square(x), axis=1), lambda x: (x * x).cumsum(1)),
    (lambda x: np.transpose(x) @ np.ones(3), lambda x: x.T @ np.ones(3)),
    (lambda x: np.concatenate([x, np.log1p(np.abs(x))], axis=0), lambda x: cr.cat([x, x.abs().log1p()])),
    (lambda x: np.where(x > 0, x, np.zeros(4)), lambda x: cr.where(x.data > 0, x, 0.0)),
    (lambda x: np.einsum("ij->j", x), lambda x: x.sum(0)),
    (lambda x: np.linalg.norm(x), lambda x: x.norm()),
    (lambda x: np.maximum(x, 0.0) - np.ones((3, 4)) / (1 + np.exp(-x)), lambda x: x.relu() - x.sigmoid()),
    (lambda x: np.var(x, axis=0, ddof=1), lambda x: x.var(axis=0, ddof=1)),
    (lambda x: np.sort(x, axis=1), lambda x: x.sort(dim=1)),
])
def test_numpy_functions_record_the_graph(numpy_call, ours):
    a, b = t64(X), t64(X)
    out, ref = numpy_call(a), ours(b)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12)


def test_numpy_functions_on_duals_push_tangents():
    value, tangent = cr.jvp(lambda d: np.sum(np.sin(d) * d, axis=0), (X,), (np.ones_like(X),))
    np.testing.assert_allclose(value, np.sum(np.sin(X) * X, axis=0))
    np.testing.assert_allclose(tangent, np.sum(np.cos(X) * X + np.sin(X), axis=0))


def test_unmapped_numpy_calls_are_constants_or_one_clear_error():
    x = t64(X)
    assert np.shape(x) == (3, 4) and np.allclose(x, X) and np.count_nonzero(x) == 12
    assert isinstance(np.add.reduce(x.detach()), np.ndarray)  # nothing to record: plain NumPy
    with pytest.raises(TypeError, match="numpy.add.reduce cannot record a gradient for chainrule tensors"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match="numpy.convolve cannot record a gradient"):
        np.convolve(x[0], np.ones(2))
    with pytest.raises(TypeError, match="does not take dtype"):
        np.sum(x, dtype=np.float32)


def test_dim_is_an_alias_of_axis_and_both_is_an_error():
    x = t64(X, grad=False)
    for name in ("sum", "mean", "max", "min", "prod", "logsumexp", "var", "std", "argmax", "cumsum", "softmax"):
        np.testing.assert_allclose(np.asarray(getattr(x, name)(dim=1).data), np.asarray(getattr(x, name)(axis=1).data))
    with pytest.raises(TypeError, match="give axis= or its alias dim=, not both"):
        x.sum(axis=0, dim=1)


def test_pytorch_conveniences():
    x = t64(X)
    assert x.view(2, 6).shape == (2, 6) and x.view(-1).shape == (12,)
    assert x.t().shape == (4, 3) and x[0].t().shape == (4,)
    assert x.argmax().item() == int(np.argmax(X)) and x.argmax(dim=0).tolist() == np.argmax(X, 0).tolist()
    assert x.float().dtype == np.float32 and x.float().double().dtype == np.float64
    np.testing.assert_allclose(x.pow(2).data, X ** 2)
    assert cr.cat([x, x], dim=1).shape == (3, 8)
    assert x.transpose(0, 1).shape == (4, 3) and x.transpose((0, 1)).shape == (3, 4)
    assert x.unsqueeze(dim=0).squeeze(dim=0).shape == (3, 4)
    assert [p.shape for p in x.chunk(2, dim=1)] == [(3, 2), (3, 2)] and len(x.unbind(0)) == 3
    with pytest.raises(ValueError, match="t\\(\\) expects a tensor of at most 2 dimensions"):
        x.reshape(1, 3, 4).t()


def test_comparisons_and_where_run_on_duals():
    f = lambda d: cr.where(d > 0, d * d, -d) + cr.where(cr.isfinite(d) & (d <= 1), d, 0.0)
    x = np.array([-2.0, 0.5, 3.0])
    value, tangent = cr.jvp(f, (x,), (np.ones(3),))
    np.testing.assert_allclose(value, [2.0 - 2.0, 0.25 + 0.5, 9.0])
    np.testing.assert_allclose(tangent, [-1.0 + 1.0, 1.0 + 1.0, 6.0])
    d = cr.Dual(np.array([1.0, 2.0]))
    assert (d == 1.0).tolist() == [True, False] and hash(d) == hash(d)
