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

.PHONY: book test unit lint clean fork student student-book grade claims-report

# pip byte-compiles every module it installs (about 25 s of the 2 minutes this takes on 2
# cores), and that is time well spent: where PYTHONDONTWRITEBYTECODE is set, as on this
# project's machines, Python would otherwise compile torch's modules again in every kernel
# it starts (with --no-compile, chapters 1 to 3 took 128, 11 and 9 s in a CI run, not 105,
# 7 and 6 s).
$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Where PYTHONDONTWRITEBYTECODE is set, vaelib (installed in place, -e) would be compiled
# again by every kernel and process that imports it (each chapter's kernel, each model
# trained side by side, each graded notebook), about half a second each: compiled here
# once instead (a file edited since is compiled again on import, as before).
COMPILE_VAELIB := $(BIN)/python -m compileall -q vaelib

book: $(STAMP)
	$(COMPILE_VAELIB)
	VAELIB_CLAIMS=strict $(BIN)/jupyter-book build . --all -W --keep-going
	@echo "The book is in _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check vaelib tests benchmarks tools book/_ext
	$(BIN)/ruff format --check vaelib tests benchmarks tools book/_ext
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows

test: $(STAMP) lint
	$(COMPILE_VAELIB)
	VAELIB_FAST=1 $(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env -p no:cacheprovider --durations=15

unit: $(STAMP)
	VAELIB_FAST=1 $(BIN)/python -m pytest tests -m "not browser and not slow"

# A teacher's fork: `make fork REPOSITORY=owner/name TITLE="..." AUTHOR="..."` (README,
# "Publish your own copy").  Plain python3: it runs before any environment exists.
fork:
	@test -n "$(REPOSITORY)" || { echo 'usage: make fork REPOSITORY=owner/name [TITLE="..."] [AUTHOR="..."]' >&2; exit 2; }
	$(PYTHON) tools/fork.py "$(REPOSITORY)" $(if $(TITLE),--title "$(TITLE)") $(if $(AUTHOR),--author "$(AUTHOR)")

# The student edition: every chapter without its solutions, in _student/ (README, "For teachers").
student:
	$(PYTHON) tools/student_edition.py --out _student

student-book: $(STAMP) student
	VAELIB_CLAIMS=strict $(BIN)/jupyter-book build _student --all -W --keep-going
	touch _student/_build/html/.nojekyll  # served as is, should a host run Jekyll (GitHub Pages from a branch)
	@echo "The student edition's site is in _student/_build/html/index.html"

# Grade a folder of students' notebooks (it runs their code: no sandbox).
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo 'usage: make grade SUBMISSIONS=folder [OUT=grades.csv] [ARGS="--full --jobs 2"]' >&2; exit 2; }
	$(BIN)/python tools/grade.py "$(SUBMISSIONS)" --out "$(or $(OUT),grades.csv)" $(ARGS)

# Every sentence that no longer holds at the settings in force (course.toml), listed, not
# stopped at: chapter, sentence, measured value (README, "For teachers").
claims-report: $(STAMP)
	$(BIN)/python tools/claims_report.py $(CHAPTERS) --out _build/claims_report.csv

clean:
	rm -rf _build _student
