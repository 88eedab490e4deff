"""Conv1d, pooling, LayerNorm, BatchNorm (buffers), Embedding: against PyTorch, config round trips,
buffers in state_dict and model files, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.standard_normal(shape)


def _copy_into(ours, theirs):
    """Copy a torch module's parameters into ours, by name."""
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


LAYERS = [
    (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=np.float64),
     lambda t: t.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=t.float64), (2, 4, 9)),
    (lambda: nn.Conv1d(3, 2, 3, padding="same", dilation=2, bias=False, dtype=np.float64),
     lambda t: t.nn.Conv1d(3, 2, 3, padding="same", dilation=2, bias=False, dtype=t.float64), (2, 3, 8)),
    (lambda: nn.Conv2d(4, 6, 3, padding=1, dilation=2, groups=2, dtype=np.float64),
     lambda t: t.nn.Conv2d(4, 6, 3, padding=1, dilation=2, groups=2, dtype=t.float64), (2, 4, 7, 6)),
    (lambda: nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), lambda t: t.nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), (2, 3, 6, 7)),
    (lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
     lambda t: t.nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), (2, 3, 6, 7)),
    (lambda: nn.AdaptiveAvgPool2d((3, None)), lambda t: t.nn.AdaptiveAvgPool2d((3, None)), (2, 3, 7, 5)),
    (lambda: nn.LayerNorm([3, 4], dtype=np.float64), lambda t: t.nn.LayerNorm([3, 4], dtype=t.float64), (2, 5, 3, 4)),
    (lambda: nn.BatchNorm1d(3, dtype=np.float64), lambda t: t.nn.BatchNorm1d(3, dtype=t.float64), (6, 3)),
    (lambda: nn.BatchNorm1d(3, momentum=0.3, dtype=np.float64), lambda t: t.nn.BatchNorm1d(3, momentum=0.3, dtype=t.float64), (4, 3, 5)),
    (lambda: nn.BatchNorm2d(2, affine=False, dtype=np.float64), lambda t: t.nn.BatchNorm2d(2, affine=False, dtype=t.float64), (3, 2, 4, 4)),
]


@pytest.mark.torch
@pytest.mark.parametrize("make,make_torch,shape", LAYERS, ids=[f"{i}" for i in range(len(LAYERS))])
def test_layer_matches_torch_in_train_and_eval(make, make_torch, shape):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = make(), make_torch(torch)
    _copy_into(ours, theirs)
    for step in range(3):  # training steps move BatchNorm's running statistics
        x = _x(*shape)
        xt = torch.tensor(x, requires_grad=True)
        xc = cr.tensor(x, requires_grad=True)
        out, tout = ours(xc), theirs(xt)
        g = RNG.standard_normal(out.shape)
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xc.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad, dict(theirs.named_parameters())[name].grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b, theirs.state_dict()[name].numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    x = _x(*shape)
    np.testing.assert_allclose(ours(cr.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_embedding_matches_torch_with_padding_idx():
    torch = pytest.importorskip("torch")
    ours = nn.Embedding(6, 3, padding_idx=1, seed=0, dtype=np.float64)
    theirs = torch.nn.Embedding(6, 3, padding_idx=1, dtype=torch.float64)
    assert np.all(ours.weight.data[1] == 0)
    _copy_into(ours, theirs)
    idx = np.array([[0, 1, 5], [1, 5, 5]])
    out, tout = ours(idx), theirs(torch.tensor(idx))
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy())
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy())


def test_buffers_are_saved_but_never_optimised(tmp_path):
    net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2, seed=1))
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    names = [n for n, _ in net.named_buffers()]
    assert names == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert all(not any(p is b for b in net.buffers()) for p in opt.params)
    for _ in range(4):
        loss = (net(cr.randn(8, 3, seed=2)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = net.state_dict()
    assert int(state["1.num_batches_tracked"]) == 4 and not np.allclose(state["1.running_mean"], 0)
    path = tmp_path / "bn.crm"
    cr.save(net, path)
    loaded = cr.load(path)
    for (n, a), (m, b) in zip(net.named_buffers(), loaded.named_buffers()):
        assert n == m
        np.testing.assert_array_equal(a, b)
    x = cr.randn(5, 3, seed=3)
    np.testing.assert_allclose(loaded.eval()(x).data, net.eval()(x).data)


def test_load_state_dict_restores_buffers_in_place_and_checks_them():
    bn = nn.BatchNorm2d(2)
    mean = bn.running_mean
    state = bn.state_dict()
    state["running_mean"] = np.array([1.0, 2.0], dtype=np.float32)
    bn.load_state_dict(state)
    assert bn.running_mean is mean and mean.tolist() == [1.0, 2.0]
    del state["running_var"]
    with pytest.raises(ValueError, match="missing keys: running_var"):
        bn.load_state_dict(state)


@pytest.mark.parametrize("layer", [
    nn.Conv1d(2, 4, 3, padding=(1, 2), groups=2, seed=0), nn.Conv2d(2, 4, 3, padding=(1, 0, 2, 1), dilation=2, groups=2, seed=0),
    nn.MaxPool2d(2, padding=1, dilation=1, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True),
    nn.AdaptiveAvgPool2d((2, None)), nn.LayerNorm(5, eps=1e-3), nn.BatchNorm1d(4, momentum=0.2), nn.BatchNorm2d(3, affine=False),
    nn.Embedding(7, 3, padding_idx=0, seed=0), nn.SiLU(), nn.GELU(approximate="tanh"), nn.Softmin(axis=0),
], ids=lambda m: type(m).__name__)
def test_config_round_trip(layer):
    import json

    rebuilt = nn.from_config(json.loads(json.dumps(layer.config())))
    assert type(rebuilt) is type(layer) and rebuilt.config() == layer.config()
    assert repr(rebuilt) == repr(layer)


def test_layer_and_batch_norm_gradcheck_in_float64():
    x = _x(4, 3, 2)
    w, b = _x(3), _x(3)
    assert cr.gradcheck(lambda x, w, b: cr.batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True), x, w, b).passed
    assert cr.gradcheck(lambda x, w, b: cr.layer_norm(x, 2, w[:2], b[:2]), x, w, b).passed


@pytest.mark.parametrize("call,message", [
    (lambda: nn.Conv1d(3, 4, 3, groups=2), "Conv1d: groups=2 must divide in_channels=3"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), "padding must be an int, a pair, a 4-tuple, 'same' or 'valid', got 'full'"),
    (lambda: nn.BatchNorm2d(3)(cr.zeros(2, 3)), "BatchNorm2d: expected an input with 4 dimensions"),
    (lambda: nn.BatchNorm1d(3)(cr.zeros(1, 3)), "batch_norm: training needs more than one value per channel"),
    (lambda: nn.LayerNorm(4)(cr.zeros(2, 3)), "layer_norm: input of shape \\(2, 3\\) does not end with normalized_shape \\(4,\\)"),
    (lambda: nn.Embedding(4, 2)(np.array([2, 4])), "embedding: index 4 is outside 0..3"),
    (lambda: nn.Embedding(4, 2)(np.array([-1, 4])), "embedding: index -1 is outside 0..3"),
    (lambda: nn.BatchNorm1d(3)(cr.zeros(4, 5)),
     "batch_norm: input of shape \\(4, 5\\) has 5 channels \\(axis 1\\), but running_mean has 3 entries"),
    (lambda: cr.batch_norm(cr.zeros(4, 5), weight=np.ones(3)), "5 channels \\(axis 1\\), but weight has 3 entries"),
    (lambda: nn.Conv1d(2, 3, 3)(cr.zeros(1, 3, 10)),
     "conv1d: input \\(1, 3, 10\\) and weight \\(3, 2, 3\\): the input has 3 channels but the weight expects 2"),
    (lambda: nn.Conv1d(2, 3, 5)(cr.zeros(1, 2, 3)), "conv1d: .*: the kernel spans 5 steps but the padded input has 3"),
    (lambda: cr.conv1d(cr.zeros(1, 2, 3), cr.zeros(3, 2, 2), dilation=3), "the kernel spans 4 steps but the padded input has 3"),
    (lambda: cr.conv1d(cr.zeros(1, 2, 3), cr.zeros(3, 2, 2), padding=-1),
     "conv1d: padding must be a non-negative int, a \\(left, right\\) pair of them, or 'same' / 'valid', got -1"),
    (lambda: cr.conv1d(cr.zeros(1, 2, 3), cr.zeros(3, 2, 2), padding="full"), "conv1d: padding must be .* got 'full'"),
    (lambda: nn.Embedding(4, 2)(np.array([0.5])), "embedding: indices must be integers"),
    (lambda: nn.AdaptiveAvgPool2d(0), "output_size must be a positive int"),
    (lambda: cr.max_pool2d(cr.zeros(1, 1, 4, 4), 2, padding=2), "padding \\(2, 2\\) must be at most half the kernel size"),
    (lambda: cr.conv2d(cr.zeros(1, 3, 4, 4), cr.zeros(2, 1, 3, 3), groups=2), "groups must be a positive int dividing"),
    (lambda: cr.pad(cr.zeros(2, 3), (3, 0), "reflect"), "reflect padding \\(3, 0\\) must be smaller than the size 3"),
    (lambda: nn.functional.cross_entropy(cr.zeros(2, 3), np.array([0, 3])), "label 3 is out of range for 3 classes"),
    (lambda: nn.functional.cross_entropy(cr.zeros(2, 3), np.array([0, 3]), label_smoothing=0.1), "label 3 is not a class index 0..2"),
    (lambda: nn.functional.cross_entropy(cr.zeros(2, 3, 4), np.array([0, 1])), "labels of shape \\(2,\\) do not match scores"),
    (lambda: nn.functional.nll_loss(cr.zeros(2, 3), np.array([0, 1]), weight=np.ones(2)), "weight must have one entry per class"),
])
def test_bad_input_raises_one_clear_sentence(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
