// SPDX-License-Identifier: GPL-2.0

//! The thread pool: tasks run on the CPU they were queued for, in order,
//! all of them; groups grow when their workers block and shrink when idle;
//! shutdown runs what is queued and joins.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::sync::Arc;

use super::super::kthread::{cpu_online, current_cpu, nr_cpu_ids, sleep_ms, KThread};
use super::super::pool::task::{impl_has_task, Runnable, TaskLink};
use super::super::pool::{now_ns, Backend, Config, GroupStats, Pool};
use super::wait_until;

/// A task that records where and in which order it ran.
struct Probe {
    link: TaskLink,
    id: u32,
    sleep_ms: u32,
    /// Keeps its CPU busy this long (never sleeping).
    spin_us: u32,
    ran_on: AtomicU32,
    log: Arc<Log>,
}

struct Log {
    runs: AtomicU32,
    /// Order check: each probe stores the count it saw before it.
    last_id: AtomicU64,
    in_order: AtomicU32,
}

impl_has_task!(Probe, link);

impl Runnable for Probe {
    fn run(self: Arc<Self>) {
        self.ran_on.store(current_cpu(), Ordering::Relaxed);
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

fn log() -> Option<Arc<Log>> {
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

fn probe(log: &Arc<Log>, id: u32, sleep_ms: u32) -> Option<Arc<Probe>> {
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
    (0..nr_cpu_ids()).find(|&c| cpu_online(c)).unwrap_or(0)
}

test_cases! {
    testing = super::super::proto::testing;

    fn runs_on_the_cpu_it_was_queued_for(t) {
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        let Some(log) = log() else { return check!(t, false) };
        for cpu in (0..nr_cpu_ids()).filter(|&c| cpu_online(c)) {
            let Some(p) = probe(&log, 1, 0) else { return check!(t, false) };
            log.last_id.store(0, Ordering::Relaxed);
            pool.enqueue_on(cpu, p.clone());
            check!(t, wait_until(2000, || p.ran_on.load(Ordering::Relaxed) != u32::MAX));
            check_eq!(t, p.ran_on.load(Ordering::Relaxed), cpu);
        }
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
        let s = group_stats(&pool, cpu);
        check_eq!(t, s.ran, 1000);
        check_eq!(t, s.queued, 1000);
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
        for cpu in (0..nr_cpu_ids()).filter(|&c| cpu_online(c)) {
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
