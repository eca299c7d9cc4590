// SPDX-License-Identifier: GPL-2.0

//! RPC engine test cases, run by `cargo test` on the host and by the
//! `ksf_rpc_engine` KUnit suite in the guest.

use super::super::super::rm::{self, fragments, Mark, MARK_LEN};
use super::super::{encode_call, AcceptStat, Call, CallError, Program, Reply, ReplyKind};
use super::super::{NULL_CALL_LEN, NULL_REPLY_LEN};
use super::{Close, Event, Fixed, Reassembly, Server, Stop, Stream};
use super::{MAX_MARKED_REPLY, MAX_REPLY_LEN};

/// Serves NFS version 3 NULL, records of at most 256 bytes.
const SERVER: Server = Server::nfs_null(3, 3, 256);
/// The most replies a [`Run`] keeps.
const MAX_SENT: usize = 12;

/// Appends `record` to `wire` at `*len` as fragments of at most `frag`
/// bytes.
fn put_record(wire: &mut [u8], len: &mut usize, record: &[u8], frag: u32) {
    for (mark, range) in fragments(record.len(), frag) {
        wire[*len..*len + MARK_LEN].copy_from_slice(&mark.encode());
        *len += MARK_LEN;
        let n = range.len();
        wire[*len..*len + n].copy_from_slice(&record[range]);
        *len += n;
    }
}

/// Appends a NULL call of version `vers` with `xid` as fragments of at
/// most `frag` bytes.
fn put_call(wire: &mut [u8], len: &mut usize, xid: u32, vers: u32, frag: u32) {
    let mut call = [0u8; NULL_CALL_LEN];
    let n = encode_call(&mut call, &Call::new(xid, 100003, vers, 0)).unwrap_or(0);
    put_record(wire, len, &call[..n], frag);
}

/// A [`Fixed`] buffer that counts the calls of [`Reassembly::release`].
#[derive(Default)]
struct Counted {
    rec: Fixed<64>,
    released: u32,
}

impl Reassembly for Counted {
    fn append(&mut self, bytes: &[u8]) -> Result<(), super::NoMemory> {
        self.rec.append(bytes)
    }
    fn bytes(&self) -> &[u8] {
        self.rec.bytes()
    }
    fn clear(&mut self) {
        self.rec.clear()
    }
    fn release(&mut self) {
        self.released += 1;
    }
}

/// The bytes a NULL `SUCCESS` reply to `xid` has on the wire, mark
/// included, written word by word (not with the encoder under test).
fn null_reply(xid: u32) -> [u8; MARK_LEN + NULL_REPLY_LEN] {
    let mut out = [0u8; MARK_LEN + NULL_REPLY_LEN];
    let words = [0x8000_0000 | NULL_REPLY_LEN as u32, xid, 1, 0, 0, 0, 0];
    for (i, w) in words.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// What a connection sent, and how it ended.
struct Run {
    sent: [u8; MAX_SENT * MAX_MARKED_REPLY],
    len: usize,
    calls: u64,
    replies: u64,
    stop: Stop,
    /// Calls to `feed`.
    feeds: usize,
}

impl Run {
    /// Whether the connection sent exactly the NULL replies to `xids`.
    fn sent_null_replies(&self, xids: &[u32]) -> bool {
        let n = MARK_LEN + NULL_REPLY_LEN;
        self.len == xids.len() * n
            && xids
                .iter()
                .enumerate()
                .all(|(i, &xid)| self.sent[i * n..(i + 1) * n] == null_reply(xid))
    }
}

/// Runs a connection over `input` received in pieces cut at `cuts`
/// (ascending), with `room` bytes of output per `feed`; what is written is
/// "sent" at once. Stops at the first close, or when `feed` makes no
/// progress.
fn run<const N: usize>(input: &[u8], cuts: &[usize], room: usize) -> Run {
    let mut conn = Stream::new(&SERVER, Fixed::<N>::new());
    let mut r = Run {
        sent: [0; MAX_SENT * MAX_MARKED_REPLY],
        len: 0,
        calls: 0,
        replies: 0,
        stop: Stop::Drained,
        feeds: 0,
    };
    let mut out = [0u8; 4 * MAX_MARKED_REPLY];
    let room = room.min(out.len());
    let mut start = 0;
    for &end in cuts.iter().chain(core::iter::once(&input.len())) {
        let mut chunk = &input[start.min(end)..end];
        start = end;
        loop {
            let fed = conn.feed(&SERVER, chunk, &mut out[..room]);
            r.feeds += 1;
            let Some(sent) = r.sent.get_mut(r.len..r.len + fed.written) else {
                r.stop = Stop::Close(Close::ReplyTooLarge);
                return r;
            };
            sent.copy_from_slice(&out[..fed.written]);
            r.len += fed.written;
            (r.calls, r.replies, r.stop) = (r.calls + fed.calls, r.replies + fed.replies, fed.stop);
            chunk = &chunk[fed.consumed..];
            match fed.stop {
                Stop::Drained => break,
                Stop::Close(_) => return r,
                Stop::OutputFull if fed.consumed == 0 && fed.written == 0 => return r,
                Stop::OutputFull => {}
            }
        }
    }
    r
}

/// Three NULL calls: whole, in 8-byte fragments, whole.
fn three_calls(wire: &mut [u8; 256]) -> usize {
    let mut len = 0;
    put_call(wire, &mut len, 1, 3, u32::MAX);
    put_call(wire, &mut len, 2, 3, 8);
    put_call(wire, &mut len, 3, 3, u32::MAX);
    len
}

test_cases! {
    testing = super::super::super::testing;

    fn answer_follows_the_policy(t) {
        let mut call = [0u8; NULL_CALL_LEN];
        let reply = |kind| Ok(Reply { xid: 9, kind });
        for (vers, want) in [
            (3, reply(ReplyKind::accepted(AcceptStat::Success { results: &[] }))),
            (4, reply(ReplyKind::accepted(AcceptStat::ProgMismatch { low: 3, high: 3 }))),
        ] {
            let n = encode_call(&mut call, &Call::new(9, 100003, vers, 0)).unwrap_or(0);
            check_eq!(t, SERVER.answer(&call[..n]), want);
        }
        // A procedure the program lists but the engine does not run.
        let both = Server::new(Program { prog: 100003, low: 3, high: 3, procs: &[0, 1] }, SERVER.limits());
        let n = encode_call(&mut call, &Call::new(9, 100003, 3, 1)).unwrap_or(0);
        check_eq!(t, both.answer(&call[..n]), reply(ReplyKind::accepted(AcceptStat::ProcUnavail)));
        check_eq!(t, SERVER.answer(&call[..7]), Err(CallError::TooShort { len: 7, xid: Some(9) }));
    }

    fn datagram_is_a_record_without_mark(t) {
        let mut call = [0u8; NULL_CALL_LEN];
        let n = encode_call(&mut call, &Call::new(5, 100003, 3, 0)).unwrap_or(0);
        let mut out = [0u8; MAX_REPLY_LEN];
        check_eq!(t, SERVER.datagram(&call[..n], &mut out), Some(NULL_REPLY_LEN));
        check_eq!(t, out[..NULL_REPLY_LEN], null_reply(5)[MARK_LEN..]);
        check_eq!(t, SERVER.datagram(&call[..20], &mut out), None);
        check_eq!(t, SERVER.datagram(&call[..n], &mut out[..NULL_REPLY_LEN - 1]), None);
    }

    fn several_records_in_one_buffer_in_place(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        for xid in 1..=4 {
            put_call(&mut wire, &mut len, xid, 3, u32::MAX);
        }
        // No reassembly room at all: every record is answered in place.
        let r = run::<0>(&wire[..len], &[], 4 * MAX_MARKED_REPLY);
        check_eq!(t, (r.calls, r.replies, r.stop, r.feeds), (4, 4, Stop::Drained, 1));
        check!(t, r.sent_null_replies(&[1, 2, 3, 4]));
    }

    fn record_split_at_every_byte(t) {
        let mut wire = [0u8; 256];
        let len = three_calls(&mut wire);
        for cut in 0..=len {
            let r = run::<64>(&wire[..len], &[cut], 4 * MAX_MARKED_REPLY);
            check_eq!(t, (r.calls, r.stop), (3, Stop::Drained));
            check!(t, r.sent_null_replies(&[1, 2, 3]));
        }
        let mut cuts = [0usize; 256];
        for (i, c) in cuts.iter_mut().enumerate() {
            *c = i;
        }
        let r = run::<64>(&wire[..len], &cuts[..len], 4 * MAX_MARKED_REPLY);
        check_eq!(t, (r.calls, r.stop), (3, Stop::Drained));
        check!(t, r.sent_null_replies(&[1, 2, 3]));
    }

    fn reassembled_only_when_split(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        put_call(&mut wire, &mut len, 1, 3, u32::MAX);
        let mut conn = Stream::new(&SERVER, Fixed::<64>::new());
        let next = conn.next(&SERVER, &wire[..10]);
        check_eq!(t, (next.consumed, next.event), (10, Event::NeedInput));
        check!(t, conn.in_record());
        check_eq!(t, conn.reassembly().bytes(), &wire[MARK_LEN..10]);
        let next = conn.next(&SERVER, &wire[10..len]);
        check_eq!(t, next.consumed, len - 10);
        check!(t, matches!(next.event, Event::Reply(Reply { xid: 1, .. })));
        check!(t, !conn.in_record() && conn.reassembly().bytes().is_empty());
        // A partial mark holds no payload.
        check_eq!(t, conn.next(&SERVER, &wire[..2]).event, Event::NeedInput);
        check!(t, conn.in_record() && conn.reassembly().bytes().is_empty());
    }

    fn released_only_when_no_part_of_a_record_is_held(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        put_call(&mut wire, &mut len, 1, 3, u32::MAX);
        let mut conn = Stream::new(&SERVER, Counted::default());
        check_eq!(t, conn.next(&SERVER, &wire[..10]).event, Event::NeedInput);
        conn.release();
        check_eq!(t, conn.reassembly().released, 0);
        check_eq!(t, conn.reassembly().bytes(), &wire[MARK_LEN..10]);
        let next = conn.next(&SERVER, &wire[10..len]);
        check!(t, matches!(next.event, Event::Reply(Reply { xid: 1, .. })));
        conn.release();
        check_eq!(t, conn.reassembly().released, 1);
    }

    fn oversized_record_closes_after_earlier_replies(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        put_call(&mut wire, &mut len, 1, 3, u32::MAX);
        wire[len..len + MARK_LEN].copy_from_slice(&[0x80, 0, 1, 1]);
        len += MARK_LEN;
        put_call(&mut wire, &mut len, 2, 3, u32::MAX);
        let r = run::<64>(&wire[..len], &[], 4 * MAX_MARKED_REPLY);
        let too_large = rm::Error::RecordTooLarge { len: 257, max: 256 };
        check_eq!(t, (r.calls, r.stop), (1, Stop::Close(Close::Framing(too_large))));
        check!(t, r.sent_null_replies(&[1]));
        // Too many fragments: 64 empty ones, then the call.
        let mut many = [0u8; 512];
        let mut len = 0;
        for _ in 0..64 {
            many[len..len + MARK_LEN].copy_from_slice(&Mark { len: 0, last: false }.encode());
            len += MARK_LEN;
        }
        put_call(&mut many, &mut len, 3, 3, u32::MAX);
        let r = run::<64>(&many[..len], &[], MAX_MARKED_REPLY);
        check_eq!(t, r.stop, Stop::Close(Close::Framing(rm::Error::TooManyFragments { max: 64 })));
        check_eq!(t, r.replies, 0);
    }

    fn bad_record_after_valid_calls_closes_after_their_replies(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        put_call(&mut wire, &mut len, 1, 3, u32::MAX);
        put_call(&mut wire, &mut len, 2, 3, 12);
        put_record(&mut wire, &mut len, &null_reply(7)[MARK_LEN..], u32::MAX);
        put_call(&mut wire, &mut len, 4, 3, u32::MAX);
        for room in [MAX_MARKED_REPLY, 4 * MAX_MARKED_REPLY] {
            let r = run::<64>(&wire[..len], &[], room);
            let refused = Close::NotACall(CallError::Reply { xid: 7 });
            check_eq!(t, (r.calls, r.replies, r.stop), (3, 2, Stop::Close(refused)));
            check!(t, r.sent_null_replies(&[1, 2]));
        }
        // Sticky: nothing more is read.
        let mut conn = Stream::new(&SERVER, Fixed::<64>::new());
        let mut out = [0u8; 4 * MAX_MARKED_REPLY];
        let fed = conn.feed(&SERVER, &wire[..len], &mut out);
        check_eq!(t, fed.written, 2 * (MARK_LEN + NULL_REPLY_LEN));
        let fed = conn.feed(&SERVER, &wire[..len], &mut out);
        check_eq!(t, (fed.consumed, fed.written, fed.calls), (0, 0, 0));
        check!(t, matches!(fed.stop, Stop::Close(Close::NotACall(_))));
        check!(t, conn.closed().is_some());
    }

    fn output_full_is_back_pressure(t) {
        let mut wire = [0u8; 256];
        let len = three_calls(&mut wire);
        let mut conn = Stream::new(&SERVER, Fixed::<64>::new());
        let mut out = [0u8; MAX_MARKED_REPLY];
        // No room for a reply: nothing is read.
        let fed = conn.feed(&SERVER, &wire[..len], &mut out[..MAX_MARKED_REPLY - 1]);
        check_eq!(t, (fed.consumed, fed.written, fed.stop), (0, 0, Stop::OutputFull));
        // Room for one: one call is read, and the next waits.
        let fed = conn.feed(&SERVER, &wire[..len], &mut out);
        check_eq!(t, (fed.consumed, fed.stop), (MARK_LEN + NULL_CALL_LEN, Stop::OutputFull));
        check_eq!(t, out[..fed.written], null_reply(1));
        let r = run::<64>(&wire[..len], &[], MAX_MARKED_REPLY);
        check_eq!(t, (r.calls, r.stop, r.feeds), (3, Stop::Drained, 3));
        check!(t, r.sent_null_replies(&[1, 2, 3]));
    }

    fn empty_record_closes(t) {
        let mut wire = [0u8; 256];
        let mut len = 0;
        // Empty fragments inside a record are fine.
        wire[..MARK_LEN].copy_from_slice(&Mark { len: 0, last: false }.encode());
        len += MARK_LEN;
        put_call(&mut wire, &mut len, 1, 3, u32::MAX);
        wire[len..len + MARK_LEN].copy_from_slice(&Mark { len: 0, last: true }.encode());
        len += MARK_LEN;
        put_call(&mut wire, &mut len, 2, 3, u32::MAX);
        let r = run::<64>(&wire[..len], &[], 4 * MAX_MARKED_REPLY);
        check_eq!(t, (r.calls, r.stop), (1, Stop::Close(Close::Framing(rm::Error::EmptyRecord))));
        check!(t, r.sent_null_replies(&[1]));
    }

    fn no_memory_for_a_split_record_closes(t) {
        let mut wire = [0u8; 256];
        let len = three_calls(&mut wire);
        // The first call is whole, the second needs 40 bytes of a 16.
        let r = run::<16>(&wire[..len], &[], 4 * MAX_MARKED_REPLY);
        check_eq!(t, (r.calls, r.stop), (1, Stop::Close(Close::NoMemory)));
        check!(t, r.sent_null_replies(&[1]));
    }
}
