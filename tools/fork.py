"""Make a fork of the book its own: one command for everything a file says.

    python3 tools/fork.py myuni/vae-course [--title "..."] [--author "..."]
    make fork REPOSITORY=myuni/vae-course TITLE="..." AUTHOR="..."

It rewrites, in the files of this checkout:

- the repository's address (``https://github.com/<owner>/<repository>``):
  ``_config.yml`` (the launch and repository buttons), the chapters' Colab
  setup cells, ``pyproject.toml``'s links, the README's badge and install line;
- the Pages address (``https://<owner>.github.io/<repository>``): the README
  and ``pyproject.toml``;
- the book's title and author in ``_config.yml`` (and the headings of the README
  and of the book's first page);
- the page footer gains a line that credits the original book, its authors and
  its address, as its text's licence (CC BY 4.0) asks;
- the release: vaelib's version gets a local label naming the fork
  (``0.1.0`` becomes ``0.1.0+myuni``), in every place that names it
  (``tools/version.py``).  A fork keeps the original's tags, and the
  original's ``v0.1.0`` is not the fork's vaelib (its ``pyproject.toml``
  now names the fork), so the release check would otherwise stop the first
  publish; the fork's first publish tags ``v0.1.0+myuni``.

What only GitHub's settings can do is printed at the end (and listed in the
README, "Publish your own copy").  Run it again with other values to change
them; the README's instructions themselves are left as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import version as versions  # noqa: E402  (tools/version.py, beside this file)

ROOT = versions.ROOT
NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def pages_address(repository: str) -> str:
    """GitHub Pages' address of ``owner/name``: a user site for ``owner/owner.github.io``."""
    owner, name = repository.split("/")
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io"
    return f"https://{owner.lower()}.github.io/{name}"


def fork(repository: str, title: str | None = None, author: str | None = None, root: Path = ROOT) -> list[str]:
    """Rewrite this checkout's files for ``repository`` (``owner/name``); returns what changed."""
    if not NAME.fullmatch(repository):
        raise ValueError(f"repository must be owner/name as GitHub spells it, got {repository!r}")
    old_source = versions.repository(root)
    old_owner_name = old_source.removeprefix("https://github.com/")
    new_source = f"https://github.com/{repository}"
    old_pages, new_pages = pages_address(old_owner_name), pages_address(repository)
    owner = repository.split("/")[0]
    base = versions.current(root).split("+")[0]
    label = re.sub(r"[^a-z0-9]+", ".", owner.lower()).strip(".")
    new_version = f"{base}+{label}" if repository != old_owner_name else versions.current(root)
    done = []

    versions.set_version(new_version, root)  # the release lines still name the old address
    done.append(f"version {new_version} (vaelib/__init__.py, pyproject.toml, setup cells, README)")

    def replace(path: Path, pairs: list[tuple[str, str]]) -> None:
        text = path.read_text()
        new = text
        for old, value in pairs:
            new = new.replace(old, value)
        if new != text:
            path.write_text(new)
            done.append(f"addresses in {path.relative_to(root)}")

    release_old = f"git+{old_source}@v{new_version}"
    release_new = f"git+{new_source}@v{new_version}"
    for notebook in versions.chapters(root):
        replace(notebook, [(release_old, release_new)])
    replace(root / "pyproject.toml", [(f'"{old_source}"', f'"{new_source}"'), (f'"{old_pages}"', f'"{new_pages}"')])
    readme = root / "README.md"
    replace(readme, [
        (f"{old_source}/actions/", f"{new_source}/actions/"),  # the badge
        (f"({old_pages})", f"({new_pages})"),  # the published book
        (release_old, release_new),  # the install line
    ])  # fmt: skip

    config = root / "_config.yml"
    text = config.read_text()
    new = re.sub(r"^(  url: )\S+$", rf"\g<1>{new_source}", text, count=1, flags=re.M)
    if "Adapted from" not in new and repository != old_owner_name:  # CC BY 4.0: credit the original
        original_title = re.search(r"^title: \"?(.*?)\"?$", new, re.M).group(1)
        original_author = re.search(r"^author: \"?(.*?)\"?$", new, re.M).group(1)
        credit = (
            f'    <p>Adapted from <a href="{old_pages}">{original_title}</a> by {original_author}'
            f' (<a href="{old_source}">source</a>), under CC BY 4.0.</p>\n'
        )
        new = re.sub(r"^(  extra_footer: \|\n(?:    .*\n)+)", lambda m: m.group(1) + credit, new, count=1, flags=re.M)
    if title is not None:
        new = re.sub(r"^title: .*$", lambda _: f"title: {_yaml_string(title)}", new, count=1, flags=re.M)
        for page in (readme, root / "book" / "intro.md"):  # the README's heading, the site's first page
            if page.exists():
                page.write_text(re.sub(r"\A# .*$", lambda _: f"# {title}", page.read_text(), count=1, flags=re.M))
    new = new.replace("  use_issues_button: true", "  use_issues_button: false")  # GitHub turns a fork's issues off
    if author is not None:
        new = re.sub(r"^author: .*$", lambda _: f"author: {_yaml_string(author)}", new, count=1, flags=re.M)
    if new != text:
        config.write_text(new)
        done.append(
            "_config.yml: "
            + ", ".join(["repository url"] + [n for n, v in [("title", title), ("author", author)] if v])
        )
    return done


def _yaml_string(value: str) -> str:
    """``value`` as a double-quoted YAML string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


CHECKLIST = """\
Now, on GitHub (what no file can say):
  1. Enable Actions (the Actions tab: a fork starts with its workflows off).
  2. Settings, Pages, Source: GitHub Actions.  (A fork of a public repository is
     public, solutions included; GitHub Pages needs a public repository on a
     free plan, and Colab installs vaelib only from a public one.)
  3. Commit these changes and push to main: the workflow builds the book (about
     15 minutes on GitHub's runners), publishes it at {pages} and tags
     v{version}, the release the setup cells install.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make this checkout a fork's own: addresses, title, author, release.")
    parser.add_argument("repository", help="owner/name of the fork on GitHub, e.g. myuni/vae-course")
    parser.add_argument("--title", help="the book's title (in _config.yml and the README's heading)")
    parser.add_argument("--author", help="the book's author line (in _config.yml)")
    arguments = parser.parse_args(argv)
    try:
        changes = fork(arguments.repository, arguments.title, arguments.author)
    except ValueError as err:
        print(f"fork: {err}", file=sys.stderr)
        return 2
    for change in changes:
        print(f"fork: {change}")
    problems = versions.mismatches()
    for problem in problems:
        print(f"fork: still wrong: {problem}", file=sys.stderr)
    print(CHECKLIST.format(pages=pages_address(arguments.repository), version=versions.current()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
