"""What the tests of the rendered site share: the browser, the server, and
how a page is loaded and read. The fixtures that use them are in tests/conftest.py."""

import http.server
import os
import shutil
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

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
# Every page of the TOC, and the two pages Sphinx adds that the navigation
# links to; the chapters among them. Both editions have the same pages.
PAGES = toc_files() + ["genindex", "search"]
CHAPTERS = [f for f in toc_files() if f.startswith("notebooks/")]


def need_browser():
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


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the browser closing a connection early is not a fault of the site


class Tab:
    """One browser tab that visits pages of the site one after another and
    records what went wrong during each visit: console errors, uncaught
    exceptions, failed or refused requests, HTTP errors. (A crawl in one tab
    takes half the time of a new tab per page, which starts a new renderer.)"""

    def __init__(self, context, site):
        self.page = context.new_page()
        self.site = site
        self.problems = []
        local = urlsplit(site).netloc
        report = self._report
        self.page.on(
            "request",
            lambda r: (
                urlsplit(r.url).scheme in ("http", "https")
                and urlsplit(r.url).netloc != local
                and report(f"request to another host: {r.url}")
            ),
        )
        self.page.on(
            "console",
            lambda m: m.type == "error" and report(f"console error: {m.text}"),
        )
        self.page.on("pageerror", lambda e: report(f"uncaught exception: {e}"))
        # A request the browser cancels because the tab moved on to the next
        # page (net::ERR_ABORTED, typically the favicon fetched after "load")
        # is not the site's fault. A missing file still shows up, as an HTTP
        # error response, and a request elsewhere as "request to another host".
        self.page.on(
            "requestfailed",
            lambda r: (
                urlsplit(r.url).netloc == local
                and r.failure != "net::ERR_ABORTED"
                and report(f"request failed: {r.url} ({r.failure})")
            ),
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and report(f"HTTP {r.status}: {r.url}"),
        )

    def _report(self, problem):
        self.problems.append(problem)

    def visit(self, path, lands_on=None):
        """Load `path`; return the page and the problems of this visit."""
        self.problems = []
        # "load": the page and everything it names have arrived. Waiting for the
        # network to stay idle half a second more would double a crawl's time;
        # the one page that fetches after loading (search) waits for its results.
        self.page.goto(self.site + path, wait_until="load")
        if lands_on:  # a page that redirects: wait for the one it lands on
            self.page.wait_for_url(self.site + lands_on, wait_until="load")
        self.page.evaluate("document.fonts.ready.then(() => true)")
        return self.page, self.problems

    def follow(self, selector, lands_on):
        """Click the link `selector` of the page shown and wait for the page
        it leads to; return the page and the problems of this visit."""
        self.problems = []
        self.page.locator(selector).click()
        self.page.wait_for_url(self.site + lands_on, wait_until="load")
        return self.page, self.problems

    def close(self):
        self.page.close()


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
        scripts: [...document.scripts].filter(s => s.src)
            .map(s => new URL(s.src).pathname.split('/').pop()),
        viewport: !!document.querySelector('meta[name=viewport]'),
        lang: document.documentElement.lang,
        languageSwitch: [...document.querySelectorAll('.book-language-switch a')].map(a => a.href),
        setupCollapsed: (() => {
            const first = document.querySelector('.cell');
            return !!first && first.classList.contains('tag_stamp:setup')
                && !first.querySelector('.cell_input').checkVisibility();
        })(),
    };
}"""


# Sphinx's search tools and the index of every word of the book: the search
# page's alone (_templates/layout.html keeps them off the others).
SEARCH_SCRIPTS = {"searchtools.js", "language_data.js", "searchindex.js"}


def search_scripts_where_they_belong(name, facts):
    """The search page loads all of SEARCH_SCRIPTS, every other page none."""
    loaded = SEARCH_SCRIPTS & set(facts["scripts"])
    return loaded == SEARCH_SCRIPTS if name == "search" else not loaded


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def save_screenshot(page, name, full_page=True):
    """Save a screenshot for a maintainer to look at; return its path. A
    whole chapter is 13,000 pixels tall and takes seconds to capture: its
    first screen (full_page=False) shows what a reader meets first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def check_screenshot(path, record_property):
    """List the screenshot in the run's summary (tests/conftest.py) and fail
    when it is too small to show a page."""
    record_property("screenshot", str(path.relative_to(ROOT)))
    assert path.stat().st_size > 10_000, f"{path}: suspiciously small"


# The two kinds of toggle the chapters hide solutions behind: a `dropdown` admonition
# (sphinx-togglebutton) and a code cell tagged hide-cell (MyST-NB renders <details>):
# (the toggle, the handle a reader clicks, what it hides).
TOGGLES = [
    (
        ".admonition.dropdown",
        ".admonition-title",
        ":scope > :not(.admonition-title)",
    ),
    ("details.hide", "summary", ".cell_input, .cell_output"),
]

# Opens every hidden solution of a page in one call: each must be closed, have a
# handle the reader can see, and show all it hides within 5 s of a click on it
# (all are clicked, then all are waited for).
# Returns [how many, what went wrong]. (Shown: laid out with a height, as a reader
# would see it; a collapsed dropdown's body is in the page with no height.)
TOGGLES_JS = """async (toggles) => {
  const shown = e => e.checkVisibility({visibilityProperty: true, opacityProperty: true})
      && e.getClientRects().length > 0 && e.getBoundingClientRect().height > 0;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const wrong = [];
  const opened = [];
  let found = 0;
  for (const [toggleSel, handleSel, bodySel] of toggles) {
    for (const [i, t] of [...document.querySelectorAll(toggleSel)].entries()) {
      found += 1;
      const name = `${toggleSel} ${i}`;
      const body = [...t.querySelectorAll(bodySel)];
      const handle = t.querySelector(handleSel);
      if (!body.length) { wrong.push(`${name} hides nothing`); continue; }
      if (shown(body[0])) wrong.push(`${name} is open before a click`);
      if (!handle || !shown(handle)) { wrong.push(`${name} has no visible handle`); continue; }
      handle.click();
      opened.push([name, body]);
    }
  }
  // All were clicked at once: wait for every one to show what it hid.
  const until = performance.now() + 5000;
  while (opened.some(([, body]) => !body.every(shown)) && performance.now() < until) await frame();
  for (const [name, body] of opened)
    if (!body.every(shown)) wrong.push(`${name} stays closed after a click`);
  return [found, wrong];
}"""


def check_toggles(page):
    """Open every hidden solution of the page: (how many, what went wrong)."""
    found, wrong = page.evaluate(TOGGLES_JS, TOGGLES)
    return found, wrong


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)


def anchors(html):
    """Every id and name an HTML page defines: what a #fragment can land on."""
    parser = _Anchors()
    parser.feed(html)
    return parser.ids


def search_path(path, term):
    """The search page at `path`, asked to search `term`."""
    return f"{path}?q={quote(term)}"


def search_results(page, finished):
    """On a search page loaded with a query: wait until it reports `finished`
    (a regex of its "search finished" line) and return the result links."""
    page.wait_for_function(
        "finished => new RegExp(finished).test("
        "document.querySelector('#search-results')?.innerText || '')",
        arg=finished,
    )
    return page.eval_on_selector_all(
        "#search-results ul.search li a",
        "links => links.map(a => a.getAttribute('href'))",
    )


def copied_code(page):
    """Click the copy button of the first code a reader sees (the setup cell
    above it is collapsed): (what the clipboard holds, the code shown)."""
    block = (
        page.locator(".cell_input div.highlight").filter(visible=True).first
    )
    block.hover()
    block.locator("button.copybtn").click()
    return (
        page.evaluate("navigator.clipboard.readText()"),
        block.locator("pre").inner_text(),
    )
