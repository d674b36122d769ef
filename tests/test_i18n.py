"""The Chinese edition's catalogs hold the same contract for the prose that nbval
holds for the outputs: an English message without its translation fails here,
naming its page and the message. tools/i18n.py builds and checks them."""

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from support.book import ROOT, toc_files
from support.browser import anchors
from support.chinese import HAN, english_prose

from tools import i18n

TOOL = ROOT / "tools" / "i18n.py"

PAGES = sorted(i18n.catalogs())


def ids(catalog):
    return {m.id for m in catalog if m.id}


def test_catalogs_hold_every_message_of_the_english_prose(tmp_path):
    """Extract the English prose afresh and compare: a new or changed
    paragraph is missing from its catalog until `make catalogs` brings it in
    (and a translator translates it)."""
    pot = i18n.templates(tmp_path)
    fresh = {}
    for path in pot.rglob("*.pot"):
        with open(path, "rb") as f:
            fresh[str(path.relative_to(pot).with_suffix(""))] = ids(read_po(f))
    # sphinx.pot: the labels in _templates/, translated by hand in sphinx.po.
    labels = fresh.pop("sphinx", set())
    with open(i18n.CATALOGS / "sphinx.po", "rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    assert labels <= translated, (
        f"labels of _templates/ without Chinese in sphinx.po: {sorted(labels - translated)}"
    )
    assert sorted(fresh) == PAGES, (
        "pages with prose and pages with a catalog differ: run `make catalogs`"
    )
    problems = []
    for page in PAGES:
        held = ids(i18n.catalogs()[page])
        problems += [
            f"{page}: not in the catalog: {m[:100]!r}"
            for m in sorted(fresh[page] - held)
        ]
        problems += [
            f"{page}: no longer in the English prose: {m[:100]!r}"
            for m in sorted(held - fresh[page])
        ]
    assert not problems, (
        "run `make catalogs`, then translate what is new:\n"
        + "\n".join(problems)
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_message_is_translated_and_none_is_fuzzy(page):
    untranslated, fuzzy = i18n.problems(i18n.catalogs()[page])
    lines = [f"untranslated: {m[:100]!r}" for m in untranslated]
    lines += [f"fuzzy: {m[:100]!r}" for m in fuzzy]
    assert not lines, f"{page}:\n" + "\n".join(lines)


@pytest.mark.parametrize("page", PAGES)
def test_translations_keep_the_myst_syntax(page):
    lines = [
        f"{m.id[:70]!r}: {problem}"
        for m in i18n.catalogs()[page]
        if m.id and m.string
        for problem in i18n.syntax_errors(m.id, m.string)
    ]
    assert not lines, f"{page}:\n" + "\n".join(lines)


@pytest.mark.parametrize(
    "msgid, msgstr, lost",
    [
        ("Use `Saver`.", "使用 `Saver2`。", "inline code"),
        ("Use `Saver`.", "使用 Saver。", "inline code"),
        ("See {doc}`a <../x>`.", "见 {doc}`乙 <../y>`。", "roles"),
        ("A {term}`checkpoint`.", "一个检查点。", "roles"),
        ("Read [this](../a.ipynb).", "读[这个](../b.ipynb)。", "link targets"),
        ("**Bold.** Text", "粗体。正文", "bold markers"),
        ("A *prefix* names it.", "由前缀命名。", "italic markers"),
        ("**Bold** and *a term*.", "**粗体**和术语。", "italic markers"),
    ],
)
def test_the_syntax_check_catches_what_a_translation_lost(msgid, msgstr, lost):
    assert any(e.startswith(lost) for e in i18n.syntax_errors(msgid, msgstr))


@pytest.mark.parametrize("page", PAGES)
def test_translations_follow_the_term_base(page):
    """locale/zh_CN/terms.yml decides one rendering per term: no translation
    uses a rejected one, and where the English uses a term with a `require`
    rule the translation renders it."""
    lines = [
        f"{m.id[:70]!r}: {problem}"
        for m in i18n.catalogs()[page]
        if m.id and m.string
        for problem in i18n.term_errors(m.id, m.string)
    ]
    assert not lines, f"{page}:\n" + "\n".join(lines)


def test_the_glossary_comes_from_the_term_base():
    """Every glossary term has its entry in terms.yml, and the glossary's
    Chinese column says what the entry chose."""
    problems = i18n.glossary_errors()
    assert not problems, "book/glossary:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "msgid, msgstr, rule",
    [
        (
            "`restore` raises `ValueError`.",
            "`restore` 引发 `ValueError`。",
            "raise",
        ),
        (
            "`restore` raises `ValueError`.",
            "`restore` 报出 `ValueError`。",
            "raise",
        ),
        ("The notebook kills it.", "笔记本终止它。", "kill"),
        ("Each run is one *life*.", "每次运行是一条“命”（*life*）。", "life"),
        ("Train for 5 epochs.", "训练 5 个周期。", "epoch"),
        (
            "It runs eagerly.",
            "它以 Eager Execution（即刻执行）方式运行。",
            "eager",
        ),
        ("an *all-reduce*", "一次*全归约*", "all-reduce"),
        (
            "Part I, on today's TensorFlow",
            "第一部分，运行在今天的 TensorFlow 上",
            "today",
        ),
        ("Training that survives", "能经受中断的训练", "survive"),
        ("a zip archive", "一个 zip 压缩包", "zip"),
        (
            "`verbose=False` keeps it quiet.",
            "`verbose=False` 可让它保持安静。",
            "keeps it quiet",
        ),
        (
            "the state, which the file also holds, stays behind",
            "文件中的状态被留下",
            "stays behind",
        ),
    ],
)
def test_the_term_base_catches_a_rejected_rendering(msgid, msgstr, rule):
    assert any(rule in e for e in i18n.term_errors(msgid, msgstr)), (
        i18n.term_errors(msgid, msgstr)
    )


def test_the_term_base_leaves_code_and_the_chosen_renderings_alone():
    assert (
        i18n.term_errors(
            "`kill` sends `SIGKILL`; the notebook kills it and `raise`s nothing.",
            "`kill` 发送 `SIGKILL`；笔记本杀死它，什么也不抛出（代码 `终止`）。",
        )
        == []
    )
    assert (
        i18n.term_errors("an *all-reduce*", "一次 *all-reduce*（全归约）")
        == []
    )


def test_the_syntax_check_accepts_a_faithful_translation():
    msgid = (
        "**Read** [the primer](../a.ipynb), {term}`checkpoint`, *shards* "
        "and `tf.train`."
    )
    msgstr = (
        "**先读** [入门](../a.ipynb)、{term}`检查点 <checkpoint>`、*分片* "
        "和 `tf.train`。"
    )
    assert i18n.syntax_errors(msgid, msgstr) == []


def test_downloads_translate_whole_blocks_only():
    messages = i18n.translated_messages(
        [
            type("M", (), {"id": i, "string": s, "fuzzy": False})()
            for i, s in [
                ("file", "文件"),
                ("Setup", "准备"),
                ("A paragraph that spans lines.", "跨行的段落。"),
                ("Title", "标题"),
            ]
        ]
    )
    source = (
        "## Setup\n\n| file | `tf.io.gfile` |\n\n"
        "A paragraph\nthat spans lines.\n\n```{admonition} Title\nA file.\n```"
    )
    assert i18n.translate_markdown(source, messages) == (
        "## 准备\n\n| 文件 | `tf.io.gfile` |\n\n"
        "跨行的段落。\n\n```{admonition} 标题\nA file.\n```"
    )


def run_tool(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_status_and_check_pass_on_the_committed_catalogs():
    for command in ("status", "check"):
        result = run_tool(command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_tool_refuses_bad_input_with_a_clear_message(
    tmp_path, monkeypatch, capsys
):
    bad = tmp_path / "overrides.yml"
    bad.write_text("config: [not, a, mapping]\n")
    monkeypatch.setattr(i18n, "OVERRIDES", bad)
    with pytest.raises(SystemExit) as exit_info:
        i18n.overrides()
    assert exit_info.value.code == 2
    assert "needs a mapping `config`" in capsys.readouterr().err
    bad.write_text("config: {language: [\n")
    with pytest.raises(SystemExit):
        i18n.overrides()
    assert "is not valid YAML" in capsys.readouterr().err
    translate = i18n.translator("book/intro")
    with pytest.raises(SystemExit):
        translate("A caption nobody translated")
    assert (
        "'A caption nobody translated' is not translated"
        in capsys.readouterr().err
    )
    result = run_tool("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


class _Glossary(HTMLParser):
    """Counts glossary entries: <dd> in English (an entry with two names has
    two <dt> and one <dd>), rows of the table in Chinese."""

    def __init__(self):
        super().__init__()
        self.entries = self.rows = self.cells = 0
        self.in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "dd":
            self.entries += 1
        if tag == "table" and "book-glossary" in (attrs.get("class") or ""):
            self.in_table = True
        if self.in_table and tag == "tr":
            self.rows += 1
        if self.in_table and tag in ("td", "th"):
            self.cells += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False


def test_chinese_glossary_is_a_bilingual_table_of_every_term(built_site):
    english, chinese = _Glossary(), _Glossary()
    english.feed((built_site / "book" / "glossary.html").read_text())
    chinese.feed((built_site / "zh_CN" / "book" / "glossary.html").read_text())
    assert english.entries > 50
    assert chinese.rows == english.entries + 1  # and the heading row
    assert chinese.cells == 3 * chinese.rows
    html = (built_site / "zh_CN" / "book" / "glossary.html").read_text()
    for term in (
        "持久化",
        "计算图",
        "会话",
        "滑动平均",
        "影子变量",
        "衰减率",
        "冻结",
    ):
        assert term in html, f"the Chinese glossary has no {term}"
    # Every term keeps its anchor, so each {term} reference still lands on it.
    english_ids = anchors((built_site / "book" / "glossary.html").read_text())
    terms = {a for a in english_ids if a.startswith("term-")}
    missing = terms - anchors(
        (built_site / "zh_CN" / "book" / "glossary.html").read_text()
    )
    assert not missing, f"term anchors lost in Chinese: {sorted(missing)}"


# The book's core terms as readers type them: each must be one word of the
# Chinese search index (jieba would cut them otherwise; the test in
# test_browser_zh.py types them into the search page).
SEARCH_TERMS = (
    "计算图",
    "滑动平均",
    "持久化",
    "初始化器",
    "影子变量",
    "恢复检查点",
    "固化",
)


def _search_index(html):
    text = (html / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1 : text.rindex(")")])


def _chinese_pages(built_site):
    return {
        page: (built_site / "zh_CN" / f"{page}.html").read_text(
            encoding="utf-8"
        )
        for page in [*toc_files(), "genindex", "search"]
    }


def _text(html):
    html = re.sub(r"<(code|script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(
        r'<a class="headerlink".*?</a>|<span class="section-number">.*?</span>',
        "",
        html,
    )
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_chinese_search_index_holds_the_books_terms_whole(built_site):
    index = _search_index(built_site / "zh_CN")
    words = set(index["terms"]) | set(index["titleterms"])
    missing = [term for term in SEARCH_TERMS if term not in words]
    assert not missing, f"not words of the Chinese search index: {missing}"
    # A page whose word holds a term is found under the term as well.
    chapter = index["docnames"].index("notebooks/15-resume-exactly")
    assert chapter in index["terms"]["滑动平均"], (
        "指数滑动平均 is not found by 滑动平均"
    )


def test_chinese_headings_and_search_titles_are_chinese(built_site):
    """Every heading of the Chinese site's pages and every title its search
    index holds is Chinese (code and names excepted): not one English. A
    title of the index is judged as its heading on the page, code taken out."""
    english, prose_of = [], {}
    for page, html in _chinese_pages(built_site).items():
        for m in re.finditer(r"<h([1-6])\b[^>]*>(.*?)</h\1>", html, re.S):
            full = _text(re.sub(r"</?code\b[^>]*>", "", m.group(2)))
            prose_of[full] = _text(m.group(2))
            if english_prose(prose_of[full]):
                english.append(f"{page}: h{m.group(1)} {prose_of[full]!r}")
    index = _search_index(built_site / "zh_CN")
    for title in map(_text, [*index["titles"], *index["alltitles"]]):
        if english_prose(prose_of.get(title, title)):
            english.append(f"search index: {title!r}")
    assert not english, "English headings:\n" + "\n".join(english)


def test_both_editions_credit_the_source(built_site):
    for html in (built_site / "book", built_site / "zh_CN" / "book"):
        text = _text((html / "intro.html").read_text(encoding="utf-8"))
        assert (
            "《TensorFlow：实战Google深度学习框架》" in text
            and "5.4.1" in text
        ), f"{html / 'intro.html'} does not name the source"


@pytest.mark.parametrize(
    "page", [p for p in toc_files() if (ROOT / f"{p}.md").is_file()]
)
def test_chinese_download_of_a_book_page_is_chinese(built_site, page):
    """The Chinese site's "download source file" gives the page's Markdown
    in Chinese: no paragraph, heading, list item or table row of it (code
    and directive lines aside) is English prose."""
    text = (built_site / "zh_CN" / "_sources" / f"{page}.md").read_text(
        encoding="utf-8"
    )
    # Code blocks out; a directive's body (the glossary's) stays.
    text = re.sub(
        r"^(`{3,}|:{3,})(?!\{)[^\n]*\n.*?^\1[ \t]*$",
        "",
        text,
        flags=re.S | re.M,
    )
    english = [
        f"{block.strip()[:60]!r}: {english_prose(i18n.prose(block))!r}"
        for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*#]|\d+\.))|\|", text)
        if block.strip()
        and not block.lstrip().startswith(("```", ":", "{"))
        and english_prose(i18n.prose(block))
    ]
    assert not english, f"{page}.md: English blocks {english}"


def test_chinese_site_names_no_taiwan_words_and_no_english_footer(built_site):
    """The footer and the labels the themes write are mainland Chinese."""
    html = (built_site / "zh_CN" / "book" / "setup.html").read_text(
        encoding="utf-8"
    )
    footer = _text(
        re.search(
            r'<footer class="bd-footer-content">.*?</footer>', html, re.S
        ).group(0)
    )
    labels = re.findall(r'(?:title|data-bs-title)="([^"]+)"', html)
    bad = [t for t in [footer, *labels] if english_prose(t)]
    assert not bad, f"English or Taiwan words on zh_CN/book/setup: {bad}"
    assert HAN.search(footer), footer
