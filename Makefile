# Every target bootstraps .venv itself: a fresh clone needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all venv test codegen codegen-check lint demo bench bench-quick docs clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,cli]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

codegen: $(STAMP)
	$(BIN)/python codegen/generate.py

# Regenerate into a temporary directory and fail on any difference with what is committed.
codegen-check: $(STAMP)
	@tmp=$$(mktemp -d) && \
	$(BIN)/python codegen/generate.py --out $$tmp && \
	diff -r -x __pycache__ $$tmp src/instantly/_generated && \
	echo "codegen-check: src/instantly/_generated matches openapi/instantly-v2.yaml"; \
	status=$$?; rm -rf $$tmp; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests codegen openapi bench examples docs
	$(BIN)/ruff format --check src tests codegen openapi bench examples docs
	$(BIN)/mypy --strict src

# The main job end to end on the embedded mock: no account, no network beyond 127.0.0.1.
demo: $(STAMP)
	$(BIN)/instantly demo

# The API reference site, into site/ (gitignored); --strict fails on any warning (a broken link, a
# docstring the handler cannot read). The variables silence the banners some plugins print.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist site
