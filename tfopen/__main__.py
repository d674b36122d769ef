"""Command line: python -m tfopen inspect PATH [--json] | run PATH ... |
convert PATH --to FORMAT OUT

Exit status 0 on success, 2 when the file cannot be read or run (one line on
stderr saying why), 1 for anything unexpected."""

import argparse
import json
import os
import pathlib
import re
import sys


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m tfopen",
        description="Identify and open TensorFlow and Keras files from TF 1.x to Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser(
        "inspect", help="what the file is, what wrote it, how to load it"
    )
    inspect.add_argument("path")
    inspect.add_argument(
        "--json", action="store_true", help="print the facts as JSON"
    )
    inspect.add_argument(
        "--weights", help="the weights (.h5) of a JSON architecture"
    )
    run = commands.add_parser(
        "run", help="run the model on .npy inputs, write .npy outputs"
    )
    run.add_argument("path")
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=FILE.npy",
        help="an input by name (repeat for each input; NAME= may be left out for one input)",
    )
    run.add_argument(
        "--out",
        required=True,
        help="folder for the outputs, one NAME.npy each ('/' and ':' in a name become '_')",
    )
    run.add_argument(
        "--weights", help="the weights (.h5) of a JSON architecture"
    )
    run.add_argument(
        "--output",
        action="append",
        metavar="NAME",
        help="a tensor to fetch from a graph without signatures (repeat for"
        " each; default: the graph's ends that inspect lists)",
    )
    run.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Python code from the file (Lambda) and --custom classes to run",
    )
    run.add_argument(
        "--custom",
        action="append",
        default=[],
        metavar="FILE.py",
        help="a Python file defining the model's custom classes (needs --unsafe)",
    )
    convert = commands.add_parser(
        "convert",
        help="write the model as a SavedModel, LiteRT, ONNX or safetensors file",
    )
    convert.add_argument("path")
    convert.add_argument(
        "--to",
        required=True,
        choices=("savedmodel", "tflite", "onnx", "safetensors"),
    )
    convert.add_argument(
        "out", help="the file (or SavedModel folder) to write; must not exist"
    )
    convert.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip running the converted file against the original",
    )
    convert.add_argument(
        "--atol",
        type=float,
        default=1e-4,
        help="largest difference from the original's outputs the check accepts (1e-4)",
    )
    convert.add_argument(
        "--batch",
        type=int,
        help="a fixed batch size for every input (LiteRT needs one for an LSTM)",
    )
    convert.add_argument(
        "--weights", help="the weights (.h5) of a JSON architecture"
    )
    convert.add_argument(
        "--output",
        action="append",
        metavar="NAME",
        help="a tensor to take as an output of a graph without signatures"
        " (repeat for each)",
    )
    convert.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Python code from the file (Lambda) and --custom classes to run",
    )
    convert.add_argument(
        "--custom",
        action="append",
        default=[],
        metavar="FILE.py",
        help="a Python file defining the model's custom classes (needs --unsafe)",
    )
    return parser


def _convert(tfopen, args, custom):
    report = tfopen.convert(
        args.path,
        args.to,
        args.out,
        weights=args.weights,
        unsafe=args.unsafe,
        custom_objects=custom,
        outputs=args.output,
        batch=args.batch,
        check=args.check,
        atol=args.atol,
    )
    print(f"{report['out']}: {report['to']}, {report['size']} bytes")
    if report["checked"]:
        print(
            f"largest difference from the original: {report['largest_difference']:.3g}"
            f" ({report['checked']})"
        )
    return 0


def _print_facts(facts):
    print(f"{facts['path']}: {facts['description']} [{facts['format']}]")
    _print_writer(facts["writer"])
    if facts.get("signatures"):
        _print_signatures(facts["signatures"])
    else:
        _print_tensors("inputs", facts["inputs"])
        _print_tensors("outputs", facts["outputs"])
    _print_variables(facts["variables"])
    for warning in facts["warnings"]:
        print(f"warning: {warning}")
    if not facts["runnable"]:
        print(f"cannot run: {facts['why_not']}")
    print("load it with:")
    for line in facts["load"].splitlines():
        print("  " + line)


def _print_writer(writer):
    # A version the file does not record is None (or empty): left out.
    recorded = {
        key: value
        for key, value in writer.items()
        if value not in (None, [], {})
    }
    if not recorded:
        print("written by: not recorded in the file")
        return
    print("written by:")
    for key, value in recorded.items():
        print(f"  {key}: {value}")


def _print_signatures(signatures):
    for key, signature in signatures.items():
        print(f"signature {key}:")
        for role in ("inputs", "outputs"):
            for item in signature[role]:
                print(
                    f"  {role[:-1]} {item['name']} ({item['tensor']})  shape {item['shape']}"
                    f"  dtype {item['dtype']}"
                )


def _print_tensors(title, items):
    if not items:
        return
    print(f"{title}:")
    for item in items:
        shape = "?" if item.get("shape") is None else str(item["shape"])
        print(
            f"  {item['name']}  shape {shape}  dtype {item.get('dtype') or '?'}"
        )


def _print_variables(variables):
    # The first 50: a model with thousands would bury the rest of the facts.
    if not variables:
        return
    print(f"variables ({len(variables)}):")
    for item in variables[:50]:
        print(
            f"  {item['name']}  shape {item['shape']}  dtype {item['dtype']}"
        )
    if len(variables) > 50:
        print(f"  ... and {len(variables) - 50} more (--json lists all)")


def _read_inputs(specs):
    import numpy as np

    inputs = {}
    for spec in specs:
        name, sep, file = spec.rpartition("=")
        if not sep:
            name, file = None, spec
        path = pathlib.Path(file)
        if not path.is_file():
            raise _usage(f"--input {spec}: no such file {file}")
        try:
            value = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise _usage(f"--input {spec}: not a .npy file ({exc})") from None
        inputs[name] = value
    return inputs


class _usage(Exception):
    pass


def _file_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name.replace(":0", "")) + ".npy"


def _inspect(tfopen, args):
    facts = tfopen.inspect(args.path, weights=args.weights)
    if args.json:
        print(json.dumps(facts, indent=2, sort_keys=True, default=str))
    else:
        _print_facts(facts)
    return 0


def _custom_objects(tfopen, args):
    """The classes the --custom files define; importing a file runs its
    code, so only with --unsafe."""
    if args.custom and not args.unsafe:
        raise _usage("--custom runs the file's code: add --unsafe")
    custom = {}
    for file in args.custom:
        custom.update(tfopen.custom_objects_from(file))
    return custom


def _run(tfopen, args, custom):
    inputs = _read_inputs(args.input)
    model = tfopen.load(
        args.path,
        weights=args.weights,
        unsafe=args.unsafe,
        custom_objects=custom,
        outputs=args.output,
    )
    if None in inputs:
        if len(inputs) != 1 or len(model.input_names) != 1:
            raise _usage(
                "name each input: --input NAME=FILE.npy (the model takes "
                + ", ".join(model.input_names)
                + ")"
            )
        inputs = {model.input_names[0]: inputs[None]}
    outputs = model(inputs)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import numpy as np

    for name, value in outputs.items():
        target = out / _file_name(name)
        np.save(target, value)
        print(
            f"{name}: shape {list(value.shape)} dtype {value.dtype} -> {target}"
        )
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    import tfopen

    try:
        if args.command == "inspect":
            return _inspect(tfopen, args)
        custom = _custom_objects(tfopen, args)
        if args.command == "convert":
            return _convert(tfopen, args, custom)
        return _run(tfopen, args, custom)
    except (tfopen.TfopenError, _usage) as exc:
        print(f"tfopen: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # what TensorFlow or Keras raised on this file
        if os.environ.get("TFOPEN_DEBUG"):
            raise
        lines = str(exc).strip().splitlines() or [""]
        print(
            f"tfopen: {args.path}: cannot {args.command} it: {type(exc).__name__}: {lines[0][:300]}"
            " (TFOPEN_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
