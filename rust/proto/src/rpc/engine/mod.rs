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
use super::{decide, decode_call, encode_reply, AcceptStat, Action, CallError, Program};
use super::{Reply, ReplyKind};

#[allow(unused_imports)]
pub use {
    reassembly::{Fixed, NoMemory, Reassembly},
    stream::{Close, Event, Fed, Next, Stop, Stream},
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

/// A server: the program it serves and the limits on its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    program: Program<'static>,
    limits: Limits,
}

impl Server {
    /// A server of `program` within `limits`. Only NULL is run: any other
    /// procedure `program` lists is answered `PROC_UNAVAIL`.
    pub const fn new(program: Program<'static>, limits: Limits) -> Server {
        Server { program, limits }
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
        Server { program, limits }
    }

    /// The program served.
    pub const fn program(&self) -> &Program<'static> {
        &self.program
    }

    /// The record-marking limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// The reply to one record, or, when the record is not a call (the
    /// connection closes, a datagram is dropped), what is wrong with it.
    pub fn answer(&self, record: &[u8]) -> Result<Reply<'static>, CallError> {
        match decide(decode_call(record), &self.program) {
            Action::Reply(reply) => Ok(reply),
            // No procedure but NULL runs here, and `decide` answers NULL.
            Action::Dispatch(call) => Ok(Reply {
                xid: call.xid,
                kind: ReplyKind::accepted(AcceptStat::ProcUnavail),
            }),
            Action::Close(e) => Err(e),
        }
    }

    /// The reply to datagram `record` (one record, no mark) encoded into
    /// `out`: its length, or `None` to drop the datagram.
    pub fn datagram(&self, record: &[u8], out: &mut [u8]) -> Option<usize> {
        encode_reply(out, &self.answer(record).ok()?).ok()
    }
}

/// Encodes `reply` with its record mark at the front of `out`; its length
/// with the mark, or `None` if `out` is too small.
pub fn encode_marked_reply(out: &mut [u8], reply: &Reply<'_>) -> Option<usize> {
    let n = encode_reply(out.get_mut(MARK_LEN..)?, reply).ok()?;
    let mark = Mark::new(n, true)?.encode();
    out.get_mut(..MARK_LEN)?.copy_from_slice(&mark);
    Some(MARK_LEN + n)
}
