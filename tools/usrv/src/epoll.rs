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
use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::io::Errno;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;

const ROUNDS: usize = 8;
const RX_SIZE: usize = 64 * 1024;
const ACCEPT_BUDGET: usize = 64;
const T_LISTEN: u64 = 0;
const T_UDP: u64 = 1;
const T_WAKE: u64 = 2;
const T_CONN: u64 = 3;
/// Level-triggered readability.
const IN: EventFlags = EventFlags::IN;

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
        let fd = self.fd.as_fd();
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

/// Runs the thread's event loop until the stop flag is set.
pub fn run(w: Worker) -> io::Result<()> {
    let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
    let add = |fd: BorrowedFd<'_>, token| epoll::add(&ep, fd, EventData::new_u64(token), IN);
    add(w.listener.as_fd(), T_LISTEN)?;
    add(w.wake.as_fd(), T_WAKE)?;
    let mut udp = w.udp.as_ref().map(|u| Udp::new(u.as_fd()));
    if let Some(u) = &udp {
        add(u.fd, T_UDP)?;
    }
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Vec::with_capacity(256);
    while !crate::STOP.load(Ordering::Relaxed) {
        events.clear();
        match epoll::wait(&ep, spare_capacity(&mut events), None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        for ev in &events {
            match ev.data.u64() {
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

fn accept(ep: &OwnedFd, w: &Worker, conns: &mut Vec<Option<Conn>>, free: &mut Vec<usize>) {
    for _ in 0..ACCEPT_BUDGET {
        let fd = match sock::accept(&w.listener) {
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
        if epoll::add(ep, &fd, EventData::new_u64(token), IN).is_err() {
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

fn serve(ep: &OwnedFd, slot: usize, conns: &mut [Option<Conn>], free: &mut Vec<usize>) {
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
        let ev = if want_write { EventFlags::OUT } else { IN };
        let token = EventData::new_u64(T_CONN + slot as u64);
        if epoll::modify(ep, &c.fd, token, ev).is_err() {
            conns[slot] = None;
            free.push(slot);
        }
    }
}
