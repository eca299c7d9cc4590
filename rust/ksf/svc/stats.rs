// SPDX-License-Identifier: GPL-2.0

//! A service's counters.
//!
//! The counters every send, receive and run touches live in one cache line
//! per CPU ([`CpuCounters`]): a task takes its CPU's line once per run (it
//! may migrate afterwards; the counters are atomics, so a stale line is
//! still right, only shared). Counters of rare events (connections
//! accepted, refused, closed, timed out) and the memory held by
//! connections, which the limits read, are single atomics in [`Stats`].
//! Allocation failures are counted per CPU too, by what each cost: a
//! connection refused or closed, a run retried, a datagram dropped.
//! [`Stats::snapshot`] adds the lines up.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::Result;

use crate::ksf::cpu::{current_cpu, nr_cpu_ids};
use crate::ksf::smc::{SmcMode, DECL_PEERNOSMC};

/// The counters of one CPU, alone in their cache line.
#[repr(C, align(64))]
#[derive(Default)]
pub struct CpuCounters {
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) msgs_in: AtomicU64,
    pub(crate) msgs_out: AtomicU64,
    pub(crate) sends: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) io_errors: AtomicU64,
    pub(crate) runs: AtomicU64,
    /// Allocation failures, by what they cost (see `StatsSnapshot`).
    pub(crate) nomem_refused: AtomicU64,
    pub(crate) nomem_retried: AtomicU64,
    pub(crate) nomem_closed: AtomicU64,
    pub(crate) nomem_dropped: AtomicU64,
}

impl CpuCounters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// A service's counters.
pub(crate) struct Stats {
    /// Indexed by CPU id.
    cpus: KVec<CpuCounters>,
    pub(crate) accepted: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) closed: AtomicU64,
    pub(crate) evicted: AtomicU64,
    pub(crate) timeout_idle: AtomicU64,
    pub(crate) timeout_request: AtomicU64,
    pub(crate) shed: AtomicU64,
    pub(crate) paused: AtomicU64,
    /// Memory held by open TCP connections (see `Service::conn_memory`).
    pub(crate) conn_mem: AtomicU64,
    pub(crate) conn_mem_peak: AtomicU64,
    /// How accepted connections carry their data (SMC listeners).
    pub(crate) smc: SmcCounters,
}

/// How the connections an SMC listener accepted carry their data.
#[derive(Default)]
pub(crate) struct SmcCounters {
    smcd: AtomicU64,
    smcr: AtomicU64,
    fallback: AtomicU64,
    fallback_peer_nosmc: AtomicU64,
    fallback_last_reason: AtomicU64,
    pub(crate) refused: AtomicU64,
}

impl SmcCounters {
    /// Counts a connection accepted as `mode`.
    pub(crate) fn count(&self, mode: SmcMode) {
        match mode {
            SmcMode::SmcD => Stats::bump(&self.smcd),
            SmcMode::SmcR => Stats::bump(&self.smcr),
            SmcMode::Fallback(rsn) => {
                Stats::bump(&self.fallback);
                if rsn == DECL_PEERNOSMC {
                    Stats::bump(&self.fallback_peer_nosmc);
                }
                self.fallback_last_reason
                    .store(u64::from(rsn), Ordering::Relaxed);
            }
            SmcMode::Tcp | SmcMode::Pending => {}
        }
    }

    pub(crate) fn snapshot(&self) -> SmcSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SmcSnapshot {
            smcd: get(&self.smcd),
            smcr: get(&self.smcr),
            fallback: get(&self.fallback),
            fallback_peer_nosmc: get(&self.fallback_peer_nosmc),
            fallback_last_reason: get(&self.fallback_last_reason) as u32,
            refused: get(&self.refused),
        }
    }
}

/// How the connections a service accepted on SMC carried their data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SmcSnapshot {
    /// Connections over SMC-D (shared memory).
    pub smcd: u64,
    /// Connections over SMC-R (RDMA).
    pub smcr: u64,
    /// Connections that fell back to TCP.
    pub fallback: u64,
    /// Of those, connections whose client did not offer SMC (plain TCP
    /// clients).
    pub fallback_peer_nosmc: u64,
    /// The reason of the last fallback (`SMC_CLC_DECL_*`), 0 if none.
    pub fallback_last_reason: u32,
    /// Connections closed at accept because they fell back while the
    /// service serves SMC only (also counted in `refused`).
    pub refused: u64,
}

impl core::fmt::Display for SmcSnapshot {
    /// The SMC lines of the debugfs `stats` file.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "smcd {}\nsmcr {}", self.smcd, self.smcr)?;
        writeln!(f, "smc_fallback {}", self.fallback)?;
        writeln!(f, "smc_fallback_peer_nosmc {}", self.fallback_peer_nosmc)?;
        writeln!(
            f,
            "smc_fallback_last_reason 0x{:08x}",
            self.fallback_last_reason
        )?;
        writeln!(f, "smc_refused {}", self.refused)
    }
}

/// A snapshot of a service's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// TCP connections accepted and started.
    pub accepted: u64,
    /// TCP connections not started: refused by the service, or over a
    /// limit when they were accepted.
    pub refused: u64,
    /// TCP connections open now.
    pub active: u64,
    /// TCP connections closed.
    pub closed: u64,
    /// Connections that had never completed a request, closed to make
    /// room for a waiting one.
    pub evicted: u64,
    /// Connections closed after `idle_timeout` without a request.
    pub timeout_idle: u64,
    /// Connections closed after `request_timeout` in one request.
    pub timeout_request: u64,
    /// Connections closed because they grew over the memory budget.
    pub shed: u64,
    /// Times accepting paused at a limit.
    pub paused: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Messages received (as the service counts them).
    pub msgs_in: u64,
    /// Messages sent.
    pub msgs_out: u64,
    /// Send calls.
    pub sends: u64,
    /// Protocol errors.
    pub errors: u64,
    /// TCP sends and receives that failed other than with `EAGAIN`: the
    /// connection was reset or broken under the service.
    pub io_errors: u64,
    /// Task runs.
    pub runs: u64,
    /// TCP connections accepted but not started for want of memory
    /// (also counted in `refused`).
    pub nomem_refused: u64,
    /// Runs that could not get the memory they needed (a buffer, a socket
    /// for an accepted connection, an `sk_buff` for a TCP send) and backed
    /// off until the sweeper's next look, their input left waiting in the
    /// socket.
    pub nomem_retried: u64,
    /// TCP connections closed for want of memory.
    pub nomem_closed: u64,
    /// Datagrams dropped for want of memory (a send that failed with
    /// `ENOMEM` or `ENOBUFS`).
    pub nomem_dropped: u64,
    /// Bytes held by open TCP connections: their ksf state and what the
    /// service reports with `Service::conn_memory`.
    pub conn_mem: u64,
    /// The most `conn_mem` has been.
    pub conn_mem_peak: u64,
}

impl Stats {
    pub(crate) fn new() -> Result<Stats> {
        let n = nr_cpu_ids().max(1) as usize;
        let mut cpus = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            cpus.push(CpuCounters::default(), GFP_KERNEL)?;
        }
        Ok(Stats {
            cpus,
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            timeout_idle: AtomicU64::new(0),
            timeout_request: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            paused: AtomicU64::new(0),
            conn_mem: AtomicU64::new(0),
            conn_mem_peak: AtomicU64::new(0),
            smc: SmcCounters::default(),
        })
    }

    /// The counters of the CPU this runs on.
    pub(crate) fn local(&self) -> &CpuCounters {
        let cpu = current_cpu() as usize;
        // `cpus` has an entry per possible CPU id; the fallback is never
        // taken, but costs nothing.
        self.cpus.get(cpu).unwrap_or(&self.cpus[0])
    }

    /// Adds one to a counter of rare events.
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now, with `active` open connections.
    pub(crate) fn snapshot(&self, active: u64) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut s = StatsSnapshot {
            accepted: get(&self.accepted),
            refused: get(&self.refused),
            active,
            closed: get(&self.closed),
            evicted: get(&self.evicted),
            timeout_idle: get(&self.timeout_idle),
            timeout_request: get(&self.timeout_request),
            shed: get(&self.shed),
            paused: get(&self.paused),
            conn_mem: get(&self.conn_mem),
            conn_mem_peak: get(&self.conn_mem_peak),
            ..StatsSnapshot::default()
        };
        for c in self.cpus.iter() {
            s.bytes_in += get(&c.bytes_in);
            s.bytes_out += get(&c.bytes_out);
            s.msgs_in += get(&c.msgs_in);
            s.msgs_out += get(&c.msgs_out);
            s.sends += get(&c.sends);
            s.errors += get(&c.errors);
            s.io_errors += get(&c.io_errors);
            s.runs += get(&c.runs);
            s.nomem_refused += get(&c.nomem_refused);
            s.nomem_retried += get(&c.nomem_retried);
            s.nomem_closed += get(&c.nomem_closed);
            s.nomem_dropped += get(&c.nomem_dropped);
        }
        s
    }
}

impl core::fmt::Display for StatsSnapshot {
    /// The lines of the debugfs `stats` file: "name value" each.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self;
        let lines: [(&str, u64); 23] = [
            ("accepted", s.accepted),
            ("refused", s.refused),
            ("active", s.active),
            ("closed", s.closed),
            ("evicted", s.evicted),
            ("timeout_idle", s.timeout_idle),
            ("timeout_request", s.timeout_request),
            ("shed", s.shed),
            ("paused", s.paused),
            ("bytes_in", s.bytes_in),
            ("bytes_out", s.bytes_out),
            ("msgs_in", s.msgs_in),
            ("msgs_out", s.msgs_out),
            ("sends", s.sends),
            ("errors", s.errors),
            ("io_errors", s.io_errors),
            ("runs", s.runs),
            ("nomem_refused", s.nomem_refused),
            ("nomem_retried", s.nomem_retried),
            ("nomem_closed", s.nomem_closed),
            ("nomem_dropped", s.nomem_dropped),
            ("conn_mem", s.conn_mem),
            ("conn_mem_peak", s.conn_mem_peak),
        ];
        for (name, value) in lines {
            writeln!(f, "{name} {value}")?;
        }
        Ok(())
    }
}
