// SPDX-License-Identifier: GPL-2.0

//! The worker and maintenance thread functions of the pool.

use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use kernel::prelude::*;
use kernel::sync::{Arc, CondVarTimeoutResult};
use kernel::time::msecs_to_jiffies;

use super::hotplug::CpusReadLock;
use super::task::TaskLink;
use super::{now_ns, Group, PoolInner, STALL_NS};
use crate::ksf::{kthread, vec};

/// One worker's state, shared with the maintenance thread.
pub(crate) struct Worker {
    group: Arc<Group>,
    /// Set (under the group lock) to make this idle worker exit; it then
    /// takes no more work.
    retire: AtomicBool,
    /// When the current task started, or 0 between tasks.
    running_since: AtomicI64,
    /// When the worker ran out of work, or 0 from when it takes a task
    /// (both under the group lock). Wake-ups that find no work leave it.
    idle_since: AtomicI64,
}

impl Worker {
    pub(crate) fn new(group: Arc<Group>) -> Worker {
        Worker {
            group,
            retire: AtomicBool::new(false),
            running_since: AtomicI64::new(0),
            idle_since: AtomicI64::new(0),
        }
    }
}

/// A worker: runs its group's tasks in order, sleeps when there are none.
pub(crate) fn main(w: &Worker) {
    // A worker woken by an upcall does not preempt the thread that ran
    // it, usually the sender on loopback: the sender goes on sending, and
    // the worker then serves what came in one run instead of taking turns
    // with it call by call (Documentation/ksf.rst, "The thread pool"). Best
    // effort: a worker left SCHED_NORMAL serves the same, with more
    // context switches.
    let _ = kthread::sched_batch();
    let g = &*w.group;
    let mut st = g.state.lock();
    loop {
        // Retiring: leave before taking any work. The maintenance thread
        // waits for this exit, so the work left is for the other workers
        // (there are at least `min_per_cpu`; `shrink` woke them).
        if w.retire.load(Ordering::Relaxed) {
            break;
        }
        if let Some((link, queued_ns)) = st.queue.pop() {
            w.idle_since.store(0, Ordering::Relaxed);
            drop(st);
            let start = now_ns();
            w.running_since.store(start, Ordering::Relaxed);
            g.max_wait_ns
                .fetch_max((start - queued_ns).max(0) as u64, Ordering::Relaxed);
            // SAFETY: Popped from the queue, so the link came from
            // `TaskLink::into_raw` and is in no queue.
            unsafe { TaskLink::run(link) };
            w.running_since.store(0, Ordering::Relaxed);
            g.ran.fetch_add(1, Ordering::Relaxed);
            // Between tasks, as a workqueue's worker does: on a kernel
            // without preemption a worker that always has work would
            // otherwise never give up its CPU, starving everything else
            // bound to it (ksoftirqd, the other workers, a thread being
            // stopped) until the soft-lockup detector fires.
            kthread::cond_resched();
            st = g.state.lock();
            continue;
        }
        // The queue is empty: leave if asked to, else sleep.
        if st.stopping || kthread::should_stop() {
            break;
        }
        st.idle += 1;
        if w.idle_since.load(Ordering::Relaxed) == 0 {
            w.idle_since.store(now_ns(), Ordering::Relaxed);
        }
        // No timeout (it would arm and cancel a timer on every sleep): what
        // ends the wait is set under the group lock, which this worker
        // holds until it is on the wait queue, and followed by a notify:
        // work (`enqueue`), `stopping` (`shutdown`, before `kthread_stop`)
        // and `retire` (`shrink`).
        let _ = g.cv.wait_interruptible(&mut st);
        st.idle -= 1;
    }
    drop(st);
    // `kthread_stop` may not have been called yet (retired workers are
    // stopped right after being asked): wait for it, so the handle's join
    // is what ends the thread.
    while !kthread::should_stop() {
        let mut st = g.state.lock();
        let _ =
            g.cv.wait_interruptible_timeout(&mut st, msecs_to_jiffies(10));
    }
}

/// The maintenance thread: grows groups whose workers are all blocked and
/// retires workers idle for too long.
pub(crate) fn maintain(pool: &Arc<PoolInner>) {
    while !kthread::should_stop() {
        // Kicks are skipped while `maint_polling` is set. It is cleared
        // before the queues are looked at, so work queued by a skipped kick
        // is seen here (the queue is read under its lock after the store).
        pool.maint_polling.store(false, Ordering::SeqCst);
        let busy = pool.groups.iter().any(|g| g.state.lock().queue.len() > 0);
        pool.maint_polling.store(busy, Ordering::SeqCst);
        {
            let mut m = pool.maint.lock();
            // Until a kick (or `kthread_stop`) or `ms` milliseconds, at
            // least a tick.
            let wait = |m: &mut _, ms| {
                if let CondVarTimeoutResult::Signal { .. } = pool
                    .maint_cv
                    .wait_interruptible_timeout(m, msecs_to_jiffies(ms))
                {
                    // Kernel threads get no signals; nothing to do.
                }
            };
            if !busy && !m.kicked {
                // Nothing waits: sleep until a kick or the next idle check.
                wait(&mut m, 1000);
            }
            if busy || m.kicked {
                // Work waits, or has just come: look again after a tick,
                // kicks skipped meanwhile. Looking sooner could not grow a
                // group (no worker counts as blocked before `STALL_NS`),
                // and a look per queued task would have this thread
                // contend for the group locks with the workers and the
                // upcalls that it watches.
                pool.maint_polling.store(true, Ordering::SeqCst);
                m.kicked = false;
                wait(&mut m, 1);
            }
            m.kicked = false;
        }
        if kthread::should_stop() || pool.stopping.load(Ordering::Relaxed) {
            break;
        }
        for g in pool.groups.iter() {
            grow(pool, g);
            shrink(pool, g);
        }
    }
}

/// Work is waiting and no worker is idle.
fn saturated(g: &Group) -> bool {
    let st = g.state.lock();
    st.queue.len() > 0 && st.idle == 0
}

fn grow(pool: &PoolInner, g: &Arc<Group>) {
    if !saturated(g) || g.nworkers.load(Ordering::Relaxed) >= pool.cfg.max_per_cpu {
        return;
    }
    let now = now_ns();
    let all_stalled = {
        let workers = g.workers.lock();
        workers.iter().all(|t| {
            let since = t.data().running_since.load(Ordering::Relaxed);
            since != 0 && now - since > STALL_NS
        })
    };
    if !all_stalled {
        return;
    }
    // No CPU comes or goes while the worker starts, bound or not.
    let _cpus = CpusReadLock::new();
    if let Err(e) = g.spawn_locked(&mut g.workers.lock()) {
        // Tried again at the next tick while the group stays saturated;
        // said once per group, counted every time.
        if g.spawn_failed.fetch_add(1, Ordering::Relaxed) == 0 {
            pr_warn!("cannot start a worker on CPU {}: {:?}\n", g.cpu, e);
        }
    }
}

/// Stops every worker above the minimum that has been idle for longer
/// than the idle timeout, all in this pass.
fn shrink(pool: &PoolInner, g: &Group) {
    if g.nworkers.load(Ordering::Relaxed) <= pool.cfg.min_per_cpu {
        return;
    }
    let min = pool.cfg.min_per_cpu as usize;
    let limit = i64::from(pool.cfg.idle_timeout_ms) * 1_000_000;
    {
        let workers = g.workers.lock();
        if workers.len() <= min {
            return;
        }
        let mut keep = workers.len();
        let now = now_ns();
        // Under the group lock a worker with `idle_since` set is not on a
        // task, and looks at `retire` before it takes one.
        let _st = g.state.lock();
        for t in workers.iter() {
            if keep <= min {
                break;
            }
            let since = t.data().idle_since.load(Ordering::Relaxed);
            if since != 0 && now - since > limit {
                t.data().retire.store(true, Ordering::Relaxed);
                keep -= 1;
            }
        }
    }
    // Wakes the retiring workers, and the others for any work the retiring
    // ones were woken for and leave behind.
    g.cv.notify_all();
    loop {
        let t = {
            let mut workers = g.workers.lock();
            let i = workers
                .iter()
                .position(|t| t.data().retire.load(Ordering::Relaxed));
            i.and_then(|i| vec::swap_remove(&mut workers, i))
        };
        let Some(t) = t else { break };
        t.stop();
        g.nworkers.fetch_sub(1, Ordering::Relaxed);
    }
}
