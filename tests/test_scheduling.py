"""A test that crashes its worker or hangs fails by name, and the run still ends.

A separate pytest runs, with the suite's own scheduling plugin and timeout
method, on a small project of four test files made in tmp_path: one test ends
its worker with a segmentation fault, one sleeps past the timeout, and the
tests after them must still run. Before support/scheduling.py took the crashed
test out of the queue, xdist gave the same test to every replacement worker
and, once it stopped replacing them, waited forever.
"""

import os
import subprocess
import sys
import textwrap

from support.book import ROOT

FILES = {
    "test_crash.py": """
        import os, signal

        def test_before():
            pass

        def test_segfault():
            os.kill(os.getpid(), signal.SIGSEGV)

        def test_after_the_crash():
            pass
    """,
    "test_hang.py": """
        import time

        def test_hangs():
            time.sleep(3600)

        def test_after_the_hang():
            pass
    """,
    "test_a.py": "def test_a():\n    pass\n",
    "test_b.py": "def test_b():\n    pass\n",
}


def test_a_crash_and_a_hang_fail_by_name_and_the_run_ends(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "support.scheduling",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "--dist",
            "loadscope",
            "-o",
            "timeout=5",
            "-o",
            "timeout_method=thread",
            "-rA",
            "-q",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
        capture_output=True,
        text=True,
        timeout=300,  # only if the run hangs: then this test fails
    )
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    assert "FAILED test_crash.py::test_segfault - worker" in out, out[-3000:]
    assert "FAILED test_hang.py::test_hangs - worker" in out, out[-3000:]
    for test in (
        "test_crash.py::test_before",
        "test_crash.py::test_after_the_crash",
        "test_hang.py::test_after_the_hang",
    ):
        assert f"PASSED {test}" in out, out[-3000:]
    assert out.rstrip().splitlines()[-1].startswith("2 failed, 5 passed"), out[
        -3000:
    ]
