// SPDX-License-Identifier: GPL-2.0

//! UDP: one datagram per message, matched to what was sent by its sequence
//! number. At most `inflight` consecutive sequence numbers are outstanding
//! (a sliding window, so a short message's low sequence bytes identify it).
//! An echo that does not arrive within the timeout is lost; lost, corrupt,
//! duplicated or unexpected datagrams are counted and the run goes on.

use crate::msg::{hex, seq_of, Pattern};
use crate::opts::Opts;
use crate::{Counts, IterResult};
use ksf_tools::cpu::monotonic_ns;
use ksf_tools::job_loop::Job;
use ksf_tools::jobs::{io_text, poll, send_blocked, set_rcvbuf, slice_until};
use rustix::event::PollFlags;
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};

/// Ring of per-message state (> max in flight).
const RING: usize = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Done,
    /// Timed out or answered wrongly (already counted as an error).
    Failed,
}

#[derive(Clone, Copy)]
struct Slot {
    seq: u64,
    sent: u64,
    state: State,
}

/// One job's socket, kept for the whole run.
pub struct UdpJob {
    sock: UdpSocket,
    pat: Pattern,
    inflight: u64,
    count: u64,
    timeout_ns: u64,
    next_seq: u64,
    sbuf: Vec<u8>,
    rbuf: Vec<u8>,
    slots: Vec<Slot>,
}

/// Asks for a receive buffer that holds a whole window (best effort: the
/// kernel caps it at net.core.rmem_max).
fn grow_rcvbuf(sock: &UdpSocket, bytes: usize) {
    set_rcvbuf(sock, bytes.min(16 << 20));
}

impl UdpJob {
    /// Job `job`'s socket `sock` (connected, non-blocking), for the
    /// messages `o` asks for.
    pub fn new(sock: UdpSocket, job: u32, o: &Opts) -> Self {
        grow_rcvbuf(&sock, o.inflight * (o.len + 512));
        let pat = Pattern::new(job, o.len);
        let sbuf = pat.message(0);
        let stale = Slot {
            seq: u64::MAX,
            sent: 0,
            state: State::Failed,
        };
        UdpJob {
            sock,
            pat,
            inflight: o.inflight as u64,
            count: o.count,
            timeout_ns: o.timeout_ms * 1_000_000,
            next_seq: 0,
            sbuf,
            rbuf: vec![0; 65536],
            slots: vec![stale; RING],
        }
    }

    fn fatal(&self, what: &str, e: std::io::Error) -> String {
        format!("{what}: {}", io_text(&e, "echo"))
    }

    /// Matches one received datagram; `next` is the next seq to be sent.
    fn on_datagram(&mut self, n: usize, now: u64, next: u64, r: &mut IterResult) {
        let data = &self.rbuf[..n];
        let len = self.pat.len();
        let slot = seq_of(data, next).map(|s| (s, self.slots[s as usize % RING]));
        let (seq, slot) = match slot {
            Some((s, slot)) if s < next && slot.seq == s => (s, slot),
            _ => {
                let what = format!(
                    "unexpected datagram of {n} bytes (not an echo of a message in flight): {}",
                    hex(&data[..n.min(16)])
                );
                return r.note(what);
            }
        };
        let what = match slot.state {
            State::Done => format!("duplicate echo of seq {seq}"),
            // Already counted: it timed out or was answered wrongly before.
            State::Failed => return,
            State::Pending if n != len => {
                format!("echo of seq {seq} is {n} bytes long, expected {len}")
            }
            State::Pending => match self.pat.check(seq, 0, data) {
                Some(at) => self.pat.describe(seq, 0, data, at),
                None => {
                    r.hist.record(now.saturating_sub(slot.sent));
                    r.counts.msgs += 1;
                    self.slots[seq as usize % RING].state = State::Done;
                    return;
                }
            },
        };
        let s = &mut self.slots[seq as usize % RING];
        if s.state == State::Pending {
            s.state = State::Failed;
        }
        r.note(what);
    }
}

impl Job for UdpJob {
    type Counts = Counts;

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let end = self.next_seq + self.count;
        let mut next = self.next_seq;
        let mut oldest = next;
        while oldest < end {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let mut blocked = false;
            while next < end && next < oldest + self.inflight {
                self.pat.set_seq(next, &mut self.sbuf);
                let t = monotonic_ns();
                match self.sock.send(&self.sbuf) {
                    Ok(_) => {
                        self.slots[next as usize % RING] = Slot {
                            seq: next,
                            sent: t,
                            state: State::Pending,
                        };
                        next += 1;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if send_blocked(&e) => {
                        blocked = true;
                        break;
                    }
                    Err(e) => return Err(self.fatal(&format!("send of seq {next}"), e)),
                }
            }
            // Retire the oldest messages: answered, or out of time.
            let now = monotonic_ns();
            while oldest < next {
                let s = &mut self.slots[oldest as usize % RING];
                match s.state {
                    State::Pending if now < s.sent + self.timeout_ns => break,
                    State::Pending => {
                        s.state = State::Failed;
                        let what = format!(
                            "echo of seq {oldest} lost (no answer within {} ms)",
                            self.timeout_ns / 1_000_000
                        );
                        r.note(what);
                    }
                    _ => {}
                }
                oldest += 1;
            }
            if oldest == next && !blocked {
                continue; // window empty: send (or done)
            }
            let deadline = if oldest < next {
                self.slots[oldest as usize % RING].sent + self.timeout_ns
            } else {
                now + 1_000_000
            };
            let mut events = PollFlags::IN;
            if blocked {
                events |= PollFlags::OUT;
            }
            let ev = poll(&self.sock, events, slice_until(now, deadline))
                .map_err(|e| format!("poll: {e}"))?;
            if !ev.intersects(PollFlags::IN | PollFlags::ERR) {
                continue;
            }
            loop {
                match self.sock.recv(&mut self.rbuf) {
                    Ok(n) => self.on_datagram(n, monotonic_ns(), next, r),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.fatal("receive", e)),
                }
            }
        }
        self.next_seq = end;
        Ok(())
    }
}
