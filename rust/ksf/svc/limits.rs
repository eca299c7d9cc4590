// SPDX-License-Identifier: GPL-2.0

//! The limits that keep a service safe against any client.
//!
//! - **Admission.** A listener accepts only while the service holds fewer
//!   than `max_conns` connections and less than `mem_max` bytes for them
//!   (`SvcInner::admits`), checked before `kernel_accept`: at a limit the
//!   listener pauses (`Conn::park`: not armed, so new connections wait in
//!   the kernel's accept queue and are never accepted and reset). A
//!   connection that closes resumes it, and so does the sweeper.
//! - **Eviction.** A paused listener with connections waiting closes as
//!   many of the oldest connections that never completed a request as are
//!   waiting (up to 256 at a time), as knfsd's `svc_check_conn_limits` closes
//!   one for each connection over its limit: a flood of silent
//!   connections cannot keep real clients out.
//! - **Memory.** A connection that ends a run holding more than before
//!   while the service is over `mem_max` is closed (shed): what all
//!   connections hold is bounded by the budget plus one run's growth per
//!   worker.
//! - **Timeouts.** Once a second the sweeper closes, through the normal
//!   path, connections idle (no request in progress) for `idle_timeout`
//!   and connections in one request for `request_timeout` (a record begun
//!   and never finished, replies the peer does not read). Runs only store
//!   a timestamp they already take; all the work is the sweeper's.

use core::sync::atomic::{fence, Ordering};

use kernel::sync::Arc;
use kernel::time::msecs_to_jiffies;

use super::conn::{Role, Timeout};
use super::stats::Stats;
use super::{Registry, Service, SvcConfig, SvcInner};
use crate::ksf::ffi;
use crate::ksf::kthread;
use crate::ksf::pool::now_ns;

/// How often the sweeper looks at the connections.
const SWEEP_MS: u32 = 1000;
/// The default `mem_max` is this fraction of RAM...
const MEM_MAX_DIV: u64 = 32;
/// ... and at least this.
const MEM_MAX_MIN: u64 = 1 << 20;
/// The default `max_conns` gives each connection this much of RAM (its
/// socket and buffers in flight, with room to spare)...
const RAM_PER_CONN: u64 = 128 << 10;
/// ... within these bounds.
const MAX_CONNS_MIN: u64 = 64;
const MAX_CONNS_MAX: u64 = 65536;

/// The machine's RAM in bytes.
pub(crate) fn totalram() -> u64 {
    // SAFETY: Reads a kernel counter.
    unsafe { ffi::ksf_totalram_bytes() }
}

impl SvcConfig {
    /// The configuration with its zero limits (`max_conns`, `mem_max`)
    /// replaced by defaults derived from the machine's memory: a 32nd of
    /// RAM for `mem_max`, and a connection per 128 KiB of RAM (64 to
    /// 65,536) for `max_conns`. On a 1 GiB guest: 32 MiB and 8,192.
    pub fn resolve(mut self) -> SvcConfig {
        let ram = totalram();
        if self.mem_max == 0 {
            self.mem_max = (ram / MEM_MAX_DIV).max(MEM_MAX_MIN);
        }
        if self.max_conns == 0 {
            self.max_conns = (ram / RAM_PER_CONN).clamp(MAX_CONNS_MIN, MAX_CONNS_MAX);
        }
        self
    }
}

impl<S: Service> SvcInner<S> {
    /// Whether a new connection may be accepted now.
    pub(super) fn admits(&self) -> bool {
        self.streams.load(Ordering::Relaxed) < self.cfg.max_conns
            && self.stats.conn_mem.load(Ordering::Relaxed) < self.cfg.mem_max
    }

    /// Closes the `n` oldest connections that never completed a request
    /// (fewer if there are not so many); how many it closed.
    pub(super) fn evict(&self, n: usize) -> usize {
        let reg = self.conns.lock();
        let mut done = 0;
        // Ids grow with time: the tree's order is the age order.
        for c in reg.map.values().filter(|c| c.evictable()) {
            if done == n {
                break;
            }
            if c.close_soon() {
                Stats::bump(&self.stats.evicted);
                done += 1;
            }
        }
        done
    }

    /// Queues every paused listener (each looks at the limits again).
    pub(super) fn resume_listeners(&self, reg: &Registry<S>) {
        for c in reg.map.values().filter(|c| c.role() == Role::Listener) {
            c.unpark();
        }
    }

    /// Closes the connections past a timeout and resumes paused
    /// listeners.
    fn sweep(&self, reg: &Registry<S>) {
        let now = now_ns();
        for c in reg.map.values() {
            // A task that backed off for want of memory tries again.
            c.resume();
            let Some(why) = c.expired(now, &self.cfg) else {
                continue;
            };
            if c.close_soon() {
                Stats::bump(match why {
                    Timeout::Idle => &self.stats.timeout_idle,
                    Timeout::Request => &self.stats.timeout_request,
                });
            }
        }
        // A paused listener also evicts for connections that arrived
        // since it paused (nothing else wakes it for those).
        fence(Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) != 0 {
            self.resume_listeners(reg);
        }
    }
}

/// The sweeper thread of a service (see the module documentation).
pub(super) fn sweeper<S: Service>(svc: &Arc<SvcInner<S>>) {
    while !kthread::should_stop() {
        let mut reg = svc.conns.lock();
        // Kernel threads get no signals: this ends at the timeout, or when
        // `kthread_stop` wakes the thread (or a spurious wake-up).
        let _ = svc
            .empty
            .wait_interruptible_timeout(&mut reg, msecs_to_jiffies(SWEEP_MS));
        if kthread::should_stop() {
            break;
        }
        svc.sweep(&reg);
    }
}
