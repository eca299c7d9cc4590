// SPDX-License-Identifier: GPL-2.0

//! echotest: load generator and verifier for an echo server (ksf's kecho).
//!
//! `jobs` threads each own one TCP connection (or connected UDP socket) and
//! exchange `count` messages per iteration with up to `inflight` of them
//! unanswered; every echoed byte is verified. The main thread starts each
//! iteration for all jobs at once, merges their latency histograms and
//! prints one row per iteration plus a summary of medians. See `--help`.

mod job;
mod msg;
mod opts;
mod report;
mod tcp;
mod udp;

use job::{IterResult, Shared};
use ksf_tools::common_opts::exit_status;
use ksf_tools::runner::Pool;
use ksf_tools::target::resolve;
use opts::{Opts, HELP};
use report::Report;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn main() {
    let parsed = opts::parse(std::env::args().skip(1));
    std::process::exit(exit_status("echotest", HELP, parsed, |o| Ok(run(o))));
}

fn verbose_job(it: u64, r: &IterResult) {
    let ms = |ns: u64| ns as f64 / 1e6;
    eprintln!(
        "echotest: iter {it} job {}: {} msgs, {} errors, {:.1} ms, cpu {:.1} ms, \
         latency min/med/max {:.1}/{:.1}/{:.1} us",
        r.job,
        r.msgs,
        r.errors,
        ms(r.end_ns.saturating_sub(r.start_ns)),
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
    let timeout = Duration::from_millis(o.timeout_ms);
    let mut conns = Vec::with_capacity(o.jobs);
    for j in 0..o.jobs {
        match job::connect(addr, o.udp, timeout) {
            Ok(c) => conns.push(c),
            Err(e) => {
                eprintln!(
                    "echotest: job {j}: cannot connect to {addr} ({proto}): {}",
                    job::io_text(&e)
                );
                return 1;
            }
        }
    }
    if o.verbose {
        eprintln!(
            "echotest: {} {proto} job(s) to {addr}: {} iteration(s) of {} messages of {} bytes, \
             {} in flight, timeout {} ms",
            o.jobs, o.iters, o.count, o.len, o.inflight, o.timeout_ms
        );
    }

    let jobs = o.jobs;
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        start: Barrier::new(jobs + 1),
        opts: o,
    });
    let o = &shared.opts;
    let pool = Pool::start(
        "echotest",
        conns.into_iter().enumerate().map(|(j, conn)| {
            let shared = Arc::clone(&shared);
            move |tx| job::run(j, conn, shared, tx)
        }),
    );

    let mut report = Report::new(o);
    let mut out = std::io::stdout().lock();
    if o.header {
        let _ = writeln!(out, "{}", report.header());
    }
    let verbose = o.verbose.then_some(verbose_job as fn(u64, &IterResult));
    let t = pool.iterate(
        o.iters,
        &shared.start,
        &shared.stop,
        verbose,
        |it, results| {
            let _ = writeln!(out, "{}", report.add(it, results));
            let _ = out.flush();
        },
    );
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
