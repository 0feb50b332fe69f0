"""The progress bar of training, in a terminal and in a notebook cell.

In a notebook the bar is one text output that is updated in place, so that
the saved notebook, and so the rendered book, keeps its last state.
"""

from __future__ import annotations

from tqdm import tqdm

from .settings import PAGE_WIDTH

__all__ = ["progress_bar"]


class _NotebookLine:
    """A file for tqdm that shows the bar as one text output of a notebook cell.

    tqdm's widget bar (``tqdm.auto`` in a notebook) is live only while a
    kernel runs: a saved notebook, and so the rendered book, keeps its first
    state, "0%".  Updating one display output instead keeps the *last* state,
    live in Jupyter and Colab and final on the page.
    """

    encoding = "utf-8"  # tells tqdm it may draw the bar with Unicode blocks

    def __init__(self) -> None:
        from IPython.display import display

        self._handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text: str) -> None:
        line = text.strip("\r\n").rstrip()
        if line:
            self._handle.update({"text/plain": line}, raw=True)

    def flush(self) -> None:
        pass


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# In a notebook the bar is at most PAGE_WIDTH characters, so that it fits the
# book's code column at a laptop width without scrolling sideways.  The rate
# (batches per second) is left out; the elapsed time says as much.
_NOTEBOOK_BAR_FORMAT = "{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


def progress_bar(total: int, enabled: bool) -> tqdm:
    """A progress bar for the terminal (stderr) or for a notebook cell."""
    if enabled and _in_notebook():
        return tqdm(
            total=total,
            unit="batch",
            file=_NotebookLine(),
            ncols=PAGE_WIDTH,
            bar_format=_NOTEBOOK_BAR_FORMAT,
            mininterval=0.5,
        )
    return tqdm(total=total, unit="batch", disable=not enabled)
