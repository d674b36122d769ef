"""The benchmark package: one timer shared with chapter 14, clear argument
errors. Nothing here runs a measurement; `make bench` does that."""

import subprocess
import sys

import pytest
from support.book import ROOT

from benchmarks.persistence import timer


def test_the_benchmark_runs_the_chapters_timer():
    """tools/cells/timer.py is the only copy of the timer's code."""
    shared = ROOT / "tools" / "cells" / "timer.py"
    assert timer.side_by_side.__code__.co_filename == str(shared)
    copies = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "benchmarks").rglob("*.py")
        if "def side_by_side" in path.read_text()
    ]
    assert copies == [], copies


def test_cases_take_turns_and_warm_up_is_not_counted():
    order = []
    cases = {name: (lambda name=name: order.append(name)) for name in "abc"}
    timings = timer.side_by_side(cases, rounds=2, warm_up=1)
    assert order == list("abc" + "bca" + "cab")
    assert all(len(t.wall) == len(t.cpu) == 2 for t in timings.values())
    assert timings["a"].best == min(timings["a"].wall)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--max-mb", "0.5"], "the smallest model is 1 MB"),
        (["--max-mb", "big"], "'big' is not a number of megabytes"),
        (["--fast"], "unrecognized arguments: --fast"),
    ],
)
def test_bad_arguments_say_what_is_wrong(arguments, message):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.persistence", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
