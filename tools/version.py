"""The one version of vaelib, and every place that names it.

A release is `v<version>` of this repository; the chapters' Colab setup cells
install it.  Four kinds of file name the version, and all must agree:

- ``vaelib/__init__.py`` (``__version__``), where the version is read from;
- ``pyproject.toml`` (``version`` of ``[project]``);
- the setup cell of every chapter (``release = "git+<repository>@v<version>"``);
- the README (``vaelib @ git+<repository>@v<version>``).

    python3 tools/version.py            lists every place that disagrees (exit 1 if any)
    python3 tools/version.py 0.2.0      sets the version in all of them

The tests (``tests/test_publish.py``) and the release script
(``.github/release.sh``) use the same list.  Plain Python 3.11, no packages:
it runs before any environment exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chapters import chapters as by_number  # noqa: E402  (tools/chapters.py, beside this file)

ROOT = Path(__file__).resolve().parents[1]
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.M)
# A public version (0.2.0, 1.0rc1, 0.2.0.post1) with an optional local label (+myuni, +myuni.2).
PEP440 = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?")
PROJECT_VERSION = re.compile(r'^(version = ")([^"]+)(")$', re.M)


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks, ``book/NN_*.ipynb``, in order (``tools/chapters.py``)."""
    return list(by_number(root).values())


def current(root: Path = ROOT) -> str:
    """The version in ``vaelib/__init__.py``."""
    found = VERSION_LINE.search((root / "vaelib" / "__init__.py").read_text())
    if found is None:
        raise ValueError('vaelib/__init__.py has no line __version__ = "..."')
    return found.group(1)


def repository(root: Path = ROOT) -> str:
    """The repository's address, from ``_config.yml`` (``repository: url``)."""
    found = re.search(r"^repository:\n(?:[ #].*\n)*?  url: (\S+)$", (root / "_config.yml").read_text(), re.M)
    if found is None:
        raise ValueError("_config.yml has no `repository:` with a `url:`")
    return found.group(1)


def release_url(root: Path = ROOT, version: str | None = None) -> str:
    """What the setup cells install: ``git+<repository>@v<version>``."""
    return f"git+{repository(root)}@v{version or current(root)}"


def mismatches(root: Path = ROOT) -> list[str]:
    """Every place that does not name the version of ``vaelib/__init__.py``, one line each."""
    version, wanted = current(root), release_url(root)
    problems = []
    named = PROJECT_VERSION.search((root / "pyproject.toml").read_text())
    project = named.group(2) if named else None
    if project != version:
        problems.append(f"pyproject.toml: version = {project!r}, not {version!r}")
    for notebook in chapters(root):
        text = notebook.read_text()
        if f'release = \\"{wanted}\\"' not in text:
            named = re.search(r'release = \\"([^"\\]*)\\"', text)
            said = named.group(1) if named else "no release line in its setup cell"
            problems.append(f"{notebook.relative_to(root)}: setup cell installs {said}, not {wanted}")
    if f"vaelib @ {wanted}" not in (root / "README.md").read_text():
        problems.append(f"README.md: no `vaelib @ {wanted}` (the line that installs just the package)")
    return problems


def set_version(new: str, root: Path = ROOT) -> list[Path]:
    """Write ``new`` into every place that names the version; returns the files changed."""
    if not PEP440.fullmatch(new):
        raise ValueError(f"not a version pip accepts (PEP 440, e.g. 0.2.0 or 0.2.0+myuni): {new!r}")
    new_url = release_url(root, new)
    changed = []

    def rewrite(path: Path, text: str) -> None:
        if path.read_text() != text:
            path.write_text(text)
            changed.append(path)

    init = root / "vaelib" / "__init__.py"
    rewrite(init, VERSION_LINE.sub(f'__version__ = "{new}"', init.read_text(), count=1))
    pyproject = root / "pyproject.toml"
    rewrite(pyproject, PROJECT_VERSION.sub(rf"\g<1>{new}\g<3>", pyproject.read_text(), count=1))
    line = re.compile(r'release = \\"git\+[^"\\@]+@v[^"\\]*\\"')
    for notebook in chapters(root):
        rewrite(notebook, line.sub(f'release = \\\\"{new_url}\\\\"', notebook.read_text()))
    readme = root / "README.md"
    rewrite(readme, re.sub(r"vaelib @ git\+[^\s\"`@]+@v[^\s\"`]+", f"vaelib @ {new_url}", readme.read_text()))
    return changed


def main(argv: list[str]) -> int:
    if argv:
        try:
            changed = set_version(argv[0])
        except ValueError as err:
            print(f"version: {err}", file=sys.stderr)
            return 2
        for path in changed:
            print(f"version {argv[0]}: {path.relative_to(ROOT)}")
    problems = mismatches()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"{len(problems)} place(s) do not name vaelib's version {current()}; "
            f"`python3 tools/version.py {current()}` sets it everywhere",
            file=sys.stderr,
        )
        return 1
    print(f"vaelib {current()}: every place names it ({release_url()})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
