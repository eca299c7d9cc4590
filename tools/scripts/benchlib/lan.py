# SPDX-License-Identifier: GPL-2.0
"""make bench across two guests: the "lan" topology.

The bench guest (the server guest) gets a second virtio-net NIC on the
lan of ksfvm.py --lan (10.9.0.1); after the loopback points a client
guest (10.9.0.2) boots on the other end, and the servers of LAN_SERVERS
run their points again in the server guest with the load generator in
the client guest, aimed at 10.9.0.1. The frames go from one guest's
virtio-net through QEMU's dgram backend (UDP on host 127.0.0.1) to the
other's: the receive path of a NIC (interrupt, NAPI, GRO) on both sides,
where loopback runs the receive path in the sender's system call. Both
guests share the host's CPUs.

A lan record has "topology": "lan" and its point "topology": "lan" (its
name ends in " lan"); every other record is "loopback". BENCH_LAN=0 skips
the lan.
"""

import os

from harness import Guest, GuestError, lan_port

from .servers import wait_listening

from . import plot, report
from . import results as R

LAN = "lan"
LOOPBACK = "loopback"
# The server guest's address on the lan (ksfvm.py --lan server).
SERVER_ADDR = "10.9.0.1"
# The servers measured across the lan: RPC and echo, in-kernel and user
# space, and the floor (pingpong's client in the client guest against its
# server in the server guest: the lan's round trip, which no server beats).
LAN_SERVERS = ("krpc2", "knfsd", "usrv-epoll", "usrv-uring", "kecho", "floor")
# The load generators: their commands run in the client guest.
LOADGEN = ("rpctest", "echotest", "pingpong")
# The port of the floor's server (pingpong --server) in the server guest.
FLOOR_PORT = 60009
# The client guest's vCPUs (the server guest keeps the bench guest's).
CLIENT_SMP = 2


def enabled(env):
    """Whether the run measures across the lan (BENCH_LAN=0: no)."""
    return env.get("BENCH_LAN", "1") != "0"


def server_options(env):
    """The bench guest's Guest keyword arguments: the server end of a lan
    on two free host UDP ports, or none with BENCH_LAN=0."""
    return {"lan": "server", "lan_port": lan_port()} if enabled(env) else {}


def topology(rec):
    """A result record's topology: its own, or its point's ("lan"), or
    "loopback"."""
    return rec.get("topology") or rec["point"].get("topology") or LOOPBACK


def mark(results):
    """Gives every record of RESULTS its topology field."""
    for r in results:
        r["topology"] = topology(r)


class LanConfig:
    """A bench Config whose points are the lan's (the same, marked)."""

    def __init__(self, cfg):
        self.cfg = cfg

    def points(self, server):
        """SERVER's points but the scale series (a loopback series: its
        memory is sampled in the guest that runs the load generator); none
        of the NFSv3 suite, and none of a server bench --only smc picked
        for the TCP-versus-SMC-D comparison alone (compare_only)."""
        if (server.name not in LAN_SERVERS or server.suite not in ("rpc", "echo")
                or getattr(server, "compare_only", False)):
            return []
        return [dict(p, topology=LAN) for p in self.cfg.points(server) if not p.get("conns")]

    def __getattr__(self, name):
        return getattr(self.cfg, name)


class Across:
    """The two guests as bench.run_server sees one: a load generator's
    command runs in the client guest, aimed at the server guest's lan
    address instead of 127.0.0.1; every other command (the servers'
    start and stop) in the server guest."""

    # The load generator runs in the other guest: the server guest's busy
    # time is all the server's (bench.run_point, results.server_cpu).
    client_here = False

    def __init__(self, server, client):
        self.server, self.client = server, client

    def run(self, cmd, timeout):
        words = cmd.split()
        if not any(w in LOADGEN for w in words):
            return self.server.run(cmd, timeout)
        if words[0] not in LOADGEN:
            # A load generator inside a longer shell command would run in
            # the server guest against its own loopback.
            raise GuestError(f"'{cmd}': a load generator must start the command to run "
                             "in the lan client guest")
        if words[0] == "pingpong":
            return self.floor(cmd, words, timeout)
        if " 127.0.0.1:" not in cmd:
            raise GuestError(f"'{cmd}' names no 127.0.0.1:PORT to aim at {SERVER_ADDR}")
        return self.client.run(cmd.replace(" 127.0.0.1:", f" {SERVER_ADDR}:"), timeout)

    def floor(self, cmd, words, timeout):
        """The floor's pingpong CMD (both ends in one process on loopback)
        across the lan: its server, for CMD's message size, in the server
        guest while its client runs in the client guest."""
        if "-s" not in words[:-1] or "--cpu" in words or "--server" in words:
            raise GuestError(f"'{cmd}': the floor across the lan is an unpinned "
                             "'pingpong -s SIZE ...'")
        size = words[words.index("-s") + 1]
        alive = "kill -0 $(cat /tmp/bench-srv.pid) 2>/dev/null"
        rc, out = self.server.run(
            f"{{ pingpong --server -s {size} -p {FLOOR_PORT} >/tmp/bench-srv.log 2>&1 & "
            f"echo $! >/tmp/bench-srv.pid; }} && {wait_listening(FLOOR_PORT, alive)}", 30)
        if rc != 0:
            return rc, f"the floor's server did not start: {out.strip()}"
        try:
            return self.client.run(f"{cmd} {SERVER_ADDR}:{FLOOR_PORT}", timeout)
        finally:
            self.server.run("kill $(cat /tmp/bench-srv.pid); rm -f /tmp/bench-srv.pid", 30)

    def measure(self, cmd, timeout):
        """CMD (a load generator) in the client guest between two samples
        of the server guest's CPU time, as bench.bracketed() prints them."""
        stat = "head -n 1 /proc/stat"
        _, before = self.server.run(stat, 30)
        rc, out = self.run(cmd, timeout)
        _, after = self.server.run(stat, 30)
        return rc, f"{out}\nbench-stat {before.strip()}\nbench-stat {after.strip()}\n"

    def __getattr__(self, name):
        return getattr(self.server, name)


def count(cfg, servers):
    """How many lan points SERVERS have."""
    lan = LanConfig(cfg)
    return sum(len(lan.points(s)) for s in servers)


def describe(env):
    """The lan's line of the environment: the two guests' vCPUs next to
    the host's CPUs they share."""
    return (f"server guest {env.get('guest_cpus', '?')} vCPUs + client guest {CLIENT_SMP} vCPUs "
            f"on the host's {env.get('host_cpus', '?')} CPUs, a virtio-net NIC each, joined by "
            "QEMU's dgram backend")


def client_guest(server, out):
    """The client guest of SERVER (the bench guest): the same kernel and
    initramfs, state and logs in OUT/vm-client."""
    vmdir = os.path.join(out, "vm-client")
    return Guest(vmdir, server.flavor, vmdir, label="lan client", smp=CLIENT_SMP,
                 forward_offset=-1, initrd=server.initrd, lan="client",
                 lan_port=server.lan_port, title="lan client guest")


def run(server, cfg, servers, run_server, progress, out, log):
    """Boots the client guest, runs the lan points of SERVERS with
    RUN_SERVER (bench.run_server) across the two guests, stops the client
    guest (also on an error or Ctrl-C); returns the records."""
    lan = LanConfig(cfg)
    todo = [s for s in servers if lan.points(s)]
    if not todo:
        return []
    client = client_guest(server, out)
    log(f"lan: booting the client guest ({client.vmdir})")
    try:
        ok, text, _ = client.start()
        if not ok:
            raise GuestError(f"the lan client guest did not start:\n{text.strip()}")
        log(text.strip())
        recs = []
        for s in todo:
            recs += run_server(Across(server, client), lan, s, CLIENT_SMP, progress)
    finally:
        client.stop()
    for r in recs:
        r["topology"] = LAN
    return recs


# ------------------------------------------------------------------ goals

def _lan_points(results, suite):
    return list(dict.fromkeys(R.point_key(r["point"]) for r in results
                              if r["suite"] == suite and topology(r) == LAN))


def _ahead(results, suite, ref, others, host_cpus):
    """(met, detail): REF at least each of OTHERS' (name, times) RPC/s or
    msgs/s at every lan point of SUITE."""
    worst, missing = {}, []
    points = _lan_points(results, suite)
    if not points:
        return None, "no lan results"
    for pt in points:
        a = R.find(results, suite, ref, pt)
        for name, _ in others:
            b = R.find(results, suite, name, pt)
            if not a or not b:
                missing.append(name if a else ref)
                continue
            ratio = a["rate"] / b["rate"]
            if name not in worst or ratio < worst[name][0]:
                worst[name] = (ratio, pt, a["rate"], b["rate"])
    def floor(pt):
        s = R.find(results, suite, "floor", pt)
        return f"; the floor {s['rate']:,.0f}" if s else ""

    parts = [f"{n}: {worst[n][0]:.2f}x at {worst[n][1]} ({worst[n][2]:,.0f} vs "
             f"{worst[n][3]:,.0f}{floor(worst[n][1])})" for n, _ in others if n in worst]
    met = not missing and all(worst[n][0] >= t if t > 1 else worst[n][0] > 1
                              for n, t in others)
    detail = "least ratio per server: " + ("; ".join(parts) or "none")
    if missing:
        detail += "; no result at some lan points for " + ", ".join(dict.fromkeys(missing))
    return met, detail + f"; two guests on the host's {host_cpus} CPUs"


def goals(results, env):
    """The lan goals of issue #15, [(text, met, detail)], when the run has
    lan points: krpc2 >= 2x knfsd and ahead of every user-space server,
    kecho ahead of every user-space echo server, across the two guests;
    krpc2's -a1 median below knfsd's in both topologies."""
    if not any(topology(r) == LAN for r in results):
        return []
    cpus = env.get("host_cpus", "?")
    out = []
    rpc = [("knfsd", 2)] + [(u, 1) for u in R.USERSPACE["rpc"]]
    met, detail = _ahead(results, "rpc", "krpc2", rpc, cpus)
    knfsd = R.find(results, "rpc", "knfsd", "-j1 -a1 " + LAN)
    bound = R.floor_bound(results, knfsd, " " + LAN) if knfsd else ""
    detail += f"; at -j1 -a1 lan {bound}" if bound else ""
    out.append(("krpc2 >= 2x knfsd and ahead of every user-space server across the two "
                "guests", met, detail))
    echo = [(u, 1) for u in R.USERSPACE["echo"]]
    met, detail = _ahead(results, "echo", "kecho", echo, cpus)
    out.append(("kecho ahead of every user-space echo server across the two guests", met,
                detail))
    parts, met = [], True
    for name, pt in ((LOOPBACK, "-j1 -a1"), (LAN, "-j1 -a1 " + LAN)):
        a, b = R.find(results, "rpc", "krpc2", pt), R.find(results, "rpc", "knfsd", pt)
        if not (a and b and a["lat_us"] and b["lat_us"]):
            parts.append(f"{name}: no result")
            met = None
            continue
        parts.append(f"{name} {a['lat_us']:.1f} vs {b['lat_us']:.1f} us")
        if met is not None:
            met = met and a["lat_us"] < b["lat_us"]
    out.append(("krpc2 -a1 median below knfsd's in both topologies", met, "; ".join(parts)))
    return out


def _selftest():
    """Goals and point names on canned lan and loopback records."""
    def rec(server, suite, rate, lat, topo, **p):
        point = dict({"suite": suite, "jobs": 1, "inflight": 1}, **p)
        if topo == LAN:
            point["topology"] = LAN
        summary = {"rate": rate, "lat_us": lat}
        return {"suite": suite, "server": server, "point": point, "summary": summary,
                "topology": topo}

    res = [rec("krpc2", "rpc", 10_000, 50, LOOPBACK), rec("knfsd", "rpc", 3_000, 90, LOOPBACK),
           rec("krpc2", "rpc", 1_000, 900, LAN), rec("knfsd", "rpc", 600, 1200, LAN),
           rec("usrv-epoll", "rpc", 900, 950, LAN), rec("usrv-uring", "rpc", 800, 990, LAN),
           rec("kecho", "echo", 2_000, 400, LAN, size=64),
           rec("usrv-epoll", "echo", 2_100, 390, LAN, size=64),
           rec("floor", "echo", 1_400, 700, LAN, size=64)]
    assert R.point_key(res[2]["point"]) == "-j1 -a1 lan", res[2]
    assert R.point_key(res[0]["point"]) == "-j1 -a1", res[0]
    g = {t: (m, d) for t, m, d in goals(res, {"host_cpus": 2})}
    rpc = g["krpc2 >= 2x knfsd and ahead of every user-space server across the two guests"]
    assert rpc[0] is False and "knfsd: 1.67x at -j1 -a1 lan" in rpc[1], rpc
    assert "host's 2 CPUs" in rpc[1], rpc
    assert rpc[1].endswith("; at -j1 -a1 lan the floor bounds it: knfsd's median 1200.0 us "
                           "over floor's 700.0 us is 1.71x at most"), rpc
    echo = g["kecho ahead of every user-space echo server across the two guests"]
    assert echo[0] is False and "points for usrv-uring;" in echo[1], echo
    assert "usrv-epoll: 0.95x at 64 B -a1 lan (2,000 vs 2,100; the floor 1,400)" in echo[1], echo
    lat = g["krpc2 -a1 median below knfsd's in both topologies"]
    assert lat == (True, "loopback 50.0 vs 90.0 us; lan 900.0 vs 1200.0 us"), lat
    res[1]["summary"]["lat_us"] = 40
    assert goals(res, {})[2][1] is False
    assert goals([r for r in res if topology(r) == LOOPBACK], {}) == []
    del res[0]["topology"]
    mark(res)
    assert [r["topology"] for r in res].count(LOOPBACK) == 2, res
    _selftest_across()
    _selftest_outputs()
    print("bench.lan: self-test passed")


def _selftest_across():
    """Which guest runs what, and the scale series left to loopback."""
    class Fake:
        def __init__(self, name):
            self.name, self.cmds = name, []

        def run(self, cmd, timeout):
            self.cmds.append(cmd)
            return 0, "cpu  1 0 1 9 0 0 0 0 0 0" if "/proc/stat" in cmd else "{}"

    srv, cli = Fake("server"), Fake("client")
    a = Across(srv, cli)
    a.run("insmod krpc2.ko", 5)
    a.run("rpctest -j1 -a1 127.0.0.1:62049", 5)
    assert srv.cmds == ["insmod krpc2.ko"] and cli.cmds == ["rpctest -j1 -a1 10.9.0.1:62049"]
    try:
        a.run("ulimit -n 9000; rpctest -C 8 127.0.0.1:62049", 5)
        raise AssertionError("a wrapped load generator ran")
    except GuestError:
        pass
    rc, out = a.measure("echotest -a1 127.0.0.1:60007", 5)
    assert rc == 0 and out.count("bench-stat cpu ") == 2 and len(srv.cmds) == 3, (out, srv.cmds)
    a.run("pingpong -s 1024 -c 10 -i 1 --json", 5)
    assert srv.cmds[3].startswith("{ pingpong --server -s 1024 -p 60009 ") and \
        srv.cmds[4].startswith("kill "), srv.cmds
    assert cli.cmds[-1] == "pingpong -s 1024 -c 10 -i 1 --json 10.9.0.1:60009", cli.cmds
    for bad in ("pingpong -s 64 --cpu 0 --json", "pingpong --json"):
        try:
            a.run(bad, 5)
            raise AssertionError(f"'{bad}' ran across the lan")
        except GuestError:
            pass

    class Cfg:
        def points(self, server):
            return [{"suite": "rpc", "jobs": 1, "inflight": 1},
                    {"suite": "rpc", "jobs": 2, "inflight": 1, "conns": 256}]

    class Srv:
        name, suite = "krpc2", "rpc"
    assert LanConfig(Cfg()).points(Srv()) == [
        {"suite": "rpc", "jobs": 1, "inflight": 1, "topology": LAN}]
    Srv.suite = "nfs3"
    assert LanConfig(Cfg()).points(Srv()) == []


def _selftest_outputs():
    """The lan points in the text, Markdown, reStructuredText and SVG
    outputs, next to the loopback ones."""
    results = []
    for topo in (LOOPBACK, LAN):
        for server, rate in (("krpc2", 9_000), ("knfsd", 3_000)):
            point = {"suite": "rpc", "jobs": 1, "inflight": 1, "method": "1/send"}
            if topo == LAN:
                point["topology"] = LAN
            runs = [{"ops": 100, "usecs": 1e4, "rate": rate, "p50_us": 1e6 / rate,
                     "p99_us": 2e6 / rate, "cpu_us": 10.0, "errors": 0}]
            results.append({"suite": "rpc", "server": server, "point": point, "runs": runs,
                            "summary": R.summarise(runs, 1)})
    mark(results)
    R.add_ratios(results)
    env = {"host_cpus": 2, "lan": "server guest 2 vCPUs + client guest 2 vCPUs"}
    g = R.goals(results) + goals(results, env)
    text = report.text(results, g, env)
    assert "-j1 -a1 lan" in text and "across two guests ('... lan'): server guest" in text, text
    assert "knfsd: 3.00x at -j1 -a1 lan" in text, text
    assert "| knfsd | -j1 -a1 lan |" in report.markdown(results, g, env)
    rst = report.rst(results, g, env)
    assert "RPC NULL across two guests (lan)\n" in rst and "-j1 -a1 lan" in rst, rst
    assert "-j1 -a1 lan" in plot.render(results, env)
