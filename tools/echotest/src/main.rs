// SPDX-License-Identifier: GPL-2.0

//! echotest: load generator and verifier for an echo server (ksf's kecho).
//!
//! `jobs` threads each own one TCP connection (or connected UDP socket, or
//! `-C` TCP connections served by one event loop) and
//! exchange `count` messages per iteration with up to `inflight` of them
//! unanswered; every echoed byte is verified. The main thread starts each
//! iteration for all jobs at once, merges their latency histograms and
//! prints one row per iteration plus a summary of medians. See `--help`.

#![forbid(unsafe_code)]

mod msg;
mod opts;
mod report;
mod tcp;
mod udp;

use ksf_tools::common_opts::{self, Tool};
use ksf_tools::job_loop::{Job, Outcome, Settings};
use ksf_tools::jobs::{allow_sockets, connect, io_text, Conn};
use ksf_tools::runner::Pool;
use ksf_tools::target::resolve;
use opts::{Opts, HELP};
use std::io::Write;
use std::time::Duration;
use tcp::{ManyTcpJob, TcpJob};
use udp::UdpJob;

/// echotest's counters of a job's iteration.
#[derive(Debug, Default)]
pub struct Counts {
    /// Messages whose echo arrived intact.
    pub msgs: u64,
    /// send(2) and recv(2) calls (each datagram's, on UDP).
    pub sends: u64,
    pub recvs: u64,
}

/// One job's outcome of one iteration.
pub type IterResult = Outcome<Counts>;

/// Errors each job describes over the run; the rest are only counted.
const MAX_NOTES: u32 = 10;

/// The tool, for its messages, `--help` and `--version`.
const TOOL: Tool = ksf_tools::tool!(HELP);

fn main() {
    common_opts::main(TOOL, opts::parse, |o| Ok(run(o)))
}

fn verbose_job(it: u64, r: &IterResult) {
    let ms = |ns: u64| ns as f64 / 1e6;
    eprintln!(
        "echotest: iter {it} job {}: {} msgs, {} errors, {:.1} ms, cpu {:.1} ms, \
         latency min/med/max {:.1}/{:.1}/{:.1} us",
        r.job,
        r.counts.msgs,
        r.errors,
        ms(r.ns()),
        ms(r.cpu_ns),
        r.hist.min() as f64 / 1e3,
        r.hist.median() as f64 / 1e3,
        r.hist.max() as f64 / 1e3
    );
}

/// Runs the test; returns the exit status.
fn run(o: Opts) -> i32 {
    let proto = o.proto();
    let addr = match resolve(&o.host, o.port) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("echotest: {e}");
            return 1;
        }
    };
    if let Err(e) = allow_sockets((o.jobs * o.conns) as u64) {
        eprintln!("echotest: {e}");
        return 1;
    }
    let timeout = Duration::from_millis(o.timeout_ms);
    let mut jobs: Vec<Box<dyn Job<Counts = Counts>>> = Vec::with_capacity(o.jobs);
    for j in 0..o.jobs {
        let mut socks = Vec::with_capacity(o.conns);
        for _ in 0..o.conns {
            match connect(addr, o.transport(), timeout) {
                Ok(Conn::Tcp(s)) if o.conns == 1 => {
                    jobs.push(Box::new(TcpJob::new(s, j as u32, &o)))
                }
                Ok(Conn::Tcp(s)) => socks.push(s),
                Ok(Conn::Udp(s)) => jobs.push(Box::new(UdpJob::new(s, j as u32, &o))),
                Err(e) => {
                    eprintln!(
                        "echotest: job {j}: cannot connect to {addr} ({proto}): {}",
                        io_text(&e, "echo")
                    );
                    return 1;
                }
            }
        }
        if !socks.is_empty() {
            match ManyTcpJob::new(socks, j as u32, &o) {
                Ok(m) => jobs.push(Box::new(m)),
                Err(e) => {
                    eprintln!("echotest: job {j}: epoll: {e}");
                    return 1;
                }
            }
        }
    }
    if o.verbose {
        eprintln!(
            "echotest: {} {proto} job(s) x {} connection(s) to {addr}: {} iteration(s) of {} \
             messages of {} bytes, {} in flight, timeout {} ms",
            o.jobs, o.conns, o.iters, o.count, o.len, o.inflight, o.timeout_ms
        );
    }

    let settings = Settings {
        cpus: o.cpus.clone(),
        max_notes: MAX_NOTES,
    };
    let pool = Pool::start(TOOL.name, jobs, settings);

    let mut report = report::output(TOOL.name, &o);
    let mut out = std::io::stdout().lock();
    if let Some(h) = report.header().filter(|_| o.header) {
        let _ = writeln!(out, "{h}");
    }
    let verbose = o.verbose.then_some(verbose_job as fn(u64, &IterResult));
    let t = pool.iterate(o.iters, verbose, |it, results| {
        let _ = writeln!(
            out,
            "{}",
            report.add(it, &report::iteration(results, o.len))
        );
        let _ = out.flush();
    });
    let (failed, errors, unreported) = (t.failed, t.errors, t.unreported);
    if failed {
        return 1;
    }
    if let Some(s) = report.summary() {
        let _ = writeln!(out, "{s}");
    }
    let _ = out.flush();
    if errors > 0 {
        eprintln!(
            "echotest: {errors} {proto} echo error(s) (lost, corrupt or unexpected){}",
            if unreported > 0 {
                format!(", {unreported} not shown")
            } else {
                String::new()
            }
        );
        return 1;
    }
    0
}
