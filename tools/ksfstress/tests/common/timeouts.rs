// SPDX-License-Identifier: GPL-2.0

//! An in-process server with the kernel services' defences against idle
//! and slow peers: a connection idle for `idle` is closed, and so is one
//! whose request (an RPC record begun, or an echo that cannot go out) is
//! not done within `request`. It answers RPC NULL calls (ksf-proto's
//! dispatch) or echoes.

use ksf_proto::rm::{Mark, MARK_LEN};
use ksf_proto::rpc::{decide, decode_call, encode_reply, Action, Program};
use ksf_tools::testutil::tcp_server_on;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NFS: Program<'static> = Program {
    prog: 100003,
    low: 3,
    high: 3,
    procs: &[0],
};

/// A server of `proto` ("rpc" or "echo") with these timeouts; its port.
pub fn server(proto: &'static str, idle: Duration, request: Duration) -> u16 {
    tcp_server_on(0, move |s| serve(s, proto == "rpc", idle, request))
}

fn serve(mut s: TcpStream, rpc: bool, idle: Duration, request: Duration) {
    let mut last = Instant::now();
    let mut begun: Option<Instant> = None;
    let mut rec: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let _ = s.set_write_timeout(Some(request));
    if !rpc {
        // A small send buffer, as make check loads kecho with
        // (sndbuf=16384): an echo to a peer that never reads stalls
        // within a few KiB, not once TCP has grown the buffer to MBs.
        ksf_tools::jobs::set_sndbuf(&s, 16384);
    }
    loop {
        let deadline = match begun {
            Some(t) => t + request,
            None => last + idle,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let _ = s.set_read_timeout(Some(left));
        let n = match s.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(_) => return,
        };
        last = Instant::now();
        if !rpc {
            // A peer that does not read makes this time out: closed.
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
            continue;
        }
        rec.extend_from_slice(&buf[..n]);
        begun.get_or_insert(last);
        while rec.len() >= MARK_LEN {
            let mark = u32::from_be_bytes([rec[0], rec[1], rec[2], rec[3]]);
            let len = (mark & 0x7fff_ffff) as usize;
            if mark & 0x8000_0000 == 0 || len > 4096 {
                return;
            }
            if rec.len() < MARK_LEN + len {
                break;
            }
            let Action::Reply(r) = decide(decode_call(&rec[MARK_LEN..MARK_LEN + len]), &NFS) else {
                return;
            };
            let mut out = vec![0u8; MARK_LEN + 64];
            let k = encode_reply(&mut out[MARK_LEN..], &r).unwrap();
            out[..MARK_LEN].copy_from_slice(&Mark::new(k, true).unwrap().encode());
            out.truncate(MARK_LEN + k);
            if s.write_all(&out).is_err() {
                return;
            }
            rec.drain(..MARK_LEN + len);
        }
        if rec.is_empty() {
            begun = None;
        }
    }
}
