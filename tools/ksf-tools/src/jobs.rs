// SPDX-License-Identifier: GPL-2.0

//! The sockets of the jobs: connecting, waiting with `poll`, socket
//! options, error texts, and pinning a job's thread.

use crate::cpu::pin_current_thread;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::sockopt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::Duration;

/// A connected, non-blocking socket.
pub enum Conn {
    /// A TCP connection (`TCP_NODELAY` set).
    Tcp(TcpStream),
    /// A connected UDP socket.
    Udp(UdpSocket),
}

/// How a job reaches its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// An SMC socket ([`crate::smc`]): SMC-D to a server in this OS that
    /// speaks SMC, TCP otherwise. It reads and writes as a TCP stream.
    Smc,
    /// UDP, one datagram per request and per answer.
    Udp,
}

impl Transport {
    /// "TCP", "SMC" or "UDP".
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP",
            Transport::Smc => "SMC",
            Transport::Udp => "UDP",
        }
    }
}

/// Connects one job's socket (non-blocking once connected).
pub fn connect(addr: SocketAddr, transport: Transport, timeout: Duration) -> io::Result<Conn> {
    if transport == Transport::Udp {
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let s = UdpSocket::bind(local)?;
        s.connect(addr)?;
        s.set_nonblocking(true)?;
        return Ok(Conn::Udp(s));
    }
    let s = connect_stream(addr, transport, timeout)?;
    s.set_nodelay(true)?;
    s.set_nonblocking(true)?;
    Ok(Conn::Tcp(s))
}

/// A blocking stream to `addr` over TCP or SMC (`transport`; UDP is
/// `Unsupported`), connected within `timeout`.
pub fn connect_stream(
    addr: SocketAddr,
    transport: Transport,
    timeout: Duration,
) -> io::Result<TcpStream> {
    match transport {
        Transport::Tcp => TcpStream::connect_timeout(&addr, timeout),
        Transport::Smc => crate::smc::connect(addr, timeout),
        Transport::Udp => Err(io::ErrorKind::Unsupported.into()),
    }
}

/// A blocking listener on `addr` over TCP or SMC (`transport`; UDP is
/// `Unsupported`).
pub fn listen_stream(addr: SocketAddr, transport: Transport) -> io::Result<TcpListener> {
    match transport {
        Transport::Tcp => TcpListener::bind(addr),
        Transport::Smc => crate::smc::listen(addr),
        Transport::Udp => Err(io::ErrorKind::Unsupported.into()),
    }
}

/// Waits up to `ms` milliseconds for `events` on `fd`; returns the events
/// that occurred (none on timeout or signal).
pub fn poll(fd: &impl AsFd, events: PollFlags, ms: u64) -> io::Result<PollFlags> {
    let mut fds = [PollFd::new(fd, events)];
    let timeout = Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: (ms % 1000 * 1_000_000) as i64,
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(_) => Ok(fds[0].revents()),
        Err(Errno::INTR) => Ok(PollFlags::empty()),
        Err(e) => Err(e.into()),
    }
}

/// Milliseconds to sleep in one poll, so that `stop` is seen quickly.
pub const POLL_SLICE_MS: u64 = 100;

/// Milliseconds from `now` until `deadline` (nanoseconds), rounded up and
/// capped at [`POLL_SLICE_MS`].
pub fn slice_until(now: u64, deadline: u64) -> u64 {
    deadline
        .saturating_sub(now)
        .div_ceil(1_000_000)
        .min(POLL_SLICE_MS)
}

/// A readable description of a socket error; `server` names the server
/// in the hint for a refused connection ("echo", "RPC").
pub fn io_text(e: &io::Error, server: &str) -> String {
    match Errno::from_io_error(e) {
        Some(Errno::CONNRESET) => "connection reset by the server".to_string(),
        Some(Errno::CONNREFUSED) => format!("connection refused (is the {server} server running?)"),
        Some(Errno::PIPE) => "connection closed by the server (broken pipe)".to_string(),
        _ => e.to_string(),
    }
}

/// Whether a failed send should wait for the socket to drain (it would
/// block, or the kernel is short of buffers) rather than fail.
pub fn send_blocked(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || Errno::from_io_error(e) == Some(Errno::NOBUFS)
}

/// Asks for a receive buffer of `bytes`, best effort: the kernel caps it
/// at net.core.rmem_max, and a refusal leaves the default, which works.
pub fn set_rcvbuf(sock: &impl AsFd, bytes: usize) {
    let _ = sockopt::set_socket_recv_buffer_size(sock, bytes);
}

/// Asks for a send buffer of `bytes`, best effort (capped at
/// net.core.wmem_max; a refusal leaves the default).
pub fn set_sndbuf(sock: &impl AsFd, bytes: usize) {
    let _ = sockopt::set_socket_send_buffer_size(sock, bytes);
}

/// Sets `SO_LINGER` to 0, best effort: closing the socket then sends a
/// reset.
pub fn set_linger0(sock: &impl AsFd) {
    let _ = sockopt::set_socket_linger(sock, Some(Duration::ZERO));
}

/// Descriptors a process needs besides its sockets (standard streams,
/// epoll instances, what the runtime opens).
pub const SPARE_FDS: u64 = 64;

/// Makes room for `sockets` open sockets: raises the soft limit on open
/// files (`RLIMIT_NOFILE`) up to the hard limit if it is below `sockets`
/// plus [`SPARE_FDS`]; an error says what the hard limit allows.
pub fn allow_sockets(sockets: u64) -> Result<(), String> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let need = sockets + SPARE_FDS;
    let lim = getrlimit(Resource::Nofile);
    if lim.current.is_none_or(|cur| cur >= need) {
        return Ok(());
    }
    if lim.maximum.is_some_and(|max| max < need) {
        return Err(format!(
            "{sockets} connections need about {need} open files, but the hard limit is {}              (raise it with 'ulimit -Hn {need}' as root, or ask for fewer)",
            lim.maximum.unwrap_or(0)
        ));
    }
    let new = rustix::process::Rlimit {
        current: lim.maximum,
        maximum: lim.maximum,
    };
    setrlimit(Resource::Nofile, new)
        .map_err(|e| format!("cannot raise the open-file limit to {need}: {e}"))
}

/// Pins job `job`'s thread to the (job mod n)-th CPU of `cpus` (nothing if
/// empty); the error is described for the job to report.
pub fn pin_job(job: usize, cpus: &[usize]) -> Result<(), String> {
    if cpus.is_empty() {
        return Ok(());
    }
    let cpu = cpus[job % cpus.len()];
    pin_current_thread(cpu).map_err(|e| format!("cannot pin to CPU {cpu}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices() {
        assert_eq!(slice_until(0, 1), 1);
        assert_eq!(slice_until(0, 2_000_000), 2);
        assert_eq!(slice_until(5, 0), 0);
        assert_eq!(slice_until(0, 10_000_000_000), POLL_SLICE_MS);
    }

    #[test]
    fn texts() {
        let e = io::Error::from(Errno::CONNREFUSED);
        assert_eq!(
            io_text(&e, "echo"),
            "connection refused (is the echo server running?)"
        );
    }

    #[test]
    fn open_file_limit() {
        use rustix::process::{getrlimit, Resource};
        let before = getrlimit(Resource::Nofile);
        assert_eq!(allow_sockets(0), Ok(()));
        assert_eq!(getrlimit(Resource::Nofile), before);
        if let Some(max) = before.maximum.filter(|&m| m < u64::MAX - SPARE_FDS) {
            let e = allow_sockets(max).unwrap_err();
            assert!(e.contains("the hard limit is"), "{e}");
            assert_eq!(allow_sockets(max - SPARE_FDS), Ok(()));
            assert_eq!(getrlimit(Resource::Nofile).current, Some(max));
        }
    }

    #[test]
    fn no_cpus_no_pinning() {
        assert_eq!(pin_job(3, &[]), Ok(()));
    }
}
