// SPDX-License-Identifier: GPL-2.0

//! Hostile peers' plumbing: non-blocking connects from spread source
//! addresses, telling whether (and how) the server closed a connection
//! without reading from it, errno names, and times in order.

use crate::sock;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Instant;

/// Source addresses a flood spreads over: 127.0.0.1 to 127.0.0.250, so
/// that each gets its own ephemeral ports.
pub const SOURCES: u32 = 250;

/// The source address of attempt `i` against `addr`: one of the
/// [`SOURCES`] loopback addresses for a loopback IPv4 target, else none.
pub fn source(addr: SocketAddr, i: u64) -> Option<Ipv4Addr> {
    match addr.ip() {
        IpAddr::V4(v4) if v4.is_loopback() => Some(Ipv4Addr::from(
            u32::from(Ipv4Addr::new(127, 0, 0, 1)) + (i % u64::from(SOURCES)) as u32,
        )),
        _ => None,
    }
}

/// A connection being made.
pub enum Started {
    /// Established at once.
    Done(TcpStream),
    /// In progress: wait for POLLOUT, then [`so_error`].
    Pending(TcpStream),
}

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Starts a non-blocking connection to `addr`, bound first to `src` (with
/// `IP_BIND_ADDRESS_NO_PORT`, so the port is chosen at connect time per
/// destination).
pub fn start_connect(addr: SocketAddr, src: Option<Ipv4Addr>) -> io::Result<Started> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: plain socket creation.
    let fd = cvt(unsafe { libc::socket(domain, ty, 0) })?;
    // SAFETY: `fd` is a new socket that nothing else owns.
    let s = unsafe { TcpStream::from_raw_fd(fd) };
    if let (Some(src), SocketAddr::V4(_)) = (src, addr) {
        let one: libc::c_int = 1;
        // SAFETY: a valid option value and its size.
        cvt(unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        let sin = sockaddr_in(src, 0);
        // SAFETY: a valid sockaddr_in and its size.
        cvt(unsafe {
            libc::bind(
                fd,
                (&sin as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        })?;
    }
    let rc = match addr {
        SocketAddr::V4(a) => {
            let sin = sockaddr_in(*a.ip(), a.port());
            // SAFETY: a valid sockaddr_in and its size.
            unsafe {
                libc::connect(
                    fd,
                    (&sin as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(a) => {
            // SAFETY: all-zero is a valid sockaddr_in6.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            // SAFETY: a valid sockaddr_in6 and its size.
            unsafe {
                libc::connect(
                    fd,
                    (&sin6 as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if rc == 0 {
        return Ok(Started::Done(s));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        Ok(Started::Pending(s))
    } else {
        Err(e)
    }
}

fn sockaddr_in(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// The pending error of a socket (`SO_ERROR`), 0 if none.
pub fn so_error(s: &impl AsRawFd) -> i32 {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid out pointer and its size.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
    } else {
        err
    }
}

/// The name of an errno value, for summaries (`ECONNREFUSED`, ...).
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENOMEM => "ENOMEM",
        libc::EAGAIN => "EAGAIN",
        libc::EPIPE => "EPIPE",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        _ => return format!("errno{e}"),
    };
    name.to_string()
}

/// How the server ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// End of stream (FIN).
    Eof,
    /// Reset, or another error.
    Reset,
}

/// A pollfd that reports the server's end of stream or reset without
/// reading anything (`POLLRDHUP`; `POLLHUP` and `POLLERR` always come).
pub fn close_pollfd(s: &impl AsRawFd) -> libc::pollfd {
    sock::pollfd(s, libc::POLLRDHUP)
}

/// How the server closed the connection of `pfd` after a poll, if it did.
pub fn closed_by(pfd: &libc::pollfd, s: &impl AsRawFd) -> Option<Closed> {
    let ev = pfd.revents;
    if ev & libc::POLLERR != 0 {
        return Some(Closed::Reset);
    }
    if ev & (libc::POLLHUP | libc::POLLRDHUP) != 0 {
        // A reset after the FIN leaves its error pending.
        return Some(if so_error(s) != 0 {
            Closed::Reset
        } else {
            Closed::Eof
        });
    }
    None
}

/// Times (seconds) as min, median, max with one decimal; `-` for none.
pub fn spread(times: &mut [f64]) -> (String, String, String) {
    if times.is_empty() {
        return ("-".into(), "-".into(), "-".into());
    }
    times.sort_by(f64::total_cmp);
    let f = |x: f64| format!("{x:.1}");
    (
        f(times[0]),
        f(times[times.len() / 2]),
        f(times[times.len() - 1]),
    )
}

/// A peer watched until the server closes it.
pub struct Watched {
    pub s: Option<TcpStream>,
    /// When its clock started (connected, or its last valid exchange).
    pub since: Instant,
    /// When and how the server closed it.
    pub closed: Option<(f64, Closed)>,
}

impl Watched {
    pub fn new(s: TcpStream) -> Watched {
        Watched {
            s: Some(s),
            since: Instant::now(),
            closed: None,
        }
    }

    /// Marks it closed by the server now.
    pub fn close(&mut self, how: Closed) {
        if self.closed.is_none() {
            self.closed = Some((self.since.elapsed().as_secs_f64(), how));
        }
        self.s = None;
    }
}

/// Polls every open peer for up to `ms` and marks those the server
/// closed; the number still open.
pub fn watch(peers: &mut [Watched], ms: u64) -> io::Result<usize> {
    let open: Vec<usize> = (0..peers.len()).filter(|&i| peers[i].s.is_some()).collect();
    if open.is_empty() {
        return Ok(0);
    }
    let mut fds: Vec<libc::pollfd> = open
        .iter()
        .filter_map(|&i| peers[i].s.as_ref().map(close_pollfd))
        .collect();
    sock::poll(&mut fds, ms)?;
    let mut still = 0;
    for (k, &i) in open.iter().enumerate() {
        let how = peers[i].s.as_ref().and_then(|s| closed_by(&fds[k], s));
        match how {
            Some(how) => peers[i].close(how),
            None => still += 1,
        }
    }
    Ok(still)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_names() {
        let lo: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(source(lo, 0), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source(lo, 249), Some(Ipv4Addr::new(127, 0, 0, 250)));
        assert_eq!(source(lo, 250), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source("10.0.0.1:9".parse().unwrap(), 3), None);
        assert_eq!(errno_name(libc::ECONNREFUSED), "ECONNREFUSED");
        assert_eq!(errno_name(9999), "errno9999");
        let mut t = [3.0, 1.0, 2.0];
        assert_eq!(spread(&mut t), ("1.0".into(), "2.0".into(), "3.0".into()));
        assert_eq!(spread(&mut []).0, "-");
    }
}
