"""The Python snippets of the README and the docs run as written."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
BLOCKS = re.findall(r"```python\n(.*?)```", open(README, encoding="utf-8").read(), flags=re.S)


def test_readme_has_python_snippets():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_snippet_runs(k, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in BLOCKS[: k + 1]:  # later snippets may use names from earlier ones
        exec(compile(block, f"README snippet {k}", "exec"), namespace)


DOCS = os.path.join(os.path.dirname(README), "docs")


@pytest.mark.parametrize("page", ["engine.md"])
def test_docs_page_snippets_run_in_a_fresh_interpreter(page, tmp_path):
    """Run in a subprocess: a page may register an op, which must not leak into other tests."""
    import subprocess
    import sys

    text = open(os.path.join(DOCS, page), encoding="utf-8").read()
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S))
    assert code
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "10.0 + 7.0ε" in p.stdout and "8.0" in p.stdout
