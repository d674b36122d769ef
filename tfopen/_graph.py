"""TensorFlow files: checkpoints (V1, V2, object), frozen GraphDefs,
MetaGraphDefs and SavedModels. TensorFlow is imported here, and only when
one of these is read; graphs run in tf.compat.v1 sessions, which read every
one of these formats as written (TF 1.x to 2.x, Keras 2 SavedModels with
optimizer slots included)."""

import collections
import os
import re

from ._detect import TfopenError, named_inputs

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def _tf():
    # Without oneDNN, TensorFlow computes a model's outputs the same way on
    # every run, and its import prints no notice to stderr (TF 2.21 prints
    # that one whatever TF_CPP_MIN_LOG_LEVEL says). A reader's own setting
    # wins; in a process that imported TensorFlow already, neither applies.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    return tf


def _dtype(enum):
    tf = _tf()
    try:
        return tf.dtypes.as_dtype(enum).name
    except (TypeError, ValueError):
        return str(enum)


def _shape(proto):
    if proto.unknown_rank:
        return None
    return [None if dim.size < 0 else int(dim.size) for dim in proto.dim]


def _parse(kind, path, text=False, what="protobuf"):
    from google.protobuf import message, text_format

    data = path.read_bytes()
    parsed = kind()
    try:
        if text:
            text_format.Parse(data.decode("utf-8"), parsed)
        else:
            parsed.ParseFromString(data)
    except (
        message.DecodeError,
        text_format.ParseError,
        UnicodeDecodeError,
        ValueError,
    ):
        raise TfopenError(
            f"{path}: damaged or truncated, or not a {what}"
        ) from None
    return parsed


# --- graphs: inputs, outputs, copies --------------------------------------------

TRAINING = re.compile(
    r"^(gradients|save|train|init|report_uninitialized|Adam|GradientDescent|Momentum|"
    r"RMSProp|Adagrad|Ftrl|beta[12]_power|ExponentialMovingAverage|global_step)(_\d+)?(/|$)"
)
NO_VALUE = {
    "NoOp",
    "Assign",
    "AssignAdd",
    "AssignSub",
    "AssignVariableOp",
    "SaveV2",
    "RestoreV2",
    "Save",
    "SaveSlices",
    "Restore",
    "RestoreSlice",
    "MergeV2Checkpoints",
    "VariableV2",
    "Variable",
    "VarHandleOp",
    "Const",
    "IsVariableInitialized",
    "VarIsInitializedOp",
    "Placeholder",
    "PlaceholderWithDefault",
    "Assert",
    "Print",
    "PrintV2",
    "ReadVariableOp",
}
# Ends of a graph that are no model's output: shapes computed for checks,
# control flow, a variable's read.
BOOKKEEPING = {"Shape", "ShapeN", "Size", "Rank", "Switch", "Merge"}
REDUCTIONS = {"Mean", "Sum", "Max", "Min", "Prod"}
OPERATORS = {
    "add",
    "sub",
    "mul",
    "truediv",
    "div",
    "neg",
    "pow",
    "mod",
    "floordiv",
}


def _node_name(edge):
    return edge.lstrip("^").split(":")[0]


def _strip_copy(name):
    return re.sub(r"_\d+$", "", name)


def _auto_named(node):
    """True when a node kept the name TF gives an op of its type."""
    last = _strip_copy(node.name.split("/")[-1]).replace("_", "").lower()
    op = node.op.lower()
    return last in (op, re.sub(r"v\d$", "", op)) or last in OPERATORS


def graph_io(graph_def):
    """(inputs, outputs, copies) of a graph: its placeholders that feed the
    model, the tensors the model ends in, and how many copies of the model
    the graph holds (a notebook cell run several times)."""
    nodes = {node.name: node for node in graph_def.node}
    consumers = collections.defaultdict(set)
    for node in graph_def.node:
        for edge in node.input:
            if not edge.startswith("^"):
                consumers[_node_name(edge)].add(node.name)
    placeholders = [
        node
        for node in graph_def.node
        if node.op == "Placeholder" and not TRAINING.match(node.name)
    ]
    groups = collections.OrderedDict()
    for node in placeholders:
        groups.setdefault(_strip_copy(node.name), []).append(node)
    copies = max((len(group) for group in groups.values()), default=1)
    chosen = [group[-1] for group in groups.values()]

    def downstream(name):
        seen, todo = set(), [name]
        while todo:
            for after in consumers[todo.pop()]:
                if after not in seen and not TRAINING.match(after):
                    seen.add(after)
                    todo.append(after)
        return seen

    reach = {node.name: downstream(node.name) for node in chosen}
    if chosen:
        inference = set().union(*reach.values())
    else:
        inference = {name for name in nodes if not TRAINING.match(name)}
    inference = {
        name
        for name in inference
        if nodes[name].op not in NO_VALUE
        and not nodes[name].op.startswith(
            ("Apply", "ResourceApply", "Scatter")
        )
    }
    outputs = _model_ends(nodes, consumers, inference)
    # A placeholder that reaches none of the model's ends feeds only the
    # loss: labels, not an input.
    inputs = [node for node in chosen if reach[node.name] & set(outputs)]
    described_inputs = [
        {
            "name": node.name,
            "shape": _shape(node.attr["shape"].shape)
            if "shape" in node.attr
            else None,
            "dtype": _dtype(node.attr["dtype"].type),
        }
        for node in inputs
    ]
    described_outputs = [
        {"name": name, "shape": None, "dtype": _output_dtype(nodes[name])}
        for name in outputs
    ]
    return (
        described_inputs,
        described_outputs,
        copies,
        [node.name for node in placeholders],
    )


def _output_dtype(node):
    for key in ("T", "dtype", "out_type"):
        if key in node.attr and node.attr[key].type:
            return _dtype(node.attr[key].type)
    return None


def _model_ends(nodes, consumers, inference):
    """The nodes the model ends in: the graph's sinks, less a loss and the
    steps that lead only to it (back to a node its author named)."""

    def sinks(kept):
        return sorted(name for name in kept if not consumers[name] & kept)

    def named(name):
        parts = name.split("/")
        if len(parts) == 1:
            return not _auto_named(nodes[name])
        scope = parts[0]
        if "loss" in scope.lower() or _strip_copy(scope) in (
            nodes[name].op,
            parts[-1],
        ):
            return False
        outside = {
            after
            for after in consumers[name]
            if not after.startswith(scope + "/")
        }
        return bool(outside)

    kept = set(inference)
    chain = set()  # the nodes that lead to a loss taken away
    changed = True
    while changed:
        changed = False
        for name in sinks(kept):
            node = nodes[name]
            lowered = name.lower()
            lossy = (
                node.op in REDUCTIONS
                or "loss" in lowered
                or "cross_entropy" in lowered
            )
            bookkeeping = node.op in BOOKKEEPING or (
                node.op == "Identity"
                and name.split("/")[-1].startswith(
                    ("read", "switch_", "pred_id")
                )
            )
            if lossy or bookkeeping or (name in chain and not named(name)):
                kept.discard(name)
                chain.update(_node_name(edge) for edge in node.input)
                changed = True
    return sinks(kept)


# --- inspect --------------------------------------------------------------------


def inspect_graphdef(found, result):
    _tf()  # sets TF's environment before its import
    from tensorflow.core.framework import graph_pb2

    text = found.kind == "graphdef-text"
    try:
        graph_def = _parse(
            graph_pb2.GraphDef, found.path, text=text, what="GraphDef"
        )
    except TfopenError:
        if found.extra.get("guessed"):
            raise TfopenError(
                f"{found.path}: not a TensorFlow or Keras file (unrecognised bytes)"
            ) from None
        raise
    if not graph_def.node or any(
        not node.op or not node.name for node in graph_def.node
    ):
        if found.extra.get("guessed"):
            raise TfopenError(
                f"{found.path}: not a TensorFlow or Keras file (unrecognised bytes)"
            )
        raise TfopenError(
            f"{found.path}: damaged or truncated, or not a GraphDef"
        )
    # graph_util.convert_variables_to_constants leaves versions out: 0.
    result["writer"]["graph_producer"] = graph_def.versions.producer or None
    result["writer"]["tensorflow"] = None
    _describe_graph(graph_def, result)
    variables = [
        node
        for node in graph_def.node
        if node.op in ("VariableV2", "VarHandleOp")
    ]
    if variables:
        result["warnings"].append(
            f"the graph holds {len(variables)} variables but no values: it is not frozen"
        )
        result["runnable"] = False
        result["why_not"] = (
            "variables without values (a graph that was not frozen)"
        )
    feeds = ", ".join(f"{item['name']!r}" for item in result["inputs"])
    fetch = ", ".join(f"{item['name']!r}" for item in result["outputs"])
    parse = (
        "text_format.Parse(open(path).read(), graph_def)"
        if text
        else "graph_def.ParseFromString(open(path, 'rb').read())"
    )
    result["load"] = "\n".join(
        [
            "import tensorflow as tf"
            + ("\nfrom google.protobuf import text_format" if text else ""),
            f"path = {str(found.path)!r}",
            "graph_def = tf.compat.v1.GraphDef()",
            parse,
            "fn = tf.compat.v1.wrap_function(lambda: tf.import_graph_def(graph_def, name=''), [])",
            f"f = fn.prune(feeds=[fn.graph.get_tensor_by_name(n + ':0') for n in [{feeds}]],",
            f"             fetches=[fn.graph.get_tensor_by_name(n + ':0') for n in [{fetch}]])",
            "outputs = f(tf.constant(x))  # one argument per feed, in order",
        ]
    )


NO_MODEL = (
    "no model in the graph: no tensor computed from its inputs or variables"
    " (name the tensors to fetch with --output)"
)


def _describe_graph(graph_def, result):
    inputs, outputs, copies, placeholders = graph_io(graph_def)
    result["inputs"], result["outputs"] = inputs, outputs
    if copies > 1:
        result["warnings"].append(
            f"the graph holds {copies} copies of a model (placeholders {', '.join(placeholders)}):"
            f" a notebook cell run {copies} times? Each copy has variables of its own; the last copy"
            " is the one trained last, and the one tfopen runs: the first copy's names give another"
            " model's results"
        )
    result["graph"] = {"nodes": len(graph_def.node), "copies": copies}
    if not outputs:
        result["runnable"] = False
        result["why_not"] = NO_MODEL


def _checkpoint_variables(prefix):
    tf = _tf()
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as exc:  # TF raises several kinds for a bad file
        raise TfopenError(
            f"{prefix}: damaged or truncated checkpoint ({type(exc).__name__})"
        ) from None
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    return [
        {"name": name, "shape": list(shapes[name]), "dtype": dtypes[name].name}
        for name in sorted(shapes)
        if name != OBJECT_GRAPH_KEY
    ], OBJECT_GRAPH_KEY in shapes


def inspect_checkpoint(found, result):
    variables, object_based = _checkpoint_variables(found.path)
    result["variables"] = variables
    result["writer"]["tensorflow"] = None
    if found.kind == "checkpoint-v1":
        result["writer"]["checkpoint_format"] = (
            "V1 (one file: the default before TF 0.12, Saver(write_version=V1) after)"
        )
    else:
        result["writer"]["checkpoint_format"] = "V2 (.index and .data files)"
    if object_based:
        result["writer"]["checkpoint_kind"] = (
            "object-based (tf.train.Checkpoint, Keras save_weights)"
        )
    else:
        result["writer"]["checkpoint_kind"] = (
            "name-based (tf.compat.v1.train.Saver)"
        )
    meta = found.extra.get("meta")
    if meta is not None:
        result["files"] = [str(found.path), str(meta)]
        _inspect_meta_file(meta, result)
        result["load"] = _meta_load_code(meta, found.path, result)
    else:
        result["runnable"] = False
        result["why_not"] = (
            "a checkpoint holds values only, no graph: it can be inspected, not run; "
            "the code that built the model (or its .meta) is needed"
        )
        result["load"] = "\n".join(
            [
                "import tensorflow as tf",
                f"reader = tf.train.load_checkpoint({str(found.path)!r})",
                "values = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}",
            ]
        )


def _inspect_meta_file(meta_path, result):
    _tf()  # sets TF's environment before its import
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = _parse(meta_graph_pb2.MetaGraphDef, meta_path, what="MetaGraphDef")
    info = meta.meta_info_def
    result["writer"]["tensorflow"] = info.tensorflow_version or None
    result["writer"]["tensorflow_git_version"] = (
        info.tensorflow_git_version or None
    )
    result["writer"]["graph_producer"] = meta.graph_def.versions.producer
    _describe_graph(meta.graph_def, result)
    if meta.signature_def:
        result["signatures"] = _signatures(meta.signature_def)


def inspect_metagraph(found, result):
    checkpoint = found.extra.get("checkpoint")
    _inspect_meta_file(found.path, result)
    if checkpoint is None:
        result["runnable"] = False
        result["why_not"] = (
            "a graph without its checkpoint (no values for its variables next to it)"
        )
        result["load"] = (
            "import tensorflow as tf\n"
            f"tf.compat.v1.train.import_meta_graph({str(found.path)!r})  # the graph, no values"
        )
    else:
        result["variables"], _ = _checkpoint_variables(checkpoint)
        result["files"] = [str(found.path), str(checkpoint)]
        result["load"] = _meta_load_code(found.path, checkpoint, result)


def _meta_load_code(meta, prefix, result):
    feeds = ", ".join(
        f"{item['name'] + ':0'!r}: x" for item in result["inputs"]
    )
    fetch = [item["name"] + ":0" for item in result["outputs"]]
    return "\n".join(
        [
            "import tensorflow as tf",
            "tf1 = tf.compat.v1",
            "with tf1.Session(graph=tf.Graph()) as sess:",
            f"    saver = tf1.train.import_meta_graph({str(meta)!r}, clear_devices=True)",
            f"    saver.restore(sess, {str(prefix)!r})",
            f"    outputs = sess.run({fetch!r}, {{{feeds}}})",
        ]
    )


def _signatures(signature_defs):
    described = {}
    for key in sorted(signature_defs):
        if key.startswith("__"):  # TF's own, such as __saved_model_init_op
            continue
        signature = signature_defs[key]
        described[key] = {
            "method": signature.method_name,
            "inputs": [
                {
                    "name": name,
                    "tensor": info.name,
                    "shape": _shape(info.tensor_shape),
                    "dtype": _dtype(info.dtype),
                }
                for name, info in sorted(signature.inputs.items())
            ],
            "outputs": [
                {
                    "name": name,
                    "tensor": info.name,
                    "shape": _shape(info.tensor_shape),
                    "dtype": _dtype(info.dtype),
                }
                for name, info in sorted(signature.outputs.items())
            ],
        }
    return described


def _default_signature(signatures):
    if "serving_default" in signatures:
        return "serving_default"
    return sorted(signatures)[0] if signatures else None


def inspect_savedmodel(found, result):
    _tf()  # sets TF's environment before its import
    from tensorflow.core.protobuf import saved_model_pb2

    folder = found.path
    text = not (folder / "saved_model.pb").is_file()
    path = folder / ("saved_model.pbtxt" if text else "saved_model.pb")
    saved_model = _parse(
        saved_model_pb2.SavedModel, path, text=text, what="SavedModel"
    )
    if not saved_model.meta_graphs:
        raise TfopenError(f"{path}: a SavedModel without a graph")
    meta = saved_model.meta_graphs[0]
    info = meta.meta_info_def
    writer = result["writer"]
    writer["tensorflow"] = info.tensorflow_version or None
    writer["tensorflow_git_version"] = info.tensorflow_git_version or None
    writer["graph_producer"] = meta.graph_def.versions.producer
    writer["tags"] = [
        list(m.meta_info_def.tags) for m in saved_model.meta_graphs
    ]
    keras_metadata = folder / "keras_metadata.pb"
    nodes = meta.object_graph_def.nodes
    slots = sum(len(node.slot_variables) for node in nodes)
    if keras_metadata.is_file():
        match = re.search(
            rb'"keras_version": "([^"]+)"', keras_metadata.read_bytes()
        )
        writer["keras"] = match.group(1).decode() if match else None
        writer["savedmodel_kind"] = (
            "Keras 2 (model.save(folder); keras_metadata.pb)"
        )
    elif len(nodes):
        writer["savedmodel_kind"] = "TF2 (tf.saved_model.save)"
    else:
        writer["savedmodel_kind"] = "TF1 (SavedModelBuilder or simple_save)"
    fingerprint = folder / "fingerprint.pb"
    if fingerprint.is_file():
        _tf()  # sets TF's environment before its import
        from tensorflow.core.protobuf import fingerprint_pb2

        print_ = _parse(
            fingerprint_pb2.FingerprintDef, fingerprint, what="fingerprint"
        )
        writer["fingerprint"] = {
            "saved_model_checksum": print_.saved_model_checksum,
            "graph_def_program_hash": print_.graph_def_program_hash,
            "producer": print_.version.producer,
        }
    result["signatures"] = _signatures(meta.signature_def)
    default = _default_signature(result["signatures"])
    if default is not None:
        signature = result["signatures"][default]
        result["default_signature"] = default
        result["inputs"] = [dict(item) for item in signature["inputs"]]
        result["outputs"] = [dict(item) for item in signature["outputs"]]
    else:
        result["runnable"] = False
        result["why_not"] = (
            "a SavedModel without signatures: its functions need the code that called them"
        )
    index = folder / "variables" / "variables.index"
    if index.is_file():
        result["variables"], _ = _checkpoint_variables(
            folder / "variables" / "variables"
        )
    if slots and keras_metadata.is_file():
        result["warnings"].append(
            f"a Keras 2 SavedModel with {slots} optimizer slot variables: where tf_keras is not "
            "installed, tf.saved_model.load and keras.layers.TFSMLayer fail on it ('_UserObject' "
            "object has no attribute 'add_slot'; tf_keras tells TF how to rebuild Keras 2's "
            "optimizer); tf.compat.v1's loader reads it either way"
        )
    if default is not None and len(result["inputs"]) > 1:
        names = ", ".join(item["name"] for item in result["inputs"])
        result["warnings"].append(
            f"the signature {default} takes {len(result['inputs'])} named inputs ({names}), as "
            "keyword arguments: TFSMLayer(...)(dict) fails (it passes one positional argument); "
            "call layer.call_endpoint_fn(**inputs), or the signature itself"
        )
    tags = list(meta.meta_info_def.tags)
    if slots and keras_metadata.is_file() or not len(nodes):
        feeds = ", ".join(
            f"sig.inputs[{item['name']!r}].name: {item['name']}"
            for item in result["inputs"]
        )
        result["load"] = "\n".join(
            [
                "import tensorflow as tf",
                "tf1 = tf.compat.v1",
                "with tf1.Session(graph=tf.Graph()) as sess:",
                f"    meta = tf1.saved_model.loader.load(sess, {tags!r}, {str(folder)!r})",
                f"    sig = meta.signature_def[{default!r}]",
                "    outputs = sess.run({k: v.name for k, v in sig.outputs.items()},",
                f"                       {{{feeds}}})",
            ]
        )
    else:
        arguments = ", ".join(
            f"{item['name']}=tf.constant({item['name']})"
            for item in result["inputs"]
        )
        result["load"] = "\n".join(
            [
                "import tensorflow as tf",
                f"model = tf.saved_model.load({str(folder)!r})",
                f"outputs = model.signatures[{default!r}]({arguments})",
            ]
        )


# --- run ---------------------------------------------------------------------------


def _session_callable(session, feeds, fetches):
    """feeds, fetches: {name: tensor name}. Returns run(dict or array)."""
    import numpy as np

    input_names = list(feeds)

    def run(inputs):
        inputs = named_inputs(inputs, input_names)
        feed = {feeds[name]: np.asarray(inputs[name]) for name in input_names}
        values = session.run(dict(fetches), feed)
        return {name: np.asarray(values[name]) for name in fetches}

    run.input_names, run.output_names, run.session = (
        input_names,
        list(fetches),
        session,
    )
    run.feeds, run.fetches = dict(feeds), dict(fetches)  # for convert
    return run


def _tensor(name):
    return name if ":" in name else name + ":0"


def _fetches(graph, result):
    """{output name: tensor name}, each checked to be in the graph: a name
    the reader gave (--output) may be wrong."""
    fetches = {}
    for item in result["outputs"]:
        tensor = _tensor(item["name"])
        try:
            graph.as_graph_element(tensor)
        except (KeyError, ValueError):
            from ._detect import TfopenError

            raise TfopenError(
                f"no tensor {tensor} in the graph (tfopen inspect lists "
                "its inputs and outputs)"
            ) from None
        fetches[item["name"]] = tensor
    return fetches


def load_graphdef(found, result):
    tf = _tf()
    _tf()  # sets TF's environment before its import
    from tensorflow.core.framework import graph_pb2

    graph_def = _parse(
        graph_pb2.GraphDef, found.path, text=found.kind == "graphdef-text"
    )
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    session = tf.compat.v1.Session(graph=graph)
    return _session_callable(
        session,
        {item["name"]: _tensor(item["name"]) for item in result["inputs"]},
        _fetches(graph, result),
    )


def load_meta(meta, prefix, result):
    tf = _tf()
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(
            str(meta), clear_devices=True
        )
        saver.restore(session, str(prefix))
    return _session_callable(
        session,
        {item["name"]: _tensor(item["name"]) for item in result["inputs"]},
        _fetches(graph, result),
    )


def load_savedmodel(found, result):
    tf = _tf()
    graph = tf.Graph()
    session = tf.compat.v1.Session(graph=graph)
    tags = result["writer"]["tags"][0]
    with graph.as_default():
        meta = tf.compat.v1.saved_model.loader.load(
            session, tags, str(found.path)
        )
    signature = meta.signature_def[result["default_signature"]]
    return _session_callable(
        session,
        {name: info.name for name, info in sorted(signature.inputs.items())},
        {name: info.name for name, info in sorted(signature.outputs.items())},
    )
