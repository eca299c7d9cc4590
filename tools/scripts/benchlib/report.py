# SPDX-License-Identifier: GPL-2.0
"""The tables of make bench, as aligned text (printed at the end) and as
Markdown (results.md), and the goals as met/missed lines."""

from . import nfs3
from . import results as R
from . import smc as S

TITLES = {
    "rpc": "RPC NULL over TCP (rpctest): RPC/s",
    "echo": "Echo over TCP (echotest; the floor: pingpong): msgs/s",
}
HEADERS = ["server", "point", "rate", "min–max", "×ref", "lat µs", "min–max", "×ref",
           "p99 µs", "client", "srv µs/op"]
SCALE_TITLE = ("Scale: RPC NULL on many connections, one call in flight on each "
               "(rpctest -C, original method)")
SCALE_HEADERS = ["server", "conns", "RPC/s", "of best", "lat µs", "p99 µs", "srv µs/op",
                 "mem KiB/conn", "mem MiB"]
SMC_TITLE = "TCP loopback vs SMC-D loopback"
SMC_HEADERS = ["point", "figure", "TCP", "SMC-D", "SMC/TCP", "SMC-D conns"]
SMC_CAPTION = (
    "Both transports over the guest's loopback, in the same guest and the same run, one "
    "request per send and at most one answer per receive (the original's method): TCP is "
    "krpc2, kecho and the floor (pingpong); SMC-D is the same module loaded with "
    "transport=smc and driven by the same load generator with --smc (krpc2-smc, kecho-smc), "
    "and pingpong --smc (floor-smc), over the loopback ISM device after the TCP handshake. "
    "Echo MB/s: one-way payload (msgs/s times the message size; the floor: pingpong's). "
    "SMC/TCP: SMC-D's figure over TCP's (a median: below 1 is faster; a rate: above 1 is "
    "faster). Every SMC-D point is checked: no connection fell back to TCP or was refused "
    "(the module's smc_fallback and smc_refused, the kernel's srv_fback and clnt_fback) and "
    "some ran over SMC-D (SMC-D conns: the kernel's SMC-D server connections during the "
    "point, calibration included); a point that fails the check is an error, not a figure.")
# Columns aligned left (the rest right).
LEFT = {0, 1}
# A load generator busier than this is (nearly) the bottleneck.
SATURATED = 0.9


def compact(x):
    """3 significant digits with a k/M suffix: 745434 -> '745k'."""
    if x is None:
        return "-"
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            v = x / div
            return f"{v:.3g}{suffix}" if v < 1000 else f"{v:.0f}{suffix}"
    return f"{x:.3g}" if x >= 1 else f"{x:.2g}"


def _ratio(x):
    return "-" if x is None else f"{x:.2f}"


def _lat(x):
    return "-" if x is None else f"{x:.1f}"


def server_cpu(s):
    """The server CPU per operation cell: µs, '(~)' when the client's
    share of the guest's CPU makes it unreliable, '~0 (~)' when the
    difference came out negative."""
    if s.get("server_cpu_us") is None:
        return "~0 (~)" if s.get("cpu_unreliable") else "-"
    cell = f"{s['server_cpu_us']:.2f}" if s["server_cpu_us"] < 10 else f"{s['server_cpu_us']:.1f}"
    return cell + (" (~)" if s.get("cpu_unreliable") else "")


def rows(results, suite):
    """Table rows (lists of cells) of SUITE, by point, then server."""
    out = []
    mine = [r for r in results if r["suite"] == suite]
    points = list(dict.fromkeys(R.point_key(r["point"]) for r in mine))
    for pt in points:
        for r in (r for r in mine if R.point_key(r["point"]) == pt):
            s = r.get("summary")
            if r.get("error") or not s:
                why = ((r.get("error") or "no result").strip().splitlines() or ["?"])[0]
                if len(why) > 90:
                    why = why[:89] + "…"
                out.append([r["server"], pt, "error: " + why])
                continue
            ref = r["server"] == R.REFERENCE[suite]
            busy = s.get("client_busy")
            client = "-" if busy is None else f"{busy * 100:.0f}%"
            if busy is not None and busy >= SATURATED:
                client += " (!)"
            out.append([
                r["server"], pt, f"{s['rate']:,.0f}",
                f"{compact(s['rate_min'])}–{compact(s['rate_max'])}",
                "1" if ref else _ratio(s.get("rate_ratio")),
                _lat(s["lat_us"]), f"{_lat(s['lat_min'])}–{_lat(s['lat_max'])}",
                "1" if ref else _ratio(s.get("lat_ratio")),
                _lat(s["p99_us"]), client, server_cpu(s),
            ])
    return out


def smc_rows(results):
    """The TCP-versus-SMC-D table's rows (smc.smc_table), as cells;
    'error' for an SMC-D point that failed (a fallback included)."""
    out = []
    for label, unit, tcp, smc, ratio, conns in S.smc_table(results):
        if unit == "median µs":
            cells = [_lat(tcp), "error" if smc is None else _lat(smc)]
        elif unit == "MB/s":
            cells = [_mb(tcp), "error" if smc is None else _mb(smc)]
        else:
            cells = ["-" if tcp is None else f"{tcp:,.0f}",
                     "error" if smc is None else f"{smc:,.0f}"]
        out.append([label, unit] + cells + [_ratio(ratio), "-" if conns is None else f"{conns:,}"])
    return out


def _mb(x):
    return "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.3g}")


def scale_rows(results):
    """The scale table: per server with scale points, a row per number of
    connections (the -j1 -a1 point as one)."""
    out = []
    for server in R.scale_servers(results):
        series = R.scale_series(results, server)
        best = max((s["rate"] for _, s in series), default=None)
        for conns, s in series:
            per = s.get("mem_per_conn_kb")
            out.append([server, f"{conns:,}", f"{s['rate']:,.0f}",
                        f"{s['rate'] / best:.0%}" if best else "-", _lat(s["lat_us"]),
                        _lat(s["p99_us"]), server_cpu(s),
                        "-" if per is None else f"{per:.1f}",
                        "-" if s.get("mem_kb") is None else f"{s['mem_kb'] / 1024:.1f}"])
    return out


def text_table(header, body):
    """Aligned columns; a row shorter than the header (an error) runs on
    from its last cell."""
    full = [r for r in body if len(r) == len(header)]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *full)]

    def line(cells):
        parts = []
        for i, c in enumerate(cells):
            if i == len(cells) - 1 and len(cells) < len(header):
                parts.append(c)
            elif i in LEFT:
                parts.append(f"{c:<{widths[i]}}")
            else:
                parts.append(f"{c:>{widths[i]}}")
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in body])


def md_table(header, body):
    n = len(header)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(":--" if i in LEFT else "--:" for i in range(n)) + "|"]
    for r in body:
        cells = r + [""] * (n - len(r))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def goal_lines(goals, md=False):
    out = []
    for text, met, detail in goals:
        mark = {True: "met", False: "MISSED", None: "NO DATA"}[met]
        out.append(f"- **{mark}**: {text} ({detail})" if md else f"  {mark:<8} {text}: {detail}")
    return out


def legend():
    return [
        "point: '-j1 -a128' in the original's method (rpctest and echotest's default: one "
        "request per send, at most one answer per receive); '... batched' with --batch "
        "(the window's requests in one send, answers read in large chunks). At -a1 the "
        "two are one.",
        "rate: median over the runs, per second (all jobs); min–max over the runs.",
        "lat µs: median over the runs of each run's median round trip; p99 µs: median of "
        "the runs' 99th percentiles.",
        "×ref: ratio to krpc2 (RPC) or kecho (echo) at the same point: rate (above 1: "
        "faster) and latency (above 1: slower).",
        "client: the load generator's CPU time over its job threads' wall time; "
        f"(!) from {SATURATED:.0%} on: the client, not the server, is the bottleneck.",
        "'... lan': across two guests (topology lan: the server in one, the load generator "
        "in the other, a virtio-net NIC on each side; the two share the host's CPUs); "
        "the others over the guest's loopback (topology loopback). Across two guests srv µs/op "
        "is the server guest's busy CPU time per operation (the load generator is not in it), "
        "and the floor is pingpong's client there against its server (pingpong --server) in "
        "the server guest.",
        "srv µs/op: the server's CPU time per operation: the guest's busy CPU time during "
        "the command (all vCPUs, softirq included, /proc/stat) less the load generator's "
        "whole process CPU time, over the operations; (~) when the server's part is below "
        f"{R.CPU_RELIABLE_SHARE:.0%} of the busy time (the difference of two near-equal "
        "figures), '~0 (~)' when it came out negative.",
        "Scale: N connections over 2 jobs (rpctest -j2 -C N/2 -a1; one connection is the "
        "-j1 -a1 point); of best: the rate over the best of the server's series; mem: the "
        "guest's memory in use during the run (the most, sampled every 0.25 s, less the "
        "load generator's anonymous resident set) over before it, both ends' sockets included; "
        f"per connection from {R.MEM_MIN_CONNS} connections on.",
        nfs3.LEGEND,
    ]


def env_lines(env, dated=True):
    keys = [("date", "date")] if dated else []
    keys += [("commit", "git commit"), ("host_cpu", "host CPU"),
            ("host_cpus", "host CPUs"), ("host_kernel", "host kernel"), ("qemu", "QEMU"),
            ("accel", "accelerator"), ("guest_cpus", "guest vCPUs"),
            ("guest_mem_mib", "guest memory MiB"), ("guest_kernel", "guest kernel"),
            ("other_guests", "other QEMU guests on the host"),
            ("lan", "across two guests ('... lan')"),
            ("host_load", "host load average at start"), ("mode", "mode")]
    return [f"{label}: {env[k]}" for k, label in keys if k in env]


def nfs_rows(results):
    """The NFSv3 table's rows (nfs3.rows with this module's cells)."""
    return nfs3.rows(results, compact, _lat, server_cpu)


def text(results, goals, env):
    out = ["", "== make bench results", ""]
    out += env_lines(env)
    for suite in ("rpc", "echo"):
        body = rows(results, suite)
        if body:
            out += ["", TITLES[suite], text_table(HEADERS, body)]
    body = nfs_rows(results)
    if body:
        out += ["", nfs3.TITLE, text_table(nfs3.HEADERS, body)]
    body = scale_rows(results)
    if body:
        out += ["", SCALE_TITLE, text_table(SCALE_HEADERS, body)]
    body = smc_rows(results)
    if body:
        out += ["", SMC_TITLE, text_table(SMC_HEADERS, body), SMC_CAPTION]
    out += ["", "Goals:"] + goal_lines(goals)
    out += [""] + legend()
    return "\n".join(out)


def markdown(results, goals, env):
    out = ["# make bench results", ""]
    out += [f"- {line}" for line in env_lines(env)]
    for suite in ("rpc", "echo"):
        body = rows(results, suite)
        if body:
            out += ["", f"## {TITLES[suite]}", "", md_table(HEADERS, body)]
    body = nfs_rows(results)
    if body:
        out += ["", f"## {nfs3.TITLE}", "", md_table(nfs3.HEADERS, body)]
    body = scale_rows(results)
    if body:
        out += ["", f"## {SCALE_TITLE}", "", md_table(SCALE_HEADERS, body)]
    body = smc_rows(results)
    if body:
        out += ["", f"## {SMC_TITLE}", "", md_table(SMC_HEADERS, body), "", SMC_CAPTION]
    out += ["", "## Goals", ""] + goal_lines(goals, md=True)
    out += ["", "## Reading the tables", ""] + [f"- {line}" for line in legend()]
    out += ["", "![throughput and latency per server](results.svg)", ""]
    return "\n".join(out)


# The compact tables of Documentation/benchmarks.rst: per suite, the
# columns (point, what) and their two header lines.
RST_COLUMNS = {
    "rpc": [("-j1 -a1", "rate", "-j1 -a1", "RPC/s"), ("-j1 -a1", "lat", "-j1 -a1", "median µs"),
            ("-j1 -a64", "rate", "-j1 -a64", "RPC/s"),
            ("-j1 -a128", "rate", "-j1 -a128", "RPC/s"),
            (R.CPU_POINT, "cpu", R.CPU_POINT, "srv µs/call"),
            ("-j2 -a128", "rate", "-j2 -a128", "RPC/s"),
            ("-j1 -a64 batched", "rate", "-j1 -a64", "batched/s"),
            ("-j1 -a128 batched", "rate", "-j1 -a128", "batched/s"),
            ("-j2 -a128 batched", "rate", "-j2 -a128", "batched/s")],
    "echo": [("64 B -a1", "rate", "64 B -a1", "msgs/s"), ("64 B -a1", "lat", "64 B -a1", "median µs"),
             ("64 B -a128", "rate", "64 B -a128", "msgs/s"),
             ("64 B -a128 batched", "rate", "64 B -a128", "batched/s"),
             ("1 KiB -a128", "rate", "1 KiB -a128", "msgs/s"),
             ("16 KiB -a128", "rate", "16 KiB -a128", "msgs/s"),
             ("64 KiB -a128", "rate", "64 KiB -a128", "msgs/s")],
}
RST_TITLES = {"rpc": "RPC NULL", "echo": "Echo"}


def rst_table(header_lines, body):
    """A reStructuredText simple table; empty cells become '\\-'."""
    body = [[c if c else "\\-" for c in r] for r in body]
    widths = [max(len(c) for c in col) + 2 for col in zip(*header_lines, *body)]
    rule = "  ".join("=" * w for w in widths)

    def line(cells):
        return "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths)).rstrip()

    return "\n".join([rule] + [line(h) for h in header_lines] + [rule]
                     + [line(r) for r in body] + [rule])


def rst_rows(results, suite, columns=None):
    """Per server (in run order), the cells of COLUMNS (default:
    RST_COLUMNS[suite])."""
    servers = list(dict.fromkeys(r["server"] for r in results if r["suite"] == suite))
    out = []
    for server in servers:
        cells = [server]
        for point, what, _, _ in columns or RST_COLUMNS[suite]:
            s = R.find(results, suite, server, point)
            if not s:
                cells.append("")
            elif what == "rate":
                cells.append(f"{s['rate']:,.0f}")
            elif what == "cpu":
                cells.append(server_cpu(s))
            else:
                cells.append(_lat(s["lat_us"]))
        if any(cells[1:]):
            out.append(cells)
    return out


def rst_lan(results):
    """The lines of the compact tables of the points across two guests
    (RST_COLUMNS at the same points, " lan"), one per suite that has
    them."""
    out = []
    for suite in ("rpc", "echo"):
        cols = [(f"{pt} lan", what, h1, h2) for pt, what, h1, h2 in RST_COLUMNS[suite]]
        body = rst_rows(results, suite, cols)
        if not body:
            continue
        title = f"{RST_TITLES[suite]} across two guests (lan)"
        head = [["server"] + [c[2] for c in cols], [""] + [c[3] for c in cols]]
        out += ["", title, "-" * len(title), "", rst_table(head, body)]
    return out


def rst(results, goals, env):
    """The results as the reStructuredText of Documentation/benchmarks.rst:
    the environment (undated: the document is a snapshot of a commit), a
    compact table per suite, the goals."""
    out = [".. SPDX-License-Identifier: GPL-2.0",
           ".. Generated by make bench (build/bench/results.rst; PUBLISH=1 copies it",
           ".. to Documentation/results/bench.rst); do not edit by hand.", "",
           "Guest and host", "--------------", ""]
    out += [f"- {line}" for line in env_lines(env, dated=False)]
    for suite in ("rpc", "echo"):
        body = rst_rows(results, suite)
        if not body:
            continue
        cols = RST_COLUMNS[suite]
        head = [["server"] + [c[2] for c in cols], [""] + [c[3] for c in cols]]
        title = RST_TITLES[suite]
        out += ["", title, "-" * len(title), "", rst_table(head, body)]
    out += rst_lan(results)
    body = nfs3.rst_rows(results, _lat, server_cpu)
    if body:
        title = nfs3.RST_TITLE
        out += ["", title, "-" * len(title), "", rst_table([nfs3.RST_HEADERS], body)]
    body = [["" if c == "-" else c for c in r] for r in scale_rows(results)]
    if body:
        title = "Scale"
        out += ["", title, "-" * len(title), "", rst_table([SCALE_HEADERS], body)]
    body = [["" if c == "-" else c for c in r] for r in smc_rows(results)]
    if body:
        out += ["", SMC_TITLE, "-" * len(SMC_TITLE), "", rst_table([SMC_HEADERS], body), "",
                SMC_CAPTION]
    out += ["", "RPC/s and msgs/s in the original's method (one request per send, at most "
            "one answer per receive); batched/s with --batch. srv µs/call: the guest's CPU "
            "time less the load generator's, per call ((~): unreliable, the load generator "
            "had nearly all of it). Scale: N connections, one call in flight on each. "
            + nfs3.LEGEND]
    out += ["", "Goals", "-----", ""]
    out += [line.replace("**", "") for line in goal_lines(goals, md=True)]
    return "\n".join(out) + "\n"
