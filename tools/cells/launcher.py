# %%writefile launcher.py
"""Import TensorFlow and Keras once, then start processes forked from here.

Every process the notebook starts is a fork of this one, so none of them pays
the seconds-long imports again. One command a line on stdin, one answer a
line on stdout:

  start SCRIPT ARGS...  fork a process that runs SCRIPT as Python would (as
                        __main__, with sys.argv = [SCRIPT, *ARGS]); its pid
  wait PID SECONDS      its exit code (-9 after SIGKILL), or `stopped` when it
                        stopped itself with SIGSTOP; after SECONDS it is killed
                        and the answer is `timeout`
  kill PID              SIGKILL, then its exit code
  ports N               N free TCP ports on 127.0.0.1, comma-separated

The first line printed is `ready`, followed by how the processes reach each
other: `private` (--private-network, in a network namespace of our own whose
only interface is loopback) or `shared` and the reason. When stdin closes, the
launcher kills whatever still runs and exits.
"""

import ctypes
import ctypes.util
import fcntl
import os
import signal
import socket
import struct
import sys


def private_network():
    """unshare(2) a network namespace and switch its loopback interface on.
    Returns None, or why it could not."""
    if not sys.platform.startswith("linux"):
        return f"no network namespaces on {sys.platform}"
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    new_user, new_net = 0x10000000, 0x40000000
    # Root with CAP_SYS_ADMIN can make a network namespace directly; anyone
    # else (root in a default container included) needs a user namespace.
    if not (uid == 0 and libc.unshare(new_net) == 0):
        if libc.unshare(new_user | new_net):
            return os.strerror(ctypes.get_errno())
        # Keep our uid and gid inside the namespace.
        for name, text in [
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ]:
            with open(f"/proc/self/{name}", "w") as file:
                file.write(text)
    get_flags, set_flags, up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack(
            "16sH14x", fcntl.ioctl(sock, get_flags, request)
        )[1]
        fcntl.ioctl(sock, set_flags, struct.pack("16sH14x", b"lo", flags | up))
    return None


# Both before anything starts a thread: unshare(2) refuses a threaded process,
# and fork() copies only the calling thread. NumPy's OpenBLAS would start a
# thread pool at import; with one BLAS thread it starts none, so this process
# stays single-threaded until it forks (Python 3.12+ warns otherwise).
network = "shared (not asked for)"
if "--private-network" in sys.argv:
    if os.environ.get("BOOK_SHARED_NETWORK"):
        network = "shared (BOOK_SHARED_NETWORK is set)"
    else:
        why = private_network()
        network = "private" if why is None else f"shared ({why})"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import runpy
import time
import traceback

import keras  # noqa: F401  (the processes inherit it)
import tensorflow  # noqa: F401

# Answers go to a copy of stdout; stdout itself becomes stderr, so that what a
# process prints cannot be taken for an answer.
answers = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
running = set()


def answer(*words):
    print(*words, file=answers)


def start(script, *args):
    pid = os.fork()
    if pid == 0:
        status = 3  # an exception escaped the script
        try:
            answers.close()
            if sys.platform.startswith("linux"):  # die with the launcher
                libc = ctypes.CDLL(ctypes.util.find_library("c"))
                libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            sys.argv = [script, *args]
            runpy.run_path(script, run_name="__main__")
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)  # a child never goes back to reading commands
    running.add(pid)
    return pid


def reap(pid, options=0):
    done, status = os.waitpid(pid, options | os.WUNTRACED)
    if not done:
        return None
    if os.WIFSTOPPED(status):
        return "stopped"
    running.discard(pid)
    return os.waitstatus_to_exitcode(status)


def wait(pid, seconds):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        code = reap(pid, os.WNOHANG)
        if code is not None:
            return code
        time.sleep(0.005)
    kill(pid)
    return "timeout"


def kill(pid):
    os.kill(pid, signal.SIGKILL)
    code = reap(pid)
    while code == "stopped":  # it stopped just before the signal came
        code = reap(pid)
    return code


def free_ports(count):
    sockets = [socket.socket() for _ in range(int(count))]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ",".join(map(str, ports))


answer("ready", network)
for line in sys.stdin:
    command, *words = line.split()
    try:
        if command == "start":
            answer(start(*words))
        elif command == "wait":
            answer(wait(int(words[0]), words[1]))
        elif command == "kill":
            answer(kill(int(words[0])))
        elif command == "ports":
            answer(free_ports(words[0]))
        else:
            answer("error", f"unknown command {command!r}")
    except Exception as exc:  # answer, so that the notebook never waits
        answer("error", f"{type(exc).__name__}: {exc}")

for pid in list(running):  # stdin closed: end whatever still runs
    kill(pid)
