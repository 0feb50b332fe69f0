"""Publishing: the GitHub workflow runs the README's commands, the Colab setup
cells install the release that matches their page, and the release script
keeps one version for one vaelib.  Everything here runs offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

import vaelib

sys.path.insert(0, str(REPO / "tools"))
import version as versions  # noqa: E402  (tools/version.py)

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


def job_environment(job: str) -> dict[str, str]:
    """The variables a job's steps see on GitHub: the runner's own, then the workflow's and the job's."""
    github = {"CI": "true", "GITHUB_ACTIONS": "true"}
    return {**github, **workflow().get("env", {}), **workflow()["jobs"][job].get("env", {})}


def test_the_pull_request_job_runs_make_test_alone_and_its_checks_expect_no_published_build():
    """The pull-request job runs `make test` without `make book`: read from the workflow file,
    its environment must make the page-weight check skip for want of a published build (it
    would fail every pull request otherwise), while `.ci/run`, which builds first, must fail
    without one.  The decision is the check's own function, so the two cannot drift."""
    from test_book import BUILT_FIRST, without_a_published_build

    steps = [r.strip() for r in runs("test")]
    assert steps[-1] == "make test" and not any("make book" in r for r in steps)
    assert without_a_published_build(job_environment("test")) == "skip"
    assert "chromium" in steps[0], "the browser checks, which fail under CI without Chromium, get it"
    ci = (REPO / ".ci" / "run").read_text()
    book, test = ci.index("make book"), ci.index(f"{BUILT_FIRST}=true make test")
    assert book < test, ".ci/run builds the book, then tests with the published pages"
    assert without_a_published_build({"CI": "true", BUILT_FIRST: "true"}) == "fail"


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
    """Every place that names the version agrees with vaelib/__init__.py, all listed at once."""
    problems = versions.mismatches(REPO)
    assert not problems, "\n".join(problems + [f"`python3 tools/version.py {vaelib.__version__}` sets them all"])
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    assert versions.repository(REPO) == url
    for nb in CHAPTERS:
        cells = json.loads(nb.read_text())["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
        assert f'release = "git+{url}@v{vaelib.__version__}"' in first, f"{nb.name}: the release is in the setup cell"
        assert '%pip install --quiet "vaelib @ {release}"' in first


def scratch_copy(tmp_path: Path) -> Path:
    """The files that name the repository, the version or the title, copied to a scratch folder."""
    root = tmp_path / "repo"
    files = ["README.md", "_config.yml", "pyproject.toml", "vaelib/__init__.py", ".github/release.sh"]
    files += ["tools/version.py", "tools/fork.py", "tools/chapters.py", "book/intro.md"]
    files += [f"book/{p.name}" for p in CHAPTERS]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    return root


def test_a_version_bump_that_misses_files_is_reported_all_at_once_and_one_command_sets_them(tmp_path):
    root = scratch_copy(tmp_path)
    init = root / "vaelib" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{vaelib.__version__}"', '"9.9.9"'))
    problems = versions.mismatches(root)
    assert len(problems) == 1 + len(CHAPTERS) + 1, problems  # pyproject, every chapter, the README
    assert all("9.9.9" in p for p in problems)
    assert any(p.startswith("pyproject.toml") for p in problems) and any(p.startswith("README.md") for p in problems)
    fixed = subprocess.run(["python3", "tools/version.py", "9.9.9"], cwd=root, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stderr
    assert versions.mismatches(root) == [] and versions.current(root) == "9.9.9"
    assert 'version = "9.9.9"' in (root / "pyproject.toml").read_text()


def test_the_fork_command_makes_a_scratch_clone_the_forks_own_and_its_first_publish_passes_the_release_check(
    tmp_path,
):
    root = scratch_copy(tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the original")
    git(root, "tag", f"v{vaelib.__version__}")  # a fork keeps the original's tags
    command = ["python3", "tools/fork.py", "MyUni/vae-course", "--title", 'VAEs for "MATH 491"']
    done = subprocess.run([*command, "--author", "Dr. A. Teacher"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Enable Actions" in done.stdout and "Source: GitHub Actions" in done.stdout
    for path in root.rglob("*"):
        if path.is_file() and path.parent.name != "tools" and ".git" not in path.parts:
            text = path.read_text()
            if path.name == "_config.yml":  # the footer credits the original, as CC BY 4.0 asks
                credit = [line for line in text.splitlines() if "Adapted from" in line]
                assert len(credit) == 1 and "https://vae-book.github.io/vae-book" in credit[0], credit
                text = text.replace(credit[0], "")
            named = "vae-book/vae-book" in text or "vae-book.github.io" in text
            assert not named, f"{path.name} still names the original outside the footer's credit"
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/MyUni/vae-course"
    assert config["title"] == 'VAEs for "MATH 491"' and config["author"] == "Dr. A. Teacher"
    assert config["html"]["use_issues_button"] is False, "GitHub turns a fork's issues off"
    assert (root / "README.md").read_text().startswith('# VAEs for "MATH 491"\n')
    assert (root / "book" / "intro.md").read_text().startswith('# VAEs for "MATH 491"\n')
    assert "https://myuni.github.io/vae-course" in (root / "README.md").read_text()
    assert 'Book = "https://myuni.github.io/vae-course"' in (root / "pyproject.toml").read_text()
    labelled = f"{vaelib.__version__.split('+')[0]}+myuni"  # this checkout may be a fork already
    assert versions.current(root) == labelled and versions.mismatches(root) == []
    git(root, "commit", "-q", "-am", "fork")
    checked = release(root, "check")
    assert checked.returncode == 0 and "new release" in checked.stdout, checked.stderr
    again = subprocess.run(["python3", "tools/fork.py", "MyUni/vae-course"], cwd=root, capture_output=True, text=True)
    assert again.returncode == 0 and versions.current(root) == labelled, "running it twice is safe"
    refused = subprocess.run(["python3", "tools/fork.py", "not a name"], cwd=root, capture_output=True, text=True)
    assert refused.returncode == 2 and "owner/name" in refused.stderr


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
    assert "tools/version.py" in failed.stderr and "tests/test_publish.py" in failed.stderr, "it points at the fix"
    (repo / "vaelib" / "__init__.py").write_text('__version__ = "0.2.0"\n')
    git(repo, "commit", "-q", "-am", "release 0.2.0")
    assert release(repo, "check").returncode == 0
    assert release(repo, "nonsense").returncode == 2
