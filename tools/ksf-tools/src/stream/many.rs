// SPDX-License-Identifier: GPL-2.0

//! [`Streams`]: many connections of one job in one `epoll` loop.

use super::*;

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
