// SPDX-License-Identifier: GPL-2.0

//! [`KThread`]: a kernel thread with a real join.
//!
//! The thread runs `f(&data)` until [`should_stop`] says otherwise; the
//! handle owns a reference on the thread and on its data, and stopping it
//! (explicitly or by dropping the handle) waits for the function to return.

use core::ptr::NonNull;

use kernel::bindings;
use kernel::error::{Error, Result};
use kernel::sync::Arc;

/// A running kernel thread.
///
/// # Invariants
///
/// `task` is a kthread created by `spawn`, holding a task reference taken
/// there, not yet stopped; its thread function borrows `start`.
pub(crate) struct KThread<D: Send + Sync + 'static> {
    task: NonNull<bindings::task_struct>,
    start: Arc<Start<D>>,
}

// SAFETY: The handle can be stopped from any thread.
unsafe impl<D: Send + Sync> Send for KThread<D> {}
// SAFETY: `&KThread` gives only `&D`, and `D: Sync`.
unsafe impl<D: Send + Sync> Sync for KThread<D> {}

pub(crate) struct Start<D> {
    data: D,
    f: fn(&D),
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Only called from threads made by `KThread::spawn`.
    unsafe { bindings::kthread_should_stop() }
}

/// # Safety
///
/// `data` points to the `Start<D>` that `KThread::spawn` passed to the
/// kthread, alive until `kthread_stop` has seen this function return.
unsafe extern "C" fn thread_main<D: Send + Sync + 'static>(data: *mut kernel::ffi::c_void) -> i32 {
    // SAFETY: `data` is the `Start<D>` borrowed from the handle, which
    // keeps it alive until `kthread_stop` has seen this function return.
    let start = unsafe { &*(data as *const Start<D>) };
    (start.f)(&start.data);
    0
}

impl<D: Send + Sync + 'static> KThread<D> {
    /// Starts `f(&data)` on a new kthread named `name` (a NUL-terminated
    /// `%u`-free format) bound to `cpu`, or unbound if `cpu` is `None`.
    /// With a CPU, `%u` in `name` is replaced by its number.
    pub(crate) fn spawn(
        cpu: Option<u32>,
        name: &'static core::ffi::CStr,
        data: D,
        f: fn(&D),
    ) -> Result<Self> {
        let start = Arc::new(Start { data, f }, kernel::alloc::flags::GFP_KERNEL)?;
        let arg = &*start as *const Start<D> as *mut kernel::ffi::c_void;
        // SAFETY: `thread_main::<D>` matches the thread function type;
        // `arg` stays valid while `start` lives, which the handle ensures
        // until the thread is stopped; `name` is a valid format string.
        let task = unsafe {
            match cpu {
                Some(cpu) => bindings::kthread_create_on_cpu(
                    Some(thread_main::<D>),
                    arg,
                    cpu,
                    name.as_ptr().cast(),
                ),
                None => bindings::kthread_create_on_node(
                    Some(thread_main::<D>),
                    arg,
                    bindings::NUMA_NO_NODE,
                    c"%s".as_ptr().cast(),
                    name.as_ptr(),
                ),
            }
        };
        let task = crate::ksf::ffi::from_err_ptr(task)?;
        // SAFETY: `task` is a new kthread, not yet running; the reference
        // keeps its `task_struct` even if the function returns early, and
        // `kthread_stop_put` drops it.
        unsafe {
            bindings::get_task_struct(task.as_ptr());
            bindings::wake_up_process(task.as_ptr());
        }
        // INVARIANT: Created and referenced above.
        Ok(KThread { task, start })
    }

    /// The thread's data.
    pub(crate) fn data(&self) -> &D {
        &self.start.data
    }

    /// Binds the thread to `cpu` (which must be online), or lets it run on
    /// any CPU if `cpu` is `None`. Callers keep CPUs from coming or going
    /// meanwhile (a CPU hotplug callback, or `cpus_read_lock`).
    pub(crate) fn bind(&self, cpu: Option<u32>) -> Result {
        let cpu = cpu.map_or(-1, |c| c as i32);
        // SAFETY: `task` is a live, referenced task (type invariant);
        // `set_cpus_allowed_ptr` accepts any task and mask.
        let ret = unsafe { crate::ksf::ffi::ksf_task_bind(self.task.as_ptr(), cpu) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// The one CPU the thread may run on, if it is bound to one.
    pub(crate) fn bound_cpu(&self) -> Option<u32> {
        // SAFETY: `task` is a live, referenced task (type invariant).
        let cpu = unsafe { crate::ksf::ffi::ksf_task_bound_cpu(self.task.as_ptr()) };
        u32::try_from(cpu).ok()
    }

    /// Stops the thread and waits for its function to return.
    pub(crate) fn stop(self) {
        drop(self)
    }
}

impl<D: Send + Sync + 'static> Drop for KThread<D> {
    fn drop(&mut self) {
        // SAFETY: The thread has not been stopped (type invariant); this
        // wakes it, waits for it to exit and drops our task reference.
        unsafe { bindings::kthread_stop_put(self.task.as_ptr()) };
        // `self.start` is released after this: the thread no longer runs.
    }
}

/// Sleeps for at least `ms` milliseconds (process context only).
pub fn sleep_ms(ms: u32) {
    // SAFETY: `msleep` may be called from any sleepable context, which
    // every caller of ksf's process-context APIs is.
    unsafe { bindings::msleep(ms) }
}

/// Makes the calling kthread `SCHED_BATCH`: scheduled fairly like any
/// other thread, but its wake-up does not preempt the thread running on
/// its CPU. Process context only.
pub(crate) fn sched_batch() -> Result {
    // SAFETY: Only called from ksf's kthreads, in process context; it
    // changes nothing but the calling thread's scheduling policy.
    kernel::error::to_result(unsafe { crate::ksf::ffi::ksf_sched_batch_current() })
}

/// Lets the scheduler run something else on this CPU if it wants to
/// (`cond_resched()`): a kernel built without preemption never takes the
/// CPU from a busy kthread otherwise. Process context only.
pub(crate) fn cond_resched() {
    // SAFETY: Only called from ksf's kthreads, in process context with no
    // lock held.
    unsafe { crate::ksf::ffi::ksf_cond_resched() }
}
