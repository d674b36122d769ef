"""jupyter-book's own command line, run as the short-lived process a build is.

    python tools/jupyter_book_process.py build ...   # the arguments of `jupyter-book`

tools/i18n.py runs both editions' builds and the gettext build through it.
It sets two things of the process, none of the book (the pages are the same
bytes as `jupyter-book build` writes):

- **No full garbage collections.** A build holds a growing heap of docutils
  nodes, and CPython walks the whole heap in a full collection each time it
  has grown by a quarter: 12 of them cost the Chinese build 1.7 s of its
  9 s, the English build 0.9 s of 5.5 s. Young collections still free the
  short-lived cycles; the heap's peak grows from 235 to 303 MB (Chinese)
  and from 159 to 199 MB (English).
- **No teardown.** Once the build has returned and every exit handler has
  run, the process ends without freeing its heap object by object, which
  took the Chinese build 0.55 s.
"""

import atexit
import gc
import os
import sys

# Full collections wait this many young-generation collections; a build of
# the book makes about 2,000 in all, so none.
OLDEST_GENERATION_THRESHOLD = 1_000_000

_status = [1]  # what the process exits with unless the command line says


def _end_without_teardown():
    """The last exit handler: the others (logging's flush among them) ran."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_status[0])


def exit_status(code):
    """The status `sys.exit(code)` ends a process with."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def take_over_process():
    """Set this process for one build. Call it before the build's modules are
    imported: its exit handler must be registered before theirs, to run after
    them (exit handlers run last-registered first)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, OLDEST_GENERATION_THRESHOLD)
    atexit.register(_end_without_teardown)


def run(command, argv=None):
    """Run the click command `command` with `argv`; the exit status is the
    one the command ends with (click ends with SystemExit, success or not)."""
    try:
        command(args=argv, prog_name="jupyter-book")
    except SystemExit as stop:
        _status[0] = exit_status(stop.code)
        raise
    _status[0] = 0


def main(argv=None):
    take_over_process()
    from jupyter_book.cli.main import main as jupyter_book

    run(jupyter_book, argv)


if __name__ == "__main__":
    main()
