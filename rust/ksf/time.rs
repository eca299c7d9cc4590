// SPDX-License-Identifier: GPL-2.0

//! The wall clock, which the 6.12 kernel crate does not offer.

use kernel::bindings;

/// The time of day now (`CLOCK_REALTIME`): seconds and nanoseconds since
/// the epoch.
pub fn realtime() -> (i64, u32) {
    let mut ts = bindings::timespec64 {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid place for the result.
    unsafe { bindings::ktime_get_real_ts64(&mut ts) };
    // Always below a billion.
    (ts.tv_sec, ts.tv_nsec as u32)
}
