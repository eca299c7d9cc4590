// SPDX-License-Identifier: GPL-2.0

//! What a service's callbacks get to talk to their socket.
//!
//! A [`ConnCtx`] (TCP) or [`DgramCtx`] (UDP) is handed to the service for
//! the length of one callback, on the connection's task: the only code that
//! touches that socket then. Sends and receives never block and are
//! counted in the service's statistics.

use core::net::SocketAddr;
use core::sync::atomic::Ordering;

use kernel::error::{
    code::{EAGAIN, ENOMEM},
    Error, Result,
};

use super::stats::CpuCounters;
use super::Verdict;
use crate::ksf::socket::{PageFrag, Socket};

/// Datagrams one `DgramCtx::drop_some` call reads.
const DROP_BUDGET: usize = 64;

/// A TCP connection, as its service sees it.
pub struct ConnCtx<'a> {
    pub(crate) sock: &'a Socket,
    pub(crate) stats: &'a CpuCounters,
    pub(crate) peer: SocketAddr,
    pub(crate) id: u64,
    /// A message was received whole in this run (`count_msgs`).
    pub(crate) received: bool,
    /// A message was received or sent whole in this run: a request
    /// completed, and the request timeout starts again.
    pub(crate) completed: bool,
    /// The run could not get memory (`count_nomem_retry`).
    pub(crate) nomem: bool,
    /// The last send found no room (`EAGAIN`).
    pub(crate) send_full: bool,
}

impl ConnCtx<'_> {
    /// Receives into `buf`: bytes received, 0 at end of stream, `EAGAIN`
    /// when nothing is waiting.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self
            .sock
            .recv(buf)
            .inspect_err(|&e| self.count_io_error(e))?;
        self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// Sends from `buf`; may be short; `EAGAIN` when the send buffer is
    /// full (the service is woken when it drains if it returns
    /// [`super::Verdict::WaitWrite`]).
    pub fn send(&mut self, buf: &[u8]) -> Result<usize> {
        self.send_vectored(&[buf])
    }

    /// Sends the buffers in order as one gather write (at most
    /// [`crate::ksf::socket::MAX_IOV`]).
    pub fn send_vectored(&mut self, bufs: &[&[u8]]) -> Result<usize> {
        let r = self.sock.send_vectored(bufs);
        self.sent(r)
    }

    /// [`ConnCtx::send`] with more data to follow at once, as
    /// [`Socket::send_vectored_more`]: the data that follows must be sent
    /// in this run, the last of it without this.
    pub fn send_more(&mut self, buf: &[u8]) -> Result<usize> {
        let r = self.sock.send_vectored_more(&[buf]);
        self.sent(r)
    }

    /// Sends parts of pages without copying them, as
    /// [`Socket::send_pages`]: may be short (at most
    /// [`crate::ksf::socket::MAX_PAGE_FRAGS`] fragments per call),
    /// `EAGAIN` when the send buffer is full, as [`ConnCtx::send`];
    /// `more` as [`ConnCtx::send_more`].
    pub fn send_pages<'p>(
        &mut self,
        frags: impl IntoIterator<Item = PageFrag<'p>>,
        more: bool,
    ) -> Result<usize> {
        let r = self.sock.send_pages(frags, more);
        self.sent(r)
    }

    /// Counts a send's outcome.
    fn sent(&mut self, r: Result<usize>) -> Result<usize> {
        self.send_full = r == Err(EAGAIN);
        let n = r.inspect_err(|&e| self.count_io_error(e))?;
        self.stats.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.stats.sends.fetch_add(1, Ordering::Relaxed);
        Ok(n)
    }

    /// Counts a send or receive that failed other than with `EAGAIN`.
    fn count_io_error(&self, e: Error) {
        if e != EAGAIN {
            self.stats.io_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The peer's address.
    pub fn peer(&self) -> &SocketAddr {
        &self.peer
    }

    /// The connection's id in this service (for log lines).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Counts messages (records, requests...) received and sent whole,
    /// for the service's statistics. It is also what ksf knows of the
    /// protocol: a connection that received a message has proved itself
    /// (it is not evicted for a waiting one), and each message restarts
    /// the request timeout of a connection that stays busy.
    pub fn count_msgs(&mut self, received: u64, sent: u64) {
        if received != 0 {
            self.stats.msgs_in.fetch_add(received, Ordering::Relaxed);
            self.received = true;
        }
        if sent != 0 {
            self.stats.msgs_out.fetch_add(sent, Ordering::Relaxed);
        }
        self.completed |= received != 0 || sent != 0;
    }

    /// Counts a protocol error (the service decides what is one).
    pub fn count_error(&self) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a run that could not get the memory it needs (a buffer);
    /// the service then returns [`Verdict::Yield`], leaving its input in
    /// the socket, and is run again when ksf's sweeper next looks (within
    /// a second): not at once, which under a lasting shortage would keep a
    /// CPU busy retrying.
    pub fn count_nomem_retry(&mut self) {
        self.stats.nomem_retried.fetch_add(1, Ordering::Relaxed);
        self.nomem = true;
    }

    /// Counts a connection the service closes for want of memory (it then
    /// returns [`Verdict::Close`]).
    pub fn count_nomem_close(&self) {
        self.stats.nomem_closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether `e` means that memory could not be had.
pub(crate) fn is_nomem(e: Error) -> bool {
    e == ENOMEM || e == crate::ksf::ffi::errno(kernel::bindings::ENOBUFS)
}

/// A UDP socket, as its service sees it.
pub struct DgramCtx<'a> {
    pub(crate) sock: &'a Socket,
    pub(crate) stats: &'a CpuCounters,
}

impl DgramCtx<'_> {
    /// Receives one datagram: its length and sender, or `EAGAIN`.
    pub fn recv_from(&mut self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let (n, from) = self.sock.recv_from(buf)?;
        self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
        self.stats.msgs_in.fetch_add(1, Ordering::Relaxed);
        Ok((n, from))
    }

    /// Sends one datagram to `to`. A datagram that cannot be sent for
    /// want of memory is counted as dropped (`nomem_dropped`).
    pub fn send_to(&mut self, buf: &[u8], to: &SocketAddr) -> Result<usize> {
        let n = self.sock.send_to(buf, to).inspect_err(|&e| {
            if is_nomem(e) {
                self.stats.nomem_dropped.fetch_add(1, Ordering::Relaxed);
            }
        })?;
        self.stats.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
        self.stats.msgs_out.fetch_add(1, Ordering::Relaxed);
        self.stats.sends.fetch_add(1, Ordering::Relaxed);
        Ok(n)
    }

    /// Counts a protocol error.
    pub fn count_error(&self) {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Receives up to `budget` waiting datagrams into `buf` and hands
    /// each to `serve` with its sender (which answers it with
    /// [`DgramCtx::send_to`], or counts an error). The verdict of the run:
    /// wait for more once the socket is empty (or failed, which counts an
    /// error), run again when the budget is spent.
    pub fn each_datagram(
        &mut self,
        buf: &mut [u8],
        budget: usize,
        serve: impl FnMut(&mut Self, &[u8], SocketAddr),
    ) -> Verdict {
        self.receive_each(buf, budget, true, serve)
    }

    /// Reads and drops waiting datagrams, counting each as an error (for
    /// a service that serves no datagrams): up to a budget, then asks to
    /// run again.
    pub fn drop_some(&mut self) -> Verdict {
        let mut byte = [0u8; 1];
        self.receive_each(&mut byte, DROP_BUDGET, false, |ctx, _, _| ctx.count_error())
    }

    /// The loop of [`DgramCtx::each_datagram`]; `count` counts what is
    /// received as messages in.
    fn receive_each(
        &mut self,
        buf: &mut [u8],
        budget: usize,
        count: bool,
        mut serve: impl FnMut(&mut Self, &[u8], SocketAddr),
    ) -> Verdict {
        for _ in 0..budget {
            let got = if count {
                self.recv_from(buf)
            } else {
                self.sock.recv_from(buf)
            };
            match got {
                Ok((n, from)) => serve(self, buf.get(..n).unwrap_or(&[]), from),
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => {
                    self.count_error();
                    return Verdict::WaitRead;
                }
            }
        }
        Verdict::Yield
    }
}
