// SPDX-License-Identifier: GPL-2.0

//! The server's dispatch policy, modelled on Linux knfsd (sunrpc, 6.12).
//!
//! Pure functions from a decoded record to what a server does next, so the
//! policy is tested once, here, and every server (krpc2 in the kernel, the
//! user-space test servers) behaves the same.

use super::{AcceptStat, AuthStat, AuthSys, Call, CallError, RejectStat, Reply, ReplyKind};
use super::{AUTH_NONE, AUTH_SYS, AUTH_TLS, RPC_VERSION};

/// A program a server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Program<'a> {
    /// The program number.
    pub prog: u32,
    /// Lowest version served.
    pub low: u32,
    /// Highest version served (every version in `low..=high` is served).
    pub high: u32,
    /// The procedures that exist in every version served. Procedure 0
    /// (NULL) must be listed to be answered; [`decide`] answers it itself.
    pub procs: &'a [u32],
}

/// What a server does with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Send this reply (encode it with [`super::encode_reply`]).
    Reply(Reply<'static>),
    /// Run this call's procedure, which exists and is neither NULL nor
    /// refused by the policy, and reply with its outcome.
    Dispatch(Call<'a>),
    /// Send nothing and close the connection: the record is not a call
    /// (what [`super::decode_call`] found wrong with it).
    Close(CallError),
}

/// Checks a call's credential and verifier as knfsd's `svc_authenticate`
/// does: the flavor picks an `accept` method of `svcauth_unix.c`, and a
/// failure is the `auth_stat` of an `AUTH_ERROR` reply.
///
/// - [`AUTH_NONE`] (`svcauth_null_accept`): a non-empty credential body is
///   `AUTH_BADCRED`; a verifier other than an empty `AUTH_NONE` is
///   `AUTH_BADVERF`.
/// - [`AUTH_SYS`] (`svcauth_unix_accept`): a body that does not decode as
///   [`AuthSys`] (name over 255 bytes, over 16 groups, truncated) is
///   `AUTH_BADCRED` (knfsd's `SVC_GARBAGE`, which `svc_process_common`
///   turns into `rpc_autherr_badcred`); then the verifier as for
///   `AUTH_NONE`. knfsd ignores the declared body length and reads the
///   fields from the stream; here the fields must fill the body exactly,
///   and bytes left over are `AUTH_BADCRED` too (RFC 5531 leaves no room
///   for them, and knfsd would read them as the verifier).
/// - [`AUTH_TLS`] (`svcauth_tls_accept` on a transport without a TLS
///   handshake): as `AUTH_NONE`, and `AUTH_BADCRED` on any procedure but
///   NULL. No `STARTTLS` verifier is offered.
/// - any other flavor, [`super::RPCSEC_GSS`] included (knfsd without the
///   `auth_rpcgss` module): `svc_get_auth_ops` finds no method,
///   `AUTH_BADCRED`.
pub fn authenticate(call: &Call<'_>) -> Result<(), AuthStat> {
    match call.cred.flavor {
        AUTH_NONE | AUTH_TLS if !call.cred.body.is_empty() => return Err(AuthStat::BADCRED),
        AUTH_NONE | AUTH_TLS => {}
        AUTH_SYS => {
            AuthSys::decode(call.cred.body).map_err(|_| AuthStat::BADCRED)?;
        }
        _ => return Err(AuthStat::BADCRED),
    }
    if call.verf.flavor != AUTH_NONE || !call.verf.body.is_empty() {
        return Err(AuthStat::BADVERF);
    }
    if call.cred.flavor == AUTH_TLS && call.procedure != 0 {
        return Err(AuthStat::BADCRED);
    }
    Ok(())
}

/// Decides what a server serving `program` does with a record, given
/// what [`super::decode_call`] made of it.
///
/// Each outcome mirrors Linux 6.12 knfsd over TCP (`net/sunrpc`), checked
/// in knfsd's order:
///
/// | input | action | knfsd code path |
/// |---|---|---|
/// | [`CallError::TooShort`] (under 8 bytes) | [`Action::Close`] with the error | `svc_tcp_recvfrom`: `sk_datalen < 8`, `err_nuts`, `svc_xprt_deferred_close` |
/// | [`CallError::Reply`], [`CallError::BadMsgType`] | [`Action::Close`] with the error | see below |
/// | [`CallError::TruncatedHeader`] (8 to 23 bytes) | [`Action::Close`] with the error | `svc_process_common`: `err_short_len`, `close_xprt` (TCP transports are `XPT_TEMP`) |
/// | [`CallError::RpcMismatch`] | `MSG_DENIED` `RPC_MISMATCH` 2..2 | `svc_process_common`: `err_bad_rpc` |
/// | [`CallError::BadAuth`] (body over 400 bytes, or the record ends in the credential or verifier) | `MSG_DENIED` `AUTH_ERROR` `AUTH_BADCRED` | `svc_authenticate` and the flavor's `accept` return `SVC_GARBAGE` (failed `xdr_stream_decode_u32` or `xdr_stream_decode_opaque_auth`), or `svcauth_null_accept` sees a non-zero credential length; `svc_process_common` sends `rpc_autherr_badcred` |
/// | credential refused by [`authenticate`] | `MSG_DENIED` `AUTH_ERROR` with its `auth_stat` | `svc_authenticate` returns `SVC_DENIED` or `SVC_GARBAGE`, `err_bad_auth` |
/// | `prog` not served | `PROG_UNAVAIL` | `err_bad_prog` (authentication comes first) |
/// | `vers` outside `low..=high` | `PROG_MISMATCH` `low..=high` | `svc_generic_init_request`: `err_bad_vers` with `pg_lovers`, `pg_hivers` |
/// | `proc` not in `procs` | `PROC_UNAVAIL` | `svc_generic_init_request`: `err_bad_proc` |
/// | NULL (proc 0) | `SUCCESS`, `AUTH_NONE` verifier, no results | the NULL procedure; its `pc_decode` (`nfssvc_decode_voidarg`) ignores any arguments, so there is no `GARBAGE_ARGS` |
/// | any other listed proc | [`Action::Dispatch`] | `process.dispatch` |
///
/// A record that is not a call: on TCP, knfsd hands any non-zero
/// `msg_type` to `receive_cb_reply`, which without a backchannel returns
/// `-EAGAIN`, so the record is dropped in silence and the connection kept
/// (`svc_process` drops it likewise, `out_baddir`). ksf closes instead: a
/// server that never sends calls has no use for replies, and a peer that
/// sends them is broken; a silently dropped record would leave it waiting
/// forever (the original's defect of dropping undecodable calls with the
/// connection left open).
///
/// Oversized records never get here: the record-marking layer
/// ([`super::super::rm`]) rejects them, and the connection is closed, as
/// `svc_tcp_read_marker` does.
pub fn decide<'a>(decoded: Result<Call<'a>, CallError>, program: &Program<'_>) -> Action<'a> {
    let call = match decoded {
        Ok(call) => call,
        Err(
            e @ (CallError::TooShort { .. }
            | CallError::Reply { .. }
            | CallError::BadMsgType { .. }
            | CallError::TruncatedHeader { .. }),
        ) => return Action::Close(e),
        Err(CallError::RpcMismatch { xid, .. }) => {
            let stat = RejectStat::RpcMismatch {
                low: RPC_VERSION,
                high: RPC_VERSION,
            };
            return denied(xid, stat);
        }
        Err(CallError::BadAuth { xid, .. }) => {
            return denied(xid, RejectStat::AuthError(AuthStat::BADCRED));
        }
    };
    if let Err(stat) = authenticate(&call) {
        return denied(call.xid, RejectStat::AuthError(stat));
    }
    let stat = if call.prog != program.prog {
        AcceptStat::ProgUnavail
    } else if call.vers < program.low || call.vers > program.high {
        AcceptStat::ProgMismatch {
            low: program.low,
            high: program.high,
        }
    } else if !program.procs.contains(&call.procedure) {
        AcceptStat::ProcUnavail
    } else if call.procedure == 0 {
        AcceptStat::Success { results: &[] }
    } else {
        return Action::Dispatch(call);
    };
    Action::Reply(Reply {
        xid: call.xid,
        kind: ReplyKind::accepted(stat),
    })
}

fn denied(xid: u32, stat: RejectStat) -> Action<'static> {
    Action::Reply(Reply {
        xid,
        kind: ReplyKind::Denied(stat),
    })
}
