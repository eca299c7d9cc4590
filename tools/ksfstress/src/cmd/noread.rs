// SPDX-License-Identifier: GPL-2.0

//! `ksfstress noread`: peers that send as fast as they can and never read,
//! while a good client measures its round trips.

use super::Ctx;
use crate::good::GoodConn;
use crate::opts::{Proto, Transport};
use crate::rng::Rng;
use crate::sock;
use crate::wire::{null_call, record, Cred};
use ksf_tools::Histogram;
use rustix::event::PollFlags;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Most peers whose byte counts the summary lists.
const MAX_LISTED: usize = 64;

/// A non-reading peer.
struct Peer {
    s: Option<TcpStream>,
    /// Bytes the kernel accepted.
    sent: u64,
    last_write: Instant,
    /// Why it stopped (closed by the server, or an error).
    stopped: Option<String>,
}

/// What the non-readers send, over and over: whole calls, or data.
fn stream(proto: Proto, rng: &mut Rng) -> Vec<u8> {
    match proto {
        Proto::Rpc => (0..1000u32)
            .flat_map(|x| record(&null_call(x, Cred::None)))
            .collect(),
        Proto::Echo => rng.bytes(64 * 1024),
    }
}

/// Writes on every peer whenever it can, until `stop`.
fn flood(peers: &mut [Peer], data: &[u8], stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let live: Vec<usize> = (0..peers.len()).filter(|&i| peers[i].s.is_some()).collect();
        if live.is_empty() {
            return;
        }
        let want: Vec<_> = live
            .iter()
            .filter_map(|&i| peers[i].s.as_ref().map(|s| (s.as_fd(), PollFlags::OUT)))
            .collect();
        let Ok(revents) = sock::poll(&want, 100) else {
            return;
        };
        drop(want);
        for (k, &i) in live.iter().enumerate() {
            if revents[k].is_empty() {
                continue;
            }
            let p = &mut peers[i];
            let Some(s) = p.s.as_mut() else { continue };
            loop {
                let at = (p.sent % data.len() as u64) as usize;
                match s.write(&data[at..]) {
                    Ok(n) => {
                        p.sent += n as u64;
                        p.last_write = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let why = if sock::is_reset(&e) {
                            "the server closed the connection".to_string()
                        } else {
                            format!("send: {}", sock::io_text(&e))
                        };
                        p.stopped = Some(why);
                        p.s = None;
                        break;
                    }
                }
            }
        }
    }
}

/// Round trips one after the other until `stop`; their latencies (ns).
fn measure(
    addr: SocketAddr,
    transport: Transport,
    proto: Proto,
    timeout: Duration,
    until: Instant,
    rng: &mut Rng,
) -> (Histogram, Option<String>) {
    let mut h = Histogram::new();
    let mut conn = match GoodConn::open(addr, transport, proto, rng, Instant::now() + timeout) {
        Ok(c) => c,
        Err(e) => return (h, Some(format!("good client: {e}"))),
    };
    while Instant::now() < until {
        match conn.round_trip(timeout) {
            Ok(d) => h.record(d.as_nanos() as u64),
            Err(e) => {
                let e = match e.as_str() {
                    "timed out" | "no answer in time" | "send timed out" => {
                        format!("not served within {} ms", timeout.as_millis())
                    }
                    _ => e,
                };
                let n = h.count() + 1;
                return (
                    h,
                    Some(format!("good client, round trip {n} during the flood: {e}")),
                );
            }
        }
        thread::sleep(Duration::from_millis(1));
    }
    (h, None)
}

pub fn run(cx: &mut Ctx) {
    let (n, proto, timeout) = (cx.o.conns, cx.o.proto, cx.o.timeout);
    if let Err(e) = sock::raise_nofile(n as u64 + 64) {
        cx.report.error(&format!("cannot open {n} peers: {e}"));
        return;
    }
    let mut peers = Vec::with_capacity(n);
    for i in 0..n {
        let s = sock::connect(cx.addr, cx.o.transport, timeout)
            .and_then(|s| s.set_nonblocking(true).map(|()| s));
        match s {
            Ok(s) => peers.push(Peer {
                s: Some(s),
                sent: 0,
                last_write: Instant::now(),
                stopped: None,
            }),
            Err(e) => {
                let msg = sock::connect_text(&e, cx.addr);
                cx.report.finding(&format!("peer {} of {n}: {msg}", i + 1));
                return;
            }
        }
    }
    let data = stream(proto, &mut cx.rng);
    let stop = Arc::new(AtomicBool::new(false));
    let flooder = {
        let stop = stop.clone();
        thread::spawn(move || {
            flood(&mut peers, &data, &stop);
            peers
        })
    };
    let start = Instant::now();
    let until = start + Duration::from_secs(cx.o.secs);
    let mut rng = cx.rng.fork();
    let (h, failed) = measure(cx.addr, cx.o.transport, proto, timeout, until, &mut rng);
    let rest = until.saturating_duration_since(Instant::now());
    thread::sleep(rest);
    stop.store(true, Ordering::Relaxed);
    let end = Instant::now();
    let mut peers = flooder.join().unwrap_or_default();
    if let Some(e) = failed {
        cx.report.finding(&e);
    }
    report_peers(cx, &peers, end.duration_since(start), end);
    for p in &mut peers {
        if let Some(s) = p.s.take() {
            sock::reset(s);
        }
    }
    cx.good_check();
    let us = |ns: u64| format!("{:.1}", ns as f64 / 1000.0);
    cx.report
        .kv("good_rtts", h.count())
        .kv("rtt_p50_us", us(h.percentile(50.0)))
        .kv("rtt_p99_us", us(h.percentile(99.0)))
        .kv("rtt_max_us", us(h.max()));
}

/// The non-readers' summary, and the findings about them.
fn report_peers(cx: &mut Ctx, peers: &[Peer], ran: Duration, end: Instant) {
    let max_unread = cx.o.max_unread;
    // A peer whose last write is older than this has stalled.
    let quiet = (ran / 4).min(Duration::from_secs(1));
    let sent: Vec<u64> = peers.iter().map(|p| p.sent).collect();
    let stalled = peers
        .iter()
        .filter(|p| end.duration_since(p.last_write) >= quiet)
        .count();
    for (i, p) in peers.iter().enumerate() {
        if let Some(why) = &p.stopped {
            cx.report.finding(&format!(
                "non-reading peer {}: {why} after {} bytes",
                i + 1,
                p.sent
            ));
        }
        if p.sent > max_unread {
            cx.report.finding(&format!(
                "non-reading peer {}: {} bytes accepted, over --max-unread {max_unread}: \
                 the server does not stop reading when its replies cannot go out",
                i + 1,
                p.sent
            ));
        }
    }
    let list: Vec<String> = sent.iter().map(u64::to_string).collect();
    let each = if list.len() <= MAX_LISTED {
        list.join(",")
    } else {
        format!("{}_peers_not_listed", list.len())
    };
    cx.report
        .kv("peers", peers.len())
        .kv("sent_total", sent.iter().sum::<u64>())
        .kv("sent_min", sent.iter().min().copied().unwrap_or(0))
        .kv("sent_max", sent.iter().max().copied().unwrap_or(0))
        .kv("stalled", stalled)
        .kv("sent_each", each);
}
