"""One test per cell of book/compatibility.md: a file kind written by TF 1.15.5,
by TF 2.15 with Keras 2, or by TF 2.21 with Keras 3, read by TF 2.21 and
Keras 3.15 with the API the page names, its values compared, and what the
page says is refused or lost checked too. The test id is `<row>-<writer>`,
as the page names it. The old files are the committed fixtures; the TF 2.21
files are written here."""

import functools
import os
import sys
import warnings

import numpy as np
import pytest
from support.book import ROOT
from support.old_files import (
    attention_layer,
    by_gate,
    cudnn_lstm_weights,
    recorded,
)

# TensorFlow and Keras are imported by the fixture below, not at collection:
# every pytest worker collects this module, and only the one that runs it
# should pay for the import.
tf = tf1 = keras = None


@pytest.fixture(autouse=True, scope="module")
def _tensorflow():
    global tf, tf1, keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf1 = tf.compat.v1


TF1 = ROOT / "fixtures" / "tf1.15"
KERAS2 = ROOT / "fixtures" / "tf2.15-keras2"
K2 = np.load(KERAS2 / "expected.npz")
# "3.11": the Python that wrote the Keras 2 files, as their transcript says.
KERAS2_PYTHON = next(
    line.split()[1].rsplit(".", 1)[0]
    for line in (KERAS2 / "transcript.txt").read_text().splitlines()
    if line.startswith("python ")
)
TF1_KERAS = np.load(TF1 / "keras" / "expected.npz")
CELLS = {}


def cell(row, writer):
    def register(function):
        CELLS[f"{row}-{writer}"] = function
        return function

    return register


def classifier(seed=0):
    """The Keras 2 fixtures' classifier, built in Keras 3."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(4,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    return keras.Model(inputs, logits, name="classifier")


def assert_same(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=1e-5)


def assert_computes(model, expected):
    """The model gives `expected` for the Keras 2 fixtures' inputs. A model
    loaded from a Keras 2 file warns that its input structure differs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(model(K2["x"]), expected)


def fitted_and_reloaded(path, loss):
    """classifier() after one optimizer step, saved to `path` and loaded
    back: (the model, the loaded one), which compute the same."""
    model = classifier()
    model.compile(optimizer="adam", loss=loss)
    model.fit(K2["x"], np.zeros((16, 3)), verbose=0)
    model.save(str(path))
    loaded = keras.models.load_model(str(path))
    assert_same(loaded(K2["x"]), model(K2["x"]).numpy())
    return model, loaded


def raises_with(exception, text, function):
    with pytest.raises(exception) as info:
        function()
    assert text in str(info.value)


def refused(path, exception, text, compiles=(False,)):
    """load_model refuses the file with `text`, for each value of compile."""
    for compile in compiles:
        raises_with(
            exception,
            text,
            lambda compile=compile: keras.models.load_model(
                path, compile=compile
            ),
        )


def tf1_two_variables(folder):
    """Chapter 1's graph saved by today's `tf1.train.Saver`."""
    with tf.Graph().as_default():
        v1 = tf1.Variable(tf1.constant(1.0, shape=[1]), name="v1")
        v2 = tf1.Variable(tf1.constant(2.0, shape=[1]), name="v2")
        result = v1 + v2
        saver = tf1.train.Saver()
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            prefix = saver.save(sess, str(folder / "model.ckpt"))
            frozen = tf1.graph_util.convert_variables_to_constants(
                sess, tf1.get_default_graph().as_graph_def(), ["add"]
            )
    assert result.op.type == "AddV2"
    (folder / "combined_model.pb").write_bytes(frozen.SerializeToString())
    return prefix


def read_alike(row, check, tf1_file, keras2_file, written_here):
    """Register the three cells of a row whose files are read the same way:
    check(path, writer) on TF 1.15's file, on Keras 2's, and on the file
    that tf1_two_variables writes here with TF 2.21."""
    cell(row, "tf1.15")(lambda: check(TF1 / tf1_file, "tf1.15"))
    cell(row, "keras2")(lambda: check(KERAS2 / keras2_file, "keras2"))

    def keras3(tmp_path):
        tf1_two_variables(tmp_path)
        check(tmp_path / written_here, "keras3")

    cell(row, "keras3")(keras3)


# Row saver-checkpoint: a TF1 `Saver` checkpoint (.index + .data).
def restore_by_name(prefix):
    v1 = tf.Variable([0.0], name="v1")
    v2 = tf.Variable([0.0], name="v2")
    tf.train.Checkpoint(a=v1, b=v2).restore(str(prefix)).assert_consumed()
    assert (v1 + v2).numpy().tolist() == [3.0]
    reader = tf.train.load_checkpoint(str(prefix))
    assert sorted(reader.get_variable_to_shape_map()) == ["v1", "v2"]


read_alike(
    "saver-checkpoint",
    lambda prefix, _: restore_by_name(prefix),
    "two_variables/model.ckpt",
    "saver/model.ckpt",
    "model.ckpt",
)


# Row meta-graph: the `.meta` beside it, imported into a graph.
def import_meta(prefix, writer):
    # TF 1.15 made reference variables; imported today, they still are.
    variable_dtype = tf.float32._as_ref if writer == "tf1.15" else tf.float32
    with tf.Graph().as_default() as graph:
        saver = tf1.train.import_meta_graph(str(prefix) + ".meta")
        assert [v.dtype for v in tf1.global_variables()] == [
            variable_dtype
        ] * 2
        with tf1.Session() as sess:
            saver.restore(sess, str(prefix))
            assert sess.run(graph.get_tensor_by_name("add:0")).tolist() == [
                3.0
            ]


read_alike(
    "meta-graph",
    import_meta,
    "two_variables/model.ckpt",
    "saver/model.ckpt",
    "model.ckpt",
)


# Row frozen-graph: a frozen GraphDef (.pb), in a session or eagerly.
def run_frozen(path):
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    assert not {n.op for n in graph_def.node} & {"VariableV2", "VarHandleOp"}
    with tf.Graph().as_default():
        (result,) = tf1.import_graph_def(graph_def, return_elements=["add:0"])
        with tf1.Session() as sess:
            assert sess.run(result).tolist() == [3.0]
    wrapped = tf1.wrap_function(
        lambda: tf1.import_graph_def(graph_def, name=""), []
    )
    function = wrapped.prune([], wrapped.graph.get_tensor_by_name("add:0"))
    assert function().numpy().tolist() == [3.0]


read_alike(
    "frozen-graph",
    lambda path, _: run_frozen(path),
    "frozen/combined_model.pb",
    "frozen/combined_model.pb",
    "combined_model.pb",
)


# Row object-checkpoint: object-based, from `tf.train.Checkpoint` or Keras 2's
# `save_weights` in the TF format.
@cell("object-checkpoint", "tf1.15")
def _():
    v1, v2 = tf.Variable([0.0]), tf.Variable([0.0])
    status = tf.train.Checkpoint(v1=v1, v2=v2).restore(
        str(TF1 / "object" / "ckpt-1")
    )
    status.assert_consumed()
    assert (v1 + v2).numpy().tolist() == [3.0]


def keras2_tf_weights_by_key(model, prefix):
    """Keras 2 wrote layer_with_weights-N/...; Keras 3 cannot read that, so
    each value is assigned by its checkpoint key."""
    reader = tf.train.load_checkpoint(str(prefix))
    for index, name in enumerate(["hidden", "logits"]):
        layer = model.get_layer(name)
        for weight in ("kernel", "bias"):
            key = f"layer_with_weights-{index}/{weight}/.ATTRIBUTES/VARIABLE_VALUE"
            getattr(layer, weight).assign(reader.get_tensor(key))
    return reader


@cell("object-checkpoint", "keras2")
def _():
    prefix = KERAS2 / "weights_tf" / "ckpt"
    model = classifier()
    raises_with(
        ValueError,
        "File format not supported",
        lambda: model.load_weights(str(prefix)),
    )
    reader = keras2_tf_weights_by_key(model, prefix)
    assert_same(model(K2["x"]), K2["logits"])
    # The Keras 2 optimizer's slots are there, under numbered keys.
    assert (
        reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")
        == 3
    )
    slots = [
        k for k in reader.get_variable_to_shape_map() if "_variables/" in k
    ]
    assert len(slots) == 8


@cell("object-checkpoint", "keras3")
def _(tmp_path):
    model = classifier(seed=0)
    with pytest.raises(ValueError):
        model.save_weights(str(tmp_path / "weights.ckpt"))
    tf.train.Checkpoint(model=model).write(str(tmp_path / "model"))
    other = classifier(seed=1)
    tf.train.Checkpoint(model=other).read(
        str(tmp_path / "model")
    ).assert_consumed()
    assert_same(other(K2["x"]), model(K2["x"]).numpy())


# Row savedmodel: a SavedModel folder, as an inference-only layer.
@cell("savedmodel", "tf1.15")
def _():
    folder = str(TF1 / "savedmodel")
    layer = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")
    assert_same(layer(np.array([[10.0]], "float32"))["y"], [[13.0]])
    raises_with(
        ValueError,
        "File format not supported",
        lambda: keras.models.load_model(folder),
    )


@cell("savedmodel", "keras2")
def _():
    folder = str(KERAS2 / "savedmodel")
    raises_with(
        ValueError,
        "File format not supported",
        lambda: keras.models.load_model(folder),
    )
    raises_with(
        ValueError,
        "Available endpoints for this SavedModel: ['serving_default']",
        lambda: keras.layers.TFSMLayer(folder, call_endpoint="serve"),
    )
    layer = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")
    outputs = layer(K2["x"])
    assert list(outputs) == ["logits"]
    assert_same(outputs["logits"], K2["logits"])


@cell("savedmodel", "keras3")
def _(tmp_path):
    model = classifier()
    model.export(str(tmp_path / "exported"), verbose=False)
    assert sorted(
        tf.saved_model.load(str(tmp_path / "exported")).signatures
    ) == [
        "serve",
        "serving_default",
    ]
    layer = keras.layers.TFSMLayer(
        str(tmp_path / "exported"), call_endpoint="serve"
    )
    assert_same(layer(K2["x"]), model(K2["x"]).numpy())


# Row h5-model: a whole model in the legacy .h5 file.
@cell("h5-model", "tf1.15")
def _():
    path = str(TF1 / "keras" / "model.h5")
    refused(path, TypeError, "GlorotUniform", compiles=(True, False))
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    model.load_weights(path)
    assert_same(model(TF1_KERAS["x"]), TF1_KERAS["logits"])


@cell("h5-model", "keras2")
def _():
    path = str(KERAS2 / "model.h5")
    raises_with(
        TypeError,
        "SparseCategoricalCrossentropy",
        lambda: keras.models.load_model(path),
    )
    model = keras.models.load_model(path, compile=False)
    assert not model.compiled
    assert_computes(model, K2["logits"])


@cell("h5-model", "keras3")
def _(tmp_path):
    model, loaded = fitted_and_reloaded(
        tmp_path / "model.h5", keras.losses.MeanSquaredError()
    )
    assert loaded.compiled and int(loaded.optimizer.iterations) == 1
    # A loss given by its short string name does not survive the trip.
    model.compile(optimizer="adam", loss="mse")
    model.save(str(tmp_path / "mse.h5"))
    raises_with(
        ValueError,
        "Could not deserialize 'keras.metrics.mse'",
        lambda: keras.models.load_model(str(tmp_path / "mse.h5")),
    )
    loaded = keras.models.load_model(str(tmp_path / "mse.h5"), compile=False)
    assert_same(loaded(K2["x"]), model(K2["x"]).numpy())


# Row h5-weights: `save_weights` into .h5.
@cell("h5-weights", "tf1.15")
def _():
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    model.load_weights(str(TF1 / "keras" / "weights.h5"))
    assert_same(model(TF1_KERAS["x"]), TF1_KERAS["logits"])


@cell("h5-weights", "keras2")
def _():
    model = classifier(seed=5)
    model.load_weights(str(KERAS2 / "weights.h5"))
    assert_same(model(K2["x"]), K2["logits"])


@cell("h5-weights", "keras3")
def _(tmp_path):
    model = classifier()
    raises_with(
        ValueError,
        ".weights.h5",
        lambda: model.save_weights(str(tmp_path / "w.h5")),
    )
    model.save_weights(str(tmp_path / "model.weights.h5"))
    other = classifier(seed=5)
    other.load_weights(str(tmp_path / "model.weights.h5"))
    assert_same(other(K2["x"]), model(K2["x"]).numpy())


# Row keras-file: the .keras zip.
def keras2_functional():
    """custom_objects that map Keras 2's class name to Keras 3's."""
    return {"Functional": keras.Model}


@cell("keras-file", "keras2")
def _():
    path = str(KERAS2 / "model.keras")
    raises_with(
        TypeError,
        "keras.src.engine.functional cannot be imported",
        lambda: keras.models.load_model(path),
    )
    raises_with(
        ValueError,
        "Argument(s) not recognized",
        lambda: keras.models.load_model(
            path, custom_objects=keras2_functional()
        ),
    )
    model = keras.models.load_model(
        path, custom_objects=keras2_functional(), compile=False
    )
    assert_computes(model, K2["logits"])


@cell("keras-file", "keras3")
def _(tmp_path):
    _, loaded = fitted_and_reloaded(tmp_path / "model.keras", "mse")
    assert int(loaded.optimizer.iterations) == 1


# Row custom-layer: a model with a registered custom layer.
@functools.cache
def scale_layer():
    """The Keras 2 fixture's layer, written for Keras 3; defined and registered
    on first use, once Keras is imported."""

    @keras.saving.register_keras_serializable(package="book")
    class Scale(keras.layers.Layer):
        def __init__(self, initial=1.0, **kwargs):
            super().__init__(**kwargs)
            self.initial = initial

        def build(self, input_shape):
            self.factor = self.add_weight(
                name="factor",
                shape=(),
                initializer=keras.initializers.Constant(self.initial),
            )

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "initial": self.initial}

    return Scale


@cell("custom-layer", "keras2")
def _():
    Scale = scale_layer()
    path = str(KERAS2 / "custom_layer.h5")
    model = keras.models.load_model(path)
    assert type(model.get_layer("scale")) is Scale
    assert_same(model(K2["x"]), K2["custom_outputs"])
    model = keras.models.load_model(
        str(KERAS2 / "custom_layer.keras"),
        custom_objects=keras2_functional(),
        compile=False,
    )
    assert_computes(model, K2["custom_outputs"])


@cell("custom-layer", "keras3")
def _(tmp_path):
    Scale = scale_layer()
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, Scale(0.5, name="scale")(inputs))
    model.save(str(tmp_path / "custom.keras"))
    loaded = keras.models.load_model(str(tmp_path / "custom.keras"))
    assert type(loaded.get_layer("scale")) is Scale
    assert_same(loaded(K2["x"]), 0.5 * K2["x"])


# Row lambda: a `Lambda` layer holding a Python lambda.
@cell("lambda", "keras2")
def _():
    path = str(KERAS2 / "lambda.h5")
    raises_with(
        ValueError, "safe_mode=False", lambda: keras.models.load_model(path)
    )
    # The lambda's bytecode runs only under the Python that compiled it
    # (3.13 segfaults on this 3.11 file): elsewhere, the weights load into
    # the model built in code, as chapter 12's load_lambda_h5 does.
    inputs = keras.Input(shape=(4,), name="features")
    dense = keras.layers.Dense(3, name="dense")(inputs)
    rebuilt = keras.Model(
        inputs, keras.layers.Lambda(lambda t: 2.0 * t, name="double")(dense)
    )
    rebuilt.load_weights(path)
    assert_same(rebuilt(K2["x"]), K2["lambda_outputs"])
    if "%d.%d" % sys.version_info[:2] == KERAS2_PYTHON:
        model = keras.models.load_model(path, safe_mode=False)
        assert_same(model(K2["x"]), K2["lambda_outputs"])
    # Keras 2.15's .keras file: Keras 3's Lambda rejects its configuration,
    # in safe mode or not; the weights load into the model built in code.
    path = str(KERAS2 / "lambda.keras")
    for safe_mode in (True, False):
        raises_with(
            ValueError,
            "Unrecognized keyword arguments passed to Lambda",
            lambda safe_mode=safe_mode: keras.models.load_model(
                path,
                custom_objects=keras2_functional(),
                compile=False,
                safe_mode=safe_mode,
            ),
        )
    rebuilt.load_weights(path)
    assert_same(rebuilt(K2["x"]), K2["lambda_outputs"])


@cell("lambda", "keras3")
def _(tmp_path):
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: 2.0 * t)(inputs))
    model.save(str(tmp_path / "lambda.keras"))
    path = str(tmp_path / "lambda.keras")
    raises_with(
        ValueError, "safe_mode=False", lambda: keras.models.load_model(path)
    )
    loaded = keras.models.load_model(path, safe_mode=False)
    assert_same(loaded(K2["x"]), 2.0 * K2["x"])


# Files that other versions wrote: TF 2.7, TF 2.10 and Keras 2.2.5 on
# TF 1.15 (tools/fixtures/make_tf2_old.py, make_keras22.py), each with the
# inputs and outputs its writer recorded in expected.npz (support.old_files).


def without_tf_keras(code, *arguments):
    """What `code` prints in another Python where `import tf_keras` fails."""
    import subprocess

    hide = 'import sys\nsys.modules["tf_keras"] = None\n'
    done = subprocess.run(
        [sys.executable, "-c", hide + code, *map(str, arguments)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    return done.stdout.splitlines()


def run_savedmodel_in_a_session(folder, inputs):
    with tf.Graph().as_default(), tf1.Session() as sess:
        meta = tf1.saved_model.loader.load(sess, ["serve"], str(folder))
        signature = meta.signature_def["serving_default"]
        return {
            name: sess.run(
                info.name,
                {signature.inputs[k].name: v for k, v in inputs.items()},
            )
            for name, info in signature.outputs.items()
        }


def savedmodel_with_adam_slots(version):
    folder, inputs, outputs = recorded(f"{version}/savedmodel_adam")
    code = (
        "import keras, tensorflow as tf\n"
        "for load in (tf.saved_model.load, lambda f: keras.layers.TFSMLayer("
        "f, call_endpoint='serving_default')):\n"
        "    try:\n"
        "        load(sys.argv[1]); print('loads')\n"
        "    except AttributeError as exc:\n"
        "        print(exc)\n"
    )
    failure = "'_UserObject' object has no attribute 'add_slot'"
    assert without_tf_keras(code, folder) == [failure, failure]
    got = run_savedmodel_in_a_session(folder, inputs)
    assert_same(got["logits"], outputs["logits"])
    # Here tf_keras is installed: the TF2 loaders work.
    served = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")
    assert_same(served(inputs["features"])["logits"], outputs["logits"])


@cell("savedmodel-adam", "tf2.7")
def _():
    savedmodel_with_adam_slots("tf2.7")


@cell("savedmodel-adam", "tf2.10")
def _():
    savedmodel_with_adam_slots("tf2.10")


@cell("savedmodel-two-inputs", "tf2.10")
def _():
    folder, inputs, outputs = recorded("tf2.10/two_inputs")
    layer = keras.layers.TFSMLayer(folder, call_endpoint="serving_default")
    raises_with(TypeError, "positional", lambda: layer(inputs))
    serving = tf.saved_model.load(str(folder)).signatures["serving_default"]
    named = {name: tf.constant(value) for name, value in inputs.items()}
    assert_same(serving(**named)["score"], outputs["score"])


@cell("h5-lstm", "tf2.10")
def _():
    import tf_keras

    path, inputs, outputs = recorded("tf2.10/lstm.h5")
    refused(path, ValueError, "time_major", compiles=(True, False))

    class LSTMWithoutTimeMajor(keras.layers.LSTM):
        def __init__(self, *args, time_major=False, **kwargs):
            assert not time_major
            super().__init__(*args, **kwargs)

    model = keras.models.load_model(
        path, compile=False, custom_objects={"LSTM": LSTMWithoutTimeMajor}
    )
    assert_same(model(inputs), outputs["out"])
    model = tf_keras.models.load_model(path, compile=False)
    assert_same(model(inputs["sequence"]), outputs["out"])


@cell("h5-attention", "tf2.10")
def _():
    path, inputs, outputs = recorded("tf2.10/attention.h5")
    refused(path, ValueError, "list of inputs")
    model = keras.models.load_model(
        path, compile=False, custom_objects={"Attention": attention_layer()}
    )
    assert_same(model(inputs), outputs["out"])


@cell("h5-cudnn", "keras2.2")
def _():
    path, inputs, outputs = recorded("keras2.2-tf1.15/cudnn_lstm.h5")
    refused(path, ValueError, "Unknown layer: 'CuDNNLSTM'")
    kernel, recurrent, bias, dense = cudnn_lstm_weights(path)
    units = recurrent.shape[0]
    model = keras.Sequential(
        [keras.Input((5, 3)), keras.layers.LSTM(units), keras.layers.Dense(2)]
    )
    model.layers[0].set_weights(
        [
            by_gate(kernel, units),
            by_gate(recurrent, units),
            bias[:16] + bias[16:],
        ]
    )
    model.layers[1].set_weights(dense)
    assert_same(model(inputs["lstm_input"]), outputs["out"])


@cell("json-weights", "keras2.2")
def _():
    import tf_keras

    folder, inputs, outputs = recorded("keras2.2-tf1.15/json_weights")
    text = (folder / "model.json").read_text()
    raises_with(
        TypeError,
        "Could not locate class 'Sequential'",
        lambda: keras.models.model_from_json(text),
    )
    model = tf_keras.models.model_from_json(text)
    model.load_weights(str(folder / "weights.h5"))
    assert_same(model(inputs["hidden_input"]), outputs["logits"])


def restored_graph(meta, prefix):
    graph = tf.Graph()
    sess = tf1.Session(graph=graph)
    with graph.as_default():
        tf1.train.import_meta_graph(str(meta)).restore(sess, str(prefix))
    return sess


@cell("v1-checkpoint", "tf1.15")
def _():
    prefix, inputs, outputs = recorded("keras2.2-tf1.15/v1_checkpoint")
    prefix = prefix / "model.ckpt"
    assert not prefix.with_suffix(".ckpt.index").exists()
    assert tf.train.list_variables(str(prefix)) == [("W", [3, 2]), ("b", [2])]
    reader = tf.train.load_checkpoint(str(prefix))
    assert reader.get_tensor("W").shape == (3, 2)
    with restored_graph(prefix.with_suffix(".ckpt.meta"), prefix) as sess:
        assert_same(sess.run("y:0", {"x:0": inputs["x"]}), outputs["y"])


@cell("frozen-placeholder", "tf1.15")
def _():
    for name in ("model.pb", "model.pbtxt"):
        path, inputs, outputs = recorded(f"keras2.2-tf1.15/frozen/{name}")
        graph_def = tf1.GraphDef()
        if name.endswith(".pbtxt"):
            from google.protobuf import text_format

            text_format.Parse(path.read_text(), graph_def)
        else:
            graph_def.ParseFromString(path.read_bytes())
        imported = tf1.wrap_function(
            lambda graph_def=graph_def: tf1.import_graph_def(
                graph_def, name=""
            ),
            signature=[],
        )
        raises_with(
            Exception,
            "depends transitively on placeholder",
            lambda imported=imported: imported.prune(feeds=[], fetches="y:0"),
        )
        frozen = imported.prune(feeds=["x:0"], fetches="y:0")
        assert_same(frozen(tf.constant(inputs["x"])), outputs["y"])


@cell("four-copies", "tf1.15")
def _():
    folder, inputs, outputs = recorded("keras2.2-tf1.15/four_copies")
    prefix = folder / "model.ckpt"
    with restored_graph(prefix.with_suffix(".ckpt.meta"), prefix) as sess:
        last = sess.run("y_3:0", {"x_3:0": inputs["x_3"]})
        first = sess.run("y:0", {"x:0": inputs["x_3"]})
    assert_same(last, outputs["y_3"])
    assert np.abs(first - outputs["y_3"]).max() > 0.5


@pytest.mark.parametrize("cell_id", sorted(CELLS))
def test_cell(cell_id, tmp_path):
    function = CELLS[cell_id]
    if function.__code__.co_argcount:
        function(tmp_path)
    else:
        function()


def test_page_names_every_cell():
    page = (ROOT / "book" / "compatibility.md").read_text()
    missing = [cell_id for cell_id in CELLS if f"`{cell_id}`" not in page]
    assert missing == [], "cells without a test id on the page"
