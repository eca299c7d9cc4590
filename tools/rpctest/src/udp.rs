// SPDX-License-Identifier: GPL-2.0

//! UDP: one datagram per call and per reply, no record marking; replies
//! are matched by xid. A call not answered within the timeout is lost;
//! lost calls and bad, duplicate or unexpected datagrams are counted and
//! the run goes on.

use crate::call::Template;
use crate::window::Window;
use crate::IterResult;
use ksf_tools::cpu::monotonic_ns;
use ksf_tools::jobs::{io_text, poll, send_blocked, set_rcvbuf, slice_until};
use rustix::event::PollFlags;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks for a receive buffer that holds a whole window of replies (best
/// effort: the kernel caps it at net.core.rmem_max).
fn grow_rcvbuf(sock: &UdpSocket, bytes: usize) {
    set_rcvbuf(sock, bytes.clamp(64 << 10, 16 << 20));
}

/// Makes the calls of `win` on `sock` (connected, non-blocking), recording
/// into `r`. Returns early (Ok) when `stop` is set; an `Err` is fatal.
pub fn iterate(
    sock: UdpSocket,
    call: &Template,
    timeout_ns: u64,
    win: &mut Window,
    r: &mut IterResult,
    stop: &AtomicBool,
) -> Result<(), String> {
    grow_rcvbuf(&sock, 1024 * 1024);
    let mut sbuf = call.bytes().to_vec();
    let mut rbuf = vec![0u8; 65536];
    let fatal = |what: &str, e: std::io::Error, win: &Window| {
        format!("{what}: {} ({})", io_text(&e, "RPC"), win.context())
    };
    while !win.done() {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut blocked = false;
        while win.can_take() {
            call.set_xid(win.next_xid(), &mut sbuf);
            let t = monotonic_ns();
            match sock.send(&sbuf) {
                Ok(n) => {
                    win.take();
                    win.stamp(t);
                    r.counts.sends += 1;
                    r.counts.bytes_out += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if send_blocked(&e) => {
                    blocked = true;
                    break;
                }
                Err(e) => return Err(fatal("send", e, win)),
            }
        }
        let now = monotonic_ns();
        let deadline = win.expire(now, timeout_ns, r);
        if win.done() {
            break;
        }
        if deadline.is_none() && !blocked {
            continue; // nothing in flight: send
        }
        let deadline = deadline.unwrap_or(now + 1_000_000);
        let mut events = PollFlags::IN;
        if blocked {
            events |= PollFlags::OUT;
        }
        let ev =
            poll(&sock, events, slice_until(now, deadline)).map_err(|e| format!("poll: {e}"))?;
        if !ev.intersects(PollFlags::IN | PollFlags::ERR) {
            continue;
        }
        // Bounded, so that deadlines are checked even under a flood.
        for _ in 0..256 {
            match sock.recv(&mut rbuf) {
                Ok(n) => {
                    r.counts.recvs += 1;
                    r.counts.bytes_in += n as u64;
                    win.on_reply(&rbuf[..n], monotonic_ns(), r);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(fatal("receive", e, win)),
            }
        }
    }
    Ok(())
}
