import atexit
import queue
import subprocess
import sys
import threading


class Lives:
    """Drive launcher.py: start processes ("lives") forked from one that has
    imported TensorFlow, wait for them with a time limit, kill them.

    Every wait has a limit, so a cell never hangs: a life that outlives its
    limit is killed and `wait` raises TimeoutError. `close` kills whatever
    still runs and ends the launcher; it runs at the latest when the kernel
    exits."""

    def __init__(self, *options, timeout=120):
        self.launcher = subprocess.Popen(
            [sys.executable, "launcher.py", *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.answers = queue.Queue()
        self.running = set()
        threading.Thread(target=self._read, daemon=True).start()
        atexit.register(self.close)
        ready, _, self.network = self._answer(timeout).partition(" ")
        assert ready == "ready", ready

    def _read(self):
        for line in self.launcher.stdout:
            self.answers.put(line.strip())
        self.answers.put("error the launcher ended")

    def _answer(self, timeout):
        try:
            text = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer within {timeout} s") from None
        if text.startswith("error"):
            raise RuntimeError(f"launcher: {text}")
        return text

    def _ask(self, *words, timeout=60):
        self.launcher.stdin.write(" ".join(map(str, words)) + "\n")
        self.launcher.stdin.flush()
        return self._answer(timeout)

    def start(self, script, *args):
        """Run `script` with `args` in a new life; return its pid."""
        pid = int(self._ask("start", script, *args))
        self.running.add(pid)
        return pid

    def wait(self, pid, timeout=120):
        """The life's exit code (-9 after SIGKILL), or "stopped" when it
        stopped itself with SIGSTOP (it waits there for `kill`)."""
        code = self._ask("wait", pid, timeout, timeout=timeout + 60)
        if code == "stopped":
            return code
        self.running.discard(pid)
        if code == "timeout":
            raise TimeoutError(f"life {pid} ran longer than {timeout} s")
        return int(code)

    def kill(self, pid):
        """SIGKILL the life; return its exit code."""
        code = int(self._ask("kill", pid))
        self.running.discard(pid)
        return code

    def run(self, script, *args, timeout=120):
        """Start a life and wait for it."""
        return self.wait(self.start(script, *args), timeout)

    def ports(self, count):
        """`count` free ports on 127.0.0.1, comma-separated."""
        return self._ask("ports", count)

    def close(self):
        for pid in list(self.running):
            try:
                self.kill(pid)
            except (RuntimeError, TimeoutError, OSError):
                break  # the launcher is gone; its lives died with it
        if self.launcher.poll() is None:
            self.launcher.stdin.close()
            try:
                self.launcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()
