// SPDX-License-Identifier: GPL-2.0

//! Pipelined requests on one TCP connection, shared by echotest and
//! rpctest, in one of two [`Method`]s: the original's (one request per
//! send, at most one answer per receive; the default) or batched
//! (requests written back to back while the window allows, answers read
//! in large chunks, whatever the reads cut). A connection that makes no
//! progress for the timeout fails. What the requests are and how answers
//! are checked is an [`Exchange`].

use crate::cpu::monotonic_ns;
use crate::jobs::{io_text, poll, slice_until};
use rustix::event::PollFlags;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

/// Batched: requests are queued for writing while less than this is
/// pending.
pub const OUT_CHUNK: usize = 64 * 1024;
/// Batched: the read size (and the largest read of the original method).
pub const READ_BUF: usize = 256 * 1024;

/// How requests are written and answers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The original FreeBSD tools' method: each send(2) writes (the rest
    /// of) one request, each recv(2) asks for at most the rest of one
    /// answer ([`Exchange::want`]); the window still keeps `-a` requests
    /// in flight.
    OnePerSend,
    /// `-b`: the requests the window allows are written together, up to
    /// [`OUT_CHUNK`] bytes queued, and each recv(2) reads up to
    /// [`READ_BUF`] bytes, however many answers that is.
    Batched,
}

/// A tool's side of an iteration on a [`Stream`].
pub trait Exchange {
    /// Whether every answer of the iteration has arrived (or been given up).
    fn done(&self) -> bool;
    /// Appends the next request to `out` if the window allows one now;
    /// false if it does not ("fill the send window").
    fn fill(&mut self, out: &mut Vec<u8>) -> bool;
    /// `written` bytes of the iteration's requests are written, the last
    /// of them at `now` (monotonic nanoseconds).
    fn sent(&mut self, written: u64, now: u64);
    /// Checks `data`, the next bytes of the answers, received at `now`; an
    /// error is fatal (the stream cannot be resynchronised).
    fn consume(&mut self, data: &[u8], now: u64) -> Result<(), String>;
    /// In [`Method::OnePerSend`], how many bytes the next receive asks
    /// for: the rest of the answer being received, never more (at least
    /// 1; capped at [`READ_BUF`]).
    fn want(&self) -> usize;
    /// A count that grows when the iteration makes progress (answers
    /// settled); one that stops growing for the timeout fails the run.
    fn progress(&self) -> u64;
    /// Nothing arrived for a poll slice; nothing to do by default.
    fn quiet(&mut self) {}
    /// Where the iteration stands, appended to error messages.
    fn context(&self) -> String;
}

/// One connection and its buffers, kept from iteration to iteration.
pub struct Stream {
    sock: TcpStream,
    /// The server's kind in error texts ("echo", "RPC").
    server: &'static str,
    timeout_ns: u64,
    method: Method,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    opos: usize,
    /// Bytes of this iteration written.
    written: u64,
    rbuf: Vec<u8>,
}

impl Stream {
    /// A stream on `sock` (connected, non-blocking) to a server of kind
    /// `server`, in `method`, that fails after `timeout_ns` without
    /// progress.
    pub fn new(sock: TcpStream, server: &'static str, method: Method, timeout_ns: u64) -> Stream {
        Stream {
            sock,
            server,
            timeout_ns,
            method,
            out: Vec::with_capacity(2 * OUT_CHUNK),
            opos: 0,
            written: 0,
            rbuf: vec![0; READ_BUF],
        }
    }

    /// An error text: `what`, the socket error `e`, and where `x` stands.
    fn error(&self, what: &str, e: &std::io::Error, x: &impl Exchange) -> String {
        format!("{what}{} {}", io_text(e, self.server), x.context())
    }

    /// Writes requests up to the window while the socket takes them, in
    /// the stream's method.
    fn send(&mut self, x: &mut impl Exchange) -> Result<(), String> {
        match self.method {
            Method::Batched => {
                if self.opos == self.out.len() {
                    self.out.clear();
                    self.opos = 0;
                }
                while self.out.len() - self.opos < OUT_CHUNK && x.fill(&mut self.out) {}
                self.write(x)
            }
            Method::OnePerSend => loop {
                if self.opos == self.out.len() {
                    self.out.clear();
                    self.opos = 0;
                    if !x.fill(&mut self.out) {
                        return Ok(());
                    }
                }
                self.write(x)?;
                if self.opos < self.out.len() {
                    return Ok(()); // the socket takes no more now
                }
            },
        }
    }

    /// Writes the queued bytes until they are all written or the socket
    /// would block.
    fn write(&mut self, x: &mut impl Exchange) -> Result<(), String> {
        while self.opos < self.out.len() {
            let t = monotonic_ns();
            match self.sock.write(&self.out[self.opos..]) {
                Ok(n) => {
                    self.opos += n;
                    self.written += n as u64;
                    x.sent(self.written, t);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(self.error("send: ", &e, x)),
            }
        }
        Ok(())
    }

    /// Reads once (in the original method at most the rest of one answer)
    /// and hands what arrived to `x`.
    fn receive(&mut self, x: &mut impl Exchange) -> Result<(), String> {
        let len = match self.method {
            Method::Batched => READ_BUF,
            Method::OnePerSend => x.want().clamp(1, READ_BUF),
        };
        let n = match self.sock.read(&mut self.rbuf[..len]) {
            Ok(0) => return Err(format!("connection closed by the server {}", x.context())),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return match self.sock.take_error() {
                    Ok(Some(e)) => Err(self.error("", &e, x)),
                    _ => Ok(()),
                };
            }
            Err(e) => return Err(self.error("receive: ", &e, x)),
        };
        x.consume(&self.rbuf[..n], monotonic_ns())
    }

    /// Runs one iteration of `x` to its end. Returns early (Ok) when `stop`
    /// is set; an error is fatal.
    pub fn run(&mut self, x: &mut impl Exchange, stop: &AtomicBool) -> Result<(), String> {
        self.out.clear();
        (self.opos, self.written) = (0, 0);
        let mut last_progress = monotonic_ns();
        while !x.done() {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let (written, progress) = (self.written, x.progress());
            self.send(x)?;
            let want_out = self.opos < self.out.len();
            let now = monotonic_ns();
            if self.written != written {
                last_progress = now;
            }
            let deadline = last_progress + self.timeout_ns;
            if now >= deadline {
                return Err(format!(
                    "timeout: no progress for {} ms {}{}",
                    self.timeout_ns / 1_000_000,
                    x.context(),
                    if want_out {
                        "; the server does not read"
                    } else {
                        ""
                    }
                ));
            }
            let mut events = PollFlags::IN;
            if want_out {
                events |= PollFlags::OUT;
            }
            let ev = poll(&self.sock, events, slice_until(now, deadline))
                .map_err(|e| format!("poll: {e}"))?;
            if ev.intersects(PollFlags::IN | PollFlags::ERR | PollFlags::HUP) {
                self.receive(x)?;
            } else if ev.is_empty() {
                x.quiet();
            }
            if x.progress() != progress {
                last_progress = monotonic_ns();
            }
        }
        Ok(())
    }
}
