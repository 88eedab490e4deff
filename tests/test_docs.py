"""The documentation site: every tutorial's code runs as written, and the Sphinx build passes with warnings as errors."""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TUTORIALS = sorted(p.name for p in (DOCS / "tutorials").glob("*.md") if p.name != "index.md")
#: Optional packages a page needs beyond the ones its code imports by name.
NEEDS = {"cli_data.md": ["safetensors"], "rnn_cnn.md": ["sklearn"], "four_gradients.md": ["sympy"],
         "interop.md": ["torch", "onnx", "onnxruntime", "sklearn"]}
OPTIONAL = {"torch", "onnx", "onnxruntime", "sklearn", "sympy", "safetensors", "matplotlib", "scipy"}


def _code(page):
    return "\n".join(re.findall(r"```python\n(.*?)```", (DOCS / "tutorials" / page).read_text(encoding="utf-8"), flags=re.S))


def _missing(page, code):
    imported = {m.split(".")[0] for m in re.findall(r"^\s*(?:from|import)\s+([\w.]+)", code, flags=re.M)}
    wanted = (imported & OPTIONAL) | set(NEEDS.get(page, []))
    return sorted(m for m in wanted if importlib.util.find_spec(m) is None)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def test_the_seven_tutorials_exist_and_are_listed():
    assert len(TUTORIALS) >= 7
    index = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    assert all(page[:-3] in index for page in TUTORIALS)


@pytest.mark.parametrize("page", TUTORIALS)
def test_tutorial_code_runs_in_a_fresh_interpreter(page, tmp_path):
    code = _code(page)
    assert code.count("\n") > 10, f"{page} has almost no code"
    missing = _missing(page, code)
    if missing:
        pytest.skip(f"{page} needs {', '.join(missing)}, which is not installed")
    p = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]


@pytest.mark.slow
def test_sphinx_build_passes_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "furo", "sphinx_gallery", "myst_parser", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the docs build needs {module} (pip install chainrule[docs]), which is not installed")
    out = tmp_path / "html"
    p = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
                       capture_output=True, text=True, env=_env(), timeout=900)
    assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:])
    for page in ["index", "slides", "api/index", "api/chainrule.nn", "auto_examples/index",
                 *(f"tutorials/{t[:-3]}" for t in TUTORIALS)]:
        assert (out / f"{page}.html").is_file(), page
    examples = sorted(p.stem for p in (ROOT / "examples").glob("[0-9][0-9]_*.py"))
    rendered = {p.stem for p in (out / "auto_examples").rglob("[0-9][0-9]_*.html")}
    assert set(examples) <= rendered
    assert any((out / "_images").glob("sphx_glr_01_*_001.png")), "the examples' figures are not in the gallery"
    _every_public_name_is_on_its_page(out)


def _every_public_name_is_on_its_page(out):
    """Every class, function and registry a subpackage exports has an entry on its API page."""
    import importlib
    import inspect

    from chainrule._core import Registry

    sys.path.insert(0, str(ROOT / "src"))
    for page in (out / "api").glob("chainrule.*.html"):
        module = importlib.import_module(page.stem)
        ids = set(re.findall(r'id="(chainrule\.[\w.]+)"', page.read_text(encoding="utf-8")))
        names = [n for n in getattr(module, "__all__", [])
                 if inspect.isclass(obj := getattr(module, n, None)) or inspect.isfunction(obj) or isinstance(obj, Registry)]
        missing = [n for n in names if f"{page.stem}.{n}" not in ids]
        assert not missing, f"{page.name} does not document {missing}"


def test_every_example_has_its_place_on_the_course_arc():
    sys.path.insert(0, str(DOCS))
    import sphinx_support

    placed = {p.stem[:2]: sphinx_support.section_of(p.stem) for p in (ROOT / "examples").glob("[0-9][0-9]_*.py")}
    assert "06_more" not in placed.values(), "an example is not on the course arc (docs/sphinx_support.SECTIONS)"
    assert placed["13"] == placed["14"] == placed["16"] == placed["17"] == placed["18"] == placed["19"] == "04_networks"
    assert placed["15"] == "03_training" and placed["20"] == "02_gradients"
    assert sphinx_support.section_of("20_playground_tour") == "05_playground"
    assert set(sphinx_support.NOTES) <= {folder for folder, _, _ in sphinx_support.ARC}
