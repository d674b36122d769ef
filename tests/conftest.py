"""Fixtures shared by the tests of the rendered site."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.book import ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """Build the site from what a fresh clone would hold: the files git tracks,
    plus new files not yet ignored (so the test also covers uncommitted work)."""
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
    checkout = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listing.split("\0")):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    result = subprocess.run(
        [
            str(JUPYTER_BOOK),
            "build",
            str(checkout),
            "--warningiserror",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"site build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return checkout / "_build" / "html"


def pytest_terminal_summary(terminalreporter):
    """List the screenshots test_browser.py saved, also when xdist workers ran it
    (a worker's own prints never reach the terminal)."""
    shots = sorted(
        {
            value
            for reports in terminalreporter.stats.values()
            for report in reports
            for name, value in getattr(report, "user_properties", ())
            if name == "screenshot"
        }
    )
    if shots:
        terminalreporter.write_sep(
            "-", "screenshots of the site, for a maintainer to look at"
        )
        for path in shots:
            terminalreporter.write_line(path)
