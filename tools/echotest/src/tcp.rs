// SPDX-License-Identifier: GPL-2.0

//! TCP: the echo is a byte stream. Messages are written back to back, up to
//! `inflight` of them unanswered; every received byte is compared with the
//! byte expected at that position of the stream, however the reads split it.
//! Any difference, EOF, reset or stall is fatal (the stream cannot be
//! resynchronised).

use crate::job::{io_text, poll, slice_until, Engine, IterResult};
use crate::msg::{hex, Pattern};
use ksf_tools::cpu::monotonic_ns;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

/// Send timestamps are kept in a ring of this size (> max in flight).
const RING: usize = 1024;
/// Messages are queued for writing while less than this is pending.
const OUT_CHUNK: usize = 64 * 1024;
/// Read buffer size.
const READ_BUF: usize = 256 * 1024;

pub struct TcpJob {
    sock: TcpStream,
    pat: Pattern,
    inflight: u64,
    timeout_ns: u64,
    /// Sequence number of the next iteration's first message.
    next_seq: u64,
    out: Vec<u8>,
    rbuf: Vec<u8>,
    stamps: Vec<u64>,
}

/// Progress of one iteration.
struct Iter {
    base: u64,
    end: u64,
    /// Next message to queue into `out`.
    queued: u64,
    /// Messages whose first byte was written (and so time-stamped).
    stamped: u64,
    /// Bytes of this iteration written and received.
    written: u64,
    received: u64,
    /// Next expected byte: offset `roff` of message `rseq`.
    rseq: u64,
    roff: usize,
    /// Bytes of `out` already written.
    opos: usize,
}

impl TcpJob {
    pub fn new(sock: TcpStream, job: u32, len: usize, inflight: usize, timeout_ns: u64) -> Self {
        TcpJob {
            sock,
            pat: Pattern::new(job, len),
            inflight: inflight as u64,
            timeout_ns,
            next_seq: 0,
            out: Vec::with_capacity(OUT_CHUNK + len),
            rbuf: vec![0; READ_BUF],
            stamps: vec![0; RING],
        }
    }

    /// Where the stream stands, for error messages.
    fn context(&self, it: &Iter) -> String {
        format!(
            "while waiting for the echo of seq {} ({} of {} bytes received, {} messages in flight)",
            it.rseq,
            it.roff,
            self.pat.len(),
            it.stamped - it.rseq
        )
    }

    /// Queues messages up to the window and writes what the socket takes.
    fn send(&mut self, it: &mut Iter) -> Result<(), String> {
        if it.opos == self.out.len() {
            self.out.clear();
            it.opos = 0;
        }
        while it.queued < it.end
            && it.queued - it.rseq < self.inflight
            && self.out.len() - it.opos < OUT_CHUNK
        {
            self.pat.append(it.queued, &mut self.out);
            it.queued += 1;
        }
        while it.opos < self.out.len() {
            let t = monotonic_ns();
            match self.sock.write(&self.out[it.opos..]) {
                Ok(n) => {
                    it.opos += n;
                    it.written += n as u64;
                    let len = self.pat.len() as u64;
                    let started = it.base + it.written.div_ceil(len);
                    while it.stamped < started {
                        self.stamps[it.stamped as usize % RING] = t;
                        it.stamped += 1;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("send: {} {}", io_text(&e), self.context(it))),
            }
        }
        Ok(())
    }

    /// Reads once and verifies what arrived. Returns false if nothing was
    /// there.
    fn receive(&mut self, it: &mut Iter, r: &mut IterResult) -> Result<bool, String> {
        let n = match self.sock.read(&mut self.rbuf) {
            Ok(0) => {
                return Err(format!(
                    "connection closed by the server {}",
                    self.context(it)
                ));
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return match self.sock.take_error() {
                    Ok(Some(e)) => Err(format!("{} {}", io_text(&e), self.context(it))),
                    _ => Ok(false),
                };
            }
            Err(e) => return Err(format!("receive: {} {}", io_text(&e), self.context(it))),
        };
        let now = monotonic_ns();
        let len = self.pat.len();
        // Only bytes that were sent can come back.
        let valid = n.min((it.written - it.received) as usize);
        let mut data = &self.rbuf[..valid];
        while !data.is_empty() {
            let take = (len - it.roff).min(data.len());
            if let Some(at) = self.pat.check(it.rseq, it.roff, &data[..take]) {
                return Err(self.pat.describe(it.rseq, it.roff, &data[..take], at));
            }
            it.roff += take;
            data = &data[take..];
            if it.roff == len {
                let sent = self.stamps[it.rseq as usize % RING];
                r.hist.record(now.saturating_sub(sent));
                r.msgs += 1;
                it.rseq += 1;
                it.roff = 0;
            }
        }
        it.received += valid as u64;
        if valid < n {
            let extra = &self.rbuf[valid..n.min(valid + 16)];
            return Err(format!(
                "received {} bytes more than were sent, {}: {}",
                n - valid,
                match (it.roff, it.rseq.checked_sub(1)) {
                    (0, Some(prev)) => format!("after the echo of seq {prev}"),
                    (0, None) => "before any echo".to_string(),
                    (o, _) => format!("at byte {o} of the echo of seq {}", it.rseq),
                },
                hex(extra)
            ));
        }
        Ok(true)
    }
}

impl Engine for TcpJob {
    fn iterate(&mut self, count: u64, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let base = self.next_seq;
        let mut it = Iter {
            base,
            end: base + count,
            queued: base,
            stamped: base,
            written: 0,
            received: 0,
            rseq: base,
            roff: 0,
            opos: 0,
        };
        self.out.clear();
        let mut last_progress = monotonic_ns();
        while it.rseq < it.end {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let written = it.written;
            self.send(&mut it)?;
            let want_out = it.opos < self.out.len();
            let mut events = libc::POLLIN;
            if want_out {
                events |= libc::POLLOUT;
            }
            let now = monotonic_ns();
            if it.written != written {
                last_progress = now;
            }
            let deadline = last_progress + self.timeout_ns;
            if now >= deadline {
                return Err(format!(
                    "timeout: no progress for {} ms {}{}",
                    self.timeout_ns / 1_000_000,
                    self.context(&it),
                    if want_out {
                        "; the server does not read"
                    } else {
                        ""
                    }
                ));
            }
            let ev = poll(&self.sock, events, slice_until(now, deadline))
                .map_err(|e| format!("poll: {e}"))?;
            if ev & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0
                && self.receive(&mut it, r)?
            {
                last_progress = monotonic_ns();
            }
        }
        self.next_seq = it.end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A loopback echo server for one connection that applies `mangle` to
    /// the whole echoed stream (which it first reads completely).
    fn server(total: u64, mangle: fn(&mut Vec<u8>)) -> (TcpStream, thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut all = vec![0; total as usize];
            s.read_exact(&mut all).unwrap();
            mangle(&mut all);
            let _ = s.write_all(&all);
            thread::sleep(std::time::Duration::from_millis(300));
        });
        let c = TcpStream::connect(addr).unwrap();
        c.set_nonblocking(true).unwrap();
        (c, h)
    }

    fn run(
        count: u64,
        len: usize,
        inflight: usize,
        mangle: fn(&mut Vec<u8>),
    ) -> Result<u64, String> {
        let (c, h) = server(count * len as u64, mangle);
        let mut job = TcpJob::new(c, 7, len, inflight, 200_000_000);
        let mut r = IterResult::new(0);
        let res = job.iterate(count, &mut r, &AtomicBool::new(false));
        h.join().unwrap();
        res.map(|_| r.msgs)
    }

    #[test]
    fn whole_stream_at_once() {
        assert_eq!(run(50, 10, 50, |_| {}), Ok(50));
    }

    #[test]
    fn extra_and_missing_bytes() {
        let e = run(4, 8, 4, |v| v.push(1)).unwrap_err();
        assert!(
            e.starts_with("received 1 bytes more than were sent, after the echo of seq 3"),
            "{e}"
        );
        let e = run(4, 8, 4, |v| {
            v.pop();
        })
        .unwrap_err();
        assert!(
            e.starts_with(
                "timeout: no progress for 200 ms while waiting for the echo of seq 3 (7 of 8"
            ),
            "{e}"
        );
        let e = run(4, 16, 4, |v| v.swap(0, 16)).unwrap_err();
        assert!(
            e.starts_with("echo of seq 0 differs at byte 0 of 16"),
            "{e}"
        );
    }
}
