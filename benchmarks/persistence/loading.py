"""Time to a first prediction from a frozen .pb (with and without
Grappler), a SavedModel, and a checkpoint restored into code."""

import functools
import gc

import numpy as np

from . import FLOATS_PER_MB, MB, log, remove
from .timer import measure, side_by_side, summary


def mlp_hidden(size_mb, inputs=1024, outputs=16):
    """Hidden width h so that 1024*h + h*h + h*16 floats make about size_mb."""
    n = size_mb * FLOATS_PER_MB
    b = inputs + outputs
    return max(8, int((-b + (b * b + 4 * n) ** 0.5) / 2))


def mlp_class(hidden):
    """A tf.Module class: an MLP of 1024 inputs, two hidden layers of width
    `hidden` and 16 outputs, with the serving function the frozen .pb and
    the SavedModel keep."""
    import tensorflow as tf

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
                        rng.standard_normal(s, dtype=np.float32) / s[0] ** 0.5
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

    return MLP


def load_time(size_mb, workdir, rounds, warm_up=1):
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    tf1 = tf.compat.v1
    hidden = mlp_hidden(size_mb)
    MLP = mlp_class(hidden)
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
        with tf1.Session(graph=graph, config=config) as session:
            return session.run(names["output"], {names["input"]: x})

    def savedmodel():
        loaded = tf.saved_model.load(str(folder / "savedmodel"))
        return loaded.serve(x).numpy()

    def checkpoint():
        # The Python code rebuilds the model, the checkpoint fills in the
        # values, and the model predicts eagerly: no graph to build.
        fresh = MLP()
        status = tf.train.Checkpoint(model=fresh).read(str(folder / "ckpt"))
        status.assert_consumed()
        return fresh(x).numpy()

    loaders = {
        "frozen_pb": frozen_pb,
        "frozen_pb_no_grappler": functools.partial(frozen_pb, no_grappler),
        "savedmodel": savedmodel,
        "checkpoint": checkpoint,
    }
    for key, load in loaders.items():
        if not np.allclose(load(), expected, rtol=1e-4, atol=1e-4):
            raise AssertionError(f"{key} predicted other values")
    # Each load builds a new graph or traces a new function from the files,
    # so the check above is warm-up enough after the first model size.
    timings = side_by_side(loaders, rounds, warm_up=warm_up)
    sizes = {
        "frozen_pb": (folder / "frozen.pb").stat().st_size,
        "savedmodel": sum(
            p.stat().st_size
            for p in (folder / "savedmodel").rglob("*")
            if p.is_file()
        ),
        "checkpoint": sum(p.stat().st_size for p in folder.glob("ckpt*")),
    }
    sizes["frozen_pb_no_grappler"] = sizes["frozen_pb"]
    remove(folder)
    return {
        "size_mb": real_mb,
        "hidden": hidden,
        "rounds": rounds,
        "save_s": save_times,
        "file_mb": {k: v / MB for k, v in sizes.items()},
        "load_and_first_prediction": {
            k: summary(t) for k, t in timings.items()
        },
    }


def print_load(results):
    log("\nLOAD TIME of one MLP to a first prediction, best (median) in s")
    log(
        f"{'model MB':>9}{'format':>23}{'file MB':>9}{'save s':>8}{'first':>18}"
    )
    for r in results:
        for key, t in r["load_and_first_prediction"].items():
            log(
                f"{r['size_mb']:9.0f}{key:>23}{r['file_mb'][key]:9.0f}"
                f"{r['save_s'].get(key, 0):8.2f}"
                f"{t['best']:9.3f} ({t['median']:6.3f})"
            )
