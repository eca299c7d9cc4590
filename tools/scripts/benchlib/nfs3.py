# SPDX-License-Identifier: GPL-2.0
"""The NFSv3 suite of make bench (issue #17): krpc2's in-memory export
against knfsd's tmpfs export, driven by rpctest's NFSv3 procedures, every
reply checked.

Points, all in the original's method (one call per send, at most one
reply per receive):

  GETATTR -j1 -a1, GETATTR -j1 -a128, GETATTR -j2 -a128
  READ and WRITE of 4 KiB, 64 KiB and 1 MiB, each at -j1 -a1 and -j1 -a16
  (named "READ 1 MiB -a16"), on file0 of the export, offsets cycling
  over the file
  pingpong 1 MiB  the floors (floor, floor-1cpu, floor-2cpu: the echo
                  suite's three placements): pingpong -s 1m, 1 MiB
                  written and echoed back per round trip; its MB/s is the
                  one-way payload rate (round trips/s x 1 MiB, in 10^6
                  bytes)

A point is {"suite": "nfs3", "proc": "getattr" | "read" | "write" |
"pingpong", "jobs", "inflight", "method": "1/send"} with "size" (bytes
per call or message) but for GETATTR. Its summary has, besides the
RPC/s, mb_s: the median over the runs of the payload MB/s (rpctest's
MBps: file data read or written; pingpong's one-way payload).
"""

from . import results as R

SUITE = "nfs3"
TITLE = ("NFSv3 over TCP (rpctest --proc, one call per send; the floor: pingpong -s 1m): "
         "RPC/s and MB/s of file data")
RST_TITLE = "NFSv3"
# The data sizes of READ and WRITE, and their windows.
SIZES = (4096, 65536, 1 << 20)
DATA_WINDOWS = (1, 16)
GETATTR = [(1, 1), (1, 128), (2, 128)]
FLOOR_SIZE = 1 << 20
# The most bytes of file data a calibration probe moves (its calls are
# otherwise bench.PROBE's, by window): a 1 MiB probe stays a few calls
# per slot of the window.
PROBE_BYTES = 300 * 4096
# Fewest calls of a measured run at 1 MiB, and at the other sizes.
MIN_CALLS_BIG, MIN_CALLS = 16, 100
# krpc2's goals over knfsd's (issue #17): GETATTR RPC/s at this point,
# READ 1 MiB MB/s; and over the floor's one-way payload MB/s.
GETATTR_POINT = "GETATTR -j1 -a128"
GETATTR_TIMES = 3
READ_TIMES = 1.5
FLOOR_SHARE = 0.8
FLOOR_POINT = "pingpong 1 MiB"


def points(server):
    """SERVER's NFSv3 points: the floor's one, or GETATTR, READ and
    WRITE at every size and window."""
    if server.port is None:
        return [{"suite": SUITE, "proc": "pingpong", "size": FLOOR_SIZE, "jobs": 1,
                 "inflight": 1, "method": "1/send"}]
    out = [{"suite": SUITE, "proc": "getattr", "jobs": j, "inflight": a, "method": "1/send"}
           for j, a in GETATTR]
    return out + [{"suite": SUITE, "proc": proc, "size": s, "jobs": 1, "inflight": a,
                   "method": "1/send"}
                  for proc in ("read", "write") for s in SIZES for a in DATA_WINDOWS]


def point_key(p):
    """'GETATTR -j1 -a128', 'READ 1 MiB -a16' or 'pingpong 1 MiB'."""
    if p["proc"] == "pingpong":
        return f"pingpong {R.size_text(p['size'])}"
    if p["proc"] == "getattr":
        return f"GETATTR -j{p['jobs']} -a{p['inflight']}"
    return f"{p['proc'].upper()} {R.size_text(p['size'])} -a{p['inflight']}"


def probe(p, count):
    """The calls of P's calibration probe: COUNT (bench.PROBE, by
    window), fewer for large calls, at least two windows' worth."""
    if not p.get("size"):
        return count
    return max(min(count, PROBE_BYTES // p["size"]), 2 * p["inflight"], 4)


def min_calls(p):
    """The fewest calls of a measured run of P."""
    return MIN_CALLS_BIG if p.get("size", 0) >= FLOOR_SIZE else MIN_CALLS


def driver(server, p, common, pin):
    """The load generator's command line for SERVER at P: rpctest with
    the NFSv3 procedure (and the server's own arguments, server.args),
    or pingpong at the floor; COMMON and PIN are bench.driver's."""
    if p["proc"] == "pingpong":
        cpu = f" --cpu {server.cpu}" if server.cpu else ""
        return f"pingpong -s {p['size']} {common}{cpu}"
    size = f" -l {p['size']}" if p.get("size") else ""
    extra = f" {server.args}" if server.args else ""
    return (f"rpctest -j {p['jobs']} -a {p['inflight']} --proc {p['proc']}{size}{extra} "
            f"{common}{pin} 127.0.0.1:{server.port}")


def _mb(x):
    return "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.3g}")


HEADERS = ["server", "point", "RPC/s", "min–max", "MB/s", "×krpc2", "median µs", "p99 µs",
           "client", "srv µs/op"]


def rows(results, compact, lat, server_cpu):
    """The NFSv3 table's rows: per point (in run order), per server; the
    cell formatters are report.py's."""
    mine = [r for r in results if r["suite"] == SUITE]
    out = []
    for pt in dict.fromkeys(point_key(r["point"]) for r in mine):
        for r in (r for r in mine if point_key(r["point"]) == pt):
            s = r.get("summary")
            if r.get("error") or not s:
                why = ((r.get("error") or "no result").strip().splitlines() or ["?"])[0]
                out.append([r["server"], pt, "error: " + why[:90]])
                continue
            ratio = s.get("rate_ratio")
            busy = s.get("client_busy")
            out.append([r["server"], pt, f"{s['rate']:,.0f}",
                        f"{compact(s['rate_min'])}–{compact(s['rate_max'])}",
                        _mb(s.get("mb_s")) if r["point"].get("size") else "-",
                        "1" if r["server"] == R.REFERENCE[SUITE] else
                        ("-" if ratio is None else f"{ratio:.2f}"),
                        lat(s["lat_us"]), lat(s["p99_us"]),
                        "-" if busy is None else f"{busy * 100:.0f}%", server_cpu(s)])
    return out


RST_HEADERS = ["server", "point", "RPC/s", "MB/s", "×krpc2", "median µs", "srv µs/op"]


def rst_rows(results, lat, server_cpu):
    """The compact NFSv3 table of Documentation/benchmarks.rst: the rows
    of rows() in RST_HEADERS' columns, errors left out, '-' cells empty
    (report.rst_table writes them as reStructuredText's '\\-')."""
    keep = [HEADERS.index(h) for h in RST_HEADERS]
    full = rows(results, str, lat, server_cpu)
    return [["" if r[i] == "-" else r[i] for i in keep] for r in full if len(r) == len(HEADERS)]


LEGEND = ("NFSv3: rpctest --proc getattr, read or write -l SIZE on file0 of the export "
          "(krpc2's in memory, knfsd's on tmpfs), one call per send; MB/s: file data "
          "read or written per second (10^6 bytes); 'pingpong 1 MiB' is the floors, "
          "pingpong -s 1m in the echo floors' three placements (RPC/s: its round trips/s, "
          "MB/s: the one-way payload, 1 MiB per round trip); ×krpc2: RPC/s over krpc2's at "
          "the point.")


def _best_read(results, server):
    """SERVER's best READ 1 MiB point: (MB/s, point) over its windows, or
    None."""
    best = None
    for a in DATA_WINDOWS:
        pt = f"READ 1 MiB -a{a}"
        s = R.find(results, SUITE, server, pt)
        if s and s.get("mb_s") and (best is None or s["mb_s"] > best[0]):
            best = (s["mb_s"], pt)
    return best


def goals(results):
    """Issue #17's goals when the run has NFSv3 points: [(text, met,
    detail)]."""
    if not any(r["suite"] == SUITE for r in results):
        return []
    out = []
    a = R.find(results, SUITE, "krpc2", GETATTR_POINT)
    b = R.find(results, SUITE, "knfsd", GETATTR_POINT)
    text = f"krpc2 >= {GETATTR_TIMES}x knfsd NFSv3 RPC/s at {GETATTR_POINT} (one call per send)"
    if a and b:
        ratio = a["rate"] / b["rate"]
        out.append((text, ratio >= GETATTR_TIMES,
                    f"{a['rate']:,.0f} vs {b['rate']:,.0f} RPC/s: {ratio:.2f}x"))
    else:
        out.append((text, None, "no result for " + ("knfsd" if a else "krpc2")))
    k, n = _best_read(results, "krpc2"), _best_read(results, "knfsd")
    text = (f"krpc2 READ 1 MiB >= {READ_TIMES}x knfsd's MB/s (tmpfs; the best of -a1 and "
            "-a16 each)")
    if k and n:
        ratio = k[0] / n[0]
        out.append((text, ratio >= READ_TIMES, f"{k[0]:,.0f} MB/s ({k[1]}) vs {n[0]:,.0f} "
                    f"MB/s ({n[1]}): {ratio:.2f}x"))
    else:
        out.append((text, None, "no result for " + ("knfsd" if k else "krpc2")))
    floors = [(name, R.find(results, SUITE, name, FLOOR_POINT)) for name in R.FLOORS]
    floors = [(name, s["mb_s"]) for name, s in floors if s and s.get("mb_s")]
    text = (f"krpc2 READ 1 MiB MB/s (the best of -a1 and -a16) >= {FLOOR_SHARE:.0%} of the "
            "floor's one-way payload MB/s (pingpong -s 1m, the best placement)")
    if k and floors:
        name, mb = max(floors, key=lambda f: f[1])
        share = k[0] / mb
        detail = f"{k[0]:,.0f} MB/s ({k[1]}) vs {mb:,.0f} MB/s ({name}): {share:.0%}"
        # Like for like: one transfer in flight at a time, as in the ping-pong.
        one = R.find(results, SUITE, "krpc2", "READ 1 MiB -a1")
        if one and one.get("mb_s") and k[1] != "READ 1 MiB -a1":
            detail += f"; READ 1 MiB -a1 {one['mb_s']:,.0f} MB/s: {one['mb_s'] / mb:.0%}"
        out.append((text, share >= FLOOR_SHARE, detail))
    else:
        out.append((text, None, "no result for " + ("the floor" if k else "krpc2")))
    return out


def _selftest():
    """The points, their names and the goals on canned summaries."""

    class S:
        def __init__(self, port, args=""):
            self.port, self.args, self.cpu = port, args, None

    pts = points(S(62049))
    keys = [point_key(p) for p in pts]
    assert len(pts) == 15 and len(set(keys)) == 15, keys
    assert keys[:3] == ["GETATTR -j1 -a1", "GETATTR -j1 -a128", "GETATTR -j2 -a128"], keys
    assert "READ 1 MiB -a16" in keys and "WRITE 4 KiB -a1" in keys, keys
    assert [point_key(p) for p in points(S(None))] == [FLOOR_POINT]
    big = next(p for p in pts if point_key(p) == "READ 1 MiB -a16")
    assert probe(big, 1000) == 32 and min_calls(big) == MIN_CALLS_BIG
    assert probe(pts[1], 3000) == 3000 and probe(pts[3], 300) == 300
    cmd = driver(S(62050, "--root-fh 01"), big, "-c 9 --json", "")
    assert cmd == ("rpctest -j 1 -a 16 --proc read -l 1048576 --root-fh 01 -c 9 --json "
                   "127.0.0.1:62050"), cmd
    assert driver(S(None), points(S(None))[0], "-c 9", "") == "pingpong -s 1048576 -c 9"
    one = S(None)
    one.cpu = "0"
    assert driver(one, points(one)[0], "-c 9", "") == "pingpong -s 1048576 -c 9 --cpu 0"

    def rec(server, key, rate, mb):
        p = next(p for p in points(S(None if server in R.FLOORS else 1))
                 if point_key(p) == key)
        return {"suite": SUITE, "server": server, "point": p,
                "summary": {"rate": rate, "mb_s": mb}}

    res = [rec("krpc2", GETATTR_POINT, 90_000, None), rec("knfsd", GETATTR_POINT, 20_000, None),
           rec("krpc2", "READ 1 MiB -a1", 500, 524), rec("krpc2", "READ 1 MiB -a16", 700, 734),
           rec("knfsd", "READ 1 MiB -a1", 400, 419), rec("knfsd", "READ 1 MiB -a16", 600, 629),
           rec("floor", FLOOR_POINT, 800, 839), rec("floor-1cpu", FLOOR_POINT, 900, 944),
           rec("floor-2cpu", FLOOR_POINT, 700, 734)]
    g = goals(res)
    assert [m for _, m, _ in g] == [True, False, False], g
    assert "4.50x" in g[0][2] and "734 MB/s (READ 1 MiB -a16) vs 629" in g[1][2], g
    assert "vs 944 MB/s (floor-1cpu): 78%; READ 1 MiB -a1 524 MB/s: 56%" in g[2][2], g
    g = goals(res[:2] + res[4:6])
    assert [m for _, m, _ in g] == [True, None, None] and "krpc2" in g[1][2], g
    assert goals([]) == []
    print("bench.nfs3: self-test passed")
