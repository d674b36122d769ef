"""The Chinese edition as a reader's browser shows it, under zh_CN/ of the
same site (see test_browser.py for the English one, and tools/i18n.py)."""

import re

import nbformat
import pytest
from support.book import ROOT, toc_files
from support.browser import (
    CHAPTERS,
    PAGE_FACTS_JS,
    PAGES,
    Tab,
    check_screenshot,
    fetch,
    save_screenshot,
    search_path,
    search_results,
    search_scripts_where_they_belong,
)
from support.chinese import english_prose

# A Chinese term and the chapter that must be among its search results.
SEARCH = ("影子变量", "notebooks/06-shadow-variables")
# Queries as a reader types them, without spaces, and the chapter that
# teaches each: it must come first, and every page whose text holds the
# query must be among the results (the search page splits the query into the
# index's words: _static/search-zh.js; terms.yml says which page teaches what).
SEARCHES = {
    "计算图": "notebooks/00-tf1-primer",
    "滑动平均": "notebooks/06-shadow-variables",
    "持久化": "notebooks/01-save-variables",
    "初始化器": "notebooks/00-tf1-primer",
    "影子变量": "notebooks/06-shadow-variables",
    "恢复检查点": "notebooks/02-restore-variables",
}
CJK = re.compile(r"[\u4e00-\u9fff]")

# A page's prose paragraphs, list items, table cells and title outside code and
# outputs, with their inline code taken out (names stay English): how many
# there are with words in them, and how many hold Chinese. The glossary's terms
# (CRC32C, dtype) and its English column stay as they are.
PROSE_JS = """() => {
    const prose = [...document.querySelectorAll('article p, article li, article td, article h1')]
        .filter(e => !e.closest('.cell_input, .cell_output, pre, .book-glossary thead, .book-glossary td:nth-child(-n+2)'))
        .map(e => {
            const copy = e.cloneNode(true);
            copy.querySelectorAll('code, kbd, .pre, .headerlink').forEach(c => c.remove());
            return copy.textContent.trim();
        })
        .filter(t => /[A-Za-z]{3}/.test(t));
    return prose;
}"""


# Every label a reader sees outside the prose, by kind, with inline code and
# section numbers taken out: the headings (of the article, of the page's
# table of contents and of the navigation, and the window title), table cells
# (not those of cell outputs, nor the glossary's English column and its
# title), captions, admonition titles, tooltips and screen-reader labels,
# and the footer. Python judges
# them (support/chinese.py): none may be English prose.
LABELS_JS = """() => {
    const text = e => {
        const copy = e.cloneNode(true);
        copy.querySelectorAll('code, kbd, .pre, .headerlink, .section-number, script, style')
            .forEach(c => c.remove());
        return copy.textContent.replace(/\\s+/g, ' ').trim();
    };
    const outside = '.cell_input, .cell_output, pre';
    const pick = (selector, skip) => [...document.querySelectorAll(selector)]
        .filter(e => !e.closest(outside) && !(skip && e.matches(skip)))
        .map(text).filter(t => t);
    // Bootstrap moves a tooltip's title to data-bs-original-title once the page has loaded;
    // aria-label is what a screen reader says.
    const attrs = ['title', 'data-bs-title', 'data-bs-original-title', 'data-tooltip',
                   'aria-label'];
    const tips = [...document.querySelectorAll(attrs.map(a => `[${a}]`).join(', '))]
        .flatMap(e => attrs.map(a => e.getAttribute(a)))
        .filter(t => t && t.trim());
    return {
        heading: [document.title,
                  ...pick('article h1, article h2, article h3, article h4, article h5, article h6'),
                  ...pick('.bd-toc-nav a, .bd-docs-nav a, .prev-next-title')],
        cell: pick('article td, article th',
                   '.book-glossary td:nth-child(2), .book-glossary thead th:nth-child(2)'),
        caption: pick('article caption, article figcaption, article .caption-text'),
        admonition: pick('article .admonition-title'),
        tooltip: tips,
        footer: pick('footer p, .prev-next-footer .prev-next-subtitle'),
    };
}"""

# The pages captured for a maintainer, by screenshot name.
SCREENSHOTS = {"chapter-zh": CHAPTERS[1], "glossary-zh": "book/glossary"}
# The chapter whose language switch is clicked, there and back.
SWITCH_CHAPTER = "notebooks/06-shadow-variables"


@pytest.fixture(scope="module")
def crawl(context, site):
    """Every Chinese page loaded once, in one tab: {page: (facts, prose,
    problems)}, and what was done during the visits: the search page is
    loaded with a query (its results are kept), a few pages are captured, and
    on one chapter the language switch is clicked to the English page and
    back (the language each lands on, and what went wrong). Returns (pages,
    extras)."""
    result = {}
    extras = {}
    tab = Tab(context, site)
    for name in PAGES:
        if name == "search":
            for query in SEARCHES:
                page, problems = tab.visit(
                    search_path("zh_CN/search.html", query)
                )
                # Finished with results, or with none ("您的搜索没有匹配到文档").
                extras[f"search:{query}"] = (
                    search_results(page, "搜索完成|没有匹配到"),
                    list(problems),
                )
            page, problems = tab.visit(
                search_path("zh_CN/search.html", SEARCH[0])
            )
            # Sphinx's own Chinese for "Search finished".
            extras["search"] = search_results(page, "搜索完成")
            extras["search-zh"] = save_screenshot(page, "search-zh")
        else:
            page, problems = tab.visit(f"zh_CN/{name}.html")
        for shot, shown in SCREENSHOTS.items():
            if name == shown:
                extras[shot] = save_screenshot(page, shot, full_page=False)
        result[name] = (
            page.evaluate(PAGE_FACTS_JS),
            page.evaluate(PROSE_JS),
            list(problems),
            page.evaluate(LABELS_JS),
        )
        if name == SWITCH_CHAPTER:
            extras["switch"] = []
            for target in (f"{name}.html", f"zh_CN/{name}.html"):
                page, problems = tab.follow(".book-language-switch a", target)
                lang = page.evaluate("document.documentElement.lang")
                extras["switch"].append((lang, list(problems)))
    tab.close()
    return result, extras


@pytest.mark.parametrize("name", PAGES)
def test_chinese_page_loads_cleanly_offline_and_in_chinese(pages, site, name):
    facts, paragraphs, problems, _ = pages[name]
    assert not problems, f"zh_CN/{name}:\n" + "\n".join(problems)
    assert not facts["brokenImages"], facts["brokenImages"]
    assert facts["lang"] == "zh-CN", f"zh_CN/{name}: lang={facts['lang']!r}"
    assert search_scripts_where_they_belong(name, facts), (
        f"zh_CN/{name}: scripts {sorted(facts['scripts'])}"
    )
    assert facts["languageSwitch"] == [f"{site}{name}.html"], (
        f"zh_CN/{name}: language switch {facts['languageSwitch']}"
    )
    # Prose in English here means a message the catalog did not translate;
    # a product name and its version ("Keras 2.2.5") is not prose, as
    # support/chinese.py judges it. (The index lists the terms in both
    # languages.)
    english = [text for text in paragraphs if english_prose(text)]
    assert name == "genindex" or len(english) <= 0.05 * len(paragraphs), (
        f"zh_CN/{name}: {len(paragraphs) - len(english)} of "
        f"{len(paragraphs)} paragraphs in Chinese; English ones: {english[:5]}"
    )


@pytest.mark.parametrize("name", PAGES)
def test_chinese_page_shows_no_english_label(pages, name):
    """Headings, table cells, captions, admonition titles, tooltips and the
    footer of the Chinese site are Chinese: not one of them English prose
    (code, product names and the glossary's English column excepted), where
    the paragraphs are allowed the 5% of the test above."""
    labels = pages[name][3]
    english = [
        f"{kind}: {text[:80]!r} ({english_prose(text)!r})"
        for kind, texts in labels.items()
        for text in texts
        if english_prose(text)
    ]
    assert not english, f"zh_CN/{name}:\n" + "\n".join(english)


@pytest.mark.parametrize("query", SEARCHES)
def test_chinese_search_as_readers_type(extras, built_site, query):
    """A query typed without spaces leads first to the chapter that teaches
    it, and finds every page whose text holds it."""
    chapter = SEARCHES[query]
    results, problems = extras[f"search:{query}"]
    assert not problems, "\n".join(problems)
    found = [href.split("#")[0].removesuffix(".html") for href in results]
    assert found and found[0] == chapter, (
        f"{query!r}: first result {found[:1]}, not {chapter}; all: {found}"
    )
    holding = {
        page
        for page in toc_files()
        if query in _article_text(built_site / "zh_CN" / f"{page}.html")
    }
    assert holding <= set(found), (
        f"{query!r} misses pages that hold it: {sorted(holding - set(found))}"
    )


def _article_text(path):
    """The text of a built page's article, without tags."""
    html = path.read_text(encoding="utf-8")
    m = re.search(r"<article\b.*?</article>", html, re.S)
    return re.sub(r"<[^>]+>", "", m.group(0) if m else "")


def test_language_switch_lands_on_the_same_page_both_ways(extras):
    """From the Chinese chapter to the English one and back (the crawl waits
    for each click to land on the same chapter in the other language)."""
    (english, to_english), (chinese, to_chinese) = extras["switch"]
    assert (english, chinese) == ("en", "zh-CN")
    assert not to_english + to_chinese, "\n".join(to_english + to_chinese)


def test_chinese_search_finds_the_chapter(extras, record_property):
    term, chapter = SEARCH
    check_screenshot(extras["search-zh"], record_property)
    assert any(chapter in href for href in extras["search"]), (
        f"{term!r} found {extras['search']}, not {chapter}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chinese_download_is_the_chapter_in_chinese(pages, chapter):
    """The download button serves the chapter with Chinese markdown and the
    English notebook's code and outputs, unchanged but for its figures,
    which are the Chinese ones (tests/test_figures.py): it runs the same way."""
    facts = pages[chapter][0]
    assert len(facts["download"]) == 1, facts["download"]
    status, body = fetch(facts["download"][0])
    assert status == 200, f"{facts['download'][0]}: HTTP {status}"
    nb = nbformat.reads(body.decode("utf-8"), as_version=4)
    nbformat.validate(nb)
    from tools import i18n

    english = i18n.chinese_figures()(
        nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    )
    assert [c.cell_type for c in nb.cells] == [
        c.cell_type for c in english.cells
    ]
    for zh, en in zip(nb.cells, english.cells, strict=True):
        if en.cell_type == "code":
            assert (zh.source, zh.outputs) == (en.source, en.outputs), (
                f"{chapter}: a code cell differs from the English notebook's"
            )
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    untranslated = [s[:80] for s in markdown if not CJK.search(s)]
    assert not untranslated, (
        f"{chapter}: markdown cells with no Chinese: {untranslated}"
    )


@pytest.mark.parametrize("shot", SCREENSHOTS)
def test_chinese_screenshots(extras, record_property, shot):
    check_screenshot(extras[shot], record_property)
