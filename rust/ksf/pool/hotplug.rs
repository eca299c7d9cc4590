// SPDX-License-Identifier: GPL-2.0

//! CPU hotplug: a pool's workers follow their CPU.
//!
//! Each pool of kthreads registers a dynamic, multi-instance CPU hotplug
//! state (`CPUHP_AP_ONLINE_DYN`, as `cpuhp_setup_state_multi` does), whose
//! callbacks run on the CPU coming up or going down, under the hotplug
//! lock:
//!
//! - going down, the CPU's group is marked offline and its workers may run
//!   on any CPU, where they go on serving the group's queue (connections
//!   homed on that CPU lose locality, not service); nothing is stranded;
//! - coming up, the group's workers are bound to it again, and a CPU that
//!   was offline when the pool started gets its first workers.
//!
//! Registering the instance calls the online callback for every online
//! CPU, which is how a pool starts its workers. The maintenance thread
//! starts workers under `cpus_read_lock`, bound only if their CPU is
//! online, so no worker is ever bound to an offline CPU.

use core::mem::offset_of;
use core::sync::atomic::{AtomicI32, Ordering};

use kernel::bindings;
use kernel::error::{Error, Result};
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::types::Opaque;

use super::PoolInner;
use crate::ksf::ffi;

/// A pool's CPU hotplug registration.
///
/// # Invariants
///
/// While `state` is positive, `node` is an instance of that dynamic cpuhp
/// state, and this `Hotplug` is the `hotplug` field of a `PoolInner` that
/// stays alive until [`Hotplug::unregister`] has removed it.
#[pin_data]
pub(crate) struct Hotplug {
    #[pin]
    node: Opaque<bindings::hlist_node>,
    /// The dynamic state, or 0 when not registered.
    state: AtomicI32,
}

// SAFETY: `node` is only touched by the cpuhp core, under its own locks
// (the functions `register` and `unregister` call); `state` is atomic.
unsafe impl Send for Hotplug {}
// SAFETY: As for `Send`: `&Hotplug` gives access to nothing unsynchronised.
unsafe impl Sync for Hotplug {}

impl Hotplug {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Hotplug {
            node: Opaque::uninit(),
            state: AtomicI32::new(0),
        })
    }

    /// Registers `pool` for CPU hotplug: its online callback runs for every
    /// online CPU now, and for every CPU that comes online later.
    pub(crate) fn register(pool: &PoolInner) -> Result {
        let hp = &pool.hotplug;
        // SAFETY: The name is a static string; the callbacks have the type
        // of a multi-instance state's callbacks.
        let state = unsafe {
            ffi::ksf_cpuhp_setup(c"ksf/pool:online".as_ptr().cast(), cpu_online, cpu_offline)
        };
        if state < 0 {
            return Err(Error::from_errno(state));
        }
        // INVARIANT: The node is added next; `pool` is pinned in its `Arc`
        // and the pool removes the node (`unregister`) before it goes away.
        hp.state.store(state, Ordering::Relaxed);
        // SAFETY: `state` was set up above; the node is in no list.
        let ret = unsafe { ffi::ksf_cpuhp_add(state, hp.node.get()) };
        if ret < 0 {
            // The failed add took the node out again, after calling the
            // offline callback for every CPU it had brought up.
            hp.state.store(0, Ordering::Relaxed);
            // SAFETY: The state has no instance.
            unsafe { ffi::ksf_cpuhp_teardown(state) };
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// Removes the registration, without calling the callbacks; once this
    /// returns none runs. Idempotent.
    pub(crate) fn unregister(&self) {
        let state = self.state.swap(0, Ordering::Relaxed);
        if state > 0 {
            // SAFETY: `node` is an instance of `state` (type invariant);
            // removing it waits for a hotplug operation in progress.
            unsafe {
                ffi::ksf_cpuhp_remove(state, self.node.get());
                ffi::ksf_cpuhp_teardown(state);
            }
        }
    }
}

/// The pool whose hotplug node is `node`.
///
/// # Safety
///
/// `node` is the node of a registered [`Hotplug`], which keeps its pool
/// alive for the duration of the returned borrow.
unsafe fn pool_of<'a>(node: *mut bindings::hlist_node) -> &'a PoolInner {
    let offset = offset_of!(PoolInner, hotplug) + offset_of!(Hotplug, node);
    // SAFETY: By the type invariant of `Hotplug`, `node` is inside a live
    // `PoolInner` at this offset (`Opaque` is transparent).
    unsafe { &*node.cast::<u8>().sub(offset).cast::<PoolInner>() }
}

/// # Safety
///
/// `node` is the node of a registered [`Hotplug`], not yet removed.
unsafe extern "C" fn cpu_online(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int {
    // SAFETY: The kernel calls this with a node of our state, registered
    // and not yet removed.
    let pool = unsafe { pool_of(node) };
    match pool.cpu_up(cpu) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// As for [`cpu_online`].
unsafe extern "C" fn cpu_offline(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int {
    // SAFETY: As for `cpu_online`.
    let pool = unsafe { pool_of(node) };
    pool.cpu_down(cpu);
    0
}

impl PoolInner {
    /// `cpu` is coming up: bind its workers to it, start the first ones.
    /// On failure the CPU's bring-up fails (as a workqueue's does when it
    /// cannot start a worker), and the group is left as it was: offline,
    /// its workers free to run anywhere.
    fn cpu_up(&self, cpu: u32) -> Result {
        let Some(g) = self.groups.get(cpu as usize) else {
            return Ok(());
        };
        let mut workers = g.workers.lock();
        g.online.store(true, Ordering::Relaxed);
        let mut up = || -> Result {
            for w in workers.iter() {
                w.bind(Some(cpu))?;
            }
            while (workers.len() as u32) < self.cfg.min_per_cpu {
                g.spawn_locked(&mut workers)?;
            }
            Ok(())
        };
        let ret = up();
        if ret.is_err() {
            drop(workers);
            self.cpu_down(cpu);
        }
        ret
    }

    /// `cpu` is going down: its workers may run anywhere until it returns.
    fn cpu_down(&self, cpu: u32) {
        let Some(g) = self.groups.get(cpu as usize) else {
            return;
        };
        let workers = g.workers.lock();
        g.online.store(false, Ordering::Relaxed);
        for w in workers.iter() {
            if w.bind(None).is_err() {
                crate::ksf::warn(c"cannot unbind a worker from a CPU going down");
            }
        }
    }
}

/// Keeps CPUs from coming or going while it lives (`cpus_read_lock`).
pub(crate) struct CpusReadLock(());

impl CpusReadLock {
    pub(crate) fn new() -> CpusReadLock {
        // SAFETY: Process context; released by `drop`.
        unsafe { bindings::cpus_read_lock() };
        CpusReadLock(())
    }
}

impl Drop for CpusReadLock {
    fn drop(&mut self) {
        // SAFETY: Taken in `new`.
        unsafe { bindings::cpus_read_unlock() };
    }
}

impl super::Pool {
    /// How many of the workers of `cpu`'s group are bound to it, and how
    /// many it has (for tests and statistics).
    pub(crate) fn workers_bound(&self, cpu: u32) -> (u32, u32) {
        let Some(g) = self.inner.groups.get(cpu as usize) else {
            return (0, 0);
        };
        let workers = g.workers.lock();
        let bound = workers
            .iter()
            .filter(|w| w.bound_cpu() == Some(cpu))
            .count();
        (bound as u32, workers.len() as u32)
    }
}
