"""Why Checkpoint.write is slower than np.save: the same bytes, written in
steps from a plain Python write to a full checkpoint."""

import functools

import numpy as np

from . import MB, fsync_tree, log, make_arrays, remove, settle
from .timer import side_by_side, summary

MANY_VARIABLES = 1024


def decomposition(size_mb, workdir, rounds):
    import tensorflow as tf

    array = make_arrays(size_mb, count=1, seed=1)[0]
    real_mb = array.nbytes / MB
    constant = tf.constant(array)
    one = tf.train.Checkpoint(w=tf.Variable(array))
    many = tf.train.Checkpoint(
        w=[tf.Variable(part) for part in np.split(array, MANY_VARIABLES)]
    )
    shard_mb = max(1, int(size_mb) // 8)
    io_device = tf.train.CheckpointOptions(
        experimental_io_device="/job:localhost/device:CPU:0"
    )
    sharded = tf.train.CheckpointOptions(
        experimental_sharding_callback=(
            tf.train.experimental.MaxShardSizePolicy(
                max_shard_size=shard_mb * MB
            )
        )
    )

    def python_chunked(folder):
        view = memoryview(array).cast("B")
        step = 8 * MB
        with open(folder / "raw.bin", "wb") as f:
            for offset in range(0, len(view), step):
                f.write(view[offset : offset + step])

    def save_v2(folder):
        tf.raw_ops.SaveV2(
            prefix=str(folder / "raw"),
            tensor_names=["x"],
            shape_and_slices=[""],
            tensors=[constant],
        )

    def numpy_fsync(folder):
        np.save(folder / "a.npy", array)
        fsync_tree(folder)

    def checkpoint_fsync(folder):
        one.write(str(folder / "ckpt"))
        fsync_tree(folder)

    cases = {
        "numpy": ("np.save", lambda d: np.save(d / "a.npy", array)),
        "python_8mb_chunks": (
            "Python file.write in 8 MB chunks",
            python_chunked,
        ),
        "savev2_op": ("bare SaveV2 op (TF's C++ writer)", save_v2),
        "checkpoint_1_var": (
            "Checkpoint.write, 1 variable",
            lambda d: one.write(str(d / "ckpt")),
        ),
        "checkpoint_many_vars": (
            f"Checkpoint.write, {MANY_VARIABLES} variables",
            lambda d: many.write(str(d / "ckpt")),
        ),
        "checkpoint_io_device": (
            "Checkpoint.write, experimental_io_device=CPU",
            lambda d: one.write(str(d / "ckpt"), options=io_device),
        ),
        "checkpoint_sharded": (
            f"Checkpoint.write, MaxShardSizePolicy({shard_mb} MB)",
            lambda d: one.write(str(d / "ckpt"), options=sharded),
        ),
        "numpy_fsync": ("np.save + fsync", numpy_fsync),
        "checkpoint_fsync": ("Checkpoint.write + fsync", checkpoint_fsync),
    }
    folders = {key: workdir / f"why-{key}" for key in cases}
    for folder in folders.values():
        folder.mkdir(parents=True)
    timings = side_by_side(
        {
            key: functools.partial(write, folders[key])
            for key, (_, write) in cases.items()
        },
        rounds,
        before_round=settle,
    )
    shards = len(list(folders["checkpoint_sharded"].glob("ckpt.data-*")))
    for folder in folders.values():
        remove(folder)

    out = {
        "size_mb": real_mb,
        "rounds": rounds,
        "shards_written": shards,
        "cases": {},
    }
    for key, (label, _) in cases.items():
        base = timings["numpy_fsync" if key.endswith("fsync") else "numpy"]
        out["cases"][key] = dict(
            summary(timings[key]),
            label=label,
            mb_per_s_best=real_mb / timings[key].best,
            vs_numpy_best=base.best / timings[key].best,
            cpu_ms_per_gb=1000 * timings[key].cpu_best * 1024 / real_mb,
        )
    cases_out = out["cases"]
    out["savev2_cpu_over_plain_writes"] = (
        cases_out["savev2_op"]["cpu_best"]
        / cases_out["python_8mb_chunks"]["cpu_best"]
    )
    return out


def print_decomposition(result):
    log(
        f"\nWHY SLOWER: writing {result['size_mb']:.0f} MB, best of "
        f"{result['rounds']} (fsync rows compare with np.save + fsync)"
    )
    log(
        f"{'':48}{'MB/s':>8}{'vs numpy':>10}{'CPU ms/GB':>11}"
        f"{'wall median s':>15}"
    )
    for s in result["cases"].values():
        log(
            f"{s['label']:48}{s['mb_per_s_best']:8.0f}"
            f"{s['vs_numpy_best']:10.2f}{s['cpu_ms_per_gb']:11.0f}"
            f"{s['median']:15.3f}"
        )
    log(
        f"  sharded write produced {result['shards_written']} data files; "
        f"SaveV2 used {result['savev2_cpu_over_plain_writes']:.2f}x the CPU "
        "time of the plain writes"
    )
