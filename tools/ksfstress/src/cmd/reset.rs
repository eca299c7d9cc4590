// SPDX-License-Identifier: GPL-2.0

//! `ksfstress reset`: peers send part of a record (or calls whose replies
//! they never read) and reset the connection; then a good-client check.

use super::Ctx;
use crate::engine::{self, Tally};
use crate::mutate::call::valid_call;
use crate::opts::Proto;
use crate::plan::{End, Expect, Plan};
use crate::report::rate;
use crate::rng::Rng;
use crate::wire::{raw_mark, record};

/// The bytes a resetting RPC peer sends, and what they are.
fn rpc_bytes(rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let call = record(&valid_call(rng));
    let partial = |rng: &mut Rng| call[..rng.range(5, call.len() - 1)].to_vec();
    match rng.below(5) {
        0 => ("partial-mark", call[..rng.range(1, 3)].to_vec()),
        1 => ("partial-payload", partial(rng)),
        2 => {
            let mut b: Vec<u8> = Vec::new();
            for _ in 0..rng.range(1, 20) {
                b.extend(record(&valid_call(rng)));
            }
            b.extend(partial(rng));
            ("calls-then-partial", b)
        }
        3 => {
            let mut b: Vec<u8> = Vec::new();
            for _ in 0..rng.range(200, 2000) {
                b.extend(record(&valid_call(rng)));
            }
            ("unread-replies", b)
        }
        _ => {
            let mut b = raw_mark(rng.range(100, 4000) as u32, true).to_vec();
            let n = rng.range(1, 99);
            b.extend(rng.bytes(n));
            ("mark-then-partial", b)
        }
    }
}

/// One resetting peer: its bytes, cut into writes, then a reset (after a
/// short pause one time in two, so the server has read them).
fn plan(rng: &mut Rng, proto: Proto) -> Plan {
    let (kind, bytes) = match proto {
        Proto::Rpc => rpc_bytes(rng),
        Proto::Echo => {
            let len = rng.range(1, 256 * 1024);
            ("unread-echo", rng.bytes(len))
        }
    };
    let mut p = Plan::new(kind, bytes, End::Reset, Expect::Nothing).split(rng);
    if rng.chance(1, 2) {
        p.end_delay_us = rng.range(100, 3000) as u32;
    }
    p.records = 1;
    p
}

pub fn run(cx: &mut Ctx) {
    let mut gen = cx.rng.fork();
    let campaign = cx.campaign(cx.o.conns);
    let (proto, count) = (cx.o.proto, cx.o.count);
    let mut t = Tally::default();
    let mut issued = 0;
    let next = || {
        if issued >= count {
            return None;
        }
        issued += 1;
        Some(plan(&mut gen, proto))
    };
    let r = engine::run(&campaign, 0, next, &mut t);
    let secs = cx.end_campaign(&t, r);
    cx.report
        .kv("peers", t.plans)
        .kv("bytes_sent", t.bytes_sent)
        .kv("peers_per_sec", rate(t.plans, secs));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_end_with_a_reset() {
        let mut rng = Rng::new(8);
        for proto in [Proto::Rpc, Proto::Echo] {
            for _ in 0..100 {
                let p = plan(&mut rng, proto);
                assert_eq!((p.end, &p.expect), (End::Reset, &Expect::Nothing));
                assert!(!p.bytes.is_empty());
            }
        }
    }
}
