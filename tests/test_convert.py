"""tfopen convert on the fixtures: every kind of file it claims to convert,
to each target, gives the outputs the file's writer recorded (or, for
safetensors, the tensors the file stores); bad input gets one line on
stderr, exit 2, and nothing at OUT.

The conversions run in-process (tfopen.__main__.main), so TensorFlow is
imported once; a few run as a reader runs them, in a subprocess, to check
stderr and the exit status."""

import os
import subprocess
import sys

import numpy as np
import pytest
from support.book import ROOT
from test_tfopen import (
    CUSTOM_TF_KERAS,
    FIXTURES,
    KERAS2,
    RECORDED,
    bad_inputs,
)

sys.path.insert(0, str(ROOT))
import tfopen
from tfopen import _convert
from tfopen.__main__ import main

PYTHON = sys.executable
MODEL_TARGETS = ("savedmodel", "tflite", "onnx")
SUFFIX = {
    "savedmodel": "",
    "tflite": ".tflite",
    "onnx": ".onnx",
    "safetensors": ".safetensors",
}


@pytest.fixture(autouse=True, scope="module")
def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


# One file of every kind convert runs, and the files that test a corner:
# path under fixtures/ -> extra command-line arguments.
MODELS = {
    "tf2.15-keras2/savedmodel": [],  # Keras 2 SavedModel
    "tf2.10/two_inputs": [],  # two named inputs
    "tf2.7/savedmodel_adam": [],  # Adam's slots in the SavedModel
    "tf1.15/savedmodel": [],  # TF1 simple_save
    "keras2.2-tf1.15/frozen/model.pb": [],  # frozen GraphDef
    "keras2.2-tf1.15/frozen/model.pbtxt": [],  # the same as text
    "tf1.15/frozen/combined_model.pb": [],  # chapter 10's: no inputs
    "keras2.2-tf1.15/four_copies/model.ckpt.meta": [],  # .meta, last copy
    "tf1.15/training": [],  # V2 checkpoint with its .meta
    "keras2.2-tf1.15/v1_checkpoint": [],  # V1 checkpoint with its .meta
    "tf2.15-keras2/model.h5": [],  # Keras 2 .h5
    "tf1.15/keras/model.h5": [],  # tf.keras 2.2.4-tf .h5
    "keras2.2-tf1.15/json_weights": [],  # JSON and weights
    "tf2.15-keras2/model.keras": [],  # Keras 2.15's .keras
    "tf2.10/lstm.h5": ["--batch", "6"],  # LiteRT needs a static batch
    "keras2.2-tf1.15/cudnn_lstm.h5": ["--batch", "3"],
    "tf2.15-keras2/custom_layer.h5": ["--unsafe", "--custom"],
}
# The files whose recorded values are filed under another path.
RECORDED_AS = {
    "keras2.2-tf1.15/four_copies/model.ckpt.meta": "keras2.2-tf1.15/four_copies"
}
# Recorded outputs: the tolerance is that of `tfopen run` (1e-6), and 1e-5
# for LiteRT and ONNX, whose kernels sum in another order (XNNPACK's fused
# multiply-adds): a few float32 rounding steps on outputs of order 1.
TOLERANCE = {"savedmodel": 1e-6, "tflite": 1e-5, "onnx": 1e-5}


def convert_in_process(capsys, path, to, out, *extra):
    code = main(["convert", str(path), "--to", to, str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def run_file(to, out, inputs):
    """{name: array} from a converted file, fed {name: array}; names as
    convert writes them (tfopen._convert.safe_name)."""
    feed = {_convert.safe_name(k): np.asarray(v) for k, v in inputs.items()}
    if to == "savedmodel":
        import tensorflow as tf

        signature = tf.saved_model.load(str(out)).signatures["serving_default"]
        values = signature(**{k: tf.constant(v) for k, v in feed.items()})
        return {k: v.numpy() for k, v in values.items()}
    if to == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        with _convert.native_stderr_silenced():
            runner = Interpreter(model_path=str(out)).get_signature_runner()
        return runner(**feed)
    import onnxruntime

    session = onnxruntime.InferenceSession(
        str(out), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feed)))


def arguments(path, extra, tmp_path):
    extra = list(extra)
    if "--custom" in extra:
        custom = tmp_path / "custom.py"
        custom.write_text(CUSTOM_TF_KERAS)
        extra.insert(extra.index("--custom") + 1, str(custom))
    return extra


@pytest.mark.parametrize("to", MODEL_TARGETS)
@pytest.mark.parametrize("path", sorted(MODELS))
def test_converted_file_computes_what_the_writer_recorded(
    path, to, tmp_path, capsys
):
    inputs, outputs = RECORDED[RECORDED_AS.get(path, path)]
    if "--batch" in MODELS[path]:
        batch = int(MODELS[path][MODELS[path].index("--batch") + 1])
        assert all(len(v) == batch for v in inputs.values()), path
    out = tmp_path / ("converted" + SUFFIX[to])
    printed = convert_in_process(
        capsys,
        FIXTURES / path,
        to,
        out,
        *arguments(path, MODELS[path], tmp_path),
    )
    assert "largest difference from the original:" in printed
    got = run_file(to, out, inputs)
    assert sorted(got) == sorted(_convert.safe_name(k) for k in outputs)
    for name, want in outputs.items():
        np.testing.assert_allclose(
            got[_convert.safe_name(name)], want, atol=TOLERANCE[to], rtol=0
        )
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.name != "custom.py"
    ) == [out.name]


def test_keras3_files_convert(tmp_path, capsys):
    """A .keras file and a legacy .h5 that Keras 3 wrote here."""
    import keras

    inputs = keras.Input(shape=(4,), name="features")
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    want = model(x).numpy()
    model.save(tmp_path / "model.keras")
    model.save(tmp_path / "model.h5")
    for source in ("model.keras", "model.h5"):
        for to in MODEL_TARGETS:
            out = tmp_path / f"{source}{SUFFIX[to] or '.savedmodel'}"
            convert_in_process(capsys, tmp_path / source, to, out)
            got = run_file(to, out, {"features": x})
            assert list(got) == ["logits"]
            np.testing.assert_allclose(got["logits"], want, atol=1e-5, rtol=0)


def test_lstm_to_litert_needs_a_batch_size(tmp_path, capsys):
    """The TF 2.10 LSTM converts to LiteRT only with a static batch: the
    message says so, and --batch makes it convert (the test above)."""
    out = tmp_path / "lstm.tflite"
    code = main(
        [
            "convert",
            str(FIXTURES / "tf2.10/lstm.h5"),
            "--to",
            "tflite",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert "TensorListReserve" in err and "--batch N" in err, err
    assert list(tmp_path.iterdir()) == []


# --- safetensors: the stored tensors, read without TensorFlow ------------------

WEIGHTS = [
    "tf1.15/two_variables",  # V2 checkpoint
    "tf1.15/object",  # object-based, two data files
    "tf1.15/training/model.ckpt-5.index",  # Adam's slots, moving averages
    "keras2.2-tf1.15/v1_checkpoint",  # V1 checkpoint
    "keras2.2-tf1.15/four_copies/model.ckpt.meta",  # a .meta's checkpoint
    "tf2.10/savedmodel_adam",  # a SavedModel's variables
    "keras2.2-tf1.15/frozen/model.pb",  # a frozen graph's constants
    "tf2.15-keras2/model.h5",
    "tf1.15/keras/weights.h5",
    "keras2.2-tf1.15/json_weights",
    "tf2.15-keras2/model.keras",
]


def checkpoint_prefix(path):
    found = tfopen._detect.identify(FIXTURES / path)
    if found.kind == "savedmodel":
        return found.path / "variables" / "variables"
    if found.kind == "metagraph":
        return found.extra["checkpoint"]
    return found.path


def expected_tensors(path):
    """What the file stores, read with the library made for it."""
    found = tfopen._detect.identify(FIXTURES / path)
    if found.kind.startswith("keras"):
        import io
        import zipfile

        import h5py

        source = found.extra.get("weights") or found.path
        if found.kind == "keras-zip":
            with zipfile.ZipFile(source) as archive:
                source = io.BytesIO(archive.read("model.weights.h5"))
        arrays = {}
        with h5py.File(source, "r") as f:
            f.visititems(
                lambda name, item: (
                    arrays.__setitem__(name, item[()])
                    if isinstance(item, h5py.Dataset)
                    else None
                )
            )
        return arrays
    import tensorflow as tf

    if found.kind == "graphdef":
        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(found.path.read_bytes())
        return {
            node.name: tf.make_ndarray(node.attr["value"].tensor)
            for node in graph_def.node
            if node.op == "Const"
        }
    reader = tf.train.load_checkpoint(str(checkpoint_prefix(path)))
    return {
        key: reader.get_tensor(key)
        for key in reader.get_variable_to_shape_map()
        if key != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }


@pytest.mark.parametrize("path", WEIGHTS)
def test_safetensors_hold_every_stored_tensor(path, tmp_path, capsys):
    from safetensors.numpy import load_file

    out = tmp_path / "weights.safetensors"
    printed = convert_in_process(capsys, FIXTURES / path, "safetensors", out)
    assert "largest difference from the original: 0 (" in printed
    got = load_file(str(out))
    want = expected_tensors(path)
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        value = np.asarray(value)
        assert got[key].dtype == value.dtype and got[key].shape == value.shape
        assert got[key].tobytes() == value.tobytes(), key


def test_safetensors_read_without_tensorflow(tmp_path, capsys):
    """The point of leaving TensorFlow: a process that reads the file and
    computes the TF 2.15 classifier's logits with NumPy imports neither
    TensorFlow nor Keras."""
    out = tmp_path / "classifier.safetensors"
    convert_in_process(
        capsys, FIXTURES / "tf2.15-keras2/model.h5", "safetensors", out
    )
    np.save(tmp_path / "x.npy", KERAS2["x"])
    code = """
import sys
import numpy as np
from safetensors.numpy import load_file
w = load_file(sys.argv[1])
x = np.load(sys.argv[2])
k = "model_weights/{0}/{0}/kernel:0"
b = "model_weights/{0}/{0}/bias:0"
hidden = np.maximum(x @ w[k.format("hidden")] + w[b.format("hidden")], 0)
np.save(sys.argv[3], hidden @ w[k.format("logits")] + w[b.format("logits")])
print(sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules))
"""
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            code,
            str(out),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    np.testing.assert_allclose(
        np.load(tmp_path / "y.npy"), KERAS2["logits"], atol=1e-5, rtol=0
    )


# --- bad input: one line, exit 2, nothing at OUT ---------------------------------


def assert_refused(capsys, arguments, message, folder):
    before = sorted(p.name for p in folder.iterdir())
    assert main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("tfopen: ") and message in captured.err, (
        captured.err
    )
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_bad_files_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for path, message in bad_inputs(tmp_path / "bad").values():
        for to in ("onnx", "safetensors"):
            assert_refused(
                capsys,
                ["convert", str(path), "--to", to, str(out / f"model.{to}")],
                message,
                out,
            )


REFUSED = {
    # path, target, extra arguments: what the one line says
    "not runnable": (
        "tf1.15/ema",
        "onnx",
        [],
        "cannot be run: no model in the graph",
    ),
    "weights only": ("tf1.15/keras/weights.h5", "tflite", [], "weights only"),
    "values only": (
        "tf1.15/object",
        "savedmodel",
        [],
        "values only, no graph",
    ),
    "lambda": ("tf2.15-keras2/lambda.h5", "onnx", [], "only with --unsafe"),
    "custom class": (
        "tf2.10/attention.h5",
        "savedmodel",
        [],
        "needs the author's class Attention",
    ),
    "batch of 0": ("tf2.10/lstm.h5", "tflite", ["--batch", "0"], "at least 1"),
    "unknown output": (
        "tf1.15/frozen/combined_model.pb",
        "onnx",
        ["--output", "nowhere"],
        "no tensor nowhere:0 in the graph",
    ),
    "check above atol": (
        "tf2.15-keras2/model.h5",
        "tflite",
        ["--atol", "0"],
        "more than --atol 0: nothing written",
    ),
}


@pytest.mark.parametrize("label", sorted(REFUSED))
def test_refusals_say_why_and_write_nothing(label, tmp_path, capsys):
    path, to, extra, message = REFUSED[label]
    assert_refused(
        capsys,
        [
            "convert",
            str(FIXTURES / path),
            "--to",
            to,
            str(tmp_path / "out"),
            *extra,
        ],
        message,
        tmp_path,
    )


def test_out_is_never_replaced_nor_written_outside_a_folder(tmp_path, capsys):
    source = FIXTURES / "keras2.2-tf1.15/frozen/model.pb"
    existing = tmp_path / "model.onnx"
    existing.write_text("mine")
    assert_refused(
        capsys,
        ["convert", str(source), "--to", "onnx", str(existing)],
        "already exists",
        tmp_path,
    )
    assert existing.read_text() == "mine"
    assert_refused(
        capsys,
        [
            "convert",
            str(source),
            "--to",
            "onnx",
            str(tmp_path / "no" / "m.onnx"),
        ],
        "no such folder",
        tmp_path,
    )


def test_a_failure_midway_leaves_nothing(tmp_path, monkeypatch, capsys):
    """A conversion that dies after writing part of its file (here, by an
    exception; a killed process leaves only a hidden temporary name)."""

    def half_written(model, file):
        with open(file, "wb") as f:
            f.write(b"half an ONNX file")
        raise OSError("disk full")

    monkeypatch.setattr(_convert, "write_onnx", half_written)
    source = FIXTURES / "keras2.2-tf1.15/frozen/model.pb"
    assert_refused(
        capsys,
        ["convert", str(source), "--to", "onnx", str(tmp_path / "m.onnx")],
        "cannot convert it: OSError: disk full",
        tmp_path,
    )


def test_bad_input_in_a_subprocess_prints_one_line(tmp_path):
    """As a reader runs it: exit 2, one line on stderr, nothing on stdout,
    no TensorFlow log line, nothing at OUT."""
    cases = [
        ([str(tmp_path / "nowhere.h5"), "--to", "onnx"], "no such file"),
        (
            [str(FIXTURES / "tf2.10/lstm.h5"), "--to", "tflite"],
            "TensorListReserve",
        ),
    ]
    for arguments, message in cases:
        done = subprocess.run(
            [
                PYTHON,
                "-m",
                "tfopen",
                "convert",
                *arguments,
                str(tmp_path / "out"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and message in done.stderr, (
            done.stderr
        )
        assert done.stdout == ""
        assert list(tmp_path.iterdir()) == []


def test_the_module_and_the_command_agree(tmp_path):
    """tfopen.convert returns what the command prints."""
    out = tmp_path / "model.onnx"
    report = tfopen.convert(
        FIXTURES / "keras2.2-tf1.15/frozen/model.pb", "onnx", out
    )
    assert report["size"] == out.stat().st_size
    assert report["inputs"] == ["x"] and report["outputs"] == ["y"]
    assert 0 <= report["largest_difference"] < 1e-6


def test_an_op_onnx_lacks_is_named(tmp_path, capsys):
    """tf2onnx logs an op it cannot convert (here tf.py_function's
    EagerPyFunc) and writes it into the file anyway; convert refuses. The
    SavedModel is written by another process, as a reader's would be: in
    this one, its function would clash with the one traced to write it."""
    code = """
import sys
import tensorflow as tf
module = tf.Module()
module.double = tf.function(
    lambda t: {"doubled": tf.py_function(lambda a: a * 2, [t], tf.float32)},
    input_signature=[tf.TensorSpec([None], tf.float32, name="t")],
)
tf.saved_model.save(module, sys.argv[1], signatures={"serving_default": module.double})
"""
    subprocess.run(
        [PYTHON, "-c", code, str(tmp_path / "py")],
        check=True,
        capture_output=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    out = tmp_path / "out"
    out.mkdir()
    assert_refused(
        capsys,
        [
            "convert",
            str(tmp_path / "py"),
            "--to",
            "onnx",
            str(out / "py.onnx"),
        ],
        "tf2onnx cannot convert TensorFlow's EagerPyFunc to ONNX",
        out,
    )


def test_chapter_18_and_the_readme_quote_the_benchmark():
    """The time to a first prediction varies by run and machine, so the
    chapter does not measure it: it quotes benchmarks/results/onward-2-cores.json
    (`python -m benchmarks.onward`), as benchmarks/README.md does."""
    import json

    import nbformat

    results = json.loads(
        (ROOT / "benchmarks" / "results" / "onward-2-cores.json").read_text()
    )
    routes = results["routes"]
    first = {k: v["process_s"]["median"] for k, v in routes.items()}
    warm = {
        k: v["load_and_predict_s"]["median"] * 1000 for k, v in routes.items()
    }
    quoted = (
        f"a fresh process took {first['savedmodel']:.2f} s to a first prediction"
        f" from the SavedModel, {first['tflite']:.2f} s from the LiteRT file,"
        f" {first['onnx']:.2f} s from the ONNX file and {first['safetensors']:.2f} s"
        " from safetensors with NumPy (medians); loading the file and predicting,"
        f" without the import, took {warm['savedmodel']:.1f}, {warm['tflite']:.1f},"
        f" {warm['onnx']:.1f} and {warm['safetensors']:.1f} ms"
    )
    chapter = nbformat.read(
        ROOT / "notebooks" / "18-taking-a-model-onward.ipynb", as_version=4
    )
    prose = " ".join(
        " ".join(cell.source.split())
        for cell in chapter.cells
        if cell.cell_type == "markdown"
    )
    readme = " ".join((ROOT / "benchmarks" / "README.md").read_text().split())
    assert quoted in prose
    assert quoted in readme
    load = results["load_average"][0]
    assert f"load average {load:.1f} when it started" in prose
