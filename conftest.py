"""Rules for the whole tree: what needs an optional extra is skipped, with a reason, when the extra is absent.

Two mechanisms, both inert when every extra is installed:

* ``collect_ignore``: ``--doctest-modules`` imports every module under src/chainrule,
  and a module that cannot even be imported without its extra (chainrule.sklearn)
  would fail collection, so it is left out when that extra is missing.
* a report hook: a test (or docstring example) that fails only because an optional
  package is not installed is reported as skipped, naming the package. It fires only
  for packages that really are absent, so with the extras installed nothing is masked.
"""

import doctest
import importlib.util

import pytest

#: Optional extras (import names) and the chainrule[...] extra that installs each.
OPTIONAL = {"sklearn": "sklearn", "safetensors": "io", "matplotlib": "plot", "sympy": "symbolic", "onnx": "onnx",
            "onnxruntime": "onnx", "scipy": "classic", "torch": "torch (oracle tests)", "numba": "numba"}
ABSENT = {name for name in OPTIONAL if importlib.util.find_spec(name) is None}

# Modules that cannot be imported at all without their extra.
collect_ignore = [path for path, name in {"src/chainrule/sklearn": "sklearn",
                                         "src/chainrule/autodiff/ops/recurrent_numba.py": "numba"}.items()
                  if name in ABSENT]


def missing_extra(exc):
    """The absent optional package that made ``exc`` happen (following causes and contexts), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, doctest.UnexpectedException):
            exc = exc.exc_info[1]
            continue
        if isinstance(exc, ImportError):
            name = (exc.name or "").split(".")[0]
            if name in ABSENT:
                return name
            mentioned = [n for n in ABSENT if n in str(exc)]
            if mentioned:
                return mentioned[0]
        exc = exc.__cause__ or exc.__context__
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        name = missing_extra(call.excinfo.value)
        if name is not None:
            report.outcome = "skipped"
            reason = f"needs {name} (the chainrule[{OPTIONAL[name]}] extra), which is not installed"
            report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")
