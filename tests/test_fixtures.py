"""The committed files of old TensorFlow versions (fixtures/), checked
against their manifest and read by the pinned TensorFlow with their values
compared. `make fixtures` writes them; these tests only read them, so they
need neither Python 3.7 nor an old TensorFlow."""

import hashlib
import os

import numpy as np
import pytest
from support.book import ROOT

# Imported by the fixture below, not at collection: every pytest worker
# collects this module, and only the one that runs it should pay for the import.
tf = tf1 = None


@pytest.fixture(autouse=True, scope="module")
def _tensorflow():
    global tf, tf1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf1 = tf.compat.v1


FIXTURES = ROOT / "fixtures"
TF1 = FIXTURES / "tf1.15"
KERAS2 = FIXTURES / "tf2.15-keras2"


def manifest():
    """{path under fixtures/: (sha256, size, generator, versions)}"""
    entries = {}
    for line in (FIXTURES / "MANIFEST").read_text().splitlines():
        if line and not line.startswith("#"):
            sha, size, path, generator, *versions = line.split()
            entries[path] = (sha, int(size), generator, versions)
    return entries


ENTRIES = manifest()


def test_manifest_lists_every_file():
    on_disk = {
        path.relative_to(FIXTURES).as_posix()
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.name != "MANIFEST"
    }
    assert sorted(on_disk - set(ENTRIES)) == [], "files missing from MANIFEST"
    assert sorted(set(ENTRIES) - on_disk) == [], "MANIFEST lists lost files"


@pytest.mark.parametrize("path", sorted(ENTRIES))
def test_file_matches_manifest(path):
    sha, size, _, _ = ENTRIES[path]
    data = (FIXTURES / path).read_bytes()
    assert len(data) == size, f"fixtures/{path}: size changed"
    assert hashlib.sha256(data).hexdigest() == sha, (
        f"fixtures/{path}: bytes changed"
    )


# folder: (generator, Python, TensorFlow, Keras) that wrote it
WRITERS = {
    "tf1.15": ("make_tf1.py", "3.7.", "1.15.5", "2.2.4-tf"),
    "tf2.15-keras2": ("make_keras2.py", "3.11.", "2.15.1", "2.15.0"),
    "tf2.10": ("make_tf2_old.py", "3.10.", "2.10.1", "2.10.0"),
    "tf2.7": ("make_tf2_old.py", "3.9.", "2.7.4", "2.7.0"),
    "keras2.2-tf1.15": ("make_keras22.py", "3.7.", "1.15.5", "2.2.5"),
}


def test_manifest_names_the_writers():
    for path, (_, _, generator, versions) in ENTRIES.items():
        python, tensorflow, keras, numpy = versions
        folder = path.split("/")[0]
        assert folder in WRITERS, path
        script, python_prefix, tensorflow_version, keras_version = WRITERS[
            folder
        ]
        assert generator == "tools/fixtures/" + script, path
        assert python.startswith(python_prefix), path
        assert (tensorflow, keras) == (tensorflow_version, keras_version), path
        if tensorflow.startswith("1."):
            assert numpy.startswith("1.18."), path


def test_fixtures_stay_small():
    total = sum(size for _, size, _, _ in ENTRIES.values())
    assert total < 1_000_000, f"fixtures/ holds {total:,} bytes"


def meta_graph(path):
    meta = tf1.MetaGraphDef()
    meta.ParseFromString(path.read_bytes())
    return meta


def test_tf1_two_variables_read_by_today():
    prefix = TF1 / "two_variables" / "model.ckpt"
    reader = tf.train.load_checkpoint(str(prefix))
    assert reader.get_tensor("v1").tolist() == [1.0]
    assert reader.get_tensor("v2").tolist() == [2.0]
    # The `checkpoint` file holds a relative path, so the folder can move.
    assert (
        'model_checkpoint_path: "model.ckpt"'
        in (TF1 / "two_variables" / "checkpoint").read_text()
    )
    assert tf.train.latest_checkpoint(str(prefix.parent)) == str(prefix)

    # book/compatibility.md quotes both sizes.
    assert (TF1 / "two_variables" / "model.ckpt.meta").stat().st_size == 3522
    assert (KERAS2 / "saver" / "model.ckpt.meta").stat().st_size == 4465
    meta = meta_graph(TF1 / "two_variables" / "model.ckpt.meta")
    assert meta.meta_info_def.tensorflow_version == "1.15.5"
    ops = {node.name: node.op for node in meta.graph_def.node}
    assert ops["v1"] == ops["v2"] == "VariableV2"
    assert ops["add"] == "AddV2"
    assert "VarHandleOp" not in ops.values()
    with tf.Graph().as_default() as graph:
        saver = tf1.train.import_meta_graph(str(prefix) + ".meta")
        variables = tf1.global_variables()
        assert [v.dtype for v in variables] == [tf.float32._as_ref] * 2
        with tf1.Session() as sess:
            saver.restore(sess, str(prefix))
            assert sess.run(graph.get_tensor_by_name("add:0")).tolist() == [
                3.0
            ]


def test_tf1_ema_read_by_today():
    prefix = str(TF1 / "ema" / "model.ckpt")
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_tensor("v") == np.float32(10.0)
    shadow = reader.get_tensor("v/ExponentialMovingAverage")
    assert shadow == np.float32("0.099999905")
    with tf.Graph().as_default():
        v = tf1.Variable(0, dtype=tf.float32, name="v")
        saver = tf1.train.Saver(
            tf1.train.ExponentialMovingAverage(0.99).variables_to_restore()
        )
        with tf1.Session() as sess:
            saver.restore(sess, prefix)
            assert sess.run(v) == shadow


def test_tf1_frozen_graph_read_by_today():
    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(
        (TF1 / "frozen" / "combined_model.pb").read_bytes()
    )
    assert [(n.name, n.op) for n in graph_def.node] == [
        ("v1", "Const"),
        ("v1/read", "Identity"),
        ("v2", "Const"),
        ("v2/read", "Identity"),
        ("add", "AddV2"),
    ]
    with tf.Graph().as_default():
        (result,) = tf1.import_graph_def(graph_def, return_elements=["add:0"])
        with tf1.Session() as sess:
            assert sess.run(result).tolist() == [3.0]


def dense_forward(reader, x, suffix=""):
    def get(name):
        return reader.get_tensor(f"classifier/{name}{suffix}")

    hidden = np.maximum(x @ get("hidden/kernel") + get("hidden/bias"), 0)
    return hidden @ get("logits/kernel") + get("logits/bias")


def test_tf1_training_checkpoint_read_by_today():
    expected = np.load(TF1 / "training" / "expected.npz")
    latest = tf.train.latest_checkpoint(str(TF1 / "training"))
    assert latest.endswith("model.ckpt-5")
    reader = tf.train.load_checkpoint(latest)
    keys = set(reader.get_variable_to_shape_map())
    for layer in ("hidden", "logits"):
        for weight in ("kernel", "bias"):
            name = f"classifier/{layer}/{weight}"
            for suffix in (
                "",
                "/Adam",
                "/Adam_1",
                "/ExponentialMovingAverage",
            ):
                assert name + suffix in keys
    assert reader.get_tensor("global_step") == 5
    # TF1's Adam keeps beta ** (step + 1): the power for the next update.
    np.testing.assert_allclose(
        reader.get_tensor("beta1_power"), 0.9**6, rtol=1e-6
    )
    np.testing.assert_allclose(
        reader.get_tensor("beta2_power"), 0.999**6, rtol=1e-6
    )
    np.testing.assert_allclose(
        dense_forward(reader, expected["x"]), expected["logits"], atol=1e-5
    )
    np.testing.assert_allclose(
        dense_forward(reader, expected["x"], "/ExponentialMovingAverage"),
        expected["averaged_logits"],
        atol=1e-5,
    )
    assert len(expected["losses"]) == 5


def test_tf1_transcript_holds_what_the_chapters_quote():
    lines = (TF1 / "transcript.txt").read_text().splitlines()
    for line in [
        "tensorflow 1.15.5",
        "sess.run(result): [3.]",
        "with np.printoptions(legacy='1.13'): [ 3.]",
        "[10.0, 0.099999905]",
        "with np.printoptions(legacy='1.13'): 0.0999999",
        "v1.dtype: <dtype: 'float32_ref'>  v1.op.type: VariableV2",
        "result.op.type: AddV2",
        "meta file: two_variables/model.ckpt.meta 3522 bytes",
        "INFO:tensorflow:Converted 2 variables to const ops.",
        "[array([3.], dtype=float32)]",
    ]:
        assert line in lines
    # Nothing that names a machine: the generator strips call sites.
    assert not any("/tmp/" in line or "/root/" in line for line in lines)


@pytest.mark.parametrize(
    "folder, prefix",
    [
        ("tf1.15/two_variables", "model.ckpt"),
        ("tf1.15/ema", "model.ckpt"),
        ("tf1.15/object", "ckpt-1"),
        ("tf1.15/training", "model.ckpt-5"),
        ("tf2.15-keras2/saver", "model.ckpt"),
        ("tf2.15-keras2/weights_tf", "ckpt"),
    ],
)
def test_checkpoint_state_files_point_inside_their_folder(folder, prefix):
    """Each `checkpoint` file holds a relative path, so the folder can move."""
    path = FIXTURES / folder
    assert tf.train.latest_checkpoint(str(path)) == str(path / prefix)


def test_keras2_savedmodel_metadata():
    """keras_metadata.pb, which only Keras 2 reads: the Keras version and the
    model class it recorded. TF 2.21 loads the folder without it."""
    metadata = (KERAS2 / "savedmodel" / "keras_metadata.pb").read_bytes()
    assert b'"keras_version": "2.15.0"' in metadata
    assert b'"class_name": "Functional"' in metadata
    assert tf.saved_model.contains_saved_model(str(KERAS2 / "savedmodel"))
