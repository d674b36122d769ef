"""Chapter 15's claim under fire: kill the training process with SIGKILL at many points, resume, and the
run still ends identical to one that was never interrupted.

Everything the test runs comes from the chapter's own cells: `training_lives.py` (its `%%writefile`
cell), the launcher (the cell tagged `stamp:launcher`) and the `Lives` class (the cell tagged
`stamp:lives`). Each kill lands where the test says: the life stops itself with SIGSTOP at a named point
of a named step (`STEP:POINT`, the script's PAUSE argument), the launcher answers "stopped", and only
then does the test send SIGKILL. The two chains of kills use all four points of a step (before the
step, after it but before its loss line, after the line but before the checkpoint save, after the
save). After every kill, the next life resumes from the newest checkpoint; every loss it reports must
equal the uninterrupted run's loss at the same step, bit for bit, and the final weights and optimizer
variables must be identical. Every wait has a time limit, so a life that hangs fails the test.

POSIX only: the launcher forks, and lives stop themselves with SIGSTOP.
"""

import os
import signal
from pathlib import Path

import nbformat
import numpy as np
import pytest
from support.book import ROOT

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"),
    reason="the launcher forks and the lives use SIGSTOP",
)

NOTEBOOK = ROOT / "notebooks" / "15-resume-exactly.ipynb"
EVERYTHING = "model,optimizer,iterator"
LIFE_TIMEOUT = 120  # seconds; a life takes about one
# (dropout, what the lives restore, where each kill lands: STEP:POINT)
CHAINS = [
    (
        "0",
        EVERYTHING,
        [
            "4:before-step",
            "11:after-step",
            "20:after-save",
            "26:after-line",
            "33:before-step",
        ],
    ),
    (
        "1",
        EVERYTHING + ",seed",
        [
            "2:after-line",
            "10:after-save",
            "15:before-step",
            "30:after-line",
            "36:after-step",
        ],
    ),
]


def chapter_cells():
    return [
        cell
        for cell in nbformat.read(NOTEBOOK, as_version=4).cells
        if cell.cell_type == "code"
    ]


def written_file(name):
    """The body of the chapter's cell that starts with `%%writefile name`."""
    header = f"%%writefile {name}"
    for cell in chapter_cells():
        first, _, body = cell.source.partition("\n")
        if first.strip() == header:
            return body + "\n"
    raise LookupError(f"{NOTEBOOK.name} has no cell starting with {header!r}")


def tagged_cell(tag):
    for cell in chapter_cells():
        if tag in cell.metadata.get("tags", []):
            return cell.source
    raise LookupError(f"{NOTEBOOK.name} has no cell tagged {tag!r}")


def logged_losses(folder):
    """(step, loss) for every line; a life writes each with one write."""
    path = Path(folder, "losses.txt")
    text = path.read_text() if path.exists() else ""
    return [tuple(line.split()) for line in text.split("\n")[:-1]]


def final(folder):
    with np.load(Path(folder, "final.npz")) as arrays:
        return {name: arrays[name] for name in arrays.files}


@pytest.fixture(scope="module")
def lives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume-kills")
    for name in ("training_lives.py", "launcher.py"):
        (folder / name).write_text(written_file(name))
    namespace = {"__name__": "chapter15_lives"}
    exec(compile(tagged_cell("stamp:lives"), "stamp:lives", "exec"), namespace)
    with pytest.MonkeyPatch.context() as patch:
        # As the chapter's setup cell does before the launcher imports TF.
        patch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
        patch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
        patch.chdir(folder)  # Lives starts launcher.py from here
        lives = namespace["Lives"](timeout=LIFE_TIMEOUT)
    yield lives, folder
    lives.close()


@pytest.mark.parametrize(
    "dropout, restore, pauses", CHAINS, ids=["plain", "dropout"]
)
def test_killed_and_resumed_runs_end_identical(
    lives, dropout, restore, pauses
):
    lives, root = lives
    script = str(root / "training_lives.py")
    reference, killed = (
        root / f"reference-{dropout}",
        root / f"killed-{dropout}",
    )
    reference.mkdir()
    killed.mkdir()
    code = lives.run(
        script, "loop", "nothing", dropout, reference, timeout=LIFE_TIMEOUT
    )
    assert code == 0, "the uninterrupted run failed"
    expected = dict(logged_losses(reference))

    for number, pause in enumerate(pauses, start=1):
        pid = lives.start(script, "loop", restore, dropout, killed, pause)
        paused = lives.wait(pid, timeout=LIFE_TIMEOUT)
        assert paused == "stopped", (
            f"life {number} did not stop at {pause}: it ended with {paused}"
        )
        assert lives.kill(pid) == -signal.SIGKILL, f"kill {number} missed"
        # The loss line of the step is the last one exactly when the point
        # comes after the line is written.
        step, point = pause.split(":")
        last = logged_losses(killed)[-1][0]
        written = point in ("after-line", "after-save")
        assert int(last) == int(step) - (not written), (
            f"kill {number} at {pause}: the last loss line is step {last}"
        )
    code = lives.run(
        script, "loop", restore, dropout, killed, timeout=LIFE_TIMEOUT
    )
    assert code == 0, "the last life did not finish"

    reported = logged_losses(killed)
    steps_reported = {int(step) for step, _ in reported}
    assert steps_reported == set(range(1, 41)), "some step was never run"
    different = [(s, loss) for s, loss in reported if expected[s] != loss]
    assert not different, (
        f"after a kill, steps lost their reference loss: {different}"
    )
    got, want = final(killed), final(reference)
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[name], want[name]) for name in want), (
        f"{len(pauses)} kills: the resumed run did not end identical"
    )
