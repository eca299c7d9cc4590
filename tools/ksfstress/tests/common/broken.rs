// SPDX-License-Identifier: GPL-2.0

//! In-process servers on 127.0.0.1 (free ports), each broken on purpose,
//! built on ksf-proto's record marking and dispatch policy.

use ksf_proto::rm::{Decoder, Limits, Mark, MARK_LEN};
use ksf_proto::rpc::{decide, decode_call, encode_reply, Action, Program};
use ksf_tools::testutil::tcp_server_on;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const NFS: Program<'static> = Program {
    prog: 100003,
    low: 3,
    high: 3,
    procs: &[0],
};

/// How an RPC server misbehaves.
#[derive(Clone, Copy, Debug)]
pub enum RpcFault {
    /// Answers the first `n` calls of each connection, then keeps reading
    /// but answers nothing more.
    Mute(u64),
    /// On a record that closes the connection, drops the replies to the
    /// calls before it that came in the same read.
    LoseRepliesOnClose,
}

/// An RPC server with `fault`; its port.
pub fn rpc(fault: RpcFault) -> u16 {
    tcp_server_on(0, move |s| serve_rpc(s, fault))
}

fn serve_rpc(mut s: TcpStream, fault: RpcFault) {
    let mut dec = Decoder::new(Limits::new(4096, 64).unwrap());
    let (mut rec, mut out) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut answered = 0;
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut input = &buf[..n];
        let mut close = false;
        while !input.is_empty() && !close {
            let Ok(step) = dec.decode(input) else {
                close = true;
                break;
            };
            rec.extend_from_slice(&input[step.payload.clone()]);
            input = &input[step.consumed..];
            if !step.end_of_record {
                continue;
            }
            match decide(decode_call(&rec), &NFS) {
                Action::Reply(r) => {
                    let muted = matches!(fault, RpcFault::Mute(m) if answered >= m);
                    if !muted {
                        let at = out.len();
                        out.resize(at + MARK_LEN + 64, 0);
                        let len = encode_reply(&mut out[at + MARK_LEN..], &r).unwrap();
                        let mark = Mark::new(len, true).unwrap().encode();
                        out[at..at + MARK_LEN].copy_from_slice(&mark);
                        out.truncate(at + MARK_LEN + len);
                        answered += 1;
                    }
                }
                _ => close = true,
            }
            rec.clear();
        }
        if close {
            if let RpcFault::LoseRepliesOnClose = fault {
                out.clear();
            }
        }
        if s.write_all(&out).is_err() || close {
            return;
        }
        out.clear();
    }
}

/// An echo server that sends back byte `at` of each connection with its
/// bits flipped; its port.
pub fn echo_flipping(at: usize) -> u16 {
    tcp_server_on(0, move |mut s| {
        let mut buf = vec![0u8; 64 * 1024];
        let mut seen = 0;
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if (seen..seen + n).contains(&at) {
                buf[at - seen] ^= 0xff;
            }
            seen += n;
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    })
}

/// A server that closes every connection after `ms` milliseconds; its
/// port.
pub fn closing_after(ms: u64) -> u16 {
    tcp_server_on(0, move |s| {
        std::thread::sleep(Duration::from_millis(ms));
        drop(s);
    })
}

/// A server that reads everything and answers nothing; its port.
pub fn sink() -> u16 {
    tcp_server_on(0, |mut s| {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                return;
            }
        }
    })
}
