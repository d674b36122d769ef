"""Helpers for tests/test_crash_safety.py: the chapter's child scripts and a driver for them.

Chapter 13 writes two scripts with `%%writefile` (checkpoint_lives.py, keras_lives.py): each
imports TensorFlow once and forks one saving process per line it reads. The tests take those
scripts from the notebook itself, so they test exactly the code the chapter runs, and drive
them the way the chapter does (the notebook cannot import this module: it must stand alone).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from support.book import ROOT

NOTEBOOK = ROOT / "notebooks" / "13-when-persistence-fails.ipynb"
CHILD_ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def chapter_script(name):
    """The body of the chapter's `%%writefile <name>` cell."""
    header = f"%%writefile {name}"
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        first, _, body = cell.source.partition("\n")
        if cell.cell_type == "code" and first.strip() == header:
            return body + "\n"
    raise LookupError(f"{NOTEBOOK.name} has no cell starting with {header!r}")


def write_script(name, folder):
    path = Path(folder) / name
    path.write_text(chapter_script(name))
    return path


class Lives:
    """Start one child per `start(...)` through a launcher script; `kill` sends SIGKILL."""

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

    def start(self, *args):
        self.launcher.stdin.write(" ".join(str(arg) for arg in args) + "\n")
        self.launcher.stdin.flush()
        line = self.launcher.stdout.readline()
        if not line:
            raise RuntimeError(
                "the launcher died (its stderr goes to /dev/null: run the script by hand)"
            )
        return int(line)

    def kill(self, pid):
        os.kill(pid, signal.SIGKILL)
        return int(self.launcher.stdout.readline())

    def close(self):
        if self.launcher.poll() is None:
            self.launcher.stdin.close()
            try:
                self.launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the child made no progress")
        time.sleep(0.001)


def progress_lines(path):
    """Complete lines only: the kill may cut the last one short."""
    text = Path(path).read_text() if os.path.exists(path) else ""
    return text.split("\n")[:-1]


def file_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return -1


def kill_mid_save(lives, how, target, being_written, progress_path, delay=0.0):
    """Start a Keras life, wait for one complete save, then kill it while `being_written`
    is shorter than a complete file, i.e. while the next save is under way."""
    reported = len(progress_lines(progress_path))
    pid = lives.start(how, target, progress_path)
    wait_until(lambda: len(progress_lines(progress_path)) > reported)
    complete_size = int(progress_lines(progress_path)[-1])
    time.sleep(delay)
    wait_until(lambda: 0 <= file_size(being_written) < complete_size)
    return lives.kill(pid)
