// SPDX-License-Identifier: GPL-2.0

//! The RPC protocol state of one connection, as krpc2 runs it: record
//! marking with reassembly only when a record is split across fragments or
//! receives, [`rpc::decide`] for the answer, replies encoded back to back
//! into the caller's output buffer.

use ksf_proto::rm::{Decoder, Limits, Mark, MARK_LEN};
use ksf_proto::rpc::{self, AcceptStat, Action, Program, Reply, ReplyKind};

/// The NFS program number.
pub const NFS_PROGRAM: u32 = 100003;
/// The longest reply (PROG_MISMATCH or RPC_MISMATCH) with its record mark.
pub const MAX_REPLY: usize = MARK_LEN + 32;
/// Most fragments per record (as krpc2).
const MAX_FRAGMENTS: u32 = 64;

/// The served program: NFS, versions `low..=high`, procedure NULL only.
pub fn program(low: u32, high: u32) -> Program<'static> {
    Program {
        prog: NFS_PROGRAM,
        low,
        high,
        procs: &[0],
    }
}

/// The record-marking limits for records of at most `max_record` bytes.
pub fn limits(max_record: u32) -> Limits {
    Limits::new(max_record.max(1), MAX_FRAGMENTS).unwrap_or(Limits::DEFAULT)
}

/// The reply to one record, or `None` when the connection must close (on
/// UDP: the datagram is dropped).
pub fn answer(program: &Program<'_>, record: &[u8]) -> Option<Reply<'static>> {
    match rpc::decide(rpc::decode_call(record), program) {
        Action::Reply(r) => Some(r),
        // Only NULL is listed, and `decide` answers it; kept for safety.
        Action::Dispatch(call) => Some(Reply {
            xid: call.xid,
            kind: ReplyKind::accepted(AcceptStat::ProcUnavail),
        }),
        Action::Close => None,
    }
}

/// One TCP connection's decoder and reassembly buffer.
pub struct RpcConn {
    program: Program<'static>,
    dec: Decoder,
    /// A record being reassembled (bounded by the decoder's limits).
    rec: Vec<u8>,
}

impl RpcConn {
    pub fn new(program: Program<'static>, limits: Limits) -> RpcConn {
        RpcConn {
            program,
            dec: Decoder::new(limits),
            rec: Vec::new(),
        }
    }

    /// Decodes `input`, appending one marked reply per complete call to
    /// `out` while it has room for another below `cap`. Returns the bytes
    /// consumed and whether the connection must close (after what `out`
    /// already holds is sent).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, cap: usize) -> (usize, bool) {
        let mut pos = 0;
        while pos < input.len() {
            if out.len() + MAX_REPLY > cap {
                return (pos, false);
            }
            let whole_possible = self.dec.at_record_boundary();
            let rest = &input[pos..];
            let Ok(step) = self.dec.decode(rest) else {
                return (pos, true);
            };
            let payload = rest.get(step.payload.clone()).unwrap_or(&[]);
            let reply = if step.end_of_record && whole_possible && self.rec.is_empty() {
                // The whole record is in this input: decoded in place.
                answer(&self.program, payload)
            } else {
                self.rec.extend_from_slice(payload);
                if !step.end_of_record {
                    pos += step.consumed;
                    continue;
                }
                let r = answer(&self.program, &self.rec);
                self.rec.clear();
                r
            };
            pos += step.consumed;
            match reply {
                Some(r) if put_reply(out, &r) => {}
                _ => return (pos, true),
            }
        }
        (pos, false)
    }
}

/// Appends `reply` with its record mark to `out`.
fn put_reply(out: &mut Vec<u8>, reply: &Reply<'_>) -> bool {
    let at = out.len();
    out.resize(at + MAX_REPLY, 0);
    let Ok(n) = rpc::encode_reply(&mut out[at + MARK_LEN..], reply) else {
        out.truncate(at);
        return false;
    };
    let Some(mark) = Mark::new(n, true) else {
        out.truncate(at);
        return false;
    };
    out[at..at + MARK_LEN].copy_from_slice(&mark.encode());
    out.truncate(at + MARK_LEN + n);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ksf_proto::rpc::{encode_call, Call, NULL_CALL_LEN, NULL_REPLY_LEN};

    fn null_call(xid: u32) -> Vec<u8> {
        let mut b = vec![0u8; MARK_LEN + NULL_CALL_LEN];
        let n = encode_call(&mut b[MARK_LEN..], &Call::new(xid, NFS_PROGRAM, 3, 0)).unwrap();
        b[..MARK_LEN].copy_from_slice(&Mark::new(n, true).unwrap().encode());
        b
    }

    #[test]
    fn split_at_every_byte_and_backpressure() {
        let mut c = RpcConn::new(program(3, 3), limits(4096));
        let calls: Vec<u8> = (0..3).flat_map(null_call).collect();
        let mut out = Vec::new();
        for b in calls.chunks(1) {
            assert_eq!(c.feed(b, &mut out, 1 << 14), (1, false));
        }
        assert_eq!(out.len(), 3 * (MARK_LEN + NULL_REPLY_LEN));
        // A cap with room for one reply consumes one call only.
        let mut out = Vec::new();
        let (n, close) = c.feed(&calls, &mut out, MAX_REPLY);
        assert_eq!((n, close), (MARK_LEN + NULL_CALL_LEN, false));
    }

    #[test]
    fn empty_record_closes() {
        let mut c = RpcConn::new(program(3, 3), limits(4096));
        let mut input = null_call(1);
        input.extend_from_slice(&Mark::new(0, true).unwrap().encode());
        let mut out = Vec::new();
        assert!(c.feed(&input, &mut out, 1 << 14).1);
        assert_eq!(out.len(), MARK_LEN + NULL_REPLY_LEN);
    }
}
