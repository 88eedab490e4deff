"""ONNX export: exported graphs run in onnxruntime and match chainrule to 1e-5."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.data import MinMaxScaler, StandardScaler  # noqa: E402
from chainrule.io.onnx import ACTIVATION_EXPORTS, OPSET, export_onnx, run_onnx, to_onnx  # noqa: E402

RNG = np.random.default_rng(7)


def chainrule_out(model, x):
    with cr.no_grad():
        return model(cr.tensor(x)).data


def assert_matches(model, x, **options):
    got = run_onnx(to_onnx(model, **options), x)
    want = chainrule_out(model, x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    return got


def test_every_registered_activation_has_an_exporter():
    assert set(nn.ACTIVATIONS) <= set(ACTIVATION_EXPORTS)


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip"])
@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
def test_mlp_matches_onnxruntime(activation, skip):
    net = nn.MLP([5, 7, 6, 3], activation=activation, skip=skip, seed=1)
    x = (3 * RNG.normal(size=(32, 5))).astype(np.float32)
    assert_matches(net, x)


@pytest.mark.parametrize("spec", [{"name": "leaky_relu", "negative_slope": 0.2}, {"name": "elu", "alpha": 0.5},
                                  {"name": "softplus", "beta": 2.0}, {"name": "hardtanh", "min_val": -0.5, "max_val": 2.0},
                                  {"name": "gelu", "approximate": "tanh"}, {"name": "celu", "alpha": 0.5}])
def test_activation_options_are_exported(spec):
    spec = dict(spec)
    act = nn.get_activation(spec.pop("name"), **spec)
    net = nn.Sequential(nn.Linear(4, 6, seed=0), act, nn.Linear(6, 2, seed=1))
    assert_matches(net, (2 * RNG.normal(size=(16, 4))).astype(np.float32))


def test_sequential_with_dropout_flatten_no_bias_and_float64():
    net = nn.Sequential(nn.Flatten(), nn.Linear(3, 8, bias=False, seed=0, dtype=np.float64), nn.Dropout(0.5, seed=0),
                        nn.ReLU(), nn.Linear(8, 2, seed=1, dtype=np.float64)).eval()
    got = assert_matches(net, RNG.normal(size=(10, 3)))
    assert got.dtype == np.float64


@pytest.mark.parametrize("head, fn", [("softmax", lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True)),
                                      ("sigmoid", lambda z: 1 / (1 + np.exp(-z)))])
def test_heads_turn_logits_into_probabilities(head, fn):
    net = nn.MLP([4, 5, 3], activation="tanh", seed=2)
    x = RNG.normal(size=(8, 4)).astype(np.float32)
    got = run_onnx(to_onnx(net, head=head), x)
    np.testing.assert_allclose(got, fn(chainrule_out(net, x).astype(np.float64)), atol=1e-5)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler()], ids=["standard", "minmax"])
@pytest.mark.parametrize("as_dict", [False, True], ids=["object", "dict"])
def test_scaler_is_folded_in_front(scaler, as_dict):
    raw = (RNG.normal(size=(40, 4)) * [1, 10, 100, 0.1] + [0, 5, -50, 2]).astype(np.float32)
    scaler.fit(raw)
    net = nn.MLP([4, 6, 2], activation="relu", seed=3)
    got = run_onnx(to_onnx(net, scaler=scaler.to_dict() if as_dict else scaler), raw)
    want = chainrule_out(net, scaler.transform(raw).astype(np.float32))
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_graph_uses_initializers_opset_and_metadata():
    net = nn.MLP([3, 4, 2], seed=0)
    proto = to_onnx(net, metadata={"classes": "a,b"})
    assert proto.opset_import[0].version == OPSET == 17
    assert {i.name.split("_")[0] for i in proto.graph.initializer} == {"weight", "bias"}
    assert {p.key: p.value for p in proto.metadata_props} == {"classes": "a,b"}
    assert sum(np.prod(i.dims) for i in proto.graph.initializer) == net.num_parameters()


def test_export_writes_file_and_refuses_to_clobber(tmp_path):
    net = nn.MLP([2, 3, 1], seed=0)
    path = tmp_path / "net.onnx"
    export_onnx(net, path)
    x = RNG.normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, x), chainrule_out(net, x), atol=1e-5)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        export_onnx(nn.MLP([2, 3, 1], seed=1), path)
    assert path.read_bytes() == before
    export_onnx(nn.MLP([2, 3, 1], seed=1), path, overwrite=True)
    assert path.read_bytes() != before


class Doubler(nn.Module):
    def forward(self, x):
        return x * 2


@pytest.mark.parametrize("model, message", [
    (nn.Sequential(nn.Linear(2, 2, seed=0), Doubler()), "cannot export layer Doubler to ONNX; supported layers: "),
    (Doubler(), "no Linear layer"),
])
def test_unsupported_layers_are_named(model, message):
    with pytest.raises(ValueError, match=message):
        to_onnx(model)


def test_unknown_activation_and_head_and_opset_are_named():
    nn.ACTIVATIONS.register(lambda x: x * 3, name="triple")
    try:
        net = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Activation("triple"))
        with pytest.raises(ValueError, match="cannot export activation 'triple' to ONNX; supported: celu, elu, "):
            to_onnx(net)
    finally:
        del nn.ACTIVATIONS["triple"]
    with pytest.raises(ValueError, match="unknown ONNX output head 'tanh'; expected one of: none, sigmoid, softmax"):
        to_onnx(nn.Linear(2, 2, seed=0), head="tanh")
    with pytest.raises(ValueError, match="opset must be an integer >= 13"):
        to_onnx(nn.Linear(2, 2, seed=0), opset=9)


def test_docstring_examples_run():
    import doctest

    import chainrule.io.onnx

    assert doctest.testmod(chainrule.io.onnx, optionflags=doctest.ELLIPSIS).failed == 0
