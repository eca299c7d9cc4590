# SPDX-License-Identifier: GPL-2.0
"""Allocation failures against krpc2 and kecho (part of make stress).

Failures are injected by the kernel's failslab and fail_page_alloc,
confined to one module's text on the call stack by their stack-trace
filter (tools/vm/ksf-failinject), so that nothing else in the guest fails.
Per service:

  confinement  a short burst with the failures' stacks dumped: every
               dumped stack has a frame of the module, and the other
               service is served throughout;
  load         real clients (rpctest TCP, with fragments and UDP, or
               echotest TCP and UDP) and connect/close churn run over and
               over while allocations fail with a probability, then in a
               burst at 100% (a number of times); then nothing fails and:
               no kernel error report on the console, every connection
               closes (no stuck task), a good client is served, the
               failures show in the service's nomem_* counters, rmmod
               works and kmemleak finds nothing;
  insmod       every allocation of the module's init failed in turn
               (/proc/self/fail-nth in insmod, the filter on the module
               area): each load fails with an error and a line in dmesg
               and leaves no module, thread, socket or debugfs entry
               behind (or, when the failure is absorbed, loads and
               unloads cleanly), until a load with no failure injected
               succeeds; then kmemleak. The short form fails every k-th
               allocation only.

The faults step of make check and make stress calls `run` for each
service (stress.py --only faults runs only these campaigns).
"""

import re

from .common import kv

# The load generators per service, each run over and over in the guest
# while failures are injected (errors are expected then: a reset, a lost
# datagram); the port for the leftover checks.
LOADS = {
    "krpc2": ["rpctest -H -i 1 -c 2000 -j 2 -a 8 -t 5000 127.0.0.1",
              "rpctest -H -i 1 -c 500 -j 1 -a 4 -f -t 5000 127.0.0.1",
              "rpctest -H -i 1 -c 500 -j 1 -a 4 -u -t 1000 127.0.0.1",
              "ksfstress churn --proto rpc --cycles 200 --jobs 2 --timeout 5000 127.0.0.1:62049"],
    "kecho": ["echotest -H -i 1 -c 2000 -j 2 -a 8 -l 3000 -t 5000 127.0.0.1",
              "echotest -H -i 1 -c 500 -j 1 -a 4 -u -t 1000 127.0.0.1",
              "ksfstress churn --proto echo --cycles 200 --jobs 2 --timeout 5000 127.0.0.1:60007"],
}
PORTS = {"krpc2": 62049, "kecho": 60007}

# A good client per service, every reply checked.
GOOD = {
    "krpc2": ["rpcinfo -a 127.0.0.1.242.97 -T tcp 100003 3",
              "rpctest -H -i 1 -c 500 -j 2 -a 4 -t 30000 127.0.0.1",
              "rpctest -H -i 1 -c 200 -j 1 -a 4 -u -t 2000 127.0.0.1"],
    "kecho": ["echotest -H -i 1 -c 500 -j 2 -a 4 -t 30000 127.0.0.1",
              "echotest -H -i 1 -c 200 -j 1 -a 4 -u -t 2000 127.0.0.1"],
}

# The nomem_* counters of the statistics (rust/ksf/svc/stats.rs).
PATHS = ("nomem_refused", "nomem_retried", "nomem_closed", "nomem_dropped")

# rate: the probability (percent) of the first phase, for rate_secs;
# burst_times: failures per kind at 100% in the burst (at most
# burst_secs); sweep_step: the insmod sweep fails every k-th allocation.
SHORT = dict(rate=10, rate_secs=30, burst_times=300, burst_secs=10, sweep_step=9)
LONG = dict(rate=5, rate_secs=300, burst_times=3000, burst_secs=60, sweep_step=1)

# Guest script: the loads in loops until a stop file appears, the rate
# phase, the burst, then the loads' tallies ("load runs=N failed=N").
LOAD_SCRIPT = """
set -u
stop=/tmp/ksf-faults-stop
rm -f "$stop" /tmp/ksf-faults-load.*
loop() {{
	runs=0 failed=0
	while [ ! -e "$stop" ]; do
		sh -c "$1" >/dev/null 2>&1 || failed=$((failed + 1))
		runs=$((runs + 1))
	done
	echo "load runs=$runs failed=$failed: $1"
}}
i=0
for cmd in {loads}; do
	loop "$cmd" >/tmp/ksf-faults-load.$i &
	i=$((i + 1))
done
sleep 3
ksf-failinject on {module} {rate} || exit 1
sleep {rate_secs}
ksf-failinject off
echo "faults phase=rate failed=$(ksf-failinject count)"
ksf-failinject on {module} 100 1 {burst_times} || exit 1
t=0
while [ $t -lt {burst_secs} ] && [ "$(ksf-failinject count)" -lt $(({burst_times} * 2)) ]; do
	sleep 1
	t=$((t + 1))
done
ksf-failinject off
echo "faults phase=burst failed=$(ksf-failinject count) secs=$t"
touch "$stop"
wait
cat /tmp/ksf-faults-load.*
"""

# Guest script: a short burst with every failure's stack dumped, checked
# for a frame of the module ("[module]" in the trace, from "Call Trace:"
# to "</TASK>": dump_stack() prints a trace whole, but another CPU's
# FAULT_INJECTION lines may come before it or inside it); then allocations
# under the module fail at 100%, without limit, while the other service's
# good client runs: it must be served.
CONFINE_SCRIPT = """
set -u
dmesg -c >/dev/null
stop=/tmp/ksf-confine-stop
rm -f "$stop"
(while [ ! -e "$stop" ]; do {load} >/dev/null 2>&1; done) &
lp=$!
sleep 2
KSF_FAILINJECT_VERBOSE=2 ksf-failinject on {module} 100 1 {times} || exit 1
t=0
while [ $t -lt 30 ] && [ "$(ksf-failinject count)" -lt {times} ]; do sleep 1; t=$((t + 1)); done
ksf-failinject off
dumped=$(ksf-failinject count)
dmesg | awk -v m="[{module}]" '
	/FAULT_INJECTION: forcing a failure/ {{ n++ }}
	/Call Trace:/ {{ intrace = 1; found = 0 }}
	intrace && index($0, m) {{ found = 1 }}
	/<\\/TASK>/ && intrace {{ traces++; if (found) hits++; intrace = 0 }}
	END {{ printf "confine dumps=%d traces=%d with_module=%d\\n", n, traces, hits }}'
ksf-failinject on {module} 100 1 {burst} || exit 1
ok=0
{other} >/tmp/ksf-other.log 2>&1 && ok=1
ksf-failinject off
echo "confine dumped=$dumped burst=$(ksf-failinject count) other_served=$ok"
touch "$stop"
wait $lp
[ $ok = 1 ] || {{ echo "the other service was not served:"; cat /tmp/ksf-other.log; exit 1; }}
"""

# Guest script: a load with its Nth filtered allocation failed, for N = 1,
# 1 + STEP, ... until a load has no failure injected. ksf-finit, not
# busybox's insmod, which loads again with init_module when finit_module
# fails.
SWEEP_SCRIPT = """
set -u
m={module} ko=/lib/modules/ksf/{module}.ko step={step}
rmmod {modules} 2>/dev/null
# ksf's kernel threads (children of kthreadd).
threads() {{ cat /proc/[0-9]*/stat 2>/dev/null | awk '$4 == 2 && $2 ~ /^\\(ksf/ {{ print $2 }}'; }}
leftovers() {{
	# Module, threads, sockets on the port, debugfs directory.
	[ -d /sys/module/$m ] && echo "module $m still loaded"
	i=0
	while [ -n "$(threads)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(threads)" ] || echo "threads left: $(threads | tr '\\n' ' ')"
	# Listeners (state 0A) and UDP sockets on the port.
	awk -v p=":$(printf '%04X' {port})" 'FNR > 1 && substr($2, length($2) - 4) == p &&
		($4 == "0A" || FILENAME ~ /udp/) {{ print FILENAME ": socket left: " $0 }}' \\
		/proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6
	[ -e /sys/kernel/debug/$m ] && echo "debugfs /sys/kernel/debug/$m left"
	true
}}
left=$(leftovers)
[ -z "$left" ] || {{ echo "before the sweep: $left"; exit 1; }}
ksf-failinject on modules 0 || exit 1
n=1 tried=0 refused=0 absorbed=0
while :; do
	before=$(ksf-failinject count)
	dmesg -c >/dev/null
	ksf-failinject nth $n ksf-finit $ko 2>/tmp/ksf-insmod.err
	rc=$?
	after=$(ksf-failinject count)
	if [ "$after" = "$before" ]; then
		[ $rc = 0 ] || {{ echo "insmod failed with no failure injected (n=$n)"; cat /tmp/ksf-insmod.err; dmesg; exit 1; }}
		break
	fi
	tried=$((tried + 1))
	if [ $rc = 0 ]; then
		absorbed=$((absorbed + 1))
		echo "n=$n absorbed: $(dmesg | grep "$m: " | tr '\\n' ' ')"
		rmmod $m || {{ echo "n=$n: rmmod failed"; exit 1; }}
	else
		line=$(dmesg | grep "$m: " | tail -n 1)
		[ -n "$line" ] || {{ echo "n=$n: no dmesg line of $m"; cat /tmp/ksf-insmod.err; dmesg | tail -n 20; exit 1; }}
		[ $refused -lt 3 ] && echo "n=$n refused: $(cat /tmp/ksf-insmod.err) / $line"
		refused=$((refused + 1))
	fi
	left=$(leftovers)
	[ -z "$left" ] || {{ echo "n=$n: $left"; exit 1; }}
	n=$((n + step))
done
ksf-failinject off
echo "sweep beyond=$n tried=$tried refused=$refused absorbed=$absorbed step=$step"
"""


def good(name):
    """The good clients' commands, one shell line."""
    return " && ".join(f"{g} >/dev/null" for g in GOOD[name])


def run(c, name, long=False):
    """The allocation-failure campaigns against NAME; C is the Campaigns
    (guest, results, table, logs)."""
    p = LONG if long else SHORT
    other = next(s for s in PORTS if s != name)
    ok, out = c.load(name)
    if ok:
        ok, out, _ = c.vm(f"[ -d /sys/module/{other} ] || insmod /lib/modules/ksf/{other}.ko",
                          c.log(name, "faults-insmod-other"), timeout=120)
    if not ok:
        return c.record("faults", name, "insmod failed", False, out, 0)
    ok, out, _ = c.vm("ksf-failinject off", c.log(name, "faults-tool"), timeout=60)
    if not ok:
        return c.record("faults", name, "ksf-failinject unusable", False, out, 0)
    confine(c, name, other)
    load(c, name, p)
    sweep(c, name, p)


def confine(c, name, other):
    """Every dumped stack of a short burst has a frame of NAME, and the
    other service is served meanwhile."""
    mark = c.guest.console_mark()
    script = CONFINE_SCRIPT.format(module=name, load=LOADS[name][0], times=6, burst=1000,
                                   other=good(other))
    ok, out, secs = c.vm(script, c.log(name, "faults-confine"), timeout=600)
    s = kv(out, "confine dumps=")
    f = kv(out, "confine dumped=")
    traces, hits = int(s.get("traces", 0)), int(s.get("with_module", -1))
    hits_console = c.guest.console_since(mark)
    ok = ok and traces > 0 and hits == traces and not hits_console
    c.record("faults confinement", name,
             f"{hits} of {traces} dumped stacks of failed allocations in {name}; "
             f"{f.get('burst', '?')} failed at 100% while {other} was served", ok,
             f"{out}\nconsole: {hits_console}", secs)


def load(c, name, p, loads=None, good_cmd=None, label="faults", insmod_args="", kmemleak=True):
    """Load while allocations fail at a rate, then in a burst; then
    everything must work again. LOADS (default: the service's LOADS) run
    over and over meanwhile, GOOD_CMD (default: good(NAME)) must be served
    afterwards; LABEL starts the campaigns' names and logs (smc.py: "smc
    faults"), INSMOD_ARGS are the module's parameters when it is loaded
    again after the rmmod; KMEMLEAK: a kmemleak scan after the rmmod (the
    caller scans later otherwise)."""
    loads = loads or LOADS[name]
    good_cmd = good_cmd or good(name)
    slug = label.replace(" ", "-")
    mark = c.guest.console_mark()
    before = c.guest.stats(name)
    quoted = " ".join("'" + cmd + "'" for cmd in loads)
    script = LOAD_SCRIPT.format(module=name, loads=quoted, **p)
    ran, out, secs = c.vm(script, c.log(name, f"{slug}-load"), timeout=p["rate_secs"] + 900)
    rate = kv(out, "faults phase=rate")
    burst = kv(out, "faults phase=burst")
    runs = re.findall(r"^load runs=(\d+) failed=(\d+): (.*)$", out, re.M)
    # Afterwards: every connection closes, a good client is served.
    st = c.drained(name)
    gok, gout, _ = c.vm(good_cmd, c.log(name, f"{slug}-good"), timeout=600)
    after = c.guest.stats(name)
    hits = c.guest.console_since(mark)
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in PATHS}
    failed = [int(rate.get("failed", 0)), int(burst.get("failed", 0))]
    counted = sum(delta.values())
    loads_txt = "; ".join(f"{cmd.split()[0]}{' -u' if ' -u ' in cmd else ''}"
                          f"{' -f' if ' -f ' in cmd else ''}{' --smc' if ' --smc' in cmd else ''}"
                          f" {r} runs ({f} with errors)"
                          for r, f, cmd in runs)
    figures = (f"{failed[0]} allocations failed at {p['rate']}% in {p['rate_secs']} s, "
               f"{failed[1]} in a 100% burst (at most {p['burst_times']} per kind); "
               + ", ".join(f"{k} +{v}" for k, v in delta.items())
               + f"; loads: {loads_txt}; afterwards active {st.get('active')}, "
               f"conn_mem {st.get('conn_mem')}, good client {'served' if gok else 'NOT served'}")
    ok = (ran and failed[0] > 0 and failed[1] > 0 and counted > 0 and gok
          and st.get("active") == 0 and st.get("conn_mem") == 0 and not hits and len(runs) ==
          len(loads))
    c.record(f"{label} under load", name, figures, ok,
             f"{out}\nstats before {before}\nafter {after}\ngood client:\n{gout}\n"
             f"console: {hits}", secs)
    # Unloads, and nothing leaked on the failure paths.
    scan = " && ksf-kmemleak" if kmemleak else ""
    ok, out, secs = c.vm(f"rmmod {name}{scan} && insmod /lib/modules/ksf/{name}.ko {insmod_args}",
                         c.log(name, f"{slug}-rmmod"), timeout=300)
    c.record(f"{label} rmmod{', kmemleak' if kmemleak else ''}", name,
             f"rmmod after the failures{', kmemleak clean' if kmemleak else ''}", ok, out, secs)


def sweep(c, name, p):
    """insmod with each allocation of the module's init failed in turn."""
    mark = c.guest.console_mark()
    script = SWEEP_SCRIPT.format(module=name, modules=" ".join(PORTS), step=p["sweep_step"],
                                 port=PORTS[name])
    ok, out, secs = c.vm(script, c.log(name, "faults-insmod"), timeout=3600)
    s = kv(out, "sweep ")
    hits = c.guest.console_since(mark)
    if ok:
        gok, gout, _ = c.vm(f"{good(name)} && ksf-kmemleak", c.log(name, "faults-insmod-after"),
                            timeout=600)
        ok, out = gok, out + "\nafter the sweep:\n" + gout
    every = "every" if p["sweep_step"] == 1 else f"every {p['sweep_step']}th"
    c.record("faults insmod", name,
             f"{every} allocation of init failed ({s.get('beyond', '?')} was past the last): "
             f"{s.get('tried', '?')} loads, {s.get('refused', '?')} refused cleanly, "
             f"{s.get('absorbed', '?')} absorbed; nothing left behind, then served, "
             f"kmemleak clean", ok and bool(s) and not hits, f"{out}\nconsole: {hits}", secs)
