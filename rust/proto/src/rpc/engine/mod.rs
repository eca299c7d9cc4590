// SPDX-License-Identifier: GPL-2.0

//! The RPC server engine: what krpc2, the user-space server `usrv`, the
//! fuzzer's model and the fuzz targets all run, written once.
//!
//! - [`Server`] is a server's configuration (the program it serves and the
//!   record-marking limits) and its answer to one record
//!   ([`Server::answer`], the policy of [`super::decide`] for a server that
//!   runs no procedure but NULL), or to one datagram ([`Server::datagram`]);
//! - [`Stream`] is one TCP connection: record reassembly within the limits
//!   ([`Stream::next`], a record → its reply, or the reason to close) and
//!   replies encoded back to back into the caller's buffer
//!   ([`Stream::feed`]), with back-pressure when that buffer is full;
//! - [`Reassembly`] is the buffer a caller lends for a record that did not
//!   arrive whole. A record that arrives whole in one input is answered in
//!   place, without a copy (krpc2's fast path).
//!
//! The caller owns every buffer and does the I/O; the engine decides. Like
//! the rest of this tree it allocates nothing and panics on no input.
//!
//! # Procedures beyond NULL
//!
//! A server that runs procedures (krpc2's NFSv3 export,
//! [`super::super::nfs3::service`]) hands them to the engine as a
//! [`Procedures`] implementation: [`Server::reply`] answers one record with
//! it, and [`Stream::serve`] is [`Stream::feed`] with it. [`Stream::feed`]
//! is [`Stream::serve`] with [`NullOnly`], the procedures of a server that
//! runs none but NULL: its replies and its back-pressure are what they
//! were before procedures existed.
//!
//! Replies stay within the caller's buffer: [`Stream::serve`] reads a
//! record only when the output has room for the longest reply the
//! procedures can write ([`max_marked_reply`] of
//! [`Procedures::MAX_RESULTS`]), and stops with [`Stop::OutputFull`]
//! otherwise. A reply whose results end in bulk data (a READ's) does not
//! carry it: the procedure returns the data as a [`Payload`], a range of
//! the server's storage, and the engine writes the record mark for the
//! whole reply, then the header and the results up to the data's length
//! word. [`Stream::serve`] stops right after such a reply, with the
//! payload in [`Served::payload`]: the caller sends the output, then the
//! payload's bytes from where they live (krpc2: the export's pages, with
//! no copy), then [`Payload::pad`] zero bytes, and only then serves the
//! rest of the input. No later record of the connection runs before the
//! payload is handed to the transport, so a WRITE pipelined behind a READ
//! cannot change the data the READ answered with (a concurrent WRITE on
//! another connection can, as on any server without locks).
//!
//! # Examples
//!
//! ```
//! use ksf_proto::rm::{Mark, MARK_LEN};
//! use ksf_proto::rpc::engine::{Fixed, Server, Stop, Stream};
//! use ksf_proto::rpc::{encode_call, Call, NULL_CALL_LEN, NULL_REPLY_LEN};
//!
//! let server = Server::nfs_null(3, 3, 4096);
//! let mut conn = Stream::new(&server, Fixed::<128>::new());
//! let mut wire = [0u8; MARK_LEN + NULL_CALL_LEN];
//! encode_call(&mut wire[MARK_LEN..], &Call::new(7, 100003, 3, 0)).unwrap();
//! wire[..MARK_LEN].copy_from_slice(&Mark::new(NULL_CALL_LEN, true).unwrap().encode());
//!
//! let mut out = [0u8; 256];
//! let fed = conn.feed(&server, &wire, &mut out);
//! assert_eq!((fed.consumed, fed.written), (wire.len(), MARK_LEN + NULL_REPLY_LEN));
//! assert_eq!((fed.calls, fed.replies, fed.stop), (1, 1, Stop::Drained));
//! ```

mod reassembly;
mod stream;

#[cfg(any(test, KSF_KUNIT))]
pub mod cases;

use super::super::rm::{Limits, Mark, MARK_LEN};
use super::xdr::padded_len;
use super::{decide, decode_call, encode_reply, AcceptStat, Action, Call, CallError, Program};
use super::{Reply, ReplyKind};

#[allow(unused_imports)]
pub use {
    reassembly::{Fixed, NoMemory, Reassembly},
    stream::{Close, Event, Fed, Next, Served, Stop, Stream},
};

/// The NFS program number.
pub const NFS_PROGRAM: u32 = 100003;
/// Most fragments in one record (krpc2's and usrv's limit).
pub const MAX_FRAGMENTS: u32 = 64;
/// The longest reply [`Server::answer`] gives, without its record mark:
/// `PROG_MISMATCH`, 8 words. A datagram reply fits in this much.
pub const MAX_REPLY_LEN: usize = 32;
/// The longest reply with its record mark: the room [`Stream::feed`]
/// needs in its output before it reads another record.
pub const MAX_MARKED_REPLY: usize = MARK_LEN + MAX_REPLY_LEN;

/// Bytes of an accepted `SUCCESS` reply header with an `AUTH_NONE`
/// verifier, before the results.
pub const SUCCESS_HEADER_LEN: usize = 24;

/// The longest marked reply a server whose procedures write at most
/// `max_results` bytes of results gives (a payload aside): the room
/// [`Stream::serve`] needs in its output before it reads another record.
pub const fn max_marked_reply(max_results: usize) -> usize {
    let success = SUCCESS_HEADER_LEN.saturating_add(max_results);
    let longest = if success > MAX_REPLY_LEN {
        success
    } else {
        MAX_REPLY_LEN
    };
    MARK_LEN.saturating_add(longest)
}

/// The procedures NFSv3 servers run here: NULL, GETATTR, LOOKUP, ACCESS,
/// READ, WRITE, FSSTAT, FSINFO and PATHCONF.
const NFS3_PROCS: [u32; 9] = [0, 1, 3, 4, 6, 7, 18, 19, 20];

/// The MOUNT program (version 3) an NFSv3 server answers beside NFS, on
/// the same port: NULL, MNT and UMNT.
const MOUNT3: Program<'static> = Program {
    prog: 100005,
    low: 3,
    high: 3,
    procs: &[0, 1, 3],
};

/// A range of a server's storage that ends a reply: the data of a READ,
/// sent by the caller after the reply's header and results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The file (or other object) it is part of.
    pub file: u32,
    /// Where the range starts.
    pub offset: u64,
    /// Its length.
    pub len: u32,
}

impl Payload {
    /// Zero bytes that follow the payload (XDR padding).
    pub const fn pad(&self) -> usize {
        let n = self.len as usize;
        match padded_len(n) {
            Some(p) => p - n,
            None => 0,
        }
    }
}

/// What [`Procedures::run`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Results {
    /// Bytes of results written (or needed, if more than the room given:
    /// the engine then closes the connection rather than send a part).
    pub len: usize,
    /// The bulk data that follows the results, if any.
    pub payload: Option<Payload>,
}

/// The procedures of a program beyond NULL.
pub trait Procedures {
    /// The most bytes of results [`Procedures::run`] writes, a payload
    /// aside.
    const MAX_RESULTS: usize;

    /// Runs `call`, a procedure its program lists, not NULL, and allowed
    /// by the policy ([`super::decide`]'s [`Action::Dispatch`]): writes
    /// its results into `results` (at least [`Procedures::MAX_RESULTS`]
    /// bytes), or refuses it with a non-`SUCCESS` `accept_stat`
    /// (`PROC_UNAVAIL`, `GARBAGE_ARGS`, `SYSTEM_ERR`).
    fn run(&self, call: &Call<'_>, results: &mut [u8]) -> Result<Results, AcceptStat<'static>>;
}

/// The procedures of a server that runs none but NULL: every other one is
/// `PROC_UNAVAIL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NullOnly;

impl Procedures for NullOnly {
    const MAX_RESULTS: usize = 0;

    fn run(&self, _call: &Call<'_>, _results: &mut [u8]) -> Result<Results, AcceptStat<'static>> {
        Err(AcceptStat::ProcUnavail)
    }
}

/// A reply [`Server::reply`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// Bytes written: the record mark, the header and the results.
    pub len: usize,
    /// The data to send after them (then [`Payload::pad`] zero bytes);
    /// the record mark counts both.
    pub payload: Option<Payload>,
}

/// A server: the program it serves (and a second one on the same port,
/// an NFSv3 server's MOUNT) and the limits on its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    program: Program<'static>,
    second: Option<Program<'static>>,
    limits: Limits,
}

impl Server {
    /// A server of `program` within `limits`. Only NULL is run: any other
    /// procedure `program` lists is answered `PROC_UNAVAIL`.
    pub const fn new(program: Program<'static>, limits: Limits) -> Server {
        Server {
            program,
            second: None,
            limits,
        }
    }

    /// NFS (program 100003) versions `low..=high`, procedure NULL only,
    /// records of at most `max_record` bytes (at least 1) in at most
    /// [`MAX_FRAGMENTS`] fragments: krpc2 and usrv.
    pub const fn nfs_null(low: u32, high: u32, max_record: u32) -> Server {
        let max_record = if max_record == 0 { 1 } else { max_record };
        let limits = match Limits::new(max_record, MAX_FRAGMENTS) {
            Some(limits) => limits,
            None => Limits::DEFAULT,
        };
        let program = Program {
            prog: NFS_PROGRAM,
            low,
            high,
            procs: &[0],
        };
        Server::new(program, limits)
    }

    /// NFS (program 100003) version 3, procedures NULL, GETATTR, LOOKUP,
    /// ACCESS, READ, WRITE, FSSTAT, FSINFO and PATHCONF, and on the same
    /// port MOUNT (program 100005) version 3, procedures NULL, MNT and
    /// UMNT; records of at most `max_record` bytes (at least 1) in at most
    /// [`MAX_FRAGMENTS`] fragments: run it with [`Server::reply`] or
    /// [`Stream::serve`] and an NFSv3 export
    /// ([`super::super::nfs3::service`]); [`Server::answer`] answers its
    /// procedures but NULL `PROC_UNAVAIL`.
    pub const fn nfs3(max_record: u32) -> Server {
        let null = Server::nfs_null(3, 3, max_record);
        let program = Program {
            procs: &NFS3_PROCS,
            ..null.program
        };
        Server {
            program,
            second: Some(MOUNT3),
            limits: null.limits,
        }
    }

    /// MOUNT (program 100005) version 3 alone, procedures NULL, MNT and
    /// UMNT, records of at most `max_record` bytes (at least 1) in at
    /// most [`MAX_FRAGMENTS`] fragments: run it with a MOUNT server's
    /// procedures ([`super::super::nfs3::mount::OneExport`]).
    pub const fn mount3(max_record: u32) -> Server {
        let null = Server::nfs_null(3, 3, max_record);
        Server::new(MOUNT3, null.limits)
    }

    /// The program served.
    pub const fn program(&self) -> &Program<'static> {
        &self.program
    }

    /// The second program served on the same port, if any.
    pub const fn second(&self) -> Option<&Program<'static>> {
        self.second.as_ref()
    }

    /// The program whose policy answers `decoded`: the second one if the
    /// call is to it, else the first (which refuses other programs).
    fn policy(&self, decoded: &Result<Call<'_>, CallError>) -> &Program<'static> {
        match (decoded, &self.second) {
            (Ok(call), Some(second)) if call.prog == second.prog => second,
            _ => &self.program,
        }
    }

    /// The record-marking limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// The reply to one record, or, when the record is not a call (the
    /// connection closes, a datagram is dropped), what is wrong with it.
    pub fn answer(&self, record: &[u8]) -> Result<Reply<'static>, CallError> {
        let decoded = decode_call(record);
        match decide(decoded, self.policy(&decoded)) {
            Action::Reply(reply) => Ok(reply),
            // No procedure but NULL runs here, and `decide` answers NULL.
            Action::Dispatch(call) => Ok(Reply {
                xid: call.xid,
                kind: ReplyKind::accepted(AcceptStat::ProcUnavail),
            }),
            Action::Close(e) => Err(e),
        }
    }

    /// The reply to one record, running `procs`, written with its record
    /// mark at the front of `out`; or, when the record is not a call or
    /// the reply does not fit in `out`, why the connection closes.
    pub fn reply<P: Procedures>(
        &self,
        procs: &P,
        record: &[u8],
        out: &mut [u8],
    ) -> Result<Encoded, stream::Close> {
        let body = out.get_mut(MARK_LEN..).unwrap_or(&mut []);
        let decoded = decode_call(record);
        let (len, payload) = match decide(decoded, self.policy(&decoded)) {
            Action::Reply(reply) => (encode(body, &reply)?, None),
            Action::Close(e) => return Err(stream::Close::NotACall(e)),
            Action::Dispatch(call) => {
                let ok = Reply {
                    xid: call.xid,
                    kind: ReplyKind::accepted(AcceptStat::Success { results: &[] }),
                };
                let head = encode(body, &ok)?;
                let room = body.get_mut(head..).unwrap_or(&mut []);
                match procs.run(&call, room) {
                    Ok(res) if res.len <= room.len() => (head + res.len, res.payload),
                    Ok(_) => return Err(stream::Close::ReplyTooLarge),
                    Err(stat) => {
                        let refused = Reply {
                            xid: call.xid,
                            kind: ReplyKind::accepted(stat),
                        };
                        (encode(body, &refused)?, None)
                    }
                }
            }
        };
        let data = payload.map_or(0, |p| p.len as usize + p.pad());
        let mark = len
            .checked_add(data)
            .and_then(|n| Mark::new(n, true))
            .ok_or(stream::Close::ReplyTooLarge)?;
        out.get_mut(..MARK_LEN)
            .ok_or(stream::Close::ReplyTooLarge)?
            .copy_from_slice(&mark.encode());
        Ok(Encoded {
            len: MARK_LEN + len,
            payload,
        })
    }

    /// The reply to datagram `record` (one record, no mark) encoded into
    /// `out`: its length, or `None` to drop the datagram.
    pub fn datagram(&self, record: &[u8], out: &mut [u8]) -> Option<usize> {
        encode_reply(out, &self.answer(record).ok()?).ok()
    }
}

/// Encodes `reply` into `out`; its length, or the reason to close.
fn encode(out: &mut [u8], reply: &Reply<'_>) -> Result<usize, stream::Close> {
    encode_reply(out, reply).map_err(|_| stream::Close::ReplyTooLarge)
}

/// Encodes `reply` with its record mark at the front of `out`; its length
/// with the mark, or `None` if `out` is too small.
pub fn encode_marked_reply(out: &mut [u8], reply: &Reply<'_>) -> Option<usize> {
    let n = encode_reply(out.get_mut(MARK_LEN..)?, reply).ok()?;
    let mark = Mark::new(n, true)?.encode();
    out.get_mut(..MARK_LEN)?.copy_from_slice(&mark);
    Some(MARK_LEN + n)
}
