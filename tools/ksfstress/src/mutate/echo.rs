// SPDX-License-Identifier: GPL-2.0

//! Echo traffic for the fuzzer: messages of random sizes and contents,
//! cut into writes at random; every byte must come back, in order.

use crate::plan::{End, Expect, Plan};
use crate::rng::Rng;
use crate::wire::{null_call, record, Cred};

/// A message of a random size: mostly small, sometimes up to 512 KiB.
pub fn message(rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let len = match rng.below(20) {
        0..=5 => rng.range(1, 16),
        6..=13 => rng.range(17, 1500),
        14..=18 => rng.range(1501, 64 * 1024),
        _ => rng.range(64 * 1024 + 1, 512 * 1024),
    };
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
pub fn plan(rng: &mut Rng) -> Plan {
    let n = rng.range(1, 8);
    let mut bytes = Vec::new();
    let mut kinds = Vec::new();
    for _ in 0..n {
        let (kind, m) = message(rng);
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
            let (p, q) = (plan(&mut a), plan(&mut b));
            assert_eq!((&p.bytes, &p.writes), (&q.bytes, &q.writes));
            assert!((1..=8).contains(&p.records));
            assert!(!p.bytes.is_empty());
            big += usize::from(p.bytes.len() > 64 * 1024);
        }
        assert!(big > 10, "{big}");
    }
}
