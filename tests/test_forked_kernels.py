"""The kernel zygote (tests/support/kernel_zygote.py) refuses what it cannot
serve, with a message. That its kernels behave as fresh ones is what nbval
checks on every chapter forked from it."""

import os
import subprocess
import sys

import pytest
from support import kernel_zygote
from support.forked_kernels import ZYGOTE, Client, Zygote


@pytest.mark.parametrize(
    "args", [[], ["3"], ["not-a-descriptor", "/tmp/socket", "setup.py"]]
)
def test_bad_arguments_get_the_usage_line(args):
    result = subprocess.run(
        [sys.executable, str(ZYGOTE), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert (
        "usage: kernel_zygote.py CONTROL_FD SOCKET_PATH SETUP_CELL"
        in result.stderr
    )


def test_a_setup_cell_without_the_import_is_refused(tmp_path):
    cell = tmp_path / "setup.py"
    cell.write_text('import os\nos.environ["X"] = "1"\n')
    with pytest.raises(SystemExit, match="no `import tensorflow` statement"):
        kernel_zygote.import_like_the_setup_cell(cell)


def test_a_chapter_kernel_is_refused_when_the_import_prints(tmp_path):
    """A fresh kernel would show in the chapter's first cell what the import
    writes, C++ log lines included; the zygote forks nothing then and says
    what was written. A stand-in `tensorflow` module writes a log line."""
    stand_in = tmp_path / "modules"
    stand_in.mkdir()
    (stand_in / "tensorflow.py").write_text(
        "import os\nos.write(2, b'I0000 port.cc:153] oneDNN custom operations are on\\n')\n"
    )
    cell = tmp_path / "setup.py"
    cell.write_text("import os\n\nimport tensorflow as tf\n")
    env = {**os.environ, "PYTHONPATH": str(stand_in)}
    zygote = Zygote(setup_cell=cell, env=env)
    client = Client(zygote.address)
    try:
        with pytest.raises(RuntimeError) as error:
            client.fork(["launcher", "-f", "kernel.json"], tmp_path, {})
    finally:
        client.close()
        zygote.close()
    assert "up to `import tensorflow` printed" in str(error.value)
    assert "oneDNN custom operations are on" in str(error.value)
    assert zygote.process.returncode == 0


@pytest.mark.skipif(
    sys.version_info < (3, 12),
    reason="Python warns of fork() in a multi-threaded process from 3.12 on",
)
def test_the_zygote_forks_a_single_threaded_process(tmp_path):
    """What the zygote holds when it forks: the setup cell's imports up to
    `import tensorflow`, then ipykernel. NumPy's OpenBLAS starts a thread at
    import (2 OS threads then), but its fork handler ends that thread before
    fork() copies the process, so Python 3.12+ finds one thread and does not
    warn. Any other thread alive at fork, one TensorFlow started say, would
    show as that DeprecationWarning here."""
    setup_cell = (
        kernel_zygote.pathlib.Path(ZYGOTE).parents[2]
        / "tools"
        / "cells"
        / "setup.py"
    )
    script = (
        "import os, pathlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import kernel_zygote\n"
        "kernel_zygote.import_like_the_setup_cell(pathlib.Path(sys.argv[2]))\n"
        "import ipykernel.kernelapp\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "always::DeprecationWarning",
            "-c",
            script,
            str(ZYGOTE.parent),
            str(setup_cell),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "is multi-threaded, use of fork()" not in result.stderr


def test_the_zygote_removes_its_socket_folder_when_its_starter_dies(tmp_path):
    """If the pytest process that started the zygote is killed, it never
    calls close(); the zygote sees EOF and removes the folder itself."""
    stand_in = tmp_path / "modules"
    stand_in.mkdir()
    (stand_in / "tensorflow.py").write_text("")
    cell = tmp_path / "setup.py"
    cell.write_text("import tensorflow\n")
    zygote = Zygote(
        setup_cell=cell, env={**os.environ, "PYTHONPATH": str(stand_in)}
    )
    client = Client(zygote.address)
    client._connect().close()  # the socket exists once it connects
    assert zygote.folder.is_dir()
    zygote.control.close()  # what the starter's death does
    zygote.process.wait(timeout=60)
    assert not zygote.folder.exists()
