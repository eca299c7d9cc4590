// SPDX-License-Identifier: GPL-2.0

//! In-process echo servers on 127.0.0.1 (random ports), correct or broken
//! on purpose, and a runner for the built echotest binary.

#![allow(dead_code)]

use ksf_tools::testutil;
use std::io::{Read, Write};
use std::net::TcpStream;

/// How a TCP server misbehaves, at a byte offset of each connection's
/// echoed stream.
#[derive(Clone, Copy, Debug)]
pub enum TcpFault {
    None,
    /// Flips one bit of the byte at this offset.
    Flip(u64),
    /// Leaves out the byte at this offset.
    Drop(u64),
    /// Sends the byte at this offset twice.
    Dup(u64),
    /// Echoes this many bytes, then closes the connection.
    CloseAfter(u64),
    /// Echoes this many bytes, then keeps reading without answering.
    StallAfter(u64),
    /// Resets the connection (RST) once data arrives.
    Reset,
}

/// How a UDP server misbehaves, by datagram number (0-based).
#[derive(Clone, Copy, Debug)]
pub enum UdpFault {
    None,
    /// Never answers.
    Silent,
    /// Does not answer datagram n, 2n, 3n...
    DropEvery(u64),
    /// Flips a bit of the last byte of datagram n, 2n...
    FlipEvery(u64),
    /// Answers every datagram twice.
    Dup,
    /// Answers with one byte less.
    Truncate,
}

fn echo_conn(mut s: TcpStream, fault: TcpFault) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos: u64 = 0; // stream offset of buf[0]
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let (lo, hi) = (pos, pos + n as u64);
        pos = hi;
        let mut out = buf[..n].to_vec();
        let at = |off: u64| (lo..hi).contains(&off).then(|| (off - lo) as usize);
        match fault {
            TcpFault::None => {}
            TcpFault::Flip(o) => at(o).into_iter().for_each(|i| out[i] ^= 0x20),
            TcpFault::Drop(o) => at(o).into_iter().for_each(|i| {
                out.remove(i);
            }),
            TcpFault::Dup(o) => at(o).into_iter().for_each(|i| out.insert(i, out[i])),
            TcpFault::CloseAfter(o) | TcpFault::StallAfter(o) if hi > o => {
                out.truncate(o.saturating_sub(lo) as usize);
                let _ = s.write_all(&out);
                if matches!(fault, TcpFault::CloseAfter(_)) {
                    // FIN (not RST): stop writing, read until the client goes.
                    let _ = s.shutdown(std::net::Shutdown::Write);
                }
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
                return;
            }
            TcpFault::Reset => {
                ksf_tools::jobs::set_linger0(&s);
                return;
            }
            _ => {}
        }
        if s.write_all(&out).is_err() {
            return;
        }
    }
}

/// Starts a TCP echo server; returns its port.
pub fn tcp_server(fault: TcpFault) -> u16 {
    testutil::tcp_server_on(0, move |s| echo_conn(s, fault))
}

/// Starts a UDP echo server; returns its port.
pub fn udp_server(fault: UdpFault) -> u16 {
    testutil::udp_server_on(0, move |s, d, peer, i| {
        let n = d.len();
        match fault {
            UdpFault::None => {}
            UdpFault::Silent => return,
            UdpFault::DropEvery(k) if i.is_multiple_of(k) => return,
            UdpFault::FlipEvery(k) if i.is_multiple_of(k) => d[n - 1] ^= 0x20,
            UdpFault::Dup => {
                let _ = s.send_to(d, peer);
            }
            UdpFault::Truncate => {
                let _ = s.send_to(&d[..n - 1], peer);
                return;
            }
            _ => {}
        }
        let _ = s.send_to(d, peer);
    })
}

pub use testutil::{dead_port, Run};

pub const BIN: &str = env!("CARGO_BIN_EXE_echotest");

/// Runs echotest with `args`; fails the test if it runs longer than 20 s
/// (it must never hang).
pub fn echotest(args: &[&str]) -> Run {
    testutil::run("echotest", BIN, args)
}

/// Asserts success and returns the rows.
pub fn ok(args: &[&str]) -> Vec<Vec<String>> {
    testutil::ok("echotest", BIN, args).rows()
}

/// Asserts exit status `code` with `what` on stderr.
pub fn fails(args: &[&str], code: i32, what: &str) -> Run {
    testutil::fails("echotest", BIN, args, code, what)
}
