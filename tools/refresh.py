"""Re-execute chapters and store their outputs: the only way outputs get into a notebook.

    python -m tools.refresh notebooks/01-save-variables.ipynb [more.ipynb ...]

Each notebook runs top to bottom in a fresh kernel of this virtual environment,
with its own folder as the working directory, exactly as nbval runs it in the
tests. The file is replaced only after every cell ran (cells tagged
`raises-exception` may fail; any other error leaves the file untouched), and it
is written in the one canonical format of tools/nbtool.py (its `normalise`),
so that diffs show real changes only. `make refresh` stamps the shared cells
first (`python -m tools.nbtool stamp`).
"""

import argparse
import sys
import time
from pathlib import Path

from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.nbtool import NotebookError, load, normalise, write_atomically

CELL_TIMEOUT = 600


def execute(nb, cwd: Path) -> None:
    km = KernelManager(kernel_name="python3")
    # Use this environment's interpreter, as nbval --nbval-current-env does,
    # not whichever `python` happens to come first on PATH.
    km.kernel_spec.argv[0] = sys.executable
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    # nbclient ends only the kernels of managers it made itself: without
    # cleanup_kc the kernel and its client's threads would outlive the run.
    client.execute(cleanup_kc=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    try:
        notebooks = [(p, load(p)) for p in args.notebooks]
    except NotebookError as exc:
        print(f"refresh: {exc}; nothing was changed", file=sys.stderr)
        return 2

    failed = []
    for path, nb in notebooks:
        start = time.perf_counter()
        try:
            execute(nb, path.resolve().parent)
        except CellExecutionError as exc:
            first = str(exc).strip().splitlines()[-1]
            print(
                f"FAILED  {path}: {first}\n        the stored notebook was left as it was",
                file=sys.stderr,
            )
            failed.append(path)
            continue
        normalise(nb, path)
        write_atomically(nb, path)
        print(f"ok      {path}  ({time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
