"""The examples in chainrule.data docstrings run and print what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import chainrule.data

MODULES = sorted(
    name for _, name, _ in pkgutil.iter_modules(chainrule.data.__path__, prefix="chainrule.data.")
) + ["chainrule.data"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_api_is_exported_and_documented():
    for name in chainrule.data.__all__:
        obj = getattr(chainrule.data, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


ENGINE = ("chainrule.autodiff.tensor", "chainrule.autodiff.engine", "chainrule.autodiff.ops", "chainrule.nn", "from .. import")


def test_data_package_does_not_import_the_engine():
    for module in MODULES:
        with open(importlib.import_module(module).__spec__.origin, encoding="utf-8") as handle:
            text = handle.read()
        assert not [word for word in ENGINE if word in text], module
