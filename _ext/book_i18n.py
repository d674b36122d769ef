"""Sphinx extension for the two editions of the book.

- The glossary of a translated edition becomes a bilingual table: the
  translated term, the English term, the translated definition. The English
  term is taken from the page before translation, so it needs no message.
- Sphinx 7.4's Chinese search index checks every Latin word against a list of
  all Latin words seen so far, which makes indexing this book quadratic (a
  quarter of the Chinese build's time in a profile). A set gives the same
  answers at once, and each word is stemmed once per build instead of once
  per occurrence (in both editions). jieba reads only the runs of Chinese
  characters, not the code and outputs, whose Latin words are indexed as
  before.
- Sphinx applies a catalog in two passes and parses each translated message
  in both, with docutils settings built from scratch every time: the Chinese
  build parsed ~2,900 small documents for ~1,500 messages. Each message is
  parsed once per page now, with one Markdown parser and one set of default
  settings for all of them, and a message with no markup at all (a third of
  them) becomes its paragraph without a parser.
- Every page gets a language switch in the sidebar (_templates/language-switch.html).
"""

import copy
import functools
import re

import docutils.frontend
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

ENGLISH_TERM = "book_english_term"
# The table's column titles, per language of the edition.
HEADINGS = {"zh_CN": ("术语", "English", "释义")}


class RememberEnglishTerms(SphinxTransform):
    """Keep each glossary term's English text before the Locale transform
    (priority 20) replaces it with the translation."""

    default_priority = 19

    def apply(self):
        for glossary in self.document.findall(addnodes.glossary):
            for term in glossary.findall(nodes.term):
                term[ENGLISH_TERM] = [c.deepcopy() for c in term.children]


class GlossaryAsTable(SphinxTransform):
    """In a translated edition, turn each glossary into a three-column table.
    Each term's ids move to the text that replaces it, so every {term}
    reference still lands on its entry."""

    default_priority = 900

    def apply(self):
        headings = HEADINGS.get(self.config.language)
        if not headings:
            return
        for glossary in list(self.document.findall(addnodes.glossary)):
            rows = []
            for item in glossary.findall(nodes.definition_list_item):
                terms = [t for t in item.children if isinstance(t, nodes.term)]
                definition = next(
                    c for c in item.children if isinstance(c, nodes.definition)
                )
                translated = nodes.entry()
                english = nodes.entry()
                for term in terms:
                    line = nodes.paragraph()
                    line += nodes.inline(
                        "", "", *term.children, ids=term["ids"]
                    )
                    translated += line
                    english += nodes.paragraph(
                        "", "", *term.get(ENGLISH_TERM, [])
                    )
                meaning = nodes.entry("", *definition.children)
                rows.append(nodes.row("", translated, english, meaning))
            glossary.replace_self(self._table(headings, rows))

    @staticmethod
    def _table(headings, rows):
        group = nodes.tgroup(cols=3)
        for width in (18, 18, 64):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += nodes.row(
            "", *(nodes.entry("", nodes.paragraph(text=h)) for h in headings)
        )
        group += head
        group += nodes.tbody("", *rows)
        return nodes.table("", group, classes=["book-glossary"])


class _LatinTerms(set):
    """A set with the one list method sphinx.search.zh uses."""

    def extend(self, words):
        self.update(words)


# Runs of Chinese characters: jieba has words to find only there. Everything
# else (code, outputs, English names) is split into Latin words as before.
CHINESE_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _split_chinese_runs_only(self, text):
    """sphinx.search.zh.SearchChinese.split, with jieba given the Chinese
    runs of the text instead of the whole text, code blocks included."""
    import jieba

    chinese = [
        word
        for run in CHINESE_RUN.findall(text)
        for word in jieba.cut_for_search(run)
    ]
    latin = [term.strip() for term in self.latin1_letters.findall(text)]
    self.latin_terms.extend(latin)
    return chinese + latin


def _fast_search(app, config):
    from sphinx.search import en

    # The same few thousand words come back on every page; stem each once.
    en.SearchEnglish.stem = functools.lru_cache(maxsize=None)(
        en.SearchEnglish.stem
    )
    if (config.html_search_language or config.language or "").startswith("zh"):
        from sphinx.search import zh

        zh.SearchChinese.latin_terms = _LatinTerms()
        zh.SearchChinese.split = _split_chinese_runs_only
        zh.SearchChinese.stem = functools.lru_cache(maxsize=None)(
            zh.SearchChinese.stem
        )


# Characters and line starts that mean something to MyST; a message without
# any of them is one paragraph of plain text.
MARKUP = re.compile(r"[\\`*_\[\]<>!&{}$~:|#=+\-\n]|^\s|^\d")


def _parse_each_message_once():
    from sphinx.transforms import i18n

    original = i18n.publish_msgstr
    parsed = {}

    def parse(app, source, source_path, source_line, config, settings):
        if MARKUP.search(source):
            return original(
                app, source, source_path, source_line, config, settings
            )
        paragraph = nodes.paragraph(source, source)
        paragraph.source, paragraph.line = source_path, source_line
        return paragraph

    def publish_msgstr(
        app, source, source_path, source_line, config, settings
    ):
        key = (source, source_line)
        if parsed.get("page") != source_path:  # one page at a time
            parsed.clear()
            parsed["page"] = source_path
        if key not in parsed:
            parsed[key] = parse(
                app, source, source_path, source_line, config, settings
            )
        return parsed[key].deepcopy()  # the caller changes what it gets

    i18n.publish_msgstr = publish_msgstr


def _one_markdown_parser():
    """MyST makes a new Markdown parser, with all its plugins, for every
    message; one per configuration serves them all (each render resets it)."""
    from myst_parser.parsers import sphinx_ as myst_sphinx

    original = myst_sphinx.create_md_parser
    made = {}

    def create_md_parser(config, renderer):
        hit = made.get((id(config), renderer))
        if hit is None or hit[0] is not config:
            hit = (config, original(config, renderer))
            made[(id(config), renderer)] = hit
        return hit[1]

    myst_sphinx.create_md_parser = create_md_parser


def _build_default_settings_once():
    original = docutils.frontend.get_default_settings
    built = {}

    def get_default_settings(*components):
        if components not in built:
            built[components] = original(*components)
        return copy.deepcopy(built[components])

    docutils.frontend.get_default_settings = get_default_settings


def _fast_translation(app, config):
    if config.language and not config.language.startswith("en"):
        _parse_each_message_once()
        _one_markdown_parser()
        _build_default_settings_once()


def setup(app):
    app.connect("config-inited", _fast_search)
    app.connect("config-inited", _fast_translation)
    app.add_transform(RememberEnglishTerms)
    app.add_transform(GlossaryAsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
