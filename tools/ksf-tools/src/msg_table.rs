// SPDX-License-Identifier: GPL-2.0

//! The text table of echotest and pingpong: one row per iteration, then a
//! summary row ("med") holding the median of each column across
//! iterations (the sum, for errors).
//!
//! Columns: Date iter, the run's fixed columns (jobs inflight len, or
//! len), msgs usecs msgs/s Mbps MinLat MedLat, a column per quantile,
//! MaxLat cpu/msg, snd/msg rcv/msg (system calls per message) and errors
//! where the tool counts them.

use crate::json::Iteration;
use crate::output::Output;
use crate::stats::median;
use crate::table::{fixed, local_time, mbps, per_sec, us, Align, Table};

/// See the module documentation.
pub struct MsgTable {
    table: Table,
    quantiles: Vec<f64>,
    fixed: Vec<String>,
    syscalls: bool,
    errors: bool,
    /// Per iteration, the numeric columns (latencies in ns).
    rows: Vec<Vec<f64>>,
}

impl MsgTable {
    /// A table whose fixed columns are `fixed` (name, width, value), with
    /// a column per quantile (in percent), if `syscalls` the send and
    /// receive calls per message, and if `errors` an errors column.
    pub fn new(
        fixed: &[(&str, usize, String)],
        quantiles: &[f64],
        syscalls: bool,
        errors: bool,
    ) -> MsgTable {
        let mut table = Table::new()
            .col("Date", 19, Align::Left)
            .col("iter", 4, Align::Right);
        for (name, width, _) in fixed {
            table = table.col(name, *width, Align::Right);
        }
        table = table
            .col("msgs", 9, Align::Right)
            .col("usecs", 10, Align::Right)
            .col("msgs/s", 10, Align::Right)
            .col("Mbps", 9, Align::Right)
            .latency_cols(true, quantiles)
            .col("cpu/msg", 7, Align::Right);
        if syscalls {
            table = table
                .col("snd/msg", 7, Align::Right)
                .col("rcv/msg", 7, Align::Right);
        }
        if errors {
            table = table.col("errors", 6, Align::Right);
        }
        MsgTable {
            table,
            quantiles: quantiles.to_vec(),
            fixed: fixed.iter().map(|(_, _, v)| v.clone()).collect(),
            syscalls,
            errors,
            rows: Vec::new(),
        }
    }

    fn format(&self, iter: &str, v: &[f64]) -> String {
        let lat_end = 6 + self.quantiles.len() + 1;
        let mut cells = vec![local_time(), iter.to_string()];
        cells.extend(self.fixed.iter().cloned());
        cells.extend(v[..3].iter().map(|&x| fixed(x, 0)));
        cells.push(fixed(v[3], 1));
        cells.extend(v[4..lat_end].iter().map(|&ns| us(ns.round() as u64)));
        cells.push(fixed(v[lat_end], 2));
        let mut next = lat_end + 1;
        if self.syscalls {
            cells.push(fixed(v[next], 3));
            cells.push(fixed(v[next + 1], 3));
            next += 2;
        }
        if self.errors {
            cells.push(fixed(v[next], 0));
        }
        self.table.row(&cells)
    }
}

impl Output for MsgTable {
    fn header(&self) -> Option<String> {
        Some(self.table.header())
    }

    fn add(&mut self, iter: u64, i: &Iteration) -> String {
        let (msgs, ns, hist) = (i.ops, i.ns, &i.hist);
        let mut v = vec![
            msgs as f64,
            ns as f64 / 1000.0,
            per_sec(msgs, ns),
            mbps(i.bytes, ns),
            hist.min() as f64,
            hist.median() as f64,
        ];
        v.extend(self.quantiles.iter().map(|&q| hist.percentile(q) as f64));
        v.push(hist.max() as f64);
        v.push(if msgs == 0 {
            0.0
        } else {
            i.cpu_ns as f64 / msgs as f64 / 1000.0
        });
        if self.syscalls {
            let (sends, recvs) = i.syscalls.unwrap_or_default();
            let per_msg = |n: u64| {
                if msgs == 0 {
                    0.0
                } else {
                    n as f64 / msgs as f64
                }
            };
            v.push(per_msg(sends));
            v.push(per_msg(recvs));
        }
        if self.errors {
            v.push(i.errors as f64);
        }
        let row = self.format(&iter.to_string(), &v);
        self.rows.push(v);
        row
    }

    fn summary(&self) -> Option<String> {
        let cols = self.rows.first()?.len();
        let mut v: Vec<f64> = (0..cols)
            .map(|c| {
                let col: Vec<f64> = self.rows.iter().map(|r| r[c]).collect();
                median(&col).unwrap_or(0.0)
            })
            .collect();
        if self.errors {
            v[cols - 1] = self.rows.iter().map(|r| r[cols - 1]).sum();
        }
        Some(self.format("med", &v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Histogram;

    fn iteration(lat_us: &[u64], ns: u64, errors: u64) -> Iteration {
        let mut hist = Histogram::new();
        lat_us.iter().for_each(|&l| hist.record(l * 1000));
        let ops = lat_us.len() as u64;
        Iteration {
            ops,
            ns,
            cpu_ns: 1000 * ops,
            bytes: 125 * ops,
            errors,
            hist,
            syscalls: None,
            payload: None,
        }
    }

    fn cells(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn rows_and_summary() {
        let fixed = [("jobs", 4, "2".to_string()), ("len", 7, "125".to_string())];
        let mut t = MsgTable::new(&fixed, &[99.0], false, true);
        assert!(t.summary().is_none());
        assert_eq!(
            cells(&t.header().unwrap()),
            [
                "Date", "iter", "jobs", "len", "msgs", "usecs", "msgs/s", "Mbps", "MinLat",
                "MedLat", "p99", "MaxLat", "cpu/msg", "errors"
            ]
        );
        // 4 messages in 2 ms: 2000 msgs/s, 4 * 125 B * 8 / 2 ms = 2 Mbps.
        let row = t.add(1, &iteration(&[10, 20, 30, 40], 2_000_000, 0));
        assert_eq!(
            &cells(&row)[1..],
            [
                "1", "2", "125", "4", "2000", "2000", "2.0", "10.0", "20.0", "40.0", "40.0",
                "1.00", "0"
            ]
        );
        t.add(2, &iteration(&[50, 60], 4_000_000, 3));
        let sum = t.summary().unwrap();
        let c = cells(&sum);
        assert_eq!((c[1], c[4], c[5], c[13]), ("med", "3", "3000", "3"));
    }

    #[test]
    fn without_errors() {
        let mut t = MsgTable::new(&[("len", 7, "64".to_string())], &[50.0, 99.0], false, false);
        assert_eq!(cells(&t.header().unwrap()).len(), 13);
        let row = t.add(1, &iteration(&[10], 1_000_000, 0));
        assert_eq!(cells(&row).len(), 13);
        assert_eq!(cells(&t.summary().unwrap())[1], "med");
    }
}
