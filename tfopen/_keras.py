"""Keras files: .h5 (Keras 2), JSON + weights, .keras, .weights.h5.

Inspecting reads the JSON config and the HDF5 attributes only; nothing is
built and neither TensorFlow nor Keras is imported. Running builds the model:
Keras 2 files with tf_keras (Keras 2's code, which reads their configs as
written), .keras files with Keras 3."""

import base64
import binascii
import io
import json
import sys
import warnings
import zipfile

from ._builtin_layers import BUILTIN_LAYERS
from ._detect import TfopenError, named_inputs

BASE_CONFIG_KEYS = {
    "name",
    "trainable",
    "dtype",
    "batch_input_shape",
    "batch_size",
}
RECURRENT = {"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"}
# Layers that hold other layers or an input: nothing of their own to note.
CONTAINERS = {"InputLayer", "Functional", "Sequential", "Model"}


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# --- reading the config ------------------------------------------------------


def h5_facts(path):
    import h5py

    with h5py.File(path, "r") as f:
        attrs = {key: f.attrs[key] for key in f.attrs}
        facts = {
            "keras_version": _text(attrs["keras_version"])
            if "keras_version" in attrs
            else None,
            "backend": _text(attrs["backend"]) if "backend" in attrs else None,
            "config": json.loads(_text(attrs["model_config"]))
            if "model_config" in attrs
            else None,
            "training_config": (
                json.loads(_text(attrs["training_config"]))
                if "training_config" in attrs
                else None
            ),
            "variables": [],
        }
        weights = f["model_weights"] if "model_weights" in f else f
        names = weights.attrs.get("layer_names", [])
        if facts["keras_version"] is None and "keras_version" in weights.attrs:
            facts["keras_version"] = _text(weights.attrs["keras_version"])
            facts["backend"] = _text(weights.attrs.get("backend", b""))
        for layer in names:
            group = weights[_text(layer)]
            for weight in group.attrs.get("weight_names", []):
                data = group[_text(weight)]
                facts["variables"].append(
                    {
                        "name": _text(weight),
                        "shape": list(data.shape),
                        "dtype": str(data.dtype),
                    }
                )
        facts["optimizer_weights"] = "optimizer_weights" in f
    return facts


def keras3_weights_facts(path_or_file):
    import h5py

    variables = []
    with h5py.File(path_or_file, "r") as f:

        def visit(name, item):
            if isinstance(item, h5py.Dataset):
                variables.append(
                    {
                        "name": name,
                        "shape": list(item.shape),
                        "dtype": str(item.dtype),
                    }
                )

        f.visititems(visit)
    return variables


def zip_facts(path):
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
        variables = []
        if "model.weights.h5" in archive.namelist():
            variables = keras3_weights_facts(
                io.BytesIO(archive.read("model.weights.h5"))
            )
    return {"metadata": metadata, "config": config, "variables": variables}


def iter_layers(config):
    """Every layer config of a model config, nested models included."""
    inner = config.get("config")
    layers = inner if isinstance(inner, list) else (inner or {}).get("layers")
    if not isinstance(layers, list):
        return
    for layer in layers:
        yield layer
        yield from iter_layers(layer)


def _layer_config(layer):
    return layer.get("config") if isinstance(layer.get("config"), dict) else {}


def _shape(value):
    if value is None:
        return None
    return [None if d is None else int(d) for d in value]


def model_io(config):
    """Inputs and outputs (name, shape, dtype) as the config declares them."""
    kind = config.get("class_name")
    inner = config.get("config")
    if kind == "Sequential":
        layers = inner if isinstance(inner, list) else inner.get("layers", [])
        if not layers:
            return [], []
        first = _layer_config(layers[0])
        if layers[0].get("class_name") == "InputLayer":
            name = first.get("name")
            layers = layers[1:] or layers
        else:
            # Keras 2 names the input it makes for a Sequential "<layer>_input".
            name = first.get("name", "input") + "_input"
        shape = first.get("batch_input_shape") or first.get("batch_shape")
        dtype = (
            first.get("dtype")
            if isinstance(first.get("dtype"), str)
            else "float32"
        )
        last = _layer_config(layers[-1]).get("name")
        return (
            [{"name": name, "shape": _shape(shape), "dtype": dtype}],
            [{"name": last, "shape": None, "dtype": None}],
        )
    inner = inner or {}
    by_name = {
        _layer_config(layer).get("name", layer.get("name")): layer
        for layer in inner.get("layers", [])
    }

    def names(spec):
        if not spec:
            return []
        if isinstance(spec, dict):
            spec = list(spec.values())
        if isinstance(spec[0], str):
            spec = [spec]
        return [entry[0] for entry in spec]

    inputs = []
    for name in names(inner.get("input_layers")):
        layer = _layer_config(by_name.get(name, {}))
        shape = layer.get("batch_input_shape") or layer.get("batch_shape")
        dtype = (
            layer.get("dtype")
            if isinstance(layer.get("dtype"), str)
            else "float32"
        )
        inputs.append({"name": name, "shape": _shape(shape), "dtype": dtype})
    outputs = [
        {"name": name, "shape": None, "dtype": None}
        for name in names(inner.get("output_layers"))
    ]
    return inputs, outputs


# --- what a reader must know --------------------------------------------------


def bytecode_python(encoded):
    """Which Pythons wrote a Lambda's marshalled code (base64), read from the
    layout of the code object; never unmarshalled, never run."""
    try:
        raw = base64.b64decode(encoded)
    except (binascii.Error, ValueError, TypeError):
        return None
    if len(raw) < 40 or raw[0] & 0x7F != ord("c"):
        return None

    def is_bytes_at(offset):
        return offset < len(raw) and raw[offset] & 0x7F == ord("s")

    if is_bytes_at(1 + 4 * 6):
        return "3.8-3.10"
    if is_bytes_at(1 + 4 * 5):
        first_op = raw[1 + 4 * 5 + 1 + 4]
        if first_op == 151:  # RESUME, 3.11 and 3.12
            return "3.11-3.12"
        if first_op == 149:  # RESUME, renumbered in 3.13
            return "3.13+"
        return "3.7 or earlier"
    return None


def runs_here(written, version=None):
    """Whether this Python runs bytecode that `bytecode_python` dated: only
    the minor versions that wrote it (another may crash, as 3.13 does on
    3.11 bytecode)."""
    major, minor = version or sys.version_info[:2]
    if written.endswith("+"):  # "3.13+"
        low = written[:-1].split(".")
        return (major, minor) >= (int(low[0]), int(low[1]))
    if "-" in written:  # "3.11-3.12"
        low, high = (tuple(map(int, v.split("."))) for v in written.split("-"))
        return low <= (major, minor) <= high
    return False  # "3.7 or earlier": no Python that runs tfopen


def lambda_pythons(config):
    """The Pythons that wrote the config's Lambda bytecode, as dated by
    `bytecode_python` (those it cannot date are left out)."""
    return sorted(
        {
            written
            for layer in iter_layers(config)
            if layer.get("class_name") == "Lambda"
            for written in [bytecode_python(_lambda_code(layer) or "")]
            if written
        }
    )


def _lambda_code(layer):
    function = _layer_config(layer).get("function")
    if (
        isinstance(function, list)
        and function
        and isinstance(function[0], str)
    ):
        return function[0]
    # Keras 3: {"class_name": "__lambda__", ...}
    if isinstance(function, dict):
        return function.get("config", {}).get("code")
    return None


def _is_registered_custom(class_name, layer):
    module = layer.get("module")
    if ">" in class_name:
        return True
    return bool(module) and not str(module).startswith(
        ("keras", "tf_keras", "tensorflow")
    )


def layer_notes(config, custom_objects=()):
    """(warnings, needs_classes, flags) for the layers of a model config."""
    warnings, needs, flags = [], [], set()
    for layer in iter_layers(config):
        class_name = layer.get("class_name", "")
        cfg = _layer_config(layer)
        name = cfg.get("name", "?")
        if class_name == "Lambda":
            flags.add("lambda")
            warnings.append(_lambda_note(layer, name))
        elif class_name in ("CuDNNLSTM", "CuDNNGRU"):
            flags.add("cudnn")
            warnings.append(_cudnn_note(class_name, name))
        elif class_name in RECURRENT and "time_major" in cfg:
            flags.add("time_major")
            warnings.append(
                f"{class_name} layer {name!r} has time_major in its config: Keras 3's "
                "load_model rejects it; tf_keras reads it"
            )
        elif class_name not in CONTAINERS:
            needed, warning = _custom_note(
                layer, class_name, cfg, custom_objects
            )
            # Not `if needed`: a layer that names no class asks for "".
            if needed is not None:
                needs.append(needed)
            if warning is not None:
                warnings.append(warning)
    return warnings, needs, flags


def _lambda_note(layer, name):
    written = bytecode_python(_lambda_code(layer) or "")
    if written:
        this_python = "%d.%d" % sys.version_info[:2]
        return (
            f"Lambda layer {name!r} holds Python bytecode from Python {written} "
            f"(this is Python {this_python}); it runs only with --unsafe, on that Python"
        )
    return (
        f"Lambda layer {name!r} holds Python code; it runs only with --unsafe"
    )


def _cudnn_note(class_name, name):
    plain = class_name[len("CuDNN") :]
    return (
        f"{class_name} layer {name!r} (Keras 2.0-2.3, GPU only) exists in no Keras today: "
        f"tfopen builds a {plain} with sigmoid gates and tf_keras converts the weights "
        "(each gate's input kernel from cuDNN's layout, each gate's two biases summed)"
    )


def _custom_note(layer, class_name, cfg, custom_objects):
    """(the class to ask the user for, or None when custom_objects has it;
    the warning) for a layer whose class may not be Keras's own; (None,
    None) for one of Keras's layers."""
    name = cfg.get("name", "?")
    if (
        _is_registered_custom(class_name, layer)
        or class_name not in BUILTIN_LAYERS
    ):
        class_name = layer.get("registered_name") or class_name
        short = class_name.split(">")[-1]
        warning = (
            f"custom layer {class_name} ({name!r}): its code is not in the file; "
            "pass it with --custom FILE.py --unsafe"
        )
        if short in custom_objects or class_name in custom_objects:
            return None, warning
        return short, warning
    # A config with none of the built-in layer's arguments: another class
    # under the same name, which Keras would replace without a word.
    arguments = BUILTIN_LAYERS[class_name]
    if not arguments or set(arguments) & set(cfg):
        return None, None
    warning = (
        f"custom layer {class_name} ({name!r}) shares its name with Keras's "
        f"{class_name} but its config has none of that layer's arguments "
        f"({', '.join(arguments)}): Keras would silently build its own {class_name}; "
        "pass the author's class with --custom FILE.py --unsafe"
    )
    if class_name in custom_objects:
        return None, warning
    return class_name, warning


# --- inspect -------------------------------------------------------------------


def inspect_h5(found, result):
    facts = h5_facts(found.path)
    result["writer"].update(
        keras=facts["keras_version"], backend=facts["backend"]
    )
    result["variables"] = facts["variables"]
    if found.kind == "keras-h5-weights":
        result["runnable"] = False
        result["why_not"] = (
            "weights only: the model's code (or its JSON) is needed to run it"
        )
        result["load"] = (
            "import tf_keras  # Keras 2's code: reads Keras 2 weight files as written\n"
            "model = build_model()  # the code that made the model\n"
            f"model.load_weights({str(found.path)!r})"
        )
        return
    _keras2_config(found, facts["config"], result)
    if facts["training_config"]:
        optimizer = (
            facts["training_config"]
            .get("optimizer_config", {})
            .get("class_name")
        )
        result["writer"]["optimizer"] = optimizer
    result["load"] = _keras2_load_code(found, result)


def inspect_json(found, result):
    config = json.loads(found.path.read_text(encoding="utf-8"))
    result["writer"].update(
        keras=config.get("keras_version"), backend=config.get("backend")
    )
    weights = found.extra.get("weights")
    result["files"] = [str(found.path)] + ([str(weights)] if weights else [])
    _keras2_config(found, config, result)
    if weights is None:
        result["runnable"] = False
        result["why_not"] = (
            "no weights file (.h5) next to the JSON: pass --weights FILE.h5"
        )
    else:
        result["variables"] = h5_facts(weights)["variables"]
        if result["writer"]["keras"] is None:
            result["writer"]["keras"] = h5_facts(weights)["keras_version"]
    if "module" not in config:
        what = config.get("class_name")
        result["warnings"].append(
            f"Keras 2 JSON (classes without module paths): Keras 3's model_from_json fails on it "
            f"(Could not locate class '{what}'); tf_keras reads it"
        )
    result["load"] = _keras2_load_code(found, result)


def _keras2_config(found, config, result):
    inputs, outputs = model_io(config)
    result["inputs"], result["outputs"] = inputs, outputs
    result["model"] = {
        "class_name": config.get("class_name"),
        "layers": _layer_summary(config),
    }
    warnings, needs, flags = layer_notes(config)
    result["warnings"].extend(warnings)
    result["needs"] = needs
    result["flags"] = sorted(flags)
    result["lambda_python"] = lambda_pythons(config)


def _layer_summary(config):
    return [
        {
            "class_name": layer.get("class_name"),
            "name": _layer_config(layer).get("name"),
        }
        for layer in iter_layers(config)
    ]


def _keras2_load_code(found, result):
    path = str(found.path)
    if str(result["writer"].get("keras") or "").startswith("3."):
        return (
            "import keras\n"
            f"model = keras.saving.load_model({path!r}, compile=False)\n"
            "outputs = model(inputs)"
        )
    lines = ["import tf_keras  # pip install tf-keras==2.21.*: Keras 2's code"]
    custom = ", custom_objects={...}" if result.get("needs") else ""
    if found.kind == "keras-json":
        weights = str(found.extra.get("weights") or "WEIGHTS.h5")
        lines += [
            f"model = tf_keras.models.model_from_json(open({path!r}).read(){custom})",
            f"model.load_weights({weights!r})",
        ]
    elif "cudnn" in result.get("flags", ()):
        lines += [
            "import json, h5py",
            f"config = json.loads(h5py.File({path!r}).attrs['model_config'])",
            "# rename CuDNNLSTM to LSTM (recurrent_activation='sigmoid') in config, then:",
            "model = tf_keras.models.model_from_config(config)",
            f"model.load_weights({path!r})  # converts the cuDNN weights",
        ]
    else:
        lines += [
            f"model = tf_keras.models.load_model({path!r}, compile=False{custom})"
        ]
    lines.append("outputs = model(inputs)")
    return "\n".join(lines)


def inspect_zip(found, result):
    facts = zip_facts(found.path)
    result["writer"].update(
        keras=facts["metadata"].get("keras_version"),
        date_saved=facts["metadata"].get("date_saved"),
    )
    result["variables"] = facts["variables"]
    config = facts["config"]
    _keras2_config(found, config, result)
    needs, flags = result["needs"], result["flags"]
    custom = ", custom_objects={...}" if needs else ""
    unsafe = ", safe_mode=False" if "lambda" in flags else ""
    keras = "keras"
    if str(result["writer"]["keras"] or "").startswith("2."):
        keras = "tf_keras"
        result["warnings"].append(
            f"a .keras file from Keras {result['writer']['keras']}: Keras 3 cannot rebuild it "
            "(its classes name Keras 2 modules such as keras.src.engine.functional); tf_keras reads it"
        )
    result["load"] = (
        f"import {keras}\n"
        f"model = {keras}.saving.load_model({str(found.path)!r}, compile=False{custom}{unsafe})\n"
        "outputs = model(inputs)"
    )


def inspect_keras3_weights(found, result):
    result["variables"] = keras3_weights_facts(found.path)
    result["writer"]["keras"] = "3 (the .weights.h5 layout records no version)"
    result["runnable"] = False
    result["why_not"] = "weights only: the model's code is needed to run it"
    result["load"] = (
        "import keras\n"
        "model = build_model()  # the code that made the model\n"
        f"model.load_weights({str(found.path)!r})"
    )


# --- load ---------------------------------------------------------------------


def _cudnn_to_plain(config):
    """CuDNNLSTM/CuDNNGRU configs as LSTM/GRU ones: same weights layout once
    tf_keras sums the biases (it converts when it loads the weights)."""
    for layer in iter_layers(config):
        if layer.get("class_name") in ("CuDNNLSTM", "CuDNNGRU"):
            layer["class_name"] = layer["class_name"][len("CuDNN") :]
            cfg = layer["config"]
            cfg["recurrent_activation"] = "sigmoid"
            cfg["activation"] = "tanh"
            if layer["class_name"] == "GRU":
                cfg["reset_after"] = True
    return config


def _refuse(found, result, unsafe, custom_objects):
    if "lambda" in result.get("flags", ()) and not unsafe:
        raise TfopenError(
            f"{found.path}: holds a Lambda layer (Python bytecode); tfopen runs it only with --unsafe"
        )
    foreign = [w for w in result.get("lambda_python", ()) if not runs_here(w)]
    if "lambda" in result.get("flags", ()) and foreign:
        this_python = "%d.%d" % sys.version_info[:2]
        raise TfopenError(
            f"{found.path}: its Lambda layer holds bytecode of Python {foreign[0]}, which "
            f"Python {this_python} cannot run safely (it may crash): run it on Python "
            f"{foreign[0]}, or build the model in code and load only its weights"
        )
    missing = [
        name for name in result.get("needs", []) if name not in custom_objects
    ]
    if missing:
        raise TfopenError(
            f"{found.path}: needs the author's class{'es' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (not in the file): pass --custom FILE.py --unsafe"
        )
    if custom_objects and not unsafe:
        raise TfopenError(
            "custom classes run their own code: pass --unsafe with them"
        )


def load_keras2(found, result, unsafe, custom_objects):
    if str(result["writer"].get("keras") or "").startswith("3."):
        return load_zip(found, result, unsafe, custom_objects)  # Keras 3's .h5
    _refuse(found, result, unsafe, custom_objects)
    import tf_keras

    if found.kind == "keras-json":
        config = json.loads(found.path.read_text(encoding="utf-8"))
        weights = found.extra.get("weights")
    else:
        config = h5_facts(found.path)["config"]
        weights = found.path
    from tf_keras.src.saving.serialization_lib import SafeModeScope

    config = _cudnn_to_plain(config)
    # tfopen has refused a Lambda already unless unsafe: tf_keras may build it.
    with (
        tf_keras.utils.custom_object_scope(dict(custom_objects)),
        SafeModeScope(not unsafe),
        warnings.catch_warnings(),
    ):
        # The initial values are overwritten by the file's weights: a
        # warning about how they were drawn (an unseeded initializer called
        # twice, as LSTM's unit_forget_bias does) concerns nothing loaded.
        warnings.filterwarnings(
            "ignore",
            message="The initializer .* is unseeded",
            category=UserWarning,
        )
        model = tf_keras.models.model_from_config(config)
    model.load_weights(str(weights))
    return _keras_callable(model)


def load_zip(found, result, unsafe, custom_objects):
    _refuse(found, result, unsafe, custom_objects)
    if str(result["writer"]["keras"] or "").startswith("2."):
        import tf_keras as keras
    else:
        import keras

    model = keras.saving.load_model(
        str(found.path),
        compile=False,
        safe_mode=not unsafe,
        custom_objects=dict(custom_objects),
    )
    return _keras_callable(model)


def _keras_callable(model):
    import numpy as np

    input_names = getattr(model, "input_names", None) or [
        tensor.name.split(":")[0] for tensor in _flat(model.inputs)
    ]
    output_names = list(model.output_names)

    def run(inputs):
        inputs = named_inputs(inputs, input_names)
        values = [np.asarray(inputs[name]) for name in input_names]
        outputs = model(
            values if len(values) > 1 else values[0], training=False
        )
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return {
            name: np.asarray(value)
            for name, value in zip(output_names, outputs)
        }

    run.input_names, run.output_names, run.model = (
        input_names,
        output_names,
        model,
    )
    return run


def _flat(tensors):
    return tensors if isinstance(tensors, (list, tuple)) else [tensors]
