"""How long each route of chapter 18 takes to a first prediction: the
Keras 2 classifier (fixtures/tf2.15-keras2/model.h5) converted by
`tfopen convert` to a SavedModel, a LiteRT file, an ONNX file and
safetensors weights, each loaded and run once in a fresh process.

    python -m benchmarks.onward [--runs 5] [--out FILE]

Each process reports the time its runtime's import took (TensorFlow,
ai_edge_litert, onnxruntime, safetensors with NumPy) and the time from
loading the file to the first prediction's values; the parent times the
whole process. The routes take turns, run after run, so that a machine whose
speed drifts moves them all. The figures are medians over the runs, printed
and written as JSON (test-output/bench/onward.json unless --out says
otherwise), with each route's over the SavedModel's.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.build import ROOT, arguments, write

MODEL = ROOT / "fixtures" / "tf2.15-keras2" / "model.h5"
INPUTS = ROOT / "fixtures" / "tf2.15-keras2" / "expected.npz"

# Each prints "<import seconds> <load and first prediction seconds>".
ROUTES = {
    "savedmodel": """
import tensorflow as tf
imported = time.perf_counter()
served = tf.saved_model.load(PATH).signatures["serving_default"]
served(features=tf.constant(x))["logits"].numpy()
""",
    "tflite": """
from ai_edge_litert.interpreter import Interpreter
imported = time.perf_counter()
runner = Interpreter(model_path=PATH).get_signature_runner("serving_default")
runner(features=x)["logits"]
""",
    "onnx": """
import onnxruntime
imported = time.perf_counter()
session = onnxruntime.InferenceSession(PATH, providers=["CPUExecutionProvider"])
session.run(["logits"], {"features": x})
""",
    "safetensors": """
from safetensors.numpy import load_file
imported = time.perf_counter()
w = load_file(PATH)
k, b = "model_weights/{0}/{0}/kernel:0", "model_weights/{0}/{0}/bias:0"
hidden = np.maximum(x @ w[k.format("hidden")] + w[b.format("hidden")], 0)
hidden @ w[k.format("logits")] + w[b.format("logits")]
""",
}
PRELUDE = """
import time
start = time.perf_counter()
import numpy as np
x = np.load(INPUTS)["x"]
"""
EPILOGUE = """
done = time.perf_counter()
print(imported - start, done - imported)
"""
SUFFIX = {"savedmodel": "", "tflite": ".tflite", "onnx": ".onnx"}


def convert_all(folder):
    """The classifier converted to every target, as the chapter does."""
    sys.path.insert(0, str(ROOT))
    import tfopen

    files = {}
    for route in ROUTES:
        path = folder / f"classifier{SUFFIX.get(route, '.safetensors')}"
        tfopen.convert(MODEL, route, path)
        files[route] = path
    return files


def one_run(route, path):
    code = (
        PRELUDE.replace("INPUTS", repr(str(INPUTS)))
        + ROUTES[route].replace("PATH", repr(str(path)))
        + EPILOGUE
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"benchmarks.onward: {route} failed:\n{done.stderr[-2000:]}")
    imported, first = map(float, done.stdout.split()[-2:])
    return {"process": wall, "import": imported, "load_and_predict": first}


def main(argv=None):
    args = arguments(argv, __doc__, "onward")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="onward-") as tmp:
        files = convert_all(Path(tmp))
        sizes = {route: _size(path) for route, path in files.items()}
        times = {route: [] for route in ROUTES}
        for route in ROUTES:  # warm-up: the first run of each reads from disk
            one_run(route, files[route])
        for run in range(args.runs):
            order = list(ROUTES)[run % len(ROUTES) :] + list(ROUTES)
            for route in order[: len(ROUTES)]:
                times[route].append(one_run(route, files[route]))
            print(f"run {run + 1} of {args.runs} done")
    result = {
        "model": str(MODEL.relative_to(ROOT)),
        # A busy machine slows TensorFlow's import most: say how busy.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "bytes": sizes,
        "routes": {},
    }
    base = {
        key: statistics.median(t[key] for t in times["savedmodel"])
        for key in ("process", "import", "load_and_predict")
    }
    for route, runs in times.items():
        figures = {}
        for key in ("process", "import", "load_and_predict"):
            values = [t[key] for t in runs]
            figures[f"{key}_s"] = {
                "runs": [round(v, 4) for v in values],
                "median": round(statistics.median(values), 4),
            }
            figures[f"{key}_over_savedmodel"] = round(
                statistics.median(values) / base[key], 3
            )
        result["routes"][route] = figures
    write(result, args.out)


def _size(path):
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


if __name__ == "__main__":
    main()
