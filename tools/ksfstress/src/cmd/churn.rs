// SPDX-License-Identifier: GPL-2.0

//! `ksfstress churn`: connect/close cycles from a few threads, then a
//! good-client check.

use super::Ctx;
use crate::good::GoodConn;
use crate::opts::{Proto, Transport};
use crate::report::rate;
use crate::rng::Rng;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

/// A thread stops after this many failed cycles.
const MAX_FAILURES: usize = 10;

/// What one thread's cycles did.
#[derive(Default)]
struct Counts {
    cycles: u64,
    immediate: u64,
    calls: u64,
    resets: u64,
    failures: Vec<String>,
    /// Stopped before its last cycle.
    stopped: bool,
}

/// One cycle: connect, then close at once, make one call (checked) and
/// close, reset at once, send a call and reset, or make a call and reset.
fn cycle(
    addr: SocketAddr,
    transport: Transport,
    proto: Proto,
    timeout: Duration,
    rng: &mut Rng,
    c: &mut Counts,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut conn = GoodConn::open(addr, transport, proto, rng, deadline)?;
    let mut kind = rng.below(5);
    // Over SMC, a reset before the server has finished its side of the
    // handshake strands the client's SMC-D connection in the kernel until
    // reboot (a 6.12 SMC race, Documentation/notes/smc.md, Q7; not the
    // server's to handle): a cycle that resets makes a call first, whose
    // reply proves the handshake done.
    if transport == Transport::Smc && kind == 2 {
        kind = 4;
    } else if transport == Transport::Smc && kind == 3 {
        conn.calls(1, deadline)?;
        c.calls += 1;
    }
    if kind == 1 || kind == 4 {
        conn.calls(1, deadline)?;
        c.calls += 1;
    } else if kind == 3 {
        conn.send_one(deadline)?;
    }
    if kind >= 2 {
        conn.reset();
        c.resets += 1;
    } else {
        c.immediate += u64::from(kind == 0);
        drop(conn);
    }
    c.cycles += 1;
    Ok(())
}

/// Thread `j`'s cycles; it stops early if the server refuses connections
/// or after [`MAX_FAILURES`].
fn job(
    addr: SocketAddr,
    transport: Transport,
    proto: Proto,
    timeout: Duration,
    cycles: u64,
    j: u64,
    mut rng: Rng,
) -> Counts {
    let mut c = Counts::default();
    for i in 0..cycles {
        if let Err(e) = cycle(addr, transport, proto, timeout, &mut rng, &mut c) {
            let refused = e.contains("connection refused");
            c.failures
                .push(format!("thread {}, cycle {}: {e}", j + 1, i + 1));
            if refused || c.failures.len() >= MAX_FAILURES {
                c.stopped = true;
                break;
            }
        }
    }
    c
}

pub fn run(cx: &mut Ctx) {
    let (jobs, total) = (cx.o.jobs as u64, cx.o.cycles);
    let (addr, transport, proto, timeout) = (cx.addr, cx.o.transport, cx.o.proto, cx.o.timeout);
    let start = Instant::now();
    let handles: Vec<_> = (0..jobs)
        .map(|j| {
            let n = total / jobs + u64::from(j < total % jobs);
            let rng = cx.rng.fork();
            thread::spawn(move || job(addr, transport, proto, timeout, n, j, rng))
        })
        .collect();
    let mut all = Counts::default();
    for h in handles {
        let c = h.join().unwrap_or_else(|_| Counts {
            failures: vec!["a churn thread panicked".into()],
            ..Counts::default()
        });
        all.cycles += c.cycles;
        all.immediate += c.immediate;
        all.calls += c.calls;
        all.resets += c.resets;
        all.failures.extend(c.failures);
        all.stopped |= c.stopped;
    }
    let secs = start.elapsed().as_secs_f64();
    for f in &all.failures {
        cx.report.finding(f);
    }
    if all.stopped {
        cx.report
            .progress("threads stopped early after the failures above");
    }
    cx.good_check();
    cx.report
        .kv("cycles", all.cycles)
        .kv("immediate_closes", all.immediate)
        .kv("calls", all.calls)
        .kv("resets", all.resets)
        .kv("cycles_per_sec", rate(all.cycles, secs));
}
