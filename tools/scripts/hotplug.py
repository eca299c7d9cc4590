#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The CPU hotplug campaign (make check, make stress).

Boots a debug guest of its own with four vCPUs (build/vm-hotplug, host
ports shifted by FORWARD_OFFSET), loads kecho and krpc2, and runs
tools/vm/ksf-hotplug in it: CPUs 1-3 offline and online in turn under
load over loopback, every worker's binding and the statistics checked at
each change. Meanwhile rpctest and echotest drive both services from the
host through the forwarded ports (the packets arrive through virtio-net's
interrupts, which move when their CPU goes). Then: every load run
succeeded, both modules unload, kmemleak finds nothing, and the guest's
console has no kernel error report.

  hotplug.py [--long]   10 transitions (100 with --long), as make check
                        (make stress) runs them; logs in build/hotplug/
"""

import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

VMDIR = os.path.join(check.BUILD, "vm-hotplug")
LOGS = os.path.join(check.BUILD, "hotplug")
FORWARD_OFFSET = 1000
CPUS = 4
TRANSITIONS = {False: 10, True: 100}
# Host-side load: (tool, guest port), each run short and verified.
HOST_LOAD = [("rpctest", 62049), ("echotest", 60007)]


def ksfvm(*args):
    return [sys.executable, os.path.join(check.TOP, "tools", "vm", "ksfvm.py"),
            "--dir", VMDIR, *args]


class HostLoad:
    """Runs every HOST_LOAD tool in a loop until stopped; counts runs and
    failures (the output of failed runs is kept)."""

    def __init__(self):
        self.stop = threading.Event()
        self.runs = self.failed = 0
        self.failures = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(tool, port))
                        for tool, port in HOST_LOAD]

    def loop(self, tool, port):
        exe = os.path.join(check.BUILD, "bin", tool)
        cmd = [exe, "-H", "-i", "1", "-c", "200", "-j", "2", "-a", "4", "-t", "20000",
               f"127.0.0.1:{port + FORWARD_OFFSET}"]
        while not self.stop.is_set():
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            with self.lock:
                self.runs += 1
                if r.returncode != 0:
                    self.failed += 1
                    self.failures.append(f"{tool}: {r.stdout}{r.stderr}"[-2000:])

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def campaign(res, long=False, logs=LOGS):
    """Boots the four-CPU guest, runs the campaign, records its results."""
    os.makedirs(logs, exist_ok=True)
    os.makedirs(VMDIR, exist_ok=True)
    transitions = TRANSITIONS[long]
    subprocess.run(ksfvm("stop"), stdout=subprocess.DEVNULL)
    initrd = os.path.join(check.VMDIR, f"initramfs-{check.FLAVOR}.cpio")
    ok, out, secs = check.run(ksfvm("start", "--kernel",
                                    os.path.join(check.kernel_dir(), "bzImage"),
                                    "--initrd", initrd, "--smp", str(CPUS),
                                    "--forward-offset", str(FORWARD_OFFSET),
                                    "--load", "kecho krpc2"),
                              os.path.join(logs, "vm-start.log"))
    res.record(f"hotplug: a {CPUS}-CPU guest boots ({secs:.0f} s)", ok, out)
    if not ok:
        return
    try:
        with HostLoad() as load:
            ok, out, secs = check.run(
                ksfvm("exec", "--timeout", "3000", "--", f"ksf-hotplug {transitions}"),
                os.path.join(logs, "ksf-hotplug.log"), timeout=3100)
        m = re.search(r"^ksf-hotplug (.*)$", out, re.M)
        fig = dict(re.findall(r"(\w+)=(\d+)", m.group(1))) if m else {}
        ok = ok and load.failed == 0 and load.runs > 0
        res.record(f"hotplug: {fig.get('transitions', '?')} CPU transitions under load, "
                   f"workers bound and unbound ({fig.get('runs', '?')} guest and "
                   f"{load.runs} host load runs, {int(fig.get('failed', 0)) + load.failed} "
                   f"failed, {fig.get('seconds', '?')} s)", ok,
                   out + "".join(load.failures[:3]))
        ok, out, _ = check.run(ksfvm("exec", "--", "rmmod krpc2 && rmmod kecho && "
                                     "! grep -qE '^(kecho|krpc2) ' /proc/modules"),
                               os.path.join(logs, "rmmod.log"))
        res.record("hotplug: both services unload afterwards", ok, out)
        ok, out, _ = check.run(ksfvm("exec", "--timeout", "300", "--", "ksf-kmemleak"),
                               os.path.join(logs, "kmemleak.log"))
        res.record("hotplug: kmemleak finds no leak", ok, out)
    finally:
        subprocess.run(ksfvm("stop"), stdout=subprocess.DEVNULL)
    check.console_clean(res, "hotplug", VMDIR)


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    bad = [a for a in argv if a != "--long"]
    if bad:
        print(f"hotplug.py: unknown argument {bad[0]!r} (see --help)", file=sys.stderr)
        return 2
    res = check.Results()
    t0 = time.monotonic()
    if check.build(res):
        campaign(res, "--long" in argv)
    print(f"hotplug: {time.monotonic() - t0:.0f} s", flush=True)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
