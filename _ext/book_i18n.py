"""Sphinx extension: what the translated edition needs beyond its catalogs.

- Headings that begin with a number. Sphinx parses each translated message
  as a small Markdown document and keeps the English when the result is not
  one paragraph. Chapter 13's "1. Missing files" translates to "1. 文件缺失",
  which Markdown reads as a numbered list, so the heading, the page's table
  of contents and the search index all kept the English. A translation that
  begins the way a list item, a heading or a quote begins has that marker
  escaped before it is parsed; it reads the same.
- The theme's labels. sphinx-book-theme translates its own labels from its
  own catalog, whose Simplified Chinese has the Taiwan 列印 for "print": the
  edition's sphinx.po (locale/zh_CN/LC_MESSAGES/) is asked first, so it can
  put mainland words in their place. The tooltips and the footer that the
  themes write in English whatever the language are templates of this book
  (_templates/), translated through sphinx.po too; so are the screen-reader
  labels the themes and MyST-NB write in English ("Main", "Page", "Toggle
  hidden content": the last by the collapsed cells' visitor below).
- Search as readers type. The Chinese index is cut into words by jieba; a
  user dictionary of the book's own terms (the setting `book_search_words`,
  which tools/i18n.py takes from the term base and the glossary) keeps each
  of them one word, and _static/search-zh.js (which _templates/layout.html
  loads on the Chinese search page) splits a query typed without spaces
  into the index's words. Each term is also an
  index entry of the page that teaches it (the setting `book_taught`, from
  the term base's `taught`), so a search for it lists that page first and
  the edition's index page (索引) lists the terms.

Nothing here changes the English edition.
"""

import functools
import html
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes, locale
from sphinx.transforms import SphinxTransform

# A message that begins like one of these is a Markdown block, not a
# paragraph or a heading: an ordered or bullet list item, an ATX heading, a
# quote. Escaping the marker's punctuation keeps the text as it reads.
BLOCK_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+*#>])(?=\s|$)")


def escape_block_start(text):
    """`text` with a leading Markdown block marker escaped."""
    return BLOCK_START.sub(
        lambda m: (
            m.group(1) + "\\" + m.group(2) if m.group(1) else "\\" + m.group(3)
        ),
        text,
        count=1,
    )


def _translated(config):
    return bool(config.language) and not config.language.startswith("en")


def _escape_translated_block_starts(app, config):
    if not _translated(config):
        return
    from sphinx.transforms import i18n

    original = i18n.publish_msgstr

    def publish_msgstr(app, source, *args, **kwargs):
        return original(app, escape_block_start(source), *args, **kwargs)

    i18n.publish_msgstr = publish_msgstr


class _ProjectFirst:
    """A gettext translations object: the project's sphinx.po first, then the
    theme's own catalog (for sphinx-book-theme's labels)."""

    def __init__(self, theme):
        self.theme = theme

    def gettext(self, message):
        project = locale.get_translator("sphinx").gettext(message)
        return project if project != message else self.theme.gettext(message)

    def ngettext(self, singular, plural, n):
        return self.theme.ngettext(singular, plural, n)


def _theme_labels_from_the_project(app):
    if not _translated(app.config):
        return
    key = ("general", "booktheme")
    theme = locale.translators.get(key)
    if theme is not None and not isinstance(theme, _ProjectFirst):
        locale.translators[key] = _ProjectFirst(theme)


def _jieba_dictionary(app, config):
    """Write the book's terms as a jieba user dictionary and point the
    Chinese search at it, before the index is built. A word of the page that
    holds a term (指数滑动平均 holds 滑动平均) is indexed under the term too:
    jieba's search mode adds only the two- and three-character words inside
    a longer one."""
    words = config.book_search_words
    if not words or not (config.language or "").startswith("zh"):
        return
    path = Path(app.doctreedir) / "book-search-words.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    # A frequency high enough that jieba keeps each term whole.
    path.write_text(
        "".join(f"{w} 100000 n\n" for w in words), encoding="utf-8"
    )
    config.html_search_options = dict(
        config.html_search_options or {}, dict=str(path)
    )
    from sphinx.search import zh

    original = zh.SearchChinese.split
    if getattr(original, "book_terms", None) is not None:
        original = original.__wrapped__
    terms = frozenset(words)

    @functools.lru_cache(maxsize=None)
    def terms_inside(word):
        if len(word) < 3:
            return ()
        return tuple(t for t in terms if t != word and t in word)

    @functools.wraps(original)
    def split(self, text):
        found = original(self, text)
        return found + [t for w in found for t in terms_inside(w)]

    split.book_terms = terms
    zh.SearchChinese.split = split


class IndexTaughtTerms(SphinxTransform):
    """Index each term that `book_taught` names for this page, pointing at
    the page's first section (its title and opening): after the translation
    (priority 20), before the domains collect the index entries (850)."""

    default_priority = 840

    def apply(self):
        names = (self.config.book_taught or {}).get(self.env.docname)
        section = next(iter(self.document.findall(nodes.section)), None)
        if not names or section is None or not section["ids"]:
            return
        target = section["ids"][0]
        index = addnodes.index(
            entries=[("single", name, target, "main", None) for name in names]
        )
        at = 1 if len(section) and isinstance(section[0], nodes.title) else 0
        section.insert(at, index)


SEARCH_SCRIPT = "search-zh.js"


def _search_script_on_the_search_page_only(app, config):
    """jupyter-book loads every script of _static/ on every page; the query
    splitter belongs to the Chinese search page alone, which
    _templates/layout.html gives it."""
    config.html_js_files = [
        entry
        for entry in config.html_js_files
        if (entry if isinstance(entry, str) else entry[0]) != SEARCH_SCRIPT
    ]


# What MyST-NB writes for the summary of a collapsed cell, in every language.
TOGGLE_LABEL = 'aria-label="Toggle hidden content"'


def _translated_toggle_label(app):
    """MyST-NB's visitor of a collapsed cell, with its summary's
    screen-reader label through the catalogs."""
    from myst_nb import sphinx_ as myst_nb_sphinx

    visit, depart = (
        myst_nb_sphinx.visit_HideCellInput,
        myst_nb_sphinx.depart_HideCellInput,
    )

    def visit_translated(self, node):
        visit(self, node)
        label = locale._("Toggle hidden content")
        for at in range(len(self.body) - 1, -1, -1):
            if TOGGLE_LABEL in self.body[at]:
                self.body[at] = self.body[at].replace(
                    TOGGLE_LABEL, f'aria-label="{html.escape(label)}"'
                )
                break

    app.add_node(
        myst_nb_sphinx.HideCodeCellNode,
        override=True,
        html=(visit_translated, depart),
    )


def setup(app):
    app.add_config_value("book_search_words", [], "html")
    app.add_config_value("book_taught", {}, "env")
    app.add_transform(IndexTaughtTerms)
    app.connect("config-inited", _escape_translated_block_starts)
    app.connect("config-inited", _jieba_dictionary)
    app.connect("config-inited", _search_script_on_the_search_page_only)
    _translated_toggle_label(app)
    app.connect("builder-inited", _theme_labels_from_the_project)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
