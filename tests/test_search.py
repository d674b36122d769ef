"""What the search index of each edition holds (_ext/book_search.py): the
code a reader sees open and the collapsed exercise solutions, but not the
collapsed plumbing stamped into every chapter."""

import json

import pytest

EDITIONS = {"English": ".", "Chinese": "zh_CN"}


def _index(site):
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    prefix = "Search.setIndex("
    assert text.startswith(prefix) and text.rstrip().endswith(")")
    return json.loads(text.strip()[len(prefix) : -1])


def _pages_with(index, word):
    found = index["terms"].get(word, [])
    found = [found] if isinstance(found, int) else found
    return {index["docnames"][i] for i in found}


@pytest.mark.parametrize("edition", EDITIONS)
def test_collapsed_inputs_stay_out_of_the_index(built_site, edition):
    site = built_site / EDITIONS[edition]
    index = _index(site)
    # `_WithoutCallSite` is a class of the setup cell (tools/cells/setup.py),
    # stamped collapsed into every chapter and written nowhere else; both
    # editions indexed it in all 19 chapters (the Chinese one also without
    # its underscore) before the extension.
    for word in ("_withoutcallsit", "withoutcallsit"):
        assert not _pages_with(index, word), (edition, word)
    page = site / "notebooks" / "05-list-variables.html"
    assert "_WithoutCallSite" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("edition", EDITIONS)
def test_open_code_and_exercise_solutions_are_indexed(built_site, edition):
    index = _index(built_site / EDITIONS[edition])
    # Each chapter's open `enter_workdir(...)` cell.
    assert "notebooks/05-list-variables" in _pages_with(index, "enter_workdir")
    # An exercise solution, collapsed with its output (`hide-cell`).
    assert "notebooks/08-restore-average" in _pages_with(
        index, "check_restore_map"
    )
