// SPDX-License-Identifier: GPL-2.0

//! Clocks (monotonic, per-thread and per-process CPU time) and thread
//! pinning.

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
use rustix::time::{clock_gettime, ClockId};
use std::io;

fn clock_ns(clock: ClockId) -> u64 {
    let ts = clock_gettime(clock);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds of `CLOCK_MONOTONIC` (not affected by clock changes).
#[inline]
pub fn monotonic_ns() -> u64 {
    clock_ns(ClockId::Monotonic)
}

/// CPU time consumed by the calling thread, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`: user and system).
#[inline]
pub fn thread_cpu_ns() -> u64 {
    clock_ns(ClockId::ThreadCPUTime)
}

/// CPU time consumed by the whole process, in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    clock_ns(ClockId::ProcessCPUTime)
}

/// The number of CPU ids a CPU set holds: valid ids are below it.
pub const CPU_SETSIZE: usize = CpuSet::MAX_CPU;

/// Pins the calling thread to `cpu` (`sched_setaffinity`).
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= CPU_SETSIZE {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let mut set = CpuSet::new();
    set.set(cpu);
    Ok(sched_setaffinity(None, &set)?)
}

/// The CPUs the calling thread may run on (`sched_getaffinity`).
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(None)?;
    Ok((0..CPU_SETSIZE).filter(|&c| set.is_set(c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_advances() {
        let a = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = monotonic_ns();
        assert!(b - a >= 2_000_000, "{a} {b}");
    }

    #[test]
    fn thread_cpu_time_counts_only_this_thread() {
        let start = thread_cpu_ns();
        let mut x = 1u64;
        let t = monotonic_ns();
        // Spin until 5 ms of CPU were used (bounded by 10 s of wall time).
        while thread_cpu_ns() - start < 5_000_000 && monotonic_ns() - t < 10_000_000_000 {
            for _ in 0..1000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
        }
        std::hint::black_box(x);
        let busy = thread_cpu_ns() - start;
        assert!(busy >= 5_000_000, "busy loop used {busy} ns of CPU");
        // A sleeping thread uses (almost) none.
        let idle = std::thread::spawn(|| {
            let s = thread_cpu_ns();
            std::thread::sleep(std::time::Duration::from_millis(20));
            thread_cpu_ns() - s
        })
        .join()
        .unwrap();
        assert!(idle < 5_000_000, "sleeping thread used {idle} ns");
        assert!(process_cpu_ns() >= busy);
    }

    #[test]
    fn pinning() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
        let last = *cpus.last().unwrap();
        std::thread::spawn(move || {
            pin_current_thread(last).unwrap();
            assert_eq!(allowed_cpus().unwrap(), vec![last]);
        })
        .join()
        .unwrap();
        assert!(pin_current_thread(CPU_SETSIZE).is_err());
    }
}
