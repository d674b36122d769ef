"""pytest plugin: how xdist spreads the suite over the workers, and what it does
when a worker dies. Loaded for every run by `-p support.scheduling` in
pytest.ini."""

import pytest

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
    "notebooks/18-taking-a-model-onward.ipynb",
    "tests/test_cheatsheet.py",
    "tests/test_compatibility.py",
    "notebooks/16-checkpoints-across-workers.ipynb",
    "notebooks/17-files-you-did-not-write.ipynb",
    "notebooks/14-persistence-speed.ipynb",
    "tests/test_resume_kills.py",
    "tests/test_harness.py",
    "tests/test_figures.py",
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
        "tests/test_bundle_reader.py",
        "tests/test_cheatsheet.py",
        "tests/test_compatibility.py",
        "tests/test_convert.py",
        "tests/test_fixtures.py",
        "tests/test_failures.py",
        "tests/test_internals.py",
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


@pytest.hookimpl(optionalhook=True)  # a run with -p no:xdist has no such hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return _GROUP.get(path) or super()._split_scope(nodeid)

        def remove_node(self, node):
            # xdist 3.8 puts a crashed worker's unfinished scope back in the
            # queue with the test that crashed it, so a test that always
            # crashes (a segfault, or pytest-timeout ending a hung test)
            # crashes every replacement worker, until xdist stops replacing
            # them and the run waits forever. Here the crashed test counts
            # as done (xdist reports it as failed, by name); the rest of its
            # scope runs on.
            workload = self.assigned_work.pop(node)
            if not self._pending_of(workload):
                return None
            crashitem = next(
                nodeid
                for unit in workload.values()
                for nodeid, completed in unit.items()
                if not completed
            )
            for unit in workload.values():
                if crashitem in unit:
                    unit[crashitem] = True
            self.workqueue.update(
                (scope, unit)
                for scope, unit in workload.items()
                if not all(unit.values())
            )
            for other in self.assigned_work:
                self._reschedule(other)
            return crashitem

    return Scheduling(config, log)
