"""Each chapter's execution time in a `make book` log, against the book's budgets.

    make book 2>&1 | tee book.log
    python3 benchmarks/chapter_times.py book.log [--strict]

Reads the lines "<notebook>: Executed notebook in <s> seconds" that the build
writes, prints one line per chapter and the total, and marks what is over the
budgets measured on two CPU cores at full settings: 180 s a chapter, 720 s the
whole book.  With ``--strict`` a budget overrun is an error (exit status 1);
without it the report only informs, since a shared machine's times vary.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CHAPTER_BUDGET, BOOK_BUDGET = 180.0, 720.0
LINE = re.compile(r"(?P<path>\S+\.ipynb): Executed notebook in (?P<seconds>[0-9.]+) seconds")


def chapter_times(log: str) -> dict[str, float]:
    """Notebook name -> seconds, in the order the build executed them."""
    return {Path(m["path"]).name: float(m["seconds"]) for m in LINE.finditer(log)}


def report(times: dict[str, float]) -> tuple[list[str], bool]:
    """The report's lines, and whether every budget is kept."""
    lines, kept = [], True
    for name, seconds in times.items():
        over = seconds > CHAPTER_BUDGET
        kept &= not over
        lines.append(f"{name:<28} {seconds:6.1f} s" + (f"  over {CHAPTER_BUDGET:.0f} s" if over else ""))
    total = sum(times.values())
    kept &= total <= BOOK_BUDGET
    lines.append(
        f"{'all chapters':<28} {total:6.1f} s" + (f"  over {BOOK_BUDGET:.0f} s" if total > BOOK_BUDGET else "")
    )
    return lines, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="the output of `make book`")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is exceeded")
    args = parser.parse_args(argv)
    times = chapter_times(Path(args.log).read_text(errors="replace"))
    if not times:
        print(f"no 'Executed notebook in ... seconds' line in {args.log}", file=sys.stderr)
        return 1
    lines, kept = report(times)
    print("\n".join(lines))
    return 0 if kept or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
