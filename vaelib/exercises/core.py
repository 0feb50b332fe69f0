"""The mechanism shared by every chapter's checks.

A check runs the student's function on inputs it makes itself and compares
the result with a reference (:func:`run_check`), or compares a written answer
with the right one (:func:`answer_check`).  It never raises: it returns a
:class:`CheckResult` whose text is a pass, a specific hint for a known
:class:`Mistake`, the student's value beside the expected one, or "not
attempted yet" while the function still raises ``NotImplementedError``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "FAIL",
    "NOT_ATTEMPTED",
    "PASS",
    "CheckResult",
    "Mistake",
    "answer_check",
    "close",
    "run_check",
    "show",
]

# Feedback lines are wrapped at this width: the book's code column at a laptop width.
MESSAGE_WIDTH = 75

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
            textwrap.fill(line, MESSAGE_WIDTH, break_long_words=False, break_on_hyphens=False) or line
            for line in text.split("\n")
        )

    __str__ = __repr__


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and the hint that a student who made it needs."""

    wrong: Callable
    hint: str


def close(a, b, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    """Whether ``a`` equals ``b`` within tolerance: tensors (same shape), tuples of them, or numbers."""
    if isinstance(a, (list, tuple)) and not isinstance(b, (list, tuple)):
        return False
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        return a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=atol)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    try:
        return abs(float(a) - float(b)) <= atol + rtol * abs(float(b))
    except (TypeError, ValueError):
        return False


def show(value) -> str:
    """A short text of ``value`` for a message: a tensor's shape and first four entries."""
    if isinstance(value, Tensor):
        flat = value.detach().flatten()[:4].tolist()
        more = ", ..." if value.numel() > 4 else ""
        return f"tensor of shape {list(value.shape)}: [{', '.join(f'{v:.4g}' for v in flat)}{more}]"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def run_check(
    exercise: str,
    answer: Callable,
    reference: Callable,
    cases: Sequence[tuple],
    mistakes: Sequence[Mistake] = (),
    non_finite_hint: str | None = None,
    tolerance: float = 1e-4,
) -> CheckResult:
    """Run ``answer`` on each case; compare with ``reference``, then with ``mistakes``.

    ``tolerance`` (relative and absolute) is loose for stochastic exercises.
    """
    if not callable(answer):
        return CheckResult(exercise, FAIL, f"Pass your function itself, not a {type(answer).__name__}.")
    for args in cases:
        try:
            got = answer(*args)
        except NotImplementedError:
            return CheckResult(exercise, NOT_ATTEMPTED, "Write your code in its cell, then run this check again.")
        except Exception as err:  # the student's bug; report it, never raise it
            return CheckResult(exercise, FAIL, f"Your function raised {type(err).__name__}: {err}")
        expected = reference(*args)
        if non_finite_hint and isinstance(got, Tensor) and not torch.isfinite(got).all():
            return CheckResult(exercise, FAIL, non_finite_hint)
        if close(got, expected, tolerance, tolerance):
            continue
        for mistake in mistakes:
            if close(got, mistake.wrong(*args), tolerance, tolerance):
                return CheckResult(exercise, FAIL, mistake.hint)
        return CheckResult(exercise, FAIL, f"Expected {show(expected)}; yours gave {show(got)}.")
    return CheckResult(exercise, PASS, "Well done!")


def answer_check(exercise: str, answer, correct, hint: Callable) -> CheckResult:
    """Compare a written answer (not a function) with ``correct``; ``hint(answer)`` explains a wrong one.

    ``None`` or ``...`` (the cell's placeholder) counts as not attempted.
    """
    if answer is None or answer is ...:
        return CheckResult(exercise, NOT_ATTEMPTED, "Set your answer in its cell, then run this check again.")
    if answer == correct:
        return CheckResult(exercise, PASS, "Well done!")
    return CheckResult(exercise, FAIL, hint(answer))
