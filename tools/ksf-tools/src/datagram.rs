// SPDX-License-Identifier: GPL-2.0

//! Requests in datagrams on a connected UDP socket, shared by echotest and
//! rpctest: one datagram per request while the window allows, answers
//! matched as they come, requests not answered in time given up (a tool
//! counts them as lost; the run goes on). What the datagrams are and how
//! answers are checked is a [`Datagrams`].

use crate::cpu::monotonic_ns;
use crate::jobs::{io_text, poll, send_blocked, slice_until};
use rustix::event::PollFlags;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};

/// Datagrams received per wake-up at most, so that deadlines are checked
/// even under a flood.
const RECV_BUDGET: usize = 256;

/// A tool's side of an iteration on a UDP socket.
pub trait Datagrams {
    /// Whether every request of the iteration is answered or given up.
    fn done(&self) -> bool;
    /// The next request, if the window allows one now. It counts as sent
    /// only after [`sent`](Self::sent).
    fn next(&mut self) -> Option<&[u8]>;
    /// The request of the last [`next`](Self::next) went out at `now`, in
    /// a datagram of `n` bytes.
    fn sent(&mut self, n: usize, now: u64);
    /// Gives up the requests that are out of time at `now`; returns when
    /// the oldest one still waiting will be, or `None` if none waits.
    fn expire(&mut self, now: u64) -> Option<u64>;
    /// Checks the datagram `data`, received at `now`.
    fn consume(&mut self, data: &[u8], now: u64);
    /// Where the iteration stands, appended to error messages.
    fn context(&self) -> String;
}

/// Runs one iteration of `x` on `sock` (connected, non-blocking), with
/// `rbuf` to receive into; `server` names the server's kind in error
/// texts. Returns early (Ok) when `stop` is set; only socket errors are
/// fatal.
pub fn run(
    sock: &UdpSocket,
    rbuf: &mut [u8],
    server: &str,
    x: &mut impl Datagrams,
    stop: &AtomicBool,
) -> Result<(), String> {
    let fatal = |what: &str, e: std::io::Error, x: &dyn Datagrams| {
        format!("{what}: {} {}", io_text(&e, server), x.context())
    };
    while !x.done() {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut blocked = false;
        while let Some(req) = x.next() {
            let t = monotonic_ns();
            match sock.send(req) {
                Ok(n) => x.sent(n, t),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if send_blocked(&e) => {
                    blocked = true;
                    break;
                }
                Err(e) => return Err(fatal("send", e, x)),
            }
        }
        let now = monotonic_ns();
        let deadline = x.expire(now);
        if x.done() {
            break;
        }
        if deadline.is_none() && !blocked {
            continue; // nothing in flight: send
        }
        let deadline = deadline.unwrap_or(now + 1_000_000);
        let mut events = PollFlags::IN;
        if blocked {
            events |= PollFlags::OUT;
        }
        let ev =
            poll(sock, events, slice_until(now, deadline)).map_err(|e| format!("poll: {e}"))?;
        if !ev.intersects(PollFlags::IN | PollFlags::ERR) {
            continue;
        }
        for _ in 0..RECV_BUDGET {
            match sock.recv(rbuf) {
                Ok(n) => x.consume(&rbuf[..n], monotonic_ns()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(fatal("receive", e, x)),
            }
        }
    }
    Ok(())
}
