// SPDX-License-Identifier: GPL-2.0

//! The sockets of the jobs: connecting, waiting with `poll`, socket
//! options, error texts, and pinning a job's thread.

use crate::cpu::pin_current_thread;
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// A connected, non-blocking socket.
pub enum Conn {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// Connects one job's socket (non-blocking once connected).
pub fn connect(addr: SocketAddr, udp: bool, timeout: Duration) -> io::Result<Conn> {
    if udp {
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let s = UdpSocket::bind(local)?;
        s.connect(addr)?;
        s.set_nonblocking(true)?;
        Ok(Conn::Udp(s))
    } else {
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        Ok(Conn::Tcp(s))
    }
}

/// Waits up to `ms` milliseconds for `events` on `fd`; returns the events
/// that occurred (0 on timeout or signal).
pub fn poll(fd: &impl AsRawFd, events: i16, ms: u64) -> io::Result<i16> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and its count.
    let rc = unsafe { libc::poll(&mut p, 1, ms.min(i32::MAX as u64) as i32) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(e)
        };
    }
    Ok(if rc == 0 { 0 } else { p.revents })
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
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => "connection reset by the server".to_string(),
        Some(libc::ECONNREFUSED) => format!("connection refused (is the {server} server running?)"),
        Some(libc::EPIPE) => "connection closed by the server (broken pipe)".to_string(),
        _ => e.to_string(),
    }
}

/// Whether a failed send should wait for the socket to drain (it would
/// block, or the kernel is short of buffers) rather than fail.
pub fn send_blocked(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Sets the socket option `level`/`name` of `sock` to `v`, best effort
/// (callers of this module treat a refusal as harmless).
fn set_opt<T>(sock: &impl AsRawFd, level: libc::c_int, name: libc::c_int, v: &T) {
    // SAFETY: a valid socket; `v` is readable for size_of::<T>() bytes,
    // the size passed, and outlives the call.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        );
    }
}

/// Asks for a receive buffer of `bytes` (best effort: the kernel caps it
/// at net.core.rmem_max).
pub fn set_rcvbuf(sock: &impl AsRawFd, bytes: usize) {
    let v = bytes.min(libc::c_int::MAX as usize) as libc::c_int;
    set_opt(sock, libc::SOL_SOCKET, libc::SO_RCVBUF, &v);
}

/// Sets `SO_LINGER` to 0: closing the socket then sends a reset.
pub fn set_linger0(sock: &impl AsRawFd) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    set_opt(sock, libc::SOL_SOCKET, libc::SO_LINGER, &l);
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
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            io_text(&e, "echo"),
            "connection refused (is the echo server running?)"
        );
    }

    #[test]
    fn no_cpus_no_pinning() {
        assert_eq!(pin_job(3, &[]), Ok(()));
    }
}
