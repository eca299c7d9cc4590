// SPDX-License-Identifier: GPL-2.0

//! The sockets the servers use: listeners and UDP sockets that every
//! thread binds to the same port with `SO_REUSEPORT` (socket2), and
//! non-blocking accept, send and receive (rustix).

use rustix::event::{eventfd as new_eventfd, EventfdFlags};
use rustix::net::{self, sockopt, RecvFlags, SendFlags, SocketAddrAny, SocketFlags};
use socket2::{Domain, Socket, Type};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};

/// A non-blocking socket of `ty` bound to `[::]:port` (dual stack) or,
/// without IPv6, `0.0.0.0:port`, with `SO_REUSEPORT`; its actual port.
fn bound(ty: Type, port: u16) -> io::Result<(Socket, u16)> {
    let ty = ty.nonblocking();
    let (s, addr) = match Socket::new(Domain::IPV6, ty, None) {
        Ok(s) => {
            s.set_only_v6(false)?;
            (s, SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)))
        }
        Err(_) => {
            let s = Socket::new(Domain::IPV4, ty, None)?;
            (s, SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
        }
    };
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    s.bind(&addr.into())?;
    let port = s.local_addr()?.as_socket().map_or(port, |a| a.port());
    Ok((s, port))
}

/// A non-blocking TCP listener on `port` (0: any); its port.
pub fn listen_tcp(port: u16) -> io::Result<(OwnedFd, u16)> {
    let (s, port) = bound(Type::STREAM, port)?;
    s.listen(1024)?;
    Ok((s.into(), port))
}

/// A non-blocking UDP socket on `port`.
pub fn bind_udp(port: u16) -> io::Result<OwnedFd> {
    bound(Type::DGRAM, port).map(|(s, _)| s.into())
}

/// Accepts one connection, non-blocking, with TCP_NODELAY (as ksf does).
pub fn accept(listener: impl AsFd) -> io::Result<OwnedFd> {
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let fd = net::accept_with(listener, flags)?;
    prepare_conn(&fd);
    Ok(fd)
}

/// Options of an accepted connection (TCP_NODELAY; failure is harmless).
pub fn prepare_conn(fd: impl AsFd) {
    let _ = sockopt::set_tcp_nodelay(fd, true);
}

/// `send(2)` without blocking or SIGPIPE.
pub fn send(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(net::send(
        fd,
        buf,
        SendFlags::NOSIGNAL | SendFlags::DONTWAIT,
    )?)
}

/// `recv(2)` without blocking.
pub fn recv(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    let (n, _) = net::recv(fd, buf, RecvFlags::DONTWAIT)?;
    Ok(n)
}

/// A datagram's sender.
pub type Peer = SocketAddrAny;

/// `recvfrom(2)` without blocking: the datagram's length and sender.
pub fn recv_from(fd: impl AsFd, buf: &mut [u8]) -> io::Result<(usize, Peer)> {
    match net::recvfrom(fd, buf, RecvFlags::DONTWAIT)? {
        (n, _, Some(peer)) => Ok((n, peer)),
        (_, _, None) => Err(io::ErrorKind::InvalidData.into()),
    }
}

/// `sendto(2)` without blocking or SIGPIPE.
pub fn send_to(fd: impl AsFd, buf: &[u8], to: &Peer) -> io::Result<usize> {
    let flags = SendFlags::NOSIGNAL | SendFlags::DONTWAIT;
    Ok(net::sendto(fd, buf, flags, to)?)
}

/// A non-blocking eventfd (the stop signal of the worker threads).
pub fn eventfd() -> io::Result<OwnedFd> {
    Ok(new_eventfd(
        0,
        EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC,
    )?)
}
