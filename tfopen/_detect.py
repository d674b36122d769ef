"""What kind of file a path is, from its name and first bytes only (no
TensorFlow, no Keras)."""

import json
import pathlib
import zipfile


class TfopenError(Exception):
    """A file tfopen cannot read or run; the message is one line for the
    user."""


HDF5 = b"\x89HDF\r\n\x1a\n"
PNG = b"\x89PNG\r\n\x1a\n"
ZIP = b"PK\x03\x04"
# The footer of a LevelDB-style table: a V2 checkpoint's .index and a V1
# checkpoint (one file) both end with it.
TABLE_MAGIC = bytes.fromhex("57fb808b247547db")


class Found:
    """kind: one of KINDS; path: the file or folder to read; extra: what goes
    with it (the .meta of a checkpoint, the weights of a JSON file)."""

    def __init__(self, kind, path, **extra):
        self.kind = kind
        self.path = pathlib.Path(path)
        self.extra = extra

    def __repr__(self):
        return f"Found({self.kind!r}, {str(self.path)!r}, {self.extra!r})"


KINDS = {
    "savedmodel": "SavedModel folder",
    "checkpoint": "TF checkpoint (V2: .index + .data)",
    "checkpoint-v1": "TF1 checkpoint in the V1 format (one file)",
    "metagraph": "TF1 MetaGraphDef (.meta)",
    "graphdef": "frozen GraphDef (binary .pb)",
    "graphdef-text": "frozen GraphDef (text .pbtxt)",
    "keras-h5": "Keras model in HDF5 (legacy .h5: architecture and weights)",
    "keras-h5-weights": "Keras 2 weights in HDF5 (save_weights to .h5)",
    "keras-json": "Keras model architecture as JSON (model.to_json())",
    "keras-zip": "Keras .keras archive (Keras 2.13+ and Keras 3)",
    "keras3-weights": "Keras 3 weights (.weights.h5)",
}


def _checkpoint_prefix_from_state(folder):
    """The newest checkpoint a folder's `checkpoint` file names, or None."""
    state = folder / "checkpoint"
    if not state.is_file():
        return None
    try:
        text = state.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model_checkpoint_path":
            name = pathlib.Path(json.loads(value.strip()))
            prefix = name if name.is_absolute() else folder / name
            if not _prefix_exists(prefix):
                # A folder moved from elsewhere: the file keeps old paths.
                prefix = folder / name.name
            return prefix
    return None


def _prefix_exists(prefix):
    prefix = pathlib.Path(prefix)
    return (
        prefix.with_name(prefix.name + ".index").is_file() or prefix.is_file()
    )


def _checkpoint(prefix):
    prefix = pathlib.Path(prefix)
    meta = prefix.with_name(prefix.name + ".meta")
    meta = meta if meta.is_file() else None
    if prefix.with_name(prefix.name + ".index").is_file():
        return Found("checkpoint", prefix, meta=meta)
    return Found("checkpoint-v1", prefix, meta=meta)


def _keras_json(path, weights=None):
    try:
        config = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TfopenError(f"{path}: not valid JSON") from None
    if not (isinstance(config, dict) and "class_name" in config):
        raise TfopenError(
            f"{path}: JSON, but not a Keras model (no class_name at the top)"
        )
    if weights is None:
        folder = pathlib.Path(path).parent
        same_stem = pathlib.Path(path).with_suffix(".h5")
        candidates = sorted(folder.glob("*.h5"))
        if same_stem.is_file():
            weights = same_stem
        elif len(candidates) == 1:
            weights = candidates[0]
    return Found("keras-json", path, weights=weights)


def _not_a_model_png(path):
    raise TfopenError(f"{path}: a PNG image, not a TensorFlow or Keras file")


def _identify_hdf5(path):
    import h5py

    try:
        with h5py.File(path, "r") as f:
            attrs = set(f.attrs.keys())
            keys = set(f.keys())
    except OSError:
        raise TfopenError(
            f"{path}: a damaged or truncated HDF5 file"
        ) from None
    if "model_config" in attrs:
        return Found("keras-h5", path)
    if "layer_names" in attrs:
        return Found("keras-h5-weights", path)
    if "model_weights" in keys and "layer_names" in _attrs(
        path, "model_weights"
    ):
        return Found("keras-h5", path)
    if keys & {
        "layers",
        "vars",
        "_layer_checkpoint_dependencies",
    } or path.name.endswith(".weights.h5"):
        return Found("keras3-weights", path)
    raise TfopenError(
        f"{path}: an HDF5 file, but not one Keras wrote (no model_config, no layer_names)"
    )


def _attrs(path, group):
    import h5py

    with h5py.File(path, "r") as f:
        return set(f[group].attrs.keys())


def _identify_zip(path):
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise TfopenError(
            f"{path}: a damaged or truncated zip archive"
        ) from None
    if "config.json" in names and "metadata.json" in names:
        return Found("keras-zip", path)
    if path.name.endswith(".npz"):
        raise TfopenError(f"{path}: NumPy arrays (.npz), not a model")
    raise TfopenError(f"{path}: a zip archive that is not a .keras file")


def _checkpoint_of_index(path):
    return _checkpoint(path.with_name(path.name[: -len(".index")]))


def _checkpoint_of_shard(path):
    """The checkpoint a PREFIX.data-00000-of-00001 file belongs to."""
    return _checkpoint(path.with_name(path.name.split(".data-")[0]))


def _checkpoint_of_state(path):
    prefix = _checkpoint_prefix_from_state(path.parent)
    if prefix is not None and _prefix_exists(prefix):
        return _checkpoint(prefix)
    raise TfopenError(
        f"{path}: a checkpoint state file naming no checkpoint here"
    )


def _metagraph(path):
    prefix = path.with_name(path.name[: -len(".meta")])
    return Found(
        "metagraph",
        path,
        checkpoint=prefix if _prefix_exists(prefix) else None,
    )


class _Glance:
    """What identify reads of a file before choosing: its name, its first
    64 bytes and its last 8."""

    def __init__(self, name, head, tail):
        self.name, self.head, self.tail = name, head, tail


# identify tries these in order, each a test of the _Glance and the function
# that reads a file passing it (returns its Found or raises why not). The
# order decides: a signature in the first bytes whatever the name; then the
# names of a checkpoint's parts and of a SavedModel's graph, before the
# table footer that a V1 checkpoint shares with a .index file.
_BY_SIGNATURE_OR_NAME = [
    (lambda f: f.head.startswith(PNG), _not_a_model_png),
    (lambda f: f.head.startswith(HDF5), _identify_hdf5),
    (lambda f: f.head.startswith(ZIP), _identify_zip),
    (
        lambda f: f.name.endswith(".index") and f.tail == TABLE_MAGIC,
        _checkpoint_of_index,
    ),
    (lambda f: ".data-" in f.name and "-of-" in f.name, _checkpoint_of_shard),
    (lambda f: f.name == "checkpoint", _checkpoint_of_state),
    (
        lambda f: f.name in ("saved_model.pb", "saved_model.pbtxt"),
        lambda path: Found("savedmodel", path.parent),
    ),
    # A V1 checkpoint: one file, named anything, ending with the footer.
    (lambda f: f.tail == TABLE_MAGIC, _checkpoint),
    (lambda f: f.name.endswith(".meta"), _metagraph),
]


def identify(path):
    """The Found for a path, or TfopenError saying what it is not."""
    path = pathlib.Path(path)
    if not path.exists():
        if _prefix_exists(path):
            return _checkpoint(path)
        raise TfopenError(f"{path}: no such file or directory")
    if path.is_dir():
        return _identify_folder(path)
    size = path.stat().st_size
    if size == 0:
        raise TfopenError(f"{path}: empty file (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(64)
        f.seek(max(size - 8, 0))
        tail = f.read(8)
    glance = _Glance(path.name, head, tail)
    for test, read in _BY_SIGNATURE_OR_NAME:
        if test(glance):
            return read(path)
    return _identify_by_content(path, size)


def _identify_by_content(path, size):
    """A file that neither its first bytes nor its name gave away: JSON, a
    GraphDef as text, or binary, read as a frozen GraphDef."""
    text = _as_text(path, size)
    if path.name.endswith(".json"):
        return _keras_json(path)
    if text is not None:
        return _identify_text(path, text)
    if path.name.endswith((".pb", ".graphdef")):
        return Found("graphdef", path)
    # Anything else binary: a frozen graph under another name, or not.
    return Found("graphdef", path, guessed=True)


def _identify_text(path, text):
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _keras_json(path)
    if stripped.startswith("node") or stripped.startswith("versions"):
        return Found("graphdef-text", path)
    if path.name.endswith((".pbtxt", ".pb.txt")):
        return Found("graphdef-text", path)
    raise TfopenError(f"{path}: a text file, not a TensorFlow or Keras file")


def _as_text(path, size):
    """The file's text when it looks like text (UTF-8, no NUL), else None."""
    if size > 50_000_000:
        return None
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _identify_folder(path):
    if (path / "saved_model.pb").is_file() or (
        path / "saved_model.pbtxt"
    ).is_file():
        return Found("savedmodel", path)
    prefix = _checkpoint_prefix_from_state(path)
    if prefix is not None and _prefix_exists(prefix):
        return _checkpoint(prefix)
    indexes = sorted(path.glob("*.index"))
    if len(indexes) == 1:
        return _checkpoint(
            indexes[0].with_name(indexes[0].name[: -len(".index")])
        )
    jsons = sorted(path.glob("*.json"))
    if len(jsons) == 1:
        return _keras_json(jsons[0])
    if (path / "variables").is_dir():
        raise TfopenError(
            f"{path}: a folder with variables/ but no saved_model.pb: "
            "not a complete SavedModel"
        )
    raise TfopenError(
        f"{path}: a folder that is neither a SavedModel nor a checkpoint folder"
    )


def named_inputs(inputs, input_names):
    """`inputs` as {name: array} for a model whose inputs are `input_names`:
    one array stands for the only input; an unknown or missing name is an
    error that names it."""
    if not isinstance(inputs, dict):
        if len(input_names) != 1:
            raise TfopenError(
                f"the model takes {len(input_names)} inputs: pass a dict"
            )
        inputs = {input_names[0]: inputs}
    unknown = set(inputs) - set(input_names)
    if unknown:
        raise TfopenError(
            f"unknown input {', '.join(sorted(unknown))}: the model takes {', '.join(input_names)}"
        )
    missing = [name for name in input_names if name not in inputs]
    if missing:
        raise TfopenError(f"missing input {', '.join(missing)}")
    return inputs
