// SPDX-License-Identifier: GPL-2.0

//! Messages and helpers shared by the RPC test cases.

use super::super::super::testing::Tester;
use super::super::xdr::Writer;
use super::super::{decide, decode_call, encode_call, encode_reply};
use super::super::{AcceptStat, Action, AuthStat, AuthSys, Call, OpaqueAuth, Program};
use super::super::{
    RejectStat, Reply, ReplyKind, AUTH_SYS, AUTH_TLS, NULL_CALL_LEN, NULL_REPLY_LEN,
};

/// A program like krpc2's, with a version range and one procedure besides
/// NULL, so that every outcome of the policy can be reached.
pub(super) const PROG: Program<'static> = Program {
    prog: 100003,
    low: 3,
    high: 4,
    procs: &[0, 1],
};
pub(super) const XID: u32 = 0x0102_0304;

/// The NULL call of program 100003 version 3, `AUTH_NONE`, xid `XID`.
pub(super) const NULL_CALL: [u8; NULL_CALL_LEN] = [
    1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0x86, 0xa3, 0, 0, 0, 3, 0, 0, 0, 0, //
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
/// Its `SUCCESS` reply.
pub(super) const NULL_REPLY: [u8; NULL_REPLY_LEN] = [
    1, 2, 3, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Writes big-endian words into `out`; returns the length.
pub(super) fn words(out: &mut [u8], ws: &[u32]) -> usize {
    let mut w = Writer::new(out);
    for &x in ws {
        w.u32(x);
    }
    w.finish().unwrap_or(0)
}

pub(super) const fn reply(stat: AcceptStat<'static>) -> Reply<'static> {
    Reply {
        xid: XID,
        kind: ReplyKind::accepted(stat),
    }
}

pub(super) const fn denied(stat: RejectStat) -> Reply<'static> {
    Reply {
        xid: XID,
        kind: ReplyKind::Denied(stat),
    }
}

/// A reply with a verifier that is not `AUTH_NONE`.
pub(super) const TLS_REPLY: Reply<'static> = Reply {
    xid: u32::MAX,
    kind: ReplyKind::Accepted {
        verf: OpaqueAuth {
            flavor: AUTH_TLS,
            body: b"STARTTLS",
        },
        stat: AcceptStat::Success { results: b"r" },
    },
};

/// One of every reply kind, with its encoded length.
pub(super) const REPLIES: [(Reply<'static>, usize); 12] = [
    (reply(AcceptStat::Success { results: &[] }), 24),
    (
        reply(AcceptStat::Success {
            results: b"results!",
        }),
        32,
    ),
    (reply(AcceptStat::ProgUnavail), 24),
    (reply(AcceptStat::ProgMismatch { low: 3, high: 4 }), 32),
    (reply(AcceptStat::ProcUnavail), 24),
    (reply(AcceptStat::GarbageArgs), 24),
    (reply(AcceptStat::SystemErr), 24),
    (TLS_REPLY, 33),
    (denied(RejectStat::RpcMismatch { low: 2, high: 2 }), 24),
    (denied(RejectStat::AuthError(AuthStat::BADCRED)), 20),
    (denied(RejectStat::AuthError(AuthStat::BADVERF)), 20),
    (denied(RejectStat::AuthError(AuthStat(u32::MAX))), 20),
];

/// A call with an `AUTH_SYS` credential ("host1", two groups) and 4 bytes
/// of arguments; returns its length and the end of the credential body.
pub(super) fn sys_call(out: &mut [u8; 128]) -> (usize, usize) {
    let mut body = [0u8; AuthSys::MAX_LEN];
    let cred = AuthSys::new(7, b"host1", 1000, 100, &[100, 4]);
    let blen = cred.map_or(Ok(0), |c| c.encode(&mut body)).unwrap_or(0);
    let call = Call {
        cred: OpaqueAuth {
            flavor: AUTH_SYS,
            body: body.get(..blen).unwrap_or(&[]),
        },
        args: b"xyz!",
        ..Call::new(XID, 100003, 3, 0)
    };
    (encode_call(out, &call).unwrap_or(0), 32 + blen)
}

/// The policy's answer to `record`, encoded; returns the length.
pub(super) fn serve(record: &[u8], out: &mut [u8; 64]) -> Option<usize> {
    match decide(decode_call(record), &PROG) {
        Action::Reply(r) => encode_reply(out, &r).ok(),
        _ => None,
    }
}

/// Checks that the policy answers `record` with `want`.
pub(super) fn expect_reply(t: &mut dyn Tester, record: &[u8], want: Reply<'static>) {
    check_eq!(t, decide(decode_call(record), &PROG), Action::Reply(want));
}

/// A NULL call with the given credential and verifier.
pub(super) fn call_with(cred: OpaqueAuth<'static>, verf: OpaqueAuth<'static>) -> Call<'static> {
    Call {
        cred,
        verf,
        ..Call::new(XID, 100003, 3, 0)
    }
}

/// Encodes `call`, decodes it again and applies the policy; `None` if it
/// does not encode or is dispatched.
pub(super) fn decide_call(call: Call<'_>, out: &mut [u8; 512]) -> Option<Action<'static>> {
    let len = encode_call(out, &call).ok()?;
    match decide(decode_call(out.get(..len)?), &PROG) {
        Action::Reply(r) => Some(Action::Reply(r)),
        Action::Close(e) => Some(Action::Close(e)),
        Action::Dispatch(_) => None,
    }
}
