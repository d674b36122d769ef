"""Chapter 13's crash experiments, smaller: kill a saving process with SIGKILL and look at the disk.

- tf.train.CheckpointManager: after every kill, the checkpoint that the `checkpoint` file names
  restores and holds one whole save, no older than the last step the child reported.
- Keras model.save("x.keras") writes in place: a kill mid-save leaves a file that does not load.
- The chapter's save_atomically (temporary name + os.replace): a kill mid-save never does.

Everything runs in pytest's tmp_path, with the scripts taken from the notebook (see crash_lab).
POSIX only: the scripts fork, and the tests send SIGKILL.
"""

import os
import signal
import time
import zipfile

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="the experiments fork and use SIGKILL"
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from crash_lab import (
    Lives,
    kill_mid_save,
    progress_lines,
    wait_until,
    write_script,
)  # noqa: E402

SIZE = 250_000  # checkpoint_lives.py saves this many numbers, each equal to the step
KILLS = 5


def test_checkpoint_manager_survives_sigkill(tmp_path):
    lives = Lives(write_script("checkpoint_lives.py", tmp_path))
    folder, progress = tmp_path / "training", tmp_path / "progress.txt"
    try:
        for life in range(KILLS):
            reported = len(progress_lines(progress))
            pid = lives.start(folder, progress)
            wait_until(lambda: len(progress_lines(progress)) > reported)
            time.sleep(
                0.02 * (life * 7 % 10)
            )  # kill at a different moment each life
            assert lives.kill(pid) == -signal.SIGKILL, (
                f"life {life}: the child did not die of SIGKILL"
            )

            prefix = tf.train.latest_checkpoint(str(folder))
            assert prefix is not None, (
                f"kill {life}: the checkpoint file names no intact checkpoint"
            )
            weights, step = (
                tf.Variable(tf.zeros([SIZE])),
                tf.Variable(0, dtype=tf.int64),
            )
            tf.train.Checkpoint(weights=weights, step=step).read(
                prefix
            ).expect_partial()
            restored = int(step.numpy())
            assert prefix.endswith(f"-{restored}"), (
                f"kill {life}: {prefix} holds step {restored}"
            )
            assert np.all(weights.numpy() == restored), (
                f"kill {life}: {prefix} is not one whole save"
            )
            last_reported = int(progress_lines(progress)[-1])
            assert last_reported <= restored <= last_reported + 1, (
                f"kill {life}: restored step {restored}, but the child had reported {last_reported}"
            )
    finally:
        lives.close()


@pytest.fixture(scope="module")
def keras_lives(tmp_path_factory):
    lives = Lives(
        write_script(
            "keras_lives.py", tmp_path_factory.mktemp("keras-launcher")
        )
    )
    yield lives
    lives.close()


def test_keras_save_in_place_leaves_a_broken_file(tmp_path, keras_lives):
    target, progress = tmp_path / "model.keras", tmp_path / "progress.txt"
    for _ in range(
        5
    ):  # on a busy machine the kill may arrive just after a save ended
        assert (
            kill_mid_save(keras_lives, "in-place", target, target, progress)
            == -signal.SIGKILL
        )
        if not zipfile.is_zipfile(target):
            break
    assert target.exists() and not zipfile.is_zipfile(target), (
        "five kills mid-save left a complete file"
    )
    with pytest.raises(ValueError, match="File not found: filepath="):
        keras.models.load_model(target)


def test_save_atomically_never_leaves_a_broken_file(tmp_path, keras_lives):
    target, partial = (
        tmp_path / "model.keras",
        tmp_path / "model.partial.keras",
    )
    progress = tmp_path / "progress.txt"
    for life in range(3):
        exit_code = kill_mid_save(
            keras_lives,
            "atomic",
            target,
            partial,
            progress,
            delay=0.013 * life,
        )
        assert exit_code == -signal.SIGKILL
        assert zipfile.is_zipfile(target), (
            f"kill {life}: model.keras is not a complete zip archive"
        )
        model = keras.models.load_model(target)
        assert [tuple(w.shape) for w in model.weights] == [
            (1000, 1000),
            (1000,),
        ]
