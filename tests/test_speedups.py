"""_ext/book_speedups.py makes the build faster and changes no page.

A small MyST project, with the kinds of text the book's pages have (markup of
every sort, plain paragraphs, lists, a table, code with Latin words, the same
words on several pages, the same code block on two pages and in several
languages), is built in English and in Chinese from a catalog whose every
message is translated, with and without the extension. Every HTML file and
the search index must come out byte for byte the same.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from babel.messages.pofile import read_po, write_po
from support.book import ROOT, site_files

PAGES = {
    "index.md": """
        # The book

        ```{toctree}
        first
        second
        ```

        A plain paragraph with no markup at all, about checkpoints and graphs.
    """,
    "first.md": """
        # Saving variables

        A checkpoint holds **the values** of `tf.Variable` objects, see
        [the second page](second.md) and *prefix* below.

        - one item, plain
        - another item with `code`

        | file | holds |
        |---|---|
        | `.index` | the keys |
        | data | the bytes |

        Saving saves saving savers; restoring restores restored values.

        ```python
        saver = tf1.train.Saver()
        checkpoint.restore(prefix).assert_consumed()
        ```
    """,
    "second.md": """
        # Restoring variables

        Restoring restores the values that saving saved, again and again.

        1. A numbered step with a [link](first.md).
        2. Plain text again: checkpoints, graphs, sessions.

        The same code as on the first page, then the same text as other
        languages: each block must come out highlighted as its own.

        ```python
        saver = tf1.train.Saver()
        checkpoint.restore(prefix).assert_consumed()
        ```

        ```text
        saver = tf1.train.Saver()
        checkpoint.restore(prefix).assert_consumed()
        ```

        ```python
        saver = tf1.train.Saver()
        ```

        ```bash
        saver = tf1.train.Saver()
        ```
    """,
}

CONF = """
import os, sys
sys.path.insert(0, {ext!r})
extensions = ["myst_parser"]
if os.environ.get("BOOK_SPEEDUPS") == "1":
    extensions.append("book_speedups")
locale_dirs = ["locale"]
gettext_compact = False
gettext_location = False
html_theme = "basic"
"""


def sphinx(source, builder, out, language, speedups):
    env = {**os.environ, "BOOK_SPEEDUPS": "1" if speedups else "0"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-E",
            "-W",
            "-b",
            builder,
            "-D",
            f"language={language}",
            str(source),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def translate_everything(source, pot_folder):
    """A catalog in which every message is translated, markup kept."""
    folder = source / "locale" / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    for pot in pot_folder.glob("*.pot"):
        with pot.open("rb") as file:
            catalog = read_po(file, locale="zh_CN")
        for message in catalog:
            if message.id:
                message.string = "译文：" + message.id
        with (folder / f"{pot.stem}.po").open("wb") as file:
            write_po(file, catalog)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    source = tmp_path_factory.mktemp("speedups")
    for name, text in PAGES.items():
        (source / name).write_text(textwrap.dedent(text).lstrip())
    (source / "conf.py").write_text(CONF.format(ext=str(ROOT / "_ext")))
    pot = source.parent / (source.name + "-pot")
    sphinx(source, "gettext", pot, "en", speedups=False)
    translate_everything(source, pot)
    return source


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_speedups_change_no_page(project, language, tmp_path):
    sites = {}
    for speedups in (False, True):
        out = tmp_path / f"html-{speedups}"
        sphinx(project, "html", out, language, speedups)
        sites[speedups] = site_files(out)
    plain, fast = sites[False], sites[True]
    assert "searchindex.js" in plain and "first.html" in plain
    if language == "zh_CN":
        assert "译文".encode() in plain["first.html"], (
            "the catalog was not used"
        )
    assert plain.keys() == fast.keys()
    changed = [name for name in plain if plain[name] != fast[name]]
    assert changed == [], f"the speed-ups changed {changed}"


def test_the_toc_search_finds_the_files_it_would_keep(tmp_path):
    """sphinx-external-toc keeps, of its glob's files, those in no excluded
    folder: the pruned glob of book_speedups gives exactly those, and never
    enters an excluded folder."""
    import glob
    import types

    from sphinx.util.matching import Matcher

    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import book_speedups
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    for name in (
        "index.md",
        ".hidden.md",
        "sub/b.md",
        "sub/.dot/c.md",
        "sub/deeper/d.md",
        "artifacts/venv/e.md",
        "artifacts/f.md",
        "_build/g.md",
        "notes/h.ipynb",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "linked").symlink_to(tmp_path / "sub")
    patterns = ["_build", "artifacts", "**.ipynb_checkpoints"]
    app = types.SimpleNamespace(
        srcdir=tmp_path,
        config=types.SimpleNamespace(exclude_patterns=patterns),
    )
    excluded = Matcher(patterns)

    def kept(paths):
        out = set()
        for path in paths:
            parts = os.path.relpath(path, tmp_path).split(os.sep)
            if not any(
                excluded("/".join(parts[: i + 1])) for i in range(len(parts))
            ):
                out.add(path)
        return out

    pruned = book_speedups._PrunedGlob(app)
    found = {}
    for suffix in (".md", ".ipynb", ".rst"):
        pattern = os.path.join(str(tmp_path), "**", f"*{suffix}")
        full = list(glob.iglob(pattern, recursive=True))
        fast = list(pruned.iglob(pattern, recursive=True))
        assert sorted(fast) == sorted(kept(full)), suffix
        assert not [p for p in fast if "artifacts" in p or "_build" in p]
        found[suffix] = (len(full), len(fast))
    # glob finds 8 Markdown files (the link doubles sub/), 3 of them excluded.
    assert found == {".md": (8, 5), ".ipynb": (1, 1), ".rst": (0, 0)}
