"""Facts about the book that several test modules need."""

from pathlib import Path

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
