"""Show the package's own code on a page, so that the page and the package cannot disagree.

Where a chapter introduces a model or a loss, it shows the code that the
rest of the chapter runs: ``source.show(models.VAE)`` displays the class as
``vaelib`` defines it, syntax-highlighted, in the book, in Jupyter and in
Colab alike (an HTML output; a Markdown ``literalinclude`` would show as raw
text in Colab).  Long lines wrap instead of scrolling sideways.
"""

from __future__ import annotations

import html
import inspect
import textwrap

__all__ = ["Source", "show"]


class Source:
    """The source code of one or more functions or classes, displayable in a notebook."""

    def __init__(self, *objects: object) -> None:
        if not objects:
            raise TypeError("show() needs at least one function or class")
        self.names = []
        parts = []
        for obj in objects:
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj)):
                raise TypeError(f"can only show functions and classes, got {type(obj).__name__}")
            self.names.append(f"{obj.__module__}.{obj.__qualname__}")
            parts.append(textwrap.dedent(inspect.getsource(obj)).rstrip())
        self.code = "\n\n\n".join(parts) + "\n"

    def __repr__(self) -> str:
        return self.code

    def _repr_html_(self) -> str:
        title = html.escape(", ".join(self.names))
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer

            body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=True))
        except ImportError:  # pragma: no cover - pygments comes with IPython
            body = html.escape(self.code)
        return (
            f'<div class="vaelib-source"><div style="font-size: 85%; color: #555;">from the package: '
            f"<code>{title}</code></div>"
            '<pre style="white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3em 0; padding: 0.6em; '
            f'background: #f8f8f8; border-left: 3px solid #4C72B0; font-size: 85%;">{body}</pre></div>'
        )


def show(*objects: object) -> Source:
    """The source of ``objects`` (functions or classes), as ``vaelib`` defines them."""
    return Source(*objects)
