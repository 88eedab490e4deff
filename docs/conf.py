"""Sphinx configuration: furo theme, autodoc + napoleon API pages, a sphinx-gallery of examples/, MyST pages.

Build with ``make docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``).
The gallery runs every example in quick mode; ``CHAINRULE_DOCS_FULL=1`` runs them at full size.
"""

import os
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path.insert(0, os.path.join(ROOT, "src"))  # document this checkout, installed or not
sys.path.insert(0, os.path.join(ROOT, "examples"))  # the examples import their _common helpers
sys.path.insert(0, DOCS)

import chainrule  # noqa: E402
import sphinx_support  # noqa: E402

project = "chainrule"
author = "the chainrule developers"
copyright = "chainrule developers"
release = version = chainrule.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_gallery", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/**/*.ipynb", "auto_examples/*.py", "auto_examples/**/*.py"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "config.cache"]  # the gallery settings hold functions

html_theme = "furo"
html_title = f"chainrule {release}"

# API pages: one per subpackage / public module, written fresh on every build.
API_PAGES = sphinx_support.write_api_pages(chainrule)
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Shapes", "notes_style"), ("Call", "notes_style"), ("Slides", "notes_style")]
napoleon_use_ivar = True  # "Attributes:" as fields, so NamedTuple fields are not described twice


def _skip_foreign(app, what, name, obj, skip, options):
    """Leave out members a base class from another library generates (scikit-learn's set_*_request)."""
    module = getattr(obj, "__module__", "") or ""
    return True if module.startswith("sklearn") else None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign)

# The gallery: examples/ staged into course sections (see sphinx_support.stage_gallery).
GALLERY = sphinx_support.stage_gallery()
sphinx_gallery_conf = {
    "examples_dirs": os.path.join("_gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/[0-9][0-9]_",
    "ignore_pattern": r"_common\.py",
    "reset_argv": sphinx_support.reset_argv,
    "image_scrapers": (sphinx_support.PngScraper(),),
    "subsection_order": [os.path.join("_gallery", folder) for folder, _, _ in sphinx_support.ARC],
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1e9,
    "write_computation_times": False,
}
