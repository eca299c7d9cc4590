// SPDX-License-Identifier: GPL-2.0

//! The limits of a service (`svc::limits`): accepting pauses at
//! `max_conns` and resumes when a connection closes, never accepting and
//! resetting; the oldest connection that never completed a request makes
//! room for a waiting one; idle and stalled connections are closed after
//! their timeouts; a connection that grows over the memory budget is shed.
//! And the wake-up rules: no run loop after end of stream, write-space
//! upcalls only for a task that waits for write, datagrams dropped by a
//! service that serves none.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code::EAGAIN, Result};

use super::svc::{closed_by_server, connect, echo_through};
use super::{cpu_ns, flush_signals, signal_pending, signal_self, wait_until};
use crate::ksf::kthread::sleep_ms;
use crate::ksf::pool::now_ns;
use crate::ksf::socket::{Kind, Shutdown, Socket};
use crate::ksf::svc::{ConnCtx, DgramCtx, Service, Svc, SvcConfig, Verdict};

const ANY: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A line service: each line (ending with `\n`) is a request, answered
/// with itself. A partial line is held (the connection is busy), up to
/// 1 MiB.
struct Lines {
    /// Wait for more input after end of stream instead of closing.
    ignore_eof: bool,
    /// Echo datagrams (else the default: drop them).
    echo_datagrams: bool,
    /// Milliseconds `closed` takes (a service with slow teardown).
    close_ms: u32,
}

struct LineConn {
    partial: KVec<u8>,
}

const MAX_LINE: usize = 1 << 20;

impl Service for Lines {
    type Conn = LineConn;

    fn accept(&self, _peer: &SocketAddr) -> Result<LineConn> {
        Ok(LineConn {
            partial: KVec::new(),
        })
    }

    fn conn_memory(&self, c: &LineConn) -> usize {
        c.partial.capacity()
    }

    fn busy(&self, c: &LineConn) -> bool {
        !c.partial.is_empty()
    }

    fn receive(&self, ctx: &mut ConnCtx<'_>, c: &mut LineConn) -> Verdict {
        let mut buf = [0u8; 512];
        loop {
            let n = match ctx.recv(&mut buf) {
                Ok(0) if self.ignore_eof => return Verdict::WaitRead,
                Ok(0) => return Verdict::Close,
                Ok(n) => n,
                Err(e) if e == EAGAIN => return Verdict::WaitRead,
                Err(_) => return Verdict::Close,
            };
            if c.partial.len() + n > MAX_LINE
                || c.partial.extend_from_slice(&buf[..n], GFP_KERNEL).is_err()
            {
                return Verdict::Close;
            }
            if c.partial.last() == Some(&b'\n') {
                // A test's line fits in the socket buffer.
                if ctx.send(&c.partial).ok() != Some(c.partial.len()) {
                    return Verdict::Close;
                }
                ctx.count_msgs(1, 1);
                c.partial = KVec::new();
            }
        }
    }

    fn closed(&self, _c: LineConn) {
        if self.close_ms != 0 {
            sleep_ms(self.close_ms);
        }
    }

    fn datagrams(&self, ctx: &mut DgramCtx<'_>) -> Verdict {
        if !self.echo_datagrams {
            return ctx.drop_some();
        }
        let mut buf = [0u8; 256];
        loop {
            match ctx.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let _ = ctx.send_to(&buf[..n], &from);
                }
                Err(_) => return Verdict::WaitRead,
            }
        }
    }
}

fn lines(cfg: SvcConfig) -> Option<(Svc<Lines>, SocketAddr)> {
    let svc = Svc::new(
        Lines {
            ignore_eof: false,
            echo_datagrams: false,
            close_ms: 0,
        },
        cfg,
    )
    .ok()?;
    let addr = svc.listen(&ANY, 16).ok()?;
    Some((svc, addr))
}

/// No reply to `line` within `ms` (the connection waits to be accepted).
fn unanswered(s: &Socket, line: &[u8], ms: u32) -> bool {
    if s.send(line).ok() != Some(line.len()) {
        return false;
    }
    let mut buf = [0u8; 64];
    sleep_ms(ms);
    s.recv(&mut buf).is_err()
}

test_cases! {
    testing = crate::ksf::proto::testing;

    fn pauses_at_max_conns_and_resumes(t) {
        let cfg = SvcConfig { max_conns: 2, ..SvcConfig::DEFAULT };
        let Some((svc, addr)) = lines(cfg) else { return check!(t, false) };
        let Some(a) = connect(&addr) else { return check!(t, false) };
        let Some(b) = connect(&addr) else { return check!(t, false) };
        check!(t, echo_through(&a, b"a\n"));
        check!(t, echo_through(&b, b"b\n"));
        // The third is left in the accept queue: not accepted, not reset.
        let Some(c) = connect(&addr) else { return check!(t, false) };
        check!(t, unanswered(&c, b"c\n", 300));
        let s = svc.stats();
        check_eq!(t, (s.accepted, s.refused, s.active), (2, 0, 2));
        check!(t, s.paused >= 1);
        drop(a);
        // The room made resumes accepting: the waiting line is answered.
        let mut buf = [0u8; 8];
        check!(t, wait_until(2000, || c.recv(&mut buf) == Ok(2)));
        check_eq!(t, &buf[..2], b"c\n");
        check!(t, echo_through(&b, b"b again\n"));
        check_eq!(t, svc.stats().refused, 0);
    }

    fn evicts_the_oldest_connection_that_never_made_a_request(t) {
        let cfg = SvcConfig { max_conns: 3, ..SvcConfig::DEFAULT };
        let Some((svc, addr)) = lines(cfg) else { return check!(t, false) };
        let Some(silent1) = connect(&addr) else { return check!(t, false) };
        let Some(talker) = connect(&addr) else { return check!(t, false) };
        let Some(silent2) = connect(&addr) else { return check!(t, false) };
        check!(t, echo_through(&talker, b"hello\n"));
        check!(t, wait_until(2000, || svc.stats().active == 3));
        // A fourth one waits: the oldest silent one makes room for it.
        let Some(late) = connect(&addr) else { return check!(t, false) };
        check!(t, closed_by_server(&silent1));
        check!(t, echo_through(&late, b"late\n"));
        check!(t, echo_through(&talker, b"still here\n"));
        check!(t, echo_through(&silent2, b"me too\n"));
        let s = svc.stats();
        check_eq!(t, (s.evicted, s.refused, s.active), (1, 0, 3));
    }

    #[slow]
    fn closes_idle_connections(t) {
        let cfg = SvcConfig { idle_timeout_s: 1, ..SvcConfig::DEFAULT };
        let Some((svc, addr)) = lines(cfg) else { return check!(t, false) };
        let Some(idle) = connect(&addr) else { return check!(t, false) };
        let Some(busy) = connect(&addr) else { return check!(t, false) };
        // One request every 300 ms keeps a connection open.
        for _ in 0..8 {
            check!(t, echo_through(&busy, b"ping\n"));
            sleep_ms(300);
        }
        check!(t, closed_by_server(&idle));
        check!(t, echo_through(&busy, b"ping\n"));
        check_eq!(t, svc.stats().timeout_idle, 1);
        // Then it goes idle too.
        check!(t, wait_until(4000, || svc.stats().timeout_idle == 2));
        check!(t, closed_by_server(&busy));
        check!(t, wait_until(2000, || svc.stats().active == 0));
    }

    #[slow]
    fn closes_a_stalled_request(t) {
        let cfg = SvcConfig { request_timeout_s: 1, idle_timeout_s: 0, ..SvcConfig::DEFAULT };
        let Some((svc, addr)) = lines(cfg) else { return check!(t, false) };
        let Some(slow) = connect(&addr) else { return check!(t, false) };
        let Some(idle) = connect(&addr) else { return check!(t, false) };
        // A line begun and never finished, a byte at a time.
        for _ in 0..6 {
            let _ = slow.send(b"x");
            sleep_ms(400);
        }
        check!(t, closed_by_server(&slow));
        let s = svc.stats();
        check_eq!(t, (s.timeout_request, s.timeout_idle), (1, 0));
        // Without an idle timeout, a connection at rest stays.
        check!(t, echo_through(&idle, b"still\n"));
    }

    fn sheds_a_connection_over_the_memory_budget(t) {
        let cfg = SvcConfig { mem_max: 65536, ..SvcConfig::DEFAULT };
        let Some((svc, addr)) = lines(cfg) else { return check!(t, false) };
        let Some(hog) = connect(&addr) else { return check!(t, false) };
        let Some(good) = connect(&addr) else { return check!(t, false) };
        check!(t, echo_through(&good, b"fine\n"));
        let chunk = [b'x'; 4096];
        let mut sent = 0;
        let closed = wait_until(3000, || {
            if let Ok(n) = hog.send(&chunk) {
                sent += n;
            }
            svc.stats().shed == 1
        });
        check!(t, closed);
        check!(t, sent > 65536 / 2);
        check!(t, closed_by_server(&hog));
        check!(t, echo_through(&good, b"still fine\n"));
        check!(t, svc.stats().conn_mem < 65536);
    }

    fn waits_for_input_after_end_of_stream_without_spinning(t) {
        let service = Lines {
            ignore_eof: true,
            echo_datagrams: false,
            close_ms: 0,
        };
        let Ok(svc) = Svc::new(service, SvcConfig::DEFAULT) else { return check!(t, false) };
        let Ok(addr) = svc.listen(&ANY, 4) else { return check!(t, false) };
        let Some(c) = connect(&addr) else { return check!(t, false) };
        check!(t, echo_through(&c, b"bye\n"));
        check!(t, c.shutdown(Shutdown::Write).is_ok());
        sleep_ms(500);
        // A few runs for the end of stream, not one per tick.
        let runs = svc.stats().runs;
        check!(t, runs < 20);
        sleep_ms(200);
        check_eq!(t, svc.stats().runs, runs);
        check_eq!(t, svc.stats().active, 1);
        // Unloading still closes it.
        svc.shutdown();
        check!(t, closed_by_server(&c));
    }

    fn drops_datagrams_by_default(t) {
        let Some((svc, _)) = lines(SvcConfig::DEFAULT) else { return check!(t, false) };
        let Ok(addr) = svc.bind_udp(&ANY) else { return check!(t, false) };
        let Ok(c) = Socket::new(Kind::Udp, &ANY) else { return check!(t, false) };
        for i in 0..3u8 {
            check_eq!(t, c.send_to(&[i; 10], &addr), Ok(10));
        }
        check!(t, wait_until(2000, || svc.stats().errors == 3));
        // The socket stays, and keeps dropping.
        check_eq!(t, c.send_to(&[9; 10], &addr), Ok(10));
        check!(t, wait_until(2000, || svc.stats().errors == 4));
    }

    fn write_space_wakes_only_a_task_that_waits_for_it(t) {
        let service = Lines {
            ignore_eof: false,
            echo_datagrams: true,
            close_ms: 0,
        };
        let Ok(svc) = Svc::new(service, SvcConfig::DEFAULT) else { return check!(t, false) };
        let Ok(addr) = svc.bind_udp(&ANY) else { return check!(t, false) };
        let Ok(c) = Socket::new(Kind::Udp, &ANY) else { return check!(t, false) };
        let mut buf = [0u8; 64];
        for i in 0..50u8 {
            check_eq!(t, c.send_to(&[i; 20], &addr), Ok(20));
            check!(t, wait_until(2000, || c.recv_from(&mut buf).is_ok()));
        }
        // One run per datagram (and the first), not one more for each
        // echo's send completing.
        let runs = svc.stats().runs;
        check!(t, runs <= 60);
    }

    #[slow]
    fn shutdown_sleeps_while_it_waits_with_a_signal_pending(t) {
        // Each connection takes 300 ms to close: shutdown must wait for
        // them asleep, even in a context with a signal pending (`rmmod`),
        // where an interruptible wait would return at once and spin.
        let service = Lines {
            ignore_eof: false,
            echo_datagrams: false,
            close_ms: 300,
        };
        let Ok(svc) = Svc::new(service, SvcConfig::DEFAULT) else { return check!(t, false) };
        let Ok(addr) = svc.listen(&ANY, 8) else { return check!(t, false) };
        let mut clients = KVec::new();
        for _ in 0..4 {
            let Some(c) = connect(&addr) else { return check!(t, false) };
            check!(t, echo_through(&c, b"x\n"));
            check!(t, clients.push(c, GFP_KERNEL).is_ok());
        }
        check!(t, wait_until(2000, || svc.stats().active == 4));
        signal_self();
        check!(t, signal_pending());
        let (t0, cpu0) = (now_ns(), cpu_ns());
        svc.shutdown();
        let (waited, cpu) = ((now_ns() - t0) as u64, cpu_ns() - cpu0);
        flush_signals();
        check_eq!(t, svc.stats().active, 0);
        check!(t, waited >= 300_000_000);
        check!(t, cpu < waited / 4);
        for c in clients.iter() {
            check!(t, closed_by_server(c));
        }
    }
}
