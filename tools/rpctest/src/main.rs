// SPDX-License-Identifier: GPL-2.0

//! rpctest: load generator and checker for ONC RPC servers (ksf's krpc2).
//!
//! `jobs` threads each open a new TCP connection (or UDP socket, or `-C`
//! TCP connections) per iteration and make `count` calls on each with up
//! to `inflight` of them unanswered; every reply is matched to its call
//! by xid and checked. The
//! main thread starts each iteration for all jobs at once, merges their
//! latency histograms and prints one row per iteration plus a summary.
//! See `--help`.

#![forbid(unsafe_code)]

mod call;
mod job;
mod nfs;
mod opts;
mod plot;
mod report;
mod tcp;
mod udp;
mod window;

use call::Template;
use job::{RpcJob, Shared};
use ksf_tools::common_opts::{self, Tool};
use ksf_tools::job_loop::{Outcome, Settings};
use ksf_tools::jobs::allow_sockets;
use ksf_tools::runner::Pool;
use ksf_tools::target::resolve;
use ksf_tools::Histogram;
use opts::{Opts, HELP};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// rpctest's counters of a job's iteration.
#[derive(Debug, Default)]
pub struct Counts {
    /// Calls answered with SUCCESS.
    pub calls: u64,
    /// Reply records or datagrams received.
    pub replies: u64,
    /// Send system calls that moved data.
    pub sends: u64,
    /// Receive system calls that moved data.
    pub recvs: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes of file data moved by successful calls (READ, WRITE).
    pub payload: u64,
}

/// One job's outcome of one iteration.
pub type IterResult = Outcome<Counts>;

/// Errors each job describes over the run; the rest are only counted.
const MAX_NOTES: u32 = 5;

/// The tool, for its messages, `--help` and `--version`.
const TOOL: Tool = ksf_tools::tool!(HELP);

fn main() {
    common_opts::main(TOOL, opts::parse, run)
}

fn verbose_job(it: u64, r: &IterResult) {
    let ms = |ns: u64| ns as f64 / 1e6;
    let lat = |ns: u64| ns as f64 / 1e3;
    eprintln!(
        "rpctest: iter {it} job {}: {} calls, {} replies, {} errors, {:.1} ms, cpu {:.1} ms, \
         {} sends, {} recvs, latency min/med/max {:.1}/{:.1}/{:.1} us",
        r.job,
        r.counts.calls,
        r.counts.replies,
        r.errors,
        ms(r.ns()),
        ms(r.cpu_ns),
        r.counts.sends,
        r.counts.recvs,
        lat(r.hist.min()),
        lat(r.hist.median()),
        lat(r.hist.max())
    );
}

/// A one-line description of the run, for -v and the plot.
fn describe(o: &Opts, addr: SocketAddr) -> String {
    let per = if o.conns > 1 { "connection" } else { "job" };
    format!(
        "{} job(s) x {} connection(s) x {} in flight, {} x {} calls per {per} of {}/{}/{}{} \
         to {addr} ({})",
        o.jobs,
        o.conns,
        o.inflight,
        o.iters,
        o.count,
        o.prog,
        o.vers,
        o.procedure,
        match (nfs::with_args(o), nfs::name(o.procedure)) {
            (true, Some(name)) if nfs::moves_data(o) => format!(" ({name}, {} bytes)", o.len),
            (true, Some(name)) => format!(" ({name})"),
            _ => String::new(),
        },
        o.proto()
    )
}

/// Runs the test; returns the exit status.
fn run(o: Opts) -> Result<i32, String> {
    let addr = resolve(&o.host, o.port)?;
    allow_sockets((o.jobs * o.conns) as u64)?;
    let plan = nfs::setup(&o, addr)?.map(Arc::new);
    let tcp_call = Template::new(&o, true, plan.clone())?;
    let udp_call = Template::new(&o, false, plan.clone())?;
    if let (true, Some(p)) = (o.verbose, &plan) {
        let offsets = match nfs::moves_data(&o) {
            true => format!("; {} offsets of {} bytes", p.slots, p.len),
            false => String::new(),
        };
        eprintln!(
            "rpctest: {} is {} bytes (fileid {}), handle {}{offsets}",
            p.name,
            p.size,
            p.fileid,
            window::hex(&p.fh),
        );
    }
    if o.verbose {
        eprintln!(
            "rpctest: {}, {}-byte calls, timeout {} ms",
            describe(&o, addr),
            if o.udp { &udp_call } else { &tcp_call }.len(),
            o.timeout_ms
        );
    }
    let settings = Settings {
        cpus: o.cpus.clone(),
        max_notes: MAX_NOTES,
    };
    let sh = Arc::new(Shared {
        addr,
        tcp_call,
        udp_call,
        plan,
        opts: o,
    });
    let o = &sh.opts;
    let jobs = (0..o.jobs)
        .map(|j| RpcJob::new(j, Arc::clone(&sh)))
        .collect();
    let pool = Pool::start(TOOL.name, jobs, settings);

    let mut report = report::output(TOOL.name, o);
    let mut out = std::io::stdout().lock();
    if let Some(h) = report.header().filter(|_| o.header) {
        let _ = writeln!(out, "{h}");
    }
    let verbose = o.verbose.then_some(verbose_job as fn(u64, &IterResult));
    let mut all = Histogram::new();
    let t = pool.iterate(o.iters, verbose, |it, results| {
        let i = report::iteration(results);
        all.merge(&i.hist);
        let _ = writeln!(out, "{}", report.add(it, &i));
        let _ = out.flush();
    });
    let (failed, errors, unreported) = (t.failed, t.errors, t.unreported);
    if failed {
        return Ok(1);
    }
    if let Some(s) = report.summary() {
        let _ = writeln!(out, "{s}");
    }
    let _ = out.flush();
    if let Some(dir) = &o.dir {
        let (d, p) = plot::write(dir, &all, &describe(o, addr))?;
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
