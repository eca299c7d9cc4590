// SPDX-License-Identifier: GPL-2.0

//! rpctest: load generator and checker for ONC RPC servers (ksf's krpc2).
//!
//! `jobs` threads each open a new TCP connection (or UDP socket) per
//! iteration and make `count` calls on it with up to `inflight` of them
//! unanswered; every reply is matched to its call by xid and checked. The
//! main thread starts each iteration for all jobs at once, merges their
//! latency histograms and prints one row per iteration plus a summary.
//! See `--help`.

mod call;
mod job;
mod opts;
mod plot;
mod report;
mod tcp;
mod udp;
mod window;

use call::Template;
use job::{IterResult, Shared};
use opts::{Command, Opts, HELP};
use report::Report;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier};

fn main() {
    let code = match opts::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            let _ = std::io::stdout().write_all(HELP.as_bytes());
            0
        }
        Ok(Command::Run(o)) => match run(o) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("rpctest: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("rpctest: {e}");
            eprintln!("Try 'rpctest --help' for more information.");
            2
        }
    };
    std::process::exit(code);
}

/// The server address; IPv4 addresses are preferred when a name has both.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let mut addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host '{host}': {e}"))?
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs
        .first()
        .copied()
        .ok_or_else(|| format!("host '{host}' has no address"))
}

fn verbose_job(it: u64, r: &IterResult) {
    let ms = |ns: u64| ns as f64 / 1e6;
    let lat = |ns: u64| ns as f64 / 1e3;
    eprintln!(
        "rpctest: iter {it} job {}: {} calls, {} replies, {} errors, {:.1} ms, cpu {:.1} ms, \
         {} sends, {} recvs, latency min/med/max {:.1}/{:.1}/{:.1} us",
        r.job,
        r.calls,
        r.replies,
        r.errors,
        ms(r.end_ns.saturating_sub(r.start_ns)),
        ms(r.cpu_ns),
        r.sends,
        r.recvs,
        lat(r.hist.min()),
        lat(r.hist.median()),
        lat(r.hist.max())
    );
}

/// A one-line description of the run, for -v and the plot.
fn describe(o: &Opts, addr: SocketAddr) -> String {
    format!(
        "{} job(s) x {} in flight, {} x {} calls per job of {}/{}/{} to {addr} ({})",
        o.jobs,
        o.inflight,
        o.iters,
        o.count,
        o.prog,
        o.vers,
        o.procedure,
        o.proto()
    )
}

/// Runs the test; returns the exit status.
fn run(o: Opts) -> Result<i32, String> {
    let addr = resolve(&o.host, o.port)?;
    let (tcp_call, udp_call) = (Template::new(&o, true)?, Template::new(&o, false)?);
    if o.verbose {
        eprintln!(
            "rpctest: {}, {}-byte calls, timeout {} ms",
            describe(&o, addr),
            if o.udp { &udp_call } else { &tcp_call }.len(),
            o.timeout_ms
        );
    }
    let jobs = o.jobs;
    let sh = Arc::new(Shared {
        addr,
        tcp_call,
        udp_call,
        stop: AtomicBool::new(false),
        start: Barrier::new(jobs + 1),
        go: Barrier::new(jobs),
        opts: o,
    });
    let o = &sh.opts;
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(jobs);
    for j in 0..jobs {
        let (sh, tx) = (Arc::clone(&sh), tx.clone());
        let t = std::thread::Builder::new()
            .name(format!("job{j}"))
            .spawn(move || job::run(j, sh, tx));
        match t {
            Ok(t) => threads.push(t),
            Err(e) => {
                eprintln!("rpctest: cannot start job {j}: {e}");
                std::process::exit(1);
            }
        }
    }
    drop(tx);

    let mut report = Report::new(o);
    let mut out = std::io::stdout().lock();
    if o.header {
        let _ = writeln!(out, "{}", report.header());
    }
    let (mut failed, mut errors, mut unreported) = (false, 0u64, 0u64);
    for it in 1..=o.iters {
        sh.start.wait();
        let mut results: Vec<IterResult> = rx.iter().take(jobs).collect();
        if results.len() < jobs {
            eprintln!("rpctest: a job ended unexpectedly");
            failed = true;
            break;
        }
        results.sort_by_key(|r| r.job);
        for r in &results {
            for n in &r.notes {
                eprintln!("rpctest: job {}: {n}", r.job);
            }
            if let Some(f) = &r.fatal {
                eprintln!("rpctest: job {}: {f}", r.job);
                failed = true;
            }
            errors += r.errors;
            unreported += r.unreported;
            if o.verbose {
                verbose_job(it, r);
            }
        }
        if failed {
            break;
        }
        let _ = writeln!(out, "{}", report.add(&results));
        let _ = out.flush();
    }
    sh.stop.store(true, Ordering::Release);
    sh.start.wait();
    for t in threads {
        let _ = t.join();
    }
    if failed {
        return Ok(1);
    }
    if let Some(s) = report.summary() {
        let _ = writeln!(out, "{s}");
    }
    let _ = out.flush();
    if let Some(dir) = &o.dir {
        let (d, p) = plot::write(dir, report.histogram(), &describe(o, addr))?;
        if o.verbose {
            eprintln!("rpctest: wrote {} and {}", d.display(), p.display());
        }
    }
    if errors > 0 {
        eprintln!(
            "rpctest: {errors} error(s): bad replies or calls left unanswered{}",
            if unreported > 0 {
                format!(" ({unreported} not shown)")
            } else {
                String::new()
            }
        );
        return Ok(1);
    }
    Ok(0)
}
