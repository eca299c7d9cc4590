# SPDX-License-Identifier: GPL-2.0
"""flood: idle connection floods (ksfstress flood) against a service and
against knfsd, the service's statistics and the guest's memory sampled
every second; then the figures side by side."""

import re
import shlex

from .common import SERVICES, summary_of

# Most memory (conn_mem) one idle connection may hold: no buffers while
# no request is in flight.
IDLE_CONN_MEM_BOUND = 4096

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


def meminfo(line):
    """The key=value pairs of a ksf-meminfo line, as ints."""
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def settle(c, name, log):
    """The guest's memory after dropping caches (ksf-meminfo)."""
    ok, out, _ = c.vm(SETTLE, c.log(name, log), timeout=120)
    lines = [ln for ln in out.splitlines() if "mem_available_kb=" in ln]
    return meminfo(lines[-1]) if ok and lines else {}


def idle_flood(c, label, port, module, checks):
    """ksfstress flood against PORT (rpc for knfsd and krpc2, echo for
    kecho), sampled every second; (ok, summary, samples, output, seconds)."""
    p = c.p
    proto = "echo" if port == SERVICES["kecho"][0] else "rpc"
    cmd = (f"ulimit -n 65536; ksfstress flood --proto {proto} --attempts {p['flood_attempts']} "
           f"--procs {p['flood_procs']} --hold-secs {p['flood_hold']} --timeout 20000 "
           f"--check-cmd {shlex.quote(' && '.join(checks))} 127.0.0.1:{port}")
    ok, out, secs = c.vm(SAMPLED.format(module=module, cmd=cmd), c.log(label, "flood"),
                         timeout=1800)
    samples = [meminfo(ln) for ln in out.splitlines() if ln.startswith("sample ")]
    return ok, summary_of(out), samples, out, secs


def per_conn(base, samples, key="active"):
    """At the sample holding the most connections: (connections,
    MemAvailable drop per connection in bytes, sockets and both ends
    included). The connections are the service's ``active``, or for knfsd
    (KEY "tcp_inuse") the TCP sockets in use over the baseline:
    /proc/net/sockstat counts one per connection here (1,002 for 995
    active in a krpc2 flood), not one per end, but it also counts the
    connections knfsd is closing, so knfsd's figure is per socket in use."""
    if not samples or "mem_available_kb" not in base:
        return 0, 0
    top = max(samples, key=lambda x: x.get(key, 0))
    conns = max(0, top.get(key, 0) - (base.get(key, 0) if key == "tcp_inuse" else 0))
    drop = (base["mem_available_kb"] - top.get("mem_available_kb", 0)) * 1024
    return conns, (drop // conns if conns else 0)


def tolerance_kb(base, samples):
    """How far below its baseline MemAvailable may stay after a flood:
    freed sockets and connections go back to partly used slabs and per-CPU
    caches, which MemAvailable does not count. A tenth of the flood's peak
    drop, at least 8 MiB: a leak of more than one connection's memory in
    ten shows in the long form's large floods (small ones are below 8 MiB:
    there conn_mem back to 0 and the kmemleak scans catch leaks)."""
    low = min((x.get("mem_available_kb", 0) for x in samples), default=0)
    peak_drop = max(0, base.get("mem_available_kb", 0) - low) if samples else 0
    return max(8192, peak_drop // 10)


def rpc_checks(port):
    """The real RPC clients a flood's --check-cmd runs (in the guest)."""
    return [f"rpcinfo -a 127.0.0.1.{port >> 8}.{port & 255} -T tcp 100003 3 >/dev/null",
            f"rpctest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"]


def good_checks(name):
    """The real clients a flood's --check-cmd runs against NAME."""
    port, proto, _ = SERVICES[name]
    if proto == "echo":
        return [f"echotest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1:{port} >/dev/null"]
    return rpc_checks(port)


def flood(c, name, max_conns=None):
    """The idle flood against NAME loaded with its default parameters, or
    with MAX_CONNS (far below the flood, so that the short form takes the
    limit's path: accepting paused, the oldest silent connections evicted
    for waiting ones, a good client served)."""
    label = "flood" if max_conns is None else f"flood past max_conns={max_conns}"
    ok, out = c.load(name, "" if max_conns is None else f"max_conns={max_conns}")
    if not ok:
        return c.record(label, name, "insmod failed", False, out, 0)
    mark = c.guest.console_mark()
    base = settle(c, name, "flood-baseline")
    ok, s, samples, out, secs = idle_flood(c, name, SERVICES[name][0], name, good_checks(name))
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
        st = c.guest.stats(name)
        limit_ok = (peak_active <= max_conns and st.get("evicted", 0) > 0
                    and st.get("paused", 0) > 0)
        figures += (f"; evicted {st.get('evicted')}, paused {st.get('paused')}, "
                    f"refused {st.get('refused')}")
        detail = (f"peak active {peak_active} (max {max_conns}), stats {st}\n" if not limit_ok
                  else "") + detail
    c.record(label, name, figures, ok and budget_ok and limit_ok, detail, secs,
             c.log(name, "flood"))
    # Afterwards: every connection closed, its memory returned.
    st = c.drained(name)
    after = settle(c, name, "flood-after")
    top = max(samples, key=lambda x: x.get("active", 0), default={})
    per_idle = top.get("conn_mem", 0) // top["active"] if top.get("active") else None
    conns, drop = per_conn(base, samples)
    back = base.get("mem_available_kb", 0) - after.get("mem_available_kb", 0)
    tol = tolerance_kb(base, samples)
    hits = c.guest.console_since(mark)
    c.figures[name] = dict(kept=s.get("open", "?"), peak=peak_active, per_conn=drop,
                           conn_mem_per_conn=per_idle, conns=conns)
    ok = (st.get("active") == 0 and st.get("conn_mem") == 0 and per_idle is not None
          and per_idle <= IDLE_CONN_MEM_BOUND and back <= tol and not hits)
    c.record(label.replace("flood", "flood memory", 1), name,
             f"conn_mem/active {per_idle} <= {IDLE_CONN_MEM_BOUND} bytes; "
             f"MemAvailable drop {drop} bytes per connection (both ends, at {conns} held); "
             f"after: active {st.get('active')}, conn_mem {st.get('conn_mem')}, "
             f"MemAvailable {back} kB below the baseline (tolerance {tol} kB)",
             ok, f"baseline {base}\nafter {after}\nstats {st}\nconsole: {hits}", 0)


def knfsd(c):
    """The same idle flood against knfsd (tools/vm/ksf-knfsd), for
    comparison: the connections it kept, its memory per connection."""
    port = 62050
    ok, out, _ = c.vm(f"ksf-knfsd start {port}", c.log("knfsd", "start"), timeout=120)
    if not ok:
        return c.record("flood", "knfsd", "knfsd did not start", False, out, 0)
    try:
        mark = c.guest.console_mark()
        base = settle(c, "knfsd", "flood-baseline")
        ran, s, samples, out, secs = idle_flood(c, "knfsd", port, "", rpc_checks(port))
        conns, drop = per_conn(base, samples, "tcp_inuse")
        c.figures["knfsd"] = dict(kept=s.get("open", "?"), peak=conns, per_conn=drop,
                                  conn_mem_per_conn=None, conns=conns)
        hits = c.guest.console_since(mark)
        # A reference, not a test of knfsd: it must only have run. (knfsd
        # closes valid connections too under a flood, and may answer
        # pipelined calls out of order, which ksfstress's final good-client
        # check reports.)
        c.record("flood", "knfsd",
                 f"{s.get('attempted', '?')} attempts: {s.get('established', '?')} "
                 f"established, {s.get('open', '?')} kept, {s.get('closed', '?')} closed; "
                 f"peak {conns} TCP sockets in use, MemAvailable drop {drop} bytes per "
                 f"socket in use "
                 f"(both ends); good client p99 {s.get('probe_p99_ms', '?')} ms, "
                 f"{s.get('probe_failures', '?')} failures; real clients failed "
                 f"{s.get('check_failures', '?')} of {s.get('check_runs', '?')} runs",
                 bool(s) and not hits, f"{out}\nconsole: {hits}", secs, c.log("knfsd", "flood"))
    finally:
        c.vm("ksf-knfsd stop", c.log("knfsd", "stop"), timeout=120)


def comparison(c):
    """One line comparing the floods' figures (the summary's last)."""
    parts = []
    for who in [*SERVICES, "knfsd"]:
        f = c.figures.get(who)
        if f:
            mem = (f", conn_mem {f['conn_mem_per_conn']} B/conn"
                   if f["conn_mem_per_conn"] is not None else "")
            held = "TCP sockets in use" if who == "knfsd" else "held"
            parts.append(f"{who}: {f['kept']} kept, peak {f['conns']} {held}, "
                         f"{f['per_conn']} B/conn MemAvailable{mem}")
    if parts:
        c.table.add("flood comparison", "all", "; ".join(parts), True, 0)
        print("flood comparison: " + "; ".join(parts), flush=True)
