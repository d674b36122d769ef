"""What the tests take from chapter 13: its own cells, never copies of them.

The chapter tags with `helpers` the code cells whose definitions the tests
reuse (its imports, the good checkpoint, the damage helpers). The notebook
cannot import this module, since a downloaded chapter must run alone; so this
module reads the notebook instead.
"""

import contextlib
import io

import nbformat

from support.book import ROOT

NOTEBOOK = ROOT / "notebooks" / "13-when-persistence-fails.ipynb"


def _code_cells():
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    return [cell for cell in cells if cell.cell_type == "code"]


def chapter_helpers():
    """Run the setup cell and every cell tagged `helpers`, in order, in the
    working directory (the cells write the chapter's good checkpoint there),
    and return the names they define. What the cells print is dropped."""
    namespace = {"__name__": "chapter13"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in _code_cells():
            tags = cell.metadata.get("tags", [])
            if "stamp:setup" in tags or "helpers" in tags:
                code = compile(
                    cell.source, f"{NOTEBOOK.name}:{cell.id}", "exec"
                )
                exec(code, namespace)
    return namespace
