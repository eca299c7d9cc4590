// SPDX-License-Identifier: GPL-2.0

//! Thin wrappers over the socket system calls the servers use.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The result of a libc call returning -1 on error.
pub fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: libc::ssize_t) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

fn set_int(fd: RawFd, level: i32, name: i32, v: i32) -> io::Result<()> {
    // SAFETY: a pointer to a live c_int and its size.
    let r = unsafe {
        let p = &v as *const i32 as *const libc::c_void;
        libc::setsockopt(fd, level, name, p, size_of::<i32>() as libc::socklen_t)
    };
    cvt(r).map(drop)
}

/// A socket of `ty` bound to `[::]:port` (dual stack) or, without IPv6,
/// `0.0.0.0:port`, with SO_REUSEPORT; its actual port.
fn bound(ty: i32, port: u16) -> io::Result<(OwnedFd, u16)> {
    let flags = ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain system calls; the fd is owned at once.
    let (fd, v6) = match cvt(unsafe { libc::socket(libc::AF_INET6, flags, 0) }) {
        Ok(fd) => (unsafe { OwnedFd::from_raw_fd(fd) }, true),
        Err(_) => {
            let fd = cvt(unsafe { libc::socket(libc::AF_INET, flags, 0) })?;
            (unsafe { OwnedFd::from_raw_fd(fd) }, false)
        }
    };
    let raw = fd.as_raw_fd();
    set_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    set_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    // SAFETY: all-zero sockaddr_storage is valid; the casts are to the
    // family the socket has, with its size.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = if v6 {
        set_int(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 0)?;
        let a = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
        a.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        a.sin6_port = port.to_be();
        size_of::<libc::sockaddr_in6>()
    } else {
        let a = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_port = port.to_be();
        size_of::<libc::sockaddr_in>()
    };
    let sa = &ss as *const _ as *const libc::sockaddr;
    cvt(unsafe { libc::bind(raw, sa, len as libc::socklen_t) })?;
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let sa = &mut ss as *mut _ as *mut libc::sockaddr;
    cvt(unsafe { libc::getsockname(raw, sa, &mut len) })?;
    // sin_port and sin6_port are at the same offset.
    let port = u16::from_be(unsafe { (*(sa as *const libc::sockaddr_in)).sin_port });
    Ok((fd, port))
}

/// A non-blocking TCP listener on `port` (0: any); its port.
pub fn listen_tcp(port: u16) -> io::Result<(OwnedFd, u16)> {
    let (fd, port) = bound(libc::SOCK_STREAM, port)?;
    cvt(unsafe { libc::listen(fd.as_raw_fd(), 1024) })?;
    Ok((fd, port))
}

/// A non-blocking UDP socket on `port`.
pub fn bind_udp(port: u16) -> io::Result<OwnedFd> {
    bound(libc::SOCK_DGRAM, port).map(|(fd, _)| fd)
}

/// Accepts one connection, non-blocking, with TCP_NODELAY (as ksf does).
pub fn accept(listener: RawFd) -> io::Result<OwnedFd> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: no address is asked for; the fd is owned at once.
    let fd =
        cvt(unsafe { libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), flags) })?;
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    prepare_conn(fd.as_raw_fd());
    Ok(fd)
}

/// Options of an accepted connection (TCP_NODELAY; failure is harmless).
pub fn prepare_conn(fd: RawFd) {
    let _ = set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
}

/// `send(2)` without blocking or SIGPIPE.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let flags = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
    // SAFETY: a valid buffer and its length.
    cvt_size(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), flags) })
}

/// `recv(2)` without blocking.
pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: a valid buffer and its length.
    cvt_size(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) })
}

/// A datagram's sender.
pub struct Peer {
    ss: libc::sockaddr_storage,
    len: libc::socklen_t,
}

/// `recvfrom(2)` without blocking.
pub fn recv_from(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Peer)> {
    // SAFETY: a valid buffer, and a sockaddr_storage with its size.
    let mut p = Peer {
        ss: unsafe { zeroed() },
        len: size_of::<libc::sockaddr_storage>() as libc::socklen_t,
    };
    let sa = &mut p.ss as *mut _ as *mut libc::sockaddr;
    let flags = libc::MSG_DONTWAIT;
    let n = cvt_size(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            sa,
            &mut p.len,
        )
    })?;
    Ok((n, p))
}

/// `sendto(2)` without blocking.
pub fn send_to(fd: RawFd, buf: &[u8], to: &Peer) -> io::Result<usize> {
    let sa = &to.ss as *const _ as *const libc::sockaddr;
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // SAFETY: a valid buffer, and the address recvfrom filled in.
    cvt_size(unsafe { libc::sendto(fd, buf.as_ptr().cast(), buf.len(), flags, sa, to.len) })
}

/// A non-blocking eventfd (the stop signal of the worker threads).
pub fn eventfd() -> io::Result<OwnedFd> {
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    // SAFETY: a new fd, owned at once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
