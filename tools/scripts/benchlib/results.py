# SPDX-License-Identifier: GPL-2.0
"""The numbers of make bench: the load generators' rows parsed into
per-run values, their medians and spreads, the ratios to ksf's servers and
the goals of the benchmark.

A run is one iteration of rpctest, echotest or pingpong (rpctest opens new
connections for each; echotest and pingpong keep theirs). All three are
run with "-q 50,99", so each row has the run's own median latency (p50)
and 99th percentile, whatever the tool's MedLat column means.
"""

import re

DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")

# The server every other one is compared with, per suite.
REFERENCE = {"rpc": "krpc2", "echo": "kecho"}
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
    """Per-run values from a tool's output (header included): a list of
    dicts with ops, usecs, rate (per second), p50_us, p99_us, cpu_us
    (the tool's CPU time per operation, all jobs together) and errors.
    Summary rows ('med', 'all') and anything that is not a row are
    skipped."""
    names = None
    runs = []
    for line in text.splitlines():
        cells = line.split()
        if not cells:
            continue
        if cells[0] == "Date":
            names = cells
            continue
        if names is None or not DATE.match(cells[0]) or len(cells) != len(names):
            continue
        row = dict(zip(names, cells))
        if "iter" in row and not row["iter"].isdigit():
            continue
        ops = _num(row.get("calls", row.get("msgs")))
        usecs = _num(row.get("usecs"))
        if ops is None or not usecs:
            continue
        runs.append({
            "ops": int(ops),
            "usecs": usecs,
            "rate": ops * 1e6 / usecs,
            "p50_us": _num(row.get("p50")),
            "p99_us": _num(row.get("p99")),
            "cpu_us": _num(row.get("cpu/call", row.get("cpu/msg"))),
            "errors": int(_num(row.get("errors")) or 0),
        })
    return runs


def median(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def summarise(runs, jobs):
    """Median and min/max of the runs' rate and median latency; the median
    99th percentile; the client's load: the fraction of its job threads'
    time spent on the CPU (1.0: the load generator is the bottleneck)."""
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
        "errors": sum(r["errors"] for r in runs),
    }


def point_key(p):
    """A point as text: '-j1 -a128' (RPC) or '64 B -a1' (echo)."""
    if p["suite"] == "rpc":
        return f"-j{p['jobs']} -a{p['inflight']}"
    size = p["size"]
    size = f"{size // 1024} KiB" if size >= 1024 and size % 1024 == 0 else f"{size} B"
    return f"{size} -a{p['inflight']}"


def find(results, suite, server, point):
    """The summary of SERVER at POINT (a point_key), or None."""
    for r in results:
        if (r["suite"], r["server"], point_key(r["point"])) == (suite, server, point):
            return r.get("summary")
    return None


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


def goals(results):
    """The goals of issue #5: [(text, met (True/False/None = no data),
    detail)]."""
    out = []
    k = "krpc2"

    def get(suite, server, point):
        return find(results, suite, server, point)

    for pt in ("-j1 -a128", "-j2 -a128"):
        a, b = get("rpc", k, pt), get("rpc", "knfsd", pt)
        text = f"krpc2 >= 2x knfsd RPC/s at {pt}"
        if a and b:
            ratio = a["rate"] / b["rate"]
            out.append((text, ratio >= 2, f"{a['rate']:,.0f} vs {b['rate']:,.0f} RPC/s: "
                        f"{ratio:.2f}x"))
        else:
            out.append((text, None, "no result for " + ("knfsd" if a else "krpc2")))

    a, b = get("rpc", k, "-j1 -a1"), get("rpc", "knfsd", "-j1 -a1")
    text = "krpc2 -a1 median latency below knfsd's"
    if a and b and a["lat_us"] and b["lat_us"]:
        out.append((text, a["lat_us"] < b["lat_us"],
                    f"{a['lat_us']:.1f} vs {b['lat_us']:.1f} us"))
    else:
        out.append((text, None, "no result for " + ("knfsd" if a else "krpc2")))

    for suite, ref, what in (("rpc", k, "RPC/s"), ("echo", "kecho", "msgs/s")):
        text = f"{ref} beats every user-space {'RPC' if suite == 'rpc' else 'echo'} server"
        points = list(dict.fromkeys(point_key(r["point"]) for r in results
                                    if r["suite"] == suite and r["server"] not in FLOORS))
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
        if missing:
            detail += "; missing: " + ", ".join(missing)
        out.append((text, worst[0] > 1 and not missing, detail))

    a = get("rpc", k, "-j1 -a1")
    floors = [(f, get("echo", f, "64 B -a1")) for f in FLOORS]
    floors = [(f, s) for f, s in floors if s and s["lat_us"]]
    text = "krpc2 -a1 median round trip within 1.3x of the floor (64 B)"
    if a and a["lat_us"] and floors:
        name, best = min(floors, key=lambda fs: fs[1]["lat_us"])
        ratio = a["lat_us"] / best["lat_us"]
        out.append((text, ratio <= 1.3, f"{a['lat_us']:.1f} vs {best['lat_us']:.1f} us "
                    f"({name}): {ratio:.2f}x"))
    else:
        out.append((text, None, "no result for " + ("the floor" if a else "krpc2")))
    return out


def _selftest():
    rpc = """Date                 TD  INF     MedRPC   MedLat      Mbps   MinLat      p50      p99   MaxLat      calls      usecs cpu/call snd/call rcv/call errors
2026-11-22T03:54:52   1    1      22144     34.4      12.8     31.0     34.4    186.9   5578.5      20000     903174    22.86    1.000    1.000      0
2026-11-22T03:54:53   1    1      20950     34.8      11.4     31.9     35.2    190.0   6239.6      20000    1012392    26.98    1.000    1.000      0
rpctest: a message
all                   1    1      19755     35.2      11.4     31.0     34.9    205.3   6239.6      60000    2933686    25.68    1.000    1.000      0
"""
    runs = parse_rows(rpc)
    assert len(runs) == 2, runs
    assert runs[0]["ops"] == 20000 and abs(runs[0]["rate"] - 22144.1) < 1, runs[0]
    assert runs[1]["p50_us"] == 35.2 and runs[1]["cpu_us"] == 26.98
    echo = """Date                iter jobs inflight     len      msgs      usecs     msgs/s      Mbps   MinLat   MedLat      p50      p99   MaxLat cpu/msg errors
2026-11-22T04:02:21    1    1        1      64     20000    1494673      13381       6.9     34.5     38.3     38.3    542.7  22422.8   44.34      0
2026-11-22T04:02:22    2    1        1      64     20000    1321774      15131       7.7     34.2     37.8     37.8    390.1  10069.0   42.44      1
2026-11-22T04:02:22  med    1        1      64     20000    1408223      14256       7.3     34.4     38.0     38.0    466.4  16245.9   43.39      0
"""
    runs = parse_rows(echo)
    assert [r["errors"] for r in runs] == [0, 1]
    s = summarise(runs, 1)
    assert s["runs"] == 2 and s["lat_us"] == 38.05 and s["errors"] == 1, s
    assert 0.5 < s["client_busy"] < 0.7, s
    assert parse_rows("rpctest: cannot connect\n") == []
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None
    print("bench.results: self-test passed")
