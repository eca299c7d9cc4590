// SPDX-License-Identifier: GPL-2.0

//! One record through the RPC codec and the server policy.
//!
//! Input: one record (no record mark). Properties:
//!
//! - a call that decodes has the layout RFC 5531 gives it, encodes back
//!   to the same bytes (XDR padding aside, written as zeros) and decodes
//!   again to the same call; an `AUTH_SYS` credential round-trips too;
//! - an error is the one the record's first words call for, with its xid;
//! - `decide` does what its table (rust/proto/src/rpc/server.rs) says, for
//!   krpc2's program and for one with more procedures; its reply carries
//!   the call's xid, encodes within the engine's `MAX_REPLY_LEN` (what
//!   krpc2 and usrv size their reply buffers on) and decodes back to
//!   itself; the engine's `Server::answer` and `Server::datagram` agree
//!   with `decide`;
//! - the record read as a reply, and as an `AUTH_SYS` body, round-trips
//!   when it decodes.

#![no_main]

use ksf_fuzz::round_trip::{check_reply, zero_pad};
use ksf_proto::rpc::engine::{Server, MAX_REPLY_LEN};
use ksf_proto::rpc::xdr::padded_len;
use ksf_proto::rpc::{authenticate, decide, decode_call, decode_reply, encode_call, encode_reply};
use ksf_proto::rpc::{AcceptStat, Action, AuthField, AuthProblem, AuthStat, AuthSys, Call};
use ksf_proto::rpc::{CallError, EncodeError, Program, RejectStat, ReplyKind};
use ksf_proto::rpc::{OpaqueAuth, NULL_CALL_LEN, NULL_REPLY_LEN, REPLY, RPC_VERSION};
use ksf_proto::rpc::{AUTH_NONE, AUTH_SYS, AUTH_TLS, CALL, CALL_HEADER_LEN, MAX_AUTH_BYTES};
use libfuzzer_sys::fuzz_target;

/// A program with procedures besides NULL, so that calls get dispatched.
const MULTI: Program<'static> = Program {
    prog: 100003,
    low: 2,
    high: 4,
    procs: &[0, 1, 5, 0xffff_ffff],
};

fn word(x: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        x.get(4 * i..4 * i + 4)?.try_into().ok()?,
    ))
}

fn check_decoded_call(x: &[u8], call: &Call<'_>) {
    // Layout: 6 header words, two opaque_auth, then the arguments.
    assert_eq!(call.rpcvers, RPC_VERSION);
    assert_eq!(Some(call.xid), word(x, 0));
    assert_eq!(word(x, 1), Some(CALL));
    assert_eq!(
        (Some(call.prog), Some(call.vers), Some(call.procedure)),
        (word(x, 3), word(x, 4), word(x, 5))
    );
    assert!(call.cred.body.len() <= MAX_AUTH_BYTES && call.verf.body.len() <= MAX_AUTH_BYTES);
    let cred = padded_len(call.cred.body.len()).unwrap();
    let verf = padded_len(call.verf.body.len()).unwrap();
    assert_eq!(x.len(), NULL_CALL_LEN + cred + verf + call.args.len());
    assert!(x.ends_with(call.args));

    // Round trip.
    let mut out = vec![0u8; x.len()];
    assert_eq!(encode_call(&mut out, call), Ok(x.len()));
    let mut want = x.to_vec();
    let at = zero_pad(&mut want, CALL_HEADER_LEN + 8, call.cred.body.len());
    zero_pad(&mut want, at + 8, call.verf.body.len());
    assert_eq!(out, want);
    assert_eq!(decode_call(&out).as_ref(), Ok(call));
    assert_eq!(
        encode_call(&mut out[..x.len() - 1], call),
        Err(EncodeError::BufferTooSmall { need: x.len() })
    );

    if let Ok(sys) = AuthSys::decode(call.cred.body) {
        let mut body = [0u8; AuthSys::MAX_LEN];
        assert_eq!(sys.encode(&mut body), Ok(call.cred.body.len()));
        assert_eq!(AuthSys::decode(&body[..call.cred.body.len()]), Ok(sys));
    }
}

fn check_call_error(x: &[u8], e: CallError) {
    assert_eq!(e.xid(), word(x, 0));
    let expected_kind = match (word(x, 1), word(x, 2)) {
        (None, _) => matches!(e, CallError::TooShort { len, .. } if len == x.len()),
        (Some(REPLY), _) => matches!(e, CallError::Reply { .. }),
        (Some(CALL), _) if x.len() < CALL_HEADER_LEN => {
            matches!(e, CallError::TruncatedHeader { .. })
        }
        (Some(CALL), Some(RPC_VERSION)) => match e {
            CallError::BadAuth { field, problem, .. } => {
                // The first malformed opaque_auth, by the record's words.
                let cred_len = word(x, 7);
                let bad_cred = match cred_len {
                    None => true,
                    Some(n) => {
                        n as usize > MAX_AUTH_BYTES
                            || 32 + padded_len(n as usize).unwrap() > x.len()
                    }
                };
                let problem_ok = match problem {
                    AuthProblem::TooLong { len } => len as usize > MAX_AUTH_BYTES,
                    AuthProblem::Truncated => true,
                };
                problem_ok && (field == AuthField::Cred) == bad_cred
            }
            _ => false,
        },
        (Some(CALL), Some(v)) => {
            matches!(e, CallError::RpcMismatch { rpcvers, .. } if rpcvers == v)
        }
        (Some(t), _) => matches!(e, CallError::BadMsgType { msg_type, .. } if msg_type == t),
    };
    assert!(expected_kind, "unexpected {e:?}");
}

/// What `decide` must do, from its documented table.
fn expected(
    decoded: &Result<Call<'_>, CallError>,
    p: &Program<'_>,
) -> Option<Option<ReplyKind<'static>>> {
    // None: close; Some(None): dispatch; Some(Some(kind)): reply.
    let call = match decoded {
        Err(CallError::TooShort { .. })
        | Err(CallError::Reply { .. })
        | Err(CallError::BadMsgType { .. })
        | Err(CallError::TruncatedHeader { .. }) => return None,
        Err(CallError::RpcMismatch { .. }) => {
            return Some(Some(ReplyKind::Denied(RejectStat::RpcMismatch {
                low: 2,
                high: 2,
            })))
        }
        Err(CallError::BadAuth { .. }) => {
            return Some(Some(ReplyKind::Denied(RejectStat::AuthError(
                AuthStat::BADCRED,
            ))))
        }
        Ok(call) => call,
    };
    // authenticate, from its documentation.
    let cred_ok = match call.cred.flavor {
        AUTH_NONE | AUTH_TLS => call.cred.body.is_empty(),
        AUTH_SYS => AuthSys::decode(call.cred.body).is_ok(),
        _ => false,
    };
    let auth = if !cred_ok {
        Err(AuthStat::BADCRED)
    } else if call.verf != OpaqueAuth::NONE {
        Err(AuthStat::BADVERF)
    } else if call.cred.flavor == AUTH_TLS && call.procedure != 0 {
        Err(AuthStat::BADCRED)
    } else {
        Ok(())
    };
    assert_eq!(authenticate(call), auth);
    if let Err(stat) = auth {
        return Some(Some(ReplyKind::Denied(RejectStat::AuthError(stat))));
    }
    let stat = if call.prog != p.prog {
        AcceptStat::ProgUnavail
    } else if !(p.low..=p.high).contains(&call.vers) {
        AcceptStat::ProgMismatch {
            low: p.low,
            high: p.high,
        }
    } else if !p.procs.contains(&call.procedure) {
        AcceptStat::ProcUnavail
    } else if call.procedure == 0 {
        AcceptStat::Success { results: &[] }
    } else {
        return Some(None);
    };
    Some(Some(ReplyKind::accepted(stat)))
}

fn check_policy(decoded: &Result<Call<'_>, CallError>, p: &Program<'_>) {
    let xid = match decoded {
        Ok(call) => Some(call.xid),
        Err(e) => e.xid(),
    };
    match (decide(*decoded, p), expected(decoded, p)) {
        (Action::Close(e), None) => assert_eq!(Err(e), *decoded),
        (Action::Dispatch(call), Some(None)) => assert_eq!(Ok(call), *decoded),
        (Action::Reply(reply), Some(Some(kind))) => {
            assert_eq!(Some(reply.xid), xid);
            assert_eq!(reply.kind, kind);
            // Within the bound krpc2's and usrv's buffers are sized on.
            let mut out = [0u8; MAX_REPLY_LEN];
            let n = encode_reply(&mut out, &reply)
                .unwrap_or_else(|e| panic!("{reply:?} over {MAX_REPLY_LEN} bytes: {e}"));
            if matches!(
                kind,
                ReplyKind::Accepted {
                    stat: AcceptStat::Success { .. },
                    ..
                }
            ) {
                assert_eq!(n, NULL_REPLY_LEN);
            }
            let mut big = [0u8; 256];
            assert_eq!(encode_reply(&mut big, &reply), Ok(n));
            assert_eq!(big[..n], out[..n]);
            assert_eq!(decode_reply(&out[..n]), Ok(reply));
        }
        (got, want) => panic!("decide: {got:?}, expected {want:?} (None: close)"),
    }
}

/// The engine's answer is the policy's (NULL only: anything dispatched
/// is `PROC_UNAVAIL`), and its datagram reply is that answer encoded.
fn check_answer(x: &[u8], server: &Server) {
    let answer = server.answer(x);
    match decide(decode_call(x), server.program()) {
        Action::Reply(reply) => assert_eq!(answer, Ok(reply)),
        Action::Close(e) => assert_eq!(answer, Err(e)),
        Action::Dispatch(call) => panic!("NULL only, yet {call:?} is dispatched"),
    }
    let mut out = [0u8; MAX_REPLY_LEN];
    let got = server.datagram(x, &mut out);
    assert_eq!(got.map(|n| decode_reply(&out[..n])), answer.ok().map(Ok));
}

fuzz_target!(|x: &[u8]| {
    let decoded = decode_call(x);
    match &decoded {
        Ok(call) => check_decoded_call(x, call),
        Err(e) => check_call_error(x, *e),
    }
    for server in [Server::nfs_null(3, 3, 4096), Server::nfs_null(2, 4, 4096)] {
        check_policy(&decoded, server.program());
        check_answer(x, &server);
    }
    check_policy(&decoded, &MULTI);

    check_reply(x);
    if let Ok(sys) = AuthSys::decode(x) {
        let mut body = [0u8; AuthSys::MAX_LEN];
        assert_eq!(sys.encode(&mut body), Ok(x.len()));
        assert_eq!(AuthSys::decode(&body[..x.len()]), Ok(sys));
    }
});
