// SPDX-License-Identifier: GPL-2.0

//! Call messages: decoding for servers, encoding for clients.

use super::xdr::{EncodeError, OpaqueError, Reader, Writer};
use super::{Call, OpaqueAuth, CALL, MAX_AUTH_BYTES, REPLY, RPC_VERSION};

/// Which `opaque_auth` of a call is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthField {
    /// The credential.
    Cred,
    /// The verifier.
    Verf,
}

/// How an `opaque_auth` of a call is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthProblem {
    /// The flavor, the length word or the body runs past the record.
    Truncated,
    /// The body length is over [`MAX_AUTH_BYTES`] (checked before the
    /// record length, like knfsd's `xdr_stream_decode_opaque_auth`).
    TooLong {
        /// The declared body length.
        len: u32,
    },
}

/// Why a record is not a well-formed call, in the order the checks are
/// made. Each variant carries the xid when it could be read.
///
/// [`super::decide`] turns each of these into what knfsd would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The record is too short (under 8 bytes) to hold an xid and a
    /// `msg_type`.
    TooShort {
        /// The record length.
        len: usize,
        /// The xid, if the record holds one (4 to 7 bytes).
        xid: Option<u32>,
    },
    /// The message is a reply (`msg_type` [`REPLY`]), not a call.
    Reply {
        /// Its xid.
        xid: u32,
    },
    /// `msg_type` is neither [`CALL`] nor [`REPLY`].
    BadMsgType {
        /// The xid.
        xid: u32,
        /// The `msg_type` read.
        msg_type: u32,
    },
    /// The record ends before `proc` (under
    /// [`super::CALL_HEADER_LEN`] bytes).
    TruncatedHeader {
        /// The xid.
        xid: u32,
    },
    /// `rpcvers` is not [`RPC_VERSION`].
    RpcMismatch {
        /// The xid.
        xid: u32,
        /// The `rpcvers` read.
        rpcvers: u32,
    },
    /// The credential or the verifier is malformed.
    BadAuth {
        /// The xid.
        xid: u32,
        /// Which one.
        field: AuthField,
        /// What is wrong with it.
        problem: AuthProblem,
    },
}

impl CallError {
    /// The xid, if the record was long enough to hold one.
    pub const fn xid(&self) -> Option<u32> {
        match *self {
            CallError::TooShort { xid, .. } => xid,
            CallError::Reply { xid }
            | CallError::BadMsgType { xid, .. }
            | CallError::TruncatedHeader { xid }
            | CallError::RpcMismatch { xid, .. }
            | CallError::BadAuth { xid, .. } => Some(xid),
        }
    }
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CallError::TooShort { len, .. } => write!(f, "record of {len} bytes is too short"),
            CallError::Reply { xid } => write!(f, "xid {xid:#x}: a reply, not a call"),
            CallError::BadMsgType { xid, msg_type } => {
                write!(f, "xid {xid:#x}: bad msg_type {msg_type}")
            }
            CallError::TruncatedHeader { xid } => write!(f, "xid {xid:#x}: truncated call header"),
            CallError::RpcMismatch { xid, rpcvers } => {
                write!(f, "xid {xid:#x}: unsupported rpcvers {rpcvers}")
            }
            CallError::BadAuth {
                xid,
                field,
                problem,
            } => {
                let what = match field {
                    AuthField::Cred => "credential",
                    AuthField::Verf => "verifier",
                };
                match problem {
                    AuthProblem::Truncated => write!(f, "xid {xid:#x}: truncated {what}"),
                    AuthProblem::TooLong { len } => {
                        write!(f, "xid {xid:#x}: {what} body of {len} bytes is too long")
                    }
                }
            }
        }
    }
}

/// Parses one complete record as a call, without copying: the credential,
/// verifier and argument slices borrow from `record`.
///
/// Only the RPC header is checked. Whether the credential suits its flavor
/// is for [`super::authenticate`]; trailing arguments are the procedure's
/// business.
pub fn decode_call(record: &[u8]) -> Result<Call<'_>, CallError> {
    let mut r = Reader::new(record);
    let xid = r.u32();
    let (Some(xid), Some(msg_type)) = (xid, r.u32()) else {
        let len = record.len();
        return Err(CallError::TooShort { len, xid });
    };
    match msg_type {
        CALL => {}
        REPLY => return Err(CallError::Reply { xid }),
        _ => return Err(CallError::BadMsgType { xid, msg_type }),
    }
    // knfsd reads these four words at once before looking at rpcvers.
    let (Some(rpcvers), Some(prog), Some(vers), Some(procedure)) =
        (r.u32(), r.u32(), r.u32(), r.u32())
    else {
        return Err(CallError::TruncatedHeader { xid });
    };
    if rpcvers != RPC_VERSION {
        return Err(CallError::RpcMismatch { xid, rpcvers });
    }
    let cred = opaque_auth(&mut r, xid, AuthField::Cred)?;
    let verf = opaque_auth(&mut r, xid, AuthField::Verf)?;
    Ok(Call {
        xid,
        rpcvers,
        prog,
        vers,
        procedure,
        cred,
        verf,
        args: r.rest(),
    })
}

/// Reads a flavor and a body of at most [`MAX_AUTH_BYTES`].
fn opaque_auth<'a>(
    r: &mut Reader<'a>,
    xid: u32,
    field: AuthField,
) -> Result<OpaqueAuth<'a>, CallError> {
    let err = |problem| CallError::BadAuth {
        xid,
        field,
        problem,
    };
    let flavor = r.u32().ok_or(err(AuthProblem::Truncated))?;
    let body = r.opaque(MAX_AUTH_BYTES).map_err(|e| match e {
        OpaqueError::Truncated => err(AuthProblem::Truncated),
        OpaqueError::TooLong { len } => err(AuthProblem::TooLong { len }),
    })?;
    Ok(OpaqueAuth { flavor, body })
}

/// Writes `call` into `out` and returns its length (without a record mark).
///
/// `call.rpcvers` is written as it is, so that tests can send bad versions.
/// Fails if a credential or verifier body is over [`MAX_AUTH_BYTES`] or if
/// `out` is too small; `out` then holds nothing useful.
pub fn encode_call(out: &mut [u8], call: &Call<'_>) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    w.u32(call.xid);
    w.u32(CALL);
    w.u32(call.rpcvers);
    w.u32(call.prog);
    w.u32(call.vers);
    w.u32(call.procedure);
    for auth in [&call.cred, &call.verf] {
        w.u32(auth.flavor);
        w.opaque(auth.body, MAX_AUTH_BYTES)?;
    }
    w.bytes(call.args);
    w.finish()
}
