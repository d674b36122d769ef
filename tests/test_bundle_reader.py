"""tools/cells/bundle_reader.py, the checkpoint reader that needs only NumPy,
checked against tf.train.load_checkpoint on every checkpoint under fixtures/
and on checkpoints TensorFlow writes here; then fed damaged files, which it
must refuse with a ValueError that says where the damage is."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from support.book import ROOT

READER = ROOT / "tools" / "cells" / "bundle_reader.py"
_spec = importlib.util.spec_from_file_location("bundle_reader", READER)
bundle_reader = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle_reader)

FIXTURES = ROOT / "fixtures"
CHECKPOINTS = [
    "tf1.15/ema/model.ckpt",
    "tf1.15/two_variables/model.ckpt",
    "tf1.15/training/model.ckpt-4",
    "tf1.15/training/model.ckpt-5",
    "tf1.15/object/ckpt-1",  # two data files
    "tf1.15/savedmodel/variables/variables",
    "tf2.15-keras2/saver/model.ckpt",
    "tf2.15-keras2/weights_tf/ckpt",
    "tf2.15-keras2/savedmodel/variables/variables",
    "keras2.2-tf1.15/four_copies/model.ckpt",  # four copies of one model
    "tf2.7/savedmodel_adam/variables/variables",  # Adam's slots
    "tf2.10/savedmodel_adam/variables/variables",
    "tf2.10/two_inputs/variables/variables",
]

# Imported by the fixture below, not at collection: every pytest worker
# collects this module, and only the one that runs it should pay for the import.
tf = None


@pytest.fixture(autouse=True, scope="module")
def _tensorflow():
    global tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf


def assert_reads_as_tensorflow_does(prefix):
    """Same keys, dtypes, shapes and bytes as tf.train.load_checkpoint;
    returns the number of keys."""
    reader = tf.train.load_checkpoint(str(prefix))
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    listed = bundle_reader.list_checkpoint(prefix)
    tensors = bundle_reader.read_checkpoint(prefix)
    assert sorted(listed) == sorted(tensors) == sorted(shapes)
    for key, array in tensors.items():
        dtype, shape = np.dtype(dtypes[key].as_numpy_dtype), tuple(shapes[key])
        assert listed[key] == (dtype, shape), key
        assert (array.dtype, array.shape) == (dtype, shape), key
        if dtype == np.dtype(object):
            # TensorFlow gives a scalar string as bytes.
            expected = np.array(reader.get_tensor(key), dtype=object)
            assert all(type(v) is bytes for v in array.flat), key
            assert np.array_equal(array, expected), key
        else:
            # Bit for bit: NaN and -0.0 would fool a comparison of values.
            assert array.tobytes() == reader.get_tensor(key).tobytes(), key
    return len(tensors)


def test_the_list_covers_every_checkpoint_under_fixtures():
    found = sorted(
        p.relative_to(FIXTURES).with_suffix("").as_posix()
        for p in FIXTURES.rglob("*.index")
    )
    assert found == sorted(CHECKPOINTS)


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_reads_old_checkpoints_as_tensorflow_does(name):
    assert assert_reads_as_tensorflow_does(FIXTURES / name) >= 2


def test_reads_this_tensorflows_dtypes(tmp_path):
    values = {
        "float32": np.array([[1.5, np.nan], [-0.0, np.inf]], np.float32),
        "float64": np.linspace(-1, 1, 7),
        "float16": np.array([0.1, -2], np.float16),
        "int32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
        "int64": np.array([-1, 2**40], np.int64),
        "uint8": np.array([0, 255], np.uint8),
        "bool": np.array([True, False, True]),
        "complex64": np.array([1 + 2j], np.complex64),
        "scalar": np.float32(3.25),
        "empty": np.zeros((0, 3), np.float32),
        "string": b"hello",
        # A length above 127 takes two varint bytes; "" takes one, no bytes.
        "strings": np.array([[b"", b"x" * 300], ["\u00e9".encode(), b"\0"]]),
        "no_strings": np.array([], dtype=bytes),
    }
    checkpoint = tf.train.Checkpoint(
        **{name: tf.Variable(value) for name, value in values.items()}
    )
    prefix = checkpoint.write(str(tmp_path / "ckpt"))
    assert assert_reads_as_tensorflow_does(prefix) == len(values) + 1


def test_reads_a_sharded_checkpoint(tmp_path):
    # MaxShardSizePolicy fills each shard up, slicing a tensor that does not
    # fit into what is left; a shard the size of one tensor slices none.
    weights = np.arange(4 * 32 * 32, dtype=np.float32).reshape(4, 32, 32)
    checkpoint = tf.train.Checkpoint(
        **{f"w{i}": tf.Variable(w) for i, w in enumerate(weights)}
    )
    policy = tf.train.experimental.MaxShardSizePolicy(
        max_shard_size=weights[0].nbytes
    )
    options = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    prefix = checkpoint.write(str(tmp_path / "ckpt"), options=options)
    assert len(list(tmp_path.glob("ckpt.data-*"))) == 4
    assert assert_reads_as_tensorflow_does(prefix) == 5


def test_reads_tensors_sliced_to_fill_shards(tmp_path):
    weights = np.arange(3 * 32 * 32, dtype=np.float32).reshape(3, 32, 32)
    checkpoint = tf.train.Checkpoint(
        **{f"w{i}": tf.Variable(w) for i, w in enumerate(weights)}
    )
    policy = tf.train.experimental.MaxShardSizePolicy(
        max_shard_size=weights[0].nbytes * 3 // 2
    )
    options = tf.train.CheckpointOptions(experimental_sharding_callback=policy)
    prefix = checkpoint.write(str(tmp_path / "ckpt"), options=options)
    shards, entries = bundle_reader.read_index(prefix)
    sliced = [key.decode() for key, e in entries.items() if e.slices]
    assert shards > 1 and sliced
    assert assert_reads_as_tensorflow_does(prefix) == 4
    # A damaged slice names the tensor it belongs to.
    key = sliced[0]
    part = entries[
        bundle_reader.slice_key(key.encode(), entries[key.encode()].slices[0])
    ]
    flip_byte(
        tmp_path / f"ckpt.data-{part.shard:05d}-of-{shards:05d}", part.offset
    )
    with pytest.raises(ValueError, match=f"{re.escape(key)}: checksum"):
        bundle_reader.read_checkpoint(prefix)


def test_reads_tf1_partitioned_variables(tmp_path):
    tf1 = tf.compat.v1
    with tf.Graph().as_default():
        for name, shape, dtype in (
            ("w", [10, 3], tf.float32),
            ("e", [7], tf.int64),
        ):
            tf1.get_variable(
                name,
                shape,
                dtype,
                initializer=tf1.random_uniform_initializer(0, 100, seed=1),
                partitioner=tf1.fixed_size_partitioner(3),
            )
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            prefix = tf1.train.Saver().save(
                session, str(tmp_path / "model.ckpt")
            )
    _, entries = bundle_reader.read_index(prefix)
    assert [len(entries[key].slices) for key in (b"e", b"w")] == [3, 3]
    assert assert_reads_as_tensorflow_does(prefix) == 2


def test_slice_keys_use_orderedcode_signed_numbers():
    # The examples in TensorFlow's ordered_code.cc, and a whole extent.
    assert bundle_reader.ordered_number(0x424242) == b"\xf0\x42\x42\x42"
    assert bundle_reader.ordered_number(-0x800) == b"\x38\x00"
    assert bundle_reader.ordered_number(-1) == b"\x7f"
    assert bundle_reader.ordered_number(63) == b"\xbf"
    assert bundle_reader.ordered_number(64) == b"\xc0\x40"


def copy_checkpoint(name, tmp_path):
    """The fixture checkpoint `name` copied into tmp_path: its prefix."""
    source = FIXTURES / name
    for path in source.parent.glob(source.name + ".*"):
        shutil.copy(path, tmp_path)
    return tmp_path / source.name


def flip_byte(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(data)


@pytest.mark.parametrize(
    "name", ["tf1.15/training/model.ckpt-5", "tf1.15/object/ckpt-1"]
)
def test_a_damaged_byte_in_a_data_file_names_its_tensor(name, tmp_path):
    prefix = copy_checkpoint(name, tmp_path)
    shards, entries = bundle_reader.read_index(prefix)
    for key, entry in entries.items():
        data = (
            tmp_path / f"{prefix.name}.data-{entry.shard:05d}-of-{shards:05d}"
        )
        original = data.read_bytes()
        last = entry.offset + entry.size - 1
        for position in (entry.offset, (entry.offset + last) // 2, last):
            flip_byte(data, position)
            message = f"{re.escape(key.decode())}: checksum mismatch"
            with pytest.raises(ValueError, match=message):
                bundle_reader.read_checkpoint(prefix)
            data.write_bytes(original)
    assert assert_reads_as_tensorflow_does(prefix) == len(entries)


def test_every_damaged_byte_of_an_index_is_caught(tmp_path):
    prefix = copy_checkpoint("tf1.15/object/ckpt-1", tmp_path)
    index = tmp_path / (prefix.name + ".index")
    original = index.read_bytes()
    # The footer's padding, between its two block handles and the magic
    # number, is read by nobody, TensorFlow included.
    footer = original[-bundle_reader.FOOTER :]
    *_, handles_end = bundle_reader.handle(
        footer, bundle_reader.handle(footer)[2]
    )
    padding = range(
        len(original) - bundle_reader.FOOTER + handles_end, len(original) - 8
    )
    for position in range(len(original)):
        if position in padding:
            continue
        flip_byte(index, position)
        with pytest.raises(ValueError, match=re.escape(str(index))):
            bundle_reader.list_checkpoint(prefix)
        index.write_bytes(original)


def test_a_damaged_block_is_named(tmp_path):
    prefix = copy_checkpoint("tf1.15/training/model.ckpt-5", tmp_path)
    flip_byte(tmp_path / (prefix.name + ".index"), 10)
    with pytest.raises(ValueError, match="data block at byte 0 .*: checksum"):
        bundle_reader.read_checkpoint(prefix)


def test_truncated_files_are_refused(tmp_path):
    prefix = copy_checkpoint("tf1.15/training/model.ckpt-5", tmp_path)
    index = tmp_path / (prefix.name + ".index")
    original = index.read_bytes()
    for size in (0, 10, len(original) // 2, len(original) - 1):
        index.write_bytes(original[:size])
        with pytest.raises(ValueError, match="not a checkpoint index"):
            bundle_reader.read_checkpoint(prefix)
    index.write_bytes(original)
    data = tmp_path / (prefix.name + ".data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:-1])
    _, entries = bundle_reader.read_index(prefix)
    last = max(entries, key=lambda key: entries[key].offset).decode()
    with pytest.raises(ValueError, match=f"{re.escape(last)}: .* truncated"):
        bundle_reader.read_checkpoint(prefix)


@pytest.mark.parametrize(
    "source", ["_static/favicon.png", "README.md", "fixtures/MANIFEST"]
)
def test_other_files_are_refused(source, tmp_path):
    shutil.copy(ROOT / source, tmp_path / "model.index")
    with pytest.raises(ValueError, match="not a checkpoint index"):
        bundle_reader.list_checkpoint(tmp_path / "model")


def test_needs_no_tensorflow():
    # With None in sys.modules, `import tensorflow` raises ImportError.
    prefix = FIXTURES / "tf1.15/object/ckpt-1"
    script = (
        "import runpy, sys\n"
        "sys.modules['tensorflow'] = None\n"
        f"sys.argv = [{str(READER)!r}, {str(prefix)!r}]\n"
        f"reader = runpy.run_path({str(READER)!r}, run_name='__main__')\n"
        f"print(len(reader['read_checkpoint']({str(prefix)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "_CHECKPOINTABLE_OBJECT_GRAPH  string  []",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE  int64  []",
        "v1/.ATTRIBUTES/VARIABLE_VALUE  float32  [1]",
        "v2/.ATTRIBUTES/VARIABLE_VALUE  float32  [1]",
        "4",
    ]
