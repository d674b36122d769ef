"""tfopen: identify and open TensorFlow and Keras files that other people's
code wrote, from TF 1.x to Keras 3.

    python -m tfopen inspect PATH [--json]
    python -m tfopen run PATH --input NAME=FILE.npy ... --out DIR
    python -m tfopen convert PATH --to savedmodel|tflite|onnx|safetensors OUT

In Python:

    import tfopen
    facts = tfopen.inspect("model.h5")      # a dict: format, writer, inputs, ...
    model = tfopen.load("model.h5")         # a callable
    outputs = model({"features": x})        # a dict of NumPy arrays

inspect answers from the file's metadata: it builds no model and imports
TensorFlow only for formats that are protobufs or checkpoints. Nothing is
written next to the file. Python code stored in a file (Lambda layers) and
custom classes run only with unsafe=True (--unsafe).
"""

import pathlib
import sys

from . import _graph
from ._detect import KINDS, TfopenError, identify

__all__ = ["inspect", "load", "convert", "TfopenError", "KINDS"]


def _new_result(path, found):
    return {
        "path": str(path),
        "format": found.kind,
        "description": KINDS[found.kind],
        "writer": {"tensorflow": None, "keras": None},
        "inputs": [],
        "outputs": [],
        "variables": [],
        "warnings": [],
        "load": "",
        "runnable": True,
        "why_not": None,
    }


def _inspect_found(path, found):
    from . import _graph, _keras

    result = _new_result(path, found)
    inspectors = {
        "savedmodel": _graph.inspect_savedmodel,
        "checkpoint": _graph.inspect_checkpoint,
        "checkpoint-v1": _graph.inspect_checkpoint,
        "metagraph": _graph.inspect_metagraph,
        "graphdef": _graph.inspect_graphdef,
        "graphdef-text": _graph.inspect_graphdef,
        "keras-h5": _keras.inspect_h5,
        "keras-h5-weights": _keras.inspect_h5,
        "keras-json": _keras.inspect_json,
        "keras-zip": _keras.inspect_zip,
        "keras3-weights": _keras.inspect_keras3_weights,
    }
    inspectors[found.kind](found, result)
    if found.kind == "graphdef" and found.extra.get("guessed"):
        result["warnings"].append(
            "identified by parsing: the name does not say what it is"
        )
    return result


def inspect(path, weights=None):
    """What the file is, what wrote it, its inputs, outputs and variables,
    warnings, and the code that loads it today (a dict)."""
    found = identify(path)
    if weights is not None and found.kind == "keras-json":
        found.extra["weights"] = pathlib.Path(weights)
    return _inspect_found(path, found)


# Files whose outputs tfopen finds by reading the graph (no signature names
# them), so a reader may name others.
GRAPH_KINDS = (
    "graphdef",
    "graphdef-text",
    "metagraph",
    "checkpoint",
    "checkpoint-v1",
)


def load(path, weights=None, unsafe=False, custom_objects=None, outputs=None):
    """A callable: give it a dict {input name: array} (or one array for a
    model with one input); it returns a dict {output name: array}. Its
    input_names and output_names attributes list the names. For a graph
    without signatures, outputs=["node", "node:1", ...] fetches those
    tensors instead of the ends tfopen finds."""
    from . import _graph, _keras

    found = identify(path)
    if weights is not None and found.kind == "keras-json":
        found.extra["weights"] = pathlib.Path(weights)
    result = _inspect_found(path, found)
    if outputs:
        _name_outputs(path, found.kind, result, outputs)
    if not result["runnable"]:
        raise TfopenError(f"{path}: cannot be run: {result['why_not']}")
    custom_objects = dict(custom_objects or {})
    kind = found.kind
    if kind == "savedmodel":
        return _graph.load_savedmodel(found, result)
    if kind in ("graphdef", "graphdef-text"):
        return _graph.load_graphdef(found, result)
    if kind == "metagraph":
        return _graph.load_meta(found.path, found.extra["checkpoint"], result)
    if kind in ("checkpoint", "checkpoint-v1"):
        return _graph.load_meta(found.extra["meta"], found.path, result)
    if kind in ("keras-h5", "keras-json"):
        return _keras.load_keras2(found, result, unsafe, custom_objects)
    if kind == "keras-zip":
        return _keras.load_zip(found, result, unsafe, custom_objects)
    raise TfopenError(f"{path}: cannot be run ({KINDS[kind]})")


def _name_outputs(path, kind, result, outputs):
    if kind not in GRAPH_KINDS:
        raise TfopenError(
            f"{path}: its outputs are named by the file itself; outputs "
            "(--output) are for graphs without signatures: a frozen "
            "GraphDef or a .meta with its checkpoint"
        )
    result["outputs"] = [
        {"name": name, "shape": None, "dtype": None} for name in outputs
    ]
    if result["why_not"] == _graph.NO_MODEL:
        result["runnable"], result["why_not"] = True, None


def convert(path, to, out, **options):
    """Write the model at `path` as `to` ("savedmodel", "tflite", "onnx" or
    "safetensors") at `out`, check it against the original, and return a
    dict (size, largest_difference, ...). The options are tfopen.load's
    (weights, unsafe, custom_objects, outputs), batch (a fixed batch size),
    check (True) and atol (1e-4). See tfopen._convert."""
    from . import _convert

    return _convert.convert(path, to, out, **options)


def custom_objects_from(path):
    """The classes and functions a Python file defines, by name (and by
    `package>Name` where Keras registered them). Runs the file."""
    import importlib.util

    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(
        f"tfopen_custom_{path.stem}", path
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = {}
    for name, value in vars(module).items():
        if getattr(value, "__module__", None) == module.__name__ and callable(
            value
        ):
            found[name] = value
    return found
