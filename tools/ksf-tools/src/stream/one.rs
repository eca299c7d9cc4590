// SPDX-License-Identifier: GPL-2.0

//! [`Stream`]: one connection with a loop of its own.

use super::*;
use std::time::Duration;

/// One connection and its buffers, kept from iteration to iteration.
pub struct Stream {
    pipe: Pipe,
    /// The server's kind in error texts ("echo", "RPC").
    server: &'static str,
    timeout_ns: u64,
    method: Method,
    rbuf: Vec<u8>,
    /// The socket blocks, with a receive timeout of a poll slice: with
    /// nothing to send and an answer owed, the loop waits in recv(2).
    blocking: bool,
}

impl Stream {
    /// A stream on `sock` (connected; made blocking, with a receive
    /// timeout, though no write blocks) to a server of kind
    /// `server`, in `method`, that fails after `timeout_ns` without
    /// progress.
    pub fn new(sock: TcpStream, server: &'static str, method: Method, timeout_ns: u64) -> Stream {
        // Writes and most reads say MSG_DONTWAIT themselves; should the
        // socket not take a timeout, it stays non-blocking and every
        // wait is a poll.
        let slice = Duration::from_millis(POLL_SLICE_MS);
        let blocking =
            sock.set_read_timeout(Some(slice)).is_ok() && sock.set_nonblocking(false).is_ok();
        Stream {
            pipe: Pipe::new(sock, 2 * OUT_CHUNK),
            server,
            timeout_ns,
            method,
            rbuf: vec![0; READ_BUF],
            blocking,
        }
    }

    /// Runs one iteration of `x` to its end. Returns early (Ok) when `stop`
    /// is set; an error is fatal.
    pub fn run(&mut self, x: &mut impl Exchange, stop: &AtomicBool) -> Result<(), String> {
        let (p, server, method) = (&mut self.pipe, self.server, self.method);
        p.reset();
        let mut last_progress = monotonic_ns();
        let mut readable = false;
        while !x.done() {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let (written, progress) = (p.written, x.progress());
            p.send(method, server, x)?;
            let want_out = p.want_out();
            let now = monotonic_ns();
            if p.written != written {
                last_progress = now;
            }
            let deadline = last_progress + self.timeout_ns;
            if now >= deadline {
                return Err(stalled(self.timeout_ns, x, want_out));
            }
            // While a read returns data and two answers or more are still
            // owed, the next read is tried at once, not after a poll(2):
            // a deep window then costs a send and a read per request, as
            // the original's blocking clients did, not a poll as well.
            // With fewer owed the next answer is seldom there yet, and a
            // read that finds nothing would cost a system call more.
            //
            // With nothing left to send and an answer owed (at -a1 after
            // every send) the loop waits in recv(2) itself, as a blocking
            // client does, not in poll(2) and then recv(2).
            if readable {
                readable = p.receive(method, server, x, &mut self.rbuf, false)? && x.owed() >= 2;
            } else if self.blocking && !want_out && x.owed() > 0 {
                let got = p.receive(method, server, x, &mut self.rbuf, true)?;
                if !got {
                    x.quiet();
                }
                readable = got && x.owed() >= 2;
            } else {
                let mut events = PollFlags::IN;
                if want_out {
                    events |= PollFlags::OUT;
                }
                let ev = poll(&p.sock, events, slice_until(now, deadline))
                    .map_err(|e| format!("poll: {e}"))?;
                if ev.intersects(PollFlags::IN | PollFlags::ERR | PollFlags::HUP) {
                    readable =
                        p.receive(method, server, x, &mut self.rbuf, false)? && x.owed() >= 2;
                } else if ev.is_empty() {
                    x.quiet();
                }
            }
            if x.progress() != progress {
                last_progress = monotonic_ns();
            }
        }
        Ok(())
    }
}
