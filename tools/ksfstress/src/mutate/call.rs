// SPDX-License-Identifier: GPL-2.0

//! Calls that are not valid NULL calls, or are in an unusual form, inside
//! intact record marking: broken header fields, credentials, verifiers
//! and lengths, truncations, appended or random bytes.

use crate::rng::Rng;
use crate::wire::{self, null_call, Cred, NFS_PROGRAM};
use ksf_proto::rpc::{AuthSys, Call, OpaqueAuth, AUTH_SYS, AUTH_TLS, REPLY, RPCSEC_GSS};

// Offsets of the words of an AUTH_NONE call (RFC 5531 `call_body`).
const MSG_TYPE: usize = 4;
const RPCVERS: usize = 8;
const PROG: usize = 12;
const VERS: usize = 16;
const PROC: usize = 20;
const CRED_FLAVOR: usize = 24;
const CRED_LEN: usize = 28;
const VERF_FLAVOR: usize = 32;
const VERF_LEN: usize = 36;
/// The header words before the credential.
const HEADER: usize = 24;

fn put(body: &mut [u8], at: usize, v: u32) {
    body[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// A value from `items` or, one time in four, a random one, never `not`.
fn word(rng: &mut Rng, items: &[u32], not: &[u32]) -> u32 {
    let v = if rng.chance(1, 4) {
        rng.u32()
    } else {
        rng.pick(items)
    };
    if not.contains(&v) {
        items[0]
    } else {
        v
    }
}

/// The body of a valid NULL call with a random xid.
pub fn valid_call(rng: &mut Rng) -> Vec<u8> {
    let cred = if rng.chance(1, 4) {
        Cred::Sys
    } else {
        Cred::None
    };
    null_call(rng.u32(), cred)
}

/// Sets the length word at `len_at` of an `opaque_auth` to `declared` and
/// puts `actual` random bytes of body after it.
fn auth_len(rng: &mut Rng, b: &mut Vec<u8>, len_at: usize, declared: u32, actual: usize) {
    put(b, len_at, declared);
    let body = rng.bytes(actual);
    b.splice(len_at + 4..len_at + 4, body);
}

/// An `opaque_auth` length mutation: 400 (a body AUTH_NONE refuses), 401,
/// huge, or running past the end of the record.
fn auth_len_case(rng: &mut Rng, b: &mut Vec<u8>, len_at: usize) {
    let (declared, actual) = match rng.below(6) {
        0 => (400, 400),
        1 => (401, 404),
        2 => (rng.pick(&[0x7fff_ffff, u32::MAX, 0x8000_0000]), 0),
        3 => (rng.range(9, 400) as u32, rng.range(0, 8)),
        4 => (rng.range(1, 3) as u32, 4),
        _ => (rng.range(1, 400) as u32, rng.range(0, 400)),
    };
    auth_len(rng, b, len_at, declared, actual);
}

/// A call with a broken `AUTH_SYS` credential body.
fn bad_auth_sys(rng: &mut Rng, xid: u32) -> Vec<u8> {
    let gids = [1000, 27];
    let mut body = [0u8; AuthSys::MAX_LEN + 8];
    let n = AuthSys::new(xid, b"ksfstress", 0, 0, &gids)
        .and_then(|s| s.encode(&mut body).ok())
        .unwrap_or(0);
    let len = match rng.below(4) {
        // The machine name's length word (after the stamp).
        0 => {
            put(&mut body, 4, rng.pick(&[256, 1000, u32::MAX]));
            n
        }
        // The count of groups.
        1 => {
            put(
                &mut body,
                n - 4 * gids.len() - 4,
                rng.pick(&[17, 1000, u32::MAX]),
            );
            n
        }
        2 => n + 4,
        _ => rng.range(0, n - 1),
    };
    let cred = OpaqueAuth {
        flavor: AUTH_SYS,
        body: &body[..len],
    };
    wire::encode(&Call {
        cred,
        ..Call::new(xid, NFS_PROGRAM, 3, 0)
    })
}

/// A record body that is not a valid NULL call, or one in an unusual
/// form, and what was done to it.
pub fn bad_call(rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let xid = rng.u32();
    let mut b = null_call(xid, Cred::None);
    let kind = match rng.below(16) {
        0 => {
            put(&mut b, MSG_TYPE, word(rng, &[REPLY, 2, u32::MAX], &[0]));
            "msg-type"
        }
        1 => {
            put(&mut b, RPCVERS, word(rng, &[0, 1, 3, u32::MAX], &[2]));
            "rpcvers"
        }
        2 => {
            let prog = word(rng, &[0, 100000, 100005, 100004, u32::MAX], &[NFS_PROGRAM]);
            put(&mut b, PROG, prog);
            "prog"
        }
        3 => {
            // Never 2..=4: a server may be configured to serve those.
            put(&mut b, VERS, word(rng, &[0, 1, 5, 7, u32::MAX], &[2, 3, 4]));
            "vers"
        }
        4 => {
            put(&mut b, PROC, word(rng, &[1, 2, 21, 22, u32::MAX], &[0]));
            "proc"
        }
        5 => {
            put(&mut b, 0, rng.pick(&[0, u32::MAX, 0x8000_0000]));
            "xid"
        }
        6 => {
            let flavors = [AUTH_SYS, RPCSEC_GSS, AUTH_TLS, 2, 3, 390003, u32::MAX];
            put(&mut b, CRED_FLAVOR, word(rng, &flavors, &[0]));
            "cred-flavor"
        }
        7 => {
            put(
                &mut b,
                VERF_FLAVOR,
                word(rng, &[AUTH_SYS, RPCSEC_GSS, 2, 3], &[0]),
            );
            "verf-flavor"
        }
        8 => {
            auth_len_case(rng, &mut b, CRED_LEN);
            "cred-len"
        }
        9 => {
            auth_len_case(rng, &mut b, VERF_LEN);
            "verf-len"
        }
        10 => {
            b.truncate(rng.range(1, b.len() - 1));
            "truncated"
        }
        11 => {
            let n = rng.range(1, 300);
            b.extend(rng.bytes(n));
            "garbage-args"
        }
        12 => {
            let n = rng.range(1, 120);
            b = rng.bytes(n);
            "random-record"
        }
        13 => {
            b.truncate(HEADER);
            let n = rng.range(0, 100);
            b.extend(rng.bytes(n));
            "random-tail"
        }
        14 => {
            for _ in 0..rng.range(1, 4) {
                let bit = rng.below(b.len() as u64 * 8) as usize;
                b[bit / 8] ^= 1 << (bit % 8);
            }
            "bit-flip"
        }
        _ => {
            b = bad_auth_sys(rng, xid);
            "authsys-bad"
        }
    };
    (kind, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::mutate::outcome;
    use crate::wire::record;
    use std::collections::BTreeMap;

    #[test]
    fn bad_calls_get_their_answers() {
        let model = Model::new(4096);
        let mut rng = Rng::new(1);
        let mut seen: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for _ in 0..4000 {
            let (kind, body) = bad_call(&mut rng);
            let o = outcome(&model, &record(&body));
            let fixed = match kind {
                "msg-type" => Some("close"),
                "rpcvers" => Some("rpc-mismatch"),
                "prog" => Some("prog-unavail"),
                "vers" => Some("prog-mismatch"),
                "proc" => Some("proc-unavail"),
                "xid" | "garbage-args" => Some("success"),
                "verf-flavor" | "authsys-bad" | "cred-len" | "verf-len" => Some("auth-error"),
                _ => None,
            };
            if let Some(want) = fixed {
                assert_eq!(o, want, "{kind}: {body:02x?}");
            }
            let e = seen.entry(kind).or_default();
            if !e.contains(&o) {
                e.push(o);
            }
        }
        assert_eq!(seen.len(), 16, "{seen:?}");
        // Truncations reach every stage of the decoder.
        let t = &seen["truncated"];
        assert!(t.contains(&"close") && t.contains(&"auth-error"), "{t:?}");
        let f = &seen["cred-flavor"];
        assert!(f.contains(&"success") && f.contains(&"auth-error"), "{f:?}");
    }
}
