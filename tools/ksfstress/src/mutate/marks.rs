// SPDX-License-Identifier: GPL-2.0

//! Record marking: a record cut into fragments ([`frame`]), and streams
//! whose marks are broken ([`bad_stream`]).

use super::call::valid_call;
use crate::model::Model;
use crate::rng::Rng;
use crate::wire::{fragments_at, raw_mark, record};

/// `body` (not empty) as a record: one fragment, a few, one per byte, or
/// after zero-length fragments.
pub fn frame(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let len = body.len();
    let cuts = |rng: &mut Rng| -> Vec<usize> {
        let mut c: Vec<usize> = (0..rng.range(1, 5)).map(|_| rng.range(1, len)).collect();
        c.sort_unstable();
        c
    };
    match rng.below(10) {
        0..=5 => record(body),
        6 | 7 => fragments_at(body, &cuts(rng)),
        8 => fragments_at(body, &(1..len).collect::<Vec<_>>()),
        _ => {
            let mut out: Vec<u8> = (0..rng.range(1, 3))
                .flat_map(|_| raw_mark(0, false))
                .collect();
            out.extend(fragments_at(body, &cuts(rng)));
            out
        }
    }
}

/// Bytes that break the record marking, and what they are.
pub fn bad_stream(rng: &mut Rng, model: &Model) -> (&'static str, Vec<u8>) {
    let call = valid_call(rng);
    let len = call.len() as u32;
    let with_call = |mark: [u8; 4]| [&mark[..], &call].concat();
    match rng.below(10) {
        0 => ("empty-record", raw_mark(0, true).to_vec()),
        1 => {
            let huge = rng.pick(&[0x7fff_ffff, model.max_record() + 1, (1 << 20) + 1]);
            ("mark-huge", with_call(raw_mark(huge, rng.chance(1, 2))))
        }
        2 => {
            let n = rng.range(1, 7);
            let mut b = raw_mark(n as u32, true).to_vec();
            b.extend(rng.bytes(n));
            ("mark-tiny", b)
        }
        3 => ("last-cleared", with_call(raw_mark(len, false))),
        4 => {
            let mut b: Vec<u8> = (0..rng.range(2, 100))
                .flat_map(|_| raw_mark(0, false))
                .collect();
            b.extend(record(&call));
            ("zero-fragments", b)
        }
        5 => {
            let more = rng.range(1, 64) as u32;
            ("mark-long", with_call(raw_mark(len + more, true)))
        }
        6 => {
            let less = rng.range(1, len as usize - 1) as u32;
            ("mark-short", with_call(raw_mark(len - less, true)))
        }
        7 => {
            let n = rng.range(1, 64);
            ("random-bytes", rng.bytes(n))
        }
        8 => ("partial-mark", record(&call)[..rng.range(1, 3)].to_vec()),
        _ => {
            let cut = rng.range(5, len as usize + 3);
            ("partial-record", record(&call)[..cut].to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutate::outcome;
    use std::collections::BTreeMap;

    #[test]
    fn frames_carry_the_call() {
        let model = Model::new(4096);
        let mut rng = Rng::new(2);
        for _ in 0..500 {
            let call = valid_call(&mut rng);
            let e = model.expect(&frame(&mut rng, &call));
            // One-byte fragments of an AUTH_SYS call pass the 64 allowed.
            if e.closes.is_none() {
                assert_eq!(e.replies.len(), 1);
                assert_eq!(
                    e.replies[0].xid,
                    u32::from_be_bytes(call[..4].try_into().unwrap())
                );
            } else {
                assert!(call.len() > 64);
            }
        }
    }

    #[test]
    fn broken_streams() {
        let model = Model::new(4096);
        let mut rng = Rng::new(3);
        let mut seen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for _ in 0..2000 {
            let (kind, b) = bad_stream(&mut rng, &model);
            let o = outcome(&model, &b);
            match kind {
                "empty-record" | "mark-huge" | "mark-tiny" => assert_eq!(o, "close", "{kind}"),
                "last-cleared" | "mark-long" | "partial-mark" => assert_eq!(o, "wait", "{kind}"),
                _ => {}
            }
            seen.entry(kind).or_default().push(o);
        }
        assert_eq!(seen.len(), 10);
        let z = &seen["zero-fragments"];
        assert!(z.contains(&"close") && z.contains(&"success"));
    }
}
