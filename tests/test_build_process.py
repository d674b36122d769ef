"""tools/jupyter_book_process.py runs jupyter-book as `make book` does: it
must build the same pages as the `jupyter-book` command, end with the same
status, lose no output and skip no other exit handler; it must end the process
before the heap's teardown and postpone the full garbage collections."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.book import ROOT, site_files

LAUNCHER = ROOT / "tools" / "jupyter_book_process.py"
# The console script pip installs next to this Python.
JUPYTER_BOOK = [str(Path(sys.executable).parent / "jupyter-book")]

PAGES = {
    "_config.yml": """
        title: A small book
        author: Nobody
        execute:
          execute_notebooks: "off"
        sphinx:
          config:
            html_show_copyright: false
    """,
    "_toc.yml": """
        format: jb-book
        root: intro
        chapters:
          - file: second
    """,
    "intro.md": """
        # Introduction

        A checkpoint holds **values**; see [the next page](second.md).
    """,
    "second.md": """
        # Restoring

        ```python
        checkpoint.restore(prefix).assert_consumed()
        ```
    """,
}


def launch(cmd, cwd, timeout=300):
    # Buffered output, as a pipe gets by default: what a quick end could lose.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def book(tmp_path):
    source = tmp_path / "book"
    for name, text in PAGES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(textwrap.dedent(text).lstrip())
    return source


def build_with_each(book, tmp_path):
    """Build `book` with the jupyter-book command and with the launcher;
    the output folder of each and its finished process, by name."""
    commands = {
        "plain": JUPYTER_BOOK,
        "launcher": [sys.executable, str(LAUNCHER)],
    }
    built = {}
    for name, command in commands.items():
        out = tmp_path / name
        build = [*command, "build", str(book), "--path-output", str(out), "-W"]
        built[name] = out, launch(build, cwd=tmp_path)
    return built


def test_the_launcher_builds_what_jupyter_book_builds(book, tmp_path):
    sites = {}
    for name, (out, result) in build_with_each(book, tmp_path).items():
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr
        # The last lines jupyter-book prints are not lost to the quick end.
        assert "Finished generating HTML for book." in result.stdout
        sites[name] = site_files(out / "_build" / "html")
    assert (
        "intro.html" in sites["plain"] and "searchindex.js" in sites["plain"]
    )
    assert sites["plain"] == sites["launcher"]


def test_the_launcher_ends_with_jupyter_books_status(book, tmp_path):
    (book / "intro.md").write_text(
        "# Introduction\n\nSee [nothing](missing.md).\n"
    )
    statuses = {}
    for name, (_, result) in build_with_each(book, tmp_path).items():
        assert "missing" in result.stdout + result.stderr
        statuses[name] = result.returncode
    assert statuses["plain"] != 0
    assert statuses["launcher"] == statuses["plain"]


# A command that registers an exit handler after the launcher's (as
# jupyter-book's imports do), holds an object whose finaliser only a teardown
# would run, and prints without a newline before it ends with `code`.
COMMAND = """
import atexit, gc, sys
sys.path.insert(0, {tools!r})
import jupyter_book_process as launcher

launcher.take_over_process()
atexit.register(lambda: print("the handler ran", file=sys.stderr))

class Torn:
    def __del__(self):
        print("torn down", file=sys.stderr)

kept = Torn()

def command(args, prog_name):
    print("full collections after", gc.get_threshold()[2], end="")
    sys.exit({code!r})

launcher.run(command)
"""


@pytest.mark.parametrize(
    "code, status", [(0, 0), (None, 0), (3, 3), ("a message", 1)]
)
def test_the_process_ends_after_every_handler_and_before_teardown(
    tmp_path, code, status
):
    script = COMMAND.format(tools=str(ROOT / "tools"), code=code)
    result = launch([sys.executable, "-c", script], cwd=tmp_path, timeout=60)
    assert result.returncode == status
    assert result.stdout == "full collections after 1000000"
    assert "the handler ran" in result.stderr
    assert "torn down" not in result.stderr
    if isinstance(code, str):
        assert code in result.stderr


def test_without_the_launcher_the_teardown_runs(tmp_path):
    """The check above can fail: the same script, its object finalised."""
    script = COMMAND.format(tools=str(ROOT / "tools"), code=0).replace(
        "launcher.take_over_process()", ""
    )
    result = launch([sys.executable, "-c", script], cwd=tmp_path, timeout=60)
    assert "torn down" in result.stderr
