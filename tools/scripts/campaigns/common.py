# SPDX-License-Identifier: GPL-2.0
"""What the campaigns share: the services, the sizes of the short and
long forms, the summary table, and Campaigns, the context each campaign
runs in (its guest, results, table and logs)."""

import os
import re
import time

# name: (port, ksfstress --proto, load generator for unloads)
SERVICES = {
    "krpc2": (62049, "rpc", "rpctest -H -i 1 -c 100M -j 8 -a 4 -t 20000 127.0.0.1"),
    "kecho": (60007, "echo", "echotest -H -i 1 -c 100M -j 8 -a 4 -t 20000 127.0.0.1"),
}

# krpc2's NFSv3 export for the fuzz campaigns (samples/krpc2/params.c):
# 4 files of 64 KiB, READs and WRITEs of up to 64 KiB. ksfstress gets the
# same shape (--files, --file-size, --max-io) for its model and its good
# client, which writes and reads back the last file after every batch.
EXPORT = dict(files=4, file_size=65536, max_io=65536)


def export_params():
    """krpc2's module parameters for EXPORT."""
    return " ".join([*(f"{k}={v}" for k, v in EXPORT.items()), "vers_min=3", "vers_max=3"])


def export_args():
    """ksfstress's options for EXPORT."""
    return [a for k, v in EXPORT.items() for a in (f"--{k.replace('_', '-')}", str(v))]


# The short form's timeouts for slowloris and idle (the long form uses the
# defaults: idle_timeout 360 s, request_timeout 30 s).
SHORT_TIMEOUTS = dict(idle_timeout=6, request_timeout=4)

# The short flood is small: the debug kernel under TCG (KASAN, kmemleak,
# lockdep) accepts 20 to 25 connections a second on these 2-core machines
# (1,000 attempts took 42 s, and krpc2's flood, slowloris and two idle
# campaigns 151 s). Idle peers after a valid call only in the long form.
# Each size of the short and of the long form, side by side.
FORMS = {
    "records": (2000, 10000),           # mutated records from the host
    "guest_records": (1000, 100000),    # ... and in the guest
    "batch": (1000, 5000),
    "fuzz_conns": (8, 16),
    "hold": (1000, 1000),
    "churn": (1000, 10000),
    "reset": (200, 2000),
    "halfclose": (200, 2000),
    "noread_conns": (16, 64),
    "noread_secs": (5, 30),
    "unloads": (5, 50),
    "flood_attempts": (600, 5000),
    "flood_procs": (2, 8),
    "flood_hold": (3, 30),
    "flood_limit": (100, 500),          # the max_conns of the second flood
    "slow_conns": (32, 256),
    "idle_conns": (32, 256),
    "idle_valid_first": (False, True),
    "timeouts": (SHORT_TIMEOUTS, None),  # None: the module's defaults
}
SHORT = {k: short for k, (short, _) in FORMS.items()}
LONG = {k: long for k, (_, long) in FORMS.items()}


def summary_of(out):
    """The key=value pairs of ksfstress's summary line."""
    return kv(out, "ksfstress ")


def kv(out, prefix):
    """The key=value pairs of the last line of OUT that starts with PREFIX."""
    for line in reversed(out.splitlines()):
        if line.startswith(prefix):
            return dict(re.findall(r"(\w+)=(\S+)", line))
    return {}


class Table:
    """The summary: one row per campaign."""

    def __init__(self):
        self.rows = []

    def add(self, campaign, service, figures, ok, secs):
        self.rows.append((campaign, service, figures, "ok" if ok else "FINDING", f"{secs:.0f} s"))

    def print(self):
        if not self.rows:
            return
        head = ("campaign", "service", "what was tried", "result", "time")
        widths = [max(len(str(r[i])) for r in [head, *self.rows]) for i in range(5)]
        print()
        for r in [head, *self.rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        print(flush=True)


class Campaigns:
    """The context of the campaigns: RES (Results), TABLE, P (SHORT or
    LONG, maybe changed), LOGS, and GUEST (harness.Guest) they run in."""

    def __init__(self, res, table, p, logs, guest):
        self.res, self.table, self.p, self.logs, self.guest = res, table, p, logs, guest
        # The floods' figures per service (and knfsd), for the comparison.
        self.figures = {}
        os.makedirs(logs, exist_ok=True)

    def record(self, campaign, service, figures, ok, out, secs, log=None):
        self.res.record(f"stress: {service} {campaign} ({figures})", ok, out, log)
        self.table.add(campaign, service, figures, ok, secs)

    def log(self, service, campaign):
        return os.path.join(self.logs, f"{service}-{re.sub(r'[^a-z0-9]+', '-', campaign)}.log")

    def vm(self, cmd, log, timeout=1800):
        """CMD in the guest, output to LOG: (ok, output, seconds)."""
        return self.guest.exec(cmd, log, timeout)

    def load(self, name, args=""):
        """(Re)loads NAME fresh, so its counters cover one campaign."""
        ok, out, _ = self.vm(f"rmmod {name} 2>/dev/null; insmod /lib/modules/ksf/{name}.ko {args}",
                             self.log(name, "insmod"), timeout=120)
        return ok, out

    def drained(self, name, secs=60):
        """Waits up to SECS until NAME holds no connection and no memory
        for one; its statistics then."""
        end = time.monotonic() + secs
        st = self.guest.stats(name)
        while (st.get("active") or st.get("conn_mem")) and time.monotonic() < end:
            time.sleep(2)
            st = self.guest.stats(name)
        return st
