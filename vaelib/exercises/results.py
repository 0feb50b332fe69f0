"""What a check returns: a :class:`CheckResult`, and the feedback in it.

A result is a verdict (pass, fail, not attempted) and a message for the
student, wrapped to the book's code column.  A failure's hint names a known
:class:`Mistake` and points to the idea; where the next step would be the
formula itself, the formula comes only from the third failed try of that
exercise on (:func:`tell`).  :func:`never_raises`, which every check wears,
counts each exercise's failed tries and turns any error of the check itself
into a failure, so that the notebook keeps running.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from ..settings import PAGE_WIDTH
from .compare import kind

__all__ = [
    "FAIL",
    "NOT_ATTEMPTED",
    "PASS",
    "CheckResult",
    "Mistake",
    "never_raises",
    "not_a_function",
    "not_attempted",
    "reset_attempts",
    "tell",
    "with_report",
]

PASS, FAIL, NOT_ATTEMPTED = "pass", "fail", "not attempted"
_VERDICTS = {PASS: "passed.", FAIL: "not yet right.", NOT_ATTEMPTED: "not attempted yet."}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of an exercise check: ``status`` and a ``message`` for the student."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def __repr__(self) -> str:  # what the notebook shows, wrapped to fit the book's column
        text = f"{self.exercise}: {_VERDICTS[self.status]} {self.message}"
        return "\n".join(
            textwrap.fill(line, PAGE_WIDTH, break_long_words=False, break_on_hyphens=False) or line
            for line in text.split("\n")
        )

    __str__ = __repr__


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the hint that a student who made it needs.

    ``hint`` names the mistake and points to the idea, without the answer.
    ``formula``, if any, is the more explicit help (the formula, the constant)
    that the hint adds only after repeated failed tries (:func:`tell`).
    """

    wrong: Callable
    hint: str
    formula: str | None = None


# A check's hint adds a mistake's formula from this failed try of its exercise on:
# the first tries get the idea only, so that the student still derives the rest.
REVEAL_AFTER = 3
_failures: dict[str, int] = {}


def failed_tries(exercise: str) -> int:
    """How many times the check of ``exercise`` has failed so far in this session (since its last pass)."""
    return _failures.get(exercise, 0)


def reset_attempts() -> None:
    """Forget every exercise's failed tries (a fresh session; the tests start each from here)."""
    _failures.clear()


def _count(result: CheckResult) -> CheckResult:
    """Count a failed try of ``result.exercise``; a pass starts its count again."""
    if result.status == FAIL:
        _failures[result.exercise] = failed_tries(result.exercise) + 1
    elif result.status == PASS:
        _failures.pop(result.exercise, None)
    return result


def tell(exercise: str, hint: str, formula: str | None = None) -> str:
    """The text of a hint on this try: the idea, and the formula only once the student has
    failed ``REVEAL_AFTER - 1`` times before (this try is then the third)."""
    if formula is None:
        return hint
    if failed_tries(exercise) + 1 >= REVEAL_AFTER:
        return f"{hint} {formula}"
    return f"{hint} (Still stuck after another try? The hint then says more.)"


def not_attempted(exercise: str, written: bool = False) -> CheckResult:
    """The result while the answer cell still holds its stub (a function that raises
    NotImplementedError) or, for a ``written`` answer, its placeholder (None)."""
    what = "Set your answer" if written else "Write your code"
    return CheckResult(exercise, NOT_ATTEMPTED, f"{what} in its cell, then run this check again.")


def not_a_function(exercise: str, answer, what: str = "function") -> CheckResult:
    """The result when the answer is not the function (or class) asked for, e.g. its call."""
    return CheckResult(exercise, FAIL, f"Pass your {what} itself (its name, without parentheses), not {kind(answer)}.")


def with_report(result: CheckResult, report: str) -> CheckResult:
    """``result``, with what the run measured appended if it passed (a failure's hint says it already)."""
    if not result.passed:
        return result
    return CheckResult(result.exercise, result.status, f"{result.message} {report}")


def never_raises(check: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Make a check return a failure instead of raising, whatever it is handed, and count
    its exercise's failed tries (see :func:`tell`)."""
    exercise = check.__name__.removeprefix("check_")

    @functools.wraps(check)
    def guarded(*args, **kwargs) -> CheckResult:
        try:
            result = check(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - a check must never stop the notebook
            result = CheckResult(exercise, FAIL, f"This answer could not be checked: {type(err).__name__}: {err}")
        return _count(result)

    return guarded
