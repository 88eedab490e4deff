"""ONNX export of Conv2d, pooling, RNN/LSTM/GRU and the scikit-learn estimators, checked in onnxruntime to 1e-5."""

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export needs the onnx extra")
pytest.importorskip("onnxruntime", reason="running exported graphs needs onnxruntime")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.data import StandardScaler  # noqa: E402
from chainrule.io.onnx import export_onnx, run_onnx, to_onnx  # noqa: E402

RNG = np.random.default_rng(11)


def assert_matches(model, x, **options):
    with cr.no_grad():
        want = model(cr.tensor(x)).data
    got = run_onnx(to_onnx(model, **options), x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("options", [
    {"kernel_size": 3}, {"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": (2, 3), "padding": [1, 0, 2, 1]},
    {"kernel_size": 3, "padding": "same", "dilation": 2}, {"kernel_size": 4, "padding": "same"},
    {"kernel_size": 3, "padding": "valid", "groups": 2, "bias": False}, {"kernel_size": 3, "stride": (2, 1), "dilation": (1, 2)},
], ids=str)
def test_conv2d_options_match(options):
    conv = nn.Conv2d(4, 6, seed=0, **options)
    assert_matches(conv, RNG.normal(size=(2, 4, 9, 8)).astype(np.float32))


@pytest.mark.parametrize("pool", [
    nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1), nn.MaxPool2d(3, stride=2, dilation=2, ceil_mode=True),
    nn.AvgPool2d(2), nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
], ids=repr)
def test_pooling_matches(pool):
    net = nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), pool)
    assert_matches(net, RNG.normal(size=(2, 2, 9, 8)).astype(np.float32))


def test_small_cnn_classifier_gives_probabilities():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 10, seed=1))
    x = RNG.normal(size=(5, 1, 8, 8)).astype(np.float32)
    got = run_onnx(to_onnx(net, head="softmax"), x)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    with cr.no_grad():
        z = net(cr.tensor(x)).data.astype(np.float64)
    np.testing.assert_allclose(got, np.exp(z) / np.exp(z).sum(1, keepdims=True), atol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch_first", "time_first"])
@pytest.mark.parametrize("layer", [lambda **o: nn.RNN(3, 5, **o), lambda **o: nn.RNN(3, 5, nonlinearity="relu", **o),
                                   lambda **o: nn.LSTM(3, 5, **o), lambda **o: nn.GRU(3, 5, **o)],
                         ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_recurrent_layers_match(layer, batch_first, return_sequences):
    net = layer(batch_first=batch_first, return_sequences=return_sequences, seed=2)
    assert_matches(net, RNG.normal(size=(4, 7, 3)).astype(np.float32))


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_recurrent_without_bias_in_a_sequential(cls):
    net = nn.Sequential(cls(3, 4, bias=False, return_sequences=False, seed=0), nn.Linear(4, 2, seed=1))
    assert_matches(net, RNG.normal(size=(3, 5, 3)).astype(np.float32))


def test_float64_graphs_are_valid_onnx():
    # onnxruntime's CPU kernels for Conv and RNN/LSTM/GRU are float32 only; float64 graphs still check.
    for model in (nn.Conv2d(2, 3, 3, seed=0, dtype=np.float64), nn.LSTM(3, 4, seed=0, dtype=np.float64)):
        assert to_onnx(model).graph.input[0].type.tensor_type.elem_type == 11  # DOUBLE


def test_recurrent_weights_equal_torch_onnx_semantics():
    torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch")
    ref = torch.nn.GRU(3, 4, batch_first=True)
    gru = nn.GRU(3, 4, seed=0)
    gru.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(to_onnx(gru), x), ref(torch.from_numpy(x))[0].detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("depth", [{"num_layers": 2}, {"bidirectional": True}, {"num_layers": 3, "bidirectional": True}],
                         ids=["two_layers", "bidirectional", "three_layers_bidirectional"])
@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_stacked_and_bidirectional_recurrent_layers_match(cls, depth, return_sequences):
    net = cls(3, 4, return_sequences=return_sequences, batch_first=not return_sequences, seed=3, **depth)
    assert_matches(net, RNG.normal(size=(5, 6, 3)).astype(np.float32))


def test_return_state_is_refused_by_name():
    with pytest.raises(ValueError, match="ONNX export of LSTM needs return_state=False"):
        to_onnx(nn.LSTM(3, 4, return_state=True, seed=0))


def test_feature_scaler_needs_table_input():
    scaler = StandardScaler().fit(RNG.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="front of \\(batch, features\\) inputs only"):
        to_onnx(nn.LSTM(3, 4, seed=0), scaler=scaler)


def test_target_scaler_is_folded_behind():
    y = RNG.normal(size=(30, 2)) * [100.0, 0.01] + [5.0, -3.0]
    target = StandardScaler().fit(y)
    net = nn.MLP([3, 5, 2], seed=0)
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    with cr.no_grad():
        want = target.inverse_transform(net(cr.tensor(x)).data.astype(np.float64))
    np.testing.assert_allclose(run_onnx(to_onnx(net, target_scaler=target.to_dict()), x), want, rtol=1e-5, atol=1e-4)


@pytest.mark.filterwarnings("ignore:.*stopped after max_iter")
def test_sklearn_estimators_export(tmp_path):
    sk = pytest.importorskip("chainrule.sklearn", reason="the estimators need scikit-learn")
    X = RNG.normal(size=(60, 3))
    clf = sk.MLPClassifier((6,), max_iter=5, random_state=0).fit(X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0))
    np.testing.assert_allclose(run_onnx(export_onnx(clf, tmp_path / "clf.onnx"), X), clf.predict_proba(X), atol=1e-5)
    y = 50 * X[:, 0] + 1000
    reg = sk.MLPRegressor((6,), max_iter=5, random_state=0).fit(X, y)
    got = run_onnx(export_onnx(reg, tmp_path / "reg.onnx"), X)
    assert got.shape == (60, 1)
    np.testing.assert_allclose(got[:, 0], reg.predict(X), rtol=1e-5)
