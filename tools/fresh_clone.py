"""The files a fresh clone of the book would hold, copied elsewhere: what git
tracks, plus new files it does not ignore (so that uncommitted work counts).
The tests build the site from such a copy, and so does benchmarks.build."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_fresh_clone(target):
    """Fill the folder `target` (emptied first) with the fresh-clone files."""
    target = Path(target)
    listing = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shutil.rmtree(target, ignore_errors=True)
    for name in filter(None, listing.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target
