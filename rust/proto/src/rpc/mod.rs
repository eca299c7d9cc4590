// SPDX-License-Identifier: GPL-2.0

//! ONC RPC version 2 messages (RFC 5531).
//!
//! A message is one record of the record-marking layer ([`super::rm`]). This
//! module decodes and encodes the RPC header around the procedure arguments
//! and results, which stay opaque byte slices:
//!
//! - servers: [`decode_call`] parses a record in place, [`decide`] applies
//!   the dispatch policy of Linux knfsd (sunrpc) to the outcome, and
//!   [`encode_reply`] writes the reply into a caller buffer;
//! - a whole server, record stream to replies, for krpc2, usrv and the
//!   fuzzers: [`engine`];
//! - clients: [`encode_call`] (with [`AuthSys`] for `AUTH_SYS` credentials)
//!   and [`decode_reply`].
//!
//! Nothing here allocates or panics, whatever the input: every length read
//! from the wire is checked against the record before it is used, and every
//! encoder reports a buffer that is too small instead of writing past it.
//! XDR padding bytes are written as zeros and, like knfsd, not checked on
//! input.
//!
//! # Examples
//!
//! ```
//! use ksf_proto::rpc::{decide, decode_call, encode_call, encode_reply};
//! use ksf_proto::rpc::{Action, Call, Program, NULL_CALL_LEN, NULL_REPLY_LEN};
//!
//! const NFS: Program<'static> = Program { prog: 100003, low: 3, high: 3, procs: &[0] };
//!
//! let mut call = [0u8; 64];
//! let len = encode_call(&mut call, &Call::new(7, 100003, 3, 0)).unwrap();
//! assert_eq!(len, NULL_CALL_LEN);
//!
//! let Action::Reply(reply) = decide(decode_call(&call[..len]), &NFS) else {
//!     panic!("NULL is answered by the policy itself");
//! };
//! let mut out = [0u8; 64];
//! assert_eq!(encode_reply(&mut out, &reply), Ok(NULL_REPLY_LEN));
//! ```

mod auth;
mod call;
pub mod engine;
mod reply;
mod server;
pub mod xdr;

#[cfg(any(test, KSF_KUNIT))]
pub mod cases;

// Kernel crates mount this tree as one of their modules and use only part
// of it: an unused re-export is no reason for a warning there.
#[allow(unused_imports)]
pub use {
    auth::{AuthSys, AuthSysError},
    call::{decode_call, encode_call, AuthField, AuthProblem, CallError},
    reply::{decode_reply, encode_reply, ReplyError},
    server::{authenticate, decide, Action, Program},
    xdr::EncodeError,
};

/// The only RPC protocol version (`rpcvers`) there is.
pub const RPC_VERSION: u32 = 2;

/// `msg_type` of a call.
pub const CALL: u32 = 0;
/// `msg_type` of a reply.
pub const REPLY: u32 = 1;

/// `reply_stat` of an accepted reply.
pub const MSG_ACCEPTED: u32 = 0;
/// `reply_stat` of a denied reply.
pub const MSG_DENIED: u32 = 1;

/// `accept_stat`: the procedure ran; its results follow.
pub const SUCCESS: u32 = 0;
/// `accept_stat`: the program is not served.
pub const PROG_UNAVAIL: u32 = 1;
/// `accept_stat`: the version is not served; the served range follows.
pub const PROG_MISMATCH: u32 = 2;
/// `accept_stat`: the procedure does not exist.
pub const PROC_UNAVAIL: u32 = 3;
/// `accept_stat`: the arguments could not be decoded.
pub const GARBAGE_ARGS: u32 = 4;
/// `accept_stat`: a server-side error, such as a failed allocation.
pub const SYSTEM_ERR: u32 = 5;

/// `reject_stat`: `rpcvers` was not 2; the supported range follows.
pub const RPC_MISMATCH: u32 = 0;
/// `reject_stat`: authentication failed; an `auth_stat` follows.
pub const AUTH_ERROR: u32 = 1;

/// Credential flavor: no credential (`AUTH_NONE`, also `AUTH_NULL`).
pub const AUTH_NONE: u32 = 0;
/// Credential flavor: Unix-style uid, gid and groups (`AUTH_SYS`, also
/// `AUTH_UNIX`); see [`AuthSys`].
pub const AUTH_SYS: u32 = 1;
/// Credential flavor: RPCSEC_GSS (RFC 2203). Not served here.
pub const RPCSEC_GSS: u32 = 6;
/// Credential flavor: the TLS probe of RFC 9289 (`AUTH_TLS`).
pub const AUTH_TLS: u32 = 7;

/// Largest credential or verifier body (`opaque body<400>`).
pub const MAX_AUTH_BYTES: usize = 400;
/// Largest `AUTH_SYS` machine name (`string machinename<255>`).
pub const MAX_MACHINE_NAME: usize = 255;
/// Most supplementary groups in an `AUTH_SYS` credential (`gids<16>`).
pub const MAX_GIDS: usize = 16;

/// Bytes of a call up to and including `proc`: what a server must have to
/// answer at all (knfsd closes the connection on anything shorter).
pub const CALL_HEADER_LEN: usize = 24;
/// A NULL call with `AUTH_NONE` credential and verifier, without its
/// record mark.
pub const NULL_CALL_LEN: usize = 40;
/// An accepted `SUCCESS` reply with an `AUTH_NONE` verifier and no results,
/// without its record mark.
pub const NULL_REPLY_LEN: usize = 24;

/// A credential or verifier (`opaque_auth`): a flavor and an opaque body of
/// at most [`MAX_AUTH_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpaqueAuth<'a> {
    /// The authentication flavor ([`AUTH_NONE`], [`AUTH_SYS`], ...).
    pub flavor: u32,
    /// The body, without its length word and padding.
    pub body: &'a [u8],
}

impl OpaqueAuth<'static> {
    /// The `AUTH_NONE` credential or verifier, with an empty body.
    pub const NONE: OpaqueAuth<'static> = OpaqueAuth {
        flavor: AUTH_NONE,
        body: &[],
    };
}

/// An RPC call message, borrowed from the record it was decoded from (or to
/// be encoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// Transaction id, echoed in the reply.
    pub xid: u32,
    /// RPC protocol version; always [`RPC_VERSION`] in a decoded call.
    pub rpcvers: u32,
    /// Program number.
    pub prog: u32,
    /// Program version.
    pub vers: u32,
    /// Procedure number (`proc` on the wire; 0 is NULL).
    pub procedure: u32,
    /// The credential.
    pub cred: OpaqueAuth<'a>,
    /// The verifier.
    pub verf: OpaqueAuth<'a>,
    /// The procedure arguments: the rest of the record.
    pub args: &'a [u8],
}

impl Call<'static> {
    /// A call of `procedure` with `AUTH_NONE` credential and verifier and no
    /// arguments.
    pub const fn new(xid: u32, prog: u32, vers: u32, procedure: u32) -> Call<'static> {
        Call {
            xid,
            rpcvers: RPC_VERSION,
            prog,
            vers,
            procedure,
            cred: OpaqueAuth::NONE,
            verf: OpaqueAuth::NONE,
            args: &[],
        }
    }
}

/// An `auth_stat` value: why authentication failed.
///
/// A newtype rather than an enum so that a reply carrying a value this code
/// does not know still decodes (and encodes back) unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthStat(pub u32);

impl AuthStat {
    /// `AUTH_OK`: success (never sent in a denied reply).
    pub const OK: AuthStat = AuthStat(0);
    /// `AUTH_BADCRED`: bad credential (seal broken).
    pub const BADCRED: AuthStat = AuthStat(1);
    /// `AUTH_REJECTEDCRED`: the client must begin a new session.
    pub const REJECTEDCRED: AuthStat = AuthStat(2);
    /// `AUTH_BADVERF`: bad verifier (seal broken).
    pub const BADVERF: AuthStat = AuthStat(3);
    /// `AUTH_REJECTEDVERF`: verifier expired or replayed.
    pub const REJECTEDVERF: AuthStat = AuthStat(4);
    /// `AUTH_TOOWEAK`: rejected for security reasons.
    pub const TOOWEAK: AuthStat = AuthStat(5);
    /// `AUTH_INVALIDRESP`: bogus response verifier.
    pub const INVALIDRESP: AuthStat = AuthStat(6);
    /// `AUTH_FAILED`: reason unknown.
    pub const FAILED: AuthStat = AuthStat(7);
}

/// The `accept_stat` of an accepted reply, with the data that goes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptStat<'a> {
    /// [`SUCCESS`], followed by the procedure results.
    Success {
        /// The results: the rest of the record.
        results: &'a [u8],
    },
    /// [`PROG_UNAVAIL`].
    ProgUnavail,
    /// [`PROG_MISMATCH`] with the lowest and highest versions served.
    ProgMismatch {
        /// Lowest version served.
        low: u32,
        /// Highest version served.
        high: u32,
    },
    /// [`PROC_UNAVAIL`].
    ProcUnavail,
    /// [`GARBAGE_ARGS`].
    GarbageArgs,
    /// [`SYSTEM_ERR`].
    SystemErr,
}

impl AcceptStat<'_> {
    /// The `accept_stat` wire value.
    pub const fn code(&self) -> u32 {
        match self {
            AcceptStat::Success { .. } => SUCCESS,
            AcceptStat::ProgUnavail => PROG_UNAVAIL,
            AcceptStat::ProgMismatch { .. } => PROG_MISMATCH,
            AcceptStat::ProcUnavail => PROC_UNAVAIL,
            AcceptStat::GarbageArgs => GARBAGE_ARGS,
            AcceptStat::SystemErr => SYSTEM_ERR,
        }
    }
}

/// The `reject_stat` of a denied reply, with the data that goes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectStat {
    /// [`RPC_MISMATCH`] with the lowest and highest RPC versions supported.
    RpcMismatch {
        /// Lowest RPC version supported.
        low: u32,
        /// Highest RPC version supported.
        high: u32,
    },
    /// [`AUTH_ERROR`] with the reason.
    AuthError(AuthStat),
}

/// What a reply says, apart from its xid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind<'a> {
    /// `MSG_ACCEPTED`: the server's verifier, then the `accept_stat`.
    Accepted {
        /// The server's verifier (`AUTH_NONE` from the servers here).
        verf: OpaqueAuth<'a>,
        /// The outcome and its data.
        stat: AcceptStat<'a>,
    },
    /// `MSG_DENIED`, with the reason.
    Denied(RejectStat),
}

impl<'a> ReplyKind<'a> {
    /// An accepted reply with an `AUTH_NONE` verifier.
    pub const fn accepted(stat: AcceptStat<'a>) -> ReplyKind<'a> {
        ReplyKind::Accepted {
            verf: OpaqueAuth::NONE,
            stat,
        }
    }
}

/// An RPC reply message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    /// Transaction id of the call this answers.
    pub xid: u32,
    /// What the reply says.
    pub kind: ReplyKind<'a>,
}
