# Each figure of the book is drawn twice by the same code: with its English
# labels and with the Chinese ones of the chapter's FIGURE_LABELS table. The
# output shows the figure of BOOK_LANGUAGE and keeps the other one in its
# metadata, where the Chinese edition of the book takes its figure from.
from IPython import get_ipython
from IPython.core.pylabtools import print_figure
from IPython.display import publish_display_data
from matplotlib import font_manager, pyplot

BOOK_LANGUAGE = "en"
# {"English label": "中文标签"}; the chapter and its shared cells add theirs.
FIGURE_LABELS = {}
# Simplified Chinese fonts, the book's own first (Debian's fonts-noto-cjk);
# the figures' Latin text stays in matplotlib's default font.
CHINESE_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
]


def chinese_font():
    """The first of CHINESE_FONTS that matplotlib has, else None."""
    for name in CHINESE_FONTS:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=name),
                fallback_to_default=False,
            )
        except ValueError:
            continue
        return name
    return None


def chinese(label):
    """A label as the Chinese figure writes it."""
    if label not in FIGURE_LABELS:
        raise KeyError(f"{label!r} has no Chinese in FIGURE_LABELS")
    return FIGURE_LABELS[label]


def english(label):
    """A label as the English figure writes it, once it has its Chinese: a
    label missing from the table fails in both languages."""
    chinese(label)
    return label


def _drawn(draw, translate, font):
    """{MIME type: data} of the figure `draw(translate)` makes."""
    with pyplot.rc_context():
        pyplot.rcdefaults()
        if font:
            pyplot.rcParams["font.family"] = ["DejaVu Sans", font]
        draw(translate)
        figure = pyplot.gcf()
        shell = get_ipython()
        if shell is not None:
            data = shell.display_formatter.format(figure)[0]
        else:
            data = {"image/png": print_figure(figure, "png", base64=True)}
        pyplot.close(figure)
    return {k: v for k, v in data.items() if k in ("image/png", "text/plain")}


def show_figure(draw):
    """Draw `draw(_)` in English and in Chinese (`_` gives a label in its
    language) and show the figure of BOOK_LANGUAGE."""
    font = chinese_font()
    figures = {"en": _drawn(draw, english, None)}
    # Without a Chinese font, the English figure alone.
    if font is not None:
        figures["zh_CN"] = _drawn(draw, chinese, font)
    shown = BOOK_LANGUAGE if BOOK_LANGUAGE in figures else "en"
    others = {
        language: {"image/png": data["image/png"]}
        for language, data in figures.items()
        if language != shown
    }
    publish_display_data(
        figures[shown], metadata={"book": others} if others else {}
    )
