"""The README's local way to read the book, checked with a real client:
JupyterLab from the project's environment, in headless Chromium, runs a
chapter and its ipywidgets explorer redraws when a slider moves."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHAPTER = "02_gaussians.ipynb"  # a chapter whose explorer (mu and sigma sliders) runs in seconds
TOKEN = "vaelib-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """`jupyter lab` from the project's environment, serving a copy of one chapter
    (a copy, so that autosave never writes outputs into the repository)."""
    jupyter = Path(sys.executable).with_name("jupyter")
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(REPO / "book" / CHAPTER, folder / CHAPTER)
    port = free_port()
    command = [
        str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--ServerApp.root_dir={folder}", f"--IdentityProvider.token={TOKEN}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root; a reader's account needs no such flag
    env = {  # a fresh configuration and workspace: nothing of an earlier session is restored
        **os.environ,
        "VAELIB_FAST": "1",
        "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / ".workspaces"),
    }
    log = open(folder / "lab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.close()
                pytest.fail(f"JupyterLab did not start:\n{(folder / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_a_chapter_runs_in_jupyterlab_and_its_explorer_redraws_when_a_slider_moves(browser, jupyterlab):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{jupyterlab}/lab/tree/{CHAPTER}?token={TOKEN}&reset", wait_until="load")
        page.locator(".jp-Notebook").wait_for(timeout=60_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=60_000)
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook is the current panel
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        # Every code cell run: no prompt left at "[ ]" (not run) or "[*]" (running); the
        # prompts of collapsed cells (claims, solutions) stay empty.
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map(p => p.textContent.trim());
                return prompts.some(p => /^\\[\\d+\\]/.test(p)) && !prompts.some(p => /^\\[[ *]\\]/.test(p));
            }""",
            timeout=300_000,
        )
        slider = page.locator(".widget-slider").first
        slider.scroll_into_view_if_needed()
        explorer = slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
        image = explorer.locator(".widget-output img").first
        image.wait_for(timeout=60_000)
        before = image.get_attribute("src")
        handle = slider.locator("[role='slider']").first
        value = handle.get_attribute("aria-valuenow")
        handle.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        assert handle.get_attribute("aria-valuenow") != value, "the slider did not move"
        page.wait_for_function(  # the kernel redraws: a new image replaces the old one
            """([root, before]) => {
                const img = root.querySelector('.widget-output img');
                return img !== null && img.src !== before;
            }""",
            arg=[explorer.element_handle(), before],
            timeout=60_000,
        )
        text = page.locator("body").inner_text()
        assert "Error displaying widget" not in text and "Error rendering" not in text
        errors = page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
        assert not any("Traceback" in e for e in errors), "\n".join(errors)
    finally:
        page.close()
