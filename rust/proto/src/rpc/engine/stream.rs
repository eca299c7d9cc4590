// SPDX-License-Identifier: GPL-2.0

//! One connection of the server: a byte stream in, replies out.
//!
//! [`Stream::next`] runs the record loop as knfsd's `svc_tcp_recvfrom`
//! does (a mark, checked against the limits before any payload is taken,
//! then the fragments) and answers each record as it ends. A record that
//! arrives whole, as one fragment at a record boundary of one input, is
//! answered in place; any other is copied into the [`Reassembly`] buffer
//! the caller lent. [`Stream::feed`] loops over [`Stream::next`] and
//! encodes the replies back to back into the caller's output buffer,
//! stopping when the input is used up, when the output has no room for
//! another reply, or at the first reason to close.
//!
//! [`Stream::serve`] is [`Stream::feed`] for a server that runs
//! procedures: each record is answered with [`Server::reply`], and a reply
//! that ends in a [`Payload`] stops it (see the engine's documentation).
//!
//! A reason to close is sticky: the replies to the records before it are
//! in the output already, the caller sends them and then closes, reading
//! nothing more (what krpc2 does since commit 5c49c14).

use super::super::super::rm::{self, Decoder};
use super::super::{CallError, Reply};
use super::{max_marked_reply, NoMemory, NullOnly, Payload, Procedures, Reassembly, Server};

/// Why a connection closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Close {
    /// The record marking broke the limits, or a record was empty
    /// (knfsd's `svc_tcp_read_marker`).
    Framing(rm::Error),
    /// A record is not a call the policy answers ([`super::super::decide`]
    /// closes on it).
    NotACall(CallError),
    /// The [`Reassembly`] buffer could not grow: the fragment has been
    /// taken off the stream and cannot be read again.
    NoMemory,
    /// A reply did not fit in the room [`Stream::feed`] checked for. Never
    /// happens with the policy's replies (at most
    /// [`super::MAX_REPLY_LEN`] bytes); closing is what the engine does
    /// rather than panic.
    ReplyTooLarge,
}

impl core::fmt::Display for Close {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Close::Framing(e) => write!(f, "{e}"),
            Close::NotACall(e) => write!(f, "{e}"),
            Close::NoMemory => write!(f, "no memory to reassemble a record"),
            Close::ReplyTooLarge => write!(f, "a reply over the room reserved for it"),
        }
    }
}

impl From<NoMemory> for Close {
    fn from(_: NoMemory) -> Close {
        Close::NoMemory
    }
}

/// What [`Stream::next`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A record ended; this is its reply.
    Reply(Reply<'static>),
    /// The input is used up inside a record (or between records).
    NeedInput,
    /// The connection must close.
    Close(Close),
}

/// The outcome of one [`Stream::next`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Next {
    /// Bytes of the input used; the next call starts after them.
    pub consumed: usize,
    /// What they made.
    pub event: Event,
}

/// Why [`Stream::feed`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The input is used up.
    Drained,
    /// The output has no room for another reply: send it, then feed the
    /// rest of the input.
    OutputFull,
    /// Send what the output holds, then close the connection.
    Close(Close),
}

/// The outcome of one [`Stream::feed`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed {
    /// Bytes of the input used.
    pub consumed: usize,
    /// Bytes of replies written at the front of the output.
    pub written: usize,
    /// Records that ended: the calls answered and the record refused, if
    /// any.
    pub calls: u64,
    /// Replies written.
    pub replies: u64,
    /// Why it stopped.
    pub stop: Stop,
}

/// The outcome of one [`Stream::serve`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// What [`Stream::feed`] would say. With a payload, `stop` is
    /// [`Stop::OutputFull`]: send the output and the payload, then serve
    /// the rest of the input.
    pub fed: Fed,
    /// The data that ends the last reply written: send it after the
    /// output, then [`Payload::pad`] zero bytes.
    pub payload: Option<Payload>,
}

/// One connection's record loop and the buffer its caller lent it.
#[derive(Clone, Debug)]
pub struct Stream<R> {
    dec: Decoder,
    rec: R,
    closed: Option<Close>,
}

impl<R: Reassembly> Stream<R> {
    /// A connection to `server`, reassembling split records in `rec`.
    pub fn new(server: &Server, rec: R) -> Stream<R> {
        Stream {
            dec: Decoder::new(server.limits()),
            rec,
            closed: None,
        }
    }

    /// The reassembly buffer lent (to see what it holds).
    pub fn reassembly(&self) -> &R {
        &self.rec
    }

    /// Gives the reassembly buffer's memory back ([`Reassembly::release`])
    /// unless it holds part of a record: for a caller whose connection
    /// waits for more input.
    pub fn release(&mut self) {
        if self.rec.bytes().is_empty() {
            self.rec.release();
        }
    }

    /// Whether a record is begun and not finished.
    pub fn in_record(&self) -> bool {
        !self.dec.at_record_boundary()
    }

    /// Why the connection closes, once it must.
    pub fn closed(&self) -> Option<Close> {
        self.closed
    }

    /// Reads `input` up to the end of the next record and answers it, or
    /// up to the end of `input`, or up to a reason to close.
    pub fn next(&mut self, server: &Server, input: &[u8]) -> Next {
        let mut consumed = 0;
        let event = match self.next_record(input, &mut consumed) {
            Ok(Some(record)) => {
                let answer = server.answer(record);
                self.rec.clear();
                match answer {
                    Ok(reply) => Event::Reply(reply),
                    Err(e) => Event::Close(Close::NotACall(e)),
                }
            }
            Ok(None) => Event::NeedInput,
            Err(close) => Event::Close(close),
        };
        if let Event::Close(close) = event {
            self.closed = Some(close);
        }
        Next { consumed, event }
    }

    /// The record that ends in `input` (in place or reassembled), or
    /// `None` when `input` ends first; `consumed` counts the bytes used.
    fn next_record<'a>(
        &'a mut self,
        input: &'a [u8],
        consumed: &mut usize,
    ) -> Result<Option<&'a [u8]>, Close> {
        if let Some(close) = self.closed {
            return Err(close);
        }
        while *consumed < input.len() {
            let whole = self.dec.at_record_boundary() && self.rec.bytes().is_empty();
            let rest = input.get(*consumed..).unwrap_or(&[]);
            let step = self.dec.decode(rest).map_err(Close::Framing)?;
            *consumed += step.consumed;
            let payload = rest.get(step.payload).unwrap_or(&[]);
            if step.end_of_record && whole {
                // The whole record is in this input: use it in place.
                return Ok(Some(payload));
            }
            self.rec.append(payload)?;
            if step.end_of_record {
                return Ok(Some(self.rec.bytes()));
            }
        }
        Ok(None)
    }

    /// Reads `input` and writes one marked reply per record into `out`,
    /// while `out` has room for another ([`super::MAX_MARKED_REPLY`]
    /// bytes). Runs no procedure but NULL.
    pub fn feed(&mut self, server: &Server, input: &[u8], out: &mut [u8]) -> Fed {
        self.serve(server, &NullOnly, input, out).fed
    }

    /// Reads `input` and writes one marked reply per record into `out`,
    /// running `procs`, while `out` has room for another
    /// ([`max_marked_reply`] of `P::MAX_RESULTS` bytes) and until a reply
    /// ends in a payload.
    pub fn serve<P: Procedures>(
        &mut self,
        server: &Server,
        procs: &P,
        input: &[u8],
        out: &mut [u8],
    ) -> Served {
        let mut fed = Fed {
            consumed: 0,
            written: 0,
            calls: 0,
            replies: 0,
            stop: Stop::Drained,
        };
        loop {
            if let Some(close) = self.closed {
                fed.stop = Stop::Close(close);
                return Served { fed, payload: None };
            }
            if fed.consumed == input.len() {
                return Served { fed, payload: None };
            }
            let room = out.get_mut(fed.written..).unwrap_or(&mut []);
            if room.len() < max_marked_reply(P::MAX_RESULTS) {
                fed.stop = Stop::OutputFull;
                return Served { fed, payload: None };
            }
            let mut consumed = 0;
            let rest = input.get(fed.consumed..).unwrap_or(&[]);
            let answered = match self.next_record(rest, &mut consumed) {
                Ok(Some(record)) => Some(server.reply(procs, record, room)),
                Ok(None) => None,
                Err(close) => Some(Err(close)),
            };
            fed.consumed += consumed;
            match answered {
                Some(Ok(reply)) => {
                    self.rec.clear();
                    fed.calls += 1;
                    fed.written += reply.len;
                    fed.replies += 1;
                    if reply.payload.is_some() {
                        fed.stop = Stop::OutputFull;
                        return Served {
                            fed,
                            payload: reply.payload,
                        };
                    }
                }
                Some(Err(close)) => {
                    if !matches!(close, Close::Framing(_) | Close::NoMemory) {
                        // The record ended: it counts as a call.
                        self.rec.clear();
                        fed.calls += 1;
                    }
                    self.closed = Some(close);
                }
                None => {}
            }
        }
    }
}
