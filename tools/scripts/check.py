#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make check: ksf's whole test suite.

1. host: the shared codecs' and tools' tests (cargo test), rustfmt, the
   console scanner's self-test, that every file the scripts name is
   tracked (tools/scripts/tracked.py), the lints (tools/scripts/lint.py:
   clippy on the tools, checkpatch, shellcheck), codec fuzzing
   (tools/scripts/fuzz.sh);
2. build: the debug kernel (cached), the modules (with clippy, whose
   warnings fail a test of their own), the tools, the initramfs;
3. guest (debug kernel under QEMU): every KUnit suite of every *_test.ko,
   parsed with the kernel's kunit.py; every script in tests/e2e; the short
   form of make stress (tools/scripts/stress.py); a final kmemleak scan; then the whole console is scanned for kernel error
   reports (BUG, Oops, WARNING, KASAN, UBSAN, lockdep, kmemleak, hangs);
4. hotplug: CPUs taken offline and online under load in a four-CPU guest
   (tools/scripts/hotplug.py).

Each test prints PASS or FAIL on its own line; the last line is
"N passed, N failed", and the exit status is nonzero on any failure.
Logs are under build/check/.
"""

import glob
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, "build")
LOGS = os.path.join(BUILD, "check")
VMDIR = os.path.join(BUILD, "vm")
FLAVOR = "debug"
sys.path.insert(0, os.path.join(TOP, "tools", "scripts"))
import console_scan  # noqa: E402
import lint  # noqa: E402


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def record(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed.append(name)
            print(f"FAIL {name}", flush=True)
            for line in detail.rstrip().splitlines()[-40:]:
                print(f"     | {line}", flush=True)

    def summary(self):
        if self.failed:
            print("\nfailed:\n" + "\n".join(f"  {n}" for n in self.failed))
        print(f"{self.passed} passed, {len(self.failed)} failed", flush=True)
        return 1 if self.failed else 0


def run(cmd, log, timeout=None, env=None, **kw):
    """Runs CMD with output to LOG; returns (ok, output)."""
    t0 = time.monotonic()
    with open(log, "wb") as f:
        try:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=TOP,
                               timeout=timeout, env=env, **kw)
            ok = r.returncode == 0
        except subprocess.TimeoutExpired:
            f.write(f"\n(timed out after {timeout} s)\n".encode())
            ok = False
    with open(log, "rb") as f:
        out = f.read().decode(errors="replace")
    return ok, out, time.monotonic() - t0


def ksfvm(*args):
    return [sys.executable, os.path.join(TOP, "tools", "vm", "ksfvm.py"), "--dir", VMDIR, *args]


def host_tests(res):
    ok, out, _ = run(["cargo", "test", "--workspace", "--no-fail-fast",
                      "--target-dir", os.path.join(BUILD, "target")],
                     os.path.join(LOGS, "host-cargo-test.log"))
    seen = 0
    for m in re.finditer(r"^test (.+?) \.\.\. (ok|FAILED|ignored)$", out, re.M):
        name, status = m.group(1), m.group(2)
        if status == "ignored":
            continue
        seen += 1
        res.record(f"host: {name}", status == "ok")
    if not ok and seen == 0:
        res.record("host: cargo test (did not build)", False, out)
    elif not ok and not res.failed:
        res.record("host: cargo test", False, out)

    files = subprocess.run(["git", "ls-files", "*.rs"], cwd=TOP, capture_output=True,
                           text=True).stdout.split()
    if files:
        ok, out, _ = run(["/usr/bin/rustfmt", "--check", "--edition", "2021", *files],
                         os.path.join(LOGS, "host-rustfmt.log"))
        res.record("host: rustfmt --check", ok, out)
    ok, out, _ = run([sys.executable, os.path.join(TOP, "tools", "scripts", "console_scan.py")],
                     os.path.join(LOGS, "host-console-scan.log"))
    res.record("host: console scanner self-test", ok, out)
    # What a clean clone would lack: files the scripts name that git does
    # not track (tools/scripts/tracked.py).
    tracked = os.path.join(TOP, "tools", "scripts", "tracked.py")
    ok, out, _ = run([sys.executable, tracked, "--test"], os.path.join(LOGS, "host-tracked-test.log"))
    res.record("host: tracked-files check self-test", ok, out)
    ok, out, _ = run([sys.executable, tracked], os.path.join(LOGS, "host-tracked.log"))
    res.record("host: every file the scripts name is tracked", ok, out)


def fuzz(res):
    """Codec fuzzing on the host (tools/scripts/fuzz.sh, 20 s per target;
    FUZZ_SECONDS in the environment for longer)."""
    ok, out, _ = run([os.path.join(TOP, "tools", "scripts", "fuzz.sh")],
                     os.path.join(LOGS, "host-fuzz.log"), timeout=1800)
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
        res.record(f"host: {m.group(2)}", m.group(1) == "PASS", "\n".join(detail))
    if not ok and not any(line.startswith("FAIL ") for line in lines):
        res.record("host: fuzz.sh", False, out)


def build(res, flavor=FLAVOR):
    env = dict(os.environ, FLAVOR=flavor, KSF_CLIPPY="1")
    env.pop("KDIR", None)
    for target, timeout in (("kernel", 3600), ("modules", 1200), ("tools", 1200),
                            ("initramfs", 600)):
        ok, out, secs = run(["make", "-s", target, f"FLAVOR={flavor}"],
                            os.path.join(LOGS, f"build-{target}-{flavor}.log"), timeout=timeout,
                            env=env)
        res.record(f"build: {target} ({flavor}, {secs:.0f} s)", ok, out)
        if not ok:
            return False
    return True


def kernel_dir(flavor=FLAVOR):
    return subprocess.run([os.path.join(TOP, "tools", "scripts", "kernel.sh"), "dir", flavor],
                          capture_output=True, text=True, check=True).stdout.strip()


def kunit_results(tree, prefix=""):
    """Yields (name, status) for every leaf test in kunit.py's JSON."""
    name = tree.get("name", "")
    path = f"{prefix}.{name}" if prefix and name else (name or prefix)
    for case in tree.get("test_cases", []):
        yield f"{path}.{case['name']}" if path else case["name"], case["status"]
    for group in tree.get("sub_groups", []):
        yield from kunit_results(group, path)


def kunit(res, modules):
    # The kernel tree's own KTAP parser (O= builds link "source" to the tree).
    kunit_py = os.path.join(kernel_dir(), "source", "tools", "testing", "kunit", "kunit.py")
    for ko in modules:
        mod = os.path.basename(ko)[:-3]
        ktap = os.path.join(LOGS, f"kunit-{mod}.ktap")
        ok, out, _ = run(ksfvm("exec", "--timeout", "600", "--",
                               f"dmesg -c >/dev/null; insmod /lib/modules/ksf/{mod}.ko; rc=$?; "
                               f"dmesg; rmmod {mod}; exit $rc"), ktap)
        if not ok:
            res.record(f"kunit: insmod {mod}", False, out)
            continue
        js = os.path.join(LOGS, f"kunit-{mod}.json")
        pok, pout, _ = run([sys.executable, kunit_py, "parse", f"--json={js}", ktap],
                           os.path.join(LOGS, f"kunit-{mod}.parse.log"))
        try:
            with open(js) as f:
                tree = json.load(f)
        except (OSError, ValueError):
            res.record(f"kunit: {mod} (results did not parse)", False, pout)
            continue
        # The root is kunit.py's own group; suites are its children.
        cases = [c for g in tree.get("sub_groups", []) for c in kunit_results(g)]
        if not cases:
            res.record(f"kunit: {mod} (no results)", False, out)
        for name, status in cases:
            if status == "SKIP":
                continue
            res.record(f"kunit: {name}", status == "PASS", pout if status != "PASS" else "")


def e2e(res):
    env = dict(os.environ, KSF_TOP=TOP, KSF_BUILD=BUILD, KSF_VM_DIR=VMDIR,
               KSF_BIN=os.path.join(BUILD, "bin"), PATH=os.path.join(BUILD, "bin") + ":" +
               os.environ.get("PATH", ""))
    for script in sorted(glob.glob(os.path.join(TOP, "tests", "e2e", "[0-9][0-9]-*.sh"))):
        name = os.path.basename(script)[:-3]
        ok, out, secs = run(["sh", script], os.path.join(LOGS, f"e2e-{name}.log"),
                            timeout=1200, env=env)
        res.record(f"e2e: {name} ({secs:.0f} s)", ok, out)


def kmemleak(res, after=""):
    """A kmemleak scan in the guest (tools/vm/ksf-kmemleak) finds nothing;
    AFTER names what it follows, in the result and its log's name."""
    log = "kmemleak" + re.sub(r"[^a-z0-9]+", "-", after.lower()).rstrip("-") + ".log"
    ok, out, _ = run(ksfvm("exec", "--timeout", "300", "--", "ksf-kmemleak"),
                     os.path.join(LOGS, log))
    res.record(f"guest: kmemleak finds no leak{after}", ok, out)


def console_clean(res, what, vmdir):
    """Records whether the console of the guest in VMDIR is free of kernel
    error reports (tools/scripts/console_scan.py); WHAT names the guest."""
    try:
        with open(os.path.join(vmdir, "console.log"), "rb") as f:
            console = f.read().decode(errors="replace")
    except OSError:
        console = ""
    hits = console_scan.scan(console)
    res.record(f"{what}: console has no kernel error report", not hits and bool(console),
               "\n".join(f"{k}: {line}" for k, line in hits) or "(empty console log)")


def main():
    os.makedirs(LOGS, exist_ok=True)
    res = Results()
    print(f"ksf check: logs in {LOGS}", flush=True)
    host_tests(res)
    lint.record_host(res, LOGS)
    fuzz(res)
    if not build(res):
        res.record("guest: skipped, the build failed", False)
        return res.summary()
    lint.record_modules(res, os.path.join(BUILD, "modules", FLAVOR, "build.log"), LOGS)

    subprocess.run(ksfvm("stop"), stdout=subprocess.DEVNULL)
    initrd = os.path.join(VMDIR, f"initramfs-{FLAVOR}.cpio")
    ok, out, secs = run(ksfvm("start", "--kernel", os.path.join(kernel_dir(), "bzImage"),
                              "--initrd", initrd, "--load", ""),
                        os.path.join(LOGS, "vm-start.log"))
    res.record(f"guest: boots ({secs:.0f} s)", ok, out)
    if ok:
        try:
            modules = sorted(glob.glob(os.path.join(BUILD, "modules", FLAVOR, "ko", "*_test.ko")))
            kunit(res, modules)
            e2e(res)
            import stress  # the short form of make stress
            stress.campaigns(res, long=False, logs=os.path.join(LOGS, "stress"))
            kmemleak(res)
        finally:
            subprocess.run(ksfvm("stop"), stdout=subprocess.DEVNULL)
    console_clean(res, "guest", VMDIR)
    import hotplug  # a guest of its own, with four CPUs
    hotplug.campaign(res, long=False, logs=os.path.join(LOGS, "hotplug"))
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
