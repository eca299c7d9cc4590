// SPDX-License-Identifier: GPL-2.0

//! The calls of one job and iteration: xid assignment, the in-flight
//! window, and the checking of every reply against the call it answers.
//!
//! Call `seq` (0-based) has xid `base + seq`; its state lives in a ring
//! slot `seq mod ring` (a power of two above the window, at most
//! [`RING`]), and at most `inflight` calls (< ring) separate the
//! oldest unsettled call from the newest, so a reply's xid finds its slot
//! directly and a stale slot is recognised by its `seq`.

use crate::nfs::Plan;
use crate::IterResult;
use ksf_proto::rpc::{decode_reply, AcceptStat, AuthStat, RejectStat, ReplyKind};
use std::fmt::Write as _;
use std::sync::Arc;

/// Largest ring, above the largest window.
pub const RING: usize = 1024;
/// Smallest ring: a window's own ring is the next power of two above
/// its limit, at least this (small, so that a job with many connections
/// keeps a small window for each).
const MIN_RING: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Queued or sent, no reply yet.
    Pending,
    /// Answered with SUCCESS.
    Done,
    /// Answered wrongly (counted).
    Failed,
    /// Given up: timed out, or a stray reply stood for it (counted).
    Lost,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    seq: u64,
    sent: u64,
    state: State,
}

/// See the module documentation.
pub struct Window {
    slots: Vec<Slot>,
    base: u32,
    limit: u64,
    end: u64,
    procedure: u32,
    /// Calls `< taken` have a slot, `< stamped` a send time, and
    /// `< oldest` are settled.
    taken: u64,
    stamped: u64,
    oldest: u64,
    pending: u64,
    /// Calls answered, failed or given up.
    finished: u64,
    /// Replies that matched no pending call, not yet paired with a call
    /// given up for them (see [`retire_strays`](Self::retire_strays)).
    strays: u64,
    /// NFSv3 calls with arguments: how their results are checked.
    plan: Option<Arc<Plan>>,
}

/// Bytes as hex pairs, at most 16 of them: `"0a ff 00 ..."`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::new();
    for b in bytes.iter().take(16) {
        let _ = write!(s, "{b:02x} ");
    }
    if bytes.len() > 16 {
        s.push_str("...");
    }
    s.truncate(s.trim_end().len());
    s
}

fn auth_stat_name(s: AuthStat) -> &'static str {
    const NAMES: [&str; 8] = [
        "AUTH_OK",
        "AUTH_BADCRED",
        "AUTH_REJECTEDCRED",
        "AUTH_BADVERF",
        "AUTH_REJECTEDVERF",
        "AUTH_TOOWEAK",
        "AUTH_INVALIDRESP",
        "AUTH_FAILED",
    ];
    NAMES
        .get(s.0 as usize)
        .copied()
        .unwrap_or("unknown auth_stat")
}

/// What a reply says when it is not an accepted SUCCESS.
pub fn describe(kind: &ReplyKind<'_>) -> String {
    match kind {
        ReplyKind::Accepted { stat, .. } => match stat {
            AcceptStat::Success { .. } => "SUCCESS".to_string(),
            AcceptStat::ProgUnavail => "PROG_UNAVAIL (program not served)".to_string(),
            AcceptStat::ProgMismatch { low, high } => {
                format!("PROG_MISMATCH (versions {low}..{high} served)")
            }
            AcceptStat::ProcUnavail => "PROC_UNAVAIL (no such procedure)".to_string(),
            AcceptStat::GarbageArgs => "GARBAGE_ARGS".to_string(),
            AcceptStat::SystemErr => "SYSTEM_ERR".to_string(),
        },
        ReplyKind::Denied(RejectStat::RpcMismatch { low, high }) => {
            format!("MSG_DENIED RPC_MISMATCH (RPC versions {low}..{high})")
        }
        ReplyKind::Denied(RejectStat::AuthError(s)) => {
            format!("MSG_DENIED AUTH_ERROR {} ({})", auth_stat_name(*s), s.0)
        }
    }
}

impl Window {
    /// `count` calls with xids from `base`, at most `inflight` (1..RING)
    /// outstanding, of procedure `procedure`.
    pub fn new(base: u32, count: u64, inflight: usize, procedure: u32) -> Window {
        let stale = Slot {
            seq: u64::MAX,
            sent: 0,
            state: State::Failed,
        };
        let limit = inflight.clamp(1, RING - 1);
        let ring = (limit + 1).next_power_of_two().max(MIN_RING);
        Window {
            slots: vec![stale; ring],
            base,
            limit: limit as u64,
            end: count,
            procedure,
            taken: 0,
            stamped: 0,
            oldest: 0,
            pending: 0,
            finished: 0,
            strays: 0,
            plan: None,
        }
    }

    /// The window, checking the results of every reply with `plan`.
    pub fn checking(self, plan: Option<Arc<Plan>>) -> Window {
        Window { plan, ..self }
    }

    /// The ring slot of call `seq`.
    #[inline]
    fn at(&self, seq: u64) -> usize {
        seq as usize & (self.slots.len() - 1)
    }

    /// The xid of call `seq`.
    pub fn xid(&self, seq: u64) -> u32 {
        self.base.wrapping_add(seq as u32)
    }

    /// Whether another call may be queued now.
    #[inline]
    pub fn can_take(&self) -> bool {
        self.taken < self.end && self.taken < self.oldest + self.limit
    }

    /// Calls queued so far: the `seq` of the next one.
    #[inline]
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// The xid the next call will have.
    #[inline]
    pub fn next_xid(&self) -> u32 {
        self.xid(self.taken)
    }

    /// Queues the next call; returns its xid.
    #[inline]
    pub fn take(&mut self) -> u32 {
        let seq = self.taken;
        let at = self.at(seq);
        self.slots[at] = Slot {
            seq,
            sent: 0,
            state: State::Pending,
        };
        self.taken += 1;
        self.pending += 1;
        self.xid(seq)
    }

    /// Records that the first byte of the next queued call was sent at `t`.
    #[inline]
    pub fn stamp(&mut self, t: u64) {
        if self.stamped < self.taken {
            let at = self.at(self.stamped);
            self.slots[at].sent = t;
            self.stamped += 1;
        }
    }

    /// Calls whose first byte was sent.
    pub fn stamped(&self) -> u64 {
        self.stamped
    }

    /// Calls answered, failed or given up so far (a measure of progress).
    pub fn finished(&self) -> u64 {
        self.finished
    }

    /// True when every call is settled (answered, failed or given up).
    pub fn done(&self) -> bool {
        self.oldest >= self.end
    }

    /// Where the iteration stands, for error messages.
    pub fn context(&self) -> String {
        let mut s = format!(
            "{} of {} calls settled, {} in flight",
            self.oldest, self.end, self.pending
        );
        if let Some(seq) = self.oldest_pending() {
            let _ = write!(s, ", oldest xid {:#010x}", self.xid(seq));
        }
        s
    }

    fn oldest_pending(&self) -> Option<u64> {
        (self.oldest..self.taken).find(|&s| self.slots[self.at(s)].state == State::Pending)
    }

    /// Moves `oldest` past settled calls.
    fn settle(&mut self) {
        while self.oldest < self.taken && self.slots[self.at(self.oldest)].state != State::Pending {
            self.oldest += 1;
        }
    }

    fn finish(&mut self, seq: u64, state: State) {
        let at = self.at(seq);
        self.slots[at].state = state;
        self.pending -= 1;
        self.finished += 1;
        self.settle();
    }

    /// The pending, sent call with `xid`, if any.
    fn lookup(&self, xid: u32) -> Option<u64> {
        let seq = u64::from(xid.wrapping_sub(self.base));
        let s = self.slots[self.at(seq)];
        (seq < self.stamped && s.seq == seq && s.state == State::Pending).then_some(seq)
    }

    /// The expected xids, for the message about an unknown one.
    fn expected(&self) -> String {
        let first = self.oldest_pending();
        match (first, self.pending) {
            (Some(seq), 1) => format!("expected xid {:#010x}", self.xid(seq)),
            (Some(seq), n) => format!(
                "expected one of the {n} calls in flight, xids {:#010x}..{:#010x}",
                self.xid(seq),
                self.xid(self.taken - 1)
            ),
            _ => "no call was in flight".to_string(),
        }
    }

    /// Checks one reply record that arrived at `now`.
    pub fn on_reply(&mut self, rec: &[u8], now: u64, r: &mut IterResult) {
        r.counts.replies += 1;
        let reply = match decode_reply(rec) {
            Ok(reply) => reply,
            Err(e) => {
                let what = format!("malformed reply of {} bytes: {e}: {}", rec.len(), hex(rec));
                match e.xid().and_then(|x| self.lookup(x)) {
                    Some(seq) => self.finish(seq, State::Failed),
                    None => self.strays += 1,
                }
                return r.note(what);
            }
        };
        let xid = reply.xid;
        let Some(seq) = self.lookup(xid) else {
            let s = u64::from(xid.wrapping_sub(self.base));
            let slot = self.slots[self.at(s)];
            self.strays += 1;
            let what = if slot.seq == s && slot.state == State::Done {
                format!("duplicate reply for xid {xid:#010x}")
            } else if slot.seq == s && slot.state == State::Failed {
                format!("second reply for xid {xid:#010x}, which was answered wrongly before")
            } else if slot.seq == s && slot.state == State::Lost {
                self.strays -= 1;
                return; // late: the call was given up and counted before
            } else {
                format!("reply with unknown xid {xid:#010x}; {}", self.expected())
            };
            return r.note(what);
        };
        match reply.kind {
            ReplyKind::Accepted {
                stat: AcceptStat::Success { results },
                ..
            } if self.plan.is_some() => {
                let checked = self.plan.as_ref().map(|p| p.check(seq, results));
                match checked {
                    Some(Err(what)) => {
                        self.finish(seq, State::Failed);
                        r.note(format!("xid {xid:#010x}: {what}"));
                    }
                    _ => {
                        let sent = self.slots[self.at(seq)].sent;
                        r.hist.record(now.saturating_sub(sent));
                        r.counts.calls += 1;
                        r.counts.payload += checked.and_then(Result::ok).unwrap_or(0);
                        self.finish(seq, State::Done);
                    }
                }
            }
            ReplyKind::Accepted {
                stat: AcceptStat::Success { results },
                ..
            } if self.procedure != 0 || results.is_empty() => {
                let sent = self.slots[self.at(seq)].sent;
                r.hist.record(now.saturating_sub(sent));
                r.counts.calls += 1;
                self.finish(seq, State::Done);
            }
            ReplyKind::Accepted {
                stat: AcceptStat::Success { results },
                ..
            } => {
                self.finish(seq, State::Failed);
                let n = results.len();
                r.note(format!(
                    "xid {xid:#010x}: the NULL reply carries {n} bytes of results, expected none"
                ));
            }
            kind => {
                self.finish(seq, State::Failed);
                let what = describe(&kind);
                r.note(format!(
                    "xid {xid:#010x}: expected an accepted SUCCESS reply, got {what}"
                ));
            }
        }
    }

    /// TCP, when the connection is quiet: once at least as many replies
    /// arrived as calls were sent completely (`sent`), each reply that
    /// matched no call stood for a call that will not be answered, and
    /// gives up the oldest pending one (not counted again: the stray was).
    /// A correct server never sends strays, so this never fires for it.
    pub fn retire_strays(&mut self, replies: u64, sent: u64) {
        while self.strays > 0 && replies >= sent {
            let Some(seq) = self.oldest_pending().filter(|&s| s < sent) else {
                return;
            };
            self.strays -= 1;
            self.finish(seq, State::Lost);
        }
    }

    /// UDP: gives up the oldest calls sent before `now - timeout_ns`;
    /// returns the deadline of the oldest still pending.
    pub fn expire(&mut self, now: u64, timeout_ns: u64, r: &mut IterResult) -> Option<u64> {
        while let Some(seq) = self.oldest_pending().filter(|&s| s < self.stamped) {
            let deadline = self.slots[self.at(seq)].sent + timeout_ns;
            if now < deadline {
                return Some(deadline);
            }
            self.finish(seq, State::Lost);
            let ms = timeout_ns / 1_000_000;
            let xid = self.xid(seq);
            r.note(format!("no reply to xid {xid:#010x} within {ms} ms (lost)"));
        }
        None
    }
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
