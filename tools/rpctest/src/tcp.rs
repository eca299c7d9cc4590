// SPDX-License-Identifier: GPL-2.0

//! TCP: calls are record-marked and pipelined on one connection. By
//! default each send writes one call and each receive asks for at most
//! the rest of one reply (see [`Calls::want`]); with `-b` queued calls are
//! written together (as many as the window allows, in one send where the
//! socket takes them) and replies read in large chunks. Either way
//! `rm::Decoder` splits what arrives into records, whatever the reads
//! cut. A malformed
//! record stream, EOF, reset or stall is fatal: the stream cannot be
//! resynchronised. The connection's loop is ksf-tools' [`Stream`]; with
//! `-C` a job's connections share one [`Streams`] loop, each with its own
//! [`Calls`] (window and reply stream), all recording into the job's
//! [`IterResult`].

use crate::call::Template;
use crate::window::{hex, Window};
use crate::IterResult;
use ksf_proto::rm::{Decoder, Limits};
use ksf_tools::stream::{Exchange, Exchanges, Method, Stream, Streams};
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;

/// One connection's calls and replies of an iteration.
pub struct Calls {
    win: Window,
    /// Bytes of this iteration written.
    written: u64,
    dec: Decoder,
    /// The record being reassembled (when it spans reads or fragments).
    rec: Vec<u8>,
    /// Complete records received.
    records: u64,
    /// The body length of the last record (its payload bytes, marks
    /// excluded): the expected length of the next reply (NULL replies
    /// are all alike, and so are GETATTR's of one file).
    last_len: usize,
}

/// The body of the shortest accepted reply (xid, REPLY, MSG_ACCEPTED, an
/// empty verifier, SUCCESS): the expected length of the first reply.
const MIN_REPLY: usize = 24;

impl Calls {
    /// The calls of `win` on a new connection, replies within `limits`.
    pub fn new(win: Window, limits: Limits) -> Calls {
        Calls {
            win,
            written: 0,
            dec: Decoder::new(limits),
            rec: Vec::new(),
            records: 0,
            last_len: MIN_REPLY,
        }
    }
}

/// A connection's [`Calls`] with the call template and the job's
/// counters: what the stream loop works on.
struct View<'a> {
    call: &'a Template,
    c: &'a mut Calls,
    r: &'a mut IterResult,
}

impl std::ops::Deref for View<'_> {
    type Target = Calls;
    fn deref(&self) -> &Calls {
        self.c
    }
}

impl std::ops::DerefMut for View<'_> {
    fn deref_mut(&mut self) -> &mut Calls {
        self.c
    }
}

impl Exchange for View<'_> {
    fn done(&self) -> bool {
        self.win.done()
    }

    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        if !self.win.can_take() {
            return false;
        }
        let seq = self.win.taken();
        let xid = self.win.take();
        self.call.append(xid, seq, out);
        true
    }

    fn sent(&mut self, written: u64, now: u64) {
        self.r.counts.sends += 1;
        self.r.counts.bytes_out += written - self.written;
        self.written = written;
        for _ in self.win.stamped()..written.div_ceil(self.call.len() as u64) {
            self.win.stamp(now);
        }
    }

    fn consume(&mut self, mut data: &[u8], now: u64) -> Result<(), String> {
        self.r.counts.recvs += 1;
        self.r.counts.bytes_in += data.len() as u64;
        while !data.is_empty() {
            let step = self.dec.decode(data).map_err(|e| {
                format!(
                    "malformed record stream from the server after {} replies: {e} \
                     (received: {}) {}",
                    self.records,
                    hex(data),
                    self.context()
                )
            })?;
            let payload = &data[step.payload.clone()];
            if step.end_of_record {
                self.records += 1;
                // Also when the record spanned receives (a first reply
                // longer than NULL's): the next equal reply takes one.
                self.last_len = self.rec.len() + payload.len();
                if self.rec.is_empty() {
                    self.c.win.on_reply(payload, now, self.r);
                } else {
                    self.rec.extend_from_slice(payload);
                    self.c.win.on_reply(&self.c.rec, now, self.r);
                    self.rec.clear();
                }
            } else {
                self.rec.extend_from_slice(payload);
            }
            data = &data[step.consumed..];
        }
        Ok(())
    }

    /// The rest of the fragment being received; between a record's
    /// fragments the rest of the next mark; at a record's start its mark
    /// and as many bytes as the last reply had, so that each of a run of
    /// equal replies (NULL's) takes one receive. A longer reply takes more;
    /// a reply shorter than the last lends the rest of the receive to the
    /// next one's first bytes.
    fn want(&self) -> usize {
        match self.dec.fragment_left() {
            Some(left) => left,
            None if self.dec.at_record_boundary() => self.dec.mark_left() + self.last_len,
            None => self.dec.mark_left(),
        }
    }

    /// Progress is a settled call, not just bytes: a server that sends
    /// only replies matching nothing must time out.
    fn progress(&self) -> u64 {
        self.win.finished()
    }

    /// Quiet for a poll slice: replies that matched nothing may have stood
    /// for calls that will never be answered.
    fn quiet(&mut self) {
        let sent = self.written / self.call.len() as u64;
        let records = self.records;
        self.win.retire_strays(records, sent);
    }

    /// Calls written whose replies have not arrived (or been given up).
    fn owed(&self) -> u64 {
        self.win.stamped().saturating_sub(self.win.finished())
    }

    fn context(&self) -> String {
        format!("({})", self.win.context())
    }
}

/// Makes the calls of `win` on `sock` (connected, non-blocking), recording
/// into `r`. Returns early (Ok) when `stop` is set; an `Err` is fatal.
pub fn iterate(
    sock: TcpStream,
    call: &Template,
    timeout_ns: u64,
    method: Method,
    win: Window,
    r: &mut IterResult,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut c = Calls::new(win, call.reply_limits());
    let mut view = View { call, c: &mut c, r };
    Stream::new(sock, "RPC", method, timeout_ns).run(&mut view, stop)
}

/// The [`Calls`] of a job's connections, for [`Streams`].
struct Many<'a> {
    call: &'a Template,
    calls: &'a mut [Calls],
    r: &'a mut IterResult,
}

impl Exchanges for Many<'_> {
    type X<'b>
        = View<'b>
    where
        Self: 'b;

    fn get(&mut self, i: usize) -> View<'_> {
        View {
            call: self.call,
            c: &mut self.calls[i],
            r: self.r,
        }
    }
}

/// Makes the calls of every connection of `streams`, connection i's
/// those of `calls[i]`, recording into `r`. Returns early (Ok) when
/// `stop` is set; an `Err` is fatal.
pub fn iterate_many(
    streams: &mut Streams,
    call: &Template,
    calls: &mut [Calls],
    r: &mut IterResult,
    stop: &AtomicBool,
) -> Result<(), String> {
    streams.run(&mut Many { call, calls, r }, stop)
}
