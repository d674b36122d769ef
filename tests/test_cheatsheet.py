"""Every snippet in the cheat sheet's TF2 and Keras 3 columns runs and gives
the value it should.

The test reads book/cheatsheet.md and takes each inline code span of the
TF2 or Keras 3 column of every table (and every fenced code block). Each
snippet must be named by a case, a function registered with `@case`:

    @case('tf.train.Checkpoint(v=v).write("ckpt/model")', "read")
    def _():
        v = tf.Variable(1.0)
        prefix = tf.train.Checkpoint(v=v).write("ckpt/model")
        v.assign(5.0)
        tf.train.Checkpoint(v=v).read(prefix).assert_consumed()
        assert v.numpy() == 1.0

A case takes no argument and runs in its own empty temporary folder (the
current directory), with `tf`, `tf1`, `keras`, `np`, `pathlib`, `pytest`,
`shutil`, `FIXTURES` and the helpers below (`two_variables`,
`tf1_checkpoint`, ...) at hand. Its body must contain every snippet it names
as the page writes it (whitespace aside, so that the line breaks and trailing
commas `ruff format` adds to a long line do not count) and must assert on a
result. A case is named `_` (the decorator keeps it; the test id is the
start of its first snippet), unless another case calls it to start where it
ended, as `ema_after_one_update` is.

A snippet without a case fails `test_every_snippet_has_a_case`, which names
it; a case whose snippet has left the page fails
`test_every_case_is_in_the_cheatsheet`. A new row therefore means a new case,
placed with the cases of its table.

`@tf1_case` does the same for the left-hand TF1 column, where that is cheap;
there a snippet without a case is allowed.
"""

import ast
import contextlib
import gc
import inspect
import os
import pathlib
import re
import shutil
import textwrap

import numpy as np
import pytest
from support.book import ROOT
from support.old_files import (
    attention_layer,
    by_gate,
    cudnn_lstm_weights,
    recorded,
)

CHEATSHEET = ROOT / "book" / "cheatsheet.md"
FIXTURES = ROOT / "fixtures"
# The column a snippet must come from: the TF2 side of each table.
NEW_COLUMNS = ("TF2", "Keras 3")

# TensorFlow and Keras are imported by the fixture below, not at collection:
# every pytest worker collects this module, and only the one that runs the
# cases should pay for the import.
tf = tf1 = keras = None


@pytest.fixture(scope="module")
def _tensorflow():
    global tf, tf1, keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf1 = tf.compat.v1


# snippets (a tuple) -> the case that runs them, in the order of the file.
CASES = {}
TF1_CASES = {}
# case -> the source of its body, read when the module is (a file edited
# during the run would give other lines).
BODIES = {}


def case(*snippets):
    """Register a case for snippets of the TF2 and Keras 3 columns."""
    return registered_in(CASES, snippets)


def tf1_case(*snippets):
    """Register a case for snippets of the TF1 column."""
    return registered_in(TF1_CASES, snippets)


def registered_in(cases, snippets):
    def register(function):
        cases[snippets] = function
        BODIES[function] = case_body(function)
        return function

    return register


def case_body(function):
    """The source of a case's body, without its decorator and `def` line
    (which name the snippets, so they would always match)."""
    source = textwrap.dedent(inspect.getsource(function))
    (definition,) = ast.parse(source).body
    lines = source.splitlines(keepends=True)
    return "".join(lines[definition.body[0].lineno - 1 :])


# Helpers every case may call. Each writes into the current directory, which
# is the case's own temporary folder.


def two_variables():
    return tf.Variable([1.0], name="v1"), tf.Variable([2.0], name="v2")


def zero_variables(*names):
    """A variable [0.0] for each name, to restore into."""
    return [tf.Variable([0.0], name=name) for name in names]


def tf1_checkpoint(fixture):
    """The prefix of a checkpoint that TF 1.15.5 wrote (fixtures/tf1.15/)."""
    prefix = FIXTURES / "tf1.15" / fixture / "model.ckpt"
    assert prefix.with_suffix(".ckpt.index").is_file(), f"no {prefix}"
    return str(prefix)


def frozen_graph_bytes():
    """Chapter 10's frozen graph of `v1 + v2`, as TF 1.15.5 wrote it."""
    return (FIXTURES / "tf1.15" / "frozen" / "combined_model.pb").read_bytes()


@contextlib.contextmanager
def tf1_v1_plus_v2():
    """Chapter 1's graph, `add = v1 + v2`, in a TF1 session with its
    variables initialised."""
    with tf.Graph().as_default():
        v1 = tf1.Variable([1.0], name="v1")
        v2 = tf1.Variable([2.0], name="v2")
        v1 + v2
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            yield sess


def tf1_restored_v(prefix, saver_for):
    """The value of a TF1 variable `v` restored from `prefix` by the saver
    that saver_for(v) makes in v's graph."""
    with tf.Graph().as_default():
        v = tf1.Variable(0.0, name="v")
        saver = saver_for(v)
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            return sess.run(v)


def small_keras_model():
    inputs = keras.Input((2,))
    dense = keras.layers.Dense(1, kernel_initializer="ones")
    return keras.Model(inputs, dense(inputs))


def keras2_savedmodel():
    """The folder Keras 2 (TF 2.15) wrote with model.save("folder"), the
    inputs it was given and the outputs it computed for them."""
    folder = FIXTURES / "tf2.15-keras2" / "savedmodel"
    expected = np.load(FIXTURES / "tf2.15-keras2" / "expected.npz")
    return folder, expected["x"], expected["logits"]


def keras2_file(name):
    """A file that Keras 2 (TF 2.15) wrote, copied here under its own name;
    and the inputs and logits Keras 2 computed for its classifier."""
    shutil.copy(FIXTURES / "tf2.15-keras2" / name, name)
    expected = np.load(FIXTURES / "tf2.15-keras2" / "expected.npz")
    return {"features": expected["x"]}, expected["logits"]


def keras2_classifier(seed=3):
    """The Keras 2 fixtures' classifier, built in Keras 3 with other
    initial weights."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(4,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    return keras.Model(inputs, logits, name="classifier")


def regression_data():
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    return x, x @ np.float32([[1.0], [-2.0]])


# The TF2 and Keras 3 columns, table by table.
# Checkpoints, graphs and frozen models
@case(
    "tf.Variable",
)
def _():
    v = tf.Variable(3.0)
    assert v.numpy() == 3.0


@case(
    'tf.train.Checkpoint(v1=v1, v2=v2).write("mymodel/model")',
    '.save("mymodel/model")',
    "mymodel/model-1",
)
def _():
    v1, v2 = two_variables()
    assert (
        tf.train.Checkpoint(v1=v1, v2=v2).write("mymodel/model")
        == "mymodel/model"
    )
    assert (
        tf.train.Checkpoint(v1=v1, v2=v2).save("mymodel/model")
        == "mymodel/model-1"
    )
    assert tf.train.latest_checkpoint("mymodel") == "mymodel/model-1"


@case(
    "tf.train.CheckpointManager(checkpoint, folder, max_to_keep=2)",
    "manager.save(checkpoint_number=step)",
    "tf.train.latest_checkpoint(folder)",
    "manager.latest_checkpoint",
)
def _():
    v1, v2 = two_variables()
    checkpoint = tf.train.Checkpoint(v1=v1, v2=v2)
    folder = "managed"
    manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=2)
    for step in (100, 200, 300):
        manager.save(checkpoint_number=step)
    assert manager.checkpoints == ["managed/ckpt-200", "managed/ckpt-300"]
    assert manager.latest_checkpoint == "managed/ckpt-300"
    assert tf.train.latest_checkpoint(folder) == "managed/ckpt-300"


@case(
    "tf.train.Checkpoint(v1=v1, v2=v2).restore(prefix).assert_consumed()",
    "read",
    "write",
)
def _():
    v1, v2 = two_variables()
    prefix = tf.train.Checkpoint(v1=v1, v2=v2).save("saved/model")
    v1.assign([5.0])
    tf.train.Checkpoint(v1=v1, v2=v2).restore(prefix).assert_consumed()
    assert v1.numpy() == [1.0]
    written = tf.train.Checkpoint(v1=v1, v2=v2).write("written/model")
    v1.assign([5.0])
    tf.train.Checkpoint(v1=v1, v2=v2).read(written).assert_consumed()
    assert v1.numpy() == [1.0]


@case(
    "v.assign(10.0)",
)
def _():
    v = tf.Variable(0.0)
    v.assign(10.0)
    assert v.numpy() == 10.0


@case(
    "tf.saved_model.save(module, folder)",
    "tf.saved_model.load(folder)",
)
def _():
    class Adder(tf.Module):
        def __init__(self):
            self.v1, self.v2 = two_variables()

        @tf.function(input_signature=[], autograph=False)
        def add(self):
            return self.v1 + self.v2

    module, folder = Adder(), "adder"
    tf.saved_model.save(module, folder)
    loaded = tf.saved_model.load(folder)
    assert loaded.add().numpy() == [3.0]


@case(
    "tf.train.Checkpoint(v1=other_v1, v2=other_v2)",
)
def _():
    v1, v2 = two_variables()
    prefix = tf.train.Checkpoint(v1=v1, v2=v2).write("named/model")
    other_v1, other_v2 = zero_variables("first", "second")
    tf.train.Checkpoint(v1=other_v1, v2=other_v2).read(prefix)
    assert (other_v1.numpy(), other_v2.numpy()) == ([1.0], [2.0])


@case(
    "module.variables",
    "module.trainable_variables",
    "tf.Module",
    "layer.weights",
)
def _():
    module = tf.Module()
    module.v1, module.v2 = two_variables()
    module.step = tf.Variable(0, trainable=False)
    assert len(module.variables) == 3
    assert len(module.trainable_variables) == 2
    layer = keras.layers.Dense(1)
    layer.build((None, 2))
    assert [w.shape for w in layer.weights] == [(2, 1), (1,)]


@case(
    "tf.train.ExponentialMovingAverage",
    "ema.apply([v])",
)
def ema_after_one_update():
    v = tf.Variable(0.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.99)
    ema.apply([v])
    v.assign(10.0)
    ema.apply([v])
    assert ema.average(v).numpy() == pytest.approx(0.1)
    return v, ema


@case(
    "tf.train.Checkpoint(v=v, v_average=ema.average(v))",
    "tf.train.Checkpoint(v_average=v).read(prefix).expect_partial()",
)
def _():
    v, ema = ema_after_one_update()
    prefix = tf.train.Checkpoint(v=v, v_average=ema.average(v)).write(
        "ema/model"
    )
    v = tf.Variable(0.0, name="v")
    status = tf.train.Checkpoint(v_average=v).read(prefix).expect_partial()
    status.assert_existing_objects_matched()
    assert v.numpy() == np.float32(0.099999905)
    # On a TF1 checkpoint the same line matches by name: the raw value.
    prefix = tf1_checkpoint("ema")
    v = tf.Variable(0.0, name="v")
    status = tf.train.Checkpoint(v_average=v).read(prefix).expect_partial()
    status.assert_existing_objects_matched()
    assert v.numpy() == 10.0


@case(
    'v.assign(tf.train.load_checkpoint(prefix).get_tensor("v/ExponentialMovingAverage"))',
)
def _():
    prefix = tf1_checkpoint("ema")
    v = tf.Variable(0.0)
    v.assign(
        tf.train.load_checkpoint(prefix).get_tensor(
            "v/ExponentialMovingAverage"
        )
    )
    assert v.numpy() == np.float32(0.099999905)


@case(
    "tf.train.Checkpoint(model_weights=[w, b], averaged_weights=[ema.average(w), ema.average(b)])",
    "tf.train.Checkpoint(averaged_weights=[w, b]).read(prefix).expect_partial()",
)
def _():
    w, b = tf.Variable([1.0, 2.0], name="w"), tf.Variable(3.0, name="b")
    ema = tf.train.ExponentialMovingAverage(0.99)
    ema.apply([w, b])
    w.assign_add([1.0, 1.0])
    b.assign_add(1.0)
    ema.apply([w, b])
    averages = [ema.average(w).numpy(), ema.average(b).numpy()]
    prefix = tf.train.Checkpoint(
        model_weights=[w, b], averaged_weights=[ema.average(w), ema.average(b)]
    ).write("many/ckpt")
    w, b = tf.Variable([0.0, 0.0], name="w"), tf.Variable(0.0, name="b")
    status = (
        tf.train.Checkpoint(averaged_weights=[w, b])
        .read(prefix)
        .expect_partial()
    )
    status.assert_existing_objects_matched()
    np.testing.assert_array_equal(w.numpy(), averages[0])
    assert b.numpy() == averages[1] == np.float32(3.01)
    np.testing.assert_allclose(w.numpy(), [1.01, 2.01], rtol=1e-6)


@case(
    "ema.average_name(v)",
    "tf.train.load_checkpoint",
)
def _():
    prefix = tf1_checkpoint("ema")
    v = tf.Variable(0.0, name="v")
    ema = tf.train.ExponentialMovingAverage(0.99)
    reader = tf.train.load_checkpoint(prefix)
    to_restore = {ema.average_name(v): v}
    for key, variable in to_restore.items():
        variable.assign(reader.get_tensor(key))
    assert ema.average_name(v) == "v/ExponentialMovingAverage"
    assert v.numpy() == np.float32(0.099999905)


@case(
    "convert_variables_to_constants_v2(concrete_function)",
    "tensorflow.python.framework.convert_to_constants",
)
def _():
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    v1, v2 = two_variables()
    concrete_function = tf.function(lambda: v1 + v2).get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete_function)
    ops = {node.op for node in frozen.graph.as_graph_def().node}
    assert "VarHandleOp" not in ops and "ReadVariableOp" not in ops
    assert frozen()[0].numpy() == [3.0]


@case(
    "tf.io.gfile.GFile",
    "pathlib",
)
def _():
    data = frozen_graph_bytes()
    with tf.io.gfile.GFile("frozen.pb", "wb") as f:
        f.write(data)
    assert pathlib.Path("frozen.pb").read_bytes() == data
    with tf.io.gfile.GFile("frozen.pb", "rb") as f:
        assert f.read() == data


@case(
    "tf1.wrap_function",
    'tf1.import_graph_def(graph_def, name="")',
    '.prune(feeds=[], fetches="add:0")',
)
def _():
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(frozen_graph_bytes())

    def import_frozen_graph():
        tf1.import_graph_def(graph_def, name="")

    imported = tf1.wrap_function(import_frozen_graph, signature=[])
    frozen_add = imported.prune(feeds=[], fetches="add:0")
    assert frozen_add().numpy() == [3.0]


@case(
    "tf.train.Checkpoint(v1=v1, v2=v2).restore(tf1_prefix)",
)
def _():
    tf1_prefix = tf1_checkpoint("two_variables")
    v1, v2 = zero_variables("v1", "v2")
    tf.train.Checkpoint(v1=v1, v2=v2).restore(tf1_prefix)
    assert (v1.numpy(), v2.numpy()) == ([1.0], [2.0])


@case(
    'tf1.train.Saver({"v1/.ATTRIBUTES/VARIABLE_VALUE": v1})',
)
def _():
    prefix = tf.train.Checkpoint(v1=tf.Variable([7.0])).write("tf2/model")
    with tf.Graph().as_default():
        v1 = tf1.Variable([0.0], name="v1")
        saver = tf1.train.Saver({"v1/.ATTRIBUTES/VARIABLE_VALUE": v1})
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            assert sess.run(v1) == [7.0]


# Keras 2 habits on Keras 3
@case(
    'model.save("model.keras")',
    'model.export("folder")',
)
def _():
    model = small_keras_model()
    model.save("model.keras")
    reloaded = keras.models.load_model("model.keras")
    x = np.ones((1, 2), "float32")
    assert reloaded.predict(x, verbose=0).tolist() == [[2.0]]
    model.export("folder")
    loaded = tf.saved_model.load("folder")
    assert loaded.serve(x).numpy().tolist() == [[2.0]]


@case(
    'keras.layers.TFSMLayer("folder", call_endpoint="serving_default")',
    'call_endpoint="serve"',
    "model.export",
)
def _():
    x = np.ones((1, 2), "float32")
    model = small_keras_model()
    model.export("keras3-export", verbose=False)
    serve = keras.layers.TFSMLayer("keras3-export", call_endpoint="serve")
    assert serve(x).numpy().tolist() == [[2.0]]
    keras2_folder, keras2_x, keras2_logits = keras2_savedmodel()
    with pytest.raises(ValueError, match="neither an attribute"):
        keras.layers.TFSMLayer(str(keras2_folder))
    # Both kinds of folder have serving_default; it returns a dictionary.
    for source, inputs, expected in [
        ("keras3-export", x, [[2.0]]),
        (keras2_folder, keras2_x, keras2_logits),
    ]:
        shutil.rmtree("folder", ignore_errors=True)
        shutil.copytree(source, "folder")
        outputs = keras.layers.TFSMLayer(
            "folder", call_endpoint="serving_default"
        )(inputs)
        (output,) = outputs.values()
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)


@case(
    'model.save_weights("model.weights.h5")',
    "ValueError",
)
def _():
    model = small_keras_model()
    model.save_weights("model.weights.h5")
    model.layers[-1].kernel.assign([[0.0], [0.0]])
    model.load_weights("model.weights.h5")
    assert model.layers[-1].kernel.numpy().tolist() == [[1.0], [1.0]]
    for name in ("model.h5", "weights.ckpt"):
        with pytest.raises(ValueError, match="weights.h5"):
            model.save_weights(name)


@case(
    "load_model",
    "safe_mode=False",
)
def _():
    inputs = keras.Input((2,))
    outputs = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    keras.Model(inputs, outputs).save("lambda.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.models.load_model("lambda.keras")
    model = keras.models.load_model("lambda.keras", safe_mode=False)
    x = np.ones((1, 2), "float32")
    assert model.predict(x, verbose=0).tolist() == [[2.0, 2.0]]


@case(
    'keras.models.load_model("model.h5", compile=False)',
)
def _():
    x, logits = keras2_file("model.h5")
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        keras.models.load_model("model.h5")
    model = keras.models.load_model("model.h5", compile=False)
    assert not model.compiled
    assert np.allclose(model(x), logits, atol=1e-6)


@case(
    'tf.train.load_checkpoint(prefix).get_tensor("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")',
)
def _():
    prefix = str(FIXTURES / "tf2.15-keras2" / "weights_tf" / "ckpt")
    x, logits = keras2_file("expected.npz")
    model = keras2_classifier()
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(prefix)
    hidden, output = model.get_layer("hidden"), model.get_layer("logits")
    hidden.kernel.assign(
        tf.train.load_checkpoint(prefix).get_tensor(
            "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"
        )
    )
    reader = tf.train.load_checkpoint(prefix)
    for key, variable in [
        ("layer_with_weights-0/bias", hidden.bias),
        ("layer_with_weights-1/kernel", output.kernel),
        ("layer_with_weights-1/bias", output.bias),
    ]:
        variable.assign(reader.get_tensor(key + "/.ATTRIBUTES/VARIABLE_VALUE"))
    assert np.allclose(model(x), logits, atol=1e-6)


@case(
    'keras.models.load_model(path, custom_objects={"Functional": keras.Model}, compile=False)',
)
def _():
    x, logits = keras2_file("model.keras")
    path = "model.keras"
    with pytest.raises(
        TypeError, match="Could not deserialize class 'Functional'"
    ):
        keras.models.load_model(path)
    model = keras.models.load_model(
        path, custom_objects={"Functional": keras.Model}, compile=False
    )
    assert np.allclose(model(x), logits, atol=1e-6)


# Training that survives
@case(
    "tf.train.CheckpointManager(tf.train.Checkpoint(model=model, optimizer=optimizer, step=step, iterator=iter(dataset)), folder, max_to_keep=3)",
)
def _():
    def training_run():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        optimizer = keras.optimizers.Adam(0.1)
        optimizer.build(model.trainable_variables)
        step = tf.Variable(0, dtype=tf.int64)
        dataset = tf.data.Dataset.from_tensor_slices(regression_data())
        dataset = dataset.shuffle(16, seed=1).batch(4).repeat()
        return model, optimizer, step, dataset

    def train(model, optimizer, step, batches, until):
        while step < until:
            x, y = next(batches)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((model(x) - y) ** 2)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            step.assign_add(1)

    folder = "run"
    model, optimizer, step, dataset = training_run()
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(
            model=model, optimizer=optimizer, step=step, iterator=iter(dataset)
        ),
        folder,
        max_to_keep=3,
    )
    batches = manager.checkpoint.iterator
    for until in (3, 5):  # a pass is 4 batches: the save is mid-pass
        train(model, optimizer, step, batches, until)
        manager.save(checkpoint_number=int(step))
    train(model, optimizer, step, batches, 7)
    # Both saves are kept: a damaged newest one has a predecessor.
    assert manager.checkpoints == ["run/ckpt-3", "run/ckpt-5"]
    # A new run restores every part from step 5 and goes on to step 7.
    model2, optimizer2, step2, dataset = training_run()
    batches2 = iter(dataset)
    restoring = tf.train.Checkpoint(
        model=model2, optimizer=optimizer2, step=step2, iterator=batches2
    )
    restoring.restore(tf.train.latest_checkpoint(folder)).assert_consumed()
    assert int(step2) == 5 and int(optimizer2.iterations) == 5
    train(model2, optimizer2, step2, batches2, 7)
    resumed = model2.weights + optimizer2.variables
    for got, want in zip(resumed, model.weights + optimizer.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    # The checkpoint holds the iterator's state under its own key.
    keys = [key for key, _ in tf.train.list_variables(folder + "/ckpt-5")]
    assert "iterator/.ATTRIBUTES/ITERATOR_STATE" in keys


@case(
    "layer.seed_generator.state",
    "tf.train.Checkpoint(model=model, seed=dropout.seed_generator.state)",
)
def _():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dropout(0.5)])
    random = [x for x in model.layers if hasattr(x, "seed_generator")]
    (dropout,) = random
    states = [layer.seed_generator.state for layer in random]
    assert states == [dropout.seed_generator.state]
    ones = np.ones((1, 8), "float32")
    model(ones, training=True)
    prefix = tf.train.Checkpoint(
        model=model, seed=dropout.seed_generator.state
    ).write("dropout/ckpt")
    next_mask = model(ones, training=True).numpy()
    keys = [key for key, _ in tf.train.list_variables(prefix)]
    assert "seed/.ATTRIBUTES/VARIABLE_VALUE" in keys
    # The same model without the seed state draws its first mask again.
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dropout(0.5)])
    dropout = model.layers[0]
    first_mask = model(ones, training=True).numpy()
    restoring = tf.train.Checkpoint(
        model=model, seed=dropout.seed_generator.state
    )
    restoring.read(prefix).assert_consumed()
    mask = model(ones, training=True).numpy()
    np.testing.assert_array_equal(mask, next_mask)
    assert not np.array_equal(first_mask, next_mask)


@case(
    'keras.callbacks.BackupAndRestore(folder, save_freq="epoch", double_checkpoint=True)',
    "save_freq=N",
    "fit",
    "double_checkpoint=True",
)
def _():
    class Interrupted(Exception):
        pass

    class InterruptAfter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations) == 6:
                raise Interrupted  # in epoch 1, after its batch 1

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")

    def fit(callbacks):
        x, y = regression_data()
        try:  # 2 epochs of 4 batches: 8 optimizer steps
            model.fit(
                x, y, batch_size=4, epochs=2, callbacks=callbacks, verbose=0
            )
        except Interrupted:
            pass

    N = 1
    folder = "every-epoch"
    backups = {
        folder: lambda: keras.callbacks.BackupAndRestore(
            folder, save_freq="epoch", double_checkpoint=True
        ),
        "every-batch": lambda: keras.callbacks.BackupAndRestore(
            "every-batch", save_freq=N
        ),
    }
    fit([backup() for backup in backups.values()] + [InterruptAfter()])
    # Each resumed fit starts from its backup's weights, optimizer
    # variables (the iteration count among them) and epoch.
    for name, iterations in [("every-epoch", 8), ("every-batch", 10)]:
        assert pathlib.Path(name, "latest.weights.h5").is_file()
        fit([backups[name]()])
        # With save_freq=N, batches 0 and 1 of epoch 1 ran twice.
        assert int(model.optimizer.iterations) == iterations
        assert not pathlib.Path(name).exists()


@case(
    "tf.distribute.MultiWorkerMirroredStrategy()",
    "strategy.run",
    "tf.train.CheckpointManager",
    "strategy.extended.should_checkpoint",
    "folder",
    'os.path.join(folder, f"workertemp_{task_id}")',
    "tf.io.gfile.rmtree",
)
def _():
    # Without TF_CONFIG: a job of one worker, which is its own chief.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.extended.should_checkpoint
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        optimizer = keras.optimizers.Adam(0.1)
        optimizer.build(model.trainable_variables)
    dataset = tf.data.Dataset.from_tensor_slices(regression_data()).batch(4)
    batches = iter(strategy.experimental_distribute_dataset(dataset))

    def train_step(iterator):  # eager here; a tf.function in a real job
        def replica_step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((model(x) - y) ** 2)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            return loss

        losses = strategy.run(replica_step, args=next(iterator))
        return strategy.reduce("SUM", losses, axis=None)

    losses = [float(train_step(batches)) for _ in range(2)]
    assert np.isfinite(losses).all()
    assert int(optimizer.iterations.numpy()) == 2
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    folder = "checkpoints"
    chief = strategy.extended.should_checkpoint
    for task_id, is_chief in [(0, chief), (1, False)]:  # as if 2 workers
        directory = folder
        if not is_chief:
            directory = os.path.join(folder, f"workertemp_{task_id}")
        manager = tf.train.CheckpointManager(
            checkpoint, directory, max_to_keep=1
        )
        saved = manager.save()
        if not is_chief:
            assert saved == "checkpoints/workertemp_1/ckpt-2"
            tf.io.gfile.rmtree(directory)
    assert sorted(os.listdir(folder)) == [
        "checkpoint",
        "ckpt-1.data-00000-of-00001",
        "ckpt-1.index",
    ]


@case(
    "tf.distribute.experimental.ParameterServerStrategy",
    "tf.distribute.experimental.coordinator.ClusterCoordinator",
    "checkpoint.write(prefix)",
    "experimental_io_device=None",
    "tf.train.CheckpointOptions",
    "prefix",
)
def _():
    # Both need a running cluster (chapter 16): only their signatures.
    strategy = tf.distribute.experimental.ParameterServerStrategy
    parameters = inspect.signature(strategy).parameters
    assert list(parameters)[0] == "cluster_resolver"
    coordinator = tf.distribute.experimental.coordinator.ClusterCoordinator
    assert list(inspect.signature(coordinator).parameters) == ["strategy"]
    checkpoint = tf.train.Checkpoint(step=tf.Variable(10))
    prefix = "coordinator/ckpt"
    assert checkpoint.write(prefix) == prefix
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 10
    # No I/O device by default: each shard is saved on the device of the
    # task that holds its variables.
    assert tf.train.CheckpointOptions().experimental_io_device is None
    options = tf.train.CheckpointOptions(experimental_io_device=None)
    assert checkpoint.write(prefix, options=options) == prefix


@case(
    "options = tf.train.CheckpointOptions(experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(max_shard_size=1_000_000))",
    "checkpoint.write(prefix, options=options)",
    "tf.train.experimental.ShardByTaskPolicy()",
    ".data",
)
def _():
    values = np.arange(600_000, dtype="float32")  # 2.4 MB
    checkpoint = tf.train.Checkpoint(
        a=tf.Variable(values), b=tf.Variable(values[::-1])
    )
    # By default, and with the default policy named, one .data file for
    # the one task of this process.
    by_task = tf.train.CheckpointOptions(
        experimental_sharding_callback=tf.train.experimental.ShardByTaskPolicy()
    )
    checkpoint.write("default/ckpt")
    checkpoint.write("by-task/ckpt", options=by_task)
    for folder in ("default", "by-task"):
        data = pathlib.Path(folder).glob("ckpt.data-*")
        assert [path.name for path in data] == ["ckpt.data-00000-of-00001"]
    options = tf.train.CheckpointOptions(
        experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(
            max_shard_size=1_000_000
        )
    )
    prefix = "sharded/ckpt"
    checkpoint.write(prefix, options=options)
    shards = pathlib.Path("sharded").glob("ckpt.data-*")
    sizes = [path.stat().st_size for path in shards]
    assert len(sizes) > 4 and max(sizes) <= 1_000_000
    # Reading needs no option.
    zeros = np.zeros_like(values)
    other = tf.train.Checkpoint(a=tf.Variable(zeros), b=tf.Variable(zeros))
    other.read(prefix).assert_consumed()
    np.testing.assert_array_equal(other.b.numpy(), values[::-1])


# Files you did not write
def file_from(path):
    """A file an old version wrote, fixtures/<path>, copied here under its
    own name; and the inputs and outputs its writer recorded for it."""
    source, inputs, outputs = recorded(path)
    here = pathlib.Path(source.name)
    if source.is_dir():
        shutil.copytree(source, here)
    else:
        shutil.copy(source, here)
    return here.name, inputs, outputs


@case(
    'tf1.saved_model.loader.load(sess, ["serve"], folder)',
    "tf1.Session",
    "sess.run",
    'meta.signature_def["serving_default"]',
    "tf.saved_model.load(folder)",
    "tf_keras",
)
def _():
    import importlib.util

    folder, inputs, outputs = file_from("tf2.10/savedmodel_adam")
    with tf.Graph().as_default(), tf1.Session() as sess:
        meta = tf1.saved_model.loader.load(sess, ["serve"], folder)
        signature = meta.signature_def["serving_default"]
        logits = sess.run(
            signature.outputs["logits"].name,
            {signature.inputs["features"].name: inputs["features"]},
        )
    assert np.allclose(logits, outputs["logits"], atol=1e-6)
    # Where tf_keras is installed, as here, TensorFlow rebuilds the Keras 2
    # optimizer with it; chapter 17 shows the failure without it.
    assert importlib.util.find_spec("tf_keras") is not None
    serving = tf.saved_model.load(folder).signatures["serving_default"]
    served = serving(features=tf.constant(inputs["features"]))
    assert np.allclose(served["logits"], outputs["logits"], atol=1e-6)


@case(
    'imported.prune(feeds=["x:0"], fetches="y:0")',
    "feeds",
    "feeds=[]",
)
def _():
    path, inputs, outputs = file_from("keras2.2-tf1.15/frozen/model.pb")
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(pathlib.Path(path).read_bytes())

    def import_frozen_graph():
        tf1.import_graph_def(graph_def, name="")

    imported = tf1.wrap_function(import_frozen_graph, signature=[])
    with pytest.raises(Exception, match="depends transitively on placeholder"):
        imported.prune(feeds=[], fetches="y:0")
    frozen = imported.prune(feeds=["x:0"], fetches="y:0")
    got = frozen(tf.constant(inputs["x"]))
    assert np.allclose(got, outputs["y"], atol=1e-6)


@case(
    "signature(**inputs)",
    "layer.call_endpoint_fn(**inputs)",
    "TFSMLayer",
    "layer(inputs)",
    "TypeError",
)
def _():
    folder, inputs, outputs = file_from("tf2.10/two_inputs")
    layer = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")
    with pytest.raises(TypeError, match="positional"):
        layer(inputs)
    signature = tf.saved_model.load(folder).signatures["serving_default"]
    inputs = {name: tf.constant(value) for name, value in inputs.items()}
    for got in (signature(**inputs), layer.call_endpoint_fn(**inputs)):
        assert np.allclose(got["score"], outputs["score"], atol=1e-6)


@case(
    "time_major=False",
    'keras.models.load_model(path, compile=False, custom_objects={"LSTM": LSTMWithoutTimeMajor})',
    "keras.layers.LSTM",
    "tf_keras.models.load_model(path, compile=False)",
)
def _():
    import tf_keras

    path, inputs, outputs = file_from("tf2.10/lstm.h5")
    with pytest.raises(ValueError, match="time_major"):
        keras.models.load_model(path, compile=False)

    class LSTMWithoutTimeMajor(keras.layers.LSTM):
        def __init__(self, *args, time_major=False, **kwargs):
            assert not time_major
            super().__init__(*args, **kwargs)

    model = keras.models.load_model(
        path,
        compile=False,
        custom_objects={"LSTM": LSTMWithoutTimeMajor},
    )
    assert np.allclose(model(inputs), outputs["out"], atol=1e-6)
    model = tf_keras.models.load_model(path, compile=False)
    got = model(inputs["sequence"])
    assert np.allclose(got, outputs["out"], atol=1e-6)


@case(
    "keras.layers.LSTM",
)
def _():
    path, inputs, outputs = file_from("keras2.2-tf1.15/cudnn_lstm.h5")
    kernel, recurrent, bias, dense = cudnn_lstm_weights(path)
    units = recurrent.shape[0]
    summed_bias = bias[: 4 * units] + bias[4 * units :]

    def predict(lstm_weights):
        model = keras.Sequential(
            [
                keras.Input((5, 3)),
                keras.layers.LSTM(units),
                keras.layers.Dense(2),
            ]
        )
        model.layers[0].set_weights(lstm_weights)
        model.layers[1].set_weights(dense)
        return model(inputs["lstm_input"]).numpy()

    # Biases summed, kernels as stored: no error, wrong outputs.
    naive = predict([kernel, recurrent, summed_bias])
    assert np.abs(naive - outputs["out"]).max() > 0.5
    converted = predict(
        [by_gate(kernel, units), by_gate(recurrent, units), summed_bias]
    )
    assert np.allclose(converted, outputs["out"], atol=1e-6)


@case(
    "Attention",
    'keras.models.load_model(path, compile=False, custom_objects={"Attention": Attention})',
)
def _():
    path, inputs, outputs = file_from("tf2.10/attention.h5")
    # Keras builds its own Attention layer, which wants [query, value].
    with pytest.raises(ValueError, match="list of inputs"):
        keras.models.load_model(path, compile=False)

    Attention = attention_layer()
    model = keras.models.load_model(
        path, compile=False, custom_objects={"Attention": Attention}
    )
    assert np.allclose(model(inputs), outputs["out"], atol=1e-6)


@case(
    "tf_keras.models.model_from_json(text)",
    'model.load_weights("weights.h5")',
    "keras.models.model_from_json",
    "TypeError",
)
def _():
    import tf_keras

    folder, inputs, outputs = file_from("keras2.2-tf1.15/json_weights")
    shutil.copy(f"{folder}/weights.h5", "weights.h5")
    text = pathlib.Path(folder, "model.json").read_text()
    with pytest.raises(TypeError, match="Could not locate class 'Sequential'"):
        keras.models.model_from_json(text)
    model = tf_keras.models.model_from_json(text)
    model.load_weights("weights.h5")
    got = model(inputs["hidden_input"])
    assert np.allclose(got, outputs["logits"], atol=1e-6)


@case(
    "tf1.train.import_meta_graph",
    "saver.restore",
    "x_3:0",
    "y_3:0",
    "y:0",
)
def _():
    folder, inputs, outputs = file_from("keras2.2-tf1.15/four_copies")
    with tf.Graph().as_default(), tf1.Session() as sess:
        saver = tf1.train.import_meta_graph(f"{folder}/model.ckpt.meta")
        saver.restore(sess, f"{folder}/model.ckpt")
        last = sess.run("y_3:0", {"x_3:0": inputs["x_3"]})
        first = sess.run("y:0", {"x:0": inputs["x_3"]})
    assert np.allclose(last, outputs["y_3"], atol=1e-6)
    # The first copy's names run too, on variables nobody trained.
    assert np.abs(first - outputs["y_3"]).max() > 0.5


# Taking a model onward
def onward_classifier():
    """The Keras 2 classifier (TF 2.15), loaded by Keras 3, with the inputs
    and logits TF 2.15 recorded."""
    expected = np.load(FIXTURES / "tf2.15-keras2" / "expected.npz")
    model = keras.models.load_model(
        FIXTURES / "tf2.15-keras2" / "model.h5", compile=False
    )
    return model, expected["x"], expected["logits"]


@case(
    "archive = keras.export.ExportArchive()",
    "archive.track(model)",
    'archive.add_endpoint("serving_default", fn, input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])',
    "archive.write_out(folder)",
    "TensorSpec",
    "fn",
    "saved_model_cli show --dir folder --all",
)
def _():
    import subprocess
    import sys

    model, x, logits = onward_classifier()
    folder = "served"

    def fn(features):
        return {"logits": model([features])}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        fn,
        input_signature=[
            tf.TensorSpec([None, 4], tf.float32, name="features")
        ],
    )
    archive.write_out(folder)
    signature = tf.saved_model.load(folder).signatures["serving_default"]
    assert np.array_equal(signature(features=x)["logits"], logits)
    command = "saved_model_cli show --dir folder --all".replace(
        "folder", folder
    )
    shown = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
        + command.split()[1:],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "signature_def['serving_default']" in shown
    assert "inputs['features']" in shown and "outputs['logits']" in shown


@case(
    'pruned = wrapped.prune(feeds=[], fetches={"sum": wrapped.graph.get_tensor_by_name("add:0")})',
    "tf1.wrap_function",
    "tf1.import_graph_def",
    'tf.saved_model.save(tf.Module(), folder, signatures={"serving_default": tf.function(lambda: pruned(), input_signature=[])})',
)
def _():
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(frozen_graph_bytes())
    wrapped = tf1.wrap_function(
        lambda: tf1.import_graph_def(graph_def, name=""), signature=[]
    )
    pruned = wrapped.prune(
        feeds=[], fetches={"sum": wrapped.graph.get_tensor_by_name("add:0")}
    )
    folder = "frozen_savedmodel"
    tf.saved_model.save(
        tf.Module(),
        folder,
        signatures={
            "serving_default": tf.function(
                lambda: pruned(), input_signature=[]
            )
        },
    )
    signature = tf.saved_model.load(folder).signatures["serving_default"]
    assert signature()["sum"].numpy() == [3.0]


def run_litert(flat_buffer, x):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=flat_buffer).get_signature_runner(
        "serving_default"
    )(features=x)


@case(
    'tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=["serving_default"]).convert()',
    'model.export("model.tflite", format="litert")',
    'Interpreter(model_content=flat_buffer).get_signature_runner("serving_default")(features=x)',
    "Interpreter",
    "ai_edge_litert.interpreter",
    "tf.lite.Interpreter",
    "1e-6",
)
def _():
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    model, x, logits = onward_classifier()
    folder = "classifier"
    model.export(folder, verbose=False)
    # model.export writes the endpoints "serve" and "serving_default".
    flat_buffer = tf.lite.TFLiteConverter.from_saved_model(
        folder, signature_keys=["serving_default"]
    ).convert()
    got = Interpreter(model_content=flat_buffer).get_signature_runner(
        "serving_default"
    )(features=x)
    (values,) = got.values()
    assert np.abs(values - logits).max() < 1e-6
    model.export("model.tflite", format="litert")
    interpreter = Interpreter(model_path="model.tflite")
    (name,) = interpreter.get_signature_list()
    (values,) = interpreter.get_signature_runner(name)(features=x).values()
    assert np.abs(values - logits).max() < 1e-6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.lite.Interpreter(model_content=flat_buffer)
    assert "tf.lite.Interpreter is deprecated" in str(caught[0].message)


@case(
    "converter.optimizations = [tf.lite.Optimize.DEFAULT]",
    "converter.target_spec.supported_types = [tf.float16]",
    "float32",
)
def _():
    keras.utils.set_random_seed(18)
    wide = keras.Sequential(
        [
            keras.Input((64,), name="features"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    x = np.random.default_rng(18).normal(size=(8, 64)).astype("float32")
    want = wide(x).numpy()
    wide.export("wide", verbose=False)
    sizes, differences = {}, {}
    for kind in ("float32", "float16", "dynamic range"):
        converter = tf.lite.TFLiteConverter.from_saved_model(
            "wide", signature_keys=["serving_default"]
        )
        if kind != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if kind == "float16":
            converter.target_spec.supported_types = [tf.float16]
        flat_buffer = converter.convert()
        (got,) = run_litert(flat_buffer, x).values()
        sizes[kind], differences[kind] = (
            len(flat_buffer),
            np.abs(got - want).max(),
        )
    assert sizes["float16"] < 0.55 * sizes["float32"]
    assert sizes["dynamic range"] < 0.35 * sizes["float32"]
    assert differences["float32"] < 1e-5 < differences["float16"] < 1e-2
    # The 67 weights of the classifier stay float32: the same file.
    model, x, _ = onward_classifier()
    model.export("small", verbose=False)
    plain = tf.lite.TFLiteConverter.from_saved_model("small").convert()
    converter = tf.lite.TFLiteConverter.from_saved_model("small")
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    quantized = converter.convert()
    assert len(quantized) == len(plain)
    assert np.array_equal(
        run_litert(quantized, x)["output_0"], run_litert(plain, x)["output_0"]
    )


@case(
    "tf.lite.TFLiteConverter.from_concrete_functions([fn], model)",
    "fn",
    "tf.TensorSpec([6, 5, 3], tf.float32)",
    "unroll=True",
)
def _():
    import tf_keras

    path, inputs, outputs = file_from("tf2.10/lstm.h5")
    model = tf_keras.models.load_model(path, compile=False)
    with pytest.raises(Exception, match="TensorListReserve"):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()
    fn = tf.function(lambda s: {"out": model(s)}).get_concrete_function(
        tf.TensorSpec([6, 5, 3], tf.float32)
    )
    static = tf.lite.TFLiteConverter.from_concrete_functions([fn], model)
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "LSTM":
            layer["config"].update(unroll=True)
    unrolled = tf_keras.Model.from_config(config)
    unrolled.set_weights(model.get_weights())
    from ai_edge_litert.interpreter import Interpreter

    for converter in (
        static,
        tf.lite.TFLiteConverter.from_keras_model(unrolled),
    ):
        interpreter = Interpreter(model_content=converter.convert())
        ((signature, names),) = interpreter.get_signature_list().items()
        (name,) = names["inputs"]
        runner = interpreter.get_signature_runner(signature)
        (got,) = runner(**{name: inputs["sequence"]}).values()
        assert np.abs(got - outputs["out"]).max() < 1e-6


@case(
    'tf2onnx.convert.from_graph_def(graph_def, input_names=["x:0"], output_names=["y:0"])',
    "tf2onnx.convert.from_function(fn, input_signature=specs)",
    'onnxruntime.InferenceSession(path).run(None, {"x:0": x})',
    "onnx.defs.has(node.op_type)",
)
def _():
    import onnx
    import onnxruntime
    import tf2onnx

    path, inputs, outputs = file_from("keras2.2-tf1.15/frozen/model.pb")
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(pathlib.Path(path).read_bytes())
    proto, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=["x:0"], output_names=["y:0"]
    )
    path = "model.onnx"
    pathlib.Path(path).write_bytes(proto.SerializeToString())
    x = inputs["x"]
    (y,) = onnxruntime.InferenceSession(path).run(None, {"x:0": x})
    assert np.abs(y - outputs["y"]).max() < 1e-6
    assert all(onnx.defs.has(node.op_type) for node in proto.graph.node)

    specs = [tf.TensorSpec([None], tf.float32, name="t")]
    fn = tf.function(
        lambda t: {
            "doubled": tf.py_function(lambda a: a * 2, [t], tf.float32)
        },
        input_signature=specs,
    )
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=specs)
    assert not all(onnx.defs.has(node.op_type) for node in proto.graph.node)
    with pytest.raises(Exception, match="EagerPyFunc"):
        onnxruntime.InferenceSession(proto.SerializeToString())


@case(
    'save_file(weights, "model.safetensors")',
    'load_file("model.safetensors")',
    "safetensors.numpy",
    "Dense",
    "Linear",
    "kernel.T",
    "Conv2D",
    "Conv2d",
    "kernel.transpose(3, 2, 0, 1)",
    "LSTM",
    "bias_ih",
    "bias_hh",
)
def _():
    from safetensors.numpy import load_file, save_file

    model, x, logits = onward_classifier()
    weights = {weight.path: weight.numpy() for weight in model.weights}
    save_file(weights, "model.safetensors")
    w = load_file("model.safetensors")

    def linear(x, weight, bias):  # torch.nn.Linear: weight is (out, in)
        return x @ weight.T + bias

    # A Dense kernel is (in, out): kernel.T is the Linear weight.
    hidden = np.maximum(linear(x, w["hidden/kernel"].T, w["hidden/bias"]), 0)
    got = linear(hidden, w["logits/kernel"].T, w["logits/bias"])
    assert np.abs(got - logits).max() < 1e-6

    keras.utils.set_random_seed(5)
    conv = keras.layers.Conv2D(4, 3)
    images = (
        np.random.default_rng(5).normal(size=(1, 5, 5, 3)).astype("float32")
    )
    want = conv(images).numpy()  # NHWC
    kernel, bias = (v.numpy() for v in conv.weights)
    weight = kernel.transpose(3, 2, 0, 1)  # the Conv2d weight, (out, in, h, w)
    nchw = images.transpose(0, 3, 1, 2)
    got = np.empty((1, 4, 3, 3), np.float32)
    for i in range(3):
        for j in range(3):
            patch = nchw[:, :, i : i + 3, j : j + 3]
            got[:, :, i, j] = np.einsum("nchw,ochw->no", patch, weight) + bias
    assert np.abs(got.transpose(0, 2, 3, 1) - want).max() < 1e-5

    # LSTM: PyTorch adds bias_ih and bias_hh; the Keras bias goes in once.
    keras.utils.set_random_seed(6)
    lstm = keras.layers.LSTM(4)
    steps = np.random.default_rng(6).normal(size=(2, 5, 3)).astype("float32")
    want = lstm(steps).numpy()
    kernel, recurrent, keras_bias = (v.numpy() for v in lstm.weights)

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def torch_lstm(bias_ih, bias_hh):  # gates i, f, g, o, as Keras's
        h = c = np.zeros((2, 4), np.float32)
        for t in range(5):
            z = steps[:, t] @ kernel + bias_ih + h @ recurrent + bias_hh
            i, f, g, o = np.split(z, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        return h

    bias_ih, bias_hh = keras_bias, np.zeros_like(keras_bias)
    assert np.abs(torch_lstm(bias_ih, bias_hh) - want).max() < 1e-5
    assert np.abs(torch_lstm(keras_bias, keras_bias) - want).max() > 1e-3


# The TF1 column, where running it is cheap. Not every TF1 snippet has one.
@tf1_case(
    "tf1.global_variables_initializer()",
    "sess.run(init_op)",
    "tf1.Session",
)
def _():
    with tf.Graph().as_default():
        v = tf1.Variable(3.0)
        init_op = tf1.global_variables_initializer()
        with tf1.Session() as sess:
            sess.run(init_op)
            assert sess.run(v) == 3.0


@tf1_case(
    'tf1.train.Saver().save(sess, "mymodel/model.ckpt")',
    "tf1.train.latest_checkpoint(folder)",
    "saver.restore(sess, prefix)",
)
def _():
    with tf.Graph().as_default():
        v = tf1.Variable(3.0, name="v")
        with tf1.Session() as sess:
            sess.run(v.initializer)
            tf1.train.Saver().save(sess, "mymodel/model.ckpt")
    folder = "mymodel"
    prefix = tf1.train.latest_checkpoint(folder)
    with tf.Graph().as_default():
        v = tf1.Variable(0.0, name="v")
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            assert sess.run(v) == 3.0


@tf1_case(
    "sess.run(tf1.assign(v, 10))",
)
def _():
    with tf.Graph().as_default():
        v = tf1.Variable(0.0)
        with tf1.Session() as sess:
            sess.run(v.initializer)
            sess.run(tf1.assign(v, 10))
            assert sess.run(v) == 10.0


@tf1_case(
    'tf1.train.Saver({"v/ExponentialMovingAverage": v})',
)
def _():
    prefix = tf1_checkpoint("ema")
    restored = tf1_restored_v(
        prefix, lambda v: tf1.train.Saver({"v/ExponentialMovingAverage": v})
    )
    assert restored == np.float32(0.099999905)


@tf1_case(
    "tf1.train.Saver(max_to_keep=2)",
    "saver.save(sess, prefix, global_step=step)",
)
def _():
    with tf.Graph().as_default():
        v = tf1.Variable(3.0, name="v")
        saver = tf1.train.Saver(max_to_keep=2)
        with tf1.Session() as sess:
            sess.run(v.initializer)
            prefix = "rolling/model.ckpt"
            for step in (100, 200, 300):
                saver.save(sess, prefix, global_step=step)
    kept = sorted(p.name for p in pathlib.Path("rolling").glob("*.index"))
    assert kept == ["model.ckpt-200.index", "model.ckpt-300.index"]


@tf1_case(
    'tf1.train.import_meta_graph("model.ckpt.meta")',
    'get_tensor_by_name("add:0")',
)
def _():
    with tf1_v1_plus_v2() as sess:
        tf1.train.Saver().save(sess, "model.ckpt")
    with tf.Graph().as_default() as graph:
        saver = tf1.train.import_meta_graph("model.ckpt.meta")
        with tf1.Session() as sess:
            saver.restore(sess, "model.ckpt")
            assert sess.run(graph.get_tensor_by_name("add:0")) == [3.0]


@tf1_case(
    'tf1.train.Saver({"v1": other_v1, "v2": other_v2})',
    "tf1.global_variables()",
    "tf1.trainable_variables()",
)
def _():
    prefix = tf1_checkpoint("two_variables")
    with tf.Graph().as_default():
        other_v1 = tf1.Variable([0.0], name="other_v1")
        other_v2 = tf1.Variable([0.0], name="other_v2")
        tf1.Variable(0, name="step", trainable=False)
        assert len(tf1.global_variables()) == 3
        assert len(tf1.trainable_variables()) == 2
        saver = tf1.train.Saver({"v1": other_v1, "v2": other_v2})
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            assert sess.run([other_v1, other_v2]) == [[1.0], [2.0]]


@tf1_case(
    "ema = tf1.train.ExponentialMovingAverage(0.99)",
    "ema.apply(var_list)",
    "ema.apply",
    "ema.average(v)",
    "tf1.train.Saver()",
    "v/ExponentialMovingAverage",
    "v",
    "tf1.train.Saver(ema.variables_to_restore())",
)
def _():
    with tf.Graph().as_default():
        v = tf1.Variable(0.0, name="v")
        ema = tf1.train.ExponentialMovingAverage(0.99)
        var_list = [v]
        update = ema.apply(var_list)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            sess.run(tf1.assign(v, 10.0))
            sess.run(update)
            assert sess.run(ema.average(v)) == np.float32(0.099999905)
            prefix = tf1.train.Saver().save(sess, "ema/model.ckpt")
    keys = [key for key, _ in tf.train.list_variables(prefix)]
    assert keys == ["v", "v/ExponentialMovingAverage"]

    def averages_into_variables(v):
        ema = tf1.train.ExponentialMovingAverage(0.99)
        return tf1.train.Saver(ema.variables_to_restore())

    restored = tf1_restored_v(prefix, averages_into_variables)
    assert restored == np.float32(0.099999905)


@tf1_case(
    "tf1.gfile.GFile",
    "tf1.gfile.FastGFile",
)
def _():
    with tf1.gfile.GFile("data.bin", "wb") as f:
        f.write(b"graph")
    assert tf1.gfile.FastGFile("data.bin", "rb").read() == b"graph"


@tf1_case(
    "tf1.GraphDef().ParseFromString(data)",
    'tf1.import_graph_def(graph_def, return_elements=["add:0"])',
)
def _():
    data = frozen_graph_bytes()
    graph_def = tf1.GraphDef()
    assert tf1.GraphDef().ParseFromString(data) == len(data)
    graph_def.ParseFromString(data)
    with tf.Graph().as_default():
        (add,) = tf1.import_graph_def(graph_def, return_elements=["add:0"])
        with tf1.Session() as sess:
            assert sess.run(add) == [3.0]


@tf1_case(
    'tf1.graph_util.convert_variables_to_constants(sess, graph_def, ["add"])',
)
def _():
    with tf1_v1_plus_v2() as sess:
        graph_def = sess.graph.as_graph_def()
        frozen = tf1.graph_util.convert_variables_to_constants(
            sess, graph_def, ["add"]
        )
    assert {node.op for node in frozen.node} == {"Const", "Identity", "AddV2"}


# Training that survives
@tf1_case(
    "tf1.train.Saver().save(sess, prefix, global_step=step)",
)
def _():
    with tf.Graph().as_default():
        step = tf1.train.get_or_create_global_step()
        with tf1.Session() as sess:
            sess.run(tf1.assign(step, 13))
            prefix = "run/model.ckpt"
            saved = tf1.train.Saver().save(sess, prefix, global_step=step)
    assert saved == "run/model.ckpt-13"
    assert tf.train.load_checkpoint(saved).get_tensor("global_step") == 13


@tf1_case(
    "tf1.train.replica_device_setter(ps_tasks=2)",
)
def _():
    with tf.Graph().as_default():
        with tf1.device(tf1.train.replica_device_setter(ps_tasks=2)):
            variables = [tf1.Variable(0.0) for _ in range(3)]
            total = tf1.add_n(variables)
    assert [v.device for v in variables] == [
        "/job:ps/task:0",
        "/job:ps/task:1",
        "/job:ps/task:0",
    ]
    assert total.device == "/job:worker"


@tf1_case(
    "tf1.train.Saver(sharded=True)",
)
def _():
    # One .data file per device: two CPU devices, two files.
    with tf.Graph().as_default():
        with tf1.device("/cpu:0"):
            v = tf1.Variable(3.0, name="v")
        with tf1.device("/cpu:1"):
            w = tf1.Variable(4.0, name="w")
        saver = tf1.train.Saver(sharded=True)
        config = tf1.ConfigProto(device_count={"CPU": 2})
        with tf1.Session(config=config) as sess:
            sess.run([v.initializer, w.initializer])
            prefix = saver.save(sess, "model.ckpt")
    assert saver.saver_def.sharded
    data = sorted(
        path.name for path in pathlib.Path().glob("model.ckpt.data-*")
    )
    assert data == [
        "model.ckpt.data-00000-of-00002",
        "model.ckpt.data-00001-of-00002",
    ]
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_tensor("v") == 3.0 and reader.get_tensor("w") == 4.0


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def cheatsheet_snippets(text, columns):
    """(snippet, table row) for every code span in the named column of each
    table, and every fenced code block, in the order of the page."""
    found = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S):
        found.append((block.strip(), "a code block"))
    header = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            wanted = [
                i for i, name in enumerate(header) if name.startswith(columns)
            ]
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        for i in wanted:
            for span in re.findall(r"`([^`]+)`", cells[i]):
                found.append((span, cells[0]))
    return found


def _by_snippet(cases):
    return {snippet: snippets for snippets in cases for snippet in snippets}


TEXT = CHEATSHEET.read_text(encoding="utf-8")
SNIPPETS = cheatsheet_snippets(TEXT, NEW_COLUMNS)
TF1_SNIPPETS = cheatsheet_snippets(TEXT, ("TF1",))


def test_the_cheatsheet_has_snippets():
    assert len(SNIPPETS) > 30, SNIPPETS
    assert len({row for _, row in SNIPPETS}) >= 20


def test_every_snippet_has_a_case():
    known = _by_snippet(CASES)
    missing = [
        f"{snippet!r} (row {row!r})"
        for snippet, row in SNIPPETS
        if snippet not in known
    ]
    assert not missing, (
        "snippets of book/cheatsheet.md that no case in "
        "tests/test_cheatsheet.py runs; add a @case for them:\n"
        + "\n".join(missing)
    )


def test_every_case_is_in_the_cheatsheet():
    on_the_page = {s for s, _ in SNIPPETS} | {s for s, _ in TF1_SNIPPETS}
    gone = [
        s
        for s in {**_by_snippet(CASES), **_by_snippet(TF1_CASES)}
        if s not in on_the_page
    ]
    assert not gone, f"cases for snippets no longer in the cheat sheet: {gone}"


def unwrapped(code):
    """`code` without whitespace and without a comma before a closing
    bracket: a snippet that is one long line on the page matches the lines
    `ruff format` broke it into, trailing comma included."""
    return re.sub(r",(?=[)\]}])", "", re.sub(r"\s+", "", code))


def test_unwrapped_matches_what_the_formatter_made():
    formatted = """
        prefix = tf.train.Checkpoint(
            model_weights=[w, b],
            averaged_weights=[ema.average(w), ema.average(b)],
        ).write("many/ckpt")
    """
    snippet = (
        "tf.train.Checkpoint(model_weights=[w, b], "
        "averaged_weights=[ema.average(w), ema.average(b)])"
    )
    assert unwrapped(snippet) in unwrapped(formatted)
    assert unwrapped("ema.average(v)") not in unwrapped(formatted)


def _run(snippets, function, tmp_path, monkeypatch):
    body = BODIES[function]
    for snippet in snippets:
        assert unwrapped(snippet) in unwrapped(body), (
            f"the case does not run {snippet!r}"
        )
    assert "assert " in body, "a case checks a value"
    monkeypatch.chdir(tmp_path)
    if "keras" in body:
        # Fresh layer names. Without the garbage collection it would also
        # run (most of the cost, in a process this full), only here.
        keras.backend.clear_session(free_memory=False)
    function()
    if "iter(" in body:
        # A tf.data iterator in a reference cycle goes only when the garbage
        # collector runs, and its destructor waits for its prefetch threads.
        # Left to pytest's collection at the end of the run, that wait held
        # the worker's exit for 4 s or more, up to xdist's 10-s kill; made
        # here, right after the case, it does not wait.
        gc.collect()


def _case_id(snippets):
    return snippets[0][:40]


@pytest.mark.parametrize(
    "snippets", list(CASES), ids=[_case_id(s) for s in CASES]
)
def test_tf2_snippet_runs(snippets, _tensorflow, tmp_path, monkeypatch):
    _run(snippets, CASES[snippets], tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "snippets", list(TF1_CASES), ids=[_case_id(s) for s in TF1_CASES]
)
def test_tf1_snippet_runs(snippets, _tensorflow, tmp_path, monkeypatch):
    _run(snippets, TF1_CASES[snippets], tmp_path, monkeypatch)


def test_chapter_links_point_at_chapters():
    """Every link names an existing chapter, by its number (the primer,
    chapter 00, by name)."""
    links = re.findall(r"\[([^\]]+)\]\((\.\./notebooks/[^)]+)\)", TEXT)
    assert links, "the cheat sheet links its chapters"
    wrong = set()
    for text, link in links:
        path = (CHEATSHEET.parent / link).resolve()
        number = path.name[:2]
        expected = "primer" if number == "00" else str(int(number))
        if not path.is_file() or text != expected:
            wrong.add(f"[{text}]({link})")
    assert not wrong, f"links to no chapter or the wrong one: {sorted(wrong)}"
