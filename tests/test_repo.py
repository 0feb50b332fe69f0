"""The repository's own rules: notebooks, table of contents, setup cells,
exercises and dependencies stay consistent with each other."""

from __future__ import annotations

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


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_chapters_end_with_at_least_three_checked_exercises(nb):
    cells = load(nb)["cells"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in source(c))
    exercises = [i for i, c in enumerate(cells) if i > start and re.match(r"### Exercise \d+", source(c))]
    assert len(exercises) >= 3
    for i in exercises:
        stub, check, solution = cells[i + 1], cells[i + 2], cells[i + 3]
        # A function to write (stub raises NotImplementedError) or a value to set (None).
        assert "raise NotImplementedError" in source(stub) or re.search(
            r"^\w+ = None  # your answer", source(stub), re.M
        )
        call = source(check).strip()
        assert call.startswith("exercises.check_"), f"check cell: {call!r}"
        assert "hide-input" in solution["metadata"].get("tags", []), "the solution is hidden in the book"
        assert solution["metadata"].get("cellView") == "form", "the solution is a form cell in Colab"
        assert solution["metadata"].get("mystnb", {}).get("code_prompt_show") == "Show the solution"
        assert source(solution).startswith("#@title")
        assert call in source(solution), "the solution cell runs the check on itself"


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
    assert re.search(r"^\s*make test\s*$", ci, flags=re.M)
