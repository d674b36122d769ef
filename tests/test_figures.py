"""Every figure in both languages: drawn by the chapter's code from one set of
labels (tools/cells/figures.py), compared by nbval in both, shown in its own
language by each edition of the site and by a downloaded Chinese chapter."""

import ast
import base64
import copy
import json
import re
from html.parser import HTMLParser

import nbformat
import pytest
from support.book import ROOT, chapter_paths, code_notebook
from test_harness import run_nbval

from tools import i18n

FIGURES_CELL = ROOT / "tools" / "cells" / "figures.py"
HAN = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{\w*\}|%[-.\d]*[a-z]")


def load(path):
    return nbformat.read(path, as_version=4)


def figure_outputs(nb):
    return [
        (i, output)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


FIGURE_CHAPTERS = [p for p in chapter_paths() if figure_outputs(load(p))]
IDS = [p.stem for p in FIGURE_CHAPTERS]


def test_the_chapters_with_figures():
    """The chapters this module holds to the rules (a new figure in another
    chapter joins them by itself)."""
    assert [p.stem[:2] for p in FIGURE_CHAPTERS] == [
        "01",
        "03",
        "06",
        "10",
        "14",
        "15",
        "16",
    ]


@pytest.mark.parametrize("path", FIGURE_CHAPTERS, ids=IDS)
def test_every_figure_is_stored_in_both_languages(path):
    """Each figure output holds the English PNG as its data and the Chinese
    one in its metadata (show_figure), and the two differ."""
    nb = load(path)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert any("stamp:figures" in t for t in tags), (
        f"{path.stem}: no cell tagged stamp:figures"
    )
    for i, output in figure_outputs(nb):
        chinese = output.get("metadata", {}).get("book", {}).get("zh_CN", {})
        assert "image/png" in chinese, (
            f"{path.stem}, cell {i}: a figure without its Chinese version; "
            "draw it with show_figure(draw)"
        )
        assert chinese["image/png"] != output["data"]["image/png"]


def labels_of(nb):
    """(the `_("...")` labels of the code cells, the FIGURE_LABELS table)"""
    used, table = set(), {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell magic
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func, arg = node.func, node.args[0]
            if isinstance(func, ast.Name) and func.id == "_":
                if isinstance(arg, ast.Constant) and isinstance(
                    arg.value, str
                ):
                    used.add(arg.value)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "update"
                and isinstance(func.value, ast.Name)
                and func.value.id == "FIGURE_LABELS"
            ):
                # A key may be a string the cell names above (VARIABLE_KIND).
                strings = {
                    target.id: a.value.value
                    for a in tree.body
                    if isinstance(a, ast.Assign)
                    and isinstance(a.value, ast.Constant)
                    for target in a.targets
                    if isinstance(target, ast.Name)
                }
                entries = {
                    strings[key.id]
                    if isinstance(key, ast.Name)
                    else ast.literal_eval(key): ast.literal_eval(value)
                    for key, value in zip(arg.keys, arg.values)
                }
                table.update(entries)
    return used, table


@pytest.mark.parametrize("path", FIGURE_CHAPTERS, ids=IDS)
def test_every_label_has_its_chinese(path):
    """Every label a figure cell passes to `_` is in the chapter's table
    (labels computed at run time fail there with a KeyError instead); every
    Chinese label is Chinese, keeps the English's placeholders and follows
    the term base."""
    used, table = labels_of(load(path))
    assert used, f"{path.stem}: no label goes through _()"
    missing = sorted(used - set(table))
    assert not missing, f"{path.stem}: labels without Chinese: {missing}"
    problems = []
    for english, chinese in table.items():
        # A name (SavedModel, all-reduce) may stay as it is; prose may not.
        if not HAN.search(chinese) and " " in english.strip():
            problems.append(f"{english!r}: {chinese!r} is not Chinese")
        if sorted(PLACEHOLDER.findall(english)) != sorted(
            PLACEHOLDER.findall(chinese)
        ):
            problems.append(f"{english!r}: {chinese!r} lost a placeholder")
        if i18n.TERMS.is_file() and hasattr(i18n, "term_errors"):
            problems += [
                f"{english!r}: {error}"
                for error in i18n.term_errors(english, chinese)
            ]
    assert not problems, f"{path.stem}:\n" + "\n".join(problems)


# --- show_figure, in this process --------------------------------------------


@pytest.fixture
def figures():
    """The figures cell's namespace, its display captured."""
    import matplotlib

    matplotlib.use("Agg")
    shown = []
    namespace = {}
    exec(
        compile(FIGURES_CELL.read_text(), str(FIGURES_CELL), "exec"), namespace
    )
    namespace["publish_display_data"] = lambda data, metadata: shown.append(
        (data, metadata)
    )
    namespace["FIGURE_LABELS"].update({"a title": "一个标题"})
    return namespace, shown


def _draw(title):
    def draw(_):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 1))
        ax.set_title(_(title))

    return draw


def test_the_chinese_font_is_the_simplified_chinese_face(figures):
    """The tests (and the stored figures) rely on Noto Sans CJK SC, the
    Simplified Chinese face of the .ttc Debian's fonts-noto-cjk installs
    (its first face is the Japanese one). .ci/run installs it."""
    from matplotlib import font_manager

    namespace, _ = figures
    assert namespace["chinese_font"]() == "Noto Sans CJK SC"
    path = font_manager.findfont(
        font_manager.FontProperties(family="Noto Sans CJK SC"),
        fallback_to_default=False,
    )
    face = font_manager.get_font(path)
    assert face.family_name == "Noto Sans CJK SC", path


def test_show_figure_shows_one_language_and_keeps_the_other(figures):
    namespace, shown = figures
    namespace["show_figure"](_draw("a title"))
    namespace["BOOK_LANGUAGE"] = "zh_CN"
    namespace["show_figure"](_draw("a title"))
    (en, en_meta), (zh, zh_meta) = shown
    assert en["image/png"] == zh_meta["book"]["en"]["image/png"]
    assert zh["image/png"] == en_meta["book"]["zh_CN"]["image/png"]
    assert en["image/png"] != zh["image/png"]


def test_a_label_without_chinese_fails_in_both_languages(figures):
    namespace, shown = figures
    with pytest.raises(KeyError, match="no Chinese"):
        namespace["show_figure"](_draw("a title left out"))
    assert not shown


# --- nbval compares both figures ---------------------------------------------


@pytest.fixture(scope="module")
def stored_figure(tmp_path_factory):
    """A notebook that draws one figure with show_figure, executed as
    `make refresh` executes a chapter."""
    folder = tmp_path_factory.mktemp("figures")
    cells = [
        FIGURES_CELL.read_text(),
        'FIGURE_LABELS.update({"a title": "一个标题"})',
        "\n".join(
            [
                "import matplotlib.pyplot as plt",
                "def draw(_):",
                "    fig, ax = plt.subplots(figsize=(3, 2))",
                "    ax.plot([0, 1, 2], [0, 1, 4])",
                '    ax.set_title(_("a title"))',
                "show_figure(draw)",
            ]
        ),
    ]
    nb = code_notebook(cells)
    from tools import refresh

    refresh.execute(nb, folder)
    return folder, nb


def test_nbval_compares_the_chinese_figure(stored_figure):
    """A changed Chinese figure fails nbval, the English one unchanged."""
    folder, nb = stored_figure
    changed = nbformat.from_dict(copy.deepcopy(nb))
    (output,) = changed.cells[2].outputs
    chinese = output.metadata["book"]["zh_CN"]
    import io

    from PIL import Image, ImageDraw

    image = Image.open(
        io.BytesIO(base64.b64decode(chinese["image/png"]))
    ).convert("RGB")
    ImageDraw.Draw(image).rectangle([40, 40, 70, 70], fill=(255, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    chinese["image/png"] = base64.b64encode(buffer.getvalue()).decode()
    nbformat.write(nb, folder / "unchanged.ipynb")
    nbformat.write(changed, folder / "changed.ipynb")
    _, outcomes = run_nbval(
        [folder / "unchanged.ipynb", folder / "changed.ipynb"], folder
    )
    failed = {key: text for key, text in outcomes.items() if text}
    assert list(failed) == [("changed", 2)], failed
    assert "figure fig0-zh_CN" in failed["changed", 2]
    assert (
        folder / "figure-diffs" / "changed-cell2-fig0-zh_CN-diff.png"
    ).is_file()


# --- the editions and the downloads ------------------------------------------


def stored_pngs(path):
    """{language: [the chapter's figures, decoded]}"""
    out = {"en": [], "zh_CN": []}
    for _, output in figure_outputs(load(path)):
        out["en"].append(base64.b64decode(output["data"]["image/png"]))
        chinese = output.get("metadata", {}).get("book", {}).get("zh_CN", {})
        out["zh_CN"].append(base64.b64decode(chinese.get("image/png", "")))
    return out


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src", ""))


def page_images(page):
    """The bytes of the PNGs a page shows, in page order."""
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    images = []
    for source in parser.sources:
        if source.startswith("data:image/png;base64,"):
            images.append(base64.b64decode(source.split(",", 1)[1]))
        elif source.endswith(".png") and "://" not in source:
            images.append((page.parent / source).resolve().read_bytes())
    return images


@pytest.mark.parametrize("path", FIGURE_CHAPTERS, ids=IDS)
def test_each_edition_shows_its_own_figures(built_site, path):
    """The English page shows the English figures and the Chinese page the
    Chinese ones, and neither page carries the other language's PNG."""
    stored = stored_pngs(path)
    pages = {
        "en": built_site / "notebooks" / f"{path.stem}.html",
        "zh_CN": built_site / "zh_CN" / "notebooks" / f"{path.stem}.html",
    }
    for language, page in pages.items():
        shown = [png for png in page_images(page) if png in stored[language]]
        assert shown == stored[language], (
            f"{page.relative_to(built_site)}: shows {len(shown)} of the "
            f"{len(stored[language])} figures in {language}"
        )
        other = stored["zh_CN" if language == "en" else "en"]
        html = page.read_text(encoding="utf-8")
        assert not any(
            base64.b64encode(png)[:200].decode() in html for png in other
        ), f"{page.relative_to(built_site)}: the other language's PNG leaked"


@pytest.mark.parametrize("path", FIGURE_CHAPTERS, ids=IDS)
def test_a_chinese_download_draws_chinese_figures(path):
    """The Chinese edition's download of a chapter stores the Chinese
    figures and sets BOOK_LANGUAGE, so that running it draws them again."""
    page = str(path.relative_to(ROOT).with_suffix(""))
    text = i18n.translate_notebook(path, i18n.catalogs()[page])
    nb = nbformat.reads(text, as_version=4)
    (cell,) = [
        c for c in nb.cells if "stamp:figures" in c.metadata.get("tags", [])
    ]
    assert re.search(r'^BOOK_LANGUAGE = "zh_CN"$', cell.source, re.M), (
        cell.source[:600]
    )
    downloaded = [
        base64.b64decode(output["data"]["image/png"])
        for _, output in figure_outputs(nb)
    ]
    assert downloaded == stored_pngs(path)["zh_CN"]


def test_the_site_serves_the_chinese_download(built_site):
    """What the Chinese site offers for download is that notebook."""
    for path in FIGURE_CHAPTERS:
        served = built_site / "zh_CN" / "_sources" / "notebooks" / path.name
        nb = json.loads(served.read_text(encoding="utf-8"))
        figures = [
            base64.b64decode(output["data"]["image/png"])
            for _, output in figure_outputs(nbformat.from_dict(nb))
        ]
        assert figures == stored_pngs(path)["zh_CN"], path.stem
