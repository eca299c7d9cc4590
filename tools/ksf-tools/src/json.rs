// SPDX-License-Identifier: GPL-2.0

//! `--json`: one JSON object per line, a [`Record`] of `"type": "iter"`
//! per iteration and one of `"type": "summary"` at the end, the figures
//! of the text table with stable names. The fields are documented on
//! [`Record`] and in `Documentation/benchmarks.rst`.

use crate::cpu::process_cpu_ns;
use crate::job_loop::Outcome;
use crate::output::Output;
use crate::stats::{quantile_label, Samples};
use crate::table::{mbps, per_sec};
use crate::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

/// One line of `--json` output. Latencies are in microseconds, from a
/// request's send to the complete arrival of its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// `"iter"` (one iteration, all jobs together) or `"summary"` (the
    /// run).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The tool: `"echotest"`, `"rpctest"`, `"pingpong"`.
    pub tool: &'static str,
    /// The iteration, from 1 (`"iter"` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iter: Option<u64>,
    /// Iterations run (`"summary"` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iters: Option<u64>,
    /// Jobs: threads, one connection each.
    pub jobs: usize,
    /// Requests in flight per job (`-a`).
    pub inflight: usize,
    /// Connections, all jobs together, where a job may have more than one
    /// (rpctest and echotest `-C`: jobs times connections per job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conns: Option<usize>,
    /// Message length in bytes (echotest, pingpong).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<usize>,
    /// Operations that succeeded: calls answered with SUCCESS, intact
    /// echoes, round trips. Summary: all iterations'.
    pub ops: u64,
    /// Wall time in microseconds, from the first job's start to the last
    /// one's end. Summary: the iterations' sum.
    pub usecs: f64,
    /// Operations per second. Summary: the median of the iterations'.
    pub rate: f64,
    /// Megabits per second, as the table's Mbps column. Summary: the
    /// median of the iterations'.
    pub mbps: f64,
    /// The fastest answer.
    pub min_us: f64,
    /// The median answer. Summary: the median of the iterations' medians.
    pub median_us: f64,
    /// The `-q` quantiles, by label (`"p99"`, `"p99.9"`). Summary: of all
    /// iterations' answers together.
    pub quantiles_us: BTreeMap<String, f64>,
    /// The slowest answer.
    pub max_us: f64,
    /// The tool's CPU time per operation in microseconds (all jobs).
    pub cpu_us_per_op: f64,
    /// Send system calls that moved data, per operation (rpctest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sends_per_op: Option<f64>,
    /// Receive system calls that moved data, per operation (rpctest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recvs_per_op: Option<f64>,
    /// Errors: bad, lost or unexpected answers.
    pub errors: u64,
    /// Bytes of file data moved by the successful operations (rpctest:
    /// READ data received, WRITE data the server acknowledged; 0 for
    /// procedures without data). Summary: all iterations'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_bytes: Option<u64>,
    /// `payload_bytes` per second in megabytes (10^6 bytes) per second.
    /// Summary: the median of the iterations'.
    #[serde(rename = "MBps", skip_serializing_if = "Option::is_none")]
    pub mbytes_per_sec: Option<f64>,
    /// `"summary"` only: the whole process's CPU time so far in
    /// microseconds (every thread, user and system, connecting and
    /// reporting included): what to subtract from a machine's CPU time
    /// to leave the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_cpu_us: Option<f64>,
}

/// What a tool measured in one iteration, all jobs together.
#[derive(Debug, Clone)]
pub struct Iteration {
    /// Operations that succeeded.
    pub ops: u64,
    /// Wall time in nanoseconds.
    pub ns: u64,
    /// CPU time of the jobs in nanoseconds.
    pub cpu_ns: u64,
    /// The bytes the tool's Mbps column counts.
    pub bytes: u64,
    /// Errors counted.
    pub errors: u64,
    /// Latencies in nanoseconds.
    pub hist: Histogram,
    /// Send and receive system calls, where the tool counts them.
    pub syscalls: Option<(u64, u64)>,
    /// Bytes of file data moved, where the tool moves any (rpctest).
    pub payload: Option<u64>,
}

/// What a tool counts of a job's iteration, for [`Iteration::of`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Counted {
    /// Operations that succeeded.
    pub ops: u64,
    /// The bytes the tool's Mbps column counts.
    pub bytes: u64,
    /// Send and receive system calls, where the tool counts them.
    pub syscalls: Option<(u64, u64)>,
}

impl Iteration {
    /// The iteration of the jobs' `outcomes`, whose counts `count` reads:
    /// from the first start to the last end, everything else summed.
    pub fn of<C>(outcomes: &[Outcome<C>], count: impl Fn(&C) -> Counted) -> Iteration {
        let start = outcomes.iter().map(|r| r.start_ns).min().unwrap_or(0);
        let end = outcomes.iter().map(|r| r.end_ns).max().unwrap_or(0);
        let mut i = Iteration {
            ops: 0,
            ns: end.saturating_sub(start),
            cpu_ns: 0,
            bytes: 0,
            errors: 0,
            hist: Histogram::new(),
            syscalls: None,
            payload: None,
        };
        for r in outcomes {
            let c = count(&r.counts);
            i.ops += c.ops;
            i.bytes += c.bytes;
            i.cpu_ns += r.cpu_ns;
            i.errors += r.errors;
            i.hist.merge(&r.hist);
            i.syscalls = add_syscalls(i.syscalls, c.syscalls);
        }
        i
    }
}

/// Sums of system call counts, where there are any.
fn add_syscalls(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<(u64, u64)> {
    match (a, b) {
        (Some((s0, r0)), Some((s, r))) => Some((s0 + s, r0 + r)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Sums of payload bytes, where there are any.
fn add_payload(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x + y),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Bytes over nanoseconds as megabytes (10^6 bytes) per second.
pub fn mbytes_per_sec(bytes: u64, ns: u64) -> f64 {
    mbps(bytes, ns) / 8.0
}

/// The run's shape: what every record repeats.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The tool's name.
    pub tool: &'static str,
    /// Jobs.
    pub jobs: usize,
    /// Requests in flight per job.
    pub inflight: usize,
    /// Connections of all jobs, where a job may have more than one.
    pub conns: Option<usize>,
    /// Message length, where the tool has one.
    pub len: Option<usize>,
    /// The `-q` quantiles in percent.
    pub quantiles: Vec<f64>,
}

/// The records of a run: one per iteration, then the summary.
#[derive(Debug)]
pub struct Report {
    shape: Shape,
    iters: u64,
    rates: Samples,
    medians: Samples,
    mbps: Samples,
    mbytes: Samples,
    all: Histogram,
    total: Totals,
}

/// Sums over iterations.
#[derive(Debug, Default)]
struct Totals {
    ops: u64,
    ns: u64,
    cpu_ns: u64,
    errors: u64,
    syscalls: Option<(u64, u64)>,
    payload: Option<u64>,
}

fn per_op(n: u64, ops: u64) -> f64 {
    if ops == 0 {
        0.0
    } else {
        n as f64 / ops as f64
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl Report {
    /// The report of a run of `shape`.
    pub fn new(shape: Shape) -> Report {
        Report {
            shape,
            iters: 0,
            rates: Samples::new(),
            medians: Samples::new(),
            mbps: Samples::new(),
            mbytes: Samples::new(),
            all: Histogram::new(),
            total: Totals::default(),
        }
    }

    /// A record of the run's shape with the latencies of `h`.
    fn record(&self, kind: &'static str, h: &Histogram, t: &Totals) -> Record {
        let s = &self.shape;
        Record {
            kind,
            tool: s.tool,
            iter: None,
            iters: None,
            jobs: s.jobs,
            inflight: s.inflight,
            conns: s.conns,
            len: s.len,
            ops: t.ops,
            usecs: us(t.ns),
            rate: 0.0,
            mbps: 0.0,
            min_us: us(h.min()),
            median_us: us(h.median()),
            quantiles_us: s
                .quantiles
                .iter()
                .map(|&q| (quantile_label(q), us(h.percentile(q))))
                .collect(),
            max_us: us(h.max()),
            cpu_us_per_op: per_op(t.cpu_ns, t.ops) / 1000.0,
            sends_per_op: t.syscalls.map(|(s, _)| per_op(s, t.ops)),
            recvs_per_op: t.syscalls.map(|(_, r)| per_op(r, t.ops)),
            errors: t.errors,
            payload_bytes: t.payload,
            mbytes_per_sec: None,
            process_cpu_us: None,
        }
    }
}

impl Output for Report {
    /// None: JSON lines have no header.
    fn header(&self) -> Option<String> {
        None
    }

    fn add(&mut self, iter: u64, i: &Iteration) -> String {
        let t = Totals {
            ops: i.ops,
            ns: i.ns,
            cpu_ns: i.cpu_ns,
            errors: i.errors,
            syscalls: i.syscalls,
            payload: i.payload,
        };
        let mut r = self.record("iter", &i.hist, &t);
        r.iter = Some(iter);
        r.rate = per_sec(i.ops, i.ns);
        r.mbps = mbps(i.bytes, i.ns);
        r.mbytes_per_sec = i.payload.map(|b| mbytes_per_sec(b, i.ns));
        if let Some(rate) = r.mbytes_per_sec {
            self.mbytes.push(rate);
        }
        self.iters += 1;
        self.rates.push(r.rate);
        self.medians.push(r.median_us);
        self.mbps.push(r.mbps);
        self.all.merge(&i.hist);
        let sum = &mut self.total;
        (sum.ops, sum.ns, sum.cpu_ns) = (sum.ops + t.ops, sum.ns + t.ns, sum.cpu_ns + t.cpu_ns);
        sum.errors += t.errors;
        sum.syscalls = add_syscalls(sum.syscalls, t.syscalls);
        sum.payload = add_payload(sum.payload, t.payload);
        line(&r)
    }

    fn summary(&self) -> Option<String> {
        if self.iters == 0 {
            return None;
        }
        let mut r = self.record("summary", &self.all, &self.total);
        r.iters = Some(self.iters);
        r.rate = self.rates.median();
        r.median_us = self.medians.median();
        r.mbps = self.mbps.median();
        r.mbytes_per_sec = self.total.payload.map(|_| self.mbytes.median());
        r.process_cpu_us = Some(us(process_cpu_ns()));
        Some(line(&r))
    }
}

/// A record as one line of JSON (without the newline).
fn line(r: &Record) -> String {
    // A Record has string keys and plain values: it always serialises.
    serde_json::to_string(r).unwrap_or_default()
}

/// The `--json` part of the tools' `--help`, a string literal for
/// `concat!`.
#[macro_export]
macro_rules! json_help {
    () => {
        "\
JSON (--json): one object per line on stdout, nothing else: one with
\"type\": \"iter\" per iteration, then one with \"type\": \"summary\". Fields:
  type, tool; iter (iter lines), iters (summary); jobs, inflight; conns
               (rpctest, echotest: connections of all jobs, -j times -C);
               len (echotest and pingpong: message length in bytes)
  ops          successful operations: calls answered with SUCCESS, intact
               echoes, round trips (summary: all iterations')
  usecs        wall time in microseconds (summary: the iterations' sum)
  rate         ops per second (summary: the median of the iterations')
  mbps         as the Mbps column (summary: the median of the iterations')
  min_us, median_us, max_us   latencies in microseconds (summary: over all
               iterations; median_us is the median of the iterations')
  quantiles_us an object with a latency per -q quantile: {\"p99\": 41.2}
               (summary: over all iterations)
  cpu_us_per_op  the tool's CPU time per operation in microseconds
  sends_per_op, recvs_per_op  send and receive system calls per operation
               (rpctest and echotest): 1 and 1 in the default method for
               equal answers, fewer with -b
  errors       bad, lost or unexpected answers (summary: all iterations')
  payload_bytes  rpctest only: bytes of file data moved by the successful
               calls (READ data received, WRITE data acknowledged; 0 for
               procedures without data; summary: all iterations')
  MBps         rpctest only: payload_bytes per second in megabytes (10^6
               bytes; summary: the median of the iterations')
  process_cpu_us  summary only: the whole process's CPU time (all threads,
               user and system, setup included) in microseconds

"
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn hist(us: &[u64]) -> Histogram {
        let mut h = Histogram::new();
        us.iter().for_each(|&u| h.record(u * 1000));
        h
    }

    #[test]
    fn iterations_and_summary() {
        let mut rep = Report::new(Shape {
            tool: "t",
            jobs: 2,
            inflight: 4,
            conns: None,
            len: Some(125),
            quantiles: vec![50.0, 99.0],
        });
        assert_eq!(rep.summary(), None);
        let h = hist(&[10, 20, 30, 40]);
        // 4 operations in 2 ms: 2000/s; 4 * 125 B * 8 / 2 ms = 2 Mbps.
        let i = Iteration {
            ops: 4,
            ns: 2_000_000,
            cpu_ns: 4000,
            bytes: 500,
            errors: 1,
            hist: h.clone(),
            syscalls: None,
            payload: Some(1_000_000),
        };
        assert_eq!(rep.header(), None);
        let v: Value = serde_json::from_str(&rep.add(1, &i)).unwrap();
        assert_eq!(v["type"], "iter");
        assert_eq!((v["iter"].as_u64(), v["jobs"].as_u64()), (Some(1), Some(2)));
        assert_eq!(
            (v["ops"].as_u64(), v["errors"].as_u64()),
            (Some(4), Some(1))
        );
        assert_eq!(
            (v["rate"].as_f64(), v["mbps"].as_f64()),
            (Some(2000.0), Some(2.0))
        );
        assert_eq!(v["usecs"].as_f64(), Some(2000.0));
        assert_eq!(
            (v["min_us"].as_f64(), v["max_us"].as_f64()),
            (Some(10.0), Some(40.0))
        );
        assert_eq!(v["quantiles_us"]["p99"].as_f64(), Some(40.0));
        assert_eq!(v["cpu_us_per_op"].as_f64(), Some(1.0));
        assert!(v.get("sends_per_op").is_none() && v.get("iters").is_none());
        // 10^6 payload bytes in 2 ms: 500 MB/s.
        assert_eq!(
            (v["payload_bytes"].as_u64(), v["MBps"].as_f64()),
            (Some(1_000_000), Some(500.0))
        );

        let h2 = hist(&[50, 60]);
        let i2 = Iteration {
            ops: 2,
            ns: 1_000_000,
            hist: h2.clone(),
            syscalls: Some((2, 4)),
            ..i
        };
        rep.add(2, &i2);
        let v: Value = serde_json::from_str(&rep.summary().unwrap()).unwrap();
        assert_eq!(v["type"], "summary");
        assert_eq!((v["iters"].as_u64(), v["ops"].as_u64()), (Some(2), Some(6)));
        assert_eq!(
            (v["errors"].as_u64(), v["usecs"].as_f64()),
            (Some(2), Some(3000.0))
        );
        // Medians of the iterations.
        assert_eq!(v["rate"].as_f64(), Some(2000.0));
        let medians = (h.median() + h2.median()) as f64 / 2000.0;
        assert_eq!(v["median_us"].as_f64(), Some(medians));
        // All latencies together.
        assert_eq!(
            (v["min_us"].as_f64(), v["max_us"].as_f64()),
            (Some(10.0), Some(60.0))
        );
        assert_eq!(v["sends_per_op"].as_f64(), Some(2.0 / 6.0));
        // The sum of the payloads; the median of 500 and 1000 MB/s.
        assert_eq!(
            (v["payload_bytes"].as_u64(), v["MBps"].as_f64()),
            (Some(2_000_000), Some(750.0))
        );
        assert!(v.get("iter").is_none() && v.get("conns").is_none());
        assert!(v["process_cpu_us"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn iteration_of_outcomes() {
        let job = |j: usize, start: u64, end: u64, lat_us: u64| {
            let mut r = Outcome::<u64>::new(j, 0);
            (r.start_ns, r.end_ns, r.cpu_ns, r.errors) = (start, end, 7, 1);
            r.hist.record(lat_us * 1000);
            r.counts = 3;
            r
        };
        let i = Iteration::of(&[job(0, 10, 50, 5), job(1, 20, 90, 9)], |&n| Counted {
            ops: n,
            bytes: 2 * n,
            syscalls: Some((n, 1)),
        });
        assert_eq!(
            (i.ops, i.bytes, i.ns, i.cpu_ns, i.errors),
            (6, 12, 80, 14, 2)
        );
        assert_eq!((i.hist.count(), i.syscalls), (2, Some((6, 2))));
    }
}
