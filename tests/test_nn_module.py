"""Module mechanics: registration, names, state dicts, modes, repr, configs; and the layers."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(2))
        self.blocks = [nn.Linear(2, 3, seed=0), nn.Tanh()]
        self.heads = {"a": nn.Linear(3, 1, seed=1)}
        self.listed = nn.ModuleList([nn.Linear(3, 3, seed=2)])
        self.frozen = nn.Parameter(np.zeros(1), requires_grad=False)
        self.note = "not a parameter"

    def forward(self, x):
        h = self.blocks[1](self.blocks[0](x * self.scale))
        return self.heads["a"](self.listed[0](h))


def test_parameters_register_from_attributes_lists_and_dicts():
    names = [n for n, _ in Net().named_parameters()]
    # A module's own parameters come first, then its sub-modules' in attribute order.
    assert names == ["scale", "frozen", "blocks.0.weight", "blocks.0.bias", "heads.a.weight", "heads.a.bias",
                     "listed.0.weight", "listed.0.bias"]
    assert all(isinstance(p, nn.Parameter) for p in Net().parameters())


def test_modules_are_found_once_and_in_order():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "blocks.0", "blocks.1", "heads.a", "listed", "listed.0"]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "Tanh", "Linear", "ModuleList"]


class _Count(int):
    """An int subclass: not a plain type to the walk, and still holds nothing."""


def test_modules_are_found_beside_plain_values_in_mixed_containers():
    net = nn.Module()
    net.sizes, net.options, net.flag, net.count = [2, 3], {"p": 0.5, "name": "x"}, True, _Count(3)
    net.mixed = (4, [nn.Linear(2, 2, seed=0), "tanh"], {"k": 1, "head": nn.Linear(2, 1, seed=1)})
    net.empty, net.array = [], np.zeros(3)
    assert [n for n, _ in net.named_parameters()] == ["mixed.1.0.weight", "mixed.1.0.bias",
                                                      "mixed.2.head.weight", "mixed.2.head.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "mixed.1.0", "mixed.2.head"]


def test_shared_parameter_counts_once_and_cycles_terminate():
    lin = nn.Linear(2, 2, seed=0)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    seq.back = seq  # a module that refers to itself must not loop forever
    assert len(list(seq.modules())) == 3


def test_call_runs_forward_and_gradients_reach_every_parameter():
    net = Net()
    net(cr.ones(4, 2)).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert grads["frozen"] is None and all(g is not None for n, g in grads.items() if n != "frozen")
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_num_parameters_and_repr_counts():
    mlp = nn.MLP([2, 2, 1], activation="sigmoid", seed=0)
    assert mlp.num_parameters() == 9
    text = repr(mlp)
    assert text.splitlines()[0] == "MLP(sizes=[2, 2, 1]"
    assert "(0): Linear(in_features=2, out_features=2, bias=True)  # 6 parameters" in text
    assert text.endswith(")  # 9 parameters")
    assert Net().num_parameters(trainable_only=True) == Net().num_parameters() - 1


def test_train_eval_reach_every_descendant():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


# ------------------------------------------------------------ state dicts
def test_state_dict_round_trip_copies_values():
    a, b = Net(), Net()
    for p in b.parameters():
        p.data[...] = 7
    state = a.state_dict()
    assert list(state) == [n for n, _ in a.named_parameters()]
    b.load_state_dict(state)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    state["scale"][...] = 100  # the state dict is a copy, not a view
    assert a.scale.data[0] == 1


def test_strict_load_lists_every_problem_and_changes_nothing():
    lin = nn.Linear(2, 3, seed=0)
    before = lin.weight.data.copy()
    bad = {"weight": np.zeros((2, 2)), "extra": np.zeros(1)}
    with pytest.raises(ValueError) as err:
        lin.load_state_dict(bad)
    msg = str(err.value)
    assert "missing keys: bias" in msg and "unexpected keys: extra" in msg
    assert "mis-shaped keys: weight: expected (3, 2), got (2, 2)" in msg
    np.testing.assert_array_equal(lin.weight.data, before)


def test_non_strict_load_reports_keys():
    lin = nn.Linear(2, 3, seed=0)
    result = lin.load_state_dict({"bias": np.ones(3), "other": np.ones(1)}, strict=False)
    assert result == nn.LoadResult(["weight"], ["other"])
    assert lin.bias.data.tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="mis-shaped keys: bias: expected \\(3,\\), got \\(4,\\)"):
        lin.load_state_dict({"bias": np.ones(4)}, strict=False)


# ------------------------------------------------------------ configs
CONFIGURABLE = [
    lambda: nn.Linear(3, 2, init="he_normal", seed=1),
    lambda: nn.Linear(3, 2, bias=False, init={"name": "constant", "value": 0.5}, dtype=np.float64),
    lambda: nn.Sequential(nn.Linear(3, 4, seed=0), nn.LeakyReLU(negative_slope=0.2), nn.Linear(4, 2, seed=1)),
    lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.25, seed=3), nn.Identity(), nn.Linear(3, 2, seed=0)),
    lambda: nn.MLP([3, 5, 2], activation="tanh", output_activation="softmax", seed=0),
    lambda: nn.MLP([3, 4, 4, 2], activation=nn.ELU(alpha=0.5), skip=True, seed=2, init="lecun_normal"),
    lambda: nn.ModuleList([nn.Linear(3, 2, seed=0)]),
    lambda: nn.ModuleDict({"x": nn.Linear(3, 2, seed=0)}),
]


@pytest.mark.parametrize("make", CONFIGURABLE, ids=lambda f: "cfg")
def test_config_round_trip_through_json_and_weights(make):
    model = make().eval()
    config = json.loads(json.dumps(model.config()))
    rebuilt = nn.from_config(config).eval()
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict())
    if hasattr(model, "forward") and not isinstance(model, (nn.ModuleList, nn.ModuleDict)):
        x = cr.tensor(np.random.default_rng(0).normal(size=(4, 3)))
        np.testing.assert_array_equal(rebuilt(x).data, model(x).data)


def test_config_errors():
    with pytest.raises(ValueError, match="unknown layer 'Conv3d'; expected one of: .*Linear"):
        nn.from_config({"type": "Conv3d", "args": {}})
    with pytest.raises(ValueError, match="config type 'ReLU' is not a Linear"):
        nn.Linear.from_config({"type": "ReLU", "args": {}})
    with pytest.raises(ValueError, match="initializer .* is not registered"):
        nn.Linear(2, 2, init=lambda shape, seed=None, dtype=None: np.zeros(shape)).config()
    with pytest.raises(NotImplementedError, match="Net has no config"):
        Net()._config_args()


def test_custom_layer_can_join_the_registry():
    @nn.LAYERS.register
    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def _config_args(self):
            return {"factor": self.factor}

    try:
        rebuilt = nn.from_config(nn.Sequential(Scale(3.0)).config())
        assert rebuilt(cr.tensor([2.0])).item() == 6.0
    finally:
        del nn.LAYERS["Scale"]


# ------------------------------------------------------------ Linear
def test_linear_shapes_values_and_single_fused_op():
    lin = nn.Linear(3, 2, seed=0, dtype=np.float64)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = cr.tensor(np.random.default_rng(1).normal(size=(5, 3)))
    y = lin(x)
    np.testing.assert_allclose(y.data, x.data @ lin.weight.data.T + lin.bias.data, rtol=1e-14)
    assert y.op == "linear" and all(t.is_leaf for t in y._node.inputs)


def test_linear_gradcheck():
    lin = nn.Linear(3, 2, seed=0, dtype=np.float64)
    cr.gradcheck(lambda x, w, b: cr.linear(x, w, b), np.ones((4, 3)), lin.weight.data, lin.bias.data)


@pytest.mark.parametrize("args,message", [
    ((0, 2), "in_features must be a positive integer, got 0"),
    ((2, 2.5), "out_features must be a positive integer, got 2.5"),
    ((2, -1), "out_features must be a positive integer, got -1"),
])
def test_linear_rejects_bad_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        nn.Linear(*args)


def test_linear_input_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"input of shape \(4, 5\) does not match weight of shape \(2, 3\)"):
        nn.Linear(3, 2)(cr.zeros(4, 5))


def test_linear_takes_initializer_by_name_dict_or_callable():
    assert nn.Linear(2, 2, init="ones").weight.data.tolist() == [[1, 1], [1, 1]]
    assert nn.Linear(2, 1, init={"name": "constant", "value": 3.0}).weight.data.tolist() == [[3, 3]]
    lin = nn.Linear(2, 1, init=lambda shape, seed=None, dtype=None: np.full(shape, 4.0), bias_init="ones")
    assert lin.weight.data.tolist() == [[4, 4]] and lin.bias.data.tolist() == [1]
    with pytest.raises(ValueError, match="unknown initializer 'xavier'; expected one of: .*xavier_uniform"):
        nn.Linear(2, 2, init="xavier")


def test_linear_seed_makes_weights_reproducible():
    a, b = nn.Linear(4, 3, seed=5), nn.Linear(4, 3, seed=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    g = np.random.default_rng(5)
    assert not np.array_equal(nn.Linear(4, 3, seed=g).weight.data, nn.Linear(4, 3, seed=g).weight.data)


# ------------------------------------------------------------ other layers
def test_sequential_chains_and_slices():
    net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    x = cr.ones(2, 2)
    np.testing.assert_array_equal(net(x).data, net[2](net[1](net[0](x))).data)
    assert isinstance(net[:2], nn.Sequential) and len(net[:2]) == 2
    assert nn.Sequential([nn.ReLU()])(cr.tensor([-1.0, 1.0])).tolist() == [0, 1]


def test_dropout_train_eval_and_seed():
    x = cr.ones(10000)
    d = nn.Dropout(0.3, seed=0)
    out = d(x).data
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs(out.mean() - 1) < 0.03 and abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(nn.Dropout(0.3, seed=0)(x).data, out)
    assert not np.array_equal(d(x).data, out)  # the generator moves on between calls
    assert d.eval()(x) is x


def test_dropout_gradient_uses_the_same_mask():
    x = cr.ones(50, requires_grad=True)
    out = nn.Dropout(0.5, seed=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


@pytest.mark.parametrize("p", [-0.1, 1.0, 2])
def test_dropout_rejects_bad_p(p):
    with pytest.raises(ValueError, match=f"p must be in \\[0, 1\\), got {p}"):
        nn.Dropout(p)


def test_flatten_and_identity():
    assert nn.Flatten()(cr.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(start_dim=2)(cr.zeros(2, 3, 4, 5)).shape == (2, 3, 20)
    x = cr.zeros(3)
    assert nn.Identity()(x) is x


# ------------------------------------------------------------ MLP
def test_mlp_structure_and_forward_by_hand():
    mlp = nn.MLP([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(5, 3))
    h = np.tanh(x @ mlp.hidden[0].weight.data.T + mlp.hidden[0].bias.data)
    z = h @ mlp.output.weight.data.T + mlp.output.bias.data
    np.testing.assert_allclose(mlp(cr.tensor(x)).data, 1 / (1 + np.exp(-z)), rtol=1e-13)


def test_skip_layer_network_feeds_inputs_to_the_output():
    mlp = nn.MLP([3, 4, 2], activation="sigmoid", skip=True, seed=0, dtype=np.float64)
    assert [n for n, _ in mlp.named_parameters()][-1] == "skip.weight"
    assert mlp.skip.weight.shape == (2, 3) and mlp.skip.bias is None
    x = np.random.default_rng(0).normal(size=(5, 3))
    h = 1 / (1 + np.exp(-(x @ mlp.hidden[0].weight.data.T + mlp.hidden[0].bias.data)))
    expected = h @ mlp.output.weight.data.T + mlp.output.bias.data + x @ mlp.skip.weight.data.T
    np.testing.assert_allclose(mlp(cr.tensor(x)).data, expected, rtol=1e-13)
    cr.gradcheck(lambda x: mlp(x), x)


@pytest.mark.parametrize("kwargs,message", [
    ({"sizes": [3]}, r"sizes must be a list of at least 2 positive ints .*got \[3\]"),
    ({"sizes": [3, 0, 1]}, r"got \[3, 0, 1\]"),
    ({"sizes": [3, 1], "skip": True}, r"skip=True needs at least one hidden layer, got sizes=\[3, 1\]"),
    ({"sizes": [3, 1], "activation": "nope"}, r"unknown activation 'nope'"),
])
def test_mlp_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP(**kwargs)


def test_mlp_seed_is_reproducible_and_dtype_respected():
    a, b = nn.MLP([4, 8, 3], seed=11), nn.MLP([4, 8, 3], seed=11)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert {p.dtype for p in nn.MLP([2, 2, 1], dtype=np.float64).parameters()} == {np.dtype(np.float64)}


def test_structure_held_remembers_walks_inside_the_block_only():
    import threading

    from chainrule.nn.module import structure_held

    net = nn.Module()
    net.first = nn.Linear(2, 3, seed=0)
    with structure_held(net):
        first = [n for n, _ in net.named_parameters()]
        net.extra = nn.Linear(3, 1, seed=0)  # a change the block promised not to make: not seen inside
        assert [n for n, _ in net.named_parameters()] == first
        seen_by_other_thread = []
        worker = threading.Thread(target=lambda: seen_by_other_thread.extend(n for n, _ in net.named_parameters()))
        worker.start()
        worker.join()
        assert "extra.weight" in seen_by_other_thread  # each thread walks for itself
        with structure_held(net):  # nested: shares the outer memory
            assert [n for n, _ in net.named_parameters()] == first
    assert [n for n, _ in net.named_parameters()][-2:] == ["extra.weight", "extra.bias"]
    with pytest.raises(RuntimeError), structure_held(net):
        list(net.modules())
        raise RuntimeError("boom")
    del net.extra
    assert [n for n, _ in net.named_parameters()] == first  # the memory went with the error


def test_fit_sees_the_structure_of_the_model_it_is_given_each_call():
    X = np.random.default_rng(0).normal(size=(16, 2))
    y = (X[:, 0] > 0).astype(int)
    net = nn.MLP([2, 4, 2], seed=0)
    cr.fit(net, "cross_entropy", "sgd", (X, y), epochs=1, verbose=0, seed=0)
    net.hidden.append(nn.Linear(4, 4, seed=1))  # grown between calls: the next fit must train it too
    before = net.hidden[-1].weight.data.copy()
    cr.fit(net, "cross_entropy", ("sgd", 0.5), (X, y), epochs=1, verbose=0, seed=0)
    assert not np.array_equal(net.hidden[-1].weight.data, before)
