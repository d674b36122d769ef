"""How long the book takes to build (both editions), in units of one
`import tensorflow` on the same machine (benchmarks.suite times the tests).

    python -m benchmarks.build [--runs 3] [--out FILE]

Each measurement runs in a fresh process. The build runs on a copy of the
files a fresh clone would hold, from nothing (no _build, no compiled catalogs),
as `make book` on a fresh clone does after installing. The figures are printed
and written as JSON (test-output/bench/build.json unless --out says otherwise).
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.fresh_clone import copy_fresh_clone

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def timed(cmd, cwd, env=None):
    start = time.perf_counter()
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        sys.exit(f"benchmarks.build: {' '.join(map(str, cmd))} failed")
    return seconds


def import_tensorflow():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return timed([PYTHON, "-c", "import tensorflow"], ROOT, env)


def build_both(checkout):
    shutil.rmtree(checkout / "_build", ignore_errors=True)
    for mo in (checkout / "locale").rglob("*.mo"):
        mo.unlink()
    return timed([PYTHON, "tools/i18n.py", "build"], checkout)


def summary(values):
    return {
        "runs": [round(v, 2) for v in values],
        "median": round(statistics.median(values), 2),
    }


def arguments(argv, doc, name):
    """The command line both timing benchmarks take: --runs and --out."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each (3)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "test-output" / "bench" / f"{name}.json",
        help="where to write the figures",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def write(result, out):
    """Print the figures and write them, with the machine's, to `out`."""
    result = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.system(),
        },
        **result,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


def main(argv=None):
    args = arguments(argv, __doc__, "build")

    imports, builds = [], []
    with tempfile.TemporaryDirectory(prefix="book-build-") as tmp:
        checkout = Path(tmp)
        copy_fresh_clone(checkout)
        import_tensorflow()  # the first import of a session reads from disk
        for run in range(args.runs):
            imports.append(import_tensorflow())
            builds.append(build_both(checkout))
            print(
                f"run {run + 1}: import {imports[-1]:.2f} s, both editions "
                f"{builds[-1]:.2f} s"
            )
    unit = statistics.median(imports)
    write(
        {
            "import_tensorflow_s": summary(imports),
            "both_editions_build_s": summary(builds),
            "both_editions_build_in_imports": round(
                statistics.median(builds) / unit, 2
            ),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
