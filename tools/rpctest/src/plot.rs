// SPDX-License-Identifier: GPL-2.0

//! `-d DIR`: the latency histogram as a CSV data file and as an SVG plot
//! of its cumulative distribution, written by hand. Both axes are
//! logarithmic: latency, and the share of calls on a scale that spreads
//! the tail (90%, 99%, 99.9%... equally spaced), as HdrHistogram plots do.

use ksf_tools::Histogram;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const DATA_FILE: &str = "rpctest-latency.csv";
pub const PLOT_FILE: &str = "rpctest-latency.svg";

/// The histogram's non-empty buckets with cumulative counts, one per line.
pub fn data(h: &Histogram) -> String {
    let mut s = String::from("lo_ns,hi_ns,count,cumulative,cumulative_percent\n");
    let mut cum = 0;
    for (lo, hi, n) in h.buckets() {
        cum += n;
        let pct = 100.0 * cum as f64 / h.count() as f64;
        let _ = writeln!(s, "{lo},{hi},{n},{cum},{pct:.4}");
    }
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A tick label for `v` microseconds: `0.01`, `0.5`, `20`, `1000`.
fn tick(v: f64) -> String {
    if v >= 1.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').to_string()
    }
}

const W: f64 = 800.0;
const H: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 60.0;

/// Maps latencies (µs, log scale) and shares of calls (`-log10(1 - f)`,
/// up to `nines`) onto the plot area.
struct Axes {
    lg_min: f64,
    lg_max: f64,
    nines: f64,
}

impl Axes {
    fn x(&self, us: f64) -> f64 {
        let lg = us.max(1e-3).log10();
        LEFT + (lg - self.lg_min) / (self.lg_max - self.lg_min) * (W - LEFT - RIGHT)
    }

    /// `f`: the share of calls, 0..=1.
    fn y(&self, f: f64) -> f64 {
        let v = if f >= 1.0 {
            self.nines
        } else {
            (-(1.0 - f.max(0.0)).log10()).min(self.nines)
        };
        TOP + (H - TOP - BOTTOM) * (1.0 - v / self.nines)
    }
}

/// The SVG document: a step line of the share of calls answered within a
/// latency, decade grid lines, axis labels, and `title`.
pub fn svg(h: &Histogram, title: &str) -> String {
    let us = |ns: u64| ns.max(1) as f64 / 1000.0;
    let lg_min = us(h.min()).log10().floor();
    let mut lg_max = us(h.max()).log10().ceil();
    if lg_max <= lg_min {
        lg_max = lg_min + 1.0;
    }
    // Enough nines to resolve one call in n (at least 90%, 99%).
    let nines = (h.count().max(2) as f64).log10().ceil().max(2.0);
    let ax = Axes {
        lg_min,
        lg_max,
        nines,
    };
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, ax.y(0.0), ax.y(1.0));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>",
        W / 2.0,
        escape(title)
    );
    // Grid: 0%, 50%, 90%, 99%... and every 1, 2, 5 of each decade.
    let mut shares = vec![(0.0, "0%".to_string()), (0.5, "50%".to_string())];
    for k in 1..=nines as i32 {
        let f = 1.0 - 10f64.powi(-k);
        let decimals = (k - 2).max(0) as usize;
        shares.push((f, format!("{:.*}%", decimals, 100.0 * f)));
    }
    for (f, label) in shares {
        let y = ax.y(f);
        let _ = writeln!(
            s,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            x0 - 6.0,
            y + 4.0
        );
    }
    let mut e = lg_min as i32;
    while f64::from(e) < lg_max {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(e);
            let x = ax.x(v);
            let color = if m == 1.0 { "#bbb" } else { "#eee" };
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{y0}\" x2=\"{x:.1}\" y2=\"{y1}\" stroke=\"{color}\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y0 + 16.0,
                tick(v)
            );
        }
        e += 1;
    }
    let last = 10f64.powi(lg_max as i32);
    let _ = writeln!(
        s,
        "<text x=\"{x1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n\
         <rect x=\"{x0}\" y=\"{y1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"black\"/>\n\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">latency (µs, log scale)</text>\n\
         <text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\">\
         calls answered within the latency</text>",
        y0 + 16.0,
        tick(last),
        x1 - x0,
        y0 - y1,
        (x0 + x1) / 2.0,
        H - 16.0,
        (y0 + y1) / 2.0
    );
    // The cumulative distribution, rising across each bucket.
    let n = h.count().max(1) as f64;
    let mut path = format!("M{:.1},{y0:.1}", ax.x(us(h.min())));
    let mut cum = 0;
    for (lo, hi, c) in h.buckets() {
        let before = ax.y(cum as f64 / n);
        cum += c;
        let after = ax.y(cum as f64 / n);
        let (xl, xh) = (ax.x(us(lo.max(h.min()))), ax.x(us(hi.min(h.max()))));
        let _ = write!(path, " L{xl:.1},{before:.1} L{xh:.1},{after:.1}");
    }
    let _ = writeln!(
        s,
        "<path d=\"{path}\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.5\"/>"
    );
    let legend = format!(
        "n={}  min {:.1}  median {:.1}  p99 {:.1}  max {:.1} µs",
        h.count(),
        us(h.min()),
        us(h.median()),
        us(h.percentile(99.0)),
        us(h.max())
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"42\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n</svg>",
        W / 2.0,
        escape(&legend)
    );
    s
}

/// Writes both files into `dir` (created if missing); returns their paths.
pub fn write(dir: &Path, h: &Histogram, title: &str) -> Result<(PathBuf, PathBuf), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("-d: cannot create directory {}: {e}", dir.display()))?;
    let (d, p) = (dir.join(DATA_FILE), dir.join(PLOT_FILE));
    for (path, text) in [(&d, data(h)), (&p, svg(h, title))] {
        std::fs::write(path, text)
            .map_err(|e| format!("-d: cannot write {}: {e}", path.display()))?;
    }
    Ok((d, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist() -> Histogram {
        let mut h = Histogram::new();
        for v in [5_000, 7_000, 7_000, 9_000, 120_000] {
            h.record(v);
        }
        h
    }

    #[test]
    fn data_lines() {
        let d = data(&hist());
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(lines[0], "lo_ns,hi_ns,count,cumulative,cumulative_percent");
        assert_eq!(lines.len(), 5);
        assert!(lines[2].ends_with(",2,3,60.0000"), "{}", lines[2]);
        assert!(lines[4].ends_with(",1,5,100.0000"), "{}", lines[4]);
    }

    #[test]
    fn svg_shape() {
        let s = svg(&hist(), "a <b> & c");
        assert!(s.starts_with("<?xml") && s.trim_end().ends_with("</svg>"));
        assert!(s.contains("a &lt;b&gt; &amp; c"));
        // Decades 1..1000 us: labels 1 2 5 10 ... 500 and 1000.
        for t in [">1<", ">10<", ">500<", ">1000<"] {
            assert!(s.contains(t), "{t}");
        }
        assert!(s.contains("median 7.0"));
        for t in [">0%<", ">50%<", ">90%<", ">99%<"] {
            assert!(s.contains(t), "{t}");
        }
        assert!(!s.contains(">99.9%<"));
        let mut big = Histogram::new();
        big.record_n(1000, 12345);
        assert!(svg(&big, "x").contains(">99.999%<"));
        assert_eq!(s.matches("<path").count(), 1);
        // An empty or single-valued histogram still plots.
        assert!(svg(&Histogram::new(), "x").contains("</svg>"));
        let mut one = Histogram::new();
        one.record(0);
        assert!(svg(&one, "x").contains("</svg>"));
        assert_eq!(tick(0.01), "0.01");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(20.0), "20");
    }
}
