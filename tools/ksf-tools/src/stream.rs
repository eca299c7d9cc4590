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
use std::time::Duration;

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

/// The exchanges of a job's connections, one per connection, for
/// [`Streams::run`]: each time a connection has something to do, the
/// loop asks for its exchange (typically a short-lived view of the
/// connection's own state and of the job's shared counters).
pub trait Exchanges {
    /// The exchange of one connection.
    type X<'a>: Exchange
    where
        Self: 'a;

    /// Connection `i`'s exchange (`i` as in [`Streams::new`]'s list).
    fn get(&mut self, i: usize) -> Self::X<'_>;
}

/// Where one of [`Streams`]' connections stands in an iteration.
#[derive(Clone, Copy, Default)]
struct Watch {
    /// When it last made progress (monotonic nanoseconds).
    last: u64,
    /// It had an event since the last scan.
    busy: bool,
    /// It is registered for `EPOLLOUT` too.
    out: bool,
    /// Its exchange is done (and it left the epoll set).
    done: bool,
}

/// Most events taken from one `epoll_wait`.
const EVENTS: usize = 256;

/// Many connections of one job, each with its own window of requests,
/// served by one `epoll` loop (level-triggered). Every connection is a
/// [`Stream`] as far as its exchange can tell: the same [`Method`], the
/// same per-connection timeout; the read buffer is shared.
pub struct Streams {
    pipes: Vec<Pipe>,
    epoll: OwnedFd,
    server: &'static str,
    timeout_ns: u64,
    method: Method,
    rbuf: Vec<u8>,
}

impl Streams {
    /// Streams on `socks` (connected, non-blocking) to a server of kind
    /// `server`, in `method`; a connection that makes no progress for
    /// `timeout_ns` fails the iteration.
    pub fn new(
        socks: Vec<TcpStream>,
        server: &'static str,
        method: Method,
        timeout_ns: u64,
    ) -> std::io::Result<Streams> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(Streams {
            pipes: socks.into_iter().map(|s| Pipe::new(s, 0)).collect(),
            epoll,
            server,
            timeout_ns,
            method,
            rbuf: vec![0; READ_BUF],
        })
    }

    /// The number of connections.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// Whether there are no connections.
    pub fn is_empty(&self) -> bool {
        self.pipes.is_empty()
    }

    /// Runs one iteration of every connection's exchange in `xs` to its
    /// end (the streams are for one iteration: every connection joins the
    /// epoll set here and leaves it when its exchange is done). Returns
    /// early (Ok) when `stop` is set; an error of any connection is fatal.
    pub fn run<E: Exchanges>(&mut self, xs: &mut E, stop: &AtomicBool) -> Result<(), String> {
        let (server, method, timeout_ns) = (self.server, self.method, self.timeout_ns);
        let now = monotonic_ns();
        let mut w = vec![
            Watch {
                last: now,
                ..Watch::default()
            };
            self.pipes.len()
        ];
        let mut left = self.pipes.len();
        for (i, p) in self.pipes.iter_mut().enumerate() {
            p.reset();
            epoll::add(
                &self.epoll,
                &p.sock,
                epoll::EventData::new_u64(i as u64),
                epoll::EventFlags::IN,
            )
            .map_err(|e| format!("epoll: {e}"))?;
            let mut x = xs.get(i);
            let fail = |e: String| format!("connection {i}: {e}");
            p.send(method, server, &mut x).map_err(fail)?;
            left -= settle(&self.epoll, i, p, &mut x, &mut w[i]).map_err(fail)?;
        }
        let mut events = Vec::with_capacity(EVENTS.min(self.pipes.len().max(1)));
        let mut scan = monotonic_ns() + POLL_SLICE_MS * 1_000_000;
        while left > 0 {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let wait_ns = scan.saturating_sub(monotonic_ns());
            let timeout = Timespec {
                tv_sec: (wait_ns / 1_000_000_000) as i64,
                tv_nsec: (wait_ns % 1_000_000_000) as i64,
            };
            match epoll::wait(&self.epoll, spare_capacity(&mut events), Some(&timeout)) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => return Err(format!("epoll_wait: {e}")),
            }
            for ev in events.drain(..) {
                let i = ev.data.u64() as usize;
                let (p, wi) = (&mut self.pipes[i], &mut w[i]);
                if wi.done {
                    continue;
                }
                let mut x = xs.get(i);
                let fail = |e: String| format!("connection {i}: {e}");
                let (written, progress) = (p.written, x.progress());
                let flags = ev.flags;
                if flags.intersects(
                    epoll::EventFlags::IN | epoll::EventFlags::ERR | epoll::EventFlags::HUP,
                ) {
                    p.receive(method, server, &mut x, &mut self.rbuf, false)
                        .map_err(fail)?;
                }
                p.send(method, server, &mut x).map_err(fail)?;
                if p.written != written || x.progress() != progress {
                    wi.last = monotonic_ns();
                }
                wi.busy = true;
                left -= settle(&self.epoll, i, p, &mut x, wi).map_err(fail)?;
            }
            let now = monotonic_ns();
            if now < scan {
                continue;
            }
            // Every slice: the quiet connections (a slice without an
            // event) are told so, and one stalled for the timeout fails.
            for (i, p) in self.pipes.iter_mut().enumerate() {
                let wi = &mut w[i];
                if wi.done {
                    continue;
                }
                let mut x = xs.get(i);
                let fail = |e: String| format!("connection {i}: {e}");
                if !std::mem::take(&mut wi.busy) {
                    let progress = x.progress();
                    x.quiet();
                    if x.progress() != progress {
                        wi.last = now;
                        p.send(method, server, &mut x).map_err(fail)?;
                        left -= settle(&self.epoll, i, p, &mut x, wi).map_err(fail)?;
                        continue;
                    }
                }
                if now >= wi.last + timeout_ns {
                    return Err(fail(stalled(timeout_ns, &x, p.want_out())));
                }
            }
            scan = now + POLL_SLICE_MS * 1_000_000;
        }
        Ok(())
    }
}

/// After connection `i`, `p`, had its turn: if its exchange is done it leaves
/// the epoll set (returns 1, one connection fewer left); otherwise its
/// interest in `EPOLLOUT` follows whether requests wait to be written.
fn settle(
    ep: &OwnedFd,
    i: usize,
    p: &Pipe,
    x: &mut impl Exchange,
    w: &mut Watch,
) -> Result<usize, String> {
    if x.done() {
        epoll::delete(ep, &p.sock).map_err(|e| format!("epoll: {e}"))?;
        w.done = true;
        return Ok(1);
    }
    let out = p.want_out();
    if out != w.out {
        let mut flags = epoll::EventFlags::IN;
        if out {
            flags |= epoll::EventFlags::OUT;
        }
        let data = epoll::EventData::new_u64(i as u64);
        epoll::modify(ep, &p.sock, data, flags).map_err(|e| format!("epoll: {e}"))?;
        w.out = out;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;

    /// Echoes of `len`-byte requests, `window` in flight, `count` in all;
    /// checks only the number of bytes.
    #[derive(Default)]
    struct Echo {
        len: usize,
        window: u64,
        count: u64,
        queued: u64,
        received: u64,
        quiet: u64,
    }

    impl Exchange for Echo {
        fn done(&self) -> bool {
            self.received == self.count * self.len as u64
        }
        fn fill(&mut self, out: &mut Vec<u8>) -> bool {
            let answered = self.received / self.len as u64;
            if self.queued == self.count || self.queued - answered >= self.window {
                return false;
            }
            out.resize(out.len() + self.len, self.queued as u8);
            self.queued += 1;
            true
        }
        fn sent(&mut self, _: u64, _: u64) {}
        fn consume(&mut self, data: &[u8], _: u64) -> Result<(), String> {
            self.received += data.len() as u64;
            Ok(())
        }
        fn want(&self) -> usize {
            self.len - (self.received % self.len as u64) as usize
        }
        fn progress(&self) -> u64 {
            self.received
        }
        fn quiet(&mut self) {
            self.quiet += 1;
        }
        fn owed(&self) -> u64 {
            self.queued - self.received / self.len as u64
        }
        fn context(&self) -> String {
            format!("({} bytes back)", self.received)
        }
    }

    impl Exchanges for Vec<Echo> {
        type X<'a> = &'a mut Echo;
        fn get(&mut self, i: usize) -> &mut Echo {
            &mut self[i]
        }
    }

    impl<X: Exchange> Exchange for &mut X {
        fn done(&self) -> bool {
            (**self).done()
        }
        fn fill(&mut self, out: &mut Vec<u8>) -> bool {
            (**self).fill(out)
        }
        fn sent(&mut self, w: u64, t: u64) {
            (**self).sent(w, t)
        }
        fn consume(&mut self, d: &[u8], t: u64) -> Result<(), String> {
            (**self).consume(d, t)
        }
        fn want(&self) -> usize {
            (**self).want()
        }
        fn progress(&self) -> u64 {
            (**self).progress()
        }
        fn quiet(&mut self) {
            (**self).quiet()
        }
        fn owed(&self) -> u64 {
            (**self).owed()
        }
        fn context(&self) -> String {
            (**self).context()
        }
    }

    /// `n` connections to a loopback server that runs `serve` on each.
    fn connections(n: usize, serve: fn(TcpStream)) -> Vec<TcpStream> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            for s in l.incoming().flatten() {
                thread::spawn(move || serve(s));
            }
        });
        (0..n)
            .map(|_| {
                let s = TcpStream::connect(addr).unwrap();
                s.set_nonblocking(true).unwrap();
                s
            })
            .collect()
    }

    fn echo(mut s: TcpStream) {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    }

    fn sink(mut s: TcpStream) {
        thread::sleep(std::time::Duration::from_secs(2));
        let _ = s.flush();
    }

    #[test]
    fn many_connections_in_one_loop() {
        for method in [Method::OnePerSend, Method::Batched] {
            let socks = connections(40, echo);
            let mut xs: Vec<Echo> = (0..40)
                .map(|i| Echo {
                    len: 100 + i,
                    window: 3,
                    count: 25,
                    ..Echo::default()
                })
                .collect();
            let mut st = Streams::new(socks, "echo", method, 5_000_000_000).unwrap();
            assert_eq!((st.len(), st.is_empty()), (40, false));
            st.run(&mut xs, &AtomicBool::new(false)).unwrap();
            assert!(xs.iter().all(|x| x.done()), "{method:?}");
        }
    }

    #[test]
    fn a_stalled_connection_times_out() {
        // A server that never reads: the window's 64 MiB of requests fill
        // the socket buffers, the connection waits for EPOLLOUT and fails.
        let socks = connections(3, sink);
        let mut xs: Vec<Echo> = (0..3)
            .map(|_| Echo {
                len: 64 * 1024,
                window: 1024,
                count: 1024,
                ..Echo::default()
            })
            .collect();
        let mut st = Streams::new(socks, "echo", Method::Batched, 300_000_000).unwrap();
        let e = st.run(&mut xs, &AtomicBool::new(false)).unwrap_err();
        // All three stall; whichever is first fails the run.
        assert!(
            e.starts_with("connection ")
                && e.contains(": timeout: no progress for 300 ms (0 bytes back)")
                && e.ends_with("; the server does not read"),
            "{e}"
        );
        assert!(xs.iter().any(|x| x.quiet > 0), "quiet was never called");
        // Stopped from outside, the loop returns at once.
        let mut st = Streams::new(connections(1, sink), "echo", Method::Batched, 1 << 40).unwrap();
        let mut xs = vec![Echo {
            len: 10,
            window: 1,
            count: 1,
            ..Echo::default()
        }];
        assert_eq!(st.run(&mut xs, &AtomicBool::new(true)), Ok(()));
    }
}
