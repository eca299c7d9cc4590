// SPDX-License-Identifier: GPL-2.0

//! The workqueue backend: the pool's tasks run on a per-CPU,
//! concurrency-managed workqueue (`alloc_workqueue` without `WQ_UNBOUND`),
//! the way in-kernel servers such as nvmet-tcp run theirs. It exists to
//! measure ksf's own kthreads against (`backend=wq`, see `make bench`).
//!
//! A task's [`TaskLink`] embeds the `work_struct`, set up when the task is
//! first queued here, so queueing still never allocates. The workqueue
//! keeps a work item from running on two CPUs at once, and a link is
//! queued once at a time (the [`TaskLink`] rule), so the work item is
//! never queued twice.

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::bindings;
use kernel::error::{code::ENOMEM, Result};

use super::task::TaskLink;
use super::{now_ns, Group};
use crate::ksf::ffi;

/// A workqueue, or none (the kthread backend).
///
/// # Invariants
///
/// `wq` is null or a workqueue from `ksf_wq_alloc` that is destroyed only
/// by [`Wq::destroy`], which first swaps it to null.
pub(crate) struct Wq {
    wq: AtomicPtr<bindings::workqueue_struct>,
}

impl Wq {
    /// No workqueue: the pool runs its own kthreads.
    pub(crate) const fn none() -> Wq {
        // INVARIANT: Null.
        Wq {
            wq: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// A new per-CPU workqueue.
    pub(crate) fn new() -> Result<Wq> {
        // SAFETY: The name is a NUL-terminated literal, copied by the call.
        let wq = unsafe { ffi::ksf_wq_alloc(c"ksf_wq".as_ptr().cast()) };
        if wq.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: A workqueue from `ksf_wq_alloc`.
        Ok(Wq {
            wq: AtomicPtr::new(wq),
        })
    }

    /// Whether this is the workqueue backend (and it is not destroyed).
    pub(crate) fn active(&self) -> bool {
        !self.wq.load(Ordering::Relaxed).is_null()
    }

    /// Queues `link` to run on `g`'s CPU; `g` counts it.
    ///
    /// # Safety
    ///
    /// `link` comes from [`TaskLink::into_raw`] and is in no queue; `g`
    /// belongs to the pool owning this workqueue, and the pool (so `g`)
    /// lives until [`Wq::destroy`] has returned.
    pub(crate) unsafe fn queue(&self, g: &Group, link: *const TaskLink) {
        let wq = self.wq.load(Ordering::Relaxed);
        // SAFETY: `link` is valid and queued nowhere (caller), so its work
        // item is idle and its cells are ours until queued; `g` outlives
        // the work (caller).
        let work = unsafe { TaskLink::prepare_work(link, g, now_ns(), work_fn) };
        g.queued.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `wq` is live (type invariant: only `destroy` ends it, and
        // the pool does not queue after shutdown); `work` was initialised.
        // It cannot be pending: the link is queued once at a time.
        let queued = unsafe { ffi::ksf_queue_work_on(g.cpu as i32, wq, work) };
        if !queued {
            crate::ksf::warn(c"ksf task queued twice on the workqueue");
        }
    }

    /// Runs what is queued and destroys the workqueue. Idempotent.
    pub(crate) fn destroy(&self) {
        let wq = self.wq.swap(core::ptr::null_mut(), Ordering::Relaxed);
        if !wq.is_null() {
            // SAFETY: A live workqueue (type invariant), now out of reach;
            // `destroy_workqueue` drains it first.
            unsafe { ffi::ksf_wq_destroy(wq) };
        }
    }
}

impl Drop for Wq {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// The work function of every task run by the workqueue backend.
///
/// # Safety
///
/// `work` is the work item of a [`TaskLink`] queued by [`Wq::queue`].
unsafe extern "C" fn work_fn(work: *mut bindings::work_struct) {
    // SAFETY: `work` is embedded in a queued link (caller).
    let (link, g, queued_ns) = unsafe { TaskLink::from_work(work) };
    // SAFETY: `g` lives until the workqueue is destroyed, which waits for
    // this function to return (`Wq::queue` contract).
    let g = unsafe { &*g };
    g.max_wait_ns
        .fetch_max((now_ns() - queued_ns).max(0) as u64, Ordering::Relaxed);
    // SAFETY: The link came from `TaskLink::into_raw` and the workqueue
    // no longer has it (it is running, not pending).
    unsafe { TaskLink::run(link) };
    g.ran.fetch_add(1, Ordering::Relaxed);
}
