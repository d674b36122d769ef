"""The side-by-side timer of chapter 14, loaded from tools/cells/timer.py.

That file is the only copy of the code: `make stamp` (tools/nbtool.py) stamps it
into the chapter, and this module executes it, so the chapter and the
benchmark time things the same way.
"""

import importlib.util
import statistics

from . import ROOT

_spec = importlib.util.spec_from_file_location(
    "book_timer", ROOT / "tools" / "cells" / "timer.py"
)
_timer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_timer)

Timings = _timer.Timings
side_by_side = _timer.side_by_side


def measure(fn):
    """Time one call of fn: (wall seconds, CPU seconds of this process)."""
    timings = side_by_side({"once": fn}, rounds=1, warm_up=0)["once"]
    return timings.wall[0], timings.cpu[0]


def summary(timings):
    """A Timings as JSON: every sample, best and median."""
    return {
        "wall": timings.wall,
        "cpu": timings.cpu,
        "best": timings.best,
        "median": timings.median,
        "cpu_best": timings.cpu_best,
        "cpu_median": statistics.median(timings.cpu),
    }


def paired_median_ratio(base, other):
    """Median over the rounds of base's time / other's time in the same
    round: both ran back to back, under the same load."""
    return statistics.median(b / o for b, o in zip(base.wall, other.wall))
