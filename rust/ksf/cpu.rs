// SPDX-License-Identifier: GPL-2.0

//! CPUs: ids, the online mask, hotplug. The one place the framework and
//! its tests ask the kernel about CPUs (names as in `linux/cpumask.h` and
//! `linux/cpu.h`).

use crate::ksf::ffi;
use kernel::bindings;

/// The CPU the caller runs on (`raw_smp_processor_id()`; may change right
/// after, unless the caller is pinned).
pub fn current_cpu() -> u32 {
    // SAFETY: Reads the current CPU id.
    unsafe { ffi::ksf_cpu() }
}

/// Whether `cpu` is online (`cpu_online()`).
pub fn cpu_online(cpu: u32) -> bool {
    // SAFETY: Reads the online mask; any id is accepted.
    unsafe { ffi::ksf_cpu_online(cpu) }
}

/// One more than the highest possible CPU id (`nr_cpu_ids`).
pub fn nr_cpu_ids() -> u32 {
    // SAFETY: Reads a kernel variable.
    unsafe { ffi::ksf_nr_cpu_ids() }
}

/// The online CPUs, lowest first (`for_each_online_cpu`), as the mask is
/// when each is reached.
pub fn online_cpus() -> impl Iterator<Item = u32> {
    (0..nr_cpu_ids()).filter(|&c| cpu_online(c))
}

/// Takes `cpu` offline (`remove_cpu()`); process context, no lock held.
pub fn remove_cpu(cpu: u32) -> kernel::error::Result {
    // SAFETY: Process context with no lock held, as the callers are; any
    // CPU id is accepted (an invalid one is an error).
    kernel::error::to_result(unsafe { bindings::remove_cpu(cpu) })
}

/// Brings `cpu` online (`add_cpu()`); process context, no lock held.
pub fn add_cpu(cpu: u32) -> kernel::error::Result {
    // SAFETY: As for `remove_cpu`.
    kernel::error::to_result(unsafe { bindings::add_cpu(cpu) })
}
