"""Sphinx extension: the search index holds what a reader reads.

A code cell tagged `hide-input` is plumbing the site collapses: the setup cell
stamped into every chapter, the launchers of Part III, the figure helpers.
Indexed, its words sent a search for `environ`, `enter_workdir` or
`subprocess` to every chapter alike, and its code was a third of the text the
Chinese edition's index had jieba split. Its input stays on the page
(collapsed) and leaves the index; its output is indexed as before, and so is
every cell a reader sees open, including the collapsed exercise solutions
(`hide-cell`), which a reader opens to read. tests/test_search.py holds both
sides.
"""

from docutils import nodes


def hidden_inputs(doctree):
    """(parent, input) for each code cell input the page collapses; by the
    time Sphinx indexes a page, MyST-NB has wrapped such an input in a
    node of its own (HideCodeCellNode), which is then its parent."""
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") == "cell_code" and cell.get("hide_mode") in (
            "input",
            "input+output",
        ):
            for node in cell.findall(nodes.container):
                if node.get("nb_element") == "cell_code_source":
                    yield node.parent, node


def _feed_without_hidden_inputs(app, config):
    from sphinx.search import IndexBuilder

    original = IndexBuilder.feed
    if getattr(original, "book_original", None) is not None:
        original = original.book_original  # a second Sphinx app in-process

    def feed(self, docname, filename, title, doctree):
        # The same doctree is written to HTML next, so the inputs come back.
        detached = [
            (parent, parent.index(child), child)
            for parent, child in list(hidden_inputs(doctree))
        ]
        for parent, _, child in detached:
            parent.remove(child)
        try:
            return original(self, docname, filename, title, doctree)
        finally:
            for parent, at, child in reversed(detached):
                parent.insert(at, child)

    feed.book_original = original
    IndexBuilder.feed = feed


def setup(app):
    app.connect("config-inited", _feed_without_hidden_inputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
