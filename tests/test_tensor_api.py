"""The Tensor surface: construction and dtype rules, constructors, properties,
conversions, operator mixing, methods and composite operations."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule.autodiff.forward import Dual
from chainrule.autodiff.tensor import dispatch


def t64(v, rg=True):
    return cr.tensor(v, requires_grad=rg, dtype=np.float64)


# ------------------------------------------------------------ tensor() dtype rules
@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [[1.0], [2.5]], [1, 2.5]])
def test_python_floats_become_the_default_dtype(data):
    t = cr.tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.array(data, dtype=np.float32))


def test_python_floats_follow_a_changed_default_dtype(f64):
    assert cr.tensor([0.1]).dtype == np.float64
    assert cr.tensor([0.1]).data[0] == 0.1


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint8, np.bool_])
def test_ndarrays_keep_their_dtype(dtype):
    assert cr.tensor(np.zeros(3, dtype=dtype)).dtype == dtype


def test_python_ints_and_bools_stay_ints_and_bools():
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor(7).dtype == np.int64
    assert cr.tensor([True, False]).dtype == np.bool_


def test_explicit_dtype_wins():
    t = cr.tensor([1, 2], dtype=np.float64)
    assert t.dtype == np.float64
    assert cr.tensor(np.ones(2, np.float32), dtype="float64").dtype == np.float64


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0
    u = cr.tensor(t)
    u.data[1] = -1.0
    assert t.data[1] == 2.0 and u.dtype == t.dtype


@pytest.mark.parametrize("data", [[1, 2], np.arange(3), True, np.array([True])])
def test_requires_grad_on_non_floats_is_a_type_error(data):
    with pytest.raises(TypeError, match="requires_grad=True needs a floating dtype"):
        cr.tensor(data, requires_grad=True)


@pytest.mark.parametrize("data", ["abc", ["1.0", "2.0"], None, [1 + 2j], {"a": 1}])
def test_non_numeric_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="must be numeric"):
        cr.tensor(data)


@pytest.mark.parametrize("data, kwargs, error, words", [
    ([[1, 2], [3]], {}, ValueError, "tensor data must be rectangular (nested sequences of equal lengths), got ragged"),
    ([[1.0], [2.0, 3.0]], {"dtype": np.float32}, ValueError, "tensor data must be rectangular"),
    (["1", "x"], {"dtype": np.float32}, ValueError,
     "tensor data must be a float32 array, got list \"['1', 'x']\" (could not convert string to float: 'x')"),
    ([1, 2], {"dtype": "foo"}, TypeError, "dtype 'foo' is not a NumPy dtype"),
])
def test_data_numpy_cannot_convert_is_named_in_one_sentence(data, kwargs, error, words):
    with pytest.raises(error) as e:
        cr.tensor(data, **kwargs)
    assert words in str(e.value)


def test_requires_grad_flag_and_name():
    t = cr.tensor([1.0], requires_grad=True, name="w")
    assert t.requires_grad is True and t.name == "w" and t.grad is None
    assert cr.tensor([1.0]).requires_grad is False
    assert isinstance(cr.tensor(1.0), cr.Tensor) and cr.Tensor([2.0]).dtype == np.float32


def test_requires_grad_underscore_sets_flag_and_checks_dtype():
    t = cr.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert t.requires_grad_(False) is t and not t.requires_grad
    with pytest.raises(TypeError, match="floating dtype"):
        cr.tensor([1, 2]).requires_grad_()
    assert cr.tensor([1, 2]).requires_grad_(False).requires_grad is False


# ------------------------------------------------------------ default dtype
def test_default_dtype_is_float32_and_can_be_switched_and_restored():
    assert cr.get_default_dtype() == np.float32
    try:
        cr.set_default_dtype("float64")
        assert cr.get_default_dtype() == np.float64
        assert cr.zeros(2).dtype == np.float64
        cr.set_default_dtype(np.float32)
        assert cr.get_default_dtype() == np.float32
    finally:
        cr.set_default_dtype(np.float32)


@pytest.mark.parametrize("bad", [np.float16, int, np.int32, bool, "complex128"])
def test_set_default_dtype_rejects_non_float32_64(bad):
    with pytest.raises(TypeError, match="float32 or float64"):
        cr.set_default_dtype(bad)
    assert cr.get_default_dtype() == np.float32


# ------------------------------------------------------------ constructors
@pytest.mark.parametrize("make, fill", [(cr.zeros, 0.0), (cr.ones, 1.0)])
def test_zeros_ones_take_varargs_tuple_or_list(make, fill):
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32
        assert np.all(t.data == fill)
    assert make().shape == () and make(0).shape == (0,)
    assert make(2, dtype=np.int64).dtype == np.int64
    assert make(np.int64(3)).shape == (3,)


@pytest.mark.parametrize("make", [cr.zeros, cr.ones, cr.randn, cr.rand])
@pytest.mark.parametrize("shape", [(-1,), (2, -3), (2.0,), ("3",), ((2, None),)])
def test_bad_shapes_are_value_errors(make, shape):
    with pytest.raises(ValueError, match="non-negative integers"):
        make(*shape)


def test_constructor_requires_grad_and_default_dtype(f64):
    w = cr.ones(2, 2, requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == np.float64
    assert cr.randn(3, seed=0).dtype == np.float64
    with pytest.raises(TypeError, match="floating dtype"):
        cr.zeros(2, dtype=np.int64, requires_grad=True)


def test_full():
    t = cr.full((2, 3), 7)
    assert t.shape == (2, 3) and t.dtype == np.float32 and np.all(t.data == 7)
    assert cr.full(4, 1.5).shape == (4,)
    assert cr.full([2], -1, dtype=np.int64).tolist() == [-1, -1]
    with pytest.raises(ValueError):
        cr.full((2, -1), 0.0)


def test_eye():
    np.testing.assert_array_equal(cr.eye(3).data, np.eye(3))
    assert cr.eye(3).dtype == np.float32 and cr.eye(2, dtype=np.float64).dtype == np.float64
    assert cr.eye(2, requires_grad=True).requires_grad


def test_arange():
    np.testing.assert_array_equal(cr.arange(5).data, [0, 1, 2, 3, 4])
    assert cr.arange(5).dtype == np.int64
    np.testing.assert_array_equal(cr.arange(2, 10, 3).data, [2, 5, 8])
    np.testing.assert_array_equal(cr.arange(10, step=3).data, [0, 3, 6, 9])
    f = cr.arange(0.0, 1.0, 0.25)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.data, [0, 0.25, 0.5, 0.75])
    assert cr.arange(3, dtype=np.float64).dtype == np.float64
    assert cr.arange(3.0, requires_grad=True).requires_grad
    with pytest.raises(TypeError):
        cr.arange(3, requires_grad=True)


def test_linspace():
    t = cr.linspace(0, 1, 5)
    np.testing.assert_allclose(t.data, [0, 0.25, 0.5, 0.75, 1.0])
    assert t.dtype == np.float32
    assert cr.linspace(-1, 1).shape == (50,)
    assert cr.linspace(0, 1, 3, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("make, draw", [(cr.randn, "standard_normal"), (cr.rand, "random")])
def test_random_constructors_are_seeded_and_reproducible(make, draw):
    a = make(2, 3, seed=0)
    b = make((2, 3), seed=0)
    np.testing.assert_array_equal(a.data, b.data)
    ref = getattr(np.random.default_rng(0), draw)((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(a.data, ref)
    assert not np.array_equal(a.data, make(2, 3, seed=1).data)
    assert a.dtype == np.float32 and make(2, seed=0, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("make, draw", [(cr.randn, "standard_normal"), (cr.rand, "random")])
def test_random_constructors_draw_from_a_given_generator(make, draw):
    g = np.random.default_rng(5)
    first, second = make(4, generator=g), make(4, generator=g)
    ref = np.random.default_rng(5)
    np.testing.assert_array_equal(first.data, getattr(ref, draw)(4).astype(np.float32))
    np.testing.assert_array_equal(second.data, getattr(ref, draw)(4).astype(np.float32))
    # The generator wins over the seed.
    np.testing.assert_array_equal(
        make(3, seed=1, generator=np.random.default_rng(2)).data, make(3, seed=2).data
    )


def test_rand_is_in_unit_interval():
    u = cr.rand(1000, seed=3).data
    assert u.min() >= 0.0 and u.max() < 1.0 and 0.4 < u.mean() < 0.6


@pytest.mark.parametrize("make", [cr.randn, cr.rand])
@pytest.mark.parametrize("seed", [1.5, "0", [1]])
def test_bad_seed_is_a_type_error(make, seed):
    with pytest.raises(TypeError, match="seed must be an integer"):
        make(2, seed=seed)


def test_rng_helper():
    g = np.random.default_rng(0)
    assert cr.rng(generator=g) is g
    assert isinstance(cr.rng(), np.random.Generator)
    assert cr.rng(4).random() == np.random.default_rng(4).random()
    assert cr.rng(np.int64(4)).random() == np.random.default_rng(4).random()
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        cr.rng(generator=np.random.RandomState(0))


def test_like_constructors_copy_shape_and_dtype():
    t = cr.tensor(np.ones((2, 3), dtype=np.float64))
    for like, fill in ((cr.zeros_like, 0), (cr.ones_like, 1)):
        out = like(t)
        assert out.shape == (2, 3) and out.dtype == np.float64 and np.all(out.data == fill)
    assert cr.zeros_like(np.ones(4, dtype=np.int32)).dtype == np.int32
    assert cr.ones_like(t, dtype=np.float32).dtype == np.float32
    assert cr.zeros_like(t, requires_grad=True).requires_grad
    assert cr.zeros_like(Dual(np.ones(3))).shape == (3,)
    np.testing.assert_array_equal(cr.randn_like(t, seed=0).data, cr.randn(2, 3, seed=0, dtype=np.float64).data)
    np.testing.assert_array_equal(cr.rand_like(t, seed=0).data, cr.rand(2, 3, seed=0, dtype=np.float64).data)
    g = np.random.default_rng(9)
    np.testing.assert_array_equal(
        cr.randn_like(t, generator=g).data, np.random.default_rng(9).standard_normal((2, 3))
    )
    for like in (cr.zeros_like, cr.ones_like, cr.randn_like, cr.rand_like):
        assert like.__name__.endswith("_like")


# ------------------------------------------------------------ properties
def test_shape_dtype_ndim_size_len():
    t = cr.zeros(2, 3, 4)
    assert (t.shape, t.dtype, t.ndim, t.size, len(t)) == ((2, 3, 4), np.float32, 3, 24, 2)
    s = cr.tensor(5.0)
    assert (s.shape, s.ndim, s.size) == ((), 0, 1)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(s)


def test_is_leaf_and_op():
    x = t64([1.0, 2.0])
    y = x * 2
    z = y.sum()
    assert x.is_leaf and x.op == ""
    assert not y.is_leaf and y.op == "mul"
    assert z.op == "sum"
    assert cr.exp(x).op == "exp" and (x @ x).op == "matmul" and x[0].op == "getitem"
    c = cr.tensor([1.0]) * 2  # constants record no graph
    assert c.is_leaf and c.op == "" and not c.requires_grad
    with cr.no_grad():
        assert (x * 2).is_leaf
    y.backward(np.ones(2))
    assert y.op == "mul"  # the op name survives the freeing of the graph


def test_item_float_int_bool():
    assert cr.tensor([[2.5]]).item() == 2.5 and isinstance(cr.tensor([[2.5]]).item(), float)
    assert cr.tensor(3).item() == 3 and isinstance(cr.tensor(3).item(), int)
    assert float(cr.tensor([1.25])) == 1.25
    assert int(cr.tensor(3.9)) == 3 and int(cr.tensor(-3.9)) == -3
    assert bool(cr.tensor(0.5)) is True and bool(cr.tensor([0.0])) is False
    many = cr.tensor([1.0, 2.0])
    for conv in (lambda t: t.item(), float, int):
        with pytest.raises(ValueError, match="2 elements"):
            conv(many)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(many)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.zeros(0))


def test_numpy_shares_and_tolist_converts():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = t.numpy()
    assert a is t.data
    a[0, 0] = 10.0
    assert t.data[0, 0] == 10.0
    assert t.tolist() == [[10.0, 2.0], [3.0, 4.0]] and isinstance(t.tolist()[0][0], float)
    assert cr.tensor(2).tolist() == 2


def test_array_protocol():
    t = cr.tensor([1.5, 2.5])
    assert np.asarray(t) is t.data
    as64 = np.asarray(t, dtype=np.float64)
    assert as64.dtype == np.float64
    np.testing.assert_array_equal(as64, [1.5, 2.5])
    copied = np.array(t)
    assert copied.dtype == np.float32 and copied is not t.data
    copied[0] = -1.0  # np.array copies, so the tensor is untouched
    assert t.data[0] == 1.5
    assert np.array(t, copy=True) is not t.data


@pytest.mark.parametrize(
    "op, ref",
    [
        (lambda a, b: a < b, np.less),
        (lambda a, b: a <= b, np.less_equal),
        (lambda a, b: a > b, np.greater),
        (lambda a, b: a >= b, np.greater_equal),
        (lambda a, b: a == b, np.equal),
        (lambda a, b: a != b, np.not_equal),
    ],
)
def test_comparisons_give_constant_bool_tensors(op, ref):
    a_np, b_np = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    a = t64(a_np)
    for other in (t64(b_np), b_np, 2.0):
        out = op(a, other)
        assert isinstance(out, cr.Tensor) and out.dtype == np.bool_
        assert not out.requires_grad and out.is_leaf
        np.testing.assert_array_equal(out.data, ref(a_np, other.data if isinstance(other, cr.Tensor) else other))
    # ndarray on the left defers to the reflected comparison.
    out = op(b_np, a)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_array_equal(out.data, ref(b_np, a_np))


def test_tensors_stay_hashable_despite_elementwise_eq():
    a, b = cr.tensor([1.0]), cr.tensor([1.0])
    assert len({a, b}) == 2 and {a: "a"}[a] == "a"


def test_repr():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    y = x * 2
    assert repr(y) == "tensor([2., 4.], grad_fn=<mul>)"
    assert "requires_grad" not in repr(y)
    assert repr(cr.tensor([1.0])) == "tensor([1.])"
    assert repr(cr.tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor(np.array([1, 2], dtype=np.int32))) == "tensor([1, 2], dtype=int32)"
    assert repr(cr.tensor(True)) == "tensor(True)"
    assert "0.3333" in repr(cr.tensor([1 / 3])) and "0.33333" not in repr(cr.tensor([1 / 3]))


def test_repr_names_float32_when_default_is_float64(f64):
    assert repr(cr.tensor([1.0])) == "tensor([1.])"
    assert repr(cr.tensor(np.ones(1, np.float32))) == "tensor([1.], dtype=float32)"


def test_backward_accepts_a_tensor_seed():
    x = t64([1.0, 2.0])
    (x * 3).backward(cr.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_leaf_grad_is_an_ndarray_of_the_leaf_dtype_even_for_0d():
    x = cr.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == () and x.grad.dtype == np.float32
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad == 8.0
    x.grad[...] = 0.0  # writable in place
    assert x.grad == 0.0


# ------------------------------------------------------------ operators with scalars and arrays
_BIN = [
    ("add", lambda a, b: a + b, np.add),
    ("sub", lambda a, b: a - b, np.subtract),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
    ("pow", lambda a, b: a ** b, np.power),
]


@pytest.mark.parametrize("name, op, ref", _BIN, ids=[b[0] for b in _BIN])
@pytest.mark.parametrize("kind", ["scalar", "ndarray"])
def test_operators_mix_with_scalars_and_arrays_on_either_side(name, op, ref, kind):
    xv = np.array([0.5, 1.5, 2.0])
    other = 1.5 if kind == "scalar" else np.array([2.0, 0.5, 1.25])
    for left in (True, False):
        x = t64(xv)
        out = op(x, other) if left else op(other, x)
        assert isinstance(out, cr.Tensor), f"{type(out)}"
        expected = ref(xv, other) if left else ref(other, xv)
        np.testing.assert_allclose(out.data, expected, rtol=1e-14)
        out.backward(np.ones(3))
        h = 1e-6
        num = ((ref(xv + h, other) - ref(xv - h, other)) if left else (ref(other, xv + h) - ref(other, xv - h))) / (2 * h)
        np.testing.assert_allclose(x.grad, num, rtol=1e-6)
        assert x.grad.shape == x.shape


def test_ndarray_on_the_left_returns_a_tensor_through_array_ufunc():
    x = t64([1.0, 2.0])
    assert isinstance(np.exp(x), cr.Tensor) and np.exp(x).requires_grad  # the ufunc hook records the op
    for out in (np.ones(2) + x, np.ones(2) - x, np.ones(2) * x, np.ones(2) / x,
                np.ones((3, 2)) @ x, np.float64(2.0) * x):
        assert isinstance(out, cr.Tensor) and out.requires_grad
    m = np.arange(6.0).reshape(3, 2)
    (m @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, m.sum(axis=0))


def test_python_scalars_keep_float32():
    x = cr.tensor([1.0, 2.0])
    for out in (x * 0.1, 0.1 + x, 2 - x, 1 / x, x ** 2, 2 ** x, x / 3):
        assert out.dtype == np.float32


def test_rpow_and_rmatmul_gradients():
    x = t64([0.5, -1.0])
    (2.0 ** x).sum().backward()
    np.testing.assert_allclose(x.grad, np.log(2.0) * 2.0 ** x.data, rtol=1e-14)
    w = t64(np.array([[1.0, 2.0], [3.0, 4.0]]))
    (np.array([1.0, -1.0]) @ w).sum().backward()
    np.testing.assert_array_equal(w.grad, [[1.0, 1.0], [-1.0, -1.0]])


def test_tensor_exponent_uses_pow_and_scalar_exponent_uses_pow_scalar():
    x = t64([2.0, 3.0])
    assert (x ** 2).op == "pow_scalar" and (x ** np.float64(2)).op == "pow_scalar"
    assert (x ** t64([1.0, 2.0])).op == "pow"
    assert cr.power(x, 3).op == "pow_scalar" and cr.power(x, x).op == "pow"
    np.testing.assert_array_equal(cr.power(x, 3).data, [8.0, 27.0])


def test_unary_operators():
    x = t64([-2.0, 3.0])
    assert +x is x
    np.testing.assert_array_equal((-x).data, [2.0, -3.0])
    np.testing.assert_array_equal(abs(x).data, [2.0, 3.0])
    assert abs(x).op == "abs" and (-x).op == "neg"
    (abs(x) - x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-2.0, 0.0])


# ------------------------------------------------------------ element-wise methods = module functions
_UNARY = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0), "abs": np.abs,
    "sign": np.sign, "step": lambda v: (v > 0) * 1.0, "neg": np.negative,
}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_methods_and_functions_agree_with_numpy(name):
    v = np.array([[0.3, 1.7], [2.2, 0.9]])
    x = t64(v)
    outs = [getattr(cr, name)(x), getattr(cr, name)(v)]
    if name != "neg":
        outs.append(getattr(x, name)())
    for out in outs:
        assert isinstance(out, cr.Tensor) and out.dtype == np.float64
        np.testing.assert_allclose(out.data, _UNARY[name](v), rtol=1e-14)
    assert outs[0].op == name and outs[0].requires_grad and not outs[1].requires_grad


def test_module_level_binary_functions():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -2.0])
    for fn, ref in ((cr.add, np.add), (cr.sub, np.subtract), (cr.mul, np.multiply), (cr.div, np.divide),
                    (cr.maximum, np.maximum), (cr.minimum, np.minimum), (cr.matmul, np.matmul)):
        out = fn(t64(a), b)
        assert out.op == fn.__name__
        np.testing.assert_allclose(out.data, ref(a, b), rtol=1e-14)
        np.testing.assert_allclose(fn(a, t64(b)).data, ref(a, b), rtol=1e-14)


def test_maximum_minimum_methods():
    a, b = t64([1.0, 5.0]), t64([3.0, 2.0])
    np.testing.assert_array_equal(a.maximum(b).data, [3.0, 5.0])
    np.testing.assert_array_equal(a.minimum(2.0).data, [1.0, 2.0])
    a.maximum(b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.0])


def test_clip_method_and_errors():
    x = t64([-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.clip(-1, 1).data, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(x.clip(hi=1).data, [-2.0, 0.0, 1.0])
    np.testing.assert_array_equal(cr.clip(x, lo=1).data, [1.0, 1.0, 2.0])
    x.clip(-1, 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="at least one of lo and hi"):
        x.clip()


def test_where_function():
    a, b = t64([1.0, 2.0, 3.0]), t64([10.0, 20.0, 30.0])
    cond = cr.tensor([True, False, True])
    out = cr.where(cond, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(cr.where([1, 0, 0], 1.0, b.data).data, [1.0, 20.0, 30.0])


# ------------------------------------------------------------ reductions and softmax family
def test_reduction_functions_match_methods_and_numpy():
    v = np.random.default_rng(0).standard_normal((3, 4))
    x = t64(v)
    for fn, meth, ref in ((cr.sum, "sum", np.sum), (cr.mean, "mean", np.mean),
                          (cr.amax, "max", np.max), (cr.amin, "min", np.min)):
        for axis, keep in ((None, False), (0, True), (1, False), ((0, 1), True)):
            expected = ref(v, axis=axis, keepdims=keep)
            np.testing.assert_allclose(fn(x, axis=axis, keepdims=keep).data, expected, rtol=1e-14)
            np.testing.assert_allclose(getattr(x, meth)(axis=axis, keepdims=keep).data, expected, rtol=1e-14)


def test_softmax_family_methods_match_functions():
    v = np.random.default_rng(1).standard_normal((2, 5))
    x = t64(v)
    np.testing.assert_allclose(x.softmax().data, cr.softmax(x).data)
    np.testing.assert_allclose(x.softmax(axis=0).data.sum(axis=0), [1.0] * 5)
    np.testing.assert_allclose(x.log_softmax(axis=0).data, cr.log_softmax(x, axis=0).data)
    np.testing.assert_allclose(x.logsumexp(axis=1).data, np.log(np.exp(v).sum(axis=1)), rtol=1e-13)
    assert x.logsumexp(axis=1, keepdims=True).shape == (2, 1)


def test_softmax_cross_entropy_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be"):
        cr.softmax_cross_entropy(cr.ones(2, 3), np.array([0, 1]), reduction="avg")


# ------------------------------------------------------------ composite methods
def test_square():
    x = t64([-3.0, 0.5])
    y = x.square()
    np.testing.assert_array_equal(y.data, [9.0, 0.25])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [-6.0, 1.0])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_var_std_match_numpy(axis, ddof, keepdims):
    v = np.random.default_rng(2).standard_normal((3, 4))
    x = t64(v)
    np.testing.assert_allclose(x.var(axis=axis, ddof=ddof, keepdims=keepdims).data,
                               np.var(v, axis=axis, ddof=ddof, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(x.std(axis=axis, ddof=ddof, keepdims=keepdims).data,
                               np.std(v, axis=axis, ddof=ddof, keepdims=keepdims), rtol=1e-12)


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std_gradients(ddof):
    v = np.array([1.0, 2.0, 4.0, 7.0])
    n = v.size
    x = t64(v)
    x.var(ddof=ddof).backward()
    np.testing.assert_allclose(x.grad, 2 * (v - v.mean()) / (n - ddof), rtol=1e-13)
    x = t64(v)
    x.std(ddof=ddof).backward()
    s = np.std(v, ddof=ddof)
    np.testing.assert_allclose(x.grad, (v - v.mean()) / ((n - ddof) * s), rtol=1e-13)
    assert cr.gradcheck(lambda a: a.std(axis=1, ddof=ddof), np.random.default_rng(3).standard_normal((2, 5))).passed


def test_norm():
    x = t64([3.0, -4.0])
    n = x.norm()
    assert n.item() == 5.0 and n.shape == ()
    n.backward()
    np.testing.assert_allclose(x.grad, [0.6, -0.8], rtol=1e-15)
    assert cr.tensor(np.ones((2, 2))).norm().item() == 2.0


def test_reshape_varargs_tuple_and_function():
    x = t64(np.arange(6.0))
    for y in (x.reshape(2, 3), x.reshape((2, 3)), x.reshape([2, -1]), cr.reshape(x, (2, 3))):
        assert y.shape == (2, 3)
        np.testing.assert_array_equal(y.data, np.arange(6.0).reshape(2, 3))


def test_flatten():
    x = t64(np.arange(24.0).reshape(2, 3, 4))
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(2).shape == (2, 3, 4)
    np.testing.assert_array_equal(x.flatten(1).data, np.arange(24.0).reshape(2, 12))
    x.flatten(1).backward(np.arange(24.0).reshape(2, 12))
    np.testing.assert_array_equal(x.grad, np.arange(24.0).reshape(2, 3, 4))
    assert cr.tensor(5.0).flatten().shape == (1,)


def test_unsqueeze_and_squeeze():
    x = t64(np.ones((3, 1, 2)))
    assert x.unsqueeze(0).shape == (1, 3, 1, 2)
    assert x.unsqueeze(-1).shape == (3, 1, 2, 1)
    assert x.unsqueeze(1).shape == (3, 1, 1, 2)
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(1).shape == (3, 2)
    assert cr.ones(1, 1).squeeze(0).shape == (1,)
    with pytest.raises(ValueError):
        x.squeeze(0)
    x.unsqueeze(0).squeeze().sum().backward()
    assert x.grad.shape == (3, 1, 2)


def test_transpose_permute_T():
    v = np.arange(24.0).reshape(2, 3, 4)
    x = t64(v)
    assert x.T.shape == (4, 3, 2) and x.transpose().shape == (4, 3, 2)
    np.testing.assert_array_equal(x.permute(1, 2, 0).data, v.transpose(1, 2, 0))
    np.testing.assert_array_equal(x.transpose((1, 2, 0)).data, v.transpose(1, 2, 0))
    np.testing.assert_array_equal(cr.transpose(x, (2, 0, 1)).data, v.transpose(2, 0, 1))
    np.testing.assert_array_equal(cr.transpose(x).data, v.T)
    assert cr.ones(3).T.shape == (3,)
    g = np.arange(24.0).reshape(3, 4, 2)
    x.permute(1, 2, 0).backward(g)
    np.testing.assert_array_equal(x.grad, g.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0, 1)


def test_expand_is_broadcast_to():
    x = t64([[1.0], [2.0]])
    for y in (x.expand(2, 3), x.expand((2, 3)), x.broadcast_to(3, 2, 3), cr.broadcast_to(x, (2, 3))):
        np.testing.assert_array_equal(y.data, np.broadcast_to(x.data, y.shape))
    x.expand(4, 2, 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[12.0], [12.0]])


def test_astype_float32_to_float64_and_back():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.op == "cast"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    z = t64([1.5])
    w = z.astype("float32")
    assert w.dtype == np.float32
    (w * 2).sum().backward()
    assert z.grad.dtype == np.float64 and z.grad[0] == 2.0
    assert cr.tensor([1.7, -1.2]).astype(np.int64).tolist() == [1, -1]


def test_indexing_with_tensors_and_lists():
    x = t64([10.0, 20.0, 30.0])
    y = x[cr.tensor([2, 0, 2])]
    np.testing.assert_array_equal(y.data, [30.0, 10.0, 30.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 2.0])
    m = t64(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m[[1, 0]].data, [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(m[cr.tensor([1, 0]), cr.tensor([2, 2])].data, [5.0, 2.0])
    np.testing.assert_array_equal(m[:, cr.tensor(1)].data, [1.0, 4.0])
    np.testing.assert_array_equal(m[m > 2.5].data, [3.0, 4.0, 5.0])


def test_concatenate_and_stack_functions():
    a, b = t64([[1.0, 2.0]]), t64([[3.0, 4.0]])
    np.testing.assert_array_equal(cr.concatenate([a, b]).data, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(cr.stack([a, b], axis=-1).shape, (1, 2, 2))
    cr.stack((a, b)).backward(np.array([[[1.0, 2.0]], [[3.0, 4.0]]]))
    np.testing.assert_array_equal(a.grad, [[1.0, 2.0]])
    np.testing.assert_array_equal(b.grad, [[3.0, 4.0]])


def test_linear_function_with_and_without_bias():
    x, w, b = np.ones((2, 3)), np.arange(12.0).reshape(4, 3), np.arange(4.0)
    np.testing.assert_array_equal(cr.linear(t64(x), w, b).data, x @ w.T + b)
    np.testing.assert_array_equal(cr.linear(t64(x), w).data, x @ w.T)


# ------------------------------------------------------------ dispatch
def test_dispatch_picks_the_mode_from_any_argument():
    out = dispatch("add", np.ones(2), np.ones(2))
    assert isinstance(out, cr.Tensor) and out.tolist() == [2.0, 2.0]
    d = dispatch("mul", 3.0, Dual(2.0, 1.0))
    assert isinstance(d, Dual) and float(d.value) == 6.0 and float(d.tangent) == 3.0
    d = dispatch("mul", cr.tensor(3.0), Dual(2.0, 1.0))
    assert isinstance(d, Dual) and float(d.tangent) == 3.0
    with pytest.raises(KeyError):
        dispatch("no_such_op", 1.0)


# ------------------------------------------------------------ broadcasting property
@settings(max_examples=60, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
    which=st.sampled_from(["add", "mul", "sub", "div"]),
)
def test_broadcast_gradients_are_sums_over_the_broadcast_positions(shapes, seed, which):
    """Each input's gradient adds up the upstream entries that its elements were copied to."""
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    av, bv = rng.uniform(0.5, 2.0, sa), rng.uniform(0.5, 2.0, sb)
    c = rng.standard_normal(out_shape)
    a, b = t64(av), t64(bv)
    out = {"add": a + b, "mul": a * b, "sub": a - b, "div": a / b}[which]
    assert out.shape == out_shape
    out.backward(c)
    A, B = np.broadcast_to(av, out_shape), np.broadcast_to(bv, out_shape)
    local_a, local_b = {
        "add": (np.ones(out_shape), np.ones(out_shape)),
        "mul": (B, A),
        "sub": (np.ones(out_shape), -np.ones(out_shape)),
        "div": (1 / B, -A / B**2),
    }[which]

    def scatter(shape, contrib):
        # Which input element each output position was copied from, then add them up.
        idx = np.broadcast_to(np.arange(math.prod(shape)).reshape(shape), out_shape)
        return np.bincount(idx.ravel(), weights=contrib.ravel(), minlength=math.prod(shape)).reshape(shape)

    np.testing.assert_allclose(a.grad, scatter(sa, c * local_a), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, scatter(sb, c * local_b), rtol=1e-12, atol=1e-12)
    assert a.grad.shape == sa and b.grad.shape == sb


def test_python_values_get_pytorch_dtypes_as_the_readme_says():
    import chainrule as cr

    assert cr.tensor([1, 2, 3]).dtype == np.int64 and cr.tensor(7).dtype == np.int64
    assert cr.tensor([1.0, 2.0]).dtype == np.float32 and cr.tensor(True).dtype == np.bool_
    assert cr.tensor([1, 2], dtype=np.float64).dtype == np.float64
