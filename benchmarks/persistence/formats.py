"""Throughput of save and restore, every format against np.save/np.load."""

import functools
import gc
import time

import numpy as np

from . import MB, log, make_arrays, remove, settle
from .timer import paired_median_ratio, side_by_side, summary


class Method:
    """One way to persist the same arrays: save(folder), restore(folder),
    values() after a restore."""

    label = ""
    # False for a second reader of another method's files.
    saves = True
    folder_of = None

    def close(self):
        pass


class NumpyFiles(Method):
    label = "np.save / np.load"

    def __init__(self, arrays):
        self.arrays = arrays
        self.loaded = None

    def save(self, folder):
        for i, array in enumerate(self.arrays):
            np.save(folder / f"a{i}.npy", array)

    def restore(self, folder):
        self.loaded = [
            np.load(folder / f"a{i}.npy") for i in range(len(self.arrays))
        ]

    def values(self):
        return self.loaded


class NumpyFilesNoHugePages(NumpyFiles):
    """np.load with NumPy's transparent-huge-page hint off, reading the files
    that NumpyFiles wrote.

    NumPy asks the kernel for huge pages for every array of 4 MB or more. That
    makes page faults cheaper when the kernel has huge pages free, and dearer
    when it must compact memory first.
    """

    label = "np.load, NumPy's huge-page hint off"
    saves = False
    folder_of = "numpy"

    def restore(self, folder):
        from numpy._core.multiarray import _set_madvise_hugepage

        previous = _set_madvise_hugepage(False)
        try:
            super().restore(folder)
        finally:
            _set_madvise_hugepage(previous)


class CheckpointWriteRead(Method):
    label = "tf.train.Checkpoint write / read"

    def __init__(self, variables):
        import tensorflow as tf

        self.variables = variables
        self.checkpoint = tf.train.Checkpoint(weights=list(variables))

    def save(self, folder):
        self.checkpoint.write(str(folder / "ckpt"))

    def restore(self, folder):
        self.checkpoint.read(str(folder / "ckpt")).assert_consumed()

    def values(self):
        return [v.numpy() for v in self.variables]


class GraphSaver(Method):
    label = "tf1.train.Saver (graph mode)"

    def __init__(self, arrays):
        import tensorflow as tf

        tf1 = tf.compat.v1
        self.graph = tf.Graph()
        with self.graph.as_default():
            # Initial values are fed, so that the graph (and the .meta file)
            # holds no copy of them.
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


def rounds_for(size_mb, quick):
    if quick:
        return 3
    if size_mb <= 16:
        return 7
    return 5 if size_mb <= 64 else 4 if size_mb <= 256 else 3


def sweep(sizes, workdir, quick):
    results = []
    for size in sizes:
        started = time.perf_counter()
        row = sweep_size(size, workdir, quick)
        results.append(row)
        gc.collect()
        log(
            f"  {row['size_mb']:7.1f} MB: {row['rounds']} rounds in "
            f"{time.perf_counter() - started:5.1f} s"
        )
    return results


def sweep_size(size, workdir, quick):
    """Every method on arrays of `size` MB: one row of the sweep."""
    import tensorflow as tf

    arrays = make_arrays(size)
    variables = [tf.Variable(a) for a in arrays]
    methods = {
        "numpy": NumpyFiles(arrays),
        "numpy_no_hugepages": NumpyFilesNoHugePages(arrays),
        "checkpoint": CheckpointWriteRead(variables),
        "saver": GraphSaver(arrays),
        "keras_h5": KerasWeights(arrays),
        "savedmodel": SavedModelFormat(variables),
    }
    folders = method_folders(methods, workdir)
    rounds = rounds_for(size, quick)
    timings = side_by_side(
        timed_cases(methods, folders), rounds, before_round=settle
    )
    for key, method in methods.items():
        method.restore(folders[key])
        for want, got in zip(arrays, method.values()):
            if not np.array_equal(want, got):
                raise AssertionError(
                    f"{method.label} restored other values at {size} MB"
                )
        method.close()
    real_mb = sum(a.nbytes for a in arrays) / MB
    row = {"size_mb": real_mb, "rounds": rounds, "methods": {}}
    for key, method in methods.items():
        row["methods"][key] = method_entry(key, method, timings, real_mb)
    for folder in set(folders.values()):
        remove(folder)
    return row


def method_folders(methods, workdir):
    """Each method's folder, made; a method with `folder_of` shares
    another's."""
    folders = {key: workdir / f"sweep-{key}" for key in methods}
    for key, method in methods.items():
        if method.folder_of:
            folders[key] = folders[method.folder_of]
        folders[key].mkdir(parents=True, exist_ok=True)
    return folders


def timed_cases(methods, folders):
    """(method, "save" or "restore") -> the call to time. Files stay from
    round to round and are overwritten, as a training job overwrites its
    checkpoints; the warm-up round writes them first."""
    cases = {}
    for key, method in methods.items():
        if method.saves:
            cases[(key, "save")] = functools.partial(method.save, folders[key])
        cases[(key, "restore")] = functools.partial(
            method.restore, folders[key]
        )
    return cases


def method_entry(key, method, timings, real_mb):
    """A method's figures at one size, each set against NumPy's."""
    entry = {"label": method.label}
    for op in ("save", "restore"):
        if (key, op) not in timings:
            continue
        these, base = timings[(key, op)], timings[("numpy", op)]
        entry[op] = dict(
            summary(these),
            mb_per_s_best=real_mb / these.best,
            mb_per_s_median=real_mb / these.median,
            vs_numpy_best=base.best / these.best,
            vs_numpy_paired_median=paired_median_ratio(base, these),
        )
    return entry


def print_sweep(results):
    keys = list(results[0]["methods"])
    for op in ("save", "restore"):
        log(
            f"\n{op.upper()}: MB/s, best of N "
            "(ratio to numpy: best / median of paired rounds)"
        )
        shown = [k for k in keys if op in results[0]["methods"][k]]
        log(f"{'size MB':>8} " + "".join(f"{k:>20}" for k in shown))
        for row in results:
            cells = []
            for k in shown:
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
