"""A process that has imported TensorFlow once and forks a chapter kernel on request.

Started by support.forked_kernels (one per test run), never imported by the
tests: it imports only the standard library until it does what every chapter's
setup cell does up to `import tensorflow`, so a forked kernel holds no module
a fresh kernel would not.

    kernel_zygote.py CONTROL_FD SOCKET_PATH SETUP_CELL

Each pytest process connects to SOCKET_PATH and sends one JSON line per
kernel, {"argv": [...], "cwd": ..., "env": {...}}: the argv, folder and
environment a kernel would have been started with. The answer is {"pid": N}
once the child leads its own session, as a fresh kernel would (jupyter_client
signals its process group), or {"printed": text} when the import wrote
anything to stdout or stderr. EOF on CONTROL_FD, held by whoever started the
zygote, ends it; its kernels notice (they poll their parent) and exit too.
"""

import ast
import atexit
import json
import logging
import os
import pathlib
import selectors
import signal
import socket
import sys
import tempfile
import traceback
import warnings


def import_like_the_setup_cell(setup_cell):
    """Run the shared setup cell's statements up to and including
    `import tensorflow` (the environment switches before it matter). Returns
    what the import added to the environment and the warning filters these
    imports put in front, for a forked kernel to carry as a fresh one would."""
    tree = ast.parse(setup_cell.read_text(encoding="utf-8"))
    last = next(
        (
            i
            for i, node in enumerate(tree.body)
            if isinstance(node, ast.Import)
            and any(alias.name == "tensorflow" for alias in node.names)
        ),
        None,
    )
    if last is None:
        raise SystemExit(f"{setup_cell}: no `import tensorflow` statement")
    namespace = {"__name__": "setup_cell"}

    def run(nodes):
        module = ast.Module(body=nodes, type_ignores=[])
        exec(compile(module, str(setup_cell), "exec"), namespace)

    filters = list(warnings.filters)
    run(tree.body[:last])
    environ = dict(os.environ)
    run([tree.body[last]])
    added_environ = {
        key: value
        for key, value in os.environ.items()
        if environ.get(key) != value
    }
    # Filters are inserted in front, or appended; only the front ones end up
    # elsewhere when the kernel adds its own filters later.
    after = list(warnings.filters)
    front = next(
        (
            after[:k]
            for k in range(len(after) - len(filters) + 1)
            if after[k : k + len(filters)] == filters
        ),
        [],
    )
    return added_environ, front


def printed_by(function, *args):
    """Call function with file descriptors 1 and 2 going to a file; return
    its result and what reached them (C++ log lines go there directly)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            result = function(*args)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in zip((1, 2), saved):
                os.dup2(original, fd)
                os.close(original)
        sink.seek(0)
        return result, sink.read().decode("utf-8", "replace")


def _handlers():
    return [
        h for h in (ref() for ref in logging._handlerList) if h is not None
    ]


def _as_fresh_kernel_logging(imported):
    """Undo what TensorFlow's import set up from this process's state.

    In a fresh kernel TensorFlow and absl are imported after the kernel has
    configured logging and replaced the standard streams. Here they came
    first, so (1) the kernel's logging configuration closed and forgot their
    handlers (`imported`, taken before it): register them again; (2) they
    write to this process's streams: point them at the kernel's; (3) TF's
    logger saw no interactive session and chose WARNING and stderr: let it
    set itself up again (INFO and stdout in a kernel)."""
    present = {id(h) for h in _handlers()}
    for handler in imported:
        if id(handler) not in present:
            handler._closed = False
            logging._addHandlerRef(handler)
            if handler.name:
                logging._handlers[handler.name] = handler
    for handler in _handlers():
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            if handler.stream is sys.__stderr__:
                handler.setStream(sys.stderr)
            elif handler.stream is sys.__stdout__:
                handler.setStream(sys.stdout)
    from tensorflow.python.platform import tf_logging

    tf_logger = logging.getLogger("tensorflow")
    for handler in list(tf_logger.handlers):
        tf_logger.removeHandler(handler)
    tf_logger.setLevel(logging.NOTSET)
    tf_logging._logger = None
    tf_logging.get_logger()


def _run_kernel(request, imported_environ, imported_filters):
    from ipykernel import kernelapp

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(imported_environ)
    # As ipykernel_launcher: not this script's folder on the path; the kernel
    # puts the working directory back itself.
    del sys.path[0]
    sys.argv = list(request["argv"])
    imported = _handlers()
    # The kernel ends when its parent does; its parent is this zygote, which
    # ends when the pytest worker does.
    app = kernelapp.IPKernelApp.instance(parent_handle=os.getppid())
    app.initialize()
    _as_fresh_kernel_logging(imported)
    # In a fresh kernel the filters the import puts in front come before the
    # kernel's own.
    warnings.filters[:] = imported_filters + [
        f for f in warnings.filters if f not in imported_filters
    ]
    warnings._filters_mutated()
    app.start()


def _child(request, ready, imported):
    code = 1
    try:
        # Chapters wait for the processes they start.
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.write(ready, b"+")
        os.close(ready)
        # nbval starts its kernels with stdin from a pipe no one writes and
        # stderr to /dev/null; stdout is inherited.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 2)
        os.close(null)
        _run_kernel(request, *imported)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        os._exit(code)


def serve(control, address, setup_cell):
    # Listening before the import: a client may connect at once, and its
    # first request is answered when TensorFlow is in.
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    listener.listen()
    # A kernel's environment when its first cell runs: ipykernel has chosen
    # its inline figures (TensorFlow's import loads matplotlib, which reads
    # this once), and JPY_PARENT_PID came with this process's environment.
    os.environ.setdefault(
        "MPLBACKEND", "module://matplotlib_inline.backend_inline"
    )
    # In a fresh kernel whatever the import prints shows in the chapter's
    # first cell and fails nbval; here it would vanish, so no kernel is
    # forked at all and each request gets it back instead.
    imported, printed = printed_by(import_like_the_setup_cell, setup_cell)
    import ipykernel.kernelapp  # noqa: F401  (loaded once, like TensorFlow)

    # Children are reaped by the system; the forked kernel restores the default.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    clients = selectors.DefaultSelector()
    clients.register(control, selectors.EVENT_READ)
    clients.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in clients.select():
            if key.fileobj is control:
                if not control.recv(1):
                    # EOF: the starter is done. Remove the socket and its
                    # folder (made for it alone) even if the starter died
                    # before it could; nothing else needs flushing, and
                    # tearing TensorFlow down would take a second.
                    for remove, path in [
                        (os.unlink, address),
                        (os.rmdir, os.path.dirname(address)),
                    ]:
                        try:
                            remove(path)
                        except OSError:
                            pass
                    os._exit(0)
            elif key.fileobj is listener:
                connection, _ = listener.accept()
                clients.register(
                    connection,
                    selectors.EVENT_READ,
                    connection.makefile("rwb"),
                )
            else:
                stream = key.data
                line = stream.readline()
                if not line:
                    clients.unregister(key.fileobj)
                    stream.close()
                    key.fileobj.close()
                    continue
                if printed:
                    answer = {"printed": printed}
                else:
                    pid = fork_kernel(json.loads(line), imported, clients)
                    answer = {"pid": pid}
                stream.write(json.dumps(answer).encode() + b"\n")
                stream.flush()


def fork_kernel(request, imported, clients):
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        for key in list(clients.get_map().values()):
            if key.data:
                key.data.close()
            key.fileobj.close()
        clients.close()
        _child(request, ready_w, imported)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    return pid


if __name__ == "__main__":
    if len(sys.argv) != 4 or not sys.argv[1].isdigit():
        raise SystemExit(
            "usage: kernel_zygote.py CONTROL_FD SOCKET_PATH SETUP_CELL"
        )
    serve(
        socket.socket(fileno=int(sys.argv[1])),
        sys.argv[2],
        pathlib.Path(sys.argv[3]),
    )
