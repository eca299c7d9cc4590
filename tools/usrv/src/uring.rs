// SPDX-License-Identifier: GPL-2.0

//! The io_uring model: one ring per thread.
//!
//! - The listener has one multishot accept (`IORING_ACCEPT_MULTISHOT`).
//! - Each connection has one multishot receive (`IORING_RECV_MULTISHOT`)
//!   that takes buffers from the thread's provided-buffer ring
//!   ([`BufRing`]); with `IORING_RECVSEND_BUNDLE` (probed at startup:
//!   `IORING_FEAT_RECVSEND_BUNDLE`, Linux 6.10) one completion carries
//!   several buffers. Received bytes are decoded at once and the buffers
//!   handed back; the output goes to the connection's next-send buffer.
//! - One send (`IORING_OP_SEND`) per connection is in flight at a time;
//!   what accumulates meanwhile goes out with the next one, so many replies
//!   share a send. No send bundles: the output is already one contiguous
//!   buffer per send, and a send bundle would need a buffer group per
//!   connection to keep its bytes in order, for no fewer system calls.
//! - Backpressure: input that does not fit the output buffer is kept and
//!   the receive cancelled; it is re-armed once the input is consumed. At
//!   most what one batch of completions delivered is kept.
//! - UDP uses a multishot poll and plain system calls ([`crate::udp`]).

use crate::bufring::{BufRing, ENTRIES};
use crate::service::Session;
use crate::sock;
use crate::udp::Udp;
use crate::Worker;
use io_uring::{cqueue, opcode, squeue, types::Fd, IoUring};
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;

const BGID: u16 = 0;
const K_ACCEPT: u64 = 1;
const K_RECV: u64 = 2;
const K_SEND: u64 = 3;
const K_UDP: u64 = 4;
const K_WAKE: u64 = 5;
const K_CANCEL: u64 = 6;

fn ud(kind: u64, slot: usize) -> u64 {
    kind << 56 | slot as u64
}

/// What the running kernel offers.
#[derive(Clone, Copy)]
struct Features {
    bundle: bool,
}

fn features() -> io::Result<Features> {
    let ring = IoUring::new(8).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("io_uring unavailable: io_uring_setup: {e}"),
        )
    })?;
    // Provided-buffer rings (5.19) are required.
    BufRing::new(&ring, BGID).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("io_uring unavailable: provided-buffer ring: {e}"),
        )
    })?;
    let mut bundle = ring.params().is_feature_recvsend_bundle();
    if std::env::var_os("USRV_NO_BUNDLE").is_some() {
        bundle = false;
    }
    Ok(Features { bundle })
}

/// Checks that io_uring can be used; with `verbose`, says how.
pub fn probe(verbose: bool) -> io::Result<()> {
    let f = features()?;
    if verbose {
        eprintln!(
            "usrv: io_uring: multishot accept, multishot recv from a {ENTRIES} x {} KiB provided-buffer ring, {}, one send per batch of output",
            crate::bufring::BUF_SIZE / 1024,
            if f.bundle { "recv bundles (IORING_RECVSEND_BUNDLE)" } else { "single-buffer recvs (no IORING_RECVSEND_BUNDLE)" }
        );
    }
    Ok(())
}

struct Conn {
    fd: OwnedFd,
    s: Session,
    /// Being sent (stable while the send is in flight), from `tx_off`.
    tx: Vec<u8>,
    tx_off: usize,
    sending: bool,
    /// Output accumulating for the next send.
    next: Vec<u8>,
    /// Input not yet consumed (backpressure).
    pending: Vec<u8>,
    recv_armed: bool,
    cancelling: bool,
    /// EOF seen: close once the input is consumed and the output sent.
    eof: bool,
    /// Protocol error: close once the output is sent.
    closing: bool,
    /// Closing: no new operations.
    dead: bool,
}

struct Loop {
    ring: IoUring,
    br: BufRing,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    bundle: bool,
    bufs: Vec<(u16, usize)>,
}

impl Loop {
    fn push(&mut self, e: squeue::Entry) -> io::Result<()> {
        // SAFETY: every buffer an entry points to (a connection's `tx`)
        // stays in place until its completion.
        while unsafe { self.ring.submission().push(&e) }.is_err() {
            self.ring.submit()?;
        }
        Ok(())
    }

    fn arm_recv(&mut self, slot: usize, fd: i32) -> io::Result<()> {
        let e = if self.bundle {
            opcode::RecvMultiBundle::new(Fd(fd), BGID).build()
        } else {
            opcode::RecvMulti::new(Fd(fd), BGID).build()
        };
        self.push(e.user_data(ud(K_RECV, slot)))
    }

    fn accept(&mut self, w: &Worker, res: i32) -> io::Result<()> {
        if res < 0 {
            return Ok(());
        }
        // SAFETY: a new fd from accept, owned at once.
        let fd = unsafe { OwnedFd::from_raw_fd(res) };
        sock::prepare_conn(&fd);
        let raw = fd.as_raw_fd();
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let s = w.svc.session();
        self.conns[slot] = Some(Conn {
            fd,
            tx: Vec::with_capacity(s.cap()),
            next: Vec::with_capacity(s.cap()),
            s,
            tx_off: 0,
            sending: false,
            pending: Vec::new(),
            recv_armed: true,
            cancelling: false,
            eof: false,
            closing: false,
            dead: false,
        });
        self.arm_recv(slot, raw)
    }

    fn recv(&mut self, slot: usize, res: i32, flags: u32) -> io::Result<()> {
        let mut bufs = std::mem::take(&mut self.bufs);
        if res > 0 {
            if let Some(bid) = cqueue::buffer_select(flags) {
                self.br.take(bid, res as usize, &mut bufs);
            }
        }
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if !cqueue::more(flags) {
                c.recv_armed = false;
                c.cancelling = false;
            }
            for &(bid, n) in &bufs {
                input(c, self.br.data(bid, n));
            }
            match -res {
                e if e < 0 => {}
                0 => c.eof = true,
                libc::ENOBUFS | libc::ECANCELED => {}
                _ => c.dead = true,
            }
        }
        for &(bid, _) in &bufs {
            self.br.push(bid);
        }
        bufs.clear();
        self.bufs = bufs;
        self.settle(slot)
    }

    fn sent(&mut self, slot: usize, res: i32) -> io::Result<()> {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            c.sending = false;
            if res < 0 {
                c.dead = true;
            } else {
                c.tx_off += res as usize;
                if c.tx_off >= c.tx.len() {
                    c.tx.clear();
                    c.tx_off = 0;
                }
            }
        }
        self.settle(slot)
    }

    /// Moves a connection on: sends, consumes kept input, arms or cancels
    /// its receive, closes it.
    fn settle(&mut self, slot: usize) -> io::Result<()> {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return Ok(());
        };
        let fd = c.fd.as_raw_fd();
        let mut sqes: [Option<squeue::Entry>; 2] = [None, None];
        if !c.dead {
            if !c.pending.is_empty() && !c.closing {
                let (n, close) = c.s.feed(&c.pending, &mut c.next);
                c.pending.drain(..n);
                c.closing = close;
            }
            if !c.sending && c.tx.is_empty() && !c.next.is_empty() {
                std::mem::swap(&mut c.tx, &mut c.next);
            }
            if !c.sending && c.tx_off < c.tx.len() {
                let rest = &c.tx[c.tx_off..];
                let e = opcode::Send::new(Fd(fd), rest.as_ptr(), rest.len() as u32)
                    .flags(libc::MSG_NOSIGNAL)
                    .build();
                sqes[0] = Some(e.user_data(ud(K_SEND, slot)));
                c.sending = true;
            }
            let idle = !c.sending && c.next.is_empty();
            if c.closing && idle || c.eof && idle && c.pending.is_empty() {
                c.dead = true;
            }
        }
        let stop_recv = c.dead || c.closing || !c.pending.is_empty();
        if c.recv_armed && stop_recv && !c.cancelling {
            let e = opcode::AsyncCancel::new(ud(K_RECV, slot)).build();
            sqes[1] = Some(e.user_data(ud(K_CANCEL, slot)));
            c.cancelling = true;
        }
        let rearm = !c.recv_armed && !stop_recv && !c.eof;
        c.recv_armed |= rearm;
        let gone = c.dead && !c.recv_armed && !c.sending;
        if gone {
            // Dropping the connection closes its socket.
            self.conns[slot] = None;
            self.free.push(slot);
        }
        for e in sqes.into_iter().flatten() {
            self.push(e)?;
        }
        if rearm {
            self.arm_recv(slot, fd)?;
        }
        Ok(())
    }
}

/// Consumes received bytes, keeping what does not fit.
fn input(c: &mut Conn, data: &[u8]) {
    if c.dead || c.closing {
        return;
    }
    let mut n = 0;
    if c.pending.is_empty() {
        let (used, close) = c.s.feed(data, &mut c.next);
        n = used;
        c.closing = close;
    }
    if !c.closing {
        c.pending.extend_from_slice(&data[n..]);
    }
}

/// Runs the thread's event loop until the stop flag is set.
pub fn run(w: Worker) -> io::Result<()> {
    let f = features()?;
    let ring = IoUring::builder()
        .setup_single_issuer()
        .setup_coop_taskrun()
        .setup_defer_taskrun()
        .setup_cqsize(4096)
        .build(1024)
        .or_else(|_| IoUring::builder().setup_cqsize(4096).build(1024))?;
    let br = BufRing::new(&ring, BGID)?;
    let mut l = Loop {
        ring,
        br,
        conns: Vec::new(),
        free: Vec::new(),
        bundle: f.bundle,
        bufs: Vec::new(),
    };
    let lfd = w.listener.as_raw_fd();
    let accept = opcode::AcceptMulti::new(Fd(lfd))
        .flags(libc::SOCK_CLOEXEC)
        .build();
    l.push(accept.clone().user_data(ud(K_ACCEPT, 0)))?;
    let wake = opcode::PollAdd::new(Fd(w.wake.as_raw_fd()), libc::POLLIN as u32).build();
    l.push(wake.user_data(ud(K_WAKE, 0)))?;
    let mut udp = w.udp.as_ref().map(|u| Udp::new(u.as_fd()));
    let udp_poll = udp.as_ref().map(|u| {
        opcode::PollAdd::new(Fd(u.fd.as_raw_fd()), libc::POLLIN as u32)
            .multi(true)
            .build()
    });
    if let Some(p) = &udp_poll {
        l.push(p.clone().user_data(ud(K_UDP, 0)))?;
    }
    let mut cqes: Vec<(u64, i32, u32)> = Vec::with_capacity(4096);
    while !crate::STOP.load(Ordering::Relaxed) {
        match l.ring.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
            Err(e) => return Err(e),
        }
        cqes.extend(
            l.ring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for &(data, res, flags) in &cqes {
            let slot = (data & ((1 << 56) - 1)) as usize;
            match data >> 56 {
                K_ACCEPT => {
                    l.accept(&w, res)?;
                    if !cqueue::more(flags) {
                        l.push(accept.clone().user_data(ud(K_ACCEPT, 0)))?;
                    }
                }
                K_RECV => l.recv(slot, res, flags)?,
                K_SEND => l.sent(slot, res)?,
                K_UDP => {
                    if let Some(u) = &mut udp {
                        u.drain(&w.svc);
                    }
                    if let (false, Some(p)) = (cqueue::more(flags), &udp_poll) {
                        l.push(p.clone().user_data(ud(K_UDP, 0)))?;
                    }
                }
                _ => {}
            }
        }
        cqes.clear();
    }
    // The ring goes first, cancelling what is in flight; the buffers and
    // connections are left to the exiting process.
    let Loop {
        ring, br, conns, ..
    } = l;
    drop(ring);
    std::mem::forget(br);
    std::mem::forget(conns);
    Ok(())
}
