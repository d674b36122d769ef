"""Re-execute chapters and store their outputs: the only way outputs get into a notebook.

    python tools/refresh.py notebooks/01-save-variables.ipynb [more.ipynb ...]

Each notebook runs top to bottom in a fresh kernel of this virtual environment,
with its own folder as the working directory, exactly as nbval runs it in the
tests. The file is replaced only after every cell ran (cells tagged
`raises-exception` may fail; any other error leaves the file untouched), and it
is written in one canonical format so that diffs show real changes only.
"""

import argparse
import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}
CELL_TIMEOUT = 600


def load(path: Path):
    """Read a notebook or explain in one line why it cannot be refreshed."""
    if path.suffix != ".ipynb":
        raise ValueError(f"{path}: not a notebook (expected a .ipynb file)")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise ValueError(f"{path}: not valid notebook JSON ({exc})") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise ValueError(
            f"{path}: not a valid notebook: {exc.message}"
        ) from None
    return nb


def normalise(nb) -> None:
    """Drop what changes from machine to machine and run to run."""
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
        }
    )
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)


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


def write_atomically(nb, path: Path) -> None:
    """Write beside the notebook, then rename: a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
        # mkstemp makes the file private (0600); keep the notebook's own mode.
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    try:
        books = [(p, load(p)) for p in args.notebooks]
    except ValueError as exc:
        print(f"refresh: {exc}; nothing was changed", file=sys.stderr)
        return 2

    failed = []
    for path, nb in books:
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
        normalise(nb)
        write_atomically(nb, path)
        print(f"ok      {path}  ({time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
