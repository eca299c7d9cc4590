// SPDX-License-Identifier: GPL-2.0

//! CPU hotplug: a pool's workers are unbound while their CPU is offline
//! and still run its group's tasks; they are bound again when it returns;
//! a CPU that comes online after the pool started gets workers; a worker
//! started while its CPU is offline is not bound to it.
//!
//! Each case takes the highest-numbered online CPU other than CPU 0 down
//! and up again (`remove_cpu`, `add_cpu`), so the guest needs two CPUs.

use core::sync::atomic::Ordering;

use kernel::alloc::KVec;
use kernel::sync::Arc;

use super::pool::{log, probe, Probe};
use super::wait_until;
use crate::ksf::cpu::{add_cpu, cpu_online, nr_cpu_ids, remove_cpu};
use crate::ksf::pool::{Config, GroupStats, Pool};

/// A task that records the CPU it ran on, after sleeping a while.
fn task(sleep_ms: u32) -> Option<Arc<Probe>> {
    probe(&log()?, 1, sleep_ms)
}

/// Runs a task on `cpu`'s group; the CPU it ran on.
fn run_on(pool: &Pool, cpu: u32) -> Option<u32> {
    let w = task(0)?;
    pool.enqueue_on(cpu, w.clone());
    wait_until(5000, || w.ran_on.load(Ordering::Relaxed) != u32::MAX)
        .then(|| w.ran_on.load(Ordering::Relaxed))
}

fn stats(pool: &Pool, cpu: u32) -> Option<GroupStats> {
    let mut v = KVec::new();
    pool.stats(&mut v).ok()?;
    v.iter().find(|s| s.cpu == cpu).copied()
}

/// The CPU the cases take down: the highest online one but CPU 0.
fn victim() -> Option<u32> {
    (1..nr_cpu_ids()).rev().find(|&c| cpu_online(c))
}

/// Takes `cpu` down; true on success.
fn down(cpu: u32) -> bool {
    remove_cpu(cpu).is_ok()
}

/// Brings `cpu` up; true if it is online afterwards.
fn up(cpu: u32) -> bool {
    add_cpu(cpu).is_ok() || cpu_online(cpu)
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn workers_follow_their_cpu_through_offline_and_online(t) {
        let Some(cpu) = victim() else { return check!(t, false) };
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        check_eq!(t, pool.workers_bound(cpu), (1, 1));
        check_eq!(t, run_on(&pool, cpu), Some(cpu));

        check!(t, down(cpu));
        check_eq!(t, stats(&pool, cpu).map(|s| (s.online, s.workers)), Some((false, 1)));
        check_eq!(t, pool.workers_bound(cpu), (0, 1));
        // Its group's tasks still run, elsewhere.
        let ran = run_on(&pool, cpu);
        check!(t, ran.is_some() && ran != Some(cpu));
        for n in 0..8 {
            check!(t, pool.cpu_of(n) != cpu);
        }

        check!(t, up(cpu));
        check_eq!(t, stats(&pool, cpu).map(|s| (s.online, s.workers)), Some((true, 1)));
        check_eq!(t, pool.workers_bound(cpu), (1, 1));
        check_eq!(t, run_on(&pool, cpu), Some(cpu));
        check_eq!(t, stats(&pool, cpu).map(|s| s.spawned), Some(1));
    }

    fn a_cpu_that_comes_online_later_gets_workers(t) {
        let Some(cpu) = victim() else { return check!(t, false) };
        check!(t, down(cpu));
        let pool = Pool::new(Config::DEFAULT);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return check!(t, up(cpu)) };
        check!(t, stats(&pool, cpu).is_none());
        check_eq!(t, pool.workers_bound(cpu), (0, 0));

        check!(t, up(cpu));
        check_eq!(t, pool.workers_bound(cpu), (1, 1));
        check_eq!(t, run_on(&pool, cpu), Some(cpu));
    }

    #[slow]
    fn a_worker_started_while_its_cpu_is_offline_is_bound_when_it_returns(t) {
        let Some(cpu) = victim() else { return check!(t, false) };
        let cfg = Config { min_per_cpu: 1, max_per_cpu: 2, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        check!(t, down(cpu));
        // Two tasks that block: the maintenance thread adds a worker to the
        // offline CPU's group, which must not be bound to it.
        let (Some(a), Some(b)) = (task(300), task(300)) else { return check!(t, up(cpu)) };
        pool.enqueue_on(cpu, a.clone());
        pool.enqueue_on(cpu, b.clone());
        check!(t, wait_until(5000, || b.ran_on.load(Ordering::Relaxed) != u32::MAX
            && a.ran_on.load(Ordering::Relaxed) != u32::MAX));
        check_eq!(t, pool.workers_bound(cpu), (0, 2));
        check!(t, a.ran_on.load(Ordering::Relaxed) != cpu);
        check!(t, b.ran_on.load(Ordering::Relaxed) != cpu);

        check!(t, up(cpu));
        check_eq!(t, pool.workers_bound(cpu), (2, 2));
        check_eq!(t, run_on(&pool, cpu), Some(cpu));
    }

    fn the_workqueue_backend_runs_an_offline_cpus_tasks(t) {
        let Some(cpu) = victim() else { return check!(t, false) };
        let cfg = Config { backend: crate::ksf::pool::Backend::Workqueue, ..Config::DEFAULT };
        let pool = Pool::new(cfg);
        check!(t, pool.is_ok());
        let Ok(pool) = pool else { return };
        check!(t, down(cpu));
        check!(t, run_on(&pool, cpu).is_some());
        check!(t, stats(&pool, cpu).is_none());
        check!(t, up(cpu));
        check_eq!(t, run_on(&pool, cpu), Some(cpu));
    }
}
