# TensorFlow's C++ runtime logs to the process's stderr on import (a oneDNN
# notice, a CPU-feature banner) with timestamps and thread ids. Switch that
# off before the import; without oneDNN, float results are also identical
# from run to run.
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
# The kernel sets FORCE_COLOR for the programs a chapter starts; Python 3.13
# then colours the tracebacks of its own child processes, and a chapter that
# prints a child's error would store escape codes. PYTHON_COLORS wins.
os.environ["PYTHON_COLORS"] = "0"

import logging
import pathlib
import shutil

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
np.set_printoptions(precision=8, suppress=True)


class _WithoutCallSite(logging.Filter):
    """TF's deprecation warnings begin "From <file>:<line>:", naming a
    temporary file of the kernel. Keep the warning, drop that location."""

    def filter(self, record):
        message = record.getMessage()
        if message.startswith("From ") and ": " in message:
            record.msg, record.args = message.split(": ", 1)[1], ()
        return True


tf.get_logger().addFilter(_WithoutCallSite())
# TF's logger prints to stdout in Jupyter. Writing a SavedModel makes absl give
# the root logger a stderr handler, which would print every line twice.
tf.get_logger().propagate = False


def book_root():
    """The book's folder (the one holding _toc.yml) above the working
    directory; the working directory itself outside a clone of the book."""
    here = pathlib.Path.cwd().resolve()
    marked = [p for p in (here, *here.parents) if (p / "_toc.yml").is_file()]
    return marked[0] if marked else here


def enter_workdir(chapter):
    """Work in an empty artifacts/<chapter> folder of the book, so that files
    a chapter writes never land among the sources and a rerun starts clean."""
    root = book_root()
    workdir = root / "artifacts" / chapter
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    os.chdir(workdir)
    print(f"working in {workdir.relative_to(root).as_posix()}/")


def book_file(relative):
    """A file committed with the book, such as fixtures/tf1.15/..., written by
    an old TensorFlow. Such files come with a clone of the book's repository,
    not with a single downloaded chapter."""
    path = book_root() / relative
    if not path.exists():
        raise FileNotFoundError(
            f"{relative} is not here: it is part of the book's repository"
        )
    return path


def show_error(exc, line_with=""):
    """Print an error's class and the line of its message that matters; the
    rest names files and graph nodes of one machine and one run."""
    lines = str(exc).splitlines() or [""]
    line = next((text for text in lines if line_with in text), lines[0])
    print(f"{type(exc).__name__}: {line.strip()}")


print("TensorFlow", tf.__version__)
