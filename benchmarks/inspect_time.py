"""How long `python -m tfopen inspect` takes on each kind of file, in units
of one `import tensorflow` on the same machine.

    python -m benchmarks.inspect_time [--runs 5] [--out FILE]

inspect answers from a file's metadata: for the TensorFlow formats its cost
should be about one import of TensorFlow (the goal is at most 1.5 times),
and Keras files need neither TensorFlow nor Keras. One fixture of each kind
tfopen knows (the first in fixtures/, sorted), each measurement in a fresh
process, the two commands taking turns. The figures are printed and written
as JSON (test-output/bench/inspect.json unless --out says otherwise).
"""

import os
import statistics
import subprocess
import sys

from benchmarks.build import (
    PYTHON,
    ROOT,
    arguments,
    import_tensorflow,
    summary,
    timed,
    write,
)

# What a reader's shell has: TF's own settings are tfopen's to choose.
READER = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("TF_CPP_", "TF_ENABLE_ONEDNN"))
}


def one_file_per_kind():
    """{kind: path} for the first fixture of each kind tfopen identifies."""
    sys.path.insert(0, str(ROOT))
    from tfopen._detect import TfopenError, identify

    found = {}
    candidates = sorted(
        p
        for folder in (ROOT / "fixtures").iterdir()
        if folder.is_dir()
        for p in [*folder.iterdir(), *folder.glob("*/*")]
    )
    for path in candidates:
        try:
            kind = identify(path).kind
        except TfopenError:
            continue
        found.setdefault(kind, path)
    return dict(sorted(found.items()))


def imports_tensorflow(path):
    code = (
        "import sys, tfopen; tfopen.inspect(sys.argv[1]); "
        "print('tensorflow' in sys.modules)"
    )
    done = subprocess.run(
        [PYTHON, "-c", code, str(path)],
        cwd=ROOT,
        env=READER,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() == "True"


def main(argv=None):
    args = arguments(argv, __doc__, "inspect")
    files = one_file_per_kind()
    import_tensorflow()  # the first import of a session reads from disk
    kinds = {}
    for kind, path in files.items():
        # Each kind against the imports timed between its own runs, so a
        # machine whose load changes during the run compares like with like.
        imports, times = [], []
        for _ in range(args.runs):
            imports.append(import_tensorflow())
            command = [PYTHON, "-m", "tfopen", "inspect", str(path), "--json"]
            times.append(timed(command, ROOT, READER))
        kinds[kind] = {
            "file": path.relative_to(ROOT).as_posix(),
            "imports_tensorflow": imports_tensorflow(path),
            "import_tensorflow_s": summary(imports),
            "inspect_s": summary(times),
            "inspect_in_imports": round(
                statistics.median(times) / statistics.median(imports), 2
            ),
        }
        print(
            f"{kind}: {kinds[kind]['inspect_in_imports']:.2f} imports "
            f"({kinds[kind]['file']})"
        )
    write(
        {
            "kinds": kinds,
            "worst_in_imports": max(
                f["inspect_in_imports"] for f in kinds.values()
            ),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
