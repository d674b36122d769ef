"""pytest plugin: chapter kernels forked from a process that has imported TensorFlow.

Every chapter's first cell imports TensorFlow, about 2.5 s of CPU in each of
17 kernels. A test run that includes chapters starts one process
(support/kernel_zygote.py) that runs the shared setup cell up to its
`import tensorflow`, and nbval's kernels for the chapters are forked from it,
on either xdist worker. The kernel then runs every cell of the chapter, the
setup cell included, and nbval compares the outputs with those stored by
fresh kernels (tools/refresh.py never forks), so a kernel that behaved
differently from a fresh one fails the test.

What a forked kernel cannot show is the import itself: C++ log lines or
warnings it prints would show in a fresh kernel's first cell and fail nbval.
The zygote catches what the import writes to its stdout and stderr and, if
anything, forks no kernel: every chapter then fails with that text. (The setup
cell is every chapter's, stamped from tools/cells/setup.py and held equal by
tests/test_notebooks.py.) Notebooks that do not open with that cell (the
harness's) get fresh kernels.
BOOK_FRESH_KERNELS=1 runs every chapter in a fresh kernel.
Loaded for every run by `-p support.forked_kernels` in pytest.ini.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from jupyter_client.provisioning import local_provisioner

from support.book import ROOT

ZYGOTE = Path(__file__).with_name("kernel_zygote.py")
SETUP_CELL = ROOT / "tools" / "cells" / "setup.py"
SETUP_TAG = "stamp:setup"  # the tag of a copy of SETUP_CELL (tools/nbtool.py)
# How long the zygote may take to import TensorFlow and fork a kernel.
FORK_TIMEOUT = 120

_launch_fresh = local_provisioner.launch_kernel
_chapter = {"path": None}


class ForkedKernel:
    """What jupyter_client needs of a Popen, for a kernel the zygote forked.
    The zygote reaps its children, so an ended kernel's pid is gone at once;
    its exit status is not kept."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(9)

    def terminate(self):
        self.send_signal(15)


class Zygote:
    """The zygote process, held by the pytest process that started it."""

    def __init__(self, setup_cell=SETUP_CELL, env=None):
        self.folder = Path(tempfile.mkdtemp(prefix="book-kernels-"))
        self.address = str(self.folder / "zygote.sock")
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ZYGOTE),
                str(theirs.fileno()),
                self.address,
                str(setup_cell),
            ],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            # What launch_kernel gives a kernel; ipykernel reads it on import.
            env={**(env or os.environ), "JPY_PARENT_PID": str(os.getpid())},
            # Its own session: a signal jupyter_client sends to a kernel's
            # process group never reaches the zygote or pytest.
            start_new_session=True,
        )
        theirs.close()
        self.control = ours

    def close(self):
        self.control.close()  # EOF: the zygote returns and exits
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class Client:
    """One pytest process's connection to the run's zygote."""

    def __init__(self, address):
        self.address = address
        self.channel = None

    def _connect(self):
        connection = socket.socket(socket.AF_UNIX)
        connection.settimeout(FORK_TIMEOUT)
        deadline = time.monotonic() + FORK_TIMEOUT
        while True:  # the zygote binds its socket a moment after it starts
            try:
                connection.connect(self.address)
                return connection.makefile("rwb")
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def fork(self, argv, cwd, env):
        if self.channel is None:
            self.channel = self._connect()
        request = {"argv": argv, "cwd": str(cwd or os.getcwd()), "env": env}
        self.channel.write(json.dumps(request).encode() + b"\n")
        self.channel.flush()
        line = self.channel.readline()
        if not line:
            raise RuntimeError(
                f"the kernel zygote at {self.address} has ended"
            )
        answer = json.loads(line)
        if "printed" in answer:
            raise RuntimeError(
                "the setup cell's statements up to `import tensorflow` printed"
                " this, which a chapter's first cell would show:\n"
                + answer["printed"]
            )
        return ForkedKernel(answer["pid"])

    def close(self):
        if self.channel is not None:
            self.channel.close()


_zygote = []  # the zygote this process started, if any
_client = []  # this process's connection to the run's zygote, if any


def _opens_with_the_setup_cell(path):
    """Only a chapter whose first code cell is the stamped setup cell imports
    what the zygote has imported (the harness's small notebooks do not)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = next((c for c in cells if c["cell_type"] == "code"), None)
        return first is not None and SETUP_TAG in first["metadata"].get(
            "tags", []
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # not a notebook nbval can run either; it will say so


def _forks_this_kernel(cmd):
    path = _chapter["path"]
    return (
        os.environ.get("BOOK_FRESH_KERNELS") != "1"
        and path is not None
        and cmd[1:3] == ["-m", "ipykernel_launcher"]
        and Path(cmd[0]).resolve() == Path(sys.executable).resolve()
        and _opens_with_the_setup_cell(path)
    )


def launch_kernel(
    cmd, stdin=None, stdout=None, stderr=None, env=None, cwd=None, **kw
):
    if not _client or not _forks_this_kernel(cmd):
        return _launch_fresh(
            cmd, stdin, stdout, stderr, env=env, cwd=cwd, **kw
        )
    env = dict(os.environ if env is None else env)
    env["JPY_PARENT_PID"] = str(os.getpid())
    launcher = importlib.util.find_spec("ipykernel_launcher").origin
    return _client[0].fork([launcher, *cmd[3:]], cwd, env)


# What inspect (and tests/test_internals.py) sees: jupyter_client's function.
launch_kernel.__wrapped__ = _launch_fresh


def _notebooks(path):
    if path.suffix == ".ipynb":
        yield path
        return
    for folder, subfolders, files in os.walk(path):
        # Not the virtual environment, the build or the chapters' artifacts.
        subfolders[:] = [
            d
            for d in subfolders
            if not d.startswith((".", "_")) and d != "artifacts"
        ]
        yield from (Path(folder, f) for f in files if f.endswith(".ipynb"))


def _runs_chapters(config):
    """Whether the run's arguments name a chapter (a notebook that opens with
    the setup cell), or a folder holding one."""
    return any(
        _opens_with_the_setup_cell(notebook)
        for arg in config.args
        for notebook in _notebooks(
            Path(config.invocation_params.dir, arg.split("::", 1)[0])
        )
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # nbval starts a chapter's kernel in the setup of its first cell.
    if type(item).__name__ == "IPyNbCell":
        _chapter["path"] = Path(str(item.fspath))
    else:
        _chapter["path"] = None


def pytest_configure(config):
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        address = worker.get("kernel_zygote")
    elif os.environ.get("BOOK_FRESH_KERNELS") != "1" and _runs_chapters(
        config
    ):
        # One zygote for the run, started by the controller (or the only
        # process, without xdist) while the workers start and collect.
        _zygote.append(Zygote())
        address = _zygote[0].address
    else:
        address = None
    if address:
        _client.append(Client(address))
        local_provisioner.launch_kernel = launch_kernel


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_configure_node(node):
    if _zygote:
        node.workerinput["kernel_zygote"] = _zygote[0].address


def pytest_unconfigure(config):
    local_provisioner.launch_kernel = _launch_fresh
    while _client:
        _client.pop().close()
    while _zygote:
        _zygote.pop().close()
