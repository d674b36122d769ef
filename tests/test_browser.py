"""The rendered site, as a reader's browser shows it (the English edition;
test_browser_zh.py reads the Chinese one).

The fresh-checkout build (`built_site`) is served on 127.0.0.1 from this process
and read by one headless Chromium, Debian's (no test tool can download a browser
here). Every request to another host is refused and reported: the book must read
well offline. Screenshots of a few pages go to test-output/screenshots/ for a
maintainer to look at.
"""

from urllib.parse import unquote, urldefrag

import nbformat
import pytest
from support.browser import (
    CHAPTERS,
    PAGE_FACTS_JS,
    PAGES,
    Tab,
    anchors,
    check_screenshot,
    check_toggles,
    copied_code,
    fetch,
    save_screenshot,
    search_path,
    search_results,
    search_scripts_where_they_belong,
)

# A term and the chapter that must be among its search results.
SEARCH = ("variables_to_restore", "notebooks/09-variables-to-restore")
SCREENSHOT_CHAPTER = "notebooks/01-save-variables"


@pytest.fixture(scope="module")
def crawl(context, site):
    """Every page loaded once, in one tab: {page: (facts, problems, toggles)}.
    What a test needs of a page is done during its one visit: on a chapter the
    hidden solutions are opened (toggles: how many, and what went wrong); the
    search page is loaded with a query and its results kept; the screenshot
    chapter is captured and its copy button clicked before its solutions are
    opened. The first page is reached as a reader arrives, through the site's
    root, which redirects to it; that visit gives the home screenshot.
    Returns (pages, extras): what those extras found."""
    result = {}
    extras = {}
    tab = Tab(context, site)
    for name in PAGES:
        if name == "search":
            page, problems = tab.visit(search_path("search.html", SEARCH[0]))
            extras["search"] = search_results(page, "Search finished")
            extras["search-shot"] = save_screenshot(page, "search")
        elif name == PAGES[0]:
            page, problems = tab.visit("", lands_on=f"{name}.html")
            extras["home-shot"] = save_screenshot(page, "home")
        else:
            page, problems = tab.visit(f"{name}.html")
        facts = page.evaluate(PAGE_FACTS_JS)
        if name == SCREENSHOT_CHAPTER:
            extras["chapter-shot"] = save_screenshot(
                page, "chapter", full_page=False
            )
            extras["copied"] = copied_code(page)
        toggles = check_toggles(page) if name in CHAPTERS else None
        result[name] = (facts, list(problems), toggles)
    tab.close()
    return result, extras


def test_every_page_links_to_its_chinese_edition(pages, site):
    wrong = []
    for name, (facts, _, _) in pages.items():
        want = [f"{site}zh_CN/{name}.html"]
        if facts["languageSwitch"] != want or facts["lang"] != "en":
            wrong.append(
                f"{name}: lang={facts['lang']!r}, switch {facts['languageSwitch']}"
            )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_and_offline(pages, name):
    facts, problems, _ = pages[name]
    assert not problems, f"{name}:\n" + "\n".join(problems)
    assert not facts["brokenImages"], (
        f"{name}: images that did not load: {facts['brokenImages']}"
    )


def test_only_the_search_page_loads_the_search_index(pages):
    """A page a reader opens does without the search tools and the index of
    every word; the search page loads them (test_search_finds_the_chapter
    searches with them)."""
    wrong = [
        f"{name}: {sorted(facts['scripts'])}"
        for name, (facts, _, _) in pages.items()
        if not search_scripts_where_they_belong(name, facts)
    ]
    assert not wrong, "\n".join(wrong)
    assert all(facts["viewport"] for facts, _, _ in pages.values())


IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_code_outputs_figures_and_copy_buttons(
    pages, built_site, chapter
):
    facts, _, _ = pages[chapter]
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


def test_links_and_anchors_resolve(pages, site):
    wanted = {}  # target URL without fragment -> {fragment: [pages linking to it]}
    for name, (facts, _, _) in pages.items():
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
            found = anchors(body.decode("utf-8"))
            broken += [
                f"{url}#{f}: no such anchor (linked from {sorted(set(pages))})"
                for f, pages in sorted(fragments.items())
                if f not in found
            ]
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_download_link_serves_the_notebook_with_outputs(
    pages, built_site, chapter
):
    facts, _, _ = pages[chapter]
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


def test_copy_button_copies_the_code(extras):
    copied, code = extras["copied"]
    assert copied.strip() == code.strip()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_toggles_reveal_their_content(pages, chapter):
    _, problems, (found, wrong) = pages[chapter]
    assert not wrong, f"{chapter}: " + "; ".join(wrong)
    assert found, f"{chapter}: no hidden solution to toggle"
    assert not problems, "\n".join(problems)


def test_search_finds_the_chapter(extras, record_property):
    term, chapter = SEARCH
    check_screenshot(extras["search-shot"], record_property)
    assert any(chapter in href for href in extras["search"]), (
        f"{term!r} found {extras['search']}, not {chapter}"
    )


def test_screenshot_of_the_home_page(extras, record_property):
    """The site's root redirects to the first page: the crawl's first visit,
    whose problems test_page_loads_cleanly_and_offline reports."""
    check_screenshot(extras["home-shot"], record_property)


def test_screenshot_of_a_chapter(extras, record_property):
    check_screenshot(extras["chapter-shot"], record_property)
