"""What conf.py needs besides settings: the gallery's staging, the PNG scraper and the API pages.

* :func:`stage_gallery` copies every ``examples/NN_*.py`` into ``docs/_gallery/<section>/``
  following the course's arc (units and rules -> gradients -> training -> networks ->
  playground). Each copy gets a reST title from the script's first docstring line and
  its slide notes as a literal block, so scripts keep their plain docstrings. A new
  script is picked up by the glob; it goes to the section its :data:`SECTIONS` entry or
  its name says, else to "more examples". A section's :data:`NOTES` text (the playground's
  how-to) is shown with it, even when no script is placed there.
* :class:`PngScraper` embeds the PNG files an example wrote into its OUTDIR (the
  examples save and close their figures, so matplotlib's own scraper sees none).
* :func:`reset_argv` runs every example as ``NN_name.py OUTDIR [--quick]``; quick mode
  unless ``CHAINRULE_DOCS_FULL=1``.
* :func:`write_api_pages` writes one ``api/<name>.rst`` page per subpackage and public
  module of chainrule, found with pkgutil, so new modules appear without editing docs.
"""

from __future__ import annotations

import ast
import os
import pathlib
import pkgutil
import re
import shutil

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "examples"
STAGE = DOCS / "_gallery"
FIGURES = DOCS / "_build" / "example_outputs"

#: Gallery sections in course order: (folder, title, blurb).
ARC = [
    ("01_units_and_rules", "Units and rules",
     "Threshold units, the perceptron rule and why XOR needs a hidden layer."),
    ("02_gradients", "Gradients",
     "Circuits, numerical gradients, one backprop step with every number, and Hessians for Newton's method."),
    ("03_training", "Training",
     "Optimisers, learning rates, batch sizes, shuffling, overfitting and vanishing gradients."),
    ("04_networks", "Networks",
     "Logistic and softmax networks on digits, skip-layer networks, the 11-line network, universal "
     "approximation, ALVINN, and Elman and Jordan recurrent networks."),
    ("05_playground", "Playground", "Interactive and exploratory examples."),
    ("06_more", "More examples", "Examples not yet placed on the course arc."),
]

#: Example number -> section folder (scripts whose name contains "playground" go to the playground).
SECTIONS = {
    "01": "01_units_and_rules",
    "02": "02_gradients", "03": "02_gradients", "04": "02_gradients",
    "07": "03_training", "08": "03_training", "09": "03_training", "10": "03_training", "11": "03_training",
    "05": "04_networks", "06": "04_networks", "12": "04_networks",
    "13": "04_networks", "14": "04_networks", "15": "03_training", "16": "04_networks", "17": "04_networks",
    "18": "04_networks", "19": "04_networks", "20": "02_gradients",
}

#: Text a section shows besides its scripts; a section with a note is shown even without scripts.
NOTES = {
    "05_playground": (
        "The playground is TensorFlow Playground's page trained live by chainrule in the browser: "
        "``pip install 'chainrule[playground]'`` and run ``chainrule playground`` (see the playground "
        "section of the project README and :doc:`/cli`)."),
}


def section_of(stem):
    """The gallery folder of ``examples/<stem>.py``."""
    if "playground" in stem:
        return "05_playground"
    return SECTIONS.get(stem[:2], "06_more")


def _staged_source(path):
    """The script with its docstring rewritten as a reST title plus a literal block of the rest."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    doc = ast.get_docstring(tree, clean=True) or path.stem
    first, _, rest = doc.partition("\n")
    title = _rst_text(first.strip().rstrip("."))  # e.g. |x| would be a reST substitution
    body = "".join(f"    {line}\n" if line else "\n" for line in rest.strip("\n").splitlines())
    new_doc = f"{title}\n{'=' * len(title)}\n\nThe script ``examples/{path.name}``.\n"
    if body.strip():
        new_doc += f"\n::\n\n{body}"
    node = tree.body[0]
    lines = text.splitlines(keepends=True)
    after = "".join(lines[node.end_lineno:])
    return f'"""{new_doc}"""\n{after}'


def stage_gallery():
    """Rebuild ``docs/_gallery`` from ``examples/``; returns {section folder: [script names]}."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    (STAGE / "README.txt").write_text(
        "Gallery\n=======\n\nEvery script in ``examples/``, run (in quick mode) with its printed output and "
        "figures, in the order of the course.\n", encoding="utf-8")
    placed = {}
    only = os.environ.get("CHAINRULE_DOCS_ONLY")  # e.g. "01": stage just the matching examples, for a fast look
    for path in sorted(EXAMPLES.glob("[0-9][0-9]_*.py")):
        if only and not path.stem.startswith(only):
            continue
        placed.setdefault(section_of(path.stem), []).append(path.name)
    for folder, title, blurb in ARC:
        if folder not in placed and (only or folder not in NOTES):
            continue
        target = STAGE / folder
        target.mkdir()
        note = f"\n{NOTES[folder]}\n" if folder in NOTES else ""
        (target / "README.txt").write_text(f"{title}\n{'-' * len(title)}\n\n{blurb}\n{note}", encoding="utf-8")
        for name in placed.get(folder, []):
            (target / name).write_text(_staged_source(EXAMPLES / name), encoding="utf-8")
    return placed


def quick():
    """True unless CHAINRULE_DOCS_FULL=1 asks for the examples' full sizes."""
    return os.environ.get("CHAINRULE_DOCS_FULL") != "1"


def _outdir(src_file):
    return FIGURES / pathlib.Path(src_file).stem


def reset_argv(gallery_conf, script_vars):
    """The command line each example sees: ``OUTDIR`` (and ``--quick``)."""
    out = _outdir(script_vars["src_file"])
    if out.exists():
        shutil.rmtree(out)
    return [str(out)] + (["--quick"] if quick() else [])


class PngScraper:
    """Embed the PNG files an example wrote into its OUTDIR since the previous code block."""

    def __init__(self):
        self.seen = set()

    def __repr__(self):  # sphinx-gallery compares configurations by repr
        return "PngScraper()"

    def __call__(self, block, block_vars, gallery_conf):
        from sphinx_gallery.scrapers import figure_rst

        out = _outdir(block_vars["src_file"])
        new = sorted(p for p in out.glob("*.png") if p not in self.seen) if out.exists() else []
        names = []
        for png, target in zip(new, block_vars["image_path_iterator"]):
            shutil.copyfile(png, target)
            self.seen.add(png)
            names.append(target)
        return figure_rst(names, gallery_conf["src_dir"])


def _rst_text(text):
    """Plain text made safe for reST: markup characters escaped."""
    for ch in "\\*`|_[]":
        text = text.replace(ch, "\\" + ch)
    return text


def write_ops_page():
    """Write ``api/primitive_ops.rst``: every registry op with its description (``ops.catalogue()``)."""
    from chainrule.autodiff.ops import catalogue

    rows = "".join(f"   * - ``{name}``\n     - {_rst_text(doc)}\n     - {'yes' if diff else 'no (zero gradient)'}\n"
                   for name, doc, diff in catalogue())
    page = ("Primitive ops\n=============\n\nEvery entry of ``chainrule.autodiff.ops.REGISTRY``: one forward, "
            "VJP and JVP rule each (see :doc:`../engine`).\n\n.. list-table::\n   :header-rows: 1\n   :widths: 15 70 15\n\n"
            "   * - op\n     - what it computes and its gradient\n     - differentiable\n" + rows)
    path = DOCS / "api" / "primitive_ops.rst"
    if not path.exists() or path.read_text(encoding="utf-8") != page:
        path.write_text(page, encoding="utf-8")


def _registry_entries(name):
    """reST entries for the registries a module exports (autodoc leaves module-level data out)."""
    import importlib

    from chainrule._core import Registry

    module = importlib.import_module(name)
    source = pathlib.Path(module.__file__).read_text(encoding="utf-8")
    # Registries assigned in the module itself are documented by autodoc; re-exported ones are not.
    found = [(n, getattr(module, n)) for n in getattr(module, "__all__", [])
             if isinstance(getattr(module, n, None), Registry) and not re.search(rf"^{n}\s*[:=]", source, re.M)]
    if not found:
        return ""
    text = "\nRegistries\n----------\n\nTables keyed by name; an unknown name raises an error listing the valid ones.\n"
    for attr, table in found:
        names = ", ".join(f"``{k}``" for k in sorted(table)) or "(empty)"
        text += f"\n.. py:data:: {attr}\n   :module: {name}\n\n   The {_rst_text(table.kind)} registry: {names}.\n"
    return text


def public_modules(package):
    """Names of ``package``'s public subpackages and modules (no leading underscore, no __main__)."""
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def write_api_pages(package):
    """Write ``api/<name>.rst`` for the package itself and each public submodule; returns the page names."""
    api = DOCS / "api"
    api.mkdir(exist_ok=True)
    names = [package.__name__] + [f"{package.__name__}.{m}" for m in public_modules(package)]
    for name in names:
        title = f"``{name}``"
        # The package page lists the names ``import chainrule as cr`` offers; their full
        # descriptions live on the subpackage pages, so the package page does not index them.
        extra = "   :no-index:\n" if name == package.__name__ else "   :show-inheritance:\n"
        page = f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n   :members:\n{extra}"
        if name != package.__name__:
            page += _registry_entries(name)
        path = api / f"{name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != page:  # unchanged pages keep their mtime
            path.write_text(page, encoding="utf-8")
    for old in api.glob("chainrule*.rst"):
        if old.stem not in names:
            old.unlink()
    write_ops_page()
    return names
