// SPDX-License-Identifier: GPL-2.0

//! Hostile peers' plumbing: non-blocking connects from spread source
//! addresses, telling whether (and how) the server closed a connection
//! without reading from it, errno names, and times in order.

use crate::sock::{self, Transport};
use rustix::event::PollFlags;
use rustix::io::Errno;
use rustix::net::{self, sockopt, AddressFamily, SocketFlags, SocketType};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
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

/// Sets `IP_BIND_ADDRESS_NO_PORT` on `fd`: neither rustix nor socket2
/// has it.
fn set_bind_address_no_port(fd: BorrowedFd<'_>) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: a valid socket; `one` is a readable c_int, the size passed,
    // and outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Starts a non-blocking connection to `addr` over `transport` (TCP, or
/// an SMC socket, whose handshake a kernel worker finishes), bound first
/// to `src` (with `IP_BIND_ADDRESS_NO_PORT`, so the port is chosen at
/// connect time per destination; SMC hands both to its TCP socket).
pub fn start_connect(
    addr: SocketAddr,
    transport: Transport,
    src: Option<Ipv4Addr>,
) -> io::Result<Started> {
    let fd = if transport == Transport::Smc {
        ksf_tools::smc::socket(&addr, true)?
    } else {
        let family = if addr.is_ipv4() {
            AddressFamily::INET
        } else {
            AddressFamily::INET6
        };
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        net::socket_with(family, SocketType::STREAM, flags, None)?
    };
    if let (Some(src), SocketAddr::V4(_)) = (src, addr) {
        set_bind_address_no_port(fd.as_fd())?;
        net::bind(&fd, &SocketAddrV4::new(src, 0))?;
    }
    let connected = net::connect(&fd, &addr);
    let s = TcpStream::from(fd);
    match connected {
        Ok(()) => Ok(Started::Done(s)),
        Err(Errno::INPROGRESS) => Ok(Started::Pending(s)),
        Err(e) => Err(e.into()),
    }
}

/// The pending error of a socket (`SO_ERROR`), 0 if none.
pub fn so_error(s: &impl AsFd) -> i32 {
    match sockopt::socket_error(s) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) | Err(e) => e.raw_os_error(),
    }
}

/// The name of an errno value, for summaries (`ECONNREFUSED`, ...).
pub fn errno_name(e: i32) -> String {
    // Errno holds only what Linux returns: 1 to 4095.
    if !(1..4096).contains(&e) {
        return format!("errno{e}");
    }
    let name = match Errno::from_raw_os_error(e) {
        Errno::CONNREFUSED => "ECONNREFUSED",
        Errno::CONNRESET => "ECONNRESET",
        Errno::TIMEDOUT => "ETIMEDOUT",
        Errno::ADDRNOTAVAIL => "EADDRNOTAVAIL",
        Errno::ADDRINUSE => "EADDRINUSE",
        Errno::MFILE => "EMFILE",
        Errno::NFILE => "ENFILE",
        Errno::NOBUFS => "ENOBUFS",
        Errno::NOMEM => "ENOMEM",
        Errno::AGAIN => "EAGAIN",
        Errno::PIPE => "EPIPE",
        Errno::HOSTUNREACH => "EHOSTUNREACH",
        Errno::NETUNREACH => "ENETUNREACH",
        Errno::PERM => "EPERM",
        Errno::ACCESS => "EACCES",
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

/// What to poll `s` for to learn of the server's end of stream or reset
/// without reading anything (`POLLRDHUP`; `POLLHUP` and `POLLERR` always
/// come).
pub fn closing(s: &impl AsFd) -> (BorrowedFd<'_>, PollFlags) {
    (s.as_fd(), PollFlags::RDHUP)
}

/// How the server closed `s`, whose poll returned `ev`, if it did.
pub fn closed_by(ev: PollFlags, s: &impl AsFd) -> Option<Closed> {
    if ev.contains(PollFlags::ERR) {
        return Some(Closed::Reset);
    }
    if ev.intersects(PollFlags::HUP | PollFlags::RDHUP) {
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
    let want: Vec<_> = open
        .iter()
        .filter_map(|&i| peers[i].s.as_ref().map(closing))
        .collect();
    let revents = sock::poll(&want, ms)?;
    let mut still = 0;
    for (k, &i) in open.iter().enumerate() {
        let how = peers[i].s.as_ref().and_then(|s| closed_by(revents[k], s));
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
        assert_eq!(
            errno_name(Errno::CONNREFUSED.raw_os_error()),
            "ECONNREFUSED"
        );
        assert_eq!(errno_name(9999), "errno9999");
        let mut t = [3.0, 1.0, 2.0];
        assert_eq!(spread(&mut t), ("1.0".into(), "2.0".into(), "3.0".into()));
        assert_eq!(spread(&mut []).0, "-");
    }
}
