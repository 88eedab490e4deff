"""The package's shape: the top level holds only the planned modules, and every old import path still works."""

import importlib
import pathlib
import sys

import pytest

import chainrule as cr

PACKAGE = pathlib.Path(cr.__file__).parent

TOP_LEVEL = {"__init__", "__main__", "_core", "_version", "metrics", "explain", "sklearn",
             "autodiff", "nn", "optim", "data", "classic", "train", "callbacks", "io", "viz", "cli",
             "distributed", "playground"}

# old path -> the module it now is
OLD_PATHS = {
    "chainrule.autograd": "chainrule.autodiff.engine", "chainrule.tensor": "chainrule.autodiff.tensor",
    "chainrule.dtypes": "chainrule.autodiff.dtypes", "chainrule.functions": "chainrule.autodiff.functions",
    "chainrule.ops": "chainrule.autodiff.ops", "chainrule.ops.nn": "chainrule.autodiff.ops.nn",
    "chainrule.ops.elementwise": "chainrule.autodiff.ops.elementwise",
    "chainrule.reverse": "chainrule.autodiff.reverse", "chainrule.forward": "chainrule.autodiff.forward",
    "chainrule.numeric": "chainrule.autodiff.numeric", "chainrule.symbolic": "chainrule.autodiff.symbolic",
    "chainrule.trace": "chainrule.autodiff.trace", "chainrule.compare": "chainrule.autodiff.compare",
    "chainrule.history": "chainrule.train.history", "chainrule.checkpoint": "chainrule.train.checkpoint",
    "chainrule.restarts": "chainrule.train.restarts", "chainrule._fit_setup": "chainrule.train.setup",
    "chainrule._callback_base": "chainrule.callbacks.base", "chainrule._callbacks_files": "chainrule.callbacks.files",
    "chainrule._bundle": "chainrule.io.bundle", "chainrule.onnx": "chainrule.io.onnx",
    "chainrule.main_job": "chainrule.train.main_job",
}

# names that were importable from the old module paths that became packages
OLD_NAMES = {
    "chainrule.train": ["fit", "evaluate", "predict"],
    "chainrule.callbacks": ["Callback", "TrainContext", "Monitor", "EarlyStopping", "StopOnThreshold", "StopOnPlateau",
                            "LRScheduler", "ProgressBar", "CSVLogger", "ModelCheckpoint", "CALLBACKS", "make_callbacks"],
    "chainrule.io": ["save", "load", "read_metadata", "save_optimizer", "load_optimizer", "MODEL_FORMAT"],
}


def test_top_level_holds_only_the_planned_modules():
    found = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())}
    assert found <= TOP_LEVEL, f"unplanned top-level modules: {sorted(found - TOP_LEVEL)}"


@pytest.mark.parametrize("old, new", sorted(OLD_PATHS.items()))
def test_old_module_path_is_the_moved_module(old, new):
    assert importlib.import_module(old) is importlib.import_module(new) is sys.modules[old]


@pytest.mark.parametrize("module, names", sorted(OLD_NAMES.items()))
def test_old_names_still_import(module, names):
    mod = importlib.import_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


def test_every_public_name_imports():
    for name in cr.__all__:
        assert getattr(cr, name) is not None, name


def test_public_functions_keep_their_identity():
    assert cr.trace is sys.modules["chainrule.autodiff.trace"].trace
    assert cr.fit is cr.train.loop.fit and cr.save is cr.io.models.save
    assert cr.Tensor is sys.modules["chainrule.autodiff.tensor"].Tensor is importlib.import_module("chainrule.tensor").Tensor
