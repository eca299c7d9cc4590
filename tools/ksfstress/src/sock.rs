// SPDX-License-Identifier: GPL-2.0

//! Socket helpers: connecting, resets (`SO_LINGER` 0), `poll` over many
//! sockets, the file-descriptor limit, and error texts.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

pub use ksf_tools::jobs::set_linger0;

/// Connects to `addr` within `timeout`, with `TCP_NODELAY`.
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// A connection error in words, with a hint for the usual causes.
pub fn connect_text(e: &io::Error, addr: SocketAddr) -> String {
    if e.raw_os_error() == Some(libc::ECONNREFUSED) {
        return format!("cannot connect to {addr}: connection refused (is the server running?)");
    }
    let hint = match e.raw_os_error() {
        Some(libc::EADDRNOTAVAIL) => {
            " (local ports exhausted: too many connections in TIME_WAIT; wait or use fewer)"
        }
        Some(libc::EMFILE) | Some(libc::ENFILE) => " (out of file descriptors)",
        _ => "",
    };
    format!(
        "cannot connect to {addr}: {}{hint}",
        ksf_tools::jobs::io_text(e, "server")
    )
}

/// An I/O error on an established connection, in words.
pub fn io_text(e: &io::Error) -> String {
    ksf_tools::jobs::io_text(e, "server")
}

/// Whether `e` means the peer reset or closed the connection.
pub fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNRESET) | Some(libc::EPIPE) | Some(libc::ECONNABORTED)
    )
}

/// Closes `s` with a reset.
pub fn reset(s: TcpStream) {
    set_linger0(&s);
    drop(s);
}

/// `poll` over `fds` for up to `ms` milliseconds; the number of ready
/// entries (0 on timeout or signal).
pub fn poll(fds: &mut [libc::pollfd], ms: u64) -> io::Result<usize> {
    // SAFETY: a valid array of pollfds, and its length.
    let rc = unsafe {
        libc::poll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            ms.min(i32::MAX as u64) as i32,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        };
    }
    Ok(rc as usize)
}

/// A pollfd for `s` waiting for `events`.
pub fn pollfd(s: &impl AsRawFd, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd: s.as_raw_fd(),
        events,
        revents: 0,
    }
}

/// Raises the soft `RLIMIT_NOFILE` (and the hard one, if allowed) to at
/// least `want` descriptors.
pub fn raise_nofile(want: u64) -> Result<(), String> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(format!("getrlimit: {}", io::Error::last_os_error()));
    }
    if r.rlim_cur >= want {
        return Ok(());
    }
    let (cur, max) = (r.rlim_cur, r.rlim_max);
    r.rlim_cur = want;
    r.rlim_max = max.max(want);
    // SAFETY: a valid limit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
        let e = io::Error::last_os_error();
        return Err(format!(
            "cannot raise the open-file limit to {want} (soft {cur}, hard {max}): {e}; \
             raise it with 'ulimit -n' or ask for fewer connections"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_within_the_hard_limit() {
        assert_eq!(raise_nofile(16), Ok(()));
        let e = raise_nofile(u64::MAX / 2);
        if let Err(e) = e {
            assert!(e.contains("cannot raise the open-file limit"), "{e}");
        }
    }

    #[test]
    fn texts() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let e = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        assert!(connect_text(&e, addr).contains("TIME_WAIT"));
        assert!(is_reset(&io::Error::from_raw_os_error(libc::EPIPE)));
        assert!(!is_reset(&io::Error::from_raw_os_error(libc::EAGAIN)));
    }
}
