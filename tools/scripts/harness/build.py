# SPDX-License-Identifier: GPL-2.0
"""The guest's kernel, modules, tools and initramfs of a flavor (fast or
debug), built with make (the kernel is cached under ~/.cache/ksf)."""

import os
import subprocess

from .proc import BUILD, TOP, run

TARGETS = (("kernel", 3600), ("modules", 1200), ("tools", 1200), ("initramfs", 600))


def kernel_dir(flavor):
    """The kernel build directory of FLAVOR (tools/scripts/kernel.sh dir)."""
    return subprocess.run([os.path.join(TOP, "tools", "scripts", "kernel.sh"), "dir", flavor],
                          capture_output=True, text=True, check=True).stdout.strip()


def initramfs(flavor):
    return os.path.join(BUILD, "vm", f"initramfs-{flavor}.cpio")


def missing(flavor):
    """What a guest of FLAVOR needs and is not built."""
    need = [os.path.join(kernel_dir(flavor), "bzImage"), initramfs(flavor)]
    return [p for p in need if not os.path.isfile(p)]


def build(res, flavor, logs):
    """make kernel, modules (with clippy: KSF_CLIPPY=1), tools, initramfs
    for FLAVOR, one result each, logs build-TARGET-FLAVOR.log in LOGS;
    stops at the first failure. True if all were built."""
    env = dict(os.environ, FLAVOR=flavor, KSF_CLIPPY="1")
    env.pop("KDIR", None)  # the modules must match the kernel booted
    for target, timeout in TARGETS:
        log = os.path.join(logs, f"build-{target}-{flavor}.log")
        ok, out, secs = run(["make", "-s", target, f"FLAVOR={flavor}"], log, timeout=timeout,
                            env=env)
        res.record(f"build: {target} ({flavor}, {secs:.0f} s)", ok, out, log)
        if not ok:
            return False
    return True
