"""Every registry op at its awkward inputs: forward value, VJP and JVP against PyTorch float64.

The samples live in tests/op_edges.py. Where chainrule deliberately differs from
PyTorch, the sample names the convention and the test checks the documented values.
"""

import warnings

import numpy as np
import pytest
from op_edges import EDGES, PENDING_OPS

import chainrule as cr

try:
    import torch
except ImportError:  # the oracle is optional; the coverage tests still run
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch)")
IDS = [s.id for s in EDGES]


def test_every_registry_op_has_edge_samples():
    covered = {s.op for s in EDGES if not s.composite}
    missing = sorted(set(cr.ops_registry) - covered - PENDING_OPS)
    assert not missing, f"registry ops without edge samples in tests/op_edges.py: {missing}"
    assert not PENDING_OPS & covered, f"covered now, remove from PENDING_OPS: {sorted(PENDING_OPS & covered)}"


def test_edge_samples_name_real_ops_and_explain_their_conventions():
    for s in EDGES:
        assert s.composite or s.op in cr.ops_registry, s.id
        assert s.torch is not None or s.ref is not None, f"{s.id}: needs a PyTorch call or a NumPy reference"
        documented = s.value is not None or s.grad is not None or s.jvp is not None or not s.zero_sign
        assert bool(s.convention) == documented, f"{s.id}: a convention needs documented values, and back"
    assert len(set(IDS)) == len(IDS), "edge sample ids must be unique"


def _varied(shape):
    """A fixed, non-constant cotangent/tangent (ones would hide errors, e.g. softmax's VJP of ones is 0)."""
    n = int(np.prod(shape))
    return (1.0 + 0.5 * (np.arange(n) % 3)).reshape(shape)


def _chainrule(sample):
    xs = [cr.tensor(a, requires_grad=True, dtype=np.float64) for a in sample.args]
    out = sample.call(*xs)
    if out.requires_grad:
        out.backward(_varied(out.shape).astype(out.dtype))
    grads = [x.grad if x.grad is not None else np.zeros_like(x.data) for x in xs]
    _, tangent = cr.jvp(sample.call, tuple(sample.args), tuple(_varied(a.shape) for a in sample.args))
    return out.data, grads, tangent


def _torch(sample):
    ts = [torch.tensor(np.array(a, order="C"), dtype=torch.float64, requires_grad=True) for a in sample.args]
    out = sample.torch(torch, *ts)
    c = torch.tensor(_varied(tuple(out.shape)), dtype=out.dtype)
    if out.requires_grad:
        got = torch.autograd.grad(out, ts, grad_outputs=c, allow_unused=True)
    else:
        got = [None] * len(ts)
    grads = [g.numpy() if g is not None else np.zeros(t.shape) for g, t in zip(got, ts)]
    primals = tuple(t.detach() for t in ts)
    tangents = tuple(torch.tensor(_varied(tuple(t.shape)), dtype=torch.float64) for t in ts)
    _, tangent = torch.func.jvp(lambda *a: sample.torch(torch, *a), primals, tangents)
    return out.detach().numpy(), grads, tangent.numpy()


def _documented(field, args, got, *more):
    return field(args, got, *more) if callable(field) else field


def assert_same(got, want, what, signed_zeros=False):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)
    if signed_zeros:
        zero = (got == 0) & (want == 0)
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]), err_msg=f"{what}: sign of zero")


@needs_torch
@pytest.mark.parametrize("sample", EDGES, ids=IDS)
def test_edge_values_vjp_and_jvp_match_pytorch(sample):
    if sample.raises is not None:
        with pytest.raises(sample.raises):
            sample.call(*[cr.tensor(a, dtype=np.float64) for a in sample.args])
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            sample.torch(torch, *[torch.tensor(a) for a in sample.args])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy and PyTorch both warn about inf/nan; the values are the test
        value, grads, tangent = _chainrule(sample)
        if sample.torch is None:
            t_value, t_grads, t_tangent = sample.ref(*sample.args), None, None
        else:
            t_value, t_grads, t_tangent = _torch(sample)
    want_value = t_value if sample.value is None else _documented(sample.value, sample.args, t_value)
    cotangent = _varied(np.shape(value))
    want_grads = t_grads if sample.grad is None else _documented(sample.grad, sample.args, t_grads, cotangent)
    want_tangent = t_tangent if sample.jvp is None else _documented(sample.jvp, sample.args, t_tangent, want_grads)
    assert_same(value, want_value, f"{sample.id}: forward value", signed_zeros=sample.zero_sign)
    for k, (g, w) in enumerate(zip(grads, want_grads)):
        assert_same(g, w, f"{sample.id}: VJP of input {k}")
    assert_same(tangent, want_tangent, f"{sample.id}: JVP")


def test_the_reported_edge_cases_without_pytorch():
    x = cr.tensor(0.0, requires_grad=True, dtype=np.float64)
    (x ** 0).backward()
    assert float(x.grad) == 0.0  # not 0 * 0**-1 = nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for ddof in (1, 2, 5):
            assert np.isnan(float(cr.tensor([3.0], dtype=np.float64).var(ddof=ddof)))  # not -0.0
            assert np.isnan(float(cr.tensor([3.0], dtype=np.float64).std(ddof=ddof)))
    for values in ([3.0], [2.0, 2.0, 2.0]):
        t = cr.tensor(values, requires_grad=True, dtype=np.float64)
        t.std().backward()
        np.testing.assert_array_equal(t.grad, np.zeros(len(values)))  # not nan
    z = np.random.default_rng(0).standard_normal((2, 3, 4))
    p = np.random.default_rng(1).random((2, 3, 4))
    got = cr.nn.functional.cross_entropy(cr.tensor(z, dtype=np.float64), p).item()
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # classes on axis 1
    assert got == pytest.approx(-(log_softmax * p).sum(axis=1).mean(), rel=1e-12)


@pytest.mark.parametrize("sample", [s for s in EDGES if s.raises is None], ids=[s.id for s in EDGES if s.raises is None])
def test_graph_vjp_agrees_with_the_fast_vjp_at_edges(sample):
    """create_graph's differentiable VJPs give the same gradients, inf and nan included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fast, _ = _chainrule(sample)
        xs = [cr.tensor(a, requires_grad=True, dtype=np.float64) for a in sample.args]
        out = sample.call(*xs)
        if not out.requires_grad:
            return
        out.backward(_varied(out.shape).astype(out.dtype), create_graph=True)
    for k, (x, g) in enumerate(zip(xs, fast)):
        slow = x.grad.data if x.grad is not None else np.zeros_like(x.data)
        assert_same(slow, g, f"{sample.id}: graph VJP of input {k}")


_MULTI = [(s, k) for s in EDGES if len(s.args) > 1 and s.raises is None and s.torch is not None and not s.convention
          for k in range(len(s.args))]


@needs_torch
@pytest.mark.parametrize("sample, k", _MULTI, ids=[f"{s.id}-const{k}" for s, k in _MULTI])
def test_jvp_with_one_input_held_constant_matches_pytorch(sample, k):
    """Input k as a constant (no tangent), the others differentiated: every multi-input JVP rule, as PyTorch.

    PyTorch's forward mode fills a constant's missing tangent with zeros in some rules (matmul, einsum),
    so 0 * inf makes nan there; where it does and chainrule does not, the reference is PyTorch's J t
    through reverse mode (torch.autograd.functional.jvp, the double-backward trick), which has no
    tangent for the constant either.
    """
    const, moving = sample.args[k], [a for i, a in enumerate(sample.args) if i != k]

    def merged(args, constant):
        return [*args[:k], constant, *args[k:]]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, got = cr.jvp(lambda *d: sample.call(*merged(d, cr.tensor(const, dtype=np.float64))), tuple(moving),
                        tuple(_varied(a.shape) for a in moving))
        primals = tuple(torch.tensor(np.array(a, order="C"), dtype=torch.float64) for a in moving)
        tangents = tuple(torch.tensor(_varied(a.shape), dtype=torch.float64) for a in moving)
        t_const = torch.tensor(np.array(const, order="C"), dtype=torch.float64)
        fn = lambda *d: sample.torch(torch, *merged(d, t_const))  # noqa: E731
        want = torch.func.jvp(fn, primals, tangents)[1].numpy()
        filled = np.isnan(want) & ~np.isnan(got)
        if filled.any():
            want = np.where(filled, torch.autograd.functional.jvp(fn, primals, tangents)[1].numpy(), want)
    assert_same(got, want, f"{sample.id} with input {k} constant: JVP")
