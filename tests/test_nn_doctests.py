"""The examples in chainrule.nn and chainrule.optim docstrings run and print what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import chainrule.nn
import chainrule.optim

MODULES = sorted(
    name
    for package in (chainrule.nn, chainrule.optim)
    for _, name, _ in pkgutil.iter_modules(package.__path__, prefix=package.__name__ + ".")
) + ["chainrule.nn", "chainrule.optim"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("package", [chainrule.nn, chainrule.optim], ids=["nn", "optim"])
def test_public_api_is_exported_and_documented(package):
    for name in package.__all__:
        obj = getattr(package, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name
