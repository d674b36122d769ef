"""How fast is TensorFlow persistence? Save and restore against np.save.

    .venv/bin/python benchmarks/persistence_speed.py           # `make bench`
    .venv/bin/python benchmarks/persistence_speed.py --quick   # ~2 minutes
    .venv/bin/python benchmarks/persistence_speed.py --max-mb 256

Everything is measured side by side in one run, so that the ratios compare
like with like on a machine that other jobs share:

1. Throughput (MB/s) of save and restore from 1 MB to 1 GB: np.save/np.load
   (the practical limit; np.load also with NumPy's huge-page hint off),
   tf.train.Checkpoint write/read, tf.compat.v1.train.Saver in graph mode,
   Keras save_weights/load_weights (.weights.h5) and a SavedModel
   (tf.saved_model.save/load). The methods take turns within each round, each
   round starting with another one, so a busy moment hits all of them alike.
2. Why Checkpoint.write is slower: the same bytes written by plain Python in
   8 MB chunks (TF's system calls), by the bare SaveV2 op (TF's C++ writer
   without Python around it), by Checkpoint.write with one variable, 1024
   variables, an io device, sharding, and with fsync on both sides. Wall time
   and the process's CPU time are both recorded.
3. Async checkpointing: how long Checkpoint.write blocks a training loop with
   CheckpointOptions(enable_async=True) against a synchronous write, what the
   next training step pays, with TF_ENABLE_ONEDNN_OPTS=0 (this book's setting)
   and, in a child process, with TensorFlow's default; and, in three more
   child processes, what becomes of a pending write at exit.
4. Time to a first prediction from a frozen .pb (with and without Grappler),
   a SavedModel and a checkpoint of the same model.

Timings are best and median of several rounds; throughput uses the best
(noise only ever adds time). Results go to test-output/bench/ (results.json
and PNG plots), scratch files to a temporary folder removed at the end. The
run ends with checks of the ratios against the bounds below and exits with
status 1, naming each failed check, when one is out of bounds.
"""

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
FLOATS_PER_MB = MB // 4
ARRAYS_PER_MODEL = 8  # the sweep's "model": eight float32 arrays of equal size

# Bounds the checks hold the measurements to, set from runs on a shared 2-core
# VM (see the README) with margin, so that a busy machine does not fail them.
# Checkpoint.write throughput / np.save's: up to 256 MB, and above, where the
# kernel's page-cache allocation dominates both writers.
WRITE_RATIO = (0.05, 0.7)
LARGE_WRITE_RATIO = (0.1, 2.5)
# Checkpoint.read throughput / np.load's, up to 16 MB (arrays under 4 MB, so
# NumPy's huge-page hint plays no part).
MAX_SMALL_READ_RATIO = 0.8
# CPU time of the SaveV2 op / of a plain Python write of the same bytes.
MIN_SAVEV2_CPU_RATIO = 1.5
# Time to write 1024 variables / 1 variable of the same bytes.
MIN_MANY_VARIABLES_RATIO = 1.5
# Time an async write() blocks / a synchronous write, for models of at least
# MIN_ASYNC_MODEL_MB: with oneDNN on (TF's default), and off (this book).
MAX_ASYNC_BLOCK_FRACTION = 0.05
MAX_ASYNC_BLOCK_FRACTION_ONEDNN_OFF = 0.5
MIN_ASYNC_MODEL_MB = 256
# Time to a first prediction, for models of at least MIN_LOAD_CHECK_MB (a
# frozen .pb of a tiny model loads as fast as the others): frozen .pb / the
# slower of SavedModel and checkpoint, and frozen .pb / frozen .pb with
# Grappler off.
MIN_FROZEN_SLOWDOWN = 3.0
MIN_GRAPPLER_OFF_SPEEDUP = 2.0
MIN_LOAD_CHECK_MB = 64


# ------------------------------------------------------ timing


def measure(fn):
    """Run fn once; return (wall seconds, CPU seconds of this process)."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def summary(samples):
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    return {
        "wall": walls,
        "cpu": cpus,
        "best": min(walls),
        "median": statistics.median(walls),
        "cpu_best": min(cpus),
        "cpu_median": statistics.median(cpus),
    }


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
    for name in files:
        fd = os.open(name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(path if path.is_dir() else path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def log(message=""):
    print(message, flush=True)


# ------------------------------------------------- the methods


def make_arrays(size_mb, count=ARRAYS_PER_MODEL, seed=0):
    n = max(1, int(size_mb * FLOATS_PER_MB) // count)
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n, dtype=np.float32) for _ in range(count)]


class Method:
    """One way to persist the same arrays: save(folder), restore(folder), check()."""

    label = ""

    def close(self):
        pass


class NumpyFiles(Method):
    label = "np.save / np.load"

    def __init__(self, arrays):
        self.arrays = arrays
        self.loaded = None

    def save(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        for i, array in enumerate(self.arrays):
            np.save(folder / f"a{i}.npy", array)

    def restore(self, folder):
        self.loaded = [
            np.load(folder / f"a{i}.npy") for i in range(len(self.arrays))
        ]

    def values(self):
        return self.loaded


class NumpyFilesNoHugePages(NumpyFiles):
    """np.load with NumPy's transparent-huge-page hint off.

    NumPy asks the kernel for huge pages for every array of 4 MB or more. That
    makes page faults cheaper when the kernel has huge pages free, and much
    dearer when it must compact memory first; from 256 MB up, np.load's speed
    then depends on the state of the machine's memory. The save is the same
    np.save as above.
    """

    label = "np.load, NumPy's huge-page hint off"

    def restore(self, folder):
        from numpy._core.multiarray import _set_madvise_hugepage

        previous = _set_madvise_hugepage(False)
        try:
            super().restore(folder)
        finally:
            _set_madvise_hugepage(previous)


class CheckpointWriteRead(Method):
    label = "tf.train.Checkpoint write / read"

    def __init__(self, variables, options=None, label=None):
        import tensorflow as tf

        self.variables = variables
        self.checkpoint = tf.train.Checkpoint(weights=list(variables))
        self.options = options
        if label:
            self.label = label

    def save(self, folder):
        self.checkpoint.write(str(folder / "ckpt"), options=self.options)

    def restore(self, folder):
        self.checkpoint.read(
            str(folder / "ckpt"), options=self.options
        ).assert_consumed()

    def values(self):
        return [v.numpy() for v in self.variables]


class GraphSaver(Method):
    label = "tf1.train.Saver (graph mode)"

    def __init__(self, arrays):
        import tensorflow as tf

        tf1 = tf.compat.v1
        self.graph = tf.Graph()
        with self.graph.as_default():
            # Initial values are fed, so that the graph (and the .meta file) holds no values.
            feeds = [tf1.placeholder(tf.float32, a.shape) for a in arrays]
            self.variables = [
                tf1.Variable(f, name=f"w{i}") for i, f in enumerate(feeds)
            ]
            self.saver = tf1.train.Saver(self.variables, max_to_keep=None)
            init = tf1.global_variables_initializer()
        self.session = tf1.Session(graph=self.graph)
        self.session.run(init, dict(zip(feeds, arrays)))

    def save(self, folder):
        # Outside its graph, Saver would take the eager code path and fail.
        with self.graph.as_default():
            self.saver.save(
                self.session, str(folder / "model.ckpt"), write_state=False
            )

    def restore(self, folder):
        with self.graph.as_default():
            self.saver.restore(self.session, str(folder / "model.ckpt"))

    def values(self):
        return self.session.run(self.variables)

    def close(self):
        self.session.close()


class KerasWeights(Method):
    label = "Keras save_weights / load_weights (.weights.h5)"

    def __init__(self, arrays):
        import keras

        class Weights(keras.layers.Layer):
            def __init__(self, shapes, **kwargs):
                super().__init__(**kwargs)
                self.blobs = [
                    self.add_weight(shape=s, initializer="zeros", name=f"w{i}")
                    for i, s in enumerate(shapes)
                ]

            def call(self, x):
                return x

        inputs = keras.Input(shape=(1,))
        self.model = keras.Model(
            inputs, Weights([a.shape for a in arrays])(inputs)
        )
        self.model.set_weights(arrays)

    def save(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_weights(str(folder / "model.weights.h5"))

    def restore(self, folder):
        self.model.load_weights(str(folder / "model.weights.h5"))

    def values(self):
        return self.model.get_weights()


class SavedModelFormat(Method):
    label = "SavedModel (tf.saved_model.save / load)"

    def __init__(self, variables):
        import tensorflow as tf

        self.module = tf.Module()
        self.module.weights_ = list(variables)
        self.module.first_values = tf.function(
            lambda: tf.stack([w[0] for w in self.module.weights_]),
            input_signature=[],
        )
        self.loaded = None

    def save(self, folder):
        import tensorflow as tf

        tf.saved_model.save(self.module, str(folder / "savedmodel"))

    def restore(self, folder):
        import tensorflow as tf

        self.loaded = tf.saved_model.load(str(folder / "savedmodel"))

    def values(self):
        return [w.numpy() for w in self.loaded.weights_]


# ----------------------------------------------- 1. throughput


def reps_for(size_mb, quick):
    if quick:
        return 3
    return (
        7
        if size_mb <= 16
        else 5
        if size_mb <= 64
        else 4
        if size_mb <= 256
        else 3
    )


def sweep(sizes, workdir, quick):
    import tensorflow as tf

    results = []
    for size in sizes:
        started = time.perf_counter()
        arrays = make_arrays(size)
        real_mb = sum(a.nbytes for a in arrays) / MB
        variables = [tf.Variable(a) for a in arrays]
        methods = {
            "numpy": NumpyFiles(arrays),
            "numpy_no_hugepages": NumpyFilesNoHugePages(arrays),
            "checkpoint": CheckpointWriteRead(variables),
            "saver": GraphSaver(arrays),
            "keras_h5": KerasWeights(arrays),
            "savedmodel": SavedModelFormat(variables),
        }
        reps = reps_for(size, quick)
        samples = {key: {"save": [], "restore": []} for key in methods}
        # The first round warms up (tracing, caches) and is dropped. Each
        # round starts with no dirty pages left by the previous one, and with
        # another method first.
        for rep in range(reps + 1):
            os.sync()
            keys = list(methods)
            keys = keys[rep % len(keys) :] + keys[: rep % len(keys)]
            for key in keys:
                method = methods[key]
                folder = workdir / f"{key}-{rep}"
                folder.mkdir(parents=True)
                save = measure(lambda: method.save(folder))
                restore = measure(lambda: method.restore(folder))
                # The last round also checks that the values came back.
                if rep == reps:
                    for want, got in zip(arrays, method.values()):
                        if not np.array_equal(want, got):
                            raise AssertionError(
                                f"{method.label} restored other values at {size} MB"
                            )
                remove(folder)
                if rep:
                    samples[key]["save"].append(save)
                    samples[key]["restore"].append(restore)
        for method in methods.values():
            method.close()
        row = {"size_mb": real_mb, "reps": reps, "methods": {}}
        for key, method in methods.items():
            entry = {"label": method.label}
            for op in ("save", "restore"):
                s = summary(samples[key][op])
                s["mb_per_s_best"] = real_mb / s["best"]
                s["mb_per_s_median"] = real_mb / s["median"]
                # Ratios against numpy: of the best times, and the median of the
                # per-round ratios (each round ran both methods back to back).
                base = samples["numpy"][op]
                s["vs_numpy_best"] = min(w for w, _ in base) / s["best"]
                s["vs_numpy_paired_median"] = statistics.median(
                    b[0] / m[0] for b, m in zip(base, samples[key][op])
                )
                entry[op] = s
            row["methods"][key] = entry
        results.append(row)
        del methods, variables
        gc.collect()
        log(
            f"  {real_mb:7.1f} MB: {reps} rounds in {time.perf_counter() - started:5.1f} s"
        )
    return results


def print_sweep(results):
    keys = list(results[0]["methods"])
    for op in ("save", "restore"):
        log(
            f"\n{op.upper()}: MB/s, best of N (ratio to numpy: best / median of paired rounds)"
        )
        header = f"{'size MB':>8} " + "".join(f"{k:>20}" for k in keys)
        log(header)
        for row in results:
            cells = []
            for k in keys:
                s = row["methods"][k][op]
                cells.append(
                    f"{s['mb_per_s_best']:8.0f} ({s['vs_numpy_best']:4.2f}/"
                    f"{s['vs_numpy_paired_median']:4.2f})"
                )
            log(f"{row['size_mb']:8.1f} " + "".join(f"{c:>20}" for c in cells))
    log(
        "  methods: "
        + "; ".join(f"{k} = {results[0]['methods'][k]['label']}" for k in keys)
    )


# ----------------------------------------------- 2. why slower


def decomposition(size_mb, workdir, reps):
    import tensorflow as tf

    array = make_arrays(size_mb, count=1, seed=1)[0]
    real_mb = array.nbytes / MB
    constant = tf.constant(array)
    one_variable = tf.Variable(array)
    many_count = 1024
    many_variables = [
        tf.Variable(part) for part in np.split(array, many_count)
    ]
    shard_mb = max(1, int(size_mb) // 8)
    policy = tf.train.experimental.MaxShardSizePolicy(
        max_shard_size=shard_mb * MB
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

    one = tf.train.Checkpoint(w=one_variable)
    many = tf.train.Checkpoint(w=many_variables)
    io_device = tf.train.CheckpointOptions(
        experimental_io_device="/job:localhost/device:CPU:0"
    )
    sharded = tf.train.CheckpointOptions(experimental_sharding_callback=policy)

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
            f"Checkpoint.write, {many_count} variables",
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
    samples = {key: [] for key in cases}
    for rep in range(reps + 1):
        os.sync()
        keys = list(cases)
        for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
            fn = cases[key][1]
            folder = workdir / f"why-{key}-{rep}"
            folder.mkdir(parents=True)
            sample = measure(lambda: fn(folder))
            if key == "checkpoint_sharded" and rep == 0:
                shards = len(list(folder.glob("ckpt.data-*")))
            remove(folder)
            if rep:
                samples[key].append(sample)
    base = summary(samples["numpy"])
    out = {
        "size_mb": real_mb,
        "reps": reps,
        "shards_written": shards,
        "cases": {},
    }
    for key, (label, _) in cases.items():
        s = summary(samples[key])
        reference = (
            base
            if key != "checkpoint_fsync"
            else summary(samples["numpy_fsync"])
        )
        s.update(
            label=label,
            mb_per_s_best=real_mb / s["best"],
            vs_numpy_best=reference["best"] / s["best"],
            cpu_ms_per_gb=1000 * s["cpu_best"] * 1024 / real_mb,
        )
        out["cases"][key] = s
    # TF's writer does per byte what plain Python does not: the difference of their CPU time.
    extra = (
        out["cases"]["savev2_op"]["cpu_best"]
        - out["cases"]["python_8mb_chunks"]["cpu_best"]
    )
    out["savev2_extra_cpu_ms_per_gb"] = 1000 * extra * 1024 / real_mb
    return out


def print_decomposition(result):
    log(
        f"\nWHY SLOWER: writing {result['size_mb']:.0f} MB, best of {result['reps']} "
        "(fsync rows compare with np.save + fsync)"
    )
    log(
        f"{'':48}{'MB/s':>8}{'vs numpy':>10}{'CPU ms/GB':>11}{'wall median s':>15}"
    )
    for s in result["cases"].values():
        log(
            f"{s['label']:48}{s['mb_per_s_best']:8.0f}{s['vs_numpy_best']:10.2f}"
            f"{s['cpu_ms_per_gb']:11.0f}{s['median']:15.3f}"
        )
    log(
        f"  sharded write produced {result['shards_written']} data files; SaveV2 spends "
        f"{result['savev2_extra_cpu_ms_per_gb']:.0f} ms more CPU per GB than a plain write"
    )


# ---------------------------------------------------- 3. async


def async_benchmark(size_mb, workdir, reps):
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
    # The first two async writes set up the CPU copies and trace the copy function.
    first_blocks = []
    for i in range(2):
        prefix = workdir / f"async-warm-{i}" / "ckpt"
        first_blocks.append(
            measure(
                lambda: async_checkpoint.write(
                    str(prefix), options=async_options
                )
            )[0]
        )
        async_checkpoint.sync()
        remove(prefix.parent)

    step_alone, sync_write, async_block, async_until_synced, step_after = (
        [],
        [],
        [],
        [],
        [],
    )
    present_on_return = []
    for rep in range(reps):
        os.sync()
        step_alone.append(measure(train_step))
        prefix = workdir / f"sync-{rep}" / "ckpt"
        sync_write.append(measure(lambda: sync_checkpoint.write(str(prefix))))
        remove(prefix.parent)

        train_step()
        prefix = workdir / f"async-{rep}" / "ckpt"
        last = rep == reps - 1
        at_write = [v.numpy() for v in variables] if last else None
        started = []

        def write_async():
            started.append(time.perf_counter())
            async_checkpoint.write(str(prefix), options=async_options)

        async_block.append(measure(write_async))
        present_on_return.append(Path(str(prefix) + ".index").exists())
        # This step runs while the write is still going on.
        step_after.append(measure(train_step))
        async_checkpoint.sync()
        async_until_synced.append(time.perf_counter() - started[0])
        if last:
            # The checkpoint holds the values of write() time, not those of the step after it.
            check = tf.train.Checkpoint(
                weights=[tf.Variable(tf.zeros_like(v)) for v in variables]
            )
            check.read(
                str(prefix)
            ).assert_existing_objects_matched()  # it also holds save_counter
            restored_ok = all(
                np.array_equal(r.numpy(), a)
                for r, a in zip(check.weights, at_write)
            )
            del check, at_write
        remove(prefix.parent)

    # Two async writes back to back: the second waits for the first to finish.
    first, second = workdir / "b2b-1" / "ckpt", workdir / "b2b-2" / "ckpt"
    async_checkpoint.write(str(first), options=async_options)
    back_to_back = measure(
        lambda: async_checkpoint.write(str(second), options=async_options)
    )[0]
    async_checkpoint.sync()
    remove(first.parent)
    remove(second.parent)

    sync_s, block_s = summary(sync_write), summary(async_block)
    return {
        "size_mb": real_mb,
        "reps": reps,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "sync_write": sync_s,
        "async_block": block_s,
        "async_until_synced": {
            "best": min(async_until_synced),
            "median": statistics.median(async_until_synced),
        },
        "train_step_alone": summary(step_alone),
        "train_step_after_async_write": summary(step_after),
        "first_two_async_blocks_s": first_blocks,
        "back_to_back_second_block_s": back_to_back,
        "block_fraction_best": block_s["best"] / sync_s["best"],
        "block_fraction_median": block_s["median"] / sync_s["median"],
        "index_file_present_when_write_returned": present_on_return,
        "restored_values_match_after_sync": bool(restored_ok),
    }


def async_in_child(size_mb, reps, onednn):
    """async_benchmark in a fresh process with TF_ENABLE_ONEDNN_OPTS=onednn: the
    setting is read when TensorFlow is imported, and it decides whether the copy
    that an async write makes on the caller's thread copies any bytes (see README)."""
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
                __file__,
                "--async-child",
                str(out),
                "--async-mb",
                str(size_mb),
                "--async-reps",
                str(reps),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
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
    """What a pending async write leaves behind when the process exits three ways."""
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
        _, stderr = child.communicate(timeout=600)
        complete = False
        if Path(str(prefix) + ".index").exists():
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
        f"\nASYNC: {result['size_mb']:.0f} MB model, {result['reps']} saves each, "
        f"TF_ENABLE_ONEDNN_OPTS={result['TF_ENABLE_ONEDNN_OPTS']}"
    )
    log(
        f"  synchronous Checkpoint.write     best {s['best']:7.3f} s   median {s['median']:7.3f} s"
    )
    log(
        f"  async write blocks the caller    best {b['best']:7.3f} s   median {b['median']:7.3f} s"
    )
    log(
        f"  blocking / synchronous           best {result['block_fraction_best']:7.1%}     "
        f"median {result['block_fraction_median']:7.1%}"
    )
    u = result["async_until_synced"]
    log(
        f"  async write until sync() returns best {u['best']:7.3f} s   median {u['median']:7.3f} s"
    )
    a, t = result["train_step_alone"], result["train_step_after_async_write"]
    log(
        f"  training step alone              best {a['best']:7.3f} s   median {a['median']:7.3f} s"
    )
    log(
        f"  training step during the write   best {t['best']:7.3f} s   median {t['median']:7.3f} s"
    )
    log(
        "  first two async writes blocked   "
        + ", ".join(f"{x:.3f} s" for x in result["first_two_async_blocks_s"])
    )
    log(
        f"  a second write right after one   {result['back_to_back_second_block_s']:.3f} s"
    )
    log(
        f"  .index present when write() returned: {result['index_file_present_when_write_returned']}"
    )
    log(
        f"  values restored after sync() match: {result['restored_values_match_after_sync']}"
    )
    if exits:
        for how, e in exits.items():
            log(
                f"  child exits via {how:9}: exit code {e['exit_code']}, checkpoint complete: "
                f"{e['checkpoint_complete']}, files: {e['files']}"
            )


# ------------------------------------------------ 4. load time


def mlp_hidden(size_mb, inputs=1024, outputs=16):
    """Hidden width h so that 1024*h + h*h + h*16 floats make about size_mb."""
    n = size_mb * FLOATS_PER_MB
    b = inputs + outputs
    return max(8, int((-b + (b * b + 4 * n) ** 0.5) / 2))


def load_time(size_mb, workdir, reps, warm_up=1):
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    tf1 = tf.compat.v1
    hidden = mlp_hidden(size_mb)

    class MLP(tf.Module):
        def __init__(self, seed=None):
            super().__init__()
            shapes = [(1024, hidden), (hidden, hidden), (hidden, 16)]
            if seed is None:  # to be restored: the values do not matter
                self.kernels = [tf.Variable(tf.zeros(s)) for s in shapes]
            else:
                rng = np.random.default_rng(seed)
                self.kernels = [
                    tf.Variable(
                        (
                            rng.standard_normal(s, dtype=np.float32)
                            / s[0] ** 0.5
                        ).astype(np.float32)
                    )
                    for s in shapes
                ]

        def __call__(self, x):
            h = tf.nn.relu(x @ self.kernels[0])
            h = tf.nn.relu(h @ self.kernels[1])
            return h @ self.kernels[2]

        # The graph that the frozen .pb and the SavedModel keep.
        @tf.function(
            input_signature=[tf.TensorSpec([None, 1024], tf.float32, name="x")]
        )
        def serve(self, x):
            return tf.identity(self(x), name="y")

    model = MLP(seed=3)
    real_mb = sum(int(np.prod(k.shape)) * 4 for k in model.kernels) / MB
    x = np.random.default_rng(4).standard_normal((2, 1024), dtype=np.float32)
    expected = model.serve(x).numpy()

    folder = workdir / "load"
    folder.mkdir()
    names = {}

    def save_frozen():  # freezing is part of the cost of this format
        frozen = convert_variables_to_constants_v2(
            model.serve.get_concrete_function()
        )
        names.update(
            input=frozen.inputs[0].name, output=frozen.outputs[0].name
        )
        graph_def = frozen.graph.as_graph_def()
        (folder / "frozen.pb").write_bytes(graph_def.SerializeToString())

    save_times = {
        "frozen_pb": measure(save_frozen)[0],
        "savedmodel": measure(
            lambda: tf.saved_model.save(model, str(folder / "savedmodel"))
        )[0],
        "checkpoint": measure(
            lambda: tf.train.Checkpoint(model=model).write(
                str(folder / "ckpt")
            )
        )[0],
    }
    input_name, output_name = names["input"], names["output"]
    gc.collect()

    no_grappler = tf1.ConfigProto(
        graph_options=tf1.GraphOptions(
            rewrite_options=rewriter_config_pb2.RewriterConfig(
                disable_meta_optimizer=True
            )
        )
    )

    def frozen_pb(config=None):
        graph_def = tf1.GraphDef()
        graph_def.ParseFromString((folder / "frozen.pb").read_bytes())
        graph = tf.Graph()
        with graph.as_default():
            tf1.import_graph_def(graph_def, name="")
        session = tf1.Session(graph=graph, config=config)
        return lambda: session.run(output_name, {input_name: x}), session.close

    def savedmodel():
        loaded = tf.saved_model.load(str(folder / "savedmodel"))
        return lambda: loaded.serve(x).numpy(), None

    def checkpoint():
        # The Python code rebuilds the model, the checkpoint fills in the
        # values, and the model predicts eagerly: no graph to build.
        fresh = MLP()
        status = tf.train.Checkpoint(model=fresh).read(str(folder / "ckpt"))
        status.assert_consumed()
        return lambda: fresh(x).numpy(), None

    loaders = {
        "frozen_pb": frozen_pb,
        "frozen_pb_no_grappler": lambda: frozen_pb(no_grappler),
        "savedmodel": savedmodel,
        "checkpoint": checkpoint,
    }
    loaded, first = {k: [] for k in loaders}, {k: [] for k in loaders}
    # Nothing is cached from one load to the next (each builds a new graph or
    # traces a new function), so only the first model size gets a warm-up round.
    for rep in range(reps + warm_up):
        for key, loader in loaders.items():
            gc.collect()
            start = time.perf_counter()
            predict, close = loader()
            ready = time.perf_counter()
            y = predict()
            done = time.perf_counter()
            if not np.allclose(y, expected, rtol=1e-4, atol=1e-4):
                raise AssertionError(f"{key} predicted other values")
            if close:
                close()
            del predict, close
            if rep >= warm_up:
                loaded[key].append(ready - start)
                first[key].append(done - start)
    sizes = {
        "frozen_pb": (folder / "frozen.pb").stat().st_size,
        "frozen_pb_no_grappler": (folder / "frozen.pb").stat().st_size,
        "savedmodel": sum(
            p.stat().st_size
            for p in (folder / "savedmodel").rglob("*")
            if p.is_file()
        ),
        "checkpoint": sum(p.stat().st_size for p in folder.glob("ckpt*")),
    }
    remove(folder)
    return {
        "size_mb": real_mb,
        "hidden": hidden,
        "reps": reps,
        "save_s": save_times,
        "file_mb": {k: v / MB for k, v in sizes.items()},
        "load": {
            k: {"best": min(v), "median": statistics.median(v)}
            for k, v in loaded.items()
        },
        "load_and_first_prediction": {
            k: {"best": min(v), "median": statistics.median(v)}
            for k, v in first.items()
        },
    }


def print_load(results):
    log(
        "\nLOAD TIME of one MLP, best (median) in s; 'first' = load + first prediction"
    )
    log(
        f"{'model MB':>9}{'format':>23}{'file MB':>9}{'save s':>8}{'load':>18}{'first':>18}"
    )
    for r in results:
        for key in r["load"]:
            lo, fi = r["load"][key], r["load_and_first_prediction"][key]
            log(
                f"{r['size_mb']:9.0f}{key:>23}{r['file_mb'][key]:9.0f}{r['save_s'].get(key, 0):8.2f}"
                f"{lo['best']:9.3f} ({lo['median']:6.3f}){fi['best']:9.3f} ({fi['median']:6.3f})"
            )


# ------------------------------------------------------- plots


def plot(results, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcdefaults()
    written = []

    sweep_rows = results["throughput"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, op in zip(axes, ("save", "restore")):
        for key in sweep_rows[0]["methods"]:
            xs = [row["size_mb"] for row in sweep_rows]
            ys = [
                row["methods"][key][op]["mb_per_s_best"] for row in sweep_rows
            ]
            ax.plot(
                xs,
                ys,
                marker="o",
                linestyle="--" if key == "numpy" else "-",
                label=sweep_rows[0]["methods"][key]["label"],
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("model size (MB)")
        ax.set_ylabel("throughput (MB/s, best of N)")
        ax.set_title(f"{op.capitalize()} throughput")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "throughput.png", dpi=100)
    plt.close(fig)
    written.append("throughput.png")

    why = results["why_slower"]
    cases = list(why["cases"].values())
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.barh(
        [c["label"] for c in cases][::-1],
        [c["mb_per_s_best"] for c in cases][::-1],
        color="#6baed6",
    )
    ax.set_xlabel("MB/s (best of N)")
    ax.set_title(f"Writing {why['size_mb']:.0f} MB: where the time goes")
    fig.tight_layout()
    fig.savefig(out_dir / "why_slower.png", dpi=100)
    plt.close(fig)
    written.append("why_slower.png")

    labels = [
        "synchronous write",
        "async: write() blocks",
        "async: write() until sync() returns",
        "training step alone",
        "training step during the write",
    ]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ys = np.arange(len(labels))
    for i, (key, name) in enumerate(
        (
            ("onednn_off", "oneDNN off (this book)"),
            ("onednn_on", "oneDNN on (TF default)"),
        )
    ):
        a = results["async"][key]
        values = [
            a["sync_write"]["median"],
            a["async_block"]["median"],
            a["async_until_synced"]["median"],
            a["train_step_alone"]["median"],
            a["train_step_after_async_write"]["median"],
        ]
        ax.barh(ys + 0.4 * i, values, 0.4, label=name)
    ax.set_yticks(ys + 0.2, labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median)")
    ax.set_title(
        f"Async checkpointing, {results['async']['onednn_on']['size_mb']:.0f} MB model"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "async.png", dpi=100)
    plt.close(fig)
    written.append("async.png")

    loads = results["load_time"]
    fig, ax = plt.subplots(figsize=(8, 4))
    keys = ("frozen_pb", "frozen_pb_no_grappler", "savedmodel", "checkpoint")
    width = 0.8 / len(loads)
    for i, r in enumerate(loads):
        xs = [k + i * width for k in range(len(keys))]
        ax.bar(
            xs,
            [r["load_and_first_prediction"][k]["best"] for k in keys],
            width,
            label=f"{r['size_mb']:.0f} MB model",
        )
    ax.set_xticks(
        [k + width * (len(loads) - 1) / 2 for k in range(len(keys))],
        [
            "frozen .pb",
            "frozen .pb,\nGrappler off",
            "SavedModel",
            "checkpoint\n+ Python code",
        ],
    )
    ax.set_yscale("log")
    ax.set_ylabel("seconds to first prediction (best, log scale)")
    ax.set_title("Load time of the same model")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "load_time.png", dpi=100)
    plt.close(fig)
    written.append("load_time.png")
    return written


# ------------------------------------------------------ checks


def checks(results):
    """Each check: (passed, text). Bounds are the constants at the top of the file."""
    failures, passed = [], []

    def check(ok, text):
        (passed if ok else failures).append(text)

    for row in results["throughput"]:
        mb = row["size_mb"]
        r = row["methods"]["checkpoint"]["save"]["vs_numpy_best"]
        if mb <= 256:
            check(
                WRITE_RATIO[0] <= r <= WRITE_RATIO[1],
                f"{mb:.0f} MB: Checkpoint.write at {r:.2f}x np.save (bounds {WRITE_RATIO})",
            )
        else:
            check(
                LARGE_WRITE_RATIO[0] <= r <= LARGE_WRITE_RATIO[1],
                f"{mb:.0f} MB: Checkpoint.write at {r:.2f}x np.save (bounds {LARGE_WRITE_RATIO}; at this "
                "size the kernel's page-cache allocation dominates both)",
            )
        if mb <= 16:
            r = row["methods"]["checkpoint"]["restore"]["vs_numpy_best"]
            check(
                r <= MAX_SMALL_READ_RATIO,
                f"{mb:.0f} MB: Checkpoint.read at {r:.2f}x np.load (bound <= {MAX_SMALL_READ_RATIO})",
            )

    why = results["why_slower"]["cases"]
    r = why["savev2_op"]["cpu_best"] / why["python_8mb_chunks"]["cpu_best"]
    check(
        r >= MIN_SAVEV2_CPU_RATIO,
        f"the SaveV2 op used {r:.1f}x the CPU time of a plain write in 8 MB chunks "
        f"(bound >= {MIN_SAVEV2_CPU_RATIO})",
    )
    r = why["checkpoint_many_vars"]["best"] / why["checkpoint_1_var"]["best"]
    check(
        r >= MIN_MANY_VARIABLES_RATIO,
        f"1024 variables took {r:.1f}x as long to write as 1 variable of the same bytes "
        f"(bound >= {MIN_MANY_VARIABLES_RATIO})",
    )

    for key, bound, setting in (
        ("onednn_on", MAX_ASYNC_BLOCK_FRACTION, "oneDNN on, TF's default"),
        ("onednn_off", MAX_ASYNC_BLOCK_FRACTION_ONEDNN_OFF, "oneDNN off"),
    ):
        a = results["async"][key]
        if a["size_mb"] >= MIN_ASYNC_MODEL_MB:
            check(
                a["block_fraction_best"] <= bound,
                f"async write of {a['size_mb']:.0f} MB ({setting}) blocked {a['block_fraction_best']:.1%} "
                f"of a synchronous write (best; bound <= {bound:.0%})",
            )
        check(
            a["restored_values_match_after_sync"],
            f"async checkpoint ({setting}) holds the values of write() time",
        )
    exits = results.get("async_exit")
    if exits:
        check(
            exits["return"]["checkpoint_complete"],
            "a pending async write is completed when the interpreter exits normally (atexit)",
        )
        check(
            exits["sync"]["checkpoint_complete"],
            "sync() completes a pending async write",
        )

    for r in (
        r
        for r in results["load_time"]
        if r["size_mb"] >= MIN_LOAD_CHECK_MB - 1
    ):
        first = {
            k: v["best"] for k, v in r["load_and_first_prediction"].items()
        }
        fastest_other = max(first["savedmodel"], first["checkpoint"])
        check(
            first["frozen_pb"] >= MIN_FROZEN_SLOWDOWN * fastest_other,
            f"{r['size_mb']:.0f} MB: the frozen .pb took {first['frozen_pb'] / fastest_other:.1f}x as long "
            f"as the slower of SavedModel and checkpoint to a first prediction (bound >= {MIN_FROZEN_SLOWDOWN})",
        )
        speedup = first["frozen_pb"] / first["frozen_pb_no_grappler"]
        check(
            speedup >= MIN_GRAPPLER_OFF_SPEEDUP,
            f"{r['size_mb']:.0f} MB: turning Grappler off made the frozen .pb {speedup:.1f}x faster to a "
            f"first prediction (bound >= {MIN_GRAPPLER_OFF_SPEEDUP})",
        )
    return passed, failures


# -------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="sizes up to 64 MB, 3 rounds, async at 256 MB: about 2 minutes",
    )
    parser.add_argument(
        "--max-mb",
        type=float,
        default=None,
        help="largest model in the throughput sweep (default 1024; 64 with --quick)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "test-output" / "bench",
        help="folder for results.json and the plots (default test-output/bench)",
    )
    parser.add_argument(
        "--no-exit-test",
        action="store_true",
        help="skip the three child processes that test async writes at exit",
    )
    parser.add_argument("--async-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--async-mb", type=float, default=256, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--async-reps", type=int, default=5, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.async_child:
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        with tempfile.TemporaryDirectory(
            prefix="persistence-bench-async-"
        ) as folder:
            result = async_benchmark(
                args.async_mb, Path(folder), args.async_reps
            )
        args.async_child.write_text(json.dumps(result))
        return 0

    max_mb = (
        args.max_mb
        if args.max_mb is not None
        else (64 if args.quick else 1024)
    )
    sizes = [s for s in (1, 4, 16, 64, 256, 1024) if s <= max_mb] or [max_mb]
    if args.quick:
        sizes = [s for s in sizes if s in (1, 16, 64)] or sizes
    why_mb = min(256, max(sizes)) if not args.quick else min(64, max(sizes))
    async_mb = 256 if args.quick else 512
    if args.max_mb is not None:
        async_mb = min(async_mb, max(args.max_mb, 16))
    load_sizes = (64,) if args.quick else (64, 256)
    if args.max_mb is not None:
        load_sizes = [s for s in load_sizes if s <= args.max_mb] or [
            max(sizes)
        ]

    started = time.perf_counter()
    import tensorflow as tf

    # Saver.restore logs an INFO line per call.
    tf.get_logger().setLevel("ERROR")
    log(
        f"TensorFlow {tf.__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="persistence-bench-"))
    results = {
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "quick": args.quick,
        "sizes_mb": sizes,
    }
    try:
        log(f"\n1. throughput, sizes {sizes} MB")
        results["throughput"] = sweep(sizes, workdir, args.quick)
        print_sweep(results["throughput"])

        log(f"\n2. why Checkpoint.write is slower, at {why_mb} MB")
        results["why_slower"] = decomposition(
            why_mb, workdir, 3 if args.quick else 5
        )
        print_decomposition(results["why_slower"])

        log(
            f"\n3. async checkpointing, {async_mb} MB model, with oneDNN off (this book's "
            "setting) and on (TensorFlow's default, in a child process)"
        )
        async_reps = 3 if args.quick else 5
        results["async"] = {
            "onednn_off": async_benchmark(async_mb, workdir, async_reps),
            "onednn_on": async_in_child(async_mb, async_reps, "1"),
        }
        exits = None
        if not args.no_exit_test:
            exits = async_exit_children(workdir, min(async_mb, 256))
            results["async_exit"] = exits
        print_async(results["async"]["onednn_off"], None)
        print_async(results["async"]["onednn_on"], exits)

        log(f"\n4. load time, models of {list(load_sizes)} MB")
        results["load_time"] = [
            load_time(s, workdir, 3 if s <= 64 else 2, warm_up=int(i == 0))
            for i, s in enumerate(load_sizes)
        ]
        print_load(results["load_time"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results["load_average_end"] = os.getloadavg()
    results["runtime_s"] = time.perf_counter() - started
    results["plots"] = plot(results, args.out)
    passed, failures = checks(results)
    results["checks"] = {"passed": passed, "failed": failures}
    (args.out / "results.json").write_text(json.dumps(results, indent=1))

    try:
        shown = args.out.resolve().relative_to(ROOT)
    except ValueError:
        shown = args.out
    log(
        f"\nresults and plots in {shown}/ ({', '.join(['results.json'] + results['plots'])}); "
        f"run took {results['runtime_s']:.0f} s"
    )
    log("\nCHECKS")
    for text in passed:
        log(f"  ok      {text}")
    for text in failures:
        log(f"  FAILED  {text}")
    if failures:
        print(
            f"persistence_speed: {len(failures)} check(s) failed; the numbers above and "
            f"{shown}/results.json show by how much",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
