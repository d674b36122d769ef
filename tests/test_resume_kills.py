"""Chapter 15's claim under fire: kill the training process with SIGKILL at many moments, resume, and
the run still ends identical to one that was never interrupted.

The test takes `training_lives.py` from the chapter itself (its `%%writefile` cell), so it tests the
code the chapter runs. A launcher imports TensorFlow once and forks one training life per line; the test
kills lives from outside at different steps and after different extra waits, so that kills land in the
middle of steps and of checkpoint writes. After every kill, the next life resumes from the newest
checkpoint; every loss it reports must equal the uninterrupted run's loss at the same step, bit for bit,
and the final weights and optimizer variables must be identical.

POSIX only: the script forks, and the test sends SIGKILL.
"""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from support.book import ROOT

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"),
    reason="the script forks and the test uses SIGKILL",
)

NOTEBOOK = ROOT / "notebooks" / "15-resume-exactly.ipynb"
CHILD_ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}
EVERYTHING = "model,optimizer,iterator"
# (dropout, what the lives restore, the steps after which each kill comes)
CHAINS = [
    ("0", EVERYTHING, [4, 11, 17, 26, 33]),
    ("1", EVERYTHING + ",seed", [2, 8, 15, 23, 36]),
]


def chapter_script(name):
    header = f"%%writefile {name}"
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        first, _, body = cell.source.partition("\n")
        if cell.cell_type == "code" and first.strip() == header:
            return body + "\n"
    raise LookupError(f"{NOTEBOOK.name} has no cell starting with {header!r}")


class Lives:
    def __init__(self, script):
        self.launcher = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=CHILD_ENV,
            cwd=Path(script).parent,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.launcher.stdout:
            self.lines.put(int(line))

    def start(self, *args):
        self.launcher.stdin.write(" ".join(map(str, args)) + "\n")
        self.launcher.stdin.flush()
        return self.lines.get(timeout=60)

    def exit_code(self, timeout=120):
        return self.lines.get(timeout=timeout)

    def close(self):
        if self.launcher.poll() is None:
            self.launcher.stdin.close()
            try:
                self.launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()


def logged_losses(folder):
    """(step, loss) for every complete line; a kill may cut the last one."""
    path = Path(folder, "losses.txt")
    text = path.read_text() if path.exists() else ""
    return [tuple(line.split()) for line in text.split("\n")[:-1]]


def wait_for_step(folder, step, pid, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not any(int(s) >= step for s, _ in logged_losses(folder)):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise TimeoutError(f"no step {step} within {timeout} s")
        time.sleep(0.002)


def final(folder):
    with np.load(Path(folder, "final.npz")) as arrays:
        return {name: arrays[name] for name in arrays.files}


@pytest.fixture(scope="module")
def lives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume-kills")
    script = folder / "training_lives.py"
    script.write_text(chapter_script("training_lives.py"))
    lives = Lives(script)
    yield lives, folder
    lives.close()


@pytest.mark.parametrize(
    "dropout, restore, kill_steps", CHAINS, ids=["plain", "dropout"]
)
def test_killed_and_resumed_runs_end_identical(
    lives, dropout, restore, kill_steps
):
    lives, root = lives
    reference, killed = (
        root / f"reference-{dropout}",
        root / f"killed-{dropout}",
    )
    reference.mkdir()
    killed.mkdir()
    lives.start("loop", "nothing", dropout, reference, 0)
    assert lives.exit_code() == 0, "the uninterrupted run failed"
    expected = dict(logged_losses(reference))

    for number, step in enumerate(kill_steps):
        pid = lives.start("loop", restore, dropout, killed, 0)
        wait_for_step(killed, step, pid)
        time.sleep(0.004 * number)  # land at a different point of a step
        os.kill(pid, signal.SIGKILL)
        assert lives.exit_code() == -signal.SIGKILL, (
            f"kill {number + 1} missed"
        )
    lives.start("loop", restore, dropout, killed, 0)
    assert lives.exit_code() == 0, "the last life did not finish"

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
        f"{len(kill_steps)} kills: the resumed run did not end identical"
    )
