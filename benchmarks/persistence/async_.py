"""Asynchronous checkpointing: how long write() blocks the caller, what the
next training step pays, and what a pending write leaves at exit."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import MB, ROOT, log, make_arrays, remove
from .timer import Timings, measure, summary


def _timings(samples):
    timings = Timings()
    timings.wall = [wall for wall, _ in samples]
    timings.cpu = [cpu for _, cpu in samples]
    return summary(timings)


def async_benchmark(size_mb, workdir, rounds):
    import tensorflow as tf

    arrays = make_arrays(size_mb, seed=2)
    real_mb = sum(a.nbytes for a in arrays) / MB
    variables = [tf.Variable(a) for a in arrays]

    @tf.function
    def train_step():
        # Updates every weight in place, as an optimizer does.
        for v in variables:
            v.assign_sub(1e-3 * v)

    sync_checkpoint = tf.train.Checkpoint(weights=variables)
    async_checkpoint = tf.train.Checkpoint(weights=variables)
    async_options = tf.train.CheckpointOptions(enable_async=True)

    train_step()
    sync_checkpoint.write(str(workdir / "async-warm-sync" / "ckpt"))
    remove(workdir / "async-warm-sync")
    # The first async write creates the host copies, the second traces the
    # function that refreshes them (AsyncCheckpointHelper._copy_to_cpu).
    first_blocks = []
    for i in range(2):
        prefix = workdir / f"async-warm-{i}" / "ckpt"
        first_blocks.append(
            measure(
                lambda prefix=prefix: async_checkpoint.write(
                    str(prefix), options=async_options
                )
            )[0]
        )
        async_checkpoint.sync()
        remove(prefix.parent)

    # The steps of a training loop happen in a fixed order, so these are
    # timed one by one rather than in rotating turns.
    samples = {
        name: []
        for name in (
            "train_step_alone",
            "sync_write",
            "async_block",
            "train_step_after_async_write",
        )
    }
    until_synced, present_on_return = [], []
    restored_ok = False
    for rep in range(rounds):
        os.sync()
        samples["train_step_alone"].append(measure(train_step))
        prefix = workdir / f"sync-{rep}" / "ckpt"
        samples["sync_write"].append(
            measure(lambda prefix=prefix: sync_checkpoint.write(str(prefix)))
        )
        remove(prefix.parent)

        train_step()
        prefix = workdir / f"async-{rep}" / "ckpt"
        last = rep == rounds - 1
        at_write = [v.numpy() for v in variables] if last else None
        started = time.perf_counter()
        samples["async_block"].append(
            measure(
                lambda prefix=prefix: async_checkpoint.write(
                    str(prefix), options=async_options
                )
            )
        )
        present_on_return.append(Path(f"{prefix}.index").exists())
        # This step runs while the write is still going on.
        samples["train_step_after_async_write"].append(measure(train_step))
        async_checkpoint.sync()
        until_synced.append(time.perf_counter() - started)
        if last:
            check = tf.train.Checkpoint(
                weights=[tf.Variable(tf.zeros_like(v)) for v in variables]
            )
            # The checkpoint also holds save_counter, which check lacks.
            check.read(str(prefix)).assert_existing_objects_matched()
            restored_ok = all(
                np.array_equal(r.numpy(), a)
                for r, a in zip(check.weights, at_write)
            )
            del check, at_write
        remove(prefix.parent)

    # Two async writes back to back: the second waits for the first.
    first, second = workdir / "b2b-1" / "ckpt", workdir / "b2b-2" / "ckpt"
    async_checkpoint.write(str(first), options=async_options)
    back_to_back = measure(
        lambda: async_checkpoint.write(str(second), options=async_options)
    )[0]
    async_checkpoint.sync()
    remove(first.parent)
    remove(second.parent)

    out = {name: _timings(values) for name, values in samples.items()}
    sync_s, block_s = out["sync_write"], out["async_block"]
    out.update(
        size_mb=real_mb,
        rounds=rounds,
        TF_ENABLE_ONEDNN_OPTS=os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        async_until_synced={
            "best": min(until_synced),
            "median": sorted(until_synced)[len(until_synced) // 2],
        },
        first_two_async_blocks_s=first_blocks,
        back_to_back_second_block_s=back_to_back,
        block_fraction_best=block_s["best"] / sync_s["best"],
        block_fraction_median=block_s["median"] / sync_s["median"],
        index_file_present_when_write_returned=present_on_return,
        restored_values_match_after_sync=bool(restored_ok),
    )
    return out


def async_in_child(size_mb, rounds, onednn):
    """async_benchmark in a fresh process with TF_ENABLE_ONEDNN_OPTS=onednn:
    the setting is read when TensorFlow is imported."""
    with tempfile.TemporaryDirectory(
        prefix="persistence-bench-child-"
    ) as folder:
        out = Path(folder) / "async.json"
        env = dict(
            os.environ, TF_ENABLE_ONEDNN_OPTS=onednn, TF_CPP_MIN_LOG_LEVEL="3"
        )
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.persistence",
                "--async-child",
                str(out),
                "--async-mb",
                str(size_mb),
                "--async-rounds",
                str(rounds),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if child.returncode != 0:
            raise RuntimeError(f"async child failed:\n{child.stderr[-3000:]}")
        return json.loads(out.read_text())


ASYNC_CHILD = r"""
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, tensorflow as tf
prefix, how, size_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
weights = tf.Variable(tf.fill([int(size_mb * 262144)], 0.5))
checkpoint = tf.train.Checkpoint(weights=weights)
checkpoint.write(prefix, options=tf.train.CheckpointOptions(enable_async=True))
if how == "os._exit":
    os._exit(0)       # skips atexit handlers, like a crash or a kill
if how == "sync":
    checkpoint.sync()
# "return": the interpreter exits normally and runs its atexit handlers
"""


def async_exit_children(workdir, size_mb):
    """What a pending async write leaves behind when the process exits in
    three ways."""
    import tensorflow as tf

    script = workdir / "async_child.py"
    script.write_text(ASYNC_CHILD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    children = {}
    for how in ("return", "os._exit", "sync"):
        prefix = workdir / f"exit-{how}" / "ckpt"
        children[how] = (
            prefix,
            subprocess.Popen(
                [sys.executable, str(script), str(prefix), how, str(size_mb)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
            ),
        )
    out = {}
    for how, (prefix, child) in children.items():
        try:
            child.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
        complete = False
        if Path(f"{prefix}.index").exists():
            try:
                values = tf.train.load_checkpoint(str(prefix)).get_tensor(
                    "weights/.ATTRIBUTES/VARIABLE_VALUE"
                )
                complete = values.size == int(size_mb * 262144) and bool(
                    np.all(values == 0.5)
                )
            except (tf.errors.OpError, ValueError):
                complete = False
        out[how] = {
            "exit_code": child.returncode,
            "checkpoint_complete": complete,
            "files": sorted(p.name for p in prefix.parent.glob("*"))
            if prefix.parent.exists()
            else [],
        }
        remove(prefix.parent)
    return out


def print_async(result, exits):
    s, b = result["sync_write"], result["async_block"]
    log(
        f"\nASYNC: {result['size_mb']:.0f} MB model, {result['rounds']} "
        f"saves each, TF_ENABLE_ONEDNN_OPTS={result['TF_ENABLE_ONEDNN_OPTS']}"
    )
    rows = [
        ("synchronous Checkpoint.write", s),
        ("async write blocks the caller", b),
        ("async write until sync() returns", result["async_until_synced"]),
        ("training step alone", result["train_step_alone"]),
        (
            "training step during the write",
            result["train_step_after_async_write"],
        ),
    ]
    for label, t in rows:
        log(
            f"  {label:33}best {t['best']:7.3f} s   "
            f"median {t['median']:7.3f} s"
        )
    log(
        f"  {'blocking / synchronous':33}best "
        f"{result['block_fraction_best']:7.1%}     median "
        f"{result['block_fraction_median']:7.1%}"
    )
    log(
        "  first two async writes blocked   "
        + ", ".join(f"{x:.3f} s" for x in result["first_two_async_blocks_s"])
    )
    log(
        "  a second write right after one   "
        f"{result['back_to_back_second_block_s']:.3f} s"
    )
    log(
        "  .index present when write() returned: "
        f"{result['index_file_present_when_write_returned']}"
    )
    log(
        "  values restored after sync() match: "
        f"{result['restored_values_match_after_sync']}"
    )
    for how, e in (exits or {}).items():
        log(
            f"  child exits via {how:9}: exit code {e['exit_code']}, "
            f"checkpoint complete: {e['checkpoint_complete']}, "
            f"files: {e['files']}"
        )
