// SPDX-License-Identifier: GPL-2.0

//! TCP: calls are record-marked and pipelined on one connection. Queued
//! calls are written together (as many as the window allows, in one send
//! where the socket takes them), replies are read in large chunks and
//! split into records by `rm::Decoder`, whatever the reads cut. A malformed
//! record stream, EOF, reset or stall is fatal: the stream cannot be
//! resynchronised.

use crate::call::Template;
use crate::job::{io_text, poll, slice_until, IterResult};
use crate::window::{hex, Window};
use ksf_proto::rm::{Decoder, Limits};
use ksf_tools::cpu::monotonic_ns;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

/// Calls are queued for writing while less than this is pending.
const OUT_CHUNK: usize = 64 * 1024;
/// Read size.
const READ_BUF: usize = 256 * 1024;

struct Tcp<'a> {
    sock: TcpStream,
    call: &'a Template,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    opos: usize,
    /// Bytes of this iteration written.
    written: u64,
    dec: Decoder,
    /// The record being reassembled (when it spans reads or fragments).
    rec: Vec<u8>,
    /// Complete records received.
    records: u64,
}

impl Tcp<'_> {
    /// Queues calls up to the window and writes what the socket takes.
    fn send(&mut self, win: &mut Window, r: &mut IterResult) -> Result<(), String> {
        if self.opos == self.out.len() {
            self.out.clear();
            self.opos = 0;
        }
        while win.can_take() && self.out.len() - self.opos < OUT_CHUNK {
            let xid = win.take();
            self.call.append(xid, &mut self.out);
        }
        let len = self.call.len() as u64;
        while self.opos < self.out.len() {
            let t = monotonic_ns();
            match self.sock.write(&self.out[self.opos..]) {
                Ok(n) => {
                    self.opos += n;
                    self.written += n as u64;
                    r.sends += 1;
                    r.bytes_out += n as u64;
                    for _ in win.stamped()..self.written.div_ceil(len) {
                        win.stamp(t);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("send: {} ({})", io_text(&e), win.context())),
            }
        }
        Ok(())
    }

    /// Reads once and checks the replies that arrived.
    fn receive(
        &mut self,
        rbuf: &mut [u8],
        win: &mut Window,
        r: &mut IterResult,
    ) -> Result<(), String> {
        let n = match self.sock.read(rbuf) {
            Ok(0) => {
                return Err(format!(
                    "connection closed by the server ({})",
                    win.context()
                ))
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return match self.sock.take_error() {
                    Ok(Some(e)) => Err(format!("{} ({})", io_text(&e), win.context())),
                    _ => Ok(()),
                };
            }
            Err(e) => return Err(format!("receive: {} ({})", io_text(&e), win.context())),
        };
        let now = monotonic_ns();
        r.recvs += 1;
        r.bytes_in += n as u64;
        let mut data = &rbuf[..n];
        while !data.is_empty() {
            let step = self.dec.decode(data).map_err(|e| {
                format!(
                    "malformed record stream from the server after {} replies: {e} \
                     (received: {}) ({})",
                    self.records,
                    hex(data),
                    win.context()
                )
            })?;
            let payload = &data[step.payload.clone()];
            if step.end_of_record {
                self.records += 1;
                if self.rec.is_empty() {
                    win.on_reply(payload, now, r);
                } else {
                    self.rec.extend_from_slice(payload);
                    win.on_reply(&self.rec, now, r);
                    self.rec.clear();
                }
            } else {
                self.rec.extend_from_slice(payload);
            }
            data = &data[step.consumed..];
        }
        Ok(())
    }
}

/// Makes the calls of `win` on `sock` (connected, non-blocking), recording
/// into `r`. Returns early (Ok) when `stop` is set; an `Err` is fatal.
pub fn iterate(
    sock: TcpStream,
    call: &Template,
    timeout_ns: u64,
    win: &mut Window,
    r: &mut IterResult,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut t = Tcp {
        sock,
        call,
        out: Vec::with_capacity(OUT_CHUNK + call.len()),
        opos: 0,
        written: 0,
        dec: Decoder::new(Limits::DEFAULT),
        rec: Vec::new(),
        records: 0,
    };
    let mut rbuf = vec![0u8; READ_BUF];
    let mut last_progress = monotonic_ns();
    while !win.done() {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let written = t.written;
        t.send(win, r)?;
        let want_out = t.opos < t.out.len();
        let now = monotonic_ns();
        if t.written != written {
            last_progress = now;
        }
        let deadline = last_progress + timeout_ns;
        if now >= deadline {
            return Err(format!(
                "timeout: no progress for {} ms ({}){}",
                timeout_ns / 1_000_000,
                win.context(),
                if want_out {
                    "; the server does not read"
                } else {
                    ""
                }
            ));
        }
        let events = libc::POLLIN | if want_out { libc::POLLOUT } else { 0 };
        let ev =
            poll(&t.sock, events, slice_until(now, deadline)).map_err(|e| format!("poll: {e}"))?;
        if ev & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0 {
            // Progress is a settled call, not just bytes: a server that
            // sends only replies matching nothing must time out.
            let finished = win.finished();
            t.receive(&mut rbuf, win, r)?;
            if win.finished() != finished {
                last_progress = monotonic_ns();
            }
        } else if ev == 0 {
            // Quiet for a poll slice: replies that matched nothing may
            // have stood for calls that will never be answered.
            let finished = win.finished();
            win.retire_strays(t.records, t.written / call.len() as u64);
            if win.finished() != finished {
                last_progress = monotonic_ns();
            }
        }
    }
    Ok(())
}
