"""Write tfopen/_builtin_layers.py from the installed tf_keras.

    python tools/builtin_layers.py           # rewrite the table
    python tools/builtin_layers.py --check   # exit 1 if it is out of date

tfopen tells a Keras 2 file's own classes from Keras's built-in ones without
importing Keras, so it carries the table of built-in layers and the
arguments each one's __init__ takes. tests/test_tfopen.py runs --check.
"""

import argparse
import inspect
import os
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "tfopen" / "_builtin_layers.py"

HEADER = '''"""Keras 2's built-in layer classes and the arguments each one's __init__
takes beyond those of every layer, from tf_keras {version}. A layer of a
Keras 2 file whose class is not here is the author's own; one whose config
has none of its namesake's arguments is the author's own class under a
built-in's name. Written by tools/builtin_layers.py: do not edit."""

# One class a line, its arguments after the colon; an indented line
# continues the one above.
_TABLE = """
{table}
"""


def _parse(table):
    rows, name = {{}}, None
    for line in table.strip("\\n").splitlines():
        if not line.startswith(" "):
            name, _, line = line.partition(":")
            rows[name] = ()
        rows[name] += tuple(line.split())
    return rows


BUILTIN_LAYERS = _parse(_TABLE)
'''


def builtin_layers():
    """{class name: its __init__'s own argument names} from tf_keras."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tf_keras

    base = set(inspect.signature(tf_keras.layers.Layer.__init__).parameters)
    rows = {}
    for name in dir(tf_keras.layers):
        cls = getattr(tf_keras.layers, name)
        if inspect.isclass(cls) and issubclass(cls, tf_keras.layers.Layer):
            params = inspect.signature(cls.__init__).parameters.values()
            rows[name] = tuple(
                p.name
                for p in params
                if p.name not in base
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            )
    # A whole model is a layer of a Keras 2 file too; its config is built
    # from its layers, not from arguments.
    for name in ("Functional", "Model", "Sequential"):
        rows[name] = ()
    return tf_keras.__version__, dict(sorted(rows.items()))


def module_text():
    version, rows = builtin_layers()
    lines = []
    for name, args in rows.items():
        lines += textwrap.wrap(
            f"{name}: {' '.join(args)}".rstrip(),
            width=78,
            subsequent_indent="    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return HEADER.format(version=version, table="\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = module_text()
    if args.check:
        if MODULE.read_text() != text:
            print(
                f"{MODULE.relative_to(ROOT)} is out of date: run "
                "python tools/builtin_layers.py",
                file=sys.stderr,
            )
            return 1
        return 0
    MODULE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
