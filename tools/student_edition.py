"""The student edition: every chapter without its solutions, as notebooks and as a site.

    make student          writes _student/ (the notebooks in _student/book/)
    make student-book     also builds its site into _student/_build/html

Each chapter notebook loses its solution cells (``#@title Solution``), and
the sentences that promise a solution are rewritten; everything else is
the book's, cell ids included, so that ``tools/grade.py`` matches a student's
notebook to its chapter.  Every check then prints "not attempted yet" until
the student answers.  ``_student/`` also holds the rest of the book's
sources (the Markdown pages, ``_config.yml`` with "(student edition)" in
the title, ``_toc.yml``), so ``jupyter-book build _student`` builds the
student site.  What it cannot hide: the solutions are in this repository,
and ``vaelib`` implements what most exercises ask for (the teacher's guide
says so).
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chapters  # noqa: E402  (tools/chapters.py, beside this file)
import version as versions  # noqa: E402

ROOT = chapters.ROOT

# The exercises' introduction, as every chapter words it, and what the edition says instead.
PROMISE = re.compile(
    r"a\s+cell\s+for\s+your\s+answer,\s+a\s+cell\s+that\s+checks\s+it\s+(\([^)]*\))\s+and\s+a\s+solution,\s+"
    r"hidden\s+\(a\s+toggle\s+here,\s+a\s+folded\s+form\s+in\s+Colab,\s+a\s+collapsed\s+cell\s+in\s+"
    r"JupyterLab\)\.\s+The\s+solution\s+defines\s+its\s+answer\s+under\s+its\s+own\s+name,\s+"
    r"`\.\.\._solution`,\s+so\s+running\s+all\s+cells\s+never\s+overwrites\s+yours\."
)
INSTEAD = r"a cell for your answer and a cell that checks it \1. This edition has no solutions."
# The introduction's sentences on exercises and on the ways to read the book.
INTRO = [
    (
        re.compile(
            r"a\s+cell\s+for\s+your\s+code,\s+a\s+cell\s+that\s+checks\s+it\s+and\s+tells\s+you\s+what\s+is\s+"
            r"wrong,\s+and\s+a\s+hidden\s+solution\."
        ),
        "a cell for your code and a cell that checks\nit and tells you what is wrong. This edition has no solutions.",
    ),
    (re.compile(r"^## Three ways to read it$", re.M), "## Reading it"),
    (re.compile(r"^\*\*In Google Colab\.\*\*.*?\n\n\*\*Locally\.\*\*.*?\n\n", re.M | re.S), ""),
    (re.compile(r"\nTeaching a course with it\?.*?\n\n", re.S), "\n"),
]
STUDENT_NOTE = """
```{{note}}
This is the **student edition**, without the exercises' solutions. To work
on a chapter, download its notebook with the download button at the top of
its page ({{fa}}`download`, `.ipynb`) and upload it to Google Colab (File,
Upload notebook), where its first cell installs `vaelib`; in your own
Jupyter, install it first: `pip install "vaelib @ {release}"`. Your teacher
will tell you how to hand in your answers.
```
"""
TEACHERS_PAGE = "book/10_for_teachers"


def strip(notebook: dict) -> dict:
    """A chapter notebook without its solution cells and without the text that promises them."""
    cells = []
    for cell in notebook["cells"]:
        if chapters.is_solution(cell):
            continue
        if cell["cell_type"] == "code" and chapters.source(cell).startswith("#@title Claims"):
            cell = {**cell, "source": _without_solution_claims(chapters.source(cell)).splitlines(keepends=True)}
        if cell["cell_type"] == "markdown":
            text = PROMISE.sub(INSTEAD, chapters.source(cell))
            if text != chapters.source(cell):  # keep the book's line width
                text = _rewrap(text)
            cell = {**cell, "source": text.splitlines(keepends=True)}
        cells.append(cell)
    return {**notebook, "cells": cells}


def _credit(root: Path) -> str:
    """The line under each handed-out chapter's title: the book, its licences, and the credit
    that a fork's footer gives the original (``tools/fork.py``)."""
    config = (root / "_config.yml").read_text()
    title = re.search(r'^title: "?(.*?)"?$', config, re.M).group(1)
    adapted = re.search(r"<p>(Adapted from .*?)</p>", config)
    line = (
        f"*{title}, student edition. Text and figures: [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/);"
        " code: MIT licence (LICENSE-TEXT.md, LICENSE)."
    )
    if adapted:
        line += " " + re.sub(r"<a href=\"([^\"]+)\">([^<]+)</a>", r"\2 (\1)", adapted.group(1))
    return line + "*\n"


def _rewrap(text: str, width: int = 79) -> str:
    """Re-wrap the paragraph that holds the rewritten sentence to the book's width."""
    paragraphs = text.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if "This edition has no solutions." in paragraph:
            paragraphs[index] = textwrap.fill(" ".join(paragraph.split()), width)
    return "\n\n".join(paragraphs)


def _without_solution_claims(code: str) -> str:
    """A claims cell without the checks that state an exercise's solution (their sentence says so)."""
    lines = code.splitlines(keepends=True)
    tree = ast.parse(code)
    drop = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            words = [a.value for a in node.value.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if any("solution" in w.lower() for w in words):
                drop.update(range(node.lineno - 1, node.end_lineno))
    kept = "".join(line for number, line in enumerate(lines) if number not in drop)
    if not drop:
        return kept
    # an assignment whose name only the dropped checks read goes too
    tree, lines = ast.parse(kept), kept.splitlines(keepends=True)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    orphans = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id not in used for t in node.targets):
            orphans.update(range(node.lineno - 1, node.end_lineno))
    return "".join(line for number, line in enumerate(lines) if number not in orphans)


def write_edition(out: Path, root: Path = ROOT) -> list[Path]:
    """Write the student edition under ``out``; returns the notebooks written."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(root / "book", out / "book", ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    written = []
    credit = _credit(root)
    for path in chapters.chapters(root).values():
        notebook = strip(chapters.read(path))
        title = notebook["cells"][0]  # the chapter's title cell: the licence line goes under it
        title["source"] = (chapters.source(title).rstrip("\n") + "\n\n" + credit).splitlines(keepends=True)
        chapters.write(notebook, out / "book" / path.name)
        written.append(out / "book" / path.name)
    intro = out / "book" / "intro.md"
    text = intro.read_text()
    for pattern, replacement in INTRO:
        text = pattern.sub(replacement, text)
    title_end = text.index("\n") + 1
    note = STUDENT_NOTE.format(release=versions.release_url(root))
    intro.write_text(text[:title_end] + note + text[title_end:])
    for name in ("LICENSE", "LICENSE-TEXT.md"):  # the licences travel with the handed-out notebooks
        shutil.copy(root / name, out / name)
        shutil.copy(root / name, out / "book" / name)
    (out / "book" / "10_for_teachers.md").unlink()  # the teacher's guide stays with the teacher
    toc = (root / "_toc.yml").read_text().replace(f"  - file: {TEACHERS_PAGE}\n", "")
    (out / "_toc.yml").write_text(toc)
    if (root / "course.toml").is_file():  # a course's settings apply to its student edition too
        shutil.copy(root / "course.toml", out / "course.toml")
    config = (root / "_config.yml").read_text()
    config = re.sub(r'^title: "?(.*?)"?$', r'title: "\1 (student edition)"', config, count=1, flags=re.M)
    # No button that leads to the book's own notebooks, which hold the solutions: no
    # Colab launch, no repository or issues link; the download button gives the edition's.
    config = re.sub(r"^launch_buttons:\n(  .*\n)+\n", "", config, count=1, flags=re.M)
    launch_comment = "keeps the launch and repository\n  # buttons set above"
    config = config.replace(launch_comment, "keeps the buttons set\n  # above")
    for button in ("use_repository_button", "use_issues_button"):
        config = re.sub(rf"^(  {button}:) true$", r"\1 false", config, count=1, flags=re.M)
    (out / "_config.yml").write_text(config)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the student edition: the chapters without solutions.")
    parser.add_argument("--out", type=Path, default=ROOT / "_student", help="where (default: _student)")
    arguments = parser.parse_args(argv)
    for path in write_edition(arguments.out):
        print(f"student edition: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
