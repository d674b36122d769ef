"""Keep the chapters canonical: stamp shared cells, normalise, check.

    python -m tools.nbtool stamp [--force] [NOTEBOOK ...]
    python -m tools.nbtool normalise [NOTEBOOK ...]
    python -m tools.nbtool check [NOTEBOOK ...]

Without NOTEBOOK, every notebook in notebooks/. `make stamp`, `make
normalise` and `make refresh` call it; tests/test_notebooks.py runs `check`
on every chapter.

stamp      A shared cell lives in tools/cells/<name>.py; a chapter cell
           tagged `stamp:<name>` is a copy of it, and stamping replaces the
           cell's source with the file's text (outputs stay until `make
           refresh` re-executes the chapter). The modules of the tfopen
           package are shared cells too: the cell tagged `stamp:tfopen/_detect`
           is `%%writefile tfopen/_detect.py` and that module. The copy stays
           in the notebook, so that a downloaded chapter runs alone. Each
           copy records the SHA-256 of the text stamped into it (cell
           metadata `stamped`); a copy whose text no longer has that digest
           was edited by hand, and stamp refuses to overwrite it unless given
           --force. (A copy without a digest counts as edited unless it is
           empty or equals a version of its shared cell that git has
           committed.)
normalise  Writes each notebook in the book's one format, the one `make
           refresh` writes: the notebook metadata of CANONICAL_METADATA, cell
           metadata limited to CELL_METADATA, cell ids `<chapter>-NN` in cell
           order (`13-when-persistence-fails-00` for chapter 13's first cell),
           nbformat's JSON.
check      Changes nothing. Names, chapter by chapter, every departure from
           that format, every unknown tag and every copy of a shared cell
           that differs from it, each with the command that fixes it; exits
           1 if there is any.

stamp and normalise are all or nothing: every notebook is read and every
copy judged before any file is written, so a typo in a tag, a broken
notebook or a copy edited by hand changes nothing.
"""

import argparse
import copy
import functools
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CELLS = ROOT / "tools" / "cells"
PACKAGES = (ROOT / "tfopen",)
STAMP_TAG = "stamp:"
WRITEFILE_COMMENT = "# %%writefile "

CANONICAL_METADATA = {
    "kernelspec": {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    },
    "language_info": {"name": "python"},
}
# What the chapters' cells carry: their tags (the site and the tests read
# them) and the digest `stamp` records. Jupyter adds more (collapsed,
# scrolled, execution times, jupyter.source_hidden): normalise drops it.
CELL_METADATA = ("tags", "stamped")
# The tags of MAINTAINING.md's table "Notebook tags", besides stamp:<name>.
TAGS = (
    "hide-input",
    "hide-cell",
    "remove-cell",
    "nbval-ignore-output",
    "raises-exception",
    "helpers",
)


class NotebookError(Exception):
    """A problem with the input, explained in one line."""


# Reading and writing: one loader and one writer, for refresh too.


def load(path: Path):
    """Read a notebook or explain in one line why it cannot be used."""
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path}: not a notebook (expected a .ipynb file)")
    if not path.is_file():
        raise NotebookError(f"{path}: no such file")
    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise NotebookError(
            f"{path}: not valid notebook JSON ({exc})"
        ) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(
            f"{path}: not a valid notebook: {exc.message}"
        ) from None
    return nb


def canonical_text(nb) -> str:
    """The notebook as the book stores it: nbformat's JSON, one final
    newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write_atomically(nb, path: Path) -> None:
    """Write beside the notebook, then rename: a crash never leaves half a
    file."""
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(canonical_text(nb))
        # mkstemp makes the file private (0600); keep the notebook's own mode.
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def shown(path: Path) -> str:
    """A path as a command line in the book's root would name it."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


# normalise


def cell_id(path: Path, index: int) -> str:
    return f"{path.stem}-{index:02d}"


def normalise(nb, path: Path) -> None:
    """Bring a notebook to the canonical format, in place."""
    nb.metadata = nbformat.from_dict(copy.deepcopy(CANONICAL_METADATA))
    for i, cell in enumerate(nb.cells):
        cell.id = cell_id(path, i)
        for key in set(cell.metadata) - set(CELL_METADATA):
            del cell.metadata[key]


# stamp


class Shared(NamedTuple):
    """A shared cell: its text as its copies hold it, and its file."""

    text: str
    path: Path


def shared_cells(folder: Path = CELLS, packages=PACKAGES) -> dict:
    """Map each shared cell's name to its Shared."""
    if not folder.is_dir():
        raise NotebookError(f"{folder}: no folder of shared cells")
    cells = {
        p.stem: Shared(cell_text(p.read_text()), p)
        for p in sorted(folder.glob("*.py"))
    }
    for package in packages:
        if not (package / "__init__.py").is_file():
            raise NotebookError(f"{package}: not a Python package")
        for p in sorted(package.glob("*.py")):
            module = f"{package.name}/{p.name}"
            cells[module[:-3]] = Shared(cell_text(p.read_text(), module), p)
    return cells


def cell_text(text: str, module: str | None = None) -> str:
    """A shared file's text as its copies hold it. A notebook cell has no
    final newline; ruff gives the file one. A package module is written to
    its place in the package (`%%writefile tfopen/_detect.py`). A shared
    cell that a chapter writes to a file starts with the comment
    `# %%writefile NAME`, which keeps the file plain Python for ruff; in the
    chapter it becomes the cell magic."""
    text = text.rstrip("\n")
    if module is not None:
        return f"%%writefile {module}\n{text}"
    if text.startswith(WRITEFILE_COMMENT):
        return text[len("# ") :]
    return text


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamp_tags(cell) -> list:
    return [
        t[len(STAMP_TAG) :]
        for t in cell.get("metadata", {}).get("tags", [])
        if t.startswith(STAMP_TAG)
    ]


def stamped_cells(nb, path: Path, cells: dict) -> list:
    """(cell index, shared cell name) for every copy in the notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        names = stamp_tags(cell)
        if not names:
            continue
        where = f"{shown(path)}: cell {i}"
        if cell.cell_type != "code":
            raise NotebookError(f"{where} is tagged {names} but is not code")
        if len(names) > 1:
            raise NotebookError(f"{where} has several stamp tags {names}")
        if names[0] not in cells:
            known = ", ".join(sorted(cells)) or "none"
            raise NotebookError(
                f"{where} is tagged {STAMP_TAG}{names[0]}, but there is no "
                f"shared cell {names[0]}.py (shared cells: {known})"
            )
        found.append((i, names[0]))
    return found


@functools.cache
def committed_texts(name: str, path: Path) -> frozenset:
    """Every version of a shared cell that git has committed (none outside
    git), as its copies hold it."""
    try:
        relative = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return frozenset()
    log = subprocess.run(
        ["git", "log", "--format=%H", "--", relative],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    module = f"{name}.py" if "/" in name else None
    texts = set()
    for commit in log.stdout.split():
        shown_file = subprocess.run(
            ["git", "show", f"{commit}:{relative}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if shown_file.returncode == 0:
            texts.add(cell_text(shown_file.stdout, module))
    return frozenset(texts)


def state(cell, name: str, cells: dict) -> str:
    """How a copy stands against its shared cell: "current", "unrecorded"
    (the same text, but not the digest of it), "stale" (what was stamped,
    before the shared cell changed) or "edited" (by hand)."""
    text = cells[name].text
    recorded = cell.metadata.get("stamped")
    if cell.source == text:
        return "current" if recorded == digest(text) else "unrecorded"
    if recorded is not None:
        return "stale" if recorded == digest(cell.source) else "edited"
    # Never stamped, or stamped before digests were recorded: an empty
    # copy, or one equal to a committed version of its shared cell, holds
    # nothing to lose.
    if not cell.source.strip():
        return "stale"
    committed = committed_texts(name, cells[name].path)
    return "stale" if cell.source in committed else "edited"


def stamp(notebooks: list, cells: dict, force: bool) -> list:
    """Stamp in memory; return (path, nb, what was stamped) for each
    notebook that changed. Refuses, changing nothing, to overwrite a
    copy edited by hand unless `force`."""
    changed, edited = [], []
    for path, nb in notebooks:
        updated = []
        for i, name in stamped_cells(nb, path, cells):
            how = state(nb.cells[i], name, cells)
            if how == "edited" and not force:
                edited.append(f"cell {i} of {shown(path)} ({name})")
            if how != "current":
                updated.append((i, name))
                nb.cells[i].source = cells[name].text
                nb.cells[i].metadata["stamped"] = digest(cells[name].text)
        if updated:
            what = ", ".join(f"cell {i} <- {name}" for i, name in updated)
            changed.append((path, nb, f"stamped {what}"))
    if edited:
        raise NotebookError(
            "copies edited by hand, which stamping would undo: "
            + ", ".join(edited)
            + "; make the change in the shared cell instead, or discard it "
            "with `python -m tools.nbtool stamp --force NOTEBOOK`"
        )
    return changed


# check


def problems(path: Path, nb, cells: dict) -> list:
    """What keeps a notebook from being canonical, each with its fix."""
    normalise_it = f"run `make normalise NB={shown(path)}`"
    found = [
        f"{problem}; {normalise_it}" for problem in format_problems(path, nb)
    ]
    found += tag_problems(nb)
    try:
        copies = stamped_cells(nb, path, cells)
    except NotebookError as exc:
        return found + [str(exc).split(": ", 1)[1]]
    for i, name in copies:
        how = state(nb.cells[i], name, cells)
        if how != "current":
            found.append(copy_problem(i, name, how, path, cells))
    if not found and path.read_text(encoding="utf-8") != canonical_text(nb):
        found.append(f"not written in the canonical format; {normalise_it}")
    return found


def format_problems(path: Path, nb) -> list:
    """Departures from the format that normalise writes."""
    found = []
    if dict(nb.metadata) != CANONICAL_METADATA:
        found.append(
            f"notebook metadata {sorted(nb.metadata)} is not "
            f"{sorted(CANONICAL_METADATA)} as refresh writes it"
        )
    for i, cell in enumerate(nb.cells):
        foreign = sorted(set(cell.metadata) - set(CELL_METADATA))
        if foreign:
            found.append(
                f"cell {i}: metadata {foreign} is not the book's (only "
                f"{', '.join(CELL_METADATA)})"
            )
    wrong = [
        f"cell {i} is {cell.get('id')!r}"
        for i, cell in enumerate(nb.cells)
        if cell.get("id") != cell_id(path, i)
    ]
    if wrong:
        more = ", ..." if len(wrong) > 3 else ""
        found.append(
            f"{len(wrong)} cell ids are not {path.stem}-NN in cell order "
            f"({'; '.join(wrong[:3])}{more})"
        )
    return found


def tag_problems(nb) -> list:
    return [
        f"cell {i}: unknown tag {tag!r}: the book's tags are "
        f"{STAMP_TAG}<name>, {', '.join(TAGS)} (MAINTAINING.md, Notebook tags)"
        for i, cell in enumerate(nb.cells)
        for tag in cell.metadata.get("tags", [])
        if not tag.startswith(STAMP_TAG) and tag not in TAGS
    ]


def copy_problem(i: int, name: str, how: str, path: Path, cells) -> str:
    where, source = shown(path), shown(cells[name].path)
    copy = f"cell {i} ({STAMP_TAG}{name})"
    if how == "stale":
        return (
            f"{copy} is an older {source}; run `make refresh NB={where}` "
            "(it stamps first)"
        )
    if how == "edited":
        return (
            f"{copy} was edited by hand; make the change in {source} and "
            f"run `make refresh NB={where}`, or discard it with "
            f"`python -m tools.nbtool stamp --force {where}`"
        )
    return f"{copy} has no record of its stamp; run `make stamp NB={where}`"


# The command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.nbtool",
        description=__doc__.split("\n")[0],
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in [
        ("stamp", "copy each shared cell into the cells tagged with it"),
        ("normalise", "write the notebooks in the canonical format"),
        ("check", "name what is not canonical; change nothing"),
    ]:
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("notebooks", nargs="*", type=Path)
        command.add_argument(
            "--cells",
            type=Path,
            default=CELLS,
            help="folder of shared cells (default: tools/cells)",
        )
        command.add_argument(
            "--package",
            type=Path,
            action="append",
            help="a package whose modules are shared cells (default: tfopen)",
        )
        if name == "stamp":
            command.add_argument(
                "--force",
                action="store_true",
                help="overwrite copies edited by hand",
            )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        cells = shared_cells(args.cells, args.package or PACKAGES)
        notebooks = [(p, load(p)) for p in paths]
        if args.command == "check":
            return check(notebooks, cells)
        if args.command == "stamp":
            changed = stamp(notebooks, cells, args.force)
        else:
            changed = normalised(notebooks)
    except NotebookError as exc:
        unchanged = "" if args.command == "check" else "; nothing was changed"
        print(f"nbtool {args.command}: {exc}{unchanged}", file=sys.stderr)
        return 2
    for path, nb, what in changed:
        write_atomically(nb, path)
        print(f"{shown(path)}: {what}")
    if not changed:
        print(f"{len(notebooks)} notebooks: nothing to change")
    return 0


def normalised(notebooks: list) -> list:
    """Normalise in memory; return (path, nb, "normalised") for each
    notebook that changed."""
    changed = []
    for path, nb in notebooks:
        normalise(nb, path)
        if path.read_text(encoding="utf-8") != canonical_text(nb):
            changed.append((path, nb, "normalised"))
    return changed


def check(notebooks: list, cells: dict) -> int:
    failed = 0
    for path, nb in notebooks:
        found = problems(path, nb, cells)
        failed += bool(found)
        for problem in found:
            print(f"{shown(path)}: {problem}")
    if failed:
        print(f"{failed} of {len(notebooks)} notebooks are not canonical")
        return 1
    print(f"{len(notebooks)} notebooks are canonical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
