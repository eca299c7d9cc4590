// SPDX-License-Identifier: GPL-2.0

//! Socket helpers: connecting, resets (`SO_LINGER` 0), `poll` over many
//! sockets, the file-descriptor limit, and error texts.

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::BorrowedFd;
use std::time::Duration;

pub use ksf_tools::jobs::set_linger0;
pub use ksf_tools::jobs::Transport;

/// Connects to `addr` over `transport` (TCP or SMC) within `timeout`,
/// with `TCP_NODELAY`.
pub fn connect(addr: SocketAddr, transport: Transport, timeout: Duration) -> io::Result<TcpStream> {
    let s = ksf_tools::jobs::connect_stream(addr, transport, timeout)?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// A connection error in words, with a hint for the usual causes.
pub fn connect_text(e: &io::Error, addr: SocketAddr) -> String {
    let hint = match Errno::from_io_error(e) {
        Some(Errno::CONNREFUSED) => {
            return format!("cannot connect to {addr}: connection refused (is the server running?)")
        }
        Some(Errno::ADDRNOTAVAIL) => {
            " (local ports exhausted: too many connections in TIME_WAIT; wait or use fewer)"
        }
        Some(Errno::MFILE) | Some(Errno::NFILE) => " (out of file descriptors)",
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
        Errno::from_io_error(e),
        Some(Errno::CONNRESET) | Some(Errno::PIPE) | Some(Errno::CONNABORTED)
    )
}

/// Closes `s` with a reset.
pub fn reset(s: TcpStream) {
    set_linger0(&s);
    drop(s);
}

/// `poll` over the sockets of `want`, each with the events to wait for,
/// for up to `ms` milliseconds; the events each one has (none on timeout
/// or signal).
pub fn poll(want: &[(BorrowedFd<'_>, PollFlags)], ms: u64) -> io::Result<Vec<PollFlags>> {
    let mut fds: Vec<PollFd<'_>> = want
        .iter()
        .map(|&(fd, events)| PollFd::from_borrowed_fd(fd, events))
        .collect();
    let timeout = Timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: (ms % 1000 * 1_000_000) as i64,
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(_) => Ok(fds.iter().map(PollFd::revents).collect()),
        Err(Errno::INTR) => Ok(vec![PollFlags::empty(); want.len()]),
        Err(e) => Err(e.into()),
    }
}

/// Raises the soft `RLIMIT_NOFILE` (and the hard one, if allowed) to at
/// least `want` descriptors.
pub fn raise_nofile(want: u64) -> Result<(), String> {
    let r = getrlimit(Resource::Nofile);
    // None is no limit.
    let (cur, max) = (r.current.unwrap_or(u64::MAX), r.maximum.unwrap_or(u64::MAX));
    if cur >= want {
        return Ok(());
    }
    let raised = Rlimit {
        current: Some(want),
        maximum: Some(max.max(want)),
    };
    setrlimit(Resource::Nofile, raised).map_err(|e| {
        format!(
            "cannot raise the open-file limit to {want} (soft {cur}, hard {max}): {}; \
             raise it with 'ulimit -n' or ask for fewer connections",
            io::Error::from(e)
        )
    })
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
        let e = io::Error::from(Errno::ADDRNOTAVAIL);
        assert!(connect_text(&e, addr).contains("TIME_WAIT"));
        assert!(is_reset(&io::Error::from(Errno::PIPE)));
        assert!(!is_reset(&io::Error::from(Errno::AGAIN)));
    }
}
