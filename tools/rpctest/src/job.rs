// SPDX-License-Identifier: GPL-2.0

//! A job: one thread that, in lock step with the others, opens a new
//! connection per iteration, makes its calls on it and reports one result.

use crate::call::Template;
use crate::opts::Opts;
use crate::window::Window;
use crate::{tcp, udp};
use ksf_tools::cpu::{monotonic_ns, thread_cpu_ns};
use ksf_tools::jobs::pin_job;
pub use ksf_tools::jobs::{connect, poll, slice_until, Conn};
use ksf_tools::Histogram;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// Errors described per job over the whole run; the rest are only counted.
pub const MAX_NOTES: u32 = 5;

/// State shared by the main thread and the jobs.
pub struct Shared {
    pub opts: Opts,
    pub addr: SocketAddr,
    pub tcp_call: Template,
    pub udp_call: Template,
    /// Set when the run ends (normally or after a fatal error).
    pub stop: AtomicBool,
    /// Main thread and all jobs meet here before each iteration.
    pub start: Barrier,
    /// The jobs meet here once connected, so that all start together.
    pub go: Barrier,
}

/// One job's outcome of one iteration.
pub struct IterResult {
    pub job: usize,
    /// Calls answered with SUCCESS.
    pub calls: u64,
    /// Reply records or datagrams received.
    pub replies: u64,
    /// Bad replies and calls given up.
    pub errors: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub cpu_ns: u64,
    /// Send and receive system calls that moved data, and their bytes.
    pub sends: u64,
    pub recvs: u64,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Latencies in nanoseconds.
    pub hist: Histogram,
    /// Descriptions of the first errors, to print.
    pub notes: Vec<String>,
    /// Errors this job may still describe.
    pub budget: u32,
    /// Errors counted but not described.
    pub unreported: u64,
    /// The error that ended this job (the whole run stops).
    pub fatal: Option<String>,
}

impl IterResult {
    pub fn new(job: usize, budget: u32) -> IterResult {
        IterResult {
            job,
            calls: 0,
            replies: 0,
            errors: 0,
            start_ns: 0,
            end_ns: 0,
            cpu_ns: 0,
            sends: 0,
            recvs: 0,
            bytes_out: 0,
            bytes_in: 0,
            hist: Histogram::new(),
            notes: Vec::new(),
            budget,
            unreported: 0,
            fatal: None,
        }
    }
}

ksf_tools::impl_job_result!(IterResult);

/// Counts an error and keeps its description while the budget lasts.
pub fn note(r: &mut IterResult, what: String) {
    r.errors += 1;
    if r.budget > 0 {
        r.budget -= 1;
        r.notes.push(what);
    } else {
        r.unreported += 1;
    }
}

/// A readable description of a socket error.
pub fn io_text(e: &io::Error) -> String {
    ksf_tools::jobs::io_text(e, "RPC")
}

/// A first xid for each job and iteration, different from run to run.
fn base_xid(job: usize, iter: u64) -> u32 {
    let mut z = (u64::from(std::process::id()) << 32)
        ^ monotonic_ns().rotate_left(17)
        ^ ((job as u64) << 20)
        ^ iter;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u32
}

/// One iteration on a connected socket.
fn iterate(sh: &Shared, conn: Conn, win: &mut Window, r: &mut IterResult) -> Result<(), String> {
    let o = &sh.opts;
    let timeout_ns = o.timeout_ms * 1_000_000;
    match conn {
        Conn::Tcp(s) => tcp::iterate(s, &sh.tcp_call, timeout_ns, win, r, &sh.stop),
        Conn::Udp(s) => udp::iterate(s, &sh.udp_call, timeout_ns, win, r, &sh.stop),
    }
}

/// Body of a job thread: pins itself if asked, then runs one iteration
/// per start barrier until `stop`.
pub fn run(job: usize, sh: Arc<Shared>, tx: Sender<IterResult>) {
    let o = &sh.opts;
    let mut setup_error = pin_job(job, &o.cpus).err();
    let (mut budget, mut iter) = (MAX_NOTES, 0);
    loop {
        sh.start.wait();
        if sh.stop.load(Ordering::Acquire) {
            break;
        }
        iter += 1;
        let mut r = IterResult::new(job, budget);
        let conn = match setup_error.take() {
            Some(e) => Err(e),
            None => connect(sh.addr, o.udp, Duration::from_millis(o.timeout_ms)).map_err(|e| {
                format!(
                    "cannot connect to {} ({}): {}",
                    sh.addr,
                    o.proto(),
                    io_text(&e)
                )
            }),
        };
        if conn.is_err() {
            sh.stop.store(true, Ordering::Release);
        }
        sh.go.wait();
        match conn {
            Err(e) => r.fatal = Some(e),
            Ok(_) if sh.stop.load(Ordering::Acquire) => {}
            Ok(conn) => {
                let mut win = Window::new(base_xid(job, iter), o.count, o.inflight, o.procedure);
                r.start_ns = monotonic_ns();
                let cpu0 = thread_cpu_ns();
                let outcome =
                    catch_unwind(AssertUnwindSafe(|| iterate(&sh, conn, &mut win, &mut r)))
                        .unwrap_or_else(|_| Err("internal error (panic)".to_string()));
                r.cpu_ns = thread_cpu_ns() - cpu0;
                r.end_ns = monotonic_ns();
                if let Err(e) = outcome {
                    r.fatal = Some(e);
                    sh.stop.store(true, Ordering::Release);
                }
            }
        }
        budget = r.budget;
        if tx.send(r).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_capped() {
        let mut r = IterResult::new(0, 2);
        for i in 0..5 {
            note(&mut r, format!("e{i}"));
        }
        assert_eq!((r.errors, r.unreported, r.budget), (5, 3, 0));
        assert_eq!(r.notes, vec!["e0", "e1"]);
    }

    #[test]
    fn xid_bases_differ() {
        assert_ne!(base_xid(0, 1), base_xid(1, 1));
        assert_ne!(base_xid(0, 1), base_xid(0, 2));
    }
}
