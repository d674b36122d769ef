"""The Chinese edition's catalogs hold the same contract for the prose that nbval
holds for the outputs: an English message without its translation fails here,
naming its page and the message. tools/i18n.py builds and checks them."""

import subprocess
import sys
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from support.book import ROOT
from support.browser import anchors

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
    ],
)
def test_the_syntax_check_catches_what_a_translation_lost(msgid, msgstr, lost):
    assert any(e.startswith(lost) for e in i18n.syntax_errors(msgid, msgstr))


def test_the_syntax_check_accepts_a_faithful_translation():
    msgid = (
        "**Read** [the primer](../a.ipynb), {term}`checkpoint` and `tf.train`."
    )
    msgstr = "**先读** [入门](../a.ipynb)、{term}`检查点 <checkpoint>` 和 `tf.train`。"
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
