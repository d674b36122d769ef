"""tfopen on every fixture: `inspect --json` names the format, the versions
that wrote the file and its inputs and outputs; `run` computes what the
writer recorded (to 1e-6); bad input gets one line on stderr and exit 2.

The command line runs in-process (tfopen.__main__.main) for the fixtures, so
TensorFlow is imported once; a few runs go through a real subprocess to
check what a reader sees: exit status, stderr, no traceback, no TensorFlow
import for Keras files."""

import collections
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from support.book import ROOT

FIXTURES = ROOT / "fixtures"
PYTHON = sys.executable

sys.path.insert(0, str(ROOT))
import tfopen  # noqa: E402
from tfopen.__main__ import main  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def cli_json(capsys, path, *extra):
    assert main(["inspect", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


# path under fixtures/: (format, {writer key: value}, input names, output names)
INSPECTED = {
    # files readers bring (tools/fixtures/make_tf2_old.py, make_keras22.py)
    "tf2.10/savedmodel_adam": (
        "savedmodel",
        {"tensorflow": "2.10.1", "keras": "2.10.0"},
        ["features"],
        ["logits"],
    ),
    "tf2.7/savedmodel_adam": (
        "savedmodel",
        {"tensorflow": "2.7.4", "keras": "2.7.0"},
        ["features"],
        ["logits"],
    ),
    "tf2.10/two_inputs": (
        "savedmodel",
        {"tensorflow": "2.10.1", "keras": "2.10.0"},
        ["flags", "numbers"],
        ["score"],
    ),
    "tf2.10/lstm.h5": (
        "keras-h5",
        {"keras": "2.10.0", "backend": "tensorflow"},
        ["sequence"],
        ["out"],
    ),
    "tf2.10/attention.h5": (
        "keras-h5",
        {"keras": "2.10.0"},
        ["steps"],
        ["out"],
    ),
    "keras2.2-tf1.15/json_weights": (
        "keras-json",
        {"keras": "2.2.5"},
        ["hidden_input"],
        ["logits"],
    ),
    "keras2.2-tf1.15/json_weights/model.json": (
        "keras-json",
        {"keras": "2.2.5"},
        ["hidden_input"],
        ["logits"],
    ),
    "keras2.2-tf1.15/cudnn_lstm.h5": (
        "keras-h5",
        {"keras": "2.2.5"},
        ["lstm_input"],
        ["out"],
    ),
    "keras2.2-tf1.15/v1_checkpoint": (
        "checkpoint-v1",
        {"tensorflow": "1.15.5"},
        ["x"],
        ["y"],
    ),
    "keras2.2-tf1.15/v1_checkpoint/model.ckpt": (
        "checkpoint-v1",
        {"tensorflow": "1.15.5"},
        ["x"],
        ["y"],
    ),
    # frozen graphs: graph_util.convert_variables_to_constants records no versions
    "keras2.2-tf1.15/frozen/model.pb": ("graphdef", {}, ["x"], ["y"]),
    "keras2.2-tf1.15/frozen/model.pbtxt": ("graphdef-text", {}, ["x"], ["y"]),
    "keras2.2-tf1.15/four_copies": (
        "checkpoint",
        {"tensorflow": "1.15.5"},
        ["x_3"],
        ["y_3"],
    ),
    "keras2.2-tf1.15/four_copies/model.ckpt.meta": (
        "metagraph",
        {"tensorflow": "1.15.5"},
        ["x_3"],
        ["y_3"],
    ),
    # the book's own fixtures (make_tf1.py, make_keras2.py)
    "tf1.15/two_variables": (
        "checkpoint",
        {"tensorflow": "1.15.5"},
        [],
        ["add"],
    ),
    "tf1.15/ema": ("checkpoint", {"tensorflow": "1.15.5"}, [], []),
    "tf1.15/object": (
        "checkpoint",
        {"checkpoint_kind": "object-based"},
        [],
        [],
    ),
    "tf1.15/training": (
        "checkpoint",
        {"tensorflow": "1.15.5"},
        ["x"],
        ["classifier/logits/BiasAdd"],
    ),
    "tf1.15/training/model.ckpt-4.index": (
        "checkpoint",
        {"tensorflow": "1.15.5"},
        ["x"],
        ["classifier/logits/BiasAdd"],
    ),
    "tf1.15/frozen/combined_model.pb": ("graphdef", {}, [], ["add"]),
    "tf1.15/savedmodel": (
        "savedmodel",
        {"tensorflow": "1.15.5", "savedmodel_kind": "TF1"},
        ["x"],
        ["y"],
    ),
    "tf1.15/keras/model.h5": (
        "keras-h5",
        {"keras": "2.2.4-tf"},
        ["hidden_input"],
        ["logits"],
    ),
    "tf1.15/keras/weights.h5": (
        "keras-h5-weights",
        {"keras": "2.2.4-tf"},
        [],
        [],
    ),
    "tf2.15-keras2/model.h5": (
        "keras-h5",
        {"keras": "2.15.0"},
        ["features"],
        ["logits"],
    ),
    "tf2.15-keras2/weights.h5": (
        "keras-h5-weights",
        {"keras": "2.15.0"},
        [],
        [],
    ),
    "tf2.15-keras2/custom_layer.h5": (
        "keras-h5",
        {"keras": "2.15.0"},
        ["features"],
        ["scale"],
    ),
    "tf2.15-keras2/lambda.h5": (
        "keras-h5",
        {"keras": "2.15.0"},
        ["features"],
        ["double"],
    ),
    "tf2.15-keras2/model.keras": (
        "keras-zip",
        {"keras": "2.15.0"},
        ["features"],
        ["logits"],
    ),
    "tf2.15-keras2/custom_layer.keras": (
        "keras-zip",
        {"keras": "2.15.0"},
        ["features"],
        ["scale"],
    ),
    "tf2.15-keras2/lambda.keras": (
        "keras-zip",
        {"keras": "2.15.0"},
        ["features"],
        ["double"],
    ),
    "tf2.15-keras2/savedmodel": (
        "savedmodel",
        {"tensorflow": "2.15.1", "keras": "2.15.0"},
        ["features"],
        ["logits"],
    ),
    "tf2.15-keras2/saver": (
        "checkpoint",
        {"tensorflow": "2.15.1"},
        [],
        ["add"],
    ),
    "tf2.15-keras2/weights_tf": (
        "checkpoint",
        {"checkpoint_kind": "object-based"},
        [],
        [],
    ),
    "tf2.15-keras2/frozen/combined_model.pb": ("graphdef", {}, [], ["add"]),
}


@pytest.mark.parametrize("path", sorted(INSPECTED))
def test_inspect_json(capsys, path):
    kind, writer, inputs, outputs = INSPECTED[path]
    facts = cli_json(capsys, FIXTURES / path)
    for key in (
        "format",
        "writer",
        "inputs",
        "outputs",
        "variables",
        "warnings",
        "load",
    ):
        assert key in facts, key
    assert facts["format"] == kind
    for key, value in writer.items():
        assert str(value) in str(facts["writer"].get(key)), (
            key,
            facts["writer"],
        )
    assert [item["name"] for item in facts["inputs"]] == inputs
    assert [item["name"] for item in facts["outputs"]] == outputs
    assert facts["load"].strip()


def test_inspect_lists_variables_with_shapes_and_dtypes(capsys):
    facts = cli_json(capsys, FIXTURES / "keras2.2-tf1.15" / "v1_checkpoint")
    assert facts["variables"] == [
        {"name": "W", "shape": [3, 2], "dtype": "float32"},
        {"name": "b", "shape": [2], "dtype": "float32"},
    ]
    facts = cli_json(capsys, FIXTURES / "tf2.10" / "lstm.h5")
    assert {
        "name": "lstm/lstm_cell/kernel:0",
        "shape": [3, 16],
        "dtype": "float32",
    } in facts["variables"]


def test_inspect_signatures_with_shapes(capsys):
    facts = cli_json(capsys, FIXTURES / "tf2.10" / "two_inputs")
    signature = facts["signatures"]["serving_default"]
    assert [
        (item["name"], item["shape"], item["dtype"])
        for item in signature["inputs"]
    ] == [
        ("flags", [None, 2], "float32"),
        ("numbers", [None, 3], "float32"),
    ]
    assert sorted(facts["signatures"]) == ["serving_default"]
    assert any(
        "TFSMLayer(...)(dict) fails" in warning
        for warning in facts["warnings"]
    )


def test_tfsmlayer_takes_no_dict_of_named_inputs():
    """What the two-inputs warning says, checked on Keras 3.15."""
    import keras

    inputs, outputs = RECORDED["tf2.10/two_inputs"]
    layer = keras.layers.TFSMLayer(
        FIXTURES / "tf2.10" / "two_inputs", call_endpoint="serving_default"
    )
    with pytest.raises(TypeError, match="positional"):
        layer(inputs)
    got = layer.call_endpoint_fn(**inputs)["score"].numpy()
    np.testing.assert_allclose(got, outputs["score"], atol=1e-6)


WARNED = {
    "tf2.10/savedmodel_adam": "optimizer slot variables",
    "tf2.7/savedmodel_adam": "'_UserObject' object has no attribute 'add_slot'",
    "tf2.15-keras2/model.keras": "Keras 3 cannot rebuild it",
    "tf2.10/lstm.h5": "time_major",
    "tf2.10/attention.h5": "shares its name with Keras's Attention",
    "keras2.2-tf1.15/cudnn_lstm.h5": "CuDNNLSTM",
    "keras2.2-tf1.15/json_weights": "Could not locate class 'Sequential'",
    "keras2.2-tf1.15/four_copies": "4 copies of a model",
    "tf2.15-keras2/lambda.h5": "bytecode from Python 3.11-3.12",
    "tf2.15-keras2/custom_layer.keras": "custom layer book>Scale",
}


@pytest.mark.parametrize("path", sorted(WARNED))
def test_inspect_warns(path):
    facts = tfopen.inspect(FIXTURES / path)
    assert any(WARNED[path] in warning for warning in facts["warnings"]), (
        facts["warnings"]
    )


NOT_RUNNABLE = {
    "tf1.15/object": "values only, no graph",
    "tf2.15-keras2/weights_tf": "values only, no graph",
    "tf1.15/keras/weights.h5": "weights only",
    "tf1.15/ema": "no model in the graph",
}


@pytest.mark.parametrize("path", sorted(NOT_RUNNABLE))
def test_inspect_says_what_cannot_run(path, tmp_path, capsys):
    facts = tfopen.inspect(FIXTURES / path)
    assert facts["runnable"] is False
    assert NOT_RUNNABLE[path] in facts["why_not"]
    assert main(["run", str(FIXTURES / path), "--out", str(tmp_path)]) == 2
    assert "cannot be run" in capsys.readouterr().err


# --- run: what the writer recorded --------------------------------------------


def recorded(folder):
    """{file: (inputs, outputs)} from a folder's expected.npz, whose keys
    are "<file>:in:<name>" and "<file>:out:<name>"."""
    expected = np.load(FIXTURES / folder / "expected.npz")
    files = collections.defaultdict(lambda: ({}, {}))
    for key in expected.files:
        file, role, name = key.split(":", 2)
        files[file][0 if role == "in" else 1][name] = expected[key]
    return {f"{folder}/{file}": value for file, value in files.items()}


RECORDED = {
    **recorded("tf2.10"),
    **recorded("tf2.7"),
    **recorded("keras2.2-tf1.15"),
}
# The book's own fixtures record their arrays under other names.
KERAS2 = np.load(FIXTURES / "tf2.15-keras2" / "expected.npz")
TF1_KERAS = np.load(FIXTURES / "tf1.15" / "keras" / "expected.npz")
TF1_TRAINING = np.load(FIXTURES / "tf1.15" / "training" / "expected.npz")
RECORDED.update(
    {
        "tf2.15-keras2/model.h5": (
            {"features": KERAS2["x"]},
            {"logits": KERAS2["logits"]},
        ),
        "tf2.15-keras2/model.keras": (
            {"features": KERAS2["x"]},
            {"logits": KERAS2["logits"]},
        ),
        "tf2.15-keras2/savedmodel": (
            {"features": KERAS2["x"]},
            {"logits": KERAS2["logits"]},
        ),
        "tf2.15-keras2/custom_layer.h5": (
            {"features": KERAS2["x"]},
            {"scale": KERAS2["custom_outputs"]},
        ),
        "tf2.15-keras2/custom_layer.keras": (
            {"features": KERAS2["x"]},
            {"scale": KERAS2["custom_outputs"]},
        ),
        "tf2.15-keras2/lambda.h5": (
            {"features": KERAS2["x"]},
            {"double": KERAS2["lambda_outputs"]},
        ),
        "tf2.15-keras2/lambda.keras": (
            {"features": KERAS2["x"]},
            {"double": KERAS2["lambda_outputs"]},
        ),
        "tf1.15/keras/model.h5": (
            {"hidden_input": TF1_KERAS["x"]},
            {"logits": TF1_KERAS["logits"]},
        ),
        "tf1.15/training": (
            {"x": TF1_TRAINING["x"]},
            {"classifier/logits/BiasAdd": TF1_TRAINING["logits"]},
        ),
        # values the transcripts print: v1 + v2 = [3.], y = x + v1 + v2
        "tf1.15/two_variables": ({}, {"add": np.array([3.0], np.float32)}),
        "tf1.15/frozen/combined_model.pb": (
            {},
            {"add": np.array([3.0], np.float32)},
        ),
        "tf2.15-keras2/saver": ({}, {"add": np.array([3.0], np.float32)}),
        "tf2.15-keras2/frozen/combined_model.pb": (
            {},
            {"add": np.array([3.0], np.float32)},
        ),
        "tf1.15/savedmodel": (
            {"x": np.array([[10.0]], np.float32)},
            {"y": np.array([[13.0]], np.float32)},
        ),
    }
)

# The authors' classes, as a reader would write them again from their code:
# for tf_keras (Keras 2 .h5 files) and for Keras 3 (.keras files).
CUSTOM_TF_KERAS = """
import tensorflow as tf
import tf_keras as keras


class Attention(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(int(input_shape[-1]), 1))

    def call(self, inputs):
        weights = tf.nn.softmax(tf.matmul(inputs, self.w), axis=1)
        return tf.reduce_sum(weights * inputs, axis=1)


@keras.utils.register_keras_serializable(package="book")
class Scale(keras.layers.Layer):
    def __init__(self, initial=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial = initial

    def build(self, input_shape):
        self.factor = self.add_weight(name="factor", shape=())

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "initial": self.initial}
"""
CUSTOM_KERAS3 = CUSTOM_TF_KERAS.replace(
    "import tf_keras as keras", "import keras"
).replace(
    "keras.utils.register_keras_serializable",
    "keras.saving.register_keras_serializable",
)
NEEDS_CUSTOM = {
    "tf2.10/attention.h5": CUSTOM_TF_KERAS,
    "tf2.15-keras2/custom_layer.h5": CUSTOM_TF_KERAS,
    "tf2.15-keras2/custom_layer.keras": CUSTOM_KERAS3,
}
NEEDS_UNSAFE = {"tf2.15-keras2/lambda.h5", "tf2.15-keras2/lambda.keras"}


@pytest.mark.parametrize("path", sorted(RECORDED))
def test_run_computes_what_the_writer_recorded(path, tmp_path, capsys):
    inputs, outputs = RECORDED[path]
    arguments = ["run", str(FIXTURES / path), "--out", str(tmp_path / "out")]
    for name, value in inputs.items():
        file = tmp_path / f"input{len(arguments)}.npy"
        np.save(file, value)
        arguments += ["--input", f"{name}={file}"]
    if path in NEEDS_CUSTOM:
        custom = tmp_path / "custom.py"
        custom.write_text(NEEDS_CUSTOM[path])
        arguments += ["--custom", str(custom), "--unsafe"]
    if path in NEEDS_UNSAFE:
        arguments += ["--unsafe"]
        # Bytecode of Python 3.11 (the writer's, transcript.txt) crashes
        # 3.13: there tfopen refuses it, in one line, instead of running it.
        if sys.version_info[:2] > (3, 12):
            assert main(arguments) == 2
            assert "cannot run safely" in capsys.readouterr().err
            return
    assert main(arguments) == 0, capsys.readouterr().err
    for name, want in outputs.items():
        got = np.load(tmp_path / "out" / (name.replace("/", "_") + ".npy"))
        np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)


def test_the_first_copy_gives_another_model(tmp_path):
    """Why run takes the last of four copies: the first copy's names run,
    but on untrained variables."""
    inputs, outputs = RECORDED["keras2.2-tf1.15/four_copies"]
    (name,) = inputs
    model = tfopen.load(FIXTURES / "keras2.2-tf1.15" / "four_copies")
    session = model.session
    first = session.run("y:0", {"x:0": inputs[name]})
    assert np.abs(first - outputs["y_3"]).max() > 1e-2


def test_load_takes_one_array_for_one_input():
    inputs, outputs = RECORDED["keras2.2-tf1.15/frozen/model.pb"]
    model = tfopen.load(FIXTURES / "keras2.2-tf1.15" / "frozen" / "model.pb")
    assert model.input_names == ["x"] and model.output_names == ["y"]
    np.testing.assert_allclose(
        model(inputs["x"])["y"], outputs["y"], atol=1e-6
    )


def test_custom_and_lambda_refused_without_unsafe(tmp_path, capsys):
    for path in (
        "tf2.10/attention.h5",
        "tf2.15-keras2/lambda.h5",
        "tf2.15-keras2/lambda.keras",
    ):
        assert main(["run", str(FIXTURES / path), "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("--unsafe" in err), err
    assert list(tmp_path.iterdir()) == []


# --- the claims inspect makes about today's Keras -------------------------------


def test_keras3_fails_on_what_tfopen_warns_about():
    import keras

    with pytest.raises(Exception, match="time_major"):
        keras.models.load_model(FIXTURES / "tf2.10" / "lstm.h5", compile=False)
    text = (
        FIXTURES / "keras2.2-tf1.15" / "json_weights" / "model.json"
    ).read_text()
    with pytest.raises(Exception, match="Could not locate class 'Sequential'"):
        keras.models.model_from_json(text)


def test_tf2_21_without_tf_keras_fails_on_keras2_savedmodels_with_slots():
    """Where tf_keras is installed, TensorFlow imports it to rebuild Keras 2's
    optimizer, and the load works; this runs as a machine without it."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["tf_keras"] = None  # as if not installed
        import tensorflow as tf
        for path in sys.argv[1:]:
            try:
                tf.saved_model.load(path)
                print("loaded")
            except AttributeError as exc:
                print(exc)
        """
    )
    paths = [
        str(FIXTURES / folder / "savedmodel_adam")
        for folder in ("tf2.10", "tf2.7")
    ]
    done = subprocess.run(
        [PYTHON, "-c", code, *paths],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert (
        done.stdout.splitlines()
        == ["'_UserObject' object has no attribute 'add_slot'"] * 2
    )


# --- bad input: one line on stderr, exit 2 ---------------------------------------


def bad_inputs(folder):
    folder.mkdir()
    (folder / "empty.h5").write_bytes(b"")
    lstm = (FIXTURES / "tf2.10" / "lstm.h5").read_bytes()
    (folder / "truncated.h5").write_bytes(lstm[: len(lstm) // 3])
    frozen = (
        FIXTURES / "keras2.2-tf1.15" / "frozen" / "model.pb"
    ).read_bytes()
    (folder / "truncated.pb").write_bytes(frozen[: len(frozen) // 2])
    archive = (FIXTURES / "tf2.15-keras2" / "model.keras").read_bytes()
    (folder / "truncated.keras").write_bytes(archive[: len(archive) // 2])
    (folder / "picture.png").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)
    )
    (folder / "notes.txt").write_text("a note, not a model\n")
    (folder / "not_a_model").mkdir()
    (folder / "not_a_model" / "README.md").write_text("nothing here\n")
    import h5py

    with h5py.File(folder / "data.h5", "w") as f:
        f["numbers"] = np.arange(3)
    return {
        "missing": (folder / "nowhere.h5", "no such file or directory"),
        "empty": (folder / "empty.h5", "empty file"),
        "truncated h5": (folder / "truncated.h5", "damaged or truncated HDF5"),
        "truncated pb": (folder / "truncated.pb", "damaged or truncated"),
        "truncated keras": (
            folder / "truncated.keras",
            "damaged or truncated zip",
        ),
        "png": (folder / "picture.png", "a PNG image"),
        "text": (folder / "notes.txt", "a text file"),
        "folder": (
            folder / "not_a_model",
            "neither a SavedModel nor a checkpoint",
        ),
        "hdf5 not keras": (folder / "data.h5", "not one Keras wrote"),
    }


def test_bad_input_gets_one_line_and_exit_2(tmp_path):
    cases = bad_inputs(tmp_path / "bad")
    for label, (path, message) in cases.items():
        for command in (
            ["inspect", str(path)],
            ["run", str(path), "--out", str(tmp_path / "o")],
        ):
            done = subprocess.run(
                [PYTHON, "-m", "tfopen", *command],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env=as_a_reader_runs_it(),
            )
            assert done.returncode == 2, (label, command[0], done.stderr)
            # One line: no traceback, and no log line of TensorFlow's.
            lines = done.stderr.splitlines()
            assert len(lines) == 1, (label, done.stderr)
            assert lines[0].startswith("tfopen:") and message in lines[0]
            assert done.stdout == ""
    assert not (tmp_path / "o").exists()


def as_a_reader_runs_it():
    """The environment without the suite's settings of TensorFlow's."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TF_CPP_", "TF_ENABLE_ONEDNN"))
    }


def test_run_fetches_the_tensors_a_reader_names(tmp_path):
    frozen = FIXTURES / "keras2.2-tf1.15" / "frozen" / "model.pb"
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    default = tfopen.load(frozen)(x)
    model = tfopen.load(frozen, outputs=["W", "MatMul", "y"])
    assert model.output_names == ["W", "MatMul", "y"]
    got = model(x)
    np.testing.assert_allclose(got["MatMul"], x @ got["W"], rtol=1e-6)
    # Another set of fetches is another pruned graph: its kernels may round
    # the last bit differently.
    np.testing.assert_allclose(got["y"], default["y"], rtol=1e-6)
    np.save(tmp_path / "x.npy", x)
    command = ["run", str(frozen), "--input", f"x={tmp_path / 'x.npy'}"]
    for extra, message in (
        (["--output", "hidden/Relu"], "no tensor hidden/Relu:0 in the graph"),
        (["--output", "W"], None),
    ):
        done = subprocess.run(
            [PYTHON, "-m", "tfopen", *command, *extra, "--out", tmp_path],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=as_a_reader_runs_it(),
        )
        if message is None:
            assert done.returncode == 0 and done.stderr == "", done.stderr
            assert sorted(p.name for p in tmp_path.glob("*.npy")) == [
                "W.npy",
                "x.npy",
            ]
        else:
            assert done.returncode == 2
            assert done.stderr.splitlines() == [
                (
                    f"tfopen: {message} (tfopen inspect lists its inputs and "
                    "outputs)"
                )
            ]


def test_output_names_are_for_graphs_without_signatures():
    with pytest.raises(tfopen.TfopenError, match="graphs without signatures"):
        tfopen.load(FIXTURES / "tf2.10" / "lstm.h5", outputs=["dense"])


def test_inspect_of_a_keras_file_imports_no_tensorflow():
    code = textwrap.dedent(
        """
        import sys, tfopen
        for path in sys.argv[1:]:
            tfopen.inspect(path)
        print(sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules))
        """
    )
    paths = [
        FIXTURES / "tf2.10" / "lstm.h5",
        FIXTURES / "keras2.2-tf1.15" / "json_weights",
        FIXTURES / "tf2.15-keras2" / "model.keras",
    ]
    done = subprocess.run(
        [PYTHON, "-c", code, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_run_in_a_subprocess_writes_only_the_outputs(tmp_path):
    inputs, outputs = RECORDED["tf2.10/two_inputs"]
    arguments = []
    for name, value in inputs.items():
        np.save(tmp_path / f"{name}.npy", value)
        arguments += ["--input", f"{name}={tmp_path / (name + '.npy')}"]
    before = sorted(
        p.name for p in (FIXTURES / "tf2.10" / "two_inputs").rglob("*")
    )
    done = subprocess.run(
        [
            PYTHON,
            "-m",
            "tfopen",
            "run",
            str(FIXTURES / "tf2.10" / "two_inputs"),
            *arguments,
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "score.npy"
    ]
    np.testing.assert_allclose(
        np.load(tmp_path / "out" / "score.npy"), outputs["score"], atol=1e-6
    )
    assert (
        sorted(p.name for p in (FIXTURES / "tf2.10" / "two_inputs").rglob("*"))
        == before
    )


def test_inspect_prints_for_people(capsys):
    assert (
        main(["inspect", str(FIXTURES / "keras2.2-tf1.15" / "four_copies")])
        == 0
    )
    out = capsys.readouterr().out
    assert "tensorflow: 1.15.5" in out
    assert "warning: the graph holds 4 copies" in out
    assert "saver.restore(sess" in out


def test_keras3_files_written_here(tmp_path, capsys):
    """Keras 3's own formats, written by this environment: .keras, legacy
    .h5, .weights.h5 (inspect only) and model.export's SavedModel."""
    import keras

    inputs = keras.Input(shape=(4,), name="features")
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(inputs))
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    want = model(x).numpy()
    model.save(tmp_path / "model.keras")
    model.save(tmp_path / "model.h5")
    model.save_weights(tmp_path / "model.weights.h5")
    model.export(tmp_path / "exported", verbose=False)
    cases = {
        "model.keras": ("keras-zip", "logits"),
        "model.h5": ("keras-h5", "logits"),
        "exported": ("savedmodel", "output_0"),
    }
    for name, (kind, output) in cases.items():
        facts = cli_json(capsys, tmp_path / name)
        assert facts["format"] == kind, name
        assert [item["name"] for item in facts["inputs"]] == ["features"]
        assert [item["name"] for item in facts["outputs"]] == [output]
        got = tfopen.load(tmp_path / name)({"features": x})[output]
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert cli_json(capsys, tmp_path / "model.keras")["writer"]["keras"] == (
        keras.__version__
    )
    facts = cli_json(capsys, tmp_path / "model.weights.h5")
    assert facts["format"] == "keras3-weights" and not facts["runnable"]
    assert len(facts["variables"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "keras2.2-tf1.15/frozen/model.pb",
        "keras2.2-tf1.15/frozen/model.pbtxt",
        "keras2.2-tf1.15/v1_checkpoint",
        "keras2.2-tf1.15/four_copies",
        "tf2.10/savedmodel_adam",
        "tf2.10/two_inputs",
        "tf2.10/lstm.h5",
        "keras2.2-tf1.15/json_weights",
        "tf2.15-keras2/model.keras",
    ],
)
def test_the_load_code_inspect_prints_runs(path):
    """The lines under "load it with" compute the recorded outputs."""
    facts = tfopen.inspect(FIXTURES / path)
    inputs, outputs = RECORDED[path]
    namespace = dict(inputs)
    # The snippets call a lone input x (graphs) or inputs (Keras models).
    namespace["x"] = namespace["inputs"] = next(iter(inputs.values()))
    exec(facts["load"], namespace)
    got = namespace["outputs"]
    if isinstance(got, dict):
        got = list(got.values())
    got = got[0] if isinstance(got, list) else got
    (want,) = outputs.values()
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-6)


@pytest.mark.parametrize(
    "written, version, runs",
    [
        ("3.11-3.12", (3, 11), True),
        ("3.11-3.12", (3, 12), True),
        ("3.11-3.12", (3, 13), False),
        ("3.13+", (3, 13), True),
        ("3.13+", (3, 12), False),
        ("3.8-3.10", (3, 11), False),
        ("3.7 or earlier", (3, 11), False),
    ],
)
def test_lambda_bytecode_runs_only_on_the_pythons_that_wrote_it(
    written, version, runs
):
    from tfopen._keras import runs_here

    assert runs_here(written, version) is runs


def test_the_table_of_builtin_layers_is_what_tf_keras_has():
    # tfopen tells a file's own classes from Keras's without importing
    # Keras, by this table; an upgrade of tf_keras must regenerate it.
    result = subprocess.run(
        [PYTHON, str(ROOT / "tools" / "builtin_layers.py"), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-500:]


def cudnn_gru_numpy(x, kernel, recurrent_kernel, bias):
    """cuDNN's GRU on the parameters as Keras 2.2's CuDNNGRU hands them
    over: gates z, r, h in the kernels' columns, each gate's slice read back
    as a (units, inputs) matrix (a reshape, not a transpose, as for
    CuDNNLSTM: tools/fixtures/make_keras22.py), an input and a recurrent
    bias per gate, and the reset gate applied after the recurrent product."""
    units = recurrent_kernel.shape[0]

    def gates(matrix, columns):
        return [
            matrix[:, k * units : (k + 1) * units].reshape(units, columns)
            for k in range(3)
        ]

    w, r = gates(kernel, kernel.shape[0]), gates(recurrent_kernel, units)
    bw, br = np.split(bias[: 3 * units], 3), np.split(bias[3 * units :], 3)
    h = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        xt = x[:, t]
        z = 1 / (1 + np.exp(-(xt @ w[0].T + bw[0] + h @ r[0].T + br[0])))
        reset = 1 / (1 + np.exp(-(xt @ w[1].T + bw[1] + h @ r[1].T + br[1])))
        n = np.tanh(xt @ w[2].T + bw[2] + reset * (h @ r[2].T + br[2]))
        h = z * h + (1 - z) * n
    return h


def test_a_cudnn_gru_runs_as_a_gru(tmp_path):
    # No fixture holds a CuDNNGRU: this file is the CuDNNLSTM fixture with
    # its layer made a CuDNNGRU of new weights, as Keras 2.2 lays them out.
    import h5py

    path = tmp_path / "cudnn_gru.h5"
    path.write_bytes(
        (FIXTURES / "keras2.2-tf1.15" / "cudnn_lstm.h5").read_bytes()
    )
    rng = np.random.default_rng(7)
    units, inputs = 4, 3
    kernel = rng.normal(size=(inputs, 3 * units)).astype(np.float32)
    recurrent = rng.normal(size=(units, 3 * units)).astype(np.float32)
    bias = rng.normal(size=6 * units).astype(np.float32)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        layer = config["config"]["layers"][0]
        layer["class_name"] = "CuDNNGRU"
        del layer["config"]["unit_forget_bias"]
        f.attrs["model_config"] = json.dumps(config).encode()
        group = f["model_weights/lstm/lstm"]
        for name, value in (
            ("kernel:0", kernel),
            ("recurrent_kernel:0", recurrent),
            ("bias:0", bias),
        ):
            del group[name]
            group[name] = value
        dense_kernel = f["model_weights/out/out/kernel:0"][()]
        dense_bias = f["model_weights/out/out/bias:0"][()]
    facts = tfopen.inspect(path)
    assert any("CuDNNGRU" in warning for warning in facts["warnings"])
    x = rng.normal(size=(2, 5, inputs)).astype(np.float32)
    expected = (
        cudnn_gru_numpy(x.astype(np.float64), kernel, recurrent, bias)
        @ dense_kernel
        + dense_bias
    )
    got = tfopen.load(path)(x)
    np.testing.assert_allclose(got["out"], expected, atol=1e-5)


def test_loading_a_keras2_file_shows_no_warning_about_replaced_values():
    """Building the CuDNNLSTM file's LSTM, tf_keras warns that an unseeded
    initializer is called twice (the bias initializer, with unit_forget_bias),
    on stderr with a path of its own; the file's weights replace those
    values, so tfopen keeps that warning from the reader."""
    import warnings

    path = FIXTURES / "keras2.2-tf1.15" / "cudnn_lstm.h5"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tfopen.load(path)
    assert not [w for w in caught if "unseeded" in str(w.message)]
