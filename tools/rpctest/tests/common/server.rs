// SPDX-License-Identifier: GPL-2.0

//! In-process RPC NULL servers on 127.0.0.1 (random ports), correct or
//! broken on purpose, built on ksf_proto's record marking and dispatch
//! policy.

#![allow(dead_code)]

use ksf_proto::rm::{Decoder, Limits, Mark};
use ksf_proto::rpc::{decide, decode_call, encode_reply, Action, Program, Reply, ReplyKind};
use ksf_proto::rpc::{AcceptStat, AuthStat, RejectStat, AUTH_NONE};
use ksf_tools::testutil;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

/// NFSv3 with only the NULL procedure, as krpc2 serves it.
pub const NFS: Program<'static> = Program {
    prog: 100003,
    low: 3,
    high: 3,
    procs: &[0],
};

/// How a server misbehaves; `n` counts calls per connection from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Answers call n with the top bit of its xid flipped.
    WrongXid(u64),
    /// Sends the reply to call n twice.
    DupReply(u64),
    /// Cuts the reply record to call n to its first 12 bytes.
    Truncated(u64),
    /// Sends text instead of the reply to call n.
    Garbage(u64),
    /// Sends a mark declaring a 2 GiB record before the reply to call n.
    HugeMark(u64),
    /// Answers n calls, then closes the connection.
    CloseAfter(u64),
    /// Answers n calls, then reads on without answering.
    StallAfter(u64),
    /// Denies AUTH_NONE calls with AUTH_TOOWEAK.
    RequireSys,
    /// Answers GARBAGE_ARGS to calls not sent as this many fragments.
    RequireFragments(usize),
    /// UDP: does not answer call n, 2n, 3n...
    DropEvery(u64),
}

/// The reply bytes (record-marked if `stream`) for call `i`, or `None` to
/// close the connection.
fn answer(rec: &[u8], frags: usize, i: u64, fault: Fault, stream: bool) -> Option<Vec<u8>> {
    let call = decode_call(rec);
    let mut reply: Reply<'static> = match decide(call, &NFS) {
        Action::Reply(r) => r,
        Action::Dispatch(_) | Action::Close(_) => return None,
    };
    match fault {
        Fault::RequireSys if matches!(call, Ok(c) if c.cred.flavor == AUTH_NONE) => {
            reply.kind = ReplyKind::Denied(RejectStat::AuthError(AuthStat::TOOWEAK));
        }
        Fault::RequireFragments(n) if frags != n => {
            reply.kind = ReplyKind::accepted(AcceptStat::GarbageArgs);
        }
        Fault::WrongXid(k) if k == i => reply.xid ^= 1 << 31,
        _ => {}
    }
    let mut buf = [0u8; 256];
    let mut len = encode_reply(&mut buf, &reply).unwrap();
    if fault == Fault::Truncated(i) {
        len = 12;
    }
    let mut out = Vec::new();
    let copies = if fault == Fault::DupReply(i) { 2 } else { 1 };
    for _ in 0..copies {
        if fault == Fault::Garbage(i) {
            out.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            continue;
        }
        if fault == Fault::HugeMark(i) {
            out.extend_from_slice(&[0xff; 4]);
        }
        if stream {
            out.extend_from_slice(&Mark::new(len, true).unwrap().encode());
        }
        out.extend_from_slice(&buf[..len]);
    }
    Some(out)
}

fn serve_tcp(mut s: TcpStream, fault: Fault) {
    let mut dec = Decoder::new(Limits::DEFAULT);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut rec, mut mark_bytes, mut i) = (Vec::new(), 0, 0u64);
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let (mut data, mut out, mut end) = (&buf[..n], Vec::new(), None);
        while !data.is_empty() && end.is_none() {
            let Ok(step) = dec.decode(data) else { return };
            mark_bytes += step.consumed - step.payload.len();
            rec.extend_from_slice(&data[step.payload.clone()]);
            data = &data[step.consumed..];
            if !step.end_of_record {
                continue;
            }
            match fault {
                Fault::CloseAfter(k) | Fault::StallAfter(k) if i >= k => end = Some(fault),
                _ => match answer(&rec, mark_bytes / 4, i, fault, true) {
                    Some(r) => out.extend_from_slice(&r),
                    None => end = Some(Fault::CloseAfter(0)),
                },
            }
            (mark_bytes, i) = (0, i + 1);
            rec.clear();
        }
        if s.write_all(&out).is_err() {
            return;
        }
        match end {
            None => continue,
            Some(Fault::StallAfter(_)) => {}
            // FIN, not RST: stop writing, read until the client goes.
            Some(_) => drop(s.shutdown(Shutdown::Write)),
        }
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        return;
    }
}

/// Starts a TCP RPC server; returns its port.
pub fn tcp_server(fault: Fault) -> u16 {
    tcp_server_on(0, fault)
}

/// Starts a TCP RPC server on `port` (0: any); returns its port.
pub fn tcp_server_on(port: u16, fault: Fault) -> u16 {
    testutil::tcp_server_on(port, move |s| serve_tcp(s, fault))
}

/// Starts a UDP RPC server (`Fault::DropEvery`, `Fault::StallAfter`
/// and the reply faults apply, counting over all clients); returns its port.
pub fn udp_server(fault: Fault) -> u16 {
    udp_server_on(0, fault)
}

/// Starts a UDP RPC server on `port` (0: any); returns its port.
pub fn udp_server_on(port: u16, fault: Fault) -> u16 {
    testutil::udp_server_on(port, move |s, d, peer, i| {
        match fault {
            Fault::DropEvery(k) if i.is_multiple_of(k) => return,
            Fault::StallAfter(k) if i > k => return,
            _ => {}
        }
        if let Some(r) = answer(d, 0, i - 1, fault, false) {
            let _ = s.send_to(&r, peer);
        }
    })
}
