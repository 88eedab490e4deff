"""ONNX export of user-defined modules by tracing (``to_onnx(model, example=x)``), checked in onnxruntime to 1e-5.

Each case of SPECS is a forward written by a user (a lambda over the input and the module's
layers); the refusals are one line of REFUSALS each.
"""

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export needs the onnx extra")
pytest.importorskip("onnxruntime", reason="running exported graphs needs onnxruntime")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.autodiff.ops import call  # noqa: E402
from chainrule.data import StandardScaler  # noqa: E402
from chainrule.io.onnx import run_onnx, to_onnx  # noqa: E402
from chainrule.io.onnx_traced import OP_EXPORTS  # noqa: E402

RNG = np.random.default_rng(31)


class Custom(nn.Module):
    """A module whose forward is ``fn(self, x)``, with a Linear(d, d) and a Conv2d(3, 3, 3) to use."""

    def __init__(self, fn, d=4):
        super().__init__()
        self.fn = fn
        self.lin = nn.Linear(d, d, seed=0)
        self.conv = nn.Conv2d(3, 3, 3, seed=1)

    def forward(self, x):
        return self.fn(self, x)


class Gated(nn.Module):
    """A user layer (registered by the fixture below): a gated residual unit with a hand-written normalisation."""

    def __init__(self, d):
        super().__init__()
        self.value, self.gate = nn.Linear(d, d, seed=2), nn.Linear(d, d, seed=3)

    def forward(self, x):
        h = x + self.value(x).relu() * self.gate(x).sigmoid()
        centred = h - h.mean(axis=-1, keepdims=True)
        return centred / ((centred ** 2).mean(axis=-1, keepdims=True) + 1e-5).sqrt()


@pytest.fixture(scope="module", autouse=True)
def registered_gated():
    """``@nn.register`` Gated for these tests only, so other tests see nn.LAYERS as chainrule ships it."""
    nn.register(Gated)
    yield
    del nn.LAYERS["Gated"]


def custom(fn, d=4):
    return lambda: Custom(fn, d)


SPECS = [
    # name, model factory, example shape, to_onnx options
    ("scaled_tanh", custom(lambda m, x: m.lin(x).tanh() * 2.0 - 1.0), (5, 4), {}),
    ("registered_gated_unit", lambda: Gated(4), (5, 4), {}),
    ("gated_unit_in_a_sequential", lambda: nn.Sequential(nn.Linear(3, 4, seed=0), Gated(4), nn.Linear(4, 2, seed=1)),
     (5, 3), {"head": "softmax"}),
    ("elementwise_mix", custom(lambda m, x: cr.maximum(x.abs().exp().log(), x.clip(-0.5, 0.5)) + x.sigmoid() / 3),
     (5, 4), {}),
    ("reductions", custom(lambda m, x: x.sum(axis=1, keepdims=True) + x.max(axis=1, keepdims=True) - x.mean()),
     (5, 4), {}),
    ("softmax_over_rows", custom(lambda m, x: cr.softmax(m.lin(x), axis=-1)), (5, 4), {}),
    ("attention", custom(lambda m, x: cr.einsum("btd,bsd->bts", m.lin(x), x).softmax(axis=-1) @ x), (3, 6, 4), {}),
    ("transpose_matmul", custom(lambda m, x: x.transpose((0, 2, 1)) @ m.lin(x)), (3, 6, 4), {}),
    ("slices", custom(lambda m, x: cr.concatenate([x[:, 1:3], x[:, ::-2], x[..., -1:]], axis=1)), (5, 4), {}),
    ("int_index_and_new_axis", custom(lambda m, x: x[:, 0][:, None] * x[:, None, 2:]), (5, 4), {}),
    ("stack_then_flatten", custom(lambda m, x: cr.stack([x, 2 * x], axis=1).reshape(-1, 8)), (5, 4), {}),
    ("global_pool_after_conv", custom(lambda m, x: m.conv(x).relu().mean(axis=(2, 3))), (2, 3, 7, 6), {}),
    ("conv_net_with_custom_head", lambda: nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, seed=0), nn.ReLU(),
                                                        Custom(lambda m, x: m.conv(x).max(axis=(2, 3)), 4),
                                                        nn.Linear(3, 2, seed=1)), (2, 1, 8, 8), {}),
    ("broadcast_parameter", custom(lambda m, x: x[:, None, :] * call("broadcast_to", m.lin.bias + 1, shape=(2, 4))),
     (5, 4), {}),
    ("regression_target_scaling", custom(lambda m, x: m.lin(x)[:, :1]), (5, 4),
     {"target_scaler": StandardScaler().fit(RNG.normal(size=(20, 1)) * 50 + 3)}),
]


def expected(model, x, options):
    with cr.no_grad():
        out = np.asarray(model(cr.tensor(x)).data, dtype=np.float64)
    if options.get("head") == "softmax":
        out = np.exp(out) / np.exp(out).sum(axis=-1, keepdims=True)
    if "target_scaler" in options:
        out = options["target_scaler"].inverse_transform(out)
    return out


@pytest.mark.parametrize("name, factory, shape, options", SPECS, ids=[s[0] for s in SPECS])
def test_traced_module_matches_onnxruntime(name, factory, shape, options):
    model = factory()
    proto = to_onnx(model, example=RNG.normal(size=shape).astype(np.float32), **options)
    x = RNG.normal(size=(7, *shape[1:])).astype(np.float32)   # another batch size than the example's
    want = expected(model, x, options)
    np.testing.assert_allclose(run_onnx(proto, x), want, atol=1e-5, rtol=1e-5)
    assert len(proto.graph.output[0].type.tensor_type.shape.dim) == want.ndim  # the declared output rank


def test_traced_module_over_integer_indices():
    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = nn.Embedding(10, 3, seed=0)

        def forward(self, ids):
            return self.table(ids).mean(axis=1)

    model = Bag()
    proto = to_onnx(model, example=RNG.integers(0, 10, size=(4, 5)))
    ids = RNG.integers(0, 10, size=(6, 5))
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # INT64
    np.testing.assert_allclose(run_onnx(proto, ids), model(ids).data, atol=1e-6)


def cumulative(m, x):
    return x.cumsum(axis=1)


def pair(m, x):
    return x, x


REFUSALS = [
    # model, example shape, the sentence (a regex)
    (custom(lambda m, x: m.lin(x).reshape(x.shape[0], -1)), (5, 4), "cannot export Custom to ONNX by tracing: the "
     "traced graph disagrees with the module on an input with another batch size or other values"),
    (custom(lambda m, x: x * float(x.data.max())), (5, 4), "cannot export Custom to ONNX by tracing: the traced graph "
     "disagrees"),
    (custom(cumulative), (5, 4), "cannot export Custom to ONNX: its forward uses the op 'cumsum', which has no ONNX "
     "exporter"),
    (custom(pair), (5, 4), "cannot export Custom to ONNX: its forward returns tuple, and a graph has one output"),
    (custom(lambda m, x: x * 2 if x.sum() > 0 else x), (5, 4), "cannot trace Custom for ONNX: its forward branches on "
     "a tensor's value"),
]


@pytest.mark.parametrize("factory, shape, message", REFUSALS, ids=["batch_size_frozen", "value_frozen", "no_op_exporter",
                                                                   "two_outputs", "branch_on_value"])
def test_untraceable_forwards_are_refused_in_one_sentence(factory, shape, message):
    with pytest.raises(ValueError, match="^" + message) as info:
        to_onnx(factory(), example=RNG.normal(size=shape).astype(np.float32))
    assert "\n" not in str(info.value)


def test_without_an_example_the_refusal_says_how_to_trace():
    with pytest.raises(ValueError, match="cannot export layer Gated to ONNX; supported layers: .* \\(pass "
                                         "example=<an input> to trace a module's own forward\\(\\)\\)$"):
        to_onnx(nn.Sequential(nn.Linear(3, 4, seed=0), Gated(4)))


def test_example_misuse_is_named():
    with pytest.raises(ValueError, match="example must be an input with a batch axis first, got shape \\(\\)"):
        to_onnx(Gated(4), example=np.float32(1.0))
    scaler = StandardScaler().fit(RNG.normal(size=(10, 4)))
    with pytest.raises(ValueError, match="example= traces the network's own input, so it cannot be combined with "
                                         "scaler= or pipeline="):
        to_onnx(Gated(4), example=np.ones((2, 4), np.float32), scaler=scaler)


def test_forward_is_restored_after_tracing():
    model = Gated(4)
    to_onnx(model, example=np.ones((2, 4), np.float32))
    assert "forward" not in vars(model) and model.training


def test_op_table_names_registry_ops():
    registry = set(cr.autodiff.ops.REGISTRY)
    assert set(OP_EXPORTS) <= registry


class OneOp(nn.Module):
    """A forward that is one registry op on the input (and constant extra operands)."""

    def __init__(self, name, extra=(), attrs=None):
        super().__init__()
        self.name, self.extra, self.attrs = name, extra, attrs or {}

    def forward(self, x):
        return call(self.name, x, *self.extra, **self.attrs)


POSITIVE, UNIT = "positive", "unit"
OP_CASES = [
    # op name, input kind, constant extra operands, attributes
    *[(name, None, (), {}) for name in ("neg", "abs", "exp", "tanh", "sigmoid", "relu", "erf", "sin", "cos", "atan",
                                        "sinh", "cosh", "asinh", "floor", "ceil", "round", "sign", "expm1", "exp2",
                                        "step")],
    ("dropout", None, (), {"p": 0.0, "rng": np.random.default_rng(0)}),
    *[(name, POSITIVE, (), {}) for name in ("log", "sqrt", "log1p", "log2", "log10", "acosh")],
    *[(name, UNIT, (), {}) for name in ("asin", "acos", "atanh", "tan")],
    ("pow", POSITIVE, (np.float32(1.5),), {}), ("minimum", None, (np.float32(0.2),), {}),
    ("pow_scalar", None, (), {"p": 3}),
    ("clip", None, (), {"lo": None, "hi": 0.3}),
    ("cast", None, (), {"dtype": np.float64}),
    ("prod", None, (), {"axis": 1}), ("min", None, (), {"axis": (1, 2), "keepdims": True}),
    ("logsumexp", None, (), {"axis": -1}), ("log_softmax", None, (), {"axis": 1}),
    ("sum", None, (), {}), ("mean", None, (), {"axis": (0, 2)}),
    ("transpose", None, (), {}),
    ("where", None, (np.float32(-1.0),), {"cond": np.array([True, False, True])}),
    ("take_along_axis", None, (np.array([[[2, 0, 1]]]),), {"axis": 2}),
    ("max_pool2d", None, (), {"kernel_size": 2}),
    # The whole-sequence recurrent ops on time-major (T, N, gates * H) projections; the time axis varies.
    ("rnn_seq", None, (RNG.normal(size=(2, 3)).astype(np.float32), RNG.normal(size=(3, 3)).astype(np.float32),
                       RNG.normal(size=3).astype(np.float32)), {"nonlinearity": "relu"}),
    ("gru_seq", None, (np.zeros((2, 1), np.float32), RNG.normal(size=(3, 1)).astype(np.float32)), {}),
]


@pytest.mark.parametrize("name, kind, extra, attrs", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_every_op_rule_matches_numpy(name, kind, extra, attrs):
    shape = (5, 2, 4, 4) if name == "max_pool2d" else (5, 2, 3)
    example = RNG.normal(size=shape).astype(np.float32)
    if kind == POSITIVE:
        example = np.abs(example) + 1.1
    elif kind == UNIT:
        example = np.tanh(example) * 0.9
    if name == "broadcast_to":
        example = example[:, :1]
    model = OneOp(name, extra, attrs)
    proto = to_onnx(model, example=example)
    with cr.no_grad():
        want = model(cr.tensor(example)).data
    np.testing.assert_allclose(run_onnx(proto, example), want, rtol=1e-5, atol=1e-5)


def test_every_op_rule_is_tested():
    tested = {c[0] for c in OP_CASES} | {"lstm_seq", "split", "split_part"}  # test_modules_calling_recurrent_layers
    used_by_specs = {"add", "sub", "mul", "div", "maximum", "matmul", "linear", "conv2d", "max", "softmax", "reshape",
                     "concatenate", "stack", "getitem", "einsum", "broadcast_to"}
    assert set(OP_EXPORTS) <= tested | used_by_specs


class _CallsRecurrent(nn.Module):
    def __init__(self, layer, last):
        super().__init__()
        self.rnn, self.last = layer, last

    def forward(self, x):
        out = self.rnn(x)
        return (out[:, -1] if self.last else out) * 2.0


@pytest.mark.parametrize("layer, last", [
    (lambda: nn.LSTM(3, 4, seed=0), True),
    (lambda: nn.LSTM(3, 4, seed=0, batch_first=False, return_sequences=False), False),
    (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0), True),
    (lambda: nn.GRU(3, 4, bias=False, seed=0), False),
    (lambda: nn.RNN(3, 4, nonlinearity="relu", seed=0), True),
], ids=["lstm-last", "lstm-time-major", "lstm-2-layers-bidirectional", "gru-no-bias", "rnn-relu"])
def test_modules_calling_recurrent_layers_are_traced(layer, last):
    """Their whole-sequence ops become ONNX LSTM / GRU / RNN nodes; axis 0 (batch, or time when time-major) stays free."""
    model = _CallsRecurrent(layer(), last)
    proto = to_onnx(model, example=RNG.normal(size=(2, 5, 3)).astype(np.float32))
    assert {"LSTM", "GRU", "RNN"} & {n.op_type for n in proto.graph.node}
    x = RNG.normal(size=(6, 5, 3)).astype(np.float32)
    with cr.no_grad():
        want = model(cr.tensor(x)).data
    np.testing.assert_allclose(run_onnx(proto, x), want, rtol=1e-5, atol=1e-5)
