"""Convolutional layers: conv2d / max_pool2d against a pixel-loop reference and PyTorch,
Conv2d / MaxPool2d layers (init, config, errors) and a small CNN on the 8x8 digits.

Finite-difference gradchecks of both ops (reverse and forward mode) are in the op spec
list (tests/op_specs.py), which test_ops_spec.py runs.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from op_specs import _conv2d_ref, _max_pool2d_ref

import chainrule as cr
from chainrule import nn

RNG = np.random.default_rng(0)

# (x shape, w shape, stride, padding): stride 2, padding 1, C > 1, F > 1, non-square kernels.
CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
    ((1, 2, 8, 5), (3, 2, 2, 3), (2, 1), (1, 2)),
    ((3, 1, 5, 5), (2, 1, 5, 5), 1, 2),
    ((1, 4, 6, 6), (5, 4, 1, 1), 3, 0),
]
CONV_IDS = [f"{x}-{w}-s{s}-p{p}" for x, w, s, p in CONV_CASES]
POOL_CASES = [((2, 3, 8, 8), 2, None), ((1, 2, 7, 5), 3, 1), ((2, 1, 6, 9), (2, 3), (2, 3)), ((1, 1, 5, 7), 2, 2)]
POOL_IDS = [f"{x}-k{k}-s{s}" for x, k, s in POOL_CASES]


def _data(*shapes, dtype=np.float64):
    return [RNG.standard_normal(s).astype(dtype) for s in shapes]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- the ops
@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_conv2d_matches_a_pixel_loop(xs, ws, stride, padding):
    x, w, b = _data(xs, ws, ws[:1])
    out = cr.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, _conv2d_ref(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs, kernel, stride", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_matches_a_pixel_loop(xs, kernel, stride):
    (x,) = _data(xs)
    np.testing.assert_array_equal(cr.max_pool2d(x, kernel, stride).data, _max_pool2d_ref(x, kernel, stride))


@pytest.mark.torch
@pytest.mark.parametrize("xs, ws, stride, padding", CONV_CASES, ids=CONV_IDS)
def test_conv2d_forward_and_gradients_match_torch(torch, xs, ws, stride, padding):
    x, w, b, g = _data(xs, ws, ws[:1], _conv2d_ref(*_data(xs, ws), stride=stride, padding=padding).shape)
    ours = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = cr.conv2d(*ours, stride=stride, padding=padding)
    out.backward(g)
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ref = torch.nn.functional.conv2d(*theirs, stride=stride, padding=padding)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, t in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("xs, kernel, stride", POOL_CASES, ids=POOL_IDS)
def test_max_pool2d_forward_and_gradient_match_torch(torch, xs, kernel, stride):
    # Rounded values make ties common, so the tie rule is compared too.
    x = np.round(RNG.standard_normal(xs), 0)
    t = cr.tensor(x, requires_grad=True)
    out = cr.max_pool2d(t, kernel, stride)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.max_pool2d(tx, kernel, stride)
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool2d_gives_a_tied_window_gradient_to_its_first_entry():
    x = cr.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    cr.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1  # the top-left entry of each 2x2 window
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_overlapping_pool_windows_add_up_at_a_shared_maximum():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre is the maximum of all four 2x2 windows
    t = cr.tensor(x, requires_grad=True)
    cr.max_pool2d(t, 2, stride=1).sum().backward()
    assert t.grad[0, 0, 1, 1] == 4 and t.grad.sum() == 4


def test_a_nan_wins_its_pool_window_and_takes_the_gradient():
    x = np.array([[[[1.0, np.nan, 2.0, 0.0], [np.nan, 3.0, 1.0, 1.0]]]])
    t = cr.tensor(x, requires_grad=True)
    out = cr.max_pool2d(t, 2)
    out.backward(np.array([[[[5.0, 7.0]]]]))
    assert np.isnan(out.data[0, 0, 0, 0]) and out.data[0, 0, 0, 1] == 2
    np.testing.assert_array_equal(t.grad[0, 0], [[0, 5, 7, 0], [0, 0, 0, 0]])  # the first NaN, row-major


@pytest.mark.parametrize("stride", [2, 1])
def test_an_infinite_pool_gradient_stays_on_its_arg_max(stride):
    t = cr.tensor(np.arange(12.0).reshape(1, 1, 3, 4), requires_grad=True)
    out = cr.max_pool2d(t, 2, stride=stride)
    g = np.ones(out.shape)
    g[0, 0, 0, 0] = np.inf
    out.backward(g)
    assert t.grad[0, 0, 1, 1] == np.inf and np.isfinite(np.delete(t.grad.ravel(), 5)).all()


def test_convolutions_of_one_geometry_between_forward_and_backward_keep_their_gradients():
    # Each conv reuses its work arrays; the second forward overwrites what the first left
    # there, so the first one's weight gradient must be computed from its own input.
    x1, x2, w, g1, g2 = _data((2, 3, 6, 5), (2, 3, 6, 5), (4, 3, 3, 2), (2, 4, 6, 4), (2, 4, 6, 4))
    wt = cr.tensor(w, requires_grad=True)
    y1, y2 = cr.conv2d(x1, wt, padding=(1, 0)), cr.conv2d(x2, wt, padding=(1, 0))
    ((y1 * g1).sum() + (y2 * g2).sum()).backward()
    xp = [np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0))) for x in (x1, x2)]
    expected = sum(np.einsum("nfhw,nchwij->fcij", g, np.lib.stride_tricks.sliding_window_view(x, (3, 2), axis=(2, 3)))
                   for g, x in zip((g1, g2), xp))
    np.testing.assert_allclose(wt.grad, expected, rtol=1e-12, atol=1e-12)


def test_convolutions_in_threads_match_one_thread():
    import threading

    cases = [_data((3, 2, 7, 7), (4, 2, 3, 3), (3, 4, 7, 7)) for _ in range(4)]

    def run(x, w, g):
        xt, wt = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
        (cr.conv2d(xt, wt, padding=1) * g).sum().backward()
        return xt.grad, wt.grad

    expected = [run(*c) for c in cases]
    results = [None] * len(cases)

    def worker(i):
        for _ in range(20):
            results[i] = run(*cases[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_scratch_arrays_are_kept_per_key_and_bounded():
    from chainrule.autodiff.ops.scratch import Scratch

    s = Scratch(max_bytes=100, max_total=64)
    a = s.get("a", (3,), np.float64)
    assert not a.any() and s.get("a", (3,), np.float64) is a and s.get("a", (4,), np.float64) is not a
    assert s.get("big", (20,), np.float64) is not s.get("big", (20,), np.float64)  # 160 bytes: not kept
    s.get("b", (2,), np.float64)  # 24 + 32 + 16 bytes would pass 64: the set starts again
    assert s.get("a", (3,), np.float64) is not a


def test_forward_mode_matches_reverse_mode_through_a_conv_net():
    x, w, b = _data((2, 2, 6, 6), (3, 2, 3, 3), (3,))

    def f(x, w, b):
        h = cr.relu(cr.conv2d(x, w, b, padding=1))
        return cr.max_pool2d(h, 2).sum()

    tangents = _data((2, 2, 6, 6), (3, 2, 3, 3), (3,))
    _, jt = cr.jvp(f, (x, w, b), tuple(tangents))
    ts = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    f(*ts).backward()
    expected = sum(float(np.sum(t * v.grad)) for t, v in zip(tangents, ts))
    assert float(jt) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_in_forward_and_backward(dtype):
    x, w, b = (cr.tensor(a, requires_grad=True) for a in _data((2, 3, 6, 6), (4, 3, 3, 3), (4,), dtype=dtype))
    out = cr.max_pool2d(cr.conv2d(x, w, b, stride=1, padding=1), 2)
    assert out.dtype == dtype
    out.sum().backward()
    assert {x.grad.dtype, w.grad.dtype, b.grad.dtype} == {np.dtype(dtype)}


@pytest.mark.parametrize("call, message", [
    (lambda: cr.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 4, 3, 3))),
     r"conv2d: input \(1, 3, 5, 5\) and weight \(2, 4, 3, 3\): the input has 3 channels but the weight expects 4"),
    (lambda: cr.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))),
     r"conv2d: .*kernel \(3, 3\) is larger than the padded input \(2, 2\)"),
    (lambda: cr.conv2d(np.zeros((1, 5, 5)), np.zeros((1, 1, 3, 3))),
     r"conv2d: input \(1, 5, 5\) and weight \(1, 1, 3, 3\): expected input \(N, C, H, W\)"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros(3)),
     r"conv2d: bias of shape \(3,\) does not match weight \(2, 1, 3, 3\)"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=0),
     "conv2d: stride must be a positive int or a pair of them, got 0"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), padding=(1, -1)),
     r"conv2d: padding must be a non-negative int or a pair of them, got \(1, -1\)"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=1.5),
     "conv2d: stride must be a positive int"),
    (lambda: cr.max_pool2d(np.zeros((1, 1, 3, 3)), 4),
     r"max_pool2d: input of shape \(1, 1, 3, 3\): kernel \(4, 4\) is larger than the image \(3, 3\)"),
    (lambda: cr.max_pool2d(np.zeros((3, 3)), 2), r"max_pool2d: input of shape \(3, 3\): expected \(N, C, H, W\)"),
    (lambda: cr.max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=(1, 0)), "max_pool2d: stride must be a positive int"),
    (lambda: nn.Conv2d(0, 2, 3), "in_channels must be a positive integer, got 0"),
    (lambda: nn.Conv2d(1, 2, (3,)), r"Conv2d: kernel_size must be a positive int or a pair of them, got \(3,\)"),
    (lambda: nn.Conv2d(1, 2, 3, stride=True), "Conv2d: stride must be a positive int"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), "Conv2d: padding must be a non-negative int"),
    (lambda: nn.MaxPool2d(0), "MaxPool2d: kernel_size must be a positive int"),
    (lambda: nn.Conv2d(3, 2, 3, seed=0)(cr.zeros(1, 1, 5, 5)), "the input has 1 channels but the weight expects 3"),
])
def test_bad_input_raises_one_clear_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- the layers
def test_conv2d_layer_shapes_and_fans():
    conv = nn.Conv2d(3, 16, (3, 5), stride=2, padding=1, init="he_normal", seed=0)
    assert conv.weight.shape == (16, 3, 3, 5) and conv.bias.shape == (16,)
    assert conv(cr.zeros(2, 3, 9, 9)).shape == (2, 16, 5, 4)
    assert nn.init.fans(conv.weight.shape) == (3 * 3 * 5, 16 * 3 * 5)
    # He normal: std sqrt(2 / fan_in) with fan_in = C * KH * KW.
    assert conv.weight.data.std() == pytest.approx(math.sqrt(2 / 45), rel=0.1)
    bound = math.sqrt(6 / (45 + 16 * 15))
    assert np.abs(nn.Conv2d(3, 16, (3, 5), seed=0).weight.data).max() <= bound


def test_layers_rebuild_from_a_json_config():
    net = nn.Sequential(
        nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=1, bias=False, init="he_uniform", seed=3), nn.ReLU(),
        nn.MaxPool2d(2, stride=1), nn.Conv2d(4, 3, 2, seed=4), nn.MaxPool2d((1, 2)), nn.Flatten(),
    )
    config = json.loads(json.dumps(net.config()))
    again = nn.from_config(config)
    assert again.config() == net.config()
    assert config["args"]["layers"][0]["args"]["kernel_size"] == [3, 2]
    assert config["args"]["layers"][3]["args"]["kernel_size"] == 2
    assert again[0].bias is None and again[2].stride == (1, 1) and again[4].stride == (1, 2)
    x = cr.randn(2, 2, 7, 6, seed=0)
    np.testing.assert_array_equal(again(x).data, net(x).data)  # seeded: the same weights
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "3.weight", "3.bias"]


def test_layer_reprs_name_their_settings():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2))"
    assert repr(nn.Conv2d(1, 8, 3, padding=1, seed=0)).startswith(
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=True)  # 80 parameters")


def _cnn(seed):
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, seed=seed), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(8 * 4 * 4, 10, seed=seed + 1),
    )


@pytest.mark.usefixtures("one_blas_thread")
def test_a_small_cnn_learns_the_8x8_digits():
    pytest.importorskip("sklearn")
    from chainrule.data import load_digits, train_test_split

    ds = load_digits()
    X = (ds.X / 16).reshape(-1, 1, 8, 8)
    X_tr, X_te, y_tr, y_te = train_test_split(X, ds.y, 0.25, stratify=True, seed=0)
    model = _cnn(seed=0)
    cr.fit(model, "cross_entropy", ("adam", 0.01), (X_tr, y_tr), epochs=30, batch_size=32, seed=0, verbose=0)
    accuracy = cr.evaluate(model, None, (X_te, y_te), metrics=["accuracy"])["accuracy"]
    assert accuracy >= 0.95, f"test accuracy {accuracy:.3f}"  # seconds: benchmarks/bench_time_to_accuracy.py
