// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of the framework itself (kernel only; the codecs' cases are
//! in `proto`, shared with the host).

pub mod addr;
pub mod limits;
pub mod pool;
pub mod socket;
pub mod svc;
pub mod upcall;

use super::kthread::sleep_ms;

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
