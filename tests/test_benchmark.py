"""The benchmark package: one timer shared with chapter 14, clear argument
errors. Nothing here runs a measurement; `make bench` does that."""

import json
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


def _results(name):
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text())


def _assert_readme_quotes(quoted):
    """benchmarks/README.md holds `quoted`, wherever its lines break."""
    readme = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    assert " ".join(quoted.split()) in readme, quoted


def test_readme_quotes_the_build_benchmark_as_its_results_file_has_it():
    """The figures in benchmarks/README.md for the two editions' build are those of
    benchmarks/results/build-2-cores.json (`python -m benchmarks.build`)."""
    results = _results("build-2-cores.json")
    build = results["both_editions_build_s"]
    quoted = (
        f"both\neditions built in {build['median']:.2f} s (median; "
        f"{min(build['runs']):.2f} to {max(build['runs']):.2f} s), "
        f"{results['both_editions_build_in_imports']:.2f} times the median "
        f"`import tensorflow` of {results['import_tensorflow_s']['median']:.2f} s"
    )
    _assert_readme_quotes(quoted)


@pytest.mark.parametrize(
    "module",
    ["benchmarks.build", "benchmarks.suite", "benchmarks.inspect_time"],
)
def test_the_timing_benchmarks_refuse_bad_arguments(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--runs", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--runs must be at least 1" in result.stderr


def test_the_suite_benchmark_finds_part_iii():
    from benchmarks.suite import part_iii

    files = part_iii()
    assert files[-1] == "tests/test_resume_kills.py"
    assert files[:-1] and all(
        f.startswith("notebooks/") and (ROOT / f).is_file() for f in files[:-1]
    ), files


def test_readme_quotes_the_suite_benchmark_as_its_results_file_has_it():
    """The figures in benchmarks/README.md for the test suite are those of
    benchmarks/results/suite-2-cores.json (`python -m benchmarks.suite`)."""
    results = _results("suite-2-cores.json")
    imports = results["import_tensorflow_s"]["runs"]
    whole = results["whole_suite_in_imports"]
    without = results["without_part_iii_in_imports"]
    quoted = (
        f"(its imports took {min(imports):.2f} to {max(imports):.2f} s): "
        f"the whole suite took {min(whole['runs']):.2f} to "
        f"{max(whole['runs']):.2f} times one `import tensorflow` (median "
        f"{whole['median']:.2f}), the suite without Part III "
        f"{min(without['runs']):.2f} to {max(without['runs']):.2f} times "
        f"(median {without['median']:.2f})"
    )
    _assert_readme_quotes(quoted)


def test_readme_quotes_the_inspect_benchmark_as_its_results_file_has_it():
    """benchmarks/README.md's figures for `tfopen inspect` are those of
    benchmarks/results/inspect-2-cores.json (`python -m
    benchmarks.inspect_time`)."""
    kinds = _results("inspect-2-cores.json")["kinds"]
    tf = {k: v for k, v in kinds.items() if v["imports_tensorflow"]}
    keras = [v for k, v in kinds.items() if k not in tf]
    worst = max(tf, key=lambda k: tf[k]["inspect_in_imports"])
    quoted = (
        "the TensorFlow formats took "
        f"{min(v['inspect_in_imports'] for v in tf.values()):.2f} to "
        f"{tf[worst]['inspect_in_imports']:.2f} times one import (the most: "
        f"`{worst}`), the Keras files "
        f"{min(v['inspect_in_imports'] for v in keras):.2f} to "
        f"{max(v['inspect_in_imports'] for v in keras):.2f} times, and "
        "imported neither TensorFlow nor Keras"
    )
    _assert_readme_quotes(quoted)
    assert all(k.startswith("keras") for k in kinds if k not in tf)
