"""A teacher's tools: the student edition (tools/student_edition.py) and the grader
(tools/grade.py), on the book's own notebooks and on made-up submissions."""

from __future__ import annotations

import ast
import csv
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import chapters  # noqa: E402
import grade  # noqa: E402
import student_edition  # noqa: E402

BOOK = {number: chapters.read(path) for number, path in chapters.chapters().items()}


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    student_edition.write_edition(out)
    return out


def _solution_lines(cell: dict) -> set[str]:
    """The lines of a solution cell that only a solution has (not its title, comments or imports)."""
    lines = set()
    for line in chapters.source(cell).splitlines():
        code = line.split("#")[0].strip()
        if len(code) > 12 and not code.startswith(("import ", "from ")):
            lines.add(code)
    return lines


def test_the_student_edition_has_no_solution_anywhere(edition):
    for number, original in BOOK.items():
        name = chapters.chapters()[number].name
        student = chapters.read(edition / "book" / name)
        text = "\n".join(chapters.source(c) for c in student["cells"])
        assert not any(chapters.is_solution(c) for c in student["cells"]), name
        assert not re.search(r"\w_solution\b|\wSolution\b", text), f"{name} names a solution"
        rest = "\n".join(chapters.source(c) for c in original["cells"] if not chapters.is_solution(c))
        for solution in (c for c in original["cells"] if chapters.is_solution(c)):
            only = _solution_lines(solution) - _solution_lines({"source": rest})
            leaked = only & _solution_lines({"source": text})
            assert only and not leaked, f"{name}: lines that only a solution has are in the edition: {leaked}"
        said = [m.group(0) for m in re.finditer(r"[^.]*solution[^.]*", text, re.I)]
        assert [" ".join(m.split()) for m in said] == ["This edition has no solutions"], f"{name}: {said}"
        assert "CC BY 4.0" in chapters.source(student["cells"][0]), f"{name}: its title cell names the licences"
        kept = [c["id"] for c in original["cells"] if not chapters.is_solution(c)]
        assert [c["id"] for c in student["cells"]] == kept, f"{name}: every other cell is the book's, in order"
        assert [e.check_id for e in chapters.exercises(student)] == [e.check_id for e in chapters.exercises(original)]
    assert (edition / "LICENSE").exists() and (edition / "LICENSE-TEXT.md").exists()
    intro = (edition / "book" / "intro.md").read_text()
    assert "hidden solution" not in intro and "student edition" in intro and "For teachers" not in intro
    assert "rocket" not in intro and "Clone the repository" not in intro, "no way that leads to the solutions"
    config = yaml.safe_load((edition / "_config.yml").read_text())
    assert config["title"].endswith("(student edition)") and "launch_buttons" not in config
    assert not config["html"]["use_repository_button"] and config["html"]["use_download_button"]
    toc = (edition / "_toc.yml").read_text()
    assert "10_for_teachers" not in toc and not (edition / "book" / "10_for_teachers.md").exists()
    assert toc == (REPO / "_toc.yml").read_text().replace("  - file: book/10_for_teachers\n", "")


def test_the_edition_drops_only_the_claims_that_state_a_solution():
    code = (
        'def f():\n    claims.check(a, "kept", 1)\n    best = max(t)\n'
        '    claims.check(\n        best == b, "Exercise 3\'s solution: X", 2)\n'
    )
    assert student_edition._without_solution_claims(code) == 'def f():\n    claims.check(a, "kept", 1)\n'


# -- the grader, on made-up submissions of chapter 2 and on the whole student edition -----------


def _defined(code: str) -> list[tuple[str, bool]]:
    """What an answer cell defines: (name, is a function or class)."""
    found = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.append((node.name, True))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found.append((node.targets[0].id, False))
    return found


def _answered(notebook: dict, answer) -> dict:
    """``notebook`` (the student edition's) with each answer cell's source replaced by ``answer(exercise, cell)``."""
    notebook = json.loads(json.dumps(notebook))
    cells = {c["id"]: c for c in notebook["cells"]}
    for exercise in chapters.exercises(notebook):
        cells[exercise.answer_id]["source"] = answer(exercise, chapters.source(cells[exercise.answer_id]))
    return notebook


def _right(original: dict):
    solutions = {e.answer_id: chapters.source(next(c for c in original["cells"] if c["id"] == e.solution_id))
                 for e in chapters.exercises(original)}  # fmt: skip

    def answer(exercise, _):
        code = solutions[exercise.answer_id].split("\n", 1)[1]  # without its "#@title Solution" line
        return re.sub(r"(\w)_solution\b|(\w)Solution\b", r"\1\2", code)

    return answer


def _wrong(exercise, stub):
    lines = [f"def {n}(*args, **kwargs):\n    return None" if f else f"{n} = 'no idea'" for n, f in _defined(stub)]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, edition) -> dict[str, list[dict]]:
    """The grader's rows, by student, for a folder of made-up submissions."""
    folder = tmp_path_factory.mktemp("submissions")
    name = chapters.chapters()["02"].name
    book, student = BOOK["02"], chapters.read(edition / "book" / name)
    first = chapters.exercises(student)[0]

    def hand_in(who: str, notebook: dict) -> None:
        chapters.write(notebook, folder / who / name)

    hand_in("all_right", _answered(student, _right(book)))
    hand_in("all_wrong", _answered(student, _wrong))
    hand_in("syntax", _answered(student, lambda e, s: "def broken(:\n    pass" if e == first else s))
    hand_in("loops", _answered(student, lambda e, s: "while True:\n    pass" if e == first else s))
    deleted = json.loads(json.dumps(student))
    second, third, fourth = chapters.exercises(student)[1:4]
    deleted["cells"] = [c for c in deleted["cells"] if c["id"] != second.check_id]
    ids = [c["id"] for c in deleted["cells"]]
    a, b = ids.index(third.answer_id), ids.index(fourth.answer_id)
    cells = deleted["cells"]
    deleted["cells"] = cells[:a] + cells[b : b + 2] + cells[a:b] + cells[b + 2 :]  # exercise 4 before 3
    hand_in("deleted_and_moved", deleted)
    hand_in("solution_left_in", _answered(book, lambda e, s: s))
    no_ids = json.loads(json.dumps(_answered(student, _right(book))))
    for cell in no_ids["cells"]:
        del cell["id"]  # as a notebook saved in nbformat 4.4, or pasted into a new one
    no_ids["nbformat_minor"] = 4
    hand_in("no_ids", no_ids)
    (folder / "not_a_notebook_02_gaussians.ipynb").write_text("this is not JSON")
    whole = tmp_path_factory.mktemp("class")
    for path in chapters.chapters().values():  # the whole edition, untouched
        chapters.write(chapters.read(edition / "book" / path.name), whole / "edition" / path.name)
    rows: dict[str, list[dict]] = {}
    for submitted, limit in [(folder, 10), (whole, 300)]:  # chapter 2's cells take a second or two
        out = submitted.parent / f"{submitted.name}.csv"
        grade.grade(submitted, out, cell_timeout=limit, total=900, jobs=2)
        with out.open() as file:
            for row in csv.DictReader(file):
                rows.setdefault(row["student"], []).append(row)
        assert "Passed exercises" in out.with_suffix(".summary.txt").read_text()
    return rows


def test_the_whole_student_edition_runs_and_every_check_says_not_attempted(graded):
    rows = graded["edition"]
    expected = sum(len(chapters.exercises(nb)) for nb in BOOK.values())
    assert len(rows) == expected and {r["chapter"] for r in rows} == set(BOOK)
    assert all(r["status"] == "not attempted" for r in rows), [r for r in rows if r["status"] != "not attempted"]
    noted = {r["notes"] for r in rows} - {""}
    assert len(noted) == 1 and next(iter(noted)).startswith("fast mode: a prediction's check"), noted
    predictions = [r for r in rows if r["notes"]]
    assert len(predictions) == 9, predictions  # the written answers: one a chapter, two in chapter 6


def test_right_answers_pass_and_wrong_ones_are_graded_not_yet_right(graded):
    assert [r["status"] for r in graded["all_right"]] == ["passed"] * 5, graded["all_right"]
    assert [r["status"] for r in graded["all_wrong"]] == ["not yet right"] * 5, graded["all_wrong"]
    assert all(r["message"] for r in graded["all_wrong"]), "each row carries the check's hint"


def test_a_syntax_error_and_an_endless_loop_cost_their_exercise_only(graded):
    for student, why in [("syntax", "SyntaxError"), ("loops", "ran past the time limit of 10 s")]:
        first, *rest = graded[student]
        message = first["message"]
        assert first["status"] == "could not run" and message.startswith("the answer cell:") and why in message, first
        assert [r["status"] for r in rest] == ["not attempted"] * 4, rest


def test_deleted_and_reordered_cells_are_said_in_their_rows(graded):
    rows = graded["deleted_and_moved"]
    assert rows[1]["status"] == "could not run" and "deleted" in rows[1]["message"]
    assert all("another order" in r["notes"] for r in rows)
    assert [r["status"] for r in rows if r is not rows[1]] == ["not attempted"] * 4


def test_a_notebook_without_cell_ids_is_matched_to_its_chapter_by_the_check_cells(graded):
    assert [r["status"] for r in graded["no_ids"]] == ["passed"] * 5, graded["no_ids"]


def test_a_solution_left_in_is_never_run_and_the_row_says_so(graded):
    rows = graded["solution_left_in"]
    assert [r["status"] for r in rows] == ["not attempted"] * 5
    assert all("solution cell(s) were in the notebook" in r["notes"] for r in rows)


def test_a_file_that_is_not_a_notebook_gets_a_row_and_the_batch_goes_on(graded):
    (row,) = graded["not_a_notebook"]
    assert row["status"] == "could not run" and "not a notebook" in row["message"] and row["chapter"] == "02"


def test_the_grader_says_it_is_no_sandbox():
    assert "no sandbox" in grade.WARNING and "no sandbox" in grade.__doc__


def test_the_claims_report_lists_every_sentence_that_no_longer_holds_and_every_failed_cell(tmp_path):
    import claims_report
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from vaelib import claims"),
        nbformat.v4.new_code_cell('claims.check(1 > 2, "one is more than two", 1, 2)'),
        nbformat.v4.new_code_cell('claims.check(True, "a sentence that holds")'),
        nbformat.v4.new_code_cell('raise ValueError("a setting this chapter cannot run with")'),
        nbformat.v4.new_code_cell('claims.check(False, "a later sentence", 3.25)'),
    ]
    path = tmp_path / "04_made_up.ipynb"
    nbformat.write(notebook, path)
    rows = claims_report.report([path], cell_timeout=60)
    assert [(r["cell"], r["sentence"], r["measured"]) for r in rows] == [
        (2, "one is more than two", "1, 2"),
        (5, "a later sentence", "3.25"),
        (4, "(this cell did not run)", "ValueError: a setting this chapter cannot run with"),
    ]


def test_the_teachers_guide_sorts_every_exercise_of_every_chapter_as_the_chapters_do():
    """The guide's table (implement, derive, predict or read a figure; minutes) is read off the
    exercise headings of the notebooks, so it cannot drift from them."""
    heading = re.compile(r"^### Exercise (\d+)( ★)? \(([^,]+), (\d+) min\)", re.M)
    table = {}
    for line in (REPO / "book" / "10_for_teachers.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and cells[0].isdigit():
            table[f"{int(cells[0]):02d}"] = cells[1:]
    assert set(table) == set(BOOK)
    for number, notebook in BOOK.items():
        kinds, minutes = {"implement": [], "derive": [], "predict": []}, 0
        for cell in notebook["cells"]:
            for found in heading.finditer(chapters.source(cell)) if cell["cell_type"] == "markdown" else []:
                kind = "predict" if found[3] in ("predict", "read a figure") else found[3]
                kinds[kind].append(found[1] + ("★" if found[2] else ""))
                minutes += int(found[4])
        expected = [", ".join(kinds[k]) for k in ("implement", "derive", "predict")] + [str(minutes)]
        assert table[number] == expected, f"chapter {number}: the guide says {table[number]}, the notebook {expected}"
