// SPDX-License-Identifier: GPL-2.0

//! Robustness of the RPC codec against arbitrary input (host only).
//!
//! Feeds a few hundred thousand pseudo-random, structured and mutated
//! records to the call decoder, the reply decoder, the `AUTH_SYS` decoder
//! and the server policy. Nothing may panic, and whatever decodes must
//! encode back to the same bytes (padding aside, which is not checked on
//! input and written as zeros) and decode again to the same value.

use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

use common::round_trip::{check_reply, zero_pad};
use ksf_proto::rpc::{decide, decode_call, decode_reply, encode_call, encode_reply};
use ksf_proto::rpc::{AcceptStat, Action, AuthStat, AuthSys, Call, CallError, EncodeError};
use ksf_proto::rpc::{OpaqueAuth, Program, RejectStat, Reply, ReplyKind, AUTH_SYS};

const PROG: Program<'static> = Program {
    prog: 100003,
    low: 2,
    high: 4,
    procs: &[0, 1, 5],
};

/// xorshift64*: tiny, deterministic, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A word that is often one a decoder treats specially.
    fn word(&mut self) -> u32 {
        const SPECIAL: [u32; 18] = [
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            16,
            17,
            255,
            256,
            400,
            401,
            0x7fff_ffff,
            0xffff_fffc,
            u32::MAX,
        ];
        match self.below(4) {
            0 => self.next() as u32,
            1 => self.below(64) as u32,
            _ => SPECIAL[self.below(SPECIAL.len())],
        }
    }
}

/// Valid calls and replies to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let mut body = [0u8; AuthSys::MAX_LEN];
    let sys = AuthSys::new(9, b"client.example", 1000, 1000, &[4, 24, 27]).unwrap();
    let n = sys.encode(&mut body).unwrap();
    let cred = OpaqueAuth {
        flavor: AUTH_SYS,
        body: &body[..n],
    };
    let calls = [
        Call::new(1, 100003, 3, 0),
        Call {
            cred,
            ..Call::new(2, 100003, 3, 0)
        },
        Call {
            cred,
            args: b"some arguments",
            ..Call::new(3, 100003, 4, 1)
        },
        Call {
            verf: OpaqueAuth {
                flavor: 5,
                body: b"abcde",
            },
            ..Call::new(4, 7, 1, 2)
        },
    ];
    for c in &calls {
        let n = encode_call(&mut buf, c).unwrap();
        out.push(buf[..n].to_vec());
    }
    let replies = [
        ReplyKind::accepted(AcceptStat::Success { results: &[] }),
        ReplyKind::accepted(AcceptStat::Success {
            results: b"results",
        }),
        ReplyKind::accepted(AcceptStat::ProgUnavail),
        ReplyKind::accepted(AcceptStat::ProgMismatch { low: 2, high: 4 }),
        ReplyKind::accepted(AcceptStat::ProcUnavail),
        ReplyKind::accepted(AcceptStat::GarbageArgs),
        ReplyKind::accepted(AcceptStat::SystemErr),
        ReplyKind::Accepted {
            verf: OpaqueAuth {
                flavor: 7,
                body: b"STARTTLS",
            },
            stat: AcceptStat::ProcUnavail,
        },
        ReplyKind::Denied(RejectStat::RpcMismatch { low: 2, high: 2 }),
        ReplyKind::Denied(RejectStat::AuthError(AuthStat::BADCRED)),
    ];
    for kind in replies {
        let n = encode_reply(&mut buf, &Reply { xid: 77, kind }).unwrap();
        out.push(buf[..n].to_vec());
    }
    out
}

/// One input: random bytes, random XDR words, or a mutated seed.
fn input(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(8) {
        0 => (0..rng.below(96)).map(|_| rng.next() as u8).collect(),
        1 | 2 => {
            let mut v: Vec<u8> = (0..rng.below(24))
                .flat_map(|_| rng.word().to_be_bytes())
                .collect();
            v.truncate(v.len().saturating_sub(rng.below(4)));
            v
        }
        _ => {
            let mut v = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(3) {
                mutate(rng, &mut v);
            }
            v
        }
    }
}

fn mutate(rng: &mut Rng, v: &mut Vec<u8>) {
    let len = v.len();
    match rng.below(6) {
        0 if len > 0 => v[rng.below(len)] ^= 1 << rng.below(8),
        1 if len >= 4 => {
            let at = rng.below(len / 4) * 4;
            v[at..at + 4].copy_from_slice(&rng.word().to_be_bytes());
        }
        2 => v.truncate(rng.below(len + 1)),
        3 => v.extend((0..rng.below(12)).map(|_| rng.next() as u8)),
        4 => v.insert(rng.below(len + 1), rng.next() as u8),
        5 if len > 0 => {
            v.remove(rng.below(len));
        }
        _ => {}
    }
}

fn check_call(x: &[u8], stats: &mut [usize; 4]) {
    let decoded = decode_call(x);
    if let Ok(call) = decoded {
        stats[0] += 1;
        let mut out = vec![0u8; x.len()];
        assert_eq!(encode_call(&mut out, &call), Ok(x.len()));
        let mut want = x.to_vec();
        let verf = zero_pad(&mut want, 32, call.cred.body.len());
        zero_pad(&mut want, verf + 8, call.verf.body.len());
        assert_eq!(out, want);
        assert_eq!(decode_call(&out), Ok(call));
        let short = x.len() - 1;
        assert_eq!(
            encode_call(&mut out[..short], &call),
            Err(EncodeError::BufferTooSmall { need: x.len() })
        );
        if let Ok(sys) = AuthSys::decode(call.cred.body) {
            stats[1] += 1;
            let mut body = [0u8; AuthSys::MAX_LEN];
            let n = sys.encode(&mut body).unwrap();
            assert_eq!(n, call.cred.body.len());
            assert_eq!(AuthSys::decode(&body[..n]), Ok(sys));
        }
    }
    let xid = match decoded {
        Ok(call) => Some(call.xid),
        Err(e) => e.xid(),
    };
    match decide(decoded, &PROG) {
        Action::Close(e) => {
            assert_eq!(Err(e), decoded);
            assert!(matches!(
                e,
                CallError::TooShort { .. }
                    | CallError::Reply { .. }
                    | CallError::BadMsgType { .. }
                    | CallError::TruncatedHeader { .. }
            ));
        }
        Action::Dispatch(call) => {
            assert_eq!(Ok(call), decoded);
            assert!(call.procedure != 0 && PROG.procs.contains(&call.procedure));
        }
        Action::Reply(reply) => {
            stats[2] += 1;
            assert_eq!(Some(reply.xid), xid);
            let mut out = [0u8; 64];
            let n = encode_reply(&mut out, &reply).unwrap();
            assert_eq!(decode_reply(&out[..n]), Ok(reply));
        }
    }
}

#[test]
fn random_and_mutated_records() {
    const INPUTS: usize = 300_000;
    let seeds = seeds();
    let mut rng = Rng(0x6b73_665f_7270_6321);
    let mut stats = [0usize; 4];
    for i in 0..INPUTS {
        let x = input(&mut rng, &seeds);
        let run = catch_unwind(AssertUnwindSafe(|| {
            check_call(&x, &mut stats);
            stats[3] += usize::from(check_reply(&x));
            // The AUTH_SYS decoder on its own, on bodies of any shape.
            if let Ok(sys) = AuthSys::decode(&x) {
                let mut body = [0u8; AuthSys::MAX_LEN];
                assert_eq!(
                    sys.encode(&mut body).map(|n| AuthSys::decode(&body[..n])),
                    Ok(Ok(sys))
                );
            }
        }));
        if run.is_err() {
            panic!("input {i} failed: {x:02x?}");
        }
    }
    // Make sure the interesting paths were taken, not only the error paths.
    let [calls, sys, replies_sent, replies] = stats;
    eprintln!("{INPUTS} inputs: {calls} calls, {sys} AUTH_SYS, {replies_sent} policy replies, {replies} replies");
    assert!(
        calls > INPUTS / 50
            && sys > INPUTS / 200
            && replies_sent > INPUTS / 20
            && replies > INPUTS / 50
    );
}
