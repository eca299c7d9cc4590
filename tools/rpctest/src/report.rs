// SPDX-License-Identifier: GPL-2.0

//! rpctest's output: the table, one row per iteration with running
//! medians and a summary row ("all") over the whole run (see the Columns
//! part of --help), or JSON lines.

use crate::nfs::moves_data;
use crate::opts::Opts;
use crate::IterResult;
use ksf_tools::json::{self, mbytes_per_sec, Counted, Iteration, Shape};
use ksf_tools::output::Output;
use ksf_tools::stats::Samples;
use ksf_tools::table::{fixed, local_time, mbps, per_sec, us, Align, Table};
use ksf_tools::Histogram;

/// Sums over jobs (one iteration) or iterations (the run).
#[derive(Default, Clone, Copy)]
struct Totals {
    calls: u64,
    ns: u64,
    cpu_ns: u64,
    sends: u64,
    recvs: u64,
    bytes: u64,
    payload: u64,
    errors: u64,
}

impl Totals {
    fn of(i: &Iteration) -> Totals {
        let (sends, recvs) = i.syscalls.unwrap_or_default();
        Totals {
            calls: i.ops,
            ns: i.ns,
            cpu_ns: i.cpu_ns,
            sends,
            recvs,
            bytes: i.bytes,
            payload: i.payload.unwrap_or(0),
            errors: i.errors,
        }
    }

    fn add(&mut self, t: &Totals) {
        self.calls += t.calls;
        self.ns += t.ns;
        self.cpu_ns += t.cpu_ns;
        self.sends += t.sends;
        self.recvs += t.recvs;
        self.bytes += t.bytes;
        self.payload += t.payload;
        self.errors += t.errors;
    }
}

/// The table.
pub struct Report {
    table: Table,
    quantiles: Vec<f64>,
    mean: bool,
    extra: bool,
    /// READ and WRITE: the MB/s column of the payload.
    payload: bool,
    fixed: [String; 2],
    rps: Samples,
    lat: Samples,
    mbps: Samples,
    mbytes: Samples,
    all: Histogram,
    total: Totals,
}

fn per_call(n: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        n as f64 / calls as f64
    }
}

/// The output `o` asks for.
pub fn output(tool: &'static str, o: &Opts) -> Box<dyn Output> {
    if o.json {
        Box::new(json::Report::new(Shape {
            tool,
            jobs: o.jobs,
            inflight: o.inflight,
            conns: Some(o.jobs * o.conns),
            len: None,
            quantiles: o.quantiles.clone(),
        }))
    } else {
        Box::new(Report::new(o))
    }
}

/// The iteration of the jobs' `results`.
pub fn iteration(results: &[IterResult]) -> Iteration {
    let mut i = Iteration::of(results, |c| Counted {
        ops: c.calls,
        bytes: c.bytes_in + c.bytes_out,
        syscalls: Some((c.sends, c.recvs)),
    });
    i.payload = Some(results.iter().map(|r| r.counts.payload).sum());
    i
}

impl Report {
    /// The table of a run of `o`.
    pub fn new(o: &Opts) -> Report {
        let (rpc, lat) = if o.mean {
            ("AvgRPC", "AvgLat")
        } else {
            ("MedRPC", "MedLat")
        };
        let mut table = Table::new()
            .col("Date", 19, Align::Left)
            .col("TD", 3, Align::Right)
            .col("INF", 4, Align::Right)
            .col(rpc, 10, Align::Right);
        let payload = moves_data(o);
        if payload {
            table = table.col("MB/s", 9, Align::Right);
        }
        table = table
            .col(lat, 8, Align::Right)
            .col("Mbps", 9, Align::Right)
            .latency_cols(false, &o.quantiles);
        if o.extra {
            for (name, w) in [
                ("calls", 10),
                ("usecs", 10),
                ("cpu/call", 8),
                ("snd/call", 8),
                ("rcv/call", 8),
            ] {
                table = table.col(name, w, Align::Right);
            }
        }
        table = table.col("errors", 6, Align::Right);
        Report {
            table,
            quantiles: o.quantiles.clone(),
            mean: o.mean,
            extra: o.extra,
            payload,
            fixed: [o.jobs.to_string(), o.inflight.to_string()],
            rps: Samples::new(),
            lat: Samples::new(),
            mbps: Samples::new(),
            mbytes: Samples::new(),
            all: Histogram::new(),
            total: Totals::default(),
        }
    }

    fn running(&self, s: &Samples) -> f64 {
        if self.mean {
            s.mean()
        } else {
            s.median()
        }
    }

    fn row(&self, date: String, rate: [f64; 2], h: &Histogram, t: &Totals) -> String {
        let [rate, mbytes] = rate;
        let mut cells = vec![date, self.fixed[0].clone(), self.fixed[1].clone()];
        cells.push(fixed(self.running(&self.rps), 0));
        if self.payload {
            cells.push(fixed(mbytes, 1));
        }
        cells.push(us(self.running(&self.lat).round() as u64));
        cells.push(fixed(rate, 1));
        cells.push(us(h.min()));
        cells.extend(self.quantiles.iter().map(|&q| us(h.percentile(q))));
        cells.push(us(h.max()));
        if self.extra {
            cells.push(t.calls.to_string());
            cells.push(fixed(t.ns as f64 / 1000.0, 0));
            cells.push(fixed(per_call(t.cpu_ns, t.calls) / 1000.0, 2));
            cells.push(fixed(per_call(t.sends, t.calls), 3));
            cells.push(fixed(per_call(t.recvs, t.calls), 3));
        }
        cells.push(t.errors.to_string());
        self.table.row(&cells)
    }
}

impl Output for Report {
    fn header(&self) -> Option<String> {
        Some(self.table.header())
    }

    fn add(&mut self, _iter: u64, i: &Iteration) -> String {
        let t = Totals::of(i);
        self.rps.push(per_sec(t.calls, t.ns));
        self.lat.push(if self.mean {
            i.hist.mean()
        } else {
            i.hist.median() as f64
        });
        let rate = [mbps(t.bytes, t.ns), mbytes_per_sec(t.payload, t.ns)];
        self.mbps.push(rate[0]);
        self.mbytes.push(rate[1]);
        self.all.merge(&i.hist);
        self.total.add(&t);
        self.row(local_time(), rate, &i.hist, &t)
    }

    fn summary(&self) -> Option<String> {
        if self.rps.is_empty() {
            return None;
        }
        let rate = [self.mbps.median(), self.mbytes.median()];
        Some(self.row("all".to_string(), rate, &self.all, &self.total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opts::test_opts as opts;
    use crate::Counts;

    fn result(job: usize, lat_us: &[u64], start: u64, end: u64) -> IterResult {
        let mut r = IterResult::new(job, 0);
        for &l in lat_us {
            r.hist.record(l * 1000);
        }
        let calls = lat_us.len() as u64;
        (r.start_ns, r.end_ns) = (start, end);
        r.cpu_ns = 1000 * calls;
        r.counts = Counts {
            calls,
            replies: calls,
            sends: calls,
            recvs: 2 * calls,
            bytes_out: 44 * calls,
            bytes_in: 31 * calls,
            payload: 0,
        };
        r
    }

    fn cells(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn rows_and_summary() {
        let mut rep = Report::new(&opts(&["-j2", "-a4", "-q", "50,99", "-x"]));
        assert!(rep.summary().is_none());
        assert_eq!(
            cells(&rep.header().unwrap()),
            [
                "Date", "TD", "INF", "MedRPC", "MedLat", "Mbps", "MinLat", "p50", "p99", "MaxLat",
                "calls", "usecs", "cpu/call", "snd/call", "rcv/call", "errors"
            ]
        );
        // 4 calls in 2 ms: 2000 calls/s; 4 * 75 B * 8 / 2 ms = 1.2 Mbps.
        let rs = [
            result(0, &[10, 20], 0, 1_500_000),
            result(1, &[30, 40], 500_000, 2_000_000),
        ];
        let row = rep.add(1, &iteration(&rs));
        assert_eq!(
            &cells(&row)[1..],
            [
                "2", "4", "2000", "20.0", "1.2", "10.0", "20.0", "40.0", "40.0", "4", "2000",
                "1.00", "1.000", "2.000", "0"
            ]
        );
        let mut rs2 = [result(0, &[50, 60], 0, 4_000_000)];
        rs2[0].errors = 3;
        let row = rep.add(2, &iteration(&rs2));
        // Running medians: (2000 + 500) / 2 calls/s, (20 + 50) / 2 us.
        assert_eq!(&cells(&row)[3..5], ["1250", "35.0"]);
        let sum = rep.summary().unwrap();
        let c = cells(&sum);
        assert_eq!(&c[..5], ["all", "2", "4", "1250", "35.0"]);
        assert_eq!(&c[6..10], ["10.0", "30.0", "60.0", "60.0"]);
        assert_eq!((c[10], c[11], c[15]), ("6", "6000", "3"));
    }

    #[test]
    fn json_lines() {
        let mut out = output("rpctest", &opts(&["--json"]));
        assert_eq!(out.header(), None);
        let line = out.add(1, &iteration(&[result(0, &[10], 0, 1_000_000)]));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["tool"].as_str(), v["ops"].as_u64()),
            (Some("rpctest"), Some(1))
        );
        assert_eq!(v["sends_per_op"].as_f64(), Some(1.0));
        assert!(v.get("len").is_none());
        assert_eq!(
            (v["payload_bytes"].as_u64(), v["MBps"].as_f64()),
            (Some(0), Some(0.0))
        );
    }

    #[test]
    fn payload_column() {
        let mut rep = Report::new(&opts(&["--proc", "read", "-q", "50"]));
        assert_eq!(
            &cells(&rep.header().unwrap())[3..6],
            ["MedRPC", "MB/s", "MedLat"]
        );
        let mut r = result(0, &[10, 20], 0, 2_000_000);
        r.counts.payload = 3_000_000;
        // 3 MB in 2 ms.
        let row = rep.add(1, &iteration(&[r]));
        assert_eq!(cells(&row)[4], "1500.0");
        assert_eq!(cells(&rep.summary().unwrap())[4], "1500.0");
    }

    #[test]
    fn means() {
        let mut rep = Report::new(&opts(&["-m", "-q", "50"]));
        assert_eq!(&cells(&rep.header().unwrap())[3..5], ["AvgRPC", "AvgLat"]);
        rep.add(1, &iteration(&[result(0, &[10, 20, 60], 0, 1_000_000)]));
        let row = rep.add(2, &iteration(&[result(0, &[10], 0, 1_000_000)]));
        // Mean RPC/s (3000 + 1000) / 2, mean of means (30 + 10) / 2.
        assert_eq!(&cells(&row)[3..5], ["2000", "20.0"]);
        assert_eq!(cells(&row).len(), 10);
    }
}
