"""The argument checks every module shares, so that each error reads the same.

A bool is refused wherever a number is expected: ``True`` is an ``int`` to
Python, but never a meaningful batch size, learning rate or sigma.
"""

from __future__ import annotations

import math
import numbers


def is_int(value: object) -> bool:
    """An integer (a Python or NumPy one), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: object, minimum: int = 1) -> None:
    """Refuse anything but an integer ``>= minimum`` with a ValueError naming ``name``."""
    if not is_int(value) or value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")


def check_number(name: str, value: object, *, positive: bool) -> None:
    """Refuse anything but a finite number, ``> 0`` if ``positive`` else ``>= 0``, naming ``name``."""
    if (
        not (is_int(value) or isinstance(value, float))
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        wanted = "a positive finite number" if positive else "a finite number >= 0"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
