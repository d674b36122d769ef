"""Write each shared cell once, stamp it into every chapter that carries a copy.

    python tools/stamp.py            # stamp every chapter
    python tools/stamp.py --check    # report copies that differ; change nothing
    python tools/stamp.py notebooks/03-import-meta-graph.ipynb

A shared cell lives in tools/cells/<name>.py. A chapter cell tagged
`stamp:<name>` is a copy of it: this tool replaces the cell's source with the
file's text (and nothing else: outputs stay until `make refresh` re-executes
the chapter). The modules of the `tfopen` package are shared cells too: the
cell tagged `stamp:tfopen/_detect` is `%%writefile tfopen/_detect.py` followed
by that module, so a chapter that teaches a recipe and the tool that runs it
hold one copy of it. The copy stays in the notebook, so a chapter a reader downloads
still runs on its own.

Stamping is all or nothing: every notebook is read and every tag resolved
before any file is written, so a typo in a tag or a broken notebook changes
nothing.
"""

import argparse
import json
import sys
from pathlib import Path

import nbformat

# The same atomic write `make refresh` uses (tools/ is this script's folder,
# so it is on sys.path).
from refresh import write_atomically

ROOT = Path(__file__).resolve().parent.parent
CELLS = ROOT / "tools" / "cells"
PACKAGES = (ROOT / "tfopen",)
TAG_PREFIX = "stamp:"
WRITEFILE_COMMENT = "# %%writefile "


class StampError(Exception):
    """A problem with the input, explained in one line."""


def shared_cells(folder: Path = CELLS, packages=PACKAGES) -> dict:
    """Map each shared cell's name to (its source as a notebook stores it,
    the file it comes from)."""
    if not folder.is_dir():
        raise StampError(f"{folder}: no folder of shared cells")
    # A notebook cell has no final newline; ruff gives the file one.
    cells = {
        p.stem: (as_cell(p.read_text().rstrip("\n")), p)
        for p in sorted(folder.glob("*.py"))
    }
    for package in packages:
        if not (package / "__init__.py").is_file():
            raise StampError(f"{package}: not a Python package")
        for p in sorted(package.glob("*.py")):
            name = f"{package.name}/{p.stem}"
            magic = f"%%writefile {package.name}/{p.name}\n"
            cells[name] = (magic + p.read_text().rstrip("\n"), p)
    return cells


def as_cell(text: str) -> str:
    """A shared cell that a chapter writes to a file starts with the comment
    `# %%writefile NAME`, which keeps the shared file plain Python for ruff;
    in the chapter it becomes the cell magic."""
    if text.startswith(WRITEFILE_COMMENT):
        return text[len("# ") :]
    return text


def origin(path: Path) -> str:
    """A shared cell's file, relative to the book when it is in the book."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def read_notebook(path: Path):
    if path.suffix != ".ipynb":
        raise StampError(f"{path}: not a notebook (expected a .ipynb file)")
    if not path.is_file():
        raise StampError(f"{path}: no such file")
    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise StampError(f"{path}: not valid notebook JSON ({exc})") from None
    return nb


def stamp_tags(cell) -> list:
    return [
        t[len(TAG_PREFIX) :]
        for t in cell.get("metadata", {}).get("tags", [])
        if t.startswith(TAG_PREFIX)
    ]


def plan(nb, path: Path, cells: dict) -> list:
    """(cell index, shared cell name) for every copy in the notebook whose
    source differs from its shared cell."""
    drift = []
    for i, cell in enumerate(nb.cells):
        names = stamp_tags(cell)
        if not names:
            continue
        if cell.cell_type != "code":
            raise StampError(
                f"{path}: cell {i} is tagged {names} but is not code"
            )
        if len(names) > 1:
            raise StampError(
                f"{path}: cell {i} has several stamp tags {names}"
            )
        name = names[0]
        if name not in cells:
            known = ", ".join(sorted(cells)) or "none"
            raise StampError(
                f"{path}: cell {i} is tagged {TAG_PREFIX}{name}, but there is "
                f"no shared cell {name}.py (shared cells: {known})"
            )
        if cell.source != cells[name][0]:
            drift.append((i, name))
    return drift


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument(
        "--check",
        action="store_true",
        help="report differing copies, write nothing",
    )
    parser.add_argument(
        "--cells",
        type=Path,
        default=CELLS,
        help="folder of shared cells (default: tools/cells)",
    )
    parser.add_argument(
        "--package",
        type=Path,
        action="append",
        help="a package whose modules are shared cells (default: tfopen)",
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))

    try:
        cells = shared_cells(args.cells, args.package or PACKAGES)
        books = [(p, read_notebook(p)) for p in paths]
        plans = [(p, nb, plan(nb, p, cells)) for p, nb in books]
    except StampError as exc:
        print(f"stamp: {exc}; nothing was changed", file=sys.stderr)
        return 2

    stale = [(p, nb, d) for p, nb, d in plans if d]
    if args.check:
        for p, _, drift in stale:
            for i, name in drift:
                print(
                    f"{p.stem}: cell {i} differs from "
                    f"{origin(cells[name][1])} "
                    "(run `make stamp`, then `make refresh NB=...`)"
                )
        if not stale:
            print("every copy matches its shared cell")
        return 1 if stale else 0

    for p, nb, drift in stale:
        for i, name in drift:
            nb.cells[i].source = cells[name][0]
        write_atomically(nb, p)
        print(
            f"stamped {p.stem}: "
            + ", ".join(f"cell {i} <- {n}" for i, n in drift)
        )
    if not stale:
        print("every copy matches its shared cell")
    return 0


if __name__ == "__main__":
    sys.exit(main())
