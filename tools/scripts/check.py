#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make check: ksf's whole test suite, as a list of steps (tools/scripts/harness).

  host         the shared codecs' and tools' tests (cargo test), rustfmt, the
               console scanner's and make bench's self-tests, that every file
               the scripts name is tracked (tools/scripts/tracked.py)
  lint         clippy on the tools, checkpatch, shellcheck (tools/scripts/lint.py)
  fuzz         codec fuzzing on the host (tools/scripts/fuzz.sh)
  build        the debug kernel (cached), the modules (with clippy, whose
               warnings fail a test of their own), the tools, the initramfs
  kunit        (debug guest) every KUnit suite of every *_test.ko, parsed with
               the kernel's kunit.py
  e2e          (debug guest) every script in tests/e2e
  stress-krpc2, stress-kecho, faults, stress-smc, flood-knfsd
               (debug guest) the short form of make stress (tools/scripts/campaigns;
               stress-smc: the campaigns over SMC-D, campaigns/smc.py)
  kmemleak     (debug guest) a final kmemleak scan; then the guest stops and its
               whole console is scanned for kernel error reports (BUG, Oops,
               WARNING, KASAN, UBSAN, lockdep, kmemleak, hangs)
  lan          (two debug guests on the lan of ksfvm.py --lan) krpc2 and kecho
               in one, rpctest, rpcinfo, echotest and socat in the other
               across 10.9.0.1; the server's lan NIC counts the frames
  hotplug      CPUs taken offline and online under load in a four-CPU guest
               (tools/scripts/hotplug.py)

  check.py [--list] [--only PATTERN] [--no-build]     (make check ARGS='...')

Each step is announced with its log before it runs; each test prints PASS
or FAIL on its own line; the last line is "N passed, N failed", and the
exit status is nonzero on any failure. Logs are under build/check/.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotplug  # noqa: E402
import lint  # noqa: E402
from campaigns.steps import Stress  # noqa: E402
from harness import (BUILD, TOP, Guest, Plan, Step, build, kernel_dir, lan_port, run,  # noqa: E402
                     running_together)

LOGS = os.path.join(BUILD, "check")
FLAVOR = "debug"


def host_tests(res):
    """cargo test (each test one result), rustfmt, the console scanner's,
    make bench's and the tracked-files check's self-tests, the
    tracked-files check."""
    log = os.path.join(LOGS, "host-cargo-test.log")
    ok, out, _ = run(["cargo", "test", "--workspace", "--no-fail-fast",
                      "--target-dir", os.path.join(BUILD, "target")], log)
    seen = 0
    for m in re.finditer(r"^test (.+?) \.\.\. (ok|FAILED|ignored)$", out, re.M):
        name, status = m.group(1), m.group(2)
        if status == "ignored":
            continue
        seen += 1
        res.record(f"host: {name}", status == "ok", log=log)
    if not ok and seen == 0:
        res.record("host: cargo test (did not build)", False, out, log)
    elif not ok and not res.failed:
        res.record("host: cargo test", False, out, log)

    files = subprocess.run(["git", "ls-files", "*.rs"], cwd=TOP, capture_output=True,
                           text=True).stdout.split()
    scripts = os.path.join(TOP, "tools", "scripts")
    tracked = os.path.join(scripts, "tracked.py")
    for name, cmd, logname in (
            ("host: rustfmt --check", ["/usr/bin/rustfmt", "--check", "--edition", "2021", *files],
             "host-rustfmt"),
            ("host: console scanner self-test",
             [sys.executable, os.path.join(scripts, "console_scan.py")], "host-console-scan"),
            ("host: make bench self-test",
             [sys.executable, os.path.join(scripts, "bench.py"), "--self-test"],
             "host-bench-self-test"),
            # What a clean clone would lack: files the scripts name that git
            # does not track (tools/scripts/tracked.py).
            ("host: tracked-files check self-test", [sys.executable, tracked, "--test"],
             "host-tracked-test"),
            ("host: every file the scripts name is tracked", [sys.executable, tracked],
             "host-tracked")):
        if cmd[0].endswith("rustfmt") and not files:
            continue
        log = os.path.join(LOGS, f"{logname}.log")
        ok, out, _ = run(cmd, log)
        res.record(name, ok, out, log)


def fuzz(res):
    """Codec fuzzing on the host (tools/scripts/fuzz.sh, 20 s per target;
    FUZZ_SECONDS in the environment for longer)."""
    log = os.path.join(LOGS, "host-fuzz.log")
    ok, out, _ = run([os.path.join(TOP, "tools", "scripts", "fuzz.sh")], log, timeout=1800)
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(PASS|FAIL) (fuzz: .*)$", line)
        if not m:
            continue
        detail = []
        for more in lines[i + 1:]:
            if not more.startswith("     | "):
                break
            detail.append(more[7:])
        res.record(f"host: {m.group(2)}", m.group(1) == "PASS", "\n".join(detail), log)
    if not ok and not any(line.startswith("FAIL ") for line in lines):
        res.record("host: fuzz.sh", False, out, log)


def build_debug(res):
    """The debug kernel, modules, tools and initramfs; the modules' clippy
    warnings. False if something was not built."""
    if not build(res, FLAVOR, LOGS):
        return False
    lint.record_modules(res, os.path.join(BUILD, "modules", FLAVOR, "build.log"), LOGS)
    return True


def kunit_results(tree, prefix=""):
    """Yields (name, status) for every leaf test in kunit.py's JSON."""
    name = tree.get("name", "")
    path = f"{prefix}.{name}" if prefix and name else (name or prefix)
    for case in tree.get("test_cases", []):
        yield f"{path}.{case['name']}" if path else case["name"], case["status"]
    for group in tree.get("sub_groups", []):
        yield from kunit_results(group, path)


def kunit(res, guest):
    """Every *_test.ko loaded in GUEST; each KUnit case one result."""
    # The kernel tree's own KTAP parser (O= builds link "source" to the tree).
    kunit_py = os.path.join(kernel_dir(FLAVOR), "source", "tools", "testing", "kunit", "kunit.py")
    for ko in sorted(glob.glob(os.path.join(BUILD, "modules", FLAVOR, "ko", "*_test.ko"))):
        mod = os.path.basename(ko)[:-3]
        ktap = os.path.join(LOGS, f"kunit-{mod}.ktap")
        ok, out, _ = guest.exec(f"dmesg -c >/dev/null; insmod /lib/modules/ksf/{mod}.ko; rc=$?; "
                                f"dmesg; rmmod {mod}; exit $rc", ktap, timeout=600)
        if not ok:
            res.record(f"kunit: insmod {mod}", False, out, ktap)
            continue
        js = os.path.join(LOGS, f"kunit-{mod}.json")
        plog = os.path.join(LOGS, f"kunit-{mod}.parse.log")
        pok, pout, _ = run([sys.executable, kunit_py, "parse", f"--json={js}", ktap], plog)
        try:
            with open(js) as f:
                tree = json.load(f)
        except (OSError, ValueError):
            res.record(f"kunit: {mod} (results did not parse)", False, pout, plog)
            continue
        # The root is kunit.py's own group; suites are its children.
        cases = [c for g in tree.get("sub_groups", []) for c in kunit_results(g)]
        if not cases:
            res.record(f"kunit: {mod} (no results)", False, out, ktap)
        for name, status in cases:
            if status == "SKIP":
                continue
            res.record(f"kunit: {name}", status == "PASS", pout if status != "PASS" else "", plog)


def e2e(res, guest):
    """Every numbered script in tests/e2e, on the host, against GUEST."""
    env = dict(os.environ, KSF_TOP=TOP, KSF_BUILD=BUILD, KSF_VM_DIR=guest.vmdir,
               KSF_BIN=os.path.join(BUILD, "bin"), PATH=os.path.join(BUILD, "bin") + ":" +
               os.environ.get("PATH", ""))
    for script in sorted(glob.glob(os.path.join(TOP, "tests", "e2e", "[0-9][0-9]-*.sh"))):
        name = os.path.basename(script)[:-3]
        log = os.path.join(LOGS, f"e2e-{name}.log")
        ok, out, secs = run(["sh", script], log, timeout=1200, env=env)
        res.record(f"e2e: {name} ({secs:.0f} s)", ok, out, log)


# (what, guest, command): the lan step's commands, in order; "server" runs
# in the server guest (10.9.0.1), "client" in the client guest. The
# server's lan NIC (/run/ksf-lan) counts received frames and its receive
# queue's interrupts before and after, in /tmp/lan.before and /tmp/lan.after.
LAN_NIC = ("nic=$(cat /run/ksf-lan) && echo $(cat /sys/class/net/$nic/statistics/rx_packets) "
           "$(awk -v q=\"$(basename $(readlink /sys/class/net/$nic/device))-input.0\" "
           "'$NF == q {s = 0; for (i = 2; i < NF - 2; i++) s += $i; print s}' /proc/interrupts)")
LAN_STEPS = [
    ("insmod krpc2 and kecho", "server",
     "insmod /lib/modules/ksf/krpc2.ko && insmod /lib/modules/ksf/kecho.ko && "
     f"{LAN_NIC} >/tmp/lan.before && cat /tmp/lan.before"),
    ("ping 10.9.0.1", "client", "ping -c 3 -W 10 10.9.0.1"),
    ("rpctest -a1 and -a16", "client",
     "rpctest -H -i 1 -c 200 10.9.0.1 && rpctest -H -i 1 -c 2000 -a 16 10.9.0.1"),
    ("rpcinfo", "client",
     "rpcinfo -a 10.9.0.1.242.97 -T tcp 100003 3 | tee /dev/stderr | "
     "grep -q 'program 100003 version 3 ready and waiting'"),
    ("echotest 64 B -a16 and 16 KiB -a4", "client",
     "echotest -H -i 1 -c 1000 -a 16 10.9.0.1 && echotest -H -i 1 -c 50 -a 4 -l 16384 10.9.0.1"),
    ("socat: 256 KiB echoed byte for byte", "client",
     "head -c 262144 /dev/urandom >/tmp/in && socat -t 10 - TCP:10.9.0.1:60007 </tmp/in >/tmp/out"
     " && cmp /tmp/in /tmp/out"),
    # rpctest and echotest make 3,250 round trips, at least a frame each;
    # the frames of the TCP handshakes, the ACKs and socat's come on top.
    ("the lan NIC received the frames, with interrupts", "server",
     f"{LAN_NIC} >/tmp/lan.after && set -- $(cat /tmp/lan.before /tmp/lan.after) && "
     "echo \"frames $(($3 - $1)), interrupts $(($4 - $2))\" && [ $(($3 - $1)) -ge 3250 ] && "
     "[ $(($4 - $2)) -gt 0 ]"),
    ("rmmod krpc2 and kecho", "server", "rmmod krpc2 && rmmod kecho"),
]


def lan(res):
    """Two debug guests on the lan (booted at once, no host port
    forwards): the server guest serves krpc2 and kecho on 10.9.0.1, the
    client guest's rpctest, rpcinfo, echotest and socat use them; the
    server's lan NIC must have received the frames."""
    logs = os.path.join(LOGS, "lan")
    port = lan_port()
    guests = {role: Guest(os.path.join(BUILD, f"vm-lan-{role}"), FLAVOR, os.path.join(logs, role),
                          label=f"lan {role}", smp=2 if role == "server" else 1,
                          forward_offset=-1, lan=role, lan_port=port, title=f"lan {role} guest")
              for role in ("server", "client")}
    with running_together(res, guests["server"], guests["client"]) as up:
        if not up:
            return
        for what, role, cmd in LAN_STEPS:
            log = os.path.join(logs, re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-") + ".log")
            ok, out, secs = guests[role].exec(cmd, log, timeout=300)
            res.record(f"lan: {what} ({secs:.0f} s)", ok, out, log)
            if not ok and role == "server" and what.startswith("insmod"):
                return


def plan():
    """The steps of make check."""
    # The e2e tests reach the guest on the service ports themselves.
    guest = Guest(os.path.join(BUILD, "vm"), FLAVOR, LOGS, forward_offset=0)
    stress = Stress(guest, os.path.join(LOGS, "stress"))
    needs = ("build",)
    steps = [
        Step("host", "cargo test, rustfmt, the scanner's and tracked-files checks", host_tests,
             os.path.join(LOGS, "host-*.log")),
        Step("lint", "clippy (tools), checkpatch, shellcheck",
             lambda res: lint.record_host(res, LOGS), os.path.join(LOGS, "host-*.log")),
        Step("fuzz", "libFuzzer on the codecs", fuzz, os.path.join(LOGS, "host-fuzz.log")),
        Step("build", f"the {FLAVOR} kernel, modules (clippy), tools, initramfs", build_debug,
             os.path.join(LOGS, f"build-*-{FLAVOR}.log"), builds=True),
        Step("kunit", "KUnit suites of every *_test.ko", lambda res: kunit(res, guest),
             os.path.join(LOGS, "kunit-*.ktap"), needs, guest),
        Step("e2e", "tests/e2e/*.sh against the guest", lambda res: e2e(res, guest),
             os.path.join(LOGS, "e2e-*.log"), needs, guest),
        *stress.steps(needs),
        Step("kmemleak", "a last kmemleak scan", lambda res: guest.kmemleak(res),
             os.path.join(LOGS, "kmemleak.log"), needs, guest),
        Step("lan", "two debug guests on the lan: RPC and echo across 10.9.0.1", lan,
             os.path.join(LOGS, "lan", "*.log"), needs),
        hotplug.step(hotplug.guest(os.path.join(LOGS, "hotplug")), needs=needs),
    ]
    return Plan("check", LOGS, steps, epilogue=stress.table.print)


def main(argv):
    ap = argparse.ArgumentParser(prog="check.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    Plan.add_arguments(ap)
    return plan().main(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
