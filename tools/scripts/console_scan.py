# SPDX-License-Identifier: GPL-2.0
"""Find kernel error reports in a guest console log.

A clean run of ksf prints none of these; any hit fails `make check`.
"""

import re
import sys

# Each pattern names a class of report. Lockdep splats, WARN_ON and most
# sanitizers start with "WARNING:" or "BUG:"; the rest have their own words.
PATTERNS = [
    ("BUG", re.compile(r"\bBUG: ")),
    ("Oops", re.compile(r"\bOops\b")),
    ("WARNING", re.compile(r"\bWARNING: ")),
    ("KASAN", re.compile(r"\bKASAN\b(?!: (KernelAddressSanitizer initialized|shadow))")),
    ("lockdep", re.compile(r"possible (circular|recursive) locking|inconsistent lock state|"
                           r"lock held when returning|bad unlock balance")),
    ("kmemleak", re.compile(r"kmemleak: \d+ new suspected memory leaks|unreferenced object 0x")),
    ("panic", re.compile(r"Kernel panic|general protection fault")),
    ("hang", re.compile(r"blocked for more than \d+ seconds|soft lockup|rcu: INFO: rcu_\w+ "
                        r"(self-)?detected stall")),
    ("debugobjects", re.compile(r"\bODEBUG: ")),
    ("refcount", re.compile(r"refcount_t: ")),
    ("list corruption", re.compile(r"list_(add|del) corruption")),
    ("UBSAN", re.compile(r"\bUBSAN: ")),
    # A Rust panic (a failed assertion, an overflow) prints this, then BUG().
    ("Rust panic", re.compile(r"\bpanicked at \S+:\d+|kernel BUG at ")),
]


def scan(text):
    """Returns [(kind, line)] for every reporting line in TEXT."""
    hits = []
    for line in text.splitlines():
        for kind, pat in PATTERNS:
            if pat.search(line):
                hits.append((kind, line.strip()))
                break
    return hits


def _selftest():
    """Samples of real reports (and of clean lines that look close)."""
    bad = {
        "WARNING": "[   12.3] WARNING: CPU: 1 PID: 77 at ksf_test.rs:10 ksf_warn_on+0x1d/0x30 [ksf_test]",
        "BUG": "[    5.1] BUG: KASAN: slab-use-after-free in ksf_conn_put+0x4/0x20",
        "lockdep": "[    7.0] WARNING: possible circular locking dependency detected",
        "kmemleak": "[   40.2] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
        "Oops": "[    9.9] Oops: general protection fault, probably for non-canonical address",
        "hang": "[  130.1] INFO: task kworker/0:1:12 blocked for more than 60 seconds.",
        "UBSAN": "[   20.0] UBSAN: shift-out-of-bounds in net/ipv4/tcp.c:123:4",
        "Rust panic": "[   21.0] rust_kernel: panicked at rust/ksf/svc/conn.rs:88:9:",
        "kernel BUG": "[   21.0] ------------[ cut here ]------------ kernel BUG at rust/kernel/lib.rs:204!",
    }
    clean = [
        "[    0.0] KASAN: KernelAddressSanitizer initialized (generic)",
        "[    1.0] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)",
        "[    2.0]     ok 1 mark_round_trip",
        "[    3.0] ksf-init: guest ready",
    ]
    for kind, line in bad.items():
        hits = scan(line)
        assert hits, f"missed a {kind} report: {line}"
    for line in clean:
        assert not scan(line), f"false report on: {line}"


def main(argv):
    """console_scan.py: the self-test; console_scan.py FILE: scan FILE,
    print every report, exit 1 if there is one (2 if FILE is unreadable)."""
    if not argv:
        _selftest()
        print("console_scan: self-test ok")
        return 0
    if argv[0] in ("-h", "--help") or len(argv) > 1:
        print("usage: console_scan.py [CONSOLE_LOG]", file=sys.stderr)
        return 0 if argv[0] in ("-h", "--help") else 2
    try:
        with open(argv[0], "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError as e:
        print(f"console_scan: {e}", file=sys.stderr)
        return 2
    hits = scan(text)
    for kind, line in hits:
        print(f"{kind}: {line}")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
