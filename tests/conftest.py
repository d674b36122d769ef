"""Fixtures shared by the tests of the rendered site."""

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.book import ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def _shared_temp(tmp_path_factory, worker_id):
    """A folder every xdist worker of this run sees (each worker's own base
    temp is a subfolder of it); pytest's base temp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, worker_id):
    """The site, built once per test run from what a fresh clone would hold:
    the files git tracks plus new files not yet ignored (so the test also
    covers uncommitted work). The first worker to ask builds it under a file
    lock; the others wait for it and reuse it."""
    shared = _shared_temp(tmp_path_factory, worker_id)
    checkout = shared / "site-checkout"
    html = checkout / "_build" / "html"
    done = shared / "site-built"
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            _build_site(checkout)
            done.touch()
    return html


def _build_site(checkout):
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
    shutil.rmtree(checkout, ignore_errors=True)
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
