// SPDX-License-Identifier: GPL-2.0

//! SMC sockets (`AF_SMC`, Linux's Shared Memory Communications): TCP's
//! interface with a TCP handshake first; two SMC sockets in one OS then
//! move their data through the loopback ISM device (SMC-D) instead of
//! TCP/IP, and a peer that does not speak SMC gets plain TCP (a
//! fallback). The tools' `--smc` connects and listens with these.

use rustix::io::Errno;
use rustix::net::sockopt::{self, Timeout};
use rustix::net::{self, AddressFamily, Protocol, SocketFlags, SocketType};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroU32;
use std::os::fd::OwnedFd;
use std::time::Duration;

/// `AF_SMC` (include/linux/socket.h).
const AF_SMC: u16 = 43;
/// `SMCPROTO_SMC6` (net/smc/smc.h): the internal TCP socket is IPv6;
/// `SMCPROTO_SMC`, 0, makes it IPv4.
const SMCPROTO_SMC6: u32 = 1;

/// A new SMC stream socket whose internal TCP socket has `addr`'s family
/// (non-blocking if `nonblocking`: its connect then returns `EINPROGRESS`
/// and a kernel worker finishes the handshake; `POLLOUT` and `SO_ERROR`
/// tell the outcome, as for TCP).
pub fn socket(addr: &SocketAddr, nonblocking: bool) -> io::Result<OwnedFd> {
    let proto = addr
        .is_ipv6()
        .then(|| Protocol::from_raw(NonZeroU32::new(SMCPROTO_SMC6).unwrap()));
    let mut flags = SocketFlags::CLOEXEC;
    if nonblocking {
        flags |= SocketFlags::NONBLOCK;
    }
    net::socket_with(
        AddressFamily::from_raw(AF_SMC),
        SocketType::STREAM,
        flags,
        proto,
    )
    .map_err(no_smc)
}

/// `EAFNOSUPPORT` as what it means here.
fn no_smc(e: Errno) -> io::Error {
    if e == Errno::AFNOSUPPORT {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "this kernel has no SMC sockets (AF_SMC: CONFIG_SMC)",
        )
    } else {
        e.into()
    }
}

/// Connects an SMC socket to `addr` within `timeout` (blocking: a
/// non-blocking SMC connect finishes its handshake in a kernel worker).
/// The stream is blocking, as `TcpStream::connect_timeout`'s is.
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let fd = socket(&addr, false)?;
    // SMC copies the send timeout to its TCP socket for the connect.
    sockopt::set_socket_timeout(&fd, Timeout::Send, Some(timeout))?;
    match net::connect(&fd, &addr) {
        Ok(()) => {}
        // A blocking connect that timed out.
        Err(Errno::INPROGRESS) => return Err(io::ErrorKind::TimedOut.into()),
        Err(e) => return Err(e.into()),
    }
    sockopt::set_socket_timeout(&fd, Timeout::Send, None)?;
    Ok(TcpStream::from(fd))
}

/// An SMC listener on `addr` (`SO_REUSEADDR`, as std's): it accepts SMC
/// clients over SMC-D and TCP clients by fallback, on one port.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let fd = socket(&addr, false)?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    net::bind(&fd, &addr)?;
    net::listen(&fd, 128)?;
    Ok(TcpListener::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a kernel with SMC: a round trip through an SMC listener and
    /// client in this process. Without: the error names what is missing.
    #[test]
    fn round_trip_or_a_clear_error() {
        use std::io::{Read, Write};
        let l = match listen("127.0.0.1:0".parse().unwrap()) {
            Ok(l) => l,
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::Unsupported, "{e}");
                assert!(e.to_string().contains("CONFIG_SMC"), "{e}");
                let c = connect("127.0.0.1:9".parse().unwrap(), Duration::from_secs(1));
                assert_eq!(c.unwrap_err().kind(), io::ErrorKind::Unsupported);
                return;
            }
        };
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut b = [0u8; 5];
            s.read_exact(&mut b).unwrap();
            s.write_all(&b).unwrap();
        });
        let mut c = connect(addr, Duration::from_secs(5)).unwrap();
        c.write_all(b"hello").unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"hello");
        t.join().unwrap();
    }
}
