"""The kernel zygote (tests/support/kernel_zygote.py) refuses what it cannot
serve, with a message. That its kernels behave as fresh ones is what nbval
checks on every chapter it runs in one."""

import subprocess
import sys

import pytest
from support import kernel_zygote
from support.forked_kernels import ZYGOTE


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
