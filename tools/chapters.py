"""What the teacher's tools know of a chapter notebook: its exercises, cell by cell.

Every exercise of the book is four cells in a row (each chapter's exercise section): a
Markdown prompt; the student's cell (a stub: a function that raises
NotImplementedError, or ``prediction = None``); the check cell, one call
``exercises.check_<name>(...)``; and the solution, a hidden cell whose source
starts with ``#@title Solution``.  Cells are found by their ``id`` (nbformat
4.5), so a student's notebook is matched to its chapter whatever was edited.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK = re.compile(r"^exercises\.(check_\w+)\(", re.M)
SOLUTION_TITLE = "#@title Solution"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: its check's name and the ids of its cells."""

    name: str  # the check's function, e.g. "check_gaussian_kl"
    number: int  # counted from 1 in the chapter
    answer_id: str  # the student's cell
    check_id: str
    solution_id: str | None


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def is_solution(cell: dict) -> bool:
    return cell["cell_type"] == "code" and source(cell).lstrip().startswith(SOLUTION_TITLE)


def chapters(root: Path = ROOT) -> dict[str, Path]:
    """The chapter notebooks by number: ``{"01": book/01_autoencoders.ipynb, ...}``."""
    return {p.name[:2]: p for p in sorted((root / "book").glob("*.ipynb")) if re.match(r"\d\d_", p.name)}


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def exercises(notebook: dict) -> list[Exercise]:
    """The exercises of a chapter notebook, in order."""
    cells, found = notebook["cells"], []
    for index, cell in enumerate(cells):
        called = CHECK.search(source(cell)) if cell["cell_type"] == "code" else None
        if called is None or index == 0:
            continue
        after = cells[index + 1] if index + 1 < len(cells) else None
        solution = after["id"] if after is not None and is_solution(after) else None
        found.append(Exercise(called.group(1), len(found) + 1, cells[index - 1]["id"], cell["id"], solution))
    return found


def failures(notebook: dict, skipped: dict[str, str]) -> dict[int, tuple[dict, str]]:
    """After :func:`run`: every code cell that raised or did not run, by its number in the
    notebook (counted from 1), with the cell and why (``"NameError: ..."``, or ``skipped``'s reason)."""
    found = {}
    for number, cell in enumerate(notebook["cells"], start=1):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        why = skipped.get(cell.get("id")) or (f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else None)
        if cell["cell_type"] == "code" and why:
            found[number] = cell, why
    return found


def write(notebook: dict, path: Path) -> None:
    """Write a notebook as the book's notebooks are written (one-space indent, UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def run(
    notebook: dict, cell_timeout: float, total: float, fast: bool = True, threads: int | None = None, env=None
) -> dict[str, str]:
    """Run ``notebook`` (a dict of nbformat 4) in place in a fresh kernel, in ``book/``, in fast
    mode unless ``fast=False``, with ``env`` added; returns why cells did not run, by cell id.

    A cell that runs past ``cell_timeout`` is interrupted (its error output is then a
    KeyboardInterrupt) and the next cell runs; after ``total`` seconds the kernel is stopped.
    """
    import signal
    import threading

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.from_dict(notebook)
    env = {**os.environ, **(env or {})}
    env.pop("VAELIB_FAST", None)
    if fast:
        env["VAELIB_FAST"] = "1"
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    client = NotebookClient(
        nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        resources={"metadata": {"path": str(ROOT / "book")}},
    )  # fmt: skip
    out_of_time = threading.Event()

    def stop() -> None:  # the whole notebook ran too long: end its kernel
        out_of_time.set()
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        if pid:
            os.kill(pid, signal.SIGKILL)

    watchdog = threading.Timer(total, stop)
    watchdog.start()
    skipped = {}
    try:
        client.execute(env=env)
    except DeadKernelError:
        why = f"the notebook ran past its time limit of {total:.0f} s" if out_of_time.is_set() else "the kernel died"
        for cell in nb.cells:
            if cell.cell_type == "code" and not cell.get("outputs") and cell.get("execution_count") is None:
                skipped[cell.get("id", "")] = why
    finally:
        watchdog.cancel()
    for cell in nb.cells:
        if any(o.get("ename") == "KeyboardInterrupt" for o in cell.get("outputs", [])):
            skipped[cell.get("id", "")] = f"this cell ran past the time limit of {cell_timeout:.0f} s"
    notebook["cells"] = [dict(c) for c in nb.cells]
    return skipped
