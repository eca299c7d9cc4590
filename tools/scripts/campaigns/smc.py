# SPDX-License-Identifier: GPL-2.0
"""The reliability campaigns over SMC-D (issue 16), in short: kecho and
krpc2 loaded with transport=both (one SMC listener: SMC clients over
SMC-D, TCP clients by fallback), the clients in the guest with --smc.
Nothing may be lost. Per service:

  smc flood      an idle flood of SMC connections (ksfstress flood --smc,
                 its good client over SMC too) while good SMC and TCP
                 clients run over and over (--check-cmd), the service's
                 stats sampled every second: no good client fails,
                 conn_mem stays within mem_max; then every connection
                 closes (active 0, conn_mem 0), and every accepted
                 connection is counted as SMC-D or as a fallback
                 (smcd + smcr + smc_fallback >= accepted, SMC-D used, the
                 TCP clients counted in smc_fallback_peer_nosmc). Fallbacks
                 of SMC clients are allowed (loopback-ism's DMBs run out
                 or fail to allocate: reason MEM 0x01010000; see
                 Documentation/notes/smc.md, Q7): they are counted, with
                 the kernel's fallback reasons in the figures;
  smc churn      connect/close cycles, resets mid-record (after a call:
  smc halfclose  see peers()) and peers half-closing (ksfstress churn,
                 halfclose --smc), each ending with a good SMC client;
                 then every connection closes;
  smc faults     allocations failing under the module (faults.py's
                 machinery: failslab confined to the module) while
                 echotest/rpctest --smc, ksfstress churn --smc and a TCP
                 client run over and over; then a good SMC client is
                 served, every connection closes, no kernel error report,
                 rmmod works (a kmemleak scan follows both services'
                 campaigns: steps.Stress.smc);
  smc unload     rmmod/insmod cycles under SMC (and TCP) load: each rmmod
                 must finish within UNLOAD_SECS; then a good SMC client.

The stress-smc step of make check (short form) and make stress (long
form) runs them (stress.py --only smc).
"""

import re
import shlex

from . import faults
from .common import SERVICES, kv, summary_of
from .flood import SAMPLED, meminfo

# Each size of the short and of the long form, side by side. The short
# form is small: the debug kernel under TCG accepts some 20 connections a
# second, and an SMC one costs three CLC messages and two DMBs more. The
# long flood stays below loopback-ism's ~2,500 connections (5,000 DMBs).
FORMS = {
    "flood_attempts": (100, 2000),
    "flood_procs": (2, 4),
    "flood_hold": (2, 30),
    "churn": (100, 5000),
    "halfclose": (40, 1000),
    # faults.py's keys: a failure rate for rate_secs, then a 100% burst.
    "faults": (dict(rate=10, rate_secs=8, burst_times=100, burst_secs=5),
               dict(rate=5, rate_secs=120, burst_times=3000, burst_secs=60)),
    "unloads": (2, 20),
}
SHORT = {k: short for k, (short, _) in FORMS.items()}
LONG = {k: long for k, (_, long) in FORMS.items()}

# The module parameters of every campaign here.
PARAMS = "transport=both"

# The longest one rmmod may take under SMC load (seconds).
UNLOAD_SECS = 10

# Fallback reasons (SMC_CLC_DECL_*) of the kernel's counters.
PEERNOSMC = "0x03010000"
MEM = "0x01010000"

# Good clients per service: over SMC (SMC-D), and over TCP (a fallback
# on the SMC listener). Every reply is checked.
GOOD_SMC = {
    "krpc2": "rpctest --smc -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1",
    "kecho": "echotest --smc -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1",
}
GOOD_TCP = {
    "krpc2": "rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3",
    "kecho": "echotest -H -i 1 -c 50 -j 1 -a 4 -t 30000 127.0.0.1",
}

# Loads run over and over while allocations fail (errors are expected
# then), and under the unloads.
FAULT_LOADS = {
    "krpc2": ["rpctest --smc -H -i 1 -c 500 -j 2 -a 8 -t 5000 127.0.0.1",
              "rpctest -H -i 1 -c 200 -j 1 -a 4 -t 5000 127.0.0.1",
              "ksfstress churn --smc --proto rpc --cycles 30 --jobs 2 --timeout 5000 "
              "127.0.0.1:62049"],
    "kecho": ["echotest --smc -H -i 1 -c 500 -j 2 -a 8 -l 3000 -t 5000 127.0.0.1",
              "echotest -H -i 1 -c 200 -j 1 -a 4 -t 5000 127.0.0.1",
              "ksfstress churn --smc --proto echo --cycles 30 --jobs 2 --timeout 5000 "
              "127.0.0.1:60007"],
}
UNLOAD_LOADS = {
    "krpc2": ["rpctest --smc -H -i 1 -c 100M -j 4 -a 4 -t 20000 127.0.0.1",
              "rpctest -H -i 1 -c 100M -j 1 -a 4 -t 20000 127.0.0.1"],
    "kecho": ["echotest --smc -H -i 1 -c 100M -j 4 -a 4 -t 20000 127.0.0.1",
              "echotest -H -i 1 -c 100M -j 1 -a 4 -t 20000 127.0.0.1"],
}


def good(name):
    """A good SMC client and a good TCP client of NAME, one shell line."""
    return f"{GOOD_SMC[name]} >/dev/null && {GOOD_TCP[name]} >/dev/null"


def smc_stats(c, name, log):
    """NAME's debugfs statistics (ints, and the fallback reason as text),
    and the kernel's SMC counters (ksf-smc stats), as two dicts."""
    ok, out, _ = c.vm(f"cat /sys/kernel/debug/{name}/stats; echo ==; ksf-smc stats",
                      c.log(name, log), timeout=120)
    svc, _, kernel = out.partition("==\n")
    return pairs(svc), pairs(kernel)


def pairs(text):
    """The "name value" lines of TEXT, values as ints where they are."""
    return {p[0]: int(p[1]) if p[1].isdigit() else p[1]
            for p in (ln.split() for ln in text.splitlines()) if len(p) == 2}


def fallbacks(before, after):
    """The server fallbacks by reason between two ksf-smc stats: {reason:
    count} for the srv_fback_0xCODE counters that grew."""
    out = {}
    for k, v in after.items():
        m = re.fullmatch(r"srv_fback_(0x[0-9a-f]{8})", k)
        if m and isinstance(v, int) and v > before.get(k, 0):
            out[m.group(1)] = v - before.get(k, 0)
    return out


# Guest script: waits up to {secs} s until no SMC socket is left but the
# listeners and no link group has a connection; prints what is left, and
# the kernel's handshake counters: a client that resets its connection
# right after connect() can leave its SMC-D connection in its link group
# for ever (a kernel SMC race, not ksf's: see "Orphaned client
# connections" below).
LEFTOVERS = """
i=0
while :; do
	left=$(ksf-smc socks | grep -v ' state LISTEN '; ksf-smc lgrs | grep -v ' conns 0$')
	[ -z "$left" ] || [ $i -ge {secs} ] && break
	sleep 1
	i=$((i + 1))
done
[ -z "$left" ] && echo "smc closed secs=$i" || {{ echo "smc left after $i s:"; echo "$left"; \
	ksf-smc stats | grep -E '^(smcd_clnt_v2_succ|smcd_srv_v2_succ|srv_hshake_err|clnt_hshake_err) '; }}
"""

# Orphaned client connections: a kernel SMC race (6.12) these campaigns
# can run into. An SMC client that resets its connection (SO_LINGER 0)
# right after connect() returns, before the server's handshake worker has
# read the client's CLC Confirm, makes the server's handshake fail
# (smc_clc_wait_msg sees the clcsock's ECONNRESET even with the Confirm
# read: srv_hshake_err) after the client counted it a success
# (smcd_clnt_v2_succ one above smcd_srv_v2_succ). ksf never sees the
# connection. The client's SMC-D connection, closed and waiting for its
# peer's close, which never comes, stays in its link group for ever
# (ksf-smc lgrs "conns N", no socket in smc_diag), and at reboot the
# kernel's reboot notifier terminates it with a lockdep report
# (smc_lgrs_shutdown locks the socket under smcd_dev_list.mutex; a connect
# takes them the other way round). ksfstress churn --smc ("reset at once")
# triggers it now and then, more often under load; the campaigns report
# it (it is something lost) with the counters that identify it.


def leftovers(c, name, log, secs=30):
    """The SMC sockets (but listeners) and the link groups' connections
    left in the guest, after up to SECS seconds: "" if none. A connection
    left in a link group is a stuck one (and the kernel's reboot notifier
    then terminates it, with a lockdep report of its own)."""
    ok, out, _ = c.vm(LEFTOVERS.format(secs=secs), c.log(name, log), timeout=secs + 120)
    return "" if ok and "smc closed" in out else (out.strip() or "ksf-smc failed")


def counted(st):
    """Whether every connection NAME accepted is counted as SMC-D (or
    SMC-R) or as a fallback, SMC-D was used and TCP clients were counted
    as fallbacks; (ok, text)."""
    smc = st.get("smcd", 0) + st.get("smcr", 0) + st.get("smc_fallback", 0)
    ok = (st.get("transport") == "both" and st.get("accepted", 0) <= smc
          and st.get("smcd", 0) > 0 and st.get("smc_fallback_peer_nosmc", 0) > 0)
    return ok, (f"accepted {st.get('accepted')}: smcd {st.get('smcd')}, "
                f"smc_fallback {st.get('smc_fallback')} (peer_nosmc "
                f"{st.get('smc_fallback_peer_nosmc')}, last reason "
                f"{st.get('smc_fallback_last_reason')})")


def reasons_text(r):
    if not r:
        return "none"
    names = {PEERNOSMC: "PEERNOSMC", MEM: "MEM"}
    return ", ".join(f"{names.get(k, k)} {v}" for k, v in sorted(r.items()))


def flood(c, name, p):
    """The idle SMC flood, good SMC and TCP clients checked throughout; P
    is SHORT or LONG."""
    port, proto, _ = SERVICES[name]
    ok, out = c.load(name, PARAMS)
    if not ok:
        return c.record("smc flood", name, "insmod transport=both failed", False, out, 0)
    mark = c.guest.console_mark()
    _, kbefore = smc_stats(c, name, "smc-flood-before")
    cmd = (f"ulimit -n 65536; ksfstress flood --smc --proto {proto} "
           f"--attempts {p['flood_attempts']} --procs {p['flood_procs']} "
           f"--hold-secs {p['flood_hold']} --timeout 20000 "
           f"--check-cmd {shlex.quote(good(name))} 127.0.0.1:{port}")
    ran, out, secs = c.vm(SAMPLED.format(module=name, cmd=cmd), c.log(name, "smc-flood"),
                          timeout=1800)
    s = summary_of(out)
    samples = [meminfo(ln) for ln in out.splitlines() if ln.startswith("sample ")]
    peak_active = max((x.get("active", 0) for x in samples), default=0)
    peak_mem = max((x.get("conn_mem", 0) for x in samples), default=0)
    over = [x for x in samples if "mem_max" in x and x.get("conn_mem", 0) > x["mem_max"]]
    mem_max = samples[-1].get("mem_max") if samples else None
    budget_ok = mem_max is not None and not over
    # Afterwards: every connection closed (the long form's 2,000 SMC
    # connections take a while on the debug kernel), each one counted.
    drained = c.drained(name, 180)
    st, kafter = smc_stats(c, name, "smc-flood-after")
    count_ok, count_txt = counted(st)
    reasons = fallbacks(kbefore, kafter)
    left = leftovers(c, name, "smc-flood-left")
    hits = c.guest.console_since(mark)
    good_ok = (ran and s.get("transport") == "smc" and s.get("probe_failures") == "0"
               and s.get("check_failures", "0") == "0" and int(s.get("check_runs", 0)) > 0)
    figures = (f"{s.get('attempted', '?')} SMC attempts from {s.get('procs', '?')} processes: "
               f"{s.get('established', '?')} established, {s.get('open', '?')} kept, "
               f"failed {s.get('failed_by', '?')}; peak active {peak_active}, conn_mem "
               f"{peak_mem} of mem_max {mem_max}; good SMC client {s.get('probes', '?')} probes "
               f"(p99 {s.get('probe_p99_ms', '?')} ms, {s.get('probe_failures', '?')} failed), "
               f"SMC+TCP checks {s.get('check_runs', '?')} ({s.get('check_failures', '?')} "
               f"failed); after: active {drained.get('active')}, conn_mem "
               f"{drained.get('conn_mem')}, SMC sockets {'LEFT' if left else 'closed'}; "
               f"{count_txt}; server fallbacks: {reasons_text(reasons)}")
    ok = (good_ok and budget_ok and count_ok and drained.get("active") == 0
          and drained.get("conn_mem") == 0 and not left and not hits)
    detail = (f"{left}\ngood clients ok: {good_ok}; conn_mem over mem_max in {len(over)} samples "
              f"{over[:3]}; counted: {count_ok}; stats after {st}\nkernel SMC counters "
              f"before {kbefore}\nafter {kafter}\nconsole: {hits}\n{out}")
    c.record("smc flood", name, figures, ok, detail, secs, c.log(name, "smc-flood"))


def peers(c, name, p):
    """churn and halfclose over SMC, then every connection closed. No
    `ksfstress reset` here: its peers may reset before the server has
    finished the SMC handshake, which strands the client's connection in
    the kernel (see "Orphaned client connections"); churn's resets, after
    a call over SMC, reset mid-record on connections set up at both ends."""
    port, proto, _ = SERVICES[name]
    ok, out = c.load(name, PARAMS)
    if not ok:
        return c.record("smc churn", name, "insmod transport=both failed", False, out, 0)
    mark = c.guest.console_mark()
    runs = [("churn", f"--cycles {p['churn']}",
             lambda s: f"{s.get('cycles', '?')} SMC connect/close cycles "
                       f"({s.get('resets', '?')} resets)"),
            ("halfclose", f"--count {p['halfclose']}",
             lambda s: f"{s.get('peers', '?')} half-closed SMC peers")]
    for sub, args, figures in runs:
        cmd = f"ulimit -n 65536; ksfstress {sub} --smc --proto {proto} {args} 127.0.0.1:{port}"
        log = c.log(name, f"smc-{sub}")
        ok, out, secs = c.vm(cmd, log, timeout=1800)
        s = summary_of(out)
        ok = ok and s.get("transport") == "smc" and s.get("good_failures") == "0"
        c.record(f"smc {sub}", name, figures(s), ok, out, secs, log)
    drained = c.drained(name)
    st, _ = smc_stats(c, name, "smc-peers-after")
    left = leftovers(c, name, "smc-peers-left")
    hits = c.guest.console_since(mark)
    smc_ok = st.get("smcd", 0) > 0 and st.get("accepted", 0) <= (
        st.get("smcd", 0) + st.get("smcr", 0) + st.get("smc_fallback", 0))
    c.record("smc peers closed", name,
             f"after: active {drained.get('active')}, conn_mem {drained.get('conn_mem')}, "
             f"SMC sockets {'LEFT' if left else 'closed'}; accepted {st.get('accepted')}: "
             f"smcd {st.get('smcd')}, smc_fallback {st.get('smc_fallback')}",
             (drained.get("active") == 0 and drained.get("conn_mem") == 0 and smc_ok
              and not left and not hits),
             f"{left}\nstats {st}\nconsole: {hits}", 0)


def fault_load(c, name, p):
    """Allocation failures under SMC load: faults.py's load campaign with
    SMC loads and good clients, the module loaded transport=both."""
    ok, out = c.load(name, PARAMS)
    if ok:
        ok, out, _ = c.vm("ksf-failinject off", c.log(name, "smc-faults-tool"), timeout=60)
    if not ok:
        return c.record("smc faults", name, "insmod or ksf-failinject failed", False, out, 0)
    # One kmemleak scan after both services' SMC campaigns (Stress.smc),
    # not one per service: on the debug kernel a scan takes some 20 s.
    faults.load(c, name, p["faults"], loads=FAULT_LOADS[name], good_cmd=good(name),
                label="smc faults", insmod_args=PARAMS, kmemleak=False)
    closed(c, name, "smc faults")


def closed(c, name, campaign):
    """After CAMPAIGN: no SMC socket left but the listeners, no
    connection left in a link group."""
    left = leftovers(c, name, f"{campaign.replace(' ', '-')}-left")
    c.record(f"{campaign}: SMC closed", name,
             "no SMC socket left but the listeners, no connection in a link group"
             if not left else "SMC sockets or connections LEFT", not left, left, 0)


# Guest script: NUMBER rmmod/insmod cycles under SMC and TCP load; each
# rmmod timed (centiseconds from /proc/uptime), the slowest printed.
UNLOAD_SCRIPT = """
set -u
ko=/lib/modules/ksf/{module}.ko
lsmod | grep -q '^{module} ' || insmod $ko {params} || exit 1
now() {{ awk '{{ printf "%d", $1 * 100 }}' /proc/uptime; }}
i=0 worst=0
while [ $i -lt {n} ]; do
	for cmd in {loads}; do sh -c "$cmd" >/dev/null 2>&1 & done
	sleep 2
	t=$(now)
	rmmod {module} || {{ echo "rmmod {module} failed at cycle $i"; exit 1; }}
	d=$(( $(now) - t ))
	[ $d -gt $worst ] && worst=$d
	[ $d -le $(({limit} * 100)) ] || {{ echo "rmmod took $d cs at cycle $i"; exit 1; }}
	wait
	insmod $ko {params} || {{ echo "insmod {module} failed at cycle $i"; exit 1; }}
	i=$((i + 1))
done
echo "unloaded cycles=$i worst_cs=$worst"
{good}
"""


def unload(c, name, p):
    """rmmod/insmod cycles under SMC load, each rmmod prompt, then good
    SMC and TCP clients."""
    n = p["unloads"]
    ok, out = c.load(name, PARAMS)
    if not ok:
        return c.record("smc unload", name, "insmod transport=both failed", False, out, 0)
    mark = c.guest.console_mark()
    loads = " ".join(shlex.quote(cmd) for cmd in UNLOAD_LOADS[name])
    script = UNLOAD_SCRIPT.format(module=name, params=PARAMS, n=n, loads=loads,
                                  limit=UNLOAD_SECS, good=good(name))
    log = c.log(name, "smc-unload")
    ok, out, secs = c.vm(script, log, timeout=300 + 60 * n)
    s = kv(out, "unloaded ")
    worst = int(s.get("worst_cs", -1))
    hits = c.guest.console_since(mark)
    c.record("smc unload", name,
             f"{s.get('cycles', '?')} of {n} rmmod/insmod cycles under SMC and TCP load, "
             f"slowest rmmod {worst / 100:.2f} s (at most {UNLOAD_SECS} s); then served",
             ok and bool(s) and not hits, f"{out}\nconsole: {hits}", secs, log)
    closed(c, name, "smc unload")


def run(c, name, long=False):
    """Every SMC campaign against NAME, then NAME loaded again with its
    default parameters. LONG: the long form."""
    p = LONG if long else SHORT
    flood(c, name, p)
    peers(c, name, p)
    fault_load(c, name, p)
    unload(c, name, p)
    c.load(name)
