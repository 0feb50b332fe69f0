"""The two drivers that the checks are built on: :func:`run_check` and :func:`answer_check`.

:func:`run_check` runs the student's function on the check's cases and
compares each result with a reference, then with the known mistakes;
:func:`answer_check` compares a written answer (a word, a dict of words),
which :func:`read_answer` first validates.  Neither raises, whatever the
answer is or does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .compare import close, difference, kind, not_a_python_number, show
from .results import FAIL, PASS, CheckResult, Mistake, not_a_function, not_attempted, tell
from .student_code import _copy, where_it_failed

__all__ = ["answer_check", "normalize", "read_answer", "run_check"]


def run_check(
    exercise: str,
    answer: Callable,
    reference: Callable,
    cases: Sequence[tuple],
    mistakes: Sequence[Mistake] = (),
    non_finite_hint: str | None = None,
    tolerance: float = 1e-4,
    accepted: Sequence[Mistake] = (),
    *,
    python_number: bool = False,
    diagnose: Callable[[tuple, object], str | None] | None = None,
    raised: Callable[[BaseException, tuple], str | None] | None = None,
) -> CheckResult:
    """Run ``answer`` on each case; compare with ``reference``, then with ``mistakes``.

    ``accepted`` are other right answers (a ``Mistake`` whose "hint" is a note
    added to the pass message), e.g. a population standard deviation where the
    reference uses the sample one.  ``tolerance`` (relative and absolute) is
    loose for stochastic exercises.  ``python_number``: the exercise asks for a
    Python float, and a tensor is refused.  ``diagnose(args, got)`` names a
    mistake that no fixed wrong answer captures (a hint, or ``None``), once no
    ``mistakes`` matched; ``raised(err, args)`` explains an error the answer
    raised on a case (a hint, or ``None`` for the plain report).  Never raises,
    whatever ``answer`` is or does.
    """
    notes: list[str] = []
    if answer is None or not callable(answer):
        return not_a_function(exercise, answer)
    for args in cases:
        try:
            got = answer(*_copy(args))
        except NotImplementedError:
            return not_attempted(exercise)
        except Exception as err:  # noqa: BLE001 - the student's bug; report it, never raise it
            hint = _safely(raised, err, args) if raised else None
            report = f"Your function raised {type(err).__name__}: {err}{where_it_failed(err)}"
            return CheckResult(exercise, FAIL, f"{report} {hint}" if hint else report)
        expected = reference(*args)
        problem = difference(got, expected, tolerance)
        if problem is None:
            wrong_type = not_a_python_number(got) if python_number else None
            if wrong_type:
                return CheckResult(exercise, FAIL, wrong_type)
            continue
        alternative = next((a for a in accepted if _matches(got, a.wrong, args, tolerance)), None)
        if alternative is not None:
            notes.append(alternative.hint)
            continue
        for mistake in mistakes:
            if _matches(got, mistake.wrong, args, tolerance):
                return CheckResult(exercise, FAIL, tell(exercise, mistake.hint, mistake.formula))
        hint = _safely(diagnose, args, got) if diagnose else None
        if hint:
            return CheckResult(exercise, FAIL, hint)
        if non_finite_hint and isinstance(got, Tensor) and not torch.isfinite(got).all():
            return CheckResult(exercise, FAIL, non_finite_hint)
        return CheckResult(exercise, FAIL, problem)
    return CheckResult(exercise, PASS, " ".join(["Well done!", *dict.fromkeys(notes)]))


def _safely(explain: Callable, *args) -> str | None:
    """``explain(*args)``, or ``None`` if it fails on a value it did not expect."""
    try:
        return explain(*args)
    except Exception:  # noqa: BLE001 - a diagnosis that does not apply to this answer
        return None


def _matches(got, other: Callable, args: tuple, tolerance: float) -> bool:
    try:
        return close(got, other(*args), tolerance, tolerance)
    except Exception:  # noqa: BLE001 - an alternative that does not apply to this case
        return False


def normalize(answer):
    """A written answer with case and surrounding spaces ignored: " Up" -> "up" (also inside dicts)."""
    if isinstance(answer, str):
        return " ".join(answer.split()).lower()
    if isinstance(answer, dict):
        return {normalize(k): normalize(v) for k, v in answer.items()}
    return answer


def answer_check(exercise: str, answer, correct, hint: Callable) -> CheckResult:
    """Compare a written answer (not a function) with ``correct``; ``hint(answer)`` explains a wrong one.

    ``None`` or ``...`` (the cell's placeholder) counts as not attempted.  Strings
    are compared without regard to case or surrounding spaces.  Never raises.
    """
    if answer is None or answer is ...:
        return not_attempted(exercise, written=True)
    try:
        if normalize(answer) == normalize(correct):
            return CheckResult(exercise, PASS, "Well done!")
        return CheckResult(exercise, FAIL, hint(normalize(answer)))
    except Exception as err:  # noqa: BLE001 - an answer of a type the hint did not expect
        return CheckResult(exercise, FAIL, f"Your answer, {show(answer)}, is not of the kind asked for ({err}).")


def read_answer(exercise: str, answer, choices: Sequence[str], keys: Sequence[str] | None = None):
    """A written answer, validated and normalized: one of ``choices`` or, with ``keys``, a
    dict with exactly those keys whose values are among ``choices``.

    Returns the normalized answer, or a :class:`CheckResult` to return as it is: "not
    attempted" for the placeholder (None or ...), a failure that shows the expected form.
    """
    if answer is None or answer is ...:
        return not_attempted(exercise, written=True)
    options = " or ".join(f'"{c}"' for c in choices)
    if keys is None:
        if isinstance(answer, str) and normalize(answer) in choices:
            return normalize(answer)
        yours = repr(answer) if isinstance(answer, str) else kind(answer)
        return CheckResult(exercise, FAIL, f"Answer with {options}, as a string; yours is {yours}.")
    example = "{" + ", ".join(f'"{k}": "{choices[0]}"' for k in keys) + "}"
    if isinstance(answer, dict):
        answer = normalize(answer)
        if set(answer) == set(keys) and all(isinstance(v, str) and v in choices for v in answer.values()):
            return answer
    return CheckResult(exercise, FAIL, f"Answer with a dict like {example}: each value {options}.")
