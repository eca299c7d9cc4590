// SPDX-License-Identifier: GPL-2.0

//! `ksfstress hold`: many connections open at once, each served while all
//! are held.

use super::Ctx;
use crate::opts::Proto;
use crate::sock;
use crate::wire::{check_null_reply, null_call, record, Cred, RecordReader};
use rustix::event::PollFlags;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Descriptors kept free for everything else.
const SPARE_FDS: u64 = 64;
/// The echo message of connection `i`.
fn echo_msg(i: usize) -> Vec<u8> {
    format!("ksfstress hold {i:>10}\n").into_bytes()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Served,
    Failed,
}

/// A held connection and what came back on it.
struct Held {
    s: TcpStream,
    reader: RecordReader,
    echoed: Vec<u8>,
    state: State,
}

pub fn run(cx: &mut Ctx) {
    let (n, proto, timeout) = (cx.o.conns, cx.o.proto, cx.o.timeout);
    if let Err(e) = sock::raise_nofile(n as u64 + SPARE_FDS) {
        cx.report
            .error(&format!("cannot hold {n} connections: {e}"));
        return;
    }
    let start = Instant::now();
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        match sock::connect(cx.addr, cx.o.transport, timeout)
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
        {
            Ok(s) => held.push(Held {
                s,
                reader: RecordReader::new(),
                echoed: Vec::new(),
                state: State::Waiting,
            }),
            Err(e) => {
                let msg = sock::connect_text(&e, cx.addr);
                cx.report
                    .finding(&format!("connection {} of {n}: {msg}", i + 1));
                break;
            }
        }
    }
    let connect_ms = start.elapsed().as_millis();
    std::thread::sleep(Duration::from_secs(cx.o.secs));
    let closed = closed_while_held(&mut held);
    if closed > 0 {
        cx.report.finding(&format!(
            "the server closed (or sent unasked data on) {closed} of {} held connections \
             before any call",
            held.len()
        ));
    }
    let serve_start = Instant::now();
    let served = serve(cx, &mut held, proto, timeout);
    let serve_ms = serve_start.elapsed().as_millis();
    let count = held.len();
    drop(held);
    cx.good_check();
    cx.report
        .kv("conns", n)
        .kv("held", count)
        .kv("served", served)
        .kv("connect_ms", connect_ms)
        .kv("serve_ms", serve_ms);
}

/// Connections the server closed (or sent something on) while idle.
fn closed_while_held(held: &mut [Held]) -> usize {
    let want: Vec<_> = held.iter().map(|h| (h.s.as_fd(), PollFlags::IN)).collect();
    let revents = sock::poll(&want, 0).unwrap_or_default();
    revents.iter().filter(|ev| !ev.is_empty()).count()
}

/// Sends one call (echo: one message) on every held connection, then
/// checks every answer; the connections served.
fn serve(cx: &mut Ctx, held: &mut [Held], proto: Proto, timeout: Duration) -> usize {
    let mut findings = Vec::new();
    for (i, h) in held.iter_mut().enumerate() {
        let msg = match proto {
            Proto::Rpc => record(&null_call(i as u32, Cred::None)),
            Proto::Echo => echo_msg(i),
        };
        // A few dozen bytes on a new connection: never a short write.
        let err = match h.s.write(&msg) {
            Ok(k) if k == msg.len() => continue,
            Ok(k) => format!("short send of {k} bytes"),
            Err(e) => format!("send: {}", sock::io_text(&e)),
        };
        findings.push(format!("connection {}: {err}", i + 1));
        h.state = State::Failed;
    }
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    loop {
        let waiting: Vec<usize> = (0..held.len())
            .filter(|&i| held[i].state == State::Waiting)
            .collect();
        if waiting.is_empty() {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            findings.push(format!(
                "{} of {} held connections not served within {} ms",
                waiting.len(),
                held.len(),
                timeout.as_millis()
            ));
            break;
        }
        let want: Vec<_> = waiting
            .iter()
            .map(|&i| (held[i].s.as_fd(), PollFlags::IN))
            .collect();
        let ms = deadline.saturating_duration_since(now).as_millis() as u64;
        let revents = match sock::poll(&want, ms.min(100)) {
            Ok(revents) => revents,
            Err(e) => {
                findings.push(format!("poll: {e}"));
                break;
            }
        };
        drop(want);
        for (k, &i) in waiting.iter().enumerate() {
            if revents[k].is_empty() {
                continue;
            }
            match answer(&mut held[i], i, proto, &mut buf) {
                Ok(false) => {}
                Ok(true) => held[i].state = State::Served,
                Err(e) => {
                    findings.push(format!("connection {}: {e}", i + 1));
                    held[i].state = State::Failed;
                }
            }
        }
    }
    for f in findings.iter().take(20) {
        cx.report.finding(f);
    }
    if findings.len() > 20 {
        cx.report.findings(findings.len() as u64 - 20, &[]);
    }
    held.iter().filter(|h| h.state == State::Served).count()
}

/// Reads what connection `i` has; true once its answer is complete and
/// correct.
fn answer(h: &mut Held, i: usize, proto: Proto, buf: &mut [u8]) -> Result<bool, String> {
    let n = match h.s.read(buf) {
        Ok(0) => return Err("the server closed the connection before answering".into()),
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
        Err(e) => return Err(format!("receive: {}", sock::io_text(&e))),
    };
    let data = &buf[..n];
    match proto {
        Proto::Rpc => {
            let mut done = false;
            h.reader.feed(data, |rec| {
                if done {
                    return Err("more than one reply".into());
                }
                check_null_reply(rec, i as u32)?;
                done = true;
                Ok(())
            })?;
            Ok(done)
        }
        Proto::Echo => {
            h.echoed.extend_from_slice(data);
            let want = echo_msg(i);
            if !want.starts_with(&h.echoed) {
                return Err("the echo differs from the message".into());
            }
            Ok(h.echoed.len() == want.len())
        }
    }
}
