"""pytest hooks for the whole repository: a test run must leave the tree as it found it."""

import pathlib
import runpy
import subprocess

import pytest
from support.book import ROOT  # pytest.ini puts tests/ on sys.path


def pytest_configure(config):
    """Refuse, in one line, a Python the tests do not pass on."""
    versions = runpy.run_path(str(ROOT / "tools" / "supported_python.py"))
    line = versions["refusal"]()
    if line:
        raise pytest.UsageError(line)


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


def pytest_collection_modifyitems(items):
    """`make test NB=notebooks/<chapter>.ipynb` selects with `-k <chapter>`;
    a test module about one chapter says which in a module-level NOTEBOOK."""
    for item in items:
        notebook = getattr(getattr(item, "module", None), "NOTEBOOK", None)
        if notebook is not None:
            item.extra_keyword_matches.add(pathlib.Path(notebook).stem)
