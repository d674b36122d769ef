"""The Python versions the book's tests pass on, and the one-line refusal of any other.

    python tools/supported_python.py    # exit 0 on a supported Python, else 2 and one line

`make book` and `make test` run it before they make the virtual environment,
and the root conftest.py before a test runs, so that an unsupported Python is
refused with one line instead of a failing install (3.10: NumPy 2.4 needs 3.11)
or with failing chapters. book/setup.md names the same versions, and a test
holds the two equal.
"""

import sys

# Each one is a Python on which a whole `make test` run passed.
SUPPORTED = ("3.11", "3.12", "3.13")


def refusal(version=None):
    """None on a supported Python, else the line that says why not."""
    running = version or "%d.%d" % sys.version_info[:2]
    if running in SUPPORTED:
        return None
    return (
        f"Python {running} is not supported: the book's tests pass on Python "
        f"{', '.join(SUPPORTED[:-1])} and {SUPPORTED[-1]} (see book/setup.md); "
        f"run make with PYTHON=python{SUPPORTED[0]}"
    )


if __name__ == "__main__":
    line = refusal()
    if line:
        print(line, file=sys.stderr)
        sys.exit(2)
