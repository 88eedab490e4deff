"""Saving user-defined modules: weights-only files for any Module, the full form for @nn.register classes."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Unregistered(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        self.inner = nn.Linear(3, 2, seed=seed)
        self.scale = nn.Parameter(np.full(2, 1.5))

    def forward(self, x):
        return self.inner(x) * self.scale


def test_weights_round_trip_for_an_unregistered_module(tmp_path):
    model = Unregistered(seed=1)
    cr.save_weights(model, tmp_path / "w.safetensors")
    fresh = cr.load_weights(Unregistered(seed=7), tmp_path / "w.safetensors")
    x = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(fresh(cr.tensor(x)).data, model(cr.tensor(x)).data)
    with pytest.raises(FileExistsError):
        cr.save_weights(model, tmp_path / "w.safetensors")


def test_weights_into_the_wrong_model_name_the_file(tmp_path):
    cr.save_weights(Unregistered(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="w.safetensors has weights that do not fit"):
        cr.load_weights(nn.Linear(3, 2), tmp_path / "w.safetensors")
    cr.save(nn.Linear(3, 2, seed=3), tmp_path / "full.safetensors")  # a full model file's weights load too
    assert np.array_equal(cr.load_weights(nn.Linear(3, 2), tmp_path / "full.safetensors").weight.data,
                          nn.Linear(3, 2, seed=3).weight.data)


def test_full_save_of_an_unregistered_module_says_how(tmp_path):
    with pytest.raises(ValueError, match=r"decorate the class with @nn.register, or use chainrule.save_weights"):
        cr.save(Unregistered(), tmp_path / "m.safetensors")


def test_registered_module_saves_and_loads_in_full(tmp_path):
    @nn.register(name="TestScaledNet")
    class ScaledNet(nn.Module):
        def __init__(self, width, factor=2.0, **extra):
            super().__init__()
            self.net, self.factor, self.extra = nn.Linear(2, width, seed=0), factor, extra

        def forward(self, x):
            return self.net(x) * self.factor

    try:
        model = ScaledNet(3, factor=0.5, tag="a")
        model.net.weight.data[...] = 0.25
        cr.save(model, tmp_path / "m.safetensors", metadata={"note": "custom"})
        again, meta = cr.load(tmp_path / "m.safetensors", with_metadata=True)
        assert type(again) is ScaledNet and meta == {"note": "custom"}
        assert again.factor == 0.5 and again.extra == {"tag": "a"}
        assert np.array_equal(again.net.weight.data, model.net.weight.data)
        assert again.config() == {"type": "TestScaledNet", "args": {"width": 3, "factor": 0.5, "tag": "a"}}
        assert nn.register(name="TestScaledNet")(ScaledNet) is ScaledNet  # re-running the definition is fine
    finally:
        del nn.LAYERS["TestScaledNet"]


def test_register_refuses_what_it_cannot_rebuild(tmp_path):
    with pytest.raises(TypeError, match="decorates nn.Module subclasses"):
        nn.register(int)
    with pytest.raises(ValueError, match="a layer named 'Linear' is already registered"):
        @nn.register(name="Linear")
        class Other(nn.Module):
            pass

    @nn.register(name="TestHoldsModule")
    class HoldsModule(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

    try:
        with pytest.raises(TypeError, match="the arguments of HoldsModule"):
            cr.save(HoldsModule(nn.Linear(1, 1)), tmp_path / "h.safetensors")
    finally:
        del nn.LAYERS["TestHoldsModule"]
