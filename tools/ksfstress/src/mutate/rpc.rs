// SPDX-License-Identifier: GPL-2.0

//! The fuzzer's RPC plans: valid calls mixed with [`super::call`]'s bad
//! ones, cut into fragments and followed by [`super::marks`]'s broken
//! streams, each plan carrying the model's verdict on its bytes.

use super::call::{bad_call, valid_call};
use super::marks::{bad_stream, frame};
use super::nfs3::nfs_call;
use crate::model::{Expected, Model};
use crate::plan::{End, Expect, Plan};
use crate::rng::Rng;
use crate::wire::{null_call, raw_mark, record, Cred};
use ksf_proto::rpc::{AcceptStat, ReplyKind};

/// A fuzzing plan: one to six records, each a valid call or a bad one,
/// then, one time in two, a broken stream (sometimes followed by valid
/// calls). One plan in 64 is a long pipeline of valid calls ended by a
/// bad record: the server must still send every reply before closing.
/// With an export, half the records are [`super::nfs3`]'s NFSv3 calls.
pub fn plan(rng: &mut Rng, model: &Model) -> Plan {
    let mut bytes = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    let (mut records, mut calls, mut nfs) = (0, 0, 0);
    if rng.chance(1, 64) {
        calls = rng.range(450, 1200) as u64;
        for _ in 0..calls {
            bytes.extend(record(&null_call(rng.u32(), Cred::None)));
        }
        bytes.extend(raw_mark(0, true));
        kinds.push("pipeline-then-empty-record");
        records = 1;
    } else {
        for _ in 0..rng.range(1, 6) {
            if let Some(export) = model.export().filter(|_| rng.chance(1, 2)) {
                let (kind, body) = nfs_call(rng, &export);
                bytes.extend(frame(rng, &body));
                kinds.push(kind);
                records += 1;
                nfs += 1;
            } else if rng.chance(2, 5) {
                let call = valid_call(rng);
                bytes.extend(frame(rng, &call));
                calls += 1;
            } else {
                let (kind, body) = bad_call(rng);
                bytes.extend(frame(rng, &body));
                kinds.push(kind);
                records += 1;
            }
        }
        if rng.chance(1, 2) {
            let (kind, b) = bad_stream(rng, model);
            bytes.extend(b);
            kinds.push(kind);
            records += 1;
            if rng.chance(1, 3) {
                for _ in 0..rng.range(1, 3) {
                    bytes.extend(record(&valid_call(rng)));
                    calls += 1;
                }
            }
        }
    }
    let (end, expect) = if rng.chance(1, 20) {
        (End::Reset, Expect::Nothing)
    } else {
        (End::Shutdown, Expect::Rpc(model.expect(&bytes)))
    };
    let kind = if kinds.is_empty() {
        "valid".to_string()
    } else {
        kinds.join(",")
    };
    let mut p = Plan::new(kind, bytes, end, expect).split(rng);
    p.records = records;
    p.calls = calls;
    p.nfs = nfs;
    if let Expect::Rpc(e) = &p.expect {
        p.nfs_replies = nfs_replies(e);
    }
    p
}

/// The replies to NFSv3 calls `e` holds: `GARBAGE_ARGS` (only NFSv3
/// calls get it: NULL ignores its arguments), `NFS3_OK`, other statuses.
fn nfs_replies(e: &Expected) -> [u64; 3] {
    let mut n = [0; 3];
    for (r, res) in e.replies.iter().zip(&e.nfs) {
        match res {
            Some(res) if res.results.starts_with(&[0, 0, 0, 0]) => n[1] += 1,
            Some(_) => n[2] += 1,
            None => {
                let garbage = ReplyKind::accepted(AcceptStat::GarbageArgs);
                n[0] += u64::from(r.kind == garbage);
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_deterministic_and_checked() {
        let model = Model::new(4096);
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        let (mut records, mut pipelines) = (0, 0);
        for _ in 0..1000 {
            let (p, q) = (plan(&mut a, &model), plan(&mut b, &model));
            assert_eq!(
                (&p.bytes, &p.writes, &p.kind),
                (&q.bytes, &q.writes, &q.kind)
            );
            assert_eq!(p.writes.iter().map(|w| w.len).sum::<usize>(), p.bytes.len());
            records += p.records;
            pipelines += u64::from(p.kind.starts_with("pipeline"));
            if let Expect::Rpc(e) = &p.expect {
                if p.kind.starts_with("pipeline") {
                    assert_eq!(e.replies.len() as u64, p.calls);
                    assert!(e.closes.is_some());
                }
            }
        }
        assert!(records > 1500 && pipelines > 5, "{records} {pipelines}");
    }
}
