"""Which sentences of the book no longer hold under a course's settings.

    make claims-report                  every chapter
    make claims-report CHAPTERS="04 06" some
    .venv/bin/python tools/claims_report.py [04 06 ...] [--out claims_report.csv]

The book's claim checks (``vaelib.claims``) hold each sentence that reads
an output.  A teacher who caps the settings (``course.toml``: fewer epochs,
fewer images) changes the outputs, and ``make book``, which stays strict,
stops at the first sentence that no longer holds.  This runs each chapter
at the settings in force (the course file's, else the book's full ones;
never fast mode) with ``VAELIB_CLAIMS=report``, so that every claim is
checked and every one that fails is listed: chapter, cell (counted from 1,
as the notebook shows them; the claim cells are the hidden "Claims" cells),
sentence, and what this run measured.  A cell that raises (a setting a chapter cannot run
with) is listed too.  Edit those sentences, or the settings, then build.
It takes as long as the chapters do (up to three minutes each at the
book's settings on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import chapters  # noqa: E402  (tools/chapters.py, beside this file)


def report(notebooks: list[Path], cell_timeout: float = 1800.0) -> list[dict]:
    """Every failed claim and every failed cell of ``notebooks``, run at the settings in force."""
    import nbformat

    rows = []
    for path in notebooks:
        notebook = dict(nbformat.reads(path.read_text(), as_version=4))
        with tempfile.TemporaryDirectory() as folder:
            found = Path(folder) / "claims.jsonl"
            found.touch()
            env = {"VAELIB_CLAIMS": "report", "VAELIB_CLAIMS_REPORT": str(found)}
            skipped = chapters.run(notebook, cell_timeout, total=24 * 3600, fast=False, env=env)
            cell_of = {c.get("execution_count"): n for n, c in enumerate(notebook["cells"], start=1)}
            for line in found.read_text().splitlines():
                claim = json.loads(line)
                cell = cell_of.get(claim.pop("execution_count", None), "?")
                cell_id = notebook["cells"][cell - 1].get("id", "") if isinstance(cell, int) else ""
                rows.append({"chapter": path.name, "cell": cell, "cell_id": cell_id, **claim})
        for number, (cell, why) in chapters.failures(notebook, skipped).items():
            failed = {"sentence": "(this cell did not run)", "measured": why}
            rows.append({"chapter": path.name, "cell": number, "cell_id": cell.get("id", ""), **failed})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="List every sentence of the book that no longer holds.")
    parser.add_argument("chapters", nargs="*", help="chapter numbers (04 06 ...); default: all")
    parser.add_argument("--out", type=Path, default=Path("claims_report.csv"), help="the CSV to write")
    arguments = parser.parse_args(argv)
    known = chapters.chapters()
    wanted = [f"{int(n):02d}" for n in arguments.chapters] or list(known)
    missing = [n for n in wanted if n not in known]
    if missing:
        print(f"claims_report: no chapter {', '.join(missing)}; the chapters are {', '.join(known)}", file=sys.stderr)
        return 2
    rows = report([known[n] for n in wanted])
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    with arguments.out.open("w", newline="") as file:
        writer = csv.DictWriter(file, ["chapter", "cell", "cell_id", "sentence", "measured"])
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['chapter']}, cell {row['cell']}: {row['sentence']}\n    measured: {row['measured']}")
    print(f"{len(rows)} sentence(s) or cell(s) to look at, in {len(wanted)} chapter(s); the list is in {arguments.out}")
    return 1 if rows else 0


if __name__ == "__main__":
    sys.exit(main())
