// SPDX-License-Identifier: GPL-2.0

//! The thread pool: kthreads pinned to each online CPU.
//!
//! Each possible CPU has a [`Group`]: a FIFO of [`TaskLink`]s (a
//! bottom-half-safe spinlock, so socket upcalls can queue from softirq
//! context) and the worker kthreads bound to that CPU. [`Pool::enqueue`]
//! queues on the group of the CPU it runs on, so a connection's work
//! follows the CPU its packets arrive on. Queueing never allocates: the
//! link lives in the queued object.
//!
//! Groups start with `min` workers. A maintenance kthread adds one, up to
//! `max`, when a group has work waiting, no idle worker, and every worker
//! has been on its current task for longer than [`STALL_NS`] (so blocked,
//! not just busy); it stops workers above `min` idle for longer than the
//! idle timeout, all of them in one pass (a worker asked to retire takes
//! no more work, so stopping it never waits for a task).
//! [`Pool::shutdown`] runs what is still queued and joins every thread.
//!
//! Workers follow their CPU through hotplug ([`hotplug`]): unbound while
//! it is offline, bound again when it returns.

mod hotplug;
pub(crate) mod task;
mod worker;
mod wq;

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::EINVAL, Result};
use kernel::new_condvar;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, CondVar, Mutex};
use kernel::time::Ktime;

use crate::ksf::cpu;
use crate::ksf::kthread::KThread;
use crate::ksf::sync::{new_spinlock_bh, SpinLockBh};
use crate::ksf::vec;
use hotplug::Hotplug;
use task::{HasTask, Queue, TaskLink};
use worker::Worker;
use wq::Wq;

/// A worker busy on one task for longer than this is taken as blocked.
pub(crate) const STALL_NS: i64 = 2_000_000;

/// What runs a pool's tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// ksf's kthreads, pinned per CPU, added when all are blocked.
    Kthreads,
    /// A per-CPU, concurrency-managed workqueue (the kernel's kworkers);
    /// the `*_per_cpu` and timeout settings do not apply.
    Workqueue,
}

impl Backend {
    /// The name used by the `backend` module parameter.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Kthreads => "pool",
            Backend::Workqueue => "wq",
        }
    }

    /// The backend called `name`.
    pub fn from_name(name: &[u8]) -> Option<Backend> {
        match name {
            b"pool" => Some(Backend::Kthreads),
            b"wq" => Some(Backend::Workqueue),
            _ => None,
        }
    }
}

/// How many workers a pool runs.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// What runs the tasks.
    pub backend: Backend,
    /// Workers started on each CPU, and kept however idle.
    pub min_per_cpu: u32,
    /// Most workers on one CPU.
    pub max_per_cpu: u32,
    /// Workers above the minimum exit after this long idle.
    pub idle_timeout_ms: u32,
}

impl Config {
    /// The original's defaults: 1 to 8 workers per CPU, 30 s idle timeout.
    pub const DEFAULT: Config = Config {
        backend: Backend::Kthreads,
        min_per_cpu: 1,
        max_per_cpu: 8,
        idle_timeout_ms: 30_000,
    };

    /// Checks the bounds: 1 <= min <= max <= 64, timeout >= 10 ms.
    pub fn validate(&self) -> Result {
        if self.min_per_cpu == 0
            || self.min_per_cpu > self.max_per_cpu
            || self.max_per_cpu > 64
            || self.idle_timeout_ms < 10
        {
            return Err(EINVAL);
        }
        Ok(())
    }
}

impl core::fmt::Display for Config {
    /// "pool of 1-8 threads per CPU" or "per-CPU workqueue", for log lines.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.backend {
            Backend::Kthreads => write!(
                f,
                "pool of {}-{} threads per CPU",
                self.min_per_cpu, self.max_per_cpu
            ),
            Backend::Workqueue => f.write_str("per-CPU workqueue"),
        }
    }
}

/// Counters of one group.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupStats {
    /// The group's CPU.
    pub cpu: u32,
    /// Tasks queued.
    pub queued: u64,
    /// Tasks run.
    pub ran: u64,
    /// Longest wait in the queue, in nanoseconds.
    pub max_wait_ns: u64,
    /// Workers running now.
    pub workers: u32,
    /// Workers started since the pool began.
    pub spawned: u64,
    /// Workers that could not be started (the kernel was out of memory).
    pub spawn_failed: u64,
    /// Whether the CPU is online (its workers are bound to it).
    pub online: bool,
}

struct GroupState {
    queue: Queue,
    /// Workers waiting for work.
    idle: u32,
    /// Set once by `shutdown`: workers drain the queue and exit.
    stopping: bool,
}

/// The work queue and workers of one CPU.
#[pin_data]
pub(crate) struct Group {
    cpu: u32,
    #[pin]
    state: SpinLockBh<GroupState>,
    /// Idle workers wait here.
    #[pin]
    cv: CondVar,
    /// The workers, in process context only (maintenance, shutdown).
    #[pin]
    workers: Mutex<KVec<KThread<Worker>>>,
    nworkers: AtomicU32,
    /// Set and cleared by the hotplug callbacks, under `workers`.
    online: AtomicBool,
    queued: AtomicU64,
    ran: AtomicU64,
    max_wait_ns: AtomicU64,
    spawned: AtomicU64,
    spawn_failed: AtomicU64,
}

struct MaintState {
    kicked: bool,
}

#[pin_data]
pub(crate) struct PoolInner {
    cfg: Config,
    /// Indexed by CPU id, one for every possible CPU.
    groups: KVec<Arc<Group>>,
    #[pin]
    maint: SpinLockBh<MaintState>,
    #[pin]
    maint_cv: CondVar,
    /// The maintenance thread (which holds a reference to this pool until
    /// `shutdown` stops it).
    #[pin]
    maint_thread: Mutex<Option<KThread<Arc<PoolInner>>>>,
    stopping: AtomicBool,
    /// The maintenance thread looks at the groups every tick anyway (some
    /// group has work waiting): kicking it would only cost a wake-up.
    maint_polling: AtomicBool,
    /// The workqueue of the workqueue backend (else none).
    wq: Wq,
    /// The CPU hotplug registration of the kthreads backend.
    #[pin]
    hotplug: Hotplug,
}

/// A pool of per-CPU worker kthreads.
///
/// Dropping the pool shuts it down (see [`Pool::shutdown`]).
pub struct Pool {
    inner: Arc<PoolInner>,
}

/// The monotonic clock, in nanoseconds.
pub(crate) fn now_ns() -> i64 {
    Ktime::ktime_get().to_ns()
}

impl Group {
    fn new(cpu: u32) -> Result<Arc<Group>> {
        Arc::pin_init(
            pin_init!(Group {
                cpu,
                state <- new_spinlock_bh!(GroupState {
                    queue: Queue::new(),
                    idle: 0,
                    stopping: false,
                }, "ksf_group"),
                cv <- new_condvar!("ksf_group_cv"),
                workers <- new_mutex!(KVec::new(), "ksf_group_workers"),
                nworkers: AtomicU32::new(0),
                online: AtomicBool::new(false),
                queued: AtomicU64::new(0),
                ran: AtomicU64::new(0),
                max_wait_ns: AtomicU64::new(0),
                spawned: AtomicU64::new(0),
                spawn_failed: AtomicU64::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Starts one more worker, bound to this group's CPU if it is online,
    /// else free to run on any CPU until the CPU comes up. The caller holds
    /// `workers` and keeps CPUs from coming or going (a hotplug callback,
    /// or [`hotplug::CpusReadLock`]).
    fn spawn_locked(self: &Arc<Self>, workers: &mut KVec<KThread<Worker>>) -> Result {
        workers.reserve(1, GFP_KERNEL)?;
        let thread = KThread::spawn(
            Some(self.cpu),
            c"ksf/%u",
            Worker::new(self.clone()),
            worker::main,
        )?;
        if !self.online.load(Ordering::Relaxed) {
            // Dropping the thread on error stops it.
            thread.bind(None)?;
        }
        self.nworkers.fetch_add(1, Ordering::Relaxed);
        self.spawned.fetch_add(1, Ordering::Relaxed);
        // Cannot fail: reserved above.
        workers.push(thread, GFP_KERNEL)?;
        Ok(())
    }

    fn stats(&self) -> GroupStats {
        GroupStats {
            cpu: self.cpu,
            queued: self.queued.load(Ordering::Relaxed),
            ran: self.ran.load(Ordering::Relaxed),
            max_wait_ns: self.max_wait_ns.load(Ordering::Relaxed),
            workers: self.nworkers.load(Ordering::Relaxed),
            spawned: self.spawned.load(Ordering::Relaxed),
            spawn_failed: self.spawn_failed.load(Ordering::Relaxed),
            online: self.online.load(Ordering::Relaxed),
        }
    }
}

impl Pool {
    /// Starts a pool with `cfg.min_per_cpu` workers on every online CPU.
    pub fn new(cfg: Config) -> Result<Pool> {
        cfg.validate()?;
        let ncpus = cpu::nr_cpu_ids();
        let mut groups = KVec::with_capacity(ncpus as usize, GFP_KERNEL)?;
        for cpu in 0..ncpus {
            groups.push(Group::new(cpu)?, GFP_KERNEL)?;
        }
        let wq = match cfg.backend {
            Backend::Kthreads => Wq::none(),
            Backend::Workqueue => Wq::new()?,
        };
        let inner = Arc::pin_init(
            pin_init!(PoolInner {
                cfg,
                groups,
                maint <- new_spinlock_bh!(MaintState { kicked: false }, "ksf_pool_maint"),
                maint_cv <- new_condvar!("ksf_pool_maint_cv"),
                maint_thread <- new_mutex!(None, "ksf_pool_maint_thread"),
                stopping: AtomicBool::new(false),
                maint_polling: AtomicBool::new(false),
                wq,
                hotplug <- Hotplug::new(),
            }),
            GFP_KERNEL,
        )?;
        let pool = Pool { inner };
        if cfg.backend == Backend::Workqueue {
            return Ok(pool);
        }
        // From here on, `Drop` joins whatever was started. The online
        // callback starts every online CPU's workers.
        Hotplug::register(&pool.inner)?;
        let maint = KThread::spawn(None, c"ksf-maint", pool.inner.clone(), worker::maintain)?;
        *pool.inner.maint_thread.lock() = Some(maint);
        Ok(pool)
    }

    /// The pool's configuration.
    pub fn config(&self) -> Config {
        self.inner.cfg
    }

    /// The `n`-th online CPU, counting round: spreads connections over
    /// the CPUs. (A CPU may go offline right after; its group is served
    /// anyway.)
    pub(crate) fn cpu_of(&self, n: u64) -> u32 {
        let online = || self.inner.groups.iter().filter(|g| cpu::cpu_online(g.cpu));
        let count = online().count().max(1) as u64;
        online().nth((n % count) as usize).map_or(0, |g| g.cpu)
    }

    /// The group serving `cpu`.
    fn group(&self, cpu: u32) -> &Arc<Group> {
        let groups = &self.inner.groups;
        // Every CPU id is below `nr_cpu_ids`, and a pool has a group for
        // each (`new` ran on one).
        groups.get(cpu as usize).unwrap_or_else(|| &groups[0])
    }

    /// Queues `item` on the group of the CPU this runs on. Callable from
    /// any context, softirq included; never allocates or sleeps.
    pub(crate) fn enqueue<T: HasTask>(&self, item: Arc<T>) {
        // A stale CPU id only picks another group.
        self.enqueue_on(cpu::current_cpu(), item)
    }

    /// Queues `item` on the group of `cpu`.
    ///
    /// Everything happens under the group's lock: once the lock is
    /// released a worker may run the item, and the item may be what keeps
    /// this pool alive, so nothing of the pool is touched after that.
    pub(crate) fn enqueue_on<T: HasTask>(&self, cpu: u32, item: Arc<T>) {
        let g = self.group(cpu);
        let link = TaskLink::into_raw(item);
        if self.inner.wq.active() {
            // SAFETY: A fresh link in no queue; the pool destroys the
            // workqueue (waiting for every run) before it goes away.
            unsafe { self.inner.wq.queue(g, link) };
            return;
        }
        let mut st = g.state.lock();
        if st.stopping {
            crate::ksf::warn(c"task queued on a pool that is shutting down");
        }
        // SAFETY: `link` is a fresh reference to an object whose link is in
        // no queue (`HasTask` owners queue only once at a time).
        unsafe { st.queue.push(link, now_ns()) };
        g.queued.fetch_add(1, Ordering::Relaxed);
        if st.idle > 0 {
            g.cv.notify_one();
        }
        // More work than idle workers: the maintenance thread watches the
        // group and adds a worker if the busy ones turn out to be blocked.
        if st.queue.len() > st.idle as usize
            && g.nworkers.load(Ordering::Relaxed) < self.inner.cfg.max_per_cpu
        {
            self.inner.kick();
        }
        drop(st);
    }

    /// Counters of every group that is online or has workers (the CPU
    /// went offline).
    pub fn stats(&self, out: &mut KVec<GroupStats>) -> Result {
        while vec::pop(out).is_some() {}
        for g in self.inner.groups.iter() {
            let mut s = g.stats();
            if self.inner.wq.active() {
                // The workqueue follows hotplug itself.
                s.online = cpu::cpu_online(g.cpu);
            }
            if s.online || s.workers > 0 {
                out.push(s, GFP_KERNEL)?;
            }
        }
        Ok(())
    }

    /// Stops the pool: workers run what is still queued, then every
    /// thread is joined. Idempotent.
    pub fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::Relaxed);
        // No hotplug callback runs after this.
        self.inner.hotplug.unregister();
        self.inner.wq.destroy();
        // Stop growing and shrinking first.
        let maint = self.inner.maint_thread.lock().take();
        if let Some(maint) = maint {
            self.inner.kick();
            maint.stop();
        }
        for g in self.inner.groups.iter() {
            g.state.lock().stopping = true;
            g.cv.notify_all();
            loop {
                let w = vec::pop(&mut g.workers.lock());
                let Some(w) = w else { break };
                w.stop();
                g.nworkers.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl PoolInner {
    /// Wakes the maintenance thread, unless it is polling.
    fn kick(&self) {
        if self.maint_polling.load(Ordering::SeqCst) {
            return;
        }
        let mut m = self.maint.lock();
        if !m.kicked {
            m.kicked = true;
            drop(m);
            self.maint_cv.notify_one();
        }
    }
}
