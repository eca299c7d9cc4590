# SPDX-License-Identifier: GPL-2.0
"""fuzz: mutated traffic (tools/ksfstress fuzz) against a service, with a
good client and the real clients after every batch."""

import os
import shlex

from harness import BUILD, TOP, run

from .common import SERVICES, export_args, summary_of

KSFSTRESS = os.path.join(BUILD, "bin", "ksfstress")

# The largest echo message fuzzed from the host (see fuzz()).
HOST_MAX_MESSAGE = 16384


def clients(name, bin_dir, port):
    """The real clients run at every check, every reply checked: rpcinfo
    and rpctest (krpc2) or echotest (kecho), from BIN_DIR ("" for the
    guest's PATH), against PORT."""
    tool = "rpctest" if SERVICES[name][1] == "rpc" else "echotest"
    good = f"{bin_dir}{tool} -H -i 1 -c 500 -j 2 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"
    if tool == "echotest":
        return [good]
    return [f"rpcinfo -a 127.0.0.1.{port >> 8}.{port & 255} -T tcp 100003 3 >/dev/null", good]


def fuzz(c, name, where="host", records=None, leak_scans=True, export=False):
    """Mutated traffic from the host through the forwarded port, or from
    inside the guest over loopback (faster, and strict: QEMU's user
    networking turns the guest's resets into ends of stream, so from the
    host replies lost to a reset cannot be told from replies lost by the
    server). LEAK_SCANS: a kmemleak scan at every check (a kernel with
    kmemleak). EXPORT: krpc2 is loaded with common.EXPORT; half the
    records are then NFSv3 calls with hostile arguments, and the good
    client writes and reads back a file."""
    port, proto, _ = SERVICES[name]
    p = c.p
    records = records or (p["records"] if where == "host" else p["guest_records"])
    args = ["fuzz", "--proto", proto, "--records", str(records),
            "--batch", str(min(p["batch"], records)), "--conns", str(p["fuzz_conns"]),
            "--timeout", "30000", *(export_args() if export else [])]
    log = c.log(name, f"fuzz-{where}")
    if where == "host":
        g = c.guest
        scan = (f"python3 {shlex.quote(os.path.join(TOP, 'tools/scripts/console_scan.py'))} "
                f"{shlex.quote(g.console)}")
        checks = [*clients(name, shlex.quote(os.path.join(BUILD, "bin")) + "/", g.port(port)),
                  scan]
        if leak_scans:
            checks.append(shlex.join(g.ksfvm("exec", "--timeout", "120", "--", "ksf-kmemleak")))
        # A stalled connection's report: the guest's view of the service's
        # sockets and tasks (tools/vm/ksf-sockstate).
        stall = shlex.join(g.ksfvm("exec", "--timeout", "30", "--", f"ksf-sockstate {port} {name}"))
        if proto == "echo":
            # QEMU user networking moves a few hundred KB/s: messages of
            # up to 16 KiB from the host (2,000 of up to 512 KiB took four
            # minutes); the guest's run keeps the large ones.
            args += ["--max-message", str(HOST_MAX_MESSAGE)]
        cmd = [KSFSTRESS, *args, "--lossy-close", "--check-cmd", " && ".join(checks),
               "--stall-cmd", stall, f"127.0.0.1:{g.port(port)}"]
        ok, out, secs = run(cmd, log, timeout=6 * 3600)
    else:
        checks = clients(name, "", port) + (["ksf-kmemleak"] if leak_scans else [])
        args += ["--check-cmd", shlex.quote(" && ".join(checks))]
        ok, out, secs = c.vm(" ".join(["ulimit -n 65536; ksfstress", *args, f"127.0.0.1:{port}"]),
                             log, timeout=6 * 3600)
    s = summary_of(out)
    nfs = ""
    if export:
        nfs = (f" ({s.get('nfs_records', '?')} NFSv3: {s.get('nfs_garbage_args', '?')} "
               f"GARBAGE_ARGS, {s.get('nfs_ok', '?')} NFS3_OK, {s.get('nfs_errors', '?')} "
               f"NFS3ERR)")
    figures = (f"{s.get('records', '?')} mutated records{nfs}, {s.get('conns', '?')} "
               f"connections, {s.get('good_checks', '?')} checks, seed {s.get('seed', '?')}")
    if not ok:
        # Why the service may have closed a connection on its own: a
        # finding is read against these.
        st = c.guest.stats(name)
        out += "\nservice counters: " + " ".join(
            f"{k}={st.get(k, '?')}" for k in ("accepted", "closed", "errors", "evicted", "shed",
                                               "timeout_idle", "timeout_request",
                                               "nomem_closed", "nomem_retried"))
    c.record(f"fuzz ({where})", name, figures, ok, out, secs, log)
