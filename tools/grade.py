"""Grade a folder of students' notebooks: one row per student, chapter and exercise.

    make grade SUBMISSIONS=path/to/folder [OUT=grades.csv]
    .venv/bin/python tools/grade.py path/to/folder [--out grades.csv] [--cell-timeout 120] [--jobs 2]

**This runs the students' code on this machine, with your permissions. It is
no sandbox**: a submission can read, change or delete your files.  Grade
submissions you do not trust inside a container or a throwaway virtual
machine.

Every file under the folder is a submission.  The student is the first
folder under it (``alice/04_vae.ipynb``), or else the file name before the
chapter (``alice_04_vae.ipynb``); the chapter is the ``NN_`` in the file name,
or else the notebook's title.  Each notebook runs in a fresh kernel, in fast
mode (``--full`` for the book's settings), cell by cell with a time limit per
cell and per notebook, after the solution cells are removed (a solution left
in is never run, and the row says so) and every output cleared: what is
graded is what the student's own cells compute.  The grade of an exercise is
what its check cell prints when it runs; a check cell that is missing or
edited, an answer cell that raises, a notebook that hangs, a kernel that dies
or a file that is not a notebook gets a row that says so, and the batch goes
on.

Writes the CSV (student, chapter, exercise, status, message, notes, file),
with status one of "passed", "not yet right", "not attempted", "could not
run", and a summary beside it (``<out>.summary.txt``), which it also prints.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import astuple, dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chapters  # noqa: E402  (tools/chapters.py, beside this file)

WARNING = (
    "grade.py runs each student's code on this machine, with your permissions: it is no sandbox. "
    "Grade submissions you do not trust in a container or a throwaway virtual machine."
)
STATUSES = {"passed.": "passed", "not yet right.": "not yet right", "not attempted yet.": "not attempted"}
VERDICT = re.compile(r"^(\w+): (passed\.|not yet right\.|not attempted yet\.)\s*(.*)$", re.S)
COULD_NOT_RUN = "could not run"


@dataclass
class Row:
    student: str
    chapter: str
    exercise: str
    status: str
    message: str
    notes: str
    file: str


def student_and_chapter(path: Path, folder: Path) -> tuple[str, str | None]:
    """Who handed ``path`` in, and which chapter (``"04"``) its name says, if any."""
    relative = path.relative_to(folder)
    found = re.search(r"(?:^|[^0-9])(\d\d)_", path.name)
    chapter = found.group(1) if found and found.group(1) in chapters.chapters() else None
    if len(relative.parts) > 1:
        return relative.parts[0], chapter
    before = path.name[: found.start(1)].strip(" _-.") if found else ""
    if before or not found:
        return before or path.stem, chapter
    after = path.stem  # "04_vae_jo.ipynb": the name follows the chapter's file name
    if chapter is not None:
        after = after.removeprefix(chapters.chapters()[chapter].stem)
    return after.strip(" _-.") or path.stem, chapter


def chapter_of(notebook: dict) -> str | None:
    """The chapter a notebook's title names ("# 4. The VAE and its loss" -> "04")."""
    for cell in notebook.get("cells", [])[:3]:
        title = re.match(r"#\s+(\d+)\.", chapters.source(cell)) if cell.get("cell_type") == "markdown" else None
        if title and f"{int(title.group(1)):02d}" in chapters.chapters():
            return f"{int(title.group(1)):02d}"
    return None


def _text(cell: dict) -> tuple[str | None, str | None]:
    """The check cell's printed result, and its error (``"NameError: ..."``), if any."""
    result = error = None
    for output in cell.get("outputs", []):
        if output["output_type"] == "execute_result":
            result = chapters.source({"source": output["data"].get("text/plain", "")})
        elif output["output_type"] == "error":
            error = f"{output['ename']}: {output['evalue']}"
    return result, error


def _match_by_source(cells: list[dict], expected, by_id: dict) -> None:
    """Give the chapter's ids to a submission's check cells (and the answer cell before each)
    that lost them (a notebook saved without cell ids, or its cells pasted into a new one),
    matching each check cell by its source."""
    ids = {c.get("id") for c in cells}
    for exercise in expected:
        if exercise.check_id in ids:
            continue
        wanted = chapters.source(by_id[exercise.check_id]).strip()
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code" and chapters.source(cell).strip() == wanted:
                cell["id"] = exercise.check_id
                if index > 0 and cells[index - 1].get("id") not in by_id:
                    cells[index - 1]["id"] = exercise.answer_id
                break


def _written(answer: dict | None) -> bool:
    """Whether an answer cell holds a written answer (``prediction = ...``), not code."""
    source = chapters.source(answer) if answer else ""
    return bool(re.match(r"^\s*\w+\s*=", source)) and "def " not in source and "class " not in source


def _broken(notebook: dict, skipped: dict[str, str], exercise_cells: set[str]) -> list[str]:
    """Notes on the chapter's own cells (not an exercise's) that raised or ran too long."""
    failed = chapters.failures(notebook, skipped).items()
    return [f"cell {n} of the notebook: {why}" for n, (cell, why) in failed if cell.get("id") not in exercise_cells][:3]


def grade_one(path: Path, folder: Path, cell_timeout=120.0, total=900.0, full=False, threads=None) -> list[Row]:
    """The rows of one submitted file."""
    import nbformat

    student, chapter = student_and_chapter(path, folder)
    shown = str(path.relative_to(folder))
    try:
        notebook = nbformat.reads(path.read_text(), as_version=4)
        nbformat.validate(notebook)
        notebook = dict(notebook)
    except Exception as err:  # noqa: BLE001 - any unreadable file is a row, never a stop
        return [Row(student, chapter or "?", "-", COULD_NOT_RUN, f"not a notebook: {type(err).__name__}", "", shown)]
    chapter = chapter or chapter_of(notebook)
    if chapter is None:
        message = "no chapter: name the file after its chapter (04_vae.ipynb) or keep the chapter's title cell"
        return [Row(student, "?", "-", COULD_NOT_RUN, message, "", shown)]
    original = chapters.read(chapters.chapters()[chapter])
    expected = chapters.exercises(original)
    by_id = {cell["id"]: cell for cell in original["cells"]}

    cells = [dict(c) for c in notebook["cells"]]
    _match_by_source(cells, expected, by_id)
    solutions_left = sum(chapters.is_solution(c) for c in cells)
    cells = [c for c in cells if not chapters.is_solution(c)]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook["cells"] = cells
    ids = [c.get("id") for c in cells]
    general = []
    if solutions_left:
        general.append(f"{solutions_left} solution cell(s) were in the notebook; they were removed, not run")
    checks_present = [e.check_id for e in expected if e.check_id in ids]
    if checks_present != sorted(checks_present, key=ids.index):
        general.append("the check cells are in another order than the chapter's")

    with tempfile.TemporaryDirectory(prefix="vaelib-grading-cache-") as cache:
        env = {"VAELIB_CACHE": cache}
        skipped = chapters.run(notebook, cell_timeout, total, fast=not full, threads=threads, env=env)
    ran = {c.get("id"): c for c in notebook["cells"]}
    general += _broken(notebook, skipped, {i for e in expected for i in (e.answer_id, e.check_id)})
    rows = []
    for exercise in expected:
        label = f"{exercise.number} {exercise.name.removeprefix('check_')}"
        notes = list(general)
        check = ran.get(exercise.check_id)
        if check is None:
            rows.append(
                Row(student, chapter, label, COULD_NOT_RUN, "its check cell was deleted", "; ".join(notes), shown)
            )
            continue
        if chapters.source(check).strip() != chapters.source(by_id[exercise.check_id]).strip():
            message = "its check cell was changed, so its output is not a grade: restore the cell"
            rows.append(Row(student, chapter, label, COULD_NOT_RUN, message, "; ".join(notes), shown))
            continue
        if exercise.answer_id not in ran:
            notes.append("its answer cell was deleted or replaced")
        elif ids.index(exercise.answer_id) > ids.index(exercise.check_id):
            notes.append("its answer cell comes after its check cell")
        answer = ran.get(exercise.answer_id)
        _, answer_error = _text(answer) if answer is not None else (None, None)
        if answer is not None and exercise.answer_id in skipped:
            answer_error = skipped[exercise.answer_id]
        if answer_error:
            notes.append(f"the answer cell: {answer_error}")
        result, error = _text(check)
        verdict = VERDICT.match(result.strip().strip("'\"")) if result else None
        if not full and _written(by_id[exercise.answer_id]):
            notes.append(
                "fast mode: a prediction's check runs its experiment on fast mode's small data, where it may "
                "come out otherwise than in the book; grade predictions with --full, or by hand"
            )
        if exercise.check_id in skipped:
            status, message = COULD_NOT_RUN, skipped[exercise.check_id]
        elif answer_error and error:
            status, message = COULD_NOT_RUN, f"the answer cell: {answer_error}"
            notes = [n for n in notes if not n.startswith("the answer cell:")] + [f"so the check cell raised {error}"]
        elif error:
            status, message = COULD_NOT_RUN, f"the check cell raised {error}"
        elif verdict is None:
            status, message = COULD_NOT_RUN, "the check cell printed no verdict"
        else:
            status, message = STATUSES[verdict.group(2)], " ".join(verdict.group(3).split())
        rows.append(Row(student, chapter, label, status, message, "; ".join(notes), shown))
    return rows


def submissions(folder: Path) -> list[Path]:
    """Every file under ``folder``, but hidden ones and Jupyter's checkpoints."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )  # fmt: skip


def summary(rows: list[Row]) -> str:
    """Passed exercises per student and chapter, and how many students passed each exercise."""
    lines = ["Passed exercises, by student and chapter:"]
    per = defaultdict(Counter)
    for row in rows:
        per[(row.student, row.chapter, row.file)][row.status] += 1
    several = Counter((student, chapter) for student, chapter, _ in per)
    for (student, chapter, file), counts in sorted(per.items()):
        total = sum(counts.values())
        rest = ", ".join(f"{counts[s]} {s}" for s in ["not yet right", "not attempted", COULD_NOT_RUN] if counts[s])
        which = f" ({file})" if several[(student, chapter)] > 1 else ""
        passed = f"  {student} chapter {chapter}{which}: {counts['passed']}/{total} passed"
        lines.append(passed + (f" ({rest})" if rest else ""))
    lines.append("Submissions that passed each exercise:")
    exercises = defaultdict(Counter)
    for row in rows:
        if row.exercise != "-":
            exercises[(row.chapter, row.exercise)][row.status == "passed"] += 1
    for (chapter, exercise), counts in sorted(exercises.items()):
        lines.append(f"  chapter {chapter}, exercise {exercise}: {counts[True]} of {counts[True] + counts[False]}")
    return "\n".join(lines) + "\n"


def grade(folder: Path, out: Path, cell_timeout=None, total=None, full=False, jobs=1) -> list[Row]:
    """Grade every file under ``folder``; write the CSV to ``out`` and the summary beside it.

    Time limits default to 120 s a cell and 900 s a notebook in fast mode, 1,800 s and
    7,200 s at full settings.  Each notebook gets a model cache of its own, in a
    temporary folder: one submission's run never reads another's models, or writes yours.
    """
    cell_timeout = cell_timeout or (1800.0 if full else 120.0)
    total = total or (7200.0 if full else 900.0)
    files = submissions(folder)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    arguments = [(path, folder, cell_timeout, total, full, threads) for path in files]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            graded = list(pool.map(_grade_args, arguments))
    else:
        graded = [_grade_args(a) for a in arguments]
    rows = [row for rows in graded for row in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f.name for f in fields(Row)])
        writer.writerows(astuple(row) for row in rows)
    out.with_suffix(".summary.txt").write_text(summary(rows))
    return rows


def _grade_args(arguments) -> list[Row]:
    path, folder, *rest = arguments
    try:
        return grade_one(path, folder, *rest)
    except Exception as err:  # noqa: BLE001 - one broken submission never stops the batch
        student, chapter = student_and_chapter(path, folder)
        message = f"the grader could not run it: {type(err).__name__}: {err}"
        return [Row(student, chapter or "?", "-", COULD_NOT_RUN, message, "", str(path.relative_to(folder)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade students' notebooks (no sandbox: it runs their code).")
    parser.add_argument("folder", type=Path, help="the folder of submitted notebooks")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV to write (default grades.csv)")
    parser.add_argument("--cell-timeout", type=float, help="seconds a cell may run (120; with --full 1800)")
    parser.add_argument("--notebook-timeout", type=float, help="seconds a notebook may run (900; with --full 7200)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    parser.add_argument("--full", action="store_true", help="the book's full settings instead of fast mode")
    arguments = parser.parse_args(argv)
    print(WARNING, file=sys.stderr)
    if not arguments.folder.is_dir():
        print(f"grade: no folder {arguments.folder}", file=sys.stderr)
        return 2
    rows = grade(
        arguments.folder, arguments.out, arguments.cell_timeout, arguments.notebook_timeout, arguments.full,
        arguments.jobs,
    )  # fmt: skip
    print(summary(rows), end="")
    print(f"{len(rows)} rows in {arguments.out}; the summary in {arguments.out.with_suffix('.summary.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
