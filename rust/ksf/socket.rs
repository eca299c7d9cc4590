// SPDX-License-Identifier: GPL-2.0

//! [`Socket`]: a kernel TCP, SMC or UDP socket.
//!
//! A safe owner of a `struct socket` created with `sock_create_kern()` in
//! the initial network namespace (or accepted from a listener), released
//! when dropped. An SMC socket (`AF_SMC`, [`Kind::Smc`]) is a stream socket
//! that carries its data over SMC-D shared memory when the peer speaks SMC
//! in the same OS, and over its internal TCP socket otherwise (a fallback);
//! see [`crate::ksf::smc`]. Sends and receives never block: they take `MSG_DONTWAIT`,
//! return `EAGAIN` when they cannot make progress, and a send may be short.
//! Errors are the kernel's errno values as [`Error`]s.
//!
//! [`Socket::send_pages`] sends parts of pages without copying them: TCP
//! takes a reference on each page and sends from it, so what the page
//! holds when the segment leaves (or is retransmitted) is what the peer
//! gets; the caller keeps its page, and must not change the bytes sent
//! if it wants the peer to see those at the time of the call.

use core::net::SocketAddr;
use core::ptr::{self, NonNull};

use kernel::bindings;
use kernel::error::{code::*, to_result, Error, Result};
use kernel::page::{Page, PAGE_SIZE};
use kernel::prelude::*;

use crate::ksf::addr::{self, RawAddr};
use crate::ksf::ffi::{self, errno, poll::*, sockopt::*};

/// Transport protocol of a [`Socket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A TCP stream socket.
    Tcp,
    /// An SMC stream socket (`AF_SMC`): SMC-D with an SMC peer, TCP with
    /// any other.
    Smc,
    /// A UDP datagram socket.
    Udp,
}

/// How [`Socket::shutdown`] closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receives.
    Read,
    /// No more sends (a TCP FIN).
    Write,
    /// Both.
    Both,
}

/// The readiness of a socket, from its `poll` method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Poll(u32);

impl Poll {
    /// Data (or a connection to accept) or an error is waiting. Not the
    /// end of the stream alone: after it, input is never waiting again.
    pub fn readable(self) -> bool {
        (self.0 & EPOLLIN != 0 && self.0 & EPOLLRDHUP == 0) || self.0 & EPOLLERR != 0
    }
    /// The peer closed its sending side (end of stream), or the
    /// connection is gone.
    pub fn ended(self) -> bool {
        self.0 & (EPOLLRDHUP | EPOLLHUP) != 0
    }
    /// A send would make progress.
    pub fn writable(self) -> bool {
        self.0 & EPOLLOUT != 0
    }
    /// The connection failed or is closed both ways.
    pub fn failed(self) -> bool {
        self.0 & (EPOLLERR | EPOLLHUP) != 0
    }
}

/// Most buffers one [`Socket::send_vectored`] call takes.
pub const MAX_IOV: usize = 64;

/// Most page fragments one [`Socket::send_pages`] call sends.
pub const MAX_PAGE_FRAGS: usize = ffi::MAX_PAGE_FRAGS;

/// Part of a page to send: `len` bytes of `page` from `offset`.
#[derive(Clone, Copy)]
pub struct PageFrag<'a> {
    /// The page.
    pub page: &'a Page,
    /// Where the bytes start in the page.
    pub offset: usize,
    /// How many.
    pub len: usize,
}

/// A kernel socket.
///
/// # Invariants
///
/// `sock` points to a valid `struct socket` that this object owns: no one
/// else releases it, and `Drop` releases it exactly once. `file` is NULL
/// or the file `sock` was given when it was accepted (see
/// [`Socket::accept`]), owned with it and released with it.
pub struct Socket {
    sock: NonNull<bindings::socket>,
    file: *mut bindings::file,
    kind: Kind,
}

// SAFETY: A kernel socket is not tied to the thread that created it, and
// the socket layer serialises concurrent calls on it with its own locks.
unsafe impl Send for Socket {}
// SAFETY: As above: every method takes `&self` and the kernel locks.
unsafe impl Sync for Socket {}

fn check_len(ret: i32) -> Result<usize> {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(ret as usize)
    }
}

impl Socket {
    /// Creates a socket of `kind` for the family of `addr`.
    pub fn new(kind: Kind, family_of: &SocketAddr) -> Result<Socket> {
        let family = addr::family(family_of);
        let stream = bindings::sock_type_SOCK_STREAM;
        let (family, ty, proto) = match kind {
            Kind::Tcp => (family, stream, ffi::IPPROTO_TCP),
            Kind::Udp => (family, bindings::sock_type_SOCK_DGRAM, ffi::IPPROTO_UDP),
            // The protocol picks the family of SMC's own TCP socket.
            Kind::Smc if family_of.is_ipv6() => (ffi::AF_SMC, stream, ffi::SMCPROTO_SMC6),
            Kind::Smc => (ffi::AF_SMC, stream, ffi::SMCPROTO_SMC),
        };
        let mut sock = ptr::null_mut();
        // SAFETY: `ksf_init_net` returns the initial namespace, which lives
        // forever; `sock` is a valid place for the result.
        to_result(unsafe {
            bindings::sock_create_kern(ffi::ksf_init_net(), family, ty as i32, proto, &mut sock)
        })?;
        // INVARIANT: `sock_create_kern` succeeded, so `sock` is a new
        // socket and ours to release.
        Ok(Socket {
            sock: NonNull::new(sock).ok_or(ENOMEM)?,
            file: ptr::null_mut(),
            kind,
        })
    }

    /// Creates a socket of `kind` bound to `addr`, as a service's.
    ///
    /// TCP and SMC get `SO_REUSEADDR`, so that a listener binds its port again
    /// while connections of the last one linger in `TIME_WAIT`; UDP does
    /// not, as with it any local user could bind the same port on a more
    /// specific address and take the datagrams. IPv6 sets `IPV6_V6ONLY`
    /// explicitly (see [`addr::v6only`]): `[::]` serves IPv4 too, a
    /// specific IPv6 address only itself. When the kernel has no IPv6
    /// (`ipv6.disable=1`), `[::]` falls back to `0.0.0.0`.
    pub fn bound(kind: Kind, addr: &SocketAddr) -> Result<Socket> {
        match Socket::bound_exactly(kind, addr) {
            Err(e) if e == errno(bindings::EAFNOSUPPORT) => {
                let Some(v4) = addr::ipv4_fallback(addr) else {
                    return Err(e);
                };
                pr_info!(
                    "no IPv6 in this kernel: {:?} on {} instead of {}\n",
                    kind,
                    v4,
                    addr
                );
                Socket::bound_exactly(kind, &v4)
            }
            r => r,
        }
    }

    fn bound_exactly(kind: Kind, addr: &SocketAddr) -> Result<Socket> {
        let sock = Socket::new(kind, addr)?;
        if kind != Kind::Udp {
            sock.set_reuseaddr(true)?;
        }
        if let Some(only) = addr::v6only(addr) {
            sock.setsockopt(SOL_IPV6, IPV6_V6ONLY, only as i32)?;
        }
        sock.bind(addr)?;
        Ok(sock)
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::socket {
        self.sock.as_ptr()
    }

    /// The `struct sock` of this socket.
    pub(crate) fn sk(&self) -> *mut bindings::sock {
        // SAFETY: `self.sock` is valid (type invariant); `sk` is set for
        // the socket's whole life.
        unsafe { (*self.sock.as_ptr()).sk }
    }

    /// The socket's transport.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The socket that carries this one's traffic: itself, or the TCP
    /// socket an accepted SMC socket fell back to. Valid while `self` is:
    /// the SMC socket owns its TCP socket until it is released.
    fn traffic(&self) -> *mut bindings::socket {
        // SAFETY: `self.sock` is valid and `self.file` is NULL or its file
        // (type invariant).
        unsafe { ffi::ksf_sock_traffic(self.as_ptr(), self.file) }
    }

    /// The `struct sock` that gets this socket's events: [`Socket::sk`],
    /// or that of the TCP socket an SMC socket fell back to, whose events
    /// SMC does not pass on to its own (Documentation/notes/smc.md, Q2).
    pub(crate) fn event_sk(&self) -> *mut bindings::sock {
        // SAFETY: `traffic()` is a valid socket while `self` lives, with
        // `sk` set.
        unsafe { (*self.traffic()).sk }
    }

    /// Sets an option on the socket that carries the traffic, so that a
    /// fallback connection's TCP socket gets its buffer sizes.
    fn setsockopt(&self, level: i32, name: i32, val: i32) -> Result {
        // SAFETY: `traffic()` is valid while `self` is.
        to_result(unsafe { ffi::ksf_sock_setsockopt_int(self.traffic(), level, name, val) })
    }

    /// `SO_REUSEADDR`.
    pub fn set_reuseaddr(&self, on: bool) -> Result {
        self.setsockopt(SOL_SOCKET, SO_REUSEADDR, on as i32)
    }

    /// `SO_REUSEPORT`.
    pub fn set_reuseport(&self, on: bool) -> Result {
        self.setsockopt(SOL_SOCKET, SO_REUSEPORT, on as i32)
    }

    /// `SO_SNDBUF`, in bytes (the kernel doubles it for bookkeeping).
    pub fn set_sndbuf(&self, bytes: i32) -> Result {
        self.setsockopt(SOL_SOCKET, SO_SNDBUF, bytes)
    }

    /// `SO_RCVBUF`, in bytes (the kernel doubles it for bookkeeping).
    pub fn set_rcvbuf(&self, bytes: i32) -> Result {
        self.setsockopt(SOL_SOCKET, SO_RCVBUF, bytes)
    }

    /// `TCP_NODELAY`.
    pub fn set_nodelay(&self, on: bool) -> Result {
        self.setsockopt(SOL_TCP, TCP_NODELAY, on as i32)
    }

    /// Binds the socket to `addr`.
    pub fn bind(&self, addr: &SocketAddr) -> Result {
        let (mut raw, len) = RawAddr::from_addr(addr);
        // SAFETY: `self.sock` is valid; `raw` holds `len` bytes of address.
        to_result(unsafe { bindings::kernel_bind(self.as_ptr(), raw.as_mut_ptr(), len) })
    }

    /// Starts listening for connections.
    pub fn listen(&self, backlog: i32) -> Result {
        // SAFETY: `self.sock` is valid (type invariant).
        to_result(unsafe { bindings::kernel_listen(self.as_ptr(), backlog) })
    }

    /// Connects to `addr`, waiting for the connection to be established.
    pub fn connect(&self, addr: &SocketAddr) -> Result {
        let (mut raw, len) = RawAddr::from_addr(addr);
        // SAFETY: As for `bind`.
        to_result(unsafe { bindings::kernel_connect(self.as_ptr(), raw.as_mut_ptr(), len, 0) })
    }

    /// Accepts a connection without waiting: `EAGAIN` when none is queued.
    ///
    /// A connection accepted from an SMC listener gets a file, as with
    /// `accept(2)`: SMC needs one for a connection that fell back to TCP.
    pub fn accept(&self) -> Result<Socket> {
        let mut new = ptr::null_mut();
        if self.kind == Kind::Smc {
            let mut file = ptr::null_mut();
            // SAFETY: `self.sock` is valid; `new` and `file` are valid
            // places for the results.
            to_result(unsafe { ffi::ksf_sock_accept_file(self.as_ptr(), &mut new, &mut file) })?;
            // INVARIANT: The helper succeeded: `new` is a socket we own,
            // `file` its file, released together by `ksf_sock_release`.
            return Ok(Socket {
                sock: NonNull::new(new).ok_or(ENOMEM)?,
                file,
                kind: Kind::Smc,
            });
        }
        // SAFETY: `self.sock` is valid; `new` is a valid place for the
        // result.
        to_result(unsafe {
            bindings::kernel_accept(self.as_ptr(), &mut new, bindings::O_NONBLOCK as i32)
        })?;
        // INVARIANT: `kernel_accept` succeeded: `new` is a socket we own.
        Ok(Socket {
            sock: NonNull::new(new).ok_or(ENOMEM)?,
            file: ptr::null_mut(),
            kind: self.kind,
        })
    }

    /// Sends from `buf` without blocking; returns the bytes queued, which
    /// may be fewer than `buf.len()`, or `EAGAIN` if none could be.
    pub fn send(&self, buf: &[u8]) -> Result<usize> {
        self.send_vectored(&[buf])
    }

    /// Sends the buffers of `bufs` in order, as one gather write, without
    /// blocking. At most [`MAX_IOV`] buffers.
    pub fn send_vectored(&self, bufs: &[&[u8]]) -> Result<usize> {
        self.sendmsg(bufs, None, false)
    }

    /// [`Socket::send_vectored`] with more data to follow at once
    /// (`MSG_MORE`): TCP keeps a last partial segment for the next send
    /// instead of pushing it, so a reply's head and its data can leave in
    /// one segment. The data that follows must be sent without it (or
    /// the last part may wait).
    pub fn send_vectored_more(&self, bufs: &[&[u8]]) -> Result<usize> {
        self.sendmsg(bufs, None, true)
    }

    /// Sends the fragments of `frags` in order without copying them
    /// (`MSG_SPLICE_PAGES`): the socket takes its own reference on each
    /// page, so the pages may be dropped as soon as this returns. Never
    /// blocks: returns the bytes queued, which may be fewer than the
    /// fragments hold, or `EAGAIN` if none could be, as [`Socket::send`].
    /// Sends at most the first [`MAX_PAGE_FRAGS`] fragments (the count
    /// tells where to resume); `EINVAL` if a fragment does not lie within
    /// its page. `more`: more data follows the fragments at once, as
    /// [`Socket::send_vectored_more`] (implied while fragments are left
    /// for a later call).
    ///
    /// The bytes go out from the pages themselves: a change to them before
    /// the peer acknowledged them may be what it receives.
    pub fn send_pages<'a>(
        &self,
        frags: impl IntoIterator<Item = PageFrag<'a>>,
        more: bool,
    ) -> Result<usize> {
        let mut raw = [ffi::PageFrag {
            page: ptr::null_mut(),
            offset: 0,
            len: 0,
        }; MAX_PAGE_FRAGS];
        let (mut n, mut total) = (0usize, 0usize);
        let mut frags = frags.into_iter();
        for (r, f) in raw.iter_mut().zip(frags.by_ref()) {
            if f.offset > PAGE_SIZE || f.len > PAGE_SIZE - f.offset {
                return Err(EINVAL);
            }
            *r = ffi::PageFrag {
                page: f.page.as_ptr(),
                // Both at most `PAGE_SIZE`.
                offset: f.offset as u32,
                len: f.len as u32,
            };
            n += 1;
            total += f.len;
        }
        let more = more || frags.next().is_some();
        // SAFETY: `self.sock` is valid (type invariant); `raw` holds `n`
        // (at most `MAX_PAGE_FRAGS`) fragments, each within its page,
        // totalling `total` bytes. Each page is a `Page` borrowed for the
        // call: from the page allocator, not slab, with its owner's
        // reference, so `sendpage_ok()`; the socket takes its own
        // reference on each page it keeps.
        check_len(unsafe {
            ffi::ksf_sock_send_pages(self.as_ptr(), raw.as_ptr(), n as u32, total, more)
        })
    }

    /// Sends `buf` as one datagram to `addr` (UDP).
    pub fn send_to(&self, buf: &[u8], addr: &SocketAddr) -> Result<usize> {
        self.sendmsg(&[buf], Some(addr), false)
    }

    fn sendmsg(&self, bufs: &[&[u8]], to: Option<&SocketAddr>, more: bool) -> Result<usize> {
        if bufs.len() > MAX_IOV {
            return Err(EINVAL);
        }
        let mut iov = [bindings::kvec {
            iov_base: ptr::null_mut(),
            iov_len: 0,
        }; MAX_IOV];
        let mut total = 0usize;
        for (v, b) in iov.iter_mut().zip(bufs) {
            // The kernel only reads from a send's buffers.
            v.iov_base = b.as_ptr() as *mut _;
            v.iov_len = b.len();
            total = total.checked_add(b.len()).ok_or(EINVAL)?;
        }
        // SAFETY: All-zero is a valid `msghdr` (null pointers, no flags).
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_flags = bindings::MSG_DONTWAIT | bindings::MSG_NOSIGNAL;
        if more {
            msg.msg_flags |= bindings::MSG_MORE;
        }
        let mut raw;
        if let Some(addr) = to {
            let len;
            (raw, len) = RawAddr::from_addr(addr);
            msg.msg_name = raw.as_mut_ptr().cast();
            msg.msg_namelen = len;
        }
        // SAFETY: `self.sock` is valid; `iov` describes `bufs.len()`
        // readable buffers totalling `total` bytes, alive for the call;
        // `msg_name`, if set, points to `raw`, alive for the call.
        check_len(unsafe {
            bindings::kernel_sendmsg(self.as_ptr(), &mut msg, iov.as_mut_ptr(), bufs.len(), total)
        })
    }

    /// Receives into `buf` without blocking: the bytes received (0 at the
    /// end of a TCP stream), or `EAGAIN` if none are waiting.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize> {
        self.recvmsg(buf, None)
    }

    /// Receives one datagram into `buf` (UDP) with its sender's address.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr)> {
        let mut raw = RawAddr::zeroed();
        let n = self.recvmsg(buf, Some(&mut raw))?;
        Ok((n, raw.to_addr()?))
    }

    fn recvmsg(&self, buf: &mut [u8], from: Option<&mut RawAddr>) -> Result<usize> {
        let mut iov = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: All-zero is a valid `msghdr`.
        let mut msg: bindings::msghdr = unsafe { core::mem::zeroed() };
        if let Some(raw) = from {
            msg.msg_name = raw.as_mut_ptr().cast();
            msg.msg_namelen = RawAddr::capacity();
        }
        // SAFETY: `self.sock` is valid; `iov` describes `buf`, writable and
        // alive for the call; `msg_name`, if set, has room for any address.
        check_len(unsafe {
            bindings::kernel_recvmsg(
                self.as_ptr(),
                &mut msg,
                &mut iov,
                1,
                buf.len(),
                (bindings::MSG_DONTWAIT | bindings::MSG_NOSIGNAL) as i32,
            )
        })
    }

    /// Shuts down one or both directions of a connection.
    pub fn shutdown(&self, how: Shutdown) -> Result {
        let how = match how {
            Shutdown::Read => bindings::sock_shutdown_cmd_SHUT_RD,
            Shutdown::Write => bindings::sock_shutdown_cmd_SHUT_WR,
            Shutdown::Both => bindings::sock_shutdown_cmd_SHUT_RDWR,
        };
        // SAFETY: `self.sock` is valid (type invariant).
        to_result(unsafe { bindings::kernel_sock_shutdown(self.as_ptr(), how) })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        let mut raw = RawAddr::zeroed();
        // SAFETY: `self.sock` is valid; `raw` has room for any address.
        check_len(unsafe { bindings::kernel_getsockname(self.as_ptr(), raw.as_mut_ptr()) })?;
        raw.to_addr()
    }

    /// The address of the connected peer.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        let mut raw = RawAddr::zeroed();
        // SAFETY: As for `local_addr`.
        check_len(unsafe { bindings::kernel_getpeername(self.as_ptr(), raw.as_mut_ptr()) })?;
        raw.to_addr()
    }

    /// The socket's readiness now.
    pub fn poll(&self) -> Poll {
        // SAFETY: `self.sock` is valid (type invariant).
        Poll(unsafe { ffi::ksf_sock_poll(self.as_ptr()) })
    }

    /// Connections waiting in a listener's accept queue.
    pub fn accept_backlog(&self) -> u32 {
        // SAFETY: `sk()` is valid while `self` is.
        unsafe { ffi::ksf_sk_ack_backlog(self.sk()) }
    }

    /// Whether the socket is a listener (TCP's and SMC's listening states
    /// are both 10).
    pub(crate) fn is_listening(&self) -> bool {
        // SAFETY: `sk()` is valid while `self` is.
        unsafe { ffi::ksf_sk_state(self.sk()) == ffi::TCP_LISTEN }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: We own the socket and its file, if any (type invariant),
        // and release them once.
        unsafe { ffi::ksf_sock_release(self.as_ptr(), self.file) }
    }
}
