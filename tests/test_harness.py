"""The harness can fail: nbval rejects a changed output, the figure check a changed figure."""

import base64
import copy
import io
import os
import subprocess
import sys

import nbformat
import pytest
from support.book import ROOT


def run_nbval(notebook, cwd):
    """Run nbval on one notebook in a separate pytest, as the suite would."""
    env = dict(os.environ, FIGURE_DIFF_DIR=str(cwd / "figure-diffs"))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "--rootdir",
            str(ROOT),
            "-c",
            str(ROOT / "pytest.ini"),
            str(notebook),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


FIGURE_NOTEBOOK_CELLS = [
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt",
    "fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([0, 1, 2], [0, 1, 4], 'o-')\n"
    "ax.set_title('a stored figure')\nplt.show()",
    "print('v1:0 v2:0 add:0')",
]


def _executed_figure_notebook(path):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in FIGURE_NOTEBOOK_CELLS]
    )
    nb.metadata.kernelspec = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import refresh
    finally:
        sys.path.pop(0)
    refresh.execute(nb, path.parent)
    nbformat.write(nb, path)
    return nb


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small notebook executed the way `make refresh` executes a chapter:
    one figure and one printed line. No TensorFlow: the harness, not a
    chapter, is under test, so it needs only a kernel."""
    folder = tmp_path_factory.mktemp("harness")
    path = folder / "stored.ipynb"
    return path, _executed_figure_notebook(path)


def test_nbval_fails_when_a_stored_output_is_changed(stored, tmp_path):
    _, nb = stored
    nb = nbformat.from_dict(copy.deepcopy(nb))
    output = nb.cells[2].outputs[0]
    output["text"] = output["text"].replace("add:0", "add_1:0")
    altered = tmp_path / "altered.ipynb"
    nbformat.write(nb, altered)

    result = run_nbval(altered, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Cell outputs differ" in result.stdout
    assert "add_1:0" in result.stdout


def test_figure_check_passes_an_unchanged_figure_and_fails_a_changed_one(
    stored, tmp_path
):
    from PIL import Image, ImageDraw

    original, nb = stored
    assert run_nbval(original, tmp_path).returncode == 0
    nb = nbformat.from_dict(copy.deepcopy(nb))

    # Paint a small patch into the stored PNG, as a real change to a plot would.
    output = nb.cells[1].outputs[0]
    image = Image.open(
        io.BytesIO(base64.b64decode(output["data"]["image/png"]))
    ).convert("RGB")
    ImageDraw.Draw(image).rectangle([60, 60, 90, 90], fill=(255, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    output["data"]["image/png"] = base64.b64encode(buffer.getvalue()).decode()
    changed = tmp_path / "figure_changed.ipynb"
    nbformat.write(nb, changed)

    result = run_nbval(changed, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Figure check failed in figure_changed, cell 1" in result.stdout
    assert "pixels changed" in result.stdout
    assert (
        tmp_path / "figure-diffs" / "figure_changed-cell1-fig0-diff.png"
    ).is_file()
