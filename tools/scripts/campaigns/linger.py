# SPDX-License-Identifier: GPL-2.0
"""slowloris and idle: peers that send a record a byte a second, or
nothing, must be closed by request_timeout or idle_timeout."""

from .common import SERVICES, summary_of

# The long form's timeouts (the module's defaults; the short form's are
# SHORT_TIMEOUTS), and how late after its timeout a peer may be closed:
# the services' sweeper looks every second, and the client in the guest
# notices a close within a second under TCG.
DEFAULT_TIMEOUTS = dict(idle_timeout=360, request_timeout=30)
SWEEP_SLACK = 2
CLIENT_SLACK = 1


def linger(c, name, campaign, counter, extra=""):
    """slowloris or idle against NAME: every peer closed within its
    timeout plus the slack, the counter COUNTER grown by the peers."""
    p = c.p
    t = p["timeouts"] or DEFAULT_TIMEOUTS
    params = " ".join(f"{k}={v}" for k, v in t.items()) if p["timeouts"] else ""
    port, proto, _ = SERVICES[name]
    if campaign == "slowloris" and proto == "echo":
        # A peer that never reads stalls the echo only once the server's
        # send buffer is full, and TCP grows it to megabytes on loopback
        # while the peer's window is open: echoing that to 32 or 256 peers
        # takes an emulated guest longer than the timeout, during which the
        # server does progress. Small socket buffers make the stall come
        # within a few KiB.
        params += " sndbuf=16384 rcvbuf=16384"
    ok, out = c.load(name, params)
    if not ok:
        return c.record(campaign, name, f"insmod {params} failed", False, out, 0)
    timeout = t["request_timeout"] if campaign == "slowloris" else t["idle_timeout"]
    # Echo peers first fill their small socket buffers (ksfstress sets
    # 8 KiB; the request starts when the server's echo stalls); the
    # clocks start once every peer is open, at the first byte.
    fill = 3 if campaign == "slowloris" and proto == "echo" else 0
    expect = timeout + SWEEP_SLACK + CLIENT_SLACK + fill
    conns = p["slow_conns"] if campaign == "slowloris" else p["idle_conns"]
    before = c.guest.stats(name)
    cmd = (f"ulimit -n 65536; ksfstress {campaign} --proto {proto} --conns {conns} "
           f"--expect-close-secs {expect} {extra} 127.0.0.1:{port}")
    log = c.log(name, campaign + ("-valid-first" if extra else ""))
    ran, out, secs = c.vm(cmd, log, timeout=expect + 600)
    s = summary_of(out)
    after = c.guest.stats(name)
    grown = after.get(counter, 0) - before.get(counter, 0)
    try:
        early = float(s.get("close_min_s", "-")) < timeout - CLIENT_SLACK
    except ValueError:
        early = False
    ok = ran and grown == conns and not early
    c.record(f"{campaign} {extra}".strip(), name,
             f"{s.get('closed', '?')} of {conns} closed after "
             f"{s.get('close_min_s', '?')}/{s.get('close_median_s', '?')}/"
             f"{s.get('close_max_s', '?')} s (min/median/max), {timeout} s timeout, "
             f"by {expect} s; {counter} +{grown}",
             ok, f"{counter}: {before.get(counter)} -> {after.get(counter)}"
                 f"{' (closed before the timeout)' if early else ''}\n{out}", secs, log)


def run(c, name):
    """slowloris and idle against NAME (and idle after a valid call in
    the long form)."""
    linger(c, name, "slowloris", "timeout_request")
    linger(c, name, "idle", "timeout_idle")
    if c.p["idle_valid_first"]:
        linger(c, name, "idle", "timeout_idle", "--valid-first")
