# SPDX-License-Identifier: GPL-2.0
"""TCP versus SMC-D (#16): the SMC-D servers' points, the check of the SMC
counters around each of their points (nothing may fall back to TCP), and
the TCP-versus-SMC-D table and goals (Documentation/benchmarks.rst, "TCP
versus SMC-D")."""

from .results import client_busy, median, point_key, size_text

# Each SMC-D server and its TCP counterpart, by suite: the same module
# (transport=smc, the load generator with --smc) or the same floor
# (pingpong --smc), in the same guest and the same run.
SMC_PAIRS = (("rpc", "krpc2", "krpc2-smc"), ("echo", "kecho", "kecho-smc"),
             ("echo", "floor", "floor-smc"))
# The points of the SMC-D modules (bench.Config.points): only those of
# the comparison, in the original method (one request per send).
SMC_RPC_POINTS = ((1, 1), (1, 128))
SMC_ECHO_SIZES = (64, 16384, 65536)
SMC_ECHO_INFLIGHT = (1, 128)
# Fallback reason codes (the kernel's SMC_CLC_DECL_*) named in the
# details.
SMC_REASONS = {0x03010000: "PEERNOSMC", 0x03030008: "NOUEID"}
# The goals of #16: krpc2's -a1 median over SMC-D at most this share of
# its median over TCP; kecho's 64 KiB -a128 throughput over SMC-D at
# least this many times its throughput over TCP.
SMC_LAT_GOAL = 0.7
SMC_ECHO_GOAL = 1.5
SMC_ECHO_GOAL_POINT = "64 KiB -a128"


def parse_smc(text):
    """The output of servers.smc_counters as {"mod": {name: int},
    "kern": {name: int}}: the module's statistics and the kernel's SMC
    counters; lines whose value is not an integer (decimal or 0x hex, e.g.
    'mod transport smc') are skipped."""
    out = {"mod": {}, "kern": {}}
    for ln in text.splitlines():
        f = ln.split()
        if len(f) != 3 or f[0] not in out:
            continue
        try:
            out[f[0]][f[1]] = int(f[2], 0)
        except ValueError:
            continue
    return out


def smc_reason(code):
    """A fallback reason code as text: '0x03010000 (PEERNOSMC)'."""
    name = SMC_REASONS.get(code)
    return f"{code:#010x}" + (f" ({name})" if name else "")


def smc_check(before, after, module):
    """The SMC counters of a point of an SMC-D server, BEFORE and AFTER it
    (servers.smc_counters' output): (info, problem). INFO, for the
    record: the module's smcd, smc_fallback and smc_refused over the point
    (None without the line; MODULE false: a server with no module
    statistics, the floor) and its smcd after it; the kernel's SMC-D
    server connections (smcd_srv_v1_succ + smcd_srv_v2_succ), SMC-D bytes
    sent, server and client fallbacks and fallbacks by reason over the
    point. PROBLEM: why the point does not count as SMC-D (a fallback or
    refused connection, a module without the SMC statistics, no connection
    over SMC-D at all), or None."""
    b, a = parse_smc(before), parse_smc(after)

    def delta(side, name):
        if name not in a[side] or name not in b[side]:
            return None
        return a[side][name] - b[side][name]

    srv = [delta("kern", n) for n in ("smcd_srv_v1_succ", "smcd_srv_v2_succ")]
    info = {
        "smcd": delta("mod", "smcd"),
        "smcd_total": a["mod"].get("smcd"),
        "smc_fallback": delta("mod", "smc_fallback"),
        "smc_refused": delta("mod", "smc_refused"),
        "smc_fallback_last_reason": a["mod"].get("smc_fallback_last_reason"),
        "kern_smcd_srv": None if None in srv else sum(srv),
        "kern_smcd_tx_bytes": delta("kern", "smcd_tx_bytes"),
        "kern_srv_fback": delta("kern", "srv_fback"),
        "kern_clnt_fback": delta("kern", "clnt_fback"),
        # A reason's line appears once the kernel counted it.
        "kern_fback_reasons": {n: v - b["kern"].get(n, 0) for n, v in a["kern"].items()
                               if "_fback_0x" in n and v != b["kern"].get(n, 0)},
    }
    problems = []
    if module:
        missing = [n for n in ("smc_fallback", "smc_refused") if info[n] is None]
        if missing:
            problems.append(f"the module's statistics have no {' or '.join(missing)} line "
                            "(a module without the SMC transport?)")
        if info["smc_fallback"]:
            last = info["smc_fallback_last_reason"]
            problems.append(f"{info['smc_fallback']} connection(s) fell back to TCP "
                            f"(smc_fallback +{info['smc_fallback']}"
                            + (f", last reason {smc_reason(last)}" if last else "") + ")")
        if info["smc_refused"]:
            problems.append(f"{info['smc_refused']} TCP connection(s) refused "
                            f"(smc_refused +{info['smc_refused']})")
    if info["kern_srv_fback"] is None or info["kern_smcd_srv"] is None:
        problems.append("ksf-smc stats printed no srv_fback or smcd_srv_v2_succ line")
    else:
        if info["kern_srv_fback"] or info["kern_clnt_fback"]:
            why = ", ".join(f"{n} +{d}" for n, d in info["kern_fback_reasons"].items())
            problems.append(f"the kernel counted {info['kern_srv_fback']} server and "
                            f"{info['kern_clnt_fback']} client fallback(s) to TCP"
                            + (f" ({why})" if why else ""))
        if info["kern_smcd_srv"] <= 0:
            problems.append("no connection over SMC-D (the kernel's smcd_srv_v2_succ "
                            "did not rise)")
    if not problems:
        return info, None
    return info, "not all over SMC-D: " + "; ".join(problems)


def measured(results, suite, server, point):
    """The record of SERVER at POINT if it has a summary and no error
    (an SMC-D point that fell back is an error: its figures are TCP's),
    else None."""
    for r in results:
        if (r["suite"], r["server"], point_key(r["point"])) == (suite, server, point):
            return r if r.get("summary") and not r.get("error") else None
    return None


def echo_mb_s(s, point):
    """An echo point's one-way payload in MB/s: pingpong's own (mb_s),
    else msgs/s times the message size."""
    if s.get("mb_s") is not None:
        return s["mb_s"]
    return s["rate"] * point["size"] / 1e6


# The rows of the TCP-versus-SMC-D table: (label, suite, TCP server, SMC
# server, point, figure, unit); figure "lat" (median µs), "rate"
# (per second) or "mb" (echo_mb_s).
SMC_ROWS = ([("krpc2 -j1 -a1", "rpc", "krpc2", "krpc2-smc", "-j1 -a1", "lat", "median µs"),
             ("krpc2 -j1 -a1", "rpc", "krpc2", "krpc2-smc", "-j1 -a1", "rate", "RPC/s"),
             ("krpc2 -j1 -a128", "rpc", "krpc2", "krpc2-smc", "-j1 -a128", "rate", "RPC/s")]
            + [(f"kecho {size_text(n)} -a{a}", "echo", "kecho", "kecho-smc",
                f"{size_text(n)} -a{a}", "rate" if n == 64 else "mb",
                "msgs/s" if n == 64 else "MB/s")
               for n in SMC_ECHO_SIZES for a in SMC_ECHO_INFLIGHT]
            + [("floor 64 B", "echo", "floor", "floor-smc", "64 B -a1", "lat", "median µs"),
               ("floor 64 KiB", "echo", "floor", "floor-smc", "64 KiB -a1", "mb", "MB/s")])


def smc_figure(rec, what):
    s = rec["summary"]
    if what == "lat":
        return s["lat_us"]
    if what == "rate":
        return s["rate"]
    return echo_mb_s(s, rec["point"])


def smc_table(results):
    """The TCP-versus-SMC-D comparison: per row of SMC_ROWS whose SMC
    server ran, (label, unit, TCP figure, SMC-D figure, SMC/TCP, SMC-D
    connections); a figure is None without a result (or, for SMC-D, after
    a fallback: an error), the connections are the kernel's SMC-D server
    connections during the SMC-D point."""
    ran = {(r["suite"], r["server"]) for r in results}
    out = []
    for label, suite, tcp, smc, pt, what, unit in SMC_ROWS:
        if (suite, smc) not in ran:
            continue
        t, m = measured(results, suite, tcp, pt), measured(results, suite, smc, pt)
        tv = smc_figure(t, what) if t else None
        mv = smc_figure(m, what) if m else None
        conns = ((m.get("smc") or {}).get("kern_smcd_srv") if m else None)
        out.append((label, unit, tv, mv, mv / tv if tv and mv is not None else None, conns))
    return out


def smc_floor_ratio(results, point, what):
    """(floor-smc's figure over floor's, detail) at POINT ("64 B -a1" or
    "64 KiB -a1"), WHAT "lat" or "mb"; (None, "") without both."""
    t, m = measured(results, "echo", "floor", point), measured(results, "echo", "floor-smc", point)
    if not (t and m):
        return None, ""
    tv, mv = smc_figure(t, what), smc_figure(m, what)
    if not tv or mv is None:
        return None, ""
    unit = "us" if what == "lat" else "MB/s"
    fmt = "{:.1f}" if what == "lat" else "{:,.0f}"
    return mv / tv, (f"floor-smc's {fmt.format(mv)} {unit} over floor's {fmt.format(tv)} "
                     f"{unit} at {point} is {mv / tv:.2f}x")


def smc_goals(results):
    """The goals of #16, in the same run: krpc2's -j1 -a1 median over
    SMC-D at most SMC_LAT_GOAL of its median over TCP, and kecho's
    SMC_ECHO_GOAL_POINT throughput over SMC-D at least SMC_ECHO_GOAL times
    over TCP; a missed one says what bounds it (the floor's own ratio over
    SMC-D, the time above the floor, the load generator's load)."""
    out = []
    text = (f"krpc2 -a1 median over SMC-D at most {SMC_LAT_GOAL:g}x its median over TCP "
            "(loopback, same run)")
    t = measured(results, "rpc", "krpc2", "-j1 -a1")
    m = measured(results, "rpc", "krpc2-smc", "-j1 -a1")
    if t and m and t["summary"]["lat_us"] and m["summary"]["lat_us"]:
        tl, ml = t["summary"]["lat_us"], m["summary"]["lat_us"]
        ratio = ml / tl
        met = ratio <= SMC_LAT_GOAL
        detail = f"{ml:.1f} vs {tl:.1f} us: {ratio:.2f}x"
        if not met:
            detail += smc_lat_bound(results, tl, ml)
        out.append((text, met, detail))
    else:
        out.append((text, None, "no result for " + ("krpc2-smc" if t else "krpc2")
                    + " at -j1 -a1"))

    pt = SMC_ECHO_GOAL_POINT
    text = (f"kecho {pt} throughput over SMC-D at least {SMC_ECHO_GOAL:g}x over TCP "
            "(loopback, same run)")
    t, m = measured(results, "echo", "kecho", pt), measured(results, "echo", "kecho-smc", pt)
    if t and m and t["summary"]["rate"]:
        ts, ms = t["summary"], m["summary"]
        ratio = ms["rate"] / ts["rate"]
        met = ratio >= SMC_ECHO_GOAL
        detail = (f"{echo_mb_s(ms, m['point']):,.0f} vs {echo_mb_s(ts, t['point']):,.0f} MB/s "
                  f"({ms['rate']:,.0f} vs {ts['rate']:,.0f} msgs/s): {ratio:.2f}x")
        if not met:
            fr, fdetail = smc_floor_ratio(results, "64 KiB -a1", "mb")
            if fr is not None:
                detail += f"; the floor over SMC-D: {fdetail}"
                if fr < SMC_ECHO_GOAL:
                    detail += f", itself below {SMC_ECHO_GOAL:g}x"
            detail += client_busy(ms, ts, "kecho-smc", "kecho")
        out.append((text, met, detail))
    else:
        out.append((text, None, "no result for " + ("kecho-smc" if t else "kecho") + f" at {pt}"))
    return out


def smc_lat_bound(results, tcp_us, smc_us):
    """What bounds krpc2's -a1 median ratio over SMC-D (TCP_US, SMC_US),
    as text to add to the goal's detail: the floor's own ratio at 64 B,
    and krpc2's time above the floor over each transport (its time above
    the TCP floor unchanged, the ratio it would reach); empty without the
    floors."""
    fr, fdetail = smc_floor_ratio(results, "64 B -a1", "lat")
    if fr is None:
        return ""
    out = f"; the floor over SMC-D: {fdetail}"
    if fr > SMC_LAT_GOAL:
        out += f", itself above {SMC_LAT_GOAL:g}x"
    floor = measured(results, "echo", "floor", "64 B -a1")["summary"]["lat_us"]
    fsmc = measured(results, "echo", "floor-smc", "64 B -a1")["summary"]["lat_us"]
    above = tcp_us - floor
    out += (f"; krpc2 above the floor: {above:.1f} us over TCP, {smc_us - fsmc:.1f} us over "
            f"SMC-D; with {above:.1f} us above floor-smc it would be "
            f"{(fsmc + above) / tcp_us:.2f}x")
    return out


def _selftest():
    # The SMC counters around a point (servers.smc_counters' output).
    mod = ("mod backend pool\nmod transport smc\nmod smcd {smcd}\nmod smc_fallback {fb}\n"
           "mod smc_fallback_peer_nosmc 0\nmod smc_fallback_last_reason {why}\n"
           "mod smc_refused {ref}\n")
    kern = ("kern smcd_clnt_v2_succ {srv}\nkern smcd_srv_v1_succ 0\nkern smcd_srv_v2_succ {srv}\n"
            "kern smcd_tx_bytes {tx}\nkern srv_fback {sfb}\nkern clnt_fback 0\n")
    before = (mod.format(smcd=4, fb=0, why="0x00000000", ref=0)
              + kern.format(srv=10, tx=1000, sfb=0))
    after = (mod.format(smcd=7, fb=0, why="0x00000000", ref=0)
             + kern.format(srv=13, tx=9000, sfb=0))
    assert parse_smc(before)["mod"]["smc_fallback_last_reason"] == 0
    assert "transport" not in parse_smc(before)["mod"], parse_smc(before)
    info, problem = smc_check(before, after, module=True)
    assert problem is None, problem
    assert info["smcd"] == 3 and info["kern_smcd_srv"] == 3, info
    assert info["kern_smcd_tx_bytes"] == 8000 and info["smc_refused"] == 0, info
    # A fallback: the module's and the kernel's counters (a reason's line
    # appears once it counted).
    fell = (mod.format(smcd=7, fb=2, why="0x03010000", ref=1)
            + kern.format(srv=13, tx=9000, sfb=2) + "kern srv_fback_0x03010000 2\n")
    info, problem = smc_check(before, fell, module=True)
    assert problem.startswith("not all over SMC-D: 2 connection(s) fell back"), problem
    assert "last reason 0x03010000 (PEERNOSMC)" in problem, problem
    assert "1 TCP connection(s) refused (smc_refused +1)" in problem, problem
    assert "srv_fback_0x03010000 +2" in problem, problem
    assert info["kern_fback_reasons"] == {"srv_fback_0x03010000": 2}, info
    # A module that ignored transport=smc: no SMC lines; the floor (no
    # module) needs only the kernel's; no SMC-D connection at all.
    plain = "mod backend pool\n" + kern.format(srv=13, tx=9000, sfb=0)
    _, problem = smc_check(before, plain, module=True)
    assert "no smc_fallback or smc_refused line" in problem, problem
    assert smc_check(before, plain, module=False)[1] is None
    _, problem = smc_check(before, before, module=True)
    assert problem.endswith("no connection over SMC-D (the kernel's smcd_srv_v2_succ "
                            "did not rise)"), problem
    _, problem = smc_check("", "ksf-smc stats: no SMC in the kernel", module=False)
    assert "ksf-smc stats printed no srv_fback" in problem, problem
    print("bench.smc: self-test passed")
