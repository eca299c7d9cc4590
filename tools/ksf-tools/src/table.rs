// SPDX-License-Identifier: GPL-2.0

//! Aligned, whitespace-separated output rows (easy to read and to feed to
//! `awk`/gnuplot), and number and time formatting for them.

/// Alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    width: usize,
    align: Align,
}

/// A table layout: column names, widths and alignment.
///
/// ```
/// use ksf_tools::table::{Align, Table};
/// let t = Table::new().col("iter", 4, Align::Right).col("MedLat", 8, Align::Right);
/// assert_eq!(t.header(), "iter   MedLat");
/// assert_eq!(t.row(&["1", "12.5"]), "   1     12.5");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Table {
    cols: Vec<Column>,
}

impl Table {
    /// A table without columns.
    pub fn new() -> Table {
        Table::default()
    }

    /// Adds a column at least `width` characters wide (and never narrower
    /// than its name).
    pub fn col(mut self, name: &str, width: usize, align: Align) -> Table {
        self.cols.push(Column {
            name: name.to_string(),
            width: width.max(name.len()),
            align,
        });
        self
    }

    /// Adds the latency columns: MinLat, MedLat (if `median`), one per
    /// quantile in percent (p99...), MaxLat.
    pub fn latency_cols(self, median: bool, quantiles: &[f64]) -> Table {
        let mut t = self.col("MinLat", 8, Align::Right);
        if median {
            t = t.col("MedLat", 8, Align::Right);
        }
        for &q in quantiles {
            t = t.col(&crate::stats::quantile_label(q), 8, Align::Right);
        }
        t.col("MaxLat", 8, Align::Right)
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// True if there are no columns.
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// The header line (column names, aligned like the cells).
    pub fn header(&self) -> String {
        let names: Vec<&str> = self.cols.iter().map(|c| c.name.as_str()).collect();
        self.row(&names)
    }

    /// One row. Cells wider than their column push the rest right but are
    /// never cut; missing cells are blank, extra cells are appended.
    pub fn row<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let mut out = String::new();
        for i in 0..self.cols.len().max(cells.len()) {
            let cell = cells.get(i).map(|c| c.as_ref()).unwrap_or("");
            if i > 0 {
                out.push(' ');
            }
            match self.cols.get(i) {
                Some(c) if c.align == Align::Left => {
                    out.push_str(&format!("{cell:<w$}", w = c.width))
                }
                Some(c) => out.push_str(&format!("{cell:>w$}", w = c.width)),
                None => out.push_str(cell),
            }
        }
        out.truncate(out.trim_end().len());
        out
    }
}

/// Nanoseconds as microseconds with one decimal: `12345` → `"12.3"`.
pub fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

/// A value with a fixed number of decimals.
pub fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// Bytes over nanoseconds as megabits per second (10^6 bit/s).
pub fn mbps(bytes: u64, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        bytes as f64 * 8.0 * 1000.0 / ns as f64
    }
}

/// Events over nanoseconds as a rate per second.
pub fn per_sec(n: u64, ns: u64) -> f64 {
    if ns == 0 {
        0.0
    } else {
        n as f64 * 1e9 / ns as f64
    }
}

/// The current local time as `YYYY-MM-DDTHH:MM:SS` (ISO 8601, no zone), a
/// single whitespace-free token for the `Date` column.
pub fn local_time() -> String {
    // SAFETY: time(NULL) only reads the clock; localtime_r writes into our
    // zeroed `tm` (plain data) and returns NULL on failure, checked below.
    let tm = unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return "-".to_string();
        }
        tm
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_columns() {
        let t = Table::new().latency_cols(true, &[99.0, 99.9]);
        assert_eq!(
            t.header().split_whitespace().collect::<Vec<_>>(),
            ["MinLat", "MedLat", "p99", "p99.9", "MaxLat"]
        );
        assert_eq!(Table::new().latency_cols(false, &[]).len(), 2);
    }

    #[test]
    fn rows_align() {
        let t = Table::new()
            .col("Date", 6, Align::Left)
            .col("n", 3, Align::Right)
            .col("msgs/s", 1, Align::Right);
        assert_eq!(t.len(), 3);
        assert_eq!(t.header(), "Date     n msgs/s");
        assert_eq!(t.row(&["x", "1", "2.0"]), "x        1    2.0");
        assert_eq!(
            t.row(&["toolongdate", "12345", "1"]),
            "toolongdate 12345      1"
        );
        assert_eq!(t.row(&["a"]), "a");
        assert_eq!(t.row(&["a", "1", "2", "extra"]), "a        1      2 extra");
        assert!(Table::new().is_empty());
    }

    #[test]
    fn number_formats() {
        assert_eq!(us(12_345), "12.3");
        assert_eq!(us(0), "0.0");
        assert_eq!(fixed(2.0 / 3.0, 2), "0.67");
        assert_eq!(mbps(1_000_000, 1_000_000_000), 8.0);
        assert_eq!(mbps(1, 0), 0.0);
        assert_eq!(per_sec(500, 250_000_000), 2000.0);
        assert_eq!(per_sec(5, 0), 0.0);
    }

    #[test]
    fn local_time_shape() {
        let t = local_time();
        assert_eq!(t.len(), 19, "{t}");
        assert_eq!(&t[10..11], "T");
        assert!(!t.contains(' '));
    }
}
