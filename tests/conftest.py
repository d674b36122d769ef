"""Fixtures shared by the tests of the rendered site: the build, the server, the browser."""

import fcntl
import functools
import subprocess
import sys
import threading

import pytest
from support import browser as web

from tools.fresh_clone import copy_fresh_clone


def _shared_temp(tmp_path_factory, worker_id):
    """A folder every xdist worker of this run sees (each worker's own base
    temp is a subfolder of it); pytest's base temp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, worker_id):
    """The site in both languages (Chinese in its zh_CN/ folder), built once per test run from what a fresh clone would hold:
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
    copy_fresh_clone(checkout)
    # Both editions, as `make book` builds them, with warnings as errors.
    result = subprocess.run(
        [sys.executable, str(checkout / "tools" / "i18n.py"), "build"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"site build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )


# One browser and one server for the run: xdist gives both site modules to one
# worker (see SAME_WORKER in the root conftest.py).
@pytest.fixture(scope="session")
def browser():
    web.need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=web.CHROMIUM, headless=True, args=web.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def site(browser, built_site):
    """Base URL of the built site (the Chinese edition under zh_CN/), served
    on a free port of 127.0.0.1."""
    server = web.Server(
        ("127.0.0.1", 0),
        functools.partial(web.QuietHandler, directory=str(built_site)),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


# Each site module's `crawl` fixture loads every page once and returns
# (pages, extras): what it read of each page, and what it did during the visits.
@pytest.fixture(scope="module")
def pages(crawl):
    return crawl[0]


@pytest.fixture(scope="module")
def extras(crawl):
    return crawl[1]


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
