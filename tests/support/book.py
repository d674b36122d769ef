"""Facts about the book that several test modules need."""

from pathlib import Path

import nbformat
import yaml

# The one definition of the repository root for every test module.
ROOT = Path(__file__).resolve().parents[2]


def chapter_paths():
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def toc_files():
    """Every `file:` entry of _toc.yml, root first, as paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def code_notebook(cells):
    """A notebook of these code cells, with the kernelspec the chapters
    carry, as a test writes one to run it like a chapter."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in cells]
    )
    nb.metadata.kernelspec = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def site_files(out):
    """The pages and the search index of the HTML site in `out`, by path:
    what two builds that should agree are compared on."""
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in out.rglob("*")
        if path.suffix in (".html", ".js")
        and path.parent.name != "_static"
        or path.name == "searchindex.js"
    }
