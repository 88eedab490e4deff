"""Packaging promises: a NumPy-only import, a complete top-level namespace, entry points."""

import subprocess
import sys

import chainrule as cr

OPTIONAL = ("sklearn", "scipy", "sympy", "matplotlib", "safetensors", "torch", "onnx", "onnxruntime", "click", "tqdm")


def test_import_needs_only_numpy():
    code = "import sys, chainrule; print(','.join(m for m in %r if m in sys.modules))" % (OPTIONAL,)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import chainrule pulled in optional packages: {out}"


def test_every_name_in_all_exists():
    missing = [n for n in cr.__all__ if not hasattr(cr, n)]
    assert not missing


def test_subpackages_are_reachable_from_the_top():
    assert cr.nn.MLP and cr.optim.SGD and cr.data.load_dataset and cr.classic.Perceptron
    assert cr.explain is not None and cr.__version__.count(".") == 2
