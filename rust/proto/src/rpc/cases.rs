// SPDX-License-Identifier: GPL-2.0

//! RPC message test cases, run by `cargo test` on the host and by a KUnit
//! suite in the guest.

mod fixtures;

use super::super::rm::{Decoder, Limits, Mark, MARK_LEN};
use super::xdr::{padded_len, OpaqueError, Reader, Writer};
use super::{decide, decode_call, decode_reply, encode_call, encode_reply};
use super::{AcceptStat, Action, AuthField, AuthProblem, AuthStat, AuthSys, AuthSysError, Call};
use super::{
    CallError, EncodeError, OpaqueAuth, Program, RejectStat, Reply, ReplyError, ReplyKind,
};
use super::{
    AUTH_NONE, AUTH_SYS, AUTH_TLS, CALL, NULL_CALL_LEN, NULL_REPLY_LEN, REPLY, RPCSEC_GSS,
};
use fixtures::{call_with, decide_call, denied, expect_reply, reply, serve, sys_call, words};
use fixtures::{NULL_CALL, NULL_REPLY, PROG, REPLIES, XID};

test_cases! {
    testing = super::super::testing;

    fn null_call_exact_bytes(t) {
        let mut out = [0u8; 64];
        check_eq!(t, encode_call(&mut out, &Call::new(XID, 100003, 3, 0)), Ok(NULL_CALL_LEN));
        check_eq!(t, out[..NULL_CALL_LEN], NULL_CALL);
        check_eq!(t, decode_call(&NULL_CALL), Ok(Call::new(XID, 100003, 3, 0)));
    }

    fn null_reply_exact_bytes(t) {
        let mut out = [0u8; 64];
        check_eq!(t, serve(&NULL_CALL, &mut out), Some(NULL_REPLY_LEN));
        check_eq!(t, out[..NULL_REPLY_LEN], NULL_REPLY);
        check_eq!(t, decode_reply(&NULL_REPLY), Ok(reply(AcceptStat::Success { results: &[] })));
    }

    fn null_call_and_reply_on_the_wire(t) {
        let mut wire = [0u8; 64];
        wire[..MARK_LEN].copy_from_slice(&Mark { len: NULL_CALL_LEN as u32, last: true }.encode());
        wire[MARK_LEN..MARK_LEN + NULL_CALL_LEN].copy_from_slice(&NULL_CALL);
        let mut dec = Decoder::new(Limits::DEFAULT);
        let step = dec.decode(&wire[..44]);
        check_eq!(t, step.as_ref().map(|s| (s.consumed, s.end_of_record)), Ok((44, true)));
        let payload = step.map_or(0..0, |s| s.payload);
        check_eq!(t, decode_call(&wire[payload]), Ok(Call::new(XID, 100003, 3, 0)));
        check_eq!(t, MARK_LEN + NULL_REPLY_LEN, 28);
    }

    fn every_reply_kind_round_trips(t) {
        for (r, len) in REPLIES {
            let mut out = [0u8; 64];
            check_eq!(t, encode_reply(&mut out, &r), Ok(len));
            check_eq!(t, decode_reply(&out[..len]), Ok(r));
            let mut again = [0u8; 64];
            check_eq!(t, encode_reply(&mut again, &r), Ok(len));
            check_eq!(t, out, again);
        }
    }

    fn reply_known_bytes(t) {
        let mut out = [0u8; 64];
        let mut want = [0u8; 64];
        for (r, ws) in [
            (reply(AcceptStat::ProgMismatch { low: 3, high: 4 }), &[XID, 1, 0, 0, 0, 2, 3, 4][..]),
            (reply(AcceptStat::ProgUnavail), &[XID, 1, 0, 0, 0, 1][..]),
            (reply(AcceptStat::ProcUnavail), &[XID, 1, 0, 0, 0, 3][..]),
            (denied(RejectStat::RpcMismatch { low: 2, high: 2 }), &[XID, 1, 1, 0, 2, 2][..]),
            (denied(RejectStat::AuthError(AuthStat::BADCRED)), &[XID, 1, 1, 1, 1][..]),
        ] {
            let n = words(&mut want, ws);
            check_eq!(t, encode_reply(&mut out, &r), Ok(n));
            check_eq!(t, out[..n], want[..n]);
        }
    }

    fn call_round_trips_with_auth_sys(t) {
        let mut wire = [0u8; 128];
        let (len, cred_end) = sys_call(&mut wire);
        check_eq!(t, (len, cred_end), (32 + 36 + 8 + 4, 68));
        let call = decode_call(&wire[..len]);
        check!(t, call.is_ok());
        let Ok(call) = call else { return };
        check_eq!(t, (call.cred.flavor, call.cred.body.len(), call.verf, call.args), (AUTH_SYS, 36, OpaqueAuth::NONE, &b"xyz!"[..]));
        let sys = AuthSys::decode(call.cred.body);
        check_eq!(t, sys.ok(), AuthSys::new(7, b"host1", 1000, 100, &[100, 4]));
        check_eq!(t, sys.map(|s| (s.stamp, s.machine_name, s.uid, s.gid)), Ok((7, &b"host1"[..], 1000, 100)));
        check_eq!(t, sys.as_ref().map(|s| s.gids()), Ok(&[100u32, 4][..]));
        let mut again = [0u8; 128];
        check_eq!(t, encode_call(&mut again, &call), Ok(len));
        check_eq!(t, wire, again);
    }

    fn auth_sys_bounds(t) {
        let name = [b'n'; 256];
        let gids = [1u32; 17];
        check!(t, AuthSys::new(0, &name, 0, 0, &[]).is_none());
        check!(t, AuthSys::new(0, b"", 0, 0, &gids).is_none());
        let max = AuthSys::new(0, &name[..255], 0, 0, &gids[..16]);
        check!(t, max.is_some());
        let mut out = [0u8; 400];
        check_eq!(t, max.map(|m| m.encode(&mut out)), Some(Ok(AuthSys::MAX_LEN)));
        check_eq!(t, AuthSys::decode(&out[..AuthSys::MAX_LEN]).map(|s| s.gids().len()), Ok(16));
        let long = max.map(|mut m| {
            m.machine_name = &name;
            m
        });
        check_eq!(t, long.map(|m| m.encode(&mut out)), Some(Err(EncodeError::TooLong { len: 256, max: 255 })));
        check_eq!(t, max.map(|m| m.encode(&mut out[..100])), Some(Err(EncodeError::BufferTooSmall { need: AuthSys::MAX_LEN })));
    }

    fn auth_sys_malformed_bodies(t) {
        let mut body = [0u8; 64];
        let n = AuthSys::new(7, b"host1", 1, 2, &[3, 4]).map_or(Ok(0), |c| c.encode(&mut body)).unwrap_or(0);
        check_eq!(t, n, 36);
        for cut in 0..n {
            check_eq!(t, AuthSys::decode(&body[..cut]), Err(AuthSysError::Truncated));
        }
        check_eq!(t, AuthSys::decode(&body[..n + 4]), Err(AuthSysError::TrailingBytes));
        for len in [256, 0x7fff_ffff, u32::MAX - 3, u32::MAX] {
            let m = words(&mut body, &[7, len, 0, 0, 0]);
            check_eq!(t, AuthSys::decode(&body[..m]), Err(AuthSysError::MachineNameTooLong { len }));
        }
        for count in [17, u32::MAX] {
            let m = words(&mut body, &[7, 0, 1, 2, count, 0, 0]);
            check_eq!(t, AuthSys::decode(&body[..m]), Err(AuthSysError::TooManyGids { count }));
        }
    }

    fn call_truncated_at_every_length(t) {
        let mut wire = [0u8; 128];
        let (len, cred_end) = sys_call(&mut wire);
        let verf_end = cred_end + 8;
        let mut out = [0u8; 64];
        for cut in 0..=len {
            let got = decode_call(&wire[..cut]);
            let field = if cut < cred_end { AuthField::Cred } else { AuthField::Verf };
            let bad_auth = Err(CallError::BadAuth { xid: XID, field, problem: AuthProblem::Truncated });
            match cut {
                0..=3 => check_eq!(t, got, Err(CallError::TooShort { len: cut, xid: None })),
                4..=7 => check_eq!(t, got, Err(CallError::TooShort { len: cut, xid: Some(XID) })),
                8..=23 => check_eq!(t, got, Err(CallError::TruncatedHeader { xid: XID })),
                _ if cut < verf_end => check_eq!(t, got, bad_auth),
                _ => check_eq!(t, got.map(|c| c.args), Ok(&wire[verf_end..cut])),
            }
            let action = decide(got, &PROG);
            match cut {
                0..=23 => check_eq!(t, Some(action), got.err().map(Action::Close)),
                _ if cut < verf_end => check_eq!(t, action, Action::Reply(denied(RejectStat::AuthError(AuthStat::BADCRED)))),
                _ => check_eq!(t, serve(&wire[..cut], &mut out), Some(NULL_REPLY_LEN)),
            }
        }
    }

    fn call_header_errors(t) {
        let mut w = [0u8; 64];
        let n = words(&mut w, &[XID, REPLY, 2, 100003, 3, 0, 0, 0, 0, 0]);
        check_eq!(t, decode_call(&w[..n]), Err(CallError::Reply { xid: XID }));
        check_eq!(t, decode_call(&w[..8]), Err(CallError::Reply { xid: XID }));
        for mt in [2, 0x8000_0000, u32::MAX] {
            let n = words(&mut w, &[XID, mt, 2, 100003, 3, 0, 0, 0, 0, 0]);
            check_eq!(t, decode_call(&w[..n]), Err(CallError::BadMsgType { xid: XID, msg_type: mt }));
        }
        for v in [0, 1, 3, u32::MAX] {
            // rpcvers is checked before the credential, even a missing one...
            let n = words(&mut w, &[XID, CALL, v, 100003, 3, 0]);
            check_eq!(t, decode_call(&w[..n]), Err(CallError::RpcMismatch { xid: XID, rpcvers: v }));
            // ...but only once the four words up to proc are there.
            check_eq!(t, decode_call(&w[..n - 1]), Err(CallError::TruncatedHeader { xid: XID }));
        }
        check_eq!(t, CallError::TooShort { len: 3, xid: None }.xid(), None);
        check_eq!(t, decode_call(&NULL_CALL[..6]).map_err(|e| e.xid()), Err(Some(XID)));
        check_eq!(t, CallError::BadMsgType { xid: 9, msg_type: 2 }.xid(), Some(9));
    }

    fn over_long_cred_and_verf(t) {
        let mut w = [0u8; 512];
        for len in [401, 404, 0x7fff_ffff, u32::MAX - 3, u32::MAX] {
            let n = words(&mut w, &[XID, CALL, 2, 100003, 3, 0, AUTH_SYS, len]);
            let tl = AuthProblem::TooLong { len };
            // Rejected on the length alone, even when the bytes are there.
            check_eq!(t, decode_call(&w[..n]), Err(CallError::BadAuth { xid: XID, field: AuthField::Cred, problem: tl }));
            check_eq!(t, decode_call(&w), Err(CallError::BadAuth { xid: XID, field: AuthField::Cred, problem: tl }));
            let n = words(&mut w, &[XID, CALL, 2, 100003, 3, 0, AUTH_NONE, 0, AUTH_NONE, len]);
            check_eq!(t, decode_call(&w[..n]), Err(CallError::BadAuth { xid: XID, field: AuthField::Verf, problem: tl }));
            expect_reply(t, &w[..n], denied(RejectStat::AuthError(AuthStat::BADCRED)));
        }
        // 400 bytes is the limit, and a body cut short is truncated.
        let n = words(&mut w, &[XID, CALL, 2, 100003, 3, 0, 99, 400]);
        check_eq!(t, decode_call(&w[..n + 408]).map(|c| (c.cred.body.len(), c.verf, c.args.len())), Ok((400, OpaqueAuth::NONE, 0)));
        let trunc = Err(CallError::BadAuth { xid: XID, field: AuthField::Cred, problem: AuthProblem::Truncated });
        check_eq!(t, decode_call(&w[..n + 399]), trunc);
    }

    fn padding_is_skipped_not_checked(t) {
        let mut w = [0u8; 64];
        let n = words(&mut w, &[XID, CALL, 2, 100003, 3, 0, 99, 5, 0x4142_4344, 0x45ff_ffff, 0, 0]);
        let call = decode_call(&w[..n]);
        check_eq!(t, call.map(|c| (c.cred.body, c.args.len())), Ok((&b"ABCDE"[..], 0)));
        // Re-encoding writes zero padding.
        let mut out = [0u8; 64];
        check_eq!(t, call.map(|c| encode_call(&mut out, &c)), Ok(Ok(n)));
        check_eq!(t, out[37..40], [0, 0, 0]);
        // The padding is part of the body: without it the body is cut short.
        check_eq!(t, decode_call(&w[..38]), Err(CallError::BadAuth { xid: XID, field: AuthField::Cred, problem: AuthProblem::Truncated }));
    }

    fn policy_accepted_outcomes(t) {
        let mut w = [0u8; 512];
        let null = |prog, vers, procedure| Call::new(XID, prog, vers, procedure);
        check_eq!(t, decide_call(null(100003, 3, 0), &mut w), Some(Action::Reply(reply(AcceptStat::Success { results: &[] }))));
        check_eq!(t, decide_call(null(100003, 4, 0), &mut w), Some(Action::Reply(reply(AcceptStat::Success { results: &[] }))));
        for p in [2, 3, u32::MAX] {
            check_eq!(t, decide_call(null(100003, 3, p), &mut w), Some(Action::Reply(reply(AcceptStat::ProcUnavail))));
        }
        for v in [0, 2, 5, u32::MAX] {
            check_eq!(t, decide_call(null(100003, v, 0), &mut w), Some(Action::Reply(reply(AcceptStat::ProgMismatch { low: 3, high: 4 }))));
        }
        for p in [0, 100005, u32::MAX] {
            check_eq!(t, decide_call(null(p, 3, 0), &mut w), Some(Action::Reply(reply(AcceptStat::ProgUnavail))));
        }
        let call = Call { args: b"args", ..null(100003, 4, 1) };
        check_eq!(t, decide(Ok(call), &PROG), Action::Dispatch(call));
        // An empty version range serves nothing.
        let none = Program { low: 5, high: 4, ..PROG };
        check_eq!(t, decide(Ok(null(100003, 4, 0)), &none), Action::Reply(reply(AcceptStat::ProgMismatch { low: 5, high: 4 })));
    }

    fn policy_denied_and_close(t) {
        let mut w = [0u8; 64];
        let n = words(&mut w, &[XID, CALL, 3, 100003, 3, 0]);
        expect_reply(t, &w[..n], denied(RejectStat::RpcMismatch { low: 2, high: 2 }));
        let n = words(&mut w, &[XID, REPLY, 0, 0, 0, 0]);
        check_eq!(t, decide(decode_call(&w[..n]), &PROG), Action::Close(CallError::Reply { xid: XID }));
        let n = words(&mut w, &[XID, 2, 2, 100003, 3, 0, 0, 0, 0, 0]);
        let bad = CallError::BadMsgType { xid: XID, msg_type: 2 };
        check_eq!(t, decide(decode_call(&w[..n]), &PROG), Action::Close(bad));
        for cut in [0, 4, 7, 8, 20, 23] {
            let decoded = decode_call(&NULL_CALL[..cut]);
            check_eq!(t, Some(decide(decoded, &PROG)), decoded.err().map(Action::Close));
        }
    }

    fn policy_credentials(t) {
        let mut w = [0u8; 512];
        let bad = |s| Some(Action::Reply(denied(RejectStat::AuthError(s))));
        let ok = Some(Action::Reply(reply(AcceptStat::Success { results: &[] })));
        let none = OpaqueAuth::NONE;
        let mut body = [0u8; 64];
        let blen = AuthSys::new(1, b"h", 0, 0, &[]).map_or(Ok(0), |c| c.encode(&mut body)).unwrap_or(0);
        let sys = OpaqueAuth { flavor: AUTH_SYS, body: &[0, 0, 0, 1, 0, 0, 0, 1, b'h', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
        check_eq!(t, &body[..blen], sys.body);
        check_eq!(t, decide_call(call_with(sys, none), &mut w), ok);
        check_eq!(t, decide_call(call_with(OpaqueAuth { flavor: AUTH_TLS, body: &[] }, none), &mut w), ok);
        for flavor in [2, 3, RPCSEC_GSS, 8, u32::MAX] {
            check_eq!(t, decide_call(call_with(OpaqueAuth { flavor, body: &[] }, none), &mut w), bad(AuthStat::BADCRED));
        }
        check_eq!(t, decide_call(call_with(OpaqueAuth { flavor: AUTH_NONE, body: &[0; 4] }, none), &mut w), bad(AuthStat::BADCRED));
        check_eq!(t, decide_call(call_with(OpaqueAuth { flavor: AUTH_SYS, body: &sys.body[..20] }, none), &mut w), bad(AuthStat::BADCRED));
        check_eq!(t, decide_call(call_with(OpaqueAuth { flavor: AUTH_SYS, body: &[0; 28] }, none), &mut w), bad(AuthStat::BADCRED));
        for cred in [none, sys] {
            check_eq!(t, decide_call(call_with(cred, sys), &mut w), bad(AuthStat::BADVERF));
            check_eq!(t, decide_call(call_with(cred, OpaqueAuth { flavor: AUTH_NONE, body: &[1] }), &mut w), bad(AuthStat::BADVERF));
        }
        // AUTH_TLS is for NULL only.
        let tls = Call { procedure: 1, ..call_with(OpaqueAuth { flavor: AUTH_TLS, body: &[] }, none) };
        check_eq!(t, decide_call(tls, &mut w), bad(AuthStat::BADCRED));
        // Authentication comes before the program lookup, as in knfsd.
        let other = Call { prog: 7, ..call_with(OpaqueAuth { flavor: 9, body: &[] }, none) };
        check_eq!(t, decide_call(other, &mut w), bad(AuthStat::BADCRED));
    }

    fn encode_into_small_buffers(t) {
        let mut out = [0u8; 64];
        for cut in 0..NULL_CALL_LEN {
            check_eq!(t, encode_call(&mut out[..cut], &Call::new(XID, 100003, 3, 0)), Err(EncodeError::BufferTooSmall { need: NULL_CALL_LEN }));
        }
        for (r, len) in REPLIES {
            for cut in 0..len {
                check_eq!(t, encode_reply(&mut out[..cut], &r), Err(EncodeError::BufferTooSmall { need: len }));
            }
        }
        let big = [0u8; 401];
        let call = call_with(OpaqueAuth { flavor: 1, body: &[] }, OpaqueAuth::NONE);
        check_eq!(t, encode_call(&mut out, &Call { cred: OpaqueAuth { flavor: 1, body: &big }, ..call }), Err(EncodeError::TooLong { len: 401, max: 400 }));
        check_eq!(t, encode_call(&mut out, &Call { verf: OpaqueAuth { flavor: 1, body: &big }, ..call }), Err(EncodeError::TooLong { len: 401, max: 400 }));
        let r = Reply { xid: 1, kind: ReplyKind::Accepted { verf: OpaqueAuth { flavor: 0, body: &big }, stat: AcceptStat::ProgUnavail } };
        check_eq!(t, encode_reply(&mut out, &r), Err(EncodeError::TooLong { len: 401, max: 400 }));
    }

    fn reply_truncated_at_every_length(t) {
        for (r, len) in REPLIES {
            let mut out = [0u8; 64];
            check_eq!(t, encode_reply(&mut out, &r), Ok(len));
            let header = match r.kind {
                ReplyKind::Accepted { verf, stat: AcceptStat::Success { .. } } => Some(24 + padded_len(verf.body.len()).unwrap_or(0)),
                _ => None,
            };
            for cut in 0..len {
                let got = decode_reply(&out[..cut]);
                match header {
                    Some(h) if cut >= h => check_eq!(t, got.map(|g| g.xid), Ok(r.xid)),
                    _ => check_eq!(t, got, Err(ReplyError::Truncated { xid: if cut < 4 { None } else { Some(r.xid) } })),
                }
            }
        }
    }

    fn reply_malformed(t) {
        let mut w = [0u8; 512];
        let cases: [(&[u32], ReplyError); 9] = [
            (&[XID, CALL, 0, 0, 0, 0], ReplyError::NotAReply { xid: XID, msg_type: 0 }),
            (&[XID, 7, 0, 0, 0, 0], ReplyError::NotAReply { xid: XID, msg_type: 7 }),
            (&[XID, 1, 2, 0, 0, 0], ReplyError::BadReplyStat { xid: XID, stat: 2 }),
            (&[XID, 1, 0, 0, 0, 6], ReplyError::BadAcceptStat { xid: XID, stat: 6 }),
            (&[XID, 1, 0, 0, 0, u32::MAX], ReplyError::BadAcceptStat { xid: XID, stat: u32::MAX }),
            (&[XID, 1, 1, 2, 0, 0], ReplyError::BadRejectStat { xid: XID, stat: 2 }),
            (&[XID, 1, 0, 0, 401, 0], ReplyError::VerfTooLong { xid: XID, len: 401 }),
            (&[XID, 1, 0, 0, u32::MAX, 0], ReplyError::VerfTooLong { xid: XID, len: u32::MAX }),
            (&[XID, 1, 0, 0, 400, 0], ReplyError::Truncated { xid: Some(XID) }),
        ];
        for (ws, e) in cases {
            let n = words(&mut w, ws);
            check_eq!(t, decode_reply(&w[..n]), Err(e));
            check_eq!(t, e.xid(), Some(XID));
        }
        for ws in [&[XID, 1, 0, 0, 0, 1, 0][..], &[XID, 1, 0, 0, 0, 2, 3, 4, 5], &[XID, 1, 1, 1, 1, 0], &[XID, 1, 1, 0, 2, 2, 0]] {
            let n = words(&mut w, ws);
            check_eq!(t, decode_reply(&w[..n]), Err(ReplyError::TrailingBytes { xid: XID }));
            check_eq!(t, decode_reply(&w[..n - 4]).map(|r| r.xid), Ok(XID));
        }
    }

    fn xdr_reader_and_writer(t) {
        check_eq!(t, padded_len(5), Some(8));
        check_eq!(t, padded_len(usize::MAX), None);
        check_eq!(t, padded_len(usize::MAX - 3), Some(usize::MAX - 3));
        let data = [0, 0, 0, 5, b'a', b'b', b'c', b'd', b'e', 9, 9];
        let mut r = Reader::new(&data);
        check_eq!(t, r.fixed(usize::MAX), None);
        check_eq!(t, r.fixed(usize::MAX - 2), None);
        check_eq!(t, r.opaque(4), Err(OpaqueError::TooLong { len: 5 }));
        check_eq!(t, r.opaque(5), Err(OpaqueError::Truncated));
        check_eq!(t, r.position(), 0);
        check_eq!(t, r.u32(), Some(5));
        check_eq!(t, r.remaining(), 7);
        check_eq!(t, r.rest(), &data[4..]);
        check_eq!(t, (r.u32(), r.rest().len(), r.remaining()), (None, 0, 0));
        let mut out = [0u8; 6];
        let mut w = Writer::new(&mut out);
        check!(t, w.is_empty());
        check_eq!(t, w.opaque(b"abc", 3), Ok(()));
        check_eq!(t, w.opaque(b"abcd", 3), Err(EncodeError::TooLong { len: 4, max: 3 }));
        w.u32(1);
        check_eq!(t, w.len(), 12);
        check_eq!(t, w.finish(), Err(EncodeError::BufferTooSmall { need: 12 }));
        check_eq!(t, out, [0, 0, 0, 3, 0, 0]);
    }
}
