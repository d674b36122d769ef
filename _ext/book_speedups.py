"""Sphinx extension: the same site, built faster. Nothing here changes a page;
tests/test_speedups.py builds a small translated project with and without this
extension and compares every HTML file and the search index.

Each speed-up replaces a function of another package (tests/test_internals.py
fails, naming it, when one moves); each says when it can go.

- Search, both editions: Sphinx stems each word of every page afresh, and
  the same few thousand words come back on every page: each is stemmed once.
- Search, Chinese: Sphinx 7.4's Chinese index checks every Latin word against
  a list of all Latin words seen so far, which makes indexing quadratic (a
  quarter of the Chinese build's time in a profile); a set gives the same
  answers at once. (An earlier version also gave jieba only the runs of
  Chinese characters; that left out the words jieba finds inside Latin names,
  `consumed` in `assert_consumed`, and the test caught it.) Unnecessary once
  sphinx.search.zh keeps its Latin words in a set (not so in Sphinx 7.4.7,
  the version pinned here; check sphinx/search/zh.py when upgrading).
- Search, Chinese: jieba cuts a text block by block (the runs its pattern
  `re_han_default` matches, and what lies between), each block on its own;
  code repeats the same blocks (`tf`, `np.float32`, `saver.save`) thousands
  of times, so each block is cut once and its words reused. Unnecessary
  once jieba caches its cuts (not so in jieba 0.42.1).
- Translation: Sphinx applies a catalog in two passes and parses each
  translated message in both, with docutils settings built from scratch every
  time: the Chinese build parsed ~2,900 small documents for ~1,500 messages.
  Each message is parsed once per page now, with one Markdown parser and one
  set of default settings for all of them, and a message with no markup at
  all (a third of them) becomes its paragraph without a parser. Unnecessary
  once sphinx.transforms.i18n parses a message once and myst-parser reuses
  its parser (not so in Sphinx 7.4.7 with myst-parser 3.0.1).
- Doctrees, Chinese: a translated message is parsed as a small document of
  its own, and the nodes Sphinx moves from it into the page keep pointing
  at it; pickling a page's doctree (after reading, again before writing)
  then pickles ~110 small documents beside it: chapter 13's doctree was
  584 KB against 277 KB in English. Each such node is pointed back at its
  page. Unnecessary once sphinx.transforms.i18n re-homes the nodes it
  moves (not so in Sphinx 7.4.7).
- Translation: for each translated section title (308 in the book), Sphinx
  looks for reference targets named after the old title by testing every
  node of the page with a matcher object. The same search walks only the
  nodes of the target's class (docutils' isinstance walk) and tests those:
  the same nodes in the same order. Unnecessary once Sphinx's NodeMatcher
  searches by class first (not so in Sphinx 7.4.7).
- Table of contents, both editions: with `only_build_toc_files`,
  sphinx-external-toc globs the whole source folder for each source suffix
  to exclude the files the TOC leaves out, descending into folders that
  `exclude_patterns` excludes already, whose files it then skips. In a tree
  that holds `artifacts/fixture-venvs` (5 GB of old environments) that was
  3.3 s per build. Its search skips those folders now: the same files come
  out. Unnecessary once sphinx-external-toc prunes excluded folders (not so
  in sphinx-external-toc 1.1.0).
- Highlighting, both editions: Pygments lexes every code block afresh,
  and the cells stamped from tools/cells/ repeat the same code in many
  chapters (a third of the code Sphinx highlighted); each block with its
  options is highlighted once per build, and one Pygments formatter serves
  every block with the same options (each new one built its style tables).
  Unnecessary once Sphinx caches highlighted blocks and formatters (not so
  in Sphinx 7.4.7).
"""

import copy
import fnmatch
import functools
import glob
import os
import re

import docutils.frontend
from docutils import nodes
from sphinx.util.matching import Matcher


class _LatinTerms(set):
    """A set with the one list method sphinx.search.zh uses."""

    def extend(self, words):
        self.update(words)


class _JiebaByBlock:
    """The jieba module, with cut_for_search cutting each block once.

    jieba.Tokenizer.cut splits a sentence with `re_han_default` and cuts each
    piece without looking at its neighbours; cut_for_search adds, word by
    word, the dictionary's 2- and 3-grams inside it. Cutting the pieces one
    by one and joining their words gives the same words in the same order.
    """

    def __init__(self, module):
        self._module = module
        self._words = {}

    def __getattr__(self, name):  # load_userdict and the rest: jieba's own
        return getattr(self._module, name)

    def cut_for_search(self, sentence, HMM=True):
        words = []
        for block in self._module.re_han_default.split(sentence):
            if block:
                key = (block, HMM)
                if key not in self._words:
                    self._words[key] = list(
                        self._module.cut_for_search(block, HMM=HMM)
                    )
                words.extend(self._words[key])
        return words


def _fast_search(app, config):
    from sphinx.search import en

    # The same few thousand words come back on every page; stem each once.
    en.SearchEnglish.stem = functools.lru_cache(maxsize=None)(
        en.SearchEnglish.stem
    )
    if (config.html_search_language or config.language or "").startswith("zh"):
        from sphinx.search import zh

        zh.SearchChinese.latin_terms = _LatinTerms()
        if zh.JIEBA and not isinstance(zh.jieba, _JiebaByBlock):
            zh.jieba = _JiebaByBlock(zh.jieba)
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


def _class_first_matcher():
    from sphinx.transforms import i18n
    from sphinx.util.nodes import NodeMatcher

    if getattr(i18n.NodeMatcher, "book_original", None) is not None:
        return  # a second Sphinx app in-process

    class ClassFirstMatcher(NodeMatcher):
        book_original = NodeMatcher

        def findall(self, node):
            if len(self.classes) != 1:
                yield from super().findall(node)
                return
            for found in node.findall(self.classes[0]):
                if self.match(found):
                    yield found

    i18n.NodeMatcher = ClassFirstMatcher


def _fast_translation(app, config):
    if config.language and not config.language.startswith("en"):
        _parse_each_message_once()
        _one_markdown_parser()
        _build_default_settings_once()
        _class_first_matcher()


class _PrunedGlob:
    """The glob module for sphinx-external-toc, whose one recursive search,
    SRCDIR/**/*SUFFIX, leaves out the folders exclude_patterns excludes. As
    glob does, it skips hidden names and follows links to folders."""

    def __init__(self, app):
        self._app = app

    def __getattr__(self, name):
        return getattr(glob, name)

    def iglob(self, pattern, *, recursive=False):
        srcdir = str(self._app.srcdir)
        head, sep, name = pattern.rpartition(os.sep + "**" + os.sep)
        if not (recursive and sep and head == srcdir and "/" not in name):
            yield from glob.iglob(pattern, recursive=recursive)
            return
        excluded = Matcher(self._app.config.exclude_patterns)
        for folder, subfolders, files in os.walk(srcdir, followlinks=True):
            where = os.path.relpath(folder, srcdir)
            where = "" if where == "." else where.replace(os.sep, "/") + "/"
            subfolders[:] = [
                d
                for d in subfolders
                if not d.startswith(".") and not excluded(where + d)
            ]
            for found in fnmatch.filter(files, name):
                if not found.startswith("."):
                    yield os.path.join(folder, found)


def _toc_search_skips_excluded_folders(app, config):
    try:
        from sphinx_external_toc import events
    except ImportError:
        return
    # Bound to this app's source folder and exclude_patterns (a second
    # Sphinx app in the same process gets its own).
    events.glob = _PrunedGlob(app)


def _highlight_each_block_once(app, config):
    from sphinx.highlighting import PygmentsBridge

    original = PygmentsBridge.highlight_block
    if getattr(original, "book_original", None) is not None:
        original = original.book_original  # a second Sphinx app in-process
    done = {}

    def highlight_block(
        self, source, lang, opts=None, force=False, location=None, **kwargs
    ):
        # `location` only places a warning, and a block that warns fails the
        # build (warnings are errors) before it could be reused.
        key = (id(self), source, lang, repr(opts), force, repr(kwargs))
        hit = done.get(key)
        if hit is None or hit[0] is not self:
            hit = (
                self,
                original(self, source, lang, opts, force, location, **kwargs),
            )
            done[key] = hit
        return hit[1]

    highlight_block.book_original = original
    PygmentsBridge.highlight_block = highlight_block

    # Sphinx makes a new Pygments formatter for every block, and each builds
    # its style tables anew; a formatter keeps no state between blocks.
    make_formatter = PygmentsBridge.get_formatter
    if getattr(make_formatter, "book_original", None) is not None:
        make_formatter = make_formatter.book_original
    formatters = {}

    def get_formatter(self, **kwargs):
        key = (id(self), repr(sorted(kwargs.items())))
        hit = formatters.get(key)
        if hit is None or hit[0] is not self:
            hit = formatters[key] = (self, make_formatter(self, **kwargs))
        return hit[1]

    get_formatter.book_original = make_formatter
    PygmentsBridge.get_formatter = get_formatter


def _nodes_point_at_their_page(app, doctree):
    if app.config.language and not app.config.language.startswith("en"):
        for node in doctree.findall():
            if node.__dict__.get("_document") not in (None, doctree):
                node.document = doctree


def setup(app):
    app.connect("config-inited", _fast_search)
    app.connect("config-inited", _fast_translation)
    app.connect("config-inited", _highlight_each_block_once)
    # Before sphinx-external-toc reads the TOC (its handler's priority: 900).
    app.connect("config-inited", _toc_search_skips_excluded_folders)
    app.connect("doctree-read", _nodes_point_at_their_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
