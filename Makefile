# The two commands of the README:
#   make book   build the book at full settings into _build/html, with -W: a
#               cell that fails, or a sentence whose hidden claim check fails
#               (VAELIB_CLAIMS=strict), fails the build
#   make test   lint (ruff; the GitHub workflow checked offline by check-jsonschema and zizmor),
#               unit tests, every notebook (fast mode), the book build with -W (fast mode; `make
#               book`'s full build instead when it is newer than every source) and the browser check
# Both create .venv with the pinned dependencies on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test unit lint clean

$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

book: $(STAMP)
	VAELIB_CLAIMS=strict $(BIN)/jupyter-book build . --all -W --keep-going
	@echo "The book is in _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check vaelib tests benchmarks book/_ext
	$(BIN)/ruff format --check vaelib tests benchmarks book/_ext
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows

test: $(STAMP) lint
	VAELIB_FAST=1 $(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env -p no:cacheprovider

unit: $(STAMP)
	VAELIB_FAST=1 $(BIN)/python -m pytest tests -m "not browser and not slow"

clean:
	rm -rf _build
