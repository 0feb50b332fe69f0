"""Running and reading the student's code: what a check needs besides the value it returns.

Where the student's code raised an error (:func:`where_it_failed`), and the
hint for the classic mix-up of ``math`` and ``torch`` (:func:`math_or_torch`);
the arguments copied before each call, so that an answer that changes its
inputs changes only the copy; a model made the same way on every check
(:func:`seeded`); the student's weights copied into vaelib's model
(:func:`copy_layers`), so that both compute the same function if the
student's is right; and what the code refers to or calls (:func:`names_used`,
:func:`calls`), to see that an answer took a shortcut the exercise rules out.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from .compare import kind

__all__ = ["LayerKindError", "LayerShapeError", "copy_layers", "math_or_torch", "seeded", "where_it_failed"]


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
