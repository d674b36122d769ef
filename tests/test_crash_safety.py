"""Chapter 13's crash experiments: what a run of the chapter cannot show.

nbval re-runs the chapter's kills and compares their verdicts, so this module
repeats none of them. It checks the clean-up the chapter relies on to leave no
process behind when a cell fails half-way: `Lives.close` ends a life that is
still saving, then the launcher. The driver and the child script come from the
chapter itself (see crash_lab). POSIX only: the script forks.
"""

import os

import pytest
from support.crash_lab import chapter_helpers, write_script

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="the chapter's child script forks"
)


def test_close_ends_a_life_that_is_still_saving(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chapter = chapter_helpers()
    script = write_script("checkpoint_lives.py", tmp_path)
    lives = chapter["Lives"](str(script))
    try:
        pid = lives.start("write", "one-prefix", "progress.txt")
        chapter["wait_for_report"]("progress.txt", 0)
    finally:
        lives.close()
    assert lives.launcher.returncode == 0
    with pytest.raises(
        ProcessLookupError
    ):  # killed, and reaped by the launcher
        os.kill(pid, 0)
