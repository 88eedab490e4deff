"""The shared zeros run and relu_values: np.maximum(x, 0)'s exact bits by the array-operand path."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.autodiff.ops import elementwise, scratch
from chainrule.autodiff.ops.elementwise import relu_values


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _specials(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::7], flat[::11], flat[::13], flat[::17] = -0.0, np.nan, -np.inf, np.inf
    return x


def test_zeros_is_a_shared_read_only_run_that_grows():
    z = scratch.zeros(np.float32, 5)
    assert z.dtype == np.float32 and z.shape == (5,) and not z.any() and not z.flags.writeable
    with pytest.raises(ValueError):
        z[0] = 1.0
    longer = scratch.zeros(np.float32, 5000)
    assert longer.shape == (5000,) and not longer.any()
    assert np.shares_memory(scratch.zeros(np.float32, 5), longer)  # one buffer per dtype, not per length
    assert scratch.zeros(np.float64, 3).dtype == np.float64


def test_zeros_refuses_a_run_longer_than_the_cap():
    with pytest.raises(ValueError, match=r"a run of 262145 elements was asked for; at most ZEROS_CAP = 262144"):
        scratch.zeros(np.float32, scratch.ZEROS_CAP + 1)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (20,), (5, 7), (64, 33), (3, 4, 5, 6)])
def test_relu_values_has_the_bits_of_maximum_with_zero(shape, dtype):
    x = _specials(shape, dtype) if shape else np.array(-0.0, dtype)
    expected = np.maximum(x, 0)
    got = relu_values(x)
    assert got.dtype == x.dtype and got.shape == x.shape
    assert np.array_equal(_bits(got), _bits(expected))
    if x.ndim >= 2:  # a strided input
        assert np.array_equal(_bits(relu_values(x.T)), _bits(np.maximum(x.T, 0)))
    inplace = x.copy()
    assert relu_values(inplace, out=inplace) is inplace
    assert np.array_equal(_bits(inplace), _bits(expected))


def test_relu_values_chunks_runs_longer_than_the_cap(monkeypatch):
    monkeypatch.setattr(scratch, "ZEROS_CAP", 64)
    monkeypatch.setattr(elementwise, "ZEROS_CAP", 64)
    for n in (63, 64, 65, 64 * 3 + 5):
        x = _specials((n,), np.float32, seed=n)
        assert np.array_equal(_bits(relu_values(x)), _bits(np.maximum(x, 0))), n
    big = _specials((20, 13), np.float64)
    assert np.array_equal(_bits(relu_values(big.T)), _bits(np.maximum(big.T, 0)))  # strided, past the cap


def test_relu_values_on_other_dtypes_and_outputs_is_maximum_itself():
    ints = np.arange(-20, 20)
    np.testing.assert_array_equal(relu_values(ints), np.maximum(ints, 0))
    x = _specials((40,), np.float32)
    out = np.empty(40, np.float64)  # another dtype: NumPy's own casting rules
    relu_values(x, out=out)
    assert np.array_equal(_bits(out), _bits(np.maximum(x, 0, out=np.empty(40, np.float64))))


def test_relu_everywhere_keeps_the_bits_of_maximum():
    """The relu op, the fused dense chain and the compiled kernel all compute max(x, 0) exactly."""
    x = _specials((32, 24), np.float32)
    assert np.array_equal(_bits(cr.relu(cr.tensor(x)).data), _bits(np.maximum(x, 0)))
    w = np.eye(24, dtype=np.float32)
    with np.errstate(invalid="ignore"):  # inf * 0 inside the identity matmul
        out, _ = cr.ops_registry["dense_chain"].forward(x, w, np.zeros(24, np.float32), acts=("relu",))
        assert np.array_equal(_bits(out), _bits(np.maximum(x @ w.T, 0)))

    def step(a):
        return cr.relu(a)

    compiled = cr.compile(step)
    for _ in range(3):  # recorded, then replayed
        got = compiled(x)
    assert np.array_equal(_bits(np.asarray(got)), _bits(np.maximum(x, 0)))


def test_relu_values_keeps_a_bounded_set_of_zero_views():
    for n in range(16, 16 + 200):  # many batch sizes: the set starts again instead of growing
        x = _specials((n, 3), np.float32, seed=n)
        assert np.array_equal(_bits(relu_values(x)), _bits(np.maximum(x, 0))), n
        assert len(elementwise._ZERO_VIEWS) <= 64
    view = elementwise._ZERO_VIEWS[((215, 3), np.dtype(np.float32))]
    assert view.shape == (215, 3) and not view.any() and not view.flags.writeable


def test_zero_operand_is_zeros_for_float_arrays_and_none_elsewhere():
    z = elementwise.zero_operand((4, 8), np.dtype(np.float64))
    assert z.shape == (4, 8) and z.dtype == np.float64 and not z.any() and not z.flags.writeable
    assert elementwise.zero_operand((4, 8), np.dtype(np.float64)) is z  # kept per shape
    assert elementwise.zero_operand((4, 8), np.dtype(np.int64)) is None  # integers: the scalar path
    assert elementwise.zero_operand((3,), np.dtype(np.float32)) is None  # too small to gain
    assert elementwise.zero_operand((scratch.ZEROS_CAP + 1,), np.dtype(np.float32)) is None  # chunked instead
