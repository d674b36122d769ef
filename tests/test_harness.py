"""The harness can fail: nbval rejects a changed output, the figure check a changed figure."""

import base64
import copy
import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import pytest
from support.book import ROOT, code_notebook


def run_nbval(notebooks, cwd):
    """Run nbval on notebooks in a separate pytest, as the suite would; return
    the process and {(notebook stem, cell number): failure text or None}."""
    env = dict(os.environ, FIGURE_DIFF_DIR=str(cwd / "figure-diffs"))
    report = cwd / "report.xml"
    result = subprocess.run(
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
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",  # names each case's file
            *map(str, notebooks),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.is_file(), (
        f"nbval did not run:\n{result.stdout[-3000:]}{result.stderr}"
    )
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        failure = case.find("failure")
        stem = Path(case.get("file")).stem
        cell = int(case.get("name").split()[-1])
        outcomes[stem, cell] = (
            None
            if failure is None
            else failure.get("message", "") + (failure.text or "")
        )
    return result, outcomes


# Cells 2 and 3 get changed outputs; 1 and 4 keep theirs, so one run shows
# both the failures and that an unchanged figure and line pass.
FIGURE_NOTEBOOK_CELLS = [
    "\n".join(lines)
    for lines in [
        [
            "import matplotlib",
            "matplotlib.use('module://matplotlib_inline.backend_inline')",
            "import matplotlib.pyplot as plt",
        ],
        [
            "fig, ax = plt.subplots(figsize=(4, 3))",
            "ax.plot([0, 1, 2], [0, 1, 4], 'o-')",
            "ax.set_title('a stored figure')",
            "plt.show()",
        ],
        [
            "fig, ax = plt.subplots(figsize=(4, 3))",
            "ax.bar([0, 1, 2], [3, 1, 2])",
            "ax.set_title('a figure to change')",
            "plt.show()",
        ],
        ["print('v1:0 v2:0 add:0')"],
        ["print('a line that stays')"],
    ]
]
CHANGED_FIGURE, CHANGED_LINE = 2, 3


def _executed_figure_notebook(path):
    nb = code_notebook(FIGURE_NOTEBOOK_CELLS)
    from tools import refresh

    refresh.execute(nb, path.parent)
    nbformat.write(nb, path)
    return nb


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small notebook executed the way `make refresh` executes a chapter:
    two figures and two printed lines. No TensorFlow: the harness, not a
    chapter, is under test, so it needs only a kernel."""
    folder = tmp_path_factory.mktemp("harness")
    path = folder / "stored.ipynb"
    return path, _executed_figure_notebook(path)


def _kernels_of_this_process():
    """The running kernels this process started, and its kernel clients'
    live heartbeat threads."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == os.getpid() and b"ipykernel" in cmdline:
            children.append(stat.parent.name)
    beats = [
        t for t in threading.enumerate() if type(t).__name__ == "HBChannel"
    ]
    return children, beats


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"
)
def test_executing_a_notebook_leaves_no_kernel_behind(stored):
    """`make refresh` (tools/refresh.py) ends each kernel it starts: no
    kernel process and no client thread outlives the run of its notebook."""
    children, beats = _kernels_of_this_process()
    assert not children, f"kernel processes still running: {children}"
    assert not beats, f"kernel client threads still running: {beats}"


@pytest.fixture(scope="module")
def harness_run(stored, tmp_path_factory):
    """One nbval run over a copy of the stored notebook whose cell
    CHANGED_LINE prints another line and whose cell CHANGED_FIGURE holds
    another figure."""
    _, nb = stored
    folder = tmp_path_factory.mktemp("harness-run")
    changed = nbformat.from_dict(copy.deepcopy(nb))

    output = changed.cells[CHANGED_LINE].outputs[0]
    output["text"] = output["text"].replace("add:0", "add_1:0")

    # Paint a small patch into the stored PNG, as a real change to a plot would.
    from PIL import Image, ImageDraw

    output = changed.cells[CHANGED_FIGURE].outputs[0]
    image = Image.open(
        io.BytesIO(base64.b64decode(output["data"]["image/png"]))
    ).convert("RGB")
    ImageDraw.Draw(image).rectangle([60, 60, 90, 90], fill=(255, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    output["data"]["image/png"] = base64.b64encode(buffer.getvalue()).decode()
    nbformat.write(changed, folder / "changed.ipynb")

    result, outcomes = run_nbval([folder / "changed.ipynb"], folder)
    return folder, result, outcomes


def test_the_run_fails_and_checks_every_cell(harness_run):
    _, result, outcomes = harness_run
    assert result.returncode == 1, result.stdout[-3000:]
    assert sorted(outcomes) == [
        ("changed", k) for k in range(len(FIGURE_NOTEBOOK_CELLS))
    ], result.stdout[-3000:]


def test_nbval_passes_the_unchanged_figure_and_line(harness_run):
    _, result, outcomes = harness_run
    failed = {cell for (_, cell), text in outcomes.items() if text}
    assert failed == {CHANGED_FIGURE, CHANGED_LINE}, result.stdout[-3000:]


def test_nbval_fails_when_a_stored_output_is_changed(harness_run):
    _, _, outcomes = harness_run
    failure = outcomes["changed", CHANGED_LINE]
    assert "Cell outputs differ" in failure
    assert "add_1:0" in failure


def test_figure_check_fails_a_changed_figure(harness_run):
    folder, _, outcomes = harness_run
    failure = outcomes["changed", CHANGED_FIGURE]
    assert f"Figure check failed in changed, cell {CHANGED_FIGURE}" in failure
    assert "pixels changed" in failure
    diff = f"changed-cell{CHANGED_FIGURE}-fig0-diff.png"
    assert (folder / "figure-diffs" / diff).is_file()
