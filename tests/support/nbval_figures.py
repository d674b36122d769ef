"""pytest plugin: nbval compares figures too.

nbval skips `image/png` when it compares outputs, so a figure could change
without a test noticing. This wraps nbval's comparison so that every PNG a
chapter produces is compared with the stored one as well, within a tolerance
for anti-aliasing, and a failing figure is saved with a difference image.
A figure drawn by `show_figure` (tools/cells/figures.py) keeps its other
language's PNG in the output's metadata (`book.zh_CN`): that one is compared
too, with the same tolerance.
Loaded for every run by `-p support.nbval_figures` in pytest.ini.
"""

import base64
import io
import os
from pathlib import Path

import numpy as np

from support.book import ROOT

# Where failing figures are saved; the harness's own test points it elsewhere.
FIGURE_DIFFS = Path(
    os.environ.get("FIGURE_DIFF_DIR", ROOT / "test-output" / "figures")
)

# The same library versions render the same pixels, but a different CPU or
# FreeType build may shade a few anti-aliased edge pixels differently. A pixel
# counts as changed when a channel moves by more than PIXEL_LEVELS (of 255); a
# figure fails when more than MAX_CHANGED_PIXELS changed, or its size changed.
# A moved marker or a redrawn line segment changes well over a hundred pixels.
PIXEL_LEVELS = 16
MAX_CHANGED_PIXELS = 20


def _png_outputs(outputs):
    """[(name, PNG)] for each figure of `outputs`: "figK" for the one shown,
    "figK-<language>" for the other languages' in its metadata."""
    figures = [
        out
        for out in outputs
        if out.get("output_type") in ("display_data", "execute_result")
        and "image/png" in out.get("data", {})
    ]
    pngs = []
    for k, out in enumerate(figures):
        pngs.append((f"fig{k}", out["data"]["image/png"]))
        for language, data in sorted(
            out.get("metadata", {}).get("book", {}).items()
        ):
            pngs.append((f"fig{k}-{language}", data["image/png"]))
    return pngs


def _decode(b64):
    from PIL import Image

    data = b64 if isinstance(b64, str) else "".join(b64)
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def compare_figure(expected_b64, actual_b64):
    """Return None when the figures match, else a one-line description and the diff."""
    expected, actual = _decode(expected_b64), _decode(actual_b64)
    if expected.shape != actual.shape:
        return (
            (
                f"size changed from {expected.shape[1]}x{expected.shape[0]} "
                f"to {actual.shape[1]}x{actual.shape[0]} pixels"
            ),
            None,
        )
    delta = np.abs(expected - actual).max(axis=2)
    changed = int((delta > PIXEL_LEVELS).sum())
    if changed <= MAX_CHANGED_PIXELS:
        return None
    rms = float(np.sqrt(np.mean((expected - actual).astype(float) ** 2)))
    return (
        f"{changed} of {delta.size} pixels changed by more than {PIXEL_LEVELS} levels "
        f"(limit {MAX_CHANGED_PIXELS}), RMS difference {rms:.2f}"
    ), delta


def _save_diff(name, expected_b64, actual_b64, delta):
    from PIL import Image

    FIGURE_DIFFS.mkdir(parents=True, exist_ok=True)
    for suffix, b64 in (("expected", expected_b64), ("actual", actual_b64)):
        data = b64 if isinstance(b64, str) else "".join(b64)
        (FIGURE_DIFFS / f"{name}-{suffix}.png").write_bytes(
            base64.b64decode(data)
        )
    if delta is not None:
        Image.fromarray(
            np.where(delta > PIXEL_LEVELS, 255, 0).astype(np.uint8)
        ).save(FIGURE_DIFFS / f"{name}-diff.png")
    diff = FIGURE_DIFFS / f"{name}-diff.png"
    return diff.relative_to(ROOT) if diff.is_relative_to(ROOT) else diff


def _install_figure_check():
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    original = IPyNbCell.compare_outputs
    if getattr(original, "_checks_figures", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        same = original(self, test, ref, skip_compare)
        expected, actual = _png_outputs(ref), _png_outputs(test)
        if not expected and not actual:
            return same
        notebook = Path(str(self.fspath)).stem
        problems = []
        if [name for name, _ in expected] != [name for name, _ in actual]:
            problems.append(
                f"figures stored: {[name for name, _ in expected]}, "
                f"produced: {[name for name, _ in actual]}"
            )
        produced = dict(actual)
        for name, exp in expected:
            if name not in produced:
                continue
            verdict = compare_figure(exp, produced[name])
            if verdict is not None:
                message, delta = verdict
                diff = _save_diff(
                    f"{notebook}-cell{self.cell_num}-{name}",
                    exp,
                    produced[name],
                    delta,
                )
                problems.append(
                    f"figure {name}: {message}; images saved as {diff.parent}/"
                    f"{diff.stem.rsplit('-', 1)[0]}-{{expected,actual,diff}}.png"
                )
        if not problems:
            return same
        self.comparison_traceback.append(
            f"Figure check failed in {notebook}, cell {self.cell_num}:\n  "
            + "\n  ".join(problems)
        )
        return False

    compare_outputs._checks_figures = True
    # What inspect (and tests/test_internals.py) sees: nbval's own method.
    compare_outputs.__wrapped__ = original
    IPyNbCell.compare_outputs = compare_outputs


_install_figure_check()
