"""unbind / split: values, sparse piece gradients, and the PyTorch oracle."""

import numpy as np
import pytest

import chainrule as cr


def test_unbind_gives_the_slices_and_unused_slices_get_zero_gradient():
    x = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, dtype="float64")
    parts = cr.unbind(x, axis=1)
    assert len(parts) == 4 and all(p.shape == (3,) for p in parts)
    np.testing.assert_array_equal(parts[2].data, x.data[:, 2])
    (parts[0] * 3 + parts[2] * parts[2]).sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 0] = 3
    expected[:, 2] = 2 * x.data[:, 2]
    np.testing.assert_allclose(x.grad, expected)


def test_split_by_piece_size_and_by_sizes_and_a_piece_used_twice():
    # PyTorch's semantics, as Tensor.split: a piece size, or the list of piece sizes.
    x = cr.tensor(np.ones((2, 6)), requires_grad=True, dtype="float64")
    a, b, c = cr.split(x, 2, axis=1)
    assert [p.shape for p in (a, b, c)] == [(2, 2)] * 3
    (a + a + c).sum().backward()
    np.testing.assert_allclose(x.grad, [[2, 2, 0, 0, 1, 1]] * 2)
    assert [p.shape for p in cr.split(x, [1, 1, 0])] == [(1, 6), (1, 6), (0, 6)]
    assert [p.shape for p in cr.split(x, 4, dim=1)] == [(2, 4), (2, 2)]


@pytest.mark.parametrize("bad", [
    lambda: cr.split(cr.zeros(2, 5), [2, 2], axis=1),
    lambda: cr.split(cr.zeros(2, 5), 0, axis=1),
    lambda: cr.unbind(cr.zeros(2, 3), axis=2),
    lambda: cr.unbind(cr.tensor(1.0)),
])
def test_bad_split_arguments_raise_one_sentence(bad):
    with pytest.raises(ValueError, match="split|unbind"):
        bad()


def test_unbind_and_split_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle")
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 5, 4))
    weights = rng.standard_normal(5)
    x = cr.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    ours = sum(p * float(w) for p, w in zip(cr.unbind(x, 1), weights))
    theirs = sum(p * float(w) for p, w in zip(torch.unbind(xt, 1), weights))
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
    y = cr.tensor(data, requires_grad=True)
    yt = torch.tensor(data, requires_grad=True)
    (cr.split(y, [1, 2, 1], axis=2)[1].tanh().sum()).backward()
    torch.split(yt, [1, 2, 1], dim=2)[1].tanh().sum().backward()
    np.testing.assert_allclose(y.grad, yt.grad.numpy(), rtol=1e-12)


def test_forward_mode_through_unbind():
    x = cr.Dual(np.arange(6.0).reshape(2, 3), np.ones((2, 3)))
    parts = cr.unbind(x, axis=0)
    np.testing.assert_allclose((parts[1] * parts[1]).tangent, 2 * np.arange(3.0, 6.0))
