"""How a check compares an answer with the expected value, and says what differs.

:func:`close` is the closeness test; :func:`difference` says in words what is
wrong with a value (its type, its shape, the first entry that differs);
:func:`show` and :func:`kind` describe a value in a message.  None of them
raises, whatever the student's value is.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

__all__ = ["close", "difference", "kind", "not_a_python_number", "show"]


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
