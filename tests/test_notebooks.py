"""Hygiene of the stored notebooks: what nbval alone would not catch.

nbval compares outputs, but it happily compares a notebook whose cells ran out of
order, whose stored output carries a temporary path, or whose error cell shows a
machine's traceback. These checks keep the stored outputs a fair contract.
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support.book import ROOT, chapter_paths

from tools import nbtool

CHAPTERS = chapter_paths()
IDS = [p.stem for p in CHAPTERS]
SHARED_CELLS = nbtool.shared_cells()

# Patterns that change between machines or runs. Each names why it is volatile.
VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "a memory address (changes every run)"),
    (
        re.compile(r"/tmp/|/root/|/home/|/Users/|[A-Z]:\\\\|ipykernel_\d+"),
        "a machine path",
    ),
    (re.compile(re.escape(str(ROOT))), "this checkout's absolute path"),
    (re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", re.M), "a C++ log line"),
    (re.compile(r"\d+(\.\d+)?\s?m?s/step|\d+ms\b"), "a timing"),
    (re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d:\d\d"), "a timestamp"),
    (re.compile(r"at 0x|object at "), "an object repr with an address"),
]


def load(path):
    return nbformat.read(path, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def output_text(out):
    parts = [out.get("text", "")]
    data = out.get("data", {})
    for mime in ("text/plain", "text/html", "text/markdown"):
        parts.append(data.get(mime, ""))
    if out.output_type == "error":
        parts += [out.get("ename", ""), out.get("evalue", "")] + out.get(
            "traceback", []
        )
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def test_chapters_exist():
    assert len(CHAPTERS) >= 11, "Part I has eleven chapters"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_valid_notebook_with_python3_kernel(path):
    nb = load(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_executed_once_top_to_bottom(path):
    counts = [
        c.execution_count for c in code_cells(load(path)) if c.source.strip()
    ]
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts {counts}: refresh the chapter with `make refresh NB={path.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_stored_errors_or_stderr(path):
    for i, cell in enumerate(load(path).cells):
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            assert not (
                out.output_type == "stream" and out.name == "stderr"
            ), (
                f"cell {i} stored stderr: nbval never sees the kernel's stderr again"
            )
            if out.output_type == "error":
                assert "raises-exception" in tags, (
                    f"cell {i} stored an error but is not tagged raises-exception"
                )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_no_volatile_output(path):
    problems = []
    for i, cell in enumerate(load(path).cells):
        # A cell tagged nbval-ignore-output may show a measured time (the speed
        # chapter does); nothing else volatile is allowed even there.
        ignored = "nbval-ignore-output" in cell.get("metadata", {}).get(
            "tags", []
        )
        for out in cell.get("outputs", []):
            text = output_text(out)
            for pattern, what in VOLATILE:
                if ignored and what == "a timing":
                    continue
                match = pattern.search(text)
                if match:
                    problems.append(f"cell {i}: {what}: {match.group(0)!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_code_cell_ran(path):
    """A code cell with no execution count was never run, so nbval compares nothing."""
    for i, cell in enumerate(code_cells(load(path))):
        if cell.source.strip():
            assert cell.execution_count is not None, (
                f"code cell {i} was never executed"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_notebook_is_canonical(path):
    """`python -m tools.nbtool check`: the canonical format (metadata, cell
    ids by rule, nbformat's JSON), the book's tags only, and every copy of a
    shared cell equal to tools/cells/<name>.py, so that a fix is made once
    and `make stamp` carries it into every chapter."""
    problems = nbtool.problems(path, nbtool.load(path), SHARED_CELLS)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_setup_is_introduced_the_same_way_everywhere():
    """The sentence before the collapsed setup cell says what it does; the
    cell is shared, so the sentence is too (a reader skimming two chapters
    should not find two stories about one cell)."""
    texts = {}
    for path in CHAPTERS:
        first = load(path).cells[0].source
        texts.setdefault(first[first.find("## Setup") :], []).append(path.stem)
    assert len(texts) == 1, "the ## Setup text differs:\n" + "\n".join(
        f"{stems}: {text[:200]!r}" for text, stems in texts.items()
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_starts_with_the_setup_cell(path):
    """The first code cell is the stamped setup cell, collapsed on the page,
    and it silences TF's C++ logging before the import."""
    first = code_cells(load(path))[0]
    tags = first.metadata.get("tags", [])
    assert "stamp:setup" in tags and "hide-input" in tags, tags
    src = first.source
    assert src.index('os.environ["TF_CPP_MIN_LOG_LEVEL"]') < src.index(
        "import tensorflow"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_works_in_its_own_artifacts_folder(path):
    """The second code cell moves the chapter into artifacts/<its file name>."""
    second = code_cells(load(path))[1].source
    assert second.strip() == f'enter_workdir("{path.stem}")', second


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_one_title_and_the_skeleton(path):
    nb = load(path)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    titles = re.findall(r"^# \S", md, re.M)
    assert len(titles) == 1, "one H1 per chapter"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[
        0
    ].source.startswith("# ")
    headings = ["## Setup", "## Summary", "## Exercises"]
    # Part I mirrors the TF1 source: its pitfalls, then the TF2 way.
    if int(path.stem[:2]) <= 11:
        headings += ["## Pitfalls", "## The TF2 way"]
    for heading in headings:
        assert re.search(rf"^{re.escape(heading)}\b", md, re.M), (
            f"missing section {heading!r}"
        )


def test_code_is_formatted_and_linted():
    """`make format` leaves nothing to change, so a diff shows real changes
    only, and ruff's lint finds nothing in the chapters or the tools."""
    ruff = str(Path(sys.executable).with_name("ruff"))
    problems = []
    for command in ([ruff, "format", "--check", "."], [ruff, "check", "."]):
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True
        )
        if result.returncode:
            problems.append(result.stdout + result.stderr)
    assert not problems, "run `make format`:\n" + "\n".join(problems)


# A comment that `ruff format` had to wrap: after the closing bracket of a
# statement broken only to make room for it, or after the opening bracket
# of one. On the site both read as code broken for no reason: a comment goes
# above its statement. Pragmas (fmt, noqa) stay where they act.
SPLIT_COMMENT = re.compile(
    r"^[ \t]*[)\]}][)\]},:]*[ \t]*#(?!\s*(?:fmt:|noqa))"
    r"|[(\[{][ \t]*#(?!\s*(?:fmt:|noqa))",
    re.M,
)


def split_comments(text, where):
    return [
        f"{where}, line {text.count(chr(10), 0, m.start()) + 1}: "
        + text[m.start() :].split("\n", 1)[0].strip()
        for m in SPLIT_COMMENT.finditer(text)
    ]


def test_comments_stand_above_their_statements():
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = []
    for name in sorted(tracked):
        found += split_comments((ROOT / name).read_text(), name)
    for path in CHAPTERS:
        for i, cell in enumerate(load(path).cells):
            # A stamped copy is checked in its source file, above.
            if cell.cell_type == "code" and not nbtool.stamp_tags(cell):
                found += split_comments(cell.source, f"{path.stem} cell {i}")
    assert not found, "put these comments above their statements:\n" + (
        "\n".join(found)
    )
