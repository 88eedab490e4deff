"""ONNX export of Conv1d, BatchNorm, LayerNorm, Embedding, AdaptiveAvgPool2d, Residual, the cells and the context nets,
checked in onnxruntime to 1e-5.

Every case is one line of SPECS: a name, a model factory, the input's shape, and the
options given to ``to_onnx``; the refusals are one line of REFUSALS each.
"""

import numpy as np
import pytest

pytest.importorskip("onnx", reason="ONNX export needs the onnx extra")
pytest.importorskip("onnxruntime", reason="running exported graphs needs onnxruntime")

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.io.onnx import ACTIVATION_EXPORTS, LAYER_EXPORTS, REFUSED, run_onnx, to_onnx  # noqa: E402

RNG = np.random.default_rng(23)


def randomised(layer):
    """The layer with random affine weights and running statistics, so every number in the graph matters."""
    rng = np.random.default_rng(5)
    for p in layer.parameters():
        p.data[...] = rng.normal(size=p.data.shape)
    if getattr(layer, "running_mean", None) is not None:
        layer.running_mean[...] = rng.normal(size=layer.running_mean.shape)
        layer.running_var[...] = rng.uniform(0.3, 3.0, size=layer.running_var.shape)
    return layer.eval()


def context_net(cls, **options):
    """An Elman or Jordan net with a random copy_back, so the exported context update is checked."""
    def build():
        net = cls(2, 4, 3, seed=0, **options)
        if hasattr(net, "copy_back"):
            net.copy_back.data[...] = np.random.default_rng(1).uniform(0.2, 1.5, size=net.copy_back.data.shape)
        return net
    return build


def conv1d(**options):
    return lambda: nn.Conv1d(options.pop("in_channels", 4), options.pop("out_channels", 6), seed=0, **options)


SPECS = [
    # name, model factory, input shape (ints: float input; "ids": int64 indices of that shape), to_onnx options
    ("conv1d_plain", conv1d(kernel_size=3), (2, 4, 11), {}),
    ("conv1d_stride_pad", conv1d(kernel_size=3, stride=2, padding=1), (2, 4, 11), {}),
    ("conv1d_pair_pad", conv1d(kernel_size=2, stride=3, padding=[2, 1]), (2, 4, 11), {}),
    ("conv1d_same_even", conv1d(kernel_size=4, padding="same"), (2, 4, 11), {}),
    ("conv1d_same_dilated", conv1d(kernel_size=3, padding="same", dilation=2), (2, 4, 11), {}),
    ("conv1d_groups_no_bias", conv1d(kernel_size=3, groups=2, bias=False), (2, 4, 11), {}),
    ("conv1d_depthwise", conv1d(kernel_size=5, dilation=2, padding="valid", groups=4, out_channels=8), (3, 4, 13), {}),
    ("bn1d_table", lambda: randomised(nn.BatchNorm1d(3)), (5, 3), {}),
    ("bn1d_sequence", lambda: randomised(nn.BatchNorm1d(3, eps=1e-3)), (5, 3, 4), {"input_shape": ["batch", 3, "length"]}),
    ("bn2d", lambda: randomised(nn.BatchNorm2d(3)), (4, 3, 5, 2), {}),
    ("bn2d_no_affine", lambda: randomised(nn.BatchNorm2d(3, affine=False)), (4, 3, 5, 2), {}),
    ("bn1d_batch_statistics", lambda: randomised(nn.BatchNorm1d(3, track_running_stats=False)), (6, 3), {}),
    ("bn2d_batch_statistics", lambda: randomised(nn.BatchNorm2d(3, track_running_stats=False, affine=False)),
     (4, 3, 5, 2), {}),
    ("bn_in_mlp", lambda: nn.Sequential(nn.Linear(4, 5, seed=0), randomised(nn.BatchNorm1d(5)), nn.ReLU(),
                                        nn.Linear(5, 2, seed=1)), (6, 4), {}),
    ("cnn_bn_pool", lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, seed=0), randomised(nn.BatchNorm2d(3)),
                                          nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2, seed=1)),
     (2, 2, 6, 7), {}),
    ("layer_norm", lambda: randomised(nn.LayerNorm(4)), (5, 4), {}),
    ("layer_norm_2d_shape", lambda: randomised(nn.LayerNorm([3, 4], eps=1e-3)), (5, 2, 3, 4),
     {"input_shape": ["batch", "time", 3, 4]}),
    ("layer_norm_no_affine", lambda: nn.LayerNorm(4, elementwise_affine=False), (5, 4), {}),
    ("layer_norm_no_bias", lambda: randomised(nn.LayerNorm(4, bias=False)), (5, 4), {}),
    ("layer_norm_after_lstm", lambda: nn.Sequential(nn.LSTM(3, 4, seed=0), randomised(nn.LayerNorm(4))), (2, 5, 3), {}),
    ("embedding", lambda: nn.Embedding(10, 3, seed=0), ("ids", 4, 5), {}),
    ("embedding_padding_idx", lambda: nn.Embedding(10, 3, padding_idx=0, seed=0), ("ids", 4, 5), {}),
    ("embedding_single_ids", lambda: nn.Embedding(10, 3, seed=0), ("ids", 6), {"input_shape": ["batch"]}),
    ("embedding_flatten_linear", lambda: nn.Sequential(nn.Embedding(10, 3, seed=0), nn.Flatten(),
                                                       nn.Linear(15, 2, seed=1)), ("ids", 4, 5), {}),
    ("embedding_gru_classifier", lambda: nn.Sequential(nn.Embedding(10, 3, seed=0),
                                                       nn.GRU(3, 4, return_sequences=False, seed=1),
                                                       nn.Linear(4, 2, seed=2)), ("ids", 4, 5), {"head": "softmax"}),
    ("adaptive_global", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d(1)), (2, 2, 7, 5), {}),
    ("adaptive_pair", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d((2, 3))), (2, 2, 7, 5), {}),
    ("adaptive_keep_height", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d((None, 2))),
     (2, 2, 7, 5), {}),
    ("adaptive_keep_width", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d((3, None))),
     (2, 2, 7, 5), {}),
    ("adaptive_larger_than_input", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d(6)),
     (2, 2, 4, 5), {}),
    ("residual_dense", lambda: nn.Sequential(nn.Linear(3, 4, seed=0), nn.Residual(nn.Sequential(
        nn.Linear(4, 4, seed=1), nn.Tanh())), nn.Linear(4, 2, seed=2)), (5, 3), {}),
    ("residual_conv", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.Residual(nn.Sequential(
        nn.Conv2d(3, 3, 3, padding="same", seed=1), randomised(nn.BatchNorm2d(3)), nn.ReLU()))), (2, 2, 6, 5), {}),
    ("residual_conv1d", lambda: nn.Sequential(nn.Conv1d(2, 4, 1, seed=0), nn.Residual(
        nn.Conv1d(4, 4, 3, padding="same", seed=1))), (2, 2, 9), {}),
    ("flatten_from_axis_2", lambda: nn.Sequential(nn.Conv1d(2, 3, 1, seed=0), nn.Flatten(2)), (2, 2, 5), {}),
    ("flatten_everything", lambda: nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.Flatten(0)), (2, 2, 3, 4), {}),
    ("rnn_cell", lambda: nn.RNNCell(3, 4, seed=0), (5, 3), {}),
    ("rnn_cell_relu_no_bias", lambda: nn.RNNCell(3, 4, nonlinearity="relu", bias=False, seed=0), (5, 3), {}),
    ("gru_cell_then_linear", lambda: nn.Sequential(nn.GRUCell(3, 4, seed=0), nn.Linear(4, 2, seed=1)), (5, 3), {}),
    ("elman", context_net(nn.Elman), (3, 6, 2), {}),
    ("elman_tanh_last_step", context_net(nn.Elman, activation="tanh", context_init=0.5, return_sequences=False),
     (3, 6, 2), {}),
    ("elman_then_softmax", context_net(nn.Elman, output_activation="identity"), (3, 6, 2), {"head": "softmax"}),
    ("jordan", context_net(nn.Jordan), (3, 6, 2), {}),
    ("jordan_decay", context_net(nn.Jordan, decay=0.5, context_init=0.2, output_activation="identity"), (3, 6, 2), {}),
    ("jordan_last_step", context_net(nn.Jordan, decay=0.3, return_sequences=False), (3, 6, 2), {}),
]


def make_input(shape):
    if shape[0] == "ids":
        return RNG.integers(0, 10, size=shape[1:])
    return RNG.normal(size=shape).astype(np.float32)


def chainrule_out(model, x):
    with cr.no_grad():
        out = model(x if x.dtype.kind == "i" else cr.tensor(x)).data
    return out


@pytest.mark.parametrize("name, factory, shape, options", SPECS, ids=[s[0] for s in SPECS])
def test_layer_matches_onnxruntime(name, factory, shape, options):
    model = factory()
    x = make_input(shape)
    want = chainrule_out(model, x)
    if options.get("head") == "softmax":
        want = np.exp(want) / np.exp(want).sum(axis=-1, keepdims=True)
    got = run_onnx(to_onnx(model, **options), x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_adaptive_pooling_graph_serves_every_image_size():
    net = nn.Sequential(nn.Conv2d(2, 3, 1, seed=0), nn.AdaptiveAvgPool2d((2, 3)))
    proto = to_onnx(net)
    for h, w in [(7, 5), (9, 6), (2, 3), (3, 11)]:
        x = RNG.normal(size=(2, 2, h, w)).astype(np.float32)
        np.testing.assert_allclose(run_onnx(proto, x), chainrule_out(net, x), atol=1e-5)


def test_batch_norm_exports_as_in_eval_mode():
    bn = randomised(nn.BatchNorm1d(3)).train()
    proto = to_onnx(bn)
    x = RNG.normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(proto, x), chainrule_out(bn.eval(), x), atol=1e-5)
    assert [n.op_type for n in proto.graph.node] == ["BatchNormalization", "Identity"]


def test_embedding_graph_takes_int64_indices():
    proto = to_onnx(nn.Embedding(10, 3, seed=0))
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # INT64
    assert [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim] == ["batch", "time"]


@pytest.mark.parametrize("index", [-1, 10], ids=["negative", "too_large"])
def test_embedding_indices_out_of_range_fail_the_run(index):
    proto = to_onnx(nn.Embedding(10, 3, seed=0))
    with pytest.raises(Exception, match="out of data bounds"):
        run_onnx(proto, np.array([[1, index]]))


def test_every_layer_is_exported_or_refused_with_a_reason():
    builtin = {n for n, cls in nn.LAYERS.items() if cls.__module__.startswith("chainrule.")}  # not a test's own
    activations = {n for n, cls in nn.LAYERS.items() if isinstance(cls, type) and issubclass(cls, nn.Activation)}
    assert builtin <= set(LAYER_EXPORTS) | set(REFUSED) | activations | {"Dense"}
    assert set(ACTIVATION_EXPORTS) >= set(nn.ACTIVATIONS)


REFUSALS = [
    # model, the sentence's start
    (nn.LSTMCell(3, 4, seed=0), "cannot export layer LSTMCell to ONNX: it returns the pair \\(h, c\\)"),
    (nn.Sequential(nn.Linear(2, 2, seed=0), nn.ModuleList([nn.Tanh()])), "cannot export layer ModuleList to ONNX: it is a"),
    (nn.Sequential(nn.Linear(2, 2, seed=0), nn.ModuleDict({"a": nn.Tanh()})), "cannot export layer ModuleDict to ONNX"),
    (nn.Sequential(nn.Linear(2, 2, seed=0), nn.Residual(nn.LSTMCell(2, 2, seed=0))), "cannot export layer LSTMCell"),
]


@pytest.mark.parametrize("model, message", REFUSALS, ids=[str(i) for i in range(len(REFUSALS))])
def test_refused_layers_are_named_in_one_sentence(model, message):
    with pytest.raises(ValueError, match="^" + message) as info:
        to_onnx(model)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [[], ["batch", 0], "batch", ["batch", 2.5], ["batch", True]], ids=repr)
def test_bad_input_shape_is_named(bad):
    with pytest.raises(ValueError, match="input_shape must be a non-empty list of positive sizes or names"):
        to_onnx(nn.Embedding(4, 2, seed=0), input_shape=bad)
