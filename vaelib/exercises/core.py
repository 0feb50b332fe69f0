"""The mechanism shared by every chapter's checks.

A check runs the student's function on inputs it makes itself and compares
the result with a reference (:func:`run_check`), or compares a written answer
with the right one (:func:`answer_check`).  It never raises: it returns a
:class:`CheckResult` whose text is a pass, a specific hint for a known
:class:`Mistake`, the student's value beside the expected one, or "not
attempted yet" while the function still raises ``NotImplementedError``.

A hint names the mistake and points to the idea; where the next step would be
the formula itself, the formula comes only from the third failed try of that
exercise on (:func:`tell`): each check counts its exercise's failed tries.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

__all__ = [
    "FAIL",
    "NOT_ATTEMPTED",
    "PASS",
    "CheckResult",
    "LayerKindError",
    "LayerShapeError",
    "Mistake",
    "answer_check",
    "close",
    "copy_layers",
    "difference",
    "kind",
    "math_or_torch",
    "never_raises",
    "normalize",
    "not_a_function",
    "not_a_python_number",
    "not_attempted",
    "read_answer",
    "reset_attempts",
    "run_check",
    "seeded",
    "show",
    "tell",
    "where_it_failed",
    "with_report",
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


def close(a, b, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    """Whether ``a`` equals ``b`` within tolerance: tensors (same shape), tuples of them, or numbers.

    Never raises: anything that cannot be compared is simply not close.
    """
    try:
        if isinstance(a, (list, tuple)) and not isinstance(b, (list, tuple)):
            return False
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
            return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
        return abs(float(a) - float(b)) <= atol + rtol * abs(float(b))
    except Exception:  # noqa: BLE001 - a student's value of any type
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
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind(value) -> str:
    """What ``value`` is, in a few words: None, a tensor of shape [...], a str."""
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        return f"a tensor of shape {list(value.shape)}"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def difference(got, expected, tolerance: float = 1e-4) -> str | None:
    """What is wrong with ``got`` as an answer equal to ``expected``, in words; ``None`` if nothing.

    For tensors: the type, the shape, the first non-finite entry, else the
    first entry that differs, with its index.  Never raises.
    """
    try:
        if got is None:
            return "Your function returned None: did it forget to `return` its result?"
        if isinstance(expected, tuple):
            if not isinstance(got, (tuple, list)) or len(got) != len(expected):
                return f"Return {len(expected)} values, as a tuple; yours returned {kind(got)}."
            for k, (g, e) in enumerate(zip(got, expected, strict=True)):
                problem = difference(g, e, tolerance)
                if problem is not None:
                    return f"In value {k + 1} of the {len(expected)} you return: {problem}"
            return None
        if isinstance(expected, Tensor):
            return _tensor_difference(got, expected, tolerance)
        return _number_difference(got, expected, tolerance)
    except Exception as err:  # noqa: BLE001 - never let a student's value crash the check
        return f"Your result could not be compared ({type(err).__name__}: {err}); it is {kind(got)}."


def _tensor_difference(got, expected: Tensor, tolerance: float) -> str | None:
    shape = list(expected.shape)
    if not isinstance(got, Tensor):
        if isinstance(got, numbers.Real) and not isinstance(got, bool) and expected.numel() == 1:
            got = torch.tensor(float(got))
        else:
            return f"Return a tensor of shape {shape}; yours returned {kind(got)}."
    if got.is_complex() or got.dtype == torch.bool:
        return f"Return a tensor of real numbers; yours has dtype {got.dtype}."
    if got.numel() == expected.numel() == 1:
        got, expected = got.reshape(()), expected.reshape(())
    if list(got.shape) != shape:
        return f"Expected a tensor of shape {shape}; yours has shape {list(got.shape)}."
    got = got.detach().to("cpu", torch.float64)
    expected = expected.detach().to("cpu", torch.float64)
    bad = ~torch.isfinite(got) & torch.isfinite(expected)
    if bad.any():
        index = tuple(bad.nonzero()[0].tolist())
        return f"Your result has {got[index].item()} at index {index}, where {expected[index].item():.6g} was expected."
    wrong = ~torch.isclose(got, expected, rtol=tolerance, atol=tolerance, equal_nan=True)
    if not wrong.any():
        return None
    index = tuple(wrong.nonzero()[0].tolist())
    where = f"at index {index}" if index else "the value"
    count = f" ({int(wrong.sum())} of {wrong.numel()} entries differ)" if wrong.numel() > 1 else ""
    values = f"expected {expected[index].item():.6g}, yours is {got[index].item():.6g}"
    return f"{where[0].upper()}{where[1:]}: {values}{count}."


def _number_difference(got, expected, tolerance: float) -> str | None:
    if isinstance(got, Tensor):
        if got.numel() != 1:
            return f"Return one number; yours returned {kind(got)}."
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return f"Return a number; yours returned {kind(got)}."
    if math.isnan(got):
        return f"Your function returned NaN; expected {show(float(expected))}."
    if close(got, expected, tolerance, tolerance):
        return None
    return f"Expected {show(float(expected))}; yours gave {show(float(got))}."


def not_a_python_number(got) -> str | None:
    """Why ``got`` is not a plain Python number (a float, or an int) as a prompt that says
    "a float" asks, in words; ``None`` if it is one.  A tuple or list is checked item by item."""
    if isinstance(got, (tuple, list)):
        return next((problem for problem in map(not_a_python_number, got) if problem), None)
    if isinstance(got, Tensor):
        what = "a 0-d tensor" if got.dim() == 0 else kind(got)
        single = " Call .item() on it to get the number." if got.numel() == 1 else ""
        return f"Return a Python float, as the exercise asks; yours returned {what}.{single}"
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return f"Return a Python float, as the exercise asks; yours returned {kind(got)}."
    return None


def math_or_torch(err: BaseException, args: tuple = ()) -> str | None:
    """A hint for the classic mix-up of ``math`` and ``torch`` functions, from the error it raised:
    ``torch.log`` of a plain number, or ``math.log`` of a tensor (None for any other error)."""
    text = str(err)
    if isinstance(err, TypeError) and "must be Tensor, not" in text:
        return (
            "A torch function was handed a plain Python number: for numbers use the math module "
            "(math.log, math.sqrt, math.pi); torch's functions take tensors."
        )
    if isinstance(err, (TypeError, ValueError, RuntimeError)) and (
        "only one element tensors can be converted" in text or "must be real number, not Tensor" in text
    ):
        return (
            "A math function was handed a tensor: math.log and its kin take one plain number; "
            "for a tensor, elementwise, use torch.log, torch.sqrt, ..."
        )
    return None


def where_it_failed(err: BaseException) -> str:
    """The line of the student's code where ``err`` was raised, as a short text (or "")."""
    package = Path(__file__).resolve().parents[1]
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if not Path(frame.filename).resolve().is_relative_to(package) and "site-packages" not in frame.filename
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f" (line {frame.lineno} of your function{code})"


def _copy(value):
    """A copy of a case's argument, so that an answer that changes its inputs in place changes only the copy."""
    if isinstance(value, Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def seeded(make: Callable[[], object], seed: int = 0):
    """``make()`` (a model, say) with PyTorch's global generator seeded, then put back as it
    was: the same model on every check, and the student's random state untouched."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return make()


class LayerShapeError(ValueError):
    """A student's layer whose size is not the one the exercise asks for; the message says which."""


class LayerKindError(ValueError):
    """A student's named layer that is not a plain ``nn.Linear`` with its bias; the message says which."""


_LAYER_NEEDED = "each named layer must be an nn.Linear (with its bias); apply the ReLU in forward."


def _layer_kind_problem(student, name: str) -> str | None:
    """Why the student's layer ``name`` cannot be copied into vaelib's model, or None."""
    layer = getattr(student, name, None)
    if layer is None:
        return f"The check looks for a layer named {name}, and your model has none: {_LAYER_NEEDED}"
    if not isinstance(layer, torch.nn.Linear):
        return (
            f"Your layer {name} is {kind(layer)}, not an nn.Linear. The check copies the weight and bias "
            f"of each named layer into vaelib's model: {_LAYER_NEEDED}"
        )
    if not isinstance(layer.bias, Tensor):
        return (
            f"Your layer {name} has no bias (bias=False). The check copies the weight and bias "
            f"of each named layer into vaelib's model: {_LAYER_NEEDED}"
        )
    return None


def copy_layers(student, reference, layers: dict[str, tuple[str, int | None]]) -> None:
    """Give ``reference`` (a vaelib model) the weights of the student's layers.

    ``layers`` maps each of the student's layer names to where the reference
    keeps that layer: ``(attribute, None)`` or ``(attribute, index)`` in a
    ``Sequential``.  Then both compute the same function, if the student's is right.
    A layer that is not an ``nn.Linear`` with its bias (an ``nn.Sequential`` with its
    ReLU, ``bias=False``) is a :class:`LayerKindError`, its size a :class:`LayerShapeError`.
    """
    problem = next(filter(None, (_layer_kind_problem(student, name) for name in layers)), None)
    if problem is not None:
        raise LayerKindError(problem)
    with torch.no_grad():
        for name, (where, index) in layers.items():
            theirs = getattr(student, name)
            ours = getattr(reference, where) if index is None else getattr(reference, where)[index]
            if theirs.weight.shape != ours.weight.shape:
                raise LayerShapeError(
                    f"The layer {name} maps {theirs.weight.shape[1]} inputs to {theirs.weight.shape[0]} outputs; "
                    f"it should map {ours.weight.shape[1]} to {ours.weight.shape[0]}."
                )
            ours.weight.copy_(theirs.weight)
            ours.bias.copy_(theirs.bias)


def names_used(function: Callable) -> set[str]:
    """The global and attribute names that ``function``'s code refers to, its inner
    functions and lambdas included: ``torch.autograd.grad`` gives ``torch``,
    ``autograd`` and ``grad``; a local variable gives nothing.  How a check sees that
    an answer asked autograd for what it was asked to derive by hand."""
    code = getattr(function, "__code__", None)
    pending, names = ([code] if code is not None else []), set()
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return names


def calls(function: Callable, args: tuple, target: Callable) -> bool:
    """Whether ``function(*args)`` calls the Python function ``target``, by whatever name
    (a profiler watches every call it makes).  How a check sees that an answer was
    computed from another of the student's answers, such as a KL written as
    log p(x) minus the ELBO.  An error the call raises counts as no."""
    target_code = getattr(target, "__code__", None)
    seen = False

    def watch(frame, event, _):
        nonlocal seen
        if event == "call" and frame.f_code is target_code:
            seen = True

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        function(*_copy(args))
    except Exception:  # noqa: BLE001 - the student's bug; run_check reports it
        pass
    finally:
        sys.setprofile(previous)
    return seen


def not_attempted(exercise: str, written: bool = False) -> CheckResult:
    """The result while the answer cell still holds its stub (a function that raises
    NotImplementedError) or, for a ``written`` answer, its placeholder (None)."""
    what = "Set your answer" if written else "Write your code"
    return CheckResult(exercise, NOT_ATTEMPTED, f"{what} in its cell, then run this check again.")


def not_a_function(exercise: str, answer, what: str = "function") -> CheckResult:
    """The result when the answer is not the function (or class) asked for, e.g. its call."""
    return CheckResult(exercise, FAIL, f"Pass your {what} itself (its name, without parentheses), not {kind(answer)}.")


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
