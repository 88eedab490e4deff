# `make run` trains on a built-in data set; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean docs

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/pip install --quiet torch==2.13.0 || echo "torch 2.13.0 not available: oracle tests will be skipped"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chainrule train digits --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info

# The documentation site (needs the docs extra: pip install -e ".[docs]"); warnings are errors.
docs: $(STAMP)
	$(BIN)/pip install --quiet -e ".[docs]"
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html
