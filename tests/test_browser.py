"""The rendered site, as a reader's browser shows it.

The fresh-checkout build (`built_site`) is served on 127.0.0.1 from this process
and read by one headless Chromium, Debian's (no test tool can download a browser
here). Every request to another host is refused and reported: the book must read
well offline. Screenshots of a few pages go to test-output/screenshots/ for a
maintainer to look at.
"""

import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urldefrag, urlsplit

import nbformat
import pytest
from support.book import ROOT, toc_files

# The first of these on PATH; .ci/run installs Debian's chromium when none is.
# CHROMIUM names another one (GitHub's runners bring their own).
CHROMIUM_NAMES = (
    os.environ.get("CHROMIUM", ""),
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
CHROMIUM = next(
    (shutil.which(n) for n in CHROMIUM_NAMES if n and shutil.which(n)),
    "/usr/bin/chromium",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Every request to another host goes to a proxy on a closed port of
    # 127.0.0.1 and fails at once; requests to 127.0.0.1 bypass proxies. This
    # blocks in the browser what intercepting every request from Python
    # (page.route) would block at a third of a second per page.
    "--proxy-server=127.0.0.1:9",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"

# Every page of the TOC, and the two pages Sphinx adds that the navigation links to.
PAGES = toc_files() + ["genindex", "search"]
CHAPTERS = [f for f in toc_files() if f.startswith("notebooks/")]
# A term and the chapter that must be among its search results.
SEARCH = ("variables_to_restore", "notebooks/09-variables-to-restore")
SCREENSHOT_CHAPTER = "notebooks/01-save-variables"


def _need_browser():
    """Skip without a browser on a developer's machine; CI must never skip."""
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install -r requirements.txt)"
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does it)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {problem}")
        pytest.skip(problem)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the browser closing a connection early is not a fault of the site


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(browser, built_site):
    """Base URL of the built site, served on a free port of 127.0.0.1 for this module."""
    server = _Server(
        ("127.0.0.1", 0),
        functools.partial(_QuietHandler, directory=str(built_site)),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def open_page(context, site, path, lands_on=None):
    """Load `path` of the site in a new tab; return the tab and the problems seen while loading:
    console errors, uncaught exceptions, failed or refused requests, HTTP errors."""
    page = context.new_page()
    problems = []
    local = urlsplit(site).netloc

    page.on(
        "request",
        lambda r: (
            urlsplit(r.url).scheme in ("http", "https")
            and urlsplit(r.url).netloc != local
            and problems.append(f"request to another host: {r.url}")
        ),
    )
    page.on(
        "console",
        lambda m: (
            m.type == "error" and problems.append(f"console error: {m.text}")
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            urlsplit(r.url).netloc == local
            and problems.append(f"request failed: {r.url} ({r.failure})")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}")
        ),
    )
    # "load": the page and everything it names have arrived. Waiting for the
    # network to stay idle half a second more would double a crawl's time;
    # the one page that fetches after loading (search) waits for its results.
    page.goto(site + path, wait_until="load")
    if lands_on:  # a page that redirects: wait for the one it lands on
        page.wait_for_url(site + lands_on, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, problems


# What the crawl reads from each loaded page. Images are made to load eagerly and
# decoded first, so a lazy image below the fold counts too.
PAGE_FACTS_JS = """async () => {
    const imgs = [...document.querySelectorAll('img')];
    for (const img of imgs) img.loading = 'eager';
    await Promise.all(imgs.map(img => img.decode().catch(() => null)));
    const visible = sel => [...document.querySelectorAll(sel)].filter(e => e.checkVisibility());
    return {
        hrefs: [...document.querySelectorAll('[href]')]
            .map(e => new URL(e.getAttribute('href'), document.baseURI).href),
        brokenImages: imgs.filter(i => !(i.complete && i.naturalWidth > 0))
            .map(i => i.getAttribute('src')),
        outputImages: document.querySelectorAll('.cell_output img').length,
        inputs: visible('.cell_input').length,
        outputs: visible('.cell_output').filter(o => o.innerText.trim() || o.querySelector('img')).length,
        codeBlocks: document.querySelectorAll('.cell_input div.highlight').length,
        copyButtons: document.querySelectorAll('.cell_input div.highlight button.copybtn').length,
        download: [...document.querySelectorAll('a.btn-download-source-button')].map(a => a.href),
        setupCollapsed: (() => {
            const first = document.querySelector('.cell');
            return !!first && first.classList.contains('tag_stamp:setup')
                && !first.querySelector('.cell_input').checkVisibility();
        })(),
    };
}"""


@pytest.fixture(scope="module")
def crawl(context, site):
    """Every page loaded once: {page: (facts, problems, toggles)}. On a
    chapter the hidden solutions are opened in the same visit (toggles: how
    many, and what went wrong), so no page is loaded twice."""
    result = {}
    for name in PAGES:
        page, problems = open_page(context, site, f"{name}.html")
        facts = page.evaluate(PAGE_FACTS_JS)
        toggles = check_toggles(page) if name in CHAPTERS else None
        result[name] = (facts, problems, toggles)
        page.close()
    return result


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_and_offline(crawl, name):
    facts, problems, _ = crawl[name]
    assert not problems, f"{name}:\n" + "\n".join(problems)
    assert not facts["brokenImages"], (
        f"{name}: images that did not load: {facts['brokenImages']}"
    )


IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_code_outputs_figures_and_copy_buttons(
    crawl, built_site, chapter
):
    facts, _, _ = crawl[chapter]
    assert facts["inputs"] >= 5, (
        f"{chapter}: {facts['inputs']} code cells visible"
    )
    assert facts["outputs"] >= 5, (
        f"{chapter}: {facts['outputs']} non-empty outputs visible"
    )
    nb = nbformat.read(
        built_site.parent.parent / f"{chapter}.ipynb", as_version=4
    )
    figures = sum(
        any(t in out.get("data", {}) for t in IMAGE_TYPES)
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )
    # Each stored figure is on the page (and loaded: test_page_loads_cleanly_and_offline).
    assert facts["outputImages"] == figures, (
        f"{chapter}: {facts['outputImages']} images in outputs, the notebook has {figures} figures"
    )
    # The reader meets the chapter's first idea, not the setup plumbing.
    assert facts["setupCollapsed"], (
        f"{chapter}: the setup cell is not first and collapsed"
    )
    assert facts["copyButtons"] == facts["codeBlocks"], (
        f"{chapter}: {facts['copyButtons']} copy buttons for {facts['codeBlocks']} code cells"
    )


def test_links_and_anchors_resolve(crawl, site):
    wanted = {}  # target URL without fragment -> {fragment: [pages linking to it]}
    for name, (facts, _, _) in crawl.items():
        for href in facts["hrefs"]:
            if href.startswith(site):
                url, fragment = urldefrag(href)
                wanted.setdefault(url, {}).setdefault(
                    unquote(fragment), []
                ).append(name)
    broken = []
    for url, fragments in sorted(wanted.items()):
        status, body = fetch(url)
        if status != 200:
            broken.append(
                f"{url}: HTTP {status} (linked from {sorted(set(sum(fragments.values(), [])))})"
            )
            continue
        fragments.pop("", None)
        if fragments:
            parser = _Ids()
            parser.feed(body.decode("utf-8"))
            broken += [
                f"{url}#{f}: no such anchor (linked from {sorted(set(pages))})"
                for f, pages in sorted(fragments.items())
                if f not in parser.ids
            ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_download_link_serves_the_notebook_with_outputs(
    crawl, built_site, chapter
):
    facts, _, _ = crawl[chapter]
    assert len(facts["download"]) == 1, (
        f"{chapter}: download links {facts['download']}"
    )
    status, body = fetch(facts["download"][0])
    assert status == 200, f"{facts['download'][0]}: HTTP {status}"
    nb = nbformat.reads(body.decode("utf-8"), as_version=4)
    nbformat.validate(nb)
    source = nbformat.read(
        built_site.parent.parent / f"{chapter}.ipynb", as_version=4
    )
    assert [c.source for c in nb.cells] == [c.source for c in source.cells], (
        f"{chapter}: the download is not the chapter's notebook"
    )
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{chapter}: the downloaded notebook has no outputs"
    )


def test_copy_button_copies_the_code(context, site):
    page, problems = open_page(context, site, f"{SCREENSHOT_CHAPTER}.html")
    # The first code a reader sees: the setup cell above it is collapsed.
    block = (
        page.locator(".cell_input div.highlight").filter(visible=True).first
    )
    block.hover()
    block.locator("button.copybtn").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    code = block.locator("pre").inner_text()
    page.close()
    assert copied.strip() == code.strip()
    assert not problems, "\n".join(problems)


# The two kinds of toggle the chapters hide solutions behind: a `dropdown` admonition
# (sphinx-togglebutton) and a code cell tagged hide-cell (MyST-NB renders <details>).
TOGGLES = [
    (
        ".admonition.dropdown",
        ".admonition-title",
        ":scope > :not(.admonition-title)",
    ),
    ("details.hide", "summary", ".cell_input, .cell_output"),
]


def check_toggles(page):
    """Open every hidden solution of the page: (how many, what went wrong)."""
    found, wrong = 0, []
    for toggle_sel, handle_sel, body_sel in TOGGLES:
        toggles = page.locator(toggle_sel)
        found += toggles.count()
        for i in range(toggles.count()):
            body = toggles.nth(i).locator(body_sel)
            if not body.count():
                wrong.append(f"{toggle_sel} {i} hides nothing")
                continue
            if body.first.is_visible():
                wrong.append(f"{toggle_sel} {i} is open before a click")
            toggles.nth(i).locator(handle_sel).first.click()
            for j in range(body.count()):
                body.nth(j).wait_for(state="visible", timeout=5_000)
    return found, wrong


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_toggles_reveal_their_content(crawl, chapter):
    _, problems, (found, wrong) = crawl[chapter]
    assert not wrong, f"{chapter}: " + "; ".join(wrong)
    assert found, f"{chapter}: no hidden solution to toggle"
    assert not problems, "\n".join(problems)


def _save_screenshot(page, name, record_property):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    record_property("screenshot", str(path.relative_to(ROOT)))
    return path


def test_search_finds_the_chapter(context, site, record_property):
    term, chapter = SEARCH
    page, problems = open_page(context, site, f"search.html?q={quote(term)}")
    page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('#search-results')?.innerText || '')"
    )
    results = page.eval_on_selector_all(
        "#search-results ul.search li a",
        "links => links.map(a => a.getAttribute('href'))",
    )
    _save_screenshot(page, "search", record_property)
    page.close()
    assert any(chapter in href for href in results), (
        f"{term!r} found {results}, not {chapter}"
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["home", "chapter"])
def test_screenshots(context, site, record_property, name):
    if name == "home":  # the site's root redirects to the first page
        page, problems = open_page(
            context, site, "", lands_on=f"{toc_files()[0]}.html"
        )
    else:
        page, problems = open_page(context, site, f"{SCREENSHOT_CHAPTER}.html")
    shot = _save_screenshot(page, name, record_property)
    page.close()
    assert shot.stat().st_size > 10_000, f"{shot}: suspiciously small"
    assert not problems, "\n".join(problems)
