// SPDX-License-Identifier: GPL-2.0

//! Echo traffic for the fuzzer: messages of random sizes and contents,
//! cut into writes at random; every byte must come back, in order.

use crate::plan::{End, Expect, Plan};
use crate::rng::Rng;
use crate::wire::{null_call, record, Cred};

/// The largest message by default.
pub const MAX_MESSAGE: usize = 512 * 1024;

/// A message of a random size: mostly small, sometimes up to `max`
/// (each size class's range cut at `max`).
pub fn message(rng: &mut Rng, max: usize) -> (&'static str, Vec<u8>) {
    let (lo, hi) = match rng.below(20) {
        0..=5 => (1, 16),
        6..=13 => (17, 1500),
        14..=18 => (1501, 64 * 1024),
        _ => (64 * 1024 + 1, MAX_MESSAGE),
    };
    let len = rng.range(lo.min(max), hi.min(max));
    match rng.below(6) {
        0 => ("zeros", vec![0; len]),
        1 => ("ones", vec![0xff; len]),
        2 => {
            let call = record(&null_call(rng.u32(), Cred::None));
            (
                "rpc-calls",
                call.iter().copied().cycle().take(len).collect(),
            )
        }
        _ => ("random", rng.bytes(len)),
    }
}

/// A fuzzing plan: one to eight messages back to back, then EOF (one
/// plan in twenty ends with a reset instead, reading nothing).
pub fn plan(rng: &mut Rng, max: usize) -> Plan {
    let n = rng.range(1, 8);
    let mut bytes = Vec::new();
    let mut kinds = Vec::new();
    for _ in 0..n {
        let (kind, m) = message(rng, max);
        bytes.extend(m);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let (end, expect) = if rng.chance(1, 20) {
        (End::Reset, Expect::Nothing)
    } else {
        (End::Shutdown, Expect::Echo)
    };
    let mut p = Plan::new(kinds.join(","), bytes, end, expect).split(rng);
    p.records = n as u64;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        let (mut a, mut b) = (Rng::new(5), Rng::new(5));
        let mut big = 0;
        for _ in 0..300 {
            let (p, q) = (plan(&mut a, MAX_MESSAGE), plan(&mut b, MAX_MESSAGE));
            assert_eq!((&p.bytes, &p.writes), (&q.bytes, &q.writes));
            assert!((1..=8).contains(&p.records));
            assert!(!p.bytes.is_empty());
            big += usize::from(p.bytes.len() > 64 * 1024);
        }
        assert!(big > 10, "{big}");
    }

    #[test]
    fn max_message_caps_every_message() {
        let mut rng = Rng::new(7);
        let mut at_cap = 0;
        for _ in 0..300 {
            let (_, m) = message(&mut rng, 16 * 1024);
            assert!((1..=16 * 1024).contains(&m.len()), "{}", m.len());
            at_cap += usize::from(m.len() == 16 * 1024);
        }
        // The 64 KiB+ class, about one in twenty, is cut to the cap.
        assert!((5..60).contains(&at_cap), "{at_cap}");
    }
}
