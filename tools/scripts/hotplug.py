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

  hotplug.py [--long] [--list] [--only STEP] [--no-build]
                        6 transitions (100 with --long), as make check
                        (make stress) runs them; logs in build/hotplug/
"""

import argparse
import os
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, Guest, Plan, Step, build  # noqa: E402

FORWARD_OFFSET = 1000
CPUS = 4
# make check: each of CPUs 1-3 offline and online once.
TRANSITIONS = {False: 6, True: 100}
# Host-side load: (tool, guest port), each run short and verified.
HOST_LOAD = [("rpctest", 62049), ("echotest", 60007)]


class HostLoad:
    """Runs every HOST_LOAD tool in a loop until stopped; counts runs and
    failures (the output of failed runs is kept)."""

    def __init__(self, guest):
        self.guest = guest
        self.stop = threading.Event()
        self.runs = self.failed = 0
        self.failures = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.loop, args=(tool, port))
                        for tool, port in HOST_LOAD]

    def loop(self, tool, port):
        exe = os.path.join(BUILD, "bin", tool)
        cmd = [exe, "-H", "-i", "1", "-c", "200", "-j", "2", "-a", "4", "-t", "20000",
               f"127.0.0.1:{self.guest.port(port)}"]
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


def guest(logs):
    """The four-CPU debug guest of the campaign, logs in LOGS."""
    return Guest(os.path.join(BUILD, "vm-hotplug"), "debug", logs, label="hotplug", smp=CPUS,
                 load="kecho krpc2", forward_offset=FORWARD_OFFSET,
                 boot_name=f"hotplug: a {CPUS}-CPU guest boots", title="hotplug guest")


def step(g, long=False, needs=("build",)):
    """The campaign as a step of a harness.Plan, in G (see guest)."""
    def campaign(res):
        with HostLoad(g) as load:
            log = os.path.join(g.logs, "ksf-hotplug.log")
            ok, out, secs = g.exec(f"ksf-hotplug {TRANSITIONS[long]}", log, timeout=3000)
        m = re.search(r"^ksf-hotplug (.*)$", out, re.M)
        fig = dict(re.findall(r"(\w+)=(\d+)", m.group(1))) if m else {}
        ok = ok and load.failed == 0 and load.runs > 0
        res.record(f"hotplug: {fig.get('transitions', '?')} CPU transitions under load, "
                   f"workers bound and unbound ({fig.get('runs', '?')} guest and "
                   f"{load.runs} host load runs, {int(fig.get('failed', 0)) + load.failed} "
                   f"failed, {fig.get('seconds', '?')} s)", ok,
                   out + "".join(load.failures[:3]), log)
        log = os.path.join(g.logs, "rmmod.log")
        ok, out, _ = g.exec("rmmod krpc2 && rmmod kecho && "
                            "! grep -qE '^(kecho|krpc2) ' /proc/modules", log, timeout=600)
        res.record("hotplug: both services unload afterwards", ok, out, log)
        g.kmemleak(res)
    return Step("hotplug", f"{TRANSITIONS[long]} CPU transitions under load", campaign,
                os.path.join(g.logs, "*.log"), needs, g)


def main(argv):
    ap = argparse.ArgumentParser(prog="hotplug.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--long", action="store_true", help="100 transitions")
    Plan.add_arguments(ap)
    args = ap.parse_args(argv)
    logs = os.path.join(BUILD, "hotplug")
    steps = [Step("build", "the debug kernel, modules, tools and initramfs",
                  lambda res: build(res, "debug", logs), os.path.join(logs, "build-*.log"),
                  builds=True),
             step(guest(logs), args.long)]
    return Plan("hotplug.py", logs, steps).main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
