// SPDX-License-Identifier: GPL-2.0

//! A job: one thread with one connection, run in lock step with the others
//! (all start an iteration together), reporting one result per iteration.

use crate::opts::Opts;
use crate::{tcp::TcpJob, udp::UdpJob};
use ksf_tools::cpu::{monotonic_ns, thread_cpu_ns};
use ksf_tools::jobs::pin_job;
pub use ksf_tools::jobs::{connect, poll, slice_until, Conn};
use ksf_tools::Histogram;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Barrier};

/// Non-fatal errors printed per job; the rest are only counted.
pub const MAX_NOTES: u32 = 10;

/// State shared by the main thread and the jobs.
pub struct Shared {
    pub opts: Opts,
    /// Set when the run ends (normally or after a fatal error); jobs
    /// check it while running and after each start barrier.
    pub stop: AtomicBool,
    /// Main thread and all jobs meet here before each iteration.
    pub start: Barrier,
}

/// One job's outcome of one iteration.
pub struct IterResult {
    pub job: usize,
    /// Messages whose echo arrived intact.
    pub msgs: u64,
    /// Lost, late, corrupt or unexpected echoes (UDP; TCP errors are fatal).
    pub errors: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub cpu_ns: u64,
    /// Latencies in nanoseconds.
    pub hist: Histogram,
    /// Descriptions of the first errors, to print.
    pub notes: Vec<String>,
    /// Errors counted but not described.
    pub unreported: u64,
    /// The error that ended this job (the whole run stops).
    pub fatal: Option<String>,
}

impl IterResult {
    pub(crate) fn new(job: usize) -> IterResult {
        IterResult {
            job,
            msgs: 0,
            errors: 0,
            start_ns: 0,
            end_ns: 0,
            cpu_ns: 0,
            hist: Histogram::new(),
            notes: Vec::new(),
            unreported: 0,
            fatal: None,
        }
    }
}

ksf_tools::impl_job_result!(IterResult);

/// Counts a non-fatal error and keeps its description while `budget`
/// (per job) lasts.
pub fn note(r: &mut IterResult, budget: &mut u32, what: String) {
    r.errors += 1;
    if *budget > 0 {
        *budget -= 1;
        r.notes.push(what);
    } else {
        r.unreported += 1;
    }
}

/// A protocol driver.
pub trait Engine {
    /// Exchanges `count` messages, recording into `r`. Returns early (Ok)
    /// when `stop` is set; an `Err` is fatal for the run.
    fn iterate(&mut self, count: u64, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String>;
}

/// A readable description of a socket error.
pub fn io_text(e: &io::Error) -> String {
    ksf_tools::jobs::io_text(e, "echo")
}

/// Body of a job thread: pins itself if asked, then runs one iteration
/// per start barrier until `stop`.
pub fn run(job: usize, conn: Conn, shared: Arc<Shared>, tx: Sender<IterResult>) {
    let o = &shared.opts;
    let mut setup_error = pin_job(job, &o.cpus).err();
    let timeout_ns = o.timeout_ms * 1_000_000;
    let mut engine: Box<dyn Engine> = match conn {
        Conn::Tcp(s) => Box::new(TcpJob::new(s, job as u32, o.len, o.inflight, timeout_ns)),
        Conn::Udp(s) => Box::new(UdpJob::new(s, job as u32, o.len, o.inflight, timeout_ns)),
    };
    loop {
        shared.start.wait();
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let mut r = IterResult::new(job);
        r.start_ns = monotonic_ns();
        let cpu0 = thread_cpu_ns();
        let outcome = match setup_error.take() {
            Some(e) => Err(e),
            None => catch_unwind(AssertUnwindSafe(|| {
                engine.iterate(o.count, &mut r, &shared.stop)
            }))
            .unwrap_or_else(|_| Err("internal error (panic)".to_string())),
        };
        r.cpu_ns = thread_cpu_ns() - cpu0;
        r.end_ns = monotonic_ns();
        if let Err(e) = outcome {
            r.fatal = Some(e);
            shared.stop.store(true, Ordering::Release);
        }
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
        let mut r = IterResult::new(0);
        let mut budget = 2;
        for i in 0..5 {
            note(&mut r, &mut budget, format!("e{i}"));
        }
        assert_eq!((r.errors, r.unreported), (5, 3));
        assert_eq!(r.notes, vec!["e0", "e1"]);
    }
}
