"""pytest hooks for the whole repository: a test run must leave the tree as it found it."""

import subprocess

import pytest
from support.book import ROOT  # pytest.ini puts tests/ on sys.path


def _is_controller(config):
    return not hasattr(config, "workerinput")


def _git_status():
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(out.stdout.splitlines())


def pytest_sessionstart(session):
    if _is_controller(session.config):
        session.config._git_status_before = _git_status()


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    before = getattr(config, "_git_status_before", None)
    if not _is_controller(config) or before is None:
        return
    new = sorted((_git_status() or set()) - before)
    if new:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {line}" for line in new)
        message = f"the test run changed the working tree (artifacts belong in artifacts/):\n{lines}"
        if reporter:
            reporter.write_sep("=", "tree not clean", red=True)
            reporter.write_line(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The slowest modules and chapters, longest first (from `pytest --durations`):
# xdist hands out whole modules and notebooks (--dist loadscope) in collection
# order, so starting the long ones first lets both workers finish together
# instead of one waiting for the other's last long chapter.
SLOWEST_FIRST = (
    # Builds the site (both editions, one process each) while the other worker
    # runs a chapter. A group of SAME_WORKER below is one unit of work,
    # scheduled where the first of its modules stands.
    "tests/test_browser.py",
    "tests/test_browser_zh.py",
    "notebooks/15-resume-exactly.ipynb",
    "notebooks/13-when-persistence-fails.ipynb",
    "tests/test_cheatsheet.py",
    "tests/test_compatibility.py",
    "notebooks/16-checkpoints-across-workers.ipynb",
    "notebooks/14-persistence-speed.ipynb",
    "tests/test_resume_kills.py",
    "tests/test_harness.py",
    "tests/test_i18n.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        if path in SLOWEST_FIRST:
            return SLOWEST_FIRST.index(path)
        return len(SLOWEST_FIRST)

    # A stable sort: the cells of one notebook keep their order.
    items.sort(key=rank)


# Test modules that share something costly in one process, so one xdist
# worker runs all of each group. The in-process TensorFlow: modules that import
# it into the pytest process itself (test_failures.py by running chapter 13's
# helper cells); each worker that runs one pays for the import (about 4 s of
# CPU with Keras). The site in a browser: one Chromium and one server
# (session fixtures in tests/conftest.py) serve both editions' tests.
SAME_WORKER = {
    "tests: in-process TensorFlow": (
        "tests/test_cheatsheet.py",
        "tests/test_compatibility.py",
        "tests/test_fixtures.py",
        "tests/test_failures.py",
        "tests/test_tfopen.py",
    ),
    "tests: the site in a browser": (
        "tests/test_browser.py",
        "tests/test_browser_zh.py",
    ),
}
_GROUP = {
    path: group for group, paths in SAME_WORKER.items() for path in paths
}


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return _GROUP.get(path) or super()._split_scope(nodeid)

    return Scheduling(config, log)
