"""How fast is TensorFlow persistence? Save and restore against np.save.

    .venv/bin/python -m benchmarks.persistence            # `make bench`
    .venv/bin/python -m benchmarks.persistence --quick    # a few minutes
    .venv/bin/python -m benchmarks.persistence --max-mb 256

Everything is measured side by side in one run, so that the ratios compare
like with like on a machine that other jobs share. One module per experiment:

- formats: throughput (MB/s) of save and restore from 1 MB to 1 GB with
  np.save/np.load (np.load also with NumPy's huge-page hint off),
  tf.train.Checkpoint, tf.compat.v1.train.Saver in graph mode, Keras
  .weights.h5 and a SavedModel;
- why: the same bytes written by plain Python in 8 MB chunks, by the bare
  SaveV2 op, by Checkpoint.write with one variable, 1024 variables, an io
  device, sharding, and with fsync on both sides (wall and CPU time);
- async_: how long an asynchronous Checkpoint.write blocks against a
  synchronous one, with TF_ENABLE_ONEDNN_OPTS=0 (this book's setting) and, in
  a child process, TensorFlow's default; and what becomes of a pending write
  when a process exits three ways;
- loading: time to a first prediction from a frozen .pb (with and without
  Grappler), a SavedModel and a checkpoint of the same model.

The timer is chapter 14's (tools/cells/timer.py): cases take turns within
each round, each round starting with another one; best and median of the
rounds. Results go to test-output/bench/ (results.json and PNG plots),
scratch files to a temporary folder removed at the end. The run ends with
checks of the ratios against the bounds in checks.py and exits with status
1, naming each failed check, when one is out of bounds.
"""

import gc
import os
import shutil
from pathlib import Path

# Before any module of the package imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
MB = 2**20
FLOATS_PER_MB = MB // 4
ARRAYS_PER_MODEL = 8  # a "model": eight float32 arrays of equal size


def make_arrays(size_mb, count=ARRAYS_PER_MODEL, seed=0):
    n = max(1, int(size_mb * FLOATS_PER_MB) // count)
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n, dtype=np.float32) for _ in range(count)]


def remove(path):
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def fsync_tree(path):
    """fsync every file under path (or path itself), then its folder."""
    path = Path(path)
    files = (
        [p for p in path.rglob("*") if p.is_file()]
        if path.is_dir()
        else [path]
    )
    for name in [*files, path if path.is_dir() else path.parent]:
        fd = os.open(name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def settle():
    """Between rounds, outside the timed calls: collect garbage (the timer
    keeps the collector off while it times) and flush dirty pages, so that a
    round does not pay for the writes of the previous one."""
    gc.collect()
    os.sync()


def log(message=""):
    print(message, flush=True)
