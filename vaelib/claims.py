"""Claims: the sentences of the book that read an output, checked.

A chapter's text interprets its outputs ("the codes beat the pixels", "the
estimate rises with K").  Numbers drift when code changes; prose does not.
So each such sentence is held by a check in a cell that the rendered page
hides (tagged ``remove-cell``)::

    @claims.at_full_settings
    def claims_of_this_section():
        claims.check(accuracy_codes > accuracy_pixels + 0.02,
                     "the codes beat the pixels", accuracy_codes, accuracy_pixels)

The decorator runs the function at once, except in fast mode: there the
runs are too short for the conditions to mean anything, or even to be
computed (a curve of one epoch has no third epoch).

The conditions are written with margins that survive another seed or
machine, at the chapter's full settings.  What a failed check does depends
on the run:

- fast mode (``VAELIB_FAST=1``, the notebook tests): nothing.  One epoch on a
  small subset does not reach the numbers the text describes.
- ``VAELIB_CLAIMS=strict`` (``make book``, and so CI): raise
  :class:`ClaimError`, which fails the book build and names the sentence.
- ``VAELIB_CLAIMS=report`` (``tools/claims_report.py``, for a teacher who
  changed the settings): print the note and also append the sentence and
  the measured numbers, as one JSON line, to the file that
  ``VAELIB_CLAIMS_REPORT`` names, so that one run lists every sentence that
  no longer holds instead of stopping at the first.
- otherwise (a reader in Jupyter or Colab, who may have changed an
  experiment): print a note that names the sentence and carry on, so the
  notebook still runs top to bottom.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from . import settings

__all__ = ["ClaimError", "at_full_settings", "check", "mode"]


class ClaimError(AssertionError):
    """A sentence of the book no longer reads its output right."""


def mode() -> str:
    """``"skip"`` in fast mode, ``"strict"`` or ``"report"`` as ``VAELIB_CLAIMS`` says,
    else ``"warn"``."""
    if settings.fast_mode():
        return "skip"
    value = os.environ.get("VAELIB_CLAIMS", "").strip().lower()
    if value not in {"", "warn", "strict", "report"}:
        raise ValueError(f"VAELIB_CLAIMS must be 'strict', 'report' or 'warn', got {value!r}")
    if value == "report" and not os.environ.get("VAELIB_CLAIMS_REPORT", "").strip():
        raise ValueError("VAELIB_CLAIMS=report needs VAELIB_CLAIMS_REPORT, the file to append the report to")
    return value or "warn"


def _report(sentence: str, measured: str) -> None:
    """Under ``VAELIB_CLAIMS=report``: append a failed claim to the report file, with the
    execution count of the notebook cell it ran in (None outside a notebook)."""
    import sys

    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    running = getattr(shell, "execution_count", None)  # already the next cell's while a cell runs
    line = {"sentence": sentence, "measured": measured, "execution_count": running - 1 if running else None}
    with open(os.environ["VAELIB_CLAIMS_REPORT"], "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def at_full_settings(claims_of_a_section: Callable[[], object]) -> Callable[[], object]:
    """Run a function of :func:`check` calls now, unless in fast mode; return it.

    An error inside it (a measurement that could not be computed) counts as a
    failed claim: :class:`ClaimError` in a strict build, a printed note for a
    reader.
    """
    if not callable(claims_of_a_section):
        raise TypeError("at_full_settings decorates a function of claims.check calls")
    current = mode()
    if current == "skip":
        return claims_of_a_section
    try:
        claims_of_a_section()
    except ClaimError:
        raise
    except Exception as error:
        message = f"the claims could not be checked: {type(error).__name__}: {error}"
        if current == "strict":
            raise ClaimError(message) from error
        if current == "report":
            _report("(this cell's claims could not be checked)", f"{type(error).__name__}: {error}")
        print(f"Note: {message}.")
    return claims_of_a_section


def check(holds: object, sentence: str, *measured: object) -> bool:
    """Check that ``sentence`` of the text reads this run's outputs right.

    ``holds`` is the condition (a bool, or a one-element tensor); ``measured``
    are the numbers it was computed from, shown when it fails.  Returns
    whether the claim held (always ``True`` in fast mode, where it is not
    checked).
    """
    if not isinstance(sentence, str) or not sentence.strip():
        raise TypeError("sentence must be the text's sentence, as a non-empty string")
    current = mode()
    if current == "skip":
        return True
    if bool(holds):
        return True
    numbers = ", ".join(_format(value) for value in measured)
    message = f"the text says {sentence!r}, but this run measured " + (numbers or "otherwise")
    if current == "strict":
        raise ClaimError(message)
    if current == "report":
        _report(sentence, numbers or "otherwise")
    print(f"Note: {message}. The sentence was written for the chapter's own settings.")
    return False


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "numel", lambda: 0)() == 1:
        return _format(item())
    return repr(value)
