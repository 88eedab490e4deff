"""nn.Sequential / nn.MLP run Linear layers and their activations as one dense_chain op: same numbers, fewer nodes."""

import contextlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.nn import fusion


def _grads(model, x, y=None):
    for p in model.parameters():
        p.grad = None
    out = model(x)
    loss = (out * out).sum() if y is None else nn.functional.cross_entropy(out, y)
    loss.backward()
    return out.data.copy(), [p.grad.copy() for p in model.parameters()]


MODELS = {
    "mlp-relu": lambda: nn.MLP([3, 5, 4, 2], seed=0, dtype=np.float64),
    "mlp-tanh-sigmoid-out": lambda: nn.MLP([3, 4, 1], activation="tanh", output_activation="sigmoid", seed=1,
                                           dtype=np.float64),
    "mlp-skip": lambda: nn.MLP([3, 4, 2], skip=True, output_activation="tanh", seed=2, dtype=np.float64),
    "mlp-nobias": lambda: nn.MLP([3, 4, 2], bias=False, seed=3, dtype=np.float64),
    "sequential-mixed": lambda: nn.Sequential(
        nn.Linear(3, 6, seed=0, dtype=np.float64), nn.Sigmoid(), nn.Linear(6, 5, seed=1, dtype=np.float64),
        nn.Dropout(0.0), nn.Linear(5, 4, seed=2, dtype=np.float64), nn.LeakyReLU(negative_slope=0.1),
        nn.Linear(4, 2, seed=3, dtype=np.float64), nn.Identity()),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shape", [(7, 3), (2, 4, 3), (3,)], ids=["2d", "3d", "1d"])
def test_fused_equals_unfused_to_the_bit(name, shape):
    model = MODELS[name]()
    x = cr.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True, dtype=np.float64)
    out, grads = _grads(model, x)
    gx = x.grad.copy()
    x.grad = None
    with cr.unfused():
        out2, grads2 = _grads(model, x)
    np.testing.assert_array_equal(out, out2)
    np.testing.assert_array_equal(gx, x.grad)
    for a, b in zip(grads, grads2):
        np.testing.assert_array_equal(a, b)


def test_training_fused_and_unfused_gives_the_same_weights():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    models = [nn.MLP([4, 16, 8, 3], seed=0) for _ in range(2)]
    for model, fused in zip(models, (True, False)):
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for i in range(0, 64, 8):
            with contextlib.nullcontext() if fused else cr.unfused():
                loss = nn.functional.cross_entropy(model(X[i:i + 8]), y[i:i + 8])
                opt.zero_grad()
                loss.backward()
                opt.step()
    for a, b in zip(*(m.parameters() for m in models)):
        np.testing.assert_array_equal(a.data, b.data)


def test_the_graph_has_one_node_per_chain():
    net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 3, seed=0), nn.Tanh(),
                        nn.Dropout(0.5), nn.Linear(3, 1, seed=0))
    out = net(cr.ones(4, 2))
    assert out.op == "linear"  # the last Linear stands alone after Dropout
    assert out._node.inputs[0]._node.op.name == "dropout"
    assert out._node.inputs[0]._node.inputs[0].op == "dense_chain"
    with cr.unfused():
        assert net[:2](cr.ones(1, 2)).op == "relu"


def test_plan_fuses_only_the_exact_layers():
    class MyLinear(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    lin = [nn.Linear(2, 2, seed=i) for i in range(4)]
    segments = fusion.plan([lin[0], nn.ReLU(), lin[1], nn.GELU(), lin[2], nn.LeakyReLU(negative_slope=0.2), lin[3],
                            nn.Activation("tanh"), MyLinear(2, 2), nn.Sigmoid()])
    kinds = [s.acts if isinstance(s, fusion.Chain) else type(s).__name__ for s in segments]
    assert kinds == [("relu", "identity"), "GELU", "Linear", "LeakyReLU", ("tanh",), "MyLinear", "Sigmoid"]
    assert fusion.plan([lin[0]]) == [lin[0]]  # a lone Linear gains nothing from fusing
    assert fusion.activation_name(nn.Activation("hardtanh", max_val=2.0)) is None


def test_the_plan_follows_changes_to_the_layers():
    net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU())
    x = cr.ones(1, 2)
    assert net(x).op == "dense_chain"
    net.append(nn.Dropout(0.0))
    net.append(nn.Linear(3, 1, seed=1))
    assert net(x).op == "linear"
    net[0].weight = nn.Parameter(np.zeros((3, 2), np.float32))  # a replaced weight is read at call time
    net[0].bias = nn.Parameter(np.full(3, -1.0, np.float32))
    np.testing.assert_array_equal(net(x).data, net[3].bias.data[None])


def test_forward_mode_and_second_order_go_through_the_chain():
    model = nn.MLP([3, 4, 2], activation="tanh", seed=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((2, 3))
    t = np.random.default_rng(2).standard_normal((2, 3))
    _, tangent = cr.jvp(lambda v: model(v), (x,), (t,))
    with cr.unfused():
        _, tangent2 = cr.jvp(lambda v: model(v), (x,), (t,))
    np.testing.assert_allclose(tangent, tangent2, rtol=1e-13, atol=1e-15)
    f = lambda v: (model(v) ** 2).sum()  # noqa: E731
    h = cr.hessian(f)(x[0])
    with cr.unfused():
        h2 = cr.hessian(f)(x[0])
    np.testing.assert_allclose(np.asarray(h), np.asarray(h2), rtol=1e-12, atol=1e-14)


def test_inference_and_arrays():
    model = nn.MLP([3, 4, 2], seed=0)
    x = np.ones((5, 3), np.float32)
    with cr.no_grad():
        out = model(x)
    assert out._node is None and not out.requires_grad
    with cr.unfused():
        np.testing.assert_array_equal(out.data, model(x).data)


def test_a_shape_mismatch_names_the_layer_and_both_shapes():
    model = nn.MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError) as fused:
        model(cr.ones(2, 5))
    assert str(fused.value) == ("dense_chain: the input of shape (2, 5) does not match layer 1's weight of shape "
                                "(4, 3) (expected (..., 3))")
    model.output.weight = nn.Parameter(np.ones((2, 7), np.float32))
    with pytest.raises(ValueError, match=r"layer 1's output of shape \(2, 4\) does not match layer 2's weight "
                                         r"of shape \(2, 7\)"):
        model(cr.ones(2, 3))


def test_bad_chain_arguments_are_one_sentence():
    from chainrule.autodiff.ops import call

    with pytest.raises(ValueError, match=r"activation 'gelu' is not one of"):
        call("dense_chain", np.ones((1, 2)), np.ones((2, 2)), None, acts=("gelu",))
    with pytest.raises(ValueError, match=r"a weight and a bias .* for each of the 2 activations, got 2 arrays"):
        call("dense_chain", np.ones((1, 2)), np.ones((2, 2)), None, acts=("relu", "relu"))
    with pytest.raises(ValueError, match=r"activation 'gelu' is not one of"):
        call("dense_chain", np.ones((1, 2)), np.ones((2, 2)), None, acts=["gelu"])


def test_a_chain_takes_its_activations_as_a_list_too():
    from chainrule.autodiff.ops import call

    x, w = cr.tensor(np.array([[1.0, -2.0]]), requires_grad=True), cr.tensor(np.eye(2), requires_grad=True)
    results = []
    for acts in (("relu",), ["relu"]):
        x.grad = w.grad = None
        out = call("dense_chain", x, w, None, acts=acts)
        out.sum().backward()
        results.append((out.data.copy(), x.grad.copy(), w.grad.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][0], [[1.0, 0.0]])


def test_compiled_steps_and_traced_export_see_each_layer():
    model = nn.MLP([3, 4, 2], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def step(x, y):
        out = model(x)
        seen.append(out.op)
        loss = nn.functional.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    compiled = cr.compile(step, model=model)
    x, y = np.ones((4, 3), np.float32), np.array([0, 1, 0, 1])
    for _ in range(3):
        compiled(x, y)
    assert seen and all(op == "linear" for op in seen)  # recorded steps run the layers one by one


@pytest.mark.parametrize("shapes", [((1, 5), (5, 3)), ((7, 5), (5, 3)), ((2, 4, 5), (5, 3)), ((2, 3, 4, 5), (5, 3)),
                                    ((5,), (5, 3)), ((0, 5), (5, 3)), ((3, 0, 5), (5, 3))],
                         ids=["one-row", "matrix", "batched", "batched-4d", "vector", "empty", "empty-batched"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_the_products_of_dense_layers_equal_matmul(shapes, dtype):
    from chainrule.autodiff.ops import mm

    rng = np.random.default_rng(0)
    a, b = (rng.integers(-3, 4, s).astype(dtype) for s in shapes)
    pairs = [(a, b), (a, np.asfortranarray(b)), (a, b.T.copy().T)]
    if a.ndim > 2:  # a batch whose rows cannot be folded into one matrix without a copy
        pairs.append((np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1), b))
    for left, right in pairs:
        got = mm(left, right)
        assert got.dtype == (left @ right).dtype and got.shape == (left @ right).shape
        np.testing.assert_array_equal(got, left @ right)  # small integers: exact in every dtype
