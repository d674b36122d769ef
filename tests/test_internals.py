"""Every private name of another package that the project patches or reads,
checked by name and shape, so that an upgrade that removes or reshapes one
fails here, naming it, instead of somewhere far from the cause.

Who relies on what:

- tests/support/kernel_zygote.py (chapter kernels forked from one process):
  logging's handler registry, warnings' filter cache, atexit's exit
  functions, TensorFlow's logger;
- tests/support/forked_kernels.py: jupyter_client's kernel launcher;
- tests/support/nbval_figures.py: nbval's output comparison;
- tests/support/scheduling.py: xdist's loadscope scheduler;
- _ext/book_speedups.py (the faster build): Sphinx's translated-message
  parser, MyST's parser factory, docutils' default settings, Sphinx's Chinese
  and English search splitters and stemmers;
- _ext/book_speedups.py also: Sphinx's highlighter, jieba's block pattern,
  docutils' Node._document, Sphinx's NodeMatcher in its i18n module,
  sphinx-external-toc's `glob`;
- _ext/book_search.py (what the index holds): Sphinx's IndexBuilder.feed and
  the attributes MyST-NB gives a collapsed input;
- _ext/book_i18n.py (the Chinese edition): MyST-NB's visitor of a collapsed
  cell, the themes' English screen-reader labels; Sphinx's translated-message
  parser, its Chinese search splitter, its registry of translations and
  sphinx-book-theme's catalog in it; _static/search-zh.js: the hooks of
  Sphinx's searchtools.js (splitQuery, Scorer.score, the index's terms).

Each case imports only what it checks; the TensorFlow case is the only one
that imports TensorFlow.
"""

import importlib
import inspect

import pytest


def _get(dotted):
    """The object at `module.path:attribute.path`."""
    module_name, _, attributes = dotted.partition(":")
    target = importlib.import_module(module_name)
    for name in attributes.split("."):
        target = getattr(target, name)
    return target


def _parameters(function):
    return list(inspect.signature(function).parameters)


# (the internal, what the project needs of it)
CALLABLES = {
    # name: the parameters the patch relies on, in order (None: any)
    "logging:_addHandlerRef": ["handler"],
    "warnings:_filters_mutated": None,
    "atexit:_run_exitfuncs": None,
    "jupyter_client.provisioning.local_provisioner:launch_kernel": [
        "cmd",
        "stdin",
        "stdout",
        "stderr",
        "env",
        "independent",
        "cwd",
        "kw",
    ],
    "nbval.plugin:IPyNbCell.compare_outputs": [
        "self",
        "test",
        "ref",
        "skip_compare",
    ],
    "xdist.scheduler:LoadScopeScheduling._split_scope": ["self", "nodeid"],
    "xdist.scheduler:LoadScopeScheduling._pending_of": ["self", "workload"],
    "xdist.scheduler:LoadScopeScheduling._reschedule": ["self", "node"],
    "xdist.scheduler:LoadScopeScheduling.remove_node": ["self", "node"],
    "sphinx.transforms.i18n:publish_msgstr": [
        "app",
        "source",
        "source_path",
        "source_line",
        "config",
        "settings",
    ],
    "myst_parser.parsers.sphinx_:create_md_parser": ["config", "renderer"],
    "docutils.frontend:get_default_settings": ["components"],
    "sphinx.search.zh:SearchChinese.stem": ["self", "word"],
    "sphinx.search.zh:SearchChinese.split": ["self", "input"],
    "sphinx.search.en:SearchEnglish.stem": ["self", "word"],
    "sphinx.highlighting:PygmentsBridge.highlight_block": [
        "self",
        "source",
        "lang",
        "opts",
        "force",
        "location",
        "kwargs",
    ],
    "sphinx.highlighting:PygmentsBridge.get_formatter": ["self", "kwargs"],
    "sphinx.search:IndexBuilder.feed": [
        "self",
        "docname",
        "filename",
        "title",
        "doctree",
    ],
    "jieba:cut_for_search": ["sentence", "HMM"],
    "myst_nb.sphinx_:visit_HideCellInput": ["self", "node"],
    "myst_nb.sphinx_:depart_HideCellInput": ["self", "node"],
}


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_patched_callable_is_there_with_its_parameters(name):
    try:
        target = _get(name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{name} is gone ({exc}); see the module that uses it")
    assert callable(target), f"{name} is no longer callable"
    expected = CALLABLES[name]
    if expected is not None and not inspect.isbuiltin(target):
        assert _parameters(target) == expected, (
            f"{name} changed its parameters: {_parameters(target)}"
        )


def test_logging_keeps_its_handler_registry():
    import logging

    assert isinstance(logging._handlerList, list), "logging._handlerList"
    assert hasattr(logging._handlers, "__setitem__"), "logging._handlers"
    assert hasattr(logging.Handler(), "_closed"), "logging.Handler._closed"


def test_xdist_loadscope_keeps_its_work_tables():
    from xdist.scheduler import LoadScopeScheduling

    source = inspect.getsource(LoadScopeScheduling.__init__)
    for name in ("self.assigned_work", "self.workqueue"):
        assert name in source, f"LoadScopeScheduling: {name} is gone"


def test_sphinx_chinese_search_keeps_its_latin_word_list():
    from sphinx.search.zh import SearchChinese

    assert hasattr(SearchChinese, "latin_terms"), "SearchChinese.latin_terms"


def test_jieba_still_cuts_block_by_block():
    """book_speedups cuts each of jieba's blocks once: it needs the module
    Sphinx's Chinese search calls, jieba's block pattern, and cut's
    splitting of a sentence by that pattern before cutting each piece."""
    import jieba
    from sphinx.search import zh

    assert zh.JIEBA and zh.jieba is jieba, "sphinx.search.zh.jieba"
    assert hasattr(jieba.re_han_default, "split"), "jieba.re_han_default"
    source = inspect.getsource(jieba.Tokenizer.cut)
    assert "re_han.split(sentence)" in source, "jieba.Tokenizer.cut changed"


def test_the_english_screen_reader_labels_are_where_the_book_translates_them():
    """_templates/ and book_i18n replace these exact strings with the
    catalog's label; where one moved, the Chinese site would say it in
    English again (tests/test_browser_zh.py would fail on the page)."""
    from pathlib import Path

    import myst_nb
    import sphinx_book_theme
    import sphinx_togglebutton

    theme = Path(sphinx_book_theme.__file__).parent / "theme/sphinx_book_theme"
    for path, label in (
        (theme / "components/sbt-sidebar-nav.html", 'aria-label="Main"'),
        (theme / "layout.html", '<nav aria-label="Page">'),
        (
            Path(myst_nb.__file__).parent / "sphinx_.py",
            'aria-label="Toggle hidden content"',
        ),
        (
            Path(sphinx_togglebutton.__file__).parent
            / "_static/togglebutton.js",
            'class="toggle-button"',
        ),
    ):
        assert label in path.read_text(), f"{path.name}: {label} is gone"


def test_sphinx_i18n_still_finds_nodes_with_its_node_matcher():
    """book_speedups gives sphinx.transforms.i18n a NodeMatcher that walks
    by class first; it needs the module's name for it, and the matcher's
    classes and match()."""
    from docutils import nodes
    from sphinx.transforms import i18n
    from sphinx.util.nodes import NodeMatcher

    assert "NodeMatcher" in vars(i18n), "sphinx.transforms.i18n.NodeMatcher"
    source = inspect.getsource(i18n.Locale.apply)
    source += inspect.getsource(i18n._NodeUpdater.update_title_mapping)
    assert "NodeMatcher(" in source, "i18n no longer uses NodeMatcher"
    matcher = NodeMatcher(nodes.target, refname="x")
    assert matcher.classes == (nodes.target,), "NodeMatcher.classes"
    assert matcher.match(nodes.target(refname="x")), "NodeMatcher.match"


def test_sphinx_external_toc_still_globs_through_its_module_attribute():
    """book_speedups replaces the `glob` that sphinx-external-toc's events
    module imported, before its config-inited handler (priority 900) runs,
    and prunes the one recursive search that handler makes."""
    import glob

    from sphinx_external_toc import events

    assert events.glob is glob or hasattr(events.glob, "iglob"), "events.glob"
    source = inspect.getsource(events.parse_toc_to_env)
    for part in ("glob.iglob(", '"**"', "recursive=True"):
        assert part in source, "parse_toc_to_env no longer globs SRCDIR/**/*"
    setup = inspect.getsource(__import__("sphinx_external_toc").setup)
    assert '"config-inited", parse_toc_to_env, priority=900' in setup


def test_docutils_nodes_keep_their_own_document_reference():
    """book_speedups points translated nodes back at their page through
    Node.document's setter, finding them by their own `_document`."""
    from docutils import nodes

    node = nodes.paragraph()
    assert isinstance(nodes.Node.__dict__.get("document"), property)
    page = nodes.document(None, None)
    node.document = page
    assert node.__dict__.get("_document") is page, "Node._document"


def test_myst_nb_keeps_its_collapsed_input_markers():
    """book_search finds a collapsed input by these attributes."""
    from myst_nb.core import render

    source = inspect.getsource(render)
    for marker in ('"hide_mode"', '"cell_code_source"', '"cell_code"'):
        assert marker in source, f"myst_nb.core.render: {marker} is gone"


def test_tensorflow_keeps_its_logger_cache():
    from tensorflow.python.platform import tf_logging

    assert hasattr(tf_logging, "_logger"), "tf_logging._logger is gone"
    assert callable(tf_logging.get_logger), "tf_logging.get_logger"


def test_sphinx_keeps_its_translations_registry_and_the_book_themes_catalog():
    from sphinx import locale
    from sphinx_book_theme.header_buttons import MESSAGE_CATALOG_NAME

    assert isinstance(locale.translators, dict), "sphinx.locale.translators"
    assert MESSAGE_CATALOG_NAME == "booktheme", "sphinx-book-theme's catalog"
    assert _parameters(locale.get_translation) == ["catalog", "namespace"]


def test_sphinx_searchtools_keeps_the_hooks_of_search_zh():
    from pathlib import Path

    import sphinx

    js = (
        Path(sphinx.__file__).parent / "themes/basic/static/searchtools.js"
    ).read_text()
    for hook in (
        'typeof splitQuery === "undefined"',
        "splitQuery(query.trim())",
        "if (Scorer.score)",
        "Search._index.terms",
        "Search._index.titleterms",
        "[docname, title, anchor, descr, score, filename]",
    ):
        assert hook in js, f"searchtools.js: {hook!r} is gone"
