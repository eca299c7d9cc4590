# SPDX-License-Identifier: GPL-2.0
"""The numbers of make bench: the load generators' rows parsed into
per-run values, their medians and spreads, the ratios to ksf's servers and
the goals of the benchmark.

A run is one iteration of rpctest, echotest or pingpong (rpctest opens new
connections for each; echotest and pingpong keep theirs). All three are
run with "--json -q 50,99": each iteration is a JSON line with the run's
own median latency (quantiles_us.p50) and 99th percentile.

A point's "method" is how the load generator used the socket: "1/send"
(the default and the original's: one request per send, at most one answer
per receive) or "batched" (rpctest/echotest -b: the window's requests in
one send, answers read in large chunks). A batched point's name ends in
" batched", a point across two guests (benchlib/lan.py) in " lan". A
scale point has "conns", the connections of all jobs (rpctest -C), and is
named "256 conns -a1"; the scale series of a server is its scale points
with the -j1 -a1 point as its one connection.

Every measured command is bracketed by samples of the guest's CPU time
(server_cpu: the guest's busy time less the load generator's own, per
operation) and, at a scale point, by samples of its memory in use
(memory: per connection).
"""

import json

from . import nfs3

# The server every other one is compared with, per suite.
REFERENCE = {"rpc": "krpc2", "echo": "kecho", "nfs3": "krpc2"}
# The user-space servers the reference must beat.
USERSPACE = {"rpc": ("usrv-epoll", "usrv-uring"), "echo": ("usrv-epoll", "usrv-uring")}
FLOORS = ("floor", "floor-1cpu", "floor-2cpu")
TITLES_SHORT = {"rpc": "RPC NULL (rpctest)", "echo": "Echo (echotest; floor: pingpong)"}


def _num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def parse_rows(text):
    """Per-run values from a tool's --json output: a list of dicts with
    ops, usecs, rate (per second), p50_us, p99_us, cpu_us (the tool's CPU
    time per operation, all jobs together), errors and mb_s (the payload
    in MB/s: rpctest's MBps, pingpong's one-way mbps / 8; None for the
    others), one per "iter" record. The "summary" record and every line
    that is not a JSON object (the tool's messages on stderr, merged by
    the guest agent) are skipped."""
    runs = []
    for rec in json_records(text, "iter"):
        ops, usecs = rec.get("ops"), _num(rec.get("usecs"))
        if ops is None or not usecs:
            continue
        quantiles = rec.get("quantiles_us") or {}
        runs.append({
            "ops": int(ops),
            "usecs": usecs,
            "rate": _num(rec.get("rate")),
            "p50_us": _num(quantiles.get("p50", rec.get("median_us"))),
            "p99_us": _num(quantiles.get("p99")),
            "cpu_us": _num(rec.get("cpu_us_per_op")),
            "sends_per_op": _num(rec.get("sends_per_op")),
            "recvs_per_op": _num(rec.get("recvs_per_op")),
            "errors": int(rec.get("errors") or 0),
            "mb_s": payload_mb_s(rec),
        })
    return runs


def payload_mb_s(rec):
    """An iter record's payload rate in MB/s (10^6 bytes): rpctest's
    MBps (NFSv3 READ and WRITE data), pingpong's one-way payload (its
    mbps, megabits); None for the others."""
    if rec.get("MBps") is not None:
        return _num(rec["MBps"])
    if rec.get("tool") == "pingpong" and rec.get("mbps") is not None:
        mbps = _num(rec["mbps"])
        return None if mbps is None else mbps / 8
    return None


# /proc/stat's first line: user nice system idle iowait irq softirq steal
# (guest and guest_nice are within user and nice); busy is all but idle and
# iowait. Its unit is USER_HZ, 100 on x86.
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
USER_HZ = 100
# The server's share of the guest's busy time below which its CPU time is
# the difference of two near-equal figures (tick-sampled busy time against
# the load generator's exact CPU time): reported, but marked unreliable.
CPU_RELIABLE_SHARE = 0.15
# Fewest connections at which memory per connection is reported: below,
# the connections' memory is within the guest's own noise.
MEM_MIN_CONNS = 64


def json_records(text, kind):
    """The JSON objects of TEXT's lines whose "type" is KIND; every other
    line (the tool's messages on stderr, merged by the guest agent) is
    skipped."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("type") == kind:
            yield rec


def parse_summary(text):
    """The "summary" record of a tool's --json output, or None."""
    return next(json_records(text, "summary"), None)


def server_cpu(text, client_here=True):
    """From a measured command's output (the tool's JSON lines between two
    'bench-stat' lines, the first line of /proc/stat before and after):
    guest_cpu_us, the guest's busy CPU time (all CPUs, softirq included)
    per operation; client_cpu_us, the load generator's (its whole
    process's CPU time) per operation; server_cpu_us, the difference: what
    the server (and the kernel for it) spent per operation; client_share,
    the load generator's part of the busy time; cpu_unreliable when the
    server's part is below CPU_RELIABLE_SHARE (server_cpu_us is then None
    if negative). Empty when a figure is missing. CLIENT_HERE false: the
    load generator ran in another guest (benchlib/lan.py), so the guest's
    busy time is all the server's."""
    stats = [ln.split()[2:] for ln in text.splitlines() if ln.startswith("bench-stat cpu ")]
    summary = parse_summary(text)
    if len(stats) != 2 or not summary or not summary.get("ops"):
        return {}
    if summary.get("process_cpu_us") is None:
        return {}
    try:
        before, after = ([int(v[i]) for i in BUSY_FIELDS] for v in stats)
    except (ValueError, IndexError):
        return {}
    busy_us = (sum(after) - sum(before)) * 1e6 / USER_HZ
    ops = summary["ops"]
    client_us = float(summary["process_cpu_us"])
    server_us = busy_us - client_us if client_here else busy_us
    share = client_us / busy_us if busy_us > 0 and client_here else None
    unreliable = busy_us <= 0 or server_us < CPU_RELIABLE_SHARE * busy_us
    return {
        "guest_cpu_us": busy_us / ops,
        "client_cpu_us": client_us / ops,
        "server_cpu_us": server_us / ops if server_us >= 0 else None,
        "client_share": share,
        "cpu_unreliable": unreliable,
    }


def memory(text, conns):
    """From a scale point's output (its 'bench-mem BASE PEAK SAMPLES'
    line, kB): mem_kb, the most memory in use during the run less the load
    generator's resident set, over what was in use before it; and, from
    MEM_MIN_CONNS connections on, mem_per_conn_kb. Empty without the line
    or without a sample."""
    if not conns:
        return {}
    for ln in text.splitlines():
        f = ln.split()
        if len(f) == 4 and f[0] == "bench-mem" and all(x.isdigit() for x in f[1:]):
            base, peak, n = (int(x) for x in f[1:])
            if n == 0:
                return {}
            grew = max(0, peak - base)
            return {"mem_kb": grew, "mem_samples": n,
                    "mem_per_conn_kb": grew / conns if conns >= MEM_MIN_CONNS else None}
    return {}


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def summarise(runs, jobs):
    """Median and min/max of the runs' rate and median latency; the median
    99th percentile and payload MB/s (mb_s, None without one); the
    client's load: the fraction of its job threads' time spent on the CPU
    (1.0: the load generator is the bottleneck)."""
    if not runs:
        return None
    rates = [r["rate"] for r in runs]
    lats = [r["p50_us"] for r in runs if r["p50_us"] is not None]
    busy = [r["cpu_us"] * r["rate"] / 1e6 / jobs for r in runs if r["cpu_us"] is not None]
    return {
        "runs": len(runs),
        "rate": median(rates), "rate_min": min(rates), "rate_max": max(rates),
        "lat_us": median(lats), "lat_min": min(lats) if lats else None,
        "lat_max": max(lats) if lats else None,
        "p99_us": median(r["p99_us"] for r in runs),
        "client_busy": median(busy),
        "sends_per_op": median(r.get("sends_per_op") for r in runs),
        "recvs_per_op": median(r.get("recvs_per_op") for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "mb_s": median(r.get("mb_s") for r in runs),
    }


BATCHED = "batched"
SCALE = "scale"


def scale_point(conns, jobs):
    """The RPC point of CONNS connections, one call in flight on each, in
    the original method, over min(JOBS, CONNS) jobs."""
    jobs = min(jobs, conns)
    return {"suite": "rpc", "jobs": jobs, "conns": conns, "inflight": 1,
            "method": "1/send", "series": SCALE}


def point_key(p):
    """A point as text: '-j1 -a128' (RPC), '256 conns -a1' (RPC, scale) or
    '64 B -a1' (echo), followed by ' batched' in the batched method, and by
    ' lan' across two guests; an NFSv3 point as nfs3.point_key names it."""
    if p["suite"] == nfs3.SUITE:
        return nfs3.point_key(p)
    batched = " " + BATCHED if p.get("method") == BATCHED else ""
    batched += " lan" if p.get("topology") == "lan" else ""
    if p.get("conns"):
        return f"{p['conns']} conns -a{p['inflight']}{batched}"
    if p["suite"] == "rpc":
        return f"-j{p['jobs']} -a{p['inflight']}{batched}"
    return f"{size_text(p['size'])} -a{p['inflight']}{batched}"


def size_text(n):
    """Bytes as '64 B', '4 KiB' or '1 MiB'."""
    for unit, div in (("MiB", 1 << 20), ("KiB", 1024)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def find(results, suite, server, point):
    """The summary of SERVER at POINT (a point_key), or None."""
    for r in results:
        if (r["suite"], r["server"], point_key(r["point"])) == (suite, server, point):
            return r.get("summary")
    return None


# The point whose server CPU per call the goal compares: one connection,
# 128 calls in flight, the original method, where no load generator
# thread is saturated in the runs so far.
CPU_POINT = "-j1 -a128"


def scale_series(results, server):
    """SERVER's scale curve: [(connections, summary)] by connections, the
    -j1 -a1 point as one connection; only points with a summary."""
    out = []
    s = find(results, "rpc", server, "-j1 -a1")
    if s:
        out.append((1, s))
    for r in results:
        p = r["point"]
        if (r["server"] == server and p.get("series") == SCALE and r.get("summary")):
            out.append((p["conns"], r["summary"]))
    return sorted(out, key=lambda cs: cs[0])


def scale_servers(results):
    """The servers with scale points, in run order."""
    return list(dict.fromkeys(r["server"] for r in results
                              if r["point"].get("series") == SCALE))


def add_ratios(results):
    """Each result's rate and latency relative to the reference server's
    at the same point (krpc2 for RPC, kecho for echo)."""
    for r in results:
        s = r.get("summary")
        if not s:
            continue
        ref = find(results, r["suite"], REFERENCE[r["suite"]], point_key(r["point"]))
        s["rate_ratio"] = s["rate"] / ref["rate"] if ref and ref["rate"] else None
        s["lat_ratio"] = (s["lat_us"] / ref["lat_us"]
                          if ref and ref["lat_us"] and s["lat_us"] else None)


# krpc2's least RPC/s over knfsd's, per point: in the original method
# (issue #15), and batched (#15, and #5's 2x, which the run had in the
# batched method). At -a1 the two methods are one (a window of one call),
# so it is measured once.
KNFSD_GOALS = [("-j1 -a1", 3), ("-j1 -a64", 3), ("-j1 -a128", 3),
               ("-j1 -a64 batched", 10), ("-j1 -a128 batched", 10),
               ("-j2 -a128 batched", 2)]


def goals(results):
    """The goals of issues #5 and #15: [(text, met (True/False/None = no
    data), detail)]. A knfsd ratio is a goal only at the points of the
    run (BENCH_QUICK=1 has fewer)."""
    out = []
    k = "krpc2"

    def get(suite, server, point):
        return find(results, suite, server, point)

    ran = {point_key(r["point"]) for r in results if r["suite"] == "rpc"}
    for pt, times in KNFSD_GOALS:
        if pt not in ran:
            continue
        a, b = get("rpc", k, pt), get("rpc", "knfsd", pt)
        text = f"krpc2 >= {times}x knfsd RPC/s at {pt}"
        if a and b:
            ratio = a["rate"] / b["rate"]
            detail = f"{a['rate']:,.0f} vs {b['rate']:,.0f} RPC/s: {ratio:.2f}x"
            if pt == "-j1 -a1":
                bound = floor_bound(results, b, "")
                detail += f"; {bound}" if bound else ""
            out.append((text, ratio >= times, detail))
        else:
            out.append((text, None, "no result for " + ("knfsd" if a else "krpc2")))

    a, b = get("rpc", k, "-j1 -a1"), get("rpc", "knfsd", "-j1 -a1")
    text = "krpc2 -a1 median latency below knfsd's (both methods: one at -a1)"
    if a and b and a["lat_us"] and b["lat_us"]:
        out.append((text, a["lat_us"] < b["lat_us"],
                    f"{a['lat_us']:.1f} vs {b['lat_us']:.1f} us"))
    else:
        out.append((text, None, "no result for " + ("knfsd" if a else "krpc2")))

    for suite, ref, what in (("rpc", k, "RPC/s"), ("echo", "kecho", "msgs/s")):
        text = f"{ref} beats every user-space {'RPC' if suite == 'rpc' else 'echo'} server"
        points = list(dict.fromkeys(point_key(r["point"]) for r in results
                                    if r["suite"] == suite and r["server"] not in FLOORS
                                    and r["point"].get("topology") != "lan"))
        worst, missing = None, []
        for pt in points:
            a = get(suite, ref, pt)
            for us in USERSPACE[suite]:
                b = get(suite, us, pt)
                if not a or not b:
                    missing.append(f"{us if a else ref} {pt}")
                    continue
                ratio = a["rate"] / b["rate"]
                if worst is None or ratio < worst[0]:
                    worst = (ratio, us, pt, a["rate"], b["rate"])
        if worst is None:
            out.append((text, None, "no results"))
            continue
        detail = (f"closest: {worst[1]} at {worst[2]}, {worst[3]:,.0f} vs {worst[4]:,.0f} "
                  f"{what} ({worst[0]:.2f}x)")
        detail += client_busy(get(suite, ref, worst[2]), get(suite, worst[1], worst[2]),
                              ref, worst[1])
        if missing:
            detail += "; missing: " + ", ".join(missing)
        out.append((text, worst[0] > 1 and not missing, detail))

    out.append(cpu_goal(results))
    out.append(backend_goal(results))
    if any(r["point"].get("series") == SCALE for r in results):
        out.append(scale_goal(results))

    a = get("rpc", k, "-j1 -a1")
    floor = fastest_floor(results, "")
    text = "krpc2 -a1 median round trip within 1.3x of the floor (64 B)"
    if a and a["lat_us"] and floor:
        name, best = floor
        ratio = a["lat_us"] / best["lat_us"]
        out.append((text, ratio <= 1.3, f"{a['lat_us']:.1f} vs {best['lat_us']:.1f} us "
                    f"({name}): {ratio:.2f}x"))
    else:
        out.append((text, None, "no result for " + ("the floor" if a else "krpc2")))
    from .smc import smc_goals  # smc imports this module
    return out + smc_goals(results)


def fastest_floor(results, lan):
    """(name, summary) of the floor placement with the lowest 64 B -a1
    median at topology LAN ("" or " lan"), or None without one."""
    floors = [(f, find(results, "echo", f, "64 B -a1" + lan)) for f in FLOORS]
    floors = [(f, s) for f, s in floors if s and s["lat_us"]]
    return min(floors, key=lambda fs: fs[1]["lat_us"]) if floors else None


def floor_bound(results, knfsd, lan):
    """The bound the floor (its fastest placement's 64 B -a1 median, at
    topology LAN: "" or " lan") puts on any server's -a1 ratio to knfsd
    (summary KNFSD): no server answers faster than the floor, so none is
    more than knfsd's median over the floor's ahead of it. As text to add
    to a goal's detail, empty without the figures."""
    floor = fastest_floor(results, lan)
    if not floor or not knfsd.get("lat_us"):
        return ""
    name, best = floor
    return (f"the floor bounds it: knfsd's median {knfsd['lat_us']:.1f} us over "
            f"{name}'s {best['lat_us']:.1f} us is {knfsd['lat_us'] / best['lat_us']:.2f}x "
            f"at most")


def client_busy(a, b, name_a, name_b):
    """The load generator's busy share against servers NAME_A and NAME_B
    (summaries A and B) as text to add to a goal's detail: near 100%, the
    client, not the server, sets the rate."""
    if not (a and b) or a.get("client_busy") is None or b.get("client_busy") is None:
        return ""
    return (f"; the load generator busy {a['client_busy']:.0%} against {name_a}, "
            f"{b['client_busy']:.0%} against {name_b}")


# The default backend of each module and the other one, as bench servers.
BACKENDS = (("rpc", "krpc2", "krpc2-wq"), ("echo", "kecho", "kecho-wq"))


def backend_goal(results):
    """The default backend (ksf's pool) at least as fast as the other (the
    workqueue) at every loopback point both ran: behind only where its
    runs' best rate is below the other's worst (beyond the spread)."""
    text = "the default backend (pool) at least as fast as the other (wq) at every point"
    worst, behind = None, []
    for suite, pool, wq in BACKENDS:
        for r in results:
            if r["suite"] != suite or r["server"] != pool or r["point"].get("topology"):
                continue
            pt = point_key(r["point"])
            a, b = r.get("summary"), find(results, suite, wq, pt)
            if not (a and b and b["rate"]):
                continue
            ratio = a["rate"] / b["rate"]
            if worst is None or ratio < worst[0]:
                worst = (ratio, pool, pt)
            if a["rate_max"] < b["rate_min"]:
                behind.append(f"{pool} {pt} ({ratio:.2f}x)")
    if worst is None:
        return (text, None, "no results of both backends")
    detail = f"least ratio {worst[0]:.2f}x ({worst[1]} {worst[2]})"
    detail += ("; behind beyond the runs' spread at " + ", ".join(behind) if behind
               else "; nowhere behind beyond the runs' spread")
    return (text, not behind, detail)


def _cpu(s):
    return s.get("server_cpu_us") if s else None


def cpu_goal(results):
    """krpc2's server CPU per call at CPU_POINT at most a fifth of knfsd's
    and half of the best user-space server's."""
    text = (f"krpc2 server CPU per call <= 1/5 of knfsd's and <= 1/2 of the best "
            f"user-space server's at {CPU_POINT}")
    k = find(results, "rpc", "krpc2", CPU_POINT)
    n = find(results, "rpc", "knfsd", CPU_POINT)
    users = [(u, find(results, "rpc", u, CPU_POINT)) for u in USERSPACE["rpc"]]
    users = [(u, s) for u, s in users if _cpu(s) is not None]
    if _cpu(k) is None or _cpu(n) is None or not users:
        missing = [name for name, s in [("krpc2", k), ("knfsd", n)] if _cpu(s) is None]
        missing += [] if users else ["a user-space server"]
        return (text, None, "no CPU figure for " + ", ".join(missing))
    best, bs = min(users, key=lambda us: us[1]["server_cpu_us"])
    kc, nc, uc = k["server_cpu_us"], n["server_cpu_us"], bs["server_cpu_us"]
    met = kc * 5 <= nc and kc * 2 <= uc

    def times(x):
        return f"{x / kc:.1f}x" if kc else "krpc2 ~0"

    detail = f"{kc:.1f} vs knfsd {nc:.1f} us ({times(nc)}) and {best} {uc:.1f} us ({times(uc)})"
    shaky = [name for name, s in [("krpc2", k), ("knfsd", n), (best, bs)]
             if s.get("cpu_unreliable")]
    if shaky:
        detail += f"; unreliable (the client's share of the CPU): {', '.join(shaky)}"
    return (text, met, detail)


# krpc2 at the largest scale point keeps this share of its best rate.
SCALE_KEEP = 0.8
SCALE_GOAL_CONNS = 1024


def scale_goal(results):
    """krpc2 at SCALE_GOAL_CONNS connections keeps SCALE_KEEP of the best
    rate of its scale series."""
    text = (f"krpc2 at {SCALE_GOAL_CONNS:,} connections keeps >= {SCALE_KEEP:.0%} of its best "
            f"aggregate rate (scale series, -a1 per connection)")
    series = scale_series(results, "krpc2")
    at = [s for c, s in series if c == SCALE_GOAL_CONNS]
    if not at or not series:
        return (text, None, f"no krpc2 result at {SCALE_GOAL_CONNS} connections")
    conns, best = max(series, key=lambda cs: cs[1]["rate"])
    ratio = at[0]["rate"] / best["rate"]
    return (text, ratio >= SCALE_KEEP,
            f"{at[0]['rate']:,.0f} vs {best['rate']:,.0f} RPC/s at {conns} connections "
            f"({ratio:.2%})")


def _selftest():
    # Real output of rpctest and echotest --json -q 50,99 against usrv on
    # the host, with a message on stderr in between.
    rpc = """{"type":"iter","tool":"rpctest","iter":1,"jobs":1,"inflight":8,"ops":2000,"usecs":63932.84,"rate":31282.827417020737,"mbps":18.018908592203942,"min_us":31.052,"median_us":32.319,"quantiles_us":{"p50":32.319,"p99":3989.503},"max_us":6606.018,"cpu_us_per_op":2.9581109999999997,"sends_per_op":0.125,"recvs_per_op":0.125,"errors":0}
rpctest: job 0: a message {"type": "iter"}
{"type":"iter","tool":"rpctest","iter":2,"jobs":1,"inflight":8,"ops":2000,"usecs":23711.849,"rate":84346.01620480967,"mbps":48.58330533397037,"min_us":19.773,"median_us":22.719,"quantiles_us":{"p50":22.719,"p99":1978.367},"max_us":5519.498,"cpu_us_per_op":2.0370619999999997,"sends_per_op":0.125,"recvs_per_op":0.125,"errors":0}
{"type":"summary","tool":"rpctest","iters":2,"jobs":1,"inflight":8,"ops":4000,"usecs":87644.689,"rate":57814.42181091,"mbps":33.3,"min_us":19.773,"median_us":27.5,"quantiles_us":{"p50":26.815,"p99":2383.871},"max_us":6606.018,"cpu_us_per_op":2.5,"sends_per_op":0.125,"recvs_per_op":0.125,"errors":0}
"""
    runs = parse_rows(rpc)
    assert len(runs) == 2, runs
    assert runs[0]["ops"] == 2000 and abs(runs[0]["rate"] - 31282.8) < 1, runs[0]
    assert runs[1]["p50_us"] == 22.719 and runs[1]["p99_us"] == 1978.367, runs[1]
    assert abs(runs[1]["cpu_us"] - 2.037) < 1e-3, runs[1]
    echo = """{"type":"iter","tool":"echotest","iter":1,"jobs":1,"inflight":1,"len":64,"ops":2000,"usecs":126666.73,"rate":15789.465789477632,"mbps":8.084206484212547,"min_us":15.01,"median_us":16.351,"quantiles_us":{"p50":16.351,"p99":1839.103},"max_us":6632.111,"cpu_us_per_op":11.785733500000001,"errors":0}
{"type":"iter","tool":"echotest","iter":2,"jobs":1,"inflight":1,"len":64,"ops":2000,"usecs":128180.973,"rate":15602.939759241803,"mbps":7.988705156731803,"min_us":14.68,"median_us":15.967,"quantiles_us":{"p50":15.967,"p99":2019.327},"max_us":8206.431,"cpu_us_per_op":11.3617795,"errors":1}
{"type":"iter","tool":"echotest","iter":3,"jobs":1,"inflight":1,"len":64,"ops":2000,"usecs":0,"rate":0,"mbps":0,"min_us":0,"median_us":0,"quantiles_us":{},"max_us":0,"cpu_us_per_op":0,"errors":0}
{"type":"iter","tool":"echotest","iter":4,
"""
    runs = parse_rows(echo)
    assert [r["errors"] for r in runs] == [0, 1], runs
    s = summarise(runs, 1)
    assert s["runs"] == 2 and abs(s["lat_us"] - 16.159) < 1e-9 and s["errors"] == 1, s
    assert 0.15 < s["client_busy"] < 0.2, s
    assert parse_rows("rpctest: cannot connect\n") == []
    assert parse_rows(rpc)[0]["sends_per_op"] == 0.125 and s["sends_per_op"] is None, s
    assert s["mb_s"] is None and parse_rows(rpc)[0]["mb_s"] is None, s
    nfs = rpc.replace('"errors":0}', '"errors":0,"payload_bytes":8192000,"MBps":128.1}')
    assert summarise(parse_rows(nfs), 1)["mb_s"] == 128.1
    ping = ('{"type":"iter","tool":"pingpong","iter":1,"len":1048576,"ops":100,'
            '"usecs":5e5,"rate":200,"mbps":1677.7}\n')
    assert abs(parse_rows(ping)[0]["mb_s"] - 209.7125) < 1e-9, parse_rows(ping)
    p = {"suite": "rpc", "jobs": 1, "inflight": 64}
    assert point_key(p) == "-j1 -a64" == point_key(dict(p, method="1/send"))
    assert point_key(dict(p, method=BATCHED)) == "-j1 -a64 batched"
    p = {"suite": "echo", "jobs": 1, "inflight": 128, "size": 64, "method": BATCHED}
    assert point_key(p) == "64 B -a128 batched"
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None
    assert point_key(scale_point(256, 2)) == "256 conns -a1"
    assert scale_point(1, 2)["jobs"] == 1
    # 2 s of 2 busy CPUs (400 ticks) of which the client used 3 s, over
    # 100k calls: 40 us of guest CPU, 30 of client, 10 of server per call.
    out = (rpc + "bench-stat cpu  100 0 100 900 5 0 0 0 0 0\n"
           "bench-stat cpu  300 0 250 900 9 0 50 0 0 0\n")
    out = out.replace('"ops":4000,', '"ops":100000,').replace(
        '"process_cpu_us"', '"x"').replace('"errors":0}\n', '"errors":0,"process_cpu_us":3e6}\n', 3)
    c = server_cpu(out)
    assert abs(c["guest_cpu_us"] - 40) < 1e-9 and abs(c["server_cpu_us"] - 10) < 1e-9, c
    assert abs(c["client_share"] - 0.75) < 1e-9 and not c["cpu_unreliable"], c
    c = server_cpu(out.replace("3e6", "4.2e6"))
    assert c["server_cpu_us"] is None and c["cpu_unreliable"], c
    c = server_cpu(out.replace("3e6", "3.6e6"))
    assert abs(c["server_cpu_us"] - 4) < 1e-9 and c["cpu_unreliable"], c
    assert server_cpu(rpc) == {}
    # The load generator in another guest: the busy time is the server's.
    c = server_cpu(out, client_here=False)
    assert abs(c["server_cpu_us"] - 40) < 1e-9 and c["client_share"] is None, c
    assert memory("bench-mem 1000 11240 7\n", 1024) == {
        "mem_kb": 10240, "mem_samples": 7, "mem_per_conn_kb": 10.0}
    assert memory("bench-mem 1000 1100 3\n", 16)["mem_per_conn_kb"] is None
    assert memory("bench-mem 1000 1100 0\n", 256) == {} and memory("", 256) == {}
    print("bench.results: self-test passed")
