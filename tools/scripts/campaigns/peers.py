# SPDX-License-Identifier: GPL-2.0
"""The peers of tools/ksfstress run in the guest against a service: hold,
churn, reset, halfclose, and noread with its memory bound."""

from .common import SERVICES, summary_of

# Most memory one connection may hold: krpc2's 64 KiB receive, 16 KiB
# reply and max_record (4 KiB) reassembly buffers, kecho's 64 KiB buffer,
# plus ksf's own state: 96 KiB covers both.
CONN_MEM_BOUND = 96 * 1024


def peers(c, name, campaign, args, figures, timeout=1800):
    """ksfstress CAMPAIGN ARGS against NAME in the guest; FIGURES(summary)
    says what was tried. (ok, output)."""
    port, proto, _ = SERVICES[name]
    cmd = f"ulimit -n 65536; ksfstress {campaign} --proto {proto} {args} 127.0.0.1:{port}"
    log = c.log(name, campaign)
    ok, out, secs = c.vm(cmd, log, timeout=timeout)
    c.record(campaign, name, figures(summary_of(out)), ok, out, secs, log)
    return ok, out


def run(c, name):
    """hold, churn, reset, halfclose against NAME."""
    p = c.p
    peers(c, name, "hold", f"--conns {p['hold']}",
          lambda s: f"{s.get('held', '?')} connections held, {s.get('served', '?')} served")
    peers(c, name, "churn", f"--cycles {p['churn']}",
          lambda s: f"{s.get('cycles', '?')} connect/close cycles")
    peers(c, name, "reset", f"--count {p['reset']}",
          lambda s: f"{s.get('peers', '?')} resets mid-record")
    peers(c, name, "halfclose", f"--count {p['halfclose']}",
          lambda s: f"{s.get('peers', '?')} half-closed peers")


def noread(c, name):
    """Peers that never read while a good client is served; then every
    connection closes and the memory peak stayed within its bound."""
    p = c.p
    ok, out = c.load(name)
    if not ok:
        return c.record("noread", name, "insmod failed", False, out, 0)
    peers(c, name, "noread", f"--conns {p['noread_conns']} --secs {p['noread_secs']}",
          lambda s: f"{p['noread_conns']} peers never reading for {p['noread_secs']} s, "
                    f"good client p99 {s.get('rtt_p99_us', '?')} us")
    # The peers are gone: every connection closes, and its memory goes.
    st = c.drained(name)
    peak = st.get("conn_mem_peak", -1)
    # The non-readers, the good client's connections, and a few that were
    # closing while others opened.
    bound = (p["noread_conns"] + 8) * CONN_MEM_BOUND
    c.record("memory", name, f"conn_mem_peak {peak} <= {bound} bytes, then 0",
             0 < peak <= bound and st.get("conn_mem") == 0, f"stats after noread: {st}", 0)
