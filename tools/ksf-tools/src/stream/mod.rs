// SPDX-License-Identifier: GPL-2.0

//! Pipelined requests on one TCP connection, shared by echotest and
//! rpctest, in one of two [`Method`]s: the original's (one request per
//! send, at most one answer per receive; the default) or batched
//! (requests written back to back while the window allows, answers read
//! in large chunks, whatever the reads cut). A connection that makes no
//! progress for the timeout fails. What the requests are and how answers
//! are checked is an [`Exchange`].
//!
//! A [`Stream`] is one connection with a loop of its own (waiting in
//! `recv` when it has nothing to send, else in `poll`);
//! [`Streams`] are many connections of one job in one `epoll` loop, each
//! with its own [`Exchange`] (its own window), so that a job can keep
//! hundreds of connections busy without a thread for each.

use crate::cpu::monotonic_ns;
use crate::jobs::{io_text, poll, slice_until, POLL_SLICE_MS};
use rustix::buffer::spare_capacity;
use rustix::event::{epoll, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{self, RecvFlags, SendFlags};
use std::io::{self, ErrorKind};
use std::net::TcpStream;
use std::os::fd::OwnedFd;
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
    /// [`OUT_CHUNK`] bytes queued at a time (the next chunk as soon as the
    /// socket took the last), and each recv(2) reads up to
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
    /// Answers owed: requests written whose answers have not all
    /// arrived. [`Stream`] reads again without polling first while at
    /// least two are owed; by default none are, and it always polls.
    fn owed(&self) -> u64 {
        0
    }
    /// Where the iteration stands, appended to error messages.
    fn context(&self) -> String;
}

/// One connection's socket and the requests queued for it.
struct Pipe {
    sock: TcpStream,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    opos: usize,
    /// Bytes of this iteration written.
    written: u64,
}

/// An error text: `what`, the socket error `e` of a `server` ("echo",
/// "RPC"), and where `x` stands.
fn error(server: &str, what: &str, e: &std::io::Error, x: &impl Exchange) -> String {
    format!("{what}{} {}", io_text(e, server), x.context())
}

impl Pipe {
    fn new(sock: TcpStream, capacity: usize) -> Pipe {
        Pipe {
            sock,
            out: Vec::with_capacity(capacity),
            opos: 0,
            written: 0,
        }
    }

    /// Forgets the last iteration's requests.
    fn reset(&mut self) {
        self.out.clear();
        (self.opos, self.written) = (0, 0);
    }

    /// Whether queued bytes wait for the socket to take them.
    fn want_out(&self) -> bool {
        self.opos < self.out.len()
    }

    /// Writes requests up to the window while the socket takes them, in
    /// `method`.
    fn send(&mut self, method: Method, server: &str, x: &mut impl Exchange) -> Result<(), String> {
        match method {
            // Chunk after chunk while the socket takes them all and the
            // window gives more.
            Method::Batched => loop {
                if self.opos == self.out.len() {
                    self.out.clear();
                    self.opos = 0;
                }
                let queued = self.out.len();
                while self.out.len() - self.opos < OUT_CHUNK && x.fill(&mut self.out) {}
                self.write(server, x)?;
                if self.opos < self.out.len() || self.out.len() == queued {
                    return Ok(()); // the socket takes no more now, or nothing is left
                }
            },
            Method::OnePerSend => loop {
                if self.opos == self.out.len() {
                    self.out.clear();
                    self.opos = 0;
                    if !x.fill(&mut self.out) {
                        return Ok(());
                    }
                }
                self.write(server, x)?;
                if self.opos < self.out.len() {
                    return Ok(()); // the socket takes no more now
                }
            },
        }
    }

    /// Writes the queued bytes until they are all written or the socket
    /// would block.
    fn write(&mut self, server: &str, x: &mut impl Exchange) -> Result<(), String> {
        while self.opos < self.out.len() {
            let t = monotonic_ns();
            // MSG_DONTWAIT: a [`Stream`]'s socket is blocking (for its
            // waiting reads), and no write may wait.
            let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
            match net::send(&self.sock, &self.out[self.opos..], flags).map_err(io::Error::from) {
                Ok(n) => {
                    self.opos += n;
                    self.written += n as u64;
                    x.sent(self.written, t);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(error(server, "send: ", &e, x)),
            }
        }
        Ok(())
    }

    /// Reads once into `rbuf` (in the original method at most the rest of
    /// one answer) and hands what arrived to `x`: true if anything did.
    /// With `wait` the read blocks until something arrives or the
    /// socket's receive timeout ends (a blocking socket only).
    fn receive(
        &mut self,
        method: Method,
        server: &str,
        x: &mut impl Exchange,
        rbuf: &mut [u8],
        wait: bool,
    ) -> Result<bool, String> {
        let len = match method {
            Method::Batched => READ_BUF,
            Method::OnePerSend => x.want().clamp(1, READ_BUF),
        };
        let flags = if wait {
            RecvFlags::empty()
        } else {
            RecvFlags::DONTWAIT
        };
        let got = net::recv(&self.sock, &mut rbuf[..len], flags).map(|(n, _)| n);
        let n = match got.map_err(io::Error::from) {
            Ok(0) => return Err(format!("connection closed by the server {}", x.context())),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return match self.sock.take_error() {
                    Ok(Some(e)) => Err(error(server, "", &e, x)),
                    _ => Ok(false),
                };
            }
            Err(e) => return Err(error(server, "receive: ", &e, x)),
        };
        x.consume(&rbuf[..n], monotonic_ns())?;
        Ok(true)
    }
}

/// The error of a connection that made no progress for `timeout_ns`.
fn stalled(timeout_ns: u64, x: &impl Exchange, want_out: bool) -> String {
    format!(
        "timeout: no progress for {} ms {}{}",
        timeout_ns / 1_000_000,
        x.context(),
        if want_out {
            "; the server does not read"
        } else {
            ""
        }
    )
}

mod many;
mod one;
#[cfg(test)]
mod tests;

pub use many::{Exchanges, Streams};
pub use one::Stream;
