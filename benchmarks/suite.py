"""How long `make test`'s pytest run takes, in units of one `import tensorflow`
on the same machine: the whole suite, and the suite without Part III (its
chapters and their kill test), the two bounds the maintainers hold it to.

    python -m benchmarks.suite [--runs 3] [--out FILE]

Each run times an import, the whole suite, another import and the suite
without Part III, in that order, so that each suite is set against the imports
on either side of it: a machine whose speed drifts during a run moves both.
Run it on a quiet machine, from a warm virtual environment, with nothing else
changing the working tree (the suite fails a run that changes it). The figures
are printed and written as JSON (test-output/bench/suite.json unless --out
says otherwise).
"""

import statistics
import sys

import yaml

from benchmarks.build import (
    ROOT,
    arguments,
    import_tensorflow,
    summary,
    timed,
    write,
)

# Part III's test that is not a chapter: it kills and resumes its training.
PART_III_TESTS = ["tests/test_resume_kills.py"]


def part_iii():
    """The files of Part III: its chapters in _toc.yml and PART_III_TESTS."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = [
        p for p in toc["parts"] if p.get("caption", "").startswith("Part III")
    ]
    if len(parts) != 1:
        sys.exit(
            "benchmarks.suite: _toc.yml has no single part named Part III"
        )
    chapters = [f"{c['file']}.ipynb" for c in parts[0]["chapters"]]
    return chapters + PART_III_TESTS


def pytest_run(ignore=()):
    options = [f"--ignore={path}" for path in ignore]
    return timed([sys.executable, "-m", "pytest", "-q", *options], ROOT)


def main(argv=None):
    args = arguments(argv, __doc__, "suite")
    without = part_iii()
    missing = [path for path in without if not (ROOT / path).exists()]
    if missing:
        sys.exit(f"benchmarks.suite: Part III files not found: {missing}")

    import_tensorflow()  # the first import of a session reads from disk
    imports, whole, partial, whole_x, partial_x = [], [], [], [], []
    for run in range(args.runs):
        before = import_tensorflow()
        whole.append(pytest_run())
        between = import_tensorflow()
        partial.append(pytest_run(without))
        after = import_tensorflow()
        imports += [before, between, after]
        whole_x.append(whole[-1] / statistics.mean([before, between]))
        partial_x.append(partial[-1] / statistics.mean([between, after]))
        print(
            f"run {run + 1}: imports {before:.2f} {between:.2f} {after:.2f} s; "
            f"whole suite {whole[-1]:.1f} s ({whole_x[-1]:.1f} imports), "
            f"without Part III {partial[-1]:.1f} s ({partial_x[-1]:.1f} imports)"
        )
    write(
        {
            "part_iii": without,
            "import_tensorflow_s": summary(imports),
            "whole_suite_s": summary(whole),
            "whole_suite_in_imports": summary(whole_x),
            "without_part_iii_s": summary(partial),
            "without_part_iii_in_imports": summary(partial_x),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
