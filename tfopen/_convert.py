"""Convert what tfopen opens into a SavedModel, a LiteRT (TFLite) flat
buffer, an ONNX file or safetensors weights, and check the result.

    python -m tfopen convert PATH --to savedmodel|tflite|onnx|safetensors OUT

Every model route starts from one function: a tf.function with an
input_signature whose arguments and outputs carry the model's own names
(characters other than letters, digits and _ become _). A graph (frozen
.pb, .meta with its checkpoint, SavedModel) is run in a session, frozen and
imported into that function; a Keras model is called by it. The SavedModel
is that function saved as serving_default; LiteRT converts that SavedModel;
tf2onnx converts the function. safetensors takes the weights alone, as
stored: a checkpoint's tensors by key, a Keras file's datasets by HDF5 path,
a frozen graph's constants by node name.

Nothing appears at OUT until the conversion and the check are done: the
file is written under a temporary name in OUT's folder, then renamed. The
check runs the original and the converted model on the same generated
inputs (or compares every stored tensor, for safetensors) and reports the
largest difference; above `atol` the conversion fails.
"""

import contextlib
import os
import pathlib
import re
import shutil
import tempfile
import warnings

from ._detect import TfopenError, identify
from ._graph import _tf

TARGETS = ("savedmodel", "tflite", "onnx", "safetensors")
MODEL_TARGETS = ("savedmodel", "tflite", "onnx")
SIGNATURE = "serving_default"


# --- plumbing ---------------------------------------------------------------


@contextlib.contextmanager
def native_stderr_silenced():
    """Send what C++ code writes to the process's stderr (file descriptor 2)
    to /dev/null for a block: the LiteRT converter's MLIR diagnostics, the
    interpreter's one-line notice about its CPU delegate. Python's own
    exceptions keep the message that matters."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


@contextlib.contextmanager
def tensorflow_info_silenced():
    """TensorFlow's logger at WARNING for a block: a SavedModel's writer logs
    "Assets written to: <folder>" at INFO, and tfopen's folder is a
    temporary one."""
    import logging

    logger = _tf().get_logger()
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def safe_name(name):
    """A model's input or output name as a signature, LiteRT and ONNX all
    accept it: letters, digits and _ (":0" dropped)."""
    name = re.sub(r":0$", "", name)
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if name and not name[0].isdigit() else "t_" + name


def size_of(path):
    """Bytes in a file, or in every file of a folder."""
    path = pathlib.Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


# --- the model as one tf.function --------------------------------------------


class Served:
    """function: a tf.function with an input_signature, returning a dict;
    inputs: [(original name, TensorSpec named safely)]; outputs: {original
    name: safe name}; original: tfopen.load's callable; keep: objects the
    function needs (a Keras model) for tf.saved_model.save to track."""

    def __init__(self, function, inputs, outputs, original, keep=None):
        self.function, self.inputs, self.outputs = function, inputs, outputs
        self.original, self.keep = original, keep


def _names_unique(names, what):
    safe = [safe_name(name) for name in names]
    if len(set(safe)) != len(safe):
        raise TfopenError(
            f"two {what} names become the same name: {', '.join(names)}"
        )
    return safe


def _frozen_graph_def(found, original, fetches):
    """The graph with every variable a constant: a frozen .pb as it is;
    anything run in a session, frozen from that session."""
    _tf()
    if found.kind in ("graphdef", "graphdef-text"):
        from tensorflow.core.framework import graph_pb2

        from ._graph import _parse

        return _parse(
            graph_pb2.GraphDef,
            found.path,
            text=found.kind == "graphdef-text",
            what="GraphDef",
        )
    # tf1.graph_util.convert_variables_to_constants, without the two
    # deprecation warnings it prints (TF1 API, kept for sessions like this).
    from tensorflow.python.framework import convert_to_constants
    from tensorflow.python.util import deprecation

    session = original.session
    nodes = sorted({name.split(":")[0] for name in fetches.values()})
    with deprecation.silence():
        return convert_to_constants.convert_variables_to_constants_from_session_graph(
            session, session.graph.as_graph_def(), nodes
        )


def _served_graph(found, original, batch):
    tf = _tf()
    tf1 = tf.compat.v1
    feeds, fetches = original.feeds, original.fetches
    graph_def = _frozen_graph_def(found, original, fetches)

    def import_graph():
        tf1.import_graph_def(graph_def, name="")

    wrapped = tf1.wrap_function(import_graph, [])
    graph = wrapped.graph
    feed_tensors = [graph.get_tensor_by_name(t) for t in feeds.values()]
    pruned = wrapped.prune(
        feeds=feed_tensors,
        fetches={
            name: graph.get_tensor_by_name(t) for name, t in fetches.items()
        },
    )
    safe_in = _names_unique(list(feeds), "input")
    safe_out = dict(zip(fetches, _names_unique(list(fetches), "output")))
    specs = [
        tf.TensorSpec(_with_batch(t.shape, batch), t.dtype, name=safe)
        for t, safe in zip(feed_tensors, safe_in)
    ]

    @tf.function(input_signature=specs, autograph=False)
    def serve(*args):
        values = pruned(*args)
        return {safe_out[k]: tf.identity(v) for k, v in values.items()}

    return Served(serve, list(zip(feeds, specs)), safe_out, original)


def _with_batch(shape, batch):
    """`shape` as a list, its first dimension set to `batch` when unknown."""
    if shape.rank is None:
        return None
    dims = shape.as_list()
    if batch is not None and dims and dims[0] is None:
        dims[0] = batch
    return dims


def _served_keras(original, batch):
    tf = _tf()
    model = original.model
    tensors = (
        model.inputs if isinstance(model.inputs, list) else [model.inputs]
    )
    safe_in = _names_unique(original.input_names, "input")
    specs = [
        tf.TensorSpec(
            _with_batch(tf.TensorShape(t.shape), batch),
            tf.as_dtype(t.dtype),
            name=safe,
        )
        for t, safe in zip(tensors, safe_in)
    ]
    safe_out = dict(
        zip(
            original.output_names,
            _names_unique(original.output_names, "output"),
        )
    )

    @tf.function(input_signature=specs, autograph=False)
    def serve(*args):
        # In the order of model.inputs. Keras 3 warns when that list is not
        # the structure the model was built with (one tensor, a dict); it
        # flattens either way, so the warning says nothing here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            values = model(list(args), training=False)
        values = values if isinstance(values, (list, tuple)) else [values]
        return {
            safe: tf.identity(value)
            for safe, value in zip(safe_out.values(), values)
        }

    # The SavedModel keeps the weights as variables; tracking them, not the
    # model, leaves out the traces Keras 2 saves for every layer (an LSTM's
    # SavedModel grows from 30 KB to 750 KB with them).
    weights = [
        w if isinstance(w, tf.Variable) else w.value  # Keras 3's wraps one
        for w in model.weights
    ]
    return Served(
        serve,
        list(zip(original.input_names, specs)),
        safe_out,
        original,
        keep=weights,
    )


def served(
    path,
    weights=None,
    unsafe=False,
    custom_objects=None,
    outputs=None,
    batch=None,
):
    """The model at `path` as a Served (see above); the arguments but
    `batch` are tfopen.load's."""
    import tfopen

    found = identify(path)
    original = tfopen.load(
        path,
        weights=weights,
        unsafe=unsafe,
        custom_objects=custom_objects,
        outputs=outputs,
    )
    if hasattr(original, "model"):
        return _served_keras(original, batch)
    return _served_graph(found, original, batch)


# --- writing each target ------------------------------------------------------


def write_savedmodel(model, folder):
    tf = _tf()
    module = tf.Module()
    if model.keep is not None:
        module.weights = model.keep  # variables stay variables
    module.serve = model.function
    with native_stderr_silenced(), tensorflow_info_silenced():
        tf.saved_model.save(
            module,
            str(folder),
            signatures={SIGNATURE: model.function.get_concrete_function()},
        )


def write_tflite(model, file, scratch):
    tf = _tf()
    folder = pathlib.Path(scratch) / "savedmodel"
    write_savedmodel(model, folder)
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(folder), signature_keys=[SIGNATURE]
    )
    try:
        with native_stderr_silenced():
            flat = converter.convert()
    except Exception as exc:  # ConverterError: its lines name the op
        raise TfopenError(
            f"LiteRT cannot convert it: {_converter_line(exc)}"
        ) from None
    pathlib.Path(file).write_bytes(flat)


def _converter_line(exc):
    """The line of a ConverterError that names the op, without the call
    sites (file names and lines of one machine) MLIR puts before it."""
    text = str(exc)
    found = re.search(r"'tf\.\w+' op [^\n]*", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = found.group(0) if found else (lines or [type(exc).__name__])[0]
    if "TensorListReserve" in line:
        line += (
            " (a recurrent layer over an unknown batch size: give one"
            " with --batch N)"
        )
    return line[:300]


def write_onnx(model, file):
    import logging

    import tf2onnx

    tf2onnx_logger = logging.getLogger("tf2onnx")
    level = tf2onnx_logger.level
    tf2onnx_logger.setLevel(logging.ERROR)
    try:
        with native_stderr_silenced():
            proto, _ = tf2onnx.convert.from_function(
                model.function,
                input_signature=[spec for _, spec in model.inputs],
            )
    except Exception as exc:
        raise TfopenError(
            f"tf2onnx cannot convert it: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
        ) from None
    finally:
        tf2onnx_logger.setLevel(level)
    # tf2onnx logs an op it cannot convert and writes it into the file as
    # it is; onnxruntime then refuses the file. Refuse it here instead.
    import onnx

    unsupported = sorted(
        {
            node.op_type
            for node in proto.graph.node
            if not onnx.defs.has(node.op_type, node.domain)
        }
    )
    if unsupported:
        raise TfopenError(
            f"tf2onnx cannot convert TensorFlow's {', '.join(unsupported)} to ONNX"
        )
    pathlib.Path(file).write_bytes(proto.SerializeToString())


def _checkpoint_weights(path, found):
    import numpy as np

    prefix = _checkpoint_prefix(path, found)
    tf = _tf()
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as exc:
        raise TfopenError(
            f"{prefix}: damaged or truncated checkpoint ({type(exc).__name__})"
        ) from None
    arrays = {}
    for key in sorted(reader.get_variable_to_shape_map()):
        value = np.asarray(reader.get_tensor(key))
        if value.dtype.kind not in "OSU":
            arrays[key] = value
    return arrays


def _checkpoint_prefix(path, found):
    """The checkpoint holding the weights: a SavedModel's variables/, the
    one beside a .meta file, or the checkpoint itself."""
    if found.kind == "savedmodel":
        return found.path / "variables" / "variables"
    if found.kind == "metagraph":
        prefix = found.extra.get("checkpoint")
        if prefix is None:
            raise TfopenError(
                f"{path}: a graph without its checkpoint: no weights to write"
            )
        return prefix
    return found.path


def _graphdef_weights(path, found):
    """A frozen graph's weights are its constants, by node name."""
    tf = _tf()
    from tensorflow.core.framework import graph_pb2

    from ._graph import _parse

    graph_def = _parse(
        graph_pb2.GraphDef, found.path, text=found.kind == "graphdef-text"
    )
    arrays = {}
    for node in graph_def.node:
        if node.op == "Const":
            value = tf.make_ndarray(node.attr["value"].tensor)
            if value.dtype.kind not in "OSU":
                arrays[node.name] = value
    return arrays


def _keras_json_weights(path, found):
    source = found.extra.get("weights")
    if source is None:
        raise TfopenError(
            f"{path}: no weights file (.h5) next to the JSON: pass --weights FILE.h5"
        )
    return _hdf5_arrays(source)


def _keras_hdf5_weights(path, found):
    return _hdf5_arrays(found.path)


def _keras_zip_weights(path, found):
    import io
    import zipfile

    with zipfile.ZipFile(found.path) as archive:
        if "model.weights.h5" not in archive.namelist():
            raise TfopenError(f"{path}: a .keras file without weights")
        return _hdf5_arrays(io.BytesIO(archive.read("model.weights.h5")))


# Who reads the weights of each kind of file (tfopen.KINDS): (path, Found)
# in, {key: array} out.
_WEIGHTS_OF = {
    "checkpoint": _checkpoint_weights,
    "checkpoint-v1": _checkpoint_weights,
    "savedmodel": _checkpoint_weights,
    "metagraph": _checkpoint_weights,
    "graphdef": _graphdef_weights,
    "graphdef-text": _graphdef_weights,
    "keras-json": _keras_json_weights,
    "keras-h5": _keras_hdf5_weights,
    "keras-h5-weights": _keras_hdf5_weights,
    "keras3-weights": _keras_hdf5_weights,
    "keras-zip": _keras_zip_weights,
}


def stored_weights(path, weights=None):
    """{key: NumPy array} of the weights a file stores, as stored: what
    safetensors receives. Strings (a checkpoint's object graph) are left
    out; safetensors holds numbers only."""
    found = identify(path)
    if weights is not None and found.kind == "keras-json":
        found.extra["weights"] = pathlib.Path(weights)
    read = _WEIGHTS_OF.get(found.kind)
    if read is None:
        raise TfopenError(f"{path}: no weights tfopen can read")
    return read(path, found)


def _hdf5_arrays(file):
    """Every dataset of an HDF5 file by its path, the optimizer's included
    (a Keras 2 .h5 keeps them under optimizer_weights/)."""
    import h5py
    import numpy as np

    arrays = {}
    with h5py.File(file, "r") as f:

        def visit(name, item):
            if isinstance(item, h5py.Dataset) and item.dtype.kind not in "OSU":
                arrays[name] = np.asarray(item[()])

        f.visititems(visit)
    return arrays


def write_safetensors(arrays, file, source_kind):
    import numpy as np
    from safetensors.numpy import save_file

    if not arrays:
        raise TfopenError("no numeric weights to write")
    save_file(
        {
            key: np.require(value, requirements="C")
            for key, value in arrays.items()
        },
        str(file),
        metadata={
            "written_by": "tfopen convert",
            "source_format": source_kind,
        },
    )


# --- the check ---------------------------------------------------------------


def generated_inputs(model, seed=0, batch=2):
    """One batch of inputs for each of the model's inputs: floats drawn from
    a normal distribution, integers from 0 to 9, booleans at random; an
    unknown dimension gets `batch` (the first) or 1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    inputs = {}
    for name, spec in model.inputs:
        if spec.shape.rank is None:
            raise TfopenError(
                f"input {name} has no known rank: no inputs to check with "
                "(--no-check converts without the check)"
            )
        shape = [
            (batch if i == 0 else 1) if d is None else d
            for i, d in enumerate(spec.shape.as_list())
        ]
        dtype = spec.dtype
        if dtype.is_floating:
            value = rng.normal(size=shape).astype(dtype.as_numpy_dtype)
        elif dtype.is_integer:
            value = rng.integers(0, 10, size=shape).astype(
                dtype.as_numpy_dtype
            )
        elif dtype.is_bool:
            value = rng.random(size=shape) < 0.5
        else:
            raise TfopenError(
                f"input {name} is {dtype.name}: no inputs to check with "
                "(--no-check converts without the check)"
            )
        inputs[name] = value
    return inputs


def run_converted(to, file, model, inputs):
    """{original output name: array} from the converted file, given
    {original input name: array}."""
    import numpy as np

    by_safe = {safe: name for name, safe in model.outputs.items()}
    feed = {spec.name: inputs[name] for name, spec in model.inputs}
    if to == "savedmodel":
        tf = _tf()
        loaded = tf.saved_model.load(str(file))
        values = loaded.signatures[SIGNATURE](
            **{k: tf.constant(v) for k, v in feed.items()}
        )
        values = {k: v.numpy() for k, v in values.items()}
    elif to == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        with native_stderr_silenced():
            interpreter = Interpreter(model_path=str(file))
            runner = interpreter.get_signature_runner(SIGNATURE)
            values = runner(**feed)
    elif to == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(
            str(file), providers=["CPUExecutionProvider"]
        )
        names = [output.name for output in session.get_outputs()]
        values = dict(zip(names, session.run(names, feed)))
    return {by_safe[k]: np.asarray(v) for k, v in values.items()}


def largest_difference(want, got):
    """The largest absolute difference between two dicts of arrays with the
    same keys and shapes; an error names what differs otherwise."""
    import numpy as np

    if sorted(want) != sorted(got):
        raise TfopenError(
            f"the converted file gives {sorted(got)}, the original {sorted(want)}"
        )
    largest = 0.0
    for key in want:
        a, b = np.asarray(want[key]), np.asarray(got[key])
        if a.shape != b.shape:
            raise TfopenError(
                f"{key}: shape {list(b.shape)} after conversion, {list(a.shape)} before"
            )
        if a.size:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max()
            largest = max(largest, float(diff))
    return largest


# --- convert ------------------------------------------------------------------


def _refuse_arguments(to, out, batch):
    """Refuse, before reading the model, what would fail after it."""
    if to not in TARGETS:
        raise TfopenError(
            f"cannot convert to {to!r}: choose {', '.join(TARGETS)}"
        )
    out = pathlib.Path(out)
    if out.exists() or out.is_symlink():
        raise TfopenError(f"{out}: already exists; tfopen will not replace it")
    if not out.parent.is_dir():
        raise TfopenError(f"{out.parent}: no such folder for the output")
    if batch is not None and batch < 1:
        raise TfopenError(f"--batch {batch}: a batch holds at least 1")


def _write_weights(arrays, target, source_kind, check):
    """Write the safetensors file; its part of convert's report."""
    write_safetensors(arrays, target, source_kind)
    report = {"inputs": [], "outputs": [], "tensors": len(arrays)}
    if check:
        from safetensors.numpy import load_file

        report["largest_difference"] = largest_difference(
            arrays, load_file(str(target))
        )
        report["checked"] = (
            f"{len(arrays)} tensors read back against the original file's"
        )
    return report


def _write_model(to, model, target, scratch, check, batch):
    """Write the Served model as `to`; its part of convert's report."""
    if to == "savedmodel":
        write_savedmodel(model, target)
    elif to == "tflite":
        write_tflite(model, target, scratch)
    else:
        write_onnx(model, target)
    report = {
        "inputs": [spec.name for _, spec in model.inputs],
        "outputs": list(model.outputs.values()),
    }
    if check:
        inputs = generated_inputs(model, batch=batch or 2)
        want = model.original(inputs)
        got = run_converted(to, target, model, inputs)
        report["largest_difference"] = largest_difference(want, got)
        report["checked"] = (
            f"{len(want)} output(s) on generated inputs against the original's"
        )
    return report


def convert(
    path,
    to,
    out,
    weights=None,
    unsafe=False,
    custom_objects=None,
    outputs=None,
    batch=None,
    check=True,
    atol=1e-4,
):
    """Convert the file at `path` to `to` (one of TARGETS), written at
    `out`; returns a dict: format, to, out, size (bytes), inputs and outputs
    (names as in the converted file), largest_difference (None unchecked),
    checked (what was compared)."""
    _refuse_arguments(to, out, batch)
    out = pathlib.Path(out)
    found = identify(path)
    if to != "safetensors" or not found.kind.startswith("keras"):
        _tf()  # TensorFlow's environment (quiet, no oneDNN) before its import
    report = {
        "path": str(path),
        "format": found.kind,
        "to": to,
        "out": str(out),
        "largest_difference": None,
        "checked": None,
    }
    scratch = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent)
    )
    try:
        target = scratch / out.name
        if to == "safetensors":
            arrays = stored_weights(path, weights=weights)
            report.update(_write_weights(arrays, target, found.kind, check))
        else:
            model = served(
                path,
                weights=weights,
                unsafe=unsafe,
                custom_objects=custom_objects,
                outputs=outputs,
                batch=batch,
            )
            report.update(
                _write_model(to, model, target, scratch, check, batch)
            )
        if check and report["largest_difference"] > atol:
            raise TfopenError(
                f"the converted file's outputs differ from the original's by "
                f"{report['largest_difference']:.3g}, more than --atol {atol:g}: "
                f"nothing written"
            )
        os.replace(target, out)
        report["size"] = size_of(out)
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
