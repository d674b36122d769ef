"""tools/nbtool.py: a shared cell reaches every copy, a copy edited by hand
is neither overwritten nor let through, and `check` fails on every departure
from the canonical format while `normalise` repairs it.

The repository's own chapters are checked by test_notebooks.py; here the tool
runs on notebooks made in tmp_path, so each failure can be provoked safely.
"""

import contextlib
import io
import json
import subprocess
import sys

import nbformat
import pytest
from support.book import ROOT

from tools import nbtool


def run(*args):
    """The tool's command line, run in this process (a new Python for each
    of the forty calls would cost the suite some 15 s of CPU)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = nbtool.main([str(arg) for arg in args])
    return subprocess.CompletedProcess(
        args, code, out.getvalue(), err.getvalue()
    )


def test_the_command_runs_as_a_module(chapter):
    cells, path = chapter
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.nbtool",
            "check",
            "--cells",
            cells,
            path,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "1 notebooks are canonical\n"


def read(path):
    return nbformat.read(path, as_version=4)


@pytest.fixture
def chapter(tmp_path):
    """A folder of shared cells and a canonical chapter that stamps one:
    (the folder, the chapter's path)."""
    cells = tmp_path / "cells"
    cells.mkdir()
    (cells / "greet.py").write_text('print("hello")\n')
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A chapter"),
            nbformat.v4.new_code_cell(
                'print("hello")', metadata={"tags": ["stamp:greet"]}
            ),
            nbformat.v4.new_code_cell("1 + 1"),
        ]
    )
    path = tmp_path / "01-chapter.ipynb"
    nbformat.write(nb, path)
    assert run("normalise", path).returncode == 0
    assert run("stamp", "--cells", cells, path).returncode == 0
    assert run("check", "--cells", cells, path).returncode == 0
    return cells, path


def edit(path, change):
    nb = read(path)
    change(nb)
    nbtool.write_atomically(nb, path)


def test_a_canonical_chapter_has_the_ids_and_digest_of_the_rule(chapter):
    _, path = chapter
    nb = read(path)
    assert [c.id for c in nb.cells] == [f"01-chapter-0{i}" for i in range(3)]
    assert nb.cells[1].metadata["stamped"] == nbtool.digest('print("hello")')
    assert nb.metadata == nbtool.CANONICAL_METADATA


def test_a_changed_shared_cell_is_stamped_into_its_copies(chapter):
    cells, path = chapter
    (cells / "greet.py").write_text('print("hello, world")\n')
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "cell 1 (stamp:greet) is an older" in result.stdout
    assert "make refresh NB=" in result.stdout
    assert run("stamp", "--cells", cells, path).returncode == 0
    nb = read(path)
    assert nb.cells[1].source == 'print("hello, world")'
    assert nb.cells[2].source == "1 + 1"
    assert run("check", "--cells", cells, path).returncode == 0


def test_a_copy_edited_by_hand_fails_and_is_not_overwritten(chapter):
    cells, path = chapter
    edit(path, lambda nb: setattr(nb.cells[1], "source", 'print("hullo")'))
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "01-chapter.ipynb: cell 1 (stamp:greet) was edited by hand" in (
        result.stdout
    )
    # Even once the shared cell changed, the edit is not lost silently.
    (cells / "greet.py").write_text('print("hello, world")\n')
    before = path.read_bytes()
    result = run("stamp", "--cells", cells, path)
    assert result.returncode == 2
    assert "edited by hand" in result.stderr
    assert "nothing was changed" in result.stderr
    assert path.read_bytes() == before
    assert run("stamp", "--force", "--cells", cells, path).returncode == 0
    assert read(path).cells[1].source == 'print("hello, world")'
    assert run("check", "--cells", cells, path).returncode == 0


def test_foreign_metadata_fails_and_normalise_strips_it(chapter):
    cells, path = chapter

    def add_foreign(nb):
        nb.cells[2].metadata["collapsed"] = True
        nb.cells[2].metadata["tags"] = ["hide-input"]
        nb.metadata["widgets"] = {}

    edit(path, add_foreign)
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "cell 2: metadata ['collapsed'] is not the book's" in result.stdout
    assert "notebook metadata ['kernelspec', 'language_info', 'widgets']" in (
        result.stdout
    )
    assert "make normalise NB=" in result.stdout
    assert run("normalise", path).returncode == 0
    nb = read(path)
    assert nb.cells[2].metadata == {"tags": ["hide-input"]}
    assert nb.metadata == nbtool.CANONICAL_METADATA
    assert run("check", "--cells", cells, path).returncode == 0


def test_an_id_out_of_rule_fails_and_normalise_renumbers(chapter):
    cells, path = chapter
    edit(path, lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell("2")))
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "3 cell ids are not 01-chapter-NN in cell order" in result.stdout
    assert run("normalise", path).returncode == 0
    nb = read(path)
    assert [c.id for c in nb.cells] == [f"01-chapter-0{i}" for i in range(4)]
    assert run("check", "--cells", cells, path).returncode == 0


def test_an_unknown_tag_fails(chapter):
    cells, path = chapter
    edit(path, lambda nb: nb.cells[2].metadata.update(tags=["hide_input"]))
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "cell 2: unknown tag 'hide_input'" in result.stdout


def test_a_file_in_another_layout_fails(chapter):
    cells, path = chapter
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2))
    result = run("check", "--cells", cells, path)
    assert result.returncode == 1
    assert "not written in the canonical format" in result.stdout
    assert run("normalise", path).returncode == 0
    assert run("check", "--cells", cells, path).returncode == 0


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs git")
def test_a_copy_without_a_digest_is_judged_by_git_history():
    """A copy stamped before digests were recorded (or never stamped) is
    stale when it is empty or equals a committed version of its shared
    cell, and edited by hand otherwise."""
    cells = nbtool.shared_cells()
    path = cells["setup"].path
    (committed, *_) = nbtool.committed_texts("setup", path)
    changed = {**cells, "setup": nbtool.Shared(committed + "\n# new", path)}
    copy = nbformat.v4.new_code_cell(committed)
    assert nbtool.state(copy, "setup", changed) == "stale"
    assert nbtool.state(nbformat.v4.new_code_cell(""), "setup", cells) == (
        "stale"
    )
    copy.source += "\n# by hand"
    assert nbtool.state(copy, "setup", changed) == "edited"


@pytest.mark.parametrize(
    "damage, message",
    [
        ("unknown tag", "no shared cell greeting.py"),
        ("not json", "not valid notebook JSON"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(chapter, damage, message):
    cells, path = chapter
    other = path.with_name("02-other.ipynb")
    if damage == "unknown tag":
        nb = read(path)
        nb.cells[1].metadata["tags"] = ["stamp:greeting"]
        nbformat.write(nb, other)
    else:
        other.write_text("{ not json")
    (cells / "greet.py").write_text('print("hello, world")\n')
    before = path.read_bytes(), other.read_bytes()
    result = run("stamp", "--cells", cells, path, other)
    assert result.returncode == 2
    assert message in result.stderr and "nothing was changed" in result.stderr
    assert (path.read_bytes(), other.read_bytes()) == before


def test_a_cell_that_writes_a_file_is_stamped_with_its_magic(chapter):
    cells, path = chapter
    (cells / "greet.py").write_text('# %%writefile greet.py\nprint("hello")\n')
    assert run("stamp", "--cells", cells, path).returncode == 0
    assert read(path).cells[1].source == '%%writefile greet.py\nprint("hello")'


def test_a_package_module_is_stamped_as_a_file_in_its_folder(
    chapter, tmp_path
):
    cells, path = chapter
    package = tmp_path / "tool"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_core.py").write_text("ANSWER = 42\n")
    edit(
        path, lambda nb: nb.cells[2].metadata.update(tags=["stamp:tool/_core"])
    )
    # The cell "1 + 1" was never stamped: a copy edited by hand, as far as
    # the tool can tell, so stamping it needs --force.
    args = ("--cells", cells, "--package", package, path)
    assert run("check", *args).returncode == 1
    assert run("stamp", *args).returncode == 2
    assert run("stamp", "--force", *args).returncode == 0
    nb = read(path)
    assert nb.cells[2].source == "%%writefile tool/_core.py\nANSWER = 42"
    assert run("check", *args).returncode == 0
