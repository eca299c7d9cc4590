// SPDX-License-Identifier: GPL-2.0

//! Runs plans over many concurrent connections from one thread:
//! non-blocking sockets and `poll`. Each connection runs one plan: its
//! writes (with their pauses), its end (EOF or reset), and, at the same
//! time, the check of everything the server sends back.

use crate::checkcmd;
use crate::plan::{End, Expect, Plan};
use crate::sock;
use crate::verify::{Checker, Ending};
use rustix::event::PollFlags;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Findings kept word for word; the rest are only counted.
const MAX_MESSAGES: usize = 20;
/// Reads per connection per wakeup.
const READ_BUDGET: usize = 8;
/// How long a peer that reads nothing waits for the server to take more
/// of its bytes before it resets anyway (backpressure is no finding).
const NO_READ_PATIENCE: Duration = Duration::from_millis(200);
/// The longest a `--stall-cmd` may run, and the lines of it kept.
const STALL_CMD_TIMEOUT: Duration = Duration::from_secs(60);
const STALL_CMD_LINES: usize = 30;

/// Where and how a campaign runs.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub addr: SocketAddr,
    /// TCP or SMC.
    pub transport: sock::Transport,
    /// Connections at once.
    pub conns: usize,
    /// The longest a connection may go without progress.
    pub timeout: Duration,
    /// See [`Checker::new`].
    pub lossy_close: bool,
    /// Start no new plan after a finding.
    pub stop_on_finding: bool,
    /// Run when a connection stalls; its output goes into the finding.
    pub stall_cmd: Option<String>,
}

/// What the plans run so far did.
#[derive(Debug, Default)]
pub struct Tally {
    pub plans: u64,
    pub records: u64,
    pub calls: u64,
    /// NFSv3 calls among the records, and the replies the model expects
    /// to them: `GARBAGE_ARGS`, `NFS3_OK`, another NFS status.
    pub nfs_records: u64,
    pub nfs_replies: [u64; 3],
    /// Connections the server closed before the client's EOF, as the
    /// model said it must.
    pub closed_by_server: u64,
    /// Connections the server reset.
    pub server_resets: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub findings: u64,
    pub messages: Vec<String>,
}

impl Tally {
    /// Counts a finding and keeps its message if there is room.
    pub fn finding(&mut self, msg: String) {
        self.findings += 1;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(msg);
        }
    }
}

struct Conn {
    id: u64,
    plan: Plan,
    sock: Option<TcpStream>,
    sent: usize,
    /// The write in progress and its bytes left.
    chunk: usize,
    chunk_left: usize,
    /// No write (or end) before this.
    not_before: Instant,
    /// The peer refused more data.
    write_dead: bool,
    shut: bool,
    checker: Checker,
    last_progress: Instant,
}

enum Next {
    Continue,
    Done(Result<(), String>),
}

impl Conn {
    fn new(id: u64, plan: Plan, sock: TcpStream, now: Instant, lossy_close: bool) -> Conn {
        let checker = Checker::new(&plan.expect, lossy_close);
        let first = plan.writes.first().copied();
        Conn {
            id,
            chunk: 0,
            chunk_left: first.map_or(0, |c| c.len),
            not_before: now + Duration::from_micros(first.map_or(0, |c| c.delay_us.into())),
            plan,
            sock: Some(sock),
            sent: 0,
            write_dead: false,
            shut: false,
            checker,
            last_progress: now,
        }
    }

    fn reads(&self) -> bool {
        self.plan.expect != Expect::Nothing
    }

    fn all_sent(&self) -> bool {
        self.sent == self.plan.bytes.len()
    }

    /// Whether the connection has writing (or its end) to do now, and
    /// else when it will.
    fn wants_write(&self, now: Instant) -> (bool, Option<Instant>) {
        if self.write_dead || self.shut {
            return (false, None);
        }
        if now < self.not_before {
            return (false, Some(self.not_before));
        }
        (true, None)
    }

    fn events(&self, now: Instant) -> (PollFlags, Option<Instant>) {
        let (w, wake) = self.wants_write(now);
        let mut ev = PollFlags::empty();
        if self.reads() {
            ev |= PollFlags::IN;
        }
        if w && !self.all_sent() {
            ev |= PollFlags::OUT;
        }
        (ev, wake)
    }

    /// Writes what it may; ends the plan once everything is written.
    fn write(&mut self, now: Instant, t: &mut Tally) -> Next {
        while !self.all_sent() && !self.write_dead && now >= self.not_before {
            if self.chunk_left == 0 {
                self.chunk += 1;
                let c = self.plan.writes[self.chunk];
                self.chunk_left = c.len;
                if c.delay_us > 0 {
                    self.not_before = now + Duration::from_micros(c.delay_us.into());
                    continue;
                }
            }
            let Some(s) = self.sock.as_mut() else {
                break;
            };
            let from = self.sent;
            match s.write(&self.plan.bytes[from..from + self.chunk_left]) {
                Ok(n) => {
                    self.sent += n;
                    self.chunk_left -= n;
                    t.bytes_sent += n as u64;
                    self.last_progress = now;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if sock::is_reset(&e) => {
                    self.write_dead = true;
                    if !self.reads() {
                        return Next::Done(Ok(()));
                    }
                }
                Err(e) => return Next::Done(Err(format!("send: {}", sock::io_text(&e)))),
            }
        }
        if self.all_sent() && !self.shut && !self.write_dead {
            self.end(now)
        } else {
            Next::Continue
        }
    }

    /// The plan's end, once everything is written (and its pause over).
    fn end(&mut self, now: Instant) -> Next {
        if self.plan.end_delay_us > 0 {
            let at = now + Duration::from_micros(self.plan.end_delay_us.into());
            self.plan.end_delay_us = 0;
            self.not_before = at;
            return Next::Continue;
        }
        if now < self.not_before {
            return Next::Continue;
        }
        match self.plan.end {
            End::Reset => {
                if let Some(s) = self.sock.take() {
                    sock::reset(s);
                }
                Next::Done(Ok(()))
            }
            End::Shutdown => {
                self.shut = true;
                if let Some(s) = &self.sock {
                    // ENOTCONN once the peer reset: the read reports it.
                    let _ = s.shutdown(Shutdown::Write);
                }
                Next::Continue
            }
        }
    }

    /// Reads and checks what arrived; ends the plan at EOF or reset.
    fn read(&mut self, buf: &mut [u8], now: Instant, t: &mut Tally) -> Next {
        for _ in 0..READ_BUDGET {
            let Some(s) = self.sock.as_mut() else {
                return Next::Continue;
            };
            let ending = match s.read(buf) {
                Ok(0) => Ending::Eof,
                Ok(n) => {
                    t.bytes_received += n as u64;
                    self.last_progress = now;
                    let sent = &self.plan.bytes[..self.sent];
                    if let Err(e) = self.checker.data(&buf[..n], sent) {
                        return Next::Done(Err(e));
                    }
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if sock::is_reset(&e) => Ending::Reset,
                Err(e) => return Next::Done(Err(format!("receive: {}", sock::io_text(&e)))),
            };
            // A reset a write saw took the socket's error with it: the
            // read then finds only the end of the stream. It is a reset
            // (which may discard replies), not an orderly close.
            let ending = match ending {
                Ending::Eof if self.write_dead => Ending::Reset,
                e => e,
            };
            let total = self.plan.bytes.len();
            let r = self.checker.end(ending, self.all_sent(), total);
            if r.is_ok() && self.checker.closes_early() {
                t.closed_by_server += 1;
            }
            if ending == Ending::Reset {
                t.server_resets += 1;
            }
            return Next::Done(r);
        }
        Next::Continue
    }

    /// `msg` with the output of the campaign's `--stall-cmd`, run while
    /// the connection is still open.
    fn with_stall_report(&self, msg: String, c: &Campaign) -> String {
        let Some(cmd) = &c.stall_cmd else { return msg };
        let port = self
            .sock
            .as_ref()
            .and_then(|s| s.local_addr().ok())
            .map_or(0, |a| a.port());
        let env = [("KSF_STALL_PORT", port.to_string())];
        let out = checkcmd::report(cmd, &env, STALL_CMD_TIMEOUT, STALL_CMD_LINES);
        format!("{msg}; stall command: {}", out.replace('\n', " | "))
    }

    fn stalled(&self, now: Instant, timeout: Duration) -> Option<String> {
        let timeout = if self.reads() {
            timeout
        } else {
            timeout.min(NO_READ_PATIENCE)
        };
        if now.duration_since(self.last_progress) < timeout || now < self.not_before {
            return None;
        }
        let total = self.plan.bytes.len();
        let doing = if !self.all_sent() && !self.write_dead {
            "the server stopped reading"
        } else if self.shut {
            "after the client's EOF, the server neither answered nor closed"
        } else {
            "the server stopped answering"
        };
        Some(format!(
            "no progress for {} ms: {doing} (sent {} of {total} bytes; {})",
            timeout.as_millis(),
            self.sent,
            self.checker.progress(total)
        ))
    }
}

/// Runs the plans `next` hands out until it has no more, `c.conns` at a
/// time, counting in `t`. Plan numbers (for messages) start at `first_id`.
/// Fails only when the server cannot be reached at all.
pub fn run(
    c: &Campaign,
    first_id: u64,
    mut next: impl FnMut() -> Option<Plan>,
    t: &mut Tally,
) -> Result<(), String> {
    let mut conns: Vec<Option<Conn>> = (0..c.conns.max(1)).map(|_| None).collect();
    let mut id = first_id;
    let mut more = true;
    let findings_before = t.findings;
    let mut buf = vec![0u8; 64 * 1024];
    let mut idx: Vec<usize> = Vec::new();
    loop {
        let now = Instant::now();
        if c.stop_on_finding && t.findings > findings_before {
            more = false;
        }
        for slot in conns.iter_mut().filter(|s| s.is_none()) {
            if !more {
                break;
            }
            let Some(plan) = next() else {
                more = false;
                break;
            };
            let s = sock::connect(c.addr, c.transport, c.timeout)
                .map_err(|e| sock::connect_text(&e, c.addr))?;
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            t.plans += 1;
            t.records += plan.records;
            t.calls += plan.calls;
            t.nfs_records += plan.nfs;
            for (t, p) in t.nfs_replies.iter_mut().zip(plan.nfs_replies) {
                *t += p;
            }
            *slot = Some(Conn::new(id, plan, s, now, c.lossy_close));
            id += 1;
        }
        for slot in conns.iter_mut() {
            let Some(conn) = slot else { continue };
            // Writes that need no poll: a plan with nothing (left) to
            // send, or its end after a pause.
            if conn.all_sent() && !conn.shut && !conn.write_dead {
                if let Next::Done(r) = conn.write(now, t) {
                    finish(slot, r, t);
                }
            }
        }
        let mut want = Vec::new();
        idx.clear();
        let mut wake: Option<Instant> = None;
        for (i, slot) in conns.iter().enumerate() {
            let Some(conn) = slot else { continue };
            let (ev, w) = conn.events(now);
            if let Some(w) = w {
                wake = Some(wake.map_or(w, |x| x.min(w)));
            }
            if let Some(s) = &conn.sock {
                want.push((s.as_fd(), ev));
                idx.push(i);
            }
        }
        if want.is_empty() && !more && conns.iter().all(Option::is_none) {
            return Ok(());
        }
        let ms = match wake {
            Some(w) => w.saturating_duration_since(now).as_millis() as u64,
            None => 100,
        };
        let ready = sock::poll(&want, ms.min(100)).map_err(|e| format!("poll: {e}"))?;
        drop(want);
        let now = Instant::now();
        for (k, &i) in idx.iter().enumerate() {
            let revents = ready[k];
            let slot = &mut conns[i];
            let Some(conn) = slot.as_mut() else { continue };
            let mut next = Next::Continue;
            let (out, err) = (PollFlags::OUT, PollFlags::ERR);
            if revents.contains(out) || (revents.contains(err) && !conn.reads()) {
                next = conn.write(now, t);
            } else if conn.wants_write(now).0 && !conn.all_sent() && revents.is_empty() {
                // A pause just ended: try at once.
                next = conn.write(now, t);
            }
            if let Next::Continue = next {
                let readable = PollFlags::IN | PollFlags::HUP | PollFlags::ERR;
                if revents.intersects(readable) && conn.reads() {
                    next = conn.read(&mut buf, now, t);
                }
            }
            if let Next::Continue = next {
                if let Some(msg) = conn.stalled(now, c.timeout) {
                    // A peer that reads nothing may be stalled by the
                    // server's backpressure: that is no finding.
                    next = Next::Done(if conn.reads() {
                        Err(conn.with_stall_report(msg, c))
                    } else {
                        Ok(())
                    });
                }
            }
            if let Next::Done(r) = next {
                finish(slot, r, t);
            }
        }
    }
}

/// Ends a connection's plan (closing its socket, if still open).
fn finish(slot: &mut Option<Conn>, r: Result<(), String>, t: &mut Tally) {
    if let (Some(conn), Err(e)) = (slot.as_ref(), r) {
        t.finding(format!("connection {} ({}): {e}", conn.id, conn.plan.kind));
    }
    *slot = None;
}
