// SPDX-License-Identifier: GPL-2.0

//! A job: one thread with one connection, run in lock step with the others
//! (all start an iteration together), reporting one result per iteration.

use crate::opts::Opts;
use crate::{tcp::TcpJob, udp::UdpJob};
use ksf_tools::cpu::{monotonic_ns, pin_current_thread, thread_cpu_ns};
use ksf_tools::Histogram;
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Barrier};
use std::time::Duration;

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

/// A connected socket.
pub enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// Connects one job's socket (non-blocking once connected).
pub fn connect(addr: SocketAddr, udp: bool, timeout: Duration) -> io::Result<Conn> {
    if udp {
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let s = UdpSocket::bind(local)?;
        s.connect(addr)?;
        s.set_nonblocking(true)?;
        Ok(Conn::Udp(s))
    } else {
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        Ok(Conn::Tcp(s))
    }
}

/// Waits up to `ms` milliseconds for `events` on `fd`; returns the events
/// that occurred (0 on timeout or signal).
pub fn poll(fd: &impl AsRawFd, events: i16, ms: u64) -> io::Result<i16> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and its count.
    let rc = unsafe { libc::poll(&mut p, 1, ms.min(i32::MAX as u64) as i32) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(e)
        };
    }
    Ok(if rc == 0 { 0 } else { p.revents })
}

/// Milliseconds to sleep in one poll, so that `stop` is seen quickly.
pub const POLL_SLICE_MS: u64 = 100;

/// Milliseconds from `now` until `deadline` (nanoseconds), rounded up and
/// capped at [`POLL_SLICE_MS`].
pub fn slice_until(now: u64, deadline: u64) -> u64 {
    deadline
        .saturating_sub(now)
        .div_ceil(1_000_000)
        .min(POLL_SLICE_MS)
}

/// A readable description of a socket error.
pub fn io_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => "connection reset by the server".to_string(),
        Some(libc::ECONNREFUSED) => "connection refused (is the echo server running?)".to_string(),
        Some(libc::EPIPE) => "connection closed by the server (broken pipe)".to_string(),
        _ => e.to_string(),
    }
}

/// Body of a job thread: pins itself if asked, then runs one iteration
/// per start barrier until `stop`.
pub fn run(job: usize, conn: Conn, shared: Arc<Shared>, tx: Sender<IterResult>) {
    let o = &shared.opts;
    let mut setup_error = None;
    if !o.cpus.is_empty() {
        let cpu = o.cpus[job % o.cpus.len()];
        if let Err(e) = pin_current_thread(cpu) {
            setup_error = Some(format!("cannot pin to CPU {cpu}: {e}"));
        }
    }
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
    fn slices() {
        assert_eq!(slice_until(0, 1), 1);
        assert_eq!(slice_until(0, 2_000_000), 2);
        assert_eq!(slice_until(5, 0), 0);
        assert_eq!(slice_until(0, 10_000_000_000), POLL_SLICE_MS);
    }

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
