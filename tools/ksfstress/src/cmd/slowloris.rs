// SPDX-License-Identifier: GPL-2.0

//! `ksfstress slowloris` and `ksfstress idle`: peers that hold a server's
//! connection without completing anything (a record sent one byte at a
//! time, data sent and never read, or nothing at all), watched until the
//! server closes them.

use super::Ctx;
use crate::opts::{Proto, Sub};
use crate::peers::{self, Closed, Watched};
use crate::sock;
use crate::wire::{check_null_reply, null_call, record, Cred, RecordReader};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// What a slow-loris RPC peer sends, one byte per interval: NULL calls,
/// over and over (a server that never times out answers one every 44
/// intervals).
fn slow_stream() -> Vec<u8> {
    record(&null_call(1, Cred::None))
}

/// The receive and send buffers of a slow echo peer (the kernel doubles
/// them).
const SLOW_ECHO_BUF: usize = 4096;

/// Opens `n` connections (from spread loopback sources), each its clock
/// started at connect.
fn open(cx: &mut Ctx, n: usize) -> Option<Vec<Watched>> {
    if let Err(e) = sock::raise_nofile(n as u64 + 64) {
        cx.report
            .error(&format!("cannot open {n} connections: {e}"));
        return None;
    }
    let mut peers = Vec::with_capacity(n);
    for i in 0..n {
        match sock::connect(cx.addr, cx.o.transport, cx.o.timeout) {
            Ok(s) => peers.push(Watched::new(s)),
            Err(e) => {
                let msg = sock::connect_text(&e, cx.addr);
                cx.report
                    .finding(&format!("connection {} of {n}: {msg}", i + 1));
                return None;
            }
        }
    }
    Some(peers)
}

/// One valid call (echo: message) and its answer on `s`, blocking.
fn valid_call(
    s: &mut std::net::TcpStream,
    proto: Proto,
    i: u32,
    t: Duration,
) -> Result<(), String> {
    s.set_read_timeout(Some(t)).map_err(|e| e.to_string())?;
    let msg = match proto {
        Proto::Rpc => record(&null_call(i, Cred::None)),
        Proto::Echo => format!("ksfstress idle {i:>10}\n").into_bytes(),
    };
    s.write_all(&msg)
        .map_err(|e| format!("send: {}", sock::io_text(&e)))?;
    let mut buf = [0u8; 512];
    let mut reader = RecordReader::new();
    let (mut got, mut echoed) = (false, Vec::new());
    while !got {
        let n = match s.read(&mut buf) {
            Ok(0) => return Err("the server closed the connection before answering".into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("receive: {}", sock::io_text(&e))),
        };
        match proto {
            Proto::Rpc => reader.feed(&buf[..n], |rec| {
                check_null_reply(rec, i)?;
                got = true;
                Ok(())
            })?,
            Proto::Echo => {
                echoed.extend_from_slice(&buf[..n]);
                if !msg.starts_with(&echoed) {
                    return Err("the echo differs from the message".into());
                }
                got = echoed.len() == msg.len();
            }
        }
    }
    Ok(())
}

/// Sends what a slow peer sends this tick: the next byte of its record
/// (RPC), or as much data as the socket takes (echo, never read); false
/// if the server closed the connection.
fn slow_send(p: &mut Watched, proto: Proto, stream: &[u8], sent: &mut u64) -> bool {
    let Some(s) = p.s.as_mut() else { return false };
    loop {
        let at = (*sent % stream.len() as u64) as usize;
        let chunk = match proto {
            Proto::Rpc => &stream[at..at + 1],
            Proto::Echo => &stream[at..],
        };
        match s.write(chunk) {
            Ok(n) => {
                *sent += n as u64;
                if proto == Proto::Rpc {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                p.close(Closed::Reset);
                return false;
            }
        }
    }
}

pub fn run(cx: &mut Ctx) {
    let (n, proto) = (cx.o.conns, cx.o.proto);
    let slow = cx.o.sub == Sub::Slowloris;
    let expect = Duration::from_secs(cx.o.expect_close_secs);
    let Some(mut peers) = open(cx, n) else { return };
    if !slow && cx.o.valid_first {
        for (i, p) in peers.iter_mut().enumerate() {
            let Some(s) = p.s.as_mut() else { continue };
            if let Err(e) = valid_call(s, proto, i as u32, cx.o.timeout) {
                cx.report
                    .finding(&format!("connection {}: valid call: {e}", i + 1));
                return;
            }
            // Idle from its last exchange.
            p.since = Instant::now();
        }
    }
    for p in &peers {
        if let Some(s) = &p.s {
            if let Err(e) = s.set_nonblocking(true) {
                return cx.report.error(&format!("set_nonblocking: {e}"));
            }
            // A never-reading echo peer with small buffers: the server's
            // echo stalls after a few KiB, and the peer's own sends soon
            // after, not after megabytes (which a slow guest takes
            // seconds to move, and TCP grows an unread peer's send buffer
            // to megabytes), so the request timeout starts close to the
            // peer's first send.
            if slow && proto == Proto::Echo {
                ksf_tools::jobs::set_rcvbuf(s, SLOW_ECHO_BUF);
                ksf_tools::jobs::set_sndbuf(s, SLOW_ECHO_BUF);
            }
        }
    }
    if slow {
        // A slow peer's request starts with its first byte, sent from
        // now on: its clock starts here, not at its connect (opening a
        // few hundred connections takes an emulated guest seconds).
        let now = Instant::now();
        for p in &mut peers {
            p.since = now;
        }
    }
    let stream = match proto {
        Proto::Rpc => slow_stream(),
        Proto::Echo => cx.rng.bytes(64 * 1024),
    };
    let interval = Duration::from_secs(cx.o.interval_secs);
    let start = Instant::now();
    let mut sent = vec![0u64; peers.len()];
    let mut next_send = start;
    loop {
        let now = Instant::now();
        if slow && now >= next_send {
            for (p, sent) in peers.iter_mut().zip(&mut sent) {
                slow_send(p, proto, &stream, sent);
            }
            // Echo peers keep the pipe full; RPC peers wait an interval.
            next_send = if proto == Proto::Rpc {
                next_send + interval
            } else {
                now + Duration::from_millis(100)
            };
        }
        let open = match peers::watch(&mut peers, 100) {
            Ok(k) => k,
            Err(e) => return cx.report.error(&format!("poll: {e}")),
        };
        if open == 0 || start.elapsed() >= expect {
            break;
        }
    }
    let still: Vec<usize> = (0..peers.len()).filter(|&i| peers[i].s.is_some()).collect();
    if !still.is_empty() {
        let what = if slow {
            "slow peers"
        } else if cx.o.valid_first {
            "idle peers (after a valid call)"
        } else {
            "idle peers"
        };
        cx.report.finding(&format!(
            "{} of {} {what} still open after {} s (--expect-close-secs): the server \
             does not close them",
            still.len(),
            peers.len(),
            expect.as_secs()
        ));
    }
    let mut times: Vec<f64> = peers.iter().filter_map(|p| p.closed.map(|c| c.0)).collect();
    let count = |how| {
        peers
            .iter()
            .filter(|p| p.closed.is_some_and(|c| c.1 == how))
            .count()
    };
    let (resets, eofs) = (count(Closed::Reset), count(Closed::Eof));
    let (min, median, max) = peers::spread(&mut times);
    for p in &mut peers {
        if let Some(s) = p.s.take() {
            sock::reset(s);
        }
    }
    cx.good_check();
    cx.report
        .kv("conns", peers.len())
        .kv("closed", resets + eofs)
        .kv("closed_reset", resets)
        .kv("closed_eof", eofs)
        .kv("open", still.len())
        .kv("close_min_s", min)
        .kv("close_median_s", median)
        .kv("close_max_s", max)
        .kv("expect_close_secs", expect.as_secs());
    if slow {
        cx.report
            .kv("interval_secs", cx.o.interval_secs)
            .kv("sent_total", sent.iter().sum::<u64>());
    } else {
        cx.report.kv("valid_first", cx.o.valid_first);
    }
}
