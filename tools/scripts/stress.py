#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make stress: ksf's reliability campaigns against krpc2 and kecho on the
debug kernel (KASAN, lockdep, kmemleak) in the guest.

For each service:
  fuzz       mutated traffic from the host through the forwarded port
             (tools/ksfstress fuzz), a good client after every batch, plus
             rpcinfo and rpctest (krpc2) or echotest (kecho), a console
             scan and a kmemleak scan at every check;
  hold       1,000 connections held at once, each served;
  churn      connect/close cycles (closing at once, after a call, by reset);
  reset      peers resetting in the middle of a record;
  halfclose  peers that shut down their sending side and must still get
             every reply;
  noread     peers that send and never read, while a good client is served;
             the service's memory (conn_mem_peak in its debugfs stats) must
             stay within its per-connection bound;
  params     bad module parameters refused with EINVAL and a dmesg line;
  unload     insmod/rmmod cycles under load, then a good client;
  flood      an idle connection flood (ksfstress flood) against the module
             loaded with its default parameters, its stats sampled every
             second: conn_mem within mem_max, at most 4 KiB per idle
             connection, memory back to the baseline afterwards, a good
             client served throughout; then again with a max_conns far
             below the flood (accepting pauses, silent connections are
             evicted for waiting ones);
  slowloris  peers sending a record one byte a second (echo: never
             reading), which must be closed by request_timeout;
  idle       peers sending nothing (and, in the long form, peers idle
             after one valid call), which must be closed by idle_timeout.
  faults     allocations failing under the module (tools/scripts/faults.py):
             load at a failure rate and in a 100% burst, then everything
             served, counted and unloadable; insmod with each allocation
             of init failed in turn.
Then the same idle flood against knfsd in the same guest, for comparison;
a kmemleak scan and a scan of the whole console. Then CPU hotplug under
load in a four-CPU guest (tools/scripts/hotplug.py: 10 transitions, 100
in the long form).

  stress.py            the short form, as `make check` runs it
  stress.py --long     the long form (make stress STRESS_LONG=1): every
                       campaign larger (100,000 mutated records in the guest per
                       service, 10,000 churn cycles, 50 unloads...),
                       then 1,000,000 mutated records and a flood of
                       50,000 connection attempts per service (and knfsd)
                       on the fast kernel (the debug kernel takes 50-70
                       records and some 25 connections a second)
  stress.py --volume   only the long form's fast-kernel part
  stress.py --floods   only its floods (50,000 attempts per service, knfsd)
  stress.py --only faults  only the allocation-failure campaigns (with
                       --long, their long form)
Both boot their own guest. STRESS_RECORDS=N sets the number of mutated
records (per service, on the debug kernel) of either form.

Prints PASS/FAIL per campaign, a summary table, and "N passed, N failed";
the exit status is nonzero on any finding. Logs are under build/stress/.
"""

import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402
import console_scan  # noqa: E402
import faults  # noqa: E402

TOP, BUILD, VMDIR = check.TOP, check.BUILD, check.VMDIR
LOGS = os.path.join(BUILD, "stress")
KSFSTRESS = os.path.join(BUILD, "bin", "ksfstress")

# name: (port, ksfstress --proto, load generator for unloads)
SERVICES = {
    "krpc2": (62049, "rpc", "rpctest -H -i 1 -c 100M -j 8 -a 4 -t 20000 127.0.0.1"),
    "kecho": (60007, "echo", "echotest -H -i 1 -c 100M -j 8 -a 4 -t 20000 127.0.0.1"),
}

# Bad parameters of every service, and of one service only.
BAD_PARAMS = ["port=0", "port=70000", "threads_min=0", "threads_min=65", "threads_max=1000",
              "sndbuf=12", "rcvbuf=2000000000", "max_conns=-1", "max_conns=2000000",
              "mem_max=4096", "idle_timeout=-1", "idle_timeout=100000", "request_timeout=-5",
              "backend=threads", "backend=", "affinity=cpu", "affinity=", "addr=bogus"]
BAD_PARAMS_OF = {"krpc2": ["vers_min=1", "vers_max=5", "max_record=10", "max_record=2000000"]}

# Most memory one connection may hold: krpc2's 64 KiB receive, 16 KiB
# reply and max_record (4 KiB) reassembly buffers, kecho's 64 KiB buffer,
# plus ksf's own state: 96 KiB covers both.
CONN_MEM_BOUND = 96 * 1024

# Most memory (conn_mem) one idle connection may hold: no buffers while
# no request is in flight.
IDLE_CONN_MEM_BOUND = 4096

# The short form's timeouts for slowloris and idle (the long form uses the
# defaults: idle_timeout 360 s, request_timeout 30 s), and how late after
# its timeout a peer may be closed: the services' sweeper looks every second,
# and the client in the guest notices a close within a second under TCG.
SHORT_TIMEOUTS = dict(idle_timeout=6, request_timeout=4)
DEFAULT_TIMEOUTS = dict(idle_timeout=360, request_timeout=30)
SWEEP_SLACK = 2
CLIENT_SLACK = 1

# The short flood is small: the debug kernel under TCG (KASAN, kmemleak,
# lockdep) accepts 20 to 25 connections a second on these 2-core machines
# (1,000 attempts took 42 s, and krpc2's flood, slowloris and two idle
# campaigns 151 s). Idle peers after a valid call only in the long form.
SHORT = dict(records=2000, guest_records=1000, batch=1000, fuzz_conns=8, hold=1000, churn=1000, reset=200,
             halfclose=200, noread_conns=16, noread_secs=5, unloads=5,
             flood_attempts=600, flood_procs=2, flood_hold=3, flood_limit=100,
             slow_conns=32, idle_conns=32,
             idle_valid_first=False,
             timeouts=SHORT_TIMEOUTS)
LONG = dict(records=10000, guest_records=100000, batch=5000, fuzz_conns=16, hold=1000, churn=10000, reset=2000,
            halfclose=2000, noread_conns=64, noread_secs=30, unloads=50,
            flood_attempts=5000, flood_procs=8, flood_hold=30, flood_limit=500,
            slow_conns=256, idle_conns=256,
            idle_valid_first=True,
            timeouts=None)


def vm(cmd, log, timeout=1800):
    return check.run(check.ksfvm("exec", "--timeout", str(timeout), "--", cmd), log,
                     timeout=timeout + 60)


def summary_of(out):
    """The key=value pairs of ksfstress's summary line."""
    for line in reversed(out.splitlines()):
        if line.startswith("ksfstress "):
            return dict(re.findall(r"(\w+)=(\S+)", line))
    return {}


def stats(name):
    """The service's debugfs counters, as ints."""
    r = subprocess.run(check.ksfvm("exec", "--", f"cat /sys/kernel/debug/{name}/stats"),
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def meminfo(line):
    """The key=value pairs of a ksf-meminfo line, as ints."""
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


# A guest script that samples the stats of MODULE (if any) and ksf-meminfo
# every second in the background (lines "sample t=S KEY=V..."), runs CMD,
# then prints the samples. The guest agent runs one command at a time, so
# the sampling lives in the same command as the flood.
SAMPLED = """
sampler() {{
	t=0
	while :; do
		s=
		[ -z "{module}" ] || s=$(awk '$1 ~ /^(active|conn_mem|mem_max|max_conns|accepting|evicted|shed|paused|refused)$/ {{ printf "%s=%s ", $1, $2 }}' /sys/kernel/debug/{module}/stats)
		echo "sample t=$t $s$(ksf-meminfo)"
		sleep 1
		t=$((t + 1))
	done
}}
sampler >/tmp/ksf-samples 2>&1 &
sp=$!
{cmd}
rc=$?
kill $sp
wait $sp 2>/dev/null
cat /tmp/ksf-samples
exit $rc
"""

SETTLE = "sync; echo 3 >/proc/sys/vm/drop_caches; sleep 2; ksf-meminfo"


class Table:
    """The summary: one row per campaign."""

    def __init__(self):
        self.rows = []

    def add(self, campaign, service, figures, ok, secs):
        self.rows.append((campaign, service, figures, "ok" if ok else "FINDING", f"{secs:.0f} s"))

    def print(self):
        head = ("campaign", "service", "what was tried", "result", "time")
        widths = [max(len(str(r[i])) for r in [head, *self.rows]) for i in range(5)]
        print()
        for r in [head, *self.rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
        print()


class Campaigns:
    def __init__(self, res, table, p, logs):
        self.res, self.table, self.p, self.logs = res, table, p, logs
        # The floods' figures per service (and knfsd), for the comparison.
        self.figures = {}

    def record(self, campaign, service, figures, ok, out, secs):
        self.res.record(f"stress: {service} {campaign} ({figures})", ok, out)
        self.table.add(campaign, service, figures, ok, secs)

    def log(self, service, campaign):
        return os.path.join(self.logs, f"{service}-{re.sub(r'[^a-z0-9]+', '-', campaign)}.log")

    def load(self, name, args=""):
        """(Re)loads NAME fresh, so its counters cover one campaign."""
        ok, out, _ = vm(f"rmmod {name} 2>/dev/null; insmod /lib/modules/ksf/{name}.ko {args}",
                        self.log(name, "insmod"), timeout=120)
        return ok, out

    def fuzz(self, name, where="host", records=None, leak_scans=True):
        """Mutated traffic from the host through the forwarded port, or
        from inside the guest over loopback (faster, and strict: QEMU's
        user networking turns the guest's resets into ends of stream, so
        from the host replies lost to a reset cannot be told from replies
        lost by the server). LEAK_SCANS: a kmemleak scan at every check
        (a kernel with kmemleak)."""
        port, proto, _ = SERVICES[name]
        p = self.p
        records = records or (p["records"] if where == "host" else p["guest_records"])
        # At every check, besides ksfstress's own good client, the real
        # clients, every reply checked: rpcinfo and rpctest (krpc2) or
        # echotest (kecho), run from BIN_DIR ("" for the guest's PATH).
        tool = "rpctest" if proto == "rpc" else "echotest"

        def clients(bin_dir):
            rpcinfo = f"rpcinfo -a 127.0.0.1.{port >> 8}.{port & 255} -T tcp 100003 3 >/dev/null"
            good = f"{bin_dir}{tool} -H -i 1 -c 500 -j 2 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"
            return [rpcinfo, good] if proto == "rpc" else [good]

        args = ["fuzz", "--proto", proto, "--records", str(records),
                "--batch", str(min(p["batch"], records)), "--conns", str(p["fuzz_conns"]),
                "--timeout", "30000"]
        if where == "host":
            scan = (f"python3 {shlex.quote(os.path.join(TOP, 'tools/scripts/console_scan.py'))} "
                    f"{shlex.quote(os.path.join(VMDIR, 'console.log'))}")
            checks = [*clients(shlex.quote(os.path.join(BUILD, "bin")) + "/"), scan]
            if leak_scans:
                checks.append(shlex.join(check.ksfvm("exec", "--timeout", "120", "--",
                                                     "ksf-kmemleak")))
            # A stalled connection's report: the guest's view of the
            # service's sockets and tasks (tools/vm/ksf-sockstate).
            stall = shlex.join(check.ksfvm("exec", "--timeout", "30", "--",
                                           f"ksf-sockstate {port} {name}"))
            cmd = [KSFSTRESS, *args, "--lossy-close", "--check-cmd", " && ".join(checks),
                   "--stall-cmd", stall, f"127.0.0.1:{port}"]
            ok, out, secs = check.run(cmd, self.log(name, "fuzz-host"), timeout=6 * 3600)
        else:
            checks = clients("") + (["ksf-kmemleak"] if leak_scans else [])
            args += ["--check-cmd", shlex.quote(" && ".join(checks))]
            ok, out, secs = vm(" ".join(["ulimit -n 65536; ksfstress", *args, f"127.0.0.1:{port}"]),
                               self.log(name, f"fuzz-{where}"), timeout=6 * 3600)
        s = summary_of(out)
        figures = (f"{s.get('records', '?')} mutated records, {s.get('conns', '?')} connections, "
                   f"{s.get('good_checks', '?')} checks, seed {s.get('seed', '?')}")
        if not ok:
            # Why the service may have closed a connection on its own: a
            # finding is read against these.
            st = stats(name)
            out += "\nservice counters: " + " ".join(
                f"{k}={st.get(k, '?')}" for k in ("accepted", "closed", "errors", "evicted", "shed",
                                                   "timeout_idle", "timeout_request",
                                                   "nomem_closed", "nomem_retried"))
        self.record(f"fuzz ({where})", name, figures, ok, out, secs)

    def guest(self, name, campaign, args, figures, timeout=1800):
        port, proto, _ = SERVICES[name]
        cmd = (f"ulimit -n 65536; ksfstress {campaign} --proto {proto} {args} "
               f"127.0.0.1:{port}")
        ok, out, secs = vm(cmd, self.log(name, campaign), timeout=timeout)
        self.record(campaign, name, figures(summary_of(out)), ok, out, secs)
        return ok, out

    def noread(self, name):
        p = self.p
        ok, out = self.load(name)
        if not ok:
            return self.record("noread", name, "insmod failed", False, out, 0)
        ok, out = self.guest(
            name, "noread", f"--conns {p['noread_conns']} --secs {p['noread_secs']}",
            lambda s: f"{p['noread_conns']} peers never reading for {p['noread_secs']} s, "
                      f"good client p99 {s.get('rtt_p99_us', '?')} us")
        # The peers are gone: every connection closes, and its memory goes.
        end = time.monotonic() + 60
        st = stats(name)
        while st.get("conn_mem") != 0 and time.monotonic() < end:
            time.sleep(2)
            st = stats(name)
        peak = st.get("conn_mem_peak", -1)
        # The non-readers, the good client's connections, and a few that
        # were closing while others opened.
        bound = (p["noread_conns"] + 8) * CONN_MEM_BOUND
        self.record("memory", name, f"conn_mem_peak {peak} <= {bound} bytes, then 0",
                    0 < peak <= bound and st.get("conn_mem") == 0,
                    f"stats after noread: {st}", 0)

    def params(self, name):
        bad = BAD_PARAMS + BAD_PARAMS_OF.get(name, [])
        script = [f"rmmod {name} 2>/dev/null; dmesg -c >/dev/null; n=0"]
        for b in bad:
            key = b.split("=")[0]
            script.append(
                f"insmod /lib/modules/ksf/{name}.ko {shlex.quote(b)} 2>/tmp/e; rc=$?; "
                f"if [ $rc = 0 ]; then echo 'accepted: {b}'; rmmod {name}; exit 1; fi; "
                f"grep -q 'Invalid argument' /tmp/e || {{ echo 'not EINVAL: {b}'; cat /tmp/e; exit 1; }}; "
                f"dmesg -c | grep -q '{name}: invalid {key}=' || {{ echo 'no dmesg line: {b}'; exit 1; }}; "
                f"n=$((n + 1))")
        script.append(f"insmod /lib/modules/ksf/{name}.ko && echo \"refused $n\"")
        ok, out, secs = vm("\n".join(script), self.log(name, "params"), timeout=600)
        self.record("params", name, f"{len(bad)} bad parameters refused with EINVAL", ok, out,
                    secs)

    def unload(self, name):
        n = self.p["unloads"]
        _, _, load = SERVICES[name]
        good = ("rpctest -H -i 1 -c 2000 -j 2 -a 8 127.0.0.1" if name == "krpc2" else
                "echotest -H -i 1 -c 2000 -j 2 -a 8 127.0.0.1")
        script = f"""
lsmod | grep -q '^{name} ' || insmod /lib/modules/ksf/{name}.ko || exit 1
i=0
while [ $i -lt {n} ]; do
	{load} >/dev/null 2>&1 &
	load=$!
	sleep 1
	rmmod {name} || {{ echo "rmmod {name} failed at cycle $i"; exit 1; }}
	wait $load
	insmod /lib/modules/ksf/{name}.ko || {{ echo "insmod {name} failed at cycle $i"; exit 1; }}
	i=$((i + 1))
done
echo "unloaded under load $i times"
{good}
"""
        ok, out, secs = vm(script, self.log(name, "unload"), timeout=600 + 60 * n)
        self.record("unload", name, f"{n} rmmod/insmod cycles under load", ok, out, secs)

    def console_mark(self):
        try:
            return os.path.getsize(os.path.join(VMDIR, "console.log"))
        except OSError:
            return 0

    def console_since(self, mark):
        """Kernel error reports on the console since MARK."""
        try:
            with open(os.path.join(VMDIR, "console.log"), "rb") as f:
                f.seek(mark)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return console_scan.scan(text)

    def settle(self, name, log):
        """The guest's memory after dropping caches (ksf-meminfo)."""
        ok, out, _ = vm(SETTLE, self.log(name, log), timeout=120)
        lines = [ln for ln in out.splitlines() if "mem_available_kb=" in ln]
        return meminfo(lines[-1]) if ok and lines else {}

    def idle_flood(self, label, port, module, checks):
        """ksfstress flood against PORT (rpc for knfsd and krpc2, echo for
        kecho), sampled every second; (ok, summary, samples, output)."""
        p = self.p
        proto = "echo" if port == SERVICES["kecho"][0] else "rpc"
        cmd = (f"ulimit -n 65536; ksfstress flood --proto {proto} --attempts {p['flood_attempts']} "
               f"--procs {p['flood_procs']} --hold-secs {p['flood_hold']} --timeout 20000 "
               f"--check-cmd {shlex.quote(' && '.join(checks))} 127.0.0.1:{port}")
        script = SAMPLED.format(module=module, cmd=cmd)
        ok, out, secs = vm(script, self.log(label, "flood"), timeout=1800)
        samples = [meminfo(ln) for ln in out.splitlines() if ln.startswith("sample ")]
        return ok, summary_of(out), samples, out, secs

    @staticmethod
    def per_conn(base, samples, key="active"):
        """At the sample holding the most connections: (connections,
        MemAvailable drop per connection in bytes, sockets and both ends
        included). The connections are the service's ``active``, or for
        knfsd (KEY "tcp_inuse") the TCP sockets in use over the baseline:
        /proc/net/sockstat counts one per connection here (1,002 for 995
        active in a krpc2 flood), not one per end, but it also counts the
        connections knfsd is closing, so knfsd's figure is per socket in
        use."""
        if not samples or "mem_available_kb" not in base:
            return 0, 0
        top = max(samples, key=lambda x: x.get(key, 0))
        conns = max(0, top.get(key, 0) - (base.get(key, 0) if key == "tcp_inuse" else 0))
        drop = (base["mem_available_kb"] - top.get("mem_available_kb", 0)) * 1024
        return conns, (drop // conns if conns else 0)

    def good_checks(self, name):
        """The real clients a flood's --check-cmd runs (in the guest)."""
        port, proto, _ = SERVICES[name]
        if proto == "echo":
            return [f"echotest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"]
        return [f"rpcinfo -a 127.0.0.1.{port >> 8}.{port & 255} -T tcp 100003 3 >/dev/null",
                f"rpctest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"]

    def flood(self, name, max_conns=None):
        """The idle flood against NAME loaded with its default parameters,
        or with MAX_CONNS (far below the flood, so that the short form
        takes the limit's path: accepting paused, the oldest silent
        connections evicted for waiting ones, a good client served)."""
        p = self.p
        label = "flood" if max_conns is None else f"flood past max_conns={max_conns}"
        ok, out = self.load(name, "" if max_conns is None else f"max_conns={max_conns}")
        if not ok:
            return self.record(label, name, "insmod failed", False, out, 0)
        mark = self.console_mark()
        base = self.settle(name, "flood-baseline")
        ok, s, samples, out, secs = self.idle_flood(name, SERVICES[name][0], name,
                                                    self.good_checks(name))
        peak_active = max((x.get("active", 0) for x in samples), default=0)
        peak_mem = max((x.get("conn_mem", 0) for x in samples), default=0)
        over = [x for x in samples if "mem_max" in x and x.get("conn_mem", 0) > x["mem_max"]]
        mem_max = samples[-1].get("mem_max") if samples else None
        budget_ok = mem_max is not None and not over
        figures = (f"{s.get('attempted', '?')} attempts from {s.get('procs', '?')} processes: "
                   f"{s.get('established', '?')} established, {s.get('open', '?')} kept, "
                   f"{s.get('closed', '?')} closed, failed {s.get('failed_by', '?')}; "
                   f"peak active {peak_active}, conn_mem {peak_mem} of mem_max {mem_max}; "
                   f"good client p99 {s.get('probe_p99_ms', '?')} ms, "
                   f"{s.get('probe_failures', '?')} failures, {s.get('check_runs', '?')} checks")
        detail = out if budget_ok else (
            f"mem_max missing from the stats (a module without a memory budget)\n{out}"
            if mem_max is None else f"conn_mem over mem_max in {len(over)} samples: {over[:3]}\n{out}")
        limit_ok = True
        if max_conns is not None:
            st = stats(name)
            limit_ok = (peak_active <= max_conns and st.get("evicted", 0) > 0
                        and st.get("paused", 0) > 0)
            figures += (f"; evicted {st.get('evicted')}, paused {st.get('paused')}, "
                        f"refused {st.get('refused')}")
            detail = (f"peak active {peak_active} (max {max_conns}), stats {st}\n" if not limit_ok
                      else "") + detail
        self.record(label, name, figures, ok and budget_ok and limit_ok, detail, secs)
        # Afterwards: every connection closed, its memory returned.
        end = time.monotonic() + 60
        st = stats(name)
        while (st.get("active") or st.get("conn_mem")) and time.monotonic() < end:
            time.sleep(2)
            st = stats(name)
        after = self.settle(name, "flood-after")
        top = max(samples, key=lambda x: x.get("active", 0), default={})
        per_idle = top.get("conn_mem", 0) // top["active"] if top.get("active") else None
        conns, drop = self.per_conn(base, samples)
        back = base.get("mem_available_kb", 0) - after.get("mem_available_kb", 0)
        tol = self.tolerance_kb(base, samples)
        hits = self.console_since(mark)
        self.figures[name] = dict(kept=s.get("open", "?"), peak=peak_active, per_conn=drop,
                                  conn_mem_per_conn=per_idle, conns=conns)
        ok = (st.get("active") == 0 and st.get("conn_mem") == 0 and per_idle is not None
              and per_idle <= IDLE_CONN_MEM_BOUND and back <= tol and not hits)
        self.record(label.replace("flood", "flood memory", 1), name,
                    f"conn_mem/active {per_idle} <= {IDLE_CONN_MEM_BOUND} bytes; "
                    f"MemAvailable drop {drop} bytes per connection (both ends, at {conns} held); "
                    f"after: active {st.get('active')}, conn_mem {st.get('conn_mem')}, "
                    f"MemAvailable {back} kB below the baseline (tolerance {tol} kB)",
                    ok, f"baseline {base}\nafter {after}\nstats {st}\nconsole: {hits}", 0)

    @staticmethod
    def tolerance_kb(base, samples):
        """How far below its baseline MemAvailable may stay after a flood:
        freed sockets and connections go back to partly used slabs and
        per-CPU caches, which MemAvailable does not count. A tenth of the
        flood's peak drop, at least 8 MiB: a leak of more than one
        connection's memory in ten shows in the long form's large floods
        (small ones are below 8 MiB: there conn_mem back to 0 and the
        kmemleak scans catch leaks)."""
        low = min((x.get("mem_available_kb", 0) for x in samples), default=0)
        peak_drop = max(0, base.get("mem_available_kb", 0) - low) if samples else 0
        return max(8192, peak_drop // 10)

    def knfsd_flood(self):
        """The same idle flood against knfsd (tools/vm/ksf-knfsd), for
        comparison: the connections it kept, its memory per connection."""
        port = 62050
        ok, out, _ = vm(f"ksf-knfsd start {port}", self.log("knfsd", "start"), timeout=120)
        if not ok:
            return self.record("flood", "knfsd", "knfsd did not start", False, out, 0)
        try:
            mark = self.console_mark()
            base = self.settle("knfsd", "flood-baseline")
            checks = [f"rpcinfo -a 127.0.0.1.{port >> 8}.{port & 255} -T tcp 100003 3 >/dev/null",
                      f"rpctest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"]
            ran, s, samples, out, secs = self.idle_flood("knfsd", port, "", checks)
            conns, drop = self.per_conn(base, samples, "tcp_inuse")
            self.figures["knfsd"] = dict(kept=s.get("open", "?"), peak=conns, per_conn=drop,
                                         conn_mem_per_conn=None, conns=conns)
            hits = self.console_since(mark)
            # A reference, not a test of knfsd: it must only have run.
            # (knfsd closes valid connections too under a flood, and may
            # answer pipelined calls out of order, which ksfstress's
            # final good-client check reports.)
            self.record("flood", "knfsd",
                        f"{s.get('attempted', '?')} attempts: {s.get('established', '?')} "
                        f"established, {s.get('open', '?')} kept, {s.get('closed', '?')} closed; "
                        f"peak {conns} TCP sockets in use, MemAvailable drop {drop} bytes per "
                        f"socket in use "
                        f"(both ends); good client p99 {s.get('probe_p99_ms', '?')} ms, "
                        f"{s.get('probe_failures', '?')} failures; real clients failed "
                        f"{s.get('check_failures', '?')} of {s.get('check_runs', '?')} runs",
                        bool(s) and not hits, f"{out}\nconsole: {hits}", secs)
        finally:
            vm("ksf-knfsd stop", self.log("knfsd", "stop"), timeout=120)

    def flood_comparison(self):
        """One line comparing the floods' figures (the summary's last)."""
        parts = []
        for who in [*SERVICES, "knfsd"]:
            f = self.figures.get(who)
            if f:
                mem = (f", conn_mem {f['conn_mem_per_conn']} B/conn"
                       if f["conn_mem_per_conn"] is not None else "")
                held = "TCP sockets in use" if who == "knfsd" else "held"
                parts.append(f"{who}: {f['kept']} kept, peak {f['conns']} {held}, "
                             f"{f['per_conn']} B/conn MemAvailable{mem}")
        if parts:
            self.table.add("flood comparison", "all", "; ".join(parts), True, 0)
            print("flood comparison: " + "; ".join(parts), flush=True)

    def timeouts(self):
        """The timeouts slowloris and idle run against (module
        parameters for the short form, the defaults for the long)."""
        return self.p["timeouts"] or DEFAULT_TIMEOUTS

    def linger(self, name, campaign, counter, extra=""):
        """slowloris or idle against NAME: every peer closed within its
        timeout plus the slack, the counter COUNTER grown by the peers."""
        p = self.p
        t = self.timeouts()
        params = " ".join(f"{k}={v}" for k, v in t.items()) if self.p["timeouts"] else ""
        port, proto, _ = SERVICES[name]
        if campaign == "slowloris" and proto == "echo":
            # A peer that never reads stalls the echo only once the
            # server's send buffer is full, and TCP grows it to megabytes
            # on loopback while the peer's window is open: echoing that to
            # 32 or 256 peers takes an emulated guest longer than the
            # timeout, during which the server does progress. Small socket
            # buffers make the stall come within a few KiB.
            params += " sndbuf=16384 rcvbuf=16384"
        ok, out = self.load(name, params)
        if not ok:
            return self.record(campaign, name, f"insmod {params} failed", False, out, 0)
        timeout = t["request_timeout"] if campaign == "slowloris" else t["idle_timeout"]
        # Echo peers first fill the socket buffers; the request starts then.
        fill = 3 if campaign == "slowloris" and proto == "echo" else 0
        expect = timeout + SWEEP_SLACK + CLIENT_SLACK + fill
        conns = p["slow_conns"] if campaign == "slowloris" else p["idle_conns"]
        before = stats(name)
        cmd = (f"ulimit -n 65536; ksfstress {campaign} --proto {proto} --conns {conns} "
               f"--expect-close-secs {expect} {extra} 127.0.0.1:{port}")
        label = campaign + ("-valid-first" if extra else "")
        ran, out, secs = vm(cmd, self.log(name, label), timeout=expect + 600)
        s = summary_of(out)
        after = stats(name)
        grown = after.get(counter, 0) - before.get(counter, 0)
        try:
            early = float(s.get("close_min_s", "-")) < timeout - CLIENT_SLACK
        except ValueError:
            early = False
        ok = ran and grown == conns and not early
        what = f"{campaign} {extra}".strip()
        self.record(what, name,
                    f"{s.get('closed', '?')} of {conns} closed after "
                    f"{s.get('close_min_s', '?')}/{s.get('close_median_s', '?')}/"
                    f"{s.get('close_max_s', '?')} s (min/median/max), {timeout} s timeout, "
                    f"by {expect} s; {counter} +{grown}",
                    ok, f"{counter}: {before.get(counter)} -> {after.get(counter)}"
                        f"{' (closed before the timeout)' if early else ''}\n{out}", secs)

    def run(self, name):
        p = self.p
        ok, out = self.load(name)
        if not ok:
            return self.record("insmod", name, "", False, out, 0)
        self.fuzz(name, "host")
        self.fuzz(name, "guest")
        self.guest(name, "hold", f"--conns {p['hold']}",
                   lambda s: f"{s.get('held', '?')} connections held, {s.get('served', '?')} served")
        self.guest(name, "churn", f"--cycles {p['churn']}",
                   lambda s: f"{s.get('cycles', '?')} connect/close cycles")
        self.guest(name, "reset", f"--count {p['reset']}",
                   lambda s: f"{s.get('peers', '?')} resets mid-record")
        self.guest(name, "halfclose", f"--count {p['halfclose']}",
                   lambda s: f"{s.get('peers', '?')} half-closed peers")
        self.noread(name)
        self.params(name)
        self.unload(name)
        self.hostile(name)
        check.kmemleak(self.res, f" after the {name} campaigns")

    def hostile(self, name):
        """The flood, slow-loris and idle campaigns against NAME."""
        self.flood(name)
        if self.p["flood_limit"]:
            self.flood(name, self.p["flood_limit"])
        self.linger(name, "slowloris", "timeout_request")
        self.linger(name, "idle", "timeout_idle")
        if self.p["idle_valid_first"]:
            self.linger(name, "idle", "timeout_idle", "--valid-first")
        self.load(name)


def campaigns(res, long=False, logs=LOGS, table=None, only=None):
    """Runs every campaign in the running guest (check.py calls this);
    ONLY "faults": only the allocation-failure campaigns."""
    os.makedirs(logs, exist_ok=True)
    table = table or Table()
    p = dict(LONG if long else SHORT)
    if os.environ.get("STRESS_RECORDS"):
        p["records"] = int(os.environ["STRESS_RECORDS"])
    c = Campaigns(res, table, p, logs)
    for name in SERVICES if only is None else []:
        c.run(name)
    for name in SERVICES:
        faults.run(c, name, long)
    if only is None:
        c.knfsd_flood()
        c.flood_comparison()
    table.print()
    return table


def volume(res, table, records=1_000_000, fuzz=True):
    """The long form's volume, on the fast kernel in the guest: RECORDS
    mutated records per service (unless not FUZZ), then a flood of 50,000
    connection attempts per service with its default limits (the debug
    kernel accepts some 25 a second: it floods 5,000), and against knfsd."""
    c = Campaigns(res, table, dict(LONG, batch=50000, fuzz_conns=32, flood_attempts=50000),
                  os.path.join(LOGS, "fast"))
    os.makedirs(c.logs, exist_ok=True)
    for name in SERVICES:
        ok, out = c.load(name)
        if not ok:
            c.record("fuzz", name, "insmod failed", False, out, 0)
            continue
        if fuzz:
            c.fuzz(name, "guest, fast kernel", records, leak_scans=False)
        c.flood(name)
    c.knfsd_flood()
    c.flood_comparison()


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    only = None
    if argv[-2:-1] == ["--only"]:
        only, argv = argv[-1], argv[:-2]
    bad = [a for a in argv if a not in ("--long", "--volume", "--floods")]
    if bad or only not in (None, "faults"):
        print(f"stress.py: unknown argument {(bad or [only])[0]!r} (see --help)", file=sys.stderr)
        return 2
    long = "--long" in argv
    only_volume = "--volume" in argv or "--floods" in argv
    os.makedirs(LOGS, exist_ok=True)
    check.LOGS = LOGS
    res = check.Results()
    print(f"ksf stress ({'long' if long else 'short'} form): logs in {LOGS}", flush=True)
    t0 = time.monotonic()
    table = Table()
    if only_volume:
        fast_volume(res, table, fuzz="--volume" in argv)
        print(f"stress: {time.monotonic() - t0:.0f} s", flush=True)
        return res.summary()
    if not check.build(res):
        return res.summary()
    subprocess.run(check.ksfvm("stop"), stdout=subprocess.DEVNULL)
    initrd = os.path.join(VMDIR, f"initramfs-{check.FLAVOR}.cpio")
    ok, out, secs = check.run(check.ksfvm("start", "--kernel",
                                          os.path.join(check.kernel_dir(), "bzImage"),
                                          "--initrd", initrd, "--load", ""),
                              os.path.join(LOGS, "vm-start.log"))
    res.record(f"guest: boots ({secs:.0f} s)", ok, out)
    if ok:
        try:
            campaigns(res, long, table=table, only=only)
            check.kmemleak(res)
        finally:
            subprocess.run(check.ksfvm("stop"), stdout=subprocess.DEVNULL)
    console_clean(res, "debug")
    if only is None:
        import hotplug  # a guest of its own, with four CPUs
        hotplug.campaign(res, long)
    if long and only is None:
        fast_volume(res, table)
    print(f"stress: {time.monotonic() - t0:.0f} s", flush=True)
    return res.summary()


def fast_volume(res, table, fuzz=True):
    """Builds and boots the fast kernel and runs `volume` in it."""
    if not check.build(res, "fast"):
        return
    subprocess.run(check.ksfvm("stop"), stdout=subprocess.DEVNULL)
    ok, out, secs = check.run(
        check.ksfvm("start", "--kernel", os.path.join(check.kernel_dir("fast"), "bzImage"),
                    "--initrd", os.path.join(VMDIR, "initramfs-fast.cpio"), "--load", ""),
        os.path.join(LOGS, "vm-start-fast.log"))
    res.record(f"guest: fast kernel boots ({secs:.0f} s)", ok, out)
    if ok:
        try:
            volume(res, table, fuzz=fuzz)
        finally:
            subprocess.run(check.ksfvm("stop"), stdout=subprocess.DEVNULL)
        console_clean(res, "fast")
    table.print()


def console_clean(res, flavor):
    """The guest's whole console has no kernel error report."""
    try:
        with open(os.path.join(VMDIR, "console.log"), "rb") as f:
            console = f.read().decode(errors="replace")
    except OSError:
        console = ""
    with open(os.path.join(LOGS, f"console-{flavor}.log"), "w") as f:
        f.write(console)
    hits = console_scan.scan(console)
    res.record(f"guest: console has no kernel error report ({flavor} kernel)",
               not hits and bool(console),
               "\n".join(f"{k}: {line}" for k, line in hits) or "(empty console log)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
