// SPDX-License-Identifier: GPL-2.0

//! The output table: one row per iteration and a summary row holding the
//! median of each column across iterations.

use crate::opts::Opts;
use crate::IterResult;
use ksf_tools::stats::median;
use ksf_tools::table::{fixed, local_time, mbps, per_sec, us, Align, Table};
use ksf_tools::Histogram;

/// Numeric columns after the fixed ones, in order: msgs, usecs, msgs/s,
/// Mbps, MinLat, MedLat, quantiles..., MaxLat, cpu/msg, errors.
pub struct Report {
    table: Table,
    quantiles: Vec<f64>,
    fixed: [String; 3],
    len: usize,
    /// Per iteration, the numeric columns (latencies in ns).
    rows: Vec<Vec<f64>>,
}

impl Report {
    pub fn new(o: &Opts) -> Report {
        let table = Table::new()
            .col("Date", 19, Align::Left)
            .col("iter", 4, Align::Right)
            .col("jobs", 4, Align::Right)
            .col("inflight", 8, Align::Right)
            .col("len", 7, Align::Right)
            .col("msgs", 9, Align::Right)
            .col("usecs", 10, Align::Right)
            .col("msgs/s", 10, Align::Right)
            .col("Mbps", 9, Align::Right)
            .latency_cols(true, &o.quantiles)
            .col("cpu/msg", 7, Align::Right)
            .col("errors", 6, Align::Right);
        Report {
            table,
            quantiles: o.quantiles.clone(),
            fixed: [
                o.jobs.to_string(),
                o.inflight.to_string(),
                o.len.to_string(),
            ],
            len: o.len,
            rows: Vec::new(),
        }
    }

    pub fn header(&self) -> String {
        self.table.header()
    }

    /// Adds an iteration's results (all jobs) and returns its row.
    pub fn add(&mut self, iter: u64, results: &[IterResult]) -> String {
        let mut hist = Histogram::new();
        let (mut msgs, mut errors, mut cpu) = (0u64, 0u64, 0u64);
        let start = results.iter().map(|r| r.start_ns).min().unwrap_or(0);
        let end = results.iter().map(|r| r.end_ns).max().unwrap_or(0);
        for r in results {
            hist.merge(&r.hist);
            msgs += r.counts.msgs;
            errors += r.errors;
            cpu += r.cpu_ns;
        }
        let ns = end.saturating_sub(start);
        let mut v = vec![
            msgs as f64,
            ns as f64 / 1000.0,
            per_sec(msgs, ns),
            mbps(msgs * self.len as u64, ns),
            hist.min() as f64,
            hist.median() as f64,
        ];
        v.extend(self.quantiles.iter().map(|&q| hist.percentile(q) as f64));
        v.push(hist.max() as f64);
        v.push(if msgs == 0 {
            0.0
        } else {
            cpu as f64 / msgs as f64 / 1000.0
        });
        v.push(errors as f64);
        let row = self.format(&iter.to_string(), &v);
        self.rows.push(v);
        row
    }

    /// The summary row, or `None` before the first iteration.
    pub fn summary(&self) -> Option<String> {
        let first = self.rows.first()?;
        let cols = first.len();
        let mut v: Vec<f64> = (0..cols)
            .map(|c| {
                let col: Vec<f64> = self.rows.iter().map(|r| r[c]).collect();
                median(&col).unwrap_or(0.0)
            })
            .collect();
        v[cols - 1] = self.rows.iter().map(|r| r[cols - 1]).sum();
        Some(self.format("med", &v))
    }

    fn format(&self, iter: &str, v: &[f64]) -> String {
        let n = v.len();
        let mut cells = vec![local_time(), iter.to_string()];
        cells.extend(self.fixed.iter().cloned());
        cells.push(fixed(v[0], 0));
        cells.push(fixed(v[1], 0));
        cells.push(fixed(v[2], 0));
        cells.push(fixed(v[3], 1));
        cells.extend(v[4..n - 2].iter().map(|&ns| us(ns.round() as u64)));
        cells.push(fixed(v[n - 2], 2));
        cells.push(fixed(v[n - 1], 0));
        self.table.row(&cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(job: usize, lat_us: &[u64], start: u64, end: u64) -> IterResult {
        let mut r = IterResult::new(job, 0);
        for &l in lat_us {
            r.hist.record(l * 1000);
        }
        r.counts.msgs = lat_us.len() as u64;
        r.start_ns = start;
        r.end_ns = end;
        r.cpu_ns = 1000 * r.counts.msgs;
        r
    }

    #[test]
    fn rows_and_summary() {
        let o = match crate::opts::parse(["-j2", "-l", "125"].map(String::from)).unwrap() {
            crate::opts::Command::Run(o) => o,
            _ => unreachable!(),
        };
        let mut rep = Report::new(&o);
        assert!(rep.summary().is_none());
        let h = rep.header();
        let names: Vec<&str> = h.split_whitespace().collect();
        assert_eq!(
            names,
            [
                "Date", "iter", "jobs", "inflight", "len", "msgs", "usecs", "msgs/s", "Mbps",
                "MinLat", "MedLat", "p99", "MaxLat", "cpu/msg", "errors"
            ]
        );
        // 4 messages in 2 ms: 2000 msgs/s, 4 * 125 B * 8 / 2 ms = 2 Mbps.
        let rs = [
            result(0, &[10, 20], 0, 1_500_000),
            result(1, &[30, 40], 500_000, 2_000_000),
        ];
        let row = rep.add(1, &rs);
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            &cells[1..],
            [
                "1", "2", "1", "125", "4", "2000", "2000", "2.0", "10.0", "20.0", "40.0", "40.0",
                "1.00", "0"
            ]
        );
        let mut rs2 = [result(0, &[50, 60], 0, 4_000_000)];
        rs2[0].errors = 3;
        rep.add(2, &rs2);
        let sum = rep.summary().unwrap();
        let cells: Vec<&str> = sum.split_whitespace().collect();
        assert_eq!(cells[1], "med");
        assert_eq!(cells[5], "3");
        assert_eq!(cells[14], "3");
        assert_eq!(cells[6], "3000");
    }
}
