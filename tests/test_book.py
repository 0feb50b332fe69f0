"""The book as a reader gets it: built with warnings as errors, then opened
page by page in a real headless browser (Debian's chromium).

On a machine without chromium the browser checks skip and say so; under CI
(``CI=true``) a missing browser is a failure.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
from html import unescape
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
import torch
import yaml
from conftest import REPO
from test_repo import toc_files

from vaelib import gaussian, static

BUILD = REPO / "_build" / "fast"  # fast mode; `make book` writes _build/html
HTML = BUILD / "_build" / "html"
FULL_BUILD = REPO / "_build" / "html"  # what `make book` writes and the workflow publishes
SCREENSHOTS = REPO / "_build" / "screenshots"

pytestmark = pytest.mark.slow


#: Set to "true" by a run that builds the book before it tests it (`.ci/run`); the
#: pull-request job of the workflow runs `make test` alone and does not set it.
BUILT_FIRST = "VAELIB_BOOK_BUILT_FIRST"


def without_a_published_build(environment) -> str:
    """What the page-weight check does when there is no `make book` build to weigh:
    "fail" where the run built the book first and so must have one, else "skip"."""
    return "fail" if environment.get(BUILT_FIRST, "").lower() == "true" else "skip"


def published_build_is_current() -> bool:
    """Whether `make book`'s full build exists and is newer than every file it is built from.

    Sphinx writes ``.buildinfo`` when a build finishes; the sources are the
    configuration, the chapters and the package the chapters import.
    """
    stamp = FULL_BUILD / ".buildinfo"
    if not stamp.exists():
        return False
    sources = [REPO / "_config.yml", REPO / "_toc.yml", *REPO.glob("book/**/*"), *REPO.glob("vaelib/**/*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file() and "__pycache__" not in p.parts)
    return newest <= stamp.stat().st_mtime


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The whole book, built with warnings as errors: `make book`'s full build when it is
    newer than every source (CI runs `make book` first, so its pages are what the browser
    checks open), else a fast-mode build made here, as on a reader's first `make test`."""
    if published_build_is_current():
        return FULL_BUILD
    env = {**os.environ, "VAELIB_FAST": "1"}
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(REPO), "--path-output", str(BUILD), "-W", "--keep-going", "--all"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "build.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"the book build failed:\n{(result.stdout + result.stderr)[-6000:]}"
    return HTML


def test_every_page_says_which_licence_covers_what(built_book):
    """The footer: text and figures CC BY 4.0, code MIT (README, "Licences")."""
    for entry in toc_files():
        html = (built_book / f"{entry}.html").read_text()
        start = html.index('<footer class="bd-footer-content')  # the theme's footer, under every page
        footer = html[start : html.index("</footer>", start)]
        assert "creativecommons.org/licenses/by/4.0/" in footer and "CC BY 4.0" in footer, entry
        assert "MIT" in footer, entry


def test_the_book_builds_with_warnings_as_errors(built_book):
    pages = {p.relative_to(built_book).with_suffix("").as_posix() for p in built_book.rglob("*.html")}
    for entry in toc_files():
        assert entry in pages, f"{entry} was not built"


@contextlib.contextmanager
def serving(folder: Path):
    """Serve built HTML on localhost, as a reader's browser would get it: yields the URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="session")
def server(built_book):
    """The built book, served."""
    with serving(built_book) as url:
        yield url


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built book as GitHub Pages does, text compressed with gzip when the
    browser accepts it (so that the page sizes measured are what a reader downloads)."""

    COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".txt", ".map")

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(self.COMPRESSED) or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().send_head()
        try:
            with open(path, "rb") as file:
                body = gzip.compress(file.read(), compresslevel=6)
        except OSError:
            return super().send_head()
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextlib.contextmanager
def opened(browser, url: str):
    """A loaded page and the list of console errors and failed requests it caused."""
    page, problems = open_page(browser, url)
    try:
        yield page, problems
    finally:
        page.close()


def open_page(browser, url: str):
    """Load a page; return it with the console errors and failed requests it caused."""
    page = browser.new_page(viewport=WINDOW)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: HTTP {response.status if response else 'no response'}"
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)")
    page.evaluate("() => window.MathJax ? window.MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, problems


PAGES = toc_files()
WINDOW = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def loaded(browser, server):
    """Each page of the book loaded once, at a laptop's width, for the checks that only read
    it: ``loaded(entry)`` is the page and the console errors and failed requests it caused.
    (Loading a page with its math takes a second or two; the per-page checks share it.)"""
    pages = {}

    def page_of(entry: str):
        if entry not in pages:
            pages[entry] = open_page(browser, f"{server}/{entry}.html")
        return pages[entry]

    yield page_of
    for page, _ in pages.values():
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("entry", PAGES)
def test_page_loads_with_images_math_and_no_errors(loaded, entry):
    page, problems = loaded(entry)
    broken = page.evaluate(
        "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == [], f"images that did not load: {broken}"
    math = page.evaluate(
        """() => ({
            source: document.querySelectorAll('.math').length,
            typeset: document.querySelectorAll('mjx-container').length,
            errors: document.querySelectorAll('mjx-merror').length,
        })"""
    )
    assert math["errors"] == 0, "MathJax reported errors"
    assert math["typeset"] >= math["source"], f"math not typeset: {math}"
    if entry != "book/10_for_teachers":  # every page has math, but the teachers' guide
        assert math["source"] > 0, f"no math on {entry}: {math}"
    too_wide = page.evaluate(  # wider than the column, or cut off inside a box of the column's width
        """() => [...document.querySelectorAll('mjx-container[display="true"]')]
            .filter(m => m.getBoundingClientRect().width > document.querySelector('article').clientWidth + 2
                         || m.scrollWidth > m.clientWidth + 2)
            .map(m => m.textContent.slice(0, 60))"""
    )
    assert too_wide == [], f"display equations wider than the text column (a reader must scroll them): {too_wide}"
    no_alt = page.evaluate(
        """() => [...document.querySelectorAll('article img')]
            .filter(i => !i.alt || /\\.(png|svg|jpe?g)$|_images\\//.test(i.alt))
            .map(i => i.src.split('/').pop() + ' alt=' + JSON.stringify(i.alt))"""
    )
    assert no_alt == [], f"images whose alt text is empty or a file path: {no_alt}"
    captions = page.evaluate("() => [...document.querySelectorAll('figcaption')].map(c => c.innerText.trim())")
    chapter = re.match(r"book/(\d\d)_", entry)
    if chapter:  # "Figure 4.1: ...", "Figure 4.2: ...": the chapter's own numbering, and nothing before it
        expected = [f"Figure {int(chapter[1])}.{k}:" for k in range(1, len(captions) + 1)]
        assert [c.split(" ", 2)[0] + " " + c.split(" ", 2)[1] for c in captions] == expected, captions
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("entry", PAGES)
def test_pages_pass_an_accessibility_audit(loaded, entry):
    """axe-core's WCAG 2 A and AA rules (the audit tools such as Lighthouse run)
    find no violation on any page."""
    from axe_playwright_python.base import AXE_SCRIPT

    page, _ = loaded(entry)
    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
            .then(r => r.violations.map(v => `${v.id} (${v.impact}): ${v.help}, ` +
                v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; ')))"""
    )
    assert violations == [], f"{entry}:\n" + "\n".join(violations)


LAPTOP = {"width": 1280, "height": 800}

# What the theme draws to search the book: the sidebar's field-like button, the icon
# button (narrow windows), and a search form or input.
SEARCH_CONTROLS = ".search-button-field, .search-button, .bd-search, input[type='search']"
VISIBLE_SEARCH = """(selector) => {
    const shown = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
        && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
    const describe = el => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} in ` +
        `#${el.closest('[id]')?.id}`;
    // Each control once: a form and the input inside it are one field.
    const controls = [...document.querySelectorAll(selector)]
        .filter(el => !el.parentElement.closest(selector)).filter(shown);
    const bars = [...document.querySelectorAll('header.bd-header, .bd-header, #pst-header')]
        .filter((bar, i, all) => all.indexOf(bar) === i).filter(shown)
        .map(bar => ({
            bar: describe(bar),
            others: [...bar.querySelectorAll('a, button, input, select, img, .navbar-brand')]
                .filter(el => !el.closest(selector)).filter(shown).map(describe),
        }));
    return {controls: controls.map(describe), bars};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("entry", PAGES)
def test_each_page_has_one_search_field_and_no_top_bar_of_search_alone(loaded, entry):
    """sphinx-book-theme with a newer pydata-sphinx-theme adds a top navbar holding only
    a second search field (sphinx-book-theme issue 986); ``navbar_persistent: []`` in
    _config.yml removes it.  At a laptop's width and a narrow one, a page shows at most
    one search control, and no visible top bar whose only controls are search."""
    page, _ = loaded(entry)
    try:
        for width in (LAPTOP["width"], 700):
            page.set_viewport_size({"width": width, "height": LAPTOP["height"]})
            found = page.evaluate(VISIBLE_SEARCH, SEARCH_CONTROLS)
            assert len(found["controls"]) <= 1, f"{entry} at {width} px: search controls {found['controls']}"
            search_only = [bar["bar"] for bar in found["bars"] if not bar["others"]]
            assert search_only == [], f"{entry} at {width} px: a top bar with nothing but search: {search_only}"
    finally:
        page.set_viewport_size(WINDOW)  # as the other checks of this page expect it


@pytest.mark.browser
@pytest.mark.parametrize("entry", [e for e in PAGES if (REPO / f"{e}.ipynb").exists()])
def test_code_cells_do_not_scroll_sideways_at_a_laptop_width(loaded, entry):
    """Every code cell of a chapter, its code and its printed output, fits the
    page column of a 1280-pixel-wide window: nothing is cut off or needs a
    sideways scroll."""
    page, _ = loaded(entry)
    assert page.viewport_size["width"] == LAPTOP["width"]
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.cell_input pre, .cell_output pre')]
            .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => {
                const lines = pre.textContent.split('\\n');
                return lines.reduce((a, b) => (b.length > a.length ? b : a), '');
            })"""
    )
    assert overflowing == [], f"{entry}: code or output lines that scroll sideways:\n" + "\n".join(overflowing)


def colab_url(entry: str) -> str:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{config['repository']['branch']}/{entry}.ipynb"


CHAPTERS = [e for e in PAGES if (REPO / f"{e}.ipynb").exists()]


@pytest.mark.browser
@pytest.mark.parametrize("entry", CHAPTERS)
def test_each_chapter_opens_its_own_notebook_in_colab(loaded, entry):
    page, _ = loaded(entry)
    links = page.evaluate(
        "() => [...document.querySelectorAll('a[href*=\"colab.research.google.com\"]')].map(a => a.href)"
    )
    assert links == [colab_url(entry)], f"Colab links on {entry}: {links}"
    if entry == CHAPTERS[0]:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(entry).name}.png"), full_page=True)


@pytest.mark.browser
def test_exercise_solutions_are_hidden_behind_a_toggle(browser, server):
    with opened(browser, f"{server}/{CHAPTERS[0]}.html") as (page, _):
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('.cell.tag_hide-input')].map(cell => {
                const details = cell.querySelector('details');
                return details !== null && !details.open && details.innerText.includes('Show the solution');
            })"""
        )
        assert len(hidden) >= 3 and all(hidden), f"solution cells hidden behind 'Show the solution': {hidden}"


def test_internal_links_point_at_pages_and_sections_that_exist(built_book):
    broken = []
    for page in built_book.rglob("*.html"):
        if page.name in {"genindex.html", "search.html"}:
            continue
        html = page.read_text()
        for href in re.findall(r'<a [^>]*href="([^"]+)"', html):
            href = unescape(href)
            if urlparse(href).scheme or href.startswith(("mailto:", "#")) or "_sources" in href:
                continue
            target_path, fragment = urldefrag(href)
            target = (page.parent / target_path).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(built_book)} -> {href}: no such page")
            elif fragment and f'id="{fragment}"' not in target.read_text():
                broken.append(f"{page.relative_to(built_book)} -> {href}: no section #{fragment}")
    assert broken == [], "\n".join(broken)


def embedded_explorer(page, selector: str):
    """The explorer on the page, its JSON spec, and its decoder read back into PyTorch."""
    explorer = page.locator(selector)
    assert explorer.count() == 1, f"one {selector} on the page"
    spec = json.loads(explorer.locator("script[type='application/json']").text_content())
    explorer.scroll_into_view_if_needed()
    return explorer, spec, static.decoder_from_export(spec["decoder"])


def canvas_probabilities(page, selector: str) -> torch.Tensor:
    """The pixel probabilities a canvas shows (ink dark on white: 1 - red / 255)."""
    pixels = page.evaluate(
        """(selector) => {
            const c = document.querySelector(selector);
            return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
        }""",
        selector,
    )
    return 1 - torch.tensor(pixels[0::4], dtype=torch.float32) / 255


@pytest.mark.browser
def test_the_static_latent_explorer_decodes_in_the_browser(browser, server):
    """Move over the pad to two points: the canvas shows two different digits,
    each matching what the decoder computes in PyTorch for that point."""
    with opened(browser, f"{server}/book/05_latent_space.html") as (page, problems):
        explorer, spec, decoder = embedded_explorer(page, ".vaelib-static-explorer")
        pad = explorer.locator("canvas.vaelib-latent-pad").bounding_box()
        images = []
        for u, v in [(0.25, 0.3), (0.75, 0.7)]:
            page.mouse.move(pad["x"] + u * pad["width"], pad["y"] + v * pad["height"])
            z = json.loads(explorer.get_attribute("data-z"))
            limit = spec["limit"]
            assert z == pytest.approx([-limit + 2 * limit * u, limit - 2 * limit * v], abs=0.05)
            pixels = page.evaluate(
                """() => {
                    const c = document.querySelector('.vaelib-static-explorer canvas.vaelib-latent-image');
                    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
                }"""
            )
            shown = 1 - torch.tensor(pixels[0::4], dtype=torch.float32) / 255  # red channel -> probability
            with torch.no_grad():
                expected = decoder(torch.tensor([z]))[0]
            assert (shown - expected).abs().max() < 2.5 / 255, "the canvas differs from the PyTorch decoder"
            images.append(shown)
        assert (images[0] - images[1]).abs().mean() > 0.05, "two distant points decoded to the same image"
        assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_the_prior_map_pad_reads_both_densities_and_decodes_in_the_browser(browser, server):
    """Chapter 8: the pad is shaded by q(z) and ringed by the prior; under the pointer the
    readout gives log p(z) and log q(z) of the map's nearest grid point (log p(z) as N(0, I)
    has it), and the canvas shows what the exported decoder computes in PyTorch."""
    with opened(browser, f"{server}/book/08_better_samples.html") as (page, problems):
        explorer, spec, decoder = embedded_explorer(page, ".vaelib-static-explorer")
        density, limit = spec["density"], spec["limit"]
        assert spec["rings"] == [1, 2, 3] and len(density["logq"]) == density["steps"] ** 2
        pad = explorer.locator("canvas.vaelib-latent-pad").bounding_box()
        step = (density["high"] - density["low"]) / (density["steps"] - 1)
        for u, v in [(0.5, 0.5), (0.3, 0.65)]:
            page.mouse.move(pad["x"] + u * pad["width"], pad["y"] + v * pad["height"])
            z = json.loads(explorer.get_attribute("data-z"))
            assert z == pytest.approx([-limit + 2 * limit * u, limit - 2 * limit * v], abs=0.05)
            j, i = (round((coordinate - density["low"]) / step) for coordinate in z)
            grid = torch.tensor([density["low"] + j * step, density["low"] + i * step], dtype=torch.float32)
            text = explorer.locator(".vaelib-latent-readout").inner_text()
            log_p = float(text.split("log p(z) = ")[1].split(",")[0])
            log_q = float(text.split("log q(z) = ")[1].split()[0].rstrip(",."))
            assert log_p == pytest.approx(float(gaussian.log_standard_normal(grid)), abs=0.06)
            assert log_q == pytest.approx(density["logq"][i * density["steps"] + j], abs=0.06)
            shown = canvas_probabilities(page, ".vaelib-static-explorer canvas.vaelib-latent-image")
            with torch.no_grad():
                expected = decoder(torch.tensor([z], dtype=torch.float32))[0]
            assert (shown - expected).abs().max() < 2.5 / 255, "the canvas differs from the PyTorch decoder"
        assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_the_conditional_pad_draws_the_chosen_digit_in_the_browser(browser, server):
    """Chapter 7: the pad opens on a 7; point at a style, then switch the digit: the code
    stays, and each time the canvas shows what the exported decoder computes in PyTorch
    for the code followed by the chosen label's one-hot vector."""
    with opened(browser, f"{server}/book/07_conditional_vae.html") as (page, problems):
        explorer, spec, decoder = embedded_explorer(page, ".vaelib-static-explorer")
        select = explorer.locator("select.vaelib-latent-label")
        assert spec["classes"] == 10 and select.input_value() == "7" and explorer.get_attribute("data-label") == "7"
        pad = explorer.locator("canvas.vaelib-latent-pad").bounding_box()
        page.mouse.move(pad["x"] + 0.3 * pad["width"], pad["y"] + 0.6 * pad["height"])
        z = json.loads(explorer.get_attribute("data-z"))
        images = {}
        for label in (7, 2, 0):
            select.select_option(index=label)  # fires change; the pointer has not moved
            assert explorer.get_attribute("data-label") == str(label)
            assert json.loads(explorer.get_attribute("data-z")) == z, "switching the digit moved the code"
            shown = canvas_probabilities(page, ".vaelib-static-explorer canvas.vaelib-latent-image")
            one_hot = torch.nn.functional.one_hot(torch.tensor([label]), 10).float()
            with torch.no_grad():
                expected = decoder(torch.cat([torch.tensor([z]), one_hot], dim=1))[0]
            assert (shown - expected).abs().max() < 2.5 / 255, f"the canvas differs from PyTorch for label {label}"
            images[label] = shown
        # Redrawn for each label (in fast mode the model is barely trained, so the digits are faint blurs).
        assert not torch.equal(images[2], images[0]), "switching the label did not redraw"
        assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_the_static_traversal_explorer_decodes_in_the_browser(browser, server):
    """Chapter 6: pick the last latent offered and the second sprite, drag the slider
    to two values: the canvas shows what the exported decoder computes in PyTorch."""
    with opened(browser, f"{server}/book/06_beta_vae.html") as (page, problems):
        explorer, spec, decoder = embedded_explorer(page, ".vaelib-static-traversal")
        assert json.loads(explorer.get_attribute("data-z")) == pytest.approx(spec["starts"][0]["code"])
        last = len(spec["dims"]) - 1  # the informative latents: how many depends on the training
        explorer.locator("select.vaelib-traversal-dim").select_option(index=last)
        explorer.locator("select.vaelib-traversal-start").select_option(index=1)
        for value in (-2.0, 2.0):
            explorer.locator("input.vaelib-traversal-value").fill(str(value))  # fires input
            z = json.loads(explorer.get_attribute("data-z"))
            dim = spec["dims"][last]["index"]
            expected_z = list(spec["starts"][1]["code"])
            expected_z[dim] = value
            assert z == pytest.approx(expected_z, abs=1e-6)
            shown = canvas_probabilities(page, ".vaelib-static-traversal canvas.vaelib-traversal-image")
            with torch.no_grad():
                expected = decoder(torch.tensor([z]))[0]
            assert (shown - expected).abs().max() < 2.5 / 255, "the canvas differs from the PyTorch decoder"
        assert problems == [], "\n".join(problems)


def drawn_points(points: str, view: dict) -> torch.Tensor:
    """SVG points "x,y x,y ..." read back through a plot's axes (``view``: xmin, xmax,
    ymax and the plot box in SVG units) as data: ``[n, 2]``."""
    xy = torch.tensor([[float(v) for v in p.split(",")] for p in points.split()], dtype=torch.float64)
    box, span = view["box"], view["xmax"] - view["xmin"]
    x = view["xmin"] + (xy[:, 0] - box["left"]) / (box["right"] - box["left"]) * span
    y = (box["bottom"] - xy[:, 1]) / (box["bottom"] - box["top"]) * view["ymax"]
    return torch.stack([x, y], dim=1)


@pytest.mark.browser
def test_the_static_gaussian_explorer_draws_the_density_of_its_sliders(browser, server):
    """Chapter 2: move mu and sigma; the curve the page draws, read back through its
    axes, is the density of N(mu, sigma^2) as vaelib computes it, and the shaded
    bands span mu +- sigma and mu +- 2 sigma."""
    from vaelib.gaussian import normal_pdf

    with opened(browser, f"{server}/book/02_gaussians.html") as (page, problems):
        explorer = page.locator(".vaelib-static-gaussian")
        for mu, sigma in [(1.0, 0.6), (-1.5, 1.3), (2.4, 0.2)]:
            explorer.locator("input.vaelib-gaussian-mu").fill(str(mu))  # fires input
            explorer.locator("input.vaelib-gaussian-sigma").fill(str(sigma))
            view = json.loads(explorer.get_attribute("data-view"))

            curve = drawn_points(explorer.locator("polyline.vaelib-gaussian-curve").get_attribute("points"), view)
            expected = normal_pdf(curve[:, 0], mu, sigma)
            assert (curve[:, 1] - expected).abs().max() < 0.002 * view["ymax"], "the curve is not the density"
            peak = max(1 / sigma, 1.0) / (2 * torch.pi) ** 0.5  # of N(mu, sigma^2) or the reference N(0, 1)
            assert view["ymax"] == pytest.approx(1.2 * peak)
            for k in (1, 2):
                band = drawn_points(explorer.locator(f"polygon.vaelib-gaussian-band-{k}").get_attribute("points"), view)
                low, high = max(mu - k * sigma, -6.0), min(mu + k * sigma, 6.0)
                assert band[:, 0].min().item() == pytest.approx(low, abs=0.01)
                assert band[:, 0].max().item() == pytest.approx(high, abs=0.01)
            assert f"μ = {mu:.1f}, σ = {sigma:.1f}" in explorer.locator(".vaelib-gaussian-readout").inner_text()
        assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_the_static_interpolation_explorer_follows_the_path_and_decodes_in_the_browser(browser, server):
    """Chapter 5: pick two other digits, each path and a t: the page's code is the one
    vaelib.latent computes, and the canvas shows what the exported decoder computes."""
    from vaelib import latent

    with opened(browser, f"{server}/book/05_latent_space.html") as (page, problems):
        explorer, spec, decoder = embedded_explorer(page, ".vaelib-static-interpolation")
        codes = torch.tensor([end["code"] for end in spec["ends"]])
        opening = latent.slerp(codes[spec["from"]], codes[spec["to"]], 11)[5]  # t = 0.5
        assert json.loads(explorer.get_attribute("data-z")) == pytest.approx(opening.tolist(), abs=1e-5)
        explorer.locator("select.vaelib-interpolation-from").select_option(index=2)
        explorer.locator("select.vaelib-interpolation-to").select_option(index=7)
        for path, step in [("linear", 3), ("spherical", 8)]:
            explorer.locator("select.vaelib-interpolation-path").select_option(path)
            explorer.locator("input.vaelib-interpolation-t").fill(str(step / 10))  # fires input
            z = torch.tensor(json.loads(explorer.get_attribute("data-z")))
            expected_z = (latent.lerp if path == "linear" else latent.slerp)(codes[2], codes[7], 11)[step]
            assert z.tolist() == pytest.approx(expected_z.tolist(), abs=1e-5)
            shown = canvas_probabilities(page, ".vaelib-static-interpolation canvas.vaelib-interpolation-image")
            with torch.no_grad():
                expected = decoder(z[None])[0]
            assert (shown - expected).abs().max() < 2.5 / 255, "the canvas differs from the PyTorch decoder"
        assert problems == [], "\n".join(problems)


PAGE_BUDGET = 2_000_000  # bytes a reader downloads for one page, everything it loads included


def _downloaded_bytes(page) -> int:
    """What the browser downloaded for a loaded page: the HTML and every file it fetched, as sent."""
    return page.evaluate(
        """() => performance.getEntriesByType('navigation')
                .concat(performance.getEntriesByType('resource'))
                .reduce((total, e) => total + (e.encodedBodySize || 0), 0)"""
    )


@pytest.mark.browser
def test_every_page_stays_light(browser, built_book, loaded):
    """What a reader's browser downloads for each page (the HTML and every file it loads:
    scripts, styles, fonts, images; text compressed, as GitHub Pages serves it), measured
    by the browser: at most 2 MB.  Measured on the published build, `make book`'s
    _build/html (`.ci/run` builds it first, and says so: then its absence fails); without
    one, the fast build's sizes are written down and the check skips, since its untrained
    models draw noisy, poorly compressible figures (the pull-request job of the workflow).
    The sizes are written to _build/page_sizes.txt.  Where the build weighed is the one the
    other checks opened (as in CI), their loaded pages are weighed, not loaded again."""
    root = FULL_BUILD if (FULL_BUILD / "index.html").exists() else built_book
    if root == built_book:
        sizes = {entry: _downloaded_bytes(loaded(entry)[0]) for entry in PAGES}
    else:
        with serving(root) as url:
            sizes = {}
            for entry in PAGES:
                with opened(browser, f"{url}/{entry}.html") as (page, _):
                    sizes[entry] = _downloaded_bytes(page)
    lines = [f"page sizes of {root.relative_to(REPO)}"] + [f"{e:<30} {s / 1e6:6.2f} MB" for e, s in sizes.items()]
    (REPO / "_build" / "page_sizes.txt").write_text("\n".join(lines) + "\n")
    if root != FULL_BUILD:  # the fast build's noisy figures say nothing of the published weight
        message = "no published build to weigh (run `make book` first); fast-build sizes in _build/page_sizes.txt"
        if without_a_published_build(os.environ) == "fail":
            pytest.fail(message + f" ({BUILT_FIRST}=true says the book was built first: this is a failure)")
        pytest.skip(message)
    heavy = {entry: size for entry, size in sizes.items() if size > PAGE_BUDGET}
    assert not heavy, "pages above 2 MB:\n" + "\n".join(lines)
    assert min(sizes.values()) > 10_000, "the sizes look unmeasured:\n" + "\n".join(lines)
