"""The public surface of chainrule.classic: exports, examples, independence."""

import ast
import doctest
import importlib
import pathlib
import sys

import pytest

import chainrule.classic as classic

PACKAGE_DIR = pathlib.Path(classic.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__")
STDLIB = set(sys.stdlib_module_names)


def test_all_lists_exactly_the_public_names():
    public = {name for name in vars(classic) if not name.startswith("_")}
    public -= {m for m in MODULES}  # submodules appear as attributes once imported
    assert sorted(classic.__all__) == sorted(public)
    assert len(set(classic.__all__)) == len(classic.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    if module == "separability":
        pytest.importorskip("scipy", reason="telling separable from not needs the classic extra (scipy)")
    mod = importlib.import_module(f"chainrule.classic.{module}")
    failures, _ = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert failures == 0


@pytest.mark.parametrize("module", MODULES + ["__init__"])
def test_imports_only_numpy_scipy_stdlib_siblings_or_core(module):
    tree = ast.parse((PACKAGE_DIR / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            # Siblings, or the package's NumPy-only core of shared checks and seeds; never the engine.
            shared_core = node.level == 2 and node.module == "_core"
            assert node.level == 1 or shared_core, f"{module} reaches outside classic: {ast.unparse(node)}"
            continue
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            top = name.split(".")[0]
            assert top in STDLIB or top in {"numpy", "scipy"}, f"{module} imports {name}"
