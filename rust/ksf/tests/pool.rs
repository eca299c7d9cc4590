// SPDX-License-Identifier: GPL-2.0

//! The thread pool: tasks run on the CPU they were queued for, in order,
//! all of them; groups grow when their workers block and shrink when idle;
//! shutdown runs what is queued and joins.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::sync::Arc;

use super::wait_until;
use crate::ksf::cpu::{current_cpu, online_cpus};
use crate::ksf::kthread::{sleep_ms, KThread};
use crate::ksf::pool::task::{impl_has_task, Runnable, TaskLink};
use crate::ksf::pool::{now_ns, Backend, Config, GroupStats, Pool};

/// A task that records where and in which order it ran (also used by the
/// hotplug cases).
pub(super) struct Probe {
    link: TaskLink,
    id: u32,
    sleep_ms: u32,
    /// Keeps its CPU busy this long (never sleeping).
    spin_us: u32,
    pub(super) ran_on: AtomicU32,
    /// The scheduling policy of the thread that ran it.
    policy: AtomicU32,
    log: Arc<Log>,
}

pub(super) struct Log {
    runs: AtomicU32,
    /// Order check: each probe stores the count it saw before it.
    last_id: AtomicU64,
    in_order: AtomicU32,
}

impl_has_task!(Probe, link);

impl Runnable for Probe {
    fn run(self: Arc<Self>) {
        self.policy.store(super::policy(), Ordering::Relaxed);
        // Release: who sees `ran_on` set sees `policy` too.
        self.ran_on.store(current_cpu(), Ordering::Release);
        if self.sleep_ms > 0 {
            sleep_ms(self.sleep_ms);
        }
        let end = now_ns() + i64::from(self.spin_us) * 1000;
        while now_ns() < end {
            core::hint::spin_loop();
        }
        let prev = self.log.last_id.swap(u64::from(self.id), Ordering::Relaxed);
        if prev + 1 != u64::from(self.id) {
            self.log.in_order.store(0, Ordering::Relaxed);
        }
        self.log.runs.fetch_add(1, Ordering::Relaxed);
    }
}

pub(super) fn log() -> Option<Arc<Log>> {
    Arc::new(
        Log {
            runs: AtomicU32::new(0),
            last_id: AtomicU64::new(0),
            in_order: AtomicU32::new(1),
        },
        GFP_KERNEL,
    )
    .ok()
}

pub(super) fn probe(log: &Arc<Log>, id: u32, sleep_ms: u32) -> Option<Arc<Probe>> {
    spinner(log, id, sleep_ms, 0)
}

fn spinner(log: &Arc<Log>, id: u32, sleep_ms: u32, spin_us: u32) -> Option<Arc<Probe>> {
    Arc::new(
        Probe {
            link: TaskLink::new::<Probe>(),
            id,
            sleep_ms,
            spin_us,
            ran_on: AtomicU32::new(u32::MAX),
            policy: AtomicU32::new(u32::MAX),
            log: log.clone(),
        },
        GFP_KERNEL,
    )
    .ok()
}

fn group_stats(pool: &Pool, cpu: u32) -> GroupStats {
    let mut v = KVec::new();
    let _ = pool.stats(&mut v);
    v.iter().find(|s| s.cpu == cpu).copied().unwrap_or_default()
}

fn first_cpu() -> u32 {
    online_cpus().next().unwrap_or(0)
}

/// An online CPU other than this thread's, if there is one.
fn other_cpu() -> u32 {
    let me = current_cpu();
    online_cpus().find(|&c| c != me).unwrap_or_else(first_cpu)
}

/// Milliseconds since `start_ns`.
fn ms_since(start_ns: i64) -> i64 {
    (now_ns() - start_ns) / 1_000_000
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn runs_on_the_cpu_it_was_queued_for(t) {
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        for cpu in online_cpus() {
            let Some(p) = probe(&log, 1, 0) else { return check!(t, false) };
            log.last_id.store(0, Ordering::Relaxed);
            pool.enqueue_on(cpu, p.clone());
            check!(t, wait_until(2000, || p.ran_on.load(Ordering::Relaxed) != u32::MAX));
            check_eq!(t, p.ran_on.load(Ordering::Relaxed), cpu);
        }
    }

    fn workers_do_not_preempt_the_thread_they_wake_on(t) {
        // SCHED_BATCH (include/uapi/linux/sched.h): a woken worker does
        // not preempt the sender that queued its task.
        const SCHED_BATCH: u32 = 3;
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let Some(p) = probe(&log, 1, 0) else { return check!(t, false) };
        pool.enqueue(p.clone());
        check!(t, wait_until(2000, || p.ran_on.load(Ordering::Acquire) != u32::MAX));
        check_eq!(t, p.policy.load(Ordering::Relaxed), SCHED_BATCH);
    }

    fn runs_everything_in_order(t) {
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let cpu = first_cpu();
        for id in 1..=1000 {
            let Some(p) = probe(&log, id, 0) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(5000, || log.runs.load(Ordering::Relaxed) == 1000));
        check_eq!(t, log.in_order.load(Ordering::Relaxed), 1);
        // `ran` counts a task once its run has returned, just after the
        // probe counted itself.
        check!(t, wait_until(1000, || group_stats(&pool, cpu).ran == 1000));
        check_eq!(t, group_stats(&pool, cpu).queued, 1000);
    }

    #[slow]
    fn grows_when_blocked_and_shrinks_when_idle(t) {
        let cfg = Config { min_per_cpu: 1, max_per_cpu: 3, idle_timeout_ms: 200, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let cpu = first_cpu();
        // Three tasks that sleep (block) for 300 ms each: one worker alone
        // would take 900 ms; the pool must add workers.
        for id in 1..=3 {
            let Some(p) = probe(&log, id, 300) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(3000, || log.runs.load(Ordering::Relaxed) == 3));
        let s = group_stats(&pool, cpu);
        check!(t, s.spawned >= 2);
        check!(t, s.spawned <= 3);
        // Idle for longer than the timeout: back to the minimum.
        check!(t, wait_until(5000, || group_stats(&pool, cpu).workers == 1));
    }

    #[slow]
    fn every_idle_worker_retires_in_one_pass(t) {
        let cfg = Config { min_per_cpu: 1, max_per_cpu: 6, idle_timeout_ms: 300, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let cpu = first_cpu();
        for id in 1..=6 {
            let Some(p) = probe(&log, id, 600) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(5000, || log.runs.load(Ordering::Relaxed) == 6));
        let grown = group_stats(&pool, cpu).workers;
        check!(t, grown >= 4);
        // All go idle now. Every one above the minimum retires at the
        // first maintenance pass after the timeout: within the timeout
        // and one idle tick (1 s). One per pass took a tick each, as a
        // retirement's wake-up restarted the others' idle time.
        let start = now_ns();
        check!(t, wait_until(5000, || group_stats(&pool, cpu).workers == 1));
        let ms = ms_since(start);
        check!(t, ms < 2500);
        sleep_ms(400);
        check_eq!(t, group_stats(&pool, cpu).workers, 1);
    }

    #[slow]
    fn retiring_worker_takes_no_more_work(t) {
        let cfg = Config { min_per_cpu: 1, max_per_cpu: 3, idle_timeout_ms: 300, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(grow_log) = log() else { return check!(t, false) };
        let cpu = other_cpu();
        // Three workers: three tasks that block.
        for id in 1..=3 {
            let Some(p) = probe(&grow_log, id, 200) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(3000, || grow_log.runs.load(Ordering::Relaxed) == 3));
        let s = group_stats(&pool, cpu);
        check!(t, s.workers >= 2);
        let retiring = u64::from(s.workers) - 1;
        let retired = s.spawned - u64::from(s.workers);
        // One worker keeps the CPU for 2 s (no preemption: the others
        // cannot run), while three blocking tasks wait behind it. The
        // idle workers pass the idle timeout meanwhile and are asked to
        // retire; they wake when the CPU is free, with work queued.
        let Some(spin_log) = log() else { return check!(t, false) };
        let Some(spin) = spinner(&spin_log, 1, 0, 2_000_000) else { return check!(t, false) };
        pool.enqueue_on(cpu, spin);
        let Some(blocked_log) = log() else { return check!(t, false) };
        for id in 1..=3 {
            let Some(p) = probe(&blocked_log, id, 1000) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(6000, || spin_log.runs.load(Ordering::Relaxed) == 1));
        // They leave at once, taking none of it: the maintenance thread,
        // which waits for each, is not held up for a task (1 s here).
        let start = now_ns();
        let gone = || {
            let s = group_stats(&pool, cpu);
            s.spawned - u64::from(s.workers) - retired
        };
        check!(t, wait_until(3000, || gone() == retiring));
        let ms = ms_since(start);
        check!(t, ms < 500);
        // The work left ran all the same, on the remaining worker and
        // those the pool added for it.
        check!(t, wait_until(5000, || blocked_log.runs.load(Ordering::Relaxed) == 3));
        check!(t, group_stats(&pool, cpu).workers >= 1);
    }

    #[slow]
    fn busy_workers_give_up_their_cpu(t) {
        // A kernel without preemption never takes the CPU from a kthread:
        // a worker with 3 s of back-to-back work that never sleeps must
        // still let another thread bound to its CPU run (the pool once
        // starved ksoftirqd and its own threads until a soft lockup).
        let cfg = Config { min_per_cpu: 1, max_per_cpu: 1, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let cpu = first_cpu();
        for id in 1..=3000 {
            let Some(p) = spinner(&log, id, 0, 1000) else { return check!(t, false) };
            pool.enqueue_on(cpu, p);
        }
        check!(t, wait_until(2000, || log.runs.load(Ordering::Relaxed) > 0));
        // The thread records how many tasks had run when it got the CPU.
        let seen = Arc::new(AtomicU32::new(u32::MAX), GFP_KERNEL);
        check!(t, seen.is_ok());
        let Ok(seen) = seen else { return };
        let th = KThread::spawn(Some(cpu), c"ksf-test-bound", (log.clone(), seen.clone()), |d| {
            d.1.store(d.0.runs.load(Ordering::Relaxed), Ordering::Relaxed);
        });
        check!(t, th.is_ok());
        check!(t, wait_until(1500, || seen.load(Ordering::Relaxed) != u32::MAX));
        check!(t, seen.load(Ordering::Relaxed) < 3000);
        drop(th);
        pool.shutdown();
        check_eq!(t, log.runs.load(Ordering::Relaxed), 3000);
    }

    fn shutdown_runs_queued_tasks(t) {
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        for id in 1..=100 {
            let Some(p) = probe(&log, id, 0) else { return check!(t, false) };
            pool.enqueue_on(first_cpu(), p);
        }
        pool.shutdown();
        check_eq!(t, log.runs.load(Ordering::Relaxed), 100);
        drop(pool);
    }

    fn workqueue_runs_everything_on_its_cpu(t) {
        let pool = Pool::new(Config { backend: Backend::Workqueue, ..Config::DEFAULT });
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        let mut total = 0u64;
        for cpu in online_cpus() {
            let mut probes = KVec::new();
            for id in 1..=500 {
                let Some(p) = probe(&log, id, 0) else { return check!(t, false) };
                pool.enqueue_on(cpu, p.clone());
                check!(t, probes.push(p, GFP_KERNEL).is_ok());
            }
            total += 500;
            check!(t, wait_until(5000, || u64::from(log.runs.load(Ordering::Relaxed)) == total));
            check!(t, probes.iter().all(|p| p.ran_on.load(Ordering::Relaxed) == cpu));
            let s = group_stats(&pool, cpu);
            check_eq!(t, s.queued, 500);
            check_eq!(t, s.ran, 500);
            check_eq!(t, s.workers, 0);
        }
    }

    fn workqueue_shutdown_runs_queued_tasks(t) {
        let pool = Pool::new(Config { backend: Backend::Workqueue, ..Config::DEFAULT });
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        for id in 1..=100 {
            let Some(p) = probe(&log, id, if id % 10 == 0 { 5 } else { 0 }) else {
                return check!(t, false);
            };
            pool.enqueue_on(first_cpu(), p);
        }
        pool.shutdown();
        check_eq!(t, log.runs.load(Ordering::Relaxed), 100);
        // Idempotent, and `Drop` shuts down again.
        pool.shutdown();
        drop(pool);
    }

    fn rejects_bad_config(t) {
        let bad = [
            Config { min_per_cpu: 0, ..Config::DEFAULT },
            Config { min_per_cpu: 4, max_per_cpu: 2, ..Config::DEFAULT },
            Config { max_per_cpu: 1000, ..Config::DEFAULT },
            Config { idle_timeout_ms: 0, ..Config::DEFAULT },
        ];
        for cfg in bad {
            check!(t, Pool::new(cfg).is_err());
        }
    }
}
