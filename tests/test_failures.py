"""Chapter 13's catalogue of failures, one test per case.

Each test makes the same damage as the chapter, in pytest's tmp_path (the working directory
for the test, so that paths in messages are the chapter's relative ones), and asserts the
exact error class and the message line the chapter documents, or the silence it documents.
If TensorFlow or Keras changes behaviour, the failing test names the catalogue case.
"""

import collections
import os
import pathlib
import shutil

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from google.protobuf.message import DecodeError  # noqa: E402

tf1 = tf.compat.v1
DATA = ".data-00000-of-00001"
V1_KEY, V2_KEY = (
    "v1/.ATTRIBUTES/VARIABLE_VALUE",
    "v2/.ATTRIBUTES/VARIABLE_VALUE",
)


# --- the chapter's helpers, repeated (a chapter must not be imported) ---------------------


def line_with(exc, text=""):
    """The line show_error prints: the first line of the message that contains `text`."""
    lines = str(exc).splitlines() or [""]
    return next((line for line in lines if text in line), lines[0]).strip()


def damaged_copy(folder):
    shutil.copytree("good", folder)
    return f"{folder}/model"


def truncate(path, size):
    with open(path, "r+b") as file:
        file.truncate(size)


def flip_bit(path, offset, bit=0):
    data = bytearray(pathlib.Path(path).read_bytes())
    data[offset] ^= 1 << bit
    pathlib.Path(path).write_bytes(bytes(data))


def read_v1_v2(prefix, strict=False):
    fresh_v1 = tf.Variable([0.0], name="v1")
    fresh_v2 = tf.Variable([0.0], name="v2")
    status = tf.train.Checkpoint(v1=fresh_v1, v2=fresh_v2).read(prefix)
    if strict:
        status.assert_existing_objects_matched()
    return fresh_v1.numpy().tolist(), fresh_v2.numpy().tolist()


def save_tf1_checkpoint():
    graph = tf.Graph()
    with graph.as_default():
        tf1.Variable(tf1.constant(1.0, shape=[1]), name="v1")
        tf1.Variable(tf1.constant(2.0, shape=[1]), name="v2")
        saver = tf1.train.Saver()
    with tf1.Session(graph=graph) as sess:
        sess.run(tf1.global_variables_initializer())
        saver.save(sess, "tf1/model.ckpt")
    return graph, saver


def tf1_restore_error(graph, saver, prefix):
    """Restore with a TF1 Saver and return the tf.errors.OpError it raises."""
    with tf1.Session(graph=graph) as sess:
        with pytest.raises(tf.errors.OpError) as caught:
            saver.restore(sess, prefix)
    return caught.value


@pytest.fixture(autouse=True)
def good_checkpoint(tmp_path, monkeypatch):
    """Work in tmp_path, holding the chapter's good checkpoint: v1 = [1.0], v2 = [2.0]."""
    monkeypatch.chdir(tmp_path)
    v1, v2 = tf.Variable([1.0], name="v1"), tf.Variable([2.0], name="v2")
    tf.train.Checkpoint(v1=v1, v2=v2).write("good/model")
    assert read_v1_v2("good/model", strict=True) == ([1.0], [2.0])


def test_good_checkpoint_sizes():
    """The offsets the damage relies on: v1 at byte 0, v2 at byte 4, 146 bytes of object graph."""
    assert os.path.getsize("good/model" + DATA) == 154
    assert os.path.getsize("good/model.index") == 243


# --- the catalogue --------------------------------------------------------------------------


def test_case01_missing_files_not_found():
    expected = "Unsuccessful TensorSliceReader constructor: Failed to find any matching files for nowhere/model"
    for attempt in (
        lambda: read_v1_v2("nowhere/model"),
        lambda: tf.train.load_checkpoint("nowhere/model"),
        lambda: tf.train.list_variables("nowhere/model"),
    ):
        with pytest.raises(tf.errors.OpError) as caught:
            attempt()
        assert type(caught.value) is tf.errors.NotFoundError
        assert line_with(caught.value) == expected


def test_case02_folder_as_prefix_is_data_loss():
    with pytest.raises(tf.errors.OpError) as caught:
        read_v1_v2("good")
    assert type(caught.value) is tf.errors.DataLossError
    assert line_with(caught.value).startswith(
        "Unable to open table file good: FAILED_PRECONDITION: good; Is a directory"
    )


def test_case03_index_file_name_as_prefix_restores_nothing_silently():
    assert read_v1_v2("good/model.index") == ([0.0], [0.0])
    with pytest.raises(AssertionError) as caught:
        read_v1_v2("good/model.index", strict=True)
    assert (
        line_with(caught.value)
        == "Some objects had attributes which were not restored:"
    )


def test_case04_truncated_data_is_a_plain_index_error():
    prefix = damaged_copy("truncated-data")
    truncate(prefix + DATA, 77)
    with pytest.raises(IndexError) as caught:
        read_v1_v2(prefix)
    assert type(caught.value) is IndexError
    assert line_with(caught.value) == "Read less bytes than requested"
    reader = tf.train.load_checkpoint(
        prefix
    )  # what lies before the cut is salvageable
    assert reader.get_tensor(V1_KEY).tolist() == [1.0] and reader.get_tensor(
        V2_KEY
    ).tolist() == [2.0]
    assert [key for key, _ in tf.train.list_variables(prefix)] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        V1_KEY,
        V2_KEY,
    ]


def test_case05_truncated_data_tf1_saver_out_of_range():
    graph, saver = save_tf1_checkpoint()
    shutil.copytree("tf1", "tf1-truncated")
    truncate("tf1-truncated/model.ckpt" + DATA, 4)
    error = tf1_restore_error(graph, saver, "tf1-truncated/model.ckpt")
    assert type(error) is tf.errors.OutOfRangeError
    assert line_with(error, "Read less") == "Read less bytes than requested"


def test_case06_empty_data_is_index_error_for_read_and_reader():
    prefix = damaged_copy("empty-data")
    truncate(prefix + DATA, 0)
    for attempt in (
        lambda: read_v1_v2(prefix),
        lambda: tf.train.load_checkpoint(prefix).get_tensor(V1_KEY),
    ):
        with pytest.raises(IndexError) as caught:
            attempt()
        assert line_with(caught.value) == "Read less bytes than requested"


@pytest.mark.parametrize(
    "folder, damage",
    [
        ("garbage-index", lambda data: b"not a checkpoint index" * 4),
        ("truncated-index", lambda data: data[:120]),
    ],
)
def test_case07_garbage_or_truncated_index_is_the_base_op_error(
    folder, damage
):
    index = pathlib.Path(damaged_copy(folder) + ".index")
    index.write_bytes(damage(index.read_bytes()))
    with pytest.raises(tf.errors.OpError) as caught:
        read_v1_v2(f"{folder}/model")
    assert type(caught.value) is tf.errors.OpError
    assert caught.value.error_code == tf.errors.UNKNOWN
    assert line_with(caught.value) == "not an sstable (bad magic number)"


def test_case08_flipped_bit_caught_by_checksum_on_restore():
    prefix = damaged_copy("flipped-bit")
    flip_bit(prefix + DATA, offset=4)
    checksum = (
        "TensorBundle at flipped-bit/model shard 0 (4 bytes): Checksum does not match: "
        "stored 152852091 vs. calculated on the restored bytes 3562667203"
    )
    with pytest.raises(tf.errors.OpError) as caught:
        read_v1_v2(prefix)
    assert type(caught.value) is tf.errors.DataLossError
    assert checksum in line_with(caught.value, "Checksum")

    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_tensor(V1_KEY).tolist() == [1.0]
    with pytest.raises(tf.errors.OpError) as caught:
        reader.get_tensor(V2_KEY)
    assert type(caught.value) is tf.errors.OpError
    assert line_with(caught.value) == checksum


def test_case08_every_single_bit_flip_is_refused_or_harmless():
    shutil.copytree("good", "sweep")
    expected = {
        DATA: {"refused (DataLossError)": 8, "refused (OpError)": 146},
        ".index": {"refused (OpError)": 193, "restored the right values": 50},
    }
    for suffix, counts in expected.items():
        path = pathlib.Path("sweep/model" + suffix)
        original = path.read_bytes()
        outcomes = collections.Counter()
        for offset in range(len(original)):
            flip_bit(path, offset)
            try:
                right = read_v1_v2("sweep/model", strict=True) == (
                    [1.0],
                    [2.0],
                )
                outcomes[
                    "restored the right values"
                    if right
                    else "RESTORED WRONG VALUES"
                ] += 1
            except (tf.errors.OpError, IndexError, AssertionError) as exc:
                outcomes[f"refused ({type(exc).__name__})"] += 1
            path.write_bytes(original)
        assert dict(outcomes) == counts, f"model{suffix}"


def test_case09_shape_mismatch_tf2_value_error():
    with pytest.raises(ValueError) as caught:
        tf.train.Checkpoint(
            v1=tf.Variable([0.0, 0.0], name="v1"), v2=tf.Variable([0.0])
        ).read("good/model")
    assert type(caught.value) is ValueError
    assert line_with(caught.value) == (
        "Received incompatible tensor with shape (1,) when attempting to "
        "restore variable with shape (2,) and name v1:0."
    )


def test_case10_shape_mismatch_tf1_saver_is_silent():
    save_tf1_checkpoint()
    graph = tf.Graph()
    with graph.as_default():
        wider = tf1.Variable(tf1.constant(5.0, shape=[2]), name="v1")
        tf1.Variable(tf1.constant(5.0, shape=[1]), name="v2")
        saver = tf1.train.Saver()
    with tf1.Session(graph=graph) as sess:
        saver.restore(sess, "tf1/model.ckpt")  # no error
        assert wider.shape.as_list() == [2]
        assert sess.run(wider).tolist() == [1.0]


def test_case11_dtype_mismatch_invalid_argument():
    with pytest.raises(tf.errors.OpError) as caught:
        tf.train.Checkpoint(
            v1=tf.Variable([0.0], dtype=tf.float64), v2=tf.Variable([0.0])
        ).read("good/model")
    assert type(caught.value) is tf.errors.InvalidArgumentError
    assert (
        "tensor_name = v1/.ATTRIBUTES/VARIABLE_VALUE; expected dtype double does not equal original dtype float"
        in line_with(caught.value, "expected dtype")
    )


def test_case12_name_mismatch_tf1_saver_not_found():
    save_tf1_checkpoint()
    graph = tf.Graph()
    with graph.as_default():
        tf1.Variable(tf1.constant(1.0, shape=[1]), name="other-v1")
        tf1.Variable(tf1.constant(2.0, shape=[1]), name="other-v2")
        saver = tf1.train.Saver()
    error = tf1_restore_error(graph, saver, "tf1/model.ckpt")
    assert type(error) is tf.errors.NotFoundError
    assert (
        line_with(error, "not found in checkpoint")
        == "Key other-v1 not found in checkpoint"
    )


def test_case13_name_mismatch_tf2_is_silent_until_asserted():
    w1, v2 = tf.Variable([0.0], name="w1"), tf.Variable([0.0], name="v2")
    status = tf.train.Checkpoint(w1=w1, v2=v2).read("good/model")  # no error
    assert w1.numpy().tolist() == [0.0] and v2.numpy().tolist() == [2.0]
    with pytest.raises(AssertionError) as caught:
        status.assert_existing_objects_matched()
    status.expect_partial()
    assert line_with(caught.value).startswith(
        "Found 1 Python objects that were not bound to checkpointed values"
    )
    assert "'w1:0'" in line_with(caught.value)


def frozen_graph_bytes():
    graph = tf.Graph()
    with graph.as_default():
        tf.add(
            tf.constant([1.0], name="v1"),
            tf.constant([2.0], name="v2"),
            name="add",
        )
    return graph.as_graph_def().SerializeToString()


def test_case14_truncated_frozen_graph():
    frozen = frozen_graph_bytes()
    assert len(frozen) == 142
    with pytest.raises(DecodeError) as caught:
        tf1.GraphDef().ParseFromString(frozen[:71])
    assert (
        line_with(caught.value)
        == "Error parsing message with type 'tensorflow.GraphDef': Wire format was corrupt"
    )

    graph_def = tf1.GraphDef()
    graph_def.ParseFromString(frozen[:106])  # a cut between records parses
    assert [node.name for node in graph_def.node] == ["v1", "v2"]
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as caught:
            tf1.import_graph_def(graph_def, return_elements=["add:0"])
    assert (
        line_with(caught.value)
        == "Requested return tensor 'add:0' not found in graph def"
    )


def test_case15_truncated_keras_file_says_file_not_found():
    keras.utils.set_random_seed(0)
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(
        "model.keras"
    )
    data = pathlib.Path("model.keras").read_bytes()
    pathlib.Path("truncated.keras").write_bytes(data[: len(data) // 2])
    assert os.path.exists("truncated.keras")
    with pytest.raises(ValueError) as caught:
        keras.models.load_model("truncated.keras")
    assert type(caught.value) is ValueError
    assert line_with(caught.value) == (
        "File not found: filepath=truncated.keras. "
        "Please ensure the file is an accessible `.keras` zip file."
    )


def test_case16_checkpoint_file_naming_a_deleted_checkpoint():
    value = tf.Variable([0.0])
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(v=value), "stale", max_to_keep=3
    )
    for step in (1, 2, 3):
        value.assign([float(step)])
        manager.save(checkpoint_number=step)
    for path in pathlib.Path("stale").glob("ckpt-3.*"):
        path.unlink()

    assert (
        tf.train.latest_checkpoint("stale") is None
    )  # although ckpt-2 is intact
    resumed = tf.Variable([0.0])
    checkpoint = tf.train.Checkpoint(v=resumed)
    checkpoint.restore(
        None
    )  # what `restore(latest_checkpoint(folder))` does: nothing, silently
    assert resumed.numpy().tolist() == [0.0]

    stale_manager = tf.train.CheckpointManager(
        checkpoint, "stale", max_to_keep=3
    )
    assert stale_manager.latest_checkpoint == "stale/ckpt-3"
    with pytest.raises(tf.errors.OpError) as caught:
        stale_manager.restore_or_initialize()
    assert type(caught.value) is tf.errors.NotFoundError
    assert line_with(caught.value).startswith(
        "Error when restoring from checkpoint or SavedModel at stale/ckpt-3"
    )

    state = tf.train.get_checkpoint_state("stale")
    intact = [
        p
        for p in state.all_model_checkpoint_paths
        if os.path.exists(p + ".index")
    ]
    assert intact[-1] == "stale/ckpt-2"


def test_exercise_missing_data_file_is_the_base_op_error():
    prefix = damaged_copy("exercise2")
    os.remove(prefix + DATA)
    with pytest.raises(tf.errors.OpError) as caught:
        read_v1_v2(prefix)
    assert type(caught.value) is tf.errors.OpError
    assert (
        line_with(caught.value)
        == "exercise2/model.data-00000-of-00001; No such file or directory"
    )
    assert len(tf.train.list_variables(prefix)) == 3


# --- integrity and untrusted models ---------------------------------------------------------


class Adder(tf.Module):
    def __init__(self, first, second):
        super().__init__()
        self.v1 = tf.Variable([first], name="v1")
        self.v2 = tf.Variable([second], name="v2")

    @tf.function(input_signature=[])
    def add(self):
        return self.v1 + self.v2


def test_replaced_variables_load_without_complaint():
    tf.saved_model.save(Adder(1.0, 2.0), "adder")
    tf.saved_model.save(Adder(100.0, 2.0), "tampered")
    for name in ("variables.data-00000-of-00001", "variables.index"):
        shutil.copy(f"tampered/variables/{name}", f"adder/variables/{name}")
    adder = tf.saved_model.load("adder")
    assert adder.add().numpy().tolist() == [102.0]


def test_fingerprint_changes_between_saves_so_digests_are_not_printed():
    tf.saved_model.save(Adder(1.0, 2.0), "first")
    tf.saved_model.save(Adder(1.0, 2.0), "second")
    assert (
        pathlib.Path("first/fingerprint.pb").read_bytes()
        != pathlib.Path("second/fingerprint.pb").read_bytes()
    )


def test_a_saved_model_runs_its_graph_including_file_writes():
    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def __call__(self, x):
            tf.io.write_file(
                "written-by-the-model.txt", "a SavedModel wrote this file"
            )
            return 2.0 * x

    tf.saved_model.save(Doubler(), "doubler")
    assert not os.path.exists(
        "written-by-the-model.txt"
    )  # tracing and saving ran no op
    doubler = tf.saved_model.load("doubler")
    assert doubler(tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    assert (
        pathlib.Path("written-by-the-model.txt").read_text()
        == "a SavedModel wrote this file"
    )


@pytest.mark.parametrize("file_name", ["lambda.keras", "lambda.h5"])
def test_safe_mode_refuses_a_python_lambda(file_name):
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Lambda(lambda x: 2.0 * x, name="double"),
        ]
    )
    model.save(file_name)
    with pytest.raises(ValueError) as caught:
        keras.models.load_model(file_name)
    assert line_with(caught.value).startswith(
        "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda."
    )
