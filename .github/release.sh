#!/usr/bin/env bash
# The release that the chapters' Colab setup cells install.
#
# Every setup cell installs `vaelib @ git+<repository>@v<version>`, with the
# version of vaelib/__init__.py (a test ties them together).  So that a page
# and the package it installs always match, a version names one vaelib only:
#
#   release.sh check   fails if tag v<version> exists and vaelib (or
#                      pyproject.toml) has changed since it: bump the version.
#   release.sh tag     creates and pushes tag v<version> at HEAD, if missing.
#
# The publish workflow runs `check` before it builds and `tag` after it deploys.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' vaelib/__init__.py)
if [ -z "$version" ]; then
  echo "release.sh: no __version__ = \"...\" line in vaelib/__init__.py" >&2
  exit 2
fi
tag="v$version"

case "${1:-}" in
  check)
    if ! git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
      echo "release.sh: $tag is a new release; it will be tagged when the book is published"
    elif git diff --quiet "$tag" HEAD -- vaelib pyproject.toml; then
      echo "release.sh: vaelib is as released in $tag"
    else
      echo "release.sh: vaelib has changed since $tag, but its version has not." >&2
      echo "Bump it everywhere it is named (vaelib/__init__.py, pyproject.toml, every" >&2
      echo "chapter's setup cell, the README) with \`python3 tools/version.py NEW\`;" >&2
      echo "\`python3 tools/version.py\` and tests/test_publish.py list what disagrees." >&2
      git diff --stat "$tag" HEAD -- vaelib pyproject.toml >&2
      exit 1
    fi
    ;;
  tag)
    if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
      echo "release.sh: $tag exists"
    else
      git tag "$tag" HEAD
      git push origin "refs/tags/$tag"
      echo "release.sh: tagged $tag"
    fi
    ;;
  *)
    echo "usage: release.sh check|tag" >&2
    exit 2
    ;;
esac
