# SPDX-License-Identifier: GPL-2.0
"""results.svg of make bench, written by hand (no plotting library): for
each point, one panel of throughput bars and one of median latency bars,
a bar per server, with the runs' min–max as a whisker (cut at the end of
the axis when longer than 1.5 times the largest median); then the scale
series as curves over the number of connections (logarithmic), RPC/s and
p99."""

import math
from xml.sax.saxutils import escape

from . import results as R

COLORS = {
    "krpc2": "#1f5fa8", "kecho": "#1f5fa8",
    "krpc2-wq": "#8db5e0", "kecho-wq": "#8db5e0",
    "krpc2-conn": "#5a8fd0", "kecho-conn": "#5a8fd0",
    "knfsd": "#c62828",
    "usrv-epoll": "#ef8a17", "usrv-uring": "#3a9a3a",
    "floor": "#555555", "floor-1cpu": "#8a8a8a", "floor-2cpu": "#bdbdbd",
    "krpc2-smc": "#6a3d9a", "kecho-smc": "#6a3d9a", "floor-smc": "#b39ddb",
}
LABEL_W = 92   # server names left of the bars
PANEL_W = 380  # bar area
VALUE_W = 70   # value labels right of the longest bar
BAR_H, GAP = 14, 5


def nice_ticks(top):
    """Tick values 0..>=top at a 1/2/5 step, about five of them."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


def tick_label(v):
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


class Svg:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, anchor="start", size=11, extra=""):
        self.add(f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' "
                 f"font-family='sans-serif' font-size='{size}' {extra}>{escape(str(s))}</text>")

    def rect(self, x, y, w, h, fill, extra=""):
        self.add(f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(w, 0):.1f}' height='{h:.1f}' "
                 f"fill='{fill}' {extra}/>")

    def line(self, x1, y1, x2, y2, stroke="#000", width=1, extra=""):
        self.add(f"<line x1='{x1:.1f}' y1='{y1:.1f}' x2='{x2:.1f}' y2='{y2:.1f}' "
                 f"stroke='{stroke}' stroke-width='{width}' {extra}/>")


def panel(svg, x0, y0, entries, key, lo, hi, axis_label, fmt):
    """Bars of ENTRIES [(server, summary or None, error)] at (x0, y0); the
    value is summary[key], the whisker summary[lo]..summary[hi]. Returns
    the panel's height."""
    values = [s[key] for _, s, _ in entries if s and s.get(key) is not None]
    highs = [s[hi] for _, s, _ in entries if s and s.get(hi) is not None]
    most = max(values) if values else 1
    # Whiskers up to 1.5 times the largest median fit; longer ones are cut.
    ticks = nice_ticks(max([most] + [h for h in highs if h <= 1.5 * most]))
    top = ticks[-1]
    scale = PANEL_W / top
    bx = x0 + LABEL_W
    y = y0
    for server, s, err in entries:
        svg.text(bx - 6, y + BAR_H - 3, server, anchor="end")
        if not s or s.get(key) is None:
            svg.text(bx + 4, y + BAR_H - 3, "error" if err else "no data",
                     extra="fill='#c62828' font-style='italic'")
            y += BAR_H + GAP
            continue
        w = s[key] * scale
        svg.rect(bx, y, w, BAR_H, COLORS.get(server, "#999"))
        end = w
        if s.get(lo) is not None and s.get(hi) is not None:
            # The whisker stops at the axis' end; an arrow says it goes on.
            mid = y + BAR_H / 2
            x1, x2 = s[lo] * scale, min(s[hi], top) * scale
            svg.line(bx + x1, mid, bx + x2, mid, width=1.2)
            svg.line(bx + x1, mid - 4, bx + x1, mid + 4, width=1.2)
            if s[hi] > top:
                svg.add(f"<path d='M{bx + x2:.1f},{mid - 4:.1f} l6,4 l-6,4 z' fill='#000'/>")
                x2 += 6
            else:
                svg.line(bx + x2, mid - 4, bx + x2, mid + 4, width=1.2)
            end = max(end, x2)
        svg.text(bx + end + 5, y + BAR_H - 3, fmt(s[key]))
        y += BAR_H + GAP
    # Axis, ticks, grid, label.
    svg.line(bx, y0 - 3, bx, y, stroke="#444")
    svg.line(bx, y, bx + PANEL_W, y, stroke="#444")
    for t in ticks:
        tx = bx + t * scale
        svg.line(tx, y, tx, y + 4, stroke="#444")
        if t:
            svg.line(tx, y0 - 3, tx, y, stroke="#ddd", extra="stroke-dasharray='2,2'")
        svg.text(tx, y + 15, tick_label(t), anchor="middle")
    svg.text(bx + PANEL_W / 2, y + 29, axis_label, anchor="middle", extra="fill='#333'")
    return y - y0 + 36


CURVE_H = 180  # height of a curve panel's plot area


def curves(svg, x0, y0, series, key, axis_label, fmt):
    """A line per server of SERIES [(server, [(conns, summary)])] at (x0,
    y0): summary[key] over the connections on a log2 axis. Returns the
    panel's height."""
    conns = sorted({c for _, pts in series for c, _ in pts})
    values = [s[key] for _, pts in series for _, s in pts if s.get(key) is not None]
    if not conns or not values:
        return 0
    ticks = nice_ticks(max(values))
    bx, top = x0 + LABEL_W, ticks[-1]
    span = math.log2(max(conns)) or 1

    def px(c):
        return bx + 10 + (PANEL_W - 20) * math.log2(c) / span

    def py(v):
        return y0 + CURVE_H - CURVE_H * v / top

    for t in ticks:
        svg.line(bx, py(t), bx + PANEL_W, py(t), stroke="#ddd" if t else "#444",
                 extra="stroke-dasharray='2,2'" if t else "")
        svg.text(bx - 6, py(t) + 4, tick_label(t), anchor="end")
    for c in conns:
        svg.line(px(c), y0 + CURVE_H, px(c), y0 + CURVE_H + 4, stroke="#444")
        svg.text(px(c), y0 + CURVE_H + 16, f"{c:,}", anchor="middle")
    for server, pts in series:
        pts = [(c, s[key]) for c, s in pts if s.get(key) is not None]
        color = COLORS.get(server, "#999")
        path = " ".join(f"{px(c):.1f},{py(v):.1f}" for c, v in pts)
        svg.add(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='2'/>")
        for c, v in pts:
            svg.add(f"<circle cx='{px(c):.1f}' cy='{py(v):.1f}' r='3' fill='{color}'>"
                    f"<title>{escape(server)}: {escape(fmt(v))} at {c:,} connections</title>"
                    f"</circle>")
    svg.text(bx + PANEL_W / 2, y0 + CURVE_H + 32, axis_label, anchor="middle",
             extra="fill='#333'")
    return CURVE_H + 44


def render(results, env, title="make bench"):
    """The SVG document of RESULTS."""
    svg = Svg()
    col_w = LABEL_W + PANEL_W + VALUE_W
    width = 20 + 2 * col_w + 20
    y = 28
    svg.text(20, y, title, size=16, extra="font-weight='bold'")
    sub = ", ".join(str(env[k]) for k in ("accel", "date", "commit") if env.get(k))
    if env.get("guest_cpus"):
        sub = f"{env['guest_cpus']} vCPUs, " + sub
    svg.text(20, y + 18, f"guest: {sub}; bars: median of the runs, whiskers: min–max",
             extra="fill='#444'")
    y += 34
    # Legend: every server that appears, in order.
    servers = list(dict.fromkeys(r["server"] for r in results))
    lx = 20
    for s in servers:
        svg.rect(lx, y, 12, 12, COLORS.get(s, "#999"))
        svg.text(lx + 16, y + 10, s)
        lx += 24 + 7 * len(s)
    y += 30
    for suite, unit in (("rpc", "RPC/s"), ("echo", "msgs/s")):
        mine = [r for r in results if r["suite"] == suite]
        if not mine:
            continue
        svg.text(20, y, R.TITLES_SHORT[suite], size=14, extra="font-weight='bold'")
        y += 18
        for pt in dict.fromkeys(R.point_key(r["point"]) for r in mine):
            entries = [(r["server"], r.get("summary"), r.get("error"))
                       for r in mine if R.point_key(r["point"]) == pt]
            svg.text(20, y + 4, pt, extra="font-weight='bold'")
            y += 12
            h1 = panel(svg, 20, y, entries, "rate", "rate_min", "rate_max",
                       f"{unit} ({pt}), higher is better", lambda v: f"{v:,.0f}")
            h2 = panel(svg, 20 + col_w, y, entries, "lat_us", "lat_min", "lat_max",
                       f"median round trip µs ({pt}), lower is better", lambda v: f"{v:.1f}")
            y += max(h1, h2) + 10
    series = [(srv, R.scale_series(results, srv)) for srv in R.scale_servers(results)]
    if series:
        svg.text(20, y, "Scale: RPC NULL, one call in flight per connection (rpctest -C)",
                 size=14, extra="font-weight='bold'")
        y += 18
        h1 = curves(svg, 20, y, series, "rate", "RPC/s over connections, higher is better",
                    lambda v: f"{v:,.0f} RPC/s")
        h2 = curves(svg, 20 + col_w, y, series, "p99_us",
                    "p99 round trip µs over connections, lower is better",
                    lambda v: f"{v:,.0f} µs")
        y += max(h1, h2) + 10
    height = y + 10
    head = (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height:.0f}' "
            f"viewBox='0 0 {width} {height:.0f}'>\n"
            f"<rect width='100%' height='100%' fill='white'/>")
    return head + "\n" + "\n".join(svg.parts) + "\n</svg>\n"
