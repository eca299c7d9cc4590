// SPDX-License-Identifier: GPL-2.0

//! The epoll model: one level-triggered epoll instance per thread, with the
//! thread's listener, its UDP socket, the stop eventfd and its connections.
//!
//! A connection is served like a krpc2/kecho task run: up to [`ROUNDS`]
//! rounds of "send what is pending, else decode what is buffered, else
//! read 64 KiB". All the replies to the calls of one read go out in one
//! send. While output is unsent the connection waits for EPOLLOUT only and
//! reads nothing: a client that does not read fills its own window, never
//! our memory.

use crate::service::Session;
use crate::sock;
use crate::udp::Udp;
use crate::Worker;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;

const ROUNDS: usize = 8;
const RX_SIZE: usize = 64 * 1024;
const ACCEPT_BUDGET: usize = 64;
const T_LISTEN: u64 = 0;
const T_UDP: u64 = 1;
const T_WAKE: u64 = 2;
const T_CONN: u64 = 3;

struct Conn {
    fd: OwnedFd,
    s: Session,
    rx: Box<[u8]>,
    /// Unparsed input is `rx[rx_start..rx_end]`.
    rx_start: usize,
    rx_end: usize,
    /// Unsent output is `tx[tx_start..]`.
    tx: Vec<u8>,
    tx_start: usize,
    /// Waiting for EPOLLOUT (else EPOLLIN).
    want_write: bool,
    /// Close once the output is sent.
    closing: bool,
}

enum Verdict {
    Read,
    Write,
    Close,
}

impl Conn {
    /// One run of the connection.
    fn run(&mut self) -> Verdict {
        let fd = self.fd.as_raw_fd();
        for _ in 0..ROUNDS {
            if self.tx_start < self.tx.len() {
                match sock::send(fd, &self.tx[self.tx_start..]) {
                    Ok(n) => self.tx_start += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Verdict::Write,
                    Err(_) => return Verdict::Close,
                }
                if self.tx_start < self.tx.len() {
                    return Verdict::Write;
                }
                self.tx.clear();
                self.tx_start = 0;
            }
            if self.closing {
                return Verdict::Close;
            }
            if self.rx_start == self.rx_end {
                match sock::recv(fd, &mut self.rx) {
                    Ok(0) => return Verdict::Close,
                    Ok(n) => (self.rx_start, self.rx_end) = (0, n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Verdict::Read,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Verdict::Close,
                }
            }
            let (n, close) = self
                .s
                .feed(&self.rx[self.rx_start..self.rx_end], &mut self.tx);
            self.rx_start += n;
            self.closing = close;
        }
        // Budget spent: level-triggered epoll calls again.
        if self.tx_start < self.tx.len() {
            Verdict::Write
        } else {
            Verdict::Read
        }
    }
}

struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Epoll> {
        let fd = sock::cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: a new fd, owned at once.
        Ok(Epoll(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }))
    }

    fn ctl(&self, op: i32, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: a valid epoll fd and event.
        sock::cvt(unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }
}

/// Runs the thread's event loop until the stop flag is set.
pub fn run(w: Worker) -> io::Result<()> {
    let ep = Epoll::new()?;
    let in_ = libc::EPOLLIN as u32;
    ep.ctl(libc::EPOLL_CTL_ADD, w.listener.as_raw_fd(), in_, T_LISTEN)?;
    ep.ctl(libc::EPOLL_CTL_ADD, w.wake, in_, T_WAKE)?;
    let mut udp = w.udp.as_ref().map(|u| Udp::new(u.as_raw_fd()));
    if let Some(u) = &udp {
        ep.ctl(libc::EPOLL_CTL_ADD, u.fd, in_, T_UDP)?;
    }
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    while !crate::STOP.load(Ordering::Relaxed) {
        // SAFETY: `events` is a valid array of its length.
        let n = unsafe {
            libc::epoll_wait(
                ep.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                -1,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in &events[..n as usize] {
            match ev.u64 {
                T_WAKE => {}
                T_UDP => {
                    if let Some(u) = &mut udp {
                        u.drain(&w.svc);
                    }
                }
                T_LISTEN => accept(&ep, &w, &mut conns, &mut free),
                t => serve(&ep, (t - T_CONN) as usize, &mut conns, &mut free),
            }
        }
    }
    Ok(())
}

fn accept(ep: &Epoll, w: &Worker, conns: &mut Vec<Option<Conn>>, free: &mut Vec<usize>) {
    for _ in 0..ACCEPT_BUDGET {
        let fd = match sock::accept(w.listener.as_raw_fd()) {
            Ok(fd) => fd,
            // EAGAIN, or a connection reset before it was accepted, or
            // out of fds: try again at the next event.
            Err(_) => return,
        };
        let slot = free.pop().unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        let token = T_CONN + slot as u64;
        if ep
            .ctl(
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                libc::EPOLLIN as u32,
                token,
            )
            .is_err()
        {
            free.push(slot);
            continue;
        }
        conns[slot] = Some(Conn {
            fd,
            s: w.svc.session(),
            rx: vec![0; RX_SIZE].into_boxed_slice(),
            rx_start: 0,
            rx_end: 0,
            tx: Vec::with_capacity(w.svc.session().cap()),
            tx_start: 0,
            want_write: false,
            closing: false,
        });
    }
}

fn serve(ep: &Epoll, slot: usize, conns: &mut [Option<Conn>], free: &mut Vec<usize>) {
    let Some(Some(c)) = conns.get_mut(slot) else {
        return;
    };
    let want_write = match c.run() {
        Verdict::Read => false,
        Verdict::Write => true,
        Verdict::Close => {
            // Closing the fd removes it from the epoll set.
            conns[slot] = None;
            free.push(slot);
            return;
        }
    };
    if want_write != c.want_write {
        c.want_write = want_write;
        let ev = if want_write {
            libc::EPOLLOUT
        } else {
            libc::EPOLLIN
        } as u32;
        let token = T_CONN + slot as u64;
        if ep
            .ctl(libc::EPOLL_CTL_MOD, c.fd.as_raw_fd(), ev, token)
            .is_err()
        {
            conns[slot] = None;
            free.push(slot);
        }
    }
}
