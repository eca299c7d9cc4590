// SPDX-License-Identifier: GPL-2.0

//! UDP: one datagram per message, matched to what was sent by its sequence
//! number. At most `inflight` consecutive sequence numbers are outstanding
//! (a sliding window, so a short message's low sequence bytes identify it).
//! An echo that does not arrive within the timeout is lost; lost, corrupt,
//! duplicated or unexpected datagrams are counted and the run goes on. The
//! socket's loop is ksf-tools' [`datagram::run`].

use crate::msg::{hex, seq_of, Pattern};
use crate::opts::Opts;
use crate::{Counts, IterResult};
use ksf_tools::datagram::{self, Datagrams};
use ksf_tools::job_loop::Job;
use ksf_tools::jobs::set_rcvbuf;
use std::net::UdpSocket;
use std::sync::atomic::AtomicBool;

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

/// One iteration's echoes.
struct Echoes<'a> {
    pat: &'a Pattern,
    sbuf: &'a mut [u8],
    slots: &'a mut [Slot],
    inflight: u64,
    timeout_ns: u64,
    r: &'a mut IterResult,
    end: u64,
    /// The next message to send.
    next: u64,
    /// The oldest message not yet settled.
    oldest: u64,
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
}

impl Job for UdpJob {
    type Counts = Counts;

    fn iterate(&mut self, r: &mut IterResult, stop: &AtomicBool) -> Result<(), String> {
        let (start, end) = (self.next_seq, self.next_seq + self.count);
        let mut x = Echoes {
            pat: &self.pat,
            sbuf: &mut self.sbuf,
            slots: &mut self.slots,
            inflight: self.inflight,
            timeout_ns: self.timeout_ns,
            r,
            end,
            next: start,
            oldest: start,
        };
        datagram::run(&self.sock, &mut self.rbuf, "echo", &mut x, stop)?;
        self.next_seq = end;
        Ok(())
    }
}

impl Datagrams for Echoes<'_> {
    fn done(&self) -> bool {
        self.oldest >= self.end
    }

    fn next(&mut self) -> Option<&[u8]> {
        if self.next == self.end || self.next >= self.oldest + self.inflight {
            return None;
        }
        self.pat.set_seq(self.next, self.sbuf);
        Some(self.sbuf)
    }

    fn sent(&mut self, _n: usize, now: u64) {
        self.r.counts.sends += 1;
        self.slots[self.next as usize % RING] = Slot {
            seq: self.next,
            sent: now,
            state: State::Pending,
        };
        self.next += 1;
    }

    /// Retires the oldest messages: answered, or out of time.
    fn expire(&mut self, now: u64) -> Option<u64> {
        let timeout = self.timeout_ns;
        while self.oldest < self.next {
            let s = &mut self.slots[self.oldest as usize % RING];
            match s.state {
                State::Pending if now < s.sent + timeout => return Some(s.sent + timeout),
                State::Pending => {
                    s.state = State::Failed;
                    let what = format!(
                        "echo of seq {} lost (no answer within {} ms)",
                        self.oldest,
                        timeout / 1_000_000
                    );
                    self.r.note(what);
                }
                _ => {}
            }
            self.oldest += 1;
        }
        None
    }

    fn consume(&mut self, data: &[u8], now: u64) {
        self.r.counts.recvs += 1;
        let (n, len) = (data.len(), self.pat.len());
        let slots = &mut *self.slots;
        let slot = seq_of(data, self.next).map(|s| (s, slots[s as usize % RING]));
        let (seq, slot) = match slot {
            Some((s, slot)) if s < self.next && slot.seq == s => (s, slot),
            _ => {
                let what = format!(
                    "unexpected datagram of {n} bytes (not an echo of a message in flight): {}",
                    hex(&data[..n.min(16)])
                );
                return self.r.note(what);
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
                    self.r.hist.record(now.saturating_sub(slot.sent));
                    self.r.counts.msgs += 1;
                    slots[seq as usize % RING].state = State::Done;
                    return;
                }
            },
        };
        let s = &mut slots[seq as usize % RING];
        if s.state == State::Pending {
            s.state = State::Failed;
        }
        self.r.note(what);
    }

    fn context(&self) -> String {
        let in_flight = self.next - self.oldest;
        format!("({in_flight} in flight from seq {})", self.oldest)
    }
}
