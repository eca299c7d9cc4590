# SPDX-License-Identifier: GPL-2.0
"""A QEMU guest of its own, run with tools/vm/ksfvm.py."""

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading

from .build import initramfs, kernel_dir
from .proc import TOP, rel, run

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import console_scan  # noqa: E402

KSFVM = os.path.join(TOP, "tools", "vm", "ksfvm.py")


class GuestError(Exception):
    """The guest died, or is stuck with a command."""


def lan_port():
    """A PORT for ksfvm.py --lan-port: host UDP ports PORT and PORT + 1 on
    127.0.0.1 are both free now (another run may take them before the
    guests bind them; QEMU then fails to start, saying so)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise OSError("no two free consecutive UDP ports on 127.0.0.1")


class Guest:
    """A guest with its state in VMDIR booting FLAVOR's kernel and
    initramfs (or INITRD) with SMP CPUs, loading LOAD (module names) at
    boot; host 127.0.0.1 port + FORWARD_OFFSET reaches the guest's service
    ports (-1: no forwarding). LAN ("server" or "client"): a second NIC on
    the two-guest lan of ksfvm.py --lan, its UDP ports on the host at
    LAN_PORT and LAN_PORT + 1 (see lan_port). LABEL starts the names of its results
    ("guest: boots"), TITLE names it in messages (default: "debug guest");
    the logs
    of its boot, stop and console go to LOGS.

        with guest.running(res) as up:   # boots, records "LABEL: boots"
            if up:
                ok, out, secs = guest.exec("dmesg", log)
        # stopped; "LABEL: console has no kernel error report" recorded
    """

    def __init__(self, vmdir, flavor, logs, label="guest", smp=2, load="", forward_offset=0,
                 initrd=None, boot_name=None, title=None, lan=None, lan_port=None):
        self.vmdir, self.flavor, self.logs, self.label = vmdir, flavor, logs, label
        self.smp, self.load, self.forward_offset = smp, load, forward_offset
        self.lan, self.lan_port = lan, lan_port
        self.initrd = initrd or initramfs(flavor)
        self.boot_name = boot_name or f"{label}: boots"
        self.title = title or f"{flavor} guest"
        self.console = os.path.join(vmdir, "console.log")

    def __str__(self):
        return f"the {self.title} ({self.flavor} kernel, {self.smp} CPUs, {rel(self.vmdir)})"

    def ksfvm(self, *args):
        """The command line of ksfvm.py ARGS for this guest."""
        return [sys.executable, KSFVM, "--dir", self.vmdir, *args]

    def port(self, guest_port):
        """The host port that reaches GUEST_PORT."""
        return guest_port + self.forward_offset

    # ------------------------------------------------------------ lifecycle

    def start(self):
        """Stops a guest left in VMDIR, boots this one; (ok, output, seconds)."""
        os.makedirs(self.vmdir, exist_ok=True)
        self.stop()
        lan = []
        if self.lan:
            lan = ["--lan", self.lan] + (["--lan-port", str(self.lan_port)]
                                         if self.lan_port else [])
        return run(self.ksfvm("start", "--kernel", os.path.join(kernel_dir(self.flavor), "bzImage"),
                              "--initrd", self.initrd, "--smp", str(self.smp),
                              "--forward-offset", str(self.forward_offset), "--load", self.load,
                              *lan),
                   os.path.join(self.logs, "vm-start.log"), timeout=600)

    def boot(self, res):
        """Boots the guest, with a result; True if it is up."""
        ok, out, secs = self.start()
        res.record(f"{self.boot_name} ({secs:.0f} s)", ok, out, os.path.join(self.logs, "vm-start.log"))
        return ok

    def stop(self):
        subprocess.run(self.ksfvm("stop"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)

    @contextlib.contextmanager
    def running(self, res):
        """Boots the guest (yields whether it is up); then stops it and
        scans its console, with results in RES."""
        try:
            yield self.boot(res)
        finally:
            self.stop()
            self.console_clean(res)

    def alive(self):
        return subprocess.run(self.ksfvm("status"), stdout=subprocess.DEVNULL).returncode == 0

    # ------------------------------------------------------------- commands

    def exec(self, cmd, log, timeout=1800):
        """Runs shell command CMD in the guest, its output to LOG; (ok,
        output, seconds)."""
        return run(self.ksfvm("exec", "--timeout", str(int(timeout)), "--", cmd), log,
                   timeout=timeout + 60)

    def run(self, cmd, timeout):
        """Runs CMD in the guest; (status, output). Raises GuestError when
        the guest is gone or still busy with CMD after TIMEOUT seconds."""
        try:
            r = subprocess.run(self.ksfvm("exec", "--timeout", str(int(timeout)), "--", cmd),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=TOP,
                               timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            raise GuestError(f"'{cmd}': ksfvm did not return in {timeout + 30:.0f} s")
        rc, out = r.returncode, r.stdout.decode(errors="replace")
        if rc == 124 and "did not finish" in out:
            raise GuestError(f"'{cmd}' did not finish in {timeout:.0f} s; the guest's agent is "
                             f"stuck with it\n{out[-2000:]}")
        if rc != 0 and not self.alive():
            raise GuestError(f"the guest died during '{cmd}'; see {self.console}\n{out[-2000:]}")
        return rc, out

    def stats(self, module):
        """MODULE's debugfs counters, as ints ({} when unreadable)."""
        r = subprocess.run(self.ksfvm("exec", "--timeout", "60", "--",
                                      f"cat /sys/kernel/debug/{module}/stats"),
                           capture_output=True, text=True)
        return {p[0]: int(p[1]) for p in (ln.split() for ln in r.stdout.splitlines())
                if len(p) == 2 and p[1].isdigit()}

    def kmemleak(self, res, after="", logs=None):
        """A kmemleak scan (tools/vm/ksf-kmemleak) finds nothing; AFTER
        names what it follows, in the result and its log's name."""
        slug = re.sub(r"[^a-z0-9]+", "-", after.lower()).rstrip("-")
        log = os.path.join(logs or self.logs, f"kmemleak{slug}.log")
        ok, out, _ = self.exec("ksf-kmemleak", log, timeout=300)
        res.record(f"{self.label}: kmemleak finds no leak{after}", ok, out, log)

    # -------------------------------------------------------------- console

    def console_mark(self):
        """Where the console is now (for console_since)."""
        try:
            return os.path.getsize(self.console)
        except OSError:
            return 0

    def console_since(self, mark=0):
        """[(kind, line)]: the kernel error reports on the console since
        MARK (tools/scripts/console_scan.py)."""
        try:
            with open(self.console, "rb") as f:
                f.seek(mark)
                return console_scan.scan(f.read().decode(errors="replace"))
        except OSError:
            return []

    def console_clean(self, res):
        """Records whether the whole console is free of kernel error
        reports; a copy of it goes to LOGS/console.log."""
        try:
            with open(self.console, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            text = ""
        copy = os.path.join(self.logs, "console.log")
        os.makedirs(self.logs, exist_ok=True)
        with open(copy, "w") as f:
            f.write(text)
        hits = console_scan.scan(text)
        res.record(f"{self.label}: console has no kernel error report", not hits and bool(text),
                   "\n".join(f"{k}: {line}" for k, line in hits) or "(empty console log)", copy)


@contextlib.contextmanager
def running_together(res, *guests):
    """Boots GUESTS at once (two guests of the lan need no order), each
    with its "boots" result; yields whether all are up; then stops them
    all and scans their consoles, also on an error or Ctrl-C."""
    outcome = {}

    def boot(g):
        outcome[g] = g.start()

    threads = [threading.Thread(target=boot, args=(g,)) for g in guests]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for g in guests:
            ok, out, secs = outcome[g]
            res.record(f"{g.boot_name} ({secs:.0f} s)", ok, out,
                       os.path.join(g.logs, "vm-start.log"))
        yield all(outcome[g][0] for g in guests)
    finally:
        for t in threads:
            t.join()
        for g in guests:
            g.stop()
            g.console_clean(res)
