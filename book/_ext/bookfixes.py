"""Small fixes to the HTML that Jupyter Book 1 writes, so pages load cleanly.

Figure numbers: the captions carry their chapter's own numbers ("Figure 4.3:
..."), which the text cites, so Sphinx's book-wide numbering ("Fig. 21") is
off (``numfig: false`` in ``_config.yml``).  sphinx-jupyterbook-latex, which
Jupyter Book loads, sets ``numfig`` back to True for every builder when the
configuration is read; this extension runs after it and restores the book's
setting.

Sphinx 7.4 registers an inline script added by an extension twice when the
extension adds it after the builder starts: once with ``filename=None`` and
once with ``filename=''``, which compare unequal.  For sphinx-thebe's script
that declares ``const THEBE_JS_URL`` twice: an uncaught SyntaxError on every
page.  This extension keeps each script once.

Page weight: pydata-sphinx-theme loads Font Awesome twice, as web fonts
through its stylesheet (which draw every icon of the theme) and as a 1.5 MB
script (540 kB compressed) that exists "so that users can add custom icons".
The book adds none, so the script tag is removed from every page after the
build; the icons stay, drawn by the fonts.
"""

from __future__ import annotations

import re
from pathlib import Path

FONTAWESOME_SCRIPT = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')


def _script_key(script) -> tuple:
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {})
    return str(filename), tuple(sorted(attributes.items()))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop the scripts of a page that repeat an earlier one."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def no_book_wide_figure_numbers(app, config) -> None:
    """Undo sphinx-jupyterbook-latex's ``numfig = True`` (see the module docstring)."""
    config.numfig = False


def drop_fontawesome_script(app, exception) -> None:
    """Remove the theme's Font Awesome script from every page (see the module docstring)."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = FONTAWESOME_SCRIPT.sub("", text)
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")


def setup(app):
    app.connect("config-inited", no_book_wide_figure_numbers, priority=900)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("build-finished", drop_fontawesome_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
