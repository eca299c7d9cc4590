// SPDX-License-Identifier: GPL-2.0

//! A plan: everything one connection of a campaign does, decided before
//! it starts (so a seed reproduces it): the bytes, how they are cut into
//! writes, how the connection ends, and what must come back.

use crate::model::Expected;
use crate::rng::Rng;

/// One write: `len` bytes, after a pause of `delay_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub len: usize,
    pub delay_us: u32,
}

/// How the client ends the connection once everything is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// `shutdown(SHUT_WR)`, then read until the server closes.
    Shutdown,
    /// Close at once with `SO_LINGER` 0 (a reset), reading nothing.
    Reset,
}

/// What the server must send back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// RPC replies as the model says; then EOF, early if it says so.
    Rpc(Expected),
    /// Every byte sent, in order, then EOF after ours.
    Echo,
    /// Nothing is read.
    Nothing,
}

/// One connection's traffic.
#[derive(Clone, Debug)]
pub struct Plan {
    /// What the plan tests, for messages ("mark-huge", "halfclose", ...).
    pub kind: String,
    pub bytes: Vec<u8>,
    /// Covers `bytes` exactly.
    pub writes: Vec<Chunk>,
    pub end: End,
    /// Pause between the last write and the end.
    pub end_delay_us: u32,
    pub expect: Expect,
    /// Mutated records (RPC) or messages (echo) in the plan.
    pub records: u64,
    /// Valid calls in the plan.
    pub calls: u64,
    /// NFSv3 calls (valid or not) among the records.
    pub nfs: u64,
    /// The replies the model expects to them: `GARBAGE_ARGS`, `NFS3_OK`,
    /// another NFS status.
    pub nfs_replies: [u64; 3],
}

impl Plan {
    /// A plan sending `bytes` in one write.
    pub fn new(kind: impl Into<String>, bytes: Vec<u8>, end: End, expect: Expect) -> Plan {
        let writes = vec![Chunk {
            len: bytes.len(),
            delay_us: 0,
        }];
        Plan {
            kind: kind.into(),
            bytes,
            writes,
            end,
            end_delay_us: 0,
            expect,
            records: 0,
            calls: 0,
            nfs: 0,
            nfs_replies: [0; 3],
        }
    }

    /// Cuts the bytes into writes at random: in one piece, at a few random
    /// offsets, or at every byte (short plans only), sometimes with short
    /// pauses between the writes.
    pub fn split(mut self, rng: &mut Rng) -> Plan {
        let len = self.bytes.len();
        let cuts = match rng.below(20) {
            0..=9 => 0,
            10..=16 => rng.range(1, 7),
            _ if len <= 256 => len.saturating_sub(1),
            _ => rng.range(16, 64),
        };
        self.writes = split_at_random(rng, len, cuts);
        // Pauses between at most 64 writes: a record sent a byte at a
        // time with pauses can trickle in for longer than the server's
        // request_timeout (30 s) on the debug guest's loopback, and be
        // closed for it (seen with a 225-byte plan: 121 bytes in 31 s).
        if self.writes.len() <= 64 && rng.chance(1, 8) {
            for w in &mut self.writes {
                if rng.chance(1, 3) {
                    w.delay_us = rng.range(50, 2000) as u32;
                }
            }
        }
        self
    }
}

/// `cuts` random cut points (fewer when `len` is small) splitting `len`
/// bytes into writes; every byte when `cuts >= len - 1`.
pub fn split_at_random(rng: &mut Rng, len: usize, cuts: usize) -> Vec<Chunk> {
    let mut at: Vec<usize> = if cuts + 1 >= len {
        (1..len).collect()
    } else {
        (0..cuts).map(|_| rng.range(1, len - 1)).collect()
    };
    at.sort_unstable();
    at.dedup();
    at.push(len);
    let mut prev = 0;
    at.into_iter()
        .map(|cut| {
            let len = cut - prev;
            prev = cut;
            Chunk { len, delay_us: 0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(w: &[Chunk]) -> usize {
        w.iter().map(|c| c.len).sum()
    }

    #[test]
    fn splits_cover_the_bytes() {
        let mut rng = Rng::new(3);
        for len in [1, 2, 5, 44, 300, 70_000] {
            for cuts in [0, 1, 3, 50, 100_000] {
                let w = split_at_random(&mut rng, len, cuts);
                assert_eq!(total(&w), len, "{len} {cuts}");
                assert!(w.iter().all(|c| c.len > 0));
            }
            let p = Plan::new("t", vec![0; len], End::Shutdown, Expect::Echo);
            for _ in 0..50 {
                assert_eq!(total(&p.clone().split(&mut rng).writes), len);
            }
        }
        assert_eq!(split_at_random(&mut rng, 4, 3).len(), 4);
        assert_eq!(
            split_at_random(&mut rng, 0, 3),
            vec![Chunk {
                len: 0,
                delay_us: 0
            }]
        );
    }
}
