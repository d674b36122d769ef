"""tools/stamp.py: a shared cell reaches every copy, and drift is caught.

The repository's own chapters are checked by test_notebooks.py; here the tool
runs on notebooks made in tmp_path, so a failure can be provoked safely.
"""

import subprocess
import sys

import nbformat
import pytest
from support.book import ROOT

STAMP = ROOT / "tools" / "stamp.py"


def run(*args):
    return subprocess.run(
        [sys.executable, str(STAMP), *map(str, args)],
        capture_output=True,
        text=True,
    )


@pytest.fixture
def book(tmp_path):
    cells = tmp_path / "cells"
    cells.mkdir()
    (cells / "greet.py").write_text('print("hello")\n')
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A chapter"),
            nbformat.v4.new_code_cell(
                'print("hullo")', metadata={"tags": ["stamp:greet"]}
            ),
            nbformat.v4.new_code_cell("1 + 1"),
        ]
    )
    path = tmp_path / "01-chapter.ipynb"
    nbformat.write(nb, path)
    return cells, path


def test_check_names_the_chapter_whose_copy_differs(book):
    cells, path = book
    result = run("--check", "--cells", cells, path)
    assert result.returncode == 1
    assert f"01-chapter: cell 1 differs from {cells / 'greet.py'}" in (
        result.stdout
    )


def test_stamping_copies_the_source_and_then_check_passes(book):
    cells, path = book
    assert run("--cells", cells, path).returncode == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source == 'print("hello")'
    assert nb.cells[2].source == "1 + 1"
    assert run("--check", "--cells", cells, path).returncode == 0


@pytest.mark.parametrize(
    "damage, message",
    [
        ("unknown tag", "no shared cell greeting.py"),
        ("not json", "not valid notebook JSON"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(book, damage, message):
    cells, path = book
    other = path.with_name("02-other.ipynb")
    if damage == "unknown tag":
        nb = nbformat.read(path, as_version=4)
        nb.cells[1].metadata["tags"] = ["stamp:greeting"]
        nbformat.write(nb, other)
    else:
        other.write_text("{ not json")
    before = path.read_bytes(), other.read_bytes()
    result = run("--cells", cells, path, other)
    assert result.returncode == 2
    assert message in result.stderr and "nothing was changed" in result.stderr
    assert (path.read_bytes(), other.read_bytes()) == before


def test_a_cell_that_writes_a_file_is_stamped_with_its_magic(book):
    cells, path = book
    (cells / "greet.py").write_text('# %%writefile greet.py\nprint("hello")\n')
    assert run("--cells", cells, path).returncode == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source == '%%writefile greet.py\nprint("hello")'


def test_a_package_module_is_stamped_as_a_file_in_its_folder(book, tmp_path):
    cells, path = book
    package = tmp_path / "tool"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_core.py").write_text("ANSWER = 42\n")
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].metadata["tags"] = ["stamp:tool/_core"]
    nbformat.write(nb, path)
    args = ("--cells", cells, "--package", package, path)
    assert run("--check", *args).returncode == 1
    assert run(*args).returncode == 0
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[2].source == "%%writefile tool/_core.py\nANSWER = 42"
    assert run("--check", *args).returncode == 0
