// SPDX-License-Identifier: GPL-2.0

//! TCP: the echo is a byte stream. Up to `inflight` messages are
//! unanswered; by default each send writes one message and each receive
//! asks for at most the rest of one echo, with `-b` messages are written
//! back to back and echoes read in large chunks. Every received byte is
//! compared with the byte expected at that position of the stream, however
//! the reads split it.
//! Any difference, EOF, reset or stall is fatal (the stream cannot be
//! resynchronised). The connection's loop is ksf-tools' [`Stream`].

use crate::msg::{hex, Pattern};
use crate::opts::Opts;
use crate::{Counts, IterResult};
use ksf_tools::job_loop::Job;
use ksf_tools::stream::{Exchange, Exchanges, Stream, Streams};
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;

/// Send timestamps are kept in a ring of this size (> max in flight).
const RING: usize = 1024;

/// One job's connection, kept for the whole run.
pub struct TcpJob {
    stream: Stream,
    pat: Pattern,
    inflight: u64,
    count: u64,
    /// Sequence number of the next iteration's first message.
    next_seq: u64,
    stamps: Vec<u64>,
}

/// One connection's echoes of an iteration: a connection's pattern, send
/// times and sequence numbers with the job's counters.
struct Echoes<'a> {
    pat: &'a Pattern,
    stamps: &'a mut [u64],
    inflight: u64,
    r: &'a mut IterResult,
    s: &'a mut Seqs,
}

/// Where one connection's messages of an iteration stand.
#[derive(Debug, Default)]
struct Seqs {
    base: u64,
    end: u64,
    /// Next message to queue.
    queued: u64,
    /// Messages whose first byte was written (and so time-stamped).
    stamped: u64,
    /// Bytes of this iteration written and received.
    written: u64,
    received: u64,
    /// Next expected byte: offset `roff` of message `rseq`.
    rseq: u64,
    roff: usize,
}

impl Seqs {
    /// `count` messages from sequence number `base`.
    fn new(base: u64, count: u64) -> Seqs {
        Seqs {
            base,
            end: base + count,
            queued: base,
            stamped: base,
            rseq: base,
            ..Seqs::default()
        }
    }
}

impl TcpJob {
    /// Job `job`'s connection `sock` (connected, non-blocking), for the
    /// messages `o` asks for.
    pub fn new(sock: TcpStream, job: u32, o: &Opts) -> Self {
        TcpJob {
            stream: Stream::new(sock, "echo", o.method(), o.timeout_ms * 1_000_000),
            pat: Pattern::new(job, o.len),
            inflight: o.inflight as u64,
            count: o.count,
            next_seq: 0,
            stamps: vec![0; RING],
        }
    }
}

impl Job for TcpJob {
    type Counts = Counts;

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let mut s = Seqs::new(self.next_seq, self.count);
        let mut x = Echoes {
            pat: &self.pat,
            stamps: &mut self.stamps,
            inflight: self.inflight,
            r,
            s: &mut s,
        };
        self.stream.run(&mut x, stop)?;
        self.next_seq = s.end;
        Ok(())
    }
}

impl Exchange for Echoes<'_> {
    fn done(&self) -> bool {
        self.s.rseq >= self.s.end
    }

    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        if self.s.queued == self.s.end || self.s.queued - self.s.rseq >= self.inflight {
            return false;
        }
        self.pat.append(self.s.queued, out);
        self.s.queued += 1;
        true
    }

    fn sent(&mut self, written: u64, now: u64) {
        self.r.counts.sends += 1;
        self.s.written = written;
        let started = self.s.base + written.div_ceil(self.pat.len() as u64);
        while self.s.stamped < started {
            self.stamps[self.s.stamped as usize % RING] = now;
            self.s.stamped += 1;
        }
    }

    fn consume(&mut self, data: &[u8], now: u64) -> Result<(), String> {
        self.r.counts.recvs += 1;
        let len = self.pat.len();
        // Only bytes that were sent can come back.
        let n = data.len();
        let valid = n.min((self.s.written - self.s.received) as usize);
        let mut rest = &data[..valid];
        while !rest.is_empty() {
            let take = (len - self.s.roff).min(rest.len());
            if let Some(at) = self.pat.check(self.s.rseq, self.s.roff, &rest[..take]) {
                return Err(self
                    .pat
                    .describe(self.s.rseq, self.s.roff, &rest[..take], at));
            }
            self.s.roff += take;
            rest = &rest[take..];
            if self.s.roff == len {
                let sent = self.stamps[self.s.rseq as usize % RING];
                self.r.hist.record(now.saturating_sub(sent));
                self.r.counts.msgs += 1;
                self.s.rseq += 1;
                self.s.roff = 0;
            }
        }
        self.s.received += valid as u64;
        if valid < n {
            let extra = &data[valid..n.min(valid + 16)];
            return Err(format!(
                "received {} bytes more than were sent, {}: {}",
                n - valid,
                match (self.s.roff, self.s.rseq.checked_sub(1)) {
                    (0, Some(prev)) => format!("after the echo of seq {prev}"),
                    (0, None) => "before any echo".to_string(),
                    (o, _) => format!("at byte {o} of the echo of seq {}", self.s.rseq),
                },
                hex(extra)
            ));
        }
        Ok(())
    }

    /// The rest of the echo being received.
    fn want(&self) -> usize {
        self.pat.len() - self.s.roff
    }

    fn progress(&self) -> u64 {
        self.s.received
    }

    /// Messages written whose echoes have not all come back.
    fn owed(&self) -> u64 {
        self.s.stamped.saturating_sub(self.s.rseq)
    }

    fn context(&self) -> String {
        format!(
            "while waiting for the echo of seq {} ({} of {} bytes received, {} messages in flight)",
            self.s.rseq,
            self.s.roff,
            self.pat.len(),
            self.s.stamped - self.s.rseq
        )
    }
}

/// One connection of a [`ManyTcpJob`].
struct EchoConn {
    pat: Pattern,
    stamps: Vec<u64>,
    s: Seqs,
}

/// A job's `-C` connections, opened at the start and kept for the whole
/// run, served by one [`Streams`] loop.
pub struct ManyTcpJob {
    streams: Streams,
    conns: Vec<EchoConn>,
    inflight: u64,
    count: u64,
}

impl ManyTcpJob {
    /// Job `job`'s connections `socks` (connected, non-blocking), for the
    /// messages `o` asks for; connection i's pattern is that of a job
    /// numbered `job * socks.len() + i`, so that every stream differs.
    pub fn new(socks: Vec<TcpStream>, job: u32, o: &Opts) -> std::io::Result<Self> {
        let n = socks.len() as u32;
        let conns = (0..n)
            .map(|i| EchoConn {
                pat: Pattern::new(job * n + i, o.len),
                stamps: vec![0; RING],
                s: Seqs::default(),
            })
            .collect();
        Ok(ManyTcpJob {
            streams: Streams::new(socks, "echo", o.method(), o.timeout_ms * 1_000_000)?,
            conns,
            inflight: o.inflight as u64,
            count: o.count,
        })
    }
}

/// The [`Echoes`] of a job's connections, for [`Streams`].
struct Many<'a> {
    conns: &'a mut [EchoConn],
    inflight: u64,
    r: &'a mut IterResult,
}

impl Exchanges for Many<'_> {
    type X<'b>
        = Echoes<'b>
    where
        Self: 'b;

    fn get(&mut self, i: usize) -> Echoes<'_> {
        let c = &mut self.conns[i];
        Echoes {
            pat: &c.pat,
            stamps: &mut c.stamps,
            inflight: self.inflight,
            r: self.r,
            s: &mut c.s,
        }
    }
}

impl Job for ManyTcpJob {
    type Counts = Counts;

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        for c in &mut self.conns {
            c.s = Seqs::new(c.s.end, self.count);
        }
        let mut many = Many {
            conns: &mut self.conns,
            inflight: self.inflight,
            r,
        };
        self.streams.run(&mut many, stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
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
        run_with(count, len, &format!("-a{inflight}"), mangle)
    }

    fn run_with(
        count: u64,
        len: usize,
        args: &str,
        mangle: fn(&mut Vec<u8>),
    ) -> Result<u64, String> {
        let (c, h) = server(count * len as u64, mangle);
        let args = format!("-c{count} -l{len} {args} -t200");
        let o = crate::opts::test_opts(&args);
        let mut job = TcpJob::new(c, 7, &o);
        let mut r = IterResult::new(0, 0);
        let res = job.iterate(&mut r, &AtomicBool::new(false));
        h.join().unwrap();
        res.map(|_| r.counts.msgs)
    }

    #[test]
    fn whole_stream_at_once() {
        assert_eq!(run(50, 10, 50, |_| {}), Ok(50));
    }

    #[test]
    fn extra_and_missing_bytes() {
        // Only a batched read takes bytes past the last echo.
        let e = run_with(4, 8, "-a4 -b", |v| v.push(1)).unwrap_err();
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
