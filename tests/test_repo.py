"""The repository's own rules: notebooks, table of contents, setup cells,
exercises and dependencies stay consistent with each other."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml
from conftest import REPO

NOTEBOOKS = sorted((REPO / "book").glob("*.ipynb"))
CHAPTERS = [nb for nb in NOTEBOOKS if re.match(r"\d\d_", nb.name)]


def load(nb: Path) -> dict:
    return json.loads(nb.read_text())


def config() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text())


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            for part in entry.get("chapters", []) if "chapters" in entry else []:
                walk([part])

    walk(toc.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    return files


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found in book/"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(nb):
    for cell in load(nb)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{nb.name} has outputs; strip them (e.g. `jupyter nbconvert --clear-output`)"
            )


def test_every_page_is_in_the_toc_and_every_entry_exists():
    entries = toc_files()
    pages = {
        str(p.relative_to(REPO).with_suffix("")) for p in (REPO / "book").glob("*") if p.suffix in {".md", ".ipynb"}
    }
    assert pages == set(entries), (
        f"in book/ but not in _toc.yml: {pages - set(entries)}; in _toc.yml but missing: {set(entries) - pages}"
    )
    assert len(entries) == len(set(entries)), "a page is listed twice in _toc.yml"


def test_config_keeps_build_artifacts_and_readme_out_of_the_book():
    excluded = config()["exclude_patterns"]
    for pattern in ["_build", ".venv", ".pytest_cache", "README.md"]:
        assert pattern in excluded
    assert config()["only_build_toc_files"] is True


def test_the_theme_gets_no_top_navbar_and_keeps_the_buttons():
    """`navbar_persistent: []` (no top bar holding a second search field, sphinx-book-theme
    issue 986) reaches Sphinx merged into, not replacing, the theme options Jupyter Book
    derives from _config.yml: the Colab and repository buttons stay."""
    from jupyter_book.config import get_final_config

    sphinx, _ = get_final_config(
        user_yaml=config(), cli_config={"latex_individualpages": False}, sourcedir=REPO, raise_on_invalid=True
    )
    options = sphinx["html_theme_options"]
    assert options["navbar_persistent"] == []
    assert options["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert options["repository_url"] == config()["repository"]["url"]
    assert options["use_repository_button"] is True and options["use_issues_button"] is True
    assert sphinx["nb_ipywidgets_js"] == {}, "the merge brought back widget scripts from a CDN"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_the_first_code_cell_installs_vaelib_from_the_book_repository_in_colab(nb):
    url = config()["repository"]["url"]
    first = next(c for c in load(nb)["cells"] if c["cell_type"] == "code")
    text = source(first)
    assert '"google.colab" in sys.modules' in text
    assert f"git+{url}" in text, f"the setup cell of {nb.name} must install from {url}"


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapters_follow_the_skeleton(nb):
    cells = load(nb)["cells"]
    markdown = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    assert source(cells[0]).startswith("# "), "a chapter starts with its title"
    headings = re.findall(r"^## (.+)$", markdown, flags=re.M)
    for required in ["Overview", "Prerequisites", "Summary", "Exercises"]:
        assert required in headings, f"{nb.name} lacks a '## {required}' section"
    assert (
        headings.index("Overview")
        < headings.index("Prerequisites")
        < headings.index("Summary")
        < headings.index("Exercises")
    )


KINDS = ("implement", "derive", "predict")


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapters_end_with_checked_exercises_of_three_kinds(nb):
    cells = load(nb)["cells"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in source(c))
    assert "★" in source(cells[start]) and "_solution" in source(cells[start]), "the exercises are introduced"
    headings = [i for i, c in enumerate(cells) if i > start and re.match(r"### Exercise \d+", source(c))]
    assert len(headings) >= 3
    kinds = set()
    for i in headings:
        heading = source(cells[i]).splitlines()[0]
        label = re.match(r"### Exercise \d+( ★)? \((implement|derive|predict|read a figure), \d+ min\): \S", heading)
        assert label, f"{nb.name}: {heading!r} says its kind and its time"
        kinds.add(label[2])
        stub, check, solution = cells[i + 1], cells[i + 2], cells[i + 3]
        # A function or class to write (its body raises NotImplementedError) or a value to set (None).
        assert "raise NotImplementedError" in source(stub) or re.search(
            r"^\w+ = None  # your answer", source(stub), re.M
        )
        call = source(check).strip()
        assert call.startswith("exercises.check_"), f"check cell: {call!r}"
        answer = re.match(r"exercises\.check_\w+\(\s*(\w+)", call)[1]
        # The solution: hidden in the book (a toggle), in Colab (a form) and in JupyterLab (collapsed) ...
        assert "hide-input" in solution["metadata"].get("tags", []), "the solution is hidden in the book"
        assert solution["metadata"].get("cellView") == "form", "the solution is a form cell in Colab"
        assert solution["metadata"].get("jupyter", {}).get("source_hidden") is True, "collapsed in JupyterLab"
        assert solution["metadata"].get("mystnb", {}).get("code_prompt_show") == "Show the solution"
        assert source(solution).startswith("#@title")
        # ... and under its own name, so that running all cells never overwrites the student's answer.
        names = {answer} & set(re.findall(r"^(?:def |class )?(\w+)\b(?: =|\()", source(solution), re.M))
        assert not names, f"the solution redefines the student's {names}"
        defined = _top_level_names(source(solution))
        for name in _top_level_names(source(stub)):
            own = f"{name}Solution" if name[0].isupper() else f"{name}_solution"  # a class, or a function
            assert own in defined, f"{nb.name}: the solution does not define {own}"
    assert set(KINDS) <= kinds, f"{nb.name} has exercises of the kinds {sorted(kinds)}"


def _top_level_names(code: str) -> set[str]:
    """The names a cell defines at its top level: functions, classes, assigned variables."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def solution_cells(nb: Path) -> list[dict]:
    """The hidden solution cells of a chapter's Exercises section."""
    return [c for c in load(nb)["cells"] if c["cell_type"] == "code" and "hide-input" in c["metadata"].get("tags", [])]


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_solution_cells_show_nothing_when_a_student_runs_all_cells(nb):
    """Under "Run all" (Colab, JupyterLab) the solutions run, and their outputs stay visible with
    the code folded: a solution only defines its answer, `..._solution`. It runs no check (a
    "passed." under the exercise's own name, beside the student's failing check), prints no
    measurement (the answer to a predict exercise, a derivation's value) and displays no value."""
    cells = solution_cells(nb)
    assert cells, f"{nb.name} has no solution cells"
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    for cell in cells:
        text = source(cell)
        assert "exercises.check_" not in text, f"{nb.name}: a solution runs its check:\n{text}"
        assert not re.search(r"\b(print|display)\(|plotting\.|widgets\.", text), f"{nb.name}: a solution shows:\n{text}"
        shown = [node for node in ast.parse(text).body if not isinstance(node, allowed)]
        assert not shown, f"{nb.name}: a solution statement that may show a value: {ast.unparse(shown[0])}"


_MODULES = {"math": "import math", "F": "import torch.nn.functional as F", "nn": "import torch.nn as nn"}


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_the_modules_an_exercise_needs_are_imported_before_its_check_runs(nb):
    """A student's answer runs in the check cell: whatever module the exercise's solution uses
    (math, F, nn) must be imported before that, by the chapter's setup or a cell the student runs
    on the way (a stub), never only by a solution or a later cell."""
    cells, solutions = load(nb)["cells"], solution_cells(nb)
    run_by_the_student = [
        c
        for c in cells
        if c["cell_type"] == "code" and c not in solutions and "remove-cell" not in c["metadata"].get("tags", [])
    ]
    for i, cell in enumerate(cells):
        if cell not in solutions:
            continue
        check = i - 1
        before = "\n".join(source(c) for c in cells[:check] if c in run_by_the_student)
        for alias, statement in _MODULES.items():
            if re.search(rf"(?<![\w.]){alias}\.", source(cell)):
                assert re.search(rf"^{re.escape(statement)}$", before, re.M), (
                    f"{nb.name}: {source(cells[check]).strip()!r} runs code that needs `{statement}`, "
                    "which no cell before it runs: import it in the chapter's setup"
                )


def test_notebooks_do_not_read_environment_variables():
    for nb in CHAPTERS:
        for cell in load(nb)["cells"]:
            assert "os.environ" not in source(cell) and "getenv" not in source(cell), nb.name


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ \[;]", r.strip(), maxsplit=1)[0].lower() for r in requirements if r.strip()}


def test_environment_yml_names_every_runtime_dependency():
    runtime = _names(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = []
    for dep in env["dependencies"]:
        listed.extend(dep["pip"] if isinstance(dep, dict) else [dep])
    missing = runtime - _names(str(d) for d in listed)
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_package_metadata_stays_loose_for_colab():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        assert "==" not in dep and "<" not in dep, f"{dep}: an upper pin would replace what Colab ships"
    assert "torch>=2.1" in deps


def test_development_dependencies_are_pinned():
    lines = [line.split("#")[0].strip() for line in (REPO / "requirements-dev.txt").read_text().splitlines()]
    pins = [line for line in lines if line]
    assert all("==" in pin for pin in pins), "every development dependency is pinned with =="
    for pin in ["torch==2.14.1", "torchvision==0.29.1", "jupyter-book==1.0.4.post1"]:
        assert pin in pins
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    env_pins = {d for dep in env["dependencies"] if isinstance(dep, dict) for d in dep["pip"]}
    assert set(pins) <= env_pins, f"environment.yml differs from requirements-dev.txt: {set(pins) - env_pins}"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^\s*(VAELIB_BOOK_BUILT_FIRST=true )?make test\s*$", ci, flags=re.M)
    # ... and builds the whole book at full settings, where the claim cells run, strictly.
    # (its log goes to benchmarks/chapter_times.py, which reports each chapter's time)
    assert re.search(r"^\s*make book( 2>&1 \| tee \"\$book_log\")?\s*$", ci, flags=re.M)
    makefile = (REPO / "Makefile").read_text()
    book_recipe = makefile.split("\nbook:", 1)[1].split("\n\n", 1)[0]
    assert "VAELIB_CLAIMS=strict" in book_recipe and " -W" in book_recipe


# Characters of DejaVu Sans Mono (14 px) that fit in a code cell of the
# rendered book at a laptop width of 1280 px, measured in headless Chromium:
# 77 in a code cell, 75 in a solution cell (its toggle takes some width).
# The browser check asserts the same on the built pages.
CODE_WIDTH, SOLUTION_WIDTH = 77, 75


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_the_page_column_without_scrolling_sideways(nb):
    too_long = []
    for cell in load(nb)["cells"]:
        tags = cell["metadata"].get("tags", [])
        if cell["cell_type"] != "code" or "remove-cell" in tags:
            continue
        width = SOLUTION_WIDTH if "hide-input" in tags else CODE_WIDTH
        too_long += [line for line in source(cell).splitlines() if len(line) > width]
    assert too_long == [], f"{nb.name}: lines wider than the page's code column:\n" + "\n".join(too_long)


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_sentences_that_read_outputs_are_held_by_hidden_claim_cells(nb):
    """Each chapter checks its readings of the outputs in cells the page removes
    (tag remove-cell), which Colab folds (a form) and JupyterLab collapses."""
    cells = load(nb)["cells"]
    hidden = [c for c in cells if "remove-cell" in c["metadata"].get("tags", [])]
    checks = sum(source(c).count("claims.check(") for c in hidden)
    assert len(hidden) >= 2 and checks >= 4, f"{nb.name}: {len(hidden)} claim cells, {checks} checks"
    for cell in hidden:
        text = source(cell)
        assert cell["cell_type"] == "code" and text.startswith("#@title Claims"), text[:80]
        assert "claims.check(" in text, "a removed cell does nothing but check claims"
        assert "\n@claims.at_full_settings\ndef " in text, "claims run only at full settings (not in fast mode)"
        assert cell["metadata"].get("cellView") == "form"
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True
        assert "print(" not in text and "plotting." not in text, "claim cells show nothing"
    first_claim = next(i for i, c in enumerate(cells) if c in hidden)
    imports = "".join(source(c) for c in cells[:first_claim] if c["cell_type"] == "code")
    assert re.search(r"from vaelib import [^\n]*\bclaims\b", imports), f"{nb.name} imports claims before using it"


def _captions() -> dict[str, list[str]]:
    """Each chapter's figure captions, in page order."""
    found = {}
    for nb in CHAPTERS:
        found[nb.name] = [
            c["metadata"]["mystnb"]["figure"]["caption"]
            for c in load(nb)["cells"]
            if c["cell_type"] == "code" and "figure" in c["metadata"].get("mystnb", {})
        ]
    return found


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_has_alt_text_and_a_numbered_caption_the_text_refers_to(nb):
    chapter = int(nb.name[:2])
    cells = load(nb)["cells"]
    figures = [c for c in cells if c["cell_type"] == "code" and re.search(r"\b(plotting|widgets)\.", source(c))]
    assert figures, f"{nb.name} has no figures"
    for cell in figures:
        options = cell["metadata"].get("mystnb", {})
        alt = options.get("image", {}).get("alt", "")
        assert len(alt) > 20 and not re.search(r"\.(png|svg)\b|_images/", alt), f"alt text of {source(cell)[:60]!r}"
        assert "caption" in options.get("figure", {}), f"no caption for {source(cell)[:60]!r}"
        # myst-nb captions every displayed output of the cell: a training progress bar there
        # would get the figure's caption too.
        assert "train.fit(" not in source(cell) or "progress=False" in source(cell), source(cell)[:60]
    numbers = [re.match(r"Figure (\d+)\.(\d+): \S", caption) for caption in _captions()[nb.name]]
    assert all(numbers), _captions()[nb.name]
    assert [(int(m[1]), int(m[2])) for m in numbers] == [(chapter, k) for k in range(1, len(numbers) + 1)]
    text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    for k in range(1, len(numbers) + 1):
        assert f"Figure {chapter}.{k}" in text, f"the text of {nb.name} never refers to Figure {chapter}.{k}"
    existing = {caption.split(":")[0] for captions in _captions().values() for caption in captions}
    for reference in set(re.findall(r"Figure \d+\.\d+", text)):
        assert reference in existing, f"{nb.name} refers to {reference}, which no chapter has"


def test_the_chapter_time_report_reads_the_build_log_and_marks_the_budgets(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("chapter_times", REPO / "benchmarks" / "chapter_times.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    log = tmp_path / "book.log"
    log.write_text(
        "/x/book/01_autoencoders.ipynb: Executing notebook using local CWD [mystnb]\n"
        "/x/book/01_autoencoders.ipynb: Executed notebook in 113.75 seconds [mystnb]\n"
        "/x/book/06_beta_vae.ipynb: Executed notebook in 181.00 seconds [mystnb]\n"
    )
    assert report.main([str(log)]) == 0, "without --strict the report only informs"
    out = capsys.readouterr().out
    assert "01_autoencoders.ipynb" in out and "113.8 s" in out
    assert re.search(r"06_beta_vae.ipynb +181.0 s  over 180 s", out)
    assert report.main([str(log), "--strict"]) == 1
    log.write_text("/x/book/02_gaussians.ipynb: Executed notebook in 4.5 seconds [mystnb]\n")
    assert report.main([str(log), "--strict"]) == 0
    log.write_text("nothing executed\n")
    assert report.main([str(log)]) == 1


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapters_that_train_flush_denormals_once_before_any_computation(nb):
    """settings.flush_denormals() reaches PyTorch's worker threads only if called before they start."""
    code = [source(c) for c in load(nb)["cells"] if c["cell_type"] == "code"]
    whole = "\n".join(code)
    trains = any(word in whole for word in ("train.fit(", "recipes.", "betavae.train", "classifier.judge("))
    calls = whole.count("settings.flush_denormals()")
    if not trains:
        assert calls == 0, f"{nb.name} trains nothing: flushing denormals buys it nothing"
        return
    setup = code[1]  # after the Colab install cell
    assert calls == 1 and "settings.flush_denormals()" in setup, f"{nb.name}: call it once, in the setup cell"
    before = setup.split("settings.flush_denormals()")[0]
    assert "data.load(" not in before and "sprites." not in before, f"{nb.name}: flush before any computation"
