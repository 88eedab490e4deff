"""GradientNorms and gradient_norms: per-layer norms equal hand-computed ones; the plot is written."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.callbacks import CALLBACKS, GradientNorms, gradient_norms, make_callbacks


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_gradient_norms_groups_parameters_by_layer():
    net = nn.MLP([3, 4, 2], activation="sigmoid", seed=0, dtype=np.float64)
    X, y = _data()
    nn.functional.cross_entropy(net(X), y).backward()
    expected = {
        "hidden.0": np.sqrt((net.hidden[0].weight.grad ** 2).sum() + (net.hidden[0].bias.grad ** 2).sum()),
        "output": np.sqrt((net.output.weight.grad ** 2).sum() + (net.output.bias.grad ** 2).sum()),
    }
    got = gradient_norms(net)
    assert list(got) == ["hidden.0", "output"]
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12)
    assert gradient_norms(net, weights_only=True)["output"] == pytest.approx(
        np.linalg.norm(net.output.weight.grad), rel=1e-12)


def test_callback_records_the_first_batch_and_epoch_means():
    X, y = _data()
    net = nn.MLP([3, 4, 2], activation="sigmoid", seed=0, dtype=np.float64)
    start = nn.MLP([3, 4, 2], activation="sigmoid", seed=0, dtype=np.float64)
    cb = GradientNorms()
    cr.fit(net, "cross_entropy", ("sgd", 0.1), (X, y), epochs=4, batch_size=40, shuffle=False, callbacks=[cb],
           seed=0, verbose=0)
    assert cb.epochs == [0, 1, 2, 3] and all(len(v) == 4 for v in cb.norms.values())
    nn.functional.cross_entropy(start(X), y).backward()      # full batch: the first step's gradient
    for k, v in gradient_norms(start).items():
        assert cb.initial[k] == pytest.approx(v, rel=1e-10)
        assert cb.norms[k][0] == pytest.approx(v, rel=1e-10)
    again = GradientNorms()
    again.load_state_dict(*cb.state_dict())
    assert again.norms == cb.norms and again.initial == cb.initial


def test_registered_by_name_and_checks_its_option():
    assert CALLBACKS["gradient_norms"] is GradientNorms
    assert isinstance(make_callbacks("gradient_norms")[0], GradientNorms)
    with pytest.raises(TypeError, match="weights_only"):
        GradientNorms(weights_only="yes")


def test_plot_gradient_norms(tmp_path):
    pytest.importorskip("matplotlib")
    from chainrule.viz import plot_gradient_norms

    X, y = _data()
    cb = GradientNorms()
    cr.fit(nn.MLP([3, 4, 4, 2], activation="sigmoid", seed=0), "cross_entropy", "sgd", (X, y), epochs=2,
           callbacks=[cb], seed=0, verbose=0)
    path = plot_gradient_norms(cb, tmp_path / "g.png", title="sigmoid 3-4-4-2")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="GradientNorms callback"):
        plot_gradient_norms({}, tmp_path / "h.png")
