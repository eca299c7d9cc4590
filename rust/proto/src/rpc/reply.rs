// SPDX-License-Identifier: GPL-2.0

//! Reply messages: encoding for servers, decoding for clients.

use super::xdr::{EncodeError, OpaqueError, Reader, Writer};
use super::{AcceptStat, AuthStat, OpaqueAuth, RejectStat, Reply, ReplyKind};
use super::{AUTH_ERROR, GARBAGE_ARGS, MAX_AUTH_BYTES, MSG_ACCEPTED, MSG_DENIED, PROC_UNAVAIL};
use super::{PROG_MISMATCH, PROG_UNAVAIL, REPLY, RPC_MISMATCH, SUCCESS, SYSTEM_ERR};

/// Why a record is not a well-formed reply. Each variant but a record too
/// short for an xid carries the xid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// The record ends inside the reply header or its fixed-size data.
    Truncated {
        /// The xid, if the record holds one.
        xid: Option<u32>,
    },
    /// `msg_type` is not [`REPLY`].
    NotAReply {
        /// The xid.
        xid: u32,
        /// The `msg_type` read.
        msg_type: u32,
    },
    /// `reply_stat` is neither [`MSG_ACCEPTED`] nor [`MSG_DENIED`].
    BadReplyStat {
        /// The xid.
        xid: u32,
        /// The `reply_stat` read.
        stat: u32,
    },
    /// The verifier body is over [`MAX_AUTH_BYTES`].
    VerfTooLong {
        /// The xid.
        xid: u32,
        /// The declared body length.
        len: u32,
    },
    /// `accept_stat` is not one of RFC 5531's.
    BadAcceptStat {
        /// The xid.
        xid: u32,
        /// The `accept_stat` read.
        stat: u32,
    },
    /// `reject_stat` is neither [`RPC_MISMATCH`] nor [`AUTH_ERROR`].
    BadRejectStat {
        /// The xid.
        xid: u32,
        /// The `reject_stat` read.
        stat: u32,
    },
    /// Bytes follow a reply that carries no results.
    TrailingBytes {
        /// The xid.
        xid: u32,
    },
}

impl ReplyError {
    /// The xid, if the record was long enough to hold one.
    pub const fn xid(&self) -> Option<u32> {
        match *self {
            ReplyError::Truncated { xid } => xid,
            ReplyError::NotAReply { xid, .. }
            | ReplyError::BadReplyStat { xid, .. }
            | ReplyError::VerfTooLong { xid, .. }
            | ReplyError::BadAcceptStat { xid, .. }
            | ReplyError::BadRejectStat { xid, .. }
            | ReplyError::TrailingBytes { xid } => Some(xid),
        }
    }
}

impl core::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ReplyError::Truncated { xid: None } => write!(f, "truncated reply"),
            ReplyError::Truncated { xid: Some(xid) } => write!(f, "xid {xid:#x}: truncated reply"),
            ReplyError::NotAReply { xid, msg_type } => {
                write!(f, "xid {xid:#x}: msg_type {msg_type} is not a reply")
            }
            ReplyError::BadReplyStat { xid, stat } => {
                write!(f, "xid {xid:#x}: bad reply_stat {stat}")
            }
            ReplyError::VerfTooLong { xid, len } => {
                write!(f, "xid {xid:#x}: verifier body of {len} bytes is too long")
            }
            ReplyError::BadAcceptStat { xid, stat } => {
                write!(f, "xid {xid:#x}: bad accept_stat {stat}")
            }
            ReplyError::BadRejectStat { xid, stat } => {
                write!(f, "xid {xid:#x}: bad reject_stat {stat}")
            }
            ReplyError::TrailingBytes { xid } => write!(f, "xid {xid:#x}: trailing bytes"),
        }
    }
}

/// Writes `reply` into `out` and returns its length (without a record
/// mark). A `SUCCESS` reply's results are copied after the header.
///
/// Fails if the verifier body is over [`MAX_AUTH_BYTES`] or if `out` is too
/// small; `out` then holds nothing useful.
pub fn encode_reply(out: &mut [u8], reply: &Reply<'_>) -> Result<usize, EncodeError> {
    let mut w = Writer::new(out);
    w.u32(reply.xid);
    w.u32(REPLY);
    match reply.kind {
        ReplyKind::Accepted { verf, stat } => {
            w.u32(MSG_ACCEPTED);
            w.u32(verf.flavor);
            w.opaque(verf.body, MAX_AUTH_BYTES)?;
            w.u32(stat.code());
            match stat {
                AcceptStat::Success { results } => w.bytes(results),
                AcceptStat::ProgMismatch { low, high } => {
                    w.u32(low);
                    w.u32(high);
                }
                _ => {}
            }
        }
        ReplyKind::Denied(RejectStat::RpcMismatch { low, high }) => {
            w.u32(MSG_DENIED);
            w.u32(RPC_MISMATCH);
            w.u32(low);
            w.u32(high);
        }
        ReplyKind::Denied(RejectStat::AuthError(stat)) => {
            w.u32(MSG_DENIED);
            w.u32(AUTH_ERROR);
            w.u32(stat.0);
        }
    }
    w.finish()
}

/// Parses one complete record as a reply, without copying: the verifier
/// and the results borrow from `record`.
pub fn decode_reply(record: &[u8]) -> Result<Reply<'_>, ReplyError> {
    let mut r = Reader::new(record);
    let xid = r.u32().ok_or(ReplyError::Truncated { xid: None })?;
    let truncated = ReplyError::Truncated { xid: Some(xid) };
    let msg_type = r.u32().ok_or(truncated)?;
    if msg_type != REPLY {
        return Err(ReplyError::NotAReply { xid, msg_type });
    }
    let kind = match r.u32().ok_or(truncated)? {
        MSG_ACCEPTED => {
            let flavor = r.u32().ok_or(truncated)?;
            let body = r.opaque(MAX_AUTH_BYTES).map_err(|e| match e {
                OpaqueError::Truncated => truncated,
                OpaqueError::TooLong { len } => ReplyError::VerfTooLong { xid, len },
            })?;
            let verf = OpaqueAuth { flavor, body };
            let stat = match r.u32().ok_or(truncated)? {
                SUCCESS => AcceptStat::Success { results: r.rest() },
                PROG_UNAVAIL => AcceptStat::ProgUnavail,
                PROG_MISMATCH => {
                    let low = r.u32().ok_or(truncated)?;
                    let high = r.u32().ok_or(truncated)?;
                    AcceptStat::ProgMismatch { low, high }
                }
                PROC_UNAVAIL => AcceptStat::ProcUnavail,
                GARBAGE_ARGS => AcceptStat::GarbageArgs,
                SYSTEM_ERR => AcceptStat::SystemErr,
                stat => return Err(ReplyError::BadAcceptStat { xid, stat }),
            };
            ReplyKind::Accepted { verf, stat }
        }
        MSG_DENIED => match r.u32().ok_or(truncated)? {
            RPC_MISMATCH => {
                let low = r.u32().ok_or(truncated)?;
                let high = r.u32().ok_or(truncated)?;
                ReplyKind::Denied(RejectStat::RpcMismatch { low, high })
            }
            AUTH_ERROR => {
                let stat = r.u32().ok_or(truncated)?;
                ReplyKind::Denied(RejectStat::AuthError(AuthStat(stat)))
            }
            stat => return Err(ReplyError::BadRejectStat { xid, stat }),
        },
        stat => return Err(ReplyError::BadReplyStat { xid, stat }),
    };
    if r.remaining() != 0 {
        return Err(ReplyError::TrailingBytes { xid });
    }
    Ok(Reply { xid, kind })
}
