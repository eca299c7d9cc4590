# SPDX-License-Identifier: GPL-2.0
"""Commands with their output in a log file, and the progress of long ones."""

import os
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BUILD = os.path.join(TOP, "build")

# The log the running command writes (what the Ticker shows the end of).
_current = {"log": None}


def rel(path):
    """PATH from the top of the repository, for messages."""
    return os.path.relpath(path, TOP) if path.startswith(TOP + os.sep) else path


def say(line=""):
    """Prints LINE at once (and tells the Ticker something was said)."""
    print(line, flush=True)
    Ticker.said = time.monotonic()


def run(cmd, log, timeout=None, env=None):
    """Runs CMD in the repository, stdout and stderr to LOG; returns (ok,
    output, seconds). A timeout is a failure, noted at the end of LOG."""
    t0 = time.monotonic()
    os.makedirs(os.path.dirname(log), exist_ok=True)
    _current["log"] = log
    try:
        with open(log, "wb") as f:
            try:
                r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=TOP,
                                   timeout=timeout, env=env)
                ok = r.returncode == 0
            except subprocess.TimeoutExpired:
                f.write(f"\n(timed out after {timeout} s)\n".encode())
                ok = False
    finally:
        _current["log"] = None
    with open(log, "rb") as f:
        out = f.read().decode(errors="replace")
    return ok, out, time.monotonic() - t0


def _last_line(path):
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [ln for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip()[:110] if lines else ""


class Ticker:
    """While a step runs: when nothing was printed for EVERY seconds, one
    line with the time spent and the last line of the log being written
    ("   ... kunit: 1m30s; ok 12 mark_round_trip")."""

    EVERY = 30
    said = 0.0

    def __init__(self, what):
        self.what = what
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        t0 = time.monotonic()
        Ticker.said = t0
        while not self.stop.wait(1):
            now = time.monotonic()
            if now - Ticker.said < self.EVERY:
                continue
            secs = int(now - t0)
            log = _current["log"]
            tail = _last_line(log) if log else ""
            where = f"; {rel(log)}: {tail}" if tail else (f"; {rel(log)}" if log else "")
            print(f"   ... {self.what}: {secs // 60}m{secs % 60:02d}s{where}", flush=True)
            Ticker.said = now

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        sys.stdout.flush()
