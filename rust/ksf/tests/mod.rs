// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the framework itself (kernel only; the codecs' cases are
//! in `proto`, shared with the host).

pub mod addr;
pub mod hotplug;
pub mod limits;
pub mod pool;
pub mod smc;
pub mod socket;
pub mod svc;
pub mod upcall;

use crate::ksf::kthread::sleep_ms;

/// Polls `cond` every millisecond for up to `ms` milliseconds.
pub(crate) fn wait_until(ms: u32, mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..ms {
        if cond() {
            return true;
        }
        sleep_ms(1);
    }
    cond()
}

// `struct socket` embeds structs that are empty in this configuration
// (as in `ffi`), which the lint flags.
#[allow(improper_ctypes)]
extern "C" {
    fn ksf_test_signal_self();
    fn ksf_test_signal_pending() -> bool;
    fn ksf_test_flush_signals();
    fn ksf_test_cpu_ns() -> u64;
    fn ksf_test_policy() -> u32;
    fn ksf_test_sock_no_linger(sock: *mut kernel::bindings::socket);
    fn ksf_test_sock_offer_smc(sock: *mut kernel::bindings::socket);
}

/// Makes a signal pending on the calling thread (a KUnit case's kthread),
/// as `rmmod`'s context may have one; [`flush_signals`] clears it.
pub(crate) fn signal_self() {
    // SAFETY: Acts on the calling thread only; no precondition.
    unsafe { ksf_test_signal_self() }
}

/// Whether a signal is pending on the calling thread.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: Reads the calling thread's flags.
    unsafe { ksf_test_signal_pending() }
}

/// Drops the calling thread's pending signals (see [`signal_self`]).
pub(crate) fn flush_signals() {
    // SAFETY: Acts on the calling thread only; no precondition.
    unsafe { ksf_test_flush_signals() }
}

/// CPU time the calling thread has used, in nanoseconds (up to its last
/// tick or context switch).
pub(crate) fn cpu_ns() -> u64 {
    // SAFETY: Reads the calling thread's scheduler statistics.
    unsafe { ksf_test_cpu_ns() }
}

/// Makes dropping `s` reset its connection (`SO_LINGER` of 0 s) instead
/// of closing it in order.
pub(crate) fn reset_on_drop(s: &crate::ksf::socket::Socket) {
    // SAFETY: `s` is a valid socket (type invariant of `Socket`), with
    // its `sk` set for its whole life.
    unsafe { ksf_test_sock_no_linger(s.as_ptr()) }
}

/// Makes `s`'s SYN offer SMC, as SMC's own sockets do (`s`: a TCP socket
/// not connected yet).
pub(crate) fn offer_smc(s: &crate::ksf::socket::Socket) {
    // SAFETY: `s` is a valid socket (type invariant of `Socket`), with
    // its `sk` set for its whole life.
    unsafe { ksf_test_sock_offer_smc(s.as_ptr()) }
}

/// The calling thread's scheduling policy (`SCHED_BATCH` is 3).
pub(crate) fn policy() -> u32 {
    // SAFETY: Reads the calling thread's own policy.
    unsafe { ksf_test_policy() }
}
