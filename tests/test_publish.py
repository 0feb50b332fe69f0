"""Publishing: the GitHub workflow runs the README's commands, the Colab setup
cells install the release that matches their page, and the release script
keeps one version for one vaelib.  Everything here runs offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib
import yaml
from conftest import REPO

import vaelib

WORKFLOW = REPO / ".github" / "workflows" / "book.yml"
RELEASE = REPO / ".github" / "release.sh"
CHAPTERS = sorted(p for p in (REPO / "book").glob("*.ipynb") if re.match(r"\d\d_", p.name))


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def runs(job: str) -> list[str]:
    return [step["run"] for step in workflow()["jobs"][job]["steps"] if "run" in step]


def uses(job: str) -> list[str]:
    return [step["uses"].split("@")[0] for step in workflow()["jobs"][job]["steps"] if "uses" in step]


def test_pull_requests_run_the_readme_test_command_and_main_builds_the_book_with_the_readme_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    triggers = workflow()[True]  # YAML reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    assert workflow()["jobs"]["test"]["if"] == "github.event_name == 'pull_request'"
    assert [r.strip() for r in runs("test")][-1] == "make test"
    assert "make book" in [r.strip() for r in runs("build")]
    assert workflow()["jobs"]["build"]["if"] == "github.event_name != 'pull_request'"


def test_the_built_site_is_what_make_book_writes_and_goes_out_through_the_official_pages_actions():
    build = workflow()["jobs"]["build"]
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert "_build/html" in (REPO / "Makefile").read_text().split("\nbook:", 1)[1].split("\n\n", 1)[0]
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "build" and uses("deploy") == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert workflow()["permissions"] == {"contents": "read"}, "only the jobs that need more get more"


def test_caches_hold_downloads_only():
    for job in ("test", "build"):
        caches = [s for s in workflow()["jobs"][job]["steps"] if s.get("uses", "").startswith("actions/cache@")]
        assert [c["with"]["path"] for c in caches] == ["~/.cache/pip"], "cache pip's downloads, not builds"


def test_the_launch_buttons_of_the_published_book_open_the_notebooks_of_its_commit(tmp_path):
    step = next(r for r in runs("build") if "_config.yml" in r and "sed" in r)
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    sha = "0123456789abcdef0123456789abcdef01234567"
    subprocess.run(["bash", "-c", step], cwd=tmp_path, env={**os.environ, "GITHUB_SHA": sha}, check=True)
    before, after = (yaml.safe_load(p.read_text()) for p in (REPO / "_config.yml", tmp_path / "_config.yml"))
    assert after["repository"]["branch"] == sha
    after["repository"]["branch"] = before["repository"]["branch"]
    assert after == before, "the step changes the branch and nothing else"


def test_make_lint_validates_the_workflow_offline():
    lint = (REPO / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "check-jsonschema --builtin-schema vendor.github-workflows" in lint
    assert "zizmor --offline" in lint


def test_every_setup_cell_installs_the_release_of_this_vaelib():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert vaelib.__version__ == version, "vaelib/__init__.py and pyproject.toml name one version"
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    for nb in CHAPTERS:
        cells = json.loads(nb.read_text())["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
        assert f'release = "git+{url}@v{version}"' in first, f"{nb.name} must install vaelib v{version}"
        assert '%pip install --quiet "vaelib @ {release}"' in first
    assert f"vaelib @ git+{url}@v{version}" in (REPO / "README.md").read_text()


# -- the release script, in a scratch repository -------------------------------


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def release(cwd: Path, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", ".github/release.sh", command], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def scratch(tmp_path):
    """A repository with the release script, a vaelib at 0.1.0, and a remote to push tags to."""
    remote, repo = tmp_path / "remote.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    (repo / ".github").mkdir(parents=True)
    (repo / "vaelib").mkdir()
    shutil.copy(RELEASE, repo / ".github" / "release.sh")
    (repo / "vaelib" / "__init__.py").write_text('__version__ = "0.1.0"\n')
    (repo / "pyproject.toml").write_text('version = "0.1.0"\n')
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "remote", "add", "origin", str(remote))
    return repo, remote


def test_a_new_version_passes_the_check_and_is_tagged_and_pushed_once(scratch):
    repo, remote = scratch
    assert release(repo, "check").returncode == 0
    tagged = release(repo, "tag")
    assert tagged.returncode == 0 and "tagged v0.1.0" in tagged.stdout
    assert "v0.1.0" in git(remote, "tag")
    again = release(repo, "tag")
    assert again.returncode == 0 and "v0.1.0 exists" in again.stdout


def test_changing_vaelib_without_a_new_version_fails_the_check(scratch):
    repo, _ = scratch
    release(repo, "tag")
    (repo / "README.md").write_text("text only\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "docs")
    assert release(repo, "check").returncode == 0, "a change outside vaelib needs no release"
    (repo / "vaelib" / "core.py").write_text("x = 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "code")
    failed = release(repo, "check")
    assert failed.returncode == 1 and "vaelib has changed since v0.1.0" in failed.stderr
    assert "vaelib/core.py" in failed.stderr
    (repo / "vaelib" / "__init__.py").write_text('__version__ = "0.2.0"\n')
    git(repo, "commit", "-q", "-am", "release 0.2.0")
    assert release(repo, "check").returncode == 0
    assert release(repo, "nonsense").returncode == 2
