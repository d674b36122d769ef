"""Sphinx extension: each edition shows the figures in its own language.

A chapter draws every figure twice, in English and in Chinese, through
`show_figure` (tools/cells/figures.py): the output's `image/png` is the
English figure and its metadata `book.zh_CN` holds the Chinese one. When
Sphinx has read a notebook (`source-read`, before myst-nb parses the text),
the Chinese build puts the Chinese figure in place of the English one; both
builds drop the other language's figure, which no page shows.

`chinese_notebook` does the same swap for the chapters the Chinese edition
offers for download (tools/i18n.py), keeping the English figure in the
metadata and setting BOOK_LANGUAGE, so that a downloaded Chinese chapter
shows Chinese figures and draws them again when it runs.
"""

import json
import re

LANGUAGE = "zh_CN"
FIGURES_TAG = "stamp:figures"
BOOK_LANGUAGE = re.compile(r'^BOOK_LANGUAGE = "en"$', re.M)


def figure_outputs(nb):
    """The outputs of `nb` (a notebook as a dict) that carry a figure in
    another language."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            if "book" in output.get("metadata", {}):
                yield output


def chinese_notebook(nb):
    """`nb` (English, as a dict) with its Chinese figures as the stored
    ones, the English ones in their metadata, and BOOK_LANGUAGE = "zh_CN" in
    its figures cell. Changes `nb` and returns it."""
    for output in figure_outputs(nb):
        other = output["metadata"]["book"]
        if LANGUAGE in other:
            chinese = other.pop(LANGUAGE)["image/png"]
            other["en"] = {"image/png": output["data"]["image/png"]}
            output["data"]["image/png"] = chinese
    for cell in nb.get("cells", []):
        if FIGURES_TAG in cell.get("metadata", {}).get("tags", []):
            source = cell["source"]
            text = "".join(source) if isinstance(source, list) else source
            text = BOOK_LANGUAGE.sub(f'BOOK_LANGUAGE = "{LANGUAGE}"', text)
            # As it was: a list of lines in the file, one string in nbformat.
            is_list = isinstance(source, list)
            cell["source"] = (
                text.splitlines(keepends=True) if is_list else text
            )
    return nb


def edition_notebook(text, language):
    """The notebook JSON `text` as the edition in `language` renders it:
    that language's figures, and no other."""
    nb = json.loads(text)
    if language == LANGUAGE:
        chinese_notebook(nb)
    for output in figure_outputs(nb):
        del output["metadata"]["book"]
    return json.dumps(nb, ensure_ascii=False)


def _figures_of_this_edition(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    if '"book"' in source[0]:
        source[0] = edition_notebook(source[0], app.config.language)


def setup(app):
    app.connect("source-read", _figures_of_this_edition)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
