// SPDX-License-Identifier: GPL-2.0

//! `ksfstress halfclose`: peers send calls (echo: messages), shut down
//! their sending side, and must still get every answer, then EOF.

use super::Ctx;
use crate::engine::{self, Tally};
use crate::model::Model;
use crate::mutate::call::valid_call;
use crate::opts::Proto;
use crate::plan::{End, Expect, Plan};
use crate::report::rate;
use crate::rng::Rng;
use crate::wire::record;

/// One peer's plan: `calls` valid calls (echo: messages of up to 8 KiB),
/// cut into writes at random, then EOF.
fn plan(rng: &mut Rng, proto: Proto, calls: usize, model: &Model) -> Plan {
    let mut bytes = Vec::new();
    for _ in 0..calls {
        match proto {
            Proto::Rpc => bytes.extend(record(&valid_call(rng))),
            Proto::Echo => {
                let len = rng.range(1, 8192);
                bytes.extend(rng.bytes(len));
            }
        }
    }
    let expect = match proto {
        Proto::Rpc => Expect::Rpc(model.expect(&bytes)),
        Proto::Echo => Expect::Echo,
    };
    let mut p = Plan::new("halfclose", bytes, End::Shutdown, expect).split(rng);
    p.records = calls as u64;
    p
}

pub fn run(cx: &mut Ctx) {
    let model = Model::new(1 << 20);
    let mut gen = cx.rng.fork();
    let campaign = cx.campaign(cx.o.conns);
    let (proto, count, calls) = (cx.o.proto, cx.o.count, cx.o.calls);
    let mut t = Tally::default();
    let mut issued = 0;
    let next = || {
        if issued >= count {
            return None;
        }
        issued += 1;
        Some(plan(&mut gen, proto, calls, &model))
    };
    let r = engine::run(&campaign, 0, next, &mut t);
    let secs = cx.end_campaign(&t, r);
    let what = if proto == Proto::Rpc {
        "calls"
    } else {
        "messages"
    };
    cx.report
        .kv("peers", t.plans)
        .kv(what, t.records)
        .kv("bytes_sent", t.bytes_sent)
        .kv("bytes_received", t.bytes_received)
        .kv("server_resets", t.server_resets)
        .kv("peers_per_sec", rate(t.plans, secs));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_answered() {
        let model = Model::new(1 << 20);
        let mut rng = Rng::new(4);
        for _ in 0..50 {
            let p = plan(&mut rng, Proto::Rpc, 10, &model);
            let Expect::Rpc(e) = &p.expect else { panic!() };
            assert_eq!((e.replies.len(), &e.closes), (10, &None));
        }
    }
}
